//! Tests of the codec: round trips over the serde data model, and garbage of every kind
//! (random bytes, truncations, flipped bytes, other fingerprints, placeholders) read as a
//! miss without a panic.

use super::*;
use crate::redis::tests::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Product {
    id: u64,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    discount: Option<f64>,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
    kind: Kind,
    either: Either,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Kind {
    Book,
    Disc { minutes: u32 },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(untagged)]
enum Either {
    Number(i64),
    Text(String),
}

fn product() -> Product {
    Product {
        id: 7,
        name: "Dune".into(),
        discount: None,
        extra: BTreeMap::from([("colour".into(), "sand".into())]),
        kind: Kind::Disc { minutes: 90 },
        either: Either::Text("x".into()),
    }
}

fn meta() -> Meta {
    Meta {
        ttl: Duration::from_secs(600),
        stale: Duration::from_secs(30),
        compute: Duration::from_micros(1234),
        tags: vec!["user:7".into(), "shop".into()],
        written_unix_ms: 0,
    }
}

#[test]
fn values_round_trip_with_their_envelope() {
    let codec = Codec::new::<Product>("");
    let bytes = codec.encode(&product(), &meta()).unwrap();
    let d: Decoded<Product> = codec.decode(&bytes).unwrap();
    assert_eq!(d.value, product());
    assert_eq!(d.meta.ttl, Duration::from_secs(600));
    assert_eq!(d.meta.stale, Duration::from_secs(30));
    assert_eq!(d.meta.compute, Duration::from_micros(1234));
    assert_eq!(d.meta.tags, ["user:7", "shop"]);
    assert!(d.meta.written_unix_ms > 1_600_000_000_000);
    assert!(d.is_fresh(Some(31_000)) && !d.is_fresh(Some(30_000)) && d.is_fresh(None));
}

#[test]
fn the_whole_data_model_round_trips() {
    fn rt<V: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: V) {
        let codec = Codec::new::<V>("v1");
        let bytes = codec.encode(&v, &Meta::default()).unwrap();
        assert_eq!(codec.decode::<V>(&bytes).map(|d| d.value), Some(v));
    }
    rt(());
    rt(Some(Some(1u8)));
    rt(None::<Option<u8>>);
    rt(vec![Either::Number(-3), Either::Text("t".into())]);
    rt((u128::MAX, i128::MIN, f32::MIN_POSITIVE, '\u{1F600}'));
    rt(BTreeMap::from([(1u8, vec![String::new()])]));
    rt(Kind::Book);
    rt(Ok::<u8, String>(1));
    rt(Err::<u8, String>("e".into()));
}

/// The one shape of the serde data model that MessagePack cannot tell apart (it has one nil,
/// as JSON has one null): `Some(None)` of an `Option<Option<T>>` reads back as `None`. Kept as a
/// test so that a codec change that alters it is noticed.
#[test]
fn nested_none_collapses() {
    let codec = Codec::new::<Option<Option<u8>>>("");
    let bytes = codec.encode(&Some(None::<u8>), &Meta::default()).unwrap();
    assert_eq!(
        codec.decode::<Option<Option<u8>>>(&bytes).map(|d| d.value),
        Some(None)
    );
}

#[test]
fn another_type_or_version_is_a_miss() {
    let bytes = Codec::new::<u64>("")
        .encode(&5u64, &Meta::default())
        .unwrap();
    assert!(Codec::new::<u64>("").decode::<u64>(&bytes).is_some());
    assert!(Codec::new::<u64>("2").decode::<u64>(&bytes).is_none());
    assert!(Codec::new::<i64>("").decode::<i64>(&bytes).is_none());
    assert_ne!(fingerprint("a", "bc"), fingerprint("ab", "c"));
}

#[test]
fn a_decode_failure_behind_a_good_header_is_a_miss() {
    // Same fingerprint (as after a deploy that added a field without `version`), other shape.
    #[derive(Serialize)]
    struct Old {
        id: u64,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct New {
        id: u64,
        name: String,
    }
    let codec = Codec::with_fingerprint(42);
    let bytes = codec.encode(&Old { id: 1 }, &Meta::default()).unwrap();
    assert!(codec.decode::<New>(&bytes).is_none());
}

#[test]
fn placeholders_are_never_values() {
    let codec = Codec::new::<Vec<u8>>("");
    let t = Token::new();
    assert!(t.placeholder().starts_with(&LEASE_PREFIX));
    assert!(codec.decode::<Vec<u8>>(t.placeholder()).is_none());
    let mut padded = t.placeholder().to_vec();
    padded.resize(200, 0);
    assert!(codec.decode::<Vec<u8>>(&padded).is_none());
    assert_ne!(Token::new(), Token::new());
}

#[test]
fn truncations_of_a_valid_value_are_misses() {
    let codec = Codec::new::<Product>("");
    let bytes = codec.encode(&product(), &meta()).unwrap();
    for n in 0..bytes.len() {
        assert!(
            codec.decode::<Product>(&bytes[..n]).is_none(),
            "prefix of {n} bytes"
        );
        assert!(
            codec.decode::<Product>(&bytes[n + 1..]).is_none(),
            "suffix from {}",
            n + 1
        );
    }
}

#[test]
fn any_changed_byte_is_a_miss() {
    let codec = Codec::new::<Product>("");
    let bytes = codec.encode(&product(), &meta()).unwrap();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            assert!(codec.decode::<Product>(&b).is_none(), "byte {i} bit {bit}");
        }
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(codec.decode::<Product>(&longer).is_none());
}

#[test]
fn garbage_is_a_miss() {
    let codec = Codec::new::<serde_json_like::Value>("");
    for g in [
        &b""[..],
        b"hello",
        b"\xC1mc",
        b"\xC1mcV\x01",
        &[0xFF; 100],
        &[0xC1; 64],
    ] {
        assert!(codec.decode::<serde_json_like::Value>(g).is_none());
    }
}

#[test]
fn random_bytes_never_panic_and_never_decode() {
    let codec = Codec::new::<Product>("");
    let valid = codec.encode(&product(), &meta()).unwrap();
    let mut rng = Rng(0xC0DEC);
    for round in 0..20_000 {
        let len = rng.below(160) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 2 == 0 && len >= PREFIX_LEN {
            // Past the header, so the fields and the payload parser are exercised too.
            b[..PREFIX_LEN].copy_from_slice(codec.prefix());
        }
        assert!(codec.decode::<Product>(&b).is_none());
        assert!(codec.decode::<serde_json_like::Value>(&b).is_none());
        // A valid value with random bytes spliced in.
        let mut v = valid.clone();
        let at = rng.below(v.len() as u64) as usize;
        let n = 1 + rng.below(8) as usize;
        for (i, byte) in v.iter_mut().skip(at).take(n).enumerate() {
            *byte ^= (rng.next() as u8) | u8::from(i == 0);
        }
        assert!(codec.decode::<Product>(&v).is_none());
    }
}

/// A self-describing type (decoded with `deserialize_any`), like `serde_json::Value`.
mod serde_json_like {
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    #[allow(dead_code)]
    pub(super) enum Value {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        Text(String),
        List(Vec<Value>),
        Map(BTreeMap<String, Value>),
    }
}

#[test]
fn tokens_are_never_alike_and_share_this_processs_half() {
    let tokens: Vec<Token> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|_| s.spawn(|| (0..20_000).map(|_| Token::new()).collect::<Vec<_>>()))
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let distinct: std::collections::HashSet<[u8; 16]> = tokens.iter().map(Token::bytes).collect();
    assert_eq!(distinct.len(), tokens.len(), "a token made twice");
    // The process's half is the same in each (what tells processes apart); the rest differs.
    let half = tokens[0].bytes()[..8].to_vec();
    assert!(tokens.iter().all(|t| t.bytes()[..8] == half[..]));
    assert!(
        tokens
            .iter()
            .all(|t| t.placeholder().starts_with(&LEASE_PREFIX))
    );
    let t = &tokens[17];
    assert_eq!(&Token::from_bytes(t.bytes()), t);
}

/// The child's side of the next test: prints its process's half.
#[test]
fn token_child() {
    if std::env::var_os("MEMOCACHE_TEST_TOKEN_CHILD").is_some() {
        println!("HALF {:?}", &Token::new().bytes()[..8]);
    }
}

#[test]
fn tokens_of_other_processes_differ() {
    let half = |out: std::process::Output| {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}");
        let line = stdout.lines().find(|l| l.starts_with("HALF "));
        line.unwrap_or_else(|| panic!("no half: {stdout}"))
            .to_owned()
    };
    let halves: std::collections::HashSet<String> = (0..3)
        .map(|_| {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "redis::codec::tests::token_child", "--nocapture"])
                .env("MEMOCACHE_TEST_TOKEN_CHILD", "1")
                .output()
                .unwrap();
            half(out)
        })
        .chain([format!("HALF {:?}", &Token::new().bytes()[..8])])
        .collect();
    assert_eq!(
        halves.len(),
        4,
        "two processes with the same half: {halves:?}"
    );
}

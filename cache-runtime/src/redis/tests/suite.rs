//! The behaviour every topology must show, written once: `standalone.rs` runs each check on a
//! server of its own, `cluster.rs` runs them all on one 3-master Cluster (each with its own
//! key prefix).

use super::redis_server::RedisServer;
use super::{seed, seed_blocking};
use crate::redis::codec::{Codec, Meta, Token};
use crate::redis::pending::Pending;
use crate::redis::{Client, Lookup};
use std::time::{Duration, Instant};

/// A client and the servers behind it.
pub(crate) struct Fx<'a> {
    pub(crate) c: &'a Client,
    pub(crate) servers: Vec<&'a RedisServer>,
}

impl Fx<'_> {
    /// `redis-cli -c` (following redirections) on the first server.
    pub(crate) fn cli(&self, args: &[&str]) -> String {
        let mut all = vec!["-c"];
        all.extend_from_slice(args);
        self.servers[0].cli(&all)
    }

    /// How many keys start with `prefix`, over all the servers.
    pub(crate) fn count(&self, prefix: &[u8]) -> usize {
        let pattern = format!("{}*", text(prefix));
        self.servers
            .iter()
            .map(|s| s.cli(&["--scan", "--pattern", &pattern]).lines().count())
            .sum()
    }
}

/// The bus channel and event a test's fills publish (nobody listens).
pub(crate) const NOTIFY: (&[u8], &[u8]) = (b"memocache-test:#bus", b"");

pub(crate) fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

pub(crate) fn codec() -> Codec {
    Codec::new::<String>("")
}

pub(crate) fn value(s: &str) -> Vec<u8> {
    let meta = Meta {
        ttl: Duration::from_secs(60),
        ..Meta::default()
    };
    codec().encode(&s.to_owned(), &meta).unwrap()
}

fn found(l: Lookup) -> (Vec<u8>, Option<u64>) {
    match l {
        Lookup::Found { bytes, pttl_ms } => (bytes, pttl_ms),
        other => panic!("expected a value, got {other:?}"),
    }
}

pub(crate) fn lease_fill_found(fx: &Fx<'_>) {
    let (c, codec) = (fx.c, codec());
    let key = c.keys().cache("suite::lease").key(&1u32).unwrap();
    let (a, b) = (Token::new(), Token::new());
    assert_eq!(
        c.lookup_blocking(&key, &a, 5000, &[], &codec).unwrap(),
        Lookup::Leased
    );
    match c.lookup_blocking(&key, &b, 5000, &[], &codec).unwrap() {
        Lookup::Busy { pttl_ms: Some(p) } => assert!((3000..=5000).contains(&p), "{p}"),
        other => panic!("expected busy, got {other:?}"),
    }
    let v = value("one");
    assert!(c.fill_blocking(&key, &a, &v, 60_000, &[], NOTIFY).unwrap());
    let (bytes, pttl) = found(c.lookup_blocking(&key, &b, 5000, &[], &codec).unwrap());
    assert_eq!(bytes, v);
    assert!(
        pttl.is_some_and(|p| (55_000..=60_000).contains(&p)),
        "{pttl:?}"
    );
    assert_eq!(codec.decode::<String>(&bytes).unwrap().value, "one");
    assert!(
        !c.fill_blocking(&key, &a, &value("two"), 60_000, &[], NOTIFY)
            .unwrap(),
        "the lease is spent"
    );
    c.ping_blocking().unwrap();
}

pub(crate) fn cas_rules(fx: &Fx<'_>) {
    let (c, codec) = (fx.c, codec());
    let cache = c.keys().cache("suite::cas");
    let tag = c.keys().tag_key("cas-tag");
    let (a, b) = (Token::new(), Token::new());

    // Another token can neither fill, extend nor release our lease.
    let k1 = cache.key("k1").unwrap();
    assert_eq!(
        c.lookup_blocking(&k1, &a, 5000, &[], &codec).unwrap(),
        Lookup::Leased
    );
    assert!(
        !c.fill_blocking(&k1, &b, &value("b"), 60_000, &[], NOTIFY)
            .unwrap()
    );
    assert!(!c.extend_blocking(&k1, &b, 60_000, &[]).unwrap());
    assert!(!c.release_blocking(&k1, &b).unwrap());
    assert!(matches!(
        c.lookup_blocking(&k1, &b, 5000, &[], &codec).unwrap(),
        Lookup::Busy { .. }
    ));
    assert!(c.release_blocking(&k1, &a).unwrap());
    assert!(!c.release_blocking(&k1, &a).unwrap(), "released once");
    assert_eq!(fx.cli(&["EXISTS", text(&k1)]), "0");

    // A delete during the run: the run stores nothing.
    let k2 = cache.key("k2").unwrap();
    assert_eq!(
        c.lookup_blocking(&k2, &a, 5000, &[], &codec).unwrap(),
        Lookup::Leased
    );
    assert!(!c.delete_blocking(&k2).unwrap(), "a lease is not an entry");
    assert!(
        !c.fill_blocking(&k2, &a, &value("late"), 60_000, &[], NOTIFY)
            .unwrap()
    );
    assert_eq!(fx.cli(&["EXISTS", text(&k2)]), "0");

    // A tag deletion during the run: the run stores nothing.
    let k3 = cache.key("k3").unwrap();
    let tags = [tag.clone()];
    assert_eq!(
        c.lookup_blocking(&k3, &a, 5000, &tags, &codec).unwrap(),
        Lookup::Leased
    );
    assert_eq!(
        c.delete_tag_blocking("cas-tag").unwrap(),
        1,
        "the lease is listed under its tag"
    );
    assert!(
        !c.fill_blocking(&k3, &a, &value("late"), 60_000, &tags, NOTIFY)
            .unwrap()
    );
    assert_eq!(fx.cli(&["EXISTS", text(&k3)]), "0");

    // A refresh (its own lease taken over ours, then filled) during the run wins; the run
    // stores nothing.
    let k4 = cache.key("k4").unwrap();
    assert_eq!(
        c.lookup_blocking(&k4, &a, 5000, &[], &codec).unwrap(),
        Lookup::Leased
    );
    let refresh = value("refresh");
    seed_blocking(c, &k4, &refresh, 60_000, &[]).unwrap();
    assert!(
        !c.fill_blocking(&k4, &a, &value("late"), 60_000, &[], NOTIFY)
            .unwrap()
    );
    assert_eq!(
        found(c.lookup_blocking(&k4, &b, 5000, &[], &codec).unwrap()).0,
        refresh
    );

    // Extending our lease raises its expiry and its tag sets'.
    let k5 = cache.key("k5").unwrap();
    assert_eq!(
        c.lookup_blocking(&k5, &a, 2000, &tags, &codec).unwrap(),
        Lookup::Leased
    );
    assert!(c.extend_blocking(&k5, &a, 90_000, &tags).unwrap());
    let pttl: u64 = fx.cli(&["PTTL", text(&k5)]).parse().unwrap();
    assert!(pttl > 80_000, "{pttl}");
    let tag_pttl: u64 = fx.cli(&["PTTL", text(&tag)]).parse().unwrap();
    assert!(tag_pttl > 80_000, "{tag_pttl}");
    assert!(c.release_blocking(&k5, &a).unwrap());
}

pub(crate) fn garbage_is_overwritten(fx: &Fx<'_>) {
    let (c, codec) = (fx.c, codec());
    let cache = c.keys().cache("suite::garbage");
    let t = Token::new();
    let good = value("good");
    let check = |key: &[u8]| {
        let t = Token::new();
        assert_eq!(
            c.lookup_blocking(key, &t, 5000, &[], &codec).unwrap(),
            Lookup::Leased
        );
        assert!(
            c.fill_blocking(key, &t, &good, 60_000, &[], NOTIFY)
                .unwrap()
        );
        assert_eq!(
            found(
                c.lookup_blocking(key, &Token::new(), 5000, &[], &codec)
                    .unwrap()
            )
            .0,
            good
        );
    };
    // Random bytes, another type's value, a value of another version.
    let other_type = Codec::new::<u64>("")
        .encode(&5u64, &Meta::default())
        .unwrap();
    let other_version = Codec::new::<String>("v2")
        .encode(&"x".to_owned(), &Meta::default())
        .unwrap();
    for (i, bytes) in [
        b"garbage".to_vec(),
        other_type,
        other_version,
        t.placeholder()[..4].to_vec(),
    ]
    .iter()
    .enumerate()
    {
        let key = cache.key(&i).unwrap();
        seed_blocking(c, &key, bytes, 60_000, &[]).unwrap();
        check(&key);
    }
    // Not even a string: a list under the key.
    let key = cache.key("list").unwrap();
    fx.cli(&["RPUSH", text(&key), "x"]);
    check(&key);
    // A good header over a corrupted payload: found, fails to decode, replaced.
    let key = cache.key("corrupt").unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    seed_blocking(c, &key, &bad, 60_000, &[]).unwrap();
    let (bytes, _) = found(c.lookup_blocking(&key, &t, 5000, &[], &codec).unwrap());
    assert!(codec.decode::<String>(&bytes).is_none());
    assert_eq!(
        c.lookup_replacing_blocking(&key, &t, 5000, &[], &codec, &bytes)
            .unwrap(),
        Lookup::Leased
    );
    assert!(
        c.fill_blocking(&key, &t, &good, 60_000, &[], NOTIFY)
            .unwrap()
    );
    // ... but only if the bad bytes are still what is there.
    let (now, _) = found(
        c.lookup_replacing_blocking(&key, &t, 5000, &[], &codec, &bad)
            .unwrap(),
    );
    assert_eq!(now, good);
}

pub(crate) fn expiry_is_honoured(fx: &Fx<'_>) {
    let (c, codec) = (fx.c, codec());
    let cache = c.keys().cache("suite::expiry");
    let key = cache.key(&1u8).unwrap();
    seed_blocking(c, &key, &value("v"), 60_000, &[]).unwrap();
    let pttl: u64 = fx.cli(&["PTTL", text(&key)]).parse().unwrap();
    assert!((55_000..=60_000).contains(&pttl), "{pttl}");
    // A short PX: Redis's own clock (which memocache's test clock cannot move) expires it.
    let short = cache.key(&2u8).unwrap();
    seed_blocking(c, &short, &value("v"), 40, &[]).unwrap();
    let start = Instant::now();
    loop {
        match c
            .lookup_blocking(&short, &Token::new(), 5000, &[], &codec)
            .unwrap()
        {
            // Found with a time to live: 0 ms in its last millisecond, before Redis expires it
            // (seen once in CI, at b7b54ba).
            Lookup::Found { pttl_ms, .. } => assert!(pttl_ms.is_some(), "{pttl_ms:?}"),
            Lookup::Leased => break,
            other => panic!("{other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never expired");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(start.elapsed() >= Duration::from_millis(20));
}

pub(crate) fn delete_reports_entries(fx: &Fx<'_>) {
    let (c, codec) = (fx.c, codec());
    let cache = c.keys().cache("suite::delete");
    let key = cache.key(&"x").unwrap();
    assert!(!c.delete_blocking(&key).unwrap(), "nothing there");
    seed_blocking(c, &key, &value("v"), 60_000, &[]).unwrap();
    assert!(c.delete_blocking(&key).unwrap());
    assert_eq!(
        c.lookup_blocking(&key, &Token::new(), 5000, &[], &codec)
            .unwrap(),
        Lookup::Leased
    );
    assert!(
        !c.delete_blocking(&key).unwrap(),
        "a lease is not an entry, but it is removed"
    );
    assert_eq!(fx.cli(&["EXISTS", text(&key)]), "0");
}

/// `n` entries (and a lease) in a cache; neighbours that must survive.
pub(crate) fn delete_all_is_scoped(fx: &Fx<'_>, n: usize) {
    let c = fx.c;
    let target = c.keys().cache("suite::all");
    let longer = c.keys().cache("suite::all:er");
    let other = c.keys().cache("suite::other");
    let v = value("v");
    for i in 0..n {
        seed_blocking(c, &target.key(&i).unwrap(), &v, 60_000, &[]).unwrap();
    }
    for i in 0..10 {
        seed_blocking(c, &longer.key(&i).unwrap(), &v, 60_000, &[]).unwrap();
        seed_blocking(c, &other.key(&i).unwrap(), &v, 60_000, &[]).unwrap();
    }
    let (t, lease_key) = (Token::new(), target.key("leased").unwrap());
    assert_eq!(
        c.lookup_blocking(&lease_key, &t, 5000, &[], &codec())
            .unwrap(),
        Lookup::Leased
    );
    assert_eq!(
        fx.count(target.prefix()),
        n + 1 + 10,
        "the pattern also sees the longer name"
    );
    assert_eq!(
        c.delete_all_blocking(target.prefix()).unwrap(),
        n as u64 + 1
    );
    assert_eq!(
        fx.count(target.prefix()),
        10,
        "only the longer name's keys are left"
    );
    assert!(
        !c.fill_blocking(&lease_key, &t, &v, 60_000, &[], NOTIFY)
            .unwrap(),
        "the run stores nothing"
    );
    assert_eq!(fx.count(other.prefix()), 10);
    let root = c.keys().root().to_vec();
    seed_blocking(
        c,
        &other.key("tagged").unwrap(),
        &v,
        60_000,
        &[c.keys().tag_key("t")],
    )
    .unwrap();
    assert_eq!(
        c.delete_all_blocking(&root).unwrap(),
        10 + 11 + 1,
        "entries and the tag set"
    );
    assert_eq!(fx.count(&root), 0);
}

/// `n` entries under one tag over two caches, more under another tag.
pub(crate) fn delete_tag_reaches_every_cache(fx: &Fx<'_>, n: usize) {
    let c = fx.c;
    let (a, b) = (
        c.keys().cache("suite::tag_a"),
        c.keys().cache("suite::tag_b"),
    );
    let (t1, t2) = (c.keys().tag_key("user:1"), c.keys().tag_key("user:2"));
    let v = value("v");
    for i in 0..n {
        let cache = if i % 2 == 0 { &a } else { &b };
        seed_blocking(
            c,
            &cache.key(&i).unwrap(),
            &v,
            60_000,
            &[t1.clone(), t2.clone()],
        )
        .unwrap();
    }
    for i in 0..5 {
        seed_blocking(
            c,
            &a.key(&("only-2", i)).unwrap(),
            &v,
            30_000,
            std::slice::from_ref(&t2),
        )
        .unwrap();
    }
    let pttl: u64 = fx.cli(&["PTTL", text(&t2)]).parse().unwrap();
    assert!(
        pttl > 55_000,
        "a tag set lives as long as its longest entry: {pttl}"
    );
    assert_eq!(c.delete_tag_blocking("user:1").unwrap(), n as u64);
    assert_eq!(fx.count(a.prefix()) + fx.count(b.prefix()), 5);
    assert_eq!(fx.cli(&["EXISTS", text(&t1)]), "0");
    assert_eq!(
        fx.cli(&["EXISTS", text(&c.keys().tag_aside_key("user:1"))]),
        "0"
    );
    assert_eq!(c.delete_tag_blocking("user:1").unwrap(), 0, "nothing left");
    // The other tag still lists its live entries (and the deleted ones, harmlessly).
    assert_eq!(c.delete_tag_blocking("user:2").unwrap(), 5);
    assert_eq!(fx.count(a.prefix()), 0);
}

pub(crate) fn pending_replays(fx: &Fx<'_>) {
    let c = fx.c;
    let cache = c.keys().cache("suite::pending");
    let v = value("v");
    let keys: Vec<Vec<u8>> = (0..3).map(|i| cache.key(&i).unwrap()).collect();
    for k in &keys {
        seed_blocking(c, k, &v, 60_000, &[c.keys().tag_key("p")]).unwrap();
    }
    let other = cache.key("other").unwrap();
    seed_blocking(c, &other, &v, 60_000, &[]).unwrap();
    let p = Pending::default();
    p.push_key(keys[0].clone());
    p.push_tag("p");
    assert!(!p.is_empty());
    p.replay_blocking(c, cache.prefix()).unwrap();
    assert!(p.is_empty());
    assert_eq!(
        fx.count(cache.prefix()),
        1,
        "the tagged keys are gone, `other` is not"
    );
    p.push_all();
    p.replay_blocking(c, cache.prefix()).unwrap();
    assert!(p.is_empty());
    assert_eq!(fx.count(cache.prefix()), 0);
}

/// The async forms, on whatever executor polls this.
pub(crate) async fn async_forms(c: &Client) {
    let codec = codec();
    let cache = c.keys().cache("suite::async");
    let key = cache.key("k").unwrap();
    let tag = c.keys().tag_key("async-tag");
    let tags = [tag];
    let (a, b) = (Token::new(), Token::new());
    assert_eq!(
        c.lookup(&key, &a, 5000, &tags, &codec).await.unwrap(),
        Lookup::Leased
    );
    assert!(matches!(
        c.lookup(&key, &b, 5000, &tags, &codec).await.unwrap(),
        Lookup::Busy { .. }
    ));
    assert!(c.extend(&key, &a, 10_000, &tags).await.unwrap());
    assert!(
        c.fill(&key, &a, &value("async"), 60_000, &tags, NOTIFY)
            .await
            .unwrap()
    );
    let (bytes, _) = found(c.lookup(&key, &b, 5000, &tags, &codec).await.unwrap());
    assert_eq!(codec.decode::<String>(&bytes).unwrap().value, "async");
    assert!(
        c.lookup_replacing(&key, &b, 5000, &tags, &codec, &bytes)
            .await
            .unwrap()
            == Lookup::Leased
    );
    assert!(c.release(&key, &b).await.unwrap());
    seed(c, &key, &value("put"), 60_000, &tags).await.unwrap();
    assert!(c.delete(&key).await.unwrap());
    seed(c, &key, &value("put"), 60_000, &tags).await.unwrap();
    assert_eq!(c.delete_tag("async-tag").await.unwrap(), 1);
    seed(c, &key, &value("put"), 60_000, &[]).await.unwrap();
    assert_eq!(c.unlink_all(std::slice::from_ref(&key)).await.unwrap(), 1);
    seed(c, &key, &value("put"), 60_000, &[]).await.unwrap();
    assert_eq!(c.delete_all(cache.prefix()).await.unwrap(), 1);
    let p = Pending::default();
    p.push_key(key.clone());
    p.replay(c, cache.prefix()).await.unwrap();
    assert!(p.is_empty());
    c.ping().await.unwrap();
}

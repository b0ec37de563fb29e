//! Tests of the key encoder: the documented forms, and injectivity over random values of the
//! shapes that make encoders ambiguous (empty strings in sequences, nested options, skipped
//! fields, strings that look like the grammar).

use super::encode_key;
use crate::redis::tests::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Serialize, Clone, Debug, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
enum Shape {
    Empty,
    Circle(u32),
    Rect(u32, u32),
    Named { name: String },
}

#[derive(Serialize, Clone, Debug, PartialEq)]
struct Sparse {
    #[serde(skip_serializing_if = "Option::is_none")]
    a: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<u8>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
struct Id(u64);

fn enc<K: Serialize + ?Sized>(k: &K) -> String {
    encode_key(k).unwrap()
}

#[test]
fn documented_forms() {
    assert_eq!(enc(&true), "true");
    assert_eq!(enc(&7u32), "7");
    assert_eq!(enc(&-1i8), "-1");
    assert_eq!(enc(&0.5f64), "0.5");
    assert_eq!(enc(&u128::MAX), u128::MAX.to_string());
    assert_eq!(enc("a b:c"), "a%20b%3Ac");
    assert_eq!(enc(""), "''");
    assert_eq!(enc(&'x'), "x");
    assert_eq!(enc(&None::<u8>), "~");
    assert_eq!(enc(&Some(3u8)), "+3");
    assert_eq!(enc(&(1u8, "x")), "(1,x)");
    assert_eq!(enc(&vec![1u8, 2]), "[1,2]");
    assert_eq!(enc(&()), "()");
    assert_eq!(enc(&Point { x: 1, y: 2 }), "(x=1,y=2)");
    assert_eq!(enc(&Shape::Empty), "Empty");
    assert_eq!(enc(&Shape::Circle(1)), "Circle(1)");
    assert_eq!(enc(&Shape::Rect(1, 2)), "Rect(1,2)");
    assert_eq!(enc(&Shape::Named { name: "n".into() }), "Named(name=n)");
    assert_eq!(enc(&BTreeMap::from([(1u8, "a")])), "<1=a>");
    assert_eq!(enc(&Id(9)), "9");
    assert_eq!(enc("{user}"), "%7Buser%7D");
    assert_eq!(enc("é"), "é");
}

#[test]
fn the_grammar_characters_in_strings_are_escaped() {
    let tricky = "%:{}(),[]<>=~+'#\n\t \u{7f}";
    let e = enc(tricky);
    assert!(
        e.bytes().all(|b| b == b'%' || b.is_ascii_alphanumeric()),
        "{e}"
    );
    assert!(!e.contains(':') && !e.contains('{') && !e.contains('}'));
}

#[test]
fn the_known_ambiguities_are_told_apart() {
    assert_ne!(enc(&Vec::<String>::new()), enc(&vec![String::new()]));
    assert_ne!(
        enc(&vec![String::new()]),
        enc(&vec![String::new(), String::new()])
    );
    assert_ne!(enc(&None::<Option<u8>>), enc(&Some(None::<u8>)));
    assert_ne!(enc(&Some("")), enc(&None::<&str>));
    assert_ne!(
        enc(&Sparse {
            a: Some(1),
            b: None
        }),
        enc(&Sparse {
            a: None,
            b: Some(1)
        })
    );
    assert_ne!(enc(&("a,b", "c")), enc(&("a", "b,c")));
    assert_ne!(enc(&vec![vec![1u8], vec![2]]), enc(&vec![vec![1u8, 2]]));
    assert_ne!(enc("~"), enc(&None::<&str>));
}

fn random_string(rng: &mut Rng) -> String {
    const ALPHABET: &[char] = &[
        'a', ',', '(', ')', '[', ']', '~', '+', '\'', '=', '%', ':', '{', 'é', ' ',
    ];
    let len = rng.below(4) as usize;
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
        .collect()
}

#[derive(Serialize, Clone, Debug, PartialEq)]
struct Mixed {
    names: Vec<String>,
    nested: Option<Option<String>>,
    sparse: Sparse,
    shape: Shape,
    map: BTreeMap<String, Vec<u8>>,
}

fn random_mixed(rng: &mut Rng) -> Mixed {
    let names = (0..rng.below(3)).map(|_| random_string(rng)).collect();
    let nested = match rng.below(3) {
        0 => None,
        1 => Some(None),
        _ => Some(Some(random_string(rng))),
    };
    let opt = |rng: &mut Rng| (rng.below(2) == 0).then(|| rng.below(3) as u8);
    let sparse = Sparse {
        a: opt(rng),
        b: opt(rng),
    };
    let shape = match rng.below(4) {
        0 => Shape::Empty,
        1 => Shape::Circle(rng.below(3) as u32),
        2 => Shape::Rect(rng.below(2) as u32, rng.below(2) as u32),
        _ => Shape::Named {
            name: random_string(rng),
        },
    };
    let map = (0..rng.below(3))
        .map(|_| {
            (
                random_string(rng),
                (0..rng.below(3)).map(|_| rng.below(3) as u8).collect(),
            )
        })
        .collect();
    Mixed {
        names,
        nested,
        sparse,
        shape,
        map,
    }
}

#[test]
fn distinct_values_never_share_an_encoding() {
    let mut rng = Rng(0x5eed);
    let mut seen: HashMap<String, Mixed> = HashMap::new();
    for _ in 0..50_000 {
        let v = random_mixed(&mut rng);
        let e = enc(&v);
        assert!(
            !e.contains(':') && !e.contains('{') && !e.contains('}'),
            "{e}"
        );
        if let Some(prev) = seen.insert(e.clone(), v.clone()) {
            assert_eq!(prev, v, "two values encode as {e}");
        }
    }
    assert!(
        seen.len() > 10_000,
        "the generator should produce many distinct values"
    );
}

#[test]
fn encoding_is_deterministic() {
    let mut a = Rng(7);
    let mut b = Rng(7);
    for _ in 0..1000 {
        assert_eq!(enc(&random_mixed(&mut a)), enc(&random_mixed(&mut b)));
    }
}

//! `/stats` (JSON) and `/metrics` (Prometheus text) after a known mix of requests: every
//! counter as expected, and the two endpoints agreeing with each other.

mod common;

use common::{cache, get_json, server, stats};
use serde_json::Value;
use std::collections::HashMap;

const COUNTERS: [&str; 6] = [
    "hits",
    "misses",
    "evictions",
    "expirations",
    "invalidations",
    "errors",
];

/// Parsed Prometheus text: each family's declared type, and each sample's value by
/// (metric name, value of its `cache` label or "").
struct Exposition {
    types: HashMap<String, String>,
    samples: HashMap<(String, String), f64>,
}

fn parse_metrics(text: &str) -> Exposition {
    let mut types = HashMap::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            let before = types.insert(name.to_string(), kind.to_string());
            assert!(before.is_none(), "family {name} declared twice");
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample: series value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value in {line:?}"));
        let (name, label) = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("closing brace");
                let v = labels
                    .strip_prefix("cache=\"")
                    .and_then(|l| l.strip_suffix('"'))
                    .unwrap_or_else(|| panic!("one cache label in {line:?}"));
                (name, v)
            }
            None => (series, ""),
        };
        assert!(types.contains_key(name), "sample {name} before its # TYPE");
        let before = samples.insert((name.to_string(), label.to_string()), value);
        assert!(before.is_none(), "sample {line:?} repeated");
    }
    Exposition { types, samples }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_metrics_count_what_happened() {
    let (_server, c) = server(&[]);
    let s = stats(&c).await;
    assert_eq!(s["db_queries"], 0);
    for row in s["caches"].as_array().expect("caches") {
        assert_eq!(row["hits"], 0);
        assert_eq!(row["len"], 0);
        assert_eq!(row["hit_ratio"], 0.0);
    }

    for path in [
        "/products/1",
        "/products/1",
        "/products/1",
        "/products/2",
        "/users/5",
        "/users/5",
        "/weather/oslo",
        "/weather/oslo",
        "/products",
        "/products",
    ] {
        get_json(&c, path).await;
    }
    for _ in 0..2 {
        assert_eq!(c.get("/users/5/page").await.expect("an answer").status, 200);
    }
    let r = c
        .put_json("/users/5", r#"{"name": "Barbara"}"#)
        .await
        .expect("an answer");
    assert_eq!(r.status, 200);

    let s = stats(&c).await;
    assert_eq!(
        s["db_queries"], 6,
        "products 1 and 2, user 5 twice, the UPDATE, the list"
    );
    assert_eq!(s["upstream_calls"], 1);
    // (cache, hits, misses, invalidations, len)
    let expected = [
        ("product_list", 1, 1, 0, 1),
        ("product", 2, 2, 0, 2),
        // Two GETs and the page's build; after the edit's invalidation, its read (a miss).
        ("user", 2, 2, 1, 1),
        ("user_page", 1, 1, 1, 0),
        ("weather", 1, 1, 0, 1),
    ];
    for (name, hits, misses, invalidations, len) in expected {
        let row = cache(&s, name);
        assert_eq!(
            (
                &row["hits"],
                &row["misses"],
                &row["invalidations"],
                &row["len"]
            ),
            (
                &hits.into(),
                &misses.into(),
                &invalidations.into(),
                &len.into()
            ),
            "{name}: {row}"
        );
        for zero in ["evictions", "expirations", "errors"] {
            assert_eq!(row[zero], 0, "{name}.{zero}");
        }
        let ratio = row["hit_ratio"].as_f64().expect("hit_ratio");
        assert!((ratio - hits as f64 / (hits + misses) as f64).abs() < 1e-9);
    }
    assert_eq!(s["caches"].as_array().map(Vec::len), Some(5));

    let m = c.get("/metrics").await.expect("an answer");
    assert_eq!(m.status, 200);
    assert!(
        m.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        m.content_type
    );
    let e = parse_metrics(&m.body);
    // /stats again: nothing ran between the two reads, so they must agree exactly.
    let s2: Value = stats(&c).await;
    assert_eq!(s, s2);
    for row in s["caches"].as_array().expect("caches") {
        let name = row["name"].as_str().expect("name").to_string();
        for counter in COUNTERS {
            let family = format!("memocache_{counter}_total");
            assert_eq!(e.types.get(&family).map(String::as_str), Some("counter"));
            let v = e.samples.get(&(family.clone(), name.clone()));
            assert_eq!(
                v.copied(),
                row[counter].as_f64(),
                "{family}{{cache={name}}}"
            );
        }
        let entries = e
            .samples
            .get(&("memocache_entries".to_string(), name.clone()));
        assert_eq!(entries.copied(), row["len"].as_f64(), "entries of {name}");
    }
    assert_eq!(
        e.types.get("memocache_entries").map(String::as_str),
        Some("gauge")
    );
    let single = |n: &str| e.samples.get(&(n.to_string(), String::new())).copied();
    assert_eq!(single("web_app_db_queries_total"), Some(6.0));
    assert_eq!(single("web_app_upstream_calls_total"), Some(1.0));
    // 6 counters and the gauge for 5 caches, and the 2 service counters.
    assert_eq!(e.samples.len(), 7 * 5 + 2);
}

//! What the service tells about its caches: `/stats` as JSON (the dashboard polls it) and
//! `/metrics` in the Prometheus text format (what operators scrape), both read from the
//! caches' handles at request time.

use crate::AppState;
use crate::cached;
use crate::db::Db;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use memocache::CacheStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::sync::Arc;

/// One cache, as `/stats` shows it.
#[derive(Serialize)]
struct CacheRow<'a> {
    name: &'a str,
    hits: u64,
    misses: u64,
    evictions: u64,
    expirations: u64,
    invalidations: u64,
    errors: u64,
    len: usize,
    hit_ratio: f64,
}

/// The body of `/stats`.
#[derive(Serialize)]
struct Stats<'a> {
    db_queries: u64,
    upstream_calls: u64,
    caches: Vec<CacheRow<'a>>,
}

/// `GET /stats`: `{"db_queries", "upstream_calls", "caches": [{name, hits, ...}]}`.
pub async fn stats_json(State(s): State<AppState>) -> Response {
    let caches = cached::handles()
        .into_iter()
        .map(|c| {
            let st = c.stats();
            CacheRow {
                name: c.name(),
                hits: st.hits,
                misses: st.misses,
                evictions: st.evictions,
                expirations: st.expirations,
                invalidations: st.invalidations,
                errors: st.errors,
                len: c.len(),
                hit_ratio: st.hit_ratio(),
            }
        })
        .collect();
    let body = Stats {
        db_queries: s.db.queries(),
        upstream_calls: cached::upstream_calls(),
        caches,
    };
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// `GET /metrics`: every counter of every cache, one family per counter with a `cache`
/// label, plus the database's and the upstream's call counts.
pub async fn metrics(State(s): State<AppState>) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::prometheus_text::encode(&mut text, &s.metrics) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "metrics encoding failed").into_response(),
    }
}

/// The registry `/metrics` encodes: one collector that reads the handles at scrape time.
pub fn registry(db: Arc<Db>) -> Registry {
    let mut r = Registry::default();
    r.register_collector(Box::new(CacheCollector { db }));
    r
}

/// A counter of [`CacheStats`]: its metric name, help text and value.
type Counter = (&'static str, &'static str, fn(&CacheStats) -> u64);

/// The counters of [`CacheStats`].
const COUNTERS: [Counter; 6] = [
    ("memocache_hits", "Calls answered from the cache.", |s| {
        s.hits
    }),
    (
        "memocache_misses",
        "Calls that ran the function's body.",
        |s| s.misses,
    ),
    (
        "memocache_evictions",
        "Entries dropped for capacity.",
        |s| s.evictions,
    ),
    (
        "memocache_expirations",
        "Entries dropped for their ttl.",
        |s| s.expirations,
    ),
    (
        "memocache_invalidations",
        "Entries dropped by invalidation.",
        |s| s.invalidations,
    ),
    ("memocache_errors", "Backend errors.", |s| s.errors),
];

#[derive(Debug)]
struct CacheCollector {
    db: Arc<Db>,
}

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let caches: Vec<_> = cached::handles()
            .into_iter()
            .map(|c| (c.name(), c.stats(), c.len()))
            .collect();
        for (name, help, get) in COUNTERS {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (cache, stats, _) in &caches {
                let labels = [("cache", *cache)];
                ConstCounter::new(get(stats)).encode(family.encode_family(&labels)?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "memocache_entries",
            "Entries held (expired ones not yet purged included).",
            None,
            MetricType::Gauge,
        )?;
        for (cache, _, len) in &caches {
            let labels = [("cache", *cache)];
            ConstGauge::new(*len as i64).encode(family.encode_family(&labels)?)?;
        }
        let single = [
            (
                "web_app_db_queries",
                "SQL statements SQLite executed (its trace hook), seeding excluded.",
                self.db.queries(),
            ),
            (
                "web_app_upstream_calls",
                "Calls that reached the weather upstream.",
                cached::upstream_calls(),
            ),
        ];
        for (name, help, value) in single {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(value).encode(family)?;
        }
        Ok(())
    }
}

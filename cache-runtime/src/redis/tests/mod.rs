//! Tests of the Redis tier against real `redis-server` processes (started by the harness in
//! the repository's `tests/support/`), and their shared helpers: clients with unique key
//! prefixes, entries seeded through the refresh path, a deterministic PRNG, and a `tracing`
//! subscriber that counts the log lines.

#[path = "../../../../tests/support/redis_server.rs"]
pub(crate) mod redis_server;

mod cluster;
mod faults;
mod scale;
mod standalone;
mod suite;

use super::codec::Token;
use super::{Client, Config, Error};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A small deterministic PRNG (SplitMix64): the same cases on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A key prefix no other test uses.
pub(crate) fn unique_prefix() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "t{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn standalone(url: &str, op_ms: u64) -> Client {
    let config = Config::from_url(url)
        .unwrap()
        .operation_timeout(Duration::from_millis(op_ms))
        .key_prefix(unique_prefix());
    Client::new(config).unwrap()
}

pub(crate) fn cluster(urls: &[String], op_ms: u64) -> Client {
    let config = Config::cluster(urls)
        .unwrap()
        .operation_timeout(Duration::from_millis(op_ms))
        .key_prefix(unique_prefix());
    Client::new(config).unwrap()
}

/// How long a seeding lease lives (its fill replaces it at once, with the entry's own `PX`).
const SEED_LEASE_MS: u64 = 10_000;

/// Stores `value` under `key` for `px_ms`, whatever is there, as a refresh does: the key's
/// lease taken, then filled. The tests' way to seed entries (the tier has no other write).
pub(crate) fn seed_blocking(
    c: &Client,
    key: &[u8],
    value: &[u8],
    px_ms: u64,
    tags: &[Vec<u8>],
) -> Result<(), Error> {
    let t = Token::new();
    c.take_blocking(key, &t, SEED_LEASE_MS, tags)?;
    let stored = c.fill_blocking(key, &t, value, px_ms, tags, suite::NOTIFY)?;
    assert!(stored, "nothing else writes a test's keys");
    Ok(())
}

/// [`seed_blocking`] for async callers.
pub(crate) async fn seed(
    c: &Client,
    key: &[u8],
    value: &[u8],
    px_ms: u64,
    tags: &[Vec<u8>],
) -> Result<(), Error> {
    let t = Token::new();
    c.take(key, &t, SEED_LEASE_MS, tags).await?;
    let stored = c.fill(key, &t, value, px_ms, tags, suite::NOTIFY).await?;
    assert!(stored, "nothing else writes a test's keys");
    Ok(())
}

/// Log lines of the target `memocache::redis`, by level and `server` field.
pub(crate) fn log_count(level: tracing::Level, server: &str) -> usize {
    capture();
    let lines = LINES.get_or_init(Default::default).lock();
    lines.get(&(level, server.to_owned())).copied().unwrap_or(0)
}

static LINES: OnceLock<Mutex<HashMap<(tracing::Level, String), usize>>> = OnceLock::new();

/// Installs the counting subscriber for the whole test process (the probe logs from its own
/// thread, so a thread-local subscriber would miss it).
pub(crate) fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(Counter);
    });
}

struct Counter;

struct ServerField(String);

impl tracing::field::Visit for ServerField {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "server" {
            self.0 = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "server" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Counter {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        m.target() == "memocache::redis"
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, e: &tracing::Event<'_>) {
        let mut server = ServerField(String::new());
        e.record(&mut server);
        let key = (*e.metadata().level(), server.0);
        *LINES
            .get_or_init(Default::default)
            .lock()
            .entry(key)
            .or_default() += 1;
    }

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

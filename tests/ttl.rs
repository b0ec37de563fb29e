//! `ttl` and `tti`: entries expire on the cache clock, which tests move forward with
//! `memocache::testing::advance_clock` instead of sleeping.

use memocache::cached;
use memocache::testing::advance_clock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static FORECASTS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1d")]
fn forecast(city: &str) -> String {
    FORECASTS.fetch_add(1, Ordering::SeqCst);
    format!("sunny in {city}")
}

#[test]
fn an_entry_lives_for_its_ttl_and_is_a_miss_after() {
    assert_eq!(forecast("Oslo"), "sunny in Oslo");
    advance_clock(Duration::from_secs(24 * 3600 - 1));
    assert_eq!(forecast("Oslo"), "sunny in Oslo");
    assert_eq!(
        FORECASTS.load(Ordering::SeqCst),
        1,
        "still fresh one second before the day ends"
    );
    advance_clock(Duration::from_secs(1));
    assert_eq!(forecast("Oslo"), "sunny in Oslo");
    assert_eq!(
        FORECASTS.load(Ordering::SeqCst),
        2,
        "a day after it was stored: a miss"
    );
    let s = forecast_cache().stats();
    assert_eq!((s.hits, s.misses, s.expirations), (1, 2, 1));
}

static SESSIONS: AtomicU32 = AtomicU32::new(0);

#[cached(tti = "30m")]
fn session(token: u64) -> u64 {
    SESSIONS.fetch_add(1, Ordering::SeqCst);
    token * 2
}

#[test]
fn tti_counts_from_the_last_hit() {
    session(1);
    for _ in 0..5 {
        advance_clock(Duration::from_secs(29 * 60));
        assert_eq!(session(1), 2);
    }
    assert_eq!(
        SESSIONS.load(Ordering::SeqCst),
        1,
        "every hit restarted the idle time"
    );
    advance_clock(Duration::from_secs(30 * 60));
    session(1);
    assert_eq!(
        SESSIONS.load(Ordering::SeqCst),
        2,
        "idle for 30 minutes: a miss"
    );
}

static BOTH: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1h", tti = "10m")]
fn both(n: u64) -> u64 {
    BOTH.fetch_add(1, Ordering::SeqCst);
    n
}

#[test]
fn with_ttl_and_tti_the_first_to_run_out_wins() {
    both(1);
    for _ in 0..6 {
        advance_clock(Duration::from_secs(9 * 60));
        both(1);
    }
    assert_eq!(
        BOTH.load(Ordering::SeqCst),
        1,
        "54 minutes, never idle for 10"
    );
    advance_clock(Duration::from_secs(6 * 60 + 1));
    both(1);
    assert_eq!(
        BOTH.load(Ordering::SeqCst),
        2,
        "an hour after the store, however busy"
    );
}

fn configured_ttl() -> Duration {
    Duration::from_millis(1500)
}

static EXPR: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = configured_ttl(), tti = Duration::from_secs(3600))]
fn with_expression_ttl(n: u64) -> u64 {
    EXPR.fetch_add(1, Ordering::SeqCst);
    n
}

#[test]
fn ttl_may_be_any_duration_expression() {
    with_expression_ttl(1);
    // The cache clock is exact to about a millisecond: leave it that much room.
    advance_clock(Duration::from_millis(1400));
    with_expression_ttl(1);
    assert_eq!(EXPR.load(Ordering::SeqCst), 1);
    advance_clock(Duration::from_millis(100));
    with_expression_ttl(1);
    assert_eq!(EXPR.load(Ordering::SeqCst), 2);
}

#[cached(ttl = "1s", unbounded)]
fn short_lived(n: u64) -> u64 {
    n
}

#[test]
fn expired_entries_are_purged_without_being_read_again() {
    for n in 0..5_000 {
        short_lived(n);
    }
    assert_eq!(short_lived_cache().len(), 5_000);
    advance_clock(Duration::from_secs(2));
    // Calls on other keys purge the expired entries as they go: memory follows the live ones.
    // Each store looks at two entries of its shard; 40 rounds store each live key 20 times.
    for _ in 0..40 {
        for n in 10_000..10_500 {
            short_lived(n);
            advance_clock(Duration::from_millis(1));
        }
    }
    let len = short_lived_cache().len();
    assert!(len <= 1_000, "{len} entries kept, of which 500 live");
    assert!(short_lived_cache().stats().expirations >= 4_500);
}

static CLOCKS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1m")]
fn per_thread_clock(n: u64) -> u64 {
    CLOCKS.fetch_add(1, Ordering::SeqCst);
    n
}

#[test]
fn advance_clock_moves_only_the_calling_thread() {
    per_thread_clock(1);
    std::thread::spawn(|| {
        advance_clock(Duration::from_secs(3600));
        per_thread_clock(1);
    })
    .join()
    .unwrap();
    assert_eq!(
        CLOCKS.load(Ordering::SeqCst),
        2,
        "an hour later on the other thread"
    );
    per_thread_clock(1);
    assert_eq!(
        CLOCKS.load(Ordering::SeqCst),
        2,
        "this thread's clock did not move"
    );
}

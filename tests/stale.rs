//! `stale = "<duration>"`: stale-while-revalidate, for sync and async functions, with the
//! cache clock moved by `advance_clock` (no test sleeps through a TTL).

use memocache::cached;
use memocache::testing::advance_clock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until `done()` holds (a guard against hanging: fails after `PATIENCE`).
fn eventually(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

static PRICE_RUNS: AtomicU32 = AtomicU32::new(0);
static PRICE_GATE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[cached(ttl = "1m", stale = "30s")]
fn price(symbol: &str) -> u32 {
    let run = PRICE_RUNS.fetch_add(1, Ordering::SeqCst);
    if let Some(gate) = PRICE_GATE.lock().unwrap().take() {
        gate.recv_timeout(PATIENCE).unwrap();
    }
    u32::try_from(symbol.len()).unwrap() * 100 + run
}

#[test]
fn a_stale_entry_is_served_at_once_while_one_background_refresh_runs() {
    assert_eq!(price("ACME"), 400);
    advance_clock(Duration::from_secs(61));
    let (release, gate) = mpsc::channel();
    *PRICE_GATE.lock().unwrap() = Some(gate);
    // Past the ttl, inside the stale window: the old value, at once, however many calls.
    for _ in 0..10 {
        assert_eq!(price("ACME"), 400);
    }
    eventually("the refresh started", || {
        PRICE_RUNS.load(Ordering::SeqCst) == 2
    });
    release.send(()).unwrap();
    eventually("the refresh stored its value", || {
        price_cache().stats().misses == 2 && price("ACME") == 401
    });
    assert_eq!(
        PRICE_RUNS.load(Ordering::SeqCst),
        2,
        "exactly one refresh ran"
    );
    advance_clock(Duration::from_secs(59));
    assert_eq!(
        price("ACME"),
        401,
        "the refreshed entry has a whole new ttl"
    );
}

static QUOTE_RUNS: AtomicU32 = AtomicU32::new(0);
static QUOTE_FAILS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1m", stale = "30s")]
fn quote(symbol: &str) -> Result<u32, String> {
    let run = QUOTE_RUNS.fetch_add(1, Ordering::SeqCst);
    if QUOTE_FAILS.load(Ordering::SeqCst) > 0 {
        return Err(format!("{symbol}: upstream down"));
    }
    Ok(run)
}

#[test]
fn a_failed_refresh_keeps_the_stale_value_until_the_window_ends() {
    assert_eq!(quote("X"), Ok(0));
    QUOTE_FAILS.store(1, Ordering::SeqCst);
    advance_clock(Duration::from_secs(70));
    assert_eq!(quote("X"), Ok(0), "stale");
    eventually("the failed refresh ended", || {
        quote_cache().stats().misses == 2
    });
    // The next stale call starts another refresh, which fails too; the value stays.
    eventually("a second refresh ran", || {
        assert_eq!(quote("X"), Ok(0));
        quote_cache().stats().misses >= 3
    });
    advance_clock(Duration::from_secs(21)); // 91s: past ttl + stale
    assert_eq!(
        quote("X"),
        Err("X: upstream down".to_string()),
        "a plain miss now"
    );
}

static OWNER_RUNS: AtomicU32 = AtomicU32::new(0);

struct Desk;

impl Desk {
    /// The receiver cannot go to another thread: the caller that finds the entry stale
    /// refreshes it, and answers with the fresh value.
    #[cached(ttl = "1m", stale = "1m")]
    fn ticket(&self, n: u32) -> u32 {
        n * 1000 + OWNER_RUNS.fetch_add(1, Ordering::SeqCst)
    }
}

#[test]
fn when_the_refresh_cannot_leave_the_caller_the_finder_refreshes() {
    let desk = Desk;
    assert_eq!(desk.ticket(1), 1000);
    advance_clock(Duration::from_secs(90));
    assert_eq!(desk.ticket(1), 1001, "the finder ran the refresh");
    assert_eq!(desk.ticket(1), 1001);
    assert_eq!(OWNER_RUNS.load(Ordering::SeqCst), 2);
}

static ASYNC_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1m", stale = "30s")]
async fn feed(user: u64) -> u64 {
    futures::future::ready(()).await;
    user * 10 + u64::from(ASYNC_RUNS.fetch_add(1, Ordering::SeqCst))
}

#[test]
fn async_stale_on_block_on_the_finder_refreshes() {
    futures::executor::block_on(async {
        assert_eq!(feed(1).await, 10);
        advance_clock(Duration::from_secs(61));
        assert_eq!(
            feed(1).await,
            11,
            "no runtime to spawn on: the finder refreshed"
        );
        assert_eq!(feed(1).await, 11);
    });
}

static SPAWN_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1m", stale = "30s")]
async fn spawned(user: u64) -> u64 {
    tokio::task::yield_now().await;
    user * 10 + u64::from(SPAWN_RUNS.fetch_add(1, Ordering::SeqCst))
}

#[cfg(feature = "tokio")]
#[test]
fn async_stale_on_tokio_refreshes_in_a_spawned_task() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(spawned(1).await, 10);
        advance_clock(Duration::from_secs(61));
        assert_eq!(spawned(1).await, 10, "stale, at once");
        assert_eq!(
            spawned(1).await,
            10,
            "still stale: the refresh has not run yet"
        );
        // The refresh runs when this task yields; until it stores, calls get the stale value.
        let mut seen = spawned(1).await;
        for _ in 0..1_000 {
            if seen != 10 {
                break;
            }
            tokio::task::yield_now().await;
            seen = spawned(1).await;
        }
        assert_eq!(seen, 11, "the spawned refresh stored");
        assert_eq!(SPAWN_RUNS.load(Ordering::SeqCst), 2, "one refresh ran");
    });
}

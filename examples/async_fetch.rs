//! An async client of a slow upstream, on tokio.
//!
//! 1. Single-flight: 100 concurrent requests for one cold key become one upstream call.
//! 2. Stale-while-revalidate: after the TTL, requests are answered at once with the old value
//!    while one refresh runs in a spawned task (the `tokio` feature), and the next requests
//!    get the new value.
//!
//! Run it with `cargo run --release --example async_fetch --features tokio`.

use memocache::cached;
use memocache::testing::advance_clock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Calls that reached the upstream.
static UPSTREAM_CALLS: AtomicU32 = AtomicU32::new(0);

/// The upstream: 200 ms per answer, and its answer changes over time.
async fn upstream(product: u64) -> String {
    let call = UPSTREAM_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(Duration::from_millis(200)).await;
    format!("product {product}, price list #{call}")
}

/// A product page: fresh for 10 minutes, then served stale for up to a minute more while
/// one refresh runs.
#[cached(ttl = "10m", stale = "1m")]
async fn product(id: u64) -> String {
    upstream(id).await
}

#[tokio::main]
async fn main() {
    println!("1. single-flight: 100 concurrent requests for a cold key");
    let start = Instant::now();
    let requests: Vec<_> = (0..100).map(|_| tokio::spawn(product(7))).collect();
    let mut answers = Vec::new();
    for r in requests {
        answers.push(r.await.expect("the task ran"));
    }
    let all_same = answers.iter().all(|a| *a == answers[0]);
    println!(
        "   100 answers in {:.0} ms, all the same: {all_same}, upstream calls: {}",
        start.elapsed().as_secs_f64() * 1e3,
        UPSTREAM_CALLS.load(Ordering::SeqCst)
    );
    println!("   answer: {}", answers[0]);

    println!("\n2. stale-while-revalidate: 10 minutes and 5 seconds later (on the cache clock)");
    advance_clock(Duration::from_secs(10 * 60 + 5));
    for i in 1..=3 {
        let start = Instant::now();
        let answer = product(7).await;
        println!(
            "   request {i}: {answer:<34} in {:>6.1} µs (stale, served at once)",
            start.elapsed().as_secs_f64() * 1e6
        );
    }
    // The refresh runs in its own task meanwhile; give it the upstream's 200 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    let answer = product(7).await;
    println!(
        "   after the refresh: {answer:<29} in {:>6.1} µs (fresh again)",
        start.elapsed().as_secs_f64() * 1e6
    );
    let s = product_cache().stats();
    println!(
        "\n   upstream calls: {}   cache: {} hits, {} misses",
        UPSTREAM_CALLS.load(Ordering::SeqCst),
        s.hits,
        s.misses
    );
}

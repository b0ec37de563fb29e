//! `#[cached(redis)]` against a real 3-master Redis Cluster, with the same attribute as
//! against one server: a function's keys spread over the masters (no hash tag holds them to
//! one slot), entries shared by processes, invalidations (one key, all of a function, a tag)
//! reaching them wherever they are; near copies dropped when another process invalidates, and
//! a cold key computed once by several processes.
#![cfg(feature = "redis")]

#[path = "support/at_once.rs"]
mod at_once;
#[path = "support/redis_child.rs"]
mod redis_child;
#[path = "support/redis_server.rs"]
mod redis_server;
#[path = "support/redis_shared.rs"]
mod redis_shared;

use at_once::{spawn_at, unix_ms, wait_for_start};
use memocache::cached;
use redis_server::RedisCluster;
use redis_shared::Shared;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

static REDIS: Shared<RedisCluster> = Shared::new(|c| c);

fn cluster() -> Option<&'static RedisCluster> {
    REDIS.get()
}

/// `redis-cli -c` against the first master (it follows redirections).
fn cli(args: &[&str]) -> String {
    let mut all = vec!["-c"];
    all.extend_from_slice(args);
    cluster().unwrap().nodes[0].cli(&all)
}

#[test]
fn child() {
    let Some(role) = REDIS.child_role() else {
        return;
    };
    let report = match role.as_str() {
        "stock" => {
            let v = stock(9);
            format!("stock={v} ran={}", STOCK_RUNS.load(SeqCst))
        }
        "invalidate_shelf" => {
            invalidate_shelf(3);
            "done".to_owned()
        }
        "burst" => {
            wait_for_start();
            std::thread::scope(|s| {
                for t in 0..8u64 {
                    s.spawn(move || assert_eq!(cold(t % 2), t % 2 + 1));
                }
            });
            COLD_RUNS.load(SeqCst).to_string()
        }
        "rows" => {
            let total: u64 = (0..300).map(row).sum();
            format!("rows={total} ran={}", ROW_RUNS.load(SeqCst))
        }
        other => panic!("unknown role {other}"),
    };
    redis_child::tell_parent(report);
}

static STOCK_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "cluster.stock", tags = [format!("item:{id}")])]
fn stock(id: u64) -> u64 {
    STOCK_RUNS.fetch_add(1, SeqCst);
    id * 10
}

#[test]
fn entries_are_shared_and_invalidations_reach_them_on_a_cluster() {
    let Some(_) = cluster() else { return };
    assert_eq!(REDIS.in_child("stock"), "stock=90 ran=1");
    assert_eq!(
        REDIS.in_child("stock"),
        "stock=90 ran=0",
        "served from the cluster"
    );
    assert!(invalidate_stock(9), "this process never called it");
    assert_eq!(REDIS.in_child("stock"), "stock=90 ran=1");
    assert_eq!(REDIS.in_child("stock"), "stock=90 ran=0");
    memocache::invalidate_tag("item:9");
    assert_eq!(
        REDIS.in_child("stock"),
        "stock=90 ran=1",
        "the tag reached the entry's slot"
    );
}

static ROW_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "cluster.row")]
fn row(id: u64) -> u64 {
    ROW_RUNS.fetch_add(1, SeqCst);
    id
}

#[test]
fn a_functions_keys_spread_over_every_master_and_invalidate_all_reaches_them() {
    let Some(cluster) = cluster() else { return };
    assert_eq!(REDIS.in_child("rows"), "rows=44850 ran=300");
    for node in &cluster.nodes {
        let keys = node.cli(&[
            "EVAL",
            "return #redis.call('KEYS', 'memocache:cluster.row:*')",
            "0",
        ]);
        let keys: u32 = keys.parse().unwrap();
        assert!(keys > 50, "a master holds only {keys} of the 300 keys");
    }
    assert_eq!(REDIS.in_child("rows"), "rows=44850 ran=0");
    invalidate_all_row();
    for node in &cluster.nodes {
        let keys = node.cli(&[
            "EVAL",
            "return #redis.call('KEYS', 'memocache:cluster.row:*')",
            "0",
        ]);
        assert_eq!(keys, "0");
    }
    assert_eq!(REDIS.in_child("rows"), "rows=44850 ran=300");
    assert_eq!(cli(&["GET", "nothing"]), "");
}

#[cached(ttl = "10m", redis, name = "cluster.fetch")]
async fn fetch(id: u64) -> String {
    format!("row {id}")
}

#[test]
fn async_fns_use_the_cluster_too() {
    let Some(_) = cluster() else { return };
    assert_eq!(futures::executor::block_on(fetch(5)), "row 5");
    assert_eq!(cli(&["EXISTS", "memocache:cluster.fetch:5"]), "1");
    assert!(futures::executor::block_on(invalidate_fetch(5)));
    assert_eq!(cli(&["EXISTS", "memocache:cluster.fetch:5"]), "0");
}

static SHELF_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, near = "1m", name = "cluster.shelf")]
fn shelf(id: u64) -> u64 {
    SHELF_RUNS.fetch_add(1, SeqCst);
    id
}

#[test]
fn another_processs_invalidation_drops_the_near_copy_on_a_cluster() {
    let Some(_) = cluster() else { return };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // The bus subscribes in the background; until then no copy is kept.
    while {
        shelf(3);
        shelf_cache().is_empty()
    } {
        assert!(std::time::Instant::now() < until, "no near copy kept");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(REDIS.in_child("invalidate_shelf"), "done");
    while !shelf_cache().is_empty() {
        assert!(
            std::time::Instant::now() < until,
            "the near copy outlived the invalidation"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let runs = SHELF_RUNS.load(SeqCst);
    assert_eq!(shelf(3), 3);
    assert_eq!(SHELF_RUNS.load(SeqCst), runs + 1);
}

static COLD_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "10m", redis, name = "cluster.cold")]
fn cold(id: u64) -> u64 {
    COLD_RUNS.fetch_add(1, SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(300));
    id + 1
}

#[test]
fn a_cold_key_is_computed_once_by_three_processes_on_a_cluster() {
    let Some(_) = cluster() else { return };
    let at = unix_ms() + 1500;
    let children: Vec<_> = (0..3)
        .map(|_| spawn_at(REDIS.command("burst"), at))
        .collect();
    let runs: u32 = children
        .into_iter()
        .map(|c| redis_child::report(c, "burst").parse::<u32>().unwrap())
        .sum();
    println!("cluster: 3 processes x 8 threads, 2 cold keys: {runs} body runs");
    assert_eq!(runs, 2);
}

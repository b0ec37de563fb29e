//! Dropping a cache of 1 000 000 keys: a cursor `SCAN` + `UNLINK` of each master (1000 keys
//! per round trip, as `ops.rs` does), against the alternative, an O(1) per-function
//! generation bumped by `INCR`, whose cost moves to every lookup: the generation read with
//! the entry (one script where both share a node, a second round trip on a Cluster where
//! they do not). Against a `redis-server` and a 3-master Cluster this program starts.
//!
//! ```text
//! cargo bench -p cache-runtime --features redis --bench redis_delete_all
//! ```

#[path = "../../tests/support/redis_server.rs"]
mod redis_server;

use redis::Value;
use redis_server::{RedisCluster, RedisServer};
use std::time::{Duration, Instant};

const N: usize = 1_000_000;

fn main() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    delete_all_standalone(&server);
    drop(server);
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    delete_all_cluster(&cluster);
}

fn serial(name: &str, mut f: impl FnMut()) {
    const RUNS: usize = 20_000;
    for _ in 0..1000 {
        f();
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f();
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "{name:<58} {:>8.1} µs p50 {:>8.1} µs p99",
        lat[RUNS / 2].as_secs_f64() * 1e6,
        lat[RUNS * 99 / 100].as_secs_f64() * 1e6
    );
}

/// Writes `n` keys `<prefix><i>` (with a PX, as entries have) through `con`, pipelined.
fn populate(con: &mut dyn redis::ConnectionLike, prefix: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let mut p = redis::pipe();
        for i in chunk {
            p.cmd("SET")
                .arg(format!("{prefix}{i}"))
                .arg(vec![1u8; 40])
                .arg("PX")
                .arg(3_600_000)
                .ignore();
        }
        p.exec(con).unwrap();
    }
}

/// What `ops.rs` does on one node: SCAN MATCH COUNT 1000, then one UNLINK of what it found
/// (`cluster`: one UNLINK per key, pipelined, since a node's keys span many slots).
fn scan_unlink(con: &mut redis::Connection, pattern: &str, cluster: bool) -> u64 {
    let mut cursor = 0u64;
    let mut removed = 0u64;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(con)
            .unwrap();
        if !keys.is_empty() {
            if cluster {
                let mut p = redis::pipe();
                for k in &keys {
                    p.cmd("UNLINK").arg(k);
                }
                let counts: Vec<u64> = p.query(con).unwrap();
                removed += counts.iter().sum::<u64>();
            } else {
                removed += redis::cmd("UNLINK").arg(&keys).query::<u64>(con).unwrap();
            }
        }
        if next == 0 {
            return removed;
        }
        cursor = next;
    }
}

fn delete_all_standalone(server: &RedisServer) {
    let client = redis::Client::open(server.url().as_str()).unwrap();
    let mut con = client.get_connection().unwrap();
    println!("\n== delete_all of a cache of {N} keys, standalone ==");
    let t = Instant::now();
    populate(&mut con, "memocache:big:", N);
    populate(&mut con, "memocache:other:", 100_000);
    println!(
        "populate {N} + 100000 keys: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let removed = scan_unlink(&mut con, "memocache:big:*", false);
    let took = t.elapsed();
    assert_eq!(removed, N as u64);
    println!(
        "SCAN + UNLINK: {removed} keys in {:.2} s ({:.0} keys/s)",
        took.as_secs_f64(),
        N as f64 / took.as_secs_f64()
    );
    let left: u64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(left, 100_000, "the other cache is untouched");

    // The generation alternative: an INCR to invalidate, and on every lookup the generation
    // read with the entry (same node: one script; Cluster: another round trip).
    let t = Instant::now();
    let _: i64 = redis::cmd("INCR")
        .arg("memocache:#gen:big")
        .query(&mut con)
        .unwrap();
    println!("generation INCR: {:.1} µs", t.elapsed().as_secs_f64() * 1e6);
    redis::cmd("SET")
        .arg("memocache:big:1")
        .arg(vec![1u8; 40])
        .exec(&mut con)
        .unwrap();
    let plain = redis::Script::new("return redis.call('GET', KEYS[1])");
    let with_gen =
        redis::Script::new("return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}");
    serial("lookup script, no generation", || {
        drop(
            plain
                .key("memocache:big:1")
                .invoke::<Value>(&mut con)
                .unwrap(),
        );
    });
    serial("lookup script reading the generation (same node)", || {
        drop(
            with_gen
                .key("memocache:big:1")
                .key("memocache:#gen:big")
                .invoke::<Value>(&mut con)
                .unwrap(),
        );
    });
    serial(
        "lookup script + a GET of the generation (Cluster: 2 RTTs)",
        || {
            drop(
                plain
                    .key("memocache:big:1")
                    .invoke::<Value>(&mut con)
                    .unwrap(),
            );
            drop(
                redis::cmd("GET")
                    .arg("memocache:#gen:big")
                    .query::<Value>(&mut con)
                    .unwrap(),
            );
        },
    );
}

fn delete_all_cluster(cluster: &RedisCluster) {
    println!("\n== delete_all of a cache of {N} keys, 3-master Cluster ==");
    let client = redis::cluster::ClusterClient::new(cluster.urls()).unwrap();
    let mut cc = client.get_connection().unwrap();
    let t = Instant::now();
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let mut p = redis::cluster::cluster_pipe();
        for i in chunk {
            p.cmd("SET")
                .arg(format!("memocache:big:{i}"))
                .arg(vec![1u8; 40])
                .arg("PX")
                .arg(3_600_000)
                .ignore();
        }
        p.exec(&mut cc).unwrap();
    }
    println!("populate {N} keys: {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut removed = 0;
    for node in &cluster.nodes {
        let mut con = redis::Client::open(node.url().as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        removed += scan_unlink(&mut con, "memocache:big:*", true);
    }
    let took = t.elapsed();
    assert_eq!(removed, N as u64);
    println!(
        "SCAN + UNLINK over 3 masters, one after another: {removed} keys in {:.2} s ({:.0} keys/s)",
        took.as_secs_f64(),
        N as f64 / took.as_secs_f64()
    );
}

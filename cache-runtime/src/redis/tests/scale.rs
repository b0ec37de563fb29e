//! `delete_all` and `delete_tag` through the real client on a million keys, standalone and on a
//! Cluster: ignored by default (a minute of work), run by hand to measure, with
//! `cargo test -p cache-runtime --features redis --release -- --ignored --nocapture scale`.
//! They check that everything was removed; they print how long it took.

use super::redis_server::{RedisCluster, RedisServer};
use crate::redis::Client;
use crate::redis::client::{IoWait, PoolExec, Transport};
use crate::redis::transport::{Exec, Req, run_ready};
use std::time::{Duration, Instant};

const N: usize = 1_000_000;

/// Writes `n` entries of `cache` (tagged `tag` when given), a thousand per request.
fn populate(c: &Client, cache: &str, n: usize, tag: Option<&str>) {
    let keys = c.keys().cache(cache);
    let tag_key = tag.map(|t| c.keys().tag_key(t));
    for start in (0..n).step_by(1000) {
        let mut cmds = Vec::new();
        let mut members = Vec::new();
        for i in start..(start + 1000).min(n) {
            let k = keys.key(&i).unwrap();
            cmds.push(
                redis::cmd("SET")
                    .arg(&k)
                    .arg(&[1u8; 40][..])
                    .arg("PX")
                    .arg(3_600_000)
                    .clone(),
            );
            members.push(k);
        }
        if let Some(t) = &tag_key {
            cmds.push(redis::cmd("SADD").arg(t).arg(&members).clone());
        }
        let dl = Instant::now() + Duration::from_secs(30);
        let req = Req::Many(cmds);
        let out = match &c.inner.transport {
            Transport::Standalone { pool, io } => run_ready(PoolExec(pool, io).exec(req, dl)),
            Transport::Cluster { io } => run_ready(IoWait(io).exec(req, dl)),
            Transport::Disabled(_) => unreachable!(),
        };
        out.unwrap();
    }
}

fn measure(c: &Client, what: &str) {
    let t = Instant::now();
    populate(c, "scale::all", N, None);
    println!("{what}: populate {N}: {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let removed = c
        .delete_all_blocking(c.keys().cache("scale::all").prefix())
        .unwrap();
    let took = t.elapsed();
    assert_eq!(removed, N as u64);
    println!(
        "{what}: delete_all of {N} keys: {:.2} s ({:.0} keys/s)",
        took.as_secs_f64(),
        N as f64 / took.as_secs_f64()
    );
    populate(c, "scale::tag", N / 10, Some("big"));
    let t = Instant::now();
    let removed = c.delete_tag_blocking("big").unwrap();
    let took = t.elapsed();
    assert_eq!(removed, N as u64 / 10);
    println!(
        "{what}: delete_tag of {} keys: {:.2} s",
        N / 10,
        took.as_secs_f64()
    );
}

#[test]
#[ignore = "a minute of work: a measurement, run by hand"]
fn scale_standalone() {
    let Some(s) = RedisServer::start() else {
        return;
    };
    measure(&super::standalone(&s.url(), 1000), "standalone");
}

#[test]
#[ignore = "a minute of work: a measurement, run by hand"]
fn scale_cluster() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    measure(&super::cluster(&cluster.urls(), 1000), "cluster");
}

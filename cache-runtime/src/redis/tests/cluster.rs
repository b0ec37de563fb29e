//! The suite on one 3-master Cluster (each check with a key prefix of its own), and what only
//! a Cluster shows: a cache's keys spread over all the masters.

use super::redis_server::RedisCluster;
use super::suite::{self, Fx};
use crate::redis::Client;
use crate::redis::Lookup;
use crate::redis::codec::Token;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[test]
fn cluster_suite() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let urls = cluster.urls();
    let servers: Vec<_> = cluster.nodes.iter().collect();
    let each = |check: &dyn Fn(&Fx<'_>)| {
        let c = super::cluster(&urls, 500);
        check(&Fx {
            c: &c,
            servers: servers.clone(),
        });
    };
    each(&suite::lease_fill_found);
    each(&suite::cas_rules);
    each(&suite::garbage_is_overwritten);
    each(&suite::expiry_is_honoured);
    each(&suite::delete_reports_entries);
    each(&|fx| suite::delete_all_is_scoped(fx, 3000));
    each(&|fx| suite::delete_tag_reaches_every_cache(fx, 3000));
    each(&suite::pending_replays);
    each(&spread_over_all_masters);
    each(&slots_agree_with_the_server);
    resharding_is_followed(&cluster);
    let c = super::cluster(&urls, 500);
    futures::executor::block_on(suite::async_forms(&c));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(suite::async_forms(&c));
}

fn spread_over_all_masters(fx: &Fx<'_>) {
    let c: &Client = fx.c;
    let cache = c.keys().cache("spread");
    for i in 0..300u32 {
        super::seed_blocking(c, &cache.key(&i).unwrap(), &suite::value("v"), 60_000, &[]).unwrap();
    }
    let pattern = format!("{}*", suite::text(cache.prefix()));
    let per_node: Vec<usize> = fx
        .servers
        .iter()
        .map(|s| s.cli(&["--scan", "--pattern", &pattern]).lines().count())
        .collect();
    assert_eq!(per_node.iter().sum::<usize>(), 300);
    assert!(
        per_node.iter().all(|&n| n > 50),
        "one function's keys on every master: {per_node:?}"
    );
}

/// The slot function that groups keys by master agrees with the server's.
fn slots_agree_with_the_server(fx: &Fx<'_>) {
    let ks = fx.c.keys();
    let mut keys: Vec<Vec<u8>> = (0..50u32)
        .map(|i| ks.cache("slots").key(&(i, "x")).unwrap())
        .collect();
    keys.push(ks.tag_key("user:7"));
    keys.push(ks.tag_aside_key("user:7"));
    keys.push(ks.cache("{odd}").key("{also}").unwrap());
    for k in &keys {
        let server: u16 = fx
            .cli(&["CLUSTER", "KEYSLOT", suite::text(k)])
            .parse()
            .unwrap();
        assert_eq!(crate::redis::slots::slot(k), server, "{}", suite::text(k));
    }
    assert_eq!(
        crate::redis::slots::slot(&keys[50]),
        crate::redis::slots::slot(&keys[51])
    );
}

/// Slots move from one master to another while calls run (`redis-cli --cluster reshard`
/// migrates their keys): the client follows `MOVED` and `ASK`, every call succeeds, every
/// value reads back.
fn resharding_is_followed(cluster: &RedisCluster) {
    let c = super::cluster(&cluster.urls(), 2000);
    let cache = c.keys().cache("reshard");
    let keys: Vec<Vec<u8>> = (0..300u32).map(|i| cache.key(&i).unwrap()).collect();
    let v = suite::value("v");
    for k in &keys {
        super::seed_blocking(&c, k, &v, 600_000, &[]).unwrap();
    }
    let pattern = format!("{}*", suite::text(cache.prefix()));
    let on = |i: usize| {
        cluster.nodes[i]
            .cli(&["--scan", "--pattern", &pattern])
            .lines()
            .count()
    };
    let before = (on(0), on(1));
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let worker = {
        let (c, keys, v, stop, calls) = (
            c.clone(),
            keys.clone(),
            v.clone(),
            stop.clone(),
            calls.clone(),
        );
        std::thread::spawn(move || {
            let codec = suite::codec();
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for k in &keys {
                    match c.lookup_blocking(k, &Token::new(), 5000, &[], &codec) {
                        Ok(Lookup::Found { bytes, .. }) => assert_eq!(bytes, v),
                        other => failures.push(format!("{other:?}")),
                    }
                    if let Err(e) =
                        futures::executor::block_on(super::seed(&c, k, &v, 600_000, &[]))
                    {
                        failures.push(e.to_string());
                    }
                    calls.fetch_add(2, Ordering::Relaxed);
                }
            }
            failures
        })
    };
    let id = |i: usize| cluster.nodes[i].cli(&["CLUSTER", "MYID"]);
    let from = format!("127.0.0.1:{}", cluster.nodes[0].port());
    let out = std::process::Command::new("redis-cli")
        .args([
            "--cluster",
            "reshard",
            &from,
            "--cluster-from",
            &id(0),
            "--cluster-to",
            &id(1),
        ])
        .args(["--cluster-slots", "1000", "--cluster-yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    cluster.wait_ok();
    stop.store(true, Ordering::Relaxed);
    let after = (on(0), on(1));
    assert!(
        after.0 < before.0 && after.1 > before.1,
        "keys moved: {before:?} -> {after:?}"
    );
    let failures = worker.join().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(
        calls.load(Ordering::Relaxed) > 300,
        "the calls ran during the resharding"
    );
    let codec = suite::codec();
    for k in &keys {
        assert!(matches!(
            c.lookup_blocking(k, &Token::new(), 5000, &[], &codec)
                .unwrap(),
            Lookup::Found { .. }
        ));
    }
}

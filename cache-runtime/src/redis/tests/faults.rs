//! Faults of a real server: paused (`SIGSTOP`), killed and restarted, a port where nothing
//! listens. Each test has its own server; bounds are generous (a loaded CI machine), and the
//! speeds themselves are measured in the benchmark, not here.

use super::redis_server::RedisServer;
use super::{log_count, suite};
use crate::redis::codec::Token;
use crate::redis::{Client, Config, ErrorKind, init};
use std::time::{Duration, Instant};
use tracing::Level;

const OP: Duration = Duration::from_millis(100);
/// Slack over a deadline for a loaded 2-core machine; a call that blocked for a socket's
/// default (forever) or a reconnection backoff (seconds) would still fail it.
const SLACK: Duration = Duration::from_millis(900);

fn server_name(s: &RedisServer) -> String {
    format!("127.0.0.1:{}", s.port())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: not within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Both paths connected, scripts loaded (the first calls may take longer than a short
/// deadline on a loaded machine: a connection, `NOSCRIPT` then `EVAL`).
fn warm_up(c: &Client, key: &[u8]) {
    until("sync calls work", || {
        super::seed_blocking(c, key, &suite::value("v"), 60_000, &[]).is_ok()
    });
    until("async calls work", || {
        futures::executor::block_on(super::seed(c, key, &suite::value("v"), 60_000, &[])).is_ok()
    });
    until("lookups work", || {
        let t = Token::new();
        c.lookup_blocking(key, &t, 5000, &[], &suite::codec())
            .is_ok()
            && futures::executor::block_on(c.lookup(key, &t, 5000, &[], &suite::codec())).is_ok()
    });
}

/// A paused server accepts connections and answers nothing: each call costs the deadline,
/// then the breaker skips Redis at once; resumed, a background PING closes the breaker.
/// One warning, one info line, for the whole incident.
#[test]
fn a_paused_server_costs_the_deadline_then_is_skipped() {
    let Some(mut s) = RedisServer::start() else {
        return;
    };
    super::capture();
    let c = super::standalone(&s.url(), OP.as_millis() as u64);
    let key = c.keys().cache("paused").key(&1u8).unwrap();
    let codec = suite::codec();
    warm_up(&c, &key);
    let name = server_name(&s);

    s.pause();
    for i in 0..3 {
        let (r, took) = timed(|| c.lookup_blocking(&key, &Token::new(), 5000, &[], &codec));
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout, "call {i}");
        assert!(
            took >= OP - Duration::from_millis(10) && took < OP + SLACK,
            "call {i}: {took:?}"
        );
    }
    assert!(c.is_skipping());
    let (r, took) = timed(|| c.lookup_blocking(&key, &Token::new(), 5000, &[], &codec));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Unavailable);
    assert!(
        took < Duration::from_millis(20),
        "skipping costs nothing: {took:?}"
    );
    let (r, took) = timed(|| futures::executor::block_on(c.delete(&key)));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Unavailable);
    assert!(took < Duration::from_millis(20), "{took:?}");
    // Still paused a while later: the probe keeps failing, quietly.
    std::thread::sleep(Duration::from_millis(300));
    assert!(c.is_skipping());
    assert_eq!(log_count(Level::WARN, &name), 1, "one warning per incident");
    assert_eq!(log_count(Level::INFO, &name), 0);

    s.resume();
    until("the breaker closes", || !c.is_skipping());
    c.lookup_blocking(&key, &Token::new(), 5000, &[], &codec)
        .unwrap();
    futures::executor::block_on(c.ping()).unwrap();
    assert_eq!(log_count(Level::WARN, &name), 1);
    assert_eq!(log_count(Level::INFO, &name), 1, "one line when it ends");
}

/// The async path on a paused server: the I/O thread bounds each call by the deadline.
#[test]
fn a_paused_server_bounds_async_calls() {
    let Some(mut s) = RedisServer::start() else {
        return;
    };
    let c = super::standalone(&s.url(), OP.as_millis() as u64);
    let key = c.keys().cache("paused_async").key(&1u8).unwrap();
    warm_up(&c, &key);
    s.pause();
    for i in 0..3 {
        let (r, took) =
            timed(|| smol::block_on(c.lookup(&key, &Token::new(), 5000, &[], &suite::codec())));
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout, "call {i}");
        assert!(
            took >= OP - Duration::from_millis(10) && took < OP + SLACK,
            "call {i}: {took:?}"
        );
    }
    assert!(c.is_skipping());
    s.resume();
    until("the breaker closes", || !c.is_skipping());
    futures::executor::block_on(c.delete(&key)).unwrap();
}

/// A paused Cluster master: calls for its keys cost the deadline, sync and async, while the
/// other masters keep answering. (The breaker is per client and counts consecutive failures:
/// with two masters of three answering it mostly stays closed.)
#[test]
fn a_paused_cluster_master_bounds_calls() {
    let Some(mut cluster) = super::redis_server::RedisCluster::start() else {
        return;
    };
    let c = super::cluster(&cluster.urls(), OP.as_millis() as u64);
    let cache = c.keys().cache("paused_cluster");
    let keys: Vec<Vec<u8>> = (0..40u32).map(|i| cache.key(&i).unwrap()).collect();
    warm_up(&c, &keys[0]);
    for k in &keys {
        until("the keys are written", || {
            super::seed_blocking(&c, k, &suite::value("v"), 60_000, &[]).is_ok()
        });
    }
    // Which keys the first master holds (a plain EXISTS elsewhere answers MOVED).
    let on_first: Vec<bool> = keys
        .iter()
        .map(|k| cluster.nodes[0].cli(&["EXISTS", suite::text(k)]) == "1")
        .collect();
    assert!(on_first.iter().any(|&x| x) && on_first.iter().any(|&x| !x));
    cluster.nodes[0].pause();
    let (mut timeouts, mut answered) = (0, 0);
    for (i, k) in keys.iter().enumerate() {
        let sync = i % 2 == 0;
        let (r, took) = timed(|| {
            if sync {
                c.delete_blocking(k)
            } else {
                futures::executor::block_on(c.delete(k))
            }
        });
        assert!(took < OP + SLACK, "key {i}: {took:?}");
        match r {
            Ok(removed) => {
                assert!(!on_first[i], "key {i} is on the paused master");
                assert!(removed);
                answered += 1;
            }
            Err(e) if e.kind() == ErrorKind::Timeout => {
                assert!(on_first[i], "key {i} timed out on a master that answers");
                timeouts += 1;
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Unavailable, "key {i}"),
        }
    }
    assert!(
        timeouts > 0 && answered > 0,
        "{timeouts} timeouts, {answered} answered"
    );
    cluster.nodes[0].resume();
    until("the paused master's keys answer again", || {
        keys.iter()
            .zip(&on_first)
            .filter(|(_, f)| **f)
            .all(|(k, _)| c.delete_blocking(k).is_ok())
    });
}

/// Killed, then restarted on the same port: the calls in between fail fast, the breaker opens,
/// and the client is back (sync and async) once the server is, with nothing to do by hand.
#[test]
fn a_killed_server_is_reconnected_after_restart() {
    let Some(mut s) = RedisServer::start() else {
        return;
    };
    super::capture();
    let c = super::standalone(&s.url(), OP.as_millis() as u64);
    let key = c.keys().cache("killed").key(&1u8).unwrap();
    warm_up(&c, &key);
    let name = server_name(&s);

    s.kill();
    for _ in 0..3 {
        let (r, took) = timed(|| c.delete_blocking(&key));
        assert!(r.is_err());
        assert!(took < OP + SLACK, "{took:?}");
    }
    assert!(c.is_skipping());
    s.restart();
    until("the breaker closes", || !c.is_skipping());
    until("sync calls work", || {
        super::seed_blocking(&c, &key, &suite::value("v"), 60_000, &[]).is_ok()
    });
    until("async calls work", || {
        futures::executor::block_on(c.delete(&key)).is_ok()
    });
    assert_eq!(log_count(Level::WARN, &name), 1);
    until("the info line", || log_count(Level::INFO, &name) == 1);
}

/// A restart between two calls costs the next sync call nothing: its pooled connection is
/// found dead and the call is retried once on a fresh one.
#[test]
fn a_restart_between_calls_is_invisible_to_sync_calls() {
    let Some(mut s) = RedisServer::start() else {
        return;
    };
    let c = super::standalone(&s.url(), 500);
    let key = c.keys().cache("restart").key(&1u8).unwrap();
    super::seed_blocking(&c, &key, &suite::value("v"), 60_000, &[]).unwrap();
    s.restart();
    assert!(
        !c.delete_blocking(&key).unwrap(),
        "the restart emptied the server"
    );
    assert_eq!(c.errors(), 0);
}

/// Nothing listens on the port: refused at once, well within the deadline.
#[test]
fn a_refused_connection_fails_fast() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = super::standalone(&format!("redis://127.0.0.1:{port}/"), 1000);
    let (r, took) = timed(|| c.ping_blocking());
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Connection);
    assert!(took < Duration::from_millis(500), "{took:?}");
    let (r, took) = timed(|| futures::executor::block_on(c.ping()));
    assert!(r.is_err());
    assert!(took < Duration::from_millis(1000) + SLACK, "{took:?}");
    assert!(c.errors() >= 2);
}

/// `init` sets the process's client once; the global client is that one.
#[test]
fn init_once() {
    let Some(s) = RedisServer::start() else {
        return;
    };
    let config = Config::from_url(&s.url())
        .unwrap()
        .key_prefix(super::unique_prefix());
    init(config.clone()).unwrap();
    assert_eq!(
        init(config).unwrap_err().kind(),
        ErrorKind::AlreadyInitialized
    );
    let g: &Client = crate::redis::global();
    g.ping_blocking().unwrap();
    assert_eq!(g.keys().root(), crate::redis::global().keys().root());
}

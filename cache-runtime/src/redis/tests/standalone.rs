//! The suite on standalone servers, one server per test (cargo runs them in parallel), and
//! what only a standalone server shows: concurrency on one key, sync calls inside a tokio
//! runtime, the async forms on every executor.

use super::redis_server::RedisServer;
use super::suite::{self, Fx};
use crate::redis::codec::Token;
use crate::redis::{Client, Lookup};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A server and a client for it, or return (after the skip line) where there is none.
macro_rules! server {
    ($server:ident, $client:ident) => {
        let Some($server) = RedisServer::start() else {
            return;
        };
        let $client = super::standalone(&$server.url(), 500);
    };
}

fn fx<'a>(c: &'a Client, s: &'a RedisServer) -> Fx<'a> {
    Fx {
        c,
        servers: vec![s],
    }
}

#[test]
fn lease_fill_found() {
    server!(s, c);
    suite::lease_fill_found(&fx(&c, &s));
}

#[test]
fn cas_rules() {
    server!(s, c);
    suite::cas_rules(&fx(&c, &s));
}

#[test]
fn garbage_is_overwritten() {
    server!(s, c);
    suite::garbage_is_overwritten(&fx(&c, &s));
}

#[test]
fn expiry_is_honoured() {
    server!(s, c);
    suite::expiry_is_honoured(&fx(&c, &s));
}

#[test]
fn delete_reports_entries() {
    server!(s, c);
    suite::delete_reports_entries(&fx(&c, &s));
}

#[test]
fn delete_all_is_scoped() {
    server!(s, c);
    suite::delete_all_is_scoped(&fx(&c, &s), 2500);
}

#[test]
fn delete_tag_reaches_every_cache() {
    server!(s, c);
    suite::delete_tag_reaches_every_cache(&fx(&c, &s), 2500);
}

#[test]
fn pending_replays() {
    server!(s, c);
    suite::pending_replays(&fx(&c, &s));
}

#[test]
fn async_forms_on_every_executor() {
    server!(s, c);
    fn is_send<T: Send>(t: T) -> T {
        t
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(is_send(suite::async_forms(&c)));
    drop(rt);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let c2 = c.clone();
    rt.block_on(async move {
        tokio::spawn(async move { suite::async_forms(&c2).await })
            .await
            .unwrap()
    });
    drop(rt);
    smol::block_on(suite::async_forms(&c));
    futures::executor::block_on(suite::async_forms(&c));
}

#[test]
fn sync_calls_inside_a_tokio_runtime() {
    server!(s, c);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A sync cached function called from async code: no block_on, no panic.
        let key = c.keys().cache("inside").key(&1u8).unwrap();
        super::seed_blocking(&c, &key, &suite::value("v"), 60_000, &[]).unwrap();
        assert!(c.delete_blocking(&key).unwrap());
    });
}

/// Many threads look up one cold key at once: exactly one takes the lease; once it fills,
/// everyone reads the value.
#[test]
fn one_lease_among_concurrent_lookups() {
    server!(s, c);
    let codec = suite::codec();
    for round in 0..20u32 {
        let key = c.keys().cache("race").key(&round).unwrap();
        let leased = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(12));
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let (c, key, codec) = (c.clone(), key.clone(), codec.clone());
                let (leased, busy, barrier) = (leased.clone(), busy.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let t = Token::new();
                    barrier.wait();
                    match c.lookup_blocking(&key, &t, 5000, &[], &codec).unwrap() {
                        Lookup::Leased => {
                            leased.fetch_add(1, Ordering::SeqCst);
                            assert!(
                                c.fill_blocking(
                                    &key,
                                    &t,
                                    &suite::value("won"),
                                    60_000,
                                    &[],
                                    suite::NOTIFY
                                )
                                .unwrap()
                            );
                        }
                        Lookup::Busy { .. } => drop(busy.fetch_add(1, Ordering::SeqCst)),
                        Lookup::Found { .. } => {}
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(leased.load(Ordering::SeqCst), 1, "round {round}");
        let t = Token::new();
        assert!(matches!(
            c.lookup_blocking(&key, &t, 5000, &[], &codec).unwrap(),
            Lookup::Found { .. }
        ));
    }
}

/// A configuration that cannot be used fails every call at once, never panics.
#[test]
fn a_disabled_client_fails_fast() {
    let e = crate::redis::Error::config("bad URL");
    let c = Client::disabled(e);
    let key = b"k".to_vec();
    assert_eq!(
        c.delete_blocking(&key).unwrap_err().kind(),
        crate::redis::ErrorKind::Config
    );
    let err = futures::executor::block_on(c.delete(&key)).unwrap_err();
    assert_eq!(err.kind(), crate::redis::ErrorKind::Config);
    c.release_detached(&key, &Token::new());
}

/// With every pooled connection busy, sync calls go through the multiplexed connection
/// instead of waiting: all succeed, and the I/O thread did serve some.
#[test]
fn a_busy_pool_overflows_to_the_multiplexed_connection() {
    let Some(s) = RedisServer::start() else {
        return;
    };
    let config = crate::redis::Config::from_url(&s.url())
        .unwrap()
        .pool_size(1)
        .operation_timeout(std::time::Duration::from_millis(500))
        .key_prefix(super::unique_prefix());
    let c = Client::new(config).unwrap();
    let threads: Vec<_> = (0..16u32)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..50u32 {
                    let key = c.keys().cache("overflow").key(&(t, i)).unwrap();
                    super::seed_blocking(&c, &key, &suite::value("v"), 60_000, &[]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let fx = fx(&c, &s);
    assert_eq!(fx.count(c.keys().cache("overflow").prefix()), 16 * 50);
    match &c.inner.transport {
        crate::redis::client::Transport::Standalone { io, .. } => assert!(io.started()),
        _ => unreachable!(),
    }
}

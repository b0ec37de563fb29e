//! `async fn` under `#[cached]`: on tokio (multi-thread and current-thread), smol and
//! `futures::executor::block_on`; single-flight without blocking a thread; a leader that is
//! cancelled or panics; recursion; `Send` futures.

use memocache::cached;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// How long a test waits for something that must happen before it calls it a failure (a
/// guard against hanging, not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

static FETCHES: AtomicU32 = AtomicU32::new(0);
static UPSTREAM: Semaphore = Semaphore::const_new(0);

/// A slow upstream that answers only once the test lets it.
#[cached]
async fn fetch(id: u64) -> u64 {
    FETCHES.fetch_add(1, Ordering::SeqCst);
    UPSTREAM.acquire().await.unwrap().forget();
    id * 10
}

#[test]
fn concurrent_tasks_on_one_key_await_one_run_on_tokio_multi_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..32).map(|_| tokio::spawn(fetch(4))).collect();
        // Two worker threads carry 32 waiting tasks: none of them blocks its thread.
        while FETCHES.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        UPSTREAM.add_permits(1);
        for t in tasks {
            assert_eq!(
                tokio::time::timeout(PATIENCE, t).await.unwrap().unwrap(),
                40
            );
        }
    });
    assert_eq!(FETCHES.load(Ordering::SeqCst), 1);
    let s = fetch_cache().stats();
    assert_eq!((s.misses, s.hits), (1, 31));
}

static LOCAL_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(ttl = "1m")]
async fn local(id: u64) -> String {
    LOCAL_RUNS.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    format!("local {id}")
}

#[test]
fn works_on_tokio_current_thread_and_the_helpers_are_async() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let all = futures::future::join_all((0..16).map(|_| local(1))).await;
        assert!(all.iter().all(|s| s == "local 1"));
        assert_eq!(LOCAL_RUNS.load(Ordering::SeqCst), 1);
        assert!(invalidate_local(1).await);
        assert!(!invalidate_local(1).await);
        assert_eq!(refresh_local(1).await, "local 1");
        assert_eq!(LOCAL_RUNS.load(Ordering::SeqCst), 2);
        local(2).await;
        invalidate_all_local().await;
        assert!(local_cache().is_empty());
    });
}

/// Returns `Pending` once (after asking to be polled again), on any executor.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

static BLOCK_ON_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached]
async fn on_block_on(name: &str) -> Result<usize, String> {
    BLOCK_ON_RUNS.fetch_add(1, Ordering::SeqCst);
    yield_once().await; // so that the other callers find the run in progress
    if name.is_empty() {
        Err("empty".to_string())
    } else {
        Ok(name.len())
    }
}

#[test]
fn works_on_futures_block_on() {
    futures::executor::block_on(async {
        let all = futures::future::join_all((0..10).map(|_| on_block_on("abc"))).await;
        assert!(all.iter().all(|r| *r == Ok(3)));
        assert_eq!(BLOCK_ON_RUNS.load(Ordering::SeqCst), 1);
        assert!(on_block_on("").await.is_err());
        assert!(on_block_on("").await.is_err());
        assert_eq!(BLOCK_ON_RUNS.load(Ordering::SeqCst), 3, "Err is not stored");
    });
}

static SMOL_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached(capacity = 2)]
async fn on_smol(n: u32) -> u32 {
    SMOL_RUNS.fetch_add(1, Ordering::SeqCst);
    smol::Timer::after(Duration::from_millis(5)).await;
    n + 1
}

#[test]
fn works_on_smol() {
    smol::block_on(async {
        let tasks: Vec<_> = (0..8).map(|_| smol::spawn(on_smol(1))).collect();
        for t in tasks {
            assert_eq!(t.await, 2);
        }
        assert_eq!(SMOL_RUNS.load(Ordering::SeqCst), 1);
        on_smol(2).await;
        on_smol(3).await; // evicts 1
        on_smol(1).await;
        assert_eq!(SMOL_RUNS.load(Ordering::SeqCst), 4);
    });
}

static CANCEL_RUNS: AtomicU32 = AtomicU32::new(0);
static FIRST_RUN_STARTED: Notify = Notify::const_new();

#[cached]
async fn cancellable(n: u32) -> u32 {
    if CANCEL_RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
        FIRST_RUN_STARTED.notify_one();
        std::future::pending::<()>().await; // the first run never ends by itself
    }
    n * 2
}

#[test]
fn a_cancelled_leader_hands_the_run_to_a_waiter() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let leader = tokio::spawn(cancellable(5));
        FIRST_RUN_STARTED.notified().await;
        let waiters: Vec<_> = (0..8).map(|_| tokio::spawn(cancellable(5))).collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        leader.abort(); // drops the leader's future in the middle of its body
        assert!(leader.await.unwrap_err().is_cancelled());
        for w in waiters {
            assert_eq!(
                tokio::time::timeout(PATIENCE, w).await.unwrap().unwrap(),
                10
            );
        }
    });
    assert_eq!(
        CANCEL_RUNS.load(Ordering::SeqCst),
        2,
        "one waiter ran the body"
    );
    assert_eq!(cancellable_cache().len(), 1);
}

static PANIC_RUNS: AtomicU32 = AtomicU32::new(0);
static PANIC_GATE: Semaphore = Semaphore::const_new(0);

#[cached]
async fn panicky(n: u32) -> u32 {
    if PANIC_RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
        PANIC_GATE.acquire().await.unwrap().forget();
        panic!("the first run fails");
    }
    n + 100
}

#[test]
fn a_panicking_leader_wakes_the_waiters_and_one_runs_the_body() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let leader = tokio::spawn(panicky(1));
        while PANIC_RUNS.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let waiters: Vec<_> = (0..8).map(|_| tokio::spawn(panicky(1))).collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        PANIC_GATE.add_permits(1);
        assert!(leader.await.unwrap_err().is_panic());
        for w in waiters {
            assert_eq!(
                tokio::time::timeout(PATIENCE, w).await.unwrap().unwrap(),
                101
            );
        }
        assert_eq!(panicky(1).await, 101);
    });
    assert_eq!(PANIC_RUNS.load(Ordering::SeqCst), 2);
}

#[cached(unbounded)]
async fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        Box::pin(fib(n - 1)).await + Box::pin(fib(n - 2)).await
    }
}

#[test]
fn recursion_through_async_cached_functions_works() {
    assert_eq!(futures::executor::block_on(fib(80)), 23_416_728_348_467_685);
    assert_eq!(fib_cache().stats().misses, 81);
}

struct Client {
    base: String,
}

impl Client {
    #[cached(ttl = "10m")]
    async fn get(&self, path: &str) -> Result<String, std::io::Error> {
        tokio::task::yield_now().await;
        let url = format!("{}/{path}", self.base);
        if path.contains(' ') {
            return Err(std::io::Error::other("bad path"));
        }
        Ok(url)
    }
}

#[test]
fn async_methods_work_and_question_mark_keeps_its_meaning() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = Client {
            base: "https://api".into(),
        };
        assert_eq!(c.get("a").await.unwrap(), "https://api/a");
        assert!(c.get("a b").await.is_err());
        assert!(Client::invalidate_get("a").await);
    });
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[cached]
async fn sendable(id: u64) -> String {
    tokio::task::yield_now().await;
    format!("sendable {id}")
}

#[test]
fn the_returned_futures_are_send_when_the_bodies_are() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(assert_send(sendable(9)).await, "sendable 9");
        assert!(!assert_send(invalidate_sendable(10)).await);
        assert_send(refresh_sendable(9)).await;
        assert_send(invalidate_all_sendable()).await;
        let c = Arc::new(Client { base: "b".into() });
        assert_send(c.get("x")).await.unwrap();
    });
}

#[cached]
async fn label(id: u64) -> &'static str {
    tokio::task::yield_now().await;
    if id == 0 { "zero" } else { "many" }
}

#[cached]
async fn first_byte(id: u64) -> Result<Option<&'static [u8]>, String> {
    tokio::task::yield_now().await;
    Ok((id > 0).then_some(b"x".as_slice()))
}

/// Return types that borrow `'static` data: the future is still `Send`, so it can be spawned.
#[test]
fn futures_returning_static_borrows_are_send_and_can_be_spawned() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(tokio::spawn(label(0)).await.unwrap(), "zero");
        assert_eq!(tokio::spawn(label(0)).await.unwrap(), "zero");
        assert_eq!(tokio::spawn(refresh_label(1)).await.unwrap(), "many");
        assert_eq!(
            tokio::spawn(first_byte(3)).await.unwrap(),
            Ok(Some(b"x".as_slice()))
        );
    });
    assert_eq!(label_cache().stats().hits, 1);
}

//! Concurrency: single-flight, parallel keys, panics in the body, recursion.

use memocache::cached;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::Duration;

/// How long a test waits for something that must happen before it calls it a failure (a
/// guard against hanging, not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

static COLD_RUNS: AtomicU32 = AtomicU32::new(0);
static RELEASE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[cached]
fn cold(key: u32) -> u64 {
    COLD_RUNS.fetch_add(1, Ordering::SeqCst);
    if let Some(rx) = RELEASE.lock().unwrap().take() {
        rx.recv_timeout(PATIENCE).unwrap();
    }
    u64::from(key) * 3
}

#[test]
fn concurrent_misses_on_one_key_run_the_body_once() {
    let (release, rx) = mpsc::channel();
    *RELEASE.lock().unwrap() = Some(rx);
    let (called_tx, called_rx) = mpsc::channel();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let called = called_tx.clone();
            thread::spawn(move || {
                called.send(()).unwrap();
                cold(7)
            })
        })
        .collect();
    for _ in 0..16 {
        called_rx.recv_timeout(PATIENCE).unwrap();
    }
    // Give the callers a moment to reach the wait; they must all be served by one run.
    thread::sleep(Duration::from_millis(100));
    release.send(()).unwrap();
    for t in threads {
        assert_eq!(t.join().unwrap(), 21);
    }
    assert_eq!(COLD_RUNS.load(Ordering::SeqCst), 1);
    let s = cold_cache().stats();
    assert_eq!((s.misses, s.hits), (1, 15), "each call counted once");
}

static TOGETHER: Barrier = Barrier::new(2);

#[cached(single_flight = false)]
fn unshared(key: u32) -> u32 {
    // Both callers are inside the body at once, or this never returns.
    TOGETHER.wait();
    key
}

#[test]
fn single_flight_false_lets_each_caller_run_the_body() {
    let (done_tx, done_rx) = mpsc::channel();
    for _ in 0..2 {
        let done = done_tx.clone();
        thread::spawn(move || done.send(unshared(1)).unwrap());
    }
    for _ in 0..2 {
        assert_eq!(done_rx.recv_timeout(PATIENCE), Ok(1));
    }
    assert_eq!(unshared_cache().stats().misses, 2);
}

static PAIR: Barrier = Barrier::new(2);

#[cached]
fn parallel(key: u32) -> u32 {
    PAIR.wait();
    key
}

#[test]
fn bodies_for_different_keys_run_in_parallel() {
    // Each body waits for the other to start: a lock held around the body would hang here.
    let (done_tx, done_rx) = mpsc::channel();
    for key in [1, 2] {
        let done = done_tx.clone();
        thread::spawn(move || done.send(parallel(key)).unwrap());
    }
    let mut got = [
        done_rx.recv_timeout(PATIENCE).unwrap(),
        done_rx.recv_timeout(PATIENCE).unwrap(),
    ];
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
}

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);
static FLAKY_GATE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[cached]
fn flaky(key: u32) -> u32 {
    let run = FLAKY_RUNS.fetch_add(1, Ordering::SeqCst);
    if run == 0 {
        let gate = FLAKY_GATE.lock().unwrap().take().unwrap();
        gate.recv_timeout(PATIENCE).unwrap();
        panic!("the first run fails");
    }
    key + 1
}

#[test]
fn a_panicking_body_stores_nothing_and_a_waiter_takes_over() {
    let (release, gate) = mpsc::channel();
    *FLAKY_GATE.lock().unwrap() = Some(gate);
    let leader = thread::spawn(|| flaky(1));
    while FLAKY_RUNS.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    let (called_tx, called_rx) = mpsc::channel();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let called = called_tx.clone();
            thread::spawn(move || {
                called.send(()).unwrap();
                flaky(1)
            })
        })
        .collect();
    for _ in 0..8 {
        called_rx.recv_timeout(PATIENCE).unwrap();
    }
    thread::sleep(Duration::from_millis(50));
    release.send(()).unwrap();
    assert!(leader.join().is_err(), "the panic reaches the caller");
    for w in waiters {
        assert_eq!(
            w.join().unwrap(),
            2,
            "no waiter hangs; they get the next run's value"
        );
    }
    assert_eq!(
        FLAKY_RUNS.load(Ordering::SeqCst),
        2,
        "one waiter ran the body"
    );
    assert_eq!(flaky(1), 2, "the cache is still usable");
    assert_eq!(flaky_cache().len(), 1);
}

#[cached(unbounded)]
fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

#[test]
fn recursion_on_other_keys_does_not_deadlock() {
    assert_eq!(fib(90), 2_880_067_194_370_816_120);
    assert_eq!(fib_cache().stats().misses, 91);
}

static DEPTH: AtomicU32 = AtomicU32::new(0);

#[cached]
fn same_key_recursion(n: u32) -> u32 {
    if DEPTH.fetch_add(1, Ordering::SeqCst) < 3 {
        same_key_recursion(n) + 1
    } else {
        n
    }
}

#[test]
fn recursion_on_the_same_key_runs_uncached_instead_of_waiting_for_itself() {
    assert_eq!(same_key_recursion(10), 13);
    assert_eq!(
        same_key_recursion(10),
        13,
        "the outermost result was stored"
    );
}

fn expected(k: u64) -> u64 {
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

static MIXES: AtomicU64 = AtomicU64::new(0);

#[cached(capacity = 64)]
fn mix(k: u64) -> u64 {
    MIXES.fetch_add(1, Ordering::Relaxed);
    expected(k)
}

#[test]
fn many_threads_many_keys_always_get_the_right_value() {
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8_u64)
        .map(|t| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                let mut x = t + 1;
                for _ in 0..20_000 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = x % 200;
                    assert_eq!(mix(k), expected(k));
                    if x % 97 == 0 {
                        invalidate_mix(k);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = mix_cache().stats();
    assert_eq!(s.hits + s.misses, 8 * 20_000);
    assert_eq!(s.misses, MIXES.load(Ordering::Relaxed));
    assert!(mix_cache().len() <= 64);
}

/// A burst of callers against a failing upstream, with the leader held in its body until
/// every caller has arrived: `run` counts the body's runs, `gate` is opened by the test.
fn failing_burst<R: Send + 'static>(
    runs: &'static AtomicU32,
    gate: &'static Mutex<Option<mpsc::Receiver<()>>>,
    call: fn() -> R,
) -> Vec<R> {
    let (release, rx) = mpsc::channel();
    *gate.lock().unwrap() = Some(rx);
    let leader = thread::spawn(call);
    while runs.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    let (called_tx, called_rx) = mpsc::channel();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let called = called_tx.clone();
            thread::spawn(move || {
                called.send(()).unwrap();
                call()
            })
        })
        .collect();
    for _ in 0..8 {
        called_rx.recv_timeout(PATIENCE).unwrap();
    }
    thread::sleep(Duration::from_millis(50));
    release.send(()).unwrap();
    std::iter::once(leader)
        .chain(waiters)
        .map(|t| t.join().unwrap())
        .collect()
}

/// The body waits at the gate if the test set one (the first run), then fails.
fn fail_after_gate(runs: &AtomicU32, gate: &Mutex<Option<mpsc::Receiver<()>>>) {
    runs.fetch_add(1, Ordering::SeqCst);
    let rx = gate.lock().unwrap().take();
    if let Some(rx) = rx {
        rx.recv_timeout(PATIENCE).unwrap();
    }
}

static SHARED_RUNS: AtomicU32 = AtomicU32::new(0);
static SHARED_GATE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[cached]
fn query(id: u32) -> Result<u32, String> {
    fail_after_gate(&SHARED_RUNS, &SHARED_GATE);
    Err(format!("database down (user {id})"))
}

#[test]
fn callers_waiting_for_a_failing_run_share_its_err_when_the_error_is_clone() {
    let got = failing_burst(&SHARED_RUNS, &SHARED_GATE, || query(1));
    assert!(
        got.iter()
            .all(|r| *r == Err("database down (user 1)".to_owned()))
    );
    // Callers that arrived after the leader's flight (a loaded machine) ran it themselves.
    let runs = SHARED_RUNS.load(Ordering::SeqCst);
    assert!(
        runs < 9,
        "{runs} runs: the waiters did not get the leader's Err"
    );
    let s = query_cache().stats();
    assert_eq!((s.misses, s.hits), (u64::from(runs), 9 - u64::from(runs)));
    assert_eq!(query_cache().len(), 0, "an Err is never stored");
}

/// An error type that is not `Clone`: it cannot be handed to more than one caller.
#[derive(Debug, PartialEq)]
struct Unclonable(u32);

static OWN_RUNS: AtomicU32 = AtomicU32::new(0);
static OWN_GATE: Mutex<Option<mpsc::Receiver<()>>> = Mutex::new(None);

#[cached]
fn strict(id: u32) -> Result<u32, Unclonable> {
    fail_after_gate(&OWN_RUNS, &OWN_GATE);
    Err(Unclonable(id))
}

#[test]
fn with_an_error_that_is_not_clone_each_waiter_runs_the_body_itself() {
    let got = failing_burst(&OWN_RUNS, &OWN_GATE, || strict(2));
    assert!(got.iter().all(|r| *r == Err(Unclonable(2))));
    assert_eq!(OWN_RUNS.load(Ordering::SeqCst), 9, "one run per caller");
}

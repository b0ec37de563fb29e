//! Dropping entries: `invalidate_*`, `invalidate_all_*`, `refresh_*`, `clear`, `clear_all`.

use memocache::cached;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// `clear_all` and `invalidate_tag` reach every cache and detach the runs in progress they
/// may cover (which then store nothing): the tests here count runs and entries, so one at a
/// time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

static PROFILES: AtomicU32 = AtomicU32::new(0);

#[cached]
fn profile(user: u32, lang: &str) -> String {
    let v = PROFILES.fetch_add(1, Ordering::SeqCst);
    format!("{user}/{lang} v{v}")
}

#[test]
fn invalidate_removes_the_entry_those_arguments_read() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let first = profile(1, "en");
    profile(2, "en");
    assert!(invalidate_profile(1, "en"), "an entry was there");
    assert!(!invalidate_profile(1, "en"), "and is gone");
    assert!(!invalidate_profile(1, "fr"), "never stored");
    assert_ne!(profile(1, "en"), first, "recomputed");
    assert_eq!(PROFILES.load(Ordering::SeqCst), 3);
    profile(2, "en");
    assert_eq!(PROFILES.load(Ordering::SeqCst), 3, "the other entry stayed");
    assert_eq!(profile_cache().stats().invalidations, 1);
}

#[cached]
fn never_called(n: u32) -> u32 {
    n
}

#[test]
fn helpers_work_before_the_first_call() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    assert!(!invalidate_never_called(1));
    invalidate_all_never_called();
    assert_eq!(never_called_cache().len(), 0);
    assert_eq!(
        never_called_cache().stats(),
        memocache::CacheStats::default()
    );
}

#[cached]
fn page(n: u32) -> u32 {
    n
}

#[test]
fn invalidate_all_drops_every_entry_of_the_function() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for n in 0..10 {
        page(n);
    }
    invalidate_all_page();
    assert!(page_cache().is_empty());
    assert_eq!(page_cache().stats().invalidations, 10);
}

static VERSIONS: AtomicU32 = AtomicU32::new(0);

#[cached]
fn version(doc: u32) -> u32 {
    doc * 1000 + VERSIONS.fetch_add(1, Ordering::SeqCst)
}

#[test]
fn refresh_runs_the_body_and_stores_the_result() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    assert_eq!(version(1), 1000);
    assert_eq!(refresh_version(1), 1001);
    assert_eq!(version(1), 1001, "the refreshed value is served");
    assert_eq!(version_cache().stats().misses, 2);
}

static SLOW: AtomicU32 = AtomicU32::new(0);

#[cached]
fn slow_read(n: u32) -> u32 {
    let (started, release) = GATE.with(|g| g.take()).expect("the test sets the gate");
    started.send(()).unwrap();
    release.recv().unwrap();
    n + SLOW.fetch_add(1, Ordering::SeqCst)
}

type Gate = (mpsc::Sender<()>, mpsc::Receiver<()>);

thread_local! {
    static GATE: std::cell::Cell<Option<Gate>> = const { std::cell::Cell::new(None) };
}

#[test]
fn an_invalidation_during_the_run_keeps_its_old_result_out() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        GATE.with(|g| g.set(Some((started_tx, release_rx))));
        slow_read(7)
    });
    started_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    // The data changes while the body reads it: the caller invalidates.
    assert!(!invalidate_slow_read(7), "nothing stored yet");
    release_tx.send(()).unwrap();
    assert_eq!(
        reader.join().unwrap(),
        7,
        "the caller still gets its answer"
    );
    assert_eq!(
        slow_read_cache().len(),
        0,
        "but it was computed before the invalidation"
    );
}

#[cached]
fn in_a(n: u32) -> u32 {
    n
}

#[cached]
fn in_b(n: u32) -> u32 {
    n
}

#[test]
fn clear_all_empties_every_cache() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    in_a(1);
    in_b(1);
    memocache::clear_all();
    assert!(in_a_cache().is_empty());
    assert!(in_b_cache().is_empty());
}

static PROFILE_DB: AtomicU32 = AtomicU32::new(1);
static PROFILE_READS: AtomicU32 = AtomicU32::new(0);
static GATE_OPEN: std::sync::Mutex<Option<mpsc::Receiver<()>>> = std::sync::Mutex::new(None);

/// Reads the "database"; the first run waits at the gate until the test opens it.
#[cached]
fn profile_name(id: u32) -> String {
    let v = PROFILE_DB.load(Ordering::SeqCst);
    PROFILE_READS.fetch_add(1, Ordering::SeqCst);
    let gate = GATE_OPEN.lock().unwrap().take();
    if let Some(gate) = gate {
        gate.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    format!("user {id} v{v}")
}

/// The story of issue 8: a page request joins a read that began before an edit. Callers that
/// were waiting when the invalidation landed get the old run's value; a caller that starts
/// after it returned starts a run of its own, sees the edit, and its value is the one stored.
#[test]
fn a_call_after_an_invalidation_does_not_join_a_run_that_began_before_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (open, gate) = mpsc::channel();
    *GATE_OPEN.lock().unwrap() = Some(gate);
    let early = std::thread::spawn(|| profile_name(7));
    while PROFILE_READS.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    let joined = std::thread::spawn(|| profile_name(7));
    // Give the second caller a moment to join the run (on a loaded machine it may come
    // only after the invalidation: then it starts a run of its own and sees the edit).
    std::thread::sleep(Duration::from_millis(50));
    PROFILE_DB.store(2, Ordering::SeqCst); // the edit
    assert!(!invalidate_profile_name(7));
    // Started after the invalidation returned, while the old run is still in its body.
    assert_eq!(profile_name(7), "user 7 v2");
    open.send(()).unwrap();
    assert_eq!(early.join().unwrap(), "user 7 v1");
    let joined = joined.join().unwrap();
    assert!(joined == "user 7 v1" || joined == "user 7 v2", "{joined}");
    assert_eq!(profile_name(7), "user 7 v2", "the old run stored nothing");
}

//! The guarantee under concurrency: once an `#[invalidates]` function has returned, no call
//! of a target that starts afterwards gets a value older than that function's write.
//!
//! Writers loop "bump the source value of key k through the `#[invalidates]` function, then
//! publish the version it wrote"; readers loop "read the published version c of k, call the
//! cached function, check that its value is at least c". Single-flight is on (the default),
//! so a reader may join a run of the body that started before the write: that run's value
//! must not reach it. The runs are bounded by a number of reads, and check behaviour, never
//! time.

use memocache::{cached, invalidates};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;

const KEYS: usize = 64;
const WRITERS: usize = 2;
const READERS: usize = 4;
const READS_PER_READER: usize = 20_000;

/// Held by each test of this file: run together, their writers (which write until the
/// readers are done) would take the cores from each other's readers.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The source of truth for each key and the newest version a finished write published.
struct Versions {
    source: [AtomicU64; KEYS],
    published: [AtomicU64; KEYS],
}

impl Versions {
    const fn new() -> Self {
        Versions {
            source: [const { AtomicU64::new(0) }; KEYS],
            published: [const { AtomicU64::new(0) }; KEYS],
        }
    }

    fn write(&self, k: usize) -> u64 {
        self.source[k].fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// A small xorshift: which key each loop touches.
fn keys(seed: u64) -> impl Iterator<Item = usize> {
    let mut x = seed | 1;
    std::iter::from_fn(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        Some((x % KEYS as u64) as usize)
    })
}

/// Runs the readers, `READS_PER_READER` calls each, while the writers write; returns
/// (reads, stale reads). The readers are what is measured, so they set the length of the
/// run: the writers keep writing until the last reader is done.
fn stress(
    versions: &'static Versions,
    write: fn(usize) -> u64,
    read: fn(usize) -> u64,
) -> (usize, usize) {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let done = AtomicBool::new(false);
    let stale = AtomicUsize::new(0);
    let writes = AtomicUsize::new(0);
    thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (done, writes) = (&done, &writes);
                s.spawn(move || {
                    for k in keys(0x5851_f42d + w as u64) {
                        if done.load(Ordering::SeqCst) {
                            break;
                        }
                        let version = write(k);
                        versions.published[k].fetch_max(version, Ordering::SeqCst);
                        writes.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                let stale = &stale;
                s.spawn(move || {
                    for k in keys(0x9e37_79b9 + r as u64).take(READS_PER_READER) {
                        let published = versions.published[k].load(Ordering::SeqCst);
                        if read(k) < published {
                            stale.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for r in readers {
            r.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        for w in writers {
            w.join().unwrap();
        }
    });
    assert!(writes.into_inner() > 0, "the writers ran");
    (READERS * READS_PER_READER, stale.into_inner())
}

static PLAIN: Versions = Versions::new();

/// Plain data in a sharded cache: the per-thread copies are on too.
#[cached(capacity = 4096)]
fn plain(k: usize) -> u64 {
    let v = PLAIN.source[k].load(Ordering::SeqCst);
    // A run paused after reading the source is one that a write can overtake.
    thread::yield_now();
    v
}

#[invalidates(plain(k))]
fn write_plain(k: usize) -> u64 {
    PLAIN.write(k)
}

#[test]
fn no_read_is_older_than_a_returned_write() {
    let (reads, stale) = stress(&PLAIN, write_plain, plain);
    assert_eq!(
        stale, 0,
        "{stale} of {reads} reads older than a write that had returned"
    );
}

static TAGGED: Versions = Versions::new();

/// Heap values in a small cache, dropped by tag.
#[cached(capacity = 128, tags = [format!("stress-key:{k}")])]
fn tagged(k: usize) -> String {
    let v = TAGGED.source[k].load(Ordering::SeqCst);
    thread::yield_now();
    v.to_string()
}

#[invalidates(tag(format!("stress-key:{k}")))]
fn write_tagged(k: usize) -> u64 {
    TAGGED.write(k)
}

#[test]
fn no_read_is_older_than_a_returned_write_by_tag() {
    let read = |k| tagged(k).parse().unwrap();
    let (reads, stale) = stress(&TAGGED, write_tagged, read);
    assert_eq!(
        stale, 0,
        "{stale} of {reads} reads older than a write that had returned"
    );
}

static ASYNC: Versions = Versions::new();

#[cached(capacity = 4096)]
async fn remote(k: usize) -> u64 {
    let v = ASYNC.source[k].load(Ordering::SeqCst);
    tokio::task::yield_now().await;
    v
}

#[invalidates(remote(k))]
async fn write_remote(k: usize) -> u64 {
    ASYNC.write(k)
}

#[test]
fn no_read_is_older_than_a_returned_write_in_async_fns() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let stale = rt.block_on(async {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let done = done.clone();
                tokio::spawn(async move {
                    for k in keys(0x5851_f42d + w as u64) {
                        if done.load(Ordering::SeqCst) {
                            break;
                        }
                        let version = write_remote(k).await;
                        ASYNC.published[k].fetch_max(version, Ordering::SeqCst);
                        // The write completes without waiting: let the readers run too.
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|r| {
                tokio::spawn(async move {
                    let mut stale = 0;
                    for k in keys(0x9e37_79b9 + r as u64).take(READS_PER_READER) {
                        let published = ASYNC.published[k].load(Ordering::SeqCst);
                        if remote(k).await < published {
                            stale += 1;
                        }
                    }
                    stale
                })
            })
            .collect();
        let mut stale = 0;
        for r in readers {
            stale += r.await.unwrap();
        }
        done.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        stale
    });
    let reads = READERS * READS_PER_READER;
    assert_eq!(
        stale, 0,
        "{stale} of {reads} reads older than a write that had returned"
    );
}

//! The cache clock: monotonic nanoseconds since the process's first cache use, plus a
//! per-thread offset that tests move forward instead of sleeping.
//!
//! Reading `Instant::now()` costs more than the rest of a hit (about 30 ns on a VM), so
//! hits read a coarse clock instead: an atomic that a ticker thread sets every
//! millisecond. The ticker only runs while caches with expiry are read: after a second with
//! no reader it stops ticking and marks the coarse clock stale, and the next reader reads the
//! real clock and wakes it. Expiry is therefore exact to within a millisecond or so (plus any
//! delay in scheduling the ticker), far finer than any `ttl` a cache is given.

use std::cell::Cell;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The instant all cache timestamps count from.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

/// The latest time anyone read, in nanoseconds since [`EPOCH`]; it never goes back.
static COARSE: AtomicU64 = AtomicU64::new(0);
/// Whether the ticker keeps [`COARSE`] current.
static TICKING: AtomicBool = AtomicBool::new(false);
/// Set by readers, cleared by the ticker: whether anyone read the clock since the last look.
static READ: AtomicBool = AtomicBool::new(false);
/// The ticker thread, once started.
static TICKER: LazyLock<Option<Thread>> = LazyLock::new(start_ticker);

/// How often the coarse clock moves.
const TICK: Duration = Duration::from_millis(1);
/// Ticks without a reader before the ticker parks.
const IDLE_TICKS: u32 = 1000;

thread_local! {
    /// How far [`crate::testing::advance_clock`] moved this thread's clock.
    static OFFSET: Cell<u64> = const { Cell::new(0) };
}

fn precise() -> u64 {
    u64::try_from(EPOCH.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
}

fn start_ticker() -> Option<Thread> {
    let spawned = thread::Builder::new()
        .name("memocache-clock".into())
        .spawn(|| {
            loop {
                let mut idle = 0;
                COARSE.fetch_max(precise(), Ordering::AcqRel);
                TICKING.store(true, Ordering::Release);
                while idle < IDLE_TICKS {
                    thread::sleep(TICK);
                    COARSE.fetch_max(precise(), Ordering::AcqRel);
                    if READ.swap(false, Ordering::Relaxed) {
                        idle = 0;
                    } else {
                        idle += 1;
                    }
                }
                // Nobody reads: readers fall back to the real clock, and wake us.
                TICKING.store(false, Ordering::Release);
                thread::park();
            }
        });
    spawned.ok().map(|h| h.thread().clone())
}

/// Nanoseconds on the coarse clock (the real clock when the ticker is not running).
#[inline]
fn coarse() -> u64 {
    if !READ.load(Ordering::Relaxed) {
        READ.store(true, Ordering::Relaxed);
    }
    if TICKING.load(Ordering::Acquire) {
        COARSE.load(Ordering::Acquire)
    } else {
        wake()
    }
}

#[cold]
fn wake() -> u64 {
    if let Some(t) = &*TICKER {
        t.unpark();
    }
    let now = precise();
    COARSE.fetch_max(now, Ordering::AcqRel).max(now)
}

/// Nanoseconds on the cache clock, as seen by the calling thread.
#[inline]
pub(crate) fn now() -> u64 {
    coarse().saturating_add(OFFSET.with(Cell::get))
}

/// Moves the calling thread's clock forward by `d`.
pub(crate) fn advance(d: Duration) {
    OFFSET.with(|o| o.set(o.get().saturating_add(nanos(d))));
}

/// The calling thread's offset, so that work it hands to another thread sees the same time.
pub(crate) fn offset() -> u64 {
    OFFSET.with(Cell::get)
}

/// Sets the calling thread's offset (used by threads that act for another thread).
pub(crate) fn set_offset(nanos: u64) {
    OFFSET.with(|o| o.set(nanos));
}

/// A duration as clock nanoseconds, saturating (a `Duration::MAX` ttl never expires).
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_moves_only_this_thread() {
        let before = now();
        advance(Duration::from_secs(3600));
        let after = now();
        assert!(
            after >= before + 3_600_000_000_000,
            "{before} {after} {}",
            offset()
        );
        let other = std::thread::spawn(now).join().unwrap();
        assert!(other < before + 3_600_000_000_000);
    }

    #[test]
    fn the_coarse_clock_follows_the_real_one() {
        let start = now() - offset();
        thread::sleep(Duration::from_millis(30));
        let later = now() - offset();
        // At least 30 ms passed; the coarse clock lags the real one by about a tick.
        assert!(later - start >= 25_000_000, "{} ns", later - start);
        assert!(later <= precise());
    }
}

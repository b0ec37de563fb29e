//! `bypass()`: run cached functions uncached on this thread for a while.

use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    /// How many [`BypassGuard`]s live on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// While the returned guard lives, cached functions called on this thread run their body
/// and neither read nor store (nor count in the stats). Guards nest.
///
/// An `async` cached function checks at its first poll, on the thread polling it.
///
/// ```
/// use memocache::cached;
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// static RUNS: AtomicU32 = AtomicU32::new(0);
///
/// #[cached]
/// fn answer() -> u32 {
///     RUNS.fetch_add(1, Ordering::Relaxed);
///     42
/// }
///
/// answer();
/// {
///     let _fresh = memocache::bypass();
///     answer(); // runs the body again
/// }
/// answer(); // a hit
/// assert_eq!(RUNS.load(Ordering::Relaxed), 2);
/// ```
#[must_use = "the bypass ends when the guard is dropped"]
pub fn bypass() -> BypassGuard {
    DEPTH.with(|d| {
        d.set(d.get() + 1);
        if d.get() == 1 {
            // The threads' copies check for a bypass their own way.
            crate::copies::bypassed(true);
        }
    });
    BypassGuard {
        _thread_bound: PhantomData,
    }
}

/// Ends the bypass of [`bypass()`] when dropped. It belongs to the thread that made it.
#[derive(Debug)]
pub struct BypassGuard {
    _thread_bound: PhantomData<*const ()>,
}

impl Drop for BypassGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| {
            d.set(d.get().saturating_sub(1));
            if d.get() == 0 {
                crate::copies::bypassed(false);
            }
        });
    }
}

/// Whether a bypass is active on this thread.
#[inline]
pub(crate) fn active() -> bool {
    DEPTH.with(Cell::get) > 0
}

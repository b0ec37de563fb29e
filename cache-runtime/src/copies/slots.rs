//! How a thread's copy tables have answered lately: the resting of a table that keeps
//! missing, and the freeing of one that keeps missing or sits idle.

use std::any::Any;
use std::cell::Cell;

/// Wasted probes (that found no current copy, and took no copy after: the key is cold,
/// or its copy out of date) between two looks at how well a thread's copy table answers.
pub(super) const ROUND: u32 = 64;
/// A table that answered fewer probes than this while it wasted [`ROUND`] is left alone for
/// [`REST`] calls: more than a quarter of its probes were wasted.
pub(super) const FEWEST_ANSWERED: u64 = 3 * ROUND as u64;
/// Calls that go straight to the store after a wasteful round. The table takes copies again
/// during the last [`WARM`] of them, so that the next round finds it up to date. Each
/// wasteful round after a wasteful round (with no round that answered well between them)
/// doubles the rest, up to [`MOST_DOUBLINGS`] times: a cache read over far more keys than
/// a table can hold keeps wasting, and would otherwise pay for a new table every few
/// thousand calls (callgrind, the probe's zipf: 533 instructions a call, 501 with no
/// copies at all).
pub(super) const REST: u32 = 8192;
/// See [`REST`]: the longest rest is 2^20 calls.
pub(super) const MOST_DOUBLINGS: u16 = 7;
/// See [`REST`].
pub(super) const WARM: u32 = 256;
/// Calls that go straight to the store after the budget refused a new table: the table is
/// tried again after the first [`WARM`] of them.
pub(super) const REFUSED_REST: u32 = 2 * WARM;

/// The stores whose rests this thread counts in [`QUIET`] (the first stores with copies: few
/// processes have more).
pub(super) const QUIET_STORES: usize = 64;

/// Set in each of [`QUIET`]'s counters while a bypass is active on the thread (see
/// [`crate::bypass`]): its calls pass the tables by, uncounted, and the lookup of the first
/// stores needs no check of its own for the bypass.
const BYPASSED: u32 = 1 << 31;

#[cfg(not(shuttle))]
thread_local! {
    /// Whether a bypass is active on the thread, for the stores past [`QUIET_STORES`].
    static BYPASSING: Cell<bool> = const { Cell::new(false) };
    /// For each of the first [`QUIET_STORES`] stores, the calls this thread still goes
    /// straight to the store for before the last [`WARM`] calls of a rest, when its table
    /// takes copies again: counted down without borrowing the thread's tables. A constant
    /// thread-local of plain cells is a load, a compare and a store, where a resting table's
    /// probe borrowed the tables: about 30 instructions a call, and about 20 more for each
    /// hot entry the store served (callgrind, the probe's zipf, whose tables rest most of
    /// the time: see BENCHMARKS.md).
    static QUIET: [Cell<u32>; QUIET_STORES] = const { [const { Cell::new(0) }; QUIET_STORES] };
}

// Under the model checker, per checker thread (see `TABLES`).
#[cfg(shuttle)]
shuttle::thread_local! {
    static BYPASSING: Cell<bool> = Cell::new(false);
    static QUIET: [Cell<u32>; QUIET_STORES] = [const { Cell::new(0) }; QUIET_STORES];
}

/// Marks the thread's copies bypassed (see [`BYPASSED`]), or no longer.
pub(crate) fn bypassed(on: bool) {
    let _ = BYPASSING.try_with(|b| b.set(on));
    let _ = QUIET.try_with(|q| {
        for calls in q {
            let left = calls.get() & !BYPASSED;
            calls.set(if on { left | BYPASSED } else { left });
        }
    });
}

/// Whether this thread's copies of store `id` are passed by now: the store keeps none
/// ([`super::NO_COPIES`]), a bypass is active on the thread, or the store's table is quiet
/// (see [`quiet`]). One compare of the id on the way of the first stores' lookups.
#[inline]
pub(super) fn passed_by(id: usize) -> bool {
    if id < QUIET_STORES {
        quiet(id, true)
    } else {
        id == super::NO_COPIES || BYPASSING.try_with(Cell::get).unwrap_or(true)
    }
}

/// Whether this thread's copies of store `id` are quiet now (or bypassed): the call goes to
/// the store, and no copy is taken. Counts the call when `count` (a lookup; the store's
/// question whether to copy is not one).
#[inline]
pub(super) fn quiet(id: usize, count: bool) -> bool {
    id < QUIET_STORES
        && QUIET
            .try_with(|q| {
                let calls = &q[id];
                let left = calls.get();
                if left == 0 {
                    return false;
                }
                // Bypassed calls do not count in a rest.
                if count && left & BYPASSED == 0 {
                    calls.set(left - 1);
                }
                true
            })
            .unwrap_or(false)
}

/// How a thread's copy table for one cache has answered lately (the table itself, if the
/// thread has one now).
///
/// A probe that finds nothing costs a lookup in the table before the one in the store: in
/// a cache read over many more keys than the table can hold (a long-tailed distribution
/// with a small hot set, or more hot keys than the budget leaves room for), most probes
/// would. Such a table, once it can grow no more, is freed and its thread rests from
/// copying for a while; then it starts a new table.
#[derive(Default)]
pub(super) struct TableSlot {
    /// A `CopyTable<K, V>`.
    pub(super) table: Option<Box<dyn Any>>,
    /// Probes this round that found no current copy, less the copies taken since.
    pub(super) wasted: Cell<u16>,
    /// Wasteful rounds since the last one that answered well (see [`REST`]).
    pub(super) wasteful: Cell<u16>,
    /// The table's hit count when the round began.
    pub(super) answered: Cell<u64>,
    /// Calls left before the table is probed again.
    pub(super) rest: Cell<u32>,
}

/// What tells an idle table (see [`Tables::sweep`]): apart from [`TableSlot`], which the hit
/// path reads, so that its slots stay 32 bytes.
#[derive(Default)]
pub(super) struct Idle {
    /// Reads the table's hit count (the table being a `CopyTable<K, V>` of its own types).
    pub(super) hits_of: Option<fn(&dyn Any) -> u64>,
    /// The table's hit count at the thread's last sweep.
    pub(super) swept_hits: u64,
    /// The thread's count of copies taken when this table last took one.
    pub(super) last_fill: u32,
}

impl TableSlot {
    /// Whether a call is to probe the table.
    #[inline]
    pub(super) fn probing(&self) -> bool {
        let rest = self.rest.get();
        if rest == 0 {
            return true;
        }
        self.rest.set(rest - 1);
        false
    }

    /// Counts a probe that found no current copy (`hits`: the table's hit count; `grown`:
    /// whether it can grow no more), and ends the round after [`ROUND`] of them. Answered
    /// probes are counted by the hit counter alone: a hit pays nothing for this. Returns
    /// whether the table is to be freed: it wasted more than a quarter of its probes this
    /// round, and will not grow into answering more.
    pub(super) fn wasted(&self, hits: u64, grown: bool) -> bool {
        let wasted = self.wasted.get() + 1;
        if u32::from(wasted) < ROUND {
            self.wasted.set(wasted);
            return false;
        }
        let answered_well = hits - self.answered.get() >= FEWEST_ANSWERED;
        let rests = grown && !answered_well;
        if rests {
            let doublings = self.wasteful.get();
            self.rest.set(REST << doublings);
            self.wasteful.set((doublings + 1).min(MOST_DOUBLINGS));
        } else if answered_well {
            self.wasteful.set(0);
        }
        self.wasted.set(0);
        self.answered.set(hits);
        rests
    }

    /// Whether the table takes copies now (not while resting, except towards its end).
    pub(super) fn copying(&self) -> bool {
        self.rest.get() < WARM
    }

    /// Hands the rest just begun, all but its last [`WARM`] calls, to [`QUIET`], for store
    /// `id` if it is one of the first [`QUIET_STORES`]: those calls pass this thread's tables
    /// by.
    pub(super) fn quieten(&self, id: usize) {
        let rest = self.rest.get();
        if id < QUIET_STORES
            && rest > WARM
            && QUIET
                .try_with(|q| q[id].set((q[id].get() & BYPASSED) | (rest - WARM)))
                .is_ok()
        {
            self.rest.set(WARM);
        }
    }

    /// Drops the table (it wasted its probes, or it is idle), and with it its charge to the
    /// budget. The round starts afresh with the next table.
    pub(super) fn free(&mut self) {
        self.wasted.set(0);
        self.answered.set(0);
        // Dropped last: its drop counts its hits in the store's stats.
        self.table = None;
    }
}

/// One thread's copy tables, by store id, and what tells the idle ones.
pub(super) struct Tables {
    pub(super) slots: Vec<TableSlot>,
    /// By store id too, as long as `slots`.
    pub(super) idle: Vec<Idle>,
    /// Copies this thread took, all caches together (wrapping).
    pub(super) fills: u32,
}

/// Copies a thread takes between two looks at its idle tables.
pub(super) const SWEEP: u32 = 4096;

impl Tables {
    pub(super) const fn new() -> Self {
        Tables {
            slots: Vec::new(),
            idle: Vec::new(),
            fills: 0,
        }
    }

    /// Room for the tables of stores up to `id`.
    pub(super) fn reach(&mut self, id: usize) {
        if self.slots.len() <= id {
            self.slots.resize_with(id + 1, TableSlot::default);
            self.idle.resize_with(id + 1, Idle::default);
        }
    }

    /// Frees the tables, other than `except`'s, that answered no hit since the last sweep
    /// and took no copy during the last `age` copies this thread took: their thread no longer
    /// reads their caches, or not often enough for a copy to pay. Every [`SWEEP`] copies, and
    /// when the budget refuses this thread a larger table (with `age` [`ROUND`]) or a new
    /// one (with `age` 0).
    pub(super) fn sweep(&mut self, except: usize, age: u32) {
        let fills = self.fills;
        for (i, (slot, idle)) in self.slots.iter_mut().zip(&mut self.idle).enumerate() {
            let (Some(table), Some(hits_of)) = (slot.table.as_deref(), idle.hits_of) else {
                continue;
            };
            let hits = hits_of(table);
            if i != except && hits == idle.swept_hits && fills.wrapping_sub(idle.last_fill) >= age {
                slot.free();
            }
            idle.swept_hits = hits;
        }
    }
}

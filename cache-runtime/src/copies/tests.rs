//! The copy tables' resting, sizing and budget, and the protocol while tables grow, shrink
//! and are freed: driven here as the store drives them (marks read and versions bumped under
//! one lock), with a budget of each test's own.

use super::slots::{FEWEST_ANSWERED, MOST_DOUBLINGS, QUIET_STORES, REST, WARM};
use super::table::{FIRST_ROOM, MOST_ROOM};
use super::*;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicUsize};

#[test]
fn a_table_that_wastes_more_than_a_quarter_of_its_probes_rests() {
    let slot = TableSlot::default();
    // 64 wasted probes and 191 answered: just under three answered per wasted.
    for i in 0..ROUND {
        assert!(slot.probing());
        assert_eq!(slot.wasted(FEWEST_ANSWERED - 1, true), i == ROUND - 1);
    }
    assert!(!slot.copying());
    let probed = (0..REST).filter(|_| slot.probing()).count();
    assert_eq!(probed, 0);
    assert!(slot.probing());
    assert!(slot.copying());
}

#[test]
fn a_table_that_keeps_wasting_rests_twice_as_long_each_time_until_a_round_answers_well() {
    let slot = TableSlot::default();
    // A round of `ROUND` wasted probes of a table that can grow no more, whose hit count is
    // then `hits`: only its last probe ends the round, and says whether the table rests.
    let round = |hits: u64, rests: bool| {
        for i in 0..ROUND {
            assert_eq!(slot.wasted(hits, true), rests && i == ROUND - 1);
        }
    };
    let rest = || (0..).take_while(|_| !slot.probing()).count();
    let mut hits = 0;
    for n in 0..=MOST_DOUBLINGS + 2 {
        round(hits, true);
        let doublings = n.min(MOST_DOUBLINGS);
        assert_eq!(rest(), (REST << doublings) as usize, "rest {n}");
    }
    // A round that answers well ends the doubling: the next wasteful round rests `REST`.
    hits += FEWEST_ANSWERED;
    round(hits, false);
    round(hits, true);
    assert_eq!(rest(), REST as usize);
    // A wasteful round while the table can still grow rests nothing, and leaves the count
    // where it was.
    round(hits, true);
    assert_eq!(rest(), (REST << 1) as usize);
    for _ in 0..ROUND {
        assert!(!slot.wasted(hits, false));
    }
    round(hits, true);
    assert_eq!(rest(), (REST << 2) as usize);
}

#[test]
fn a_table_that_can_still_grow_does_not_rest() {
    let slot = TableSlot::default();
    for _ in 0..ROUND {
        assert!(!slot.wasted(0, false));
    }
    assert!(slot.probing());
    assert!(slot.copying());
}

#[test]
fn a_table_that_answers_three_probes_in_four_keeps_being_probed() {
    let slot = TableSlot::default();
    for round in 1..=3 {
        for _ in 0..ROUND {
            assert!(slot.probing());
            assert!(!slot.wasted(round * FEWEST_ANSWERED, true));
        }
    }
    assert!(slot.probing());
    assert!(slot.copying());
}

#[test]
fn a_resting_table_takes_copies_again_before_it_is_probed() {
    let slot = TableSlot::default();
    slot.rest.set(REST);
    let mut copying_from = None;
    for call in 0..REST {
        if copying_from.is_none() && slot.copying() {
            copying_from = Some(call);
        }
        assert!(!slot.probing());
    }
    assert_eq!(copying_from, Some(REST - WARM + 1));
}

/// The rest of one of the first [`QUIET_STORES`] stores is counted down outside its table, all
/// but its warm end, where the table takes copies again: as long, and warm from the same call,
/// as the rest of a store past them, which its table counts.
#[test]
fn a_rest_counted_outside_the_table_lasts_as_long_and_warms_up_at_the_same_call() {
    for id in [QUIET_STORES - 1, QUIET_STORES] {
        let slot = TableSlot::default();
        slot.rest.set(REST);
        slot.quieten(id);
        let mut copying_from = None;
        for call in 0..REST {
            // As the store asks, then as a lookup (`Copies::copying`, `Copies::get`).
            if copying_from.is_none() && !quiet(id, false) && slot.copying() {
                copying_from = Some(call);
            }
            assert!(passed_by(id) || !slot.probing(), "store {id}, call {call}");
        }
        assert_eq!(copying_from, Some(REST - WARM + 1), "store {id}");
        assert!(!passed_by(id) && slot.probing(), "store {id}: probed again");
    }
}

/// While a bypass is active on the thread, every store's copies are passed by, and a quiet
/// store's rest does not count the bypassed calls.
#[test]
fn a_bypass_passes_every_stores_copies_by_and_leaves_their_rests_as_they_were() {
    let (low, high) = (QUIET_STORES - 2, QUIET_STORES + 2);
    let slot = TableSlot::default();
    slot.rest.set(REST);
    slot.quieten(low);
    {
        let _bypass = crate::bypass();
        for _ in 0..REST {
            assert!(passed_by(low) && passed_by(high));
        }
        let _nested = crate::bypass();
    }
    assert!(!passed_by(high), "the bypass is over");
    let quiet_calls = (0..).take_while(|_| passed_by(low)).count();
    assert_eq!(quiet_calls, (REST - WARM) as usize, "the rest as it was");
}

/// Copies of a store of four shards (no LRU windows), charging a budget of `limit` bytes.
fn copies(limit: usize) -> (&'static Copies, &'static Budget) {
    let budget: &'static Budget = Box::leak(Box::new(Budget::with_limit(limit)));
    let copies = Copies::new(foldhash::fast::RandomState::default(), None, &[0; 4]);
    (Box::leak(Box::new(copies.with_budget(budget))), budget)
}

/// What the store does on a hit it serves (under its lock, here a plain call).
fn take(copies: &'static Copies, key: u64, value: u64) {
    let hash = copies.hasher.hash_one(key);
    let marks = copies.marks(hash, u64::MAX, 0);
    copies.fill(hash, || EntryCopy { key, value, marks });
}

fn get(copies: &Copies, key: u64) -> Option<u64> {
    Copies::get::<u64, u64, &u64>(copies.id, &&key)
}

/// This thread's table for `copies`: its (copies, room) and bytes, if it has one.
fn table(copies: &Copies) -> Option<((usize, usize), usize)> {
    TABLES.with(|cell| {
        let tables = cell.borrow();
        let table = tables.slots.get(copies.id)?.table.as_ref()?;
        let table = table.downcast_ref::<CopyTable<u64, u64>>()?;
        Some((table.sizes(), table.bytes()))
    })
}

#[test]
fn a_table_starts_small_and_doubles_with_the_keys_its_thread_reads() {
    let (copies, budget) = copies(1 << 20);
    std::thread::spawn(move || {
        take(copies, 0, 0);
        let ((len, room), bytes) = table(copies).unwrap();
        assert_eq!((len, room), (1, FIRST_ROOM));
        assert_eq!(budget.used(), bytes);
        // 100 keys read again and again: room for 112, never more.
        for _ in 0..5 {
            for k in 0..100 {
                if get(copies, k) != Some(k) {
                    take(copies, k, k);
                }
            }
        }
        let ((len, room), bytes) = table(copies).unwrap();
        assert_eq!((len, room), (100, 112));
        assert_eq!(budget.used(), bytes);
        // Many more keys: the table grows to its largest, and drops copies to take more.
        for k in 0..10_000 {
            take(copies, k, k);
        }
        let ((len, room), bytes) = table(copies).unwrap();
        assert_eq!(room, MOST_ROOM);
        assert!(len >= MOST_ROOM / 4, "{len}");
        assert_eq!(budget.used(), bytes);
        assert!(bytes < 90_000, "{bytes}");
    })
    .join()
    .unwrap();
    assert_eq!(budget.used(), 0, "a thread's tables go when it ends");
}

#[test]
fn a_table_the_budget_cannot_pay_for_stays_small_or_is_not_made() {
    let (copies, budget) = copies(3_500);
    std::thread::spawn(move || {
        for k in 0..1_000 {
            take(copies, k, k);
        }
        let ((_, room), bytes) = table(copies).unwrap();
        assert!(room < MOST_ROOM);
        assert!(budget.used() == bytes && bytes <= 3_500, "{bytes}");
        assert_eq!(get(copies, 999), Some(999));
        // A second cache finds the budget spent (by a table in use): no table, and the store
        // answers.
        let other = Box::leak(Box::new(
            Copies::new(foldhash::fast::RandomState::default(), None, &[0; 4]).with_budget(budget),
        ));
        take(other, 1, 1);
        assert!(table(other).is_none());
        assert_eq!(get(other, 1), None);
        assert!(!other.copying());
    })
    .join()
    .unwrap();
    assert_eq!(budget.used(), 0);
}

#[test]
fn a_table_that_keeps_missing_once_grown_is_freed() {
    let (copies, budget) = copies(2_000);
    std::thread::spawn(move || {
        // The budget holds a table of room 28 at most; 1 000 keys read in turn miss in it.
        for k in (0..1_000).cycle().take(50_000) {
            if get(copies, k).is_none() {
                take(copies, k, k);
            }
            if table(copies).is_none() {
                assert_eq!(budget.used(), 0);
                return;
            }
        }
        panic!("the table was never freed");
    })
    .join()
    .unwrap();
}

#[test]
fn a_table_its_thread_stopped_reading_is_freed() {
    let (idle, budget) = copies(1 << 20);
    let busy = Box::leak(Box::new(
        Copies::new(foldhash::fast::RandomState::default(), None, &[0; 4]).with_budget(budget),
    ));
    std::thread::spawn(move || {
        take(idle, 7, 7);
        assert_eq!(get(idle, 7), Some(7));
        for k in 0..2 * u64::from(SWEEP) + 1 {
            take(busy, k, k);
        }
        assert!(table(idle).is_none());
        assert!(table(busy).is_some());
        // Its hit is still counted.
        assert_eq!(idle.hits(), 1);
    })
    .join()
    .unwrap();
}

#[test]
fn a_thread_refused_a_table_frees_the_one_it_stopped_reading_and_tries_again() {
    // Room for one small table.
    let (a, budget) = copies(1_500);
    let b = Box::leak(Box::new(
        Copies::new(foldhash::fast::RandomState::default(), None, &[0; 4]).with_budget(budget),
    ));
    std::thread::spawn(move || {
        take(a, 1, 1);
        assert_eq!(get(a, 1), Some(1));
        // The thread moves on to another cache: refused, and the store answers for a while.
        take(b, 2, 2);
        assert!(table(b).is_none() && table(a).is_some());
        let mut calls = 0;
        while get(b, 2).is_none() {
            calls += 1;
            assert!(calls <= 2 * WARM, "no copy after {calls} calls");
            if b.copying() {
                take(b, 2, 2);
            }
        }
        assert!(table(a).is_none());
        assert_eq!(a.hits(), 1);
    })
    .join()
    .unwrap();
    assert_eq!(budget.used(), 0);
}

/// Twelve readers whose tables grow, shrink and are freed (a budget for a few small tables, more keys
/// than they hold, two caches) while writers change the values: a read that starts after a
/// change returned never sees an older value, and the budget is never exceeded.
#[test]
fn resized_and_freed_tables_never_serve_an_old_value_and_keep_to_the_budget() {
    const KEYS: u64 = 600;
    const LIMIT: usize = 24_000;
    let (a, budget) = copies(LIMIT);
    let b: &'static Copies = Box::leak(Box::new(
        Copies::new(foldhash::fast::RandomState::default(), None, &[0; 4]).with_budget(budget),
    ));
    // The store: a value per key and cache, changed under its lock (which bumps the version).
    let store: &'static Mutex<HashMap<(usize, u64), u64>> =
        Box::leak(Box::new(Mutex::new(HashMap::new())));
    let published: &'static [AtomicU64] =
        Box::leak((0..2 * KEYS).map(|_| AtomicU64::new(0)).collect());
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let caches = [a, b];
    let mut threads = Vec::new();
    for w in 0..2u64 {
        threads.push(std::thread::spawn(move || {
            let mut x = w + 1;
            for _ in 0..20_000 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let (c, k) = ((x >> 40) as usize % 2, (x >> 20) % KEYS);
                let copies = caches[c];
                let mut s = store.lock().unwrap();
                let v = s.entry((c, k)).or_insert(0);
                *v += 1;
                let v = *v;
                let hash = copies.hasher.hash_one(k);
                copies
                    .shard(shard_index(hash, copies.shard_mask))
                    .bump(hash);
                drop(s);
                published[c * KEYS as usize + k as usize].fetch_max(v, Ordering::SeqCst);
            }
        }));
    }
    let most: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    for r in 0..12u64 {
        threads.push(std::thread::spawn(move || {
            let mut x = r + 100;
            let mut i = 0;
            while !done.load(Ordering::Relaxed) || i < 100_000 {
                i += 1;
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                // A skewed choice: a small hot set that copies answer, and a long tail.
                let (c, k) = (
                    (x >> 40) as usize % 2,
                    ((x >> 20) % KEYS) >> ((x >> 10) % 4),
                );
                let copies = caches[c];
                let before = published[c * KEYS as usize + k as usize].load(Ordering::SeqCst);
                let v = get(copies, k).unwrap_or_else(|| {
                    let s = store.lock().unwrap();
                    let v = s.get(&(c, k)).copied().unwrap_or(0);
                    let hash = copies.hasher.hash_one(k);
                    let marks = copies.marks(hash, u64::MAX, 0);
                    drop(s);
                    copies.fill(hash, || EntryCopy {
                        key: k,
                        value: v,
                        marks,
                    });
                    v
                });
                assert!(
                    v >= before,
                    "cache {c} key {k}: {v} served after {before} was published"
                );
                let used = budget.used();
                assert!(used <= LIMIT, "{used} bytes charged");
                most.fetch_max(used, Ordering::Relaxed);
            }
        }));
    }
    let mut threads = threads.into_iter();
    for t in threads.by_ref().take(2) {
        t.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert!(a.hits() + b.hits() > 0, "the copies answered some reads");
    let most = most.load(Ordering::Relaxed);
    assert!(
        most > LIMIT * 3 / 4,
        "the budget was never short: {most} bytes at most"
    );
    assert_eq!(budget.used(), 0);
}

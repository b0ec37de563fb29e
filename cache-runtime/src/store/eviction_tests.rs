//! The eviction policies' tests: which entry goes, scan and loop resistance of the default,
//! the capacity the shards share, and that it is never exceeded under concurrent stores.

use super::order::{OnHit, Order, Pick, sizes};
use super::tests::{XorShift, check, get, put, store};
use super::*;
use crate::config::Eviction;
use crate::key::Owned;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `k` is stored, without counting an access or moving anything.
fn holds(s: &Store<u64, u64>, k: u64) -> bool {
    let key = Owned(k);
    let hash = s.hash(&key);
    s.shard(hash).find(hash, &key).is_some()
}

/// A miss of a memoized call: look, and store on a miss.
fn call(s: &Store<u64, u64>, k: u64) -> bool {
    if get(s, k).is_some() {
        return true;
    }
    put(s, k, k);
    false
}

#[test]
fn a_full_cache_refuses_a_new_key_asked_for_less_often_than_its_victim() {
    // One shard of 100: a window of 1, a protected list of 79.
    let s = store(&Config::new().capacity(100));
    assert_eq!(s.shards.len(), 1);
    for k in 0..100 {
        put(&s, k, k);
    }
    for _ in 0..4 {
        for k in 0..100 {
            assert_eq!(get(&s, k), Some(k));
        }
    }
    // Each new key is the window's only entry; the next one makes it a candidate against
    // an entry asked for five times: it goes, and the old entries stay. (The sketch is
    // approximate: a candidate whose counters all collide with hot keys' may win.)
    for k in 1000..1100 {
        put(&s, k, k);
        assert!(holds(&s, k), "the newest key sits in the window");
    }
    let kept = (0..100).filter(|&k| holds(&s, k)).count();
    assert!(kept >= 70, "{kept} of 100 often read entries kept");
    assert_eq!(s.len(), 100);
    assert_eq!(s.stats().evictions, 100);
    check(&s);
    // A key asked for again and again wins its place.
    let newcomer = 5000;
    let mut tries = 0;
    while !call(&s, newcomer) {
        put(&s, 6000 + tries, 0); // pushes the newcomer out of the window
        tries += 1;
        assert!(tries < 10, "a key asked for often is admitted");
    }
    assert!(holds(&s, newcomer));
    check(&s);
}

#[test]
fn the_lru_policy_evicts_the_least_recently_used_entry() {
    let s = store(&Config::new().capacity(100).lru());
    for k in 0..100 {
        put(&s, k, k);
    }
    for k in 0..100 {
        assert_eq!(get(&s, k), Some(k));
    }
    assert_eq!(get(&s, 0), Some(0));
    put(&s, 1000, 1000);
    assert!(!holds(&s, 1), "the least recently used entry went");
    assert!(holds(&s, 0) && holds(&s, 1000));
    // The same one-time keys as above push out every old entry.
    for k in 1000..1100 {
        put(&s, k, k);
    }
    assert!((0..100).all(|k| !holds(&s, k)));
    check(&s);
}

/// A hot set of half the capacity, called twice each, then 100 000 one-time keys with a
/// call to a hot key after every second one: the hot calls' hit ratio.
fn scan(config: &Config) -> f64 {
    let s = store(config);
    let hot = config.capacity.unwrap_or_default() as u64 / 2;
    for _ in 0..2 {
        for k in 0..hot {
            call(&s, k);
        }
    }
    let mut rng = XorShift(99);
    let mut hits = 0;
    for i in 0..100_000 {
        call(&s, 1_000_000 + i);
        if i % 2 == 1 && call(&s, rng.below(hot)) {
            hits += 1;
        }
    }
    check(&s);
    f64::from(hits) / 50_000.0
}

#[test]
fn a_scan_of_one_time_keys_does_not_push_out_the_hot_set() {
    for config in [Config::new().capacity(1000), Config::new().capacity(4096)] {
        let default = scan(&config);
        let lru = scan(&config.lru());
        assert!(default > 0.98, "W-TinyLFU's hot hit ratio: {default}");
        assert!(lru < 0.9, "LRU loses the hot set to the scan: {lru}");
    }
}

#[test]
fn a_loop_over_more_keys_than_fit_keeps_the_part_that_fits() {
    // 1200 keys in the same order, 10 times, through 1000 entries: LRU evicts each key just
    // before it comes back.
    let ratio = |config: &Config| {
        let s = store(config);
        let mut hits = 0;
        for pass in 0..10 {
            for k in 0..1200 {
                if call(&s, k) && pass > 0 {
                    hits += 1;
                }
            }
        }
        check(&s);
        f64::from(hits) / (9.0 * 1200.0)
    };
    let default = ratio(&Config::new().capacity(1000));
    assert!(default > 0.7, "W-TinyLFU: {default}");
    assert_eq!(ratio(&Config::new().capacity(1000).lru()), 0.0);
}

#[test]
fn shards_share_the_capacity_so_keys_that_fit_all_stay() {
    // Sharded (on any machine with more than one core); the keys spread unevenly.
    for config in [
        Config::new().capacity(20_000),
        Config::new().capacity(20_000).lru(),
    ] {
        let s = store(&config);
        for k in 0..20_000 {
            put(&s, k, k);
        }
        assert_eq!(s.len(), 20_000);
        assert_eq!(s.stats().evictions, 0);
        assert!((0..20_000).all(|k| get(&s, k) == Some(k)));
        put(&s, 20_000, 0);
        assert_eq!(s.len(), 20_000, "one more key: one eviction");
        assert_eq!(s.stats().evictions, 1);
        assert_eq!(s.settings.room.used(), 20_000);
        check(&s);
    }
}

#[test]
fn the_capacity_is_never_exceeded_under_concurrent_stores() {
    // Four threads store distinct keys (and some invalidate and clear) while a fifth reads
    // the places taken; at the end every entry has its place, and no more.
    for config in [
        Config::new().capacity(2048),
        Config::new().capacity(2048).lru(),
        Config::new().capacity(300),
    ] {
        let capacity = config.capacity.unwrap_or_default();
        let s = store(&config);
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let (s, done) = (&s, &done);
            let reader = scope.spawn(move || {
                let mut looks = 0_u64;
                while !done.load(Ordering::Relaxed) {
                    let used = s.settings.room.used();
                    assert!(used <= capacity, "{used} places of {capacity} taken");
                    looks += 1;
                    std::thread::yield_now();
                }
                looks
            });
            let writers: Vec<_> = (0..4_u64)
                .map(|t| {
                    scope.spawn(move || {
                        let mut rng = XorShift(t + 1);
                        for i in 0..30_000_u64 {
                            let k = t << 32 | i;
                            put(s, k, k);
                            match rng.below(100) {
                                0..=4 => {
                                    s.invalidate(&Owned(k));
                                }
                                5 if t == 0 => s.clear(),
                                _ => {}
                            }
                        }
                    })
                })
                .collect();
            for w in writers {
                w.join().expect("a writer");
            }
            done.store(true, Ordering::Relaxed);
            assert!(reader.join().expect("the reader") > 0);
        });
        let held: usize = s.shards.iter().map(|sh| lock(&sh.0).len()).sum();
        assert_eq!(held, s.settings.room.used(), "every entry holds one place");
        assert!(held <= capacity);
        check(&s);
    }
}

#[test]
fn after_one_hit_in_the_store_the_threads_copies_serve_an_entry_under_either_policy() {
    // A hit promotes a window or probation entry to the protected front, where its copy may
    // serve (the store would not move it again); the LRU policy copies its front quarter.
    for config in [
        Config::new().capacity(10_000),
        Config::new().capacity(10_000).lru(),
    ] {
        let config = config.ttl(std::time::Duration::from_secs(300));
        let s = store(&config);
        let keys: Vec<u64> = (0..1024_u64)
            .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        for &k in &keys {
            put(&s, k, k);
        }
        let id = s
            .copies_id()
            .expect("a sharded store of plain data has copies");
        for round in 0..3 {
            let (mut copies, mut store_hits) = (0, 0);
            for &k in &keys {
                let key = Owned(k);
                if crate::copies::Copies::get::<u64, u64, _>(id, &key) == Some(k) {
                    copies += 1;
                } else if let Fresh::Hit(v) = s.fresh(s.hash(&key), &key) {
                    assert_eq!(v, k);
                    store_hits += 1;
                }
            }
            let expected = if round == 0 { (0, 1024) } else { (1024, 0) };
            assert_eq!((copies, store_hits), expected, "round {round}, {config:?}");
        }
        check(&s);
    }
}

#[test]
fn an_entry_of_the_order_takes_twelve_bytes() {
    // Links, segment and stamp in one record: 12 of the 48 bytes a `u64 -> u64` entry may
    // take (the three arrays it replaced took 13, in three cache lines).
    assert_eq!(Order::SLOT_BYTES, 12);
}

#[test]
fn the_front_quarter_holds_across_the_stamps_and_the_ticks_wrapping() {
    // The slots keep the low 30 bits of the tick; the threads' copies compare the full
    // 32 bits with `Order::stamp`. Both must count the moves exactly, wherever they wrap.
    let (_, _, quarter) = sizes(Eviction::TinyLfu, 1000, true);
    assert!(quarter > 100);
    for start in [0, (1 << 30) - 10, (1 << 31) - 3, u32::MAX - 10, u32::MAX] {
        let mut o = Order::new(Eviction::TinyLfu, 1000, true);
        o.set_tick(start);
        for i in 0..21 {
            o.push_slot();
            assert_eq!(o.push_new(i, u64::from(i) << 40), None);
        }
        // Entries 0 to 20 move to the protected front in turn; then entry 20 moves again
        // and again: entry `i < 20` is then `20 - i + k` moves old, after `k` moves.
        for i in 0..21 {
            assert_eq!(o.hit_move(i), Some(start.wrapping_add(i + 1)));
        }
        for k in 1..=quarter + 30 {
            let tick = o.hit_move(20).expect("a sharded order counts its moves");
            assert_eq!(tick, start.wrapping_add(21 + k));
            for i in 0..20 {
                let age = 20 - i + k;
                assert_eq!(tick.wrapping_sub(o.stamp(i)), age, "start {start}");
                let recent = age < quarter;
                assert_eq!(o.recently_moved(i), recent, "start {start}, age {age}");
                assert_eq!(o.copyable(i), recent);
                let moves = matches!(o.on_hit(i), OnHit::Move);
                assert_eq!(moves, !recent, "start {start}, age {age}");
            }
            assert!(matches!(o.on_hit(20), OnHit::Nothing));
        }
        assert_eq!(o.walk().len(), 21);
    }
}

#[test]
fn an_unbounded_shard_keeps_no_lists_and_evicts_nothing() {
    let mut o = Order::new(Eviction::TinyLfu, usize::MAX, true);
    o.reserve(64);
    for i in 0..64 {
        o.push_slot();
        assert_eq!(o.push_new(i, u64::from(i)), None);
    }
    assert!(matches!(o.on_hit(3), OnHit::Nothing));
    assert_eq!(o.hit_move(3), None);
    assert!(!o.recently_moved(3) && !o.copyable(3));
    assert_eq!(o.stamp(3), 0);
    assert!(matches!(o.pick(), Pick::Empty));
    o.unlink(5);
    o.remove_slot(5);
    assert_eq!(o.walk().len(), 63);
    assert_eq!(o.slot_bytes(), 0);

    // Through a store: stores, hits, replacements, invalidations and clears, each shard's
    // entries counted in and out of its (empty) order.
    let s = store(&Config::new().unbounded().tagged());
    let mut rng = XorShift(5);
    for i in 0..20_000 {
        let k = rng.below(3_000);
        match rng.below(8) {
            0..=3 => put(&s, k, k),
            4..=5 => assert!(get(&s, k).is_none_or(|v| v == k)),
            6 => {
                s.invalidate(&Owned(k));
            }
            _ if i % 1000 == 0 => s.clear(),
            _ => {}
        }
    }
    assert!(s.len() > 1_000);
    assert_eq!(s.stats().evictions, 0);
    check(&s);
}

//! The store's behaviour: the order of a small cache, shards, removals, expiry, overtaken
//! runs. The eviction policy's own tests are in `eviction_tests.rs`.

use super::shards::{MIN_PER_SHARD, shard_count};
use super::*;
use crate::flight::Outcome;
use std::num::NonZeroUsize;

/// A run that ran the body and returned `value`.
fn done(value: Option<u64>, tags: Option<Vec<String>>) -> Done<u64> {
    Done {
        value,
        unstored: Outcome::Retry,
        tags,
        ran_body: true,
        lives: None,
    }
}
use crate::key::Owned;
use std::time::Duration;

/// A small deterministic generator: the tests must not depend on a random crate.
pub(super) struct XorShift(pub(super) u64);

impl XorShift {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(super) fn store(config: &Config) -> Store<u64, u64> {
    Store::new(config, true)
}

pub(super) fn get(s: &Store<u64, u64>, k: u64) -> Option<u64> {
    let key = Owned(k);
    match s.begin(s.hash(&key), &key, false, None) {
        Found::Hit(v) | Found::Stale(v, None) => Some(v),
        Found::Run(run) | Found::Stale(_, Some(run)) => {
            s.abandon(s.hash(&key), run.flight.as_ref(), false);
            None
        }
        Found::Join(_) => panic!("no other caller runs in these tests"),
    }
}

fn put_tagged(s: &Store<u64, u64>, k: u64, v: u64, tags: Option<Vec<String>>) {
    let key = Owned(k);
    let hash = s.hash(&key);
    let run = match s.begin(hash, &key, true, None) {
        Found::Run(run) => run,
        _ => panic!("a refresh always runs the body"),
    };
    s.complete(hash, k, run, done(Some(v), tags));
}

pub(super) fn put(s: &Store<u64, u64>, k: u64, v: u64) {
    put_tagged(s, k, v, None);
}

pub(super) fn check(s: &Store<u64, u64>) {
    for shard in &s.shards {
        lock(&shard.0).check(&s.settings);
    }
}

#[test]
fn small_capacity_is_one_shard_with_exact_lru_order() {
    // The reference: the `lru` crate, with the same operations (`eviction = "lru"`).
    for capacity in 1..=8_usize {
        let s = store(&Config::new().capacity(capacity).lru());
        assert_eq!(s.shards.len(), 1);
        let mut model = lru::LruCache::new(NonZeroUsize::new(capacity).unwrap());
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ capacity as u64);
        let mut evictions = 0;
        for step in 0..4000 {
            let k = rng.below(12);
            if rng.below(3) == 0 {
                let v = rng.next();
                put(&s, k, v);
                if model.len() == capacity && !model.contains(&k) {
                    evictions += 1;
                }
                model.put(k, v);
            } else {
                assert_eq!(
                    get(&s, k),
                    model.get(&k).copied(),
                    "capacity {capacity}, step {step}"
                );
            }
            assert_eq!(s.len(), model.len());
        }
        check(&s);
        assert_eq!(s.stats().evictions, evictions);
    }
}

#[test]
fn shard_count_follows_capacity_and_cores() {
    assert_eq!(shard_count(Some(2)), 1);
    assert_eq!(shard_count(Some(2 * MIN_PER_SHARD - 1)), 1);
    assert!(shard_count(Some(10_000)).is_power_of_two());
    assert!(shard_count(Some(10_000)) <= 10_000 / MIN_PER_SHARD);
    assert!(shard_count(None).is_power_of_two());
    // The capacity is split exactly.
    let s = store(&Config::new().capacity(10_001));
    let total: usize = s.shards.iter().map(|sh| lock(&sh.0).capacity()).sum();
    assert_eq!(total, 10_001);
}

#[test]
fn removals_in_any_order_keep_slab_list_index_and_tags_consistent() {
    // The second configuration keeps each entry's ttl deadline beside the slab; the third
    // is sharded, with move stamps beside it.
    for config in [
        Config::new().capacity(300),
        Config::new().capacity(1200),
        Config::new()
            .capacity(300)
            .ttl(Duration::from_secs(3600))
            .tti(Duration::from_secs(600)),
    ] {
        removals_stay_consistent(&config);
    }
}

fn removals_stay_consistent(config: &Config) {
    let s = store(&(*config).tagged());
    let mut rng = XorShift(7);
    for _ in 0..20_000 {
        let k = rng.below(500);
        match rng.below(5) {
            0 | 1 => put_tagged(
                &s,
                k,
                k * 10,
                Some(vec![format!("mod{}", k % 7), format!("mod{}", k % 3 + 100)]),
            ),
            2 => {
                s.invalidate(&Owned(k));
            }
            3 => {
                s.invalidate_tag(&format!("mod{}", k % 7));
            }
            _ => {
                if let Some(v) = get(&s, k) {
                    assert_eq!(v, k * 10);
                }
            }
        }
    }
    check(&s);
    // Every remaining entry still answers to its tags.
    let before = s.len();
    let dropped: usize = (0..7).map(|m| s.invalidate_tag(&format!("mod{m}"))).sum();
    assert_eq!(dropped, before);
    assert_eq!(s.len(), 0);
    check(&s);
}

#[test]
fn ttl_expires_and_tti_extends_with_use() {
    let s = store(&Config::new().ttl(Duration::from_secs(60)));
    put(&s, 1, 10);
    clock::advance(Duration::from_secs(59));
    assert_eq!(get(&s, 1), Some(10));
    clock::advance(Duration::from_secs(1));
    assert_eq!(get(&s, 1), None);
    assert_eq!(s.stats().expirations, 1);

    let s = store(
        &Config::new()
            .tti(Duration::from_secs(10))
            .ttl(Duration::from_secs(25)),
    );
    put(&s, 1, 10);
    for _ in 0..2 {
        clock::advance(Duration::from_secs(9));
        assert_eq!(get(&s, 1), Some(10), "each hit restarts the idle time");
    }
    clock::advance(Duration::from_secs(7)); // 25s since the store: the ttl wins
    assert_eq!(get(&s, 1), None);
    put(&s, 2, 20);
    clock::advance(Duration::from_secs(10));
    assert_eq!(get(&s, 2), None, "idle for the whole tti");
}

#[test]
fn expired_entries_are_purged_by_later_stores_of_other_keys() {
    let s = store(&Config::new().unbounded().ttl(Duration::from_secs(1)));
    for k in 0..10_000 {
        put(&s, k, k);
    }
    clock::advance(Duration::from_secs(2));
    for k in 10_000..20_000 {
        put(&s, k, k);
    }
    // The first 10_000 are never read again; the sweep removes them as others are stored.
    assert!(s.len() < 10_000 + 1_000, "len {}", s.len());
    check(&s);
    let capacity: usize = s.shards.iter().map(|sh| lock(&sh.0).slab_capacity()).sum();
    clock::advance(Duration::from_secs(2));
    // Each store looks at SWEEP_STEP entries: a few rounds of stores pass over all of them.
    for _ in 0..40 {
        for k in 0..512 {
            put(&s, 1_000_000 + k, k);
        }
    }
    assert_eq!(s.len(), 512, "only the live entries are left");
    // A shard's slab shrinks to twice its entries once it is four times too big (and is
    // not shrunk below 64 slots).
    let after: usize = s.shards.iter().map(|sh| lock(&sh.0).slab_capacity()).sum();
    let bound = 4 * 512 + s.shards.len() * 64;
    assert!(
        after <= bound && after < capacity / 4,
        "memory follows the live entries: {after} slots (bound {bound}), {capacity} before"
    );
    check(&s);
}

#[test]
fn clear_empties_and_counts_invalidations() {
    let s = store(&Config::new());
    for k in 0..100 {
        put(&s, k, k);
    }
    s.clear();
    assert_eq!(s.len(), 0);
    assert_eq!(s.stats().invalidations, 100);
    check(&s);
    put(&s, 1, 1);
    assert_eq!(get(&s, 1), Some(1));
}

#[test]
fn a_run_overtaken_by_an_invalidation_stores_nothing() {
    let s = store(&Config::new());
    let key = Owned(5_u64);
    let hash = s.hash(&key);
    let Found::Run(run) = s.begin(hash, &key, false, None) else {
        panic!("cold key")
    };
    assert!(!s.invalidate(&key)); // nothing stored yet, but the run is now outdated
    s.complete(hash, 5, run, done(Some(50), None));
    assert_eq!(get(&s, 5), None);

    let Found::Run(run) = s.begin(hash, &key, false, None) else {
        panic!("cold key")
    };
    s.clear();
    s.complete(hash, 5, run, done(Some(50), None));
    assert_eq!(get(&s, 5), None);
}

#[test]
fn keys_spread_over_the_shards() {
    let s = store(&Config::new().capacity(100_000));
    let n = s.shards.len();
    assert!(n > 1);
    for k in 0..1024 {
        put(&s, k, k);
    }
    let lens: Vec<usize> = s.shards.iter().map(|sh| lock(&sh.0).len()).collect();
    let fair = 1024 / n;
    assert!(
        lens.iter().all(|&l| l > fair / 2 && l < fair * 2),
        "entries per shard: {lens:?}"
    );
}

#[test]
fn a_sharded_cache_evicts_what_was_not_read_lately() {
    // 8 shards of 256: hits on the front quarter of a shard do not move entries, yet what is
    // read keeps being found and what is not goes first (either policy).
    for config in [
        Config::new().capacity(2048),
        Config::new().capacity(2048).lru(),
    ] {
        sharded_eviction(&config);
    }
}

fn sharded_eviction(config: &Config) {
    let s = store(config);
    assert!(s.shards.len() > 1);
    for k in 0..1024 {
        put(&s, k, k);
    }
    let hot: Vec<u64> = (0..1024).step_by(4).collect();
    for round in 0..8 {
        for &k in &hot {
            assert_eq!(get(&s, k), Some(k), "hot key {k}, round {round}");
        }
        for k in 0..256 {
            put(&s, 10_000 + round * 256 + k, k);
        }
    }
    // 2048 cold stores later, every hot key is still there, and the cold ones went.
    assert!(hot.iter().all(|&k| get(&s, k) == Some(k)));
    assert!(s.stats().evictions > 0);
    check(&s);
}

/// Keys on the heap, hashed again by the shard wherever its slots need a hash (an eviction's
/// candidates, a removal's moved entry, the index's growth and shrinking): after evictions,
/// removals by key and by tag, expiry and a shrink, every slot is indexed under its key's
/// hash and every key left is found with its own value.
#[test]
fn heap_keys_stay_indexed_through_evictions_removals_and_a_shrink() {
    let s: Store<String, String> = Store::new(&Config::new().capacity(2_048).tagged(), false);
    let name = |k: u64| format!("key-{k:05}");
    let put = |k: u64, tag: &str| {
        let key = Owned(name(k));
        let hash = s.hash(&key);
        let Found::Run(run) = s.begin(hash, &key, true, None) else {
            panic!("a refresh always runs the body");
        };
        let done = Done {
            value: Some(format!("value-{k}")),
            unstored: Outcome::Retry,
            tags: Some(vec![tag.to_owned()]),
            ran_body: true,
            lives: None,
        };
        s.complete(hash, name(k), run, done);
    };
    let check = || {
        for shard in &s.shards {
            lock(&shard.0).check(&s.settings);
        }
    };
    // Twice the capacity: the second half evicts.
    for k in 0..4_096 {
        put(k, if k % 3 == 0 { "three" } else { "other" });
    }
    check();
    assert!(s.len() <= 2_048 + 2 * s.shards.len(), "len {}", s.len());
    let mut rng = XorShift(0x5EED);
    for _ in 0..1_000 {
        s.invalidate(&Owned(name(rng.below(4_096))));
    }
    check();
    s.invalidate_tag("three");
    check();
    // Most of the rest goes: the slabs shrink, and the index is rebuilt from the keys.
    for k in 0..4_096 {
        if k % 8 != 0 {
            s.invalidate(&Owned(name(k)));
        }
    }
    check();
    let left: Vec<u64> = (0..4_096)
        .filter(|k| {
            let key = Owned(name(*k));
            match s.begin(s.hash(&key), &key, false, None) {
                Found::Hit(v) => {
                    assert_eq!(v, format!("value-{k}"), "key {k}'s own value");
                    true
                }
                Found::Run(run) => {
                    s.abandon(s.hash(&key), run.flight.as_ref(), false);
                    false
                }
                _ => panic!("no other caller"),
            }
        })
        .collect();
    assert_eq!(left.len(), s.len(), "every entry left is found by its key");
    assert!(left.iter().all(|k| k % 8 == 0 && k % 3 != 0), "{left:?}");
    assert!(!left.is_empty(), "some keys of the second half stay");
}

//! A shard's runs in progress: the run the store hands the caller that runs the body, and
//! the shard's list of flights (the runs other callers may join), under the shard's lock.
//!
//! The list is a `Vec` of the flights with their keys' hashes beside them, searched from the
//! end: a shard seldom has more than a few runs at once, and a scan of a short list costs a
//! fraction of a hash table's probe and compiles to a fraction of its code for each key and
//! value type (callgrind: a miss of a `u64 -> u64` function, 1 560 -> 1 461 instructions,
//! with the `hashbrown` table it replaced). Many runs at once in one shard (thousands of tasks
//! waiting on a slow backend) make each scan longer, still far cheaper than the bodies they
//! wait for.

use super::shard::Shard;
use crate::flight::Flight;
use crate::key::KeyRef;
use std::hash::Hash;
use std::sync::Arc;

/// A shard's flights: each with its key's hash, for the scan.
pub(super) struct Flights<K, V>(Vec<(u64, Arc<Flight<K, V>>)>);

impl<K, V> Flights<K, V> {
    pub(super) const fn new() -> Self {
        Flights(Vec::new())
    }

    /// Where the flight of `key` is, if it is there.
    #[inline]
    fn position(&self, hash: u64, key: &dyn Fn(&K) -> bool) -> Option<usize> {
        // A plain loop, not `rposition` and a closure, and the key compared through a
        // `dyn Fn` (called only on a hash match): one function for each key and value type,
        // not three for each type of borrowed key.
        let mut i = self.0.len();
        while i > 0 {
            i -= 1;
            let (h, f) = &self.0[i];
            if *h == hash && key(&f.key) {
                return Some(i);
            }
        }
        None
    }

    fn push(&mut self, hash: u64, flight: Arc<Flight<K, V>>) {
        self.0.push((hash, flight));
    }

    /// Takes out the flight at `i`.
    fn take(&mut self, i: usize) -> Arc<Flight<K, V>> {
        let (_, f) = self.0.swap_remove(i);
        if self.0.is_empty() && self.0.capacity() > 64 {
            // A burst of runs is over: its room goes back.
            self.0 = Vec::new();
        }
        f
    }
}

/// A new flight for `key`: the shard's spare one if no one holds it any more.
fn new_flight<K, V, L: KeyRef<Owned = K>>(
    spare: &mut Option<Arc<Flight<K, V>>>,
    hash: u64,
    key: &L,
) -> Arc<Flight<K, V>> {
    let owned = key.to_owned_key();
    match spare.take() {
        Some(mut f) => match Arc::get_mut(&mut f) {
            Some(reused) => {
                reused.reuse(hash, owned);
                f
            }
            None => Arc::new(Flight::new(hash, owned)),
        },
        None => Arc::new(Flight::new(hash, owned)),
    }
}

/// What the store hands the caller that runs the body (see [`super::Found::Run`]), for it to
/// hand back with the result.
pub(crate) struct Run<K, V> {
    /// The shard's epoch when the run began. Runs without a flight (`single_flight = false`)
    /// cannot be detached: an invalidation moves the epoch instead, and a run that began
    /// before it stores nothing.
    pub(crate) epoch: u64,
    pub(crate) flight: Option<Arc<Flight<K, V>>>,
    /// An invalidation in progress may cover the run (see [`crate::ongoing`]): it stores
    /// nothing.
    pub(crate) doomed: bool,
    /// A `refresh_*`: without a flight, storing its value moves the epoch, so that a run that
    /// began before it cannot overwrite the refreshed value with an older one; overtaken, it
    /// removes the entry it was to replace.
    pub(crate) refresh: bool,
}

impl<K, V> Shard<K, V> {
    /// Takes the flights that `which` picks out of the list and cancels them; they are
    /// returned to be dropped once the lock is released.
    pub(super) fn detach_flights(
        &mut self,
        which: &dyn Fn(&Flight<K, V>) -> bool,
    ) -> Vec<Arc<Flight<K, V>>> {
        let mut detached = Vec::new();
        let mut i = 0;
        while i < self.flights.0.len() {
            if which(&self.flights.0[i].1) {
                let f = self.flights.take(i);
                f.cancel();
                detached.push(f);
            } else {
                i += 1;
            }
        }
        detached
    }

    /// Takes a finished (or doomed) run's flight out of the list, if it is still there.
    pub(super) fn forget_flight(&mut self, flight: &Arc<Flight<K, V>>) {
        let mut i = self.flights.0.len();
        while i > 0 {
            i -= 1;
            if Arc::ptr_eq(&self.flights.0[i].1, flight) {
                self.flights.take(i);
                return;
            }
        }
    }

    /// Keeps a finished flight that no one else holds for the next miss (see `spare`).
    pub(super) fn keep_spare(&mut self, flight: &mut Option<Arc<Flight<K, V>>>) {
        if !std::mem::needs_drop::<K>() && self.spare.is_none() {
            self.spare = flight.take();
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Shard<K, V> {
    /// The flight of `key`, if a run for it is in progress and joinable.
    pub(super) fn find_flight<L: KeyRef<Owned = K>>(
        &self,
        hash: u64,
        key: &L,
    ) -> Option<&Arc<Flight<K, V>>> {
        let i = self.flights.position(hash, &|k| key.matches(k))?;
        Some(&self.flights.0[i].1)
    }

    /// Registers a run of the body for `key`, with a flight when `share`.
    pub(super) fn start_run<L: KeyRef<Owned = K>>(
        &mut self,
        hash: u64,
        key: &L,
        share: bool,
    ) -> Run<K, V> {
        let flight = share.then(|| {
            let f = new_flight(&mut self.spare, hash, key);
            self.flights.push(hash, Arc::clone(&f));
            f
        });
        Run {
            epoch: self.epoch,
            flight,
            doomed: false,
            refresh: false,
        }
    }

    /// The flight of `key` to join, or else a run that leads a new flight for it.
    pub(super) fn join_or_start<L: KeyRef<Owned = K>>(
        &mut self,
        hash: u64,
        key: &L,
    ) -> Result<Arc<Flight<K, V>>, Run<K, V>> {
        if let Some(f) = self.find_flight(hash, key) {
            return Ok(Arc::clone(f));
        }
        Err(self.start_run(hash, key, true))
    }

    /// Takes the flight of `key` out of the list and cancels it (see [`crate::flight`]).
    pub(super) fn detach_flight(
        &mut self,
        hash: u64,
        key: &dyn Fn(&K) -> bool,
    ) -> Option<Arc<Flight<K, V>>> {
        let i = self.flights.position(hash, key)?;
        let flight = self.flights.take(i);
        flight.cancel();
        Some(flight)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Done, Found, Store};
    use crate::config::Config;
    use crate::flight::Outcome;
    use crate::key::Owned;
    use std::sync::Arc;

    fn begin(s: &Store<u64, u64>, k: u64) -> Found<u64, u64> {
        let key = Owned(k);
        s.begin(s.hash(&key), &key, false, None)
    }

    fn finish(s: &Store<u64, u64>, k: u64, run: super::Run<u64, u64>) {
        let done = Done {
            value: Some(k * 10),
            unstored: Outcome::Retry,
            tags: None,
            ran_body: true,
            lives: None,
        };
        s.complete(s.hash(&Owned(k)), k, run, done);
    }

    fn get(s: &Store<u64, u64>, k: u64) -> Option<u64> {
        match begin(s, k) {
            Found::Hit(v) => Some(v),
            Found::Run(run) => {
                s.abandon(s.hash(&Owned(k)), run.flight.as_ref(), false);
                None
            }
            _ => panic!("key {k}: no run is in progress"),
        }
    }

    /// Many runs at once in one shard: each caller joins its own key's flight, an
    /// invalidation detaches that key's only, and the runs finish in an order unlike the one
    /// they began in (the list is reordered by every removal).
    #[test]
    fn many_runs_in_one_shard_each_joined_detached_and_finished_by_key() {
        let s = Store::<u64, u64>::new(&Config::new().capacity(256), false);
        assert_eq!(s.shards.len(), 1, "one shard: every run is in one list");
        let n = 200_u64;
        let mut runs: Vec<_> = (0..n)
            .map(|k| match begin(&s, k) {
                Found::Run(run) => (k, run),
                _ => panic!("key {k}: the first caller runs the body"),
            })
            .collect();
        for (k, run) in &runs {
            let Found::Join(f) = begin(&s, *k) else {
                panic!("key {k}: a second caller joins the run");
            };
            assert!(
                Arc::ptr_eq(&f, run.flight.as_ref().unwrap()),
                "key {k}'s own flight"
            );
        }
        // Detached: key 7's run stores nothing, and the next caller runs the body again.
        assert!(!s.invalidate(&Owned(7)), "nothing stored yet");
        let Found::Run(again) = begin(&s, 7) else {
            panic!("a caller after the invalidation does not join the detached run");
        };
        for (k, _) in &runs {
            if *k != 7 {
                assert!(
                    matches!(begin(&s, *k), Found::Join(_)),
                    "key {k} still joinable"
                );
            }
        }
        // Finished from the middle outwards, the detached run among them.
        runs.sort_by_key(|(k, _)| (k % 3, u64::MAX - k));
        for (k, run) in runs {
            finish(&s, k, run);
            if k != 7 {
                assert_eq!(get(&s, k), Some(k * 10), "key {k}");
            }
        }
        assert_eq!(s.len(), n as usize - 1, "the detached run stored nothing");
        finish(&s, 7, again);
        assert_eq!(
            get(&s, 7),
            Some(70),
            "the run after the invalidation stored"
        );
        for k in 0..n {
            assert_eq!(get(&s, k), Some(k * 10), "key {k}");
        }
        assert!(lock_flights_empty(&s), "every flight left the list");
    }

    fn lock_flights_empty(s: &Store<u64, u64>) -> bool {
        s.shards
            .iter()
            .all(|shard| super::super::lock(&shard.0).flights.0.is_empty())
    }
}

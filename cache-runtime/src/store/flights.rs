//! A shard's runs in progress: the run the store hands the caller that runs the body, and
//! the shard's table of flights (the runs other callers may join), under the shard's lock.

use super::shard::Shard;
use crate::flight::Flight;
use crate::key::KeyRef;
use hashbrown::hash_table::Entry;
use std::hash::Hash;
use std::sync::Arc;

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
    /// Takes the flights that `which` picks out of the table and cancels them; they are
    /// returned to be dropped once the lock is released.
    pub(super) fn detach_flights(
        &mut self,
        mut which: impl FnMut(&Flight<K, V>) -> bool,
    ) -> Vec<Arc<Flight<K, V>>> {
        let mut detached = Vec::new();
        self.flights.retain(|f| {
            if which(f) {
                f.cancel();
                detached.push(Arc::clone(f));
                false
            } else {
                true
            }
        });
        detached
    }

    /// Takes a finished (or doomed) run's flight out of the table, if it is still there.
    pub(super) fn forget_flight(&mut self, flight: &Arc<Flight<K, V>>) {
        if let Ok(e) = self
            .flights
            .find_entry(flight.hash, |f| Arc::ptr_eq(f, flight))
        {
            e.remove();
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
        self.flights.find(hash, |f| key.matches(&f.key))
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
            self.flights.insert_unique(hash, Arc::clone(&f), |f| f.hash);
            f
        });
        Run {
            epoch: self.epoch,
            flight,
            doomed: false,
            refresh: false,
        }
    }

    /// The flight of `key` to join, or else a run that leads a new flight for it: one probe
    /// of the table where [`Shard::find_flight`] and [`Shard::start_run`] take two.
    pub(super) fn join_or_start<L: KeyRef<Owned = K>>(
        &mut self,
        hash: u64,
        key: &L,
    ) -> Result<Arc<Flight<K, V>>, Run<K, V>> {
        match self
            .flights
            .entry(hash, |f| key.matches(&f.key), |f| f.hash)
        {
            Entry::Occupied(e) => Ok(Arc::clone(e.get())),
            Entry::Vacant(v) => {
                let f = new_flight(&mut self.spare, hash, key);
                v.insert(Arc::clone(&f));
                Err(Run {
                    epoch: self.epoch,
                    flight: Some(f),
                    doomed: false,
                    refresh: false,
                })
            }
        }
    }

    /// Takes the flight of `key` out of the table and cancels it (see [`crate::flight`]).
    pub(super) fn detach_flight<L: KeyRef<Owned = K>>(
        &mut self,
        hash: u64,
        key: &L,
    ) -> Option<Arc<Flight<K, V>>> {
        let entry = self
            .flights
            .find_entry(hash, |f| key.matches(&f.key))
            .ok()?;
        let (flight, _) = entry.remove();
        flight.cancel();
        Some(flight)
    }
}

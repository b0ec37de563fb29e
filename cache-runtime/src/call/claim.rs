//! A ticket's hold on its cache ([`Claim`]): the run the store handed out, guarded so that a
//! run dropped before it ends wakes its waiters ([`RunGuard`]), and what the remote tier may
//! do with the value (a lease to fill under, the sends its answers are counted by). The
//! ticket ([`super::ticket`]) drives it; a cache without a remote tier uses the run alone.

use crate::cache::Cache;
use crate::flight::Outcome;
use crate::key::StoredKey;
use crate::policy::StoredValue;
use crate::remote::{Fetched, Filled, Lease};
use crate::store::{Done, Run};

/// A ticket's hold on its cache: where the result goes, the run to hand back, and what the
/// remote tier may do with the value.
pub(super) struct Claim<K: 'static, V: 'static> {
    /// `None` once handed to the store.
    pub(super) key: Option<K>,
    /// The run, and the cache and hash it is in (the ticket's: it is moved at every step of a
    /// miss, and fits in fewer bytes without copies of them).
    pub(super) run: RunGuard<K, V>,
    /// What the run may do in the remote tier: fill under its lease, or nothing (without a
    /// lease, or with no remote tier); a `refresh_*` takes the key's lease first, whatever
    /// is there, so that a later refresh or an invalidation overtakes it.
    pub(super) fill: Fill,
    /// Which of the flight's sends the value answers (see `Flight::answers`; 0: none).
    pub(super) answer: u64,
}

/// See [`Claim::fill`].
pub(super) enum Fill {
    Nothing,
    Lease(Lease),
    /// A refresh, before it took the lease.
    Take,
}

impl Fill {
    /// Takes the lease out (the rest stays), to fill under or give back.
    pub(super) fn take_lease(&mut self) -> Option<Lease> {
        match std::mem::replace(self, Fill::Nothing) {
            Fill::Lease(lease) => Some(lease),
            other => {
                *self = other;
                None
            }
        }
    }
}

impl<K: 'static, V: 'static> Drop for Claim<K, V> {
    fn drop(&mut self) {
        if let (Some(lease), Some(key), Some(remote)) =
            (self.fill.take_lease(), &self.key, self.run.cache.remote())
        {
            remote.release(key, lease);
        }
    }
}

/// A run of the body that the store handed out: abandoned (its waiters woken, one of them to
/// run the body) if it is dropped before it is handed back.
pub(crate) struct RunGuard<K: 'static, V: 'static> {
    pub(super) cache: &'static Cache<K, V>,
    pub(super) hash: u64,
    pub(super) run: Option<Run<K, V>>,
    /// Whether the body started: an abandoned run counts as a miss then.
    pub(super) ran_body: bool,
}

impl<K: 'static, V: 'static> RunGuard<K, V> {
    pub(crate) fn new(cache: &'static Cache<K, V>, hash: u64, run: Run<K, V>) -> Self {
        RunGuard {
            cache,
            hash,
            run: Some(run),
            ran_body: false,
        }
    }

    /// Whether the run is a `refresh_*`.
    pub(super) fn refreshes(&self) -> bool {
        match &self.run {
            Some(r) => r.refresh,
            None => false,
        }
    }
}

impl<K: 'static, V: 'static> Drop for RunGuard<K, V> {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            self.cache
                .store
                .abandon(self.hash, run.flight.as_ref(), self.ran_body);
        }
    }
}

impl<K, V> Claim<K, V>
where
    K: StoredKey,
    V: StoredValue,
{
    /// The remote tier to ask before the body runs: not for a `refresh_*`, which runs the
    /// body whatever is stored.
    pub(super) fn asks_remote(&self) -> Option<&'static dyn crate::remote::Remote<K, V>> {
        let run = self.run.run.as_ref()?;
        if run.refresh {
            return None;
        }
        self.run.cache.remote()
    }

    /// A refresh's remote tier and key, before it took the lease.
    pub(super) fn to_take(&self) -> Option<(&'static dyn crate::remote::Remote<K, V>, &K)> {
        match (&self.fill, self.run.cache.remote(), &self.key) {
            (Fill::Take, Some(remote), Some(key)) => Some((remote, key)),
            _ => None,
        }
    }

    pub(super) fn flight(&self) -> Option<&crate::flight::Flight<K, V>> {
        match &self.run.run {
            Some(Run {
                flight: Some(f), ..
            }) => Some(f),
            _ => None,
        }
    }

    /// The next request to the remote tier whose answer may become the value (see
    /// `Flight::send`): its number.
    pub(super) fn send(&self) -> u64 {
        match self.flight() {
            Some(f) => f.send(),
            None => 0,
        }
    }

    /// Whether to ask the remote tier once more before taking `fetched`, a value read from
    /// it: callers joined while the request was on its way, and may not take its answer (it
    /// may predate an invalidation they must see). The second answer serves them all.
    pub(super) fn looks_again(&self, fetched: &Fetched<V>) -> bool {
        matches!(
            fetched,
            Fetched::Hit { .. } | Fetched::Stale { lease: None, .. }
        ) && self.flight().is_some_and(|f| f.joined_after(self.answer))
    }

    /// Before the fill under a lease: callers that joined until now may take its value (its
    /// compare-and-set fails if an invalidation came in since the lease was taken).
    pub(super) fn before_fill(&mut self) {
        if matches!(self.fill, Fill::Lease(_)) {
            self.answer = self.send();
        }
    }

    /// Takes in the remote tier's answer: on a hit the run ends with its value (the body
    /// does not run); on a miss the lease is kept for the fill.
    pub(super) fn fetched(&mut self, fetched: Fetched<V>, tags: Option<&Vec<String>>) -> Option<V> {
        match fetched {
            Fetched::Hit { value, lives } => {
                // Not kept locally while the tier says no (a near cache that does not hear
                // the other processes' invalidations): the waiters get it all the same.
                let keep = self.run.cache.remote().is_none_or(|r| r.keeps_local());
                let done = Done {
                    value: keep.then(|| value.clone()),
                    unstored: if keep {
                        Outcome::Retry
                    } else {
                        Outcome::Value(value.clone())
                    },
                    tags: tags.cloned(),
                    ran_body: false,
                    lives: lives.map(crate::clock::nanos),
                };
                self.hand_back(done);
                Some(value)
            }
            // Another process refreshes it: served, kept nowhere.
            Fetched::Stale { value, lease: None } => {
                let done = Done {
                    value: None,
                    unstored: Outcome::Value(value.clone()),
                    tags: tags.cloned(),
                    ran_body: false,
                    lives: None,
                };
                self.hand_back(done);
                Some(value)
            }
            // This caller refreshes it: as a miss under a lease.
            Fetched::Stale { lease, .. } | Fetched::Miss { lease } => {
                // Under a lease, the fill's compare-and-set tells whether an invalidation came
                // in meanwhile: callers may join the run until the fill is sent (see
                // `before_fill`); without one, only those that joined before the fetch.
                self.fill = lease.map_or(Fill::Nothing, Fill::Lease);
                None
            }
        }
    }

    /// Hands a run that ran the body back to the store: the value is kept locally only if
    /// the remote tier, where there is one, stored it (`stored`); the waiters get it anyway,
    /// unless an invalidation overtook the run (then they look again: they may have joined
    /// it after the invalidation returned, in another process).
    pub(super) fn complete(mut self, mut done: Done<V>, stored: Filled, tags: Option<Vec<String>>) {
        if let (Some(lease), Some(key), Some(remote)) =
            (self.fill.take_lease(), &self.key, self.run.cache.remote())
        {
            // Nothing to fill (an `Err`, an `unless`): the lease goes back.
            remote.release(key, lease);
        }
        let keep =
            stored == Filled::Stored && self.run.cache.remote().is_none_or(|r| r.keeps_local());
        if !keep && let Some(v) = done.value.take() {
            done.unstored = match stored {
                Filled::Overtaken => Outcome::Retry,
                _ => Outcome::Value(v),
            };
        }
        done.tags = tags;
        self.hand_back(done);
    }

    /// Hands the run back to the store with `done`. Forced inline in optimised builds: the
    /// end of every miss, whose `Done` is not copied again.
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(super) fn hand_back(&mut self, done: Done<V>) {
        if self.answer != 0
            && let Some(flight) = self.flight()
        {
            flight.answers(self.answer);
        }
        // The key and the run are handed back together, once.
        if self.key.is_some()
            && let Some(run) = self.run.run.take()
            && let Some(key) = self.key.take()
        {
            self.run.cache.store.complete(self.run.hash, key, run, done);
        }
    }
}

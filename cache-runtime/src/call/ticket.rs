//! The ticket: the right, and duty, to run a cached function's body for one key, which a
//! lookup hands to the caller that must run it (that caller *leads* the key's flight). It
//! asks the remote tier first, if the cache has one, then runs the body with no lock held,
//! and hands the result back to the store, which stores it and wakes the flight's waiters.

use super::args::{Args, call_once};
use crate::backend::{Memory, Tiers};
use crate::cache::Cache;
use crate::flight::Outcome;
use crate::key::StoredKey;
use crate::ongoing;
use crate::policy::Policy;
use crate::policy::StoredValue;
use crate::remote::{Fetched, Filled, Lease};
use crate::store::{Done, Run};
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;

/// The right, and duty, to run a cached function's body for one key.
///
/// Dropping it without [`Ticket::run`] (a panic in the body, a cancelled future) wakes the
/// callers waiting for this key, and one of them runs the body instead.
///
/// `B`, the cache's backend, says whether the cache may have a remote tier: a function whose
/// entries live in memory does not compile the remote tier's part of a run.
#[must_use = "a ticket must run the body"]
pub struct Ticket<R, P: Policy<R, Stored = V>, K: 'static, V: 'static, B = Memory> {
    /// `None`: run the body and store nothing (a bypass, `MEMOCACHE_DISABLE`, a body that
    /// calls itself with the same key).
    claim: Option<Claim<K, V>>,
    /// The labels of the entry it stores (see [`Lookup::tags`](crate::call::Lookup::tags)).
    tags: Option<Vec<String>>,
    _result: PhantomData<fn(P, B) -> R>,
}

/// A ticket's hold on its cache: where the result goes, the run to hand back, and what the
/// remote tier may do with the value.
struct Claim<K: 'static, V: 'static> {
    /// `None` once handed to the store.
    key: Option<K>,
    /// The run, and the cache and hash it is in (the ticket's: it is moved at every step of a
    /// miss, and fits in fewer bytes without copies of them).
    run: RunGuard<K, V>,
    /// What the run may do in the remote tier: fill under its lease, or nothing (without a
    /// lease, or with no remote tier); a `refresh_*` takes the key's lease first, whatever
    /// is there, so that a later refresh or an invalidation overtakes it.
    fill: Fill,
    /// Which of the flight's sends the value answers (see `Flight::answers`; 0: none).
    answer: u64,
}

/// See [`Claim::fill`].
enum Fill {
    Nothing,
    Lease(Lease),
    /// A refresh, before it took the lease.
    Take,
}

impl Fill {
    /// Takes the lease out (the rest stays), to fill under or give back.
    fn take_lease(&mut self) -> Option<Lease> {
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
    cache: &'static Cache<K, V>,
    hash: u64,
    run: Option<Run<K, V>>,
    /// Whether the body started: an abandoned run counts as a miss then.
    ran_body: bool,
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
    fn refreshes(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.refresh)
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

impl<R, V, P, K, B> Ticket<R, P, K, V, B>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
    B: Tiers,
{
    /// A ticket that runs the body and stores nothing.
    pub(crate) fn uncached() -> Self {
        Ticket {
            claim: None,
            tags: None,
            _result: PhantomData,
        }
    }

    /// The ticket for a run the store handed out.
    pub(crate) fn new(key: K, run: RunGuard<K, V>) -> Self {
        Ticket {
            claim: Some(Claim {
                key: Some(key),
                fill: if run.refreshes() {
                    Fill::Take
                } else {
                    Fill::Nothing
                },
                run,
                answer: 0,
            }),
            tags: None,
            _result: PhantomData,
        }
    }

    /// Runs `body` (no lock held) and stores what the policy keeps of its result, unless
    /// `unless` says no; returns the result. With a remote tier, its answer comes first: a
    /// remote hit runs no body.
    #[inline]
    pub fn run<U: FnOnce(&R) -> bool, F: FnOnce() -> R>(self, unless: U, body: F) -> R {
        self.call(unless, (body,), call_once::<R, F>)
    }

    /// [`Ticket::run`] of `body(args..)`: generated code passes the worker as a function
    /// pointer (see [`Args`]), so that this is compiled once per signature (and key, value,
    /// `unless`), not once per cached function. Never inlined: the hit path it follows
    /// stays small.
    #[inline(never)]
    pub fn call<U: FnOnce(&R) -> bool, A: Args<R>>(
        mut self,
        unless: U,
        args: A,
        body: A::Body,
    ) -> R {
        // A constant condition for a backend without a remote tier: the rest of this
        // function is not even compiled for it.
        if const { !B::REMOTE } || self.local() {
            return self.call_local(unless, args, body);
        }
        if let Some(v) = self.before() {
            return v;
        }
        let result = args.call(body);
        let kept = P::keep(&result);
        // `unless` is asked about a value that would be stored, and only then.
        let refused = kept.is_some() && unless(&result);
        self.after(&result, kept, refused);
        result
    }

    /// Whether the run has a cache and the cache no remote tier (its backend may have one,
    /// and the tier not be there).
    fn local(&self) -> bool {
        self.claim
            .as_ref()
            .is_some_and(|c| c.run.cache.remote().is_none())
    }

    /// [`Ticket::call`] in a cache without a remote tier (most of them): no lease, no fill,
    /// no send to count, so the run goes straight from the body to the store. By reference:
    /// the ticket is not copied again.
    fn call_local<U: FnOnce(&R) -> bool, A: Args<R>>(
        &mut self,
        unless: U,
        args: A,
        body: A::Body,
    ) -> R {
        self.announce();
        self.body_starts();
        let result = args.call(body);
        self.local_after(&result, unless);
        result
    }

    /// [`Ticket::run_async`] in a cache without a remote tier, as [`Ticket::call_local`].
    async fn run_local_async<U: FnOnce(&R) -> bool>(
        mut self,
        unless: U,
        body: impl Future<Output = R>,
    ) -> R {
        self.announce();
        self.body_starts();
        let result = body.await;
        self.local_after(&result, unless);
        result
    }

    /// After the body ran, in a cache without a remote tier: the result to the store.
    fn local_after<U: FnOnce(&R) -> bool>(&mut self, result: &R, unless: U) {
        let kept = P::keep(result);
        let refused = kept.is_some() && unless(result);
        let mut done = Self::keep(result, kept, refused);
        done.tags = self.tags.take();
        if let Some(claim) = &mut self.claim {
            claim.hand_back(done);
        }
    }

    /// The `async` form of [`Ticket::run`].
    pub async fn run_async<U: FnOnce(&R) -> bool>(
        mut self,
        unless: U,
        body: impl Future<Output = R>,
    ) -> R {
        if const { !B::REMOTE } || self.local() {
            return self.run_local_async(unless, body).await;
        }
        if let Some(v) = self.before_async().await {
            return v;
        }
        let result = body.await;
        let kept = P::keep(&result);
        let refused = kept.is_some() && unless(&result);
        self.after_async(&result, kept, refused).await;
        result
    }

    /// Before the body runs: the tags announced, and the remote tier's answer if it has one
    /// (then the run ends with it, and the body does not run).
    fn before(&mut self) -> Option<R> {
        self.announce();
        let tags = self.tags.as_deref().unwrap_or_default();
        if let Some(claim) = &mut self.claim
            && let Some(remote) = claim.asks_remote()
        {
            let fetch = |claim: &Claim<K, V>| match &claim.key {
                Some(key) => remote.fetch(key, tags),
                None => Fetched::Miss { lease: None },
            };
            claim.answer = claim.send();
            let mut fetched = fetch(claim);
            if claim.looks_again(&fetched) {
                claim.answer = claim.send();
                fetched = fetch(claim);
            }
            if let Some(v) = claim.fetched(fetched, self.tags.as_ref()) {
                return Some(P::restore(v));
            }
        }
        if let Some(claim) = &mut self.claim
            && let Some((remote, key)) = claim.to_take()
        {
            let lease = remote.take(key, tags);
            claim.fill = lease.map_or(Fill::Nothing, Fill::Lease);
        }
        self.body_starts();
        None
    }

    /// The `async` form of [`Ticket::before`].
    async fn before_async(&mut self) -> Option<R> {
        self.announce();
        if let Some(claim) = &mut self.claim
            && let Some(remote) = claim.asks_remote()
        {
            let tag_list = self.tags.as_deref().unwrap_or_default();
            claim.answer = claim.send();
            let mut fetched = match &claim.key {
                Some(key) => remote.fetch_async(key, tag_list).await,
                None => Fetched::Miss { lease: None },
            };
            if claim.looks_again(&fetched) {
                claim.answer = claim.send();
                fetched = match &claim.key {
                    Some(key) => remote.fetch_async(key, tag_list).await,
                    None => Fetched::Miss { lease: None },
                };
            }
            if let Some(v) = claim.fetched(fetched, self.tags.as_ref()) {
                return Some(P::restore(v));
            }
        }
        if let Some(claim) = &mut self.claim
            && let Some((remote, key)) = claim.to_take()
        {
            let lease = remote
                .take_async(key, self.tags.as_deref().unwrap_or_default())
                .await;
            claim.fill = lease.map_or(Fill::Nothing, Fill::Lease);
        }
        self.body_starts();
        None
    }

    /// After the body ran: its result handed to the remote tier (if any) and to the store.
    fn after(mut self, result: &R, kept: Option<V>, refused: bool) {
        let done = Self::keep(result, kept, refused);
        let tags = self.tags.take();
        if let Some(mut claim) = self.claim.take() {
            claim.before_fill();
            let stored = match (claim.run.cache.remote(), &claim.key, &done.value) {
                (Some(remote), Some(key), Some(value)) => match claim.fill.take_lease() {
                    Some(lease) => {
                        remote.fill(key, value, tags.as_deref().unwrap_or_default(), lease)
                    }
                    None => Filled::Failed,
                },
                _ => Filled::Stored,
            };
            claim.complete(done, stored, tags);
        }
    }

    /// The `async` form of [`Ticket::after`].
    async fn after_async(mut self, result: &R, kept: Option<V>, refused: bool) {
        let done = Self::keep(result, kept, refused);
        let tags = self.tags.take();
        if let Some(mut claim) = self.claim.take() {
            claim.before_fill();
            let stored = match (claim.run.cache.remote(), &claim.key, &done.value) {
                (Some(remote), Some(key), Some(value)) => match claim.fill.take_lease() {
                    Some(lease) => {
                        remote
                            .fill_async(key, value, tags.as_deref().unwrap_or_default(), lease)
                            .await
                    }
                    None => Filled::Failed,
                },
                _ => Filled::Stored,
            };
            claim.complete(done, stored, tags);
        }
    }

    /// Labels the entry the run stores (see [`Lookup::tags`](crate::call::Lookup::tags)).
    pub(crate) fn set_tags(&mut self, tags: Option<Vec<String>>) {
        self.tags = tags;
    }

    /// Records on the flight, before the body runs, the tags its entry will carry: a tag
    /// invalidation then detaches the flight only if they match. And, where an invalidation
    /// that goes over many shards is in progress and may cover this run, makes it store
    /// nothing (see [`crate::ongoing`]).
    fn announce(&mut self) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        let store = &claim.run.cache.store;
        let Some(run) = claim.run.run.as_mut() else {
            return;
        };
        if let (Some(tags), Some(flight)) = (&self.tags, &run.flight) {
            flight.set_tags(tags);
        }
        if ongoing::dooms(store.id(), self.tags.as_deref()) {
            run.doomed = true;
            if let Some(flight) = &run.flight {
                store.doom(flight);
            }
        }
    }

    fn body_starts(&mut self) {
        if let Some(claim) = &mut self.claim {
            claim.run.ran_body = true;
        }
    }

    /// What the store keeps of `result` (`kept`, what the policy keeps of it, unless
    /// `refused`), and what the waiters get when it keeps nothing: what `unless` refused is
    /// not stored, but the callers waiting for this run get it; an `Err` too, where the
    /// policy shares errors.
    fn keep(result: &R, kept: Option<V>, refused: bool) -> Done<V> {
        let (value, unstored) = match kept {
            Some(v) if !refused => (Some(v), Outcome::Retry),
            Some(v) => (None, Outcome::Value(v)),
            None => (
                None,
                P::share_error(result).map_or(Outcome::Retry, Outcome::Error),
            ),
        };
        Done {
            value,
            unstored,
            tags: None,
            ran_body: true,
            lives: None,
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
    fn asks_remote(&self) -> Option<&'static dyn crate::remote::Remote<K, V>> {
        let run = self.run.run.as_ref()?;
        if run.refresh {
            return None;
        }
        self.run.cache.remote()
    }

    /// A refresh's remote tier and key, before it took the lease.
    fn to_take(&self) -> Option<(&'static dyn crate::remote::Remote<K, V>, &K)> {
        match (&self.fill, self.run.cache.remote(), &self.key) {
            (Fill::Take, Some(remote), Some(key)) => Some((remote, key)),
            _ => None,
        }
    }

    fn flight(&self) -> Option<&crate::flight::Flight<K, V>> {
        self.run.run.as_ref().and_then(|r| r.flight.as_deref())
    }

    /// The next request to the remote tier whose answer may become the value (see
    /// `Flight::send`): its number.
    fn send(&self) -> u64 {
        self.flight().map_or(0, crate::flight::Flight::send)
    }

    /// Whether to ask the remote tier once more before taking `fetched`, a value read from
    /// it: callers joined while the request was on its way, and may not take its answer (it
    /// may predate an invalidation they must see). The second answer serves them all.
    fn looks_again(&self, fetched: &Fetched<V>) -> bool {
        matches!(
            fetched,
            Fetched::Hit { .. } | Fetched::Stale { lease: None, .. }
        ) && self.flight().is_some_and(|f| f.joined_after(self.answer))
    }

    /// Before the fill under a lease: callers that joined until now may take its value (its
    /// compare-and-set fails if an invalidation came in since the lease was taken).
    fn before_fill(&mut self) {
        if matches!(self.fill, Fill::Lease(_)) {
            self.answer = self.send();
        }
    }

    /// Takes in the remote tier's answer: on a hit the run ends with its value (the body
    /// does not run); on a miss the lease is kept for the fill.
    fn fetched(&mut self, fetched: Fetched<V>, tags: Option<&Vec<String>>) -> Option<V> {
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
    fn complete(mut self, mut done: Done<V>, stored: Filled, tags: Option<Vec<String>>) {
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

    fn hand_back(&mut self, done: Done<V>) {
        if self.answer != 0
            && let Some(flight) = self.flight()
        {
            flight.answers(self.answer);
        }
        let (Some(key), Some(run)) = (self.key.take(), self.run.run.take()) else {
            return;
        };
        self.run.cache.store.complete(self.run.hash, key, run, done);
    }
}

//! The ticket: the right, and duty, to run a cached function's body for one key, which a
//! lookup hands to the caller that must run it (that caller *leads* the key's flight). It
//! asks the remote tier first, if the cache has one, then runs the body with no lock held,
//! and hands the result back to the store, which stores it and wakes the flight's waiters.
//! What it holds of the cache and the remote tier is its claim ([`super::claim`]).

use super::args::{Args, call_once};
use super::claim::{Claim, Fill, RunGuard};
use crate::backend::{Memory, Tiers};
use crate::flight::Outcome;
use crate::ongoing;
use crate::policy::Policy;
use crate::remote::{Fetched, Filled};
use crate::store::Done;
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

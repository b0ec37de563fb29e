//! The ticket: the right, and duty, to run a cached function's body for one key, which a
//! lookup hands to the caller that must run it (that caller *leads* the key's flight). It
//! asks the remote tier first, if the cache has one, then runs the body with no lock held,
//! and hands the result back to the store, which stores it and wakes the flight's waiters.
//! What it holds of the cache and the remote tier is its claim ([`super::claim`]).
//!
//! The ticket's typed part ([`Ticket`]) is thin: it runs the body and asks the policy what
//! to keep of the result. Everything else is its lead ([`Lead`]), compiled once per key and
//! value type, whatever the functions' return types.

use super::args::{Args, call_once};
use super::claim::{Claim, Fill, RunGuard};
use crate::backend::{Memory, Tiers};
use crate::flight::{Header, Outcome};
use crate::key::StoredKey;
use crate::ongoing;
use crate::policy::{Policy, StoredValue};
use crate::remote::{Fetched, Filled};
use crate::rep::Rep;
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
///
/// `K` and `V` are what the cache keeps, the function's own types or their erased forms (see
/// `rep.rs`): type parameters, not projections, so that an `async` run holds none across an
/// `.await` (a future of a return type that borrows `'static` data stays `Send`).
#[must_use = "a ticket must run the body"]
pub struct Ticket<R, P: Policy<R>, K: 'static, V: 'static, B = Memory> {
    lead: Lead<K, V>,
    _result: PhantomData<fn(P, B) -> R>,
}

/// What a ticket holds and does, whatever the function's return type.
pub(crate) struct Lead<K: 'static, V: 'static> {
    /// `None`: run the body and store nothing (a bypass, `MEMOCACHE_DISABLE`, a body that
    /// calls itself with the same key).
    claim: Option<Claim<K, V>>,
    /// The labels of the entry it stores (see [`Lookup::tags`](crate::call::Lookup::tags)).
    tags: Option<Vec<String>>,
}

/// What the store keeps of `result` (what the policy keeps of it, unless `unless` refuses
/// it: `unless` is asked about a value that would be stored, and only then), in the store's
/// form `Rp`, and what the waiters get when it keeps nothing: what `unless` refused is not
/// stored, but the callers waiting for this run get it; an `Err` too, where the policy shares
/// errors.
#[inline]
fn kept<R, P: Policy<R>, Rp: Rep>(
    result: &R,
    unless: impl FnOnce(&R) -> bool,
) -> Done<Rp::Value<P::Stored>> {
    let (value, unstored) = match P::keep(result) {
        Some(v) if !unless(result) => (Some(Rp::value_in(v)), Outcome::Retry),
        Some(v) => (None, Outcome::Value(Rp::value_in(v))),
        None => match P::share_error(result) {
            Some(e) => (None, Outcome::Error(e)),
            None => (None, Outcome::Retry),
        },
    };
    Done {
        value,
        unstored,
        tags: None,
        ran_body: true,
        lives: None,
    }
}

impl<R, V, P, K, B> Ticket<R, P, K, V, B>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
    B: Tiers<Rep: Rep<Value<P::Stored> = V>>,
{
    /// A ticket that runs the body and stores nothing.
    pub(crate) fn uncached() -> Self {
        Self::of(Lead::uncached())
    }

    /// The ticket of this lead.
    #[inline]
    pub(crate) fn of(lead: Lead<K, V>) -> Self {
        Ticket {
            lead,
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
        // function is not even compiled for it. A cache without a remote tier (most of
        // them) has no lease, no fill, no send to count: the run goes straight from the body
        // to the store.
        if const { !B::REMOTE } || self.lead.local() {
            self.lead.starts();
            let result = args.call(body);
            self.lead.ends(kept::<R, P, B::Rep>(&result, unless));
            return result;
        }
        if let Some(v) = self.lead.before().and_then(B::Rep::value_out::<P::Stored>) {
            return P::restore(v);
        }
        let result = args.call(body);
        self.lead.after(kept::<R, P, B::Rep>(&result, unless));
        result
    }

    /// [`Ticket::run_async`] in a cache without a remote tier, as [`Ticket::call`]'s.
    async fn run_local_async<U: FnOnce(&R) -> bool>(
        mut self,
        unless: U,
        body: impl Future<Output = R>,
    ) -> R {
        self.lead.starts();
        let result = body.await;
        self.lead.ends(kept::<R, P, B::Rep>(&result, unless));
        result
    }

    /// The `async` form of [`Ticket::run`].
    pub async fn run_async<U: FnOnce(&R) -> bool>(
        mut self,
        unless: U,
        body: impl Future<Output = R>,
    ) -> R {
        if const { !B::REMOTE } || self.lead.local() {
            return self.run_local_async(unless, body).await;
        }
        if let Some(v) = self
            .lead
            .before_async()
            .await
            .and_then(B::Rep::value_out::<P::Stored>)
        {
            return P::restore(v);
        }
        let result = body.await;
        self.lead
            .after_async(kept::<R, P, B::Rep>(&result, unless))
            .await;
        result
    }

    /// Labels the entry the run stores (see [`Lookup::tags`](crate::call::Lookup::tags)).
    pub(crate) fn set_tags(&mut self, tags: Option<Vec<String>>) {
        self.lead.tags = tags;
    }
}

impl<K: StoredKey, V: StoredValue> Lead<K, V> {
    /// A lead that runs the body and stores nothing.
    pub(crate) fn uncached() -> Self {
        Lead {
            claim: None,
            tags: None,
        }
    }

    /// The lead of a run the store handed out.
    pub(crate) fn new(key: K, run: RunGuard<K, V>) -> Self {
        Lead {
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
        }
    }

    /// Whether the run has no remote tier to go through: no cache, or a cache without one
    /// (its backend may have one, and the tier not be there).
    fn local(&self) -> bool {
        match &self.claim {
            Some(c) => c.run.cache.remote().is_none(),
            None => true,
        }
    }

    /// Before the body runs, in a cache without a remote tier.
    fn starts(&mut self) {
        self.announce();
        self.body_starts();
    }

    /// After the body ran, in a cache without a remote tier: the result to the store.
    fn ends(&mut self, mut done: Done<V>) {
        done.tags = self.tags.take();
        if let Some(claim) = &mut self.claim {
            claim.hand_back(done);
        }
    }

    /// Before the body runs: the tags announced, and the remote tier's answer if it has one
    /// (then the run ends with it, and the body does not run).
    fn before(&mut self) -> Option<V> {
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
                return Some(v);
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
    async fn before_async(&mut self) -> Option<V> {
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
                return Some(v);
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
    fn after(&mut self, done: Done<V>) {
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
    async fn after_async(&mut self, done: Done<V>) {
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

    /// Records on the flight, before the body runs, the tags its entry will carry: a tag
    /// invalidation then detaches the flight only if they match. And, where an invalidation
    /// that goes over many shards is in progress and may cover this run, makes it store
    /// nothing (see [`crate::ongoing`]).
    fn announce(&mut self) {
        let Some(claim) = &mut self.claim else {
            return;
        };
        let store = &claim.run.cache.store;
        let Some(run) = &mut claim.run.run else {
            return;
        };
        #[allow(clippy::manual_map)] // a `match` compiles no `Option::map` per type
        let header = match &run.flight {
            Some(flight) => Some(&***flight),
            None => None,
        };
        if announce(store.id(), &self.tags, header) {
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
}

/// [`Lead::announce`], but for what it does to the store: records the tags on the flight,
/// and says whether an invalidation in progress dooms the run. Not generic; inlined in
/// optimised builds only.
#[cfg_attr(not(debug_assertions), inline)]
fn announce(store: usize, tags: &Option<Vec<String>>, flight: Option<&Header>) -> bool {
    let tags = tags.as_deref();
    if let (Some(tags), Some(flight)) = (tags, flight) {
        flight.set_tags(tags);
    }
    ongoing::dooms(store, tags)
}

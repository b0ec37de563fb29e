//! A call of a cached function, in two steps: a lookup ([`Call`]) answers a hit or hands out
//! a [`Ticket`]; the ticket runs the body with no lock held and stores what it returns. And the
//! generated helpers' calls: `invalidate_f`, `invalidate_all_f` of an `async fn`.
//!
//! Two steps, not one `get_or_compute(key, body)`: the lookup borrows the arguments (a hit
//! allocates nothing) and has ended by the time the body takes them by value. Generated code
//! reaches them through the function's handle and its return type:
//! `of::<R>(f_cache()).lookup(key)` (see [`site`]), then `.run((a, b), worker)` on what it
//! found ([`Lookup::run`]: a hit's value, or the body run under the ticket).
//!
//! Files: this one (the lookups), [`site`] (what generated code calls on a handle, and on
//! what a lookup found), [`args`] (the body's arguments and its function pointer),
//! [`ticket`] (running the body, the remote tier's turn), [`claim`] (what a ticket holds of
//! the cache and the remote tier), [`stale`] (who refreshes an entry found stale), [`wait`]
//! (waiting for another caller's run).

mod args;
mod claim;
mod site;
mod stale;
mod ticket;
mod wait;

use crate::backend::{Backend, KeyOf, Tiers, ValOf, Wipe};
use crate::bypass;
use crate::cache::Cache;
use crate::copies::Copies;
use crate::flight::Flight;
use crate::handle::CacheHandle;
use crate::key::KeyRef;
use crate::key::StoredKey;
use crate::policy::Policy;
use crate::policy::StoredValue;
use crate::rep::Rep;
use crate::store::{Found, Fresh, Held, copies_possible};
pub use args::Args;
use claim::RunGuard;
pub use site::{
    NotResult, OkOf, OkOnlyOf, OkRefused, Sel, Tags, ValueOf, ValueRefused, never, of, ok, tag,
};
use stale::{CallerRefreshes, OnTask, OnThread, Refresh, StaleRefresh};
use std::any::TypeId;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use ticket::Lead;
pub use ticket::Ticket;
use wait::{WaitFlight, answer};

/// Whether a call may be answered from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A plain call: a hit returns the stored value.
    Lookup,
    /// `refresh_*`: always run the body, and store its result.
    Refresh,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup<R, T> {
    /// The answer, without running the body.
    Hit(R),
    /// The caller must run the body with this ticket.
    Miss(T),
}

/// A call of a cached function, as generated code makes one: its handle (which holds the
/// store's settings, used once, when the store is made), whether it may be answered from the
/// cache, what it stores (`policy`) and where (`backend`). Its lookups answer a hit or hand
/// out a [`Ticket`].
pub struct Call<R, P, B> {
    handle: &'static CacheHandle,
    mode: Mode,
    backend: B,
    _policy: PhantomData<fn(P) -> R>,
}

impl<R, P, B> Call<R, P, B> {
    /// The call.
    #[inline]
    pub fn new(handle: &'static CacheHandle, mode: Mode, _policy: P, backend: B) -> Self {
        Call {
            handle,
            mode,
            backend,
            _policy: PhantomData,
        }
    }
}

impl<R, V, P, B> Call<R, P, B>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    B: Copy + Send + Sync + 'static,
{
    /// Looks `key` up in the handle's cache (creating it on the first call).
    ///
    /// A hit returns the stored value. A miss returns a ticket, after waiting, if another
    /// caller is already running the body for this key, for that run's result. An entry in
    /// its `stale` window is a hit whose refresh the caller runs (the ticket).
    // Forced in optimised builds only: a debug build compiles faster without it.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn lookup<L: KeyRef>(self, key: L) -> Lookup<R, TicketOf<R, P, L, V, B>>
    where
        B: Backend<KeyOf<B, L::Owned>, ValOf<B, V>>,
    {
        if let Some(v) = copy_hit::<V, L, B>(self.handle, self.mode, &key) {
            return Lookup::Hit(P::restore(v));
        }
        self.lookup_sync(key, CallerRefreshes)
    }

    /// [`Call::lookup`] for a `stale` function whose arguments can be rebuilt from its key:
    /// the refresh of a stale entry runs `refresh(&key)` on a background thread, and the
    /// caller that found it stale is answered at once like everyone else.
    pub fn lookup_stale<L: KeyRef, F>(
        self,
        key: L,
        refresh: F,
    ) -> Lookup<R, TicketOf<R, P, L, V, B>>
    where
        B: Backend<KeyOf<B, L::Owned>, ValOf<B, V>>,
        F: FnOnce(&L::Owned) + Send + 'static,
    {
        if let Some(v) = copy_hit::<V, L, B>(self.handle, self.mode, &key) {
            return Lookup::Hit(P::restore(v));
        }
        let refresh = move |key: &KeyOf<B, L::Owned>| {
            if let Some(key) = B::Rep::key_out::<L::Owned>(key) {
                refresh(key);
            }
        };
        self.lookup_sync(key, OnThread(refresh))
    }

    /// The `async` form of [`Call::lookup`]: waiting for another caller's run does not block
    /// the thread.
    ///
    /// `SK` and `SV`, what the cache keeps (inferred), are type parameters, not projections,
    /// so that the future holds none across an `.await` (see [`Ticket`]).
    pub fn lookup_async<L, SK, SV>(
        self,
        key: L,
    ) -> impl Future<Output = Lookup<R, Ticket<R, P, SK, SV, B>>>
    where
        L: KeyRef,
        SK: Hash + Eq + Clone + Send + Sync + 'static,
        SV: Clone + Send + Sync + 'static,
        B: Backend<SK, SV> + Tiers<Rep: Rep<Key<L::Owned> = SK, Value<V> = SV>>,
    {
        self.lookup_async_with::<L, _, SK, SV>(key, CallerRefreshes)
    }

    /// The `async` form of [`Call::lookup_stale`]: with the `tokio` feature, inside a tokio
    /// runtime, the refresh is a spawned task; elsewhere the caller that found the entry stale
    /// runs it.
    pub fn lookup_stale_async<L, F, Fut, SK, SV>(
        self,
        key: L,
        refresh: F,
    ) -> impl Future<Output = Lookup<R, Ticket<R, P, SK, SV, B>>>
    where
        L: KeyRef,
        SK: Hash + Eq + Clone + Send + Sync + 'static,
        SV: Clone + Send + Sync + 'static,
        B: Backend<SK, SV> + Tiers<Rep: Rep<Key<L::Owned> = SK, Value<V> = SV>>,
        F: FnOnce(L::Owned) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let refresh = move |key: SK| {
            let key = B::Rep::key_into::<L::Owned>(key);
            async move {
                if let Some(key) = key {
                    refresh(key).await;
                }
            }
        };
        self.lookup_async_with::<L, _, SK, SV>(key, OnTask(refresh))
    }

    /// The lookup past the thread's copies. Its loop is typed (a waiter answers with the
    /// result the run it waited for shares); its looks at the store are not ([`start`],
    /// [`step`]), and see the key in the store's form (`rep.rs`).
    #[inline]
    fn lookup_sync<L, S>(self, key: L, stale: S) -> Lookup<R, TicketOf<R, P, L, V, B>>
    where
        L: KeyRef,
        B: Backend<KeyOf<B, L::Owned>, ValOf<B, V>>,
        S: StaleRefresh<KeyOf<B, L::Owned>, ValOf<B, V>>,
    {
        let mut slot = Default::default();
        let key = B::Rep::key_ref(&key, &mut slot);
        let types = B::Rep::types::<L::Owned, V>();
        let (cache, hash, mut held) = match start(self.handle, self.mode, self.backend, key, types)
        {
            Start::Cache(cache, hash, held) => (cache, hash, held),
            Start::Done(looked) => return typed(looked),
        };
        let mut stale = Some(stale);
        loop {
            let flight = match step(cache, hash, key, self.mode, &mut stale, held.take()) {
                Step::Done(looked) => return typed(looked),
                Step::Wait(flight) => flight,
            };
            if flight.started_on_this_thread() {
                // The body calls itself with the same key: waiting would never end.
                return Lookup::Miss(Ticket::uncached());
            }
            let seen = flight.joined();
            let outcome = flight.wait();
            if let Some(answer) = answer::<R, V, P, B::Rep>(outcome)
                && flight.may_take(seen)
            {
                cache.store.count_hit();
                return Lookup::Hit(answer);
            }
            // The run ended with nothing to share: look again (and maybe run it).
        }
    }

    /// The `async` lookups. What the cache keeps, `SK` and `SV`, are type parameters, not
    /// projections, so that the future holds none across an `.await` (see [`Ticket`]).
    async fn lookup_async_with<L, S, SK, SV>(
        self,
        key: L,
        stale: S,
    ) -> Lookup<R, Ticket<R, P, SK, SV, B>>
    where
        L: KeyRef,
        SK: StoredKey,
        SV: StoredValue,
        B: Backend<SK, SV> + Tiers<Rep: Rep<Key<L::Owned> = SK, Value<V> = SV>>,
        S: StaleRefresh<SK, SV>,
    {
        if let Some(v) = copy_hit::<V, L, B>(self.handle, self.mode, &key) {
            return Lookup::Hit(P::restore(v));
        }
        // The store's form of the key lives only between awaits (an erased one borrows the
        // key, and need not be `Send`).
        let started = {
            let types = B::Rep::types::<L::Owned, V>();
            let mut slot = Default::default();
            let key = B::Rep::key_ref(&key, &mut slot);
            match start(self.handle, self.mode, self.backend, key, types) {
                // A task does not keep a lock past its first look: the future stays `Send`.
                Start::Cache(cache, hash, held) => {
                    drop(held);
                    Ok((cache, hash))
                }
                Start::Done(looked) => Err(looked),
            }
        };
        let (cache, hash) = match started {
            Ok(started) => started,
            Err(looked) => return typed(looked),
        };
        let mut stale = Some(stale);
        loop {
            let stepped = {
                let mut slot = Default::default();
                let key = B::Rep::key_ref(&key, &mut slot);
                step(cache, hash, key, self.mode, &mut stale, None)
            };
            let flight = match stepped {
                Step::Done(looked) => return typed(looked),
                Step::Wait(flight) => flight,
            };
            // No same-thread check here: tasks share threads, and a task that waits for
            // another task's run on the same thread is not waiting for itself.
            let seen = flight.joined();
            let outcome = (WaitFlight {
                flight: flight.clone(),
            })
            .await;
            if let Some(answer) = answer::<R, V, P, B::Rep>(outcome)
                && flight.may_take(seen)
            {
                cache.store.count_hit();
                return Lookup::Hit(answer);
            }
        }
    }
}

/// The lookup's answer, for return type `R`: a value the store kept for another type (which
/// the handle rules out) is a miss whose run stores nothing.
#[inline]
fn typed<R, V, P, K, SV, B>(looked: Looked<K, SV>) -> Lookup<R, Ticket<R, P, K, SV, B>>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    K: StoredKey,
    SV: StoredValue,
    B: Tiers<Rep: Rep<Value<V> = SV>>,
{
    match looked {
        Looked::Value(v) => match B::Rep::value_out::<V>(v) {
            Some(v) => Lookup::Hit(P::restore(v)),
            None => Lookup::Miss(Ticket::uncached()),
        },
        Looked::Lead(lead) => Lookup::Miss(Ticket::of(lead)),
    }
}

/// What a look at the store found, whatever the return type: a value (stored, or the run's
/// the caller waited for), or the run of the body the caller leads.
pub(crate) enum Looked<K: 'static, V: 'static> {
    Value(V),
    Lead(Lead<K, V>),
}

/// A hit from the calling thread's copies (see [`crate::copies`]): no lock, no shared
/// write. Inlined into the caller, ahead of the rest of the lookup, which is not. A store
/// that erases its keys and values keeps no copies.
// Forced in optimised builds only: a debug build compiles faster without it.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn copy_hit<V: Clone + Send + Sync + 'static, L: KeyRef, B: Tiers>(
    handle: &'static CacheHandle,
    mode: Mode,
    key: &L,
) -> Option<V> {
    // `Copies::get` checks the thread's bypass itself, and whether the cache has copies.
    if const { !<B::Rep as Rep>::ERASED && copies_possible::<L::Owned, V>() }
        && mode == Mode::Lookup
    {
        Copies::get::<L::Owned, V, L>(handle.copies(), key)
    } else {
        None
    }
}

/// The ticket a lookup of key `L` hands out.
type TicketOf<R, P, L, V, B> = Ticket<R, P, KeyOf<B, <L as KeyRef>::Owned>, ValOf<B, V>, B>;

/// How every lookup starts.
enum Start<K: 'static, V: 'static> {
    /// Answered already: no cache (a bypass, `MEMOCACHE_DISABLE`), or a fresh hit by the
    /// short path.
    Done(Looked<K, V>),
    /// Go on with the cache, the key's hash, and the shard if it is still locked (so that a
    /// miss takes its lock once).
    Cache(&'static Cache<K, V>, u64, Option<Held<'static, K, V>>),
}

/// What one look at the store decided: the answer, or a run of the body to wait for.
enum Step<K: 'static, V: 'static> {
    Done(Looked<K, V>),
    /// Another caller runs the body.
    Wait(Arc<Flight<K, V>>),
}

/// How every lookup starts: no cache (a bypass, `MEMOCACHE_DISABLE`), a fresh hit by the
/// short path, or the cache and the key's hash to go on with. `types`: the function's key
/// and value types (see [`Cache`] and [`Rep::Types`]).
#[inline]
fn start<V, L, B>(
    handle: &'static CacheHandle,
    mode: Mode,
    backend: B,
    key: &L,
    types: <B::Rep as Rep>::Types,
) -> Start<L::Owned, V>
where
    V: StoredValue,
    L: KeyRef,
    B: Backend<L::Owned, V>,
{
    let cache = if bypass::active() {
        None
    } else {
        handle.cache::<L::Owned, V, B>(backend, types)
    };
    let Some(cache) = cache else {
        return Start::Done(Looked::Lead(Lead::uncached()));
    };
    let hash = cache.store.hash(key);
    if mode != Mode::Lookup {
        return Start::Cache(cache, hash, None);
    }
    match cache.store.fresh(hash, key) {
        Fresh::Hit(v) => Start::Done(Looked::Value(v)),
        Fresh::Locked(held) => Start::Cache(cache, hash, Some(held)),
    }
}

/// One look at the store, the part of a lookup that is the same for threads and tasks.
#[inline]
fn step<V, L, S>(
    cache: &'static Cache<L::Owned, V>,
    hash: u64,
    key: &L,
    mode: Mode,
    stale: &mut Option<S>,
    held: Option<Held<'static, L::Owned, V>>,
) -> Step<L::Owned, V>
where
    V: StoredValue,
    L: KeyRef,
    S: StaleRefresh<L::Owned, V>,
{
    let store = &cache.store;
    let looked = match store.begin(hash, key, mode == Mode::Refresh, held) {
        Found::Hit(v) | Found::Stale(v, None) => Looked::Value(v),
        Found::Stale(v, Some(run)) => {
            // The stale entry's refresh runs elsewhere if it can; else this caller runs it
            // and answers with the fresh value, while everyone else gets the stale one.
            let run = RunGuard::new(cache, hash, run);
            let refresh = match stale.take() {
                Some(s) => s.start(key.to_owned_key(), run),
                None => Refresh::Here(key.to_owned_key(), run),
            };
            match refresh {
                Refresh::Started => {
                    store.count_hit();
                    Looked::Value(v)
                }
                Refresh::Here(owned, run) => Looked::Lead(Lead::new(owned, run)),
            }
        }
        Found::Run(run) => Looked::Lead(Lead::new(
            key.to_owned_key(),
            RunGuard::new(cache, hash, run),
        )),
        Found::Join(flight) => return Step::Wait(flight),
    };
    Step::Done(looked)
}

/// The cache `invalidate_f` acts on: the one of this process, or, for a backend with a
/// remote tier, one made now (the remote store holds entries of earlier processes).
fn cache_to_invalidate<K: StoredKey, V: StoredValue, B: Backend<K, V>>(
    handle: &'static CacheHandle,
    backend: B,
    types: TypeId,
) -> Option<&'static Cache<K, V>> {
    if B::REMOTE {
        handle.cache_slow::<K, V, B>(backend, types)
    } else {
        handle.existing_cache::<K, V>(types)
    }
}

/// Removes the entry `key` maps to in `handle`'s cache; true if there was one.
#[allow(clippy::needless_pass_by_value)] // generated code hands the key over
pub fn invalidate<R, P, B, L>(handle: &'static CacheHandle, _policy: P, backend: B, key: L) -> bool
where
    P: Policy<R>,
    B: Backend<KeyOf<B, L::Owned>, ValOf<B, P::Stored>>,
    L: KeyRef,
{
    let types = B::Rep::function_id::<L::Owned, P::Stored>();
    let mut slot = Default::default();
    let key = B::Rep::key_ref(&key, &mut slot);
    match cache_to_invalidate::<KeyOf<B, L::Owned>, ValOf<B, P::Stored>, B>(handle, backend, types)
    {
        Some(c) => c.invalidate(key),
        None => false,
    }
}

/// The `async` form of [`invalidate`], for the helpers of an `async fn`. `SK` and `SV`
/// (inferred) as in [`Call::lookup_async`].
pub fn invalidate_async<R, V, P, B, L, SK, SV>(
    handle: &'static CacheHandle,
    _policy: P,
    backend: B,
    key: L,
) -> impl Future<Output = bool>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    SK: Hash + Eq + Clone + Send + Sync + 'static,
    SV: Clone + Send + Sync + 'static,
    B: Backend<SK, SV> + Tiers<Rep: Rep<Key<L::Owned> = SK, Value<V> = SV>>,
    L: KeyRef,
{
    let types = B::Rep::function_id::<L::Owned, V>();
    invalidate_async_in::<B, L, SK, SV>(handle, backend, key, types)
}

/// [`invalidate_async`] in the cache of `SK` and `SV`: type parameters, not projections, so
/// that the future holds none across an `.await`.
async fn invalidate_async_in<B, L, SK, SV>(
    handle: &'static CacheHandle,
    backend: B,
    key: L,
    types: TypeId,
) -> bool
where
    L: KeyRef,
    SK: StoredKey,
    SV: StoredValue,
    B: Backend<SK, SV> + Tiers<Rep: Rep<Key<L::Owned> = SK>>,
{
    let Some(c) = cache_to_invalidate::<SK, SV, B>(handle, backend, types) else {
        return false;
    };
    // The remote store first, as `Cache::invalidate`; the key's store form lives only
    // between awaits (an erased one borrows the key, and need not be `Send`).
    let remote = match c.remote() {
        Some(r) => {
            let owned = {
                let mut slot = Default::default();
                B::Rep::key_ref(&key, &mut slot).to_owned_key()
            };
            r.invalidate_async(&owned).await
        }
        None => false,
    };
    let mut slot = Default::default();
    c.store.invalidate(B::Rep::key_ref(&key, &mut slot)) | remote
}

/// `invalidate_all_f`: [`CacheHandle::clear`] where this process has the cache; else, for a
/// backend with a remote tier, every remote entry of the function all the same.
pub fn invalidate_all<B: Wipe>(handle: &'static CacheHandle, backend: B) {
    if handle.has_cache() {
        handle.clear();
    } else {
        backend.wipe(handle.name_static());
    }
}

/// The `async` form of [`invalidate_all`], for the helpers of an `async fn`: the remote tier
/// is awaited.
pub async fn invalidate_all_async<B: Wipe>(handle: &'static CacheHandle, backend: B) {
    if handle.has_cache() {
        handle.clear_async().await;
    } else {
        backend.wipe_async(handle.name_static()).await;
    }
}

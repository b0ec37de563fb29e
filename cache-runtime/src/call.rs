//! A call of a cached function, in two steps: `lookup` answers a hit or hands out a
//! [`Ticket`]; the ticket runs the body with no lock held and stores what it returns.
//!
//! Two steps, not one `get_or_compute(key, body)`: the lookup borrows the arguments (a hit
//! allocates nothing) and has ended by the time the body takes them by value.

use crate::bypass;
use crate::config::Config;
use crate::flight::{Flight, Outcome};
use crate::front::Fronts;
use crate::handle::CacheHandle;
use crate::key::KeyRef;
use crate::ongoing;
use crate::policy::Policy;
use crate::store::{Begin, Held, Lead, Store};
use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// The right, and duty, to run a cached function's body for one key.
///
/// Dropping it without [`Ticket::run`] (a panic in the body, a cancelled future) wakes the
/// callers waiting for this key, and one of them runs the body instead.
#[must_use = "a ticket must run the body"]
pub struct Ticket<R, P: Policy<R, Stored = V>, K: 'static, V: 'static> {
    lead: Option<Leader<K, V>>,
    _result: PhantomData<fn(P) -> R>,
}

/// A ticket's hold on the store: where to put the result, and the flight to end.
struct Leader<K: 'static, V: 'static> {
    store: &'static Store<K, V>,
    hash: u64,
    key: K,
    epoch: u64,
    /// See [`Lead::doomed`].
    doomed: bool,
    refresh: bool,
    flight: FlightGuard<K, V>,
}

/// Abandons the flight if the run never finishes.
struct FlightGuard<K: 'static, V: 'static> {
    store: &'static Store<K, V>,
    flight: Option<Arc<Flight<K, V>>>,
}

impl<K: 'static, V: 'static> Drop for FlightGuard<K, V> {
    fn drop(&mut self) {
        if let Some(f) = self.flight.take() {
            self.store.abandon(&f);
        }
    }
}

/// Labels for a stored entry: `()` for none, or `[String; N]`.
pub trait Tags {
    /// The labels, if any.
    fn into_tags(self) -> Option<Vec<String>>;
}

impl Tags for () {
    fn into_tags(self) -> Option<Vec<String>> {
        None
    }
}

impl<const N: usize> Tags for [String; N] {
    fn into_tags(self) -> Option<Vec<String>> {
        (N > 0).then(|| Vec::from(self))
    }
}

/// A tag's text.
pub fn tag<T: Display + ?Sized>(t: &T) -> String {
    t.to_string()
}

/// The `unless` of a function that has none: every result may be stored.
#[must_use]
pub fn never<R>(_: &R) -> bool {
    false
}

fn active_store<K, V>(
    handle: &'static CacheHandle,
    config: fn() -> Config,
) -> Option<&'static Store<K, V>>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    if bypass::active() {
        None
    } else {
        handle.store(config)
    }
}

/// Looks `key` up in `handle`'s cache (creating it with `config()` on the first call).
///
/// A hit returns the stored value. A miss returns a ticket, after waiting, if another caller
/// is already running the body for this key, for that run's result. An entry in its
/// `stale` window is a hit whose refresh the caller runs (the ticket).
// Forced in optimised builds only: a debug build compiles faster without it.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn lookup<R, V: Clone + Send + Sync + 'static, P: Policy<R, Stored = V>, L: KeyRef>(
    handle: &'static CacheHandle,
    mode: Mode,
    policy: P,
    config: fn() -> Config,
    key: L,
) -> Lookup<R, Ticket<R, P, L::Owned, V>> {
    if let Some(v) = front_hit::<R, V, P, L>(handle, mode, &key) {
        return Lookup::Hit(v);
    }
    lookup_sync(handle, mode, policy, config, key, CallerRefreshes)
}

/// [`lookup`] for a `stale` function whose arguments can be rebuilt from its key: the
/// refresh of a stale entry runs `refresh(&key)` on a background thread, and the caller
/// that found it stale is answered at once like everyone else.
pub fn lookup_stale<R, V: Clone + Send + Sync + 'static, P: Policy<R, Stored = V>, L: KeyRef, F>(
    handle: &'static CacheHandle,
    mode: Mode,
    policy: P,
    config: fn() -> Config,
    key: L,
    refresh: F,
) -> Lookup<R, Ticket<R, P, L::Owned, V>>
where
    F: FnOnce(&L::Owned) + Send + 'static,
{
    if let Some(v) = front_hit::<R, V, P, L>(handle, mode, &key) {
        return Lookup::Hit(v);
    }
    lookup_sync(handle, mode, policy, config, key, OnThread(refresh))
}

/// Who refreshes an entry found stale.
trait StaleRefresh<K: 'static, V: 'static> {
    /// Starts the refresh elsewhere, or gives the lead back for the caller to run it.
    fn start(
        self,
        store: &'static Store<K, V>,
        key: K,
        lead: Lead<K, V>,
    ) -> Result<(), (K, Lead<K, V>)>;
}

/// The caller that found the entry stale refreshes it.
struct CallerRefreshes;

impl<K: 'static, V: 'static> StaleRefresh<K, V> for CallerRefreshes {
    fn start(
        self,
        _: &'static Store<K, V>,
        key: K,
        lead: Lead<K, V>,
    ) -> Result<(), (K, Lead<K, V>)> {
        Err((key, lead))
    }
}

/// A background thread refreshes the entry.
struct OnThread<F>(F);

impl<K, V, F> StaleRefresh<K, V> for OnThread<F>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: FnOnce(&K) + Send + 'static,
{
    fn start(
        self,
        store: &'static Store<K, V>,
        key: K,
        lead: Lead<K, V>,
    ) -> Result<(), (K, Lead<K, V>)> {
        // The stale entry's flight stays registered until the refresh ends, so that one
        // refresh runs at a time; dropping the guard, even in a panic, ends it.
        let guard = FlightGuard {
            store,
            flight: lead.flight,
        };
        let offset = crate::clock::offset();
        let refresh = self.0;
        let shared = Arc::new(std::sync::Mutex::new(Some((key, guard, refresh))));
        let job = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("memocache-refresh".into())
            .spawn(move || {
                let taken = job.lock().ok().and_then(|mut j| j.take());
                if let Some((key, guard, refresh)) = taken {
                    crate::clock::set_offset(offset);
                    refresh(&key);
                    drop(guard);
                }
            });
        match spawned {
            Ok(_) => Ok(()),
            // No thread to be had: the caller refreshes, as without a refresher.
            Err(_) => match shared.lock().ok().and_then(|mut j| j.take()) {
                Some((key, mut guard, _)) => Err((
                    key,
                    Lead {
                        epoch: lead.epoch,
                        flight: guard.flight.take(),
                        doomed: lead.doomed,
                        refresh: lead.refresh,
                    },
                )),
                None => Ok(()),
            },
        }
    }
}

/// What one look at the store decided: the answer, or a run of the body to wait for.
enum Step<R, V: Clone + Send + Sync + 'static, P: Policy<R, Stored = V>, L: KeyRef> {
    Answer(Lookup<R, Ticket<R, P, L::Owned, V>>),
    /// Another caller runs the body; the key comes back for the next look.
    Wait(Arc<Flight<L::Owned, V>>, L),
}

/// One look at the store, the part of a lookup that is the same for threads and tasks.
#[inline]
fn step<
    R,
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    L: KeyRef,
    S: StaleRefresh<L::Owned, V>,
>(
    store: &'static Store<L::Owned, V>,
    hash: u64,
    key: L,
    mode: Mode,
    stale: &mut Option<S>,
    held: Option<Held<'static, L::Owned, V>>,
) -> Step<R, V, P, L> {
    let answer = match store.begin(hash, &key, mode == Mode::Refresh, held) {
        Begin::Hit(v) | Begin::Stale(v, None) => Lookup::Hit(P::restore(v)),
        Begin::Stale(v, Some(lead)) => {
            // The stale entry's refresh runs elsewhere if it can; else this caller runs it
            // and answers with the fresh value, while everyone else gets the stale one.
            let started = match stale.take() {
                Some(s) => s.start(store, key.into_owned_key(), lead),
                None => Err((key.into_owned_key(), lead)),
            };
            match started {
                Ok(()) => {
                    store.count_hit();
                    Lookup::Hit(P::restore(v))
                }
                Err((owned, lead)) => {
                    store.count_miss();
                    Lookup::Miss(Ticket::lead(store, hash, owned, lead))
                }
            }
        }
        Begin::Lead(lead) => Lookup::Miss(Ticket::lead(store, hash, key.into_owned_key(), lead)),
        Begin::Wait(flight) => return Step::Wait(flight, key),
    };
    Step::Answer(answer)
}

/// A hit from the calling thread's front (see [`crate::front`]): no lock, no shared write.
/// Inlined into the caller, ahead of the rest of the lookup, which is not.
// Forced in optimised builds only: a debug build compiles faster without it.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn front_hit<R, V: Clone + Send + Sync + 'static, P: Policy<R, Stored = V>, L: KeyRef>(
    handle: &'static CacheHandle,
    mode: Mode,
    key: &L,
) -> Option<R> {
    if const { crate::store::fronts_possible::<L::Owned, V>() }
        && mode == Mode::Lookup
        && let Some(id) = handle.front()
        && !bypass::active()
    {
        Fronts::get::<L::Owned, V, L>(id, key).map(P::restore)
    } else {
        None
    }
}

/// Where a lookup goes on from after [`start`]: the store, the key's hash, and the shard if
/// it is still locked.
type Started<K, V> = (&'static Store<K, V>, u64, Option<Held<'static, K, V>>);

/// The start of every lookup: the store and the key's hash, or the answer already (no
/// store under a bypass or `MEMOCACHE_DISABLE`; a fresh hit, by the short path). Past the
/// short path the shard stays locked, so that a miss takes its lock once.
#[inline]
#[allow(clippy::type_complexity)] // the store and hash, or a whole lookup's answer
fn start<R, V: Clone + Send + Sync + 'static, P: Policy<R, Stored = V>, L: KeyRef>(
    handle: &'static CacheHandle,
    mode: Mode,
    config: fn() -> Config,
    key: &L,
) -> Result<Started<L::Owned, V>, Lookup<R, Ticket<R, P, L::Owned, V>>> {
    let Some(store) = active_store::<L::Owned, V>(handle, config) else {
        return Err(Lookup::Miss(Ticket::uncached()));
    };
    let hash = store.hash(key);
    if mode != Mode::Lookup {
        return Ok((store, hash, None));
    }
    match store.fresh(hash, key) {
        Ok(v) => Err(Lookup::Hit(P::restore(v))),
        Err(held) => Ok((store, hash, Some(held))),
    }
}

#[inline]
fn lookup_sync<
    R,
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    L: KeyRef,
    S: StaleRefresh<L::Owned, V>,
>(
    handle: &'static CacheHandle,
    mode: Mode,
    _policy: P,
    config: fn() -> Config,
    mut key: L,
    stale: S,
) -> Lookup<R, Ticket<R, P, L::Owned, V>> {
    let (store, hash, mut held) = match start::<R, V, P, L>(handle, mode, config, &key) {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let mut stale = Some(stale);
    loop {
        let flight = match step(store, hash, key, mode, &mut stale, held.take()) {
            Step::Answer(answer) => return answer,
            Step::Wait(flight, k) => {
                key = k;
                flight
            }
        };
        if flight.led_by_current_thread() {
            // The body calls itself with the same key: waiting would never end.
            return Lookup::Miss(Ticket::uncached());
        }
        if let Some(answer) = shared::<R, V, P>(flight.wait()) {
            store.count_hit();
            return Lookup::Hit(answer);
        }
        // The run ended with nothing to share: look again (and maybe run it).
    }
}

/// The `async` form of [`lookup`]: waiting for another caller's run does not block the
/// thread.
pub async fn lookup_async<
    R,
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    L: KeyRef,
>(
    handle: &'static CacheHandle,
    mode: Mode,
    policy: P,
    config: fn() -> Config,
    key: L,
) -> Lookup<R, Ticket<R, P, L::Owned, V>> {
    lookup_async_with(handle, mode, policy, config, key, CallerRefreshes).await
}

/// The `async` form of [`lookup_stale`]: with the `tokio` feature, inside a tokio runtime,
/// the refresh is a spawned task; elsewhere the caller that found the entry stale runs it.
pub async fn lookup_stale_async<
    R,
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    L: KeyRef,
    F,
    Fut,
>(
    handle: &'static CacheHandle,
    mode: Mode,
    policy: P,
    config: fn() -> Config,
    key: L,
    refresh: F,
) -> Lookup<R, Ticket<R, P, L::Owned, V>>
where
    F: FnOnce(L::Owned) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    lookup_async_with(handle, mode, policy, config, key, OnTask(refresh)).await
}

/// A spawned task refreshes the entry (when there is a tokio runtime to spawn on).
struct OnTask<F>(F);

impl<K, V, F, Fut> StaleRefresh<K, V> for OnTask<F>
where
    K: Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: FnOnce(K) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    #[cfg(feature = "tokio")]
    fn start(
        self,
        store: &'static Store<K, V>,
        key: K,
        lead: Lead<K, V>,
    ) -> Result<(), (K, Lead<K, V>)> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Err((key, lead));
        };
        let guard = FlightGuard {
            store,
            flight: lead.flight,
        };
        let offset = crate::clock::offset();
        let refresh = (self.0)(key);
        runtime.spawn(async move {
            // The clock offset is per thread: carry the caller's to whichever thread polls.
            let refresh = std::pin::pin!(refresh);
            WithOffset {
                offset,
                inner: refresh,
            }
            .await;
            drop(guard);
        });
        Ok(())
    }

    #[cfg(not(feature = "tokio"))]
    fn start(
        self,
        _: &'static Store<K, V>,
        key: K,
        lead: Lead<K, V>,
    ) -> Result<(), (K, Lead<K, V>)> {
        Err((key, lead))
    }
}

/// Polls a future with the cache clock offset of the thread that spawned it.
#[cfg(feature = "tokio")]
struct WithOffset<F> {
    offset: u64,
    inner: F,
}

#[cfg(feature = "tokio")]
impl<F: Future + Unpin> Future for WithOffset<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let saved = crate::clock::offset();
        crate::clock::set_offset(self.offset);
        let out = Pin::new(&mut self.inner).poll(cx);
        crate::clock::set_offset(saved);
        out
    }
}

async fn lookup_async_with<
    R,
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    L: KeyRef,
    S: StaleRefresh<L::Owned, V>,
>(
    handle: &'static CacheHandle,
    mode: Mode,
    _policy: P,
    config: fn() -> Config,
    mut key: L,
    stale: S,
) -> Lookup<R, Ticket<R, P, L::Owned, V>> {
    if let Some(v) = front_hit::<R, V, P, L>(handle, mode, &key) {
        return Lookup::Hit(v);
    }
    let (store, hash) = match start::<R, V, P, L>(handle, mode, config, &key) {
        // A task does not keep a lock past its first look: the future stays `Send`.
        Ok((store, hash, held)) => {
            drop(held);
            (store, hash)
        }
        Err(answer) => return answer,
    };
    let mut stale = Some(stale);
    loop {
        let flight = match step(store, hash, key, mode, &mut stale, None) {
            Step::Answer(answer) => return answer,
            Step::Wait(flight, k) => {
                key = k;
                flight
            }
        };
        // No same-thread check here: tasks share threads, and a task that waits for
        // another task's run on the same thread is not waiting for itself.
        if let Some(answer) = shared::<R, V, P>((WaitFlight { flight }).await) {
            store.count_hit();
            return Lookup::Hit(answer);
        }
    }
}

/// What a caller that waited for another caller's run answers with, if anything: the run's
/// value, or its shared error.
fn shared<R, V, P: Policy<R, Stored = V>>(outcome: Outcome<V>) -> Option<R> {
    match outcome {
        Outcome::Value(v) => Some(P::restore(v)),
        Outcome::Error(e) => P::shared_error(&*e),
        Outcome::Retry => None,
    }
}

/// Waits for a flight without blocking the thread.
struct WaitFlight<K, V> {
    flight: Arc<Flight<K, V>>,
}

impl<K, V: Clone> Future for WaitFlight<K, V> {
    type Output = Outcome<V>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<V>> {
        self.flight.poll_wait(cx)
    }
}

impl<R, V: Clone + Send + Sync + 'static, P: Policy<R, Stored = V>, K> Ticket<R, P, K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    fn uncached() -> Self {
        Ticket {
            lead: None,
            _result: PhantomData,
        }
    }

    fn lead(store: &'static Store<K, V>, hash: u64, key: K, lead: Lead<K, V>) -> Self {
        Ticket {
            lead: Some(Leader {
                store,
                hash,
                key,
                epoch: lead.epoch,
                doomed: lead.doomed,
                refresh: lead.refresh,
                flight: FlightGuard {
                    store,
                    flight: lead.flight,
                },
            }),
            _result: PhantomData,
        }
    }

    /// Runs `body` (no lock held) and stores what the policy keeps of its result, unless
    /// `unless` says no; returns the result.
    #[inline]
    pub fn run<T: Tags, U: FnOnce(&R) -> bool>(
        mut self,
        tags: T,
        unless: U,
        body: impl FnOnce() -> R,
    ) -> R {
        let tags = self.announce(tags);
        let result = body();
        self.finish(&result, tags, unless);
        result
    }

    /// The `async` form of [`Ticket::run`].
    pub async fn run_async<T: Tags, U: FnOnce(&R) -> bool>(
        mut self,
        tags: T,
        unless: U,
        body: impl Future<Output = R>,
    ) -> R {
        let tags = self.announce(tags);
        let result = body.await;
        self.finish(&result, tags, unless);
        result
    }

    /// Records on the flight, before the body runs, the tags its entry will carry: a tag
    /// invalidation then detaches the flight only if they match.
    /// And, where an invalidation that goes over many shards is in progress and may cover
    /// this run, makes it store nothing (see [`crate::ongoing`]).
    fn announce<T: Tags>(&mut self, tags: T) -> Option<Vec<String>> {
        let tags = tags.into_tags();
        let Some(lead) = &mut self.lead else {
            return tags;
        };
        if let (Some(tags), Some(flight)) = (&tags, &lead.flight.flight) {
            flight.set_tags(tags);
        }
        if ongoing::dooms(lead.store.id(), tags.as_deref()) {
            lead.doomed = true;
            if let Some(flight) = &lead.flight.flight {
                lead.store.doom(flight);
            }
        }
        tags
    }

    fn finish<U: FnOnce(&R) -> bool>(self, result: &R, tags: Option<Vec<String>>, unless: U) {
        let Some(Leader {
            store,
            hash,
            key,
            epoch,
            doomed,
            refresh,
            mut flight,
        }) = self.lead
        else {
            return;
        };
        // What `unless` rejects is not stored, but the callers waiting for this run get it;
        // an `Err` too, where the policy shares errors.
        let (value, unstored) = match P::keep(result) {
            Some(v) if !unless(result) => (Some(v), Outcome::Retry),
            Some(v) => (None, Outcome::Value(v)),
            None => (
                None,
                P::share_error(result).map_or(Outcome::Retry, Outcome::Error),
            ),
        };
        let lead = Lead {
            epoch,
            flight: flight.flight.take(),
            doomed,
            refresh,
        };
        store.complete(hash, key, value, unstored, tags, lead);
    }
}

/// Removes the entry `key` maps to in `handle`'s cache; true if there was one.
#[allow(clippy::needless_pass_by_value)] // generated code hands the key over
pub fn invalidate<R, P: Policy<R>, L: KeyRef>(
    handle: &'static CacheHandle,
    _policy: P,
    key: L,
) -> bool {
    handle
        .existing_store::<L::Owned, P::Stored>()
        .is_some_and(|s| s.invalidate(&key))
}

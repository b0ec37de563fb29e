//! What generated code calls on a function's handle
//! (`__private::of::<R>(f_cache()).lookup(..)`: the policy chosen from the return type, see
//! [`ValueOf`]), and on what a lookup found ([`Lookup::run`]: a hit's value, or the body run
//! under the ticket); the tags and the `unless` it passes along.

use super::{Args, Call, Lookup, Mode, TicketOf, invalidate, invalidate_async};
use crate::backend::{Backend, KeyOf, Memory, Tiers, ValOf};
use crate::call::Ticket;
use crate::handle::CacheHandle;
use crate::key::KeyRef;
use crate::policy::{IsResult, OkOnly, OkShared, Plain, Policy, Storable, Unstorable};
use crate::rep::Rep;
use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::ops::Deref;

/// The calls of a function whose whole return value `R` is stored:
/// `of::<R>(f_cache()).lookup(key)` (see [`ValueOf`]). Called by its path, so that the error
/// of a type that cannot be stored points at this call, spanned at the return type (rustc
/// reports a method's bound at its receiver).
#[inline]
#[must_use]
pub fn of<R>(handle: &'static CacheHandle) -> ValueOf<R> {
    ValueOf(ValueRefused(Sel::new(handle)))
}

/// The calls of a function returning a `Result` `R` of which `Ok` alone is stored:
/// `ok::<R>(f_cache()).lookup(key)` (see [`OkOf`]).
#[inline]
#[must_use]
pub fn ok<R>(handle: &'static CacheHandle) -> OkOf<R> {
    OkOf(OkOnlyOf(OkRefused(NotResult(Sel::new(handle)))))
}

/// A handle and the return type `R` of its function: the innermost of the selectors.
pub struct Sel<R> {
    handle: &'static CacheHandle,
    _r: PhantomData<fn() -> R>,
}

impl<R> Sel<R> {
    #[inline]
    fn new(handle: &'static CacheHandle) -> Self {
        Sel {
            handle,
            _r: PhantomData,
        }
    }
}

/// The storage policy of a function, chosen from its return type by method resolution:
/// `of::<R>(f_cache())` (or `ok`) is the first of a chain of selectors, each of
/// which derefs to the next, and each with the same inherent methods (`lookup`,
/// `refresh`, ...) for one policy, under the bounds that policy needs; a call takes the
/// first whose bounds hold. The last of each chain takes [`Unstorable`] under a method
/// bound that is the one error the user sees, at the return type, in the words of
/// [`Storable`] or [`IsResult`]; nothing else then fails to compile. Inherent methods
/// need no `use` in the generated code.
///
/// `ValueOf<R>`: [`Plain`] where `R` is `Clone + Send + Sync + 'static`, else
/// [`ValueRefused`].
pub struct ValueOf<R>(ValueRefused<R>);

/// The end of [`ValueOf`]'s chain: a return type that cannot be stored.
pub struct ValueRefused<R>(Sel<R>);

/// `OkOf<Result<T, E>>`: [`OkShared`] where `E` can be handed to the callers waiting for a
/// run, else [`OkOnlyOf`].
pub struct OkOf<R>(OkOnlyOf<R>);

/// [`OkOnly`] where `T` can be stored, else [`OkRefused`].
pub struct OkOnlyOf<R>(OkRefused<R>);

/// A `Result` whose `Ok` value cannot be stored; else [`NotResult`].
pub struct OkRefused<R>(NotResult<R>);

/// The end of [`OkOf`]'s chain: not a `Result`.
pub struct NotResult<R>(Sel<R>);

/// Each selector derefs to the next one of its chain.
macro_rules! next {
    ($($level:ident => $next:ident),*) => {$(
        impl<R> Deref for $level<R> {
            type Target = $next<R>;
            #[inline]
            fn deref(&self) -> &$next<R> {
                &self.0
            }
        }
    )*};
}

next!(ValueOf => ValueRefused, OkOf => OkOnlyOf, OkOnlyOf => OkRefused, OkRefused => NotResult);

/// The handle a selector holds, whatever its depth.
trait Handle {
    fn handle(&self) -> &'static CacheHandle;
}

impl<R> Handle for Sel<R> {
    #[inline]
    fn handle(&self) -> &'static CacheHandle {
        self.handle
    }
}

macro_rules! handle {
    ($($level:ident),*) => {$(
        impl<R> Handle for $level<R> {
            #[inline]
            fn handle(&self) -> &'static CacheHandle {
                self.0.handle()
            }
        }
    )*};
}

handle!(ValueOf, ValueRefused, OkOf, OkOnlyOf, OkRefused, NotResult);

/// The calls of one selector: policy `$p` for return type `$r` (over the `impl`'s type
/// parameters `$tp`). `$bound` is the error of a refused type (empty for a policy that
/// applies), on the calls of the cached function only (`lookup`, `lookup_async`, `call`):
/// `refresh_f` and `invalidate_f` then compile, so that the one mistake is one error, at the
/// return type, not one per generated function (rustc merges only identical errors, and
/// each would name its own method).
macro_rules! calls {
    ($p:ident, $r:ty, [$($tp:ident),*], [$($bound:tt)*]) => {
        /// A call in `mode` whose entries live in `backend` (a remote store, or a function
        /// whose stale entries refresh in the background).
        #[inline]
        pub fn call<B>(&self, mode: Mode, backend: B) -> Call<$r, $p, B>
        where
            $($bound)*
        {
            Call::new(self.handle(), mode, $p, backend)
        }

        /// [`Call::lookup`] of a function whose entries live in memory.
        // Forced in optimised builds only, as `Call::lookup`: a hit is this, the copy's
        // probe, and `Lookup::run`'s match, in the caller.
        #[cfg_attr(debug_assertions, inline)]
        #[cfg_attr(not(debug_assertions), inline(always))]
        pub fn lookup<V, L>(&self, key: L) -> Lookup<$r, TicketOf<$r, $p, L, V, Memory>>
        where
            V: Clone + Send + Sync + 'static,
            $p: Policy<$r, Stored = V>,
            L: KeyRef,
            $($bound)*
        {
            Call::new(self.handle(), Mode::Lookup, $p, Memory).lookup(key)
        }

        /// `refresh_f`: [`Self::lookup`] that always runs the body.
        pub fn refresh<V, L>(&self, key: L) -> Lookup<$r, TicketOf<$r, $p, L, V, Memory>>
        where
            V: Clone + Send + Sync + 'static,
            $p: Policy<$r, Stored = V>,
            L: KeyRef,
        {
            Call::new(self.handle(), Mode::Refresh, $p, Memory).lookup(key)
        }

        /// [`Call::lookup_async`] of a function whose entries live in memory.
        #[inline]
        pub fn lookup_async<V, L>(
            &self,
            key: L,
        ) -> impl Future<Output = Lookup<$r, TicketOf<$r, $p, L, V, Memory>>> + use<V, L, $($tp),*>
        where
            V: Clone + Send + Sync + 'static,
            $p: Policy<$r, Stored = V>,
            L: KeyRef,
            $($bound)*
        {
            Call::new(self.handle(), Mode::Lookup, $p, Memory).lookup_async(key)
        }

        /// The `async` form of [`Self::refresh`].
        #[inline]
        pub fn refresh_async<V, L>(
            &self,
            key: L,
        ) -> impl Future<Output = Lookup<$r, TicketOf<$r, $p, L, V, Memory>>> + use<V, L, $($tp),*>
        where
            V: Clone + Send + Sync + 'static,
            $p: Policy<$r, Stored = V>,
            L: KeyRef,
        {
            Call::new(self.handle(), Mode::Refresh, $p, Memory).lookup_async(key)
        }

        /// `invalidate_f` of a function whose entries live in memory.
        #[inline]
        pub fn invalidate<L: KeyRef>(&self, key: L) -> bool
        {
            invalidate::<$r, $p, Memory, L>(self.handle(), $p, Memory, key)
        }

        /// `invalidate_f` of a function whose entries live in `backend`.
        #[inline]
        pub fn invalidate_in<B, L>(&self, backend: B, key: L) -> bool
        where
            B: Backend<KeyOf<B, L::Owned>, ValOf<B, <$p as Policy<$r>>::Stored>>,
            L: KeyRef,
        {
            invalidate::<$r, $p, B, L>(self.handle(), $p, backend, key)
        }

        /// The `async` form of [`Self::invalidate_in`], for the helpers of an `async fn`.
        #[inline]
        pub fn invalidate_async<V, B, L, SK, SV>(
            &self,
            backend: B,
            key: L,
        ) -> impl Future<Output = bool> + use<V, B, L, SK, SV, $($tp),*>
        where
            V: Clone + Send + Sync + 'static,
            $p: Policy<$r, Stored = V>,
            SK: Hash + Eq + Clone + Send + Sync + 'static,
            SV: Clone + Send + Sync + 'static,
            B: Backend<SK, SV> + Tiers<Rep: Rep<Key<L::Owned> = SK, Value<V> = SV>>,
            L: KeyRef,
        {
            invalidate_async::<$r, V, $p, B, L, SK, SV>(self.handle(), $p, backend, key)
        }
    };
}

/// The whole value is stored.
impl<R: Clone + Send + Sync + 'static> ValueOf<R> {
    calls!(Plain, R, [R], []);
}

/// A value that cannot be stored: refused.
impl<R> ValueRefused<R> {
    calls!(Unstorable, R, [R], [(): Storable<R>,]);
}

/// The `Ok` value is stored, and an `Err` is handed to the callers waiting for the run.
impl<T, E> OkOf<Result<T, E>>
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    calls!(OkShared, Result<T, E>, [T, E], []);
}

/// The `Ok` value is stored; an `Err` that cannot be shared is returned to its caller only.
impl<T: Clone + Send + Sync + 'static, E> OkOnlyOf<Result<T, E>> {
    calls!(OkOnly, Result<T, E>, [T, E], []);
}

/// A `Result` whose `Ok` value cannot be stored: refused.
impl<T, E> OkRefused<Result<T, E>> {
    calls!(Unstorable, Result<T, E>, [T, E], [(): Storable<T>,]);
}

/// Not a `Result` at all: refused.
impl<R> NotResult<R> {
    calls!(Unstorable, R, [R], [R: IsResult,]);
}

impl<R, V, P, K, B> Lookup<R, Ticket<R, P, K, V, B>>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
    B: Tiers<Rep: Rep<Value<P::Stored> = V>>,
{
    /// On a miss, labels the entry the run stores with `tags()` (computed on a miss only).
    #[inline]
    #[must_use]
    pub fn tags<T: Tags>(mut self, tags: impl FnOnce() -> T) -> Self {
        if let Lookup::Miss(ticket) = &mut self {
            ticket.set_tags(tags().into_tags());
        }
        self
    }

    /// The answer: a hit's value, or on a miss the result of `body(args..)`, run under the
    /// ticket ([`Ticket::call`]) and stored.
    // Forced in optimised builds only: a debug build compiles faster without it.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn run<A: Args<R>>(self, args: A, body: A::Body) -> R {
        match self {
            Lookup::Hit(v) => v,
            Lookup::Miss(ticket) => ticket.call(never, args, body),
        }
    }

    /// [`Lookup::run`], where a result that `unless` returns true for is not stored.
    #[inline]
    pub fn run_unless<A: Args<R>>(
        self,
        unless: impl FnOnce(&R) -> bool,
        args: A,
        body: A::Body,
    ) -> R {
        match self {
            Lookup::Hit(v) => v,
            Lookup::Miss(ticket) => ticket.call(unless, args, body),
        }
    }

    /// The `async` form of [`Lookup::run`].
    pub async fn run_async(self, body: impl Future<Output = R>) -> R {
        match self {
            Lookup::Hit(v) => v,
            Lookup::Miss(ticket) => ticket.run_async(never, body).await,
        }
    }

    /// The `async` form of [`Lookup::run_unless`].
    pub async fn run_unless_async(
        self,
        unless: impl FnOnce(&R) -> bool,
        body: impl Future<Output = R>,
    ) -> R {
        match self {
            Lookup::Hit(v) => v,
            Lookup::Miss(ticket) => ticket.run_async(unless, body).await,
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

//! What generated code calls on a function's handle ([`Site`]: `f_cache().lookup(..)`), and
//! on what a lookup found ([`Lookup::run`]: a hit's value, or the body run under the
//! ticket); the tags and the `unless` it passes along.

use super::{Args, Call, Lookup, Mode, TicketOf, invalidate};
use crate::backend::{Memory, Tiers};
use crate::call::Ticket;
use crate::handle::CacheHandle;
use crate::key::KeyRef;
use crate::policy::Policy;
use std::fmt::Display;
use std::future::Future;
use std::hash::Hash;

/// What generated code calls on a function's handle (`f_cache()`): the short forms of the
/// calls of a function whose entries live in memory, and [`Site::call`] for the others.
/// Brought into scope by the generated `use`, with the key and policy choices.
pub trait Site {
    /// A call in `mode`, with the `policy` and `backend` of the function.
    fn call<R, P, B>(self, mode: Mode, policy: P, backend: B) -> Call<R, P, B>;

    /// [`Call::lookup`] of a function whose entries live in memory.
    // Forced in optimised builds only, as `Call::lookup`: a hit is this, the copy's probe,
    // and `Lookup::run`'s match, in the caller.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn lookup<R, V, P, L>(self, policy: P, key: L) -> Lookup<R, TicketOf<R, P, L, V, Memory>>
    where
        Self: Sized,
        V: Clone + Send + Sync + 'static,
        P: Policy<R, Stored = V>,
        L: KeyRef,
    {
        self.call(Mode::Lookup, policy, Memory).lookup(key)
    }

    /// `refresh_f`: [`Site::lookup`] that always runs the body.
    fn refresh<R, V, P, L>(self, policy: P, key: L) -> Lookup<R, TicketOf<R, P, L, V, Memory>>
    where
        Self: Sized,
        V: Clone + Send + Sync + 'static,
        P: Policy<R, Stored = V>,
        L: KeyRef,
    {
        self.call(Mode::Refresh, policy, Memory).lookup(key)
    }

    /// [`Call::lookup_async`] of a function whose entries live in memory.
    #[inline]
    fn lookup_async<R, V, P, L>(
        self,
        policy: P,
        key: L,
    ) -> impl Future<Output = Lookup<R, TicketOf<R, P, L, V, Memory>>>
    where
        Self: Sized,
        V: Clone + Send + Sync + 'static,
        P: Policy<R, Stored = V>,
        L: KeyRef,
    {
        self.call(Mode::Lookup, policy, Memory).lookup_async(key)
    }

    /// The `async` form of [`Site::refresh`].
    #[inline]
    fn refresh_async<R, V, P, L>(
        self,
        policy: P,
        key: L,
    ) -> impl Future<Output = Lookup<R, TicketOf<R, P, L, V, Memory>>>
    where
        Self: Sized,
        V: Clone + Send + Sync + 'static,
        P: Policy<R, Stored = V>,
        L: KeyRef,
    {
        self.call(Mode::Refresh, policy, Memory).lookup_async(key)
    }

    /// `invalidate_f` of a function whose entries live in memory.
    fn invalidate<R, P: Policy<R>, L: KeyRef>(self, policy: P, key: L) -> bool;
}

impl Site for &'static CacheHandle {
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn call<R, P, B>(self, mode: Mode, policy: P, backend: B) -> Call<R, P, B> {
        Call::new(self, mode, policy, backend)
    }

    #[inline]
    fn invalidate<R, P: Policy<R>, L: KeyRef>(self, policy: P, key: L) -> bool {
        invalidate(self, policy, Memory, key)
    }
}

impl<R, V, P, K, B> Lookup<R, Ticket<R, P, K, V, B>>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
    B: Tiers,
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

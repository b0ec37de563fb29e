//! What the code `#[invalidates(...)]` generates calls: the copies of the targets' arguments
//! taken before the body runs, the body of a sync function, `tag(..)`, and running each
//! target's helper from a sync or an `async fn`, with a clear compile error for an `async`
//! target in a sync function.
//!
//! Which helper a target names (`invalidate_f`, sync or `async`) is only known to rustc, not to
//! the macro, so the choice is made here by the types: a sync function accepts only what a sync
//! helper returns ([`Landed`]); an `async fn` awaits a future and takes anything else as it
//! is ([`Target`]).

use std::fmt::Display;
use std::future::{IntoFuture, Ready, ready};

/// The copy of a target's argument taken before the body runs, so that the body may move
/// or change the parameters and the target still gets the values from the start of the call:
/// `&name` for a `name: String` becomes a `String` of its own, passed as `&String` (a `&str`
/// where the helper takes one); a parameter named alone that the body also reads is cloned.
/// `O` is the copy's type.
#[diagnostic::on_unimplemented(
    message = "`#[invalidates]` cannot keep a copy of this `{Self}` for after the body",
    label = "this argument is copied before the body runs, and `{Self}` cannot be copied",
    note = "pass what the key is made of instead (a field such as `user.id`), or implement `Clone` for `{Self}`"
)]
pub trait Snapshot<O> {
    /// Copies `self`.
    fn snapshot(&self) -> O;
}

// One impl per shape, not a blanket impl over `ToOwned`, and the copy's type a parameter
// rather than an associated type: rustc then reports a missing copy once, with the message
// above, rather than twice as "`T: Clone` is not satisfied".
impl<T: Clone> Snapshot<T> for T {
    #[inline]
    fn snapshot(&self) -> T {
        self.clone()
    }
}

impl Snapshot<String> for str {
    #[inline]
    fn snapshot(&self) -> String {
        self.to_owned()
    }
}

impl<T: Clone> Snapshot<Vec<T>> for [T] {
    #[inline]
    fn snapshot(&self) -> Vec<T> {
        self.to_vec()
    }
}

/// A copy of `t` that borrows nothing from the function's parameters (see [`Snapshot`]).
#[inline]
pub fn owned<O, T: ?Sized + Snapshot<O>>(t: &T) -> O {
    t.snapshot()
}

/// Runs a sync function's body, moved into a closure so that its `return` and `?` leave
/// the body, not the function, and the targets still run.
///
/// Taken as `FnOnce`, so that rustc infers the closure as one: the body may then return a
/// borrow of what it changed through `&mut self` (`self.name = n; &self.name`), which an
/// `FnMut` closure could not.
#[inline]
pub fn run_body<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// `tag(expr)`: drops every entry labelled with `expr`'s text, as `tags = [expr]` labels them.
#[allow(clippy::needless_pass_by_value)] // takes the argument as the target wrote it
#[inline]
pub fn invalidate_tag_of<T: Display>(tag: T) -> usize {
    crate::handle::invalidate_tag(&crate::call::tag(&tag))
}

/// What a sync function's target may return: `invalidate_f` gives a `bool`, `invalidate_all_f`
/// gives `()`; the helpers of an `async fn` give futures, which a sync function cannot await.
#[diagnostic::on_unimplemented(
    message = "this target is an `async fn`'s helper: a sync function cannot await it",
    label = "returns `{Self}`, to be awaited; `#[invalidates]` on a sync function can only run the helpers of sync cached functions",
    note = "make the function carrying `#[invalidates]` an `async fn`, or call the target's `invalidate_*` yourself from async code"
)]
pub trait Landed {
    /// Drops the helper's answer (whether an entry was there).
    fn landed(self);
}

impl Landed for bool {
    #[inline]
    fn landed(self) {}
}

impl Landed for () {
    #[inline]
    fn landed(self) {}
}

/// What a target's helper returned, in an `async fn`: awaited if it is a future (the helper
/// of an `async fn`), taken as it is otherwise (a sync helper).
///
/// The two cases are two traits picked by method resolution: [`AwaitTarget`] for
/// `Target<F>` itself, [`ReadyTarget`] for `&Target<T>`, which rustc only reaches when the
/// first does not apply (`F` is not a future). One blanket trait for both cannot exist:
/// `impl<F: Future>` and `impl for bool` overlap for all rustc knows.
pub struct Target<T>(pub T);

/// [`Target`] of a future: `__memocache_settle()` is the future.
pub trait AwaitTarget {
    /// The future to await.
    type Future: Future;
    /// The future to await.
    fn __memocache_settle(self) -> Self::Future;
}

impl<F: IntoFuture> AwaitTarget for Target<F> {
    type Future = F::IntoFuture;
    #[inline]
    fn __memocache_settle(self) -> F::IntoFuture {
        self.0.into_future()
    }
}

/// [`Target`] of a sync helper's answer: `__memocache_settle()` is ready at once.
pub trait ReadyTarget {
    /// The answer.
    type Output;
    /// A future that is ready with the answer.
    fn __memocache_settle(self) -> Ready<Self::Output>;
}

impl<T: Copy> ReadyTarget for &Target<T> {
    type Output = T;
    #[inline]
    fn __memocache_settle(self) -> Ready<T> {
        ready(self.0)
    }
}

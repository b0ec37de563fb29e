//! What a call stores of its result, how a stored value becomes a result again, and what the
//! callers waiting for a run get of a result that is not stored.
//!
//! Generated code picks the policy with `CacheHandle::of::<R>(f_cache())` (or `ok` for a
//! `Result`; the selectors are in `call/site.rs`): method resolution takes [`Plain`],
//! [`OkShared`] (an error type that can be handed to every waiting caller) or [`OkOnly`] when
//! the value can be stored, else [`Unstorable`], whose methods' bound is the one error the
//! user sees, at the return type, in the words of [`Storable`]; nothing else then fails to
//! compile.

use std::any::Any;
use std::sync::Arc;

/// What a store keeps as a value: the bounds of a stored value, under one name.
pub(crate) trait StoredValue: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> StoredValue for T {}

/// How a return type `R` maps to what the store keeps.
#[diagnostic::on_unimplemented(
    message = "`{R}` cannot be cached this way",
    label = "the cached function's return type",
    note = "a cached value must be `Clone + Send + Sync + 'static`; for a `Result`, only `Ok` is stored unless `cache_errors` is set"
)]
pub trait Policy<R>: Copy + Send + Sync + 'static {
    /// The stored form.
    type Stored: Clone + Send + Sync + 'static;
    /// What to store of a fresh result, if anything.
    fn keep(result: &R) -> Option<Self::Stored>;
    /// The result a stored value stands for.
    fn restore(stored: Self::Stored) -> R;
    /// A copy of a result that is not stored (an `Err`) for the callers that waited for the
    /// run, if this policy shares such results.
    #[inline]
    fn share_error(_result: &R) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }
    /// The result a shared copy stands for (see [`Policy::share_error`]).
    #[inline]
    fn shared_error(_shared: &(dyn Any + Send + Sync)) -> Option<R> {
        None
    }
}

/// Stores the whole return value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plain;

impl<R: Clone + Send + Sync + 'static> Policy<R> for Plain {
    type Stored = R;
    #[inline]
    fn keep(result: &R) -> Option<R> {
        Some(result.clone())
    }
    #[inline]
    fn restore(stored: R) -> R {
        stored
    }
}

/// For `Result<T, E>`: stores `Ok(T)` only; an `Err` is returned and forgotten.
#[derive(Clone, Copy, Debug, Default)]
pub struct OkOnly;

/// [`OkOnly`] for an error type that is `Clone + Send + Sync + 'static`: an `Err` is not
/// stored either, but the callers that waited for the run get a clone of it instead of each
/// running the body again (N callers against a failing database make one query, not N).
#[derive(Clone, Copy, Debug, Default)]
pub struct OkShared;

/// The policy of a `Result` of which `Ok` alone is stored, for a policy type, the bounds its
/// error type needs and what it does with an `Err` for the callers that waited for the run:
/// one body for [`OkOnly`] (nothing: the [`Policy`] defaults) and [`OkShared`].
macro_rules! ok_policy {
    ($policy:ident, [$($error_bounds:tt)*], { $($sharing:tt)* }) => {
        impl<T: Clone + Send + Sync + 'static, E: $($error_bounds)*> Policy<Result<T, E>> for $policy {
            type Stored = T;
            #[inline]
            fn keep(result: &Result<T, E>) -> Option<T> {
                result.as_ref().ok().cloned()
            }
            #[inline]
            fn restore(stored: T) -> Result<T, E> {
                Ok(stored)
            }
            $($sharing)*
        }
    };
}

ok_policy!(OkOnly, [], {});
ok_policy!(OkShared, [Clone + Send + Sync + 'static], {
    fn share_error(result: &Result<T, E>) -> Option<Arc<dyn Any + Send + Sync>> {
        let e = result.as_ref().err()?;
        Some(Arc::new(e.clone()))
    }
    fn shared_error(shared: &(dyn Any + Send + Sync)) -> Option<Result<T, E>> {
        shared.downcast_ref::<E>().map(|e| Err(e.clone()))
    }
});

/// A value that a cache can keep: `Clone + Send + Sync + 'static`. The bound a return type
/// fails with, in these words, when it cannot be stored.
///
/// Implemented by `()` for each storable `T` rather than by `T`, so that rustc does not
/// suggest to return `&T` (which would be `Storable`, and cannot be cached either).
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot be stored in a cache",
    label = "the value this cached function stores",
    note = "a cached value must be `Clone + Send + Sync + 'static`: a hit returns a clone of the stored value (for a `Result`, of its `Ok` value; `Err` is not stored unless `cache_errors`)",
    note = "derive `Clone`, or return an `Arc<...>` of a value that is large or cannot be cloned"
)]
pub trait Storable<T> {}

#[diagnostic::do_not_recommend]
impl<T: Clone + Send + Sync + 'static> Storable<T> for () {}

/// A return type is `Result` by its name only, to the macro; one that is not
/// `std::result::Result` fails with this.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `std::result::Result`",
    label = "#[cached] reads this return type as a `Result`, of which only `Ok` is stored",
    note = "write `cache_errors` to store every value it returns"
)]
pub trait IsResult {}

/// The policy of a value that cannot be stored, once its error is reported: one that
/// compiles, so that no other error follows from it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unstorable;

/// Nothing: what [`Unstorable`] stores.
#[derive(Clone, Copy, Debug)]
pub enum Never {}

impl<R> Policy<R> for Unstorable {
    type Stored = Never;
    fn keep(_: &R) -> Option<Never> {
        None
    }
    fn restore(stored: Never) -> R {
        match stored {}
    }
}

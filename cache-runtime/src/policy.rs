//! What a call stores of its result, how a stored value becomes a result again, and what the
//! callers waiting for a run get of a result that is not stored.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;

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

impl<T: Clone + Send + Sync + 'static, E> Policy<Result<T, E>> for OkOnly {
    type Stored = T;
    #[inline]
    fn keep(result: &Result<T, E>) -> Option<T> {
        result.as_ref().ok().cloned()
    }
    #[inline]
    fn restore(stored: T) -> Result<T, E> {
        Ok(stored)
    }
}

/// [`OkOnly`] for an error type that is `Clone + Send + Sync + 'static`: an `Err` is not
/// stored either, but the callers that waited for the run get a clone of it instead of each
/// running the body again (N callers against a failing database make one query, not N).
#[derive(Clone, Copy, Debug, Default)]
pub struct OkShared;

impl<T, E> Policy<Result<T, E>> for OkShared
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    type Stored = T;
    #[inline]
    fn keep(result: &Result<T, E>) -> Option<T> {
        result.as_ref().ok().cloned()
    }
    #[inline]
    fn restore(stored: T) -> Result<T, E> {
        Ok(stored)
    }
    fn share_error(result: &Result<T, E>) -> Option<Arc<dyn Any + Send + Sync>> {
        let e = result.as_ref().err()?;
        Some(Arc::new(e.clone()))
    }
    fn shared_error(shared: &(dyn Any + Send + Sync)) -> Option<Result<T, E>> {
        shared.downcast_ref::<E>().map(|e| Err(e.clone()))
    }
}

/// Picks [`OkShared`] or [`OkOnly`] for a `Result` return type at compile time, by whether its
/// error type can be shared (autoref specialization: generated code calls
/// `(&Choose::<R>::NEW).policy()` with [`ShareErrors`] and [`KeepErrors`] in scope, and method
/// resolution takes the first that applies). An error type that is generic where the function
/// is written (`S::Error` in a generic `impl`) takes `OkOnly`.
pub struct Choose<R>(PhantomData<fn() -> R>);

impl<R> Choose<R> {
    /// The chooser for `R`.
    pub const NEW: Self = Choose(PhantomData);
}

/// See [`Choose`]: taken when the error type is `Clone + Send + Sync + 'static`.
pub trait ShareErrors {
    /// [`OkShared`].
    fn policy(&self) -> OkShared {
        OkShared
    }
}

impl<T, E: Clone + Send + Sync + 'static> ShareErrors for Choose<Result<T, E>> {}

/// See [`Choose`]: taken otherwise.
pub trait KeepErrors {
    /// [`OkOnly`].
    fn policy(&self) -> OkOnly {
        OkOnly
    }
}

impl<R> KeepErrors for &Choose<R> {}

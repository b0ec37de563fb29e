//! What a call stores of its result, and how a stored value becomes a result again.

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

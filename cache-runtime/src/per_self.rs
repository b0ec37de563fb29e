//! The caches of a function in an `impl` block or a trait's default method: one per `Self`
//! type.
//!
//! A `static` inside a generic function is one static for every instantiation, so a
//! `#[cached]` method of `impl<S: Source> Repo<S>`, or a trait's default method, cannot keep
//! its handle in a `static` of its own: `Repo<Pg>` and `Repo<Mem>` would share it. Its
//! statics are [`SelfCaches`] instead, which find the handle of the calling `Self` type at
//! run time, by its [`TypeId`].
//!
//! A function has several such statics (the cached function, `refresh_f` and `f_cache`:
//! in a trait they cannot call one another, see the macro's `expand.rs`). They agree on one
//! handle per `Self` type through a process-wide table keyed by the function's `id`, which
//! the macro makes unique per `#[cached]` use. Each static also keeps the handles it has
//! found in a list of its own, read without a lock: the first type seen is one load and a
//! compare away, so that a method of a non-generic `impl`, which only ever sees one type,
//! pays nothing that matters.

use crate::config::{Config, Settings};
use crate::handle::CacheHandle;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

/// One `static` of a function in an `impl` block, which finds the handle of each `Self` type
/// (generated code builds it with [`SelfCaches::new`]).
pub struct SelfCaches {
    /// Names the function: the same for every static of one `#[cached]` use, different for
    /// any other.
    id: &'static str,
    /// The `name` option, which every `Self` type's cache takes as written.
    name: Option<&'static str>,
    /// The function's name, after `<Self type>::` in the default name.
    fn_name: &'static str,
    /// The handles found so far; appended to under [`BY_TYPE`]'s lock only.
    first: OnceLock<&'static Found>,
}

/// A handle this static found, and the next one.
struct Found {
    type_id: TypeId,
    handle: &'static CacheHandle,
    next: OnceLock<&'static Found>,
}

/// Every per-`Self` handle of the process, by function `id` and `Self` type.
static BY_TYPE: Mutex<Option<HashMap<(&'static str, TypeId), &'static CacheHandle>>> =
    Mutex::new(None);

impl SelfCaches {
    /// A static for the function `id` (unique per `#[cached]` use), named `name` if given,
    /// else `<Self type>::<fn_name>`.
    #[must_use]
    pub const fn new(id: &'static str, name: Option<&'static str>, fn_name: &'static str) -> Self {
        SelfCaches {
            id,
            name,
            fn_name,
            first: OnceLock::new(),
        }
    }

    /// The handle of `S`'s cache, created on first use, its caches made with `config()`
    /// (every static of a function passes the same).
    ///
    /// `S` need not be `'static` (`Parser<'a>`): lifetimes do not tell caches apart, as
    /// they do not tell types apart at run time.
    #[inline]
    pub fn handle<S: ?Sized>(&'static self, config: fn() -> Config) -> &'static CacheHandle {
        let type_id = typeid::of::<S>();
        if let Some(found) = self.first.get()
            && found.type_id == type_id
        {
            return found.handle;
        }
        self.find(type_id, std::any::type_name::<S>, config)
    }

    /// The handle of another type than the first, or of the first on its first call.
    #[cold]
    #[inline(never)]
    fn find(
        &'static self,
        type_id: TypeId,
        type_name: fn() -> &'static str,
        config: fn() -> Config,
    ) -> &'static CacheHandle {
        if let Some(handle) = self.seen(type_id) {
            return handle;
        }
        let mut all = BY_TYPE.lock().unwrap_or_else(PoisonError::into_inner);
        let handle = *all
            .get_or_insert_with(HashMap::new)
            .entry((self.id, type_id))
            .or_insert_with(|| {
                let name = match self.name {
                    Some(name) => name,
                    None => {
                        Box::leak(format!("{}::{}", type_name(), self.fn_name).into_boxed_str())
                    }
                };
                Box::leak(Box::new(CacheHandle::with_config(
                    name,
                    crate::handle::no_wipe,
                    Settings::Built(config),
                )))
            });
        // Appended under the lock, so that a type is in the list once.
        let found: &'static Found = Box::leak(Box::new(Found {
            type_id,
            handle,
            next: OnceLock::new(),
        }));
        let mut slot = &self.first;
        loop {
            match slot.get() {
                Some(f) if f.type_id == type_id => return f.handle,
                Some(f) => slot = &f.next,
                None => {
                    let _ = slot.set(found);
                    return handle;
                }
            }
        }
    }

    /// The handle for `type_id` in this static's list, if it is there.
    fn seen(&self, type_id: TypeId) -> Option<&'static CacheHandle> {
        let mut next = self.first.get();
        while let Some(found) = next {
            if found.type_id == type_id {
                return Some(found.handle);
            }
            next = found.next.get();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::SelfCaches;
    use crate::config::Config;
    use std::marker::PhantomData;

    struct A;
    struct B<'a>(PhantomData<&'a ()>);

    #[test]
    fn each_type_has_its_handle_and_statics_of_one_function_agree() {
        static WRAPPER: SelfCaches = SelfCaches::new("per_self::tests::f#1", None, "f");
        static HELPER: SelfCaches = SelfCaches::new("per_self::tests::f#1", None, "f");
        static OTHER_FN: SelfCaches = SelfCaches::new("per_self::tests::f#2", None, "f");
        let a = WRAPPER.handle::<A>(Config::new);
        let b = WRAPPER.handle::<B<'_>>(Config::new);
        assert!(!std::ptr::eq(a, b));
        assert!(std::ptr::eq(WRAPPER.handle::<A>(Config::new), a));
        assert!(std::ptr::eq(WRAPPER.handle::<B<'static>>(Config::new), b));
        assert!(std::ptr::eq(HELPER.handle::<B<'_>>(Config::new), b));
        assert!(std::ptr::eq(HELPER.handle::<A>(Config::new), a));
        assert!(!std::ptr::eq(OTHER_FN.handle::<A>(Config::new), a));
        assert_eq!(a.name(), "cache_runtime::per_self::tests::A::f");
        assert_eq!(b.name(), "cache_runtime::per_self::tests::B<'_>::f");
        assert_eq!(
            WRAPPER.handle::<dyn Send>(Config::new).name(),
            "dyn core::marker::Send::f"
        );
    }

    #[test]
    fn a_name_option_names_every_type_s_cache() {
        static S: SelfCaches = SelfCaches::new("per_self::tests::g#1", Some("g"), "g");
        assert_eq!(S.handle::<A>(Config::new).name(), "g");
        assert_eq!(S.handle::<u8>(Config::new).name(), "g");
        assert!(!std::ptr::eq(
            S.handle::<A>(Config::new),
            S.handle::<u8>(Config::new)
        ));
    }
}

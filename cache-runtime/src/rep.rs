//! How a store holds a function's keys and values: as their own types ([`Typed`]), or behind
//! pointers of the runtime's own types ([`Erased`]), so that the store's code, the flights'
//! and the lookups' are compiled once, in this crate, for every function.
//!
//! A backend picks its representation ([`Tiers::Rep`](crate::backend::Tiers::Rep)). Optimised
//! builds keep every key and value typed: the store's code is then compiled for each key and
//! value type, and a hit or a miss touches no pointer of its own. A debug build of memory
//! caches erases them: a dev build shares generic code (rustc's default at `opt-level` 0), so
//! a user's crate links the store's one erased instance from this crate instead of compiling
//! it again for each of its key and value types (BENCHMARKS.md, issue 13, round 9). The remote
//! tier's codec needs the value's type, so a remote backend stays typed in every build.
//! `--cfg memocache_typed` keeps debug builds typed too (CI tests both).
//!
//! What a call sees does not depend on the representation: keys hash alike and compare
//! alike (an erased key hashes with its type's own `Hash`, through `&mut dyn Hasher`), values
//! come back as the clones they were. The handle keeps the caches of different key or value
//! types apart by the types' own ids, not by the store's (see `CacheHandle::cache`).

use crate::key::KeyRef;
use std::any::{Any, TypeId};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// How the caches of a backend hold keys and values (see the module's doc). Not a public API.
pub trait Rep: Copy + Send + Sync + 'static {
    /// Whether keys and values are erased: then caches are told apart by their user types.
    const ERASED: bool;
    /// What the store keeps for an owned key `K`.
    type Key<K: Hash + Eq + Clone + Send + Sync + 'static>: Hash
        + Eq
        + Clone
        + Send
        + Sync
        + 'static;
    /// What the store keeps for a value `V`.
    type Value<V: Clone + Send + Sync + 'static>: Clone + Send + Sync + 'static;
    /// The key a lookup hands the store, borrowed from the call's `L`.
    type Ref<'a, L: KeyRef + 'a>: KeyRef<Owned = Self::Key<L::Owned>> + 'a;
    /// Where [`Rep::key_ref`] puts what it makes, if it makes anything: a local of the lookup.
    type Slot<'a>: Default;
    /// What a lookup tells the handle of the function's own key and value types: nothing
    /// where they are the cache's (typed: the cache's type says it), their id where they are
    /// not (erased).
    type Types: Copy + Send + Sync + 'static;

    /// The [`Rep::Types`] of a function of keys `K` and values `V`.
    fn types<K: 'static, V: 'static>() -> Self::Types;
    /// The id of the function's types that the handle tells its caches apart by, for a cache
    /// that holds `K` and `V`.
    fn type_id<K: 'static, V: 'static>(types: Self::Types) -> TypeId;
    /// [`Rep::type_id`] of the cache of a function of keys `K` and values `V`, from the
    /// function's types alone (what an invalidation looks the cache up by).
    fn function_id<K, V>() -> TypeId
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        Self::type_id::<Self::Key<K>, Self::Value<V>>(Self::types::<K, V>())
    }

    /// The store's form of `key`, kept in `slot` if it is made.
    fn key_ref<'s, 'a: 's, L: KeyRef>(
        key: &'a L,
        slot: &'s mut Self::Slot<'a>,
    ) -> &'s Self::Ref<'a, L>;
    /// The store's form of a value.
    fn value_in<V: Clone + Send + Sync + 'static>(value: V) -> Self::Value<V>;
    /// A value the store kept, as the call's type: `None` only if it was stored for another
    /// type, which the handle rules out (then the call runs the body).
    fn value_out<V: Clone + Send + Sync + 'static>(value: Self::Value<V>) -> Option<V>;
    /// An owned key the store kept, as the call's type (`None` as for [`Rep::value_out`]).
    fn key_out<K: Hash + Eq + Clone + Send + Sync + 'static>(key: &Self::Key<K>) -> Option<&K>;
    /// [`Rep::key_out`], by value.
    fn key_into<K: Hash + Eq + Clone + Send + Sync + 'static>(key: Self::Key<K>) -> Option<K>;
}

/// Keys and values as their own types.
#[derive(Clone, Copy, Debug)]
pub struct Typed;

impl Rep for Typed {
    const ERASED: bool = false;
    type Key<K: Hash + Eq + Clone + Send + Sync + 'static> = K;
    type Value<V: Clone + Send + Sync + 'static> = V;
    type Ref<'a, L: KeyRef + 'a> = L;
    type Slot<'a> = ();
    type Types = ();

    #[inline(always)]
    fn types<K: 'static, V: 'static>() {}
    #[inline(always)]
    fn type_id<K: 'static, V: 'static>((): ()) -> TypeId {
        // The cache holds the function's own types.
        TypeId::of::<(K, V)>()
    }

    #[inline(always)]
    fn key_ref<'s, 'a: 's, L: KeyRef>(key: &'a L, _: &'s mut ()) -> &'s L {
        key
    }
    #[inline(always)]
    fn value_in<V: Clone + Send + Sync + 'static>(value: V) -> V {
        value
    }
    #[inline(always)]
    fn value_out<V: Clone + Send + Sync + 'static>(value: V) -> Option<V> {
        Some(value)
    }
    #[inline(always)]
    fn key_out<K: Hash + Eq + Clone + Send + Sync + 'static>(key: &K) -> Option<&K> {
        Some(key)
    }
    #[inline(always)]
    fn key_into<K: Hash + Eq + Clone + Send + Sync + 'static>(key: K) -> Option<K> {
        Some(key)
    }
}

/// Keys and values behind pointers: [`ErasedKey`], [`ErasedValue`].
#[derive(Clone, Copy, Debug)]
pub struct Erased;

impl Rep for Erased {
    const ERASED: bool = true;
    type Key<K: Hash + Eq + Clone + Send + Sync + 'static> = ErasedKey;
    type Value<V: Clone + Send + Sync + 'static> = ErasedValue;
    type Ref<'a, L: KeyRef + 'a> = ErasedRef<'a>;
    type Slot<'a> = Option<ErasedRef<'a>>;
    type Types = TypeId;

    fn types<K: 'static, V: 'static>() -> TypeId {
        TypeId::of::<(K, V)>()
    }
    fn type_id<K: 'static, V: 'static>(types: TypeId) -> TypeId {
        types
    }

    fn key_ref<'s, 'a: 's, L: KeyRef>(
        key: &'a L,
        slot: &'s mut Option<ErasedRef<'a>>,
    ) -> &'s ErasedRef<'a> {
        slot.insert(ErasedRef(key))
    }
    fn value_in<V: Clone + Send + Sync + 'static>(value: V) -> ErasedValue {
        ErasedValue(Arc::new(value))
    }
    fn value_out<V: Clone + Send + Sync + 'static>(value: ErasedValue) -> Option<V> {
        value.0.downcast_ref::<V>().cloned()
    }
    fn key_out<K: Hash + Eq + Clone + Send + Sync + 'static>(key: &ErasedKey) -> Option<&K> {
        key.0.as_any().downcast_ref::<K>()
    }
    fn key_into<K: Hash + Eq + Clone + Send + Sync + 'static>(key: ErasedKey) -> Option<K> {
        key.0.into_any().downcast::<K>().ok().map(|k| *k)
    }
}

/// An owned key of any type, as an erased store keeps it.
pub struct ErasedKey(Box<dyn DynKey>);

/// A value of any type, as an erased store keeps it: cloned by its count.
#[derive(Clone)]
pub struct ErasedValue(Arc<dyn Any + Send + Sync>);

/// A lookup's key of any type, borrowed: hashes like the owned key it stands for, and
/// compares with it.
#[derive(Clone, Copy)]
pub struct ErasedRef<'a>(&'a dyn DynRef);

/// What an erased owned key does, whatever its type.
trait DynKey: Send + Sync + 'static {
    fn hash_dyn(&self, state: &mut dyn Hasher);
    fn eq_dyn(&self, other: &dyn Any) -> bool;
    fn clone_dyn(&self) -> ErasedKey;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> DynKey for K {
    fn hash_dyn(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }
    fn eq_dyn(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<K>() == Some(self)
    }
    fn clone_dyn(&self) -> ErasedKey {
        ErasedKey(Box::new(self.clone()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// What an erased borrowed key does, whatever its type.
trait DynRef {
    fn hash_dyn(&self, state: &mut dyn Hasher);
    fn matches_dyn(&self, owned: &dyn Any) -> bool;
    fn owned_dyn(&self) -> ErasedKey;
}

impl<L: KeyRef> DynRef for L {
    fn hash_dyn(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }
    fn matches_dyn(&self, owned: &dyn Any) -> bool {
        owned
            .downcast_ref::<L::Owned>()
            .is_some_and(|owned| self.matches(owned))
    }
    fn owned_dyn(&self) -> ErasedKey {
        ErasedKey(Box::new(self.to_owned_key()))
    }
}

impl Hash for ErasedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash_dyn(state);
    }
}

impl PartialEq for ErasedKey {
    fn eq(&self, other: &ErasedKey) -> bool {
        self.0.eq_dyn(other.0.as_any())
    }
}

impl Eq for ErasedKey {}

impl Clone for ErasedKey {
    fn clone(&self) -> ErasedKey {
        self.0.clone_dyn()
    }
}

impl fmt::Debug for ErasedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErasedKey")
    }
}

impl fmt::Debug for ErasedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErasedValue")
    }
}

impl Hash for ErasedRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash_dyn(state);
    }
}

impl KeyRef for ErasedRef<'_> {
    type Owned = ErasedKey;
    fn matches(&self, owned: &ErasedKey) -> bool {
        self.0.matches_dyn(owned.0.as_any())
    }
    fn to_owned_key(&self) -> ErasedKey {
        self.0.owned_dyn()
    }
}

/// The representation of memory caches in this build (see the module's doc).
#[cfg(all(debug_assertions, not(memocache_typed)))]
pub type MemoryRep = Erased;
/// The representation of memory caches in this build (see the module's doc).
#[cfg(not(all(debug_assertions, not(memocache_typed))))]
pub type MemoryRep = Typed;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn an_erased_key_hashes_and_compares_as_its_own_type() {
        let s = foldhash::fast::RandomState::default();
        let n = 7_u64;
        let borrowed = ("acme", &n);
        let mut slot = None;
        let erased = Erased::key_ref(&borrowed, &mut slot);
        let owned = erased.to_owned_key();
        assert_eq!(s.hash_one(erased), s.hash_one(&owned));
        assert_eq!(s.hash_one(erased), s.hash_one(borrowed));
        assert_eq!(s.hash_one(&owned), s.hash_one(owned.clone()));
        assert!(erased.matches(&owned));
        assert!(owned == owned.clone());
        assert_eq!(
            Erased::key_out::<(String, u64)>(&owned),
            Some(&(String::from("acme"), 7))
        );
        let other = 8_u64;
        let mut slot = None;
        let erased_other = Erased::key_ref(&("acme", &other), &mut slot).to_owned_key();
        assert!(!erased.matches(&erased_other));
        assert!(owned != erased_other);
        // A key of another type never matches, even where its value would.
        let mut slot = None;
        let wider = Erased::key_ref(&&7_u32, &mut slot).to_owned_key();
        let mut slot = None;
        assert!(!Erased::key_ref(&&7_u64, &mut slot).matches(&wider));
        assert_eq!(Erased::key_out::<u64>(&wider), None);
        assert_eq!(Erased::key_into::<u32>(wider.clone()), Some(7));
        assert_eq!(Erased::key_into::<u64>(wider), None);
    }

    #[test]
    fn an_erased_value_comes_back_as_its_own_type_only() {
        let v = Erased::value_in(String::from("x"));
        assert_eq!(
            Erased::value_out::<String>(v.clone()),
            Some(String::from("x"))
        );
        assert_eq!(Erased::value_out::<u64>(v), None);
    }
}

//! Keys: the borrowed form a call looks up with, and the owned form an entry keeps.
//!
//! A cached `fn f(name: &str, n: u64)` looks up with `(name, &n)`, a `(&str, &u64)`, and
//! only on a miss turns it into the owned `(String, u64)`: a hit allocates nothing. That
//! is sound because both forms hash alike (the [`Borrow`] contract: `String` hashes as
//! `str`, `u64` as `u64`, and a tuple hashes its fields in order). A `key = <expr>` is the
//! same: `key = symbol` with `symbol: &str` looks up with the `&str`, and an owned value
//! (`key = symbol.to_uppercase()`) with a reference to it ([`KeyPart`] makes the choice).

use std::borrow::Borrow;
use std::hash::Hash;
use std::ops::Deref;

/// What a store keeps as a key: the bounds of an owned key, under one name.
pub(crate) trait StoredKey: Hash + Eq + Clone + Send + Sync + 'static {}

impl<T: Hash + Eq + Clone + Send + Sync + 'static> StoredKey for T {}

/// A key as a call has it: hashes like its owned form, compares with it, and becomes it.
pub trait KeyRef: Hash {
    /// What the store keeps.
    type Owned: Hash + Eq + Clone + Send + Sync + 'static;
    /// Whether this is the key `owned` was made from.
    fn matches(&self, owned: &Self::Owned) -> bool;
    /// The owned key, made only when an entry is stored.
    fn to_owned_key(&self) -> Self::Owned;
    /// [`KeyRef::to_owned_key`], by value: an owned key moves instead of being cloned.
    fn into_owned_key(self) -> Self::Owned
    where
        Self: Sized,
    {
        self.to_owned_key()
    }
}

/// A type whose values can be part of a key, looked up through a `&` to them: `str` (stored
/// as `String`), `[T]` (as `Vec<T>`), and every `Hash + Eq + Clone` type (as itself).
///
/// The one bound a key part must meet, so that a part that does not gets one error, in
/// these words, at the parameter or expression it comes from.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key",
    label = "part of this cached function's key",
    note = "a key must be `Hash + Eq`, and `Clone + Send + Sync + 'static` once owned (a `&str` is stored as a `String`, a `&T` as a `T`)",
    note = "the default key holds every parameter but `self`: write `#[cached(key = ...)]` to leave this one out, or to make a key of it (for a float `x`, `x.to_bits()`)"
)]
pub trait KeyType: Hash + Eq {
    /// What the store keeps.
    type Owned: Hash + Eq + Clone + Send + Sync + 'static;
    /// Whether `self` is the key `owned` was made from.
    fn matches_owned(&self, owned: &Self::Owned) -> bool;
    /// The owned key.
    fn owned_key(&self) -> Self::Owned;
}

#[diagnostic::do_not_recommend]
impl<Q> KeyType for Q
where
    Q: ?Sized + ToOwned + Hash + Eq,
    Q::Owned: Borrow<Q> + Hash + Eq + Clone + Send + Sync + 'static,
{
    type Owned = Q::Owned;
    #[inline]
    fn matches_owned(&self, owned: &Self::Owned) -> bool {
        *self == *owned.borrow()
    }
    #[inline]
    fn owned_key(&self) -> Self::Owned {
        self.to_owned()
    }
}

impl<Q: ?Sized + KeyType> KeyRef for &Q {
    type Owned = Q::Owned;
    #[inline]
    fn matches(&self, owned: &Self::Owned) -> bool {
        (**self).matches_owned(owned)
    }
    #[inline]
    fn to_owned_key(&self) -> Self::Owned {
        (**self).owned_key()
    }
}

/// One part of a key as generated code has it (a parameter of the default key, `key(&n)` or
/// `key(symbol)`, an element of a `key = (a, b)` tuple, or a whole `key = expr`), before its
/// form is chosen: `key(part).part()`.
///
/// [`KeyPart`] is the first of a chain of types, each of which derefs to the next, and each
/// with an inherent `part` for one choice; method resolution takes the first that applies:
///
/// 1. [`KeyPart`], a reference to a key type (`symbol: &str`, `&id`): the reference
///    itself, so that a lookup borrows and only a store makes the owned key;
/// 2. [`RefPart`], a reference to anything else: [`NotAKey`], with one error that names the
///    type behind the reference (the [`KeyType`] bound of the method), and nothing else to
///    fail later;
/// 3. [`OwnedPart`], an owned key value (`symbol.to_uppercase()`): a reference to it, for
///    the same reason as 1 (it lives as long as the statement that made it);
/// 4. [`AnyPart`], any other value: [`NotAKey`], with its error.
///
/// A reference never reaches 3, where it would be taken for an owned key of its own and
/// fail later in the borrow checker, far from the user's words. The choosing bounds are on
/// the `impl`s (method resolution checks them and moves on), the refusing ones on the
/// methods (checked once chosen: the error). Inherent methods need no `use` in the
/// generated code.
#[inline]
pub fn key<E>(part: E) -> KeyPart<E> {
    KeyPart(RefPart(OwnedPart(AnyPart(part))))
}

/// Choice 1 of [`key`]: a reference to a key type.
#[derive(Debug)]
pub struct KeyPart<E>(RefPart<E>);

/// Choice 2 of [`key`]: a reference to anything else.
#[derive(Debug)]
pub struct RefPart<E>(OwnedPart<E>);

/// Choice 3 of [`key`]: an owned key value.
#[derive(Debug)]
pub struct OwnedPart<E>(AnyPart<E>);

/// Choice 4 of [`key`]: a value that cannot be a key. Holds the part.
#[derive(Debug)]
pub struct AnyPart<E>(E);

macro_rules! next_choice {
    ($($choice:ident => $next:ident),*) => {$(
        impl<E> Deref for $choice<E> {
            type Target = $next<E>;
            #[inline]
            fn deref(&self) -> &$next<E> {
                &self.0
            }
        }
    )*};
}

next_choice!(KeyPart => RefPart, RefPart => OwnedPart, OwnedPart => AnyPart);

impl<'a, Q: ?Sized + KeyType> KeyPart<&'a Q> {
    /// 1. A reference to a key type: the reference, as the call had it.
    #[inline]
    pub fn part(&self) -> &'a Q {
        self.0.0.0.0
    }
}

impl<Q: ?Sized> RefPart<&Q> {
    /// 2. A reference to anything else: refused, at the part.
    pub fn part(&self) -> NotAKey
    where
        Q: KeyType,
    {
        NotAKey
    }
}

impl<K: KeyType> OwnedPart<K> {
    /// 3. An owned key value: a reference to it, which lives as long as the statement that
    ///    made it.
    #[inline]
    pub fn part(&self) -> &K {
        &self.0.0
    }
}

impl<E> AnyPart<E> {
    /// 4. The last choice: a value that cannot be a key. Fails to compile, at the part.
    pub fn part(&self) -> NotAKey
    where
        E: KeyType,
    {
        NotAKey
    }
}

/// What a key part that cannot be one becomes, once its error is reported: a key that
/// compiles, so that no other error follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotAKey;

impl KeyRef for NotAKey {
    type Owned = NotAKey;
    fn matches(&self, _: &NotAKey) -> bool {
        true
    }
    fn to_owned_key(&self) -> NotAKey {
        NotAKey
    }
}

/// A key that is already owned (the store's tests use it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Owned<K>(pub K);

impl<K: Hash + Eq + Clone + Send + Sync + 'static> KeyRef for Owned<K> {
    type Owned = K;
    #[inline]
    fn matches(&self, owned: &K) -> bool {
        self.0 == *owned
    }
    #[inline]
    fn to_owned_key(&self) -> K {
        self.0.clone()
    }
    #[inline]
    fn into_owned_key(self) -> K {
        self.0
    }
}

impl KeyRef for () {
    type Owned = ();
    #[inline]
    fn matches(&self, (): &()) -> bool {
        true
    }
    #[inline]
    fn to_owned_key(&self) {}
}

macro_rules! tuple_key {
    ($($t:ident $i:tt),+) => {
        impl<$($t: KeyRef),+> KeyRef for ($($t,)+) {
            type Owned = ($($t::Owned,)+);
            #[inline]
            fn matches(&self, owned: &Self::Owned) -> bool {
                $(self.$i.matches(&owned.$i))&&+
            }
            #[inline]
            fn to_owned_key(&self) -> Self::Owned {
                ($(self.$i.to_owned_key(),)+)
            }
        }
    };
}

tuple_key!(A 0);
tuple_key!(A 0, B 1);
tuple_key!(A 0, B 1, C 2);
tuple_key!(A 0, B 1, C 2, D 3);
tuple_key!(A 0, B 1, C 2, D 3, E 4);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn borrowed_and_owned_forms_hash_alike() {
        let s = foldhash::fast::RandomState::default();
        let n = 7_u64;
        let borrowed = ("acme", &n);
        let owned = borrowed.to_owned_key();
        assert_eq!(owned, (String::from("acme"), 7));
        assert_eq!(s.hash_one(borrowed), s.hash_one(&owned));
        assert!(borrowed.matches(&owned));
        assert!(!("acm", &n).matches(&owned));
        let v = [1_u8, 2];
        assert_eq!(s.hash_one(&v[..]), s.hash_one(v.to_vec()));
    }

    /// The owned key a part stands for, and that the part hashes like it.
    fn owned_of<L: KeyRef>(part: L) -> L::Owned {
        let s = foldhash::fast::RandomState::default();
        let owned = part.to_owned_key();
        assert_eq!(s.hash_one(&part), s.hash_one(&owned));
        assert!(part.matches(&owned));
        owned
    }

    #[test]
    fn a_part_is_looked_up_borrowed_whether_it_is_a_reference_or_a_value() {
        let symbol: &str = "acme";
        let id = 7_u64;
        let name = String::from("x");
        // A reference stays the reference the call has (no copy, no allocation).
        let borrowed: &str = key(symbol).part();
        assert!(std::ptr::eq(borrowed, symbol));
        assert_eq!(owned_of(borrowed), "acme");
        let by_ref: &u64 = key(&id).part();
        assert!(std::ptr::eq(by_ref, &id));
        let by_string: &String = key(&name).part();
        assert_eq!(owned_of(by_string), "x");
        // A value is borrowed from the statement's temporary.
        assert_eq!(owned_of(key(symbol.to_uppercase()).part()), "ACME");
        assert_eq!(owned_of(key(id + 1).part()), 8);
        assert_eq!(
            owned_of((key(symbol).part(), key(id).part())),
            (String::from("acme"), 7)
        );
    }
}

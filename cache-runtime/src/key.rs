//! Keys: the borrowed form a call looks up with, and the owned form an entry keeps.
//!
//! A cached `fn f(name: &str, n: u64)` looks up with `(name, &n)`, a `(&str, &u64)`, and
//! only on a miss turns it into the owned `(String, u64)`: a hit allocates nothing. That
//! is sound because both forms hash alike (the [`Borrow`] contract: `String` hashes as
//! `str`, `u64` as `u64`, and a tuple hashes its fields in order).

use std::borrow::Borrow;
use std::hash::Hash;

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

impl<Q> KeyRef for &Q
where
    Q: ?Sized + ToOwned + Hash + Eq,
    Q::Owned: Borrow<Q> + Hash + Eq + Clone + Send + Sync + 'static,
{
    type Owned = Q::Owned;
    #[inline]
    fn matches(&self, owned: &Self::Owned) -> bool {
        **self == *owned.borrow()
    }
    #[inline]
    fn to_owned_key(&self) -> Self::Owned {
        (**self).to_owned()
    }
}

/// A key that is already owned: the value of a `key = <expr>` option.
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
}

//! Where a cache's entries live: the backend marker that generated code passes with every
//! call, as it passes the policy. [`Memory`] keeps them in process memory only; a remote
//! backend adds a tier behind the store (see [`crate::remote`]), and the bounds its keys and
//! values must meet are on its impl alone.

use crate::config::Config;
use crate::remote::{BoxFuture, Remote};
use crate::rep::{MemoryRep, Rep};

/// What a backend is, whatever the key and value types of its caches: whether they have a
/// remote tier. A constant, so that code only a remote tier needs is not compiled for the
/// functions whose entries live in memory.
pub trait Tiers: Copy + Send + Sync + 'static {
    /// Whether caches of this backend have a remote tier: then an invalidation reaches it
    /// even before the function's first call in this process.
    const REMOTE: bool;
    /// How its caches hold keys and values (see `rep.rs`): typed, or erased in a debug build
    /// of memory caches.
    type Rep: Rep;
}

/// What a cache of backend `B` keeps for an owned key `K`.
pub(crate) type KeyOf<B, K> = <<B as Tiers>::Rep as Rep>::Key<K>;
/// What a cache of backend `B` keeps for a value `V`.
pub(crate) type ValOf<B, V> = <<B as Tiers>::Rep as Rep>::Value<V>;

/// A backend for caches of keys `K` and values `V` (see the module's doc).
pub trait Backend<K, V>: Tiers {
    /// The remote tier of the cache named `name`, made once, when the cache is.
    fn remote(self, name: &'static str, config: &Config) -> Option<Box<dyn Remote<K, V>>>;
}

/// What a backend drops of a whole cache in its remote tier, without the cache's key and
/// value types: `invalidate_all_f` reaches the entries of earlier processes even before the
/// function's first call in this one.
pub trait Wipe: Copy + Send + Sync + 'static {
    /// Drops every remote entry of the cache named `name`.
    fn wipe(self, name: &'static str);
    /// The `async` form of [`Wipe::wipe`].
    fn wipe_async(self, name: &'static str) -> BoxFuture<'static, ()>;
}

/// Entries in process memory only: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory;

impl Wipe for Memory {
    fn wipe(self, _: &'static str) {}
    fn wipe_async(self, _: &'static str) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

impl Tiers for Memory {
    const REMOTE: bool = false;
    type Rep = MemoryRep;
}

impl<K, V> Backend<K, V> for Memory {
    #[inline]
    fn remote(self, _: &'static str, _: &Config) -> Option<Box<dyn Remote<K, V>>> {
        None
    }
}

//! Where a cache's entries live: the backend marker that generated code passes with every
//! call, as it passes the policy. [`Memory`] keeps them in process memory only; a remote
//! backend adds a tier behind the store (see [`crate::remote`]), and the bounds its keys and
//! values must meet are on its impl alone.

use crate::config::Config;
use crate::remote::Remote;

/// A backend for caches of keys `K` and values `V` (see the module's doc).
pub trait Backend<K, V>: Copy + Send + Sync + 'static {
    /// Whether caches of this backend have a remote tier: then an invalidation reaches it
    /// even before the function's first call in this process.
    const REMOTE: bool;
    /// The remote tier of the cache named `name`, made once, when the cache is.
    fn remote(self, name: &'static str, config: &Config) -> Option<Box<dyn Remote<K, V>>>;
}

/// Entries in process memory only: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory;

impl<K, V> Backend<K, V> for Memory {
    const REMOTE: bool = false;
    #[inline]
    fn remote(self, _: &'static str, _: &Config) -> Option<Box<dyn Remote<K, V>>> {
        None
    }
}

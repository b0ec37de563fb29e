//! What a shard keeps of one entry, what a run hands it to store, and where the entries it
//! takes out wait until its lock is released.

/// One cached entry.
pub(super) struct Node<K, V> {
    pub(super) key: K,
    pub(super) value: V,
}

/// An entry a run stores.
pub(super) struct NewEntry<K, V> {
    pub(super) hash: u64,
    pub(super) key: K,
    pub(super) value: V,
    pub(super) tags: Option<Vec<String>>,
    /// The entry lives no longer than this clock time (`u64::MAX`: as long as its `ttl`).
    pub(super) until: u64,
}

/// Entries taken out under a shard's lock, dropped after it is released (their `Drop` is
/// user code). One entry, the common case of a store that evicts, needs no allocation.
pub(super) struct Graveyard<K, V> {
    one: Option<Node<K, V>>,
    more: Vec<Node<K, V>>,
}

impl<K, V> Graveyard<K, V> {
    pub(super) fn new() -> Self {
        Graveyard {
            one: None,
            more: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, node: Node<K, V>) {
        match self.one {
            None => self.one = Some(node),
            Some(_) => self.more.push(node),
        }
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.one.is_some()) + self.more.len()
    }
}

//! Invalidations that could not reach Redis, kept to be replayed when it answers again,
//! before the cache they concern reads from Redis again.
//!
//! One [`Pending`] per cache holds its keys (and "all of it"); one more, for the whole key
//! namespace, holds tags (a tag reaches every cache) and the scopes of caches this process
//! has no cache for (an `invalidate_all_f` before the first call), with "all" meaning every
//! key under the prefix. Bounded and deduplicated: past `capacity` distinct items it degrades to "all".
//!
//! Each item remembers the sequence number of its latest push; a replay removes only the items
//! it covered, so an invalidation pushed while a replay runs is replayed again later.

use super::{Client, Error};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// How many distinct pending keys or tags one [`Pending`] keeps before it degrades to "all".
pub(crate) const CAPACITY: usize = 1024;

pub(crate) struct Pending {
    capacity: usize,
    /// Whether anything is pending: the one read on the path of a call.
    any: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    seq: u64,
    /// "All of the scope", with the sequence number of its latest push.
    all: Option<u64>,
    keys: HashMap<Vec<u8>, u64>,
    tags: HashMap<String, u64>,
    /// Caches' scopes (`<prefix>:<name>:`) to delete whole.
    scopes: HashMap<Vec<u8>, u64>,
}

impl State {
    fn is_empty(&self) -> bool {
        self.all.is_none() && self.keys.is_empty() && self.tags.is_empty() && self.scopes.is_empty()
    }

    fn items(&self) -> usize {
        self.keys.len() + self.tags.len() + self.scopes.len()
    }
}

/// What one replay covers.
struct Snapshot {
    seq: u64,
    all: bool,
    keys: Vec<Vec<u8>>,
    tags: Vec<String>,
    scopes: Vec<Vec<u8>>,
}

impl Default for Pending {
    fn default() -> Self {
        Pending::new(CAPACITY)
    }
}

impl Pending {
    pub(crate) fn new(capacity: usize) -> Pending {
        Pending {
            capacity: capacity.max(1),
            any: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }

    /// Whether nothing is pending (then the cache may read from Redis).
    pub(crate) fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    fn push(&self, f: impl FnOnce(&mut State, u64)) {
        let mut st = self.state.lock();
        st.seq += 1;
        let seq = st.seq;
        f(&mut st, seq);
        if st.items() > self.capacity {
            st.keys.clear();
            st.tags.clear();
            st.scopes.clear();
            st.all = Some(seq);
        }
        self.any.store(true, Ordering::Release);
    }

    /// An entry key whose deletion failed.
    pub(crate) fn push_key(&self, key: Vec<u8>) {
        // Kept even while "all" is pending: a replay of "all" that started before this push
        // does not cover it.
        self.push(|st, seq| {
            st.keys.insert(key, seq);
        });
    }

    /// A tag whose deletion failed.
    pub(crate) fn push_tag(&self, tag: &str) {
        self.push(|st, seq| {
            st.tags.insert(tag.to_owned(), seq);
        });
    }

    /// A deletion of a whole cache's scope that failed, kept in the namespace's queue.
    pub(crate) fn push_scope(&self, scope: &[u8]) {
        self.push(|st, seq| {
            st.scopes.insert(scope.to_vec(), seq);
        });
    }

    /// A deletion of the whole scope that failed.
    pub(crate) fn push_all(&self) {
        self.push(|st, seq| {
            st.keys.clear();
            st.tags.clear();
            st.scopes.clear();
            st.all = Some(seq);
        });
    }

    fn snapshot(&self) -> Option<Snapshot> {
        let st = self.state.lock();
        if st.is_empty() {
            return None;
        }
        Some(Snapshot {
            seq: st.seq,
            all: st.all.is_some(),
            keys: st.keys.keys().cloned().collect(),
            tags: st.tags.keys().cloned().collect(),
            scopes: st.scopes.keys().cloned().collect(),
        })
    }

    /// Forgets what `snap` replayed, unless pushed again since.
    fn settle(&self, snap: &Snapshot) {
        let mut st = self.state.lock();
        if snap.all {
            // A deletion of everything covers every item pushed before the snapshot.
            if st.all.is_some_and(|s| s <= snap.seq) {
                st.all = None;
            }
            st.keys.retain(|_, s| *s > snap.seq);
            st.tags.retain(|_, s| *s > snap.seq);
            st.scopes.retain(|_, s| *s > snap.seq);
        } else {
            for k in &snap.keys {
                if st.keys.get(k).is_some_and(|s| *s <= snap.seq) {
                    st.keys.remove(k);
                }
            }
            for t in &snap.tags {
                if st.tags.get(t).is_some_and(|s| *s <= snap.seq) {
                    st.tags.remove(t);
                }
            }
            for scope in &snap.scopes {
                if st.scopes.get(scope).is_some_and(|s| *s <= snap.seq) {
                    st.scopes.remove(scope);
                }
            }
        }
        self.any.store(!st.is_empty(), Ordering::Release);
    }

    /// Replays what is pending, `scope` being what "all" deletes (a cache's
    /// [`prefix`](super::CacheKeys::prefix), or the namespace's [`root`](super::KeySpace::root)).
    /// On success nothing replayed is pending any more; on failure everything stays.
    pub(crate) fn replay_blocking(&self, client: &Client, scope: &[u8]) -> Result<(), Error> {
        let Some(snap) = self.snapshot() else {
            return Ok(());
        };
        if snap.all {
            client.delete_all_blocking(scope)?;
        } else {
            client.unlink_all_blocking(&snap.keys)?;
            for t in &snap.tags {
                client.delete_tag_blocking(t)?;
            }
            for scope in &snap.scopes {
                client.delete_all_blocking(scope)?;
            }
        }
        self.settle(&snap);
        Ok(())
    }

    /// [`replay_blocking`](Self::replay_blocking) for async callers.
    pub(crate) async fn replay(&self, client: &Client, scope: &[u8]) -> Result<(), Error> {
        let Some(snap) = self.snapshot() else {
            return Ok(());
        };
        if snap.all {
            client.delete_all(scope).await?;
        } else {
            client.unlink_all(&snap.keys).await?;
            for t in &snap.tags {
                client.delete_tag(t).await?;
            }
            for scope in &snap.scopes {
                client.delete_all(scope).await?;
            }
        }
        self.settle(&snap);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(p: &Pending) -> Vec<Vec<u8>> {
        let mut k: Vec<_> = p.state.lock().keys.keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn deduplicates_and_degrades_to_all_past_capacity() {
        let p = Pending::new(3);
        assert!(p.is_empty());
        p.push_key(b"a".to_vec());
        p.push_key(b"a".to_vec());
        p.push_tag("t");
        assert!(!p.is_empty());
        assert_eq!(keys(&p), [b"a".to_vec()]);
        p.push_key(b"b".to_vec());
        assert!(p.state.lock().all.is_none());
        p.push_key(b"c".to_vec());
        let st = p.state.lock();
        assert!(st.all.is_some() && st.keys.is_empty() && st.tags.is_empty());
    }

    #[test]
    fn a_push_during_a_replay_stays_pending() {
        let p = Pending::new(10);
        p.push_key(b"a".to_vec());
        p.push_key(b"b".to_vec());
        let snap = p.snapshot().unwrap();
        // While the replay runs, `a` is invalidated again (and fails again), `c` is new.
        p.push_key(b"a".to_vec());
        p.push_key(b"c".to_vec());
        p.settle(&snap);
        assert_eq!(keys(&p), [b"a".to_vec(), b"c".to_vec()]);
        assert!(!p.is_empty());
        let snap = p.snapshot().unwrap();
        p.settle(&snap);
        assert!(p.is_empty());
    }

    #[test]
    fn replaying_all_covers_older_items_only() {
        let p = Pending::new(10);
        p.push_all();
        p.push_key(b"before".to_vec());
        let snap = p.snapshot().unwrap();
        assert!(snap.all);
        p.push_key(b"after".to_vec());
        p.settle(&snap);
        assert_eq!(
            keys(&p),
            [b"after".to_vec()],
            "covered by the replayed all: only `before`"
        );
        p.push_all();
        let snap = p.snapshot().unwrap();
        p.push_all();
        p.settle(&snap);
        assert!(!p.is_empty(), "the second push_all came after the snapshot");
        let snap = p.snapshot().unwrap();
        p.settle(&snap);
        assert!(p.is_empty());
    }
}

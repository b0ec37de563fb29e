//! Invalidations in progress that go over many shards or stores (`invalidate_tag`, `clear`,
//! `clear_all`), so that a run of the body which begins while one is under way stores nothing.
//!
//! Such an invalidation takes the shards one after the other. A run that registers its flight
//! in a shard the invalidation has already gone through is not detached by it, yet it may read
//! what the invalidation has not reached yet: a profile page built from the profile cache,
//! both tagged `user:7`, whose page cache is gone through before the profile cache. Stored,
//! that page would be served after `invalidate_tag("user:7")` returned. So each such
//! invalidation is listed here while it runs, and a run checks the list just before its body
//! starts ([`dooms`]): one that an invalidation in progress may cover stores nothing and is
//! detached from its flight's table. A run that checks before an invalidation is listed has its
//! flight in the table already, where the invalidation finds it. While nothing is in progress
//! the check is one atomic load.

// std's atomics even under the model checker, whose atomics cannot be statics shared by its
// runs; its schedules still interleave the threads at the shard locks around these.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// What an invalidation in progress covers.
#[derive(Debug)]
pub(crate) enum Scope {
    /// Every store (`clear_all`).
    All,
    /// These stores (`clear` of one cache: a function's stores).
    Stores(Vec<usize>),
    /// The entries carrying this tag, in every store.
    Tag(Box<str>),
}

/// How many invalidations are in progress: the fast path of [`dooms`].
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// The invalidations in progress, each with a number to take it out by.
static LIST: Mutex<Vec<(u64, Scope)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

/// An invalidation in progress, listed until dropped.
#[must_use = "the invalidation is in progress while the guard lives"]
pub(crate) struct Ongoing {
    id: u64,
}

/// Lists an invalidation over `scope`, before it touches the first shard.
pub(crate) fn begin(scope: Scope) -> Ongoing {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    LIST.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, scope));
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    Ongoing { id }
}

impl Drop for Ongoing {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
        LIST.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(id, _)| *id != self.id);
    }
}

/// Whether an invalidation in progress may cover a run of store `store` whose entry will
/// carry `tags`: that run must store nothing.
#[inline]
pub(crate) fn dooms(store: usize, tags: Option<&[String]>) -> bool {
    ACTIVE.load(Ordering::SeqCst) != 0 && covered(store, tags)
}

#[cold]
fn covered(store: usize, tags: Option<&[String]>) -> bool {
    let list = LIST.lock().unwrap_or_else(PoisonError::into_inner);
    list.iter().any(|(_, scope)| match scope {
        Scope::All => true,
        Scope::Stores(ids) => ids.contains(&store),
        Scope::Tag(tag) => tags.is_some_and(|t| t.iter().any(|t| **t == **tag)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_doomed_only_while_an_invalidation_that_covers_it_is_in_progress() {
        let tags = [String::from("user:7")];
        assert!(!dooms(1, Some(&tags)));
        {
            let _tag = begin(Scope::Tag("user:7".into()));
            assert!(dooms(1, Some(&tags)));
            assert!(!dooms(1, None), "an entry without the tag");
            assert!(!dooms(1, Some(&[String::from("user:8")])));
            let _clear = begin(Scope::Stores(vec![2]));
            assert!(dooms(2, None));
            assert!(!dooms(3, None));
        }
        assert!(!dooms(1, Some(&tags)));
        let _all = begin(Scope::All);
        assert!(dooms(9, None));
    }
}

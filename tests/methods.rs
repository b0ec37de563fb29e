//! `#[cached]` in inherent `impl` blocks: methods and associated functions.

use memocache::cached;
use std::sync::atomic::{AtomicU32, Ordering};

struct Repo {
    id: u32,
    calls: AtomicU32,
}

impl Repo {
    fn new(id: u32) -> Self {
        Repo {
            id,
            calls: AtomicU32::new(0),
        }
    }

    /// Finds a user's name.
    #[cached]
    fn user_name(&self, user: u32) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        format!("user {user} (repo {})", self.id)
    }

    #[cached(key = (self.id, user))]
    fn per_repo(&self, user: u32) -> String {
        self.calls.fetch_add(1, Ordering::SeqCst);
        format!("user {user} in repo {}", self.id)
    }

    #[cached]
    fn open(id: u32) -> Self {
        Repo::new(id)
    }

    const LIMIT: usize = 3;

    /// An associated function is recognised by its use of `Self`.
    #[cached(name = "repo-count")]
    fn count(kind: &str) -> usize {
        kind.len().min(Self::LIMIT)
    }
}

impl Clone for Repo {
    fn clone(&self) -> Self {
        Repo::new(self.id)
    }
}

#[test]
fn a_method_cache_belongs_to_the_function_not_the_instance() {
    let a = Repo::new(1);
    let b = Repo::new(2);
    assert_eq!(a.user_name(5), "user 5 (repo 1)");
    assert_eq!(
        b.user_name(5),
        "user 5 (repo 1)",
        "the receiver is not part of the default key"
    );
    assert_eq!(b.calls.load(Ordering::SeqCst), 0);
    assert!(
        Repo::invalidate_user_name(5),
        "helpers are associated functions"
    );
    assert_eq!(b.user_name(5), "user 5 (repo 2)");
    Repo::invalidate_all_user_name();
    assert!(Repo::user_name_cache().is_empty());
    assert_eq!(a.refresh_user_name(6), "user 6 (repo 1)");
    assert_eq!(Repo::user_name_cache().len(), 1);
}

#[test]
fn a_key_that_reads_self_separates_instances_and_its_helpers_take_self() {
    let a = Repo::new(1);
    let b = Repo::new(2);
    assert_eq!(a.per_repo(5), "user 5 in repo 1");
    assert_eq!(b.per_repo(5), "user 5 in repo 2");
    a.per_repo(5);
    assert_eq!(a.calls.load(Ordering::SeqCst), 1);
    assert!(a.invalidate_per_repo(5));
    assert!(!a.invalidate_per_repo(5));
    assert_eq!(Repo::per_repo_cache().len(), 1, "b's entry stayed");
}

#[test]
fn associated_functions_returning_self_are_cached() {
    let r = Repo::open(3);
    assert_eq!(r.id, 3);
    Repo::open(3);
    assert_eq!(Repo::open_cache().stats().hits, 1);
    assert!(Repo::invalidate_open(3));
}

#[test]
fn method_caches_are_named_after_their_type() {
    Repo::count("x");
    assert_eq!(Repo::count_cache().name(), "repo-count");
    let r = Repo::new(1);
    r.user_name(1);
    assert_eq!(Repo::user_name_cache().name(), "methods::Repo::user_name");
}

struct Counter<T> {
    items: Vec<T>,
}

impl<T: Clone + Send + Sync + 'static> Counter<T> {
    #[cached]
    fn label(&self, n: u32) -> String {
        format!("{n} of {}", self.items.len())
    }
}

#[test]
fn methods_of_generic_types_have_a_cache_per_type() {
    let c = Counter {
        items: vec![1_u8, 2],
    };
    assert_eq!(c.label(1), "1 of 2");
    let d = Counter {
        items: vec!["x".to_string()],
    };
    assert_eq!(
        d.label(1),
        "1 of 1",
        "Counter<String> has a cache of its own"
    );
    let e = Counter { items: vec![3_u8] };
    assert_eq!(
        e.label(1),
        "1 of 2",
        "Counter<u8> shares one among its instances"
    );
    assert_eq!(Counter::<u8>::label_cache().len(), 1);
    assert_eq!(
        Counter::<String>::label_cache().name(),
        "methods::Counter<alloc::string::String>::label"
    );
}

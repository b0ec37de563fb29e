//! Every form of `#[invalidates]` under the strictest lints a user may turn on (the module
//! is declared with `#[deny(warnings, unused_qualifications, clippy::pedantic)]`, which
//! `cargo clippy --all-targets` checks), next to modules named like the crates generated code
//! uses: the expansion names nothing by a path a user's scope could shadow.

mod core {}
mod memocache {}

use ::memocache::{cached, invalidates};
use std::sync::atomic::{AtomicU64, Ordering};

static VERSION: AtomicU64 = AtomicU64::new(0);

#[cached(tags = [format!("strict:{id}")])]
pub fn profile(id: u64) -> u64 {
    id * 1000 + VERSION.load(Ordering::SeqCst)
}

#[cached]
pub fn by_name(name: &str) -> usize {
    name.len()
}

#[cached]
pub fn listing() -> u64 {
    VERSION.load(Ordering::SeqCst)
}

#[cached]
pub async fn remote(id: u64) -> u64 {
    id
}

#[derive(Debug)]
pub struct Saved {
    pub id: u64,
}

/// Every target, `before`, `result`, a consumed parameter.
///
/// # Errors
///
/// When `id` is 0.
#[invalidates(
    profile(id),
    by_name(&name),
    tag(format!("strict:{id}")),
    all(listing),
    profile(result.id),
    before
)]
pub fn rename(id: u64, name: String) -> Result<Saved, String> {
    drop(name);
    if id == 0 {
        return Err("no user 0".into());
    }
    VERSION.fetch_add(1, Ordering::SeqCst);
    Ok(Saved { id: id + 1 })
}

/// `always`, a plain return, an argument that is a parameter the body reads too.
///
/// # Errors
///
/// Never.
#[invalidates(profile(id), always)]
pub fn touch(id: u64) -> std::io::Result<u64> {
    Ok(id)
}

/// A parameter only the targets read.
#[invalidates(by_name(name), tag("strict"))]
pub fn forget(name: &str) {}

/// `async`, awaiting an `async` target, running a sync one.
#[invalidates(remote(id), profile(id), all(listing), tag("strict-remote"))]
pub async fn push(id: u64) -> u64 {
    id
}

pub struct Repo {
    pub tenant: u64,
    pub name: String,
}

impl Repo {
    #[cached]
    #[must_use]
    pub fn user(&self, id: u64) -> u64 {
        id + self.tenant
    }

    #[cached(key = (self.tenant, id))]
    #[must_use]
    pub fn scoped(&self, id: u64) -> u64 {
        id
    }

    /// Changes `self` and returns a borrow of what it changed.
    #[invalidates(Self::user(id), all(listing))]
    pub fn rename(&mut self, id: u64, name: &str) -> &str {
        name.clone_into(&mut self.name);
        &self.name
    }

    /// A target that reads `self`, and a borrow of `self` returned.
    #[invalidates(self.scoped(id))]
    #[must_use]
    pub fn name_of(&self, id: u64) -> &str {
        &self.name
    }

    /// An `async` method.
    #[invalidates(Self::user(id), self.scoped(id))]
    pub async fn reload(&self, id: u64) -> u64 {
        self.tenant
    }
}

#[test]
fn every_form_runs() {
    assert!(rename(0, "x".into()).is_err());
    assert_eq!(rename(1, "ada".into()).map(|s| s.id), Ok(2));
    assert_eq!(touch(1).ok(), Some(1));
    forget("ada");
    assert_eq!(futures::executor::block_on(push(3)), 3);
    let mut repo = Repo {
        tenant: 1,
        name: String::new(),
    };
    assert_eq!(repo.rename(1, "ada"), "ada");
    assert_eq!(repo.name_of(1), "ada");
    assert_eq!(futures::executor::block_on(repo.reload(1)), 1);
}

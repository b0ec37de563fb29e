// Every form of `#[invalidates]` compiles without a warning, next to modules named like the
// crates generated code uses and types named like the prelude's: generated code names
// nothing by a path a user's scope could shadow.
#![deny(warnings, unused_qualifications)]

mod core {}
mod memocache {}

#[allow(dead_code, non_camel_case_types)]
mod shadowed {
    pub struct Ok;
    pub struct Some;
    pub struct Result;
    pub struct Clone;
    pub struct FnOnce;
    pub struct String;
    pub struct bool;
}

#[allow(unused_imports)]
use shadowed::*;

use ::memocache::{cached, invalidates};

#[cached(tags = [format!("user:{id}")])]
fn profile(id: u64) -> ::std::string::String {
    format!("user {id}")
}

#[cached]
fn by_name(name: &str) -> usize {
    name.len()
}

#[cached]
fn user_list() -> Vec<u64> {
    Vec::new()
}

#[cached]
async fn remote(id: u64) -> u64 {
    id
}

mod pages {
    #[::memocache::cached]
    pub fn page(id: u64) -> u64 {
        id
    }
}

/// Named like a keyword of the list: named by a path there.
#[cached]
fn tag(id: u64) -> u64 {
    id
}

#[derive(Debug)]
struct Saved {
    id: u64,
}

/// Every target, `before`, a `Result`, a consumed parameter.
#[invalidates(
    profile(id),
    by_name(&name),
    tag(format!("user:{id}")),
    all(user_list),
    profile(result.id),
    before
)]
fn rename(id: u64, name: ::std::string::String) -> ::core::result::Result<Saved, ()> {
    drop(name);
    ::core::result::Result::Ok(Saved { id })
}

/// `always`, a path to the target.
#[invalidates(self::tag(id), pages::page(id), always)]
fn touch(id: u64) -> ::std::io::Result<()> {
    let _ = id;
    ::std::io::Result::Ok(())
}

#[invalidates(by_name(name), tag("names"))]
fn plain(name: &str) -> usize {
    name.len()
}

/// `async`: an `async` target awaited, a sync one run as it is.
#[invalidates(remote(id), profile(id), all(user_list, pages::page), tag("remote"))]
async fn push(id: u64) {}

struct Repo {
    tenant: u64,
}

impl Repo {
    #[cached]
    fn user(&self, id: u64) -> u64 {
        id + self.tenant
    }

    #[cached(key = (self.tenant, id))]
    fn scoped(&self, id: u64) -> u64 {
        id
    }

    #[cached]
    async fn load(&self, id: u64) -> u64 {
        id
    }

    #[invalidates(Self::user(id), all(user_list))]
    fn save(&mut self, id: u64) -> &mut u64 {
        &mut self.tenant
    }

    #[invalidates(Self::load(id), self.scoped(id), all(Self::user))]
    async fn reload(&self, id: u64) -> u64 {
        self.tenant
    }
}

fn main() {
    let _ = rename(1, "ada".to_owned());
    let _ = touch(1);
    let _ = plain("ada");
    let _ = push(1);
    let mut repo = Repo { tenant: 1 };
    *repo.save(1) += 1;
    let _ = repo.reload(1);
}

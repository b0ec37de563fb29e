// A target names a cached function that is not in scope: rustc's error points at the
// target's name and names the helper it looked for.
use memocache::{cached, invalidates};

#[cached]
fn profile(id: u64) -> String {
    format!("user {id}")
}

#[invalidates(profile(id), avatar(id))]
fn rename(id: u64, name: &str) {
    let _ = name;
}

mod elsewhere {
    #[memocache::cached]
    pub fn counts(day: u32) -> u64 {
        u64::from(day)
    }
}

#[invalidates(all(counts))]
fn recount() {}

fn main() {}

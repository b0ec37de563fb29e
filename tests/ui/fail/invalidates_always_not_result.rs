// `always` runs the targets on `Err` too: it means nothing for a function that does not
// return `Result`, whose targets run after every return.
use memocache::{cached, invalidates};

#[cached]
fn profile(id: u64) -> String {
    format!("user {id}")
}

#[invalidates(profile(id), always)]
fn rename(id: u64) -> Option<u64> {
    Some(id)
}

#[invalidates(always, profile(id))]
fn touch(id: u64) {}

fn main() {}

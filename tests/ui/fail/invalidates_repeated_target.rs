// The same target twice, a target that an `all(..)` already covers, a repeated flag.
use memocache::{cached, invalidates};

#[cached]
fn profile(id: u64) -> String {
    format!("user {id}")
}

#[cached]
fn user_list() -> Vec<u64> {
    Vec::new()
}

#[invalidates(profile(id), tag("users"), profile(id), tag("users"))]
fn twice(id: u64) {}

#[invalidates(user_list(), all(user_list), before, before)]
fn covered() {}

fn main() {}

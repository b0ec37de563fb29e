// A cached function is a read: a hit skips its body, so invalidations on it would run on
// misses only (with `#[invalidates]` above) or on every call (below). Both orders are refused.
use memocache::{cached, invalidates};

#[cached]
fn profile(id: u64) -> String {
    format!("user {id}")
}

#[cached]
#[invalidates(profile(id))]
fn touch(id: u64) -> u64 {
    id
}

#[invalidates(profile(id))]
#[cached]
fn touch_too(id: u64) -> u64 {
    id
}

fn main() {
    let _ = (touch(1), touch_too(1));
}

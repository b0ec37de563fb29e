use memocache::cached;

#[cached(capacity = 100, unbounded)]
fn both(n: u32) -> u32 {
    n
}

#[cached(unbounded, ttl = "1m", capacity = 100)]
fn both_other_order(n: u32) -> u32 {
    n
}

fn main() {}

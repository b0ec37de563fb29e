use memocache::cached;

#[cached(ttl = "5m", capacity = 10, ttl = "1m")]
fn twice(n: u32) -> u32 {
    n
}

#[cached(unbounded, unbounded)]
fn flag_twice(n: u32) -> u32 {
    n
}

fn main() {}

use memocache::cached;

#[cached(unbounded = true)]
fn flag(n: u32) -> u32 {
    n
}

#[cached(ttl)]
fn missing_value(n: u32) -> u32 {
    n
}

fn main() {}

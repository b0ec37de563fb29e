use memocache::cached;

#[cached(capacity = 100, eviction = "fifo")]
fn unknown_policy(n: u32) -> u32 {
    n
}

#[cached(eviction = lru)]
fn not_a_string(n: u32) -> u32 {
    n
}

fn main() {}

use memocache::cached;

#[cached(capacity = 0)]
fn zero(n: u32) -> u32 {
    n
}

#[cached(capacity = -1)]
fn negative(n: u32) -> u32 {
    n
}

fn main() {}

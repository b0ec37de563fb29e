use memocache::cached;

#[cached(ttl = "0s")]
fn quote(symbol: &str) -> u64 {
    symbol.len() as u64
}

#[cached(ttl = "5m", stale = "0ms0s")]
fn stale(n: u32) -> u32 {
    n
}

fn main() {}

use memocache::cached;

#[cached(stale = "1m")]
fn quote(symbol: &str) -> u64 {
    symbol.len() as u64
}

#[cached(tti = "5m", stale = "1m")]
fn idle(n: u32) -> u32 {
    n
}

fn main() {}

// A malformed duration is an error on the literal. The helpers still exist (as stubs), so
// the calls below add no error of their own: one mistake, one message.
use memocache::cached;

#[cached(ttl = "5x")]
fn quote(symbol: &str) -> u64 {
    symbol.len() as u64
}

#[cached(tti = "30 s")]
fn idle(n: u32) -> u32 {
    n
}

#[cached(ttl = "")]
fn empty(n: u32) -> u32 {
    n
}

#[cached(ttl = "30")]
fn unitless(n: u32) -> u32 {
    n
}

#[cached(ttl = 30)]
fn number(n: u32) -> u32 {
    n
}

#[cached(ttl = "99999999999d")]
fn forever(n: u32) -> u32 {
    n
}

fn main() {
    quote("ACME");
    invalidate_quote("ACME");
    invalidate_all_quote();
    refresh_quote("ACME");
    let _ = quote_cache().stats();
    let _ = (idle(1), empty(1), unitless(1), number(1), forever(1));
}

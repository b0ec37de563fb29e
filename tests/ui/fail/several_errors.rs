// Every mistake of one use is reported, in one compile.
use memocache::cached;

#[cached(
    ttl = "5x",
    capacity = 0,
    bogus = 1,
    ttl = "1m",
    stale = "1m",
    cache_errors
)]
fn everything_wrong<T>(buffer: &mut Vec<u8>, (a, b): (u8, u8), value: T) -> impl Clone {
    let _ = (buffer, a, b, value);
    0
}

fn main() {}

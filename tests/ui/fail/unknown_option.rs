use memocache::cached;

#[cached(tll = "5m")]
fn typo(n: u32) -> u32 {
    n
}

#[cached(size = 100)]
fn from_the_cached_crate(n: u32) -> u32 {
    n
}

#[cached(frobnicate)]
fn unknown(n: u32) -> u32 {
    n
}

fn main() {}

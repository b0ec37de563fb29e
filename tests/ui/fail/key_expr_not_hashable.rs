// A `key = ...` whose value cannot be a key: one error, on the expression. A float is keyed
// by its bits, as `scaled` does.
use memocache::cached;

#[cached(key = (ratio, n))]
fn scale(ratio: f64, n: u32) -> u64 {
    (f64::from(n) * ratio) as u64
}

#[cached(key = (ratio.to_bits(), n))]
fn scaled(ratio: f64, n: u32) -> u64 {
    (f64::from(n) * ratio) as u64
}

fn main() {}

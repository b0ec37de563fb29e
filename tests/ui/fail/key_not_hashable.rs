// A parameter that cannot be part of a key: the error points at the parameter.
use memocache::cached;

#[cached]
fn scale(factor: f64, n: u32) -> u64 {
    (f64::from(n) * factor) as u64
}

fn main() {
    let _ = scale(1.5, 2);
}

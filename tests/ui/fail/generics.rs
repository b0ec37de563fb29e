use memocache::cached;

#[cached]
fn describe<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}")
}

#[cached]
fn first<const N: usize>(items: [u8; N]) -> u8 {
    items[0]
}

// Lifetime parameters are fine: see tests/ui/pass/lifetimes.rs.

fn main() {}

use memocache::cached;

#[cached]
fn sum((a, b): (u8, u8)) -> u16 {
    u16::from(a) + u16::from(b)
}

#[cached]
fn ignored(_: u8, ref by_ref: String) -> usize {
    by_ref.len()
}

// `mut x: u8` is fine: see tests/ui/pass/mut_bindings.rs.

fn main() {}

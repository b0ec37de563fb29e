// The variadic function itself is unstable too: rustc adds its own error (E0658).
use memocache::cached;

#[cached]
unsafe extern "C" fn sum(count: usize, _args: ...) -> usize {
    count
}

fn main() {}

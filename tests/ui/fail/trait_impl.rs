// A trait `impl` has no room for the helpers (`invalidate_area`, ...), and `#[cached]` alone
// cannot see the `impl` header to say so: rustc reports each helper as "not a member of
// trait". The fix is `#[memocache::cached_impl]` on the `impl` block, as for `Square` below:
// the cached method stays in the trait `impl`, its helpers go to an inherent `impl Square`.
use memocache::{cached, cached_impl};

trait Shape {
    fn area(&self) -> u64;
}

struct Circle {
    r: u64,
}

impl Shape for Circle {
    #[cached]
    fn area(&self) -> u64 {
        3 * self.r * self.r
    }
}

struct Square {
    side: u64,
}

#[cached_impl]
impl Shape for Square {
    #[cached]
    fn area(&self) -> u64 {
        self.side * self.side
    }
}

fn main() {
    let _ = (Circle { r: 1 }.area(), Square { side: 2 }.area());
    let _ = Square::invalidate_area();
}

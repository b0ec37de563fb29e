// A trait `impl` has no room for the helpers (`invalidate_area`, ...). The macro cannot see
// the `impl` header, so rustc reports it: first "const `CACHED_FN_GOES_IN_AN_INHERENT_IMPL__area`
// is not a member of trait", then each helper. The fix: cache an inherent method and call
// it from the trait method, as `Square::area` does below.
use memocache::cached;

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

impl Square {
    #[cached]
    fn cached_area(&self) -> u64 {
        self.side * self.side
    }
}

impl Shape for Square {
    fn area(&self) -> u64 {
        self.cached_area()
    }
}

fn main() {
    let _ = (Circle { r: 1 }.area(), Square { side: 2 }.area());
}

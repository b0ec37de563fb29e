// An associated function that mentions neither `self` nor `Self` looks like a free function
// to `#[cached]` alone, which cannot see the `impl` around it: rustc reports that the hidden
// worker is not in scope. The fix is `#[memocache::cached_impl]` on the `impl` block (as
// for `Shelf`), or to name `Self` in the function (as `Catalog::by_code` does).
use memocache::{cached, cached_impl};

#[derive(Clone)]
struct Catalog;

impl Catalog {
    #[cached]
    fn count(shelf: u32) -> u32 {
        shelf * 10
    }

    #[cached]
    fn by_code(code: u32) -> Option<Self> {
        (code == 0).then_some(Catalog)
    }
}

struct Shelf;

#[cached_impl]
impl Shelf {
    #[cached]
    fn count(shelf: u32) -> u32 {
        shelf * 10
    }
}

fn main() {
    let _ = (Catalog::count(1), Catalog::by_code(0), Shelf::count(1));
}

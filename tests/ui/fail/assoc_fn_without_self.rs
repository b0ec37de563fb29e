// An associated function that mentions neither `self` nor `Self` looks like a free function
// to the macro, which cannot see the `impl` around it. The fix is to name `Self` in it (as
// `Catalog::by_code` does) or to move it out of the `impl` block.
use memocache::cached;

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

fn main() {
    let _ = (Catalog::count(1), Catalog::by_code(0));
}

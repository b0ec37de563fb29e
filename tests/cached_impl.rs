//! `#[memocache::cached_impl]` on an `impl` block: cached methods of trait `impl`s, and
//! associated functions that mention neither `self` nor `Self`.

use memocache::{cached, cached_impl};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

trait Shape {
    fn area(&self, scale: u64) -> u64;
    fn name(&self) -> String;
}

static CIRCLE_RUNS: AtomicU32 = AtomicU32::new(0);

struct Circle {
    r: u64,
}

#[cached_impl]
impl Shape for Circle {
    /// The attribute's options work as anywhere else.
    #[cached(ttl = "1m")]
    fn area(&self, scale: u64) -> u64 {
        CIRCLE_RUNS.fetch_add(1, Ordering::SeqCst);
        3 * self.r * self.r * scale
    }

    fn name(&self) -> String {
        "circle".into()
    }
}

#[test]
fn a_cached_method_of_a_trait_impl_keeps_its_helpers_on_the_type() {
    let c = Circle { r: 2 };
    assert_eq!(c.area(10), 120);
    assert_eq!(c.area(10), 120);
    assert_eq!(CIRCLE_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(Circle::area_cache().name(), "cached_impl::Circle::area");
    assert!(Circle::invalidate_area(10));
    assert_eq!(Circle { r: 1 }.refresh_area(10), 30);
    assert_eq!(
        c.area(10),
        30,
        "refresh stored its value; the receiver is not in the key"
    );
    let shapes: Vec<Box<dyn Shape>> = vec![Box::new(Circle { r: 5 })];
    assert_eq!(shapes[0].area(10), 30, "through dyn: the same cache");
    assert_eq!(shapes[0].name(), "circle");
    Circle::invalidate_all_area();
    assert!(Circle::area_cache().is_empty());
}

// A generic trait impl: a cache per `Self` type, as for any generic impl.
trait Unit {
    const SIDE: u64;
}

struct Metre;
struct Foot;

impl Unit for Metre {
    const SIDE: u64 = 1;
}

impl Unit for Foot {
    const SIDE: u64 = 3;
}

struct Tile<U>(PhantomData<U>);

/// `pub(crate)`: the helpers' visibility, for use outside this module.
#[cached_impl(pub(crate))]
impl<U: Unit + 'static> Shape for Tile<U> {
    #[memocache::cached]
    fn area(&self, scale: u64) -> u64 {
        U::SIDE * U::SIDE * scale
    }

    fn name(&self) -> String {
        "tile".into()
    }
}

mod elsewhere {
    pub(crate) fn clear_foot_tiles() -> bool {
        super::Tile::<super::Foot>::invalidate_area(2)
    }
}

#[test]
fn a_generic_trait_impl_has_a_cache_per_type() {
    assert_eq!(Tile::<Metre>(PhantomData).area(2), 2);
    assert_eq!(Tile::<Foot>(PhantomData).area(2), 18);
    assert!(elsewhere::clear_foot_tiles());
    assert!(Tile::<Metre>::invalidate_area(2), "Metre's entry stayed");
}

// An associated function without `self` or `Self`: the impl attribute says where it is.
struct Catalog;

static SHELF_RUNS: AtomicU32 = AtomicU32::new(0);

#[cached_impl]
impl Catalog {
    #[cached]
    fn count(shelf: u32) -> u32 {
        SHELF_RUNS.fetch_add(1, Ordering::SeqCst);
        shelf * 10
    }

    /// Functions without `#[cached]` are left alone.
    fn plain(n: u32) -> u32 {
        n
    }
}

#[test]
fn an_associated_function_without_self_is_cached_in_its_impl() {
    assert_eq!(Catalog::count(4), 40);
    assert_eq!(Catalog::count(4), 40);
    assert_eq!(SHELF_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(Catalog::count_cache().name(), "cached_impl::Catalog::count");
    assert!(Catalog::invalidate_count(4));
    assert_eq!(Catalog::plain(1), 1);
}

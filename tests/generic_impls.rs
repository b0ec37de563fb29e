//! Functions in generic `impl` blocks and trait default methods: each `Self` type has a
//! cache of its own, named `<Self type>::f`, and its own helpers' effect.

use memocache::cached;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};

// The example: a trait default method whose body depends on `Self`.
trait Store {
    const K: u64;

    #[cached]
    fn get(&self, id: u64) -> u64 {
        id + Self::K
    }
}

struct S;
struct U;

impl Store for S {
    const K: u64 = 100;
}

impl Store for U {
    const K: u64 = 200;
}

#[test]
fn a_trait_default_method_has_a_cache_per_implementor() {
    assert_eq!(S.get(1), 101);
    assert_eq!(U.get(1), 201, "U is not served S's value");
    assert_eq!(S.get(1), 101);
    // The tests of this file run in parallel on the same caches: each uses keys of its own
    // and looks at its entries, not at the cache-wide counters.
    assert!(<S as Store>::invalidate_get(1));
    assert!(<U as Store>::invalidate_get(1));
    assert_eq!(
        <S as Store>::get_cache().name(),
        "generic_impls::S::get",
        "named after the type that calls, whichever called first"
    );
    assert_eq!(<U as Store>::get_cache().name(), "generic_impls::U::get");
}

#[test]
fn a_helper_acts_on_its_own_self_type_only() {
    assert_eq!(S.get(2), 102);
    assert_eq!(U.get(2), 202);
    assert!(<U as Store>::invalidate_get(2));
    assert!(!<U as Store>::invalidate_get(2));
    assert_eq!(S.get(2), 102);
    assert!(
        <S as Store>::invalidate_get(2),
        "S's entry was still there after U's invalidation"
    );
    assert_eq!(U.refresh_get(3), 203);
    assert!(
        <U as Store>::invalidate_get(3),
        "refresh_get stored U's entry"
    );
    assert!(!<S as Store>::invalidate_get(3));
}

// A trait with a cached default method stays dyn-compatible (its helpers are
// `where Self: Sized`), and a call through `dyn` uses the implementor's cache.
trait Greeter {
    fn prefix(&self) -> String;

    #[cached]
    fn greet(&self, n: u32) -> String {
        format!("{}{n}", self.prefix())
    }
}

struct En;
struct Fr;

impl Greeter for En {
    fn prefix(&self) -> String {
        "hello ".into()
    }
}

impl Greeter for Fr {
    fn prefix(&self) -> String {
        "bonjour ".into()
    }
}

#[test]
fn a_cached_default_method_works_through_dyn() {
    let greeters: Vec<Box<dyn Greeter>> = vec![Box::new(En), Box::new(Fr)];
    let got: Vec<String> = greeters.iter().map(|g| g.greet(1)).collect();
    assert_eq!(got, ["hello 1", "bonjour 1"]);
    assert_eq!(Fr.greet(1), "bonjour 1");
    assert_eq!(
        <Fr as Greeter>::greet_cache().stats().hits,
        1,
        "the dyn call filled Fr's cache"
    );
    assert_eq!(<En as Greeter>::greet_cache().len(), 1);
}

// A generic impl with two type arguments, whose body depends on both.
trait Source {
    const BASE: u64;
}

struct Pg;
struct Mem;

impl Source for Pg {
    const BASE: u64 = 1_000;
}

impl Source for Mem {
    const BASE: u64 = 2_000;
}

struct Repo<A, B> {
    runs: AtomicU32,
    _types: PhantomData<(A, B)>,
}

impl<A, B> Repo<A, B> {
    fn new() -> Self {
        Repo {
            runs: AtomicU32::new(0),
            _types: PhantomData,
        }
    }
}

impl<A: Source + 'static, B: Source + 'static> Repo<A, B> {
    #[cached]
    fn user(&self, id: u64) -> u64 {
        self.runs.fetch_add(1, Ordering::SeqCst);
        A::BASE * 10 + B::BASE + id
    }
}

#[test]
fn a_generic_impl_has_a_cache_per_instantiation() {
    let pg_mem = Repo::<Pg, Mem>::new();
    let mem_pg = Repo::<Mem, Pg>::new();
    let pg_pg = Repo::<Pg, Pg>::new();
    assert_eq!(pg_mem.user(7), 12_007);
    assert_eq!(mem_pg.user(7), 21_007);
    assert_eq!(pg_pg.user(7), 11_007);
    assert_eq!(pg_mem.user(7), 12_007);
    assert_eq!(pg_mem.runs.load(Ordering::SeqCst), 1);
    assert_eq!(Repo::<Pg, Mem>::user_cache().stats().hits, 1);
    assert_eq!(
        Repo::<Mem, Pg>::user_cache().name(),
        "generic_impls::Repo<generic_impls::Mem, generic_impls::Pg>::user"
    );
    assert!(Repo::<Mem, Pg>::invalidate_user(7));
    assert_eq!(pg_mem.user(7), 12_007, "Repo<Pg, Mem> kept its entry");
    assert_eq!(pg_mem.runs.load(Ordering::SeqCst), 1);
    let names: Vec<String> = memocache::caches()
        .iter()
        .map(|c| c.name().to_owned())
        .filter(|n| n.starts_with("generic_impls::Repo<"))
        .collect();
    assert_eq!(names.len(), 3, "one cache per instantiation: {names:?}");
}

// A `Self` type that is not `'static` keeps compiling, and its lifetimes do not make
// caches of their own.
struct Parser<'a> {
    text: &'a str,
}

impl<'a> Parser<'a> {
    #[cached]
    fn word(&self, n: usize) -> String {
        self.text.split(' ').nth(n).unwrap_or_default().to_owned()
    }
}

#[test]
fn a_self_type_with_a_lifetime_has_one_cache() {
    let first = String::from("a b c");
    let p = Parser { text: &first };
    assert_eq!(p.word(1), "b");
    {
        let second = String::from("x y z");
        let q = Parser { text: &second };
        assert_eq!(q.word(1), "b", "the receiver is not part of the key");
    }
    assert_eq!(Parser::word_cache().stats().hits, 1);
}

// An associated function without a receiver in a generic impl: `Self` in its body tells
// the macro where it is.
struct Table<T>(PhantomData<T>);

impl<T: Source + 'static> Table<T> {
    #[cached]
    fn row(n: u64) -> u64 {
        n + <T as Source>::BASE + Self::EXTRA
    }

    const EXTRA: u64 = 0;
}

#[test]
fn an_associated_function_of_a_generic_impl_has_a_cache_per_type() {
    assert_eq!(Table::<Pg>::row(1), 1_001);
    assert_eq!(Table::<Mem>::row(1), 2_001);
    assert_eq!(Table::<Pg>::row_cache().len(), 1);
    assert_eq!(Table::<Mem>::row_cache().len(), 1);
}

// A generic trait's default method: one `Self` type, one handle, a cache for each of the
// trait's type arguments (the handle's other caches). A debug build's memory caches hold
// every key and value type alike (erased, see cache-runtime/src/rep.rs): the handle still
// tells them apart by the function's own types.
trait Render<T> {
    fn render(n: u32) -> T;

    #[cached]
    fn shown(&self, n: u32) -> T
    where
        Self: Sized,
        T: Clone + Send + Sync + 'static,
    {
        Self::render(n)
    }
}

struct Page;

impl Render<u64> for Page {
    fn render(n: u32) -> u64 {
        u64::from(n) * 10
    }
}

impl Render<String> for Page {
    fn render(n: u32) -> String {
        format!("page {n}")
    }
}

#[test]
fn a_generic_traits_type_arguments_have_caches_of_their_own() {
    let as_number = |n| <Page as Render<u64>>::shown(&Page, n);
    let as_text = |n| <Page as Render<String>>::shown(&Page, n);
    assert_eq!(as_number(4), 40);
    assert_eq!(as_text(4), "page 4");
    assert_eq!(as_number(4), 40);
    assert_eq!(as_text(4), "page 4");
    let stats = <Page as Render<u64>>::shown_cache().stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (2, 2),
        "each type's second call is a hit of its own cache"
    );
    assert!(<Page as Render<String>>::invalidate_shown(4));
    assert!(!<Page as Render<String>>::invalidate_shown(4));
    assert!(
        <Page as Render<u64>>::invalidate_shown(4),
        "the other type's entry is still there"
    );
}

// `#[cached]` on trait default methods: the trait stays dyn-compatible; a non-`'static`
// `Self` type and a receiver-less function with `where Self: Sized` compile.
use memocache::cached;

pub trait Store {
    fn base(&self) -> u64;

    #[cached]
    fn get(&self, id: u64) -> u64 {
        id + self.base()
    }

    #[cached(ttl = "1m", stale = "10s")]
    fn open(id: u64) -> u64
    where
        Self: Sized,
    {
        id
    }

}

// An `async fn` makes a trait not dyn-compatible of itself.
pub trait AsyncStore: Store {
    #[cached]
    async fn fetch(&self, id: u64) -> String {
        format!("{}", id + self.base())
    }
}

impl AsyncStore for Borrowed<'_> {}

pub struct Borrowed<'a>(&'a u64);

impl Store for Borrowed<'_> {
    fn base(&self) -> u64 {
        *self.0
    }
}

fn main() {
    let n = 1;
    let s: &dyn Store = &Borrowed(&n);
    let _ = s.get(1);
    let _ = Borrowed(&n).fetch(1);
    let _ = <Borrowed<'_> as Store>::open(1);
    let _ = <Borrowed<'_> as Store>::invalidate_get(1);
    let _ = <Borrowed<'_> as Store>::get_cache();
}

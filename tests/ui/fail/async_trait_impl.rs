// An `async fn` in a trait `impl`: as for a sync one, `#[cached]` alone has no room for the
// helpers; `#[memocache::cached_impl]` on the `impl` puts them in an inherent `impl`.
use memocache::{cached, cached_impl};

trait Store {
    async fn load(&self, id: u64) -> String;
}

struct Db;

impl Store for Db {
    #[cached]
    async fn load(&self, id: u64) -> String {
        format!("row {id}")
    }
}

struct Files;

#[cached_impl]
impl Store for Files {
    #[cached]
    async fn load(&self, id: u64) -> String {
        format!("file {id}")
    }
}

fn main() {
    let _ = Files::invalidate_load(1);
}

// An `async fn` in a trait `impl`: as for a sync one, there is no room for the helpers. Cache
// an inherent `async fn` and call it from the trait method.
use memocache::cached;

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

fn main() {}

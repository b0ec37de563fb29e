// `#[cached_impl]` goes on an `impl` block, and takes nothing or a visibility.
use memocache::{cached, cached_impl};

#[cached_impl]
struct Repo;

struct Db;

#[cached_impl(capacity = 3)]
impl Db {
    #[cached]
    fn load(&self, id: u64) -> u64 {
        id
    }
}

fn main() {}

// `#[invalidates]` goes on a function with a body that runs at run time.
use memocache::{cached, invalidates};

#[cached]
fn profile(id: u64) -> String {
    format!("user {id}")
}

#[invalidates(profile(1))]
struct Profile;

#[invalidates(profile(id))]
const fn rename(id: u64) -> u64 {
    id
}

trait Store {
    #[invalidates(profile(id))]
    fn save(&self, id: u64);
}

fn main() {}

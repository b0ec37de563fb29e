// A sync function cannot await the helpers of an `async` cached function: the error is on
// the target, in words, rather than rustc's warning about a future never awaited.
use memocache::{cached, invalidates};

#[cached]
async fn product(id: u64) -> String {
    format!("product {id}")
}

#[cached]
async fn catalogue() -> Vec<u64> {
    Vec::new()
}

#[cached]
fn price(id: u64) -> u64 {
    id
}

#[invalidates(price(id), product(id), all(catalogue))]
fn reprice(id: u64) {}

fn main() {}

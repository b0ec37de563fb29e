use memocache::cached;

#[derive(Clone)]
struct Product {
    name: String,
}

#[cached(ttl = "10m", redis)]
fn product(id: u64) -> Product {
    Product { name: id.to_string() }
}

fn main() {}

use memocache::cached;

#[derive(Clone, PartialEq, Eq, Hash)]
struct ProductId(u64);

#[cached(ttl = "10m", redis)]
fn product(id: ProductId) -> String {
    id.0.to_string()
}

fn main() {}

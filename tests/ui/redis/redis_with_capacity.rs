use memocache::cached;

#[cached(ttl = "10m", redis, capacity = 100)]
fn product(id: u64) -> String {
    id.to_string()
}

fn main() {}

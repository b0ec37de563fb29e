use memocache::cached;

#[cached(ttl = "10m", redis)]
fn product(id: u64) -> String {
    id.to_string()
}

#[cached(ttl = "10m", redis, near = "30s")]
fn near(id: u64) -> String {
    id.to_string()
}

fn main() {}

use memocache::cached;

#[cached(ttl = "10m", near = "30s")]
fn product(id: u64) -> String {
    id.to_string()
}

#[cached(ttl = "10m", version = "2")]
fn price(id: u64) -> u64 {
    id
}

fn main() {}

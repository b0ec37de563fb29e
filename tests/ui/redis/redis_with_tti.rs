use memocache::cached;

#[cached(ttl = "10m", tti = "1m", redis)]
fn product(id: u64) -> String {
    id.to_string()
}

fn main() {}

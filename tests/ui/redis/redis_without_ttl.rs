use memocache::cached;

#[cached(redis)]
fn product(id: u64) -> String {
    id.to_string()
}

fn main() {}

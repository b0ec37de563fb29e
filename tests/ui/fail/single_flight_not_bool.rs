use memocache::cached;

#[cached(single_flight = "yes")]
fn load(id: u64) -> u64 {
    id
}

fn main() {}

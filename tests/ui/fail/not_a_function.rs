use memocache::cached;

#[cached]
struct Prices {
    last: f64,
}

#[cached]
static TABLE: [u8; 2] = [0, 1];

#[cached(ttl = "5m")]
mod quotes {}

trait Source {
    #[cached]
    fn fetch(&self, id: u32) -> String;
}

fn main() {}

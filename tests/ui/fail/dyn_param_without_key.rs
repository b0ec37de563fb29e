// A parameter that cannot be part of the default key (a `&dyn` client): one error, at the
// parameter, that says to write `key = ...`. The fix, as `quote` does: leave it out.
use memocache::cached;

trait Client {
    fn get(&self, symbol: &str) -> f64;
}

#[cached]
fn price(symbol: &str, client: &dyn Client) -> f64 {
    client.get(symbol)
}

#[cached(key = symbol)]
fn quote(symbol: &str, client: &dyn Client) -> f64 {
    client.get(symbol)
}

fn main() {}

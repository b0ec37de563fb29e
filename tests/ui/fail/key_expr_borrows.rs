// A key value that holds a borrow (`Some(symbol)` with `symbol: &str`) cannot be stored:
// write the borrowed parts out (`key = symbol`, `key = (symbol, page)`, which are looked up
// borrowed and stored owned) or own them (`Some(symbol.to_owned())`).
use memocache::cached;

#[cached(key = Some(symbol))]
fn price(symbol: &str) -> u64 {
    symbol.len() as u64
}

fn main() {}

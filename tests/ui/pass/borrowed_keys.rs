// `key = ...` expressions that evaluate to references, or tuples of them, work like the
// default key; owned values too.
use memocache::cached;

pub struct Page {
    pub id: u64,
    pub title: String,
}

#[cached(key = symbol)]
fn price(symbol: &str, _client: &str) -> u64 {
    symbol.len() as u64
}

#[cached(key = &id)]
fn by_id(id: u64, _verbose: bool) -> u64 {
    id
}

#[cached(key = (symbol, page))]
fn feed(symbol: &str, page: u32, _db: &str) -> String {
    format!("{symbol}:{page}")
}

#[cached(key = (&page.title, (page.id, symbol)))]
fn nested(page: &Page, symbol: &str) -> String {
    format!("{}:{symbol}", page.title)
}

#[cached(key = &symbol[..n])]
fn prefix(symbol: &str, n: usize) -> String {
    symbol[..n].to_owned()
}

#[cached(key = symbol.to_uppercase())]
fn upper(symbol: &str) -> String {
    symbol.to_uppercase()
}

fn main() {
    let page = Page { id: 1, title: "t".into() };
    let _ = (price("a", "b"), by_id(1, true), feed("a", 1, "db"), nested(&page, "s"));
    let _ = (prefix("abc", 2), upper("a"));
    let _ = (invalidate_price("a"), invalidate_by_id(1), invalidate_feed("a", 1));
    let _ = (invalidate_nested(&page, "s"), invalidate_prefix("abc", 2), invalidate_upper("a"));
}

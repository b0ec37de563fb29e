// A cached value outlives the call: it cannot borrow. The error names what to return.
use memocache::cached;

#[cached]
fn first(words: &[String]) -> &str {
    &words[0]
}

#[cached]
fn tail<'a>(words: &'a [String], n: usize) -> Result<&'a [String], String> {
    words.get(n..).ok_or_else(|| "short".to_owned())
}

#[cached]
fn label(id: u64) -> std::borrow::Cow<'static, str> {
    // A `'static` borrow is fine.
    id.to_string().into()
}

fn main() {}

use memocache::cached;

#[cached(cache_errors)]
fn lookup(id: u32) -> Option<String> {
    Some(id.to_string())
}

fn main() {}

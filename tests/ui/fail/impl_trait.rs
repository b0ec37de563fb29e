use memocache::cached;

#[cached]
fn takes(name: impl AsRef<str>) -> usize {
    name.as_ref().len()
}

#[cached]
fn gives(n: u32) -> impl std::fmt::Display {
    n
}

#[cached]
fn nested(items: Vec<u32>) -> Option<impl Clone> {
    let _ = items;
    Some(0)
}

fn main() {}

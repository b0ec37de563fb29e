// `where` clauses are kept on the function, the body's function and `refresh_*`.
use memocache::cached;

#[cached]
fn nested<'a, 'b>(outer: &'a str, inner: &'b str) -> bool
where
    'b: 'a,
{
    outer.contains(inner)
}

#[cached]
fn sized(text: &str) -> usize
where
    String: Clone,
{
    text.len()
}

fn main() {
    assert!(nested("haystack", "st"));
    assert!(refresh_nested("haystack", "st"));
    assert!(invalidate_nested("haystack", "st"));
    assert_eq!(sized("abc"), 3);
    assert!(invalidate_sized("abc"));
}

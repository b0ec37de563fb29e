// Lifetime parameters, named or elided, in arguments; `invalidate_*` takes only the
// lifetimes its parameters use.
use memocache::cached;

#[cached]
fn longest<'a, 'b>(a: &'a str, b: &'b str) -> usize {
    a.len().max(b.len())
}

#[cached(key = name.to_owned())]
fn greet<'n>(name: &'n str, punctuation: &str) -> String {
    format!("hello {name}{punctuation}")
}

#[cached]
fn total(items: &[u32]) -> u32 {
    items.iter().sum()
}

fn main() {
    assert_eq!(longest("ab", "abc"), 3);
    assert!(invalidate_longest("ab", "abc"));
    assert_eq!(greet("ann", "!"), "hello ann!");
    assert_eq!(greet("ann", "?"), "hello ann!"); // same key: the stored value
    assert!(invalidate_greet("ann"));
    let items = vec![1, 2, 3];
    assert_eq!(total(&items), 6);
    assert_eq!(total(&[1, 2, 3]), 6);
    assert_eq!(total_cache().stats().hits, 1);
}

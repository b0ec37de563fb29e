// A key expression that reads parameters only through format-string captures:
// `invalidate_*` takes exactly those parameters.
use memocache::cached;

#[cached(key = format!("{region}/{user_id:>8}"), tags = [format!("user:{user_id}")])]
fn profile(region: &str, user_id: u64, verbose: bool) -> String {
    format!("{region}:{user_id}:{verbose}")
}

#[cached(key = format!("{{literal}}:{}", id.len()))]
fn escaped(id: &str, extra: u8) -> usize {
    id.len() + usize::from(extra)
}

fn main() {
    assert_eq!(profile("eu", 7, false), "eu:7:false");
    assert_eq!(profile("eu", 7, true), "eu:7:false"); // `verbose` is not in the key
    assert!(invalidate_profile("eu", 7));
    assert_eq!(memocache::invalidate_tag("user:7"), 0);
    assert_eq!(profile("eu", 7, true), "eu:7:true");
    assert_eq!(memocache::invalidate_tag("user:7"), 1);
    assert_eq!(escaped("ab", 1), 3);
    assert!(invalidate_escaped("ab"));
}

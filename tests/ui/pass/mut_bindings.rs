// `mut` parameter bindings work in the body; the helpers take the parameters without `mut`.
use memocache::cached;

#[cached]
fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

#[cached]
fn shout(mut text: String, times: usize) -> String {
    text.make_ascii_uppercase();
    text.repeat(times)
}

struct Counter;

impl Counter {
    #[cached]
    fn next(mut self, mut by: u32) -> u32 {
        by += 1;
        let _ = &mut self;
        by
    }
}

fn main() {
    assert_eq!(collatz_steps(6), 8);
    assert!(invalidate_collatz_steps(6));
    assert_eq!(shout("hi".to_owned(), 2), "HIHI");
    assert_eq!(refresh_shout("hi".to_owned(), 2), "HIHI");
    assert_eq!(Counter.next(1), 2);
    assert!(Counter::invalidate_next(1));
}

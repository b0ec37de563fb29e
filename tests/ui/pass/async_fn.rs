// `async fn`: the helpers are `async` too (but `*_cache`), and `?` in the body converts
// errors as it would without the attribute.
use memocache::cached;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[derive(Debug)]
struct AppError(String);

impl From<std::num::ParseIntError> for AppError {
    fn from(e: std::num::ParseIntError) -> Self {
        AppError(e.to_string())
    }
}

#[cached(ttl = "1m")]
async fn parse(text: &str) -> Result<u32, AppError> {
    let n: u32 = text.parse()?;
    if n == 0 {
        return Err(AppError("zero".into()));
    }
    Ok(n)
}

#[cached]
async fn boxed(text: String) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    Ok(text.parse::<u32>()?)
}

struct Repo;

impl Repo {
    #[cached]
    async fn get(&self, id: u32) -> String {
        let _ = self;
        id.to_string()
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    assert_eq!(block_on(parse("12")).unwrap(), 12);
    assert!(block_on(parse("x")).is_err());
    assert!(block_on(parse("0")).is_err());
    assert!(block_on(invalidate_parse("12")));
    block_on(invalidate_all_parse());
    assert_eq!(block_on(refresh_parse("12")).unwrap(), 12);
    assert_eq!(parse_cache().len(), 1);
    assert_eq!(block_on(boxed("3".to_owned())).unwrap(), 3);
    let repo = Repo;
    assert_eq!(block_on(assert_send(repo.get(4))), "4");
    assert!(block_on(Repo::invalidate_get(4)));
}

// `stale` on an `async fn` refreshes in a spawned task, so the body's future must be `Send`:
// this one holds an `Rc` across an `.await`.
use memocache::cached;
use std::rc::Rc;

async fn tick() {}

#[cached(ttl = "1m", stale = "10s")]
async fn report(day: u32) -> String {
    let shared = Rc::new(day);
    tick().await;
    format!("day {shared}")
}

fn main() {}

//! Child processes that start their calls at one instant: Unix milliseconds (the clock every
//! process shares), the parent handing the instant to a child (`MEMOCACHE_TEST_AT`), and the
//! child sleeping until it.
//!
//! Include it with `#[path = "support/at_once.rs"] mod at_once;`. It uses std only.

use std::process::{Child, Command};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in Unix milliseconds.
pub fn unix_ms() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH);
    u64::try_from(now.expect("a clock after 1970").as_millis()).expect("a clock before 2262")
}

/// Sleeps until `at` (Unix milliseconds); at once if it has passed.
pub fn sleep_until(at: u64) {
    let now = unix_ms();
    if at > now {
        std::thread::sleep(Duration::from_millis(at - now));
    }
}

/// Starts `child` (see `redis_child::command`), telling it to start its calls at `at`.
#[allow(dead_code)] // not by the binaries that only use the clock
pub fn spawn_at(mut child: Command, at: u64) -> Child {
    child
        .env("MEMOCACHE_TEST_AT", at.to_string())
        .spawn()
        .expect("the child starts")
}

/// The child's side of [`spawn_at`]: sleeps until the instant its parent gave.
#[allow(dead_code)] // not by the binaries that only use the clock
pub fn wait_for_start() {
    let at = std::env::var("MEMOCACHE_TEST_AT").expect("MEMOCACHE_TEST_AT is set for a child");
    sleep_until(at.parse().expect("Unix milliseconds"));
}

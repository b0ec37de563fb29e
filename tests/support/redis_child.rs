//! A test binary run again as a child process with a role: the command that starts it (only
//! its `child` test runs, `MEMOCACHE_TEST_CHILD` naming the role, `MEMOCACHE_TEST_REDIS` the
//! Redis to use), the child's side (its role, the one `REPORT` line it prints), and the
//! parent's reading of that line.
//!
//! Include it with `#[path = "support/redis_child.rs"] mod redis_child;`. It uses std only.
//! Each binary's `child` test returns at once unless [`role`] is `Some`, so it passes in the
//! parent.

use std::fmt::Display;
use std::process::{Child, Command, Output, Stdio};

/// This binary as a child in `role`, pointed at `urls` (one URL, or a Cluster's joined by
/// commas). Its standard output is piped (for [`report`]); its standard error is piped by
/// `Command::output` and inherited by `Command::spawn`, as for any `Command`.
pub fn command(role: &str, urls: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("MEMOCACHE_TEST_CHILD", role)
        .env("MEMOCACHE_TEST_REDIS", urls)
        .stdout(Stdio::piped());
    cmd
}

/// The role of this process when it is a child, `None` in the parent.
#[allow(dead_code)] // not by the binaries without children (redis_lease.rs)
pub fn role() -> Option<String> {
    std::env::var("MEMOCACHE_TEST_CHILD").ok()
}

/// The child's answer to its parent: the line [`report`] finds.
#[allow(dead_code)] // not by the binaries without children (redis_lease.rs)
pub fn tell_parent(report: impl Display) {
    println!("REPORT {report}");
}

/// What the child `who` printed after `REPORT ` (trimmed), once it exited successfully.
#[allow(dead_code)] // not by redis_linearizable.rs, which reads its children's stderr too
pub fn report(child: Child, who: &str) -> String {
    report_in(&child.wait_with_output().expect("the child runs"), who)
}

/// [`report`] of a child's whole output.
pub fn report_in(out: &Output, who: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child {who}: {out:?}");
    stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r.trim().to_owned()))
        .unwrap_or_else(|| panic!("no report from child {who}: {stdout}"))
}

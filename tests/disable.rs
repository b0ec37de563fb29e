//! `MEMOCACHE_DISABLE=1`: every cached function runs its body and nothing is stored.
//!
//! The variable is read once, at the first call of any cached function, so the test runs
//! itself again as a child process with the variable set.

use memocache::cached;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static RUNS: AtomicU32 = AtomicU32::new(0);

#[cached]
fn answer(n: u32) -> u32 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    n
}

fn calls_twice_and_reports() -> (u32, usize) {
    answer(1);
    answer(1);
    (RUNS.load(Ordering::SeqCst), answer_cache().len())
}

#[test]
fn child_reports_what_it_saw() {
    if std::env::var_os("MEMOCACHE_TEST_CHILD").is_none() {
        return;
    }
    let (runs, len) = calls_twice_and_reports();
    println!("REPORT runs={runs} len={len}");
}

fn run_child(disable: Option<&str>) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_reports_what_it_saw",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("MEMOCACHE_TEST_CHILD", "1")
    .env_remove("MEMOCACHE_DISABLE");
    if let Some(v) = disable {
        cmd.env("MEMOCACHE_DISABLE", v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, r)| r.trim().to_string()))
        .unwrap_or_else(|| panic!("no report in {stdout}"))
}

#[test]
fn memocache_disable_runs_every_body_and_stores_nothing() {
    assert_eq!(run_child(Some("1")), "runs=2 len=0");
    assert_eq!(run_child(Some("0")), "runs=1 len=1");
    assert_eq!(run_child(None), "runs=1 len=1");
}

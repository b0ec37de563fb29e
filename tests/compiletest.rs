//! What `#[cached]` accepts and what it refuses, with the exact compiler output.
//!
//! Each `tests/ui/<dir>/NAME.rs` is named after its mistake and has a committed `NAME.stderr`;
//! after a deliberate change to a message, regenerate them with
//! `TRYBUILD=overwrite cargo test --all-features --test compiletest` (and once more without
//! `--all-features`, for `no_redis/`) and read the diff.
//!
//! - `fail/`, `pass/`: whatever the features;
//! - `redis/`: the Redis options' mistakes, with the `redis` feature;
//! - `no_redis/`: `redis` without the feature (`.ci/run` runs this file once without features).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
    if cfg!(feature = "redis") {
        t.compile_fail("tests/ui/redis/*.rs");
    } else {
        t.compile_fail("tests/ui/no_redis/*.rs");
    }
}

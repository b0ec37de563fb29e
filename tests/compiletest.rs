//! What `#[cached]` accepts and what it refuses, with the exact compiler output.
//!
//! Each `tests/ui/fail/NAME.rs` is named after its mistake and has a committed `NAME.stderr`;
//! after a deliberate change to a message, regenerate them with
//! `TRYBUILD=overwrite cargo test --test compiletest` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}

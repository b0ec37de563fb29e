// An `#[invalidates]` that lists nothing to invalidate.
use memocache::invalidates;

#[invalidates]
fn nothing() {}

#[invalidates()]
fn empty() {}

#[invalidates(before, always)]
fn only_flags() -> Result<(), String> {
    Ok(())
}

fn main() {}

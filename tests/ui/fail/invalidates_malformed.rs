// Targets written wrong, each reported on its tokens, all in one compile.
use memocache::invalidates;

#[invalidates(
    profile,
    alwas,
    before = true,
    all(),
    all(profile(id)),
    tag(),
    tag("a", "b"),
)]
fn everything_wrong(id: u64) {}

struct Repo;

impl Repo {
    #[invalidates(self.scoped, all(self.scoped))]
    fn method(&self) {}
}

#[invalidates(profile(id) 7)]
fn syntax(id: u64) {}

fn main() {}

// Wrong arguments for a target are rustc's errors on the call of `invalidate_f`, spanned
// at the arguments as written.
use memocache::{cached, invalidates};

#[cached]
fn profile(id: u64) -> String {
    format!("user {id}")
}

#[cached]
fn by_name(name: &str) -> u64 {
    name.len() as u64
}

#[invalidates(profile(id, name.len()), profile())]
fn too_many_and_too_few(id: u64, name: String) {
    drop(name);
}

#[invalidates(by_name(name), by_name(format!("{id}")), profile(&name))]
fn wrong_types(id: u64, name: String) {
    drop(name);
}

fn main() {}

// A return value that cannot be stored: the error points at the return type.
use memocache::cached;

struct Report {
    lines: Vec<String>,
}

#[cached]
fn report(day: u32) -> Report {
    Report {
        lines: vec![day.to_string()],
    }
}

fn main() {
    let _ = report(1).lines;
}

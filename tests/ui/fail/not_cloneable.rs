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
    let _ = (report(1).lines, load(1), shared(1));
}

// For a `Result`, what is stored is the `Ok` value: the same error, about it.
#[cached]
fn load(day: u32) -> std::io::Result<Report> {
    Ok(report(day))
}

// `Rc` is `Clone` but not `Send`: a cache is shared between threads.
#[cached]
fn shared(day: u32) -> std::rc::Rc<u32> {
    std::rc::Rc::new(day)
}

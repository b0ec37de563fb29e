use memocache::cached;

#[cached]
fn log(line: &str) {
    println!("{line}");
}

#[cached]
fn unit(line: &str) -> () {
    println!("{line}");
}

fn main() {}

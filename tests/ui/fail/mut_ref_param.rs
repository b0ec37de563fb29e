use memocache::cached;

#[cached]
fn fill(buffer: &mut Vec<u8>, n: usize) -> usize {
    buffer.resize(n, 0);
    buffer.len()
}

fn main() {}

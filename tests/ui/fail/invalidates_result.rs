// `result` is the value the body returned: not there before the body, nor on `Err`.
use memocache::{cached, invalidates};

#[cached]
fn order(id: u64) -> Option<u64> {
    Some(id)
}

#[invalidates(order(result.0), always)]
fn with_always(customer: u64) -> Result<(u64, u64), String> {
    Ok((customer, 1))
}

#[invalidates(order(*result), before)]
fn only_after(customer: u64) -> u64 {
    customer
}

#[invalidates(order(*result))]
fn named_result(result: u64) -> u64 {
    result
}

#[invalidates(order(*result))]
fn returns_nothing(customer: u64) {}

fn main() {}

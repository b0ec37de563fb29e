// An argument taken before the body, of a type that cannot be copied, while the body
// consumes what it reads.
use memocache::{cached, invalidates};

#[cached]
fn order(id: u64) -> u64 {
    id
}

struct Order {
    id: u64,
}

#[cached(key = order.id)]
fn by_order(order: &Order) -> u64 {
    order.id
}

fn consume(order: Order) -> u64 {
    order.id
}

#[invalidates(order(order.id), by_order(&order))]
fn save(order: Order) -> u64 {
    consume(order)
}

fn main() {}

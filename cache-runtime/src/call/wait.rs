//! Waiting for another caller's run of the body: what a waiter answers with once the flight
//! ends, and the future a task waits on without blocking its thread.

use crate::flight::{Flight, Outcome};
use crate::policy::Policy;
use crate::rep::Rep;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What a caller that waited for another caller's run answers with, if anything: the run's
/// value (in the store's form `Rp`), or its shared error.
pub(super) fn answer<R, V, P, Rp>(outcome: Outcome<Rp::Value<V>>) -> Option<R>
where
    V: Clone + Send + Sync + 'static,
    P: Policy<R, Stored = V>,
    Rp: Rep,
{
    match outcome {
        Outcome::Value(v) => Rp::value_out::<V>(v).map(P::restore),
        Outcome::Error(e) => P::shared_error(&*e),
        Outcome::Retry => None,
    }
}

/// Waits for a flight without blocking the thread.
pub(super) struct WaitFlight<K, V> {
    pub(super) flight: Arc<Flight<K, V>>,
}

impl<K, V: Clone> Future for WaitFlight<K, V> {
    type Output = Outcome<V>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome<V>> {
        self.flight.poll_wait(cx)
    }
}

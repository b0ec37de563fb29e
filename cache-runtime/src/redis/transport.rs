//! What the operations ask of a transport ([`Req`]), the transport trait ([`Exec`]), and
//! how the operations, written once as `async fn`s, also run on a blocking transport.
//!
//! The transports:
//!
//! | caller | standalone | Cluster |
//! |---|---|---|
//! | sync | `pool.rs`: an idle pooled sync connection, socket timeouts = the time left; when all are busy, `io.rs` as for a Cluster | `io.rs`: the async cluster connection, the caller waits on a channel with a timeout |
//! | async | `io.rs`: a `ConnectionManager` on memocache's I/O thread | `io.rs`: the async cluster connection on the I/O thread |
//!
//! Sync callers on a Cluster do not use redis-rs's sync `ClusterConnection`: its request loop
//! retries a failed request, reconnecting to the node first (each attempt waiting up to the
//! connect and then the response timeout) and refreshing the slot map from the nodes, so one
//! call could block for several timeouts. Waiting on a channel with `recv_timeout` bounds the
//! caller whatever the client does; the async cluster connection follows `MOVED`/`ASK`.
//!
//! A blocking transport's futures are ready on their first poll (the work is done when the
//! future is made), so [`run_ready`] polls an operation once, with a no-op waker, on the
//! caller's thread: no executor, no `block_on`, nothing that panics inside a tokio runtime.

use super::Error;
use redis::Value;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// One request of an operation.
pub(super) enum Req {
    /// One command, routed by its key on a Cluster.
    Cmd(redis::Cmd),
    /// A script: its `EVALSHA`, and the `EVAL` to send instead on `NOSCRIPT`.
    Script(redis::Cmd, redis::Cmd),
    /// Independent commands, answered in order as an array (an element may be an error
    /// value): one pipeline on a standalone server, each routed by its key on a Cluster.
    Many(Vec<redis::Cmd>),
    /// Cluster only: one command to the node at this address.
    Node {
        host: String,
        port: u16,
        cmd: redis::Cmd,
    },
    /// Cluster only: commands pipelined to the node at this address, answered as `Many` is.
    NodeMany {
        host: String,
        port: u16,
        cmds: Vec<redis::Cmd>,
    },
}

impl Req {
    pub(super) fn script((evalsha, eval): (redis::Cmd, redis::Cmd)) -> Req {
        Req::Script(evalsha, eval)
    }
}

/// A transport: runs one request within a deadline.
pub(super) trait Exec: Sync {
    /// Whether the server is a Cluster (entry scripts then get the entry key alone).
    fn cluster(&self) -> bool;

    /// Runs `req`, answering before `deadline` or failing with a timeout.
    fn exec(
        &self,
        req: Req,
        deadline: Instant,
    ) -> impl Future<Output = Result<Value, Error>> + Send;
}

/// Runs an operation built on a blocking transport: its future is ready on the first poll.
pub(super) fn run_ready<T>(f: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        // Not reachable with a blocking transport; an error rather than a hang or a panic.
        Poll::Pending => Err(Error::server("a blocking Redis operation did not complete")),
    }
}

/// `v`, or the error it carries.
pub(super) fn checked(v: Value) -> Result<Value, Error> {
    match v {
        Value::ServerError(e) => Err(Error::from(e)),
        v => Ok(v),
    }
}

/// Whether `v` is the server's `NOSCRIPT` answer.
pub(super) fn is_noscript(v: &Value) -> bool {
    matches!(v, Value::ServerError(e) if e.code() == "NOSCRIPT")
}

/// Whether `e` is the server's `NOSCRIPT` answer.
pub(super) fn is_noscript_err(e: &redis::RedisError) -> bool {
    e.code() == Some("NOSCRIPT")
}

/// The integer in `v`.
pub(super) fn int(v: &Value, what: &str) -> Result<i64, Error> {
    match v {
        Value::Int(n) => Ok(*n),
        _ => Err(Error::protocol(what)),
    }
}

/// The elements of the array `v`.
pub(super) fn array(v: Value, what: &str) -> Result<Vec<Value>, Error> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        _ => Err(Error::protocol(what)),
    }
}

/// The bytes of the string `v`.
pub(super) fn bytes(v: Value, what: &str) -> Result<Vec<u8>, Error> {
    match v {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        _ => Err(Error::protocol(what)),
    }
}

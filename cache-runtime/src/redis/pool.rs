//! The sync transport to a standalone server: a small pool of sync connections, each request
//! bounded by socket timeouts set to the time left before its deadline.
//!
//! - A caller takes an idle connection, or opens one while fewer than `max` are open (connect
//!   bounded by the connect timeout and the time left). When all `max` are busy it does not
//!   wait: [`Pool::run`] answers `None` and the caller goes through the multiplexed connection
//!   of the I/O thread instead (under a burst of threads, waiting for a pooled connection
//!   convoys behind a condition variable: see the benchmark).
//! - A connection goes back to the pool only after a complete answer (a server error reply is
//!   one); after a timeout or an I/O error it is closed, since a late reply would otherwise
//!   answer the next request.
//! - A pooled connection found broken (the server restarted) closes every idle one and the
//!   request is retried once on a fresh connection: a write to a dead socket never reached a
//!   server, so the retry cannot apply it twice. Timeouts are never retried.
//! - A connection's socket timeouts are set again only when the time left differs from what
//!   they are by more than [`SLACK`]: every call starts with the same operation timeout, so
//!   most calls make no `setsockopt` at all (two per request otherwise), and a request may
//!   outlast its deadline by at most `SLACK`.

use super::transport::{Req, checked, is_noscript};
use super::{Error, ErrorKind};
use parking_lot::Mutex;
use redis::{ConnectionLike, Value};
use std::time::{Duration, Instant};

/// How far a connection's socket timeouts may be from the time left before they are set again.
const SLACK: Duration = Duration::from_millis(1);

/// A pooled connection, and the socket timeouts it has.
struct Connection {
    con: redis::Connection,
    armed: Option<Duration>,
}

pub(super) struct Pool {
    client: redis::Client,
    max: usize,
    connect_timeout: Duration,
    state: Mutex<State>,
}

struct State {
    idle: Vec<Connection>,
    /// Connections open, idle or in use (or being opened).
    open: usize,
}

/// The time left before `deadline`, or a timeout if none.
pub(super) fn left(deadline: Instant) -> Result<Duration, Error> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        Err(Error::timeout())
    } else {
        Ok(d)
    }
}

impl Pool {
    pub(super) fn new(client: redis::Client, max: usize, connect_timeout: Duration) -> Pool {
        Pool {
            client,
            max: max.max(1),
            connect_timeout,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
        }
    }

    /// Runs `req` on a pooled connection; `None` if every connection is busy.
    pub(super) fn run(&self, req: &Req, deadline: Instant) -> Option<Result<Value, Error>> {
        let (mut con, reused) = match self.checkout(deadline)? {
            Ok(c) => c,
            Err(e) => return Some(Err(e)),
        };
        Some(match run_on(&mut con, req, deadline) {
            Ok(v) => {
                self.give_back(con);
                Ok(v)
            }
            Err(e) if e.kind() == ErrorKind::Server && !e.is_outage() && con.con.is_open() => {
                self.give_back(con);
                Err(e)
            }
            Err(e) if reused && e.is_dropped_connection() => {
                drop(con);
                self.forget(true);
                match self.open_new(deadline) {
                    Ok(mut con) => {
                        let out = run_on(&mut con, req, deadline);
                        self.settle(con, &out);
                        out
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => {
                drop(con);
                self.forget(false);
                Err(e)
            }
        })
    }

    fn settle(&self, con: Connection, out: &Result<Value, Error>) {
        match out {
            Ok(_) => self.give_back(con),
            Err(e) if e.kind() == ErrorKind::Server && !e.is_outage() && con.con.is_open() => {
                self.give_back(con)
            }
            Err(_) => self.forget(false),
        }
    }

    /// An idle connection (`true`), or a new one (`false`); `None` if all are busy.
    fn checkout(&self, deadline: Instant) -> Option<Result<(Connection, bool), Error>> {
        let mut st = self.state.lock();
        if let Some(con) = st.idle.pop() {
            return Some(Ok((con, true)));
        }
        if st.open >= self.max {
            return None;
        }
        st.open += 1;
        drop(st);
        Some(match self.connect(deadline) {
            Ok(con) => Ok((con, false)),
            Err(e) => {
                self.forget(false);
                Err(e)
            }
        })
    }

    /// A new connection in place of one just forgotten.
    fn open_new(&self, deadline: Instant) -> Result<Connection, Error> {
        self.state.lock().open += 1;
        self.connect(deadline).inspect_err(|_| self.forget(false))
    }

    fn connect(&self, deadline: Instant) -> Result<Connection, Error> {
        let t = left(deadline)?.min(self.connect_timeout);
        match self.client.get_connection_with_timeout(t) {
            Ok(con) => Ok(Connection { con, armed: None }),
            Err(e) => Err(Error::from(e)),
        }
    }

    fn give_back(&self, con: Connection) {
        self.state.lock().idle.push(con);
    }

    /// One open connection fewer; with `stale`, every idle one is closed too.
    fn forget(&self, stale: bool) {
        let mut st = self.state.lock();
        st.open -= 1;
        if stale {
            let n = st.idle.len();
            st.idle.clear();
            st.open -= n;
        }
    }
}

/// Bounds the next round trip on `c` by the time left (within [`SLACK`]).
fn arm(c: &mut Connection, deadline: Instant) -> Result<(), Error> {
    let t = left(deadline)?;
    if c.armed.is_some_and(|a| a.abs_diff(t) <= SLACK) {
        return Ok(());
    }
    c.armed = None;
    c.con.set_read_timeout(Some(t))?;
    c.con.set_write_timeout(Some(t))?;
    c.armed = Some(t);
    Ok(())
}

fn run_on(c: &mut Connection, req: &Req, deadline: Instant) -> Result<Value, Error> {
    match req {
        Req::Cmd(cmd) => {
            arm(c, deadline)?;
            checked(c.con.req_command(cmd)?)
        }
        Req::Script(evalsha, eval) => {
            arm(c, deadline)?;
            let v = c.con.req_command(evalsha)?;
            if !is_noscript(&v) {
                return checked(v);
            }
            arm(c, deadline)?;
            checked(c.con.req_command(eval)?)
        }
        Req::Many(cmds) => {
            if cmds.is_empty() {
                return Ok(Value::Array(Vec::new()));
            }
            let mut packed = Vec::new();
            for c in cmds {
                c.write_packed_command(&mut packed);
            }
            arm(c, deadline)?;
            c.con.send_packed_command(&packed)?;
            // Read the answers one by one, giving up at the first failure: redis-rs's own
            // pipeline reads every answer, each waiting out the timeout once the server stops.
            let mut out = Vec::with_capacity(cmds.len());
            for _ in cmds {
                arm(c, deadline)?;
                out.push(c.con.recv_response()?);
            }
            Ok(Value::Array(out))
        }
        Req::Node { .. } | Req::NodeMany { .. } => {
            Err(Error::server("a node address on a standalone server"))
        }
    }
}

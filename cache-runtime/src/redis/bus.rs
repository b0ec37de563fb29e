//! The invalidation bus: the pub/sub channel `<prefix>:#bus` on which every process announces
//! what it changed in Redis, and this process's one subscriber thread, which acts on what the
//! others announce: it drops near copies ([`Near`]), wakes the runs waiting for a key that
//! another process computes ([`Waiter`]), and keeps this process's leases alive while their
//! bodies run ([`Bus::hold`]).
//!
//! **Events.** `[kind][origin: u64][seq: u64][body]`: `k` one key (body: the length of the
//! cache's scope as a `u16`, then the entry key), `a` every entry of a cache (its scope), `t`
//! a tag, `x` everything (after a replay of invalidations that could not reach Redis), `f` a
//! key was filled (seq 0; its body as `k`'s). Little-endian. A process ignores its own invalidations (it acted
//! already) and anything it cannot parse.
//!
//! **Losses.** Near copies are kept only while the subscriber is subscribed. On any error of
//! its connection (a kill, a restart, a `SIGSTOP`ped server that misses a `PING`) every near
//! copy is dropped and none is kept until it is subscribed again, when they are dropped once
//! more (what was announced meanwhile was not heard). A gap in an origin's sequence numbers
//! (an announcement that did not reach Redis) drops every near copy too.

use super::client::Client;
use super::codec::Token;
use crate::sync::{BlockingMutex, Condvar, Mutex};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How often the subscriber wakes without an event: waiters poll Redis again (in case a
/// "filled" was missed), leases due are extended.
const TICK: Duration = Duration::from_millis(100);
/// How often the subscriber checks that its server still answers.
const PING_EVERY: Duration = Duration::from_secs(1);

/// A Redis cache, as the bus sees it (its tier).
pub(crate) trait Near: Send + Sync {
    /// The start of its entry keys (`<prefix>:<name>:`).
    fn scope(&self) -> &[u8];
    /// Another process changed the entry `rkey`.
    fn on_key(&self, rkey: &[u8]);
    /// Another process dropped every entry of the cache, or the bus lost track.
    fn on_all(&self);
    /// Another process dropped the entries labelled `tag`.
    fn on_tag(&self, tag: &str);
    /// Redis answers again (the bus subscribed): replay what is pending, not waiting for the
    /// next read of this process (the other processes read too).
    fn replay(&self);
}

/// The process's bus (for the global client).
pub(crate) struct Bus {
    client: &'static Client,
    channel: Vec<u8>,
    origin: u64,
    seq: AtomicU64,
    healthy: AtomicBool,
    started: Once,
    sinks: Mutex<Vec<&'static dyn Near>>,
    waiters: Mutex<HashMap<Vec<u8>, Vec<Weak<Signal>>>>,
    leases: Mutex<Vec<Held>>,
}

/// A lease of this process whose body is running.
#[derive(Clone)]
struct Held {
    rkey: Vec<u8>,
    token: [u8; 16],
    tags: Vec<Vec<u8>>,
    next: Instant,
}

/// The bus of the global client.
pub(crate) fn get() -> &'static Bus {
    static BUS: OnceLock<Bus> = OnceLock::new();
    BUS.get_or_init(|| {
        let client = super::global();
        let mut channel = client.keys().root().to_vec();
        channel.extend_from_slice(b":#bus");
        Bus {
            client,
            channel,
            origin: u64::from_le_bytes(Token::new().bytes()[..8].try_into().unwrap_or([0; 8])),
            seq: AtomicU64::new(0),
            healthy: AtomicBool::new(false),
            started: Once::new(),
            sinks: Mutex::new(Vec::new()),
            waiters: Mutex::new(HashMap::new()),
            leases: Mutex::new(Vec::new()),
        }
    })
}

impl Bus {
    /// The channel the events go to.
    pub(crate) fn channel(&self) -> &[u8] {
        &self.channel
    }

    /// Whether the subscriber hears the other processes now: near copies are kept only then.
    pub(crate) fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire)
    }

    /// Starts the subscriber thread, once.
    fn start(&'static self) {
        self.started.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("memocache-redis-bus".into())
                .spawn(move || self.run());
            if let Err(e) = spawned {
                tracing::error!(target: "memocache::redis", error = %e,
                    "the invalidation bus cannot start: no near copies are kept");
            }
        });
    }

    /// Puts a cache on the bus.
    pub(crate) fn register(&'static self, near: &'static dyn Near) {
        self.sinks.lock().push(near);
        self.start();
    }

    /// An event of this process: `kind`, the next sequence number (none for `f`), `body`.
    pub(crate) fn event(&self, kind: u8, body: &[&[u8]]) -> Vec<u8> {
        let seq = match kind {
            b'f' => 0,
            _ => self.seq.fetch_add(1, Ordering::Relaxed) + 1,
        };
        let mut ev = Vec::with_capacity(17 + body.iter().map(|b| b.len()).sum::<usize>());
        ev.push(kind);
        ev.extend_from_slice(&self.origin.to_le_bytes());
        ev.extend_from_slice(&seq.to_le_bytes());
        for b in body {
            ev.extend_from_slice(b);
        }
        ev
    }

    /// The event "the entry `rkey` of the cache whose keys start with `scope` changed".
    pub(crate) fn key_event(&self, scope: &[u8], rkey: &[u8]) -> Vec<u8> {
        self.key_event_of(b'k', scope, rkey)
    }

    /// A `k` or `f` event: the entry key, after the length of its cache's scope.
    pub(crate) fn key_event_of(&self, kind: u8, scope: &[u8], rkey: &[u8]) -> Vec<u8> {
        let len = u16::try_from(scope.len()).unwrap_or(u16::MAX).to_le_bytes();
        self.event(kind, &[&len, rkey])
    }

    /// Announces `event` (a failure is the caller's to count; the others see a gap).
    pub(crate) fn publish_blocking(&self, event: &[u8]) -> bool {
        self.client.publish_blocking(&self.channel, event).is_ok()
    }

    /// The `async` form of [`Bus::publish_blocking`].
    pub(crate) async fn publish(&self, event: &[u8]) -> bool {
        self.client.publish(&self.channel, event).await.is_ok()
    }

    /// Keeps the lease `token` on `rkey` alive (extended every third of the lease time)
    /// until [`Bus::unhold`].
    pub(crate) fn hold(&'static self, rkey: &[u8], token: [u8; 16], tags: &[Vec<u8>]) {
        self.leases.lock().push(Held {
            rkey: rkey.to_vec(),
            token,
            tags: tags.to_vec(),
            next: Instant::now() + self.client.lease() / 3,
        });
        self.start();
    }

    /// Stops extending the lease `token` on `rkey`.
    pub(crate) fn unhold(&self, rkey: &[u8], token: [u8; 16]) {
        self.leases
            .lock()
            .retain(|h| h.token != token || h.rkey != rkey);
    }

    /// A waiter for `rkey`: woken when another process fills or drops it, and at every
    /// tick.
    pub(crate) fn waiter(&'static self, rkey: &[u8]) -> Waiter {
        let signal = Arc::new(Signal::default());
        self.waiters
            .lock()
            .entry(rkey.to_vec())
            .or_default()
            .push(Arc::downgrade(&signal));
        self.start();
        Waiter {
            bus: self,
            rkey: rkey.to_vec(),
            signal,
        }
    }

    fn wake(&self, rkey: Option<&[u8]>) {
        let signals: Vec<Arc<Signal>> = {
            let waiters = self.waiters.lock();
            match rkey {
                Some(k) => waiters
                    .get(k)
                    .into_iter()
                    .flatten()
                    .filter_map(Weak::upgrade)
                    .collect(),
                None => waiters
                    .values()
                    .flatten()
                    .filter_map(Weak::upgrade)
                    .collect(),
            }
        };
        for s in signals {
            s.fire();
        }
    }

    fn sinks(&self) -> Vec<&'static dyn Near> {
        self.sinks.lock().clone()
    }

    fn drop_all(&self) {
        for sink in self.sinks() {
            sink.on_all();
        }
    }

    /// The subscriber thread: subscribe, listen, and after any error drop every near copy
    /// and subscribe again (backing off up to a second), ticking all along.
    fn run(&'static self) {
        let mut backoff = TICK;
        let mut seqs = HashMap::new();
        loop {
            self.tick();
            match self.connect() {
                Some(con) => {
                    backoff = TICK;
                    self.listen(con, &mut seqs);
                }
                None => {
                    let until = Instant::now() + backoff;
                    while Instant::now() < until {
                        std::thread::sleep(TICK);
                        self.tick();
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    fn connect(&self) -> Option<redis::Connection> {
        let timeout = self.client.inner.connect_timeout.max(TICK);
        self.client.inner.nodes.iter().find_map(|info| {
            redis::Client::open(info.clone())
                .and_then(|c| c.get_connection_with_timeout(timeout))
                .ok()
        })
    }

    fn listen(&'static self, mut con: redis::Connection, seqs: &mut HashMap<u64, u64>) {
        let mut ps = con.as_pubsub();
        if ps.set_read_timeout(Some(TICK)).is_err() || ps.subscribe(&self.channel[..]).is_err() {
            return;
        }
        // What was announced before now was not heard: start clean.
        seqs.clear();
        self.drop_all();
        self.healthy.store(true, Ordering::Release);
        for sink in self.sinks() {
            sink.replay();
        }
        let mut pinged = Instant::now();
        loop {
            match ps.get_message() {
                Ok(msg) => self.hear(msg.get_payload_bytes(), seqs),
                Err(e) if e.is_timeout() => {}
                Err(_) => break,
            }
            self.tick();
            if pinged.elapsed() >= PING_EVERY {
                if ps.ping::<redis::Value>().is_err() {
                    break;
                }
                pinged = Instant::now();
            }
        }
        self.healthy.store(false, Ordering::Release);
        self.drop_all();
        tracing::debug!(target: "memocache::redis", "invalidation bus disconnected: near copies dropped");
    }

    /// Acts on one event.
    fn hear(&self, ev: &[u8], seqs: &mut HashMap<u64, u64>) {
        let Some((&kind, rest)) = ev.split_first() else {
            return;
        };
        let (Some(origin), Some(seq), Some(body)) = (
            rest.get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes),
            rest.get(8..16)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes),
            rest.get(16..),
        ) else {
            return;
        };
        let mine = origin == self.origin;
        if kind != b'f' {
            if mine {
                return;
            }
            if seqs.insert(origin, seq).is_some_and(|last| seq != last + 1) {
                self.drop_all();
            }
        }
        match kind {
            // A fill: a value newer than any copy (a refresh's); waiters of this process too.
            b'k' | b'f' => {
                let Some(len) = body.get(..2).map(|b| u16::from_le_bytes([b[0], b[1]])) else {
                    return;
                };
                let rkey = &body[2..];
                let scope = rkey.get(..usize::from(len)).unwrap_or(rkey);
                for sink in self.sinks().into_iter().filter(|_| !mine) {
                    if sink.scope() == scope {
                        sink.on_key(rkey);
                    }
                }
                self.wake(Some(rkey));
            }
            b'a' => {
                for sink in self.sinks() {
                    if sink.scope() == body {
                        sink.on_all();
                    }
                }
                self.wake(None);
            }
            b't' => {
                let tag = String::from_utf8_lossy(body);
                for sink in self.sinks() {
                    sink.on_tag(&tag);
                }
                self.wake(None);
            }
            b'x' => {
                self.drop_all();
                self.wake(None);
            }
            _ => {}
        }
    }

    /// Every tick: waiters poll again; leases due are extended.
    fn tick(&self) {
        self.wake(None);
        self.waiters.lock().retain(|_, ws| {
            ws.retain(|w| w.strong_count() > 0);
            !ws.is_empty()
        });
        let now = Instant::now();
        let lease = self.client.lease();
        let due: Vec<Held> = {
            let mut leases = self.leases.lock();
            leases
                .iter_mut()
                .filter(|h| h.next <= now)
                .map(|h| {
                    h.next = now + lease / 3;
                    h.clone()
                })
                .collect()
        };
        let ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        for h in due {
            let token = Token::from_bytes(h.token);
            if let Ok(false) = self.client.extend_blocking(&h.rkey, &token, ms, &h.tags) {
                // Invalidated, or expired: the run's fill will store nothing.
                self.unhold(&h.rkey, h.token);
            }
        }
    }
}

/// What a waiter waits on: a counter that the bus bumps.
#[derive(Default)]
pub(crate) struct Signal {
    state: BlockingMutex<(u64, Option<Waker>)>,
    changed: Condvar,
}

impl Signal {
    fn fire(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 += 1;
        if let Some(w) = state.1.take() {
            w.wake();
        }
        self.changed.notify_all();
    }

    fn seen(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

/// A run waiting for a key that another process computes; unregistered when dropped.
pub(crate) struct Waiter {
    bus: &'static Bus,
    rkey: Vec<u8>,
    signal: Arc<Signal>,
}

impl Waiter {
    /// How many times it was woken so far (pass it to the next wait, taken before looking).
    pub(crate) fn seen(&self) -> u64 {
        self.signal.seen()
    }

    /// Blocks until woken after `seen`, or `timeout` passed.
    pub(crate) fn wait_blocking(&self, seen: u64, timeout: Duration) {
        let state = self.signal.state.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .signal
            .changed
            .wait_timeout_while(state, timeout.min(TICK), |s| s.0 == seen);
    }

    /// Until woken after `seen` (the bus wakes every waiter at each tick).
    pub(crate) fn wait(&self, seen: u64) -> impl Future<Output = ()> + Send + '_ {
        Woken {
            signal: &self.signal,
            seen,
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut waiters = self.bus.waiters.lock();
        if let Some(ws) = waiters.get_mut(&self.rkey) {
            ws.retain(|w| w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), &*self.signal));
            if ws.is_empty() {
                waiters.remove(&self.rkey);
            }
        }
    }
}

struct Woken<'a> {
    signal: &'a Signal,
    seen: u64,
}

impl Future for Woken<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.signal.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.0 != self.seen {
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

//! The entry points of each operation on [`Client`], a sync (`_blocking`) and an async form
//! of each, each bounded by the operation timeout and behind the circuit breaker (see the
//! `blocking!` and `awaiting!` macros in `client.rs`).

use super::client::{Client, IoWait, Lookup, PoolExec, Transport};
use super::codec::{Codec, Token};
use super::transport::run_ready;
use super::{Error, deletes, ops};
use std::time::Instant;

/// Runs `$body` (an `ops::` call over `$ex`, with `$dl` the call's deadline) on the blocking
/// transport, behind the breaker.
macro_rules! blocking {
    ($self:ident, |$ex:ident, $dl:ident| $body:expr) => {{
        $self.inner.breaker.admit()?;
        let $dl = Instant::now() + $self.inner.op_timeout;
        let out = match &$self.inner.transport {
            Transport::Standalone { pool, io } => {
                let $ex = &PoolExec(pool, io);
                run_ready($body)
            }
            Transport::Cluster { io } => {
                let $ex = &IoWait(io);
                run_ready($body)
            }
            Transport::Disabled(e) => Err(e.clone()),
        };
        $self.record(out)
    }};
}

/// The async counterpart of `blocking!`.
macro_rules! awaiting {
    ($self:ident, |$ex:ident, $dl:ident| $body:expr) => {{
        $self.inner.breaker.admit()?;
        let $dl = Instant::now() + $self.inner.op_timeout;
        let out = match $self.async_exec() {
            Ok(ex) => {
                let $ex = &ex;
                $body.await
            }
            Err(e) => Err(e),
        };
        $self.record(out)
    }};
}

impl Client {
    /// Reads `key`: the value if one of `codec`'s is there, else takes the lease (our
    /// placeholder with `PX lease_ms`, listed in each of `tag_keys`), else reports another
    /// holder's lease. Garbage, values of other types or versions, and non-strings under
    /// the key count as nothing and are overwritten by the placeholder.
    pub(crate) fn lookup_blocking(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
    ) -> Result<Lookup, Error> {
        blocking!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            None,
            dl
        ))
    }

    /// [`lookup_blocking`](Self::lookup_blocking) for async callers.
    pub(crate) async fn lookup(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
    ) -> Result<Lookup, Error> {
        awaiting!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            None,
            dl
        ))
    }

    /// A lookup after `bad`, what the previous lookup found, failed to decode: `bad` counts
    /// as nothing (and is overwritten by our lease) if it is still there.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lookup_replacing_blocking(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
        bad: &[u8],
    ) -> Result<Lookup, Error> {
        blocking!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            Some(bad),
            dl
        ))
    }

    /// [`lookup_replacing_blocking`](Self::lookup_replacing_blocking) for async callers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn lookup_replacing(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
        codec: &Codec,
        bad: &[u8],
    ) -> Result<Lookup, Error> {
        awaiting!(self, |ex, dl| ops::lookup(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            codec,
            Some(bad),
            dl
        ))
    }

    /// Takes the right to refresh a stale entry: whether no other process has it.
    pub(crate) fn refresh_lease_blocking(
        &self,
        refresh_key: &[u8],
        token: &Token,
        lease_ms: u64,
    ) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::refresh_lease(
            ex,
            refresh_key,
            token,
            lease_ms.max(1),
            dl
        ))
    }

    /// [`refresh_lease_blocking`](Self::refresh_lease_blocking) for async callers.
    pub(crate) async fn refresh_lease(
        &self,
        refresh_key: &[u8],
        token: &Token,
        lease_ms: u64,
    ) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::refresh_lease(
            ex,
            refresh_key,
            token,
            lease_ms.max(1),
            dl
        ))
    }

    /// Stores a stale entry's refreshed `value` only if the entry still holds `seen`, then
    /// publishes `notify.1` on `notify.0`.
    pub(crate) fn stale_fill_blocking(
        &self,
        key: &[u8],
        seen: &[u8],
        value: (&[u8], u64),
        tag_keys: &[Vec<u8>],
        notify: (&[u8], &[u8]),
    ) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::stale_fill(
            ex, key, seen, value, tag_keys, notify, dl
        ))
    }

    /// [`stale_fill_blocking`](Self::stale_fill_blocking) for async callers.
    pub(crate) async fn stale_fill(
        &self,
        key: &[u8],
        seen: &[u8],
        value: (&[u8], u64),
        tag_keys: &[Vec<u8>],
        notify: (&[u8], &[u8]),
    ) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::stale_fill(
            ex, key, seen, value, tag_keys, notify, dl
        ))
    }

    /// Takes `key`'s lease whatever is there (a refresh), listing it in each of `tag_keys`.
    pub(crate) fn take_blocking(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<(), Error> {
        blocking!(self, |ex, dl| ops::take(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// [`take_blocking`](Self::take_blocking) for async callers.
    pub(crate) async fn take(
        &self,
        key: &[u8],
        token: &Token,
        lease_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<(), Error> {
        awaiting!(self, |ex, dl| ops::take(
            ex,
            key,
            token,
            lease_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// Stores `value` with `PX px_ms` only if our lease is still there (true), listing the key in
    /// each of `tag_keys`, and then publishes `notify.1` on the channel `notify.0`. False: an invalidation (or a refresh) removed the lease during the
    /// run, or it expired; nothing was stored.
    pub(crate) fn fill_blocking(
        &self,
        key: &[u8],
        token: &Token,
        value: &[u8],
        px_ms: u64,
        tag_keys: &[Vec<u8>],
        notify: (&[u8], &[u8]),
    ) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::fill(
            ex,
            key,
            token,
            (value, px_ms.max(1)),
            tag_keys,
            notify,
            dl
        ))
    }

    /// [`fill_blocking`](Self::fill_blocking) for async callers.
    pub(crate) async fn fill(
        &self,
        key: &[u8],
        token: &Token,
        value: &[u8],
        px_ms: u64,
        tag_keys: &[Vec<u8>],
        notify: (&[u8], &[u8]),
    ) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::fill(
            ex,
            key,
            token,
            (value, px_ms.max(1)),
            tag_keys,
            notify,
            dl
        ))
    }

    /// Deletes our lease (after an `Err`, a panic), and nothing else: true if it was ours.
    pub(crate) fn release_blocking(&self, key: &[u8], token: &Token) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::release(ex, key, token, dl))
    }

    /// [`release_blocking`](Self::release_blocking) for async callers.
    pub(crate) async fn release(&self, key: &[u8], token: &Token) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::release(ex, key, token, dl))
    }

    /// Releases our lease without waiting (from a destructor: a cancelled future, an unwinding
    /// thread). If it does not reach Redis, the lease expires by itself.
    pub(crate) fn release_detached(&self, key: &[u8], token: &Token) {
        if self.inner.breaker.is_open() {
            return;
        }
        let io = match &self.inner.transport {
            Transport::Standalone { io, .. } | Transport::Cluster { io } => io,
            Transport::Disabled(_) => return,
        };
        io.detach(
            ops::release_req(key, token),
            Instant::now() + self.inner.op_timeout,
        );
    }

    /// Sets our lease's expiry to `px_ms` while a long body runs (and raises its tag sets'):
    /// false if the lease is no longer ours.
    pub(crate) fn extend_blocking(
        &self,
        key: &[u8],
        token: &Token,
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<bool, Error> {
        blocking!(self, |ex, dl| ops::extend(
            ex,
            key,
            token,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// [`extend_blocking`](Self::extend_blocking) for async callers.
    #[cfg_attr(not(test), allow(dead_code))] // the bus extends on its own thread
    pub(crate) async fn extend(
        &self,
        key: &[u8],
        token: &Token,
        px_ms: u64,
        tag_keys: &[Vec<u8>],
    ) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| ops::extend(
            ex,
            key,
            token,
            px_ms.max(1),
            tag_keys,
            dl
        ))
    }

    /// Deletes `key`, value or lease (a run in progress then stores nothing): true if a value
    /// was removed.
    pub(crate) fn delete_blocking(&self, key: &[u8]) -> Result<bool, Error> {
        blocking!(self, |ex, dl| deletes::delete(ex, key, dl))
    }

    /// [`delete_blocking`](Self::delete_blocking) for async callers.
    pub(crate) async fn delete(&self, key: &[u8]) -> Result<bool, Error> {
        awaiting!(self, |ex, dl| deletes::delete(ex, key, dl))
    }

    /// Unlinks `keys` (any slots): how many existed. For replays.
    pub(crate) fn unlink_all_blocking(&self, keys: &[Vec<u8>]) -> Result<u64, Error> {
        let step = self.inner.op_timeout;
        blocking!(self, |ex, _dl| deletes::unlink_all(ex, keys, step))
    }

    /// [`unlink_all_blocking`](Self::unlink_all_blocking) for async callers.
    pub(crate) async fn unlink_all(&self, keys: &[Vec<u8>]) -> Result<u64, Error> {
        let step = self.inner.op_timeout;
        awaiting!(self, |ex, _dl| deletes::unlink_all(ex, keys, step))
    }

    /// Deletes every key of a cache (`scope` = its [`prefix`](super::CacheKeys::prefix)), or of
    /// the whole namespace (`scope` = [`KeySpace::root`]): leases included, so runs in progress
    /// store nothing. A cursor `SCAN` of each master and `UNLINK`s, a thousand keys per round
    /// trip, each round trip within the operation timeout. How many keys were removed.
    pub(crate) fn delete_all_blocking(&self, scope: &[u8]) -> Result<u64, Error> {
        let (step, whole) = (self.inner.op_timeout, scope == self.inner.keys.root());
        blocking!(self, |ex, _dl| deletes::delete_all(ex, scope, whole, step))
    }

    /// [`delete_all_blocking`](Self::delete_all_blocking) for async callers.
    pub(crate) async fn delete_all(&self, scope: &[u8]) -> Result<u64, Error> {
        let (step, whole) = (self.inner.op_timeout, scope == self.inner.keys.root());
        awaiting!(self, |ex, _dl| deletes::delete_all(ex, scope, whole, step))
    }

    /// Deletes every entry (and lease) labelled `tag`, in every cache, and unlists them. How
    /// many keys were removed. Interrupted, it leaves the rest listed for the next attempt.
    pub(crate) fn delete_tag_blocking(&self, tag: &str) -> Result<u64, Error> {
        let (set, aside) = (
            self.inner.keys.tag_key(tag),
            self.inner.keys.tag_aside_key(tag),
        );
        let step = self.inner.op_timeout;
        blocking!(self, |ex, _dl| deletes::delete_tag(ex, &set, &aside, step))
    }

    /// [`delete_tag_blocking`](Self::delete_tag_blocking) for async callers.
    pub(crate) async fn delete_tag(&self, tag: &str) -> Result<u64, Error> {
        let (set, aside) = (
            self.inner.keys.tag_key(tag),
            self.inner.keys.tag_aside_key(tag),
        );
        let step = self.inner.op_timeout;
        awaiting!(self, |ex, _dl| deletes::delete_tag(ex, &set, &aside, step))
    }

    /// Publishes `event` on `channel` (the invalidation bus).
    pub(crate) fn publish_blocking(&self, channel: &[u8], event: &[u8]) -> Result<(), Error> {
        blocking!(self, |ex, dl| ops::publish(ex, channel, event, dl))
    }

    /// [`publish_blocking`](Self::publish_blocking) for async callers.
    pub(crate) async fn publish(&self, channel: &[u8], event: &[u8]) -> Result<(), Error> {
        awaiting!(self, |ex, dl| ops::publish(ex, channel, event, dl))
    }

    /// `PING` (every master of a Cluster).
    #[cfg_attr(not(test), allow(dead_code))] // the tests' readiness check
    pub(crate) fn ping_blocking(&self) -> Result<(), Error> {
        blocking!(self, |ex, dl| deletes::ping(ex, dl))
    }

    /// [`ping_blocking`](Self::ping_blocking) for async callers.
    #[cfg_attr(not(test), allow(dead_code))] // the tests' checks
    pub(crate) async fn ping(&self) -> Result<(), Error> {
        awaiting!(self, |ex, dl| deletes::ping(ex, dl))
    }
}

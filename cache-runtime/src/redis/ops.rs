//! The operations, written once over any transport ([`Exec`]): the sync forms run them on a
//! blocking transport with [`run_ready`](super::transport::run_ready), the async forms await them.
//!
//! On a Cluster an entry's tag sets are in other slots, so they are updated by separate
//! requests, in an order that keeps this invariant: **while a lease or value exists under an
//! entry key, the key is listed in each of its tag sets**, so `delete_tag` finds it.
//!
//! - lookup, put: the entry is written first, then listed (a deletion that ran in between
//!   happened before the key existed); if listing fails, the lease is released / the key
//!   deleted, and the call fails.
//! - fill: listed first (which also raises the sets' expiry to the value's), then the
//!   compare-and-set: the key is already listed since its lookup, and a deletion that runs in
//!   between deletes the lease, so the compare-and-set fails.
//! - extend: compare-and-set, then listing (raising the sets' expiry).
//!
//! The deletions (one key, a cache, a tag) are in `deletes.rs`.

use super::codec::{Codec, LEASE_PREFIX, Token};
use super::scripts::{self, Lua};
use super::transport::{Exec, Req, array, bytes, checked, int};
use super::{Error, Lookup};
use redis::Value;
use std::time::Instant;

/// How many keys one `SCAN`, `SRANDMEMBER` or `UNLINK` handles.
pub(super) const BATCH: usize = 1000;

fn keys_of<'a, E: Exec>(ex: &E, key: &'a [u8], tags: &'a [Vec<u8>]) -> Vec<&'a [u8]> {
    let mut keys = vec![key];
    if !ex.cluster() {
        keys.extend(tags.iter().map(Vec::as_slice));
    }
    keys
}

pub(super) async fn script<E: Exec>(
    ex: &E,
    lua: &Lua,
    keys: &[&[u8]],
    args: &[&[u8]],
    dl: Instant,
) -> Result<Value, Error> {
    ex.exec(Req::script(scripts::invocation(lua, keys, args)), dl)
        .await
}

pub(super) fn flag(v: &Value, what: &str) -> Result<bool, Error> {
    Ok(int(v, what)? == 1)
}

/// `-1` (no expiry) is `None`; the scripts never see `-2` (no key) where they report one.
fn pttl(v: &Value) -> Result<Option<u64>, Error> {
    let n = int(v, "PTTL")?;
    Ok(u64::try_from(n)
        .ok()
        .or(if n == -1 { None } else { Some(0) }))
}

/// Lists `key` in each of `tags` on a Cluster, raising each set's expiry to `px`.
async fn list<E: Exec>(
    ex: &E,
    key: &[u8],
    tags: &[Vec<u8>],
    px: &str,
    dl: Instant,
) -> Result<(), Error> {
    if !ex.cluster() || tags.is_empty() {
        return Ok(());
    }
    let cmds = tags
        .iter()
        .map(|t| scripts::eval(&scripts::TAG, &[t], &[key, px.as_bytes()]))
        .collect();
    for v in array(ex.exec(Req::Many(cmds), dl).await?, "tag listing")? {
        checked(v)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn lookup<E: Exec>(
    ex: &E,
    key: &[u8],
    token: &Token,
    lease_ms: u64,
    tags: &[Vec<u8>],
    codec: &Codec,
    replace: Option<&[u8]>,
    dl: Instant,
) -> Result<Lookup, Error> {
    // A hit in one round trip without Lua: `GET` and `PTTL` pipelined (a script costs the
    // server more than the two commands). Anything but a live value of this codec (nothing,
    // a lease, garbage, a key gone between the two) goes to the script, which takes the lease.
    if replace.is_none() {
        let get = redis::cmd("GET").arg(key).clone();
        let ttl = redis::cmd("PTTL").arg(key).clone();
        let got = array(ex.exec(Req::Many(vec![get, ttl]), dl).await?, "lookup")?;
        if let [Value::BulkString(v), Value::Int(t)] = &got[..]
            && v.starts_with(codec.prefix())
            && (*t == -1 || *t > 0)
        {
            return Ok(Lookup::Found {
                bytes: v.clone(),
                pttl_ms: u64::try_from(*t).ok(),
            });
        }
    }
    let lease = lease_ms.to_string();
    let args: [&[u8]; 5] = [
        token.placeholder(),
        lease.as_bytes(),
        codec.prefix(),
        &LEASE_PREFIX,
        replace.unwrap_or(b""),
    ];
    let v = script(ex, &scripts::LOOKUP, &keys_of(ex, key, tags), &args, dl).await?;
    let mut items = array(v, "lookup")?.into_iter();
    let out = match (items.next(), items.next(), items.next()) {
        (Some(Value::Int(0)), None, None) => Lookup::Leased,
        (Some(Value::Int(1)), Some(t), Some(v)) => Lookup::Found {
            bytes: bytes(v, "lookup")?,
            pttl_ms: pttl(&t)?,
        },
        (Some(Value::Int(2)), Some(t), None) => Lookup::Busy { pttl_ms: pttl(&t)? },
        _ => return Err(Error::protocol("lookup")),
    };
    if matches!(out, Lookup::Leased)
        && let Err(e) = list(ex, key, tags, &lease, dl).await
    {
        // Unlisted, the lease would escape `delete_tag`: give it up.
        let _ = release(ex, key, token, dl).await;
        return Err(e);
    }
    Ok(out)
}

pub(super) async fn take<E: Exec>(
    ex: &E,
    key: &[u8],
    token: &Token,
    lease_ms: u64,
    tags: &[Vec<u8>],
    dl: Instant,
) -> Result<(), Error> {
    let lease = lease_ms.to_string();
    let args: [&[u8]; 2] = [token.placeholder(), lease.as_bytes()];
    script(ex, &scripts::TAKE, &keys_of(ex, key, tags), &args, dl).await?;
    if let Err(e) = list(ex, key, tags, &lease, dl).await {
        // Unlisted, the lease would escape `delete_tag`: give it up.
        let _ = release(ex, key, token, dl).await;
        return Err(e);
    }
    Ok(())
}

/// Stores our value if our placeholder is still there (see `FILL`): whether it stored.
pub(super) async fn fill<E: Exec>(
    ex: &E,
    key: &[u8],
    token: &Token,
    value: (&[u8], u64),
    tags: &[Vec<u8>],
    notify: (&[u8], &[u8]),
    dl: Instant,
) -> Result<bool, Error> {
    let how = (&scripts::FILL, "fill");
    store(ex, how, key, token.placeholder(), value, tags, notify, dl).await
}

/// Takes the right to refresh a stale entry (`SET <refresh key> <placeholder> NX PX`):
/// whether it was free.
pub(super) async fn refresh_lease<E: Exec>(
    ex: &E,
    refresh_key: &[u8],
    token: &Token,
    lease_ms: u64,
    dl: Instant,
) -> Result<bool, Error> {
    let cmd = redis::cmd("SET")
        .arg(refresh_key)
        .arg(token.placeholder())
        .arg("NX")
        .arg("PX")
        .arg(lease_ms)
        .clone();
    Ok(!matches!(ex.exec(Req::Cmd(cmd), dl).await?, Value::Nil))
}

/// Stores a stale entry's refreshed value if the entry still holds `seen` (see `STALE_FILL`).
pub(super) async fn stale_fill<E: Exec>(
    ex: &E,
    key: &[u8],
    seen: &[u8],
    value: (&[u8], u64),
    tags: &[Vec<u8>],
    notify: (&[u8], &[u8]),
    dl: Instant,
) -> Result<bool, Error> {
    let how = (&scripts::STALE_FILL, "stale fill");
    store(ex, how, key, seen, value, tags, notify, dl).await
}

/// What [`fill`] and [`stale_fill`] share: the key listed under its tags for `px_ms`, then
/// `script` run with `guard` (what the key must still hold), the value, its `PX` and the
/// event to publish; whether it stored.
#[allow(clippy::too_many_arguments)] // the two callers' parameters, passed through
async fn store<E: Exec>(
    ex: &E,
    (script_of, what): (&Lua, &'static str),
    key: &[u8],
    guard: &[u8],
    (value, px_ms): (&[u8], u64),
    tags: &[Vec<u8>],
    notify: (&[u8], &[u8]),
    dl: Instant,
) -> Result<bool, Error> {
    let px = px_ms.to_string();
    list(ex, key, tags, &px, dl).await?;
    let args: [&[u8]; 5] = [guard, value, px.as_bytes(), notify.0, notify.1];
    flag(
        &script(ex, script_of, &keys_of(ex, key, tags), &args, dl).await?,
        what,
    )
}

pub(super) async fn release<E: Exec>(
    ex: &E,
    key: &[u8],
    token: &Token,
    dl: Instant,
) -> Result<bool, Error> {
    flag(
        &script(ex, &scripts::RELEASE, &[key], &[token.placeholder()], dl).await?,
        "release",
    )
}

pub(super) fn release_req(key: &[u8], token: &Token) -> Req {
    Req::script(scripts::invocation(
        &scripts::RELEASE,
        &[key],
        &[token.placeholder()],
    ))
}

pub(super) async fn extend<E: Exec>(
    ex: &E,
    key: &[u8],
    token: &Token,
    px_ms: u64,
    tags: &[Vec<u8>],
    dl: Instant,
) -> Result<bool, Error> {
    let px = px_ms.to_string();
    let args: [&[u8]; 2] = [token.placeholder(), px.as_bytes()];
    let ours = flag(
        &script(ex, &scripts::EXTEND, &keys_of(ex, key, tags), &args, dl).await?,
        "extend",
    )?;
    if ours {
        list(ex, key, tags, &px, dl).await?;
    }
    Ok(ours)
}

/// `PUBLISH`: an event of the invalidation bus (see `bus.rs`).
pub(super) async fn publish<E: Exec>(
    ex: &E,
    channel: &[u8],
    event: &[u8],
    dl: Instant,
) -> Result<(), Error> {
    let cmd = redis::cmd("PUBLISH").arg(channel).arg(event).clone();
    ex.exec(Req::Cmd(cmd), dl).await.map(drop)
}

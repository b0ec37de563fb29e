//! The deletions, over any transport as the other operations (`ops.rs`): one entry, every
//! entry of a scope (a cursor `SCAN` of each master and `UNLINK`s), every entry of a tag (the
//! set moved aside first, so listings made meanwhile are never removed), and `PING` of every
//! master.

use super::Error;
use super::codec::LEASE_PREFIX;
use super::keys::{in_scope, scan_pattern};
use super::ops::{BATCH, flag, script};
use super::scripts;
use super::slots::SlotMap;
use super::transport::{Exec, Req, array, bytes, checked, int};
use redis::Value;
use std::time::{Duration, Instant};

pub(super) async fn delete<E: Exec>(ex: &E, key: &[u8], dl: Instant) -> Result<bool, Error> {
    flag(
        &script(ex, &scripts::DELETE, &[key], &[&LEASE_PREFIX], dl).await?,
        "delete",
    )
}

fn unlink(keys: &[&[u8]]) -> redis::Cmd {
    let mut cmd = redis::cmd("UNLINK");
    for k in keys {
        cmd.arg(*k);
    }
    cmd
}

/// Unlinks `keys` (any number, any slots); how many existed. On a Cluster, one pipeline per
/// master holding some of them.
pub(super) async fn unlink_all<E: Exec>(
    ex: &E,
    keys: &[Vec<u8>],
    step: Duration,
) -> Result<u64, Error> {
    if keys.is_empty() {
        return Ok(0);
    }
    if ex.cluster() {
        let map = slot_map(ex, Instant::now() + step).await?;
        return unlink_by_master(ex, &map, keys, step).await;
    }
    let mut n = 0;
    for chunk in keys.chunks(BATCH) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        let v = int(
            &ex.exec(Req::Cmd(unlink(&refs)), Instant::now() + step)
                .await?,
            "UNLINK",
        )?;
        n += u64::try_from(v).unwrap_or(0);
    }
    Ok(n)
}

/// Cluster: unlinks `keys` with one pipeline per master (after `map`).
async fn unlink_by_master<E: Exec>(
    ex: &E,
    map: &SlotMap,
    keys: &[Vec<u8>],
    step: Duration,
) -> Result<u64, Error> {
    let mut groups: Vec<Vec<Vec<u8>>> = vec![Vec::new(); map.masters.len()];
    let mut loose = Vec::new();
    for k in keys {
        match map.master_of(k) {
            Some(i) => groups[i].push(k.clone()),
            None => loose.push(k.clone()),
        }
    }
    let mut n = unlink_routed(ex, &loose, step).await?;
    for (group, (host, port)) in groups.into_iter().zip(&map.masters) {
        for chunk in group.chunks(BATCH) {
            n += unlink_on(ex, host, *port, chunk.to_vec(), step).await?;
        }
    }
    Ok(n)
}

/// Cluster: unlinks `keys`, each command routed by its key (redirections followed).
async fn unlink_routed<E: Exec>(ex: &E, keys: &[Vec<u8>], step: Duration) -> Result<u64, Error> {
    let mut n = 0;
    for chunk in keys.chunks(BATCH) {
        let cmds = chunk.iter().map(|k| unlink(&[k])).collect();
        for v in array(
            ex.exec(Req::Many(cmds), Instant::now() + step).await?,
            "UNLINK",
        )? {
            n += u64::try_from(int(&checked(v)?, "UNLINK")?).unwrap_or(0);
        }
    }
    Ok(n)
}

/// Unlinks `keys`, found by a `SCAN` of the node `host:port`, with one pipeline to that node;
/// a key that moved meanwhile (a resharding: the node answers `MOVED`) is unlinked where it is
/// now, by key.
async fn unlink_on<E: Exec>(
    ex: &E,
    host: &str,
    port: u16,
    keys: Vec<Vec<u8>>,
    step: Duration,
) -> Result<u64, Error> {
    if keys.is_empty() {
        return Ok(0);
    }
    let cmds = keys.iter().map(|k| unlink(&[k])).collect();
    let req = Req::NodeMany {
        host: host.to_owned(),
        port,
        cmds,
    };
    let replies = array(ex.exec(req, Instant::now() + step).await?, "UNLINK")?;
    if replies.len() != keys.len() {
        return Err(Error::protocol("UNLINK"));
    }
    let (mut n, mut moved) = (0, Vec::new());
    for (k, v) in keys.into_iter().zip(replies) {
        match v {
            Value::Int(x) => n += u64::try_from(x).unwrap_or(0),
            Value::ServerError(_) => moved.push(k),
            _ => return Err(Error::protocol("UNLINK")),
        }
    }
    Ok(n + unlink_routed(ex, &moved, step).await?)
}

/// The Cluster's masters and their slots, from `CLUSTER SLOTS`.
async fn slot_map<E: Exec>(ex: &E, dl: Instant) -> Result<SlotMap, Error> {
    let cmd = redis::cmd("CLUSTER").arg("SLOTS").clone();
    SlotMap::parse(ex.exec(Req::Cmd(cmd), dl).await?)
}

/// Unlinks every key in `scope` (`<prefix>:<name>:`, or `<prefix>:` with `whole`): a cursor
/// `SCAN` of each master and `UNLINK`s, each round trip within `step`.
pub(super) async fn delete_all<E: Exec>(
    ex: &E,
    scope: &[u8],
    whole: bool,
    step: Duration,
) -> Result<u64, Error> {
    let nodes = if ex.cluster() {
        slot_map(ex, Instant::now() + step)
            .await?
            .masters
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None]
    };
    let pattern = scan_pattern(scope);
    let count = BATCH.to_string();
    let mut removed = 0;
    for node in nodes {
        let mut cursor = b"0".to_vec();
        loop {
            let cmd = redis::cmd("SCAN")
                .arg(&cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(&count)
                .clone();
            let req = match &node {
                Some((host, port)) => Req::Node {
                    host: host.clone(),
                    port: *port,
                    cmd,
                },
                None => Req::Cmd(cmd),
            };
            let mut reply = array(ex.exec(req, Instant::now() + step).await?, "SCAN")?.into_iter();
            cursor = bytes(reply.next().unwrap_or(Value::Nil), "SCAN")?;
            let found = array(reply.next().unwrap_or(Value::Nil), "SCAN")?;
            let mut keys = Vec::with_capacity(found.len());
            for k in found {
                let k = bytes(k, "SCAN")?;
                if in_scope(&k, scope, whole) {
                    keys.push(k);
                }
            }
            removed += match &node {
                Some((host, port)) => unlink_on(ex, host, *port, keys, step).await?,
                None => unlink_all(ex, &keys, step).await?,
            };
            if cursor == b"0" {
                break;
            }
        }
    }
    Ok(removed)
}

/// Unlinks every key listed under a tag (`set`, with its `aside` set in the same slot).
pub(super) async fn delete_tag<E: Exec>(
    ex: &E,
    set: &[u8],
    aside: &[u8],
    step: Duration,
) -> Result<u64, Error> {
    script(
        ex,
        &scripts::TAG_MOVE,
        &[set, aside],
        &[],
        Instant::now() + step,
    )
    .await?;
    let count = BATCH.to_string();
    let map = match ex.cluster() {
        true => Some(slot_map(ex, Instant::now() + step).await?),
        false => None,
    };
    let mut removed = 0;
    loop {
        let dl = Instant::now() + step;
        let Some(map) = &map else {
            let v = script(ex, &scripts::TAG_DRAIN, &[aside], &[count.as_bytes()], dl).await?;
            let mut items = array(v, "tag drain")?.into_iter();
            let n = int(&items.next().unwrap_or(Value::Nil), "tag drain")?;
            let taken = int(&items.next().unwrap_or(Value::Nil), "tag drain")?;
            removed += u64::try_from(n).unwrap_or(0);
            if taken == 0 {
                return Ok(removed);
            }
            continue;
        };
        let cmd = redis::cmd("SRANDMEMBER").arg(aside).arg(&count).clone();
        let members: Vec<Vec<u8>> = array(ex.exec(Req::Cmd(cmd), dl).await?, "SRANDMEMBER")?
            .into_iter()
            .map(|m| bytes(m, "SRANDMEMBER"))
            .collect::<Result<_, _>>()?;
        if members.is_empty() {
            return Ok(removed);
        }
        removed += unlink_by_master(ex, map, &members, step).await?;
        let mut srem = redis::cmd("SREM");
        srem.arg(aside);
        for m in &members {
            srem.arg(m.as_slice());
        }
        ex.exec(Req::Cmd(srem), Instant::now() + step).await?;
    }
}

/// `PING`: every master of a Cluster.
pub(super) async fn ping<E: Exec>(ex: &E, dl: Instant) -> Result<(), Error> {
    let ping = redis::cmd("PING");
    if !ex.cluster() {
        ex.exec(Req::Cmd(ping), dl).await?;
        return Ok(());
    }
    for (host, port) in slot_map(ex, dl).await?.masters {
        ex.exec(
            Req::Node {
                host,
                port,
                cmd: ping.clone(),
            },
            dl,
        )
        .await?;
    }
    Ok(())
}

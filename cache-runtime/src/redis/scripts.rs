//! The Lua scripts that make each entry operation one atomic round trip, and how they are sent
//! (`EVALSHA`, then `EVAL` when the server does not know the script yet).
//!
//! `KEYS[1]` is always the entry key. On a standalone server `KEYS[2..]` are the entry's tag
//! sets, updated in the same script; on a Cluster they live in other slots, so the scripts get
//! the entry key alone and the client updates the sets with [`TAG`] (see `ops.rs` for the
//! order that keeps them right).
//!
//! Every tag set lives at least as long as the longest entry added to it (`PEXPIRE` raised to
//! the entry's `PX`), so the sets of tags that are never invalidated do not grow forever.

use std::sync::OnceLock;

/// A script: its source, and its SHA1 (computed once).
pub(super) struct Lua {
    source: &'static str,
    sha: OnceLock<String>,
}

impl Lua {
    const fn new(source: &'static str) -> Lua {
        Lua {
            source,
            sha: OnceLock::new(),
        }
    }

    fn sha(&self) -> &str {
        self.sha
            .get_or_init(|| redis::Script::new(self.source).get_hash().to_owned())
    }
}

/// Adds `KEYS[1]` to each of `KEYS[2..]` and raises each set's expiry to `px`.
macro_rules! tag_loop {
    ($px:literal) => {
        concat!(
            "for i = 2, #KEYS do\n",
            "  redis.call('SADD', KEYS[i], KEYS[1])\n",
            "  if redis.call('PTTL', KEYS[i]) < tonumber(",
            $px,
            ") then redis.call('PEXPIRE', KEYS[i], ",
            $px,
            ") end\n",
            "end\n"
        )
    };
}

/// Lookup: the value if one this codec can read is there; else take the lease; else report
/// another holder's lease.
///
/// ARGV: our placeholder, lease ms, the codec's value prefix, the placeholder prefix, bytes to
/// treat as absent (a value that failed to decode; `''` for none).
/// Returns `{0}` (leased: our placeholder is stored with `PX lease`), `{1, pttl, value}`,
/// `{2, pttl}` (busy). Anything else under the key (garbage, another type or version, a
/// non-string) is overwritten by our placeholder.
pub(super) static LOOKUP: Lua = Lua::new(concat!(
    "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n",
    "if ok and v then\n",
    "  if string.sub(v, 1, #ARGV[4]) == ARGV[4] then\n",
    "    return {2, redis.call('PTTL', KEYS[1])}\n",
    "  end\n",
    "  if string.sub(v, 1, #ARGV[3]) == ARGV[3] and v ~= ARGV[5] then\n",
    "    return {1, redis.call('PTTL', KEYS[1]), v}\n",
    "  end\n",
    "end\n",
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n",
    tag_loop!("ARGV[2]"),
    "return {0}\n",
));

/// Fill: store the value only if our placeholder is still there (an invalidation deleted it,
/// or another run's value replaced it, otherwise), then tell the processes waiting for it.
/// ARGV: our placeholder, the value, px, the bus's channel, the "filled" event.
/// Returns 1 if stored, else 0.
pub(super) static FILL: Lua = Lua::new(concat!(
    "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n",
    "if not ok or v ~= ARGV[1] then return 0 end\n",
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n",
    tag_loop!("ARGV[3]"),
    "redis.call('PUBLISH', ARGV[4], ARGV[5])\n",
    "return 1\n",
));

/// Stale fill: store a stale entry's refreshed value only if the entry still holds the bytes
/// the refresh saw (an invalidation deleted it, or a newer value replaced it, otherwise), then
/// tell the others. ARGV: the bytes seen, the value, px, the bus's channel, the "filled" event.
/// Returns 1 if stored, else 0.
pub(super) static STALE_FILL: Lua = Lua::new(concat!(
    "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n",
    "if not ok or v ~= ARGV[1] then return 0 end\n",
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n",
    tag_loop!("ARGV[3]"),
    "redis.call('PUBLISH', ARGV[4], ARGV[5])\n",
    "return 1\n",
));

/// Release: delete our placeholder, and nothing else. ARGV: our placeholder. Returns 1 if it
/// was ours and is gone, else 0.
pub(super) static RELEASE: Lua = Lua::new(concat!(
    "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n",
    "if ok and v == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end\n",
    "return 0\n",
));

/// Extend: set our placeholder's expiry to px (and raise its tag sets'). ARGV: our
/// placeholder, px. Returns 1 if the lease is still ours, else 0.
pub(super) static EXTEND: Lua = Lua::new(concat!(
    "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n",
    "if not ok or v ~= ARGV[1] then return 0 end\n",
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n",
    tag_loop!("ARGV[2]"),
    "return 1\n",
));

/// Take: store our placeholder whatever is there (a refresh's lease: the value it replaces
/// and any other run's lease are gone). ARGV: our placeholder, lease ms.
pub(super) static TAKE: Lua = Lua::new(concat!(
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n",
    tag_loop!("ARGV[2]"),
    "return 1\n",
));

/// Delete: remove the key whatever it holds (a lease too, so that a run in progress stores
/// nothing). ARGV: the placeholder prefix. Returns 1 if what was removed was an entry (not a
/// lease), else 0.
pub(super) static DELETE: Lua = Lua::new(concat!(
    "local ok, v = pcall(redis.call, 'GET', KEYS[1])\n",
    "local n = redis.call('UNLINK', KEYS[1])\n",
    "if n == 1 and ok and v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return 0 end\n",
    "return n\n",
));

/// Tag (Cluster): add ARGV[1] to the set KEYS[1], raise its expiry to ARGV[2] ms.
pub(super) static TAG: Lua = Lua::new(concat!(
    "redis.call('SADD', KEYS[1], ARGV[1])\n",
    "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n",
    "return 1\n",
));

/// Tag deletion, first step: move the tag's set aside (KEYS[1] the set, KEYS[2] the aside
/// set, one slot), merging with what an interrupted deletion left there. Leases taken from now
/// on are listed in a new set, which the deletion never touches, so no listing is lost.
/// The aside set keeps the longer expiry of the two. Returns how many keys are aside.
pub(super) static TAG_MOVE: Lua = Lua::new(concat!(
    "local t = redis.call('PTTL', KEYS[1])\n",
    "if t == -2 then return redis.call('SCARD', KEYS[2]) end\n",
    "local ta = redis.call('PTTL', KEYS[2])\n",
    "redis.call('SUNIONSTORE', KEYS[2], KEYS[2], KEYS[1])\n",
    "redis.call('DEL', KEYS[1])\n",
    "local keep = math.max(t, ta)\n",
    "if t >= 0 and ta ~= -1 and keep > 0 then redis.call('PEXPIRE', KEYS[2], keep) end\n",
    "return redis.call('SCARD', KEYS[2])\n",
));

/// Tag deletion, one batch (standalone): unlink up to ARGV[1] keys of the aside set KEYS[1],
/// then unlist them: an interruption leaves the rest listed for the next attempt.
/// Returns `{keys removed, members taken}`.
pub(super) static TAG_DRAIN: Lua = Lua::new(concat!(
    "local m = redis.call('SRANDMEMBER', KEYS[1], ARGV[1])\n",
    "if #m == 0 then return {0, 0} end\n",
    "local n = redis.call('UNLINK', unpack(m))\n",
    "redis.call('SREM', KEYS[1], unpack(m))\n",
    "return {n, #m}\n",
));

/// `EVALSHA` of `script`, and the `EVAL` that replaces it when the server answers `NOSCRIPT`.
pub(super) fn invocation(script: &Lua, keys: &[&[u8]], args: &[&[u8]]) -> (redis::Cmd, redis::Cmd) {
    let build = |verb: &str, body: &str| {
        let mut cmd = redis::cmd(verb);
        cmd.arg(body).arg(keys.len());
        for k in keys {
            cmd.arg(*k);
        }
        for a in args {
            cmd.arg(*a);
        }
        cmd
    };
    (build("EVALSHA", script.sha()), build("EVAL", script.source))
}

/// `EVAL` of `script` alone (for pipelines, where a `NOSCRIPT` cannot be answered in turn).
pub(super) fn eval(script: &Lua, keys: &[&[u8]], args: &[&[u8]]) -> redis::Cmd {
    invocation(script, keys, args).1
}

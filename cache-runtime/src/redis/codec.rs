//! The bytes stored under an entry key: a value in its envelope, or a lease's placeholder.
//!
//! Every stored string starts with the 3-byte magic `C1 'm' 'c'` (0xC1 never starts valid
//! UTF-8 nor MessagePack, so no text or msgpack written by something else matches), then a
//! kind byte and the format version:
//!
//! - a placeholder (`'L'`): the 16 bytes of the lease's owner token. 21 bytes.
//! - a value (`'V'`), all integers little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 5..13 | fingerprint: FNV-1a 64 of `type_name::<V>()`, a zero byte, the `version` string |
//! | 13..21 | written at, Unix ms (the writer's clock: informational) |
//! | 21..29 | ttl ms (fresh for this long after the write) |
//! | 29..37 | stale ms (then served stale for this long; the key's `PX` is ttl + stale) |
//! | 37..45 | how long the body took, µs |
//! | 45..47 | tag count, then each tag as a u16 length and UTF-8 bytes |
//! | .. | the payload: `rmp-serde`, named form |
//! | last 8 | checksum of everything before it |
//!
//! Whether a value is fresh or stale is read from the key's remaining PTTL, Redis's clock,
//! not from times written by some process's clock: fresh while `pttl > stale`.
//!
//! [`Codec::decode`] answers `None` (a miss) for anything that is not a complete value of this
//! codec's fingerprint: garbage, a truncation, another type or version, a placeholder.

use super::{Error, ErrorKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::hash::{BuildHasher, Hasher};
use std::io::Cursor;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) const MAGIC: [u8; 3] = [0xC1, b'm', b'c'];
const KIND_VALUE: u8 = b'V';
const KIND_LEASE: u8 = b'L';
const FORMAT: u8 = 1;
/// What every placeholder starts with (the scripts tell placeholders apart by it).
pub(super) const LEASE_PREFIX: [u8; 5] = [MAGIC[0], MAGIC[1], MAGIC[2], KIND_LEASE, FORMAT];
const PREFIX_LEN: usize = 13;
const FIXED_LEN: usize = 47;
const CHECK_LEN: usize = 8;

/// FNV-1a, 64 bits.
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// The fingerprint of a value type and a `version` string.
pub(crate) fn fingerprint(type_name: &str, version: &str) -> u64 {
    let h = fnv1a(0xCBF2_9CE4_8422_2325, type_name.as_bytes());
    fnv1a(fnv1a(h, &[0]), version.as_bytes())
}

/// A checksum over whole 8-byte words: each step is a bijection of the running state, so
/// any change of one byte changes the result.
fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3 ^ (bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    let mix = |h: u64, w: u64| {
        let x = (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^ (x >> 29)
    };
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = mix(h, u64::from_le_bytes(tail));
    mix(h, 0x1357_9BDF_0246_8ACE)
}

/// The owner of a lease: 16 bytes unique to it, and the placeholder that carries them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Token {
    placeholder: [u8; 21],
}

/// What every token of this process is made from: 128 bits from the OS's randomness (std's
/// `RandomState` keys), mixed with the process id and the clock, read once.
fn process_seed() -> &'static [u64; 2] {
    static SEED: OnceLock<[u64; 2]> = OnceLock::new();
    SEED.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(nanos);
        let a = h.finish();
        h.write_u8(0xA5);
        [a, h.finish()]
    })
}

/// SplitMix64's finalizer: a bijection of `u64`, so distinct inputs give distinct outputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Token {
    /// A new token: never one this process made before (its second half is a bijection of a
    /// counter), and unlike another process's with overwhelming probability (its first half is
    /// random per process). No system call: the randomness and the process id are read once.
    pub(crate) fn new() -> Token {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let [a, start] = *process_seed();
        let b = mix(start.wrapping_add(n));
        let mut placeholder = [0u8; 21];
        placeholder[..5].copy_from_slice(&LEASE_PREFIX);
        placeholder[5..13].copy_from_slice(&a.to_le_bytes());
        placeholder[13..].copy_from_slice(&b.to_le_bytes());
        Token { placeholder }
    }

    /// The bytes a lease stores under the entry key.
    pub(crate) fn placeholder(&self) -> &[u8] {
        &self.placeholder
    }

    /// The token's 16 bytes, which the runtime carries as a lease.
    pub(crate) fn bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out.copy_from_slice(&self.placeholder[5..]);
        out
    }

    /// The token whose [`Token::bytes`] are `bytes`.
    pub(crate) fn from_bytes(bytes: [u8; 16]) -> Token {
        let mut placeholder = [0u8; 21];
        placeholder[..5].copy_from_slice(&LEASE_PREFIX);
        placeholder[5..].copy_from_slice(&bytes);
        Token { placeholder }
    }
}

/// What a value's envelope says besides the value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Fresh for this long after the write.
    pub(crate) ttl: Duration,
    /// Then served stale for this long (the key's `PX` is `ttl + stale`).
    pub(crate) stale: Duration,
    /// How long the body took.
    pub(crate) compute: Duration,
    /// The entry's tags.
    pub(crate) tags: Vec<String>,
    /// When the value was written, Unix ms by the writer's clock (set by `encode`).
    pub(crate) written_unix_ms: u64,
}

/// A decoded value and its envelope.
#[derive(Debug, PartialEq)]
pub(crate) struct Decoded<V> {
    pub(crate) value: V,
    pub(crate) meta: Meta,
}

impl<V> Decoded<V> {
    /// Whether the entry is still fresh given the key's remaining PTTL (`None`: no expiry),
    /// rather than in its stale window.
    pub(crate) fn is_fresh(&self, pttl_ms: Option<u64>) -> bool {
        pttl_ms.is_none_or(|p| u128::from(p) > self.meta.stale.as_millis())
    }
}

/// Encodes and decodes the values of one cache: one value type, one `version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Codec {
    prefix: [u8; PREFIX_LEN],
}

impl Codec {
    /// The codec of values of type `V` for a function declared with `version` (`""` if none).
    pub(crate) fn new<V: ?Sized>(version: &str) -> Codec {
        Codec::with_fingerprint(fingerprint(std::any::type_name::<V>(), version))
    }

    pub(crate) fn with_fingerprint(fp: u64) -> Codec {
        let mut prefix = [0u8; PREFIX_LEN];
        prefix[..3].copy_from_slice(&MAGIC);
        prefix[3] = KIND_VALUE;
        prefix[4] = FORMAT;
        prefix[5..].copy_from_slice(&fp.to_le_bytes());
        Codec { prefix }
    }

    /// What every value of this codec starts with: the lookup script serves only those.
    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The stored form of `value`. `meta.written_unix_ms` is set to now.
    pub(crate) fn encode<V: Serialize + ?Sized>(
        &self,
        value: &V,
        meta: &Meta,
    ) -> Result<Vec<u8>, Error> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let written = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, ms);
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(&written.to_le_bytes());
        out.extend_from_slice(&ms(meta.ttl).to_le_bytes());
        out.extend_from_slice(&ms(meta.stale).to_le_bytes());
        let micros = u64::try_from(meta.compute.as_micros()).unwrap_or(u64::MAX);
        out.extend_from_slice(&micros.to_le_bytes());
        let count = u16::try_from(meta.tags.len())
            .map_err(|_| Error::new(ErrorKind::Encode, "more than 65535 tags"))?;
        out.extend_from_slice(&count.to_le_bytes());
        for tag in &meta.tags {
            let len = u16::try_from(tag.len())
                .map_err(|_| Error::new(ErrorKind::Encode, "a tag longer than 65535 bytes"))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(tag.as_bytes());
        }
        rmp_serde::encode::write_named(&mut out, value).map_err(|e| {
            Error::new(
                ErrorKind::Encode,
                format!("the value cannot be serialized: {e}"),
            )
        })?;
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        Ok(out)
    }

    /// The value stored in `bytes`, or `None` when they are not a complete, intact value of
    /// this codec (anything else reads as a miss).
    pub(crate) fn decode<V: DeserializeOwned>(&self, bytes: &[u8]) -> Option<Decoded<V>> {
        if bytes.len() < FIXED_LEN + CHECK_LEN || !bytes.starts_with(&self.prefix) {
            return None;
        }
        let (body, sum) = bytes.split_at(bytes.len() - CHECK_LEN);
        if checksum(body).to_le_bytes() != sum {
            return None;
        }
        let mut r = Reader {
            rest: &body[PREFIX_LEN..],
        };
        let written_unix_ms = r.u64()?;
        let ttl = Duration::from_millis(r.u64()?);
        let stale = Duration::from_millis(r.u64()?);
        let compute = Duration::from_micros(r.u64()?);
        let count = r.u16()?;
        let mut tags = Vec::with_capacity(usize::from(count).min(64));
        for _ in 0..count {
            let len = usize::from(r.u16()?);
            tags.push(std::str::from_utf8(r.take(len)?).ok()?.to_owned());
        }
        let payload = r.rest;
        let mut de = rmp_serde::Deserializer::new(Cursor::new(payload));
        let value = V::deserialize(&mut de).ok()?;
        if de.position() != payload.len() as u64 {
            return None;
        }
        let meta = Meta {
            ttl,
            stale,
            compute,
            tags,
            written_unix_ms,
        };
        Some(Decoded { value, meta })
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(head)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;

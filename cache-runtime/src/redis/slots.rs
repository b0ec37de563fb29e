//! Which Cluster master holds a key: the hash slot (CRC16/XMODEM of the key or of its hash
//! tag, mod 16384) and the slot ranges of `CLUSTER SLOTS`. Used to send one pipeline per master
//! where an operation touches many keys in many slots (unlinking a tag's entries); a map that
//! is stale after a resharding only costs a `MOVED` answer, which the caller retries by key.

use super::Error;
use super::transport::{array, bytes, int};
use redis::Value;

const SLOTS: u16 = 16384;

/// CRC16/XMODEM (polynomial 0x1021, initial 0), as Redis Cluster uses.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The hash slot of `key`: of its hash tag if it has a non-empty one (what lies between the
/// first `{` and the next `}`), else of the whole key.
pub(super) fn slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            rest.iter()
                .position(|&b| b == b'}')
                .map(|close| &rest[..close])
        })
        .filter(|tag| !tag.is_empty())
        .unwrap_or(key);
    crc16(hashed) % SLOTS
}

/// The masters of a Cluster and the slot ranges each holds.
pub(super) struct SlotMap {
    /// `(first slot, last slot, master index)`.
    ranges: Vec<(u16, u16, usize)>,
    pub(super) masters: Vec<(String, u16)>,
}

impl SlotMap {
    /// Parses a `CLUSTER SLOTS` answer.
    pub(super) fn parse(v: Value) -> Result<SlotMap, Error> {
        let bad = || Error::protocol("CLUSTER SLOTS");
        let mut map = SlotMap {
            ranges: Vec::new(),
            masters: Vec::new(),
        };
        for range in array(v, "CLUSTER SLOTS")? {
            let mut fields = array(range, "CLUSTER SLOTS")?.into_iter();
            let first = u16::try_from(int(&fields.next().ok_or_else(bad)?, "CLUSTER SLOTS")?)
                .map_err(|_| bad())?;
            let last = u16::try_from(int(&fields.next().ok_or_else(bad)?, "CLUSTER SLOTS")?)
                .map_err(|_| bad())?;
            let mut node = array(fields.next().ok_or_else(bad)?, "CLUSTER SLOTS")?.into_iter();
            let host = String::from_utf8(bytes(node.next().ok_or_else(bad)?, "CLUSTER SLOTS")?)
                .map_err(|_| bad())?;
            let port = u16::try_from(int(&node.next().ok_or_else(bad)?, "CLUSTER SLOTS")?)
                .map_err(|_| bad())?;
            let i = match map
                .masters
                .iter()
                .position(|(h, p)| *h == host && *p == port)
            {
                Some(i) => i,
                None => {
                    map.masters.push((host, port));
                    map.masters.len() - 1
                }
            };
            map.ranges.push((first, last, i));
        }
        if map.masters.is_empty() {
            return Err(Error::server("the cluster reports no master"));
        }
        Ok(map)
    }

    /// The index in `masters` of the master that holds `key`, if the map covers its slot.
    pub(super) fn master_of(&self, key: &[u8]) -> Option<usize> {
        let s = slot(key);
        self.ranges
            .iter()
            .find(|(a, b, _)| (*a..=*b).contains(&s))
            .map(|r| r.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_specification() {
        // The test vector of the Redis Cluster specification, and known slots.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"{user1000}.following"), slot(b"{user1000}.followers"));
        assert_eq!(slot(b"{user1000}.following"), slot(b"user1000"));
        assert_eq!(
            slot(b"foo{}{bar}"),
            slot(b"foo{}{bar}"),
            "an empty tag hashes the whole key"
        );
        assert_ne!(slot(b"foo{}{bar}"), slot(b"bar"));
        assert_eq!(slot(b"foo{{bar}}zap"), slot(b"{bar"));
    }
}

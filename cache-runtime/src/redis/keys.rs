//! The names of everything memocache keeps in Redis: entry keys, tag sets, the patterns
//! that find a cache's keys.
//!
//! - an entry: `<prefix>:<cache name>:<encoded key>` (see [`encode_key`](super::keyenc::encode_key));
//! - a tag's set of entry keys: `<prefix>:#tag:{<tag>}`, and the set of those being deleted
//!   `<prefix>:#tagdel:{<tag>}`: the braces put the pair in one Cluster slot (the tag is
//!   escaped, so what the braces enclose is all of it), so that one script can move a set
//!   aside.
//!
//! Prefix, cache names and tags are escaped (`%XX`) so that none contains `{` or `}`: a
//! Redis Cluster hashes only what is between the first `{` and the next `}` when there is such a
//! pair, so a brace would put all of a cache's keys in one slot. Names also escape `#`, so
//! no cache name can collide with the `#tag` namespace, and `%` to keep the escaping
//! reversible. Encoded keys contain no `:`, so a cache `a` never owns the keys of a cache `a:b`
//! (`delete_all` filters on it).

use super::Error;
use super::keyenc::{self, hex};
use serde::Serialize;

/// Bytes that names escape, besides controls: braces (hash tags), `#` (internal namespaces) and
/// `%` (the escape itself).
const NAME_ESCAPED: &[u8] = b"%{}#";

/// Appends `s` to `out`, each byte of `NAME_ESCAPED`, each control byte and space as `%XX`.
pub(super) fn escape_name(s: &str, out: &mut Vec<u8>) {
    for &b in s.as_bytes() {
        if b <= b' ' || b == 0x7F || NAME_ESCAPED.contains(&b) {
            out.extend_from_slice(&[b'%', hex(b >> 4), hex(b & 0xF)]);
        } else {
            out.push(b);
        }
    }
}

/// The key namespace of one configuration: its (escaped) prefix.
#[derive(Clone, Debug)]
pub(crate) struct KeySpace {
    /// `<escaped prefix>:`
    root: Vec<u8>,
}

impl KeySpace {
    pub(crate) fn new(prefix: &str) -> Self {
        let mut root = Vec::with_capacity(prefix.len() + 1);
        escape_name(prefix, &mut root);
        root.push(b':');
        KeySpace { root }
    }

    /// The keys of one cache (compute it once per cache).
    pub(crate) fn cache(&self, name: &str) -> CacheKeys {
        let mut prefix = self.root.clone();
        escape_name(name, &mut prefix);
        prefix.push(b':');
        CacheKeys { prefix }
    }

    /// The key of the set that lists the entry keys labelled `tag`, in every cache.
    pub(crate) fn tag_key(&self, tag: &str) -> Vec<u8> {
        self.tag_set(b"#tag:{", tag)
    }

    /// The key of the set of `tag`'s entry keys that a deletion has moved aside.
    pub(crate) fn tag_aside_key(&self, tag: &str) -> Vec<u8> {
        self.tag_set(b"#tagdel:{", tag)
    }

    fn tag_set(&self, kind: &[u8], tag: &str) -> Vec<u8> {
        let mut key = self.root.clone();
        key.extend_from_slice(kind);
        escape_name(tag, &mut key);
        key.push(b'}');
        key
    }

    /// The key that says which process refreshes the stale entry `rkey` (`stale`): in no
    /// cache's scope, and expiring by itself.
    pub(crate) fn refresh_key(&self, rkey: &[u8]) -> Vec<u8> {
        let mut key = self.root.clone();
        key.extend_from_slice(b"#refresh:");
        key.extend_from_slice(rkey);
        key
    }

    /// `<prefix>:`, which every key of this namespace starts with (entries and tag sets):
    /// the scope of a [`delete_all`](super::Client::delete_all) that drops everything.
    pub(crate) fn root(&self) -> &[u8] {
        &self.root
    }
}

/// The keys of one cache: `<prefix>:<name>:`, then the encoded key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CacheKeys {
    prefix: Vec<u8>,
}

impl CacheKeys {
    /// The Redis key of the entry for `key`.
    pub(crate) fn key<K: Serialize + ?Sized>(&self, key: &K) -> Result<Vec<u8>, Error> {
        let mut out = self.prefix.clone();
        keyenc::encode_key_into(key, &mut out)?;
        Ok(out)
    }

    /// `<prefix>:<name>:`: the scope of [`delete_all`](super::Client::delete_all) for this cache.
    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix
    }
}

/// Whether `key` belongs to the scope `prefix`: it starts with it and, unless the scope is a
/// whole namespace (`<prefix>:`, which owns every key under it), the rest has no `:` (the
/// rest of a longer cache name would).
pub(super) fn in_scope(key: &[u8], prefix: &[u8], whole_namespace: bool) -> bool {
    key.starts_with(prefix) && (whole_namespace || !key[prefix.len()..].contains(&b':'))
}

/// A `SCAN MATCH` pattern for the keys starting with `prefix`: its glob characters escaped.
pub(super) fn scan_pattern(prefix: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + 2);
    for &b in prefix {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\' | b'^') {
            p.push(b'\\');
        }
        p.push(b);
    }
    p.push(b'*');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[u8]) -> &str {
        std::str::from_utf8(v).unwrap()
    }

    #[test]
    fn entry_keys_read_as_prefix_name_key() {
        let ks = KeySpace::new("memocache");
        let rates = ks.cache("app::rates");
        assert_eq!(
            s(&rates.key(&20240101u32).unwrap()),
            "memocache:app::rates:20240101"
        );
        assert_eq!(s(rates.prefix()), "memocache:app::rates:");
        assert_eq!(s(&ks.tag_key("user:7")), "memocache:#tag:{user:7}");
        assert_eq!(s(&ks.tag_aside_key("user:7")), "memocache:#tagdel:{user:7}");
    }

    #[test]
    fn no_brace_survives_in_any_part() {
        let ks = KeySpace::new("{pre}");
        let c = ks.cache("{name}#x");
        let key = c.key(&("{a}", "}{")).unwrap();
        assert!(!key.contains(&b'{') && !key.contains(&b'}'), "{}", s(&key));
        // A tag set's only braces are the ones that pair it with its aside set.
        assert_eq!(s(&ks.tag_key("{t}")), "%7Bpre%7D:#tag:{%7Bt%7D}");
        assert_eq!(s(c.prefix()), "%7Bpre%7D:%7Bname%7D%23x:");
    }

    #[test]
    fn a_cache_named_like_the_tag_namespace_cannot_collide() {
        let ks = KeySpace::new("p");
        let c = ks.cache("#tag");
        assert!(!c.key("x").unwrap().starts_with(b"p:#tag:"));
    }

    #[test]
    fn scopes_do_not_reach_longer_cache_names() {
        let ks = KeySpace::new("p");
        let a = ks.cache("a");
        let ab = ks.cache("a:b");
        let ka = a.key(&1u8).unwrap();
        let kab = ab.key(&1u8).unwrap();
        assert!(in_scope(&ka, a.prefix(), false));
        assert!(!in_scope(&kab, a.prefix(), false));
        assert!(in_scope(&kab, ab.prefix(), false));
        assert!(in_scope(&kab, ks.root(), true));
        assert!(in_scope(&ks.tag_key("t"), ks.root(), true));
    }

    #[test]
    fn scan_patterns_escape_globs() {
        assert_eq!(s(&scan_pattern(b"p:a*b?[c]\\:")), "p:a\\*b\\?\\[c\\]\\\\:*");
    }
}

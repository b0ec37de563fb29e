//! Tags: labels on stored entries, so that one call drops every entry carrying a label.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A shard's index from tag to the slots of the entries carrying it, and back.
///
/// Only shards that stored a tagged entry have one. Tag strings are shared between the two
/// maps; `std`'s `SipHash` guards them, since tags are often built from user input.
#[derive(Default)]
pub(crate) struct TagIndex {
    by_tag: HashMap<Arc<str>, HashSet<u32>>,
    by_slot: HashMap<u32, Box<[Arc<str>]>>,
}

impl TagIndex {
    /// Labels `slot` with `tags`.
    pub(crate) fn add(&mut self, slot: u32, tags: Vec<String>) {
        let mut labels: Vec<Arc<str>> = Vec::with_capacity(tags.len());
        for tag in tags {
            if labels.iter().any(|l| **l == *tag) {
                continue;
            }
            let label = match self.by_tag.get_key_value(tag.as_str()) {
                Some((k, _)) => Arc::clone(k),
                None => Arc::from(tag),
            };
            self.by_tag
                .entry(Arc::clone(&label))
                .or_default()
                .insert(slot);
            labels.push(label);
        }
        if !labels.is_empty() {
            self.by_slot.insert(slot, labels.into_boxed_slice());
        }
    }

    /// Forgets the labels of `slot`.
    pub(crate) fn remove_slot(&mut self, slot: u32) {
        let Some(labels) = self.by_slot.remove(&slot) else {
            return;
        };
        for label in &*labels {
            if let Some(set) = self.by_tag.get_mut(&**label) {
                set.remove(&slot);
                if set.is_empty() {
                    self.by_tag.remove(&**label);
                }
            }
        }
    }

    /// Records that the entry in `from` moved to `to`.
    pub(crate) fn move_slot(&mut self, from: u32, to: u32) {
        let Some(labels) = self.by_slot.remove(&from) else {
            return;
        };
        for label in &*labels {
            if let Some(set) = self.by_tag.get_mut(&**label) {
                set.remove(&from);
                set.insert(to);
            }
        }
        self.by_slot.insert(to, labels);
    }

    /// Takes out the slots labelled `tag`, highest first.
    pub(crate) fn take(&mut self, tag: &str) -> Vec<u32> {
        let mut slots: Vec<u32> = self
            .by_tag
            .remove(tag)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        slots.sort_unstable_by(|a, b| b.cmp(a));
        slots
    }
}

#[cfg(test)]
impl TagIndex {
    /// Checks that both directions agree and every slot is below `len`.
    pub(crate) fn check(&self, len: usize) {
        for (slot, labels) in &self.by_slot {
            assert!((*slot as usize) < len, "tagged slot {slot} beyond {len}");
            for l in &**labels {
                assert!(self.by_tag[l].contains(slot), "{l} misses {slot}");
            }
        }
        for (label, slots) in &self.by_tag {
            assert!(!slots.is_empty());
            for s in slots {
                assert!(self.by_slot[s].contains(label), "{s} misses {label}");
            }
        }
    }
}

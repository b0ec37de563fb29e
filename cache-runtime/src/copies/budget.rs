//! The process-wide budget of the threads' copy tables: how many bytes all of them together
//! may take, and how many they take now.
//!
//! Every copy table charges the budget for its memory (its hash table's allocation and its
//! fixed parts) before it allocates it, and gives the bytes back once it has shrunk or gone.
//! A table that cannot have the bytes it would grow into stays the size it is; a table that
//! cannot have the bytes to start with is not made (its thread reads from the store).
//!
//! The default is [`DEFAULT_BUDGET`] bytes; `MEMOCACHE_COPIES_BUDGET` in the environment
//! (bytes, with an optional `k`, `m` or `g` suffix for KiB, MiB, GiB; read when the first
//! copy table is made) changes it, and `0` turns the copies off.

use std::sync::OnceLock;
// Not part of the protocol the model checker explores: how many copies a thread keeps
// changes which hits the copies answer, never what a hit returns.
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bytes all copy tables together may take unless the environment says otherwise: 1 MiB.
/// A table of a `u64 -> u64` cache takes about 41 bytes per copy (84 KB at its largest), so
/// this is two dozen full tables, or hundreds of small ones.
pub(crate) const DEFAULT_BUDGET: usize = 1 << 20;

/// Bytes that copy tables may take, and take.
pub(crate) struct Budget {
    /// The most bytes: [`DEFAULT_BUDGET`] or the environment's, read once.
    limit: OnceLock<usize>,
    /// The bytes charged now.
    used: AtomicUsize,
}

/// The process's budget, which every store's copies charge.
pub(crate) static BUDGET: Budget = Budget::new();

impl Budget {
    /// A budget whose limit comes from the environment, else [`DEFAULT_BUDGET`].
    pub(crate) const fn new() -> Self {
        Budget {
            limit: OnceLock::new(),
            used: AtomicUsize::new(0),
        }
    }

    /// A budget of `limit` bytes, whatever the environment says (for tests).
    #[cfg(test)]
    pub(crate) fn with_limit(limit: usize) -> Self {
        let budget = Budget::new();
        let _ = budget.limit.set(limit);
        budget
    }

    /// The most bytes the copy tables may take.
    pub(crate) fn limit(&self) -> usize {
        *self.limit.get_or_init(|| {
            std::env::var("MEMOCACHE_COPIES_BUDGET")
                .ok()
                .and_then(|v| parse(&v))
                .unwrap_or(DEFAULT_BUDGET)
        })
    }

    /// The bytes charged now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Charges `bytes`, if the budget has them left.
    pub(crate) fn take(&self, bytes: usize) -> bool {
        let limit = self.limit();
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&after| after <= limit)
            })
            .is_ok()
    }

    /// Charges `bytes` whatever is left: for an allocation a little larger than the one
    /// charged for beforehand.
    pub(crate) fn charge(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Gives back `bytes` charged before.
    pub(crate) fn give(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// A byte count: digits, then optionally `k`, `m` or `g` (any case, optionally followed by
/// `b` or `ib`) for KiB, MiB or GiB. Anything else is ignored (the default stays).
fn parse(text: &str) -> Option<usize> {
    let text = text.trim().to_ascii_lowercase();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number.parse().ok()?;
    let shift = match unit.trim() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_parse_with_their_units() {
        assert_eq!(parse("0"), Some(0));
        assert_eq!(parse(" 4096 "), Some(4096));
        assert_eq!(parse("64k"), Some(64 << 10));
        assert_eq!(parse("2MiB"), Some(2 << 20));
        assert_eq!(parse("1 g"), Some(1 << 30));
        assert_eq!(parse("1.5m"), None);
        assert_eq!(parse("lots"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn a_budget_charges_only_what_it_has_left() {
        let budget = Budget::with_limit(100);
        assert!(budget.take(60));
        assert!(!budget.take(41));
        assert!(budget.take(40));
        assert_eq!(budget.used(), 100);
        budget.give(60);
        assert!(budget.take(10));
        assert_eq!(budget.used(), 50);
    }
}

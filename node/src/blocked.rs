//! Blocking: a resident hides a member's posts, responses and name on their own screen.
//!
//! A block is one resident's own choice on this node, never written to any feed: their
//! node still holds and relays the blocked member's feed, neighbours see everything as
//! before, and the blocked member is not told. Each local resident (the owner and every
//! hosted resident) has a list of their own, saved in the store (`Store::block`). A block
//! is kept under the key it was made with and applied under every key a succession joins
//! to it (`Authority::with_their_other_keys`), so that it follows a member to the new key
//! the stewards vouched for, and back to the old one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entraide_crdt::AuthorId;
use serde::{Deserialize, Serialize};

/// Most members one resident can block.
pub const MAX_BLOCKED: usize = 1000;
/// Longest reason kept with a block, in characters (a longer one is cut).
pub const MAX_REASON_CHARS: usize = 200;

/// Why and when a resident blocked a member (what the store keeps).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockNote {
    /// Their own words, for themselves (never sent anywhere).
    #[serde(default)]
    pub reason: Option<String>,
    /// When (Unix seconds).
    pub at: i64,
}

impl BlockNote {
    /// A note with `reason` cut to [`MAX_REASON_CHARS`] (blank: none).
    pub fn new(reason: Option<&str>, at: i64) -> Self {
        let reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(MAX_REASON_CHARS).collect());
        Self { reason, at }
    }
}

/// A blocked member, as listed to the resident who blocked them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedView {
    /// The member.
    pub author: AuthorId,
    /// Their display name, if this node holds their feed and they set one.
    pub name: Option<String>,
    /// Their fingerprint, as the page shows it.
    pub fingerprint: String,
    /// The resident's reason, if they gave one.
    pub reason: Option<String>,
    /// When they were blocked (Unix seconds).
    pub at: i64,
}

/// Every local resident's block list, in memory (loaded from the store at start).
#[derive(Debug, Default)]
pub(crate) struct BlockLists {
    by_reader: HashMap<AuthorId, BTreeMap<AuthorId, BlockNote>>,
}

impl BlockLists {
    /// Lists as the store holds them: `(reader, blocked, note)`.
    pub(crate) fn from_entries(entries: Vec<(AuthorId, AuthorId, BlockNote)>) -> Self {
        let mut lists = Self::default();
        for (reader, blocked, note) in entries {
            lists
                .by_reader
                .entry(reader)
                .or_default()
                .insert(blocked, note);
        }
        lists
    }

    /// Whom `reader` blocked.
    pub(crate) fn of(&self, reader: &AuthorId) -> BTreeSet<AuthorId> {
        self.by_reader
            .get(reader)
            .map(|l| l.keys().copied().collect())
            .unwrap_or_default()
    }

    /// `reader`'s list with the notes.
    pub(crate) fn notes(&self, reader: &AuthorId) -> Vec<(AuthorId, BlockNote)> {
        self.by_reader
            .get(reader)
            .map(|l| l.iter().map(|(a, n)| (*a, n.clone())).collect())
            .unwrap_or_default()
    }

    /// Whether `reader` may block one more member (or already blocked `who`).
    pub(crate) fn has_room(&self, reader: &AuthorId, who: &AuthorId) -> bool {
        self.by_reader
            .get(reader)
            .is_none_or(|l| l.len() < MAX_BLOCKED || l.contains_key(who))
    }

    pub(crate) fn insert(&mut self, reader: AuthorId, who: AuthorId, note: BlockNote) {
        self.by_reader.entry(reader).or_default().insert(who, note);
    }

    /// Forgets `reader`'s list: they are no longer hosted here.
    pub(crate) fn forget(&mut self, reader: &AuthorId) {
        self.by_reader.remove(reader);
    }

    /// Whether `who` was blocked by `reader` (and is no longer).
    pub(crate) fn remove(&mut self, reader: &AuthorId, who: &AuthorId) -> bool {
        self.by_reader
            .get_mut(reader)
            .is_some_and(|l| l.remove(who).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> AuthorId {
        AuthorId([n; 32])
    }

    #[test]
    fn each_reader_has_a_list_of_their_own() {
        let mut lists = BlockLists::from_entries(vec![(a(1), a(2), BlockNote::new(None, 5))]);
        assert_eq!(lists.of(&a(1)), BTreeSet::from([a(2)]));
        assert!(
            lists.of(&a(3)).is_empty(),
            "another resident blocked nobody"
        );
        lists.insert(a(3), a(2), BlockNote::new(Some("  "), 6));
        assert_eq!(
            lists.notes(&a(3))[0].1.reason,
            None,
            "a blank reason is none"
        );
        assert!(lists.remove(&a(1), &a(2)));
        assert!(!lists.remove(&a(1), &a(2)));
        assert_eq!(lists.of(&a(3)), BTreeSet::from([a(2)]), "untouched");
        lists.forget(&a(3));
        assert!(lists.of(&a(3)).is_empty(), "a resident no longer hosted");
    }

    #[test]
    fn lists_and_reasons_are_bounded() {
        let long = "x".repeat(MAX_REASON_CHARS * 3);
        let note = BlockNote::new(Some(&long), 1);
        assert_eq!(note.reason.unwrap().chars().count(), MAX_REASON_CHARS);
        let mut lists = BlockLists::default();
        for i in 0..MAX_BLOCKED {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_be_bytes());
            lists.insert(a(1), AuthorId(id), BlockNote::default());
        }
        assert!(!lists.has_room(&a(1), &a(200)));
        let mut first = [0u8; 32];
        first[..8].copy_from_slice(&0u64.to_be_bytes());
        assert!(
            lists.has_room(&a(1), &AuthorId(first)),
            "blocking again is fine"
        );
        assert!(lists.has_room(&a(2), &a(200)));
    }
}

//! Signed heads: how an author vouches for every change of their feed.
//!
//! automerge changes are hash-linked but unsigned. After every commit the author signs the
//! heads of their feed; since a change's hash covers its dependencies' hashes, one
//! signature over the heads covers the whole history below them. A change enters a feed
//! only if it is reachable from heads its author signed (see [`crate::validation`]).

use std::fmt;

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, AuthorKey};
use crate::limits::MAX_HEADS_PER_SIGNATURE;

/// Domain separation for head signatures, so they can never be confused with any other
/// signature made with the same key (libp2p uses that key too).
const HEADS_CONTEXT: &[u8] = b"entraide/heads/v1\0";

/// A feed: the document of one author in one epoch. An epoch starts when the author
/// compacts their feed (pruning); nodes keep only the newest epoch of each author.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FeedId {
    /// Whose feed.
    pub author: AuthorId,
    /// Which epoch of it (0 for the first).
    pub epoch: u32,
}

impl FeedId {
    /// The first epoch of `author`'s feed.
    pub fn first(author: AuthorId) -> Self {
        Self { author, epoch: 0 }
    }
}

impl fmt::Debug for FeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Feed({}#{})", self.author.fmt_short(), self.epoch)
    }
}

impl fmt::Display for FeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.author.fmt_short(), self.epoch)
    }
}

/// A change hash as it travels: 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash(pub [u8; 32]);

crate::fixed_bytes::hex_or_bytes_serde!(Hash, 32);

impl From<ChangeHash> for Hash {
    fn from(h: ChangeHash) -> Self {
        Self(h.0)
    }
}

impl From<Hash> for ChangeHash {
    fn from(h: Hash) -> Self {
        ChangeHash(h.0)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0[..6]))
    }
}

/// An author's signature over a set of heads of one of their feeds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHeads {
    /// The feed the heads belong to.
    pub feed: FeedId,
    /// The heads, sorted and without duplicates.
    pub heads: Vec<Hash>,
    /// ed25519 signature by `feed.author` over [`SignedHeads::signing_bytes`].
    #[serde(with = "serde_bytes")]
    pub signature: [u8; 64],
}

impl fmt::Debug for SignedHeads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeads")
            .field("feed", &self.feed)
            .field("heads", &self.heads)
            .finish_non_exhaustive()
    }
}

impl SignedHeads {
    /// Signs `heads` of the feed `(key's author, epoch)`.
    pub fn sign(key: &AuthorKey, epoch: u32, heads: &[ChangeHash]) -> Self {
        let feed = FeedId {
            author: key.id(),
            epoch,
        };
        let mut heads: Vec<Hash> = heads.iter().copied().map(Hash::from).collect();
        heads.sort();
        heads.dedup();
        let signature = key.sign(&Self::signing_bytes(&feed, &heads));
        Self {
            feed,
            heads,
            signature,
        }
    }

    /// The bytes that are signed:
    /// `"entraide/heads/v1\0" || author (32) || epoch (u32 BE) || count (u32 BE) || heads (32 each)`.
    pub fn signing_bytes(feed: &FeedId, heads: &[Hash]) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADS_CONTEXT.len() + 40 + 32 * heads.len());
        out.extend_from_slice(HEADS_CONTEXT);
        out.extend_from_slice(&feed.author.0);
        out.extend_from_slice(&feed.epoch.to_be_bytes());
        out.extend_from_slice(&(heads.len() as u32).to_be_bytes());
        for h in heads {
            out.extend_from_slice(&h.0);
        }
        out
    }

    /// Whether the signature is the author's, over sorted, distinct, not too many heads.
    pub fn verify(&self) -> bool {
        self.heads.len() <= MAX_HEADS_PER_SIGNATURE
            && self.heads.windows(2).all(|w| w[0] < w[1])
            && self.feed.author.verify(
                &Self::signing_bytes(&self.feed, &self.heads),
                &self.signature,
            )
    }

    /// The heads as automerge hashes.
    pub fn change_hashes(&self) -> impl Iterator<Item = ChangeHash> + '_ {
        self.heads.iter().map(|h| ChangeHash(h.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_heads_verify_and_detect_tampering() {
        let key = AuthorKey::from_seed([4; 32]);
        let heads = [ChangeHash([9; 32]), ChangeHash([1; 32])];
        let signed = SignedHeads::sign(&key, 0, &heads);
        assert!(signed.verify());
        assert_eq!(signed.heads[0], Hash([1; 32]), "heads are sorted");

        let mut other_epoch = signed.clone();
        other_epoch.feed.epoch = 1;
        assert!(!other_epoch.verify());

        let mut other_head = signed.clone();
        other_head.heads[1].0[0] ^= 1;
        assert!(!other_head.verify());

        let mut other_author = signed.clone();
        other_author.feed.author = AuthorKey::from_seed([5; 32]).id();
        assert!(!other_author.verify());

        let mut unsorted = signed;
        unsorted.heads.reverse();
        assert!(!unsorted.verify());
    }
}

//! A new community secret after an exclusion: the re-key notices a steward writes.
//!
//! The excluded member holds the community secret, and with it could still connect and
//! read what is posted after. So the steward's node draws a new secret and writes it, sealed
//! ([`crate::sealed`]) to every remaining member, at most [`crate::sealed::MAX_RECIPIENTS`]
//! per notice, as `rekey:<nonce, 16 hex>` entries of its feed (bytes below). Each node that
//! opens one written by a current steward, of a generation newer than its own, moves to the
//! new secret (`docs/protocol.md`, "The re-key").
//!
//! A notice is signed on its own by its writer, besides the feed's signature: a node that
//! moved hands notices over to a member who was away, over a connection made with the old
//! secret, and that member checks the notice without the feed.
//!
//! Bytes: `0x01 ‖ writer (32) ‖ nonce (8) ‖ generation (4, big-endian) ‖ at (8, big-endian)
//! ‖ sealed length (4, big-endian) ‖ sealed ‖ signature (64)`, the signature ed25519 by the
//! writer over `"entraide/rekey/v1\0"` and everything before it. Plaintext (JSON, sealed):
//! `{"type": "rekey", "secret": <64 hex>, "generation": n}`.

use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, AuthorKey};
use crate::post::Timestamp;
use crate::sealed::{self, SealError};

pub(crate) const REKEY_PREFIX: &str = "rekey:";
const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"entraide/rekey/v1\0";
/// Largest encoded notice, in bytes (16 slots of a 256-byte plaintext, and the header).
pub const MAX_NOTICE_BYTES: usize = 8 * 1024;

/// One re-key notice: the new secret, sealed to some of the remaining members.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RekeyNotice {
    /// The steward who wrote it.
    pub writer: AuthorId,
    /// Its nonce (the feed key, and the sealed record's binding).
    pub nonce: [u8; 8],
    /// The secret's generation: one more than the community's before.
    pub generation: u32,
    /// When (the writer's clock).
    pub at: Timestamp,
    /// The new secret, sealed.
    #[serde(with = "serde_bytes")]
    pub sealed: Vec<u8>,
    #[serde(with = "serde_bytes")]
    signature: [u8; 64],
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename = "rekey")]
struct Plain {
    secret: String,
    generation: u32,
}

impl RekeyNotice {
    /// The notices carrying `secret` of `generation` to `members` (deduplicated), at most
    /// [`crate::sealed::MAX_RECIPIENTS`] per notice, signed by `key`. `nonces` and `seeds`
    /// give one nonce and one random seed per notice (the crate has no randomness).
    pub fn make(
        key: &AuthorKey,
        members: &[AuthorId],
        secret: &[u8; 32],
        generation: u32,
        at: Timestamp,
        mut fresh: impl FnMut() -> ([u8; 8], [u8; 32]),
    ) -> Result<Vec<Self>, SealError> {
        let mut members = members.to_vec();
        members.sort();
        members.dedup();
        let plain = serde_json::to_vec(&Plain {
            secret: hex::encode(secret),
            generation,
        })
        .expect("a re-key always serialises");
        let writer = key.id();
        members
            .chunks(sealed::MAX_RECIPIENTS)
            .map(|chunk| {
                let (nonce, seed) = fresh();
                let sealed = sealed::seal(&writer, &nonce, chunk, &plain, seed)?;
                let mut notice = RekeyNotice {
                    writer,
                    nonce,
                    generation,
                    at,
                    sealed,
                    signature: [0; 64],
                };
                notice.signature = key.sign(&notice.signed_bytes());
                Ok(notice)
            })
            .collect()
    }

    fn header(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(61 + self.sealed.len() + 64);
        out.push(VERSION);
        out.extend_from_slice(&self.writer.0);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.generation.to_be_bytes());
        out.extend_from_slice(&self.at.to_be_bytes());
        out.extend_from_slice(&(self.sealed.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.sealed);
        out
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut bytes = DOMAIN.to_vec();
        bytes.extend_from_slice(&self.header());
        bytes
    }

    /// The notice's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.header();
        out.extend_from_slice(&self.signature);
        out
    }

    /// Reads a notice and checks its signature; `None` if it is malformed, too large or
    /// not signed by the writer it names.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > MAX_NOTICE_BYTES || bytes.len() < 61 + 64 || bytes[0] != VERSION {
            return None;
        }
        let take = |from: usize, len: usize| bytes.get(from..from + len);
        let writer = AuthorId(take(1, 32)?.try_into().ok()?);
        let nonce: [u8; 8] = take(33, 8)?.try_into().ok()?;
        let generation = u32::from_be_bytes(take(41, 4)?.try_into().ok()?);
        let at = i64::from_be_bytes(take(45, 8)?.try_into().ok()?);
        let len = u32::from_be_bytes(take(53, 4)?.try_into().ok()?) as usize;
        let sealed = take(57, len)?.to_vec();
        let signature: [u8; 64] = take(57 + len, 64)?.try_into().ok()?;
        if bytes.len() != 57 + len + 64 || sealed::recipient_count(&sealed).is_none() {
            return None;
        }
        let notice = RekeyNotice {
            writer,
            nonce,
            generation,
            at,
            sealed,
            signature,
        };
        writer
            .verify(&notice.signed_bytes(), &notice.signature)
            .then_some(notice)
    }

    /// The new secret, if `key` is one of the notice's recipients.
    pub fn open(&self, key: &AuthorKey) -> Option<[u8; 32]> {
        let plain = sealed::open(key, &self.writer, &self.nonce, &self.sealed)?;
        let plain: Plain = serde_json::from_slice(&plain).ok()?;
        if plain.generation != self.generation {
            return None;
        }
        let mut secret = [0u8; 32];
        hex::decode_to_slice(&plain.secret, &mut secret).ok()?;
        Some(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_open_the_new_secret_and_tampering_is_caught() {
        let steward = AuthorKey::from_seed([1; 32]);
        let members: Vec<AuthorKey> = (2..=20).map(|n| AuthorKey::from_seed([n; 32])).collect();
        let excluded = AuthorKey::from_seed([99; 32]);
        let ids: Vec<AuthorId> = members.iter().map(AuthorKey::id).collect();
        let mut n = 0u8;
        let notices = RekeyNotice::make(&steward, &ids, &[7; 32], 3, 100, || {
            n += 1;
            ([n; 8], [n; 32])
        })
        .unwrap();
        assert_eq!(notices.len(), 2, "19 members: 16 and 3");
        for m in &members {
            let opened: Vec<[u8; 32]> = notices.iter().filter_map(|x| x.open(m)).collect();
            assert_eq!(opened, [[7; 32]]);
        }
        assert!(notices.iter().all(|x| x.open(&excluded).is_none()));
        let bytes = notices[0].encode();
        assert_eq!(RekeyNotice::decode(&bytes), Some(notices[0].clone()));
        let mut forged = bytes.clone();
        forged[41] ^= 1; // the generation
        assert_eq!(RekeyNotice::decode(&forged), None);
        assert_eq!(RekeyNotice::decode(&bytes[..bytes.len() - 1]), None);
        assert!(bytes.len() <= MAX_NOTICE_BYTES);
    }
}

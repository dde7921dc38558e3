//! Sealed records: bytes in a writer's own signed feed that only some members can open.
//!
//! This is the one place that decides who may read what. Every feature that needs secrecy
//! (the care register and its check-ins today) seals its records here.
//!
//! # The construction, chosen once
//!
//! - **HPKE** (RFC 9180), base mode, single-shot, suite DHKEM(X25519, HKDF-SHA256) /
//!   HKDF-SHA256 / ChaCha20-Poly1305 (KEM 0x0020, KDF 0x0001, AEAD 0x0003), from the
//!   `hpke` crate. An RFC with test vectors, so another implementation in any language
//!   can open what this one seals; no cipher mode of our own.
//! - **Recipient keys are derived from the identities**: an author's X25519 public key is
//!   the Montgomery form of their ed25519 public key, and its secret is their ed25519
//!   secret scalar (RFC 7748 / RFC 8032's birational map, `to_montgomery` and
//!   `to_scalar_bytes` in ed25519-dalek). Any node can seal to any member it knows with
//!   nothing more published, and one key backup covers both.
//! - **One slot per recipient**: the plaintext is sealed to each recipient on its own.
//!   Records are small (at most [`MAX_SEALED_PLAINTEXT`] bytes) and circles too (at most
//!   [`MAX_RECIPIENTS`]), so this costs little and needs nothing but HPKE itself.
//! - **Recipients are not named**: a slot says nothing of whom it is for; a reader tries
//!   its key on every slot (one X25519 operation each). A non-recipient learns that a
//!   sealed record exists, who wrote it and when (the feed is signed), how many slots it
//!   has and its padded size, nothing else.
//! - **Bound to where it was written**: the HPKE `aad` is the writer's author id and the
//!   record's nonce, so a recipient cannot copy a box into their own feed (or under another
//!   key) and have it opened as if written there.
//! - The plaintext is padded with spaces to a multiple of [`SEALED_PADDING`] bytes before
//!   sealing (the records are JSON, for which trailing spaces are blank), so the size
//!   says little about the length of a name or a note.
//!
//! # Bytes
//!
//! `0x01 ‖ n ‖ n × (enc ‖ ct)`: the version, the number of slots (1 byte, 1 to
//! [`MAX_RECIPIENTS`]), then `n` slots of equal length, each the HPKE encapsulated key
//! (32 bytes) followed by the HPKE ciphertext (the padded plaintext plus a 16-byte tag).
//! `info` is `b"entraide sealed/1"`.

use chacha20::ChaCha20Rng;
use ed25519_dalek::{SigningKey, VerifyingKey};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::rand_core::SeedableRng;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};

use crate::author::{AuthorId, AuthorKey};

/// Most recipients of one sealed record.
pub const MAX_RECIPIENTS: usize = 16;
/// Largest plaintext of one sealed record, in bytes, after padding.
pub const MAX_SEALED_PLAINTEXT: usize = 3 * 1024;
/// Plaintexts are padded to a multiple of this many bytes.
pub const SEALED_PADDING: usize = 256;
/// The first byte of a sealed record.
pub const SEALED_VERSION: u8 = 1;
/// HPKE's `info` for every sealed record.
pub const SEALED_INFO: &[u8] = b"entraide sealed/1";

const ENC_LEN: usize = 32;
const TAG_LEN: usize = 16;

type Kem = X25519HkdfSha256;

/// Why a record could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// No recipient, or more than [`MAX_RECIPIENTS`].
    #[error("a sealed record needs 1 to {MAX_RECIPIENTS} recipients, not {0}")]
    Recipients(usize),
    /// The plaintext is longer than [`MAX_SEALED_PLAINTEXT`] once padded.
    #[error("the record is too long to seal ({0} bytes, at most {MAX_SEALED_PLAINTEXT})")]
    TooLong(usize),
    /// A recipient's id is not a valid ed25519 public key (so has no X25519 key).
    #[error("{} cannot receive sealed records (not a valid key)", .0.fmt_short())]
    BadRecipient(AuthorId),
}

/// The X25519 public key that sealed records for `author` are sealed to, if `author` is a
/// valid ed25519 public key.
pub fn recipient_key(author: &AuthorId) -> Option<[u8; 32]> {
    let key = VerifyingKey::from_bytes(&author.0).ok()?;
    Some(key.to_montgomery().to_bytes())
}

fn secret_key(key: &AuthorKey) -> Option<<Kem as hpke::Kem>::PrivateKey> {
    let scalar = SigningKey::from_bytes(&key.to_seed()).to_scalar_bytes();
    <Kem as hpke::Kem>::PrivateKey::from_bytes(&scalar).ok()
}

fn aad(writer: &AuthorId, nonce: &[u8; 8]) -> [u8; 40] {
    let mut aad = [0u8; 40];
    aad[..32].copy_from_slice(&writer.0);
    aad[32..].copy_from_slice(nonce);
    aad
}

/// Seals `plaintext`, written by `writer` under `nonce`, so that each of `recipients`
/// (deduplicated) can open it. `seed` is 32 bytes from a cryptographic random source: the
/// HPKE ephemeral keys are drawn from it (this crate has no randomness of its own).
pub fn seal(
    writer: &AuthorId,
    nonce: &[u8; 8],
    recipients: &[AuthorId],
    plaintext: &[u8],
    seed: [u8; 32],
) -> Result<Vec<u8>, SealError> {
    let mut unique: Vec<AuthorId> = recipients.to_vec();
    unique.sort();
    unique.dedup();
    if unique.is_empty() || unique.len() > MAX_RECIPIENTS {
        return Err(SealError::Recipients(unique.len()));
    }
    let padded_len = plaintext.len().div_ceil(SEALED_PADDING).max(1) * SEALED_PADDING;
    if padded_len > MAX_SEALED_PLAINTEXT {
        return Err(SealError::TooLong(plaintext.len()));
    }
    let mut padded = plaintext.to_vec();
    padded.resize(padded_len, b' ');
    let aad = aad(writer, nonce);
    let mut rng = ChaCha20Rng::from_seed(seed);
    let mut out = Vec::with_capacity(2 + unique.len() * (ENC_LEN + padded_len + TAG_LEN));
    out.push(SEALED_VERSION);
    out.push(unique.len() as u8);
    for recipient in &unique {
        let key = recipient_key(recipient)
            .and_then(|k| <Kem as hpke::Kem>::PublicKey::from_bytes(&k).ok())
            .ok_or(SealError::BadRecipient(*recipient))?;
        let (enc, ct) = hpke::single_shot_seal_with_rng::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeS::Base,
            &key,
            SEALED_INFO,
            &padded,
            &aad,
            &mut rng,
        )
        .map_err(|_| SealError::BadRecipient(*recipient))?;
        out.extend_from_slice(&enc.to_bytes());
        out.extend_from_slice(&ct);
    }
    Ok(out)
}

/// The slots of a sealed record, if its bytes are well formed.
fn slots(sealed: &[u8]) -> Option<impl Iterator<Item = (&[u8], &[u8])>> {
    let (&version, rest) = sealed.split_first()?;
    let (&n, body) = rest.split_first()?;
    let n = n as usize;
    if version != SEALED_VERSION || n == 0 || n > MAX_RECIPIENTS || body.len() % n != 0 {
        return None;
    }
    let slot = body.len() / n;
    if slot < ENC_LEN + TAG_LEN || slot - ENC_LEN - TAG_LEN > MAX_SEALED_PLAINTEXT {
        return None;
    }
    Some(body.chunks_exact(slot).map(|s| s.split_at(ENC_LEN)))
}

/// How many slots (recipients) a sealed record has, if its bytes are well formed: what
/// anyone can learn of it.
pub fn recipient_count(sealed: &[u8]) -> Option<usize> {
    slots(sealed).map(Iterator::count)
}

/// Opens a sealed record written by `writer` under `nonce` with `key`, if `key` is one of
/// its recipients. The padding is returned with the plaintext (trailing spaces).
pub fn open(key: &AuthorKey, writer: &AuthorId, nonce: &[u8; 8], sealed: &[u8]) -> Option<Vec<u8>> {
    let secret = secret_key(key)?;
    let aad = aad(writer, nonce);
    for (enc, ct) in slots(sealed)? {
        let Ok(enc) = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc) else {
            continue;
        };
        if let Ok(plain) = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &secret,
            &enc,
            SEALED_INFO,
            ct,
            &aad,
        ) {
            return Some(plain);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> AuthorKey {
        AuthorKey::from_seed([n; 32])
    }

    #[test]
    fn the_derived_keys_agree_with_x25519() {
        // The secret derived from the ed25519 key gives the public key derived from the
        // ed25519 public key.
        for n in 1..5 {
            let secret = secret_key(&key(n)).unwrap();
            let public = <Kem as hpke::Kem>::sk_to_pk(&secret);
            assert_eq!(
                public.to_bytes().as_slice(),
                recipient_key(&key(n).id()).unwrap()
            );
        }
    }

    #[test]
    fn every_recipient_opens_and_nobody_else() {
        let (writer, b, c, d) = (key(1), key(2), key(3), key(4));
        let to = [writer.id(), b.id(), c.id()];
        let sealed = seal(&writer.id(), &[9; 8], &to, b"{\"a\":1}", [7; 32]).unwrap();
        assert_eq!(recipient_count(&sealed), Some(3));
        for k in [&writer, &b, &c] {
            let plain = open(k, &writer.id(), &[9; 8], &sealed).unwrap();
            assert_eq!(plain.len(), SEALED_PADDING);
            assert!(plain.starts_with(b"{\"a\":1}"));
            assert!(plain[7..].iter().all(|&x| x == b' '));
        }
        assert_eq!(open(&d, &writer.id(), &[9; 8], &sealed), None);
    }

    #[test]
    fn a_box_moved_to_another_feed_or_nonce_does_not_open() {
        let (writer, b) = (key(1), key(2));
        let sealed = seal(&writer.id(), &[9; 8], &[b.id()], b"x", [7; 32]).unwrap();
        assert!(open(&b, &writer.id(), &[9; 8], &sealed).is_some());
        assert_eq!(open(&b, &b.id(), &[9; 8], &sealed), None);
        assert_eq!(open(&b, &writer.id(), &[8; 8], &sealed), None);
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(open(&b, &writer.id(), &[9; 8], &flipped), None);
    }

    #[test]
    fn sizes_say_little_and_bounds_hold() {
        let w = key(1);
        let short = seal(&w.id(), &[1; 8], &[w.id()], b"Jo", [1; 32]).unwrap();
        let long = seal(&w.id(), &[1; 8], &[w.id()], &[b'a'; 200], [1; 32]).unwrap();
        assert_eq!(short.len(), long.len());
        assert_eq!(
            seal(&w.id(), &[1; 8], &[], b"x", [1; 32]),
            Err(SealError::Recipients(0))
        );
        let many: Vec<AuthorId> = (1..=17).map(|n| key(n).id()).collect();
        assert_eq!(
            seal(&w.id(), &[1; 8], &many, b"x", [1; 32]),
            Err(SealError::Recipients(17))
        );
        assert!(matches!(
            seal(&w.id(), &[1; 8], &[w.id()], &[b'a'; 4000], [1; 32]),
            Err(SealError::TooLong(4000))
        ));
        // Garbage never opens and never panics.
        for bytes in [&[][..], &[1], &[1, 0], &[2, 1, 0, 0], &[1, 1, 5, 5, 5]] {
            assert_eq!(open(&w, &w.id(), &[1; 8], bytes), None);
        }
    }
}

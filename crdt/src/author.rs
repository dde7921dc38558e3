//! Who writes: author keys, author ids, device ids and the automerge actor ids built from them.

use std::fmt;
use std::str::FromStr;

use automerge::ActorId;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Length of an actor id: the author's public key followed by the device id.
pub const ACTOR_ID_LEN: usize = 32 + 8;

/// A resident's secret signing key. Whoever holds it writes as this author.
///
/// The crate never generates keys (it has no randomness): the caller passes 32 random bytes.
#[derive(Clone)]
pub struct AuthorKey {
    signing: SigningKey,
}

impl fmt::Debug for AuthorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("AuthorKey").field("id", &self.id()).finish()
    }
}

impl AuthorKey {
    /// The key whose ed25519 seed is `seed` (32 bytes from a cryptographic random source).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The 32-byte seed, for storing the key.
    pub fn to_seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    /// The public half: the author's id.
    pub fn id(&self) -> AuthorId {
        AuthorId(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message` with this key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

/// Fewest hex digits of a fingerprint that name an author when typed by hand
/// ([`AuthorId::matches_fingerprint`]): the 8 digits of the fingerprints shown before
/// they grew to 20.
pub const MIN_FINGERPRINT_DIGITS: usize = 8;

/// An author: the 32-byte ed25519 public key of a resident.
///
/// The libp2p peer id of a resident's first device is derived from the same key; a device
/// linked later has a network key of its own (protocol.md section 2). Shown in full as 64 lowercase hex digits,
/// and to people as a short fingerprint (`fmt_short`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuthorId(pub [u8; 32]);

crate::fixed_bytes::hex_or_bytes_serde!(AuthorId, 32);

impl AuthorId {
    /// The fingerprint people compare: the first 80 bits of the id as 20 hex digits in
    /// groups of four, e.g. `3fa2-91bc-0d4e-77a1-c2f0`.
    ///
    /// Anyone can take anyone's display name, so the fingerprint is what tells two
    /// residents apart, and it must be out of reach of grinding: to get a key whose
    /// fingerprint equals a given resident's, an attacker must generate about 2^80 key
    /// pairs: at a billion keys a second (a rack of GPUs) some 38 million years. The 8
    /// digits shown before (2^32) took hours on one laptop, under a minute on one GPU.
    /// (Two keys of the attacker's own sharing a fingerprint cost about 2^40, but
    /// impersonate no one.)
    pub fn fmt_short(&self) -> String {
        let mut out = String::with_capacity(24);
        for (i, c) in hex::encode(&self.0[..10]).chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// Whether `typed` names this author by fingerprint: at least
    /// [`MIN_FINGERPRINT_DIGITS`] hex digits that begin the id, dashes and whitespace
    /// ignored, any case. `3FA2 91bc`, `3fa2-91bc-0d4e` and the whole id all match.
    ///
    /// A short prefix is unambiguous only among a few candidates (the helpers of a post,
    /// say): the caller checks that exactly one of them matches.
    pub fn matches_fingerprint(&self, typed: &str) -> bool {
        let digits: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        digits.len() >= MIN_FINGERPRINT_DIGITS
            && digits.len() <= 64
            && digits.chars().all(|c| c.is_ascii_hexdigit())
            && self.to_string().starts_with(&digits)
    }

    /// Checks an ed25519 signature of `message` by this author.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        key.verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// Whether `actor` is one of this author's devices (its first 32 bytes are this key).
    pub fn owns_actor(&self, actor: &ActorId) -> bool {
        let bytes = actor.to_bytes();
        bytes.len() == ACTOR_ID_LEN && bytes[..32] == self.0
    }
}

impl fmt::Display for AuthorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AuthorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthorId({})", self.fmt_short())
    }
}

/// The text is not an author id (64 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an author id: expected 64 hexadecimal digits")]
pub struct ParseAuthorIdError;

impl FromStr for AuthorId {
    type Err = ParseAuthorIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).map_err(|_| ParseAuthorIdError)?;
        Ok(Self(out))
    }
}

/// One device (one installation) of an author. Two devices never share an id, so two
/// devices never share an automerge actor id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct DeviceId(pub [u8; 8]);

impl DeviceId {
    /// The device id of `installation` in one run (`session`: 4 bytes drawn at each start;
    /// see `crate::devices`).
    pub fn new(installation: crate::devices::Installation, session: [u8; 4]) -> Self {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&installation.0);
        bytes[4..].copy_from_slice(&session);
        Self(bytes)
    }

    /// The installation half: which device of the resident this is.
    pub fn installation(&self) -> crate::devices::Installation {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(&self.0[..4]);
        crate::devices::Installation(bytes)
    }
}

/// A local writer: the author's key and the device it writes from.
#[derive(Clone, Debug)]
pub struct Writer {
    key: AuthorKey,
    device: DeviceId,
}

impl Writer {
    /// A writer for `key` on `device`.
    pub fn new(key: AuthorKey, device: DeviceId) -> Self {
        Self { key, device }
    }

    /// The author this writer writes as.
    pub fn author(&self) -> AuthorId {
        self.key.id()
    }

    /// The author key.
    pub fn key(&self) -> &AuthorKey {
        &self.key
    }

    /// The device.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The automerge actor id of this device: author key followed by device id.
    pub fn actor(&self) -> ActorId {
        let mut bytes = Vec::with_capacity(ACTOR_ID_LEN);
        bytes.extend_from_slice(&self.key.id().0);
        bytes.extend_from_slice(&self.device.0);
        ActorId::from(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_id_round_trips_through_text() {
        let id = AuthorKey::from_seed([7; 32]).id();
        assert_eq!(id.to_string().parse::<AuthorId>(), Ok(id));
        assert!("zz".parse::<AuthorId>().is_err());
        assert!("ab".repeat(31).parse::<AuthorId>().is_err());
    }

    #[test]
    fn the_fingerprint_is_80_bits_in_five_groups() {
        let id = AuthorKey::from_seed([7; 32]).id();
        let short = id.fmt_short();
        assert_eq!(short.len(), 24, "{short}");
        let groups: Vec<&str> = short.split('-').collect();
        assert_eq!(groups.len(), 5, "{short}");
        assert!(groups.iter().all(|g| g.len() == 4));
        assert_eq!(short.replace('-', ""), id.to_string()[..20]);
    }

    #[test]
    fn a_typed_fingerprint_matches_from_eight_digits_whatever_the_dashes_and_case() {
        let id = AuthorKey::from_seed([7; 32]).id();
        let short = id.fmt_short();
        let hex = id.to_string();
        assert!(id.matches_fingerprint(&short));
        assert!(id.matches_fingerprint(&short.to_uppercase()));
        assert!(id.matches_fingerprint(&short[..9]), "the old 8-digit form");
        assert!(id.matches_fingerprint(&format!(" {} {} ", &hex[..4], &hex[4..8])));
        assert!(id.matches_fingerprint(&hex));
        assert!(!id.matches_fingerprint(&hex[..7]), "too short");
        assert!(!id.matches_fingerprint(&short[..8]), "7 digits and a dash");
        assert!(!id.matches_fingerprint(""));
        let other = if &hex[7..8] == "0" { "1" } else { "0" };
        assert!(!id.matches_fingerprint(&format!("{}{other}", &hex[..7])));
        assert!(!id.matches_fingerprint(&format!("{}z", &hex[..8])));
        assert!(
            !id.matches_fingerprint(&format!("{hex}0")),
            "longer than an id"
        );
    }

    #[test]
    fn signatures_verify_only_for_their_author_and_message() {
        let alice = AuthorKey::from_seed([1; 32]);
        let bob = AuthorKey::from_seed([2; 32]);
        let sig = alice.sign(b"hello");
        assert!(alice.id().verify(b"hello", &sig));
        assert!(!alice.id().verify(b"hellp", &sig));
        assert!(!bob.id().verify(b"hello", &sig));
    }

    #[test]
    fn actor_ids_are_owned_by_their_author_only() {
        let alice = Writer::new(AuthorKey::from_seed([1; 32]), DeviceId([9; 8]));
        let bob = AuthorKey::from_seed([2; 32]).id();
        assert!(alice.author().owns_actor(&alice.actor()));
        assert!(!bob.owns_actor(&alice.actor()));
        // A bare key with no device id is not an actor of ours.
        assert!(!alice.author().owns_actor(&ActorId::from(alice.author().0)));
    }
}

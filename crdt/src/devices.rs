//! One resident, several devices: the signed device list in the author's feed.
//!
//! Every device of a resident writes into the one feed of that resident, with the same
//! author key and an automerge actor of its own: `author (32) || installation (4) ||
//! session (4)`. The installation id is drawn once per installation and names the device;
//! the session half is drawn at every start (so that a change lost in a crash can never be
//! followed by a different change with the same actor and sequence number).
//!
//! A device is listed under `device:<installation as 8 hex digits>` (protocol.md 3.11):
//!
//! | key | value |
//! |---|---|
//! | `name` | text: what the resident calls it ("téléphone", "portable du salon") |
//! | `added` | int: when it was linked (seconds since the Unix epoch, the writer's clock) |
//! | `peer` | text, optional: the device's libp2p peer id (base58), written at pairing |
//! | `removed` | int, only once removed: when |
//! | `known` | text, only once removed: `<session hex>:<seq>` pairs joined by `,` |
//!
//! **What "after its removal" means.** There is no common clock, so "after" is causal: the
//! removing device writes down, in `known`, the last sequence number it held of every
//! actor of the removed installation. A change of that installation is *before* the
//! removal exactly when its actor is listed there with a sequence number at most the one
//! written down; every other change of that installation (a later change of a listed
//! actor, or any change of an actor the remover never saw, such as one made offline while
//! the removal was being written) is *after* it, whatever its timestamp says, and every
//! honest node refuses it: on receipt ([`crate::validate`]), and, for what it accepted
//! before the removal reached it, by dropping it from the feed when the removal arrives
//! ([`crate::Feed::apply`]), together with any change built on it.
//!
//! What this does not do: every device holds the one author key, so whoever takes the key
//! out of a lost device can write as a new installation, or even remove the others. The
//! removal stops a lost or stolen device from writing as it is; against a thief of the key
//! the answer is a new identity (docs/threat-model.md).

use std::collections::BTreeMap;

use automerge::ActorId;

use crate::content::{Source, int, text};
use crate::post::{Field, Timestamp, clip};

/// The root-key prefix of a device entry.
pub(crate) const DEVICE_PREFIX: &str = "device:";

/// Most actors one removal lists (each start of a device that wrote is one actor).
pub const MAX_KNOWN_ACTORS: usize = 4096;

/// The installation half of a device id: what names a device of a resident.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub struct Installation(pub [u8; 4]);

impl Installation {
    /// The installation of an actor of the feed's author (the 4 bytes after the key), if
    /// the actor has the entraide shape.
    pub fn of_actor(actor: &ActorId) -> Option<(Installation, [u8; 4])> {
        let bytes = actor.to_bytes();
        if bytes.len() != crate::author::ACTOR_ID_LEN {
            return None;
        }
        let mut installation = [0u8; 4];
        let mut session = [0u8; 4];
        installation.copy_from_slice(&bytes[32..36]);
        session.copy_from_slice(&bytes[36..40]);
        Some((Installation(installation), session))
    }
}

impl std::fmt::Display for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The text is not a device id (8 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a device id: expected 8 hexadecimal digits, as `entraide whoami` shows them")]
pub struct ParseInstallationError;

impl std::str::FromStr for Installation {
    type Err = ParseInstallationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 4];
        hex::decode_to_slice(s.trim().to_ascii_lowercase(), &mut out)
            .map_err(|_| ParseInstallationError)?;
        Ok(Self(out))
    }
}

/// A device as the feed lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredDevice {
    /// Which device.
    pub installation: Installation,
    /// What the resident calls it.
    pub name: String,
    /// When it was linked (the writer's clock).
    pub added: Timestamp,
    /// Its libp2p peer id (base58 text), if the entry says it.
    pub peer: Option<String>,
    /// Set once it was removed.
    pub removed: Option<Removal>,
}

/// A device's removal: when, and which of its changes came before it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Removal {
    /// When it was removed (the writer's clock; shown, never used to decide).
    pub at: Timestamp,
    /// The last sequence number held of each of its actors (by session half) when it was
    /// removed: its changes up to these stay, every other one is refused.
    pub known: BTreeMap<[u8; 4], u64>,
}

impl StoredDevice {
    /// Whether a change of this device with `session` half and sequence number `seq` may
    /// stand: always while the device is listed and not removed; once removed, only the
    /// changes the removal lists as known.
    pub fn allows(&self, session: [u8; 4], seq: u64) -> bool {
        match &self.removed {
            None => true,
            Some(removal) => removal.known.get(&session).is_some_and(|&max| seq <= max),
        }
    }
}

/// Whether the change by `actor` with sequence number `seq` stands against `devices` (the
/// feed's device list): false for a change a removed device made after its removal.
pub fn change_allowed(
    devices: &BTreeMap<Installation, StoredDevice>,
    actor: &ActorId,
    seq: u64,
) -> bool {
    if devices.values().all(|d| d.removed.is_none()) {
        return true;
    }
    match Installation::of_actor(actor) {
        Some((installation, session)) => devices
            .get(&installation)
            .is_none_or(|d| d.allows(session, seq)),
        None => true,
    }
}

/// Of `changes`, those that stand refused: those `allowed` refuses (made by a removed
/// device after its removal, `crate::devices`, or by an excluded member after their
/// exclusion, `crate::authority`), or depending, directly or through other changes of
/// `changes`, on one of them or on a hash `refused_before` says was refused. One pass over
/// the dependency graph (seeds, then their dependents), so a large batch costs its size,
/// never its square.
pub(crate) fn refused_among<'a>(
    allowed: impl Fn(&ActorId, u64) -> bool,
    changes: impl IntoIterator<Item = &'a automerge::Change>,
    refused_before: impl Fn(&automerge::ChangeHash) -> bool,
) -> std::collections::HashSet<automerge::ChangeHash> {
    use std::collections::{HashMap, HashSet};
    let changes: Vec<&automerge::Change> = changes.into_iter().collect();
    let mut dependents: HashMap<automerge::ChangeHash, Vec<automerge::ChangeHash>> = HashMap::new();
    let mut stack = Vec::new();
    for c in &changes {
        for d in c.deps() {
            dependents.entry(*d).or_default().push(c.hash());
        }
        if !allowed(c.actor_id(), c.seq()) || c.deps().iter().any(&refused_before) {
            stack.push(c.hash());
        }
    }
    let mut refused = HashSet::new();
    while let Some(hash) = stack.pop() {
        if refused.insert(hash) {
            stack.extend(dependents.get(&hash).into_iter().flatten().copied());
        }
    }
    refused
}

/// Writes the `known` field: `<session hex>:<seq>` pairs joined by `,`.
pub(crate) fn format_known(known: &BTreeMap<[u8; 4], u64>) -> String {
    known
        .iter()
        .map(|(session, seq)| format!("{}:{seq}", hex::encode(session)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads the `known` field; `None` if any pair is malformed or there are too many.
fn parse_known(text: &str) -> Option<BTreeMap<[u8; 4], u64>> {
    let mut known = BTreeMap::new();
    if text.is_empty() {
        return Some(known);
    }
    for pair in text.split(',') {
        let (session, seq) = pair.split_once(':')?;
        let mut bytes = [0u8; 4];
        hex::decode_to_slice(session, &mut bytes).ok()?;
        if hex::encode(bytes) != session {
            return None;
        }
        let seq: u64 = seq.parse().ok()?;
        known.insert(bytes, seq);
        if known.len() > MAX_KNOWN_ACTORS {
            return None;
        }
    }
    Some(known)
}

/// Whether `text` looks like a libp2p peer id's text form (base58, 40 to 60 characters):
/// only that goes into a device entry's `peer`, and only that is read back.
pub(crate) fn is_peer_id_text(text: &str) -> bool {
    (40..=60).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !matches!(c, '0' | 'O' | 'I' | 'l'))
}

/// The installation a `device:` key names, in its canonical (lowercase) spelling only.
pub(crate) fn canonical_installation(hex_text: &str) -> Option<Installation> {
    let mut bytes = [0u8; 4];
    hex::decode_to_slice(hex_text, &mut bytes).ok()?;
    (hex::encode(bytes) == hex_text).then_some(Installation(bytes))
}

/// Reads the device entry at `key`; `None` if it breaks the format.
pub(crate) fn read_device<S: Source>(
    source: &S,
    key: &str,
    installation: Installation,
) -> Option<StoredDevice> {
    let map = source.map_at(&source.root(), key)?;
    let name = clip(Field::Name, &text(source, &map, "name")?);
    let added = int(source, &map, "added")?;
    let peer = text(source, &map, "peer").filter(|p| is_peer_id_text(p));
    let removed = match int(source, &map, "removed") {
        None => None,
        Some(at) => Some(Removal {
            at,
            known: parse_known(&text(source, &map, "known").unwrap_or_default())?,
        }),
    };
    Some(StoredDevice {
        installation,
        name,
        added,
        peer,
        removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(installation: [u8; 4], session: [u8; 4]) -> ActorId {
        let mut bytes = vec![7u8; 32];
        bytes.extend_from_slice(&installation);
        bytes.extend_from_slice(&session);
        ActorId::from(bytes)
    }

    #[test]
    fn a_removed_device_keeps_only_the_changes_its_removal_knew() {
        let mut known = BTreeMap::new();
        known.insert([1; 4], 5);
        let lost = StoredDevice {
            installation: Installation([9; 4]),
            name: "phone".into(),
            added: 0,
            peer: None,
            removed: Some(Removal { at: 10, known }),
        };
        let devices: BTreeMap<_, _> = [(lost.installation, lost)].into();
        assert!(change_allowed(&devices, &actor([9; 4], [1; 4]), 5));
        assert!(
            !change_allowed(&devices, &actor([9; 4], [1; 4]), 6),
            "later seq"
        );
        assert!(
            !change_allowed(&devices, &actor([9; 4], [2; 4]), 1),
            "a session the remover never saw"
        );
        assert!(
            change_allowed(&devices, &actor([8; 4], [2; 4]), 1),
            "another device"
        );
    }

    #[test]
    fn known_round_trips_and_refuses_junk() {
        let known: BTreeMap<[u8; 4], u64> = [([0xab; 4], 3), ([1; 4], 12)].into();
        assert_eq!(parse_known(&format_known(&known)), Some(known));
        assert_eq!(parse_known(""), Some(BTreeMap::new()));
        assert_eq!(parse_known("ABABABAB:3"), None, "not canonical");
        assert_eq!(parse_known("abab:3"), None);
        assert_eq!(parse_known("abababab:x"), None);
        assert_eq!("0A0b0C0d".parse(), Ok(Installation([10, 11, 12, 13])));
        assert!("0a0b0c".parse::<Installation>().is_err());
    }
}

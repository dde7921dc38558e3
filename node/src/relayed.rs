//! Homes behind routers, meeting through a meeting point: who is reachable through which
//! meeting point, and the one message a meeting point sends about it.
//!
//! A meeting point (`entraide up --announce`) relays. A member that connects to one makes a
//! reservation there (it can then be dialled through it), and asks it, on
//! `/entraide/<tag>/relayed/1`, which other members hold one. It dials each of those
//! through the meeting point; the relayed connection only carries a hole punch (DCUtR),
//! and is closed once it gave a direct connection or failed to. The board never goes
//! through a relayed connection: it goes through the meeting point itself, which holds
//! every feed (docs/protocol.md, section 1.4). Plain data the actor drives; time is an input.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use crate::net::RELAY_MAX_RESERVATIONS;

/// Most meeting points a member makes a reservation on.
pub const MAX_RELAYS_USED: usize = 4;
/// How often a member asks each meeting point who is reachable through it.
pub const ASK_INTERVAL: Duration = Duration::from_secs(120);
/// How long a member waits before dialling again, through a meeting point, a member whose
/// hole punch failed (their routers do not let it through; they still meet through the
/// meeting point).
pub const PUNCH_RETRY: Duration = Duration::from_secs(30 * 60);
/// Most members whose failed hole punch is remembered.
pub const MAX_PUNCH_FAILURES: usize = 1024;
/// Longest answer on `/entraide/<tag>/relayed/1`, in bytes: [`RELAY_MAX_RESERVATIONS`]
/// peer ids (38 bytes each for an ed25519 key) in a CBOR array, with room to spare.
pub const MAX_RELAYED_FRAME: usize = 8 * 1024;
/// How long a member waits for a meeting point's answer.
pub const ASK_PATIENCE: Duration = Duration::from_secs(10);

/// A meeting point this node uses.
#[derive(Debug)]
struct Used {
    /// Where we dialled it.
    address: Multiaddr,
    /// Whether it accepted our reservation.
    reserved: bool,
    /// When we last asked who is reachable through it.
    asked: Option<Instant>,
}

/// Both sides: the meeting points this node uses, and, on a meeting point, the members
/// holding a reservation here.
#[derive(Debug, Default)]
pub(crate) struct Relays {
    used: HashMap<PeerId, Used>,
    /// Members reachable through us (we are a meeting point).
    reserved_here: HashSet<PeerId>,
    /// Members whose hole punch failed, and when.
    failed: HashMap<PeerId, Instant>,
    /// Hole punches that gave a direct connection since start.
    pub(crate) punched: u64,
}

impl Relays {
    /// A neighbour we dialled at `address` relays: use it, unless we use enough already.
    /// Returns whether it is new (then make a reservation there).
    pub(crate) fn found(&mut self, relay: PeerId, address: Multiaddr) -> bool {
        if self.used.contains_key(&relay) || self.used.len() >= MAX_RELAYS_USED {
            return false;
        }
        self.used.insert(
            relay,
            Used {
                address,
                reserved: false,
                asked: None,
            },
        );
        true
    }

    /// A meeting point dropped: it is found again when we next connect to it.
    pub(crate) fn lost(&mut self, relay: &PeerId) {
        self.used.remove(relay);
    }

    /// The meeting point accepted our reservation.
    pub(crate) fn reserved(&mut self, relay: &PeerId) {
        if let Some(used) = self.used.get_mut(relay) {
            used.reserved = true;
        }
    }

    /// The meeting points to ask now who is reachable through them (each at most every
    /// [`ASK_INTERVAL`]); marks them asked.
    pub(crate) fn due_to_ask(&mut self, now: Instant) -> Vec<PeerId> {
        self.used
            .iter_mut()
            .filter(|(_, u)| {
                u.reserved
                    && u.asked
                        .is_none_or(|at| now.saturating_duration_since(at) >= ASK_INTERVAL)
            })
            .map(|(relay, u)| {
                u.asked = Some(now);
                *relay
            })
            .collect()
    }

    /// Where we reach the meeting point `relay`.
    pub(crate) fn address(&self, relay: &PeerId) -> Option<&Multiaddr> {
        self.used.get(relay).map(|u| &u.address)
    }

    /// Whether to dial `peer` through a meeting point now: its last hole punch did not
    /// fail within [`PUNCH_RETRY`].
    pub(crate) fn worth_a_punch(&mut self, peer: &PeerId, now: Instant) -> bool {
        match self.failed.get(peer) {
            Some(at) if now.saturating_duration_since(*at) < PUNCH_RETRY => false,
            Some(_) => {
                self.failed.remove(peer);
                true
            }
            None => true,
        }
    }

    /// A hole punch with `peer` gave a direct connection.
    pub(crate) fn punch_worked(&mut self, peer: &PeerId) {
        self.failed.remove(peer);
        self.punched += 1;
    }

    /// A hole punch with `peer` failed (remembered within [`MAX_PUNCH_FAILURES`]: past it,
    /// the oldest failure is forgotten).
    pub(crate) fn punch_failed(&mut self, peer: PeerId, now: Instant) {
        if self.failed.len() >= MAX_PUNCH_FAILURES
            && !self.failed.contains_key(&peer)
            && let Some(oldest) = self.failed.iter().min_by_key(|(_, t)| **t).map(|(p, _)| *p)
        {
            self.failed.remove(&oldest);
        }
        self.failed.insert(peer, now);
    }

    /// A member made (or renewed) a reservation with us.
    pub(crate) fn member_reserved(&mut self, member: PeerId) {
        if self.reserved_here.len() < RELAY_MAX_RESERVATIONS {
            self.reserved_here.insert(member);
        }
    }

    /// A member's reservation with us ended.
    pub(crate) fn member_left(&mut self, member: &PeerId) {
        self.reserved_here.remove(member);
    }

    /// The answer to `asker`: the other members reachable through us.
    pub(crate) fn answer_for(&self, asker: &PeerId) -> Vec<u8> {
        encode_members(self.reserved_here.iter().filter(|m| *m != asker))
    }
}

/// The answer on `/entraide/<tag>/relayed/1`: a CBOR array of peer ids, each a byte string
/// (its multihash bytes), at most [`RELAY_MAX_RESERVATIONS`].
pub(crate) fn encode_members<'a>(members: impl Iterator<Item = &'a PeerId>) -> Vec<u8> {
    let ids: Vec<serde_bytes::ByteBuf> = members
        .take(RELAY_MAX_RESERVATIONS)
        .map(|p| serde_bytes::ByteBuf::from(p.to_bytes()))
        .collect();
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = ciborium::into_writer(&ids, &mut out);
    out
}

/// Reads an answer: the valid peer ids in it, at most [`RELAY_MAX_RESERVATIONS`]; `None`
/// when it is not a CBOR array of byte strings.
pub(crate) fn decode_members(bytes: &[u8]) -> Option<Vec<PeerId>> {
    if bytes.len() > MAX_RELAYED_FRAME {
        return None;
    }
    let ids: Vec<serde_bytes::ByteBuf> = ciborium::from_reader(bytes).ok()?;
    Some(
        ids.iter()
            .take(RELAY_MAX_RESERVATIONS)
            .filter_map(|b| PeerId::from_bytes(b).ok())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(port: u16) -> Multiaddr {
        format!("/ip4/203.0.113.7/tcp/{port}").parse().unwrap()
    }

    #[test]
    fn the_answer_round_trips_and_bad_ones_are_refused() {
        let members: Vec<PeerId> = (0..3).map(|_| PeerId::random()).collect();
        let bytes = encode_members(members.iter());
        assert_eq!(decode_members(&bytes), Some(members));
        assert_eq!(decode_members(b"\xff\x00garbage"), None);
        // Byte strings that are not peer ids are left out, not an error.
        let mut odd = Vec::new();
        ciborium::into_writer(&vec![serde_bytes::ByteBuf::from(vec![1, 2, 3])], &mut odd).unwrap();
        assert_eq!(decode_members(&odd), Some(vec![]));
        // Past the limit: refused before it is parsed.
        assert_eq!(decode_members(&vec![0x80; MAX_RELAYED_FRAME + 1]), None);
    }

    #[test]
    fn the_answer_is_bounded_and_leaves_out_the_asker() {
        let mut relays = Relays::default();
        let members: Vec<PeerId> = (0..RELAY_MAX_RESERVATIONS + 10)
            .map(|_| PeerId::random())
            .collect();
        for m in &members {
            relays.member_reserved(*m);
        }
        let asker = *relays.reserved_here.iter().next().unwrap();
        let told = decode_members(&relays.answer_for(&asker)).unwrap();
        assert_eq!(told.len(), RELAY_MAX_RESERVATIONS - 1);
        assert!(!told.contains(&asker));
        assert!(relays.answer_for(&asker).len() <= MAX_RELAYED_FRAME);
        relays.member_left(&told[0]);
        assert_eq!(
            decode_members(&relays.answer_for(&asker)).unwrap().len(),
            RELAY_MAX_RESERVATIONS - 2
        );
    }

    #[test]
    fn meeting_points_are_asked_once_reserved_then_every_interval() {
        let start = Instant::now();
        let mut relays = Relays::default();
        let relay = PeerId::random();
        assert!(relays.found(relay, at(4747)));
        assert!(!relays.found(relay, at(4747)), "known already");
        assert!(relays.due_to_ask(start).is_empty(), "no reservation yet");
        relays.reserved(&relay);
        assert_eq!(relays.due_to_ask(start), vec![relay]);
        assert!(relays.due_to_ask(start + ASK_INTERVAL / 2).is_empty());
        assert_eq!(relays.due_to_ask(start + ASK_INTERVAL), vec![relay]);
        for _ in 0..MAX_RELAYS_USED {
            relays.found(PeerId::random(), at(1));
        }
        assert_eq!(relays.used.len(), MAX_RELAYS_USED, "bounded");
        relays.lost(&relay);
        assert!(!relays.used.contains_key(&relay));
    }

    #[test]
    fn a_failed_punch_waits_before_the_next() {
        let start = Instant::now();
        let mut relays = Relays::default();
        let peer = PeerId::random();
        assert!(relays.worth_a_punch(&peer, start));
        relays.punch_failed(peer, start);
        assert!(!relays.worth_a_punch(&peer, start + PUNCH_RETRY / 2));
        assert!(relays.worth_a_punch(&peer, start + PUNCH_RETRY));
        for i in 0..MAX_PUNCH_FAILURES + 5 {
            relays.punch_failed(PeerId::random(), start + Duration::from_millis(i as u64));
        }
        assert_eq!(relays.failed.len(), MAX_PUNCH_FAILURES, "bounded");
        relays.punch_worked(&peer);
        assert_eq!(relays.punched, 1);
    }
}

//! The neighbours a node knows: who is connected, where they were seen, who is banned,
//! whom mDNS found on the LAN. Plain data the actor drives; time is an input.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use entraide_crdt::{AuthorId, SessionStats};
use libp2p::{Multiaddr, PeerId};

use crate::network::{peer_of, with_peer, without_peer};
use crate::session_io::PeerSession;

/// How long a peer that sent invalid data stays banned.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Most banned peers remembered (the oldest ban is forgotten first).
pub const MAX_BANNED: usize = 1024;
/// Most peers (connected or remembered) kept in memory, and most LAN peers remembered.
pub const MAX_PEERS: usize = 1024;
/// Most listen addresses kept per peer.
pub const MAX_LISTEN_KEPT: usize = 8;
/// A neighbour synced within this many seconds counts as recently synced.
pub const RECENT_SYNC_SECS: i64 = 600;

/// How far our clock may be from most neighbours' before the page says it looks wrong.
pub const CLOCK_SKEW_WARN_SECS: i64 = 10 * 60;

/// Our clock against most neighbours' (`Status::clock_skew`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClockSkew {
    /// How far our clock is ahead of theirs (the median), in seconds; negative: behind.
    pub ahead_secs: i64,
    /// How many connected neighbours told their clock.
    pub neighbours: usize,
}

/// What the node knows of one neighbour.
#[derive(Default)]
pub(crate) struct Peer {
    /// Their resident (from identify).
    pub(crate) author: Option<AuthorId>,
    /// Addresses they were seen at.
    pub(crate) addresses: BTreeSet<Multiaddr>,
    /// Addresses they said they listen on (identify), at most [`MAX_LISTEN_KEPT`].
    pub(crate) listen: Vec<Multiaddr>,
    /// Open connections.
    pub(crate) connections: usize,
    /// Of those, the relayed ones (through a meeting point, for a hole punch).
    pub(crate) relayed: Vec<libp2p::swarm::ConnectionId>,
    /// The address of the last direct connection we dialled to them.
    pub(crate) dialled: Option<Multiaddr>,
    /// The sync session with them, if one is open.
    pub(crate) session: Option<PeerSession>,
    /// A sync stream is being opened.
    pub(crate) opening: bool,
    /// Last time a round with them completed or brought changes (Unix seconds).
    pub(crate) last_sync: Option<i64>,
    /// Last ping round trip.
    pub(crate) rtt: Option<Duration>,
    /// Session traffic of finished sessions (the open one is added when asked).
    pub(crate) traffic: SessionStats,
    /// Their clock minus ours, in seconds, when they last told it (`SessionEvent::PeerClock`).
    pub(crate) clock_offset: Option<i64>,
}

impl Peer {
    /// Whether a connection to them is open.
    pub(crate) fn is_connected(&self) -> bool {
        self.connections > 0
    }

    /// Whether a direct connection (not through a meeting point) to them is open.
    pub(crate) fn is_directly_connected(&self) -> bool {
        self.connections > self.relayed.len()
    }
}

/// Peers that sent invalid data, each until its ban ends.
#[derive(Debug, Default)]
pub(crate) struct BanList {
    until: HashMap<PeerId, Instant>,
}

impl BanList {
    /// Bans `peer` for [`BAN_DURATION`] from `now`; past [`MAX_BANNED`] bans, the one
    /// that ends first is forgotten.
    pub(crate) fn ban(&mut self, peer: PeerId, now: Instant) {
        if self.until.len() >= MAX_BANNED && !self.until.contains_key(&peer) {
            self.until.retain(|_, until| *until > now);
            if self.until.len() >= MAX_BANNED
                && let Some(first) = self.until.iter().min_by_key(|(_, t)| **t).map(|(p, _)| *p)
            {
                self.until.remove(&first);
            }
        }
        self.until.insert(peer, now + BAN_DURATION);
    }

    /// Whether `peer` is banned at `now` (an ended ban is forgotten).
    pub(crate) fn is_banned(&mut self, peer: &PeerId, now: Instant) -> bool {
        match self.until.get(peer) {
            Some(until) if *until > now => true,
            Some(_) => {
                self.until.remove(peer);
                false
            }
            None => false,
        }
    }

    /// [`BanList::is_banned`] without forgetting anything.
    pub(crate) fn still_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.until.get(peer).is_some_and(|until| *until > now)
    }

    /// How many bans are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.until.len()
    }
}

/// Every neighbour the node knows, bounded.
#[derive(Default)]
pub(crate) struct Peers {
    known: HashMap<PeerId, Peer>,
    /// Peers that sent invalid data.
    pub(crate) banned: BanList,
    /// Neighbours mDNS found on the LAN (until it says they expired), redialled each round
    /// while not connected: a first dial can fail (a handshake cut short, a peer starting).
    lan: HashMap<PeerId, Multiaddr>,
}

impl Peers {
    /// One neighbour.
    pub(crate) fn get(&self, peer: &PeerId) -> Option<&Peer> {
        self.known.get(peer)
    }

    /// One neighbour, to change.
    pub(crate) fn get_mut(&mut self, peer: &PeerId) -> Option<&mut Peer> {
        self.known.get_mut(peer)
    }

    /// Every neighbour.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&PeerId, &Peer)> {
        self.known.iter()
    }

    /// Whether a connection to `peer` is open.
    pub(crate) fn is_connected(&self, peer: &PeerId) -> bool {
        self.known.get(peer).is_some_and(Peer::is_connected)
    }

    /// A connection to `peer` at `address` opened. Past [`MAX_PEERS`], the idle peer synced
    /// longest ago is forgotten to make room.
    pub(crate) fn connected(&mut self, peer: PeerId, address: Multiaddr) -> &mut Peer {
        if !self.known.contains_key(&peer) && self.known.len() >= MAX_PEERS {
            self.forget_an_idle_peer();
        }
        let state = self.known.entry(peer).or_default();
        state.connections += 1;
        state.addresses.insert(address);
        state
    }

    /// A connection to `peer` closed; `remaining` are still open.
    pub(crate) fn disconnected(&mut self, peer: &PeerId, remaining: usize) {
        if let Some(state) = self.known.get_mut(peer) {
            state.connections = remaining;
            if remaining == 0 {
                state.rtt = None;
                state.relayed.clear();
            }
        }
    }

    fn forget_an_idle_peer(&mut self) {
        if let Some(idle) = self
            .known
            .iter()
            .filter(|(_, p)| !p.is_connected())
            .min_by_key(|(_, p)| p.last_sync)
            .map(|(id, _)| *id)
        {
            self.known.remove(&idle);
        }
    }

    /// The neighbour's state, made if new (a session opened before the connection event).
    pub(crate) fn entry(&mut self, peer: PeerId) -> &mut Peer {
        self.known.entry(peer).or_default()
    }

    /// How many neighbours are connected now.
    /// Forgets every connection and session (the network was dropped, to start again on a
    /// new secret): what is known of each peer, their addresses, stays.
    pub(crate) fn forget_connections(&mut self) {
        for peer in self.known.values_mut() {
            peer.connections = 0;
            peer.relayed.clear();
            peer.session = None;
            peer.opening = false;
        }
    }

    pub(crate) fn connected_count(&self) -> usize {
        self.known.values().filter(|p| p.is_connected()).count()
    }

    /// The latest sync with anyone.
    pub(crate) fn last_sync(&self) -> Option<i64> {
        self.known.values().filter_map(|p| p.last_sync).max()
    }

    /// Whether our clock looks wrong: most connected neighbours that told their clock
    /// disagree with ours by more than [`CLOCK_SKEW_WARN_SECS`], the same way. Then how
    /// far ours is ahead of theirs (the median of their offsets, negated: negative when
    /// ours is behind), and how many told.
    pub(crate) fn clock_skew(&self) -> Option<ClockSkew> {
        let mut offsets: Vec<i64> = self
            .known
            .values()
            .filter(|p| p.is_connected())
            .filter_map(|p| p.clock_offset)
            .collect();
        if offsets.is_empty() {
            return None;
        }
        offsets.sort_unstable();
        let behind_them = offsets
            .iter()
            .filter(|o| **o > CLOCK_SKEW_WARN_SECS)
            .count();
        let ahead_of_them = offsets
            .iter()
            .filter(|o| **o < -CLOCK_SKEW_WARN_SECS)
            .count();
        let most = offsets.len() / 2 + 1;
        if behind_them < most && ahead_of_them < most {
            return None;
        }
        Some(ClockSkew {
            ahead_secs: -offsets[offsets.len() / 2],
            neighbours: offsets.len(),
        })
    }

    /// How many neighbours synced within [`RECENT_SYNC_SECS`] of `now`.
    pub(crate) fn recently_synced(&self, now: i64) -> usize {
        self.known
            .values()
            .filter(|p| p.last_sync.is_some_and(|t| now - t < RECENT_SYNC_SECS))
            .count()
    }

    /// Addresses (without peer ids) of the neighbours connected now.
    pub(crate) fn connected_addresses(&self) -> HashSet<Multiaddr> {
        self.known
            .values()
            .filter(|p| p.is_connected())
            .flat_map(|p| p.addresses.iter().cloned())
            .collect()
    }

    /// Whether dialling `address` is pointless now: it names a peer that is connected or
    /// banned.
    pub(crate) fn needless_dial(&self, address: &Multiaddr, now: Instant) -> bool {
        peer_of(address)
            .is_some_and(|peer| self.is_connected(&peer) || self.banned.still_banned(&peer, now))
    }

    /// mDNS found `peer` at `address` (remembered while there is room).
    pub(crate) fn found_on_lan(&mut self, peer: PeerId, address: Multiaddr) {
        if self.lan.len() < MAX_PEERS || self.lan.contains_key(&peer) {
            self.lan.insert(peer, address);
        }
    }

    /// mDNS says `peer` left.
    pub(crate) fn gone_from_lan(&mut self, peer: &PeerId) {
        self.lan.remove(peer);
    }

    /// The LAN neighbours to dial again: not connected, not banned.
    pub(crate) fn lan_to_redial(&self, now: Instant) -> Vec<Multiaddr> {
        self.lan
            .iter()
            .filter(|(peer, _)| !self.is_connected(peer) && !self.banned.still_banned(peer, now))
            .map(|(peer, addr)| with_peer(addr.clone(), *peer))
            .collect()
    }

    /// Of `addresses` (given by hand), those to dial again: no connected neighbour was
    /// seen there.
    pub(crate) fn manual_to_redial(&self, addresses: Vec<Multiaddr>) -> Vec<Multiaddr> {
        let connected = self.connected_addresses();
        addresses
            .into_iter()
            .filter(|a| !connected.contains(&without_peer(a)))
            .collect()
    }

    /// How many open sessions were opened by the other side.
    pub(crate) fn inbound_sessions(&self) -> usize {
        self.known
            .values()
            .filter(|p| p.session.as_ref().is_some_and(|s| s.inbound))
            .count()
    }

    /// Neighbours connected without a session, and those with one.
    pub(crate) fn with_session(&self, open: bool) -> Vec<PeerId> {
        self.known
            .iter()
            .filter(|(_, p)| p.session.is_some() == open && (open || p.is_connected()))
            .map(|(id, _)| *id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_looks_wrong_only_when_most_connected_neighbours_say_so_the_same_way() {
        let mut peers = Peers::default();
        let mut add = |offset: Option<i64>, connected: bool| {
            let p = peers.entry(PeerId::random());
            p.connections = usize::from(connected);
            p.clock_offset = offset;
        };
        add(Some(-86_400), true);
        add(Some(-86_300), true);
        add(Some(30), true);
        add(Some(999_999), false);
        add(None, true);
        let mut peers_now = peers;
        assert_eq!(
            peers_now.clock_skew(),
            Some(ClockSkew {
                ahead_secs: 86_300,
                neighbours: 3
            }),
            "two of three connected say we are a day ahead"
        );
        peers_now.entry(PeerId::random()).connections = 1;
        let p = peers_now.entry(PeerId::random());
        p.connections = 1;
        p.clock_offset = Some(86_400);
        assert_eq!(peers_now.clock_skew(), None, "two of four: not most");
        assert_eq!(Peers::default().clock_skew(), None);
    }

    #[test]
    fn a_ban_lasts_its_duration_then_is_forgotten() {
        let mut bans = BanList::default();
        let peer = PeerId::random();
        let t = Instant::now();
        assert!(!bans.is_banned(&peer, t));
        bans.ban(peer, t);
        assert!(bans.is_banned(&peer, t + BAN_DURATION - Duration::from_secs(1)));
        assert!(bans.still_banned(&peer, t + Duration::from_secs(1)));
        assert!(!bans.still_banned(&peer, t + BAN_DURATION));
        assert!(!bans.is_banned(&peer, t + BAN_DURATION));
        assert_eq!(bans.len(), 0, "an ended ban is forgotten");
        // Banned again: a new full duration.
        bans.ban(peer, t + BAN_DURATION);
        assert!(bans.is_banned(&peer, t + BAN_DURATION + Duration::from_secs(599)));
    }

    #[test]
    fn the_ban_list_is_bounded_and_forgets_the_ban_that_ends_first() {
        let mut bans = BanList::default();
        let t = Instant::now();
        let first = PeerId::random();
        bans.ban(first, t);
        for i in 1..MAX_BANNED as u64 {
            bans.ban(PeerId::random(), t + Duration::from_millis(i));
        }
        assert_eq!(bans.len(), MAX_BANNED);
        let newest = PeerId::random();
        bans.ban(newest, t + Duration::from_secs(5));
        assert_eq!(bans.len(), MAX_BANNED);
        assert!(!bans.still_banned(&first, t + Duration::from_secs(5)));
        assert!(bans.still_banned(&newest, t + Duration::from_secs(5)));
    }

    #[test]
    fn peers_are_bounded_and_an_idle_one_makes_room() {
        let mut peers = Peers::default();
        let addr: Multiaddr = "/ip4/10.0.0.1/tcp/1".parse().unwrap();
        let idle = PeerId::random();
        peers.connected(idle, addr.clone());
        peers.disconnected(&idle, 0);
        for _ in 1..MAX_PEERS {
            peers.connected(PeerId::random(), addr.clone());
        }
        let late = PeerId::random();
        peers.connected(late, addr.clone());
        assert!(peers.get(&idle).is_none(), "the idle peer was forgotten");
        assert!(peers.is_connected(&late));
        assert_eq!(peers.connected_count(), MAX_PEERS);
    }

    #[test]
    fn only_unconnected_unbanned_neighbours_are_redialled() {
        let mut peers = Peers::default();
        let now = Instant::now();
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        let at = |i: u8| -> Multiaddr { format!("/ip4/10.0.0.{i}/tcp/4747").parse().unwrap() };
        peers.found_on_lan(a, at(1));
        peers.found_on_lan(b, at(2));
        peers.found_on_lan(c, at(3));
        peers.connected(a, at(1));
        peers.banned.ban(b, now);
        assert_eq!(peers.lan_to_redial(now), vec![with_peer(at(3), c)]);
        peers.gone_from_lan(&c);
        assert!(peers.lan_to_redial(now).is_empty());
        // By hand: an address where a connected neighbour was seen is not redialled.
        let manual = vec![with_peer(at(1), a), at(9)];
        assert_eq!(peers.manual_to_redial(manual), vec![at(9)]);
        assert!(peers.needless_dial(&with_peer(at(2), b), now));
        assert!(peers.needless_dial(&with_peer(at(1), a), now));
        assert!(!peers.needless_dial(&at(7), now));
    }

    #[test]
    fn recent_syncs_are_counted_against_now() {
        let mut peers = Peers::default();
        let addr: Multiaddr = "/ip4/10.0.0.1/tcp/1".parse().unwrap();
        let (a, b) = (PeerId::random(), PeerId::random());
        peers.connected(a, addr.clone()).last_sync = Some(1_000);
        peers.connected(b, addr).last_sync = Some(1_000 - RECENT_SYNC_SECS);
        assert_eq!(peers.recently_synced(1_000), 1);
        assert_eq!(peers.last_sync(), Some(1_000));
    }
}

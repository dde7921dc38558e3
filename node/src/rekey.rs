//! The re-key as the node runs it (`entraide_crdt::rekey` has the notices): which notice
//! to adopt, the listen addresses kept across the move, and the old door.
//!
//! After an exclusion the steward's node writes the new community secret, sealed to each
//! remaining member. A node that opens such a notice of a newer generation, written by a
//! current steward, writes the new secret to `community.key` (keeping the old one, and
//! until when it is handed over), drops its network and starts it again with the new
//! secret, on the same ports, so that the addresses neighbours remember still reach it.
//! From then on a node on the old secret (the excluded member's, or a member's who was
//! away) fails the handshake with it.
//!
//! **The old door.** For [`OLD_DOOR_SECS`] after moving, the node also keeps a second,
//! dial-only network on the old secret. Every resync round it dials, through it, the
//! neighbours it knew that are not connected now (the addresses they listened on, and the
//! addresses given by hand), and hands each of them the notices of the new generation on
//! `/entraide/<old tag>/rekey/1`, and nothing else: no sync, no gossip. A member who was
//! away opens their notice, moves, and meets everyone again; the excluded member opens
//! nothing. After the old door closes, a member still on the old secret needs a new invite
//! code.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entraide_crdt::rekey::{MAX_NOTICE_BYTES, RekeyNotice};
use entraide_crdt::{AuthorKey, Board};
use futures::StreamExt as _;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm};

use crate::community::Community;
use crate::net::{self, Behaviour, BehaviourEvent, NetConfig, NetError};

/// How long a node that moved to a new secret hands it over to members still on the old
/// one: a week, long enough for a neighbour away on holiday, short enough that the old
/// secret soon opens nothing at all.
pub const OLD_DOOR_SECS: i64 = 7 * 24 * 3600;
/// How often the old door dials one address again at most (it tries at every resync
/// round, `--resync`, 30 s by default).
pub const OLD_DOOR_REDIAL: Duration = Duration::from_secs(10);
/// Most notices handed over at once (a re-key of 4,096 members is 256 notices).
pub const MAX_HANDOVER_NOTICES: usize = 256;
/// How long a handover may take to arrive.
pub const HANDOVER_PATIENCE: Duration = Duration::from_secs(20);

/// The handover protocol, named by the old secret's community tag.
pub fn rekey_protocol(tag: &str) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/entraide/{tag}/rekey/1"))
        .expect("a community tag is hex")
}

/// Of `notices` (current stewards', newest generation first), the new secret one of
/// `keys` opens, with its generation, if it is newer than `current`.
pub fn newer_secret<'a>(
    notices: impl IntoIterator<Item = &'a RekeyNotice>,
    keys: &[&AuthorKey],
    current: u32,
) -> Option<([u8; 32], u32)> {
    notices
        .into_iter()
        .filter(|n| n.generation > current)
        .find_map(|n| {
            keys.iter()
                .find_map(|k| n.open(k))
                .map(|s| (s, n.generation))
        })
}

/// The notices a handover gives: the newest generation's, of current stewards.
pub fn handover_notices(board: &Board) -> Vec<Vec<u8>> {
    let notices = board.rekey_notices();
    let newest = notices.first().map(|n| n.generation);
    notices
        .into_iter()
        .filter(|n| Some(n.generation) == newest)
        .take(MAX_HANDOVER_NOTICES)
        .map(RekeyNotice::encode)
        .collect()
}

/// What to listen on after moving: `configured` (or every interface, as at start), each
/// port 0 replaced by the port the node listened on for that family, so that neighbours'
/// remembered addresses still reach it.
pub fn same_ports(configured: &[Multiaddr], listened: &[Multiaddr]) -> Vec<Multiaddr> {
    let port_of = |v4: bool| {
        listened.iter().find_map(|a| {
            let mut it = a.iter();
            let family = matches!(it.next(), Some(Protocol::Ip4(_)));
            match it.next() {
                Some(Protocol::Tcp(port)) if family == v4 => Some(port),
                _ => None,
            }
        })
    };
    let wanted: Vec<Multiaddr> = if configured.is_empty() {
        vec![
            "/ip4/0.0.0.0/tcp/0".parse().expect("valid"),
            "/ip6/::/tcp/0".parse().expect("valid"),
        ]
    } else {
        configured.to_vec()
    };
    wanted
        .into_iter()
        .map(|a| {
            let v4 = matches!(a.iter().next(), Some(Protocol::Ip4(_)));
            a.iter()
                .map(|p| match (p, port_of(v4)) {
                    (Protocol::Tcp(0), Some(port)) => Protocol::Tcp(port),
                    (p, _) => p,
                })
                .collect()
        })
        .collect()
}

/// The dial-only network on the old secret, while it hands the new one over.
pub(crate) struct OldDoor {
    swarm: Swarm<Behaviour>,
    control: libp2p_stream::Control,
    protocol: StreamProtocol,
    /// Until when it stays open (Unix seconds).
    pub(crate) until: i64,
    /// The notices handed over, encoded.
    notices: Arc<Vec<Vec<u8>>>,
    /// Peers handed them already, or being handed them (a failed handover takes its peer
    /// out again, so that the next round tries once more).
    given: Arc<Mutex<HashSet<PeerId>>>,
    /// When each address was last dialled.
    dialled: HashMap<Multiaddr, Instant>,
}

impl OldDoor {
    /// Starts the old door of `old` for the node with `keypair`, handing over `notices`.
    pub(crate) fn start(
        keypair: libp2p::identity::Keypair,
        old: &Community,
        until: i64,
        notices: Vec<Vec<u8>>,
    ) -> Result<Self, NetError> {
        let tag = old.tag();
        let config = NetConfig {
            mdns: false,
            relay_server: false,
            ..NetConfig::new(old.psk(), tag.clone())
        };
        let swarm = net::build_swarm(keypair, &config)?;
        let control = swarm.behaviour().stream.new_control();
        Ok(Self {
            swarm,
            control,
            protocol: rekey_protocol(&tag),
            until,
            notices: Arc::new(notices),
            given: Arc::default(),
            dialled: HashMap::new(),
        })
    }

    /// Dials `address` through the old door, at most once every [`OLD_DOOR_REDIAL`] each;
    /// never a peer handed the notices already.
    pub(crate) fn dial(&mut self, address: Multiaddr, now: Instant) {
        if crate::network::peer_of(&address).is_some_and(|p| self.given().contains(&p)) {
            return;
        }
        if self
            .dialled
            .get(&address)
            .is_some_and(|at| now.duration_since(*at) < OLD_DOOR_REDIAL)
        {
            return;
        }
        if self.dialled.len() > 4096 {
            self.dialled.clear();
        }
        self.dialled.insert(address.clone(), now);
        let _ = self.swarm.dial(address);
    }

    /// The next event of the old door; never resolves without one.
    pub(crate) async fn next_event(door: &mut Option<OldDoor>) -> SwarmEvent<BehaviourEvent> {
        match door {
            Some(d) => d.swarm.select_next_some().await,
            None => std::future::pending().await,
        }
    }

    /// A connection through the old door is up: the task that hands `peer` the notices,
    /// unless it had them.
    pub(crate) fn handover(&mut self, peer: PeerId) -> Option<impl Future<Output = ()> + use<>> {
        if !self.given().insert(peer) {
            return None;
        }
        let mut control = self.control.clone();
        let protocol = self.protocol.clone();
        let notices = Arc::clone(&self.notices);
        let given = Arc::clone(&self.given);
        Some(async move {
            let handed = async {
                let mut stream = control.open_stream(peer, protocol).await.ok()?;
                for notice in notices.iter() {
                    crate::frame::write_frame(&mut stream, notice).await.ok()?;
                }
                futures::AsyncWriteExt::close(&mut stream).await.ok()
            };
            if handed.await.is_none() {
                given
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&peer);
            }
        })
    }

    /// Forgets that `peer` was handed the notices (its dial failed: try again later).
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        self.given().remove(peer);
    }

    fn given(&self) -> std::sync::MutexGuard<'_, HashSet<PeerId>> {
        self.given.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads a handover: at most [`MAX_HANDOVER_NOTICES`] frames of at most
/// [`MAX_NOTICE_BYTES`] each, within [`HANDOVER_PATIENCE`], each decoded and its signature
/// checked. What cannot be read is left out.
pub(crate) async fn read_handover(mut stream: libp2p::Stream) -> Vec<RekeyNotice> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + HANDOVER_PATIENCE;
    while out.len() < MAX_HANDOVER_NOTICES {
        let read = crate::frame::read_frame_within(&mut stream, MAX_NOTICE_BYTES, None);
        match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(Some(bytes))) => {
                if let Some(n) = RekeyNotice::decode(&bytes) {
                    out.push(n);
                }
            }
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ports_stay_across_the_move() {
        let listened: Vec<Multiaddr> = vec![
            "/ip4/127.0.0.1/tcp/4242".parse().unwrap(),
            "/ip6/::1/tcp/4343".parse().unwrap(),
        ];
        let moved = same_ports(&["/ip4/127.0.0.1/tcp/0".parse().unwrap()], &listened);
        assert_eq!(
            moved,
            ["/ip4/127.0.0.1/tcp/4242".parse::<Multiaddr>().unwrap()]
        );
        let moved = same_ports(&[], &listened);
        assert_eq!(
            moved[0],
            "/ip4/0.0.0.0/tcp/4242".parse::<Multiaddr>().unwrap()
        );
        assert_eq!(moved[1], "/ip6/::/tcp/4343".parse::<Multiaddr>().unwrap());
        let fixed: Multiaddr = "/ip4/0.0.0.0/tcp/5000".parse().unwrap();
        assert_eq!(same_ports(std::slice::from_ref(&fixed), &listened), [fixed]);
    }

    #[test]
    fn only_a_newer_generation_that_opens_is_adopted() {
        let steward = AuthorKey::from_seed([1; 32]);
        let member = AuthorKey::from_seed([2; 32]);
        let other = AuthorKey::from_seed([3; 32]);
        let make = |generation, secret: [u8; 32]| {
            RekeyNotice::make(&steward, &[member.id()], &secret, generation, 0, || {
                ([generation as u8; 8], [9; 32])
            })
            .unwrap()
            .remove(0)
        };
        let notices = [make(2, [2; 32]), make(1, [1; 32])];
        assert_eq!(newer_secret(&notices, &[&member], 0), Some(([2; 32], 2)));
        assert_eq!(newer_secret(&notices, &[&member], 2), None);
        assert_eq!(newer_secret(&notices, &[&other], 0), None);
        assert_eq!(
            newer_secret(&notices, &[&other, &member], 1),
            Some(([2; 32], 2))
        );
    }
}

//! One resident, several devices: pairing codes, the pairing exchange, and joining as a
//! new device of a resident.
//!
//! `entraide device link` on the first device makes a one-time [`PairingCode`]: the
//! community, where the first device listens (with its peer id, so that Noise proves who
//! answers) and 16 random bytes. `entraide join-device CODE` on the second device makes a
//! network key and an installation id of its own, connects to the first device and asks
//! on the pairing protocol (`/entraide/<tag>/pair/1`) with those 16 bytes; the first device
//! checks them (once, within [`PAIRING_VALIDITY`]), lists the new device in the
//! resident's feed, and answers with the resident's key. Everything travels inside the
//! community's private network and a Noise channel to the peer id in the code.
//!
//! Frames (`crate::frame`, one each way):
//!
//! ```text
//! request   token (16) || installation (4) || name length (1) || name (UTF-8, ≤ 64 bytes)
//! answer    0x00 || author seed (32)                    the pairing is done
//!           0x01 || reason (UTF-8, ≤ 120 bytes)         refused, and why
//! ```

use std::time::Duration;

use entraide_crdt::{AuthorKey, Installation};
use futures::{AsyncWriteExt as _, StreamExt as _};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, StreamProtocol};

use crate::community::{CodeError, Invite, open_code, seal_code};
use crate::data_dir::{DataDir, DataDirError, Profile};
use crate::frame::{read_frame_within, write_frame};
use crate::net::{self, NetConfig};

/// Text prefix of a pairing code.
pub const PAIRING_PREFIX: &str = "ENTRAIDE-DEVICE-";
/// A pairing code for a community without a founder.
const PAIRING_VERSION_UNFOUNDED: u8 = 1;
/// A pairing code for a community that names its founder.
const PAIRING_VERSION: u8 = 2;
/// How long a pairing code works.
pub const PAIRING_VALIDITY: Duration = Duration::from_secs(10 * 60);
/// Most pairing codes waiting at once on one node (a new one cancels the oldest).
pub const MAX_PAIRINGS: usize = 4;
/// Largest pairing frame either way.
pub const MAX_PAIRING_FRAME: usize = 160;
/// How long each side waits for the other's frame.
pub const PAIRING_PATIENCE: Duration = Duration::from_secs(20);
/// How long `join-device` tries to reach the first device.
pub const JOIN_PATIENCE: Duration = Duration::from_secs(60);
const MAX_DEVICE_NAME_BYTES: usize = 64;

/// The pairing protocol of a community.
pub fn pairing_protocol(community_tag: &str) -> StreamProtocol {
    StreamProtocol::try_from_owned(format!("/entraide/{community_tag}/pair/1"))
        .unwrap_or(StreamProtocol::new("/entraide/pair/1"))
}

/// What a pairing code carries.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode {
    /// The community, and where the first device listens (each with its `/p2p/` peer id).
    pub invite: Invite,
    /// The first device's peer id.
    pub peer: PeerId,
    /// The one-time secret.
    pub token: [u8; 16],
}

impl std::fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairingCode")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// Why a pairing code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairingCodeError {
    /// Not a pairing code.
    #[error(
        "this is not a device pairing code: it should start with ENTRAIDE-DEVICE- (run `entraide device link` on your first device)"
    )]
    NotAPairingCode,
    /// Mistyped or cut.
    #[error("this pairing code is damaged (mistyped or incomplete): copy it again")]
    Damaged,
    /// Made by a newer entraide.
    #[error(
        "this pairing code was made by a newer version of entraide (format {0}): update entraide"
    )]
    UnsupportedVersion(u8),
}

impl PairingCode {
    /// `ENTRAIDE-DEVICE-` then base32 (RFC 4648, no padding) of
    /// `version (1) || token (16) || peer id length (1) || peer id || invite bytes ||
    /// checksum (4)`, the invite bytes as in an invite code without its version and
    /// checksum (version 2 with the founder, 1 without, as invite codes), and the checksum the first 4 bytes of SHA-256 of everything before it.
    pub fn encode(&self) -> String {
        let version = match self.invite.community.founder() {
            Some(_) => PAIRING_VERSION,
            None => PAIRING_VERSION_UNFOUNDED,
        };
        let mut bytes = vec![version];
        bytes.extend_from_slice(&self.token);
        let peer = self.peer.to_bytes();
        bytes.push(peer.len() as u8);
        bytes.extend_from_slice(&peer);
        self.invite.write_body(&mut bytes);
        seal_code(PAIRING_PREFIX, bytes)
    }

    /// Reads a code, forgiving spaces, line breaks and lower case.
    pub fn decode(code: &str) -> Result<Self, PairingCodeError> {
        let damaged = PairingCodeError::Damaged;
        let payload = match open_code(PAIRING_PREFIX, code, 1 + 16 + 1 + 32 + 1) {
            Err(CodeError::NoPrefix) => return Err(PairingCodeError::NotAPairingCode),
            Err(CodeError::Damaged) => return Err(damaged),
            Ok(payload) => payload,
        };
        let founded = match payload[0] {
            PAIRING_VERSION => true,
            PAIRING_VERSION_UNFOUNDED => false,
            other => return Err(PairingCodeError::UnsupportedVersion(other)),
        };
        let mut token = [0u8; 16];
        token.copy_from_slice(&payload[1..17]);
        let peer_len = payload[17] as usize;
        let rest = &payload[18..];
        if rest.len() < peer_len {
            return Err(damaged);
        }
        let peer = PeerId::from_bytes(&rest[..peer_len]).map_err(|_| damaged.clone())?;
        let invite = Invite::read_body(&rest[peer_len..], founded).ok_or(damaged)?;
        Ok(Self {
            invite,
            peer,
            token,
        })
    }
}

/// A pairing request as it travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PairRequest {
    pub(crate) token: [u8; 16],
    pub(crate) installation: Installation,
    pub(crate) name: String,
}

impl PairRequest {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut name = self.name.as_bytes();
        if name.len() > MAX_DEVICE_NAME_BYTES {
            let mut end = MAX_DEVICE_NAME_BYTES;
            while !self.name.is_char_boundary(end) {
                end -= 1;
            }
            name = &name[..end];
        }
        let mut out = Vec::with_capacity(21 + name.len());
        out.extend_from_slice(&self.token);
        out.extend_from_slice(&self.installation.0);
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < 21 {
            return None;
        }
        let mut token = [0u8; 16];
        token.copy_from_slice(&bytes[..16]);
        let mut installation = [0u8; 4];
        installation.copy_from_slice(&bytes[16..20]);
        let len = bytes[20] as usize;
        if len > MAX_DEVICE_NAME_BYTES || bytes.len() != 21 + len {
            return None;
        }
        let name = std::str::from_utf8(&bytes[21..]).ok()?.to_owned();
        Some(Self {
            token,
            installation: Installation(installation),
            name,
        })
    }
}

/// The first device's answer.
pub(crate) fn encode_answer(answer: &Result<[u8; 32], String>) -> Vec<u8> {
    match answer {
        Ok(seed) => {
            let mut out = vec![0u8];
            out.extend_from_slice(seed);
            out
        }
        Err(reason) => {
            let mut out = vec![1u8];
            let mut end = reason.len().min(120);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            out.extend_from_slice(&reason.as_bytes()[..end]);
            out
        }
    }
}

fn decode_answer(bytes: &[u8]) -> Option<Result<[u8; 32], String>> {
    match bytes.split_first()? {
        (0, seed) if seed.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(seed);
            Some(Ok(out))
        }
        (1, reason) => Some(Err(String::from_utf8_lossy(reason).into_owned())),
        _ => None,
    }
}

/// Compares two tokens in time that does not depend on where they differ.
pub(crate) fn same_token(a: &[u8; 16], b: &[u8; 16]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A pairing code waiting to be used (kept in the running node only).
#[derive(Clone)]
pub(crate) struct Offer {
    pub(crate) token: [u8; 16],
    pub(crate) expires: tokio::time::Instant,
}

/// What this computer is called (its host name), to name it in the device list.
pub fn host_name() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && entraide_crdt::check_name(h).is_ok())
}

/// Why joining as a new device failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoinDeviceError {
    /// The code.
    #[error(transparent)]
    Code(#[from] PairingCodeError),
    /// The folder.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The network could not be started.
    #[error("cannot start the network: {0}")]
    Net(#[from] net::NetError),
    /// Nobody answered.
    #[error(
        "could not reach your first device within {} s (tried {addresses}): is `entraide up` running there, on this network?",
        JOIN_PATIENCE.as_secs()
    )]
    Unreachable {
        /// The addresses tried.
        addresses: String,
    },
    /// The first device said no.
    #[error("your first device refused: {0}")]
    Refused(String),
    /// The exchange broke off.
    #[error("the pairing broke off ({0}): run `entraide device link` again on your first device")]
    BrokeOff(String),
}

/// Makes the folder `data_dir` a new device of the resident whose first device made
/// `code`: reaches it, proves the code, receives the resident's key, and writes the
/// folder (`DataDir::init_device`). The folder must not hold an identity. `name` is what
/// the resident will see this device called.
pub async fn join_device(
    data_dir: &DataDir,
    code: &PairingCode,
    name: &str,
) -> Result<Profile, JoinDeviceError> {
    if data_dir.is_initialized() {
        return Err(DataDirError::AlreadyInitialized(data_dir.root().to_owned()).into());
    }
    let community = &code.invite.community;
    let node_seed: [u8; 32] = rand::random();
    let installation = Installation(rand::random());
    let keypair =
        libp2p::identity::Keypair::ed25519_from_bytes(node_seed).map_err(net::NetError::from)?;
    let tag = community.tag();
    let config = NetConfig::new(community.psk(), tag.clone());
    let mut swarm = net::build_swarm(keypair, &config)?;
    let mut control = swarm.behaviour().stream.new_control();
    let tried = code
        .invite
        .addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let unreachable = || JoinDeviceError::Unreachable {
        addresses: if tried.is_empty() {
            "the local network".into()
        } else {
            tried.clone()
        },
    };
    for address in &code.invite.addresses {
        let address = if address.iter().any(|p| matches!(p, Protocol::P2p(_))) {
            address.clone()
        } else {
            address.clone().with(Protocol::P2p(code.peer))
        };
        let _ = swarm.dial(address);
    }
    // Wait for the first device: dialled, or found on the LAN.
    let connected = tokio::time::timeout(JOIN_PATIENCE, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == code.peer => {
                    return;
                }
                SwarmEvent::Behaviour(net::BehaviourEvent::Mdns(
                    libp2p::mdns::Event::Discovered(found),
                )) => {
                    for (peer, address) in found {
                        if peer == code.peer {
                            let _ = swarm.dial(address.with(Protocol::P2p(peer)));
                        }
                    }
                }
                _ => {}
            }
        }
    })
    .await;
    if connected.is_err() {
        return Err(unreachable());
    }
    // Keep the connection going while the exchange runs.
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = swarm.select_next_some() => {}
            }
        }
    });
    let exchange = async {
        let mut stream = control
            .open_stream(code.peer, pairing_protocol(&tag))
            .await
            .map_err(|e| JoinDeviceError::BrokeOff(e.to_string()))?;
        let request = PairRequest {
            token: code.token,
            installation,
            name: name.to_owned(),
        };
        write_frame(&mut stream, &request.encode())
            .await
            .map_err(|e| JoinDeviceError::BrokeOff(e.to_string()))?;
        let answer = read_frame_within(&mut stream, MAX_PAIRING_FRAME, Some(PAIRING_PATIENCE))
            .await
            .map_err(|e| JoinDeviceError::BrokeOff(e.to_string()))?
            .ok_or_else(|| JoinDeviceError::BrokeOff("no answer".into()))?;
        let _ = stream.close().await;
        match decode_answer(&answer) {
            Some(Ok(seed)) => Ok(seed),
            Some(Err(reason)) => Err(JoinDeviceError::Refused(reason)),
            None => Err(JoinDeviceError::BrokeOff(
                "an answer that makes no sense".into(),
            )),
        }
    };
    let result = tokio::time::timeout(PAIRING_PATIENCE * 2, exchange).await;
    let _ = stop.send(());
    let _ = driver.await;
    let seed = result.map_err(|_| JoinDeviceError::BrokeOff("no answer in time".into()))??;
    let profile = data_dir.init_device(seed, community, node_seed, installation)?;
    debug_assert_eq!(profile.key.id(), AuthorKey::from_seed(seed).id());
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::community::Community;

    fn code() -> PairingCode {
        PairingCode {
            invite: Invite {
                community: Community::from_secret([3; 32]),
                addresses: vec!["/ip4/192.168.1.20/tcp/4747".parse().unwrap()],
            },
            peer: libp2p::identity::Keypair::ed25519_from_bytes([4; 32])
                .unwrap()
                .public()
                .to_peer_id(),
            token: [9; 16],
        }
    }

    #[test]
    fn pairing_codes_round_trip_and_damage_is_caught() {
        let c = code();
        let text = c.encode();
        assert!(text.starts_with(PAIRING_PREFIX));
        assert_eq!(PairingCode::decode(&text.to_lowercase()), Ok(c.clone()));
        let (head, tail) = text.split_at(30);
        assert_eq!(PairingCode::decode(&format!("{head}\n {tail}")), Ok(c));
        let mut typo = text.clone().into_bytes();
        typo[25] = if typo[25] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            PairingCode::decode(std::str::from_utf8(&typo).unwrap()),
            Err(PairingCodeError::Damaged)
        );
        assert_eq!(
            PairingCode::decode(&text[..text.len() - 3]),
            Err(PairingCodeError::Damaged)
        );
        assert_eq!(
            PairingCode::decode("ENTRAIDE-ABCDEF"),
            Err(PairingCodeError::NotAPairingCode)
        );
        assert!(Invite::decode(&text).is_err(), "not an invite either");
    }

    #[test]
    fn requests_and_answers_round_trip_and_junk_is_refused() {
        let r = PairRequest {
            token: [1; 16],
            installation: Installation([2; 4]),
            name: "téléphone".into(),
        };
        assert_eq!(PairRequest::decode(&r.encode()), Some(r.clone()));
        let long = PairRequest {
            name: "é".repeat(100),
            ..r
        };
        let decoded = PairRequest::decode(&long.encode()).unwrap();
        assert_eq!(decoded.name.len(), 64);
        assert_eq!(PairRequest::decode(&[0; 20]), None);
        assert_eq!(PairRequest::decode(&[0; 30]), None, "length disagrees");
        assert_eq!(
            decode_answer(&encode_answer(&Ok([5; 32]))),
            Some(Ok([5; 32]))
        );
        assert_eq!(
            decode_answer(&encode_answer(&Err("used".into()))),
            Some(Err("used".into()))
        );
        assert_eq!(decode_answer(&[0; 5]), None);
        assert!(same_token(&[1; 16], &[1; 16]) && !same_token(&[1; 16], &[2; 16]));
    }
}

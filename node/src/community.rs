//! The community fence: a random 32-byte secret shared by invite codes, and the founder.
//!
//! From the secret we derive, with domain separation, the community id (which namespaces
//! protocol names and topics) and the libp2p private-network key (which keeps every node
//! without the secret from completing a handshake).
//!
//! A community made since protocol 1.5 also names its founder, its first steward
//! (`entraide_crdt::authority`), and both derivations cover the founder's id: an invite
//! code naming another founder leads to another community, whose nodes cannot complete a
//! handshake with this one's. So nobody holding the secret can make newcomers believe
//! they are the founder. A community made before has no founder, and no stewards.

use std::fmt;

use entraide_crdt::AuthorId;
use libp2p::Multiaddr;
use sha2::{Digest, Sha256};

/// A community: everyone who holds its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Community {
    secret: [u8; 32],
    founder: Option<AuthorId>,
    /// How many re-keys led to this secret, as far as this node knows (0 for a secret
    /// received in an invite code): a re-key notice of a higher generation replaces it.
    /// Not part of any derivation.
    generation: u32,
}

impl fmt::Debug for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("Community")
            .field("tag", &self.tag())
            .finish()
    }
}

fn derive(context: &[u8], secret: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(context);
    h.update(secret);
    h.finalize().into()
}

impl Community {
    /// A community made before founders were named: this secret, no founder, no stewards.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self {
            secret,
            founder: None,
            generation: 0,
        }
    }

    /// The community with this secret (32 random bytes for a new one) founded by `founder`.
    pub fn founded(secret: [u8; 32], founder: AuthorId) -> Self {
        Self {
            secret,
            founder: Some(founder),
            generation: 0,
        }
    }

    /// The same community at a new secret of `generation` (a re-key): the founder stays.
    pub fn rekeyed(&self, secret: [u8; 32], generation: u32) -> Self {
        Self {
            secret,
            founder: self.founder,
            generation,
        }
    }

    /// How many re-keys led to this secret, as far as this node knows.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The secret, for storing and for invite codes.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The founder, the first steward, when the community names one.
    pub fn founder(&self) -> Option<AuthorId> {
        self.founder
    }

    /// A public, short id that names protocols and topics and reveals nothing of the
    /// secret: `sha256("entraide/community/v2\0" || secret || founder)[..8]` in hex, or
    /// without a founder `sha256("entraide/community/v1\0" || secret)[..8]`.
    pub fn tag(&self) -> String {
        hex::encode(&self.derive(b"entraide/community/v1\0", b"entraide/community/v2\0")[..8])
    }

    /// The libp2p pre-shared key: `sha256("entraide/pnet/v2\0" || secret || founder)`, or
    /// without a founder `sha256("entraide/pnet/v1\0" || secret)`.
    pub fn psk(&self) -> [u8; 32] {
        self.derive(b"entraide/pnet/v1\0", b"entraide/pnet/v2\0")
    }

    fn derive(&self, without_founder: &[u8], with_founder: &[u8]) -> [u8; 32] {
        match &self.founder {
            None => derive(without_founder, &self.secret),
            Some(founder) => {
                let mut h = Sha256::new();
                h.update(with_founder);
                h.update(self.secret);
                h.update(founder.0);
                h.finalize().into()
            }
        }
    }
}

/// What an invite code carries: the community secret and where to find the inviter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// The community to join.
    pub community: Community,
    /// Addresses of the inviting node, dialled after joining.
    pub addresses: Vec<Multiaddr>,
}

/// Why an invite code was refused. Each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InviteError {
    /// The text does not start with `ENTRAIDE-`.
    #[error("this is not an entraide invite code: it should start with ENTRAIDE-")]
    NotAnInvite,
    /// A character or the checksum is wrong: mistyped or cut.
    #[error(
        "this invite code is damaged (mistyped or incomplete): ask your neighbour to show it again"
    )]
    Damaged,
    /// Made by a newer version of entraide.
    #[error(
        "this invite code was made by a newer version of entraide (format {0}): update entraide"
    )]
    UnsupportedVersion(u8),
}

/// Text prefix of every invite code.
pub const INVITE_PREFIX: &str = "ENTRAIDE-";
/// The code of a community without a founder.
const INVITE_VERSION_UNFOUNDED: u8 = 1;
/// The code of a community that names its founder.
const INVITE_VERSION: u8 = 2;
/// Most addresses an invite carries (keeps the QR code small).
pub const MAX_INVITE_ADDRESSES: usize = 4;

/// Most addresses an invite made by a node carries ([`Invite::for_node`]): two keeps the
/// code short enough to type and to scan.
pub const INVITE_ADDRESSES: usize = 2;

impl Invite {
    /// The invite a node gives: the community, and the node's listen addresses that a
    /// neighbour is most likely to reach ([`reach_rank`]): LAN or global IPv4 first, then
    /// other IPv6; link-local and loopback only when there is nothing better. At most
    /// [`INVITE_ADDRESSES`], without the peer id (the handshake tells who answers).
    pub fn for_node(community: Community, listen: &[Multiaddr]) -> Self {
        let mut ranked: Vec<&Multiaddr> = listen.iter().collect();
        ranked.sort_by_key(|a| reach_rank(a));
        let best = ranked.first().map(|a| reach_rank(a)).unwrap_or(0);
        Self {
            community,
            addresses: ranked
                .into_iter()
                .filter(|a| reach_rank(a) <= best.max(1))
                .take(INVITE_ADDRESSES)
                .cloned()
                .collect(),
        }
    }

    /// The same invite with `announced` addresses first (a meeting point's public address,
    /// `entraide up --announce`): neighbours on other networks reach the node there. At
    /// most [`MAX_INVITE_ADDRESSES`] in all; an address announced is not repeated.
    pub fn announcing(mut self, announced: &[Multiaddr]) -> Self {
        let mut addresses: Vec<Multiaddr> = announced.to_vec();
        for a in self.addresses {
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
        addresses.truncate(MAX_INVITE_ADDRESSES);
        self.addresses = addresses;
        self
    }

    /// The code: `ENTRAIDE-` then base32 (RFC 4648, no padding) of
    /// `version (1) || secret (32) || founder (32, version 2 only) || count (1) ||
    /// (len (1) || multiaddr bytes)* || checksum (4)`, where the checksum is the first 4
    /// bytes of SHA-256 of everything before it. Version 2 names the founder, version 1
    /// (a community made before founders) does not. Base32 uses only characters a QR
    /// code's alphanumeric mode encodes compactly.
    pub fn encode(&self) -> String {
        let version = match self.community.founder {
            Some(_) => INVITE_VERSION,
            None => INVITE_VERSION_UNFOUNDED,
        };
        let mut bytes = vec![version];
        self.write_body(&mut bytes);
        seal_code(INVITE_PREFIX, bytes)
    }

    /// Reads a code, forgiving spaces, line breaks and lower case.
    pub fn decode(code: &str) -> Result<Self, InviteError> {
        let payload = match open_code(INVITE_PREFIX, code, 1 + 32 + 1) {
            Err(CodeError::NoPrefix) => return Err(InviteError::NotAnInvite),
            Err(CodeError::Damaged) => return Err(InviteError::Damaged),
            Ok(payload) => payload,
        };
        let founded = match payload[0] {
            INVITE_VERSION => true,
            INVITE_VERSION_UNFOUNDED => false,
            other => return Err(InviteError::UnsupportedVersion(other)),
        };
        Self::read_body(&payload[1..], founded).ok_or(InviteError::Damaged)
    }

    /// The body of a code: `secret (32) || founder (32, if the community names one) ||
    /// count (1) || (len (1) || multiaddr bytes)*` (also inside a device pairing code,
    /// `crate::devices`).
    pub(crate) fn write_body(&self, bytes: &mut Vec<u8>) {
        bytes.extend_from_slice(self.community.secret());
        if let Some(founder) = &self.community.founder {
            bytes.extend_from_slice(&founder.0);
        }
        let addresses: Vec<Vec<u8>> = self
            .addresses
            .iter()
            .map(|a| a.to_vec())
            .filter(|a| a.len() <= u8::MAX as usize)
            .take(MAX_INVITE_ADDRESSES)
            .collect();
        bytes.push(addresses.len() as u8);
        for a in &addresses {
            bytes.push(a.len() as u8);
            bytes.extend_from_slice(a);
        }
    }

    /// Reads exactly a body written by [`Invite::write_body`], with a founder when
    /// `founded`; `None` if it is cut or has bytes left over.
    pub(crate) fn read_body(body: &[u8], founded: bool) -> Option<Self> {
        let founder_len = if founded { 32 } else { 0 };
        if body.len() < 33 + founder_len {
            return None;
        }
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&body[..32]);
        let community = if founded {
            let mut founder = [0u8; 32];
            founder.copy_from_slice(&body[32..64]);
            Community::founded(secret, AuthorId(founder))
        } else {
            Community::from_secret(secret)
        };
        let body = &body[founder_len..];
        let count = body[32] as usize;
        let mut rest = &body[33..];
        let mut addresses = Vec::with_capacity(count.min(MAX_INVITE_ADDRESSES));
        for _ in 0..count {
            let (&len, tail) = rest.split_first()?;
            if tail.len() < len as usize {
                return None;
            }
            let (addr, tail) = tail.split_at(len as usize);
            // An address we cannot read, an empty one, or one past the number a code
            // carries is skipped: the secret is what matters.
            if let Ok(addr) = Multiaddr::try_from(addr.to_vec())
                && !addr.is_empty()
                && addresses.len() < MAX_INVITE_ADDRESSES
            {
                addresses.push(addr);
            }
            rest = tail;
        }
        if !rest.is_empty() {
            return None;
        }
        Some(Self {
            community,
            addresses,
        })
    }
}

/// Why [`open_code`] refused a code.
pub(crate) enum CodeError {
    /// It does not start with the prefix.
    NoPrefix,
    /// Not base32, too short, or its checksum does not match.
    Damaged,
}

/// A code's text: `prefix` then base32 (RFC 4648, no padding) of `payload || checksum`,
/// the checksum the first 4 bytes of SHA-256 of the payload. Base32 uses only characters
/// a QR code's alphanumeric mode encodes compactly.
pub(crate) fn seal_code(prefix: &str, mut payload: Vec<u8>) -> String {
    let checksum = Sha256::digest(&payload);
    payload.extend_from_slice(&checksum[..4]);
    format!("{prefix}{}", data_encoding::BASE32_NOPAD.encode(&payload))
}

/// The payload of a code made by [`seal_code`] (at least `min_len` bytes), forgiving
/// spaces, line breaks and lower case.
pub(crate) fn open_code(prefix: &str, code: &str, min_len: usize) -> Result<Vec<u8>, CodeError> {
    let cleaned: String = code
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let body = cleaned.strip_prefix(prefix).ok_or(CodeError::NoPrefix)?;
    let mut bytes = data_encoding::BASE32_NOPAD
        .decode(body.as_bytes())
        .map_err(|_| CodeError::Damaged)?;
    if bytes.len() < min_len + 4 {
        return Err(CodeError::Damaged);
    }
    let checksum = bytes.split_off(bytes.len() - 4);
    if Sha256::digest(&bytes)[..4] != *checksum {
        return Err(CodeError::Damaged);
    }
    Ok(bytes)
}

/// How likely a neighbour reaches this address: 0 IPv4 (on a LAN or beyond), 1 other
/// IPv6, 2 link-local IPv6, 3 loopback (or no IP at all).
pub fn reach_rank(addr: &Multiaddr) -> u8 {
    use libp2p::multiaddr::Protocol;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(ip) if ip.is_loopback() => return 3,
            Protocol::Ip4(_) => return 0,
            Protocol::Ip6(ip) if ip.is_loopback() => return 3,
            Protocol::Ip6(ip) if (ip.segments()[0] & 0xffc0) == 0xfe80 => return 2,
            Protocol::Ip6(_) => return 1,
            _ => {}
        }
    }
    3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<Multiaddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn an_invite_carries_the_two_addresses_a_neighbour_most_likely_reaches() {
        let c = Community::from_secret([7; 32]);
        let listen = addrs(&[
            "/ip4/127.0.0.1/tcp/4747",
            "/ip6/::1/tcp/4747",
            "/ip6/fe80::1/tcp/4747",
            "/ip6/fd00::2/tcp/4747",
            "/ip4/192.168.1.20/tcp/4747",
        ]);
        assert_eq!(
            Invite::for_node(c.clone(), &listen).addresses,
            addrs(&["/ip4/192.168.1.20/tcp/4747", "/ip6/fd00::2/tcp/4747"])
        );
        // Only loopback and link-local: the best of those, so a test on one machine works.
        let local = addrs(&["/ip6/fe80::1/tcp/1", "/ip4/127.0.0.1/tcp/1"]);
        assert_eq!(
            Invite::for_node(c.clone(), &local).addresses,
            addrs(&["/ip6/fe80::1/tcp/1"])
        );
        let lo = addrs(&["/ip4/127.0.0.1/tcp/1", "/ip6/::1/tcp/1"]);
        assert_eq!(Invite::for_node(c.clone(), &lo).addresses, lo);
        assert!(Invite::for_node(c.clone(), &[]).addresses.is_empty());
        let public: Multiaddr = "/ip4/203.0.113.7/tcp/4747".parse().unwrap();
        let announced = Invite::for_node(c, &listen).announcing(std::slice::from_ref(&public));
        assert_eq!(
            announced.addresses[0], public,
            "the meeting point's address first"
        );
        assert_eq!(announced.addresses.len(), 3);
        assert_eq!(reach_rank(&"/dns4/example.org/tcp/1".parse().unwrap()), 3);
    }

    fn invite() -> Invite {
        Invite {
            community: Community::from_secret([7; 32]),
            addresses: vec![
                "/ip4/192.168.1.20/tcp/4001".parse().unwrap(),
                "/ip6/::1/tcp/4001".parse().unwrap(),
            ],
        }
    }

    #[test]
    fn invite_codes_round_trip_and_forgive_layout() {
        let code = invite().encode();
        assert!(code.starts_with(INVITE_PREFIX));
        assert_eq!(Invite::decode(&code), Ok(invite()));
        let messy = format!("  {}\n{} ", code[..20].to_lowercase(), &code[20..]);
        assert_eq!(Invite::decode(&messy), Ok(invite()));
    }

    #[test]
    fn wrong_or_damaged_codes_are_refused_with_a_reason() {
        let code = invite().encode();
        assert_eq!(Invite::decode("hello"), Err(InviteError::NotAnInvite));
        assert_eq!(
            Invite::decode(&code[..code.len() - 3]),
            Err(InviteError::Damaged)
        );
        // Every single-character typo is caught.
        for i in INVITE_PREFIX.len()..code.len() {
            let mut typo: Vec<char> = code.chars().collect();
            typo[i] = if typo[i] == 'A' { 'B' } else { 'A' };
            let typo: String = typo.into_iter().collect();
            assert!(Invite::decode(&typo).is_err(), "typo at {i} accepted");
        }
        assert_eq!(Invite::decode("ENTRAIDE-!!!"), Err(InviteError::Damaged));
    }

    #[test]
    fn a_founded_community_round_trips_and_its_founder_is_part_of_it() {
        let founded = Invite {
            community: Community::founded([7; 32], AuthorId([5; 32])),
            ..invite()
        };
        let code = founded.encode();
        assert_eq!(Invite::decode(&code), Ok(founded.clone()));
        assert!(code.len() > invite().encode().len());
        // Another founder with the same secret is another community: other protocol
        // names, and no handshake between them.
        let other = Community::founded([7; 32], AuthorId([6; 32]));
        assert_ne!(other.tag(), founded.community.tag());
        assert_ne!(other.psk(), founded.community.psk());
        assert_ne!(invite().community.psk(), founded.community.psk());
    }

    #[test]
    fn derived_keys_differ_and_depend_on_the_secret() {
        let a = Community::from_secret([1; 32]);
        let b = Community::from_secret([2; 32]);
        assert_ne!(a.tag(), b.tag());
        assert_ne!(a.psk(), b.psk());
        assert_ne!(&a.psk(), a.secret());
        assert_eq!(a.tag().len(), 16);
        assert!(!format!("{a:?}").contains(&hex::encode(a.secret())));
    }
}

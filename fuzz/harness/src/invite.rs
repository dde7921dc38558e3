//! Target `invite`: bytes as an invite code typed or scanned (`Invite::decode`); and the
//! same bytes as the payload of a code with a correct checksum, so that what follows the
//! checksum is reached too. Whatever decodes must encode and decode to the same invite.

use entraide_node::community::{INVITE_PREFIX, Invite};
use sha2::{Digest, Sha256};

/// Runs one input. Panics on any broken property.
pub fn run(data: &[u8]) {
    if let Ok(code) = std::str::from_utf8(data) {
        check(code);
    }
    check(&code_for_payload(data));
}

/// The invite code carrying `payload` (version, secret, addresses) with its checksum.
pub fn code_for_payload(payload: &[u8]) -> String {
    let mut bytes = payload.to_vec();
    bytes.extend_from_slice(&Sha256::digest(payload)[..4]);
    format!(
        "{INVITE_PREFIX}{}",
        data_encoding::BASE32_NOPAD.encode(&bytes)
    )
}

fn check(code: &str) {
    let Ok(invite) = Invite::decode(code) else {
        return;
    };
    let again = invite.encode();
    assert_eq!(
        Invite::decode(&again).as_ref(),
        Ok(&invite),
        "an invite code does not survive decoding and encoding again: {code:?} gave {again:?}"
    );
}

//! Helpers shared by the crdt integration tests: writers, drafts, and hand-made changes
//! (what a misbehaving node could send).

#![allow(dead_code, unreachable_pub)]

use entraide_crdt::automerge::transaction::{CommitOptions, Transactable, Transaction};
use entraide_crdt::automerge::{
    ActorId, Automerge, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue,
};
use entraide_crdt::{
    AuthorKey, Board, Category, DeviceId, FeedId, Kind, PostDraft, Session, SessionError,
    SignedHeads, Urgency, Writer,
};

pub const NOW: i64 = 1_764_000_000;

pub fn writer(n: u8) -> Writer {
    Writer::new(AuthorKey::from_seed([n; 32]), DeviceId([n; 8]))
}

pub fn draft(title: &str) -> PostDraft {
    PostDraft {
        kind: Kind::Request,
        category: Category::Food,
        title: title.into(),
        details: "six bottles".into(),
        urgency: Urgency::Today,
        area: "Building B".into(),
        expires_at: None,
        on_behalf_of: None,
    }
}

/// An actor id: `key`'s author id followed by `device`.
pub fn actor(key: &AuthorKey, device: u8) -> ActorId {
    let mut bytes = key.id().0.to_vec();
    bytes.extend_from_slice(&[device; 8]);
    ActorId::from(bytes)
}

/// A raw automerge document as a forger would drive it.
pub struct RawFeed {
    pub doc: Automerge,
}

impl RawFeed {
    pub fn new(actor: ActorId) -> Self {
        Self {
            doc: Automerge::new().with_actor(actor),
        }
    }

    /// Commits one change putting `key = value` at the root; returns its bytes.
    pub fn put(&mut self, key: &str, value: &str) -> Vec<u8> {
        let fresh = self.doc.get_heads().is_empty();
        let mut tx = self.doc.transaction();
        if fresh {
            // As entraide writes it: the first change names the format.
            tx.put(ROOT, "format", entraide_crdt::FORMAT).expect("put");
        }
        tx.put(ROOT, key, value).expect("put");
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
        self.change_bytes(hash.expect("a change"))
    }

    /// Commits one change made by `f` (any operations, no rule checked); returns its bytes.
    pub fn commit(&mut self, f: impl FnOnce(&mut Transaction<'_>)) -> Vec<u8> {
        let fresh = self.doc.get_heads().is_empty();
        let mut tx = self.doc.transaction();
        if fresh {
            tx.put(ROOT, "format", entraide_crdt::FORMAT).expect("put");
        }
        f(&mut tx);
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
        self.change_bytes(hash.expect("a change"))
    }

    /// Commits one change putting a map at root `key` with `fields` (strings are put as
    /// `Str`, numbers as `Int`) and, if `thanks` is not empty, a `thanks` map; returns its
    /// bytes. What a modified client writes, with no check at all.
    pub fn put_map(
        &mut self,
        key: &str,
        fields: &[(&str, ScalarValue)],
        thanks: &[(String, &str)],
    ) -> Vec<u8> {
        self.commit(|tx| {
            let map = tx.put_object(ROOT, key, ObjType::Map).expect("map");
            for (field, value) in fields {
                tx.put(&map, *field, value.clone()).expect("put");
            }
            if !thanks.is_empty() {
                let t = tx.put_object(&map, "thanks", ObjType::Map).expect("thanks");
                for (helper, message) in thanks {
                    tx.put(&t, helper.as_str(), *message).expect("put");
                }
            }
        })
    }

    pub fn change_bytes(&self, hash: ChangeHash) -> Vec<u8> {
        self.doc
            .get_change_by_hash(&hash)
            .expect("the change")
            .raw_bytes()
            .to_vec()
    }

    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Heads signed by `key` for epoch 0.
    pub fn signed_by(&self, key: &AuthorKey) -> SignedHeads {
        SignedHeads::sign(key, 0, &self.heads())
    }
}

/// The fields of an open post as entraide writes them, with the given text and times.
pub fn post_fields(
    title: &str,
    urgency: &str,
    created_at: i64,
    expires_at: i64,
) -> Vec<(&'static str, ScalarValue)> {
    vec![
        ("kind", ScalarValue::Str("request".into())),
        ("category", ScalarValue::Str("food".into())),
        ("title", ScalarValue::Str(title.into())),
        ("urgency", ScalarValue::Str(urgency.into())),
        ("created_at", ScalarValue::Int(created_at)),
        ("expires_at", ScalarValue::Int(expires_at)),
        ("state", ScalarValue::Str("open".into())),
    ]
}

pub fn feed_of(w: &Writer) -> FeedId {
    FeedId::first(w.author())
}

/// Runs a session between two boards until neither has anything to send. Returns the
/// number of frames exchanged.
pub fn sync_pair(a: &mut Board, b: &mut Board) -> Result<usize, SessionError> {
    let (mut sa, mut sb) = (Session::new(), Session::new());
    sync_with(a, &mut sa, b, &mut sb)
}

pub fn sync_with(
    a: &mut Board,
    sa: &mut Session,
    b: &mut Board,
    sb: &mut Session,
) -> Result<usize, SessionError> {
    let mut to_b = sa.start(a).frames;
    let mut to_a = sb.start(b).frames;
    let mut frames = 0;
    while !to_a.is_empty() || !to_b.is_empty() {
        assert!(frames < 10_000, "sessions do not settle");
        for f in std::mem::take(&mut to_b) {
            frames += 1;
            to_a.extend(sb.handle_frame(b, &f)?.frames);
        }
        for f in std::mem::take(&mut to_a) {
            frames += 1;
            to_b.extend(sa.handle_frame(a, &f)?.frames);
        }
    }
    Ok(frames)
}

/// An unsigned LEB128, as automerge writes lengths and counts.
pub fn leb(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A signed LEB128, as automerge writes run lengths and deltas.
pub fn sleb(out: &mut Vec<u8>, mut n: i64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if (n == 0 && byte & 0x40 == 0) || (n == -1 && byte & 0x40 != 0) {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// An automerge chunk: magic, checksum (the first 4 bytes of sha256(type || LEB128(length)
/// || data), as automerge computes it), type, LEB128 length, data.
pub fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut typed = vec![kind];
    leb(&mut typed, data.len() as u64);
    let hash = Sha256::new()
        .chain_update(&typed)
        .chain_update(data)
        .finalize();
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&hash[..4]);
    out.extend_from_slice(&typed);
    out.extend_from_slice(data);
    out
}

//! A feed's content saved beside its document, so that a node can serve its board before
//! it parses any automerge document.
//!
//! Parsing every stored document is most of a start (docs/benchmarks.md, issue 16), and
//! the documents held in memory are most of a node's memory. Yet listing the board needs
//! only what the documents say ([`FeedContent`]), and a sync session needs the document of
//! a feed only when its heads differ from the peer's. So when a node stores a feed it also
//! stores a snapshot: the feed's heads, its change count and its content, with a digest of
//! the exact bytes the document was stored as. At the next start a feed whose stored bytes
//! still have that digest is read from its snapshot and keeps its document as bytes; the
//! document is parsed the first time something needs it (a write, a received change, a
//! session whose peer holds other heads) and given back to bytes once stored again.
//!
//! The snapshot is a cache of what the node itself read from its own storage: nothing in
//! it comes from a peer unchecked, and a snapshot that does not decode or whose digest does
//! not match is ignored (the document is parsed, as before). Its format has a name,
//! [`FORMAT`], changed whenever what a snapshot holds, or how a document is read into it,
//! changes, so that a node reads a snapshot of another node's rules as none at all
//! (`the_snapshot_format_changes_with_the_content_it_holds`, crdt/tests/snapshot.rs, fails
//! when the content is written differently; a change to how documents are read must
//! change it by hand).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use automerge::{ActorId, Automerge, ChangeHash};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::author::AuthorId;
use crate::contained::contained;
use crate::content::FeedContent;

/// The snapshot format: change it with `FeedContent` or with `FeedContent::read` (see the
/// module's text); a snapshot of another format is ignored.
const FORMAT: &str = "entraide-snapshot/1";

/// At most this many bytes are inflated from a stored snapshot: a feed holds at most 4 MiB
/// of compressed document (`limits::MAX_FEED_BYTES`), whose content, uncompressed and
/// written out, stays far below it. A snapshot past it is ignored.
const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// What a snapshot holds, as written ([`Snapshot`] reads it back).
#[derive(Serialize)]
struct SnapshotRef<'a> {
    format: &'a str,
    #[serde(with = "serde_bytes")]
    digest: [u8; 32],
    heads: Vec<[u8; 32]>,
    changes: usize,
    content: &'a FeedContent,
}

/// What a snapshot holds.
#[derive(Deserialize)]
struct Snapshot {
    format: String,
    /// SHA-256 of the stored bytes the feed was read from, or saved as.
    #[serde(with = "serde_bytes")]
    digest: [u8; 32],
    /// The document's heads.
    heads: Vec<[u8; 32]>,
    /// How many changes the document holds.
    changes: usize,
    /// What the document says.
    content: FeedContent,
}

thread_local! {
    /// The deflater and the buffer each thread writes snapshots with, kept from one to the
    /// next: deflate's state is about 300 KB, which a node storing the snapshots of
    /// thousands of feeds as it stops would otherwise allocate and clear for each.
    static DEFLATING: RefCell<(flate2::Compress, Vec<u8>)> =
        RefCell::new((flate2::Compress::new(flate2::Compression::default(), false), Vec::new()));

    /// The inflater and the buffer each thread reads snapshots with, kept from one to the
    /// next: a start reads thousands, and allocating both for each (about 50 KB) between
    /// the allocations of what is read left as much again of the heap unusable (measured:
    /// 200 MiB held for 35 MiB of content at 100,000 posts).
    static INFLATING: RefCell<(flate2::Decompress, Vec<u8>)> =
        RefCell::new((flate2::Decompress::new(false), Vec::new()));
}

/// Lets go of a buffer kept between snapshots once one large feed made it large: the
/// thread that wrote or read it may run for as long as the node.
fn keep_small(buffer: &mut Vec<u8>) {
    if buffer.capacity() > 1024 * 1024 {
        *buffer = Vec::new();
    }
}

/// Inflates `data` into `out` (emptied first): `None` if it is not whole deflate data or
/// inflates past [`MAX_SNAPSHOT_BYTES`].
fn inflate(inflater: &mut flate2::Decompress, data: &[u8], out: &mut Vec<u8>) -> Option<()> {
    inflater.reset(false);
    out.clear();
    loop {
        if out.len() == out.capacity() {
            if out.len() as u64 >= MAX_SNAPSHOT_BYTES {
                return None;
            }
            out.reserve(out.capacity().max(64 * 1024));
        }
        let read = usize::try_from(inflater.total_in()).ok()?;
        let status = inflater
            .decompress_vec(data.get(read..)?, out, flate2::FlushDecompress::Finish)
            .ok()?;
        match status {
            flate2::Status::StreamEnd => return Some(()),
            // Room left in `out` and nothing more taken: the data is cut short.
            _ if out.len() < out.capacity()
                && usize::try_from(inflater.total_in()).ok()? == read =>
            {
                return None;
            }
            _ => {}
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The snapshot of a feed stored as `saved` (a document with no change waiting), whose
/// document has `heads` and `changes` changes and says `content`.
pub(crate) fn encode(
    saved: &[u8],
    heads: &[ChangeHash],
    changes: usize,
    content: &FeedContent,
) -> Option<Vec<u8>> {
    let snapshot = SnapshotRef {
        format: FORMAT,
        digest: digest(saved),
        heads: heads.iter().map(|h| h.0).collect(),
        changes,
        content,
    };
    // CBOR repeats every field's name; deflate takes that back. At deflate's default level
    // (6), not its fastest: a node writes snapshots only when it lets documents go and when
    // it stops, and level 6 takes 8 % off the disk a store of 100,000 posts uses
    // (docs/benchmarks.md, "Snapshots at deflate's default level").
    DEFLATING.with_borrow_mut(|(deflater, cbor)| {
        cbor.clear();
        ciborium::into_writer(&snapshot, &mut *cbor).ok()?;
        deflater.reset();
        let mut out = Vec::with_capacity(cbor.len() / 2 + 64);
        let done = loop {
            let read = usize::try_from(deflater.total_in()).ok()?;
            let status = deflater
                .compress_vec(cbor.get(read..)?, &mut out, flate2::FlushCompress::Finish)
                .ok()?;
            if status == flate2::Status::StreamEnd {
                break Some(out);
            }
            out.reserve(out.capacity().max(4096));
        };
        keep_small(cbor);
        done
    })
}

/// Reads `snapshot` back for the feed stored as `saved`: `None` if it does not decode, is
/// of another format, or was made from other bytes.
pub(crate) fn decode(saved: &[u8], snapshot: &[u8]) -> Option<(LazyDoc, FeedContent)> {
    let snapshot: Snapshot = INFLATING.with_borrow_mut(|(inflater, out)| {
        let read = inflate(inflater, snapshot, out)
            .and_then(|()| ciborium::from_reader(out.as_slice()).ok());
        keep_small(out);
        read
    })?;
    if snapshot.format != FORMAT || snapshot.digest != digest(saved) {
        return None;
    }
    let heads = snapshot.heads.into_iter().map(ChangeHash).collect();
    let doc = LazyDoc {
        parsed: OnceLock::new(),
        saved: Some(Saved {
            bytes: saved.to_vec(),
            heads,
            changes: snapshot.changes,
            snapshot_stored: true,
        }),
    };
    Some((doc, snapshot.content))
}

/// A feed's automerge document, parsed when first needed (see the module's text).
#[derive(Debug)]
pub(crate) struct LazyDoc {
    /// Boxed: automerge's document is 3.5 KB before it holds anything, which a node with
    /// 5,000 feeds would otherwise carry for every feed not parsed.
    parsed: OnceLock<Box<Parsed>>,
    /// Until the document is parsed: its saved bytes and what is known of it without
    /// parsing.
    saved: Option<Saved>,
}

/// A parsed document and what is derived from it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) doc: Automerge,
    /// Every held change by (actor, seq), to spot equivocation (the feed adds its waiting
    /// changes).
    pub(crate) seqs: HashMap<(ActorId, u64), ChangeHash>,
}

#[derive(Debug)]
struct Saved {
    bytes: Vec<u8>,
    heads: Vec<ChangeHash>,
    changes: usize,
    /// Whether the store holds the snapshot of these bytes.
    snapshot_stored: bool,
}

impl Default for LazyDoc {
    fn default() -> Self {
        Self::parsed(Parsed::default())
    }
}

impl LazyDoc {
    /// A document already parsed.
    pub(crate) fn parsed(parsed: Parsed) -> Self {
        Self {
            parsed: OnceLock::from(Box::new(parsed)),
            saved: None,
        }
    }

    /// Whether the document is parsed (in memory).
    pub(crate) fn is_parsed(&self) -> bool {
        self.parsed.get().is_some()
    }

    /// The document, parsed now if it was not. A document that fails to parse (its bytes
    /// had the digest its snapshot recorded, so only automerge itself could refuse what
    /// it saved) reads as empty: its heads are then empty, so peers send the feed again.
    pub(crate) fn get(&self, author: &AuthorId) -> &Parsed {
        self.parsed.get_or_init(|| {
            let saved = self.saved.as_ref().map_or(&[][..], |s| &s.bytes[..]);
            Box::new(parse(author, saved).unwrap_or_default())
        })
    }

    /// The document for changing it, parsed now if it was not; the saved bytes are let go.
    pub(crate) fn get_mut(&mut self, author: &AuthorId) -> &mut Parsed {
        self.get(author);
        self.saved = None;
        self.parsed.get_mut().expect("parsed just above")
    }

    /// The document mutably, for an operation that does not change what it holds (taking a
    /// sync message that carries no change: automerge wants `&mut` for it): its saved
    /// bytes, which still say the same, are kept.
    pub(crate) fn get_mut_unchanged(&mut self, author: &AuthorId) -> &mut Parsed {
        self.get(author);
        self.parsed.get_mut().expect("parsed just above")
    }

    /// The document's heads, without parsing it.
    pub(crate) fn heads(&self) -> Vec<ChangeHash> {
        match (self.parsed.get(), &self.saved) {
            (Some(p), _) => p.doc.get_heads(),
            (None, Some(saved)) => saved.heads.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// How many changes the document holds, without parsing it.
    pub(crate) fn change_count(&self) -> Option<usize> {
        match (self.parsed.get(), &self.saved) {
            (Some(_), _) => None,
            (None, saved) => Some(saved.as_ref().map_or(0, |s| s.changes)),
        }
    }

    /// The document as automerge saves it, without parsing it when it was not.
    pub(crate) fn save(&self) -> Vec<u8> {
        match (self.parsed.get(), &self.saved) {
            (Some(p), _) => p.doc.save(),
            (None, Some(saved)) => saved.bytes.clone(),
            (None, None) => Automerge::new().save(),
        }
    }

    /// The size of the saved document, when known without saving it.
    pub(crate) fn saved_len(&self) -> Option<usize> {
        match (self.parsed.get(), &self.saved) {
            (None, Some(saved)) => Some(saved.bytes.len()),
            _ => None,
        }
    }

    /// Keeps `saved`, the document's bytes as just stored, beside the parsed document, so
    /// that it can be let go later ([`LazyDoc::let_go_if_unchanged`]) without saving it
    /// again: any change to it lets them go ([`LazyDoc::get_mut`]).
    pub(crate) fn keep_saved(&mut self, saved: Vec<u8>) {
        let Some(parsed) = self.parsed.get() else {
            return;
        };
        self.saved = Some(Saved {
            bytes: saved,
            heads: parsed.doc.get_heads(),
            changes: parsed.seqs.len(),
            snapshot_stored: false,
        });
    }

    /// The saved bytes kept ([`LazyDoc::keep_saved`]) whose snapshot the store does not
    /// hold yet.
    pub(crate) fn stored_without_snapshot(&self) -> Option<&[u8]> {
        self.saved
            .as_ref()
            .filter(|s| !s.snapshot_stored)
            .map(|s| &s.bytes[..])
    }

    /// Records that the store now holds the snapshot of the saved bytes kept.
    pub(crate) fn snapshot_stored(&mut self) {
        if let Some(saved) = &mut self.saved {
            saved.snapshot_stored = true;
        }
    }

    /// Lets go of a parsed document whose saved bytes are still held: read from its
    /// snapshot and only read since, or kept when stored ([`LazyDoc::keep_saved`]) and not
    /// changed since (any change would have let them go, [`LazyDoc::get_mut`]), so they
    /// still say the same. Returns whether it did.
    pub(crate) fn let_go_if_unchanged(&mut self) -> bool {
        if self.saved.is_none() || self.parsed.get().is_none() {
            return false;
        }
        self.parsed = OnceLock::new();
        true
    }

    /// Gives the parsed document back to `saved`, its bytes as just stored (its heads and
    /// change count are kept), so that it no longer takes memory.
    pub(crate) fn unload(&mut self, saved: Vec<u8>) {
        self.keep_saved(saved);
        self.snapshot_stored();
        self.let_go_if_unchanged();
    }
}

/// Parses a saved document of `author` (no waiting changes after it).
fn parse(author: &AuthorId, bytes: &[u8]) -> Result<Parsed, String> {
    let doc = contained(|| Automerge::load(bytes))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let mut seqs = HashMap::new();
    for meta in doc.get_changes_meta(&[]) {
        if !author.owns_actor(&meta.actor) {
            return Err("a change by another author".into());
        }
        seqs.insert((meta.actor.into_owned(), meta.seq), meta.hash);
    }
    Ok(Parsed { doc, seqs })
}

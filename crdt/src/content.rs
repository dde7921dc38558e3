//! What a feed says, read out of its automerge document.
//!
//! The document layout (format 1) is flat at the root so that no two devices of one author
//! ever create the same container concurrently (which automerge would resolve by keeping
//! only one of them):
//!
//! | key | value |
//! |---|---|
//! | `format` | `"entraide-feed/1"` |
//! | `name` | the author's display name |
//! | `post:<nonce, 16 hex>` | map: `kind`, `category`, `title`, `details`, `urgency`, `area`, `created_at`, `expires_at`, `state`, `accepted`, `thanks` (map: helper id → message), `escalation` (optional, 16 hex: a missed care check, `care.rs`), `closed_at` (optional: when it was marked done or withdrawn), `behalf_name` and `behalf_consent` (optional, both or neither: a post for a neighbour, `behalf.rs`) |
//! | `response:<post id, 16 hex>` | map: `to` (post author id), `message`, `at`, `withdrawn` |
//! | `sealed:<nonce, 16 hex>` | bytes: a sealed record (`sealed.rs`), readable by its recipients only |
//! | `alert:`, `round:`, `signup:`, `sighting:`, `sighting_done:` | public seasonal entries: see `crate::entries` |
//! | `compacted` | map: `from` (the epoch this one was compacted from), `at` (when), `dropped` (how many entries were left out): written last in a compacted epoch (`crate::epoch`) |
//! | `rekey:<nonce, 16 hex>` | bytes: a new community secret sealed to remaining members, signed (`rekey.rs`) |
//! | `steward:`, `exclude:`, `vouch:` | statements about the community's stewards, exclusions and lost keys: see `crate::authority` |
//!
//! Reading is lenient and deterministic: an entry that breaks the format is skipped and
//! counted, never an error, so a bad entry from one author cannot hide anything else.
//! Every text is neutralised and cut to its field's length as it is read (`post::clip`),
//! so whatever a modified client wrote, no control, direction or invisible character
//! leaves this module.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, hydrate};
use serde::{Deserialize, Serialize};

use crate::author::AuthorId;
use crate::authority::Statements;
use crate::behalf::OnBehalfOf;
use crate::devices::{
    DEVICE_PREFIX, Installation, StoredDevice, canonical_installation, read_device,
};
use crate::entries::PublicEntries;
use crate::post::{Category, Field, Kind, PostId, Timestamp, Urgency, clip};
use crate::rekey::{REKEY_PREFIX, RekeyNotice};
use crate::sealed::recipient_count;
use crate::text::name_keys;

/// The `format` value of a feed document.
pub const FORMAT: &str = "entraide-feed/1";
pub(crate) const POST_PREFIX: &str = "post:";
pub(crate) const RESPONSE_PREFIX: &str = "response:";
pub(crate) const SEALED_PREFIX: &str = "sealed:";

/// The state of a post as its author sets it. Expiry is derived, not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostState {
    /// Open for help (possibly with a helper accepted).
    Open,
    /// Done.
    Done,
    /// Withdrawn by its author.
    Withdrawn,
}

impl PostState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PostState::Open => "open",
            PostState::Done => "done",
            PostState::Withdrawn => "withdrawn",
        }
    }
}

/// A post as stored in its author's feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPost {
    /// Its id.
    pub id: PostId,
    /// The nonce it is stored under.
    pub nonce: [u8; 8],
    /// Offer or request.
    pub kind: Kind,
    /// Category.
    pub category: Category,
    /// Title.
    pub title: String,
    /// Details.
    pub details: String,
    /// Urgency.
    pub urgency: Urgency,
    /// Coarse area.
    pub area: String,
    /// When it was posted (author's clock).
    pub created_at: Timestamp,
    /// When it leaves the board.
    pub expires_at: Timestamp,
    /// Open, done or withdrawn.
    pub state: PostState,
    /// The helper the author accepted, if any.
    pub accepted: Option<AuthorId>,
    /// Thanks from the author, by helper.
    pub thanks: BTreeMap<AuthorId, String>,
    /// For an urgent visit request raised by a missed care check: its escalation key
    /// (`care::escalation_key`), the same on every circle member's request.
    pub escalation: Option<[u8; 8]>,
    /// For a post made for a neighbour who has no device: their name and consent, as the
    /// poster wrote them (`crate::behalf`).
    pub on_behalf_of: Option<OnBehalfOf>,
    /// When its author marked it done or withdrew it (author's clock; posts closed before
    /// entraide wrote this have none).
    pub closed_at: Option<Timestamp>,
}

/// A response ("I can help") as stored in the helper's feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// The post answered.
    pub post: PostId,
    /// The post's author.
    pub to: AuthorId,
    /// The helper's message.
    pub message: String,
    /// When (helper's clock).
    pub at: Timestamp,
    /// Whether the helper took it back.
    pub withdrawn: bool,
}

/// Everything one feed says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedContent {
    /// The author's display name, if set and not blank once neutralised.
    pub name: Option<String>,
    /// The author's posts.
    pub posts: BTreeMap<PostId, StoredPost>,
    /// The author's responses to other people's posts.
    pub responses: BTreeMap<PostId, StoredResponse>,
    /// The author's sealed records by nonce, still sealed (`crate::sealed`).
    pub sealed: BTreeMap<[u8; 8], Vec<u8>>,
    /// The author's alerts, rounds, round sign-ups, sightings and sightings done.
    pub public: PublicEntries,
    /// The author's devices, as linked and removed (`crate::devices`).
    pub devices: BTreeMap<Installation, StoredDevice>,
    /// What the author said about stewards, exclusions and lost keys (`crate::authority`).
    pub authority: Statements,
    /// The re-key notices the author wrote, by nonce (`crate::rekey`).
    pub rekeys: BTreeMap<[u8; 8], RekeyNotice>,
    /// In a compacted epoch, what it was compacted from (`crate::epoch`): written last,
    /// so an epoch that says it holds everything it was meant to.
    pub compacted: Option<crate::epoch::Compacted>,
    /// Entries skipped because they break the format.
    pub skipped: usize,
    /// The root keys skipped, kept so an incremental read can forget one that got fixed.
    bad_keys: BTreeSet<String>,
    /// Whether the document lacks the format record (then nothing is read).
    unformatted: bool,
    /// The look-alike keys of `name` (`text::name_keys`), computed once per name.
    name_keys: Vec<String>,
}

impl FeedContent {
    /// The keys under which the name counts as looking like another (empty without a name).
    pub(crate) fn name_keys(&self) -> &[String] {
        &self.name_keys
    }

    /// Reads a whole feed document of `author`, from one `hydrate()` pass (reading a
    /// whole feed key by key through automerge's `get` costs about twice as much; see
    /// docs/benchmarks.md, catch-up). What it reads is kept in snapshots
    /// (`crate::snapshot`): a change to what it reads must change the snapshot format.
    pub(crate) fn read(author: &AuthorId, doc: &Automerge) -> Self {
        let mut content = FeedContent::default();
        if let hydrate::Value::Map(root) = doc.hydrate(None) {
            let source = Hydrated(&root);
            let keys = source.keys(&source.root());
            content.read_keys(author, &source, keys);
        }
        content
    }

    /// Reads again the root entries `keys` of the document (those a change touched), so
    /// that applying one change costs what that change touched, not the whole feed.
    pub(crate) fn reread(
        &mut self,
        author: &AuthorId,
        doc: &Automerge,
        keys: impl IntoIterator<Item = String>,
    ) {
        if self.unformatted {
            // Nothing was readable: read everything, in case the format just arrived.
            *self = FeedContent::read(author, doc);
            return;
        }
        self.read_keys(author, &doc, keys);
    }

    fn read_keys<S: Source>(
        &mut self,
        author: &AuthorId,
        source: &S,
        keys: impl IntoIterator<Item = String>,
    ) {
        let root = source.root();
        // A document of another format (or none yet) says nothing we can read.
        if text(source, &root, "format").as_deref() != Some(FORMAT) {
            *self = FeedContent {
                skipped: source.keys(&root).len(),
                unformatted: true,
                ..FeedContent::default()
            };
            return;
        }
        for key in keys {
            self.bad_keys.remove(&key);
            if key == crate::epoch::COMPACTED_KEY {
                self.compacted = None;
                if source.has(&root, &key) {
                    match crate::epoch::Compacted::read(source) {
                        Some(c) => self.compacted = Some(c),
                        None => {
                            self.bad_keys.insert(key);
                        }
                    }
                }
            } else if key == "name" {
                self.name = text(source, &root, "name")
                    .map(|n| clip(Field::Name, &n))
                    .filter(|n| !n.trim().is_empty());
                self.name_keys = self.name.as_deref().map(name_keys).unwrap_or_default();
            } else if let Some(nonce_hex) = key.strip_prefix(POST_PREFIX) {
                let Some(nonce) = canonical_nonce(nonce_hex) else {
                    self.bad_keys.insert(key);
                    continue;
                };
                let id = PostId::derive(author, &nonce);
                self.posts.remove(&id);
                match read_post(source, &key, id, nonce) {
                    Some(post) => {
                        self.posts.insert(id, post);
                    }
                    None if source.has(&root, &key) => {
                        self.bad_keys.insert(key);
                    }
                    None => {}
                }
            } else if let Some(nonce_hex) = key.strip_prefix(SEALED_PREFIX) {
                let Some(nonce) = canonical_nonce(nonce_hex) else {
                    self.bad_keys.insert(key);
                    continue;
                };
                self.sealed.remove(&nonce);
                match source.scalar(&root, &key) {
                    Some(ScalarValue::Bytes(b)) if recipient_count(&b).is_some() => {
                        self.sealed.insert(nonce, b);
                    }
                    None if !source.has(&root, &key) => {}
                    _ => {
                        self.bad_keys.insert(key);
                    }
                }
            } else if let Some(hex_text) = key.strip_prefix(DEVICE_PREFIX) {
                let Some(installation) = canonical_installation(hex_text) else {
                    self.bad_keys.insert(key);
                    continue;
                };
                self.devices.remove(&installation);
                match read_device(source, &key, installation) {
                    Some(device) => {
                        self.devices.insert(installation, device);
                    }
                    None if source.has(&root, &key) => {
                        self.bad_keys.insert(key);
                    }
                    None => {}
                }
            } else if let Some(nonce_hex) = key.strip_prefix(REKEY_PREFIX) {
                let Some(nonce) = canonical_nonce(nonce_hex) else {
                    self.bad_keys.insert(key);
                    continue;
                };
                self.rekeys.remove(&nonce);
                match source.scalar(&root, &key) {
                    Some(ScalarValue::Bytes(b)) => match RekeyNotice::decode(&b) {
                        Some(n) if n.writer == *author && n.nonce == nonce => {
                            self.rekeys.insert(nonce, n);
                        }
                        _ => {
                            self.bad_keys.insert(key);
                        }
                    },
                    None if !source.has(&root, &key) => {}
                    _ => {
                        self.bad_keys.insert(key);
                    }
                }
            } else if let Some(good) = self.authority.read_key(source, &key) {
                if !good {
                    self.bad_keys.insert(key);
                }
            } else if let Some(good) = self.public.read_key(author, source, &key) {
                if !good {
                    self.bad_keys.insert(key);
                }
            } else if let Some(post_hex) = key.strip_prefix(RESPONSE_PREFIX) {
                let post: Option<PostId> = post_hex
                    .parse()
                    .ok()
                    .filter(|p: &PostId| p.to_string() == post_hex);
                let Some(post) = post else {
                    self.bad_keys.insert(key);
                    continue;
                };
                self.responses.remove(&post);
                match read_response(source, &key, post) {
                    Some(r) => {
                        self.responses.insert(post, r);
                    }
                    None if source.has(&root, &key) => {
                        self.bad_keys.insert(key);
                    }
                    None => {}
                }
            }
        }
        self.skipped = self.bad_keys.len();
    }
}

/// Where a feed's content is read from: the document itself (a few keys, through `get`),
/// or its hydrated copy (the whole feed, built in one pass). The same reading code runs on
/// both, so they cannot disagree.
pub(crate) trait Source {
    /// An object of the document.
    type Obj;
    fn root(&self) -> Self::Obj;
    /// The scalar at `key` of map `obj` (the winner of a conflict), if it is a scalar.
    fn scalar(&self, obj: &Self::Obj, key: &str) -> Option<ScalarValue>;
    /// The map at `key` of map `obj`, if it is a map.
    fn map_at(&self, obj: &Self::Obj, key: &str) -> Option<Self::Obj>;
    fn keys(&self, obj: &Self::Obj) -> Vec<String>;
    fn has(&self, obj: &Self::Obj, key: &str) -> bool;
}

impl Source for &Automerge {
    type Obj = ObjId;

    fn root(&self) -> ObjId {
        ROOT
    }

    fn scalar(&self, obj: &ObjId, key: &str) -> Option<ScalarValue> {
        match self.get(obj, key).ok()?? {
            (Value::Scalar(v), _) => Some(v.into_owned()),
            _ => None,
        }
    }

    fn map_at(&self, obj: &ObjId, key: &str) -> Option<ObjId> {
        match self.get(obj, key).ok()?? {
            (Value::Object(ObjType::Map), id) => Some(id),
            _ => None,
        }
    }

    fn keys(&self, obj: &ObjId) -> Vec<String> {
        ReadDoc::keys(*self, obj).collect()
    }

    fn has(&self, obj: &ObjId, key: &str) -> bool {
        self.get(obj, key).ok().flatten().is_some()
    }
}

/// A hydrated document (`Automerge::hydrate`).
struct Hydrated<'a>(&'a hydrate::Map);

impl<'a> Source for Hydrated<'a> {
    type Obj = &'a hydrate::Map;

    fn root(&self) -> &'a hydrate::Map {
        self.0
    }

    fn scalar(&self, obj: &&'a hydrate::Map, key: &str) -> Option<ScalarValue> {
        match obj.get(key)? {
            hydrate::Value::Scalar(v) => Some(v.clone()),
            _ => None,
        }
    }

    fn map_at(&self, obj: &&'a hydrate::Map, key: &str) -> Option<&'a hydrate::Map> {
        match obj.get(key)? {
            hydrate::Value::Map(m) => Some(m),
            _ => None,
        }
    }

    fn keys(&self, obj: &&'a hydrate::Map) -> Vec<String> {
        obj.iter().map(|(k, _)| k.clone()).collect()
    }

    fn has(&self, obj: &&'a hydrate::Map, key: &str) -> bool {
        obj.get(key).is_some()
    }
}

pub(crate) fn canonical_nonce(nonce_hex: &str) -> Option<[u8; 8]> {
    let mut nonce = [0u8; 8];
    hex::decode_to_slice(nonce_hex, &mut nonce).ok()?;
    // Only the canonical (lowercase) spelling names a post, so two keys never name one.
    (hex::encode(nonce) == nonce_hex).then_some(nonce)
}

pub(crate) fn text<S: Source>(source: &S, obj: &S::Obj, key: &str) -> Option<String> {
    match source.scalar(obj, key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

pub(crate) fn int<S: Source>(source: &S, obj: &S::Obj, key: &str) -> Option<i64> {
    match source.scalar(obj, key)? {
        ScalarValue::Int(i) => Some(i),
        ScalarValue::Uint(u) => i64::try_from(u).ok(),
        ScalarValue::Timestamp(t) => Some(t),
        _ => None,
    }
}

fn read_post<S: Source>(source: &S, key: &str, id: PostId, nonce: [u8; 8]) -> Option<StoredPost> {
    let doc = source;
    let map = doc.map_at(&doc.root(), key)?;
    let state = match text(doc, &map, "state")?.as_str() {
        "open" => PostState::Open,
        "done" => PostState::Done,
        "withdrawn" => PostState::Withdrawn,
        _ => return None,
    };
    let accepted = match text(doc, &map, "accepted").as_deref() {
        None | Some("") => None,
        Some(id) => Some(id.parse().ok()?),
    };
    let mut thanks = BTreeMap::new();
    if let Some(t) = doc.map_at(&map, "thanks") {
        for helper in doc.keys(&t) {
            if let (Ok(id), Some(m)) = (helper.parse::<AuthorId>(), text(doc, &t, &helper))
                && id.to_string() == helper
            {
                thanks.insert(id, clip(Field::Message, &m));
            }
        }
    }
    Some(StoredPost {
        id,
        nonce,
        kind: text(doc, &map, "kind")?.parse().ok()?,
        category: text(doc, &map, "category")?
            .parse()
            .unwrap_or(Category::Other),
        title: clip(Field::Title, &text(doc, &map, "title")?),
        details: clip(
            Field::Details,
            &text(doc, &map, "details").unwrap_or_default(),
        ),
        urgency: text(doc, &map, "urgency")?.parse().ok()?,
        area: clip(Field::Area, &text(doc, &map, "area").unwrap_or_default()),
        created_at: int(doc, &map, "created_at")?,
        expires_at: int(doc, &map, "expires_at")?,
        state,
        accepted,
        thanks,
        escalation: text(doc, &map, "escalation").and_then(|k| canonical_nonce(&k)),
        on_behalf_of: OnBehalfOf::read(doc, &map),
        closed_at: int(doc, &map, "closed_at"),
    })
}

fn read_response<S: Source>(source: &S, key: &str, post: PostId) -> Option<StoredResponse> {
    let doc = source;
    let map = doc.map_at(&doc.root(), key)?;
    Some(StoredResponse {
        post,
        to: text(doc, &map, "to")?.parse().ok()?,
        message: clip(
            Field::Message,
            &text(doc, &map, "message").unwrap_or_default(),
        ),
        at: int(doc, &map, "at")?,
        withdrawn: matches!(
            doc.scalar(&map, "withdrawn"),
            Some(ScalarValue::Boolean(true))
        ),
    })
}

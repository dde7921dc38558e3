//! Authority: who may act for the community. One pure function ([`evaluate`]) over the
//! statements the feeds hold, so two nodes holding the same feeds reach the same verdict.
//!
//! A statement is a root entry of its writer's feed, signed like everything else there:
//!
//! | key | value |
//! |---|---|
//! | `steward:<author, 64 hex>` | map: `appoint` (int: when the writer appointed them), `retire` (int: when the writer retired them), either or both; `n` (int: the writer's count of such acts when writing it, ordering one steward's acts made within a second) |
//! | `exclude:<author, 64 hex>` | map: `at`, `reason` (text), `known` (the excluded author's changes the writer held) |
//! | `vouch:<old author, 64 hex>` | map: `at`, `new` (the new author, 64 hex), `known` (the old key's changes the writer held) |
//!
//! `known` lists, for each automerge actor of the author the writer held changes of, the
//! last sequence number held: `<installation ‖ session, 16 hex>:<seq>`, joined by `,`.
//!
//! # The rules
//!
//! 1. **Stewards.** The community's founder (named by the invite code, and part of the
//!    community's identity: `docs/protocol.md`) is the first steward. A statement counts
//!    only when its writer is a current steward. With one current steward, that steward
//!    alone appoints or retires; with two or more, two of them must (each writing the
//!    statement in their own feed). Evaluated one step at a time: of the appointments and
//!    retirements enough current stewards agree on, the earliest (by the latest of the
//!    agreeing writers' own clocks, then by id) takes effect, and the next step counts
//!    again. Appointed and retired only grow, so it ends. A retired steward is never a
//!    steward again (appointing someone is a one-time trust; a retired key is not reused).
//!    The clocks only order one steward's own acts, never decide between two stewards:
//!    a steward with a wrong clock can only reorder what they themselves said. A step
//!    that would leave no steward, or more than 16 (the recipients of a report), does not
//!    take effect.
//! 2. **Exclusion.** One current steward excludes a member who is not a current steward
//!    (a steward must be retired first, which takes two). Several stewards may exclude the
//!    same member; the reasons are all shown.
//! 3. **Succession (a lost key).** Current stewards vouch that a new key succeeds an old
//!    one (two where there are two or more); the old key must not be a current steward.
//!    The board shows the old key's posts under the new identity.
//!
//! # What "after" means
//!
//! There is no common clock. An exclusion (or a succession) names, in `known`, the
//! changes of the member its writer held when writing it. Those stand; every other change
//! of that member is *after* it, and every honest node refuses it on receipt and drops it
//! if it was accepted before the exclusion arrived (with whatever was built on it), as for
//! a removed device (`crate::devices`). A change the member made concurrently with their
//! exclusion, which the steward had not seen, is refused: the member's node, cut off,
//! could have gone on writing for days. When several exclusions name one member, a change
//! any of them knew stands.
//!
//! When a steward is retired, the statements they wrote stop counting, their exclusions
//! and successions with them: the node of a steward who retires another writes the same
//! exclusions and successions again under its own key first, so that they stand, and
//! refuses the retirement when one would still lapse (a succession that then lacks its
//! second steward: another current steward must vouch first) or when the steward is the
//! last one.

use std::collections::{BTreeMap, BTreeSet};

use automerge::ActorId;

use crate::author::{AuthorId, Writer};
use crate::board::Board;
use crate::content::{Source, int, text};
use crate::feed::{LocalChange, WriteError};
use crate::post::{Field, Timestamp, clip};

pub(crate) const STEWARD_PREFIX: &str = "steward:";
pub(crate) const EXCLUDE_PREFIX: &str = "exclude:";
pub(crate) const VOUCH_PREFIX: &str = "vouch:";

/// Most actors one `known` lists.
pub const MAX_KNOWN_ACTORS: usize = 4096;

/// Of one author's changes, those a statement's writer held: the last sequence number of
/// each actor (by its installation and session halves). What it lists stands; the rest of
/// that author's changes are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cut(pub BTreeMap<[u8; 8], u64>);

impl Cut {
    /// The cut of what `seqs` holds: the highest sequence number per actor. Actors not of
    /// the entraide shape are left out (they cannot be in a feed).
    pub fn of<'a>(seqs: impl IntoIterator<Item = (&'a ActorId, u64)>) -> Self {
        let mut known = BTreeMap::new();
        for (actor, seq) in seqs {
            if let Some(key) = actor_key(actor) {
                let max: &mut u64 = known.entry(key).or_default();
                *max = (*max).max(seq);
            }
        }
        Cut(known)
    }

    /// Whether the change of `actor` with sequence number `seq` stands against this cut.
    pub fn allows(&self, actor: &ActorId, seq: u64) -> bool {
        actor_key(actor).is_some_and(|k| self.0.get(&k).is_some_and(|&max| seq <= max))
    }

    /// The union of two cuts: a change either allows stands.
    fn union(&mut self, other: &Cut) {
        for (k, seq) in &other.0 {
            let max = self.0.entry(*k).or_default();
            *max = (*max).max(*seq);
        }
    }

    /// The `known` text.
    pub(crate) fn format(&self) -> String {
        self.0
            .iter()
            .map(|(k, seq)| format!("{}:{seq}", hex::encode(k)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads a `known` text; `None` if a pair is malformed or there are too many.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut known = BTreeMap::new();
        if text.is_empty() {
            return Some(Cut(known));
        }
        for pair in text.split(',') {
            let (actor, seq) = pair.split_once(':')?;
            let mut bytes = [0u8; 8];
            hex::decode_to_slice(actor, &mut bytes).ok()?;
            if hex::encode(bytes) != actor {
                return None;
            }
            known.insert(bytes, seq.parse().ok()?);
            if known.len() > MAX_KNOWN_ACTORS {
                return None;
            }
        }
        Some(Cut(known))
    }
}

/// The installation and session halves of an entraide actor id.
fn actor_key(actor: &ActorId) -> Option<[u8; 8]> {
    let bytes = actor.to_bytes();
    (bytes.len() == crate::author::ACTOR_ID_LEN).then(|| {
        let mut key = [0u8; 8];
        key.copy_from_slice(&bytes[32..40]);
        key
    })
}

/// When a steward appointed or retired someone: their clock, then their own count of such
/// acts (`n`), which orders acts made within one second.
pub type Stamp = (Timestamp, i64);

/// An exclusion as one steward wrote it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExclusionStatement {
    /// When (the writer's clock; shown, never used to decide).
    pub at: Timestamp,
    /// Why, shown to every member.
    pub reason: String,
    /// The member's changes the writer held.
    pub known: Cut,
}

/// A succession as one steward wrote it: `new` succeeds the key the entry is under.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VouchStatement {
    /// The new key.
    pub new: AuthorId,
    /// When (the writer's clock).
    pub at: Timestamp,
    /// The old key's changes the writer held.
    pub known: Cut,
}

/// What one feed says about authority.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statements {
    /// Stewards this writer appointed, and when.
    pub appoint: BTreeMap<AuthorId, Stamp>,
    /// Stewards this writer retired, and when.
    pub retire: BTreeMap<AuthorId, Stamp>,
    /// Members this writer excluded.
    pub exclude: BTreeMap<AuthorId, ExclusionStatement>,
    /// Lost keys this writer vouched a successor for, by old key.
    pub vouch: BTreeMap<AuthorId, VouchStatement>,
}

impl Statements {
    /// Whether the feed says nothing about authority.
    pub fn is_empty(&self) -> bool {
        self.appoint.is_empty()
            && self.retire.is_empty()
            && self.exclude.is_empty()
            && self.vouch.is_empty()
    }

    /// Reads the entry at root `key` if it is a statement: `Some(true)` read, `Some(false)`
    /// malformed (skipped), `None` not a statement's key.
    pub(crate) fn read_key<S: Source>(&mut self, source: &S, key: &str) -> Option<bool> {
        let (prefix, hex_text) = [STEWARD_PREFIX, EXCLUDE_PREFIX, VOUCH_PREFIX]
            .into_iter()
            .find_map(|p| key.strip_prefix(p).map(|rest| (p, rest)))?;
        let Some(target) = canonical_author(hex_text) else {
            return Some(false);
        };
        if prefix == STEWARD_PREFIX {
            self.appoint.remove(&target);
            self.retire.remove(&target);
        } else if prefix == EXCLUDE_PREFIX {
            self.exclude.remove(&target);
        } else {
            self.vouch.remove(&target);
        }
        let root = source.root();
        if !source.has(&root, key) {
            return Some(true);
        }
        let Some(map) = source.map_at(&root, key) else {
            return Some(false);
        };
        let read = match prefix {
            STEWARD_PREFIX => {
                let appoint = int(source, &map, "appoint");
                let retire = int(source, &map, "retire");
                let n = int(source, &map, "n").unwrap_or(0);
                if let Some(at) = appoint {
                    self.appoint.insert(target, (at, n));
                }
                if let Some(at) = retire {
                    self.retire.insert(target, (at, n));
                }
                appoint.is_some() || retire.is_some()
            }
            EXCLUDE_PREFIX => {
                let statement = (|| {
                    Some(ExclusionStatement {
                        at: int(source, &map, "at")?,
                        reason: clip(Field::Message, &text(source, &map, "reason")?),
                        known: Cut::parse(&text(source, &map, "known")?)?,
                    })
                })();
                statement.map(|s| self.exclude.insert(target, s)).is_some()
            }
            _ => {
                let statement = (|| {
                    Some(VouchStatement {
                        new: canonical_author(&text(source, &map, "new")?)?,
                        at: int(source, &map, "at")?,
                        known: Cut::parse(&text(source, &map, "known")?)?,
                    })
                })();
                statement
                    .filter(|s| s.new != target)
                    .map(|s| self.vouch.insert(target, s))
                    .is_some()
            }
        };
        Some(read)
    }
}

/// Why a steward's act was refused. Each says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// The community names no founder, so it has no stewards.
    #[error(
        "this community has no stewards: it was created before entraide named a community's founder (docs/guide.en.md, \"Stewards\")"
    )]
    NoFounder,
    /// The writer is not a current steward.
    #[error("only a steward can do this (`entraide stewards` lists them)")]
    NotASteward,
    /// Appointing a current steward.
    #[error("{} is already a steward", .0.fmt_short())]
    AlreadySteward(AuthorId),
    /// Appointing a retired steward.
    #[error("{} was a steward and was retired: a retired key is never a steward again", .0.fmt_short())]
    RetiredForGood(AuthorId),
    /// Retiring someone who is not a steward.
    #[error("{} is not a steward", .0.fmt_short())]
    NotSteward(AuthorId),
    /// Excluding a current steward.
    #[error("{} is a steward: retire them first (two stewards must agree), then exclude", .0.fmt_short())]
    ExcludingASteward(AuthorId),
    /// Already as many stewards as a sealed record has recipients (reports reach them all).
    #[error(
        "the community already has {} stewards: retire one first",
        crate::sealed::MAX_RECIPIENTS
    )]
    TooManyStewards,
    /// Acting on, or for, an excluded member.
    #[error("{} is excluded from the community", .0.fmt_short())]
    IsExcluded(AuthorId),
    /// The writer already said this; it waits for a second steward, or it stands.
    #[error("you already did this: it waits for a second steward's agreement, or it stands")]
    AlreadySaid,
    /// An exclusion without a reason.
    #[error("say why: the reason is shown to every member")]
    NoReason,
    /// A steward excluding or replacing themselves.
    #[error("you cannot do this to yourself")]
    Yourself,
    /// A succession naming the same key twice.
    #[error("the lost key and the new key are the same")]
    SameKey,
    /// The lost key already has a successor.
    #[error("{} already has a successor", .0.fmt_short())]
    AlreadySucceeded(AuthorId),
    /// Retiring the only steward.
    #[error("the community needs a steward: appoint another one before this one steps down")]
    LastSteward,
    /// A retirement that would undo an exclusion or a succession in force.
    #[error(
        "this retirement would undo what the community decided about {}: another current steward must state it too first (exclude or vouch again)",
        .0.fmt_short()
    )]
    WouldUndo(AuthorId),
}

/// An author id in its canonical spelling (64 lowercase hex digits) only.
fn canonical_author(hex_text: &str) -> Option<AuthorId> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_text, &mut bytes).ok()?;
    (hex::encode(bytes) == hex_text).then_some(AuthorId(bytes))
}

/// A member excluded, as the community sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exclusion {
    /// The stewards who excluded them, with their reasons and when, by steward.
    pub by: Vec<(AuthorId, String, Timestamp)>,
    /// Their changes that stand (any excluding steward held them).
    #[serde(skip)]
    pub known: Cut,
}

/// A lost key and its successor, as the community sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Succession {
    /// The new key.
    pub new: AuthorId,
    /// The stewards who vouched.
    pub by: Vec<AuthorId>,
    /// The old key's changes that stand.
    #[serde(skip)]
    pub known: Cut,
}

/// A statement some current stewards made that needs one more of them to count.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "what", rename_all = "lowercase")]
pub enum Proposal {
    /// Appoint `who` steward.
    Appoint {
        /// Who.
        who: AuthorId,
        /// The steward who proposed it.
        by: AuthorId,
    },
    /// Retire `who` from the stewards.
    Retire {
        /// Who.
        who: AuthorId,
        /// The steward who proposed it.
        by: AuthorId,
    },
    /// `new` succeeds the lost key `old`.
    Vouch {
        /// The lost key.
        old: AuthorId,
        /// The new key.
        new: AuthorId,
        /// The steward who vouched.
        by: AuthorId,
    },
}

/// Who may act for the community, as the feeds say.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Authority {
    /// The founder, when the community names one.
    pub founder: Option<AuthorId>,
    /// The current stewards.
    pub stewards: BTreeSet<AuthorId>,
    /// Former stewards, retired.
    pub retired: BTreeSet<AuthorId>,
    /// Members excluded.
    pub excluded: BTreeMap<AuthorId, Exclusion>,
    /// Lost keys, by old key.
    pub succeeded: BTreeMap<AuthorId, Succession>,
    /// Statements waiting for a second steward.
    pub proposals: Vec<Proposal>,
}

impl Authority {
    /// How many current stewards must agree on an appointment, a retirement or a
    /// succession: two when there are two or more.
    pub fn required(&self) -> usize {
        self.stewards.len().clamp(1, 2)
    }

    /// Whether `author` is a current steward.
    pub fn is_steward(&self, author: &AuthorId) -> bool {
        self.stewards.contains(author)
    }

    /// The changes of `author` that stand, when some are refused: those an exclusion or a
    /// succession knew (both, when both name them). `None`: every change of theirs stands.
    pub fn cut_for(&self, author: &AuthorId) -> Option<Cut> {
        match (self.excluded.get(author), self.succeeded.get(author)) {
            (None, None) => None,
            (Some(e), None) => Some(e.known.clone()),
            (None, Some(s)) => Some(s.known.clone()),
            (Some(e), Some(s)) => {
                let mut cut = e.known.clone();
                cut.union(&s.known);
                Some(cut)
            }
        }
    }

    /// The identity `author` goes by now: their successor's (followed to the end of a
    /// chain of lost keys), or their own.
    pub fn current_identity(&self, author: &AuthorId) -> AuthorId {
        let mut at = *author;
        // A chain is at most as long as the successions; a loop cannot form (a new key
        // succeeds only once per old key, but be safe anyway).
        for _ in 0..=self.succeeded.len() {
            match self.succeeded.get(&at) {
                Some(s) => at = s.new,
                None => break,
            }
        }
        at
    }

    /// `authors` with every key the same people went by or go by: for each, the keys a
    /// chain of successions joins it to, older and newer. What a resident blocked under
    /// one key stays hidden under the others, whichever post they blocked it from.
    pub fn with_their_other_keys(&self, authors: BTreeSet<AuthorId>) -> BTreeSet<AuthorId> {
        if authors.is_empty() || self.succeeded.is_empty() {
            return authors;
        }
        let people: BTreeSet<AuthorId> = authors.iter().map(|a| self.current_identity(a)).collect();
        let mut out = authors;
        out.extend(people.iter().copied());
        out.extend(
            self.succeeded
                .keys()
                .filter(|old| people.contains(&self.current_identity(old)))
                .copied(),
        );
        out
    }
}

/// The verdict of every statement in `feeds` (each writer's statements), for a community
/// founded by `founder`. Pure and deterministic: the rules are in the module's docs.
pub fn evaluate<'a>(
    founder: Option<AuthorId>,
    feeds: impl IntoIterator<Item = (AuthorId, &'a Statements)>,
) -> Authority {
    let writers: BTreeMap<AuthorId, &Statements> = feeds.into_iter().collect();
    let mut authority = Authority {
        founder,
        ..Authority::default()
    };
    let Some(founder) = founder else {
        return authority;
    };
    let mut ever: BTreeSet<AuthorId> = [founder].into();
    let mut retired: BTreeSet<AuthorId> = BTreeSet::new();
    // When the agreeing current stewards said it (the latest of their clocks), if enough
    // of them did.
    let agreed = |current: &BTreeSet<AuthorId>, said: &dyn Fn(&Statements) -> Option<Stamp>| {
        let times: Vec<Stamp> = current
            .iter()
            .filter_map(|s| writers.get(s).and_then(|w| said(w)))
            .collect();
        (times.len() >= current.len().clamp(1, 2)).then(|| times.into_iter().max())?
    };
    // One appointment or retirement at a time, the earliest agreed first (by the writers'
    // own clocks, then by id), since each changes how many must agree on the next. Each
    // step adds an author to `ever` or `retired`, which only grow: it ends.
    loop {
        let current: BTreeSet<AuthorId> = ever.difference(&retired).copied().collect();
        let candidates: BTreeSet<AuthorId> = current
            .iter()
            .filter_map(|s| writers.get(s))
            .flat_map(|w| w.appoint.keys().chain(w.retire.keys()))
            .copied()
            .collect();
        let next = candidates
            .into_iter()
            .filter_map(|who| {
                // Never more stewards than a report has recipients, never none.
                if !ever.contains(&who) && current.len() < crate::sealed::MAX_RECIPIENTS {
                    agreed(&current, &|w| w.appoint.get(&who).copied()).map(|t| (t, who, true))
                } else if current.contains(&who) && current.len() > 1 {
                    agreed(&current, &|w| w.retire.get(&who).copied()).map(|t| (t, who, false))
                } else {
                    None
                }
            })
            .min();
        match next {
            Some((_, who, true)) => {
                ever.insert(who);
            }
            Some((_, who, false)) => {
                retired.insert(who);
            }
            None => break,
        }
    }
    let current: BTreeSet<AuthorId> = ever.difference(&retired).copied().collect();
    let required = current.len().clamp(1, 2);
    // What waits for a second steward.
    let mut proposals = Vec::new();
    for steward in &current {
        let Some(w) = writers.get(steward) else {
            continue;
        };
        for who in w.appoint.keys().filter(|w| !ever.contains(w)) {
            proposals.push(Proposal::Appoint {
                who: *who,
                by: *steward,
            });
        }
        for who in w.retire.keys().filter(|w| current.contains(w)) {
            proposals.push(Proposal::Retire {
                who: *who,
                by: *steward,
            });
        }
    }
    // Exclusions: one current steward, of someone who is not one.
    for steward in &current {
        let Some(w) = writers.get(steward) else {
            continue;
        };
        for (who, statement) in w.exclude.iter().filter(|(w, _)| !current.contains(w)) {
            let e = authority.excluded.entry(*who).or_insert_with(|| Exclusion {
                by: Vec::new(),
                known: Cut::default(),
            });
            e.by.push((*steward, statement.reason.clone(), statement.at));
            e.known.union(&statement.known);
        }
    }
    // Successions: `required` current stewards naming the same new key.
    let mut vouches: BTreeMap<(AuthorId, AuthorId), Vec<(AuthorId, &Cut)>> = BTreeMap::new();
    for steward in &current {
        let Some(w) = writers.get(steward) else {
            continue;
        };
        for (old, v) in w.vouch.iter().filter(|(old, _)| !current.contains(old)) {
            vouches
                .entry((*old, v.new))
                .or_default()
                .push((*steward, &v.known));
        }
    }
    for ((old, new), by) in vouches {
        if by.len() >= required && !authority.succeeded.contains_key(&old) {
            let mut known = Cut::default();
            for (_, cut) in &by {
                known.union(cut);
            }
            authority.succeeded.insert(
                old,
                Succession {
                    new,
                    by: by.iter().map(|(s, _)| *s).collect(),
                    known,
                },
            );
        } else if by.len() < required {
            for (steward, _) in by {
                proposals.push(Proposal::Vouch {
                    old,
                    new,
                    by: steward,
                });
            }
        }
    }
    authority.stewards = current;
    authority.retired = retired;
    authority.proposals = proposals;
    authority
}

/// The acts of stewards on a board: each checks the rules above before writing the
/// statement into the writer's own feed, and the board's verdict follows.
impl Board {
    /// Names the community's founder (from its invite code), its first steward.
    pub fn set_founder(&mut self, founder: Option<AuthorId>) {
        if self.founder != founder {
            self.founder = founder;
            self.settle_authority();
        }
    }

    /// Who may act for the community, as the feeds held say.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// Evaluates the statements again and cuts, in every feed, what an exclusion or a
    /// succession refuses. Returns how many changes were dropped.
    pub(crate) fn settle_authority(&mut self) -> usize {
        let authority = evaluate(
            self.founder,
            self.feeds
                .values()
                .filter(|f| !f.content().authority.is_empty())
                .map(|f| (f.id().author, &f.content().authority)),
        );
        let mut dropped = 0;
        for feed in self.feeds.values_mut() {
            dropped += feed.set_cut(authority.cut_for(&feed.id().author));
        }
        self.authority = authority;
        dropped
    }

    /// The changes of `author` this board holds, in every epoch of their feed.
    fn known_of(&self, author: &AuthorId) -> Cut {
        Cut::of(
            self.feeds
                .values()
                .filter(|f| f.id().author == *author)
                .flat_map(|f| f.held_seqs()),
        )
    }

    fn check_steward(&self, writer: &Writer) -> Result<(), AuthorityError> {
        if self.founder.is_none() {
            return Err(AuthorityError::NoFounder);
        }
        if !self.authority.is_steward(&writer.author()) {
            return Err(AuthorityError::NotASteward);
        }
        Ok(())
    }

    fn own_statements(&self, writer: &Writer) -> Statements {
        self.current_feed(&writer.author())
            .map(|f| f.content().authority.clone())
            .unwrap_or_default()
    }

    fn after_statement(
        &mut self,
        change: Result<LocalChange, WriteError>,
    ) -> Result<LocalChange, WriteError> {
        let change = change?;
        self.settle_authority();
        Ok(change)
    }

    /// The writer, a steward, appoints `who` steward (or agrees to: with two stewards or
    /// more, a second one must).
    pub fn appoint_steward(
        &mut self,
        writer: &Writer,
        who: AuthorId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.check_steward(writer)?;
        let a = &self.authority;
        if a.is_steward(&who) {
            return Err(AuthorityError::AlreadySteward(who).into());
        }
        if a.retired.contains(&who) {
            return Err(AuthorityError::RetiredForGood(who).into());
        }
        if a.stewards.len() >= crate::sealed::MAX_RECIPIENTS {
            return Err(AuthorityError::TooManyStewards.into());
        }
        if a.excluded.contains_key(&who) || a.succeeded.contains_key(&who) {
            return Err(AuthorityError::IsExcluded(who).into());
        }
        if self.own_statements(writer).appoint.contains_key(&who) {
            return Err(AuthorityError::AlreadySaid.into());
        }
        let change = self.own_feed(writer).put_steward(writer, &who, true, now);
        self.after_statement(change)
    }

    /// The writer, a steward, retires steward `who` (or agrees to), themselves included.
    /// The exclusions and successions `who` stated are written again under the writer's
    /// key first, so that they stand once `who` no longer counts; a retirement that would
    /// still undo one (or leave the community with no steward) is refused, and nothing is
    /// written. Returns every change written, last the retirement.
    pub fn retire_steward(
        &mut self,
        writer: &Writer,
        who: AuthorId,
        now: Timestamp,
    ) -> Result<Vec<LocalChange>, WriteError> {
        self.check_steward(writer)?;
        if !self.authority.is_steward(&who) {
            return Err(AuthorityError::NotSteward(who).into());
        }
        if self.authority.stewards.len() == 1 {
            return Err(AuthorityError::LastSteward.into());
        }
        let mine = self.own_statements(writer);
        if mine.retire.contains_key(&who) {
            return Err(AuthorityError::AlreadySaid.into());
        }
        let theirs = self
            .current_feed(&who)
            .map(|f| f.content().authority.clone())
            .unwrap_or_default();
        let exclusions: Vec<(AuthorId, ExclusionStatement)> = theirs
            .exclude
            .into_iter()
            .filter(|(member, _)| !mine.exclude.contains_key(member) && *member != writer.author())
            .collect();
        let vouches: Vec<(AuthorId, VouchStatement)> = theirs
            .vouch
            .into_iter()
            .filter(|(old, _)| !mine.vouch.contains_key(old) && *old != writer.author())
            .collect();
        // What the community would say once this is written: nothing in force may lapse.
        let mut after = mine;
        after.exclude.extend(exclusions.iter().cloned());
        after.vouch.extend(vouches.iter().cloned());
        after.retire.insert(who, (now, i64::MAX));
        let (writer_id, founder) = (writer.author(), self.founder);
        let mut feeds: BTreeMap<AuthorId, &Statements> = self
            .feeds
            .values()
            .filter(|f| !f.content().authority.is_empty())
            .map(|f| (f.id().author, &f.content().authority))
            .collect();
        feeds.insert(writer_id, &after);
        let then = evaluate(founder, feeds);
        let now_in_force = &self.authority;
        if let Some(member) = now_in_force
            .excluded
            .keys()
            .find(|m| !then.excluded.contains_key(m))
        {
            return Err(AuthorityError::WouldUndo(*member).into());
        }
        if let Some(old) = now_in_force
            .succeeded
            .keys()
            .find(|o| !then.succeeded.contains_key(o))
        {
            return Err(AuthorityError::WouldUndo(*old).into());
        }
        let mut changes = Vec::new();
        for (member, statement) in exclusions {
            changes.push(self.own_feed(writer).put_exclusion(
                writer,
                &member,
                &statement.reason,
                &statement.known,
                now,
            )?);
        }
        for (old, statement) in vouches {
            changes.push(self.own_feed(writer).put_vouch(
                writer,
                &old,
                &statement.new,
                &statement.known,
                now,
            )?);
        }
        changes.push(
            self.own_feed(writer)
                .put_steward(writer, &who, false, now)?,
        );
        self.settle_authority();
        Ok(changes)
    }

    /// The writer, a steward, excludes `who` for `reason` (shown to every member): their
    /// posts leave the board, and every change of theirs this board does not hold now is
    /// refused by every honest node.
    pub fn exclude(
        &mut self,
        writer: &Writer,
        who: AuthorId,
        reason: &str,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.check_steward(writer)?;
        if who == writer.author() {
            return Err(AuthorityError::Yourself.into());
        }
        if self.authority.is_steward(&who) {
            return Err(AuthorityError::ExcludingASteward(who).into());
        }
        if reason.trim().is_empty() {
            return Err(AuthorityError::NoReason.into());
        }
        let reason = crate::post::clean_text(crate::post::Field::Message, reason)?;
        if self.own_statements(writer).exclude.contains_key(&who) {
            return Err(AuthorityError::AlreadySaid.into());
        }
        let known = self.known_of(&who);
        let change = self
            .own_feed(writer)
            .put_exclusion(writer, &who, &reason, &known, now);
        self.after_statement(change)
    }

    /// The members a re-key goes to: every author this board holds a feed of, but the
    /// excluded and the lost keys.
    pub fn remaining_members(&self) -> Vec<AuthorId> {
        self.authors()
            .filter(|a| {
                !self.authority.excluded.contains_key(a)
                    && !self.authority.succeeded.contains_key(a)
            })
            .collect()
    }

    /// The writer, a steward, writes the community's new `secret` of `generation`, sealed
    /// to every remaining member and to themselves (`crate::rekey`). `fresh` gives a nonce
    /// and a random seed per notice. Returns the changes written.
    pub fn rekey(
        &mut self,
        writer: &Writer,
        secret: &[u8; 32],
        generation: u32,
        now: Timestamp,
        fresh: impl FnMut() -> ([u8; 8], [u8; 32]),
    ) -> Result<Vec<LocalChange>, WriteError> {
        self.check_steward(writer)?;
        let mut members = self.remaining_members();
        members.push(writer.author());
        let notices =
            crate::rekey::RekeyNotice::make(writer.key(), &members, secret, generation, now, fresh)
                .map_err(|e| WriteError::Document(e.to_string()))?;
        let mut changes = Vec::with_capacity(notices.len());
        for notice in &notices {
            changes.push(self.own_feed(writer).put_rekey(writer, notice, now)?);
        }
        Ok(changes)
    }

    /// The re-key notices of current stewards, newest generation first.
    pub fn rekey_notices(&self) -> Vec<&crate::rekey::RekeyNotice> {
        let mut out: Vec<&crate::rekey::RekeyNotice> = self
            .authority
            .stewards
            .iter()
            .filter_map(|s| self.current_feed(s))
            .flat_map(|f| f.content().rekeys.values())
            .collect();
        out.sort_by(|a, b| b.generation.cmp(&a.generation).then(a.nonce.cmp(&b.nonce)));
        out
    }

    /// The writer, a steward, vouches that `new` is the person who lost key `old` (with
    /// two stewards or more, a second one must too): the board shows `old`'s posts under
    /// `new`, and every change of `old` this board does not hold now is refused.
    pub fn vouch(
        &mut self,
        writer: &Writer,
        old: AuthorId,
        new: AuthorId,
        now: Timestamp,
    ) -> Result<LocalChange, WriteError> {
        self.check_steward(writer)?;
        if old == new {
            return Err(AuthorityError::SameKey.into());
        }
        if old == writer.author() {
            return Err(AuthorityError::Yourself.into());
        }
        let a = &self.authority;
        if a.is_steward(&old) {
            return Err(AuthorityError::ExcludingASteward(old).into());
        }
        // Vouching for the successor in force again is how a current steward confirms it
        // (so that it outlives a retirement); naming another successor is refused.
        if a.succeeded.get(&old).is_some_and(|s| s.new != new) {
            return Err(AuthorityError::AlreadySucceeded(old).into());
        }
        if a.excluded.contains_key(&new) {
            return Err(AuthorityError::IsExcluded(new).into());
        }
        if self
            .own_statements(writer)
            .vouch
            .get(&old)
            .is_some_and(|v| v.new == new)
        {
            return Err(AuthorityError::AlreadySaid.into());
        }
        let known = self.known_of(&old);
        let change = self
            .own_feed(writer)
            .put_vouch(writer, &old, &new, &known, now);
        self.after_statement(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> AuthorId {
        AuthorId([n; 32])
    }

    fn appoint(who: &[u8]) -> Statements {
        Statements {
            appoint: who.iter().map(|n| (id(*n), (1, 0))).collect(),
            ..Statements::default()
        }
    }

    #[test]
    fn the_founder_alone_appoints_then_two_must_agree() {
        let founder = appoint(&[2]);
        let a = evaluate(Some(id(1)), [(id(1), &founder)]);
        assert_eq!(a.stewards, [id(1), id(2)].into());
        assert_eq!(a.required(), 2);

        // With two stewards, one alone cannot appoint a third.
        let founder = appoint(&[2, 3]);
        let a = evaluate(Some(id(1)), [(id(1), &founder)]);
        assert_eq!(a.stewards, [id(1), id(2)].into());
        assert!(a.proposals.contains(&Proposal::Appoint {
            who: id(3),
            by: id(1)
        }));
        let second = appoint(&[3]);
        let a = evaluate(Some(id(1)), [(id(1), &founder), (id(2), &second)]);
        assert_eq!(a.stewards, [id(1), id(2), id(3)].into());
        assert!(a.proposals.is_empty());
    }

    #[test]
    fn statements_of_non_stewards_count_for_nothing() {
        let rogue = Statements {
            appoint: [(id(9), (1, 0))].into(),
            retire: [(id(1), (1, 0))].into(),
            exclude: [(
                id(1),
                ExclusionStatement {
                    at: 1,
                    reason: "x".into(),
                    known: Cut::default(),
                },
            )]
            .into(),
            ..Statements::default()
        };
        let a = evaluate(Some(id(1)), [(id(9), &rogue)]);
        assert_eq!(a.stewards, [id(1)].into());
        assert!(a.excluded.is_empty());
        assert!(a.proposals.is_empty());
        // No founder: no stewards at all.
        assert!(
            evaluate(None, [(id(1), &appoint(&[2]))])
                .stewards
                .is_empty()
        );
    }

    #[test]
    fn retiring_takes_two_and_silences_the_retired() {
        let exclusion = ExclusionStatement {
            at: 5,
            reason: "spam".into(),
            known: Cut([([1; 8], 3)].into()),
        };
        let one = Statements {
            appoint: [(id(2), (1, 0))].into(),
            retire: [(id(2), (9, 0))].into(),
            ..Statements::default()
        };
        let two = Statements {
            exclude: [(id(7), exclusion.clone())].into(),
            ..Statements::default()
        };
        let a = evaluate(Some(id(1)), [(id(1), &one), (id(2), &two)]);
        assert_eq!(
            a.stewards,
            [id(1), id(2)].into(),
            "one of two cannot retire"
        );
        assert!(a.excluded.contains_key(&id(7)));
        // Steward 2 agrees to step down: retired, and their exclusion lapses.
        let two = Statements {
            retire: [(id(2), (9, 0))].into(),
            ..two
        };
        let a = evaluate(Some(id(1)), [(id(1), &one), (id(2), &two)]);
        assert_eq!(a.stewards, [id(1)].into());
        assert_eq!(a.retired, [id(2)].into());
        assert!(a.excluded.is_empty());
        // Never a steward again, even appointed anew.
        let three = appoint(&[2]);
        let a = evaluate(Some(id(1)), [(id(1), &one), (id(2), &two), (id(3), &three)]);
        assert!(!a.is_steward(&id(2)));
    }

    #[test]
    fn a_current_steward_cannot_be_excluded_and_cuts_unite() {
        let ex = |known: Cut| ExclusionStatement {
            at: 1,
            reason: "r".into(),
            known,
        };
        let one = Statements {
            appoint: [(id(2), (1, 0))].into(),
            exclude: [
                (id(2), ex(Cut::default())),
                (id(7), ex(Cut([([1; 8], 3)].into()))),
            ]
            .into(),
            ..Statements::default()
        };
        let two = Statements {
            exclude: [(id(7), ex(Cut([([1; 8], 5), ([2; 8], 1)].into())))].into(),
            ..Statements::default()
        };
        let a = evaluate(Some(id(1)), [(id(1), &one), (id(2), &two)]);
        assert!(!a.excluded.contains_key(&id(2)));
        let cut = a.cut_for(&id(7)).expect("excluded");
        assert_eq!(cut, Cut([([1; 8], 5), ([2; 8], 1)].into()));
        assert_eq!(a.excluded[&id(7)].by.len(), 2);
        assert_eq!(a.cut_for(&id(8)), None);
    }

    #[test]
    fn a_succession_needs_the_required_stewards() {
        let vouch = |new| VouchStatement {
            new,
            at: 1,
            known: Cut::default(),
        };
        let one = Statements {
            appoint: [(id(2), (1, 0))].into(),
            vouch: [(id(5), vouch(id(6)))].into(),
            ..Statements::default()
        };
        let a = evaluate(Some(id(1)), [(id(1), &one)]);
        assert!(a.succeeded.is_empty());
        assert!(a.proposals.contains(&Proposal::Vouch {
            old: id(5),
            new: id(6),
            by: id(1)
        }));
        // The second steward names another key: still nothing.
        let two = Statements {
            vouch: [(id(5), vouch(id(9)))].into(),
            ..Statements::default()
        };
        assert!(
            evaluate(Some(id(1)), [(id(1), &one), (id(2), &two)])
                .succeeded
                .is_empty()
        );
        let two = Statements {
            vouch: [(id(5), vouch(id(6)))].into(),
            ..Statements::default()
        };
        let a = evaluate(Some(id(1)), [(id(1), &one), (id(2), &two)]);
        assert_eq!(a.succeeded[&id(5)].new, id(6));
        assert_eq!(a.current_identity(&id(5)), id(6));
        assert_eq!(a.current_identity(&id(6)), id(6));
        assert_eq!(a.cut_for(&id(5)), Some(Cut::default()));
    }

    #[test]
    fn known_round_trips_and_refuses_junk() {
        let cut = Cut([([0xab; 8], 3), ([1; 8], 12)].into());
        assert_eq!(Cut::parse(&cut.format()), Some(cut));
        assert_eq!(Cut::parse(""), Some(Cut::default()));
        assert_eq!(Cut::parse("ABABABABABABABAB:3"), None);
        assert_eq!(Cut::parse("abab:3"), None);
        assert_eq!(Cut::parse("abababababababab:x"), None);
    }
}

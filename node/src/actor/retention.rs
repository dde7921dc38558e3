//! Retention, the actor's side (`entraide_crdt::epoch`): at each care tick every local
//! resident's feed is compacted when something in it closed long enough ago, and the
//! epochs the board dropped (ours, or neighbours' replaced by a newer one) leave the store
//! once what replaces them is on disk.

use std::collections::HashMap;

use tracing::{debug, info, warn};

use entraide_crdt::epoch::COMPACTION_INTERVAL_SECS;
use entraide_crdt::{AuthorId, FeedId, WriteError};

use crate::NodeError;
use crate::store::RECLAIM_SLACK_BYTES;

use super::{Actor, now};

/// How often unchanged documents are let go (`Actor::let_go_of_idle_documents`).
const LET_GO_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

impl Actor {
    /// Compacts the feed of every local resident that has something to leave out.
    pub(super) fn retention_tick(&mut self) {
        let hosted: Vec<AuthorId> = self.hosted.keys().copied().collect();
        self.acting_as(None, |actor| actor.compact_own());
        for author in hosted {
            self.acting_as(Some(author), |actor| actor.compact_own());
        }
        if !self.dropped_epochs.is_empty() && self.dirty.is_empty() {
            self.remove_dropped_epochs();
        }
        self.reclaim_space();
        self.let_go_of_idle_documents();
    }

    /// Stores the snapshot of every neighbour's feed saved since its last one
    /// (`Store::save_snapshot`): before its document is let go, and when the node stops,
    /// so that the next start reads it without parsing. One that cannot be stored (a full
    /// disk) only means that feed is parsed at the next start.
    pub(super) fn save_snapshots(&mut self) {
        let waiting: Vec<FeedId> = self
            .board
            .feeds()
            .filter(|f| f.stored_without_snapshot().is_some())
            .map(|f| f.id())
            .collect();
        for id in waiting {
            let Some(feed) = self.board.feed(&id) else {
                continue;
            };
            let Some(saved) = feed.stored_without_snapshot() else {
                continue;
            };
            match self.store.save_snapshot(feed, saved) {
                Ok(_) => self.board.feed_mut(id).snapshot_stored(),
                Err(e) => {
                    debug!(feed = %id, error = %e, "could not store a snapshot; the next start parses that feed");
                }
            }
        }
    }

    /// Once a minute, lets go of the neighbours' documents that did not change since they
    /// were stored or read from their snapshots (`Board::let_go_unchanged`): memory holds
    /// the documents in use, not every one received or once sent to a newcomer. What is
    /// needed again is parsed again; a feed still receiving is parsed at most once a
    /// minute more.
    fn let_go_of_idle_documents(&mut self) {
        if self.let_go_at.elapsed() < LET_GO_AFTER {
            return;
        }
        self.let_go_at = tokio::time::Instant::now();
        self.save_snapshots();
        let mut writing: Vec<AuthorId> = self.hosted.keys().copied().collect();
        writing.push(self.writer.author());
        let n = self.board.let_go_unchanged(&writing);
        if n > 0 {
            debug!(documents = n, "let go of documents unchanged for a while");
        }
    }

    /// Writes again into the new epoch what a local resident wrote into the replaced epoch
    /// `id` after it was compacted (on another device, or here before hearing of it):
    /// `Board::carry_over`, on the old epoch as the store still holds it. Nothing to do for
    /// neighbours' epochs, nor when the old epoch no longer reads.
    fn carry_over(&mut self, id: FeedId) -> Result<(), NodeError> {
        let author = id.author;
        let acting = if author == self.writer.author() {
            None
        } else if self.hosted.contains_key(&author) {
            Some(author)
        } else {
            return Ok(());
        };
        let old = match self.store.load_feed(&id)? {
            Some(Ok(old)) => old,
            Some(Err(e)) => {
                warn!(feed = %id, error = %e, "a replaced epoch no longer reads: nothing written into it late can be carried over");
                return Ok(());
            }
            None => return Ok(()),
        };
        self.acting_as(acting, |actor| {
            match actor.board.carry_over(&old, &actor.writer, now()) {
                Ok(Some(change)) => {
                    actor.commit_local(change)?;
                    info!(from = %id, "carried what was written into a replaced epoch over to the new one");
                    Ok(())
                }
                Ok(None) | Err(WriteError::Excluded) => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Gives back to the disk the space of the epochs removed, at most once a day
    /// ([`COMPACTION_INTERVAL_SECS`]) and only after some were: sled keeps the space of
    /// what is removed (`Store::reclaim_space`).
    fn reclaim_space(&mut self) {
        let now = now();
        if !self.removed_since_reclaim
            || self
                .reclaim_checked_at
                .is_some_and(|at| now - at < COMPACTION_INTERVAL_SECS)
        {
            return;
        }
        self.reclaim_checked_at = Some(now);
        match self.store.reclaim_space(reclaim_slack()) {
            Ok(Some((before, after))) => {
                self.removed_since_reclaim = false;
                info!(
                    before,
                    after, "gave back to the disk the space of removed history"
                );
            }
            Ok(None) => self.removed_since_reclaim = false,
            Err(e) => {
                warn!(error = %e, "could not give back the space of removed history; will try again tomorrow")
            }
        }
    }

    fn compact_own(&mut self) {
        let compaction = match self.board.compact(&self.writer, now()) {
            Ok(Some(c)) => c,
            // An excluded resident writes nothing, compactions included.
            Ok(None) | Err(entraide_crdt::WriteError::Excluded) => return,
            Err(e) => {
                tracing::debug!(error = %e, "no compaction");
                return;
            }
        };
        let (from, to, dropped) = (compaction.from, compaction.to, compaction.dropped);
        for change in compaction.changes {
            if let Err(e) = self.commit_local(change) {
                // The new epoch is not all on disk: the old one stays there, and the board
                // reads it again at the next start (the partial new epoch never replaces
                // it). Try again at the next tick.
                warn!(error = %e, %from, "could not store the compacted feed; will try again");
                return;
            }
        }
        info!(%from, %to, dropped, "compacted a resident's feed: what closed long enough ago is left out");
        self.remove_dropped_epochs();
    }

    /// Removes from the store the epochs the board dropped. Called once what replaced them
    /// is stored. One whose carry-over or removal failed waits its turn ([`EpochRetries`]).
    pub(super) fn remove_dropped_epochs(&mut self) {
        self.dropped_epochs.extend(self.board.take_dropped_epochs());
        let now = now();
        for id in std::mem::take(&mut self.dropped_epochs) {
            if !self.epoch_retries.is_due(&id, now) {
                self.dropped_epochs.push(id);
                continue;
            }
            if let Err(e) = self.carry_over(id) {
                // The old epoch stays in the store until what this device wrote into it is
                // in the new one.
                let wait = self.epoch_retries.failed(id, now);
                warn!(feed = %id, error = %e, retry_in_secs = wait, "could not carry what was written into a replaced epoch over to the new one; will retry");
                self.dropped_epochs.push(id);
                continue;
            }
            match self.store.remove_feed(&id) {
                Ok(()) => {
                    self.epoch_retries.succeeded(&id);
                    self.removed_since_reclaim = true;
                }
                Err(e) => {
                    let wait = self.epoch_retries.failed(id, now);
                    warn!(feed = %id, error = %e, retry_in_secs = wait, "could not remove a replaced epoch; will retry");
                    self.dropped_epochs.push(id);
                }
            }
        }
    }
}

/// When a replaced epoch whose carry-over or removal failed is tried again: a minute after
/// the first failure, then twice as long after each one, at most a day
/// ([`COMPACTION_INTERVAL_SECS`]). A failure that lasts (the new epoch full, a disk that
/// stays full) then costs a read of the old epoch and a warning once a day, not at every
/// save and retention tick.
#[derive(Debug, Default)]
pub(super) struct EpochRetries {
    /// For each epoch that failed: when it is next due, and how long it waited last.
    waiting: HashMap<FeedId, (i64, i64)>,
}

impl EpochRetries {
    /// The wait after a first failure, in seconds.
    const FIRST_WAIT_SECS: i64 = 60;

    /// Whether `id` may be tried at `now`: it never failed, or its wait is over.
    fn is_due(&self, id: &FeedId, now: i64) -> bool {
        self.waiting.get(id).is_none_or(|&(due, _)| now >= due)
    }

    /// Records that `id` failed at `now`, and returns how long it now waits, in seconds.
    fn failed(&mut self, id: FeedId, now: i64) -> i64 {
        let wait = match self.waiting.get(&id) {
            Some(&(_, last)) => last.saturating_mul(2).min(COMPACTION_INTERVAL_SECS),
            None => Self::FIRST_WAIT_SECS,
        };
        self.waiting.insert(id, (now.saturating_add(wait), wait));
        wait
    }

    /// Forgets `id`: it left the store.
    fn succeeded(&mut self, id: &FeedId) {
        self.waiting.remove(id);
    }
}

/// Lets a test see a small store rewritten: the slack [`crate::store::Store::reclaim_space`]
/// leaves, in bytes, from `ENTRAIDE_RECLAIM_SLACK_BYTES` ([`RECLAIM_SLACK_BYTES`] when unset
/// or unreadable).
fn reclaim_slack() -> u64 {
    std::env::var("ENTRAIDE_RECLAIM_SLACK_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(RECLAIM_SLACK_BYTES)
}

#[cfg(test)]
mod tests {
    use entraide_crdt::{AuthorKey, FeedId};

    use super::*;

    fn epoch(n: u8) -> FeedId {
        FeedId::first(AuthorKey::from_seed([n; 32]).id())
    }

    #[test]
    fn a_failing_epoch_is_tried_again_later_and_later_then_daily() {
        let (old, other) = (epoch(1), epoch(2));
        let mut retries = EpochRetries::default();
        let mut now = 1_764_000_000;
        assert!(
            retries.is_due(&old, now),
            "an epoch that never failed is due"
        );
        let mut waits = Vec::new();
        for _ in 0..14 {
            let wait = retries.failed(old, now);
            waits.push(wait);
            assert!(
                !retries.is_due(&old, now + wait - 1),
                "not before its wait is over"
            );
            assert!(
                retries.is_due(&other, now),
                "another epoch is not held back"
            );
            now += wait;
            assert!(retries.is_due(&old, now), "due once its wait is over");
        }
        assert_eq!(
            waits[..4],
            [60, 120, 240, 480],
            "a minute, then twice as long each time"
        );
        assert_eq!(
            waits[waits.len() - 3..],
            [COMPACTION_INTERVAL_SECS; 3],
            "at most a day"
        );
        retries.succeeded(&old);
        assert!(
            retries.is_due(&old, 0),
            "an epoch that left the store is forgotten"
        );
        assert!(retries.waiting.is_empty());
    }
}

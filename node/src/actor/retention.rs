//! Retention, the actor's side (`entraide_crdt::epoch`): at each care tick every local
//! resident's feed is compacted when something in it closed long enough ago, and the
//! epochs the board dropped (ours, or neighbours' replaced by a newer one) leave the store
//! once what replaces them is on disk.

use tracing::{info, warn};

use entraide_crdt::AuthorId;

use super::{Actor, now};

impl Actor {
    /// Compacts the feed of every local resident that has something to leave out.
    pub(super) fn retention_tick(&mut self) {
        let hosted: Vec<AuthorId> = self.hosted.keys().copied().collect();
        self.acting_as(None, |actor| actor.compact_own());
        for author in hosted {
            self.acting_as(Some(author), |actor| actor.compact_own());
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
    /// is stored.
    pub(super) fn remove_dropped_epochs(&mut self) {
        self.dropped_epochs.extend(self.board.take_dropped_epochs());
        for id in std::mem::take(&mut self.dropped_epochs) {
            if let Err(e) = self.store.remove_feed(&id) {
                warn!(feed = %id, error = %e, "could not remove a replaced epoch; will retry");
                self.dropped_epochs.push(id);
            }
        }
    }
}

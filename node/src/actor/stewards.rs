//! Stewards, the actor's side: each act is checked and written by the board
//! (`entraide_crdt::authority`), then stored and sent like any change.

use tracing::info;

use super::{Actor, now};
use crate::node::NodeError;
use crate::stewards::{StewardCommand, StewardsView};

impl Actor {
    pub(super) fn handle_steward_command(&mut self, command: StewardCommand) {
        match command {
            StewardCommand::View(reply) => {
                let _ = reply.send(self.stewards_view());
            }
            StewardCommand::Appoint(who, reply) => {
                let _ = reply.send(self.appoint_steward(&who));
            }
            StewardCommand::Retire(who, reply) => {
                let _ = reply.send(self.retire_steward(&who));
            }
            StewardCommand::Exclude(who, reason, reply) => {
                let _ = reply.send(self.exclude(&who, &reason));
            }
            StewardCommand::Vouch(old, new, reply) => {
                let _ = reply.send(self.vouch(&old, &new));
            }
        }
    }

    /// Who the stewards are, as the acting resident sees it.
    pub(super) fn stewards_view(&self) -> StewardsView {
        let board = &self.board;
        StewardsView::of(board.authority(), &self.writer.author(), |a| {
            board.name_of(a)
        })
    }

    fn appoint_steward(&mut self, typed: &str) -> Result<StewardsView, NodeError> {
        let who = self.resolve_member(typed)?;
        let change = self.board.appoint_steward(&self.writer, who, now())?;
        self.commit_local(change)?;
        info!(steward = %who.fmt_short(), "appointed a steward (or agreed to)");
        Ok(self.stewards_view())
    }

    fn retire_steward(&mut self, typed: &str) -> Result<StewardsView, NodeError> {
        let who = self.resolve_member(typed)?;
        for change in self.board.retire_steward(&self.writer, who, now())? {
            self.commit_local(change)?;
        }
        info!(steward = %who.fmt_short(), "retired a steward (or agreed to)");
        Ok(self.stewards_view())
    }

    fn exclude(&mut self, typed: &str, reason: &str) -> Result<StewardsView, NodeError> {
        let who = self.resolve_member(typed)?;
        let change = self.board.exclude(&self.writer, who, reason, now())?;
        self.commit_local(change)?;
        info!(member = %who.fmt_short(), "excluded a member");
        Ok(self.stewards_view())
    }

    fn vouch(&mut self, old: &str, new: &str) -> Result<StewardsView, NodeError> {
        let old = self.resolve_member(old)?;
        let new = self.resolve_member(new)?;
        let change = self.board.vouch(&self.writer, old, new, now())?;
        self.commit_local(change)?;
        info!(old = %old.fmt_short(), new = %new.fmt_short(), "vouched for a new key");
        Ok(self.stewards_view())
    }
}

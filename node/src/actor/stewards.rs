//! Stewards, the actor's side: each act is checked and written by the board
//! (`entraide_crdt::authority`), then stored and sent like any change.

use tracing::info;

use super::{Actor, now};
use crate::node::NodeError;
use entraide_crdt::authority::AuthorityError;
use entraide_crdt::report::{Report, ReportError};

use crate::stewards::{ReportView, StewardCommand, StewardsView, member};

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
            StewardCommand::Report(post, reason, reply) => {
                let _ = reply.send(self.report_post(&post, &reason));
            }
            StewardCommand::Reports(reply) => {
                let _ = reply.send(self.reports());
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
        // Locks the door: the excluded member's copy of the secret opens nothing after.
        self.write_rekey()?;
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

    /// Reports a post to the stewards of the moment (sealed to them).
    fn report_post(&mut self, typed: &str, reason: &str) -> Result<(), NodeError> {
        let id = self.board.resolve_post(typed)?;
        let post = self
            .board
            .post(id, now())
            .ok_or_else(|| NodeError::NoSuchPost(typed.into()))?;
        let stewards: Vec<_> = self.board.authority().stewards.iter().copied().collect();
        if stewards.is_empty() {
            return Err(ReportError::NoStewards.into());
        }
        let now = now();
        let report = Report::new(post.id, post.author, reason, now)?;
        let nonce: [u8; 8] = rand::random();
        let sealed = report.seal(&self.writer.author(), &nonce, &stewards, rand::random())?;
        let change = self.board.put_sealed(&self.writer, nonce, sealed, now)?;
        self.commit_local(change)?;
        info!(post = %post.id, "reported a post to the stewards");
        Ok(())
    }

    /// The reports the acting resident can read, newest first: a steward's only.
    fn reports(&mut self) -> Result<Vec<ReportView>, NodeError> {
        let me = self.writer.author();
        if !self.board.authority().is_steward(&me) {
            return Err(entraide_crdt::WriteError::from(AuthorityError::NotASteward).into());
        }
        self.care_refresh();
        let opened = self.care.get(&me).map(|c| c.reports()).unwrap_or_default();
        let board = &self.board;
        let mut out: Vec<ReportView> = opened
            .into_iter()
            .map(|(reporter, r)| ReportView {
                reporter: member(&reporter, board.name_of(&reporter)),
                post: r.post,
                title: board.post(r.post, now()).map(|p| p.title),
                author: member(&r.author, board.name_of(&r.author)),
                reason: r.reason,
                at: r.at,
            })
            .collect();
        out.sort_by_key(|r| std::cmp::Reverse(r.at));
        Ok(out)
    }
}

//! Blocking (`crate::blocked`): each local resident's own list, applied to what they are
//! shown; nothing is written to any feed.

use entraide_crdt::{AuthorId, Filter, PostView};

use super::{Actor, now};
use crate::blocked::{BlockNote, BlockedView};
use crate::node::NodeError;

impl Actor {
    /// Whom the resident acting blocked, under every key the stewards joined to the one
    /// blocked (`Authority::with_their_other_keys`): blocking someone from a post written
    /// before they lost their key also hides what they write with the new one.
    pub(super) fn blocked_authors(&self) -> std::collections::BTreeSet<AuthorId> {
        self.board
            .authority()
            .with_their_other_keys(self.blocked.of(&self.writer.author()))
    }

    /// `filter` with the acting resident's blocked members left out.
    pub(super) fn reader_filter(&self, mut filter: Filter) -> Filter {
        filter.blocked = self.blocked_authors();
        filter
    }

    /// `posts` without what the acting resident's blocked members said on them.
    pub(super) fn hide_blocked_in(&self, posts: &mut [PostView]) {
        let blocked = self.blocked_authors();
        for post in posts {
            post.hide_from(&blocked);
        }
    }

    /// One post for the acting resident: refused if they blocked its author.
    pub(super) fn shown_post(&self, mut post: PostView) -> Result<PostView, NodeError> {
        let blocked = self.blocked_authors();
        if blocked.contains(&post.author) {
            return Err(NodeError::PostHidden);
        }
        post.hide_from(&blocked);
        Ok(post)
    }

    pub(super) fn block(
        &mut self,
        typed: &str,
        reason: Option<&str>,
    ) -> Result<BlockedView, NodeError> {
        let reader = self.writer.author();
        let who = self.resolve_member(typed)?;
        if who == reader {
            return Err(NodeError::BlockSelf);
        }
        if !self.blocked.has_room(&reader, &who) {
            return Err(NodeError::TooManyBlocked);
        }
        let note = BlockNote::new(reason, now());
        self.store.block(&reader, &who, &note)?;
        self.blocked.insert(reader, who, note.clone());
        Ok(self.blocked_view(who, note))
    }

    pub(super) fn unblock(&mut self, typed: &str) -> Result<BlockedView, NodeError> {
        let reader = self.writer.author();
        let wanted = typed.trim().to_lowercase();
        // Among the blocked first: their name may no longer resolve on the board.
        let listed: Vec<(AuthorId, BlockNote)> = self
            .blocked
            .notes(&reader)
            .into_iter()
            .filter(|(a, _)| {
                !wanted.is_empty()
                    && ((wanted.len() >= 8 && a.to_string().starts_with(&wanted))
                        || a.matches_fingerprint(&wanted)
                        || self
                            .board
                            .name_of(a)
                            .is_some_and(|n| n.to_lowercase() == wanted))
            })
            .collect();
        let (who, note) = match listed.as_slice() {
            [one] => one.clone(),
            [] => return Err(NodeError::NotBlocked(typed.trim().into())),
            _ => return Err(NodeError::SeveralMembers(typed.trim().into())),
        };
        self.store.unblock(&reader, &who)?;
        self.blocked.remove(&reader, &who);
        Ok(self.blocked_view(who, note))
    }

    /// The acting resident's block list, newest first.
    pub(super) fn block_list(&self) -> Vec<BlockedView> {
        let mut list: Vec<BlockedView> = self
            .blocked
            .notes(&self.writer.author())
            .into_iter()
            .map(|(who, note)| self.blocked_view(who, note))
            .collect();
        list.sort_by(|a, b| b.at.cmp(&a.at).then(a.author.cmp(&b.author)));
        list
    }

    fn blocked_view(&self, who: AuthorId, note: BlockNote) -> BlockedView {
        BlockedView {
            author: who,
            name: self.board.name_of(&who),
            fingerprint: who.fmt_short(),
            reason: note.reason,
            at: note.at,
        }
    }
}

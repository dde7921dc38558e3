//! Private messages (`entraide_crdt::message`): between a post's author and a neighbour who
//! responded, sealed to the two of them, read through the resident's sealed-record cache
//! (`crate::care::CareCache`, one pass serves the care register and the messages).

use entraide_crdt::message::{MessageEntry, MessageError, MessageView};
use entraide_crdt::{AuthorId, PostId, PostView};
use tracing::warn;

use super::{Actor, now};
use crate::node::NodeError;

impl Actor {
    /// The post, as the acting resident may see it (a blocked author's is refused).
    fn message_post(&self, typed: &str) -> Result<PostView, NodeError> {
        let id = self.board.resolve_post(typed)?;
        let view = self
            .board
            .post(id, now())
            .ok_or_else(|| NodeError::NoSuchPost(typed.into()))?;
        self.shown_post(view)
    }

    /// The other party of the acting resident's conversation on `post`: the post's author
    /// for a helper; for the author, the helper `to` names, else the accepted helper, else
    /// the only one who responded.
    fn other_party(&self, post: &PostView, to: Option<&str>) -> Result<AuthorId, NodeError> {
        let me = self.writer.author();
        let helpers: Vec<AuthorId> = post.responses.iter().map(|r| r.helper).collect();
        if post.author != me {
            return if helpers.contains(&me) {
                Ok(post.author)
            } else {
                Err(MessageError::NotParties.into())
            };
        }
        if let Some(typed) = to {
            let helper = self.board.resolve_helper(post.id, typed, now())?;
            return if helpers.contains(&helper) {
                Ok(helper)
            } else {
                Err(MessageError::NotParties.into())
            };
        }
        match (post.accepted, helpers.as_slice()) {
            (Some(accepted), _) if helpers.contains(&accepted) => Ok(accepted),
            (_, [one]) => Ok(*one),
            (_, []) => Err(MessageError::NotParties.into()),
            _ => Err(NodeError::NoSuchHelper(
                "several neighbours responded: say which one (--to NAME)".into(),
            )),
        }
    }

    /// Sends a message about `post` to the other party.
    pub(super) fn send_message(
        &mut self,
        post: &str,
        to: Option<&str>,
        text: &str,
    ) -> Result<MessageView, NodeError> {
        let view = self.message_post(post)?;
        let other = self.other_party(&view, to)?;
        let now = now();
        let entry = MessageEntry::message(view.id, other, text, now)?;
        self.seal_message(&entry, now)?;
        let me = self.writer.author();
        let MessageEntry::Message { text, .. } = entry else {
            unreachable!("a message was just made")
        };
        Ok(MessageView {
            post: view.id,
            from: me,
            from_name: self.board.name_of(&me),
            to: other,
            text,
            at: now,
        })
    }

    fn seal_message(&mut self, entry: &MessageEntry, now: i64) -> Result<(), NodeError> {
        let nonce: [u8; 8] = rand::random();
        let sealed = entry.seal(&self.writer.author(), &nonce, rand::random())?;
        let change = self.board.put_sealed(&self.writer, nonce, sealed, now)?;
        self.commit_local(change)
    }

    /// Every message entry the acting resident can open, after opening what is new.
    fn opened_messages(&mut self) -> Vec<(AuthorId, [u8; 8], MessageEntry)> {
        self.care_refresh();
        self.care
            .get(&self.writer.author())
            .map(|c| c.messages())
            .unwrap_or_default()
    }

    /// The acting resident's conversation(s) on `post`, oldest first; none once either
    /// side deleted it.
    pub(super) fn read_messages(&mut self, post: &str) -> Result<Vec<MessageView>, NodeError> {
        let view = self.message_post(post)?;
        let me = self.writer.author();
        let blocked = self.blocked_authors();
        let opened = self.opened_messages();
        let erased = |a: AuthorId, b: AuthorId| {
            opened.iter().any(|(w, _, e)| {
                matches!(e, MessageEntry::MessageErase { post, to, .. }
                    if *post == view.id && ((*w == a && *to == b) || (*w == b && *to == a)))
            })
        };
        let mut out: Vec<MessageView> = opened
            .iter()
            .filter_map(|(writer, _, e)| match e {
                MessageEntry::Message { post, to, text, at } if *post == view.id => {
                    Some((*writer, *to, text, *at))
                }
                _ => None,
            })
            // Only between the post's author and someone who responded, and only ours.
            .filter(|(from, to, _, _)| {
                (*from == me || *to == me)
                    && (*from == view.author || *to == view.author)
                    && !blocked.contains(from)
                    && !erased(*from, *to)
            })
            .map(|(from, to, text, at)| MessageView {
                post: view.id,
                from,
                from_name: self.board.name_of(&from),
                to,
                text: text.clone(),
                at,
            })
            .collect();
        out.sort_by_key(|m| m.at);
        Ok(out)
    }

    /// Deletes the acting resident's conversations on a closed post: their own messages
    /// leave their feed, and a sealed erase tells the other party's node to do the same.
    /// Returns how many messages of theirs were deleted.
    pub(super) fn delete_messages(&mut self, post: &str) -> Result<usize, NodeError> {
        let view = self.message_post(post)?;
        if view.status.is_live() {
            return Err(MessageError::PostOpen.into());
        }
        let me = self.writer.author();
        let opened = self.opened_messages();
        let mut others: Vec<AuthorId> = opened
            .iter()
            .filter_map(|(w, _, e)| match e {
                MessageEntry::Message { post, to, .. } if *post == view.id => {
                    if *w == me {
                        Some(*to)
                    } else if *to == me {
                        Some(*w)
                    } else {
                        None
                    }
                }
                _ => None,
            })
            .collect();
        others.sort();
        others.dedup();
        let now = now();
        for other in others {
            let erase = MessageEntry::MessageErase {
                post: view.id,
                to: other,
                at: now,
            };
            self.seal_message(&erase, now)?;
        }
        Ok(self.erase_own_messages(now, Some(view.id)))
    }

    /// Deletes the acting resident's own messages of every conversation either side
    /// erased (of `only` that post, if given). Returns how many were deleted.
    pub(super) fn erase_own_messages(&mut self, now: i64, only: Option<PostId>) -> usize {
        let me = self.writer.author();
        let opened = self.opened_messages();
        let erased: Vec<(PostId, AuthorId, AuthorId)> = opened
            .iter()
            .filter_map(|(w, _, e)| match e {
                MessageEntry::MessageErase { post, to, .. } => Some((*post, *w, *to)),
                _ => None,
            })
            .collect();
        let mine: Vec<[u8; 8]> = opened
            .iter()
            .filter(|(w, _, _)| *w == me)
            .filter_map(|(_, nonce, e)| match e {
                MessageEntry::Message { post, to, .. }
                    if only.is_none_or(|p| p == *post)
                        && erased.iter().any(|(p, a, b)| {
                            p == post && ((*a == me && b == to) || (a == to && *b == me))
                        }) =>
                {
                    Some(*nonce)
                }
                _ => None,
            })
            .collect();
        if mine.is_empty() {
            return 0;
        }
        match self
            .board
            .delete_sealed(&self.writer, &mine, now)
            .map_err(NodeError::from)
            .and_then(|change| self.commit_local(change))
        {
            Ok(()) => mine.len(),
            Err(e) => {
                warn!(error = %e, "could not delete the messages of an erased conversation");
                0
            }
        }
    }
}

//! Private messages between a post's author and a neighbour who responded to it: a time, a
//! door code, a phone number. Each message is a sealed record ([`crate::sealed`]) in its
//! writer's feed, sealed to the two of them only: every node stores and relays it, only
//! they can open it. The board's public-text rules (no phone numbers) do not apply inside;
//! its length is bounded and its invisible characters are neutralised.
//!
//! Plaintext (JSON, sealed): `{"type": "message", "post", "to", "text", "at"}`, or
//! `{"type": "message_erase", "post", "to", "at"}` when the writer deleted the conversation
//! of a closed post: both parties' nodes then delete their own messages of it and show
//! nothing of it any more.

use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, AuthorKey};
use crate::post::{PostId, Timestamp};
use crate::sealed::{self, SealError};
use crate::text::neutralise;

/// Longest message, in characters.
pub const MAX_PRIVATE_MESSAGE_CHARS: usize = 1000;
/// Longest message, in bytes of UTF-8, so that it always fits a sealed record (3 KiB with
/// its post, its recipient and its time): a thousand letters, fewer emoji.
pub const MAX_PRIVATE_MESSAGE_BYTES: usize = 2800;

/// One sealed entry of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageEntry {
    /// A message from the writer to `to`, about `post`.
    Message {
        /// The post it is about.
        post: PostId,
        /// The other party.
        to: AuthorId,
        /// What it says.
        text: String,
        /// When (writer's clock).
        at: Timestamp,
    },
    /// The writer deleted the conversation with `to` about `post` (a closed post).
    MessageErase {
        /// The post.
        post: PostId,
        /// The other party.
        to: AuthorId,
        /// When.
        at: Timestamp,
    },
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Nothing to send.
    #[error("the message is empty")]
    Empty,
    /// Over [`MAX_PRIVATE_MESSAGE_CHARS`].
    #[error(
        "the message is too long: at most {MAX_PRIVATE_MESSAGE_CHARS} characters (fewer with emoji)"
    )]
    TooLong,
    /// The two are not a post's author and one who responded to it.
    #[error("messages are only between a post's author and a neighbour who responded to it")]
    NotParties,
    /// The conversation can only be deleted once the post is closed.
    #[error("a conversation can be deleted once its post is closed (done, withdrawn or expired)")]
    PostOpen,
    /// Sealing failed (a key that is not a usable point).
    #[error("cannot seal the message: {0}")]
    Seal(#[from] SealError),
}

impl MessageEntry {
    /// A message's entry, its text checked: invisible characters neutralised, trimmed,
    /// not empty, at most [`MAX_PRIVATE_MESSAGE_CHARS`].
    pub fn message(
        post: PostId,
        to: AuthorId,
        text: &str,
        at: Timestamp,
    ) -> Result<Self, MessageError> {
        let text = neutralise(text, true).trim().to_owned();
        if text.is_empty() {
            return Err(MessageError::Empty);
        }
        if text.chars().count() > MAX_PRIVATE_MESSAGE_CHARS
            || text.len() > MAX_PRIVATE_MESSAGE_BYTES
        {
            return Err(MessageError::TooLong);
        }
        Ok(MessageEntry::Message { post, to, text, at })
    }

    /// The post it is about.
    pub fn post(&self) -> PostId {
        match self {
            MessageEntry::Message { post, .. } | MessageEntry::MessageErase { post, .. } => *post,
        }
    }

    /// The other party.
    pub fn to(&self) -> AuthorId {
        match self {
            MessageEntry::Message { to, .. } | MessageEntry::MessageErase { to, .. } => *to,
        }
    }

    /// Seals it, written by `writer` under `nonce`, to the writer and the other party.
    pub fn seal(
        &self,
        writer: &AuthorId,
        nonce: &[u8; 8],
        seed: [u8; 32],
    ) -> Result<Vec<u8>, MessageError> {
        let json = serde_json::to_vec(self).expect("message entries always serialise");
        Ok(sealed::seal(
            writer,
            nonce,
            &[*writer, self.to()],
            &json,
            seed,
        )?)
    }

    /// Reads an opened record (a sealed record's plaintext) as a message entry, if it is
    /// one; the text is neutralised and clipped as it is read.
    pub fn read(plain: &[u8]) -> Option<Self> {
        let mut entry: MessageEntry = serde_json::from_slice(plain).ok()?;
        if let MessageEntry::Message { text, .. } = &mut entry {
            *text = neutralise(text, true)
                .chars()
                .take(MAX_PRIVATE_MESSAGE_CHARS)
                .collect();
        }
        Some(entry)
    }

    /// Opens a sealed record with `key` as a message entry, if `key` is a recipient.
    pub fn open(key: &AuthorKey, writer: &AuthorId, nonce: &[u8; 8], bytes: &[u8]) -> Option<Self> {
        Self::read(&sealed::open(key, writer, nonce, bytes)?)
    }
}

/// A message as the two parties see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// The post it is about.
    pub post: PostId,
    /// Who wrote it.
    pub from: AuthorId,
    /// Their name, if known.
    pub from_name: Option<String>,
    /// To whom.
    pub to: AuthorId,
    /// What it says.
    pub text: String,
    /// When (writer's clock).
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_parties_open_a_message() {
        let (a, b, c) = (
            AuthorKey::from_seed([1; 32]),
            AuthorKey::from_seed([2; 32]),
            AuthorKey::from_seed([3; 32]),
        );
        let post = PostId([7; 8]);
        let entry = MessageEntry::message(post, b.id(), "Code 4512B, 3e gauche, 06 12 34 56 78", 1)
            .unwrap();
        let nonce = [1; 8];
        let bytes = entry.seal(&a.id(), &nonce, [9; 32]).unwrap();
        assert!(
            !bytes.windows(4).any(|w| w == b"4512"),
            "the text is not in clear"
        );
        assert_eq!(
            MessageEntry::open(&a, &a.id(), &nonce, &bytes),
            Some(entry.clone())
        );
        assert_eq!(MessageEntry::open(&b, &a.id(), &nonce, &bytes), Some(entry));
        assert_eq!(MessageEntry::open(&c, &a.id(), &nonce, &bytes), None);
        // Bound to where it was written: copied into C's feed, it does not open.
        assert_eq!(MessageEntry::open(&b, &c.id(), &nonce, &bytes), None);
    }

    #[test]
    fn texts_are_checked() {
        let (post, to) = (PostId([1; 8]), AuthorKey::from_seed([5; 32]).id());
        assert_eq!(
            MessageEntry::message(post, to, " \u{200b} ", 0),
            Err(MessageError::Empty)
        );
        let long = "é".repeat(MAX_PRIVATE_MESSAGE_CHARS + 1);
        assert_eq!(
            MessageEntry::message(post, to, &long, 0),
            Err(MessageError::TooLong)
        );
        assert_eq!(
            MessageEntry::message(post, to, &"😀".repeat(701), 0),
            Err(MessageError::TooLong),
            "bounded in bytes too"
        );
        // The longest messages still fit a sealed record.
        for max in ["é".repeat(MAX_PRIVATE_MESSAGE_CHARS), "😀".repeat(700)] {
            let entry = MessageEntry::message(post, to, &max, i64::MAX).unwrap();
            let writer = AuthorKey::from_seed([4; 32]).id();
            assert!(entry.seal(&writer, &[0; 8], [0; 32]).is_ok());
        }
        // A care entry (or anything else) is not a message.
        assert_eq!(MessageEntry::read(br#"{"type":"care_take"}"#), None);
    }
}

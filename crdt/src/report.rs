//! Reports to the stewards: a member tells the stewards, and only them, that a post breaks
//! the community's rules. A report is a sealed record ([`crate::sealed`]) in the
//! reporter's feed, sealed to the stewards of the moment (at most
//! [`crate::sealed::MAX_RECIPIENTS`]): every node stores and relays it, only those stewards
//! can open it. A steward appointed later cannot read earlier reports.
//!
//! Plaintext (JSON, sealed): `{"type": "report", "post", "author", "reason", "at"}`.

use serde::{Deserialize, Serialize};

use crate::author::{AuthorId, AuthorKey};
use crate::post::{PostId, Timestamp};
use crate::sealed::{self, SealError};
use crate::text::neutralise;

/// Longest reason, in characters.
pub const MAX_REPORT_CHARS: usize = 500;

/// A report, as sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "report")]
pub struct Report {
    /// The post reported.
    pub post: PostId,
    /// Its author.
    pub author: AuthorId,
    /// Why.
    pub reason: String,
    /// When (the reporter's clock).
    pub at: Timestamp,
}

/// Why a report was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// No reason.
    #[error("say why you report this post: only the stewards read it")]
    Empty,
    /// Over [`MAX_REPORT_CHARS`].
    #[error("the reason is too long: at most {MAX_REPORT_CHARS} characters")]
    TooLong,
    /// The community has no stewards to report to.
    #[error("this community has no stewards to report to")]
    NoStewards,
    /// Sealing failed (a key that is not a usable point).
    #[error("cannot seal the report: {0}")]
    Seal(#[from] SealError),
}

impl Report {
    /// A report, its reason checked: invisible characters neutralised, trimmed, not empty,
    /// at most [`MAX_REPORT_CHARS`].
    pub fn new(
        post: PostId,
        author: AuthorId,
        reason: &str,
        at: Timestamp,
    ) -> Result<Self, ReportError> {
        let reason = neutralise(reason, true).trim().to_owned();
        if reason.is_empty() {
            return Err(ReportError::Empty);
        }
        if reason.chars().count() > MAX_REPORT_CHARS {
            return Err(ReportError::TooLong);
        }
        Ok(Self {
            post,
            author,
            reason,
            at,
        })
    }

    /// Seals it, written by `writer` under `nonce`, to `stewards` (at most
    /// [`crate::sealed::MAX_RECIPIENTS`] of them: the first ones by id beyond that).
    pub fn seal(
        &self,
        writer: &AuthorId,
        nonce: &[u8; 8],
        stewards: &[AuthorId],
        seed: [u8; 32],
    ) -> Result<Vec<u8>, ReportError> {
        if stewards.is_empty() {
            return Err(ReportError::NoStewards);
        }
        let to: Vec<AuthorId> = stewards
            .iter()
            .take(sealed::MAX_RECIPIENTS)
            .copied()
            .collect();
        let json = serde_json::to_vec(self).expect("reports always serialise");
        Ok(sealed::seal(writer, nonce, &to, &json, seed)?)
    }

    /// Reads an opened record as a report, if it is one; the reason is neutralised and
    /// clipped as it is read.
    pub fn read(plain: &[u8]) -> Option<Self> {
        let mut report: Report = serde_json::from_slice(plain).ok()?;
        report.reason = neutralise(&report.reason, true)
            .chars()
            .take(MAX_REPORT_CHARS)
            .collect();
        Some(report)
    }

    /// Opens a sealed record with `key` as a report, if `key` is a recipient.
    pub fn open(key: &AuthorKey, writer: &AuthorId, nonce: &[u8; 8], bytes: &[u8]) -> Option<Self> {
        Self::read(&sealed::open(key, writer, nonce, bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stewards_open_a_report() {
        let (reporter, steward, other) = (
            AuthorKey::from_seed([1; 32]),
            AuthorKey::from_seed([2; 32]),
            AuthorKey::from_seed([3; 32]),
        );
        let report = Report::new(PostId([4; 8]), other.id(), "  insultes\u{200b} ", 5).unwrap();
        assert_eq!(report.reason, "insultes");
        let nonce = [9; 8];
        let bytes = report
            .seal(&reporter.id(), &nonce, &[steward.id()], [7; 32])
            .unwrap();
        assert_eq!(
            Report::open(&steward, &reporter.id(), &nonce, &bytes),
            Some(report)
        );
        assert_eq!(Report::open(&other, &reporter.id(), &nonce, &bytes), None);
        assert_eq!(
            Report::open(&reporter, &reporter.id(), &nonce, &bytes),
            None
        );
        assert_eq!(
            Report::new(PostId([4; 8]), other.id(), " ", 5),
            Err(ReportError::Empty)
        );
        let e = Report::new(PostId([4; 8]), other.id(), "x", 5)
            .unwrap()
            .seal(&reporter.id(), &nonce, &[], [7; 32]);
        assert_eq!(e, Err(ReportError::NoStewards));
    }
}

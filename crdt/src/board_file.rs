//! The board as one file, to carry it where no network reaches (a USB stick, a laptop
//! taken to the next building): `entraide export FILE` writes it, `entraide import FILE`
//! reads it back on any node, and every feed in it is checked exactly as if a peer had
//! sent it ([`crate::Board::receive`]). protocol.md section 15 has the bytes.
//!
//! ```text
//! file     = magic (16: "ENTRAIDE-BOARD\n\0") || version (1: 0x01) || made at (8, i64 BE)
//!            || record* || end
//! record   = length (4, u32 BE, 1 ..= MAX_RECORD_BYTES) || CBOR FeedRecord
//! end      = 0x00000000 || sha256(every byte before this hash) (32)
//! ```
//!
//! Each record holds one feed: its saved document (the whole-document chunk a peer would
//! send a fresh node, followed by changes still waiting for dependencies) and the
//! signatures over its heads. Nothing in the file is trusted: a record that fails
//! validation is refused alone, the others are kept; a file cut short or changed after it
//! was written is reported as such.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::limits::{MAX_DOCUMENT_BYTES, MAX_SIGNED_HEADS_PER_FEED};
use crate::post::Timestamp;
use crate::signed_heads::{FeedId, SignedHeads};

/// The first 16 bytes of a board file.
pub const MAGIC: &[u8; 16] = b"ENTRAIDE-BOARD\n\0";
/// The format written.
pub const VERSION: u8 = 1;
/// Largest record: a feed document at its limit, its signatures and the CBOR around them.
pub const MAX_RECORD_BYTES: usize = MAX_DOCUMENT_BYTES + 64 * 1024;
const HEADER_BYTES: usize = 16 + 1 + 8;

/// One feed in a board file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedRecord {
    /// The feed.
    pub feed: FeedId,
    /// Its saved bytes (`Feed::save`): the document, then changes waiting for
    /// dependencies.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// The author's signatures over its heads (at most [`MAX_SIGNED_HEADS_PER_FEED`]).
    pub signed: Vec<SignedHeads>,
}

/// Why a board file could not be read (past the records already read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BoardFileError {
    /// Not a board file at all.
    #[error("this is not an entraide board file (made by `entraide export`)")]
    NotABoardFile,
    /// Written by a newer entraide.
    #[error(
        "this board file was made by a newer version of entraide (format {0}): update entraide"
    )]
    UnsupportedVersion(u8),
    /// The file ends before its end mark.
    #[error(
        "the file is cut short (after {records} feeds): copy it again from the device that made it"
    )]
    Truncated {
        /// Records read whole before the cut.
        records: usize,
    },
    /// A record's length is out of bounds, or its bytes are not a feed record.
    #[error("feed {index} of the file is damaged ({reason}); the feeds after it cannot be read")]
    DamagedRecord {
        /// Its position (from 1).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The final hash does not match: changed or damaged after it was written.
    #[error(
        "the file was changed or damaged after it was written (its check value does not match)"
    )]
    Tampered,
    /// Bytes after the end mark.
    #[error("the file has bytes after its end: it was changed after it was written")]
    TrailingBytes,
}

/// Writes a board file.
#[derive(Debug)]
pub struct BoardFileWriter {
    out: Vec<u8>,
    records: usize,
}

impl BoardFileWriter {
    /// A file made at `now`.
    pub fn new(now: Timestamp) -> Self {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&now.to_be_bytes());
        Self { out, records: 0 }
    }

    /// Adds one feed. A record over [`MAX_RECORD_BYTES`] is left out (no reader would
    /// take it): returns whether it went in.
    pub fn add(&mut self, record: &FeedRecord) -> bool {
        let mut bytes = Vec::new();
        if ciborium::into_writer(record, &mut bytes).is_err() || bytes.len() > MAX_RECORD_BYTES {
            return false;
        }
        self.out
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.out.extend_from_slice(&bytes);
        self.records += 1;
        true
    }

    /// How many feeds went in.
    pub fn records(&self) -> usize {
        self.records
    }

    /// The file's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&0u32.to_be_bytes());
        let hash = Sha256::digest(&self.out);
        self.out.extend_from_slice(&hash);
        self.out
    }
}

/// Reads a board file record by record, never trusting a length.
#[derive(Debug)]
pub struct BoardFileReader<'a> {
    bytes: &'a [u8],
    at: usize,
    records: usize,
    made_at: Timestamp,
    done: bool,
}

impl<'a> BoardFileReader<'a> {
    /// Checks the header.
    pub fn new(bytes: &'a [u8]) -> Result<Self, BoardFileError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(BoardFileError::NotABoardFile);
        }
        if bytes.len() < HEADER_BYTES {
            return Err(BoardFileError::Truncated { records: 0 });
        }
        if bytes[16] != VERSION {
            return Err(BoardFileError::UnsupportedVersion(bytes[16]));
        }
        let mut made = [0u8; 8];
        made.copy_from_slice(&bytes[17..25]);
        Ok(Self {
            bytes,
            at: HEADER_BYTES,
            records: 0,
            made_at: i64::from_be_bytes(made),
            done: false,
        })
    }

    /// When the file was made (the writer's clock).
    pub fn made_at(&self) -> Timestamp {
        self.made_at
    }

    /// Records read so far.
    pub fn records(&self) -> usize {
        self.records
    }

    /// How far into the file the reader is, in bytes (for progress).
    pub fn position(&self) -> usize {
        self.at
    }

    /// The next feed, `None` at a good end, or why the rest cannot be read. After an
    /// error or the end, always `None`.
    pub fn next_record(&mut self) -> Option<Result<FeedRecord, BoardFileError>> {
        if self.done {
            return None;
        }
        let result = self.read_one();
        if !matches!(result, Some(Ok(_))) {
            self.done = true;
        }
        result
    }

    fn read_one(&mut self) -> Option<Result<FeedRecord, BoardFileError>> {
        let truncated = BoardFileError::Truncated {
            records: self.records,
        };
        let Some(len_bytes) = self.bytes.get(self.at..self.at + 4) else {
            return Some(Err(truncated));
        };
        let len =
            u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]) as usize;
        if len == 0 {
            let end = self.at + 4;
            let Some(hash) = self.bytes.get(end..end + 32) else {
                return Some(Err(truncated));
            };
            if Sha256::digest(&self.bytes[..end]).as_slice() != hash {
                return Some(Err(BoardFileError::Tampered));
            }
            if self.bytes.len() > end + 32 {
                return Some(Err(BoardFileError::TrailingBytes));
            }
            self.at = self.bytes.len();
            return None;
        }
        let index = self.records + 1;
        if len > MAX_RECORD_BYTES {
            return Some(Err(BoardFileError::DamagedRecord {
                index,
                reason: format!("a length of {len} bytes, at most {MAX_RECORD_BYTES}"),
            }));
        }
        let start = self.at + 4;
        let Some(body) = self.bytes.get(start..start + len) else {
            return Some(Err(truncated));
        };
        let record: FeedRecord = match ciborium::from_reader(body) {
            Ok(r) => r,
            Err(e) => {
                return Some(Err(BoardFileError::DamagedRecord {
                    index,
                    reason: e.to_string(),
                }));
            }
        };
        if record.signed.len() > MAX_SIGNED_HEADS_PER_FEED {
            return Some(Err(BoardFileError::DamagedRecord {
                index,
                reason: format!("{} signatures", record.signed.len()),
            }));
        }
        self.at = start + len;
        self.records += 1;
        Some(Ok(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::author::AuthorKey;

    fn record(n: u8) -> FeedRecord {
        FeedRecord {
            feed: FeedId::first(AuthorKey::from_seed([n; 32]).id()),
            data: vec![n; 10],
            signed: Vec::new(),
        }
    }

    fn read_all(bytes: &[u8]) -> (Vec<FeedRecord>, Option<BoardFileError>) {
        let mut reader = match BoardFileReader::new(bytes) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::new();
        while let Some(r) = reader.next_record() {
            match r {
                Ok(r) => out.push(r),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    #[test]
    fn a_file_round_trips_and_every_kind_of_damage_is_named() {
        let mut w = BoardFileWriter::new(1_764_000_000);
        assert!(w.add(&record(1)) && w.add(&record(2)));
        let file = w.finish();
        assert_eq!(read_all(&file), (vec![record(1), record(2)], None));
        assert_eq!(
            BoardFileReader::new(&file).unwrap().made_at(),
            1_764_000_000
        );

        // Cut anywhere: the whole records before the cut, and "cut short".
        let (kept, err) = read_all(&file[..file.len() - 36]);
        assert_eq!(kept.len(), 2);
        assert_eq!(err, Some(BoardFileError::Truncated { records: 2 }));
        let (kept, err) = read_all(&file[..40]);
        assert!(kept.is_empty());
        assert_eq!(err, Some(BoardFileError::Truncated { records: 0 }));
        // A byte changed inside a record's data: read, but the end says so.
        let mut changed = file.clone();
        changed[HEADER_BYTES + 20] ^= 1;
        assert_eq!(read_all(&changed).1, Some(BoardFileError::Tampered));
        // A huge length: refused without reading (or allocating) it.
        let mut huge = file.clone();
        huge[HEADER_BYTES..HEADER_BYTES + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            read_all(&huge).1,
            Some(BoardFileError::DamagedRecord { index: 1, .. })
        ));
        let mut extra = file.clone();
        extra.push(0);
        assert_eq!(read_all(&extra).1, Some(BoardFileError::TrailingBytes));
        assert_eq!(read_all(b"hello").1, Some(BoardFileError::NotABoardFile));
        let mut newer = file;
        newer[16] = 9;
        assert_eq!(
            read_all(&newer).1,
            Some(BoardFileError::UnsupportedVersion(9))
        );
    }
}

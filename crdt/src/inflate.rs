//! How far a chunk inflates, measured before automerge inflates it.
//!
//! automerge 0.12 inflates deflated data whole (`DeflateDecoder::read_to_end`) while it
//! parses a chunk, before anyone can see how large the result is: a compressed change
//! chunk (type 2) is raw deflate after its header, and a document chunk (type 0) may mark
//! any of its columns deflated (bit 3 of the column spec). Deflate reaches about 1000:1,
//! so a document of a few KiB can make automerge allocate hundreds of MiB.
//!
//! Here the same bytes go through the same decoder, but into a reader that stops one
//! byte past a budget and a writer that keeps nothing, so measuring costs the decoder's
//! state and a stack buffer, whatever the data claims. Nothing in the chunk is trusted:
//! every count and length is read as automerge reads it and checked against the bytes
//! that are there. The walk follows automerge's own parser (`storage/document.rs`) up to
//! the column data, the last thing it reads before inflating; whatever automerge checks
//! later (the head indices after the columns, the columns' order and contents, the
//! checksum) it still checks, after this.
//!
//! Bundle chunks (type 3) never get this far: `crate::validation` refuses them on their
//! type. Change chunks (type 1) are never inflated: automerge refuses a deflated column in
//! one.

use std::io::{self, Read};

use crate::leb128::take_uleb128;
use crate::limits::{MAX_CHANGE_BYTES, MAX_INFLATED_DOCUMENT_BYTES};
use crate::validation::{CHUNK_DOCUMENT, ValidationFailure, split_chunks};

/// Bytes of a change hash (a document lists its heads in full).
const HASH_BYTES: u64 = 32;
/// The bit of a column spec that marks its data deflated.
const DEFLATE_BIT: u64 = 0b1000;

/// A column as a document lists it: its spec and the length of its data in the chunk.
struct Column {
    spec: u64,
    len: u64,
}

fn undecodable(reason: impl Into<String>) -> ValidationFailure {
    ValidationFailure::Undecodable {
        reason: reason.into(),
    }
}

/// Refuses a compressed change chunk (type 2) that inflates beyond [`MAX_CHANGE_BYTES`].
/// `ChangeTooLarge { size }` reports the limit plus one: inflation stops there.
pub(crate) fn check_compressed_change(chunk: &[u8]) -> Result<(), ValidationFailure> {
    let data = chunk_data(chunk)?;
    let inflated = inflated_len(data, MAX_CHANGE_BYTES as u64)
        .map_err(|e| undecodable(format!("bad compressed change: {e}")))?;
    if inflated > MAX_CHANGE_BYTES as u64 {
        return Err(ValidationFailure::ChangeTooLarge {
            size: inflated as usize,
        });
    }
    Ok(())
}

/// Refuses a document chunk (type 0) whose size, with every deflated column counted at
/// its inflated length, is over [`MAX_INFLATED_DOCUMENT_BYTES`]: `InflatesTooFar`. Each
/// deflated column is inflated only as far as what is left of that budget, plus one byte.
/// A chunk whose lists run past its end is `Undecodable` (automerge refuses it too, before
/// inflating).
///
/// The layout read, after the chunk header (`docs/protocol.md` section 5.1):
///
/// ```text
/// actors        LEB128 count, then for each: LEB128 length, then the actor id
/// heads         LEB128 count, then that many 32-byte change hashes
/// change cols   LEB128 count, then for each: LEB128 column spec, LEB128 data length
/// op cols       the same
/// column data   the change columns' data, then the op columns', in listed order
/// ```
pub(crate) fn check_document(chunk: &[u8]) -> Result<(), ValidationFailure> {
    let mut rest = chunk_data(chunk)?;
    let actors = take(&mut rest, "actor count")?;
    for _ in 0..actors {
        let len = take(&mut rest, "actor length")?;
        skip(&mut rest, len, "actor id")?;
    }
    let heads = take(&mut rest, "head count")?;
    skip(&mut rest, heads.saturating_mul(HASH_BYTES), "heads")?;
    let change_columns = column_list(&mut rest)?;
    let op_columns = column_list(&mut rest)?;
    let limit = MAX_INFLATED_DOCUMENT_BYTES as u64;
    let too_far = ValidationFailure::InflatesTooFar {
        limit: MAX_INFLATED_DOCUMENT_BYTES,
    };
    // Everything but the deflated columns counts as it is.
    let mut size = chunk.len() as u64;
    for column in change_columns.iter().chain(&op_columns) {
        let data = skip(&mut rest, column.len, "column data")?;
        if column.spec & DEFLATE_BIT == 0 || data.is_empty() {
            continue;
        }
        size -= column.len;
        let inflated = inflated_len(data, limit.saturating_sub(size))
            .map_err(|e| undecodable(format!("bad deflated column: {e}")))?;
        size = size.saturating_add(inflated);
        if size > limit {
            return Err(too_far);
        }
    }
    if size > limit {
        return Err(too_far);
    }
    Ok(())
}

/// [`check_document`] on every document chunk of `data` (automerge chunks laid end to end).
pub(crate) fn check_documents(data: &[u8]) -> Result<(), ValidationFailure> {
    for (kind, chunk) in split_chunks(data)? {
        if kind == CHUNK_DOCUMENT {
            check_document(chunk)?;
        }
    }
    Ok(())
}

/// The data of a chunk `crate::validation::split_chunks` cut out (after its header).
fn chunk_data(chunk: &[u8]) -> Result<&[u8], ValidationFailure> {
    let mut rest = chunk
        .get(9..)
        .ok_or_else(|| undecodable("bad chunk header"))?;
    let len = take(&mut rest, "chunk length")?;
    skip(&mut rest, len, "chunk data")
}

/// A column list: a count, then each column's spec and length. The count is not trusted:
/// each column read takes at least two bytes of the chunk.
fn column_list(rest: &mut &[u8]) -> Result<Vec<Column>, ValidationFailure> {
    let count = take(rest, "column count")?;
    let mut columns = Vec::new();
    for _ in 0..count {
        let spec = take(rest, "column spec")?;
        if spec > u64::from(u32::MAX) {
            // automerge reads specs as 32-bit numbers and refuses this one.
            return Err(undecodable("column spec over 32 bits"));
        }
        let len = take(rest, "column length")?;
        columns.push(Column { spec, len });
    }
    Ok(columns)
}

fn take(rest: &mut &[u8], what: &str) -> Result<u64, ValidationFailure> {
    take_uleb128(rest).ok_or_else(|| undecodable(format!("document chunk: bad {what}")))
}

/// The next `len` bytes, moving `rest` past them.
fn skip<'a>(rest: &mut &'a [u8], len: u64, what: &str) -> Result<&'a [u8], ValidationFailure> {
    let len = usize::try_from(len)
        .ok()
        .filter(|len| *len <= rest.len())
        .ok_or_else(|| undecodable(format!("document chunk: {what} past its end")))?;
    let (taken, left) = rest.split_at(len);
    *rest = left;
    Ok(taken)
}

/// How many bytes raw deflate data inflates to, counting no further than `limit + 1`.
/// The inflated bytes are thrown away as they come.
fn inflated_len(deflated: &[u8], limit: u64) -> io::Result<u64> {
    let mut bounded = flate2::bufread::DeflateDecoder::new(deflated).take(limit.saturating_add(1));
    io::copy(&mut bounded, &mut io::sink())
}

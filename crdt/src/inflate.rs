//! How far a chunk expands, measured before automerge expands it.
//!
//! automerge 0.12 trusts two kinds of counts in a chunk before anyone can see what they
//! cost:
//!
//! - **Deflate.** It inflates deflated data whole (`DeflateDecoder::read_to_end`) while it
//!   parses a chunk: a compressed change chunk (type 2) is raw deflate after its header,
//!   and a document chunk (type 0) may mark any of its columns deflated (bit 3 of the
//!   column spec). Deflate reaches about 1000:1.
//! - **Run lengths.** Columns hold one row per change or per operation, run-length
//!   encoded: a run of four billion rows takes six bytes. Loading a document, automerge
//!   collects the change columns into vectors (16 million changes in a 52-byte document:
//!   201 MB allocated) and builds every operation (4 million in 104 bytes: 327 MB);
//!   reading a change chunk, it walks every operation (a million in 68 bytes: 0.2 s).
//!
//! Figures: `cargo test -p entraide-crdt --test inflation -- --nocapture --test-threads 1`.
//!
//! Here the same bytes are read first, through a reader that stops one byte past a budget
//! and keeps nothing, and every column's rows are counted run by run, so measuring costs
//! the decoder's state and a small buffer, whatever the chunk claims. Nothing in the chunk
//! is trusted: every count and length is read as automerge reads it and checked against
//! the bytes that are there. The walk follows automerge's own parsers
//! (`storage/document.rs`, `storage/change.rs`) up to the column data; whatever automerge
//! checks later (the columns' order and contents, the checksum) it still checks, after
//! this.
//!
//! Bundle chunks (type 3) never get this far: `crate::validation` refuses them on their
//! type. `docs/protocol.md` section 5.1 gives the formats and the bounds.

use std::io::{self, BufRead, BufReader, Read};

use crate::leb128::take_uleb128;
use crate::limits::{
    MAX_CHANGE_BYTES, MAX_CHANGE_OPS, MAX_CHANGES_PER_BATCH, MAX_DOCUMENT_OPS,
    MAX_INFLATED_DOCUMENT_BYTES,
};
use crate::validation::{CHUNK_DOCUMENT, ValidationFailure, split_chunks};

/// Bytes of a change hash.
const HASH_BYTES: u64 = 32;
/// The bit of a column spec that marks its data deflated.
const DEFLATE_BIT: u64 = 0b1000;
/// Column types (the low three bits of a spec) whose rows are not run-length encoded:
/// raw values, whose bytes are counted by the value metadata column's rows.
const VALUE_RAW: u64 = 7;
/// Booleans: alternating run lengths, false first.
const BOOLEAN: u64 = 4;
/// Strings: each value is a length and that many bytes.
const STRING: u64 = 5;
/// In a document's change columns, the column of dependency indices (id 4, delta): one
/// row per dependency, not per change.
const DEPENDENCY_VALUES: u64 = (4 << 4) | 3;

/// A column as a chunk lists it: its spec and the length of its data in the chunk.
struct Column {
    spec: u64,
    len: u64,
}

/// What a column's rows are bounded by.
#[derive(Clone, Copy)]
enum Rows {
    /// One row per change of a document: over the bound is `TooManyChanges`, the
    /// verdict the document would get once loaded.
    Changes,
    /// Anything else: over the bound is `TooManyRows`.
    AtMost(usize),
}

fn undecodable(reason: impl Into<String>) -> ValidationFailure {
    ValidationFailure::Undecodable {
        reason: reason.into(),
    }
}

/// Refuses a change chunk (type 1) with a column of more than [`MAX_CHANGE_OPS`] rows.
pub(crate) fn check_change(chunk: &[u8]) -> Result<(), ValidationFailure> {
    check_change_data(chunk_data(chunk)?)
}

/// Refuses a compressed change chunk (type 2) that inflates beyond [`MAX_CHANGE_BYTES`]
/// (`ChangeTooLarge { size }`, reporting the limit plus one: inflation stops there), then
/// as [`check_change`].
pub(crate) fn check_compressed_change(chunk: &[u8]) -> Result<(), ValidationFailure> {
    let mut inflated = Vec::new();
    flate2::bufread::DeflateDecoder::new(chunk_data(chunk)?)
        .take(MAX_CHANGE_BYTES as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| undecodable(format!("bad compressed change: {e}")))?;
    if inflated.len() > MAX_CHANGE_BYTES {
        return Err(ValidationFailure::ChangeTooLarge {
            size: inflated.len(),
        });
    }
    check_change_data(&inflated)
}

/// The data of a change chunk, as `docs/protocol.md` section 5.1 lists it.
fn check_change_data(mut rest: &[u8]) -> Result<(), ValidationFailure> {
    let rest = &mut rest;
    let deps = take(rest, "dependency count")?;
    skip(rest, deps.saturating_mul(HASH_BYTES), "dependencies")?;
    skip_prefixed(rest, "actor")?;
    take(rest, "sequence number")?;
    take(rest, "start op")?;
    take(rest, "time")?;
    skip_prefixed(rest, "message")?;
    let others = take(rest, "other actor count")?;
    for _ in 0..others {
        skip_prefixed(rest, "other actor")?;
    }
    for column in column_list(rest)? {
        let data = skip(rest, column.len, "column data")?;
        if column.spec & DEFLATE_BIT != 0 {
            // automerge refuses it too, before reading any operation.
            return Err(undecodable("a change chunk with a deflated column"));
        }
        count_rows(column.spec, &mut &data[..], Rows::AtMost(MAX_CHANGE_OPS))?;
    }
    Ok(())
}

/// Refuses a document chunk (type 0) that expands too far, before automerge expands it:
///
/// - its size, with every deflated column counted at its inflated length, is over
///   [`MAX_INFLATED_DOCUMENT_BYTES`]: `InflatesTooFar` (each deflated column is inflated
///   only as far as what is left of that budget, plus one byte);
/// - a change column lists more than [`MAX_CHANGES_PER_BATCH`] rows: `TooManyChanges`;
/// - an operation column, or the change column of dependencies, lists more than
///   [`MAX_DOCUMENT_OPS`] rows: `TooManyRows`.
///
/// A chunk whose lists or runs go past their end is `Undecodable`. The layout read, after
/// the chunk header:
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
    let rest = &mut rest;
    let actors = take(rest, "actor count")?;
    for _ in 0..actors {
        skip_prefixed(rest, "actor")?;
    }
    let heads = take(rest, "head count")?;
    skip(rest, heads.saturating_mul(HASH_BYTES), "heads")?;
    let change_columns = column_list(rest)?;
    let op_columns = column_list(rest)?;
    let limit = MAX_INFLATED_DOCUMENT_BYTES as u64;
    let too_far = ValidationFailure::InflatesTooFar {
        limit: MAX_INFLATED_DOCUMENT_BYTES,
    };
    let per_change = |column: &Column| {
        if column.spec & !DEFLATE_BIT == DEPENDENCY_VALUES {
            Rows::AtMost(MAX_DOCUMENT_OPS)
        } else {
            Rows::Changes
        }
    };
    let columns = change_columns.iter().map(|c| (c, per_change(c))).chain(
        op_columns
            .iter()
            .map(|c| (c, Rows::AtMost(MAX_DOCUMENT_OPS))),
    );
    // Everything but the deflated columns counts as it is.
    let mut size = chunk.len() as u64;
    for (column, rows) in columns {
        let data = skip(rest, column.len, "column data")?;
        if column.spec & DEFLATE_BIT == 0 {
            count_rows(column.spec, &mut &data[..], rows)?;
            continue;
        }
        size -= column.len;
        let budget = limit.saturating_sub(size);
        let inflating = flate2::bufread::DeflateDecoder::new(data).take(budget.saturating_add(1));
        let mut reader = BufReader::new(Counted::new(inflating));
        let counted = count_rows(column.spec, &mut reader, rows);
        // Cut off at the budget, the column may look cut short: the size is the verdict.
        size = size.saturating_add(reader.get_ref().count);
        if size > limit {
            return Err(too_far);
        }
        counted?;
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

/// Reads a column to its end, counting its rows run by run and refusing past `rows`;
/// returns how many (0 for raw values, which have none).
/// Runs are read as automerge writes them: a signed LEB128 count, then one value repeated
/// that many times (count above 0), that many distinct values (below 0), or an unsigned
/// LEB128 number of null rows (0). Booleans are unsigned run lengths. Values are unsigned
/// or signed LEB128 numbers (their bytes have the same shape), or for strings a length and
/// that many bytes.
fn count_rows(spec: u64, data: &mut impl BufRead, rows: Rows) -> Result<u64, ValidationFailure> {
    let kind = spec & 0b111;
    if kind == VALUE_RAW {
        return io::copy(data, &mut io::sink())
            .map(|_| 0)
            .map_err(bad_column);
    }
    let limit = match rows {
        Rows::Changes => MAX_CHANGES_PER_BATCH,
        Rows::AtMost(limit) => limit,
    } as u64;
    let mut counted: u64 = 0;
    let mut add = |n: u64| -> Result<(), ValidationFailure> {
        counted = counted.saturating_add(n);
        if counted <= limit {
            return Ok(());
        }
        let count = usize::try_from(counted).unwrap_or(usize::MAX);
        Err(match rows {
            Rows::Changes => ValidationFailure::TooManyChanges { count },
            Rows::AtMost(limit) => ValidationFailure::TooManyRows { count, limit },
        })
    };
    while !data.fill_buf().map_err(bad_column)?.is_empty() {
        if kind == BOOLEAN {
            add(read_uleb(data)?)?;
            continue;
        }
        let count = read_sleb(data)?;
        if count > 0 {
            add(count.unsigned_abs())?;
            skip_value(kind, data)?;
        } else if count < 0 {
            add(count.unsigned_abs())?;
            for _ in 0..count.unsigned_abs() {
                skip_value(kind, data)?;
            }
        } else {
            add(read_uleb(data)?)?;
        }
    }
    Ok(counted)
}

fn bad_column(e: io::Error) -> ValidationFailure {
    undecodable(format!("bad column: {e}"))
}

fn skip_value(kind: u64, data: &mut impl BufRead) -> Result<(), ValidationFailure> {
    if kind != STRING {
        // Unsigned or signed, a LEB128 ends at its first byte under 0x80.
        for _ in 0..10 {
            if read_byte(data)? & 0x80 == 0 {
                return Ok(());
            }
        }
        return Err(undecodable("bad column: a number over 64 bits"));
    }
    let len = read_uleb(data)?;
    let skipped = io::copy(&mut data.take(len), &mut io::sink()).map_err(bad_column)?;
    if skipped < len {
        return Err(undecodable("bad column: a string past its end"));
    }
    Ok(())
}

fn read_byte(data: &mut impl BufRead) -> Result<u8, ValidationFailure> {
    let byte = *data
        .fill_buf()
        .map_err(bad_column)?
        .first()
        .ok_or_else(|| undecodable("bad column: a run past its end"))?;
    data.consume(1);
    Ok(byte)
}

/// An unsigned LEB128 of at most ten bytes, as the `leb128` crate reads it (automerge's
/// columns): a bit past 64 is an error.
fn read_uleb(data: &mut impl BufRead) -> Result<u64, ValidationFailure> {
    let mut value: u64 = 0;
    for shift in (0..70).step_by(7) {
        let byte = read_byte(data)?;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            break;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(undecodable("bad column: a number over 64 bits"))
}

/// A signed LEB128 of at most ten bytes, as the `leb128` crate reads it.
fn read_sleb(data: &mut impl BufRead) -> Result<i64, ValidationFailure> {
    let mut value: i64 = 0;
    for shift in (0..70).step_by(7) {
        let byte = read_byte(data)?;
        let bits = i64::from(byte & 0x7f);
        if shift == 63 && bits != 0 && bits != 0x7f {
            break;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            if shift < 57 && byte & 0x40 != 0 {
                value |= -1 << (shift + 7);
            }
            return Ok(value);
        }
    }
    Err(undecodable("bad column: a number over 64 bits"))
}

/// A reader that counts what passes through it.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R> Counted<R> {
    fn new(inner: R) -> Self {
        Self { inner, count: 0 }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
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
    take_uleb128(rest).ok_or_else(|| undecodable(format!("chunk: bad {what}")))
}

/// The next `len` bytes, moving `rest` past them.
fn skip<'a>(rest: &mut &'a [u8], len: u64, what: &str) -> Result<&'a [u8], ValidationFailure> {
    let len = usize::try_from(len)
        .ok()
        .filter(|len| *len <= rest.len())
        .ok_or_else(|| undecodable(format!("chunk: {what} past its end")))?;
    let (taken, left) = rest.split_at(len);
    *rest = left;
    Ok(taken)
}

/// A LEB128 length, then that many bytes.
fn skip_prefixed(rest: &mut &[u8], what: &str) -> Result<(), ValidationFailure> {
    let len = take(rest, what)?;
    skip(rest, len, what).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(spec: u64, bytes: &[u8]) -> Result<u64, ValidationFailure> {
        count_rows(spec, &mut &bytes[..], Rows::AtMost(10))
    }

    #[test]
    fn rows_are_counted_run_by_run() {
        const ACTOR: u64 = 1;
        const DELTA: u64 = 3;
        // A run of 10 rows of actor 0; one more row is too many.
        assert_eq!(rows(ACTOR, &[10, 0]), Ok(10));
        assert!(matches!(
            rows(ACTOR, &[10, 0, 1, 0]),
            Err(ValidationFailure::TooManyRows { count: 11, .. })
        ));
        // Literal runs (a negative count: 0x7e is -2) and null runs (count 0).
        assert_eq!(rows(DELTA, &[0x7e, 0x05, 0x7f, 0, 8]), Ok(10));
        assert!(matches!(
            rows(DELTA, &[0x7e, 0x05, 0x7f, 0, 9]),
            Err(ValidationFailure::TooManyRows { count: 11, .. })
        ));
        // Strings: a length, then that many bytes.
        assert_eq!(rows(STRING, &[3, 2, b'h', b'i']), Ok(3));
        assert!(matches!(
            rows(STRING, &[3, 5, b'h', b'i']),
            Err(ValidationFailure::Undecodable { .. })
        ));
        // Booleans: alternating run lengths.
        assert_eq!(rows(BOOLEAN, &[4, 6]), Ok(10));
        assert!(rows(BOOLEAN, &[4, 7]).is_err());
        // A literal run of four billion rows, with no value behind it.
        assert!(matches!(
            rows(ACTOR, &[0x80, 0x80, 0x80, 0x80, 0x70]),
            Err(ValidationFailure::TooManyRows { .. })
        ));
        // A count cut short, a value missing.
        assert!(matches!(
            rows(ACTOR, &[0x80]),
            Err(ValidationFailure::Undecodable { .. })
        ));
        assert!(matches!(
            rows(ACTOR, &[2]),
            Err(ValidationFailure::Undecodable { .. })
        ));
        // Raw values have no rows.
        assert_eq!(rows(VALUE_RAW, &[0xff; 100]), Ok(0));
    }

    /// The rows counted in a real document are its changes and its operations.
    #[test]
    fn a_real_documents_rows_are_its_changes_and_operations() {
        use crate::{AuthorKey, Board, Category, DeviceId, Kind, PostDraft, Urgency, Writer};
        let marie = Writer::new(AuthorKey::from_seed([1; 32]), DeviceId([1; 8]));
        let mut board = Board::new();
        board.set_name(&marie, "Marie", 1_764_000_000).unwrap();
        for i in 0..40u64 {
            let draft = PostDraft {
                kind: Kind::Offer,
                category: Category::Food,
                title: format!("Soup, pot {i}"),
                details: "leek and potato, ".repeat(i as usize % 7),
                urgency: Urgency::Today,
                area: "Building B".into(),
                expires_at: None,
                on_behalf_of: None,
            };
            board
                .post_new(&marie, i.to_be_bytes(), &draft, 1_764_000_000 + i as i64)
                .unwrap();
        }
        let feed = board.feed(&crate::FeedId::first(marie.author())).unwrap();
        let changes = feed.doc().get_changes(&[]);
        let ops: u64 = changes.iter().map(|c| c.len() as u64).sum();
        let saved = feed.doc().save_nocompress();
        let mut rest = chunk_data(&saved).unwrap();
        let rest = &mut rest;
        for _ in 0..take(rest, "").unwrap() {
            skip_prefixed(rest, "").unwrap();
        }
        let heads = take(rest, "").unwrap();
        skip(rest, heads * HASH_BYTES, "").unwrap();
        let change_columns = column_list(rest).unwrap();
        let op_columns = column_list(rest).unwrap();
        let mut counted = |columns: &[Column]| -> Vec<(u64, u64)> {
            columns
                .iter()
                .map(|c| {
                    let data = skip(rest, c.len, "").unwrap();
                    let n = count_rows(c.spec, &mut &data[..], Rows::AtMost(usize::MAX)).unwrap();
                    (c.spec, n)
                })
                .collect()
        };
        for (spec, n) in counted(&change_columns) {
            let expected = match spec {
                DEPENDENCY_VALUES => changes.iter().map(|c| c.deps().len() as u64).sum(),
                s if s & 0b111 == VALUE_RAW => 0,
                _ => changes.len() as u64,
            };
            assert_eq!(n, expected, "change column {spec:#x}");
        }
        // Op columns: one row per operation, but for raw values and the members of
        // groups (predecessors and successors: id 7 or 8, after their count column).
        for (spec, n) in counted(&op_columns) {
            let group_member = matches!(spec >> 4, 7 | 8) && spec & 0b111 != 0;
            if spec & 0b111 != VALUE_RAW && !group_member {
                assert_eq!(n, ops, "op column {spec:#x}");
            }
        }
    }

    #[test]
    fn numbers_read_as_the_leb128_crate_reads_them() {
        let sleb = |bytes: &[u8]| read_sleb(&mut &bytes[..]);
        let uleb = |bytes: &[u8]| read_uleb(&mut &bytes[..]);
        assert_eq!(sleb(&[0x7f]), Ok(-1));
        assert_eq!(sleb(&[0x80, 0x7f]), Ok(-128));
        assert_eq!(sleb(&[0x3f]), Ok(63));
        assert_eq!(sleb(&[0xc0, 0x00]), Ok(64));
        let min = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f];
        assert_eq!(sleb(&min), Ok(i64::MIN));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];
        assert_eq!(sleb(&max), Ok(i64::MAX));
        assert!(sleb(&[0x80; 10]).is_err());
        assert_eq!(uleb(&[0xe5, 0x8e, 0x26]), Ok(624_485));
        let all = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(uleb(&all), Ok(u64::MAX));
        assert!(uleb(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).is_err());
    }
}

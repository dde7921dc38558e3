//! `entraide export FILE` and `entraide import FILE`: the board carried on a USB stick.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use entraide_crdt::board_file::{BoardFileReader, BoardFileWriter, FeedRecord};
use entraide_node::ImportReport;

use crate::client::Client;

/// Feeds sent to the node at once by `import` (each batch is checked and saved before the
/// next, and a line of progress is printed after each).
const BATCH_FEEDS: usize = 200;
/// Bytes sent to the node at once by `import`, at most (one feed may be more).
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Writes the whole board to `path`, a new file.
pub(crate) fn export(client: &Client, path: &Path) -> Result<()> {
    if path.exists() {
        bail!(
            "{} already exists: choose another name (export never overwrites a file)",
            path.display()
        );
    }
    let file = client.export_board()?;
    let feeds = count_feeds(&file);
    let tmp = path.with_extension("entraide-partial");
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(&file)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    say!(
        "Wrote the board ({feeds} feeds, {}) to {}.",
        size(file.len()),
        path.display()
    );
    say!(
        "On another node: `entraide import {}` (with or without `entraide up` running there).",
        path.display()
    );
    Ok(())
}

/// Checks every feed of the board file at `path` as a peer's and merges the valid ones,
/// in batches, with progress on stderr.
pub(crate) fn import(client: &Client, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = BoardFileReader::new(&bytes)?;
    let made_at = reader.made_at();
    let total = count_feeds(&bytes);
    let mut report = ImportReport {
        made_at: Some(made_at),
        ..ImportReport::default()
    };
    let mut batch: Vec<FeedRecord> = Vec::new();
    let mut batch_bytes = 0;
    let mut file_error = None;
    loop {
        let next = reader.next_record();
        let done = match next {
            Some(Ok(record)) => {
                batch_bytes += record.data.len();
                batch.push(record);
                false
            }
            Some(Err(e)) => {
                file_error = Some(e.to_string());
                true
            }
            None => true,
        };
        if !batch.is_empty() && (done || batch.len() >= BATCH_FEEDS || batch_bytes >= BATCH_BYTES) {
            let mut writer = BoardFileWriter::new(made_at);
            for record in std::mem::take(&mut batch) {
                writer.add(&record);
            }
            batch_bytes = 0;
            let part = client.import_board(writer.finish())?;
            merge(&mut report, part);
            if total > BATCH_FEEDS {
                eprintln!("checked {} of {total} feeds", report.feeds);
            }
        }
        if done {
            break;
        }
    }
    report.file_error = file_error;
    print_report(&report, &path.display().to_string());
    if report.file_error.is_some() || !report.refused.is_empty() {
        bail!(
            "the file was not imported whole: {} feeds kept, {} refused{}",
            report.updated + report.unchanged,
            report.refused.len(),
            report
                .file_error
                .as_deref()
                .map(|e| format!("; {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Adds a batch's report to the whole file's.
fn merge(into: &mut ImportReport, part: ImportReport) {
    into.feeds += part.feeds;
    into.updated += part.updated;
    into.unchanged += part.unchanged;
    into.kept.extend(part.kept);
    into.removed_device_changes += part.removed_device_changes;
    into.refused.extend(part.refused);
    if into.file_error.is_none() {
        into.file_error = part.file_error;
    }
}

/// What an import did, in words (the page says the same).
pub(crate) fn print_report(report: &ImportReport, what: &str) {
    let made = report
        .made_at
        .map(|at| format!(", made {}", crate::when::local(at)))
        .unwrap_or_default();
    say!(
        "{what}{made}: {} feeds read, {} brought something new, {} were already here, {} refused.",
        report.feeds,
        report.updated,
        report.unchanged,
        report.refused.len()
    );
    for refused in &report.refused {
        say!("  refused: {} ({})", refused.fingerprint, refused.reason);
    }
    // When something was wrong, which feeds stood, so that nobody has to guess.
    if report.file_error.is_some() || !report.refused.is_empty() {
        const SHOWN: usize = 20;
        for kept in report.kept.iter().take(SHOWN) {
            say!("  kept: {kept}");
        }
        if report.kept.len() > SHOWN {
            say!("  kept: and {} more", report.kept.len() - SHOWN);
        }
    }
    if report.removed_device_changes > 0 {
        say!(
            "  {} changes of removed devices were left out.",
            report.removed_device_changes
        );
    }
}

/// Feeds in a board file, counted without checking them (for progress and messages).
fn count_feeds(file: &[u8]) -> usize {
    let Ok(mut reader) = BoardFileReader::new(file) else {
        return 0;
    };
    while let Some(Ok(_)) = reader.next_record() {}
    reader.records()
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

//! Replays every file under `fuzz/regressions/<target>/` (each a crash the fuzzer found)
//! and every seed under `fuzz/seeds/<target>/` through its target, without libFuzzer.
//! `crdt/tests/fuzz_regressions.rs` replays the same files of the `entraide_crdt` targets
//! from the main workspace.
//!
//! Each test counts what it ran: every target's folder must exist and hold inputs, and
//! every file under `regressions/` or `seeds/` must have been replayed by a target, so an
//! input moved where no target reads it fails the test instead of being skipped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use entraide_fuzz_harness::TARGETS;

/// The files of `dir`, sorted; a folder that cannot be read is an error.
fn files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Every file under `dir`, at any depth.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("cannot read the folder {}: {e}", d.display()))
        {
            let path = e.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Runs every file of `kind/<target>/` through its target; returns how many ran, per
/// target. Panics naming every file whose run panicked, a target whose folder is missing
/// or empty, and a file under `kind/` that no target ran.
fn replay(kind: &str) -> Vec<(&'static str, usize)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(kind);
    let mut ran = Vec::new();
    let mut replayed = Vec::new();
    let mut failed = Vec::new();
    for (target, run) in TARGETS {
        let inputs = files(&root.join(target));
        assert!(
            !inputs.is_empty(),
            "{kind}/{target}/ holds no input: every target keeps at least one"
        );
        for file in &inputs {
            let data = std::fs::read(file).expect("a readable file");
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("{target}: {}: {message}", file.display()));
            }
        }
        ran.push((*target, inputs.len()));
        replayed.extend(inputs);
    }
    assert!(
        failed.is_empty(),
        "inputs that still fail:\n{}",
        failed.join("\n")
    );
    let unread: Vec<_> = all_files(&root)
        .into_iter()
        .filter(|f| !replayed.contains(f))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        unread.is_empty(),
        "files under {kind}/ that no target replays (a folder named after no target?):\n{}",
        unread.join("\n")
    );
    let total: usize = ran.iter().map(|(_, n)| n).sum();
    eprintln!("{kind}: replayed {total} inputs {ran:?}");
    ran
}

#[test]
fn every_regression_input_runs_clean() {
    let ran = replay("regressions");
    let total: usize = ran.iter().map(|(_, n)| n).sum();
    // As many as there are files under fuzz/regressions/ (replay checks that too), and
    // never fewer than the eleven crashes found so far.
    assert!(total >= 11, "only {total} regression inputs ran: {ran:?}");
}

#[test]
fn every_seed_runs_clean() {
    let ran = replay("seeds");
    for (target, n) in &ran {
        assert!(*n > 0, "no seeds for {target}: run the make_seeds example");
    }
}

//! Replays every file under `fuzz/regressions/<target>/` (each a crash the fuzzer found)
//! and every seed under `fuzz/seeds/<target>/` through its target, without libFuzzer.
//! `crdt/tests/fuzz_regressions.rs` replays the same files of the `entraide_crdt` targets
//! from the main workspace.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use entraide_fuzz_harness::TARGETS;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `kind/<target>/`; returns how many ran. Panics naming every file
/// whose run panicked.
fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(kind);
    let mut ran = 0;
    let mut failed = Vec::new();
    for (target, run) in TARGETS {
        for file in files(&root.join(target)) {
            let data = std::fs::read(&file).expect("a readable file");
            ran += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("{target}: {}: {message}", file.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "inputs that still fail:\n{}",
        failed.join("\n")
    );
    ran
}

#[test]
fn every_regression_input_runs_clean() {
    replay("regressions");
}

#[test]
fn every_seed_runs_clean() {
    assert!(replay("seeds") > 0, "no seeds: run the make_seeds example");
}

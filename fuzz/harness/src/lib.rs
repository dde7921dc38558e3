//! What each fuzz target of entraide does with its input, without libFuzzer: the targets
//! in `fuzz/fuzz_targets/` call these, and so does `tests/regressions.rs`, which replays
//! every crash ever found (`fuzz/regressions/`) and every seed in `cargo test --workspace`.

pub mod feed_load;
pub mod fixtures;
pub mod invite;
pub mod signed_change;
pub mod sync_frame;

/// A target's entry point: runs one input, panics on any broken property.
pub type Target = fn(&[u8]);

/// The targets, by name, with their entry points.
pub const TARGETS: &[(&str, Target)] = &[
    ("sync_frame", sync_frame::run),
    ("signed_change", signed_change::run),
    ("feed_load", feed_load::run),
    ("invite", invite::run),
];

/// Replaces libFuzzer's panic hook, once per process. libFuzzer's hook aborts on any
/// panic, even one entraide catches on purpose: automerge panics on some malformed input,
/// and `entraide_crdt` contains those panics and refuses the input (`crdt/src/contained.rs`),
/// which is the behaviour under test. This hook prints one line (no backtrace, which would
/// slow the run down) and lets the panic unwind to where it is contained; a panic that
/// escapes a target still aborts (libfuzzer-sys aborts when the target unwinds), so it is
/// still reported as a crash, its message being the last `panicked` line of the log.
pub fn contained_panics_are_not_crashes() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    });
}

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

//! automerge on bytes from elsewhere, with its panics contained.
//!
//! automerge 0.12 panics on some malformed input instead of returning an error (fuzzing
//! found `Automerge::load` and `apply_changes` reaching an `unwrap()` on an unknown actor,
//! see `fuzz/regressions/`). A panic in the node's actor would stop the node for every
//! user: so every automerge call that reads bytes we did not write ourselves goes through
//! [`contained`], which turns a panic into an ordinary error. The caller must leave no
//! half-updated state behind (see `Feed::apply`, which restores its backup).

use std::panic::{AssertUnwindSafe, catch_unwind};

/// automerge panicked on an input: the input is refused, nothing else is affected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("automerge failed on this input ({0})")]
pub(crate) struct Panicked(String);

/// Runs `f`, returning its panic as an error. `f` must only touch state that the caller
/// throws away or restores when this returns `Err`.
pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("internal panic");
        Panicked(message.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_and_a_value_passes_through() {
        assert_eq!(contained(|| 7), Ok(7));
        let e = contained(|| -> u8 { panic!("called `Option::unwrap()` on a `None` value") });
        assert_eq!(
            e.unwrap_err().to_string(),
            "automerge failed on this input (called `Option::unwrap()` on a `None` value)"
        );
    }
}

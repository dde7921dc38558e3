//! The test harness of the test files whose tests need what a machine may lack (root for
//! network namespaces or a tmpfs, Chromium and chromedriver, a LAN address).
//!
//! Such a file is built with `harness = false` (tests/Cargo.toml) and ends with
//! [`tests_main!`](crate::tests_main), naming its test functions. A test that may not run
//! everywhere returns [`Ran`] and decides with [`skip_unless!`](crate::skip_unless): the
//! harness then reports it as `ignored`, with the reason, where the built-in one would
//! have said `ok`:
//!
//! ```text
//! test two_hosts_find_each_other_by_mdns_and_sync ... ignored (network namespaces need root)
//! ```
//!
//! Under `CI=true` nothing is skipped: a missing tool fails the test. Otherwise the files
//! behave as with the built-in harness (libtest-mimic: the same output, filters and
//! flags such as `--list`, `--exact`, `--test-threads`), except that a test's output is not
//! captured.

use std::process::ExitCode;

use libtest_mimic::{Arguments, Completion, Trial};

/// How a test that may not run everywhere ended (a failure is a panic, as in any test).
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    /// It ran to the end.
    Fully,
    /// It could not run on this machine, for this reason (never under CI=true).
    Skipped(String),
}

/// What a test function returns: `()` for a test that always runs, or [`Ran`].
pub trait Ending {
    /// As the harness reports it.
    fn completion(self) -> Completion;
}

impl Ending for () {
    fn completion(self) -> Completion {
        Completion::Completed
    }
}

impl Ending for Ran {
    fn completion(self) -> Completion {
        match self {
            Ran::Fully => Completion::Completed,
            // One line in the harness's report, whatever the reason quotes.
            Ran::Skipped(reason) => {
                Completion::ignored_with(reason.split_whitespace().collect::<Vec<_>>().join(" "))
            }
        }
    }
}

/// The test `name`, running `body`.
pub fn trial<E: Ending + 'static>(name: &str, body: fn() -> E) -> Trial {
    Trial::ignorable_test(name, move || Ok(body().completion()))
}

/// Runs `trials` as the built-in harness would, with the command line's filters and
/// flags.
pub fn run(trials: Vec<Trial>) -> ExitCode {
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

/// The trials of the test functions named, each under its own name (for a `main` that
/// does more than run them; most files use [`tests_main!`](crate::tests_main)).
#[macro_export]
macro_rules! trials {
    ($($test:ident),+ $(,)?) => {
        ::std::vec![$($crate::harness::trial(::std::stringify!($test), $test)),+]
    };
}

/// The `main` of a test file built with `harness = false`: runs the test functions named,
/// each under its own name.
#[macro_export]
macro_rules! tests_main {
    ($($test:ident),+ $(,)?) => {
        fn main() -> ::std::process::ExitCode {
            $crate::harness::run($crate::trials![$($test),+])
        }
    };
}

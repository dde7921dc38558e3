#!/usr/bin/env bash
# Compiles every fuzz target of entraide (cargo-fuzz, libFuzzer, AddressSanitizer).
#
#   fuzz/build.sh            # from anywhere; installs cargo-fuzz from crates.io if missing
#
# Only a stable toolchain is needed: cargo-fuzz passes nightly-only flags to rustc
# (-Zsanitizer=address, -Cpasses=sancov-module, ...), which RUSTC_BOOTSTRAP=1 lets a
# stable rustc accept. Debug assertions (and so overflow checks) are on in the targets.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

cargo fuzz build --debug-assertions
echo "built: $(cargo fuzz list | tr '\n' ' ')"

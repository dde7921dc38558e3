//! The `entraide` program, built inside this crate so multi-process tests can run it
//! (`CARGO_BIN_EXE_entraide`).

fn main() -> std::process::ExitCode {
    entraide::main()
}

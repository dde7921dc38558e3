//! The `entraide` binary: see the library for everything.

fn main() -> std::process::ExitCode {
    entraide::main()
}

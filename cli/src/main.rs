//! The `entraide` command.

fn main() {
    println!("entraide");
}

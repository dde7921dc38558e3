//! Names the commit the program is built from, for `entraide --version`: sets
//! `ENTRAIDE_COMMIT` to `git rev-parse --short=12 HEAD` of this repository, or to
//! `unknown commit` when there is no git or no repository (a copied source folder, a
//! tarball). Never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // The workspace root: cli/ is one of its members.
    let root = manifest.parent().unwrap_or(&manifest).to_path_buf();
    let hash = if is_repository(&root) {
        watch_head(&root);
        git(&root, &["rev-parse", "--short=12", "HEAD"])
    } else {
        None
    };
    let commit = match hash {
        Some(hash) => format!("commit {hash}"),
        None => "unknown commit".to_owned(),
    };
    println!("cargo:rustc-env=ENTRAIDE_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
}

/// Whether `root` is the top of a git work tree (and not a folder inside some other
/// repository, as a source tarball unpacked in one would be).
fn is_repository(root: &Path) -> bool {
    let Some(top) = git(root, &["rev-parse", "--show-toplevel"]) else {
        return false;
    };
    match (std::fs::canonicalize(top), std::fs::canonicalize(root)) {
        (Ok(top), Ok(root)) => top == root,
        _ => false,
    }
}

/// Reruns this script when HEAD moves: HEAD itself, the branch file it names, and
/// packed-refs. Each path is asked of git (`--git-path`), which knows where a worktree
/// keeps them (its HEAD in its own folder, the refs in the main repository's). A branch
/// with no file of its own yet (packed) is watched through its folder, where a commit
/// writes it.
fn watch_head(root: &Path) {
    let mut paths = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        paths.push(branch);
    }
    for path in paths {
        let Some(found) = git(root, &["rev-parse", "--git-path", &path]) else {
            continue;
        };
        let mut found = root.join(found);
        // A file not there yet: its nearest folder that is.
        while !found.exists() && found.pop() {}
        println!("cargo:rerun-if-changed={}", found.display());
    }
}

/// What `git ARGS` prints in `dir`, trimmed; `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

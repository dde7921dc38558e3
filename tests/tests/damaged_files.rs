//! Damaged files, which the `kill -9` rounds of `crash.rs` cannot produce: empty, cut or
//! foreign key files and databases, and a database log damaged after a crash. Each must
//! give one clear line saying what to do, never a panic, and never cost the identity.

use std::path::Path;
use std::process::Command;

use entraide_tests::TestNode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const ARGS: &[&str] = &["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"];

/// Runs a command that must fail with one clear line containing `expect`.
fn fails_clearly(node: &TestNode, args: &[&str], expect: &str) {
    let out = node.run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail: {out:?}");
    // One line of error (after any log lines `up` writes before it).
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("entraide: ") && last.contains(expect),
        "{args:?}: expected `{expect}` in: {err}"
    );
    if args[0] != "up" {
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

const UP_ONCE: &[&str] = &[
    "up",
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--ui",
    "127.0.0.1:0",
];

#[test]
fn damaged_key_files_and_database_get_a_clear_error_and_the_identity_is_kept() {
    let n = TestNode::new(BIN, "damage");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.ok(&["post", "request", "--title", "Bread"]).unwrap();
    let dir = n.data_dir().to_owned();
    let identity_path = dir.join("identity.key");
    let identity = std::fs::read(&identity_path).unwrap();
    let community = std::fs::read(dir.join("community.key")).unwrap();
    let board_is_back = |what: &str| {
        assert_eq!(
            n.board().unwrap().len(),
            1,
            "{what}: restored, the board is back"
        );
        assert_eq!(std::fs::read(&identity_path).unwrap(), identity, "{what}");
    };

    // identity.key empty (a full disk) or cut: refused everywhere, never replaced.
    for (what, damaged) in [
        ("an empty identity.key", Vec::new()),
        (
            "a cut identity.key",
            identity[..identity.len() / 2].to_vec(),
        ),
    ] {
        std::fs::write(&identity_path, &damaged).unwrap();
        for args in [&["list"][..], &["post", "request", "--title", "x"], UP_ONCE] {
            fails_clearly(&n, args, "restore it from your backup");
        }
        fails_clearly(&n, &["init", "--name", "Again"], "never overwritten");
        assert_eq!(
            std::fs::read(&identity_path).unwrap(),
            damaged,
            "{what} was rewritten"
        );
        std::fs::write(&identity_path, &identity).unwrap();
        board_is_back(what);
    }

    // community.key empty or cut.
    for (what, damaged) in [
        ("an empty community.key", Vec::new()),
        (
            "a cut community.key",
            community[..community.len() / 2].to_vec(),
        ),
    ] {
        std::fs::write(dir.join("community.key"), &damaged).unwrap();
        for args in [&["list"][..], UP_ONCE] {
            fails_clearly(&n, args, "community.key is damaged");
        }
        assert_eq!(std::fs::read(&identity_path).unwrap(), identity, "{what}");
        std::fs::write(dir.join("community.key"), &community).unwrap();
        board_is_back(what);
    }

    // The db folder replaced by a file: refused, the file left as it is.
    let db = dir.join("db");
    let moved = dir.join("db.moved");
    std::fs::rename(&db, &moved).unwrap();
    std::fs::write(&db, "not a database").unwrap();
    for args in [&["list"][..], &["post", "request", "--title", "x"], UP_ONCE] {
        fails_clearly(&n, args, "move the db folder away");
    }
    assert_eq!(std::fs::read(&db).unwrap(), b"not a database");
    std::fs::remove_file(&db).unwrap();
    std::fs::rename(&moved, &db).unwrap();
    board_is_back("the db folder replaced by a file");

    // One byte flipped in the log, or a garbage snapshot, after a clean close.
    let log = db.join("db");
    let saved = std::fs::read(&log).unwrap();
    let written = saved.iter().rposition(|&b| b != 0).unwrap();
    let mut flipped = saved.clone();
    flipped[written / 2] ^= 0xff;
    std::fs::write(&log, &flipped).unwrap();
    fails_clearly(&n, &["list"], "is damaged");
    fails_clearly(&n, UP_ONCE, "is damaged");
    std::fs::write(&log, &saved).unwrap();
    board_is_back("a flipped byte in the log");
    let snap = std::fs::read_dir(&db)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .expect("sled wrote a snapshot on close");
    let snap_bytes = std::fs::read(&snap).unwrap();
    std::fs::write(&snap, vec![0x5a; snap_bytes.len()]).unwrap();
    fails_clearly(&n, &["list"], "is damaged");
    std::fs::write(&snap, &snap_bytes).unwrap();
    board_is_back("a garbage snapshot");
}

#[test]
fn a_damaged_community_key_is_mended_by_joining_again_as_the_message_says() {
    let n = TestNode::new(BIN, "community");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.ok(&["post", "request", "--title", "Bread"]).unwrap();
    let invite = n.ok(&["invite"]).unwrap();
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let identity = std::fs::read(n.data_dir().join("identity.key")).unwrap();
    let community = std::fs::read(n.data_dir().join("community.key")).unwrap();
    std::fs::write(
        n.data_dir().join("community.key"),
        &community[..community.len() / 2],
    )
    .unwrap();
    fails_clearly(
        &n,
        &["list"],
        "join the community again with an invite code",
    );
    // Doing what the message says.
    n.ok(&["join", &code])
        .expect("`join` mends a damaged community.key, as the error message advises");
    assert_eq!(
        std::fs::read(n.data_dir().join("identity.key")).unwrap(),
        identity
    );
    assert_eq!(n.board().unwrap().len(), 1);
}

#[test]
fn a_log_damaged_after_a_crash_is_refused_not_opened_with_posts_missing() {
    let mut n = TestNode::new(BIN, "torn");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.up(ARGS).unwrap();
    let api = n.api().unwrap();
    let (base, token) = (api.base_url(), api.token);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut ids = Vec::new();
    for i in 0..30 {
        let mut r = agent
            .post(format!("{base}/api/v1/posts"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(json!({"kind": "request", "category": "food", "title": format!("post {i}"), "urgency": "today"}))
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.body_mut().read_json().unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // A crash: sled's last snapshot is the one written when `init` closed the database;
    // the 30 acknowledged posts are only in the log after it.
    n.kill();
    let db = n.data_dir().join("db");
    let snap_lsn = std::fs::read_dir(&db)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .max()
        .expect("a snapshot");
    let log = db.join("db");
    let saved = std::fs::read(&log).unwrap();
    let written = saved.iter().rposition(|&b| b != 0).unwrap() as u64;
    assert!(snap_lsn < written, "the posts are after the snapshot");
    let middle = ((snap_lsn + written) / 2) as usize;
    // Opening the database writes a new snapshot: each case starts from a copy.
    let pristine = n.data_dir().join("db.pristine");
    let copy = |from: &Path, to: &Path| {
        let _ = std::fs::remove_dir_all(to);
        assert!(
            Command::new("cp")
                .arg("-a")
                .arg(from)
                .arg(to)
                .status()
                .unwrap()
                .success()
        );
    };
    copy(&db, &pristine);
    let mut silent = Vec::new();
    for (what, damaged) in [
        ("one byte flipped", {
            let mut d = saved.clone();
            d[middle] ^= 0xff;
            d
        }),
        ("the log cut short", saved[..middle].to_vec()),
    ] {
        copy(&pristine, &db);
        std::fs::write(&log, &damaged).unwrap();
        let out = n.run(&["list", "--all", "--json"]);
        if out.status.success() {
            let board: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            let missing = ids
                .iter()
                .filter(|id| !board.iter().any(|p| p["id"] == id.as_str()))
                .count();
            silent.push(format!(
                "{what} after the last snapshot: the database opened without an error, \
                 {missing} of {} acknowledged posts missing",
                ids.len()
            ));
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("is damaged") || err.contains("has lost changes"),
                "{what}: {err}"
            );
        }
    }
    assert!(silent.is_empty(), "{}", silent.join("\n"));
}

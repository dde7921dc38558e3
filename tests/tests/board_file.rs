//! The board on a USB stick (issue 14), with the real program: Marie and Karim export their
//! boards with `entraide export`; Lina's node imports them with `entraide import`, first
//! with no node running, then Sami's with his node up (through its API). Importing twice
//! changes nothing. A file changed after it was written keeps its valid feeds, refuses the
//! changed one and says so; a file cut short keeps the feeds before the cut; a file that is
//! not a board file is refused; a large file shows its progress on stderr.

use std::path::Path;

use entraide_crdt::board_file::BoardFileReader;
use entraide_crdt::{AuthorKey, Board, Category, DeviceId, Kind, PostDraft, Urgency, Writer};
use entraide_tests::{LOOPBACK, TestNode, community};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");

fn titles(node: &TestNode) -> Vec<String> {
    let mut out: Vec<String> = node
        .board()
        .expect("board")
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The byte offset of the middle of the `index`-th record (from 0) of a board file.
fn middle_of_record(file: &[u8], index: usize) -> usize {
    let mut at = 16 + 1 + 8;
    for _ in 0..index {
        let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        at += 4 + len;
    }
    let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    at + 4 + len / 2
}

#[test]
fn a_board_travels_on_a_file_and_only_what_checks_out_is_kept() {
    let nodes = community(BIN, &["Marie", "Karim", "Lina", "Sami"]).expect("a community");
    let (marie, karim, lina) = (&nodes[0], &nodes[1], &nodes[2]);
    marie
        .post("request", "Eau pour le 3e", "today", "Bât. B")
        .expect("post");
    marie
        .post("request", "Visite à Mme Roux", "today", "Bât. B")
        .expect("post");
    karim
        .post("request", "Pain du matin", "today", "Bât. B")
        .expect("post");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("board.entraide");
    let out = marie.ok(&["export", file.to_str().unwrap()]).unwrap();
    assert!(out.contains("Wrote the board"), "{out}");
    let refused = marie.run(&["export", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("already exists"),
        "{}",
        stderr(&refused)
    );

    // Lina, no node running: the posts arrive, under Marie's name.
    let out = lina.ok(&["import", file.to_str().unwrap()]).unwrap();
    assert!(out.contains("brought something new"), "{out}");
    assert_eq!(titles(lina), ["Eau pour le 3e", "Visite à Mme Roux"]);
    let marie_id = marie.json(&["whoami", "--json"]).unwrap()["author"].clone();
    assert!(
        lina.board()
            .unwrap()
            .iter()
            .all(|p| p["author"] == marie_id)
    );
    // Twice: nothing changes.
    let before = lina.json(&["status", "--json"]).unwrap()["board"].clone();
    let out = lina.ok(&["import", file.to_str().unwrap()]).unwrap();
    assert!(out.contains(" 0 brought something new"), "{out}");
    assert_eq!(lina.json(&["status", "--json"]).unwrap()["board"], before);

    // Karim's board holds his feed and Marie's? No: his own only. Add it to a two-feed file.
    let two = dir.path().join("two.entraide");
    lina.ok(&["import", &export_of(karim, dir.path(), "karim")])
        .unwrap();
    lina.ok(&["export", two.to_str().unwrap()]).unwrap();
    let bytes = std::fs::read(&two).unwrap();
    let mut reader = BoardFileReader::new(&bytes).unwrap();
    let mut feeds = Vec::new();
    while let Some(r) = reader.next_record() {
        feeds.push(r.unwrap().feed.author.fmt_short());
    }
    assert!(feeds.len() >= 2, "{feeds:?}");

    // Sami's node runs: the import goes through its API.
    let mut sami = nodes.into_iter().nth(3).unwrap();
    sami.up(LOOPBACK).unwrap();
    let out = sami.ok(&["import", two.to_str().unwrap()]).unwrap();
    assert!(out.contains(" 0 refused"), "{out}");
    assert_eq!(
        titles(&sami),
        ["Eau pour le 3e", "Pain du matin", "Visite à Mme Roux"]
    );

    // A byte changed inside the first feed: that feed is refused, the other kept, and the
    // file is said to have been changed.
    let tampered = dir.path().join("tampered.entraide");
    let mut changed = bytes.clone();
    let at = middle_of_record(&changed, 0);
    changed[at] ^= 0x40;
    std::fs::write(&tampered, &changed).unwrap();
    let fresh = TestNode::new(BIN, "Fresh");
    fresh.ok(&["init", "--name", "Fresh"]).unwrap();
    let out = fresh.run(&["import", tampered.to_str().unwrap()]);
    assert!(!out.status.success());
    let (said, err) = (stdout(&out), stderr(&out));
    assert!(
        err.contains("changed or damaged after it was written"),
        "{err}"
    );
    assert!(said.contains(&format!("refused: {}", feeds[0])), "{said}");
    assert!(said.contains(&format!("kept: {}", feeds[1])), "{said}");
    assert!(!err.contains("panicked"), "{err}");
    let kept = fresh.board().unwrap();
    assert!(!kept.is_empty(), "the valid feed is kept");

    // Cut short: the feeds before the cut are kept, and the cut is named.
    let cut = dir.path().join("cut.entraide");
    std::fs::write(&cut, &bytes[..middle_of_record(&bytes, 1)]).unwrap();
    let other = TestNode::new(BIN, "Other");
    other.ok(&["init", "--name", "Other"]).unwrap();
    let out = other.run(&["import", cut.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cut short"), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("kept: {}", feeds[0])));

    // Not a board file at all.
    let junk = dir.path().join("photo.jpg");
    std::fs::write(&junk, b"\xff\xd8\xff\xe0 not a board").unwrap();
    let out = other.run(&["import", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not an entraide board file"),
        "{}",
        stderr(&out)
    );
    let out = other.run(&["import", "/nonexistent/board.entraide"]);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

/// `node`'s board exported to a new file in `dir`; its path.
fn export_of(node: &TestNode, dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.entraide"));
    node.ok(&["export", path.to_str().unwrap()]).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_large_file_shows_its_progress() {
    // 450 neighbours, one post each, written by the crdt crate itself.
    let mut board = Board::new();
    for n in 0..450u32 {
        let mut seed = [7u8; 32];
        seed[..4].copy_from_slice(&n.to_be_bytes());
        let writer = Writer::new(AuthorKey::from_seed(seed), DeviceId([1; 8]));
        let draft = PostDraft {
            kind: Kind::Offer,
            category: Category::Food,
            title: format!("Soupe {n}"),
            details: String::new(),
            urgency: Urgency::Whenever,
            area: "Rue Haute".into(),
            expires_at: None,
            on_behalf_of: None,
        };
        board
            .post_new(
                &writer,
                n.to_be_bytes().repeat(2).try_into().unwrap(),
                &draft,
                now(),
            )
            .unwrap();
    }
    let (file, left_out) = board.export(now());
    assert_eq!(left_out, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.entraide");
    std::fs::write(&path, file).unwrap();
    let lina = TestNode::new(BIN, "Lina");
    lina.ok(&["init", "--name", "Lina"]).unwrap();
    let out = lina.run(&["import", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let progress = stderr(&out);
    assert!(progress.contains("checked 200 of 450 feeds"), "{progress}");
    assert!(progress.contains("checked 450 of 450 feeds"), "{progress}");
    let status: Value = lina.json(&["status", "--json"]).unwrap();
    assert_eq!(status["board"]["posts"], 450, "{status}");
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

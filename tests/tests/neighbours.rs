//! Real `entraide` processes on loopback, with explicit `--peer` and no mDNS.

use std::time::Duration;

use entraide_node::data_dir::DataDir;
use entraide_tests::{TestNode, find_post, up_with_peer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);

fn node(name: &str) -> TestNode {
    TestNode::new(BIN, name)
}

/// A community of `names`: the first creates it, the others join with its invite code.
fn community(names: &[&str]) -> Vec<TestNode> {
    let first = node(names[0]);
    first.ok(&["init", "--name", names[0]]).expect("init");
    let invite = first.ok(&["invite"]).expect("invite");
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let mut nodes = vec![first];
    for name in &names[1..] {
        let n = node(name);
        n.ok(&["join", &code, "--name", name]).expect("join");
        nodes.push(n);
    }
    nodes
}

fn post(node: &TestNode, title: &str) -> String {
    node.ok(&[
        "post",
        "request",
        "--title",
        title,
        "--category",
        "food",
        "--urgency",
        "today",
        "--area",
        "Bât. B",
    ])
    .expect("post")
    .trim()
    .to_owned()
}

const LOOPBACK: &[&str] = &[
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--resync",
    "2",
];

#[test]
fn a_post_crosses_a_chain_of_three_and_all_agree_on_its_outcome() {
    let mut nodes = community(&["Marie", "Bruno", "Chloe"]);
    up_with_peer(&mut nodes[0], None);
    let a_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&a_addr));
    let b_addr = nodes[1].address().unwrap();
    up_with_peer(&mut nodes[2], Some(&b_addr));

    let id = post(&nodes[0], "Water carried up to the 4th floor");
    let took = nodes[2]
        .wait_board("Marie's post reaching Chloe through Bruno", PATIENCE, |b| {
            find_post(b, &id).is_some()
        })
        .unwrap();
    eprintln!("post A -> C through B: {took:?}");
    // A and C are not connected to each other: it went through B.
    let a_peers = nodes[0].json(&["peers", "--json"]).unwrap();
    let chloe = nodes[2].json(&["whoami", "--json"]).unwrap()["peer_id"].clone();
    assert!(
        !a_peers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["peer_id"] == chloe && p["connected"] == Value::Bool(true)),
        "A must not be connected to C directly"
    );

    nodes[2]
        .ok(&["respond", &id[..8], "--message", "I can bring six bottles"])
        .unwrap();
    nodes[0]
        .wait_board("Chloe's response reaching Marie", PATIENCE, |b| {
            find_post(b, &id)
                .is_some_and(|p| p["responses"].as_array().is_some_and(|r| r.len() == 1))
        })
        .unwrap();
    nodes[0].ok(&["accept", &id, "--helper", "Chloe"]).unwrap();
    let chloe_author = nodes[2].json(&["whoami", "--json"]).unwrap()["author"].clone();
    for n in &nodes {
        n.wait_board("everyone seeing Chloe accepted", PATIENCE, |b| {
            find_post(b, &id)
                .is_some_and(|p| p["status"] == "accepted" && p["accepted"] == chloe_author)
        })
        .unwrap();
    }
    let boards: Vec<_> = nodes.iter().map(|n| n.board().unwrap()).collect();
    assert_eq!(boards[0], boards[1]);
    assert_eq!(boards[1], boards[2]);
}

#[test]
fn a_restarted_node_keeps_everything_and_catches_up() {
    let mut nodes = community(&["Marie", "Bruno"]);
    up_with_peer(&mut nodes[0], None);
    let a_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&a_addr));
    let bruno_id = nodes[1].json(&["whoami", "--json"]).unwrap();
    let own = post(&nodes[1], "Shelf to fix");
    let first = post(&nodes[0], "Soup for two");
    nodes[1]
        .wait_board("first post", PATIENCE, |b| find_post(b, &first).is_some())
        .unwrap();

    nodes[1].kill();
    let missed = post(&nodes[0], "Posted while Bruno was away");
    // Restart with no --peer: the address given last time is remembered.
    let mut args = LOOPBACK.to_vec();
    args.retain(|_| true);
    nodes[1].up(&args).unwrap();
    assert_eq!(
        nodes[1].json(&["whoami", "--json"]).unwrap(),
        bruno_id,
        "same identity"
    );
    nodes[1]
        .wait_board("catching up on the missed post", PATIENCE, |b| {
            find_post(b, &missed).is_some()
                && find_post(b, &own).is_some()
                && find_post(b, &first).is_some()
        })
        .unwrap();
    let peers = nodes[1].json(&["peers", "--json"]).unwrap();
    assert!(
        peers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["connected"] == Value::Bool(true))
    );
}

/// A restarted node reads its neighbours' feeds from their snapshots, without parsing a
/// document (issue 16: serving the board need not wait for parsing), and still takes in
/// what they write next.
#[test]
fn a_restarted_node_reads_neighbours_from_snapshots_and_takes_their_next_posts() {
    let mut nodes = community(&["Marie", "Bruno"]);
    up_with_peer(&mut nodes[0], None);
    let a_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&a_addr));
    let first = post(&nodes[0], "Soup for two");
    let second = post(&nodes[0], "A lift to the market");
    nodes[1]
        .wait_board("Marie's posts", PATIENCE, |b| {
            find_post(b, &first).is_some() && find_post(b, &second).is_some()
        })
        .unwrap();
    nodes[1].stop().unwrap();
    nodes[1].up(LOOPBACK).unwrap();
    // Two feeds: Bruno's own (his name), parsed to be written, and Marie's, read from its
    // snapshot.
    let log = nodes[1].log();
    let read = log
        .lines()
        .rfind(|l| l.contains("feeds read from the store"))
        .unwrap_or_else(|| panic!("no start line: {}", nodes[1].log_tail()));
    assert!(
        read.contains("from_snapshots=1") && read.contains("parsed=1"),
        "{read}"
    );
    let board = nodes[1].board().unwrap();
    assert!(find_post(&board, &first).is_some() && find_post(&board, &second).is_some());

    let third = post(&nodes[0], "Posted after Bruno's restart");
    nodes[1]
        .wait_board("the post after the restart", PATIENCE, |b| {
            find_post(b, &third).is_some() && find_post(b, &first).is_some()
        })
        .unwrap();
}

#[test]
fn a_post_made_with_no_node_running_reaches_the_neighbour_later() {
    let mut nodes = community(&["Marie", "Bruno"]);
    up_with_peer(&mut nodes[0], None);
    let a_addr = nodes[0].address().unwrap();
    // Bruno is not running: the command opens his store directly.
    let out = nodes[1].run(&[
        "post",
        "offer",
        "--title",
        "Car on Sundays",
        "--category",
        "transport",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(String::from_utf8_lossy(&out.stderr).contains("next `entraide up`"));
    assert!(find_post(&nodes[1].board().unwrap(), &id).is_some());
    up_with_peer(&mut nodes[1], Some(&a_addr));
    nodes[0]
        .wait_board("the offline post", PATIENCE, |b| {
            find_post(b, &id).is_some()
        })
        .unwrap();
}

#[test]
fn a_node_of_another_community_cannot_connect_or_read() {
    let mut ours = community(&["Marie", "Bruno"]);
    let mut stranger = node("Eve");
    stranger.ok(&["init", "--name", "Eve"]).unwrap();
    up_with_peer(&mut ours[0], None);
    let a_addr = ours[0].address().unwrap();
    let secret = post(&ours[0], "Keys under the mat");
    up_with_peer(&mut stranger, Some(&a_addr));
    up_with_peer(&mut ours[1], Some(&a_addr));
    ours[1]
        .wait_board("our neighbour syncing", PATIENCE, |b| {
            find_post(b, &secret).is_some()
        })
        .unwrap();
    // Give the stranger several resync rounds.
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        stranger.board().unwrap().is_empty(),
        "the stranger read nothing"
    );
    let status = stranger.json(&["status", "--json"]).unwrap();
    assert_eq!(status["peers_connected"], 0, "no connection completed");
    let eve = stranger.json(&["whoami", "--json"]).unwrap()["peer_id"].clone();
    let a_peers = ours[0].json(&["peers", "--json"]).unwrap();
    assert!(
        !a_peers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["peer_id"] == eve)
    );
}

#[test]
fn wrong_input_gets_one_clear_line_and_a_failure_code() {
    let n = node("Marie");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    for (args, expect) in [
        (vec!["join", "ENTRAIDE-AAAA"], "damaged"),
        (vec!["join", "hello"], "not an entraide invite code"),
        (vec!["show", "ffff"], "no post matches"),
        (
            vec!["post", "request", "--title", "call 06 12 34 56 78"],
            "phone number",
        ),
        (
            vec!["post", "request", "--title", "x", "--category", "plumbing"],
            "invalid value",
        ),
        (vec!["init", "--name", "Again"], "never overwritten"),
    ] {
        let out = n.run(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.to_lowercase().contains(expect), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
    }
}

#[test]
fn damaged_storage_gets_a_clear_error_and_the_identity_is_never_overwritten() {
    let n = node("Marie");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.ok(&["post", "request", "--title", "Bread"]).unwrap();
    let identity = std::fs::read(n.data_dir().join("identity.key")).unwrap();
    let fail = |args: &[&str], expect: &str| {
        let out = n.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
        // One line of error (after any log lines `up` writes before it).
        let last = err.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("entraide: ") && last.contains(expect),
            "{args:?}: {err}"
        );
        if args[0] != "up" {
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    };
    // The database log truncated (a full disk, a bad copy): refused, not silently empty.
    let db = n.data_dir().join("db").join("db");
    let saved = std::fs::read(&db).unwrap();
    std::fs::write(&db, &saved[..100]).unwrap();
    fail(&["list"], "is damaged");
    fail(&["up", "--no-mdns"], "is damaged");
    std::fs::write(&db, &saved).unwrap();
    assert_eq!(n.board().unwrap().len(), 1, "restored, the board is back");
    // The identity file damaged: refused, and never rewritten.
    std::fs::write(
        n.data_dir().join("identity.key"),
        b"entraide identity v1\nsecret: 00zz\n",
    )
    .unwrap();
    fail(&["list"], "restore it from your backup");
    fail(&["init", "--name", "Again"], "never overwritten");
    assert_ne!(
        std::fs::read(n.data_dir().join("identity.key")).unwrap(),
        identity
    );
    std::fs::write(n.data_dir().join("identity.key"), &identity).unwrap();
    assert_eq!(n.board().unwrap().len(), 1);
    // A folder that is not ours.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("letter.txt"), "dear neighbour").unwrap();
    let out = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(other.path())
        .args(["init", "--name", "X"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an entraide data directory"));
    assert_eq!(
        std::fs::read_dir(other.path()).unwrap().count(),
        1,
        "nothing written there"
    );
}

#[test]
fn commands_work_while_the_node_starts_and_after_it_stops() {
    let mut n = node("Marie");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    let dir = n.data_dir().to_owned();
    // Commands racing the node's start: each must get through, offline or online.
    let racers: Vec<_> = (0..3)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                (0..8)
                    .map(|_| {
                        let out = std::process::Command::new(BIN)
                            .arg("--data-dir")
                            .arg(&dir)
                            .args(["list", "--json"])
                            .output()
                            .unwrap();
                        std::thread::sleep(Duration::from_millis(50));
                        (
                            out.status.success(),
                            String::from_utf8_lossy(&out.stderr).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    n.up(LOOPBACK).unwrap();
    for r in racers {
        for (ok, err) in r.join().unwrap() {
            assert!(ok, "a command failed while the node started: {err}");
        }
    }
    let id = post(&n, "Posted through the running node");
    n.stop().unwrap();
    let data = DataDir::new(n.data_dir());
    assert!(
        data.read_api().is_none() && !data.api_path().exists(),
        "a clean stop forgets the API address"
    );
    assert!(
        find_post(&n.board().unwrap(), &id).is_some(),
        "saved before stopping"
    );
}

#[test]
fn an_identity_backup_restores_into_a_new_folder_and_a_lost_one_is_never_replaced() {
    let nodes = community(&["Marie", "Bruno"]);
    let marie = &nodes[0];
    let code = marie.ok(&["invite"]).unwrap();
    let code = code
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .unwrap()
        .to_owned();
    let who = marie.json(&["whoami", "--json"]).unwrap();
    // A new computer: only identity.key copied from the backup, then the invite.
    let restored = node("Marie-laptop");
    std::fs::copy(
        marie.data_dir().join("identity.key"),
        restored.data_dir().join("identity.key"),
    )
    .unwrap();
    let out = restored.run(&["list"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("entraide join CODE"),
        "{out:?}"
    );
    restored.ok(&["join", &code]).unwrap();
    assert_eq!(
        restored.json(&["whoami", "--json"]).unwrap()["author"],
        who["author"]
    );
    // identity.key lost from a folder that holds a board: no new identity is made over it.
    std::fs::remove_file(nodes[1].data_dir().join("identity.key")).unwrap();
    for args in [vec!["init", "--name", "X"], vec!["up", "--no-mdns"]] {
        let out = nodes[1].run(&args);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("identity file"),
            "{out:?}"
        );
        assert!(
            !nodes[1].data_dir().join("identity.key").exists(),
            "{args:?} made a new identity"
        );
    }
}

#[test]
fn a_lone_new_community_can_be_left_for_a_neighbours_invite() {
    let nodes = community(&["Marie"]);
    let code = nodes[0].ok(&["invite"]).unwrap();
    let code = code
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .unwrap()
        .to_owned();
    // Karim ran `init` (or a first `up`) before getting Marie's code.
    let karim = node("Karim");
    karim.ok(&["init", "--name", "Karim"]).unwrap();
    let before = karim.json(&["whoami", "--json"]).unwrap();
    karim.ok(&["join", &code]).unwrap();
    let after = karim.json(&["whoami", "--json"]).unwrap();
    assert_eq!(after["author"], before["author"], "same identity");
    assert_eq!(
        after["community"],
        nodes[0].json(&["whoami", "--json"]).unwrap()["community"]
    );
}

/// Issue 13, "on behalf of someone, with consent": Marie posts for Mme Dupont, who has no
/// device. Bruno's node shows both names and the consent; Bruno's offer of help goes to
/// Marie, the poster. A post with a name but no consent is refused by the command line
/// and by the API, and nothing is posted.
#[test]
fn a_post_for_a_neighbour_shows_both_names_on_b_and_replies_go_to_the_poster() {
    const CONSENT: &str = "Mme Dupont, au téléphone, le 2 décembre à 10 h";
    let mut nodes = community(&["Marie", "Bruno"]);
    up_with_peer(&mut nodes[0], None);
    let a_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&a_addr));
    let (marie, bruno) = (&nodes[0], &nodes[1]);
    let marie_author = marie.json(&["whoami", "--json"]).unwrap()["author"].clone();

    // Refused, each with one clear line: no consent, no name, a blank consent.
    for (extra, says) in [
        (&["--for", "Mme Dupont"][..], "--consent"),
        (&["--consent", CONSENT][..], "--for"),
        (
            &["--for", "Mme Dupont", "--consent", " "][..],
            "needs their consent",
        ),
    ] {
        let mut args = vec!["post", "request", "--title", "Courses"];
        args.extend_from_slice(extra);
        let out = marie.run(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // The API answers 400 and says why.
    let api = marie.api().unwrap();
    let mut r = entraide_tests::Page::agent()
        .post(format!("{}/api/v1/posts", api.base_url()))
        .header("Authorization", format!("Bearer {}", api.token))
        .send_json(serde_json::json!({
            "kind": "request", "category": "errands", "title": "Courses", "urgency": "today",
            "on_behalf_of": {"name": "Mme Dupont", "consent": ""}
        }))
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body = r.body_mut().read_to_string().unwrap();
    assert!(body.contains("needs their consent"), "{body}");
    assert!(marie.board().unwrap().is_empty(), "nothing was posted");

    let id = marie
        .ok(&[
            "post",
            "request",
            "--title",
            "Courses pour Mme Dupont",
            "--category",
            "errands",
            "--urgency",
            "today",
            "--for",
            "Mme Dupont",
            "--consent",
            CONSENT,
        ])
        .expect("post for a neighbour")
        .trim()
        .to_owned();
    bruno
        .wait_board(
            "Marie's post for Mme Dupont reaching Bruno",
            PATIENCE,
            |b| find_post(b, &id).is_some(),
        )
        .unwrap();
    let seen = bruno.json(&["show", &id, "--json"]).unwrap();
    assert_eq!(seen["author"], marie_author);
    assert_eq!(seen["author_name"], "Marie");
    assert_eq!(seen["on_behalf_of"]["name"], "Mme Dupont");
    assert_eq!(seen["on_behalf_of"]["consent"], CONSENT);
    let shown = bruno.ok(&["show", &id]).unwrap();
    assert!(shown.contains("posted by Marie ("), "{shown}");
    assert!(shown.contains(") for Mme Dupont"), "{shown}");
    assert!(shown.contains(CONSENT), "{shown}");
    let listed = bruno.ok(&["list"]).unwrap();
    assert!(listed.contains("posted by Marie ("), "{listed}");
    assert!(listed.contains(") for Mme Dupont"), "{listed}");

    bruno
        .ok(&["respond", &id, "--message", "J'y vais à 17 h"])
        .unwrap();
    marie
        .wait_board("Bruno's response reaching Marie", PATIENCE, |b| {
            find_post(b, &id)
                .is_some_and(|p| p["responses"].as_array().is_some_and(|r| r.len() == 1))
        })
        .unwrap();
    // The post is Marie's: it is in her "mine", and she accepts.
    let mine = marie.json(&["list", "--mine", "--json"]).unwrap();
    assert!(find_post(mine.as_array().unwrap(), &id).is_some());
    let bruno_mine = bruno.json(&["list", "--mine", "--json"]).unwrap();
    assert!(find_post(bruno_mine.as_array().unwrap(), &id).is_none());
    marie.ok(&["accept", &id, "--helper", "Bruno"]).unwrap();
    bruno
        .wait_board("Bruno seeing Marie accept", PATIENCE, |b| {
            find_post(b, &id).is_some_and(|p| p["status"] == "accepted")
        })
        .unwrap();
}

//! Private messages (issue 15), real nodes on loopback: Amel posts, Bruno responds, and the
//! two exchange a door code and a phone number (allowed inside a conversation). Chloé, a
//! member whose node holds and relays both feeds, can neither read nor write in it, and no
//! store, hers or theirs, holds the words in clear (raw bytes of every file checked). The
//! conversation cannot be deleted while the post is open; once it is done, Amel deletes it
//! and it is gone on both sides.

use std::path::Path;
use std::time::{Duration, Instant};

use entraide_tests::{TestNode, community, up_with_peer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);
const DOOR: &str = "Code 4512B, 3e gauche";
const PHONE: &str = "Appelez-moi au 06 12 34 56 78";

fn texts(node: &TestNode, post: &str) -> Vec<String> {
    node.json(&["messages", post, "--json"])
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn wait_texts(node: &TestNode, post: &str, want: &[&str]) {
    let started = Instant::now();
    loop {
        let got = texts(node, post);
        if got == want {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{}: messages {got:?}, wanted {want:?}",
            node.name
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Whether any file under `dir` holds `needle`.
fn any_file_holds(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            any_file_holds(&path, needle)
        } else {
            std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
        }
    })
}

fn fails_with(node: &TestNode, args: &[&str], says: &str) {
    let out = node.run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(err.contains(says), "{args:?}: {err}");
}

#[test]
fn only_the_two_read_a_conversation_and_either_deletes_it() {
    let mut nodes = community(BIN, &["Amel", "Bruno", "Chloé"]).expect("community");
    up_with_peer(&mut nodes[0], None);
    let a = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&a));
    let b = nodes[1].address().unwrap();
    up_with_peer(&mut nodes[2], Some(&b));
    let (amel, bruno, chloe) = (&nodes[0], &nodes[1], &nodes[2]);

    let post = amel
        .post("request", "Porter des packs d'eau", "today", "Bât. B")
        .unwrap();
    bruno
        .wait_board("Amel's post", PATIENCE, |b| {
            entraide_tests::find_post(b, &post).is_some()
        })
        .unwrap();
    // Not before responding.
    fails_with(bruno, &["message", &post, "--text", DOOR], "responded");
    bruno
        .ok(&["respond", &post, "--message", "Je peux à 18 h"])
        .unwrap();
    amel.wait_board("Bruno's response", PATIENCE, |b| {
        entraide_tests::find_post(b, &post)
            .is_some_and(|p| p["responses"].as_array().is_some_and(|r| r.len() == 1))
    })
    .unwrap();

    // Amel writes first (to her only helper), then Bruno answers.
    let sent = amel.ok(&["message", &post, "--text", DOOR]).unwrap();
    assert!(sent.contains("readable by the two of you only"), "{sent}");
    wait_texts(bruno, &post, &[DOOR]);
    // Times are in whole seconds: an answer within the same second may show first.
    std::thread::sleep(Duration::from_millis(1100));
    bruno.ok(&["message", &post, "--text", PHONE]).unwrap();
    wait_texts(amel, &post, &[DOOR, PHONE]);
    wait_texts(bruno, &post, &[DOOR, PHONE]);
    let listed = bruno.json(&["messages", &post, "--json"]).unwrap();
    assert_eq!(listed[0]["from_name"], "Amel");
    assert_eq!(listed[1]["from_name"], "Bruno");

    // Chloé holds and relays both feeds, and reads nothing.
    let digest = |n: &TestNode| n.json(&["status", "--json"]).unwrap()["board_digest"].clone();
    let started = Instant::now();
    while digest(chloe) != digest(amel) {
        assert!(started.elapsed() < PATIENCE, "Chloé never caught up");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(texts(chloe, &post), Vec::<String>::new());
    fails_with(
        chloe,
        &["message", &post, "--text", "Moi aussi"],
        "only between a post's author and a neighbour who responded",
    );
    for node in [amel, bruno, chloe] {
        for secret in [&b"4512B"[..], &b"06 12 34 56 78"[..]] {
            assert!(
                !any_file_holds(node.data_dir(), secret),
                "{}'s files hold {:?} in clear",
                node.name,
                String::from_utf8_lossy(secret)
            );
        }
    }

    // Deleting: not while the post is open; once done, on both sides.
    fails_with(
        amel,
        &["messages", &post, "--delete"],
        "once its post is closed",
    );
    amel.ok(&["done", &post]).unwrap();
    let said = amel.ok(&["messages", &post, "--delete"]).unwrap();
    assert!(said.contains("1 message(s) of yours removed"), "{said}");
    assert_eq!(texts(amel, &post), Vec::<String>::new());
    wait_texts(bruno, &post, &[]);
    let _: Value = bruno.json(&["messages", &post, "--json"]).unwrap();
}

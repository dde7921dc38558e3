//! A member's feed past one session frame (1 MiB), up to the most one member may write,
//! between real `entraide` processes on loopback: it travels in pieces, and its author is
//! told in plain words when it is full.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use entraide_tests::{TestNode, community, up_with_peer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(120);

/// About `chars` characters of made-up lowercase words, the same for the same `seed`:
/// text that compresses about as little as a neighbour's own words would.
fn made_up_words(seed: usize, chars: usize) -> String {
    let mut text = String::with_capacity(chars + 16);
    for block in 0u64.. {
        let digest = Sha256::digest(format!("{seed}/{block}"));
        for pair in digest.chunks(2) {
            text.push(char::from(b'a' + pair[0] % 26));
            if pair[1] % 6 == 0 {
                text.push(' ');
            }
        }
        if text.len() >= chars {
            break;
        }
    }
    text.truncate(chars);
    text.trim().to_owned()
}

/// Posts through the node's API until it refuses; returns how many went and the refusal.
fn post_until_refused(node: &TestNode, max: usize) -> Result<(usize, u16, String)> {
    for i in 0..max {
        let draft = json!({
            "kind": "offer",
            "category": "lending",
            "title": format!("Things to lend, list {i}"),
            "details": made_up_words(i, 1_900),
            "urgency": "whenever",
            "area": "Building B",
        });
        let (status, answer) = node.call("POST", "/api/v1/posts", Some(draft))?;
        if status != 201 {
            let error = answer["error"].as_str().unwrap_or("").to_owned();
            return Ok((i, status, error));
        }
    }
    bail!("{}: {max} posts and still not full", node.name)
}

fn status(node: &TestNode) -> Value {
    node.json(&["status", "--json"]).expect("status")
}

#[test]
fn a_full_feed_of_three_mebibytes_reaches_a_neighbour_and_its_author_is_told_it_is_full() {
    let mut nodes = community(BIN, &["Marie", "Bruno"]).unwrap();
    let mut bruno = nodes.pop().unwrap();
    let mut marie = nodes.pop().unwrap();
    up_with_peer(&mut marie, None);

    // Marie writes until her feed is full: over 1 MiB many times over.
    let started = Instant::now();
    let (posted, code, error) = post_until_refused(&marie, 5_000).unwrap();
    eprintln!(
        "{posted} posts of 1,900 characters in {:?}",
        started.elapsed()
    );
    assert_eq!(code, 422, "{error}");
    assert!(error.starts_with("your feed is full (3.0 MB"), "{error}");
    assert!(posted > 2_000, "{posted} posts");
    // The command line says the same, in one line, and fails.
    let out = marie.run(&[
        "post",
        "request",
        "--title",
        "One more",
        "--category",
        "food",
        "--urgency",
        "today",
        "--area",
        "Building B",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("your feed is full") && stderr.contains("Close or withdraw"),
        "{stderr}"
    );
    // Closing one of her posts still works.
    let board = marie.board().unwrap();
    let first = board[0]["id"].as_str().unwrap().to_owned();
    marie.ok(&["withdraw", &first]).unwrap();
    let posts = status(&marie)["board"]["posts"].as_u64().unwrap();
    assert_eq!(posts, posted as u64);

    // Bruno, fresh, joins: the whole feed reaches him in pieces.
    let started = Instant::now();
    up_with_peer(&mut bruno, Some(&marie.address().unwrap()));
    loop {
        // Both boards hold both feeds (Bruno's name travels the other way).
        if status(&bruno)["board_digest"] == status(&marie)["board_digest"] {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "Bruno did not get Marie's feed: {}\n{}",
            status(&bruno),
            bruno.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = started.elapsed();
    let received = status(&bruno)["network_bytes_received"].as_u64().unwrap();
    eprintln!(
        "{posted} posts (a full feed) reached a fresh neighbour in {took:?} (from starting it), {received} bytes received"
    );
    assert_eq!(
        status(&bruno)["board"]["posts"].as_u64().unwrap(),
        posted as u64
    );
    for node in [&marie, &bruno] {
        let log = node.log();
        assert!(!log.contains("too large"), "{}: {log}", node.name);
        assert!(!log.contains("invalid data"), "{}: {log}", node.name);
    }
}

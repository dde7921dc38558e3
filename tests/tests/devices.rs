//! One resident, two devices (issue 13), between real `entraide` processes on loopback:
//! Amel's laptop (A) links her phone (P) with `device link` / `join-device`; Bruno's node
//! (B) is a neighbour.
//!
//! Both devices write into Amel's one feed while cut off from each other, each with its
//! own peer id and automerge actor, and B shows both posts as Amel's. A pairing code works once, and a
//! code with a wrong secret is refused. Then the phone is lost: A removes it while it is
//! off, the phone writes one more post offline, comes back while A is off, and B refuses
//! that post; no node keeps it, while what it wrote before its removal stays everywhere.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use entraide_node::devices::PairingCode;
use entraide_tests::{LOOPBACK, TestNode, community};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(45);

fn has(board: &[Value], author: &str, title: &str) -> bool {
    board
        .iter()
        .any(|p| p["author"] == author && p["title"] == title)
}

fn up_with_peer(node: &mut TestNode, peer: &str) -> Result<()> {
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", peer]);
    node.up(&args)
}

#[test]
fn a_second_device_writes_the_same_feed_and_a_removed_device_is_refused() {
    let mut nodes = community(BIN, &["Amel", "Bruno"]).expect("a community of two");
    nodes.push(TestNode::new(BIN, "Amel-phone"));
    nodes.push(TestNode::new(BIN, "stranger"));
    nodes[0].up(LOOPBACK).expect("A up");
    let a_addr = nodes[0].address().expect("A's address");
    up_with_peer(&mut nodes[1], &a_addr).expect("B up");
    if let Err(e) = run(&mut nodes, &a_addr) {
        panic!(
            "{e:?}\n\n--- A's log ---\n{}\n--- B's log ---\n{}\n--- P's log ---\n{}",
            nodes[0].log_tail(),
            nodes[1].log_tail(),
            nodes[2].log_tail()
        );
    }
}

fn run(nodes: &mut [TestNode], a_addr: &str) -> Result<()> {
    let amel_who = nodes[0].json(&["whoami", "--json"])?;
    let amel = amel_who["author"]
        .as_str()
        .context("A's author")?
        .to_owned();

    // Codes that are not pairing codes, or not this one, are refused with a reason.
    let invite = nodes[0].ok(&["invite"])?;
    let invite = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .context("an invite code")?;
    let out = nodes[3].run(&["join-device", invite]);
    ensure!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    ensure!(said.contains("not a device pairing code"), "{said}");
    let out = nodes[3].run(&["join", "ENTRAIDE-DEVICE-AAAA"]);
    ensure!(String::from_utf8_lossy(&out.stderr).contains("join-device"));

    let link = nodes[0].json(&["device", "link", "--json"])?;
    let code = link["code"].as_str().context("a code")?.to_owned();
    ensure!(link["expires_at"].as_i64().is_some(), "{link}");
    // A code whose secret is not the one made is refused by A, and the folder stays empty.
    let mut forged = PairingCode::decode(&code)?;
    forged.token[0] ^= 1;
    let out = nodes[3].run(&["join-device", &forged.encode()]);
    let said = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success() && said.contains("refused"), "{said}");
    ensure!(!nodes[3].data_dir().join("identity.key").exists());

    // The phone joins as a device of Amel; the code then works no more.
    let joined = nodes[2].ok(&["join-device", &code, "--name", "téléphone"])?;
    ensure!(joined.contains("device of"), "{joined}");
    let out = nodes[3].run(&["join-device", &code]);
    let said = String::from_utf8_lossy(&out.stderr);
    ensure!(!out.status.success() && said.contains("used"), "{said}");
    up_with_peer(&mut nodes[2], a_addr)?;
    let phone_who = nodes[2].json(&["whoami", "--json"])?;
    ensure!(phone_who["author"] == amel.as_str(), "{phone_who}");
    ensure!(
        phone_who["peer_id"] != amel_who["peer_id"],
        "each device has its own peer id: {phone_who}"
    );
    let phone_id = phone_who["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["this_device"] == true))
        .and_then(|d| d["id"].as_str())
        .context("the phone's device id")?
        .to_owned();

    // Both write while cut off from each other (the phone is off, and writes on its own);
    // once it is back, B shows both as Amel's, and every node holds the same posts.
    let start = std::time::Instant::now();
    while nodes[2].json(&["whoami", "--json"])?["name"] != "Amel" {
        ensure!(
            start.elapsed() < PATIENCE,
            "Amel's feed never reached the phone"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    nodes[2].stop()?;
    nodes[0].post("request", "Eau pour le 3e", "today", "Bât. B")?;
    nodes[2].post("offer", "Pain du matin", "week", "Bât. B")?;
    ensure!(!has(&nodes[2].board()?, &amel, "Eau pour le 3e"), "cut off");
    up_with_peer(&mut nodes[2], a_addr)?;
    for n in [1, 0, 2] {
        nodes[n].wait_board("both of Amel's posts", PATIENCE, |b| {
            has(b, &amel, "Eau pour le 3e") && has(b, &amel, "Pain du matin")
        })?;
    }
    let posts = |n: usize| -> Result<Vec<String>> {
        let mut ids: Vec<String> = nodes[n]
            .board()?
            .iter()
            .filter_map(|p| p["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    };
    ensure!(
        posts(0)? == posts(1)? && posts(1)? == posts(2)?,
        "the nodes disagree"
    );
    // A names the phone's connection as Amel's (her feed lists the phone's peer id), not as
    // a stranger with the phone's network key.
    let phone_peer = phone_who["peer_id"]
        .as_str()
        .context("the phone's peer id")?;
    let start = std::time::Instant::now();
    loop {
        let peers = nodes[0].json(&["peers", "--json"])?;
        let seen = peers
            .as_array()
            .and_then(|l| l.iter().find(|p| p["peer_id"] == phone_peer))
            .map(|p| p["author"].clone());
        if seen.as_ref().is_some_and(|a| a == amel.as_str()) {
            break;
        }
        ensure!(
            start.elapsed() < PATIENCE,
            "A does not name the phone as Amel's: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let devices = nodes[0].json(&["device", "list", "--json"])?;
    let devices = devices.as_array().context("a list")?;
    ensure!(devices.len() == 2, "{devices:?}");
    ensure!(
        devices
            .iter()
            .any(|d| d["id"] == phone_id.as_str() && d["name"] == "téléphone"),
        "{devices:?}"
    );

    // The phone is lost. It is off; A removes it; it writes once more, offline.
    nodes[2].stop()?;
    let out = nodes[0].run(&[
        "device",
        "remove",
        amel_who["devices"][0]["id"].as_str().unwrap_or(""),
    ]);
    ensure!(!out.status.success(), "a device cannot remove itself");
    let removed = nodes[0].ok(&["device", "remove", &phone_id])?;
    ensure!(removed.contains("removed"), "{removed}");
    // B hears of the removal: A's next post follows it in Amel's feed.
    nodes[0].post("offer", "Lait", "week", "Bât. B")?;
    nodes[1].wait_board("A's post after the removal", PATIENCE, |b| {
        has(b, &amel, "Lait")
    })?;
    nodes[2].post("request", "Virement urgent", "urgent", "Bât. B")?;
    // A goes off, so the phone comes back next to B alone (it would redial A, whose
    // address it kept, and drop that post as soon as A told it of the removal): B is the
    // one to refuse its later post.
    nodes[0].stop()?;
    let b_addr = nodes[1].address()?;
    up_with_peer(&mut nodes[2], &b_addr)?;
    // The phone learns of its removal...
    let start = std::time::Instant::now();
    loop {
        let list = nodes[2].json(&["device", "list", "--json"])?;
        let gone = list.as_array().is_some_and(|l| {
            l.iter()
                .any(|d| d["id"] == phone_id.as_str() && d["removed"].is_i64())
        });
        if gone {
            break;
        }
        ensure!(start.elapsed() < PATIENCE, "the phone never heard: {list}");
        std::thread::sleep(Duration::from_millis(300));
    }
    // ...refuses to write any more, saying why...
    let out = nodes[2].run(&[
        "post",
        "request",
        "--title",
        "Encore",
        "--category",
        "other",
        "--area",
        "Bât. B",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success() && said.contains("this device was removed"),
        "{said}"
    );
    // ...and whatever it sent after its removal, nobody keeps; what came before stays.
    nodes[2].wait_board("A's post after the removal", PATIENCE, |b| {
        has(b, &amel, "Lait")
    })?;
    // Two more sync rounds (2 s each) for the phone's offline post to be offered and refused.
    std::thread::sleep(Duration::from_secs(5));
    for n in [0, 1, 2] {
        let board = nodes[n].board()?;
        ensure!(
            !has(&board, &amel, "Virement urgent"),
            "{} kept the removed device's later post: {board:?}",
            nodes[n].name
        );
        ensure!(
            has(&board, &amel, "Pain du matin") && has(&board, &amel, "Eau pour le 3e"),
            "{} lost a post made before the removal: {board:?}",
            nodes[n].name
        );
    }
    // B was offered it and refused it (not merely never sent).
    ensure!(
        nodes[1]
            .log()
            .contains("refused changes a removed device made after its removal"),
        "B does not say it refused the phone's later post"
    );
    // The phone dropped its own later post: it still starts (the drop is not taken for
    // changes lost from its database), without the post.
    nodes[2].stop()?;
    up_with_peer(&mut nodes[2], &b_addr)?;
    ensure!(!has(&nodes[2].board()?, &amel, "Virement urgent"));
    let log = nodes[1].log();
    ensure!(
        !log.contains("panicked"),
        "B: {}",
        log.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
    Ok(())
}

//! Neighbours on different networks meet through a meeting point (issue 14): a member's
//! node on a host every network reaches (as a small rented server would be), started with
//! `entraide up --announce ADDRESS`. Amel's and Bruno's homes are networks of their own
//! that route only to the meeting point's network (network namespaces joined by a router
//! namespace, `netns::Routed`): they cannot reach each other at all. Their invite codes
//! carry the announced address; posts cross both ways through the meeting point (store and
//! forward: it holds what every member holds); the meeting point restarts, and nothing is
//! lost. How many pairs of homes connect directly is printed: none can here, there is no
//! route between them at all, so the hole punch the meeting point relays for fails and
//! they keep meeting through it (homes behind routers: `home_routers.rs`).
//!
//! Needs root and iproute2; reported as ignored, with the reason, elsewhere; never skipped
//! under CI=true.

use std::time::Duration;

use entraide_node::community::Invite;
use entraide_tests::harness::Ran;
use entraide_tests::netns::{self, Routed};
use entraide_tests::{MeetingPoint, TestNode, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(60);

tests_main!(homes_on_different_networks_meet_through_the_meeting_point);

fn has(board: &[Value], title: &str) -> bool {
    board.iter().any(|p| p["title"] == title)
}

fn homes_on_different_networks_meet_through_the_meeting_point() -> Ran {
    let why = netns::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let tag = format!("mp{}", std::process::id() % 10_000);
    let net = Routed::new(&tag, 3).expect("a meeting point and two homes");
    let mut meeting = MeetingPoint::start(BIN, &net.prefix(0), net.address(0)).unwrap();
    let code = meeting.code.clone();
    let mut amel = TestNode::new(BIN, "Amel").with_prefix(&net.prefix(1));
    let mut bruno = TestNode::new(BIN, "Bruno").with_prefix(&net.prefix(2));
    let decoded = Invite::decode(&code).unwrap();
    assert_eq!(
        decoded.addresses[0].to_string(),
        format!("/ip4/{}/tcp/4747", net.address(0)),
        "the announced address comes first in the invite"
    );
    for (node, name) in [(&amel, "Amel"), (&bruno, "Bruno")] {
        node.ok(&["join", &code, "--name", name]).unwrap();
    }
    amel.up(&["--listen", "/ip4/0.0.0.0/tcp/0"]).unwrap();
    bruno.up(&["--listen", "/ip4/0.0.0.0/tcp/0"]).unwrap();

    // Posts cross both ways.
    amel.post("request", "De l'eau pour le 3e", "week", "")
        .expect("post");
    bruno
        .wait_board("Amel's post through the meeting point", PATIENCE, |b| {
            has(b, "De l'eau pour le 3e")
        })
        .unwrap();
    bruno
        .post("request", "Un trajet jeudi", "week", "")
        .expect("post");
    amel.wait_board("Bruno's post through the meeting point", PATIENCE, |b| {
        has(b, "Un trajet jeudi")
    })
    .unwrap();
    let bruno_id = bruno.json(&["whoami", "--json"]).unwrap()["peer_id"].clone();
    let direct = amel
        .json(&["peers", "--json"])
        .unwrap()
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["peer_id"] == bruno_id && p["direct"] == true)
        .count();
    eprintln!("pairs of homes connected directly: {direct} of 1");
    assert_eq!(direct, 0, "the homes have no route to each other");

    // The meeting point restarts; a post made while it is down arrives after, and its board
    // lost nothing.
    meeting.node.stop().unwrap();
    amel.post("request", "Des piles", "week", "").expect("post");
    meeting.restart().unwrap();
    bruno
        .wait_board(
            "the post made while the meeting point was down",
            PATIENCE,
            |b| has(b, "Des piles"),
        )
        .unwrap();
    let board = meeting.node.board().unwrap();
    for title in ["De l'eau pour le 3e", "Un trajet jeudi", "Des piles"] {
        assert!(has(&board, title), "the meeting point lost {title}");
    }
    Ran::Fully
}

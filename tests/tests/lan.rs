//! Nodes on separate network hosts (namespaces on a bridge) find each other by mDNS alone.
//! Needs root and iproute2; reported as ignored, with the reason, elsewhere; never skipped
//! under CI=true.

use std::time::Duration;

use entraide_tests::harness::Ran;
use entraide_tests::netns::{self, Lan};
use entraide_tests::{TestNode, find_post, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");

tests_main!(two_hosts_find_each_other_by_mdns_and_sync);

fn two_hosts_find_each_other_by_mdns_and_sync() -> Ran {
    let why = netns::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let tag = format!("ea{}", std::process::id() % 10_000);
    let lan = Lan::new(&tag, 2).expect("a LAN of two hosts");
    let mut a = TestNode::new(BIN, "Marie").with_prefix(&lan.prefix(0));
    let mut b = TestNode::new(BIN, "Karim").with_prefix(&lan.prefix(1));
    a.ok(&["init", "--name", "Marie"]).unwrap();
    let invite = a.ok(&["invite"]).unwrap();
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .unwrap()
        .to_owned();
    // The code made offline carries no address: only mDNS can bring them together.
    b.ok(&["join", &code, "--name", "Karim"]).unwrap();
    let id = a
        .ok(&[
            "post",
            "request",
            "--title",
            "A visit on Sunday",
            "--category",
            "visit",
        ])
        .unwrap();
    let id = id.trim();
    a.up(&["--listen", "/ip4/0.0.0.0/tcp/0"]).unwrap();
    b.up(&["--listen", "/ip4/0.0.0.0/tcp/0"]).unwrap();
    let took = b
        .wait_board(
            "Marie's post found over mDNS",
            Duration::from_secs(60),
            |board| find_post(board, id).is_some(),
        )
        .unwrap();
    eprintln!("found and synced over mDNS in {took:?}");
    b.ok(&["respond", id, "--message", "I'll come"]).unwrap();
    a.wait_board("Karim's response", Duration::from_secs(30), |board| {
        find_post(board, id)
            .is_some_and(|p| p["responses"].as_array().is_some_and(|r| r.len() == 1))
    })
    .unwrap();
    Ran::Fully
}

//! Nodes on separate network hosts (namespaces on a bridge) find each other by mDNS alone,
//! on a LAN with nothing from the internet (issue 14): no default route, so no way out, no
//! DNS server and no time server reachable. They start, discover each other, sync, and one
//! serves its page to the other host (`--ui-lan`), as during an outage with only a Wi-Fi
//! router on battery. Needs root and iproute2; reported as ignored, with the reason,
//! elsewhere; never skipped under CI=true.

use std::time::Duration;

use entraide_tests::harness::Ran;
use entraide_tests::netns::{self, Lan};
use entraide_tests::{TestNode, find_post, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const CLIENT: &str = env!("CARGO_BIN_EXE_lan-client");

/// What `ip -n HOST [-6] route show default` says: empty when there is no way out.
fn default_routes(host: &str) -> String {
    ["-4", "-6"]
        .iter()
        .map(|family| {
            let out = std::process::Command::new("ip")
                .args(["-n", host, family, "route", "show", "default"])
                .output()
                .expect("ip runs");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        })
        .collect::<Vec<_>>()
        .join("")
}

/// `GET path` from host `host` to `to` (`IP:PORT`), through the LAN client: what it saw.
fn get_from(host: &str, to: &str, path: &str) -> serde_json::Value {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", host, CLIENT, "request", to, "GET", path])
        .output()
        .expect("the LAN client runs");
    serde_json::from_slice(&out.stdout).expect("the LAN client prints JSON")
}

/// The IPv4 address of host `host` on the LAN interface `dev`.
fn lan_ip(host: &str, dev: &str) -> String {
    let out = std::process::Command::new("ip")
        .args(["-n", host, "-4", "-o", "addr", "show", "dev", dev])
        .output()
        .expect("ip runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    words.find(|w| *w == "inet").expect("an IPv4 address");
    words
        .next()
        .and_then(|a| a.split('/').next())
        .expect("an address")
        .to_owned()
}

tests_main!(two_hosts_find_each_other_by_mdns_and_sync);

fn two_hosts_find_each_other_by_mdns_and_sync() -> Ran {
    let why = netns::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let tag = format!("ea{}", std::process::id() % 10_000);
    let lan = Lan::new(&tag, 2).expect("a LAN of two hosts");
    for i in 0..2 {
        let routes = default_routes(lan.host(i));
        assert!(routes.is_empty(), "host {i} has a way out: {routes}");
    }
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
    a.up(&["--listen", "/ip4/0.0.0.0/tcp/0", "--ui-lan"])
        .unwrap();
    b.up(&["--listen", "/ip4/0.0.0.0/tcp/0"]).unwrap();
    let took = b
        .wait_board(
            "Marie's post found over mDNS",
            Duration::from_secs(60),
            |board| find_post(board, id).is_some(),
        )
        .unwrap();
    eprintln!("found and synced over mDNS in {took:?}");
    // Karim's host opens Marie's page over the LAN (a phone would): the sign-in page.
    let port = a.ui_url().unwrap().rsplit(':').next().unwrap().to_owned();
    let to = format!("{}:{port}", lan_ip(lan.host(0), "e0"));
    let seen = get_from(lan.host(1), &to, "/login");
    assert_eq!(seen["status"], 200, "{seen}");
    assert!(
        seen["body"].as_str().unwrap_or("").contains("<form"),
        "{seen}"
    );
    // And entraide itself, for a neighbour who has no internet to download it from.
    let seen = get_from(lan.host(1), &to, "/download");
    assert_eq!(seen["status"], 200, "/download from the LAN: {seen}");
    b.ok(&["respond", id, "--message", "I'll come"]).unwrap();
    a.wait_board("Karim's response", Duration::from_secs(30), |board| {
        find_post(board, id)
            .is_some_and(|p| p["responses"].as_array().is_some_and(|r| r.len() == 1))
    })
    .unwrap();
    Ran::Fully
}

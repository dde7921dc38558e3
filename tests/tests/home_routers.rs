//! Homes behind home routers reach each other directly when their routers let them (issue
//! 14): three homes, each behind a router of its own that translates addresses and drops
//! any connection from outside it did not see go out (`netns::Natted`, built with iptables),
//! and a meeting point on the internet (`entraide up --announce`). Each home makes a
//! reservation on the meeting point, learns from it who else is reachable through it,
//! dials them through it, and the two nodes punch a hole through both routers (DCUtR over
//! TCP simultaneous open). Measured and printed: how many of the three pairs of homes end
//! up connected directly, and whether AutoNAT told each home it is behind a router. Posts
//! cross meanwhile (through the meeting point, then directly).
//!
//! Needs root, iproute2 and iptables; reported as ignored, with the reason, elsewhere;
//! never skipped under CI=true.

use std::time::{Duration, Instant};

use entraide_tests::harness::Ran;
use entraide_tests::netns::{self, Natted};
use entraide_tests::{MeetingPoint, TestNode, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(60);
const HOMES: usize = 3;

tests_main!(homes_behind_routers_punch_through_them);

fn has(board: &[Value], title: &str) -> bool {
    board.iter().any(|p| p["title"] == title)
}

/// The pairs of homes connected directly, as each side sees it (both must).
fn direct_pairs(homes: &[TestNode], ids: &[Value]) -> Vec<(usize, usize)> {
    let direct_to: Vec<Vec<Value>> = homes
        .iter()
        .map(|h| {
            h.json(&["peers", "--json"])
                .ok()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p["direct"] == true)
                .map(|p| p["peer_id"].clone())
                .collect()
        })
        .collect();
    let mut pairs = Vec::new();
    for i in 0..homes.len() {
        for j in i + 1..homes.len() {
            if direct_to[i].contains(&ids[j]) && direct_to[j].contains(&ids[i]) {
                pairs.push((i, j));
            }
        }
    }
    pairs
}

fn homes_behind_routers_punch_through_them() -> Ran {
    let why = netns::nat_unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let tag = format!("hr{}", std::process::id() % 10_000);
    let net = Natted::new(&tag, HOMES + 1).expect("a meeting point and three homes");
    let mut meeting = MeetingPoint::start(BIN, &net.prefix(0), net.address(0)).unwrap();
    let code = meeting.code.clone();

    let names = ["Amel", "Bruno", "Chloé"];
    let mut homes: Vec<TestNode> = (0..HOMES)
        .map(|i| TestNode::new(BIN, names[i]).with_prefix(&net.prefix(i + 1)))
        .collect();
    for (home, name) in homes.iter_mut().zip(names) {
        home.ok(&["join", &code, "--name", name]).unwrap();
        // A fixed port, as a home's node has by default: the hole is punched to it.
        home.up(&["--listen", "/ip4/0.0.0.0/tcp/4747", "--no-mdns"])
            .unwrap();
    }
    // The routers are real: no home can open a connection to another from outside.
    assert!(
        net.can_connect(1, net.address(0), 4747),
        "a home reaches the meeting point"
    );
    for (from, to) in [(1, 2), (2, 3), (3, 1)] {
        assert!(
            !net.can_connect(from, net.public_address(to), 4747),
            "home {from} opened a connection to home {to} through its router"
        );
    }
    let ids: Vec<Value> = homes
        .iter()
        .map(|h| h.json(&["whoami", "--json"]).unwrap()["peer_id"].clone())
        .collect();

    // The board crosses from the first moment, through the meeting point.
    homes[0]
        .post("request", "De l'eau pour le 3e", "week", "")
        .expect("post");
    for home in &homes[1..] {
        home.wait_board("Amel's post", PATIENCE, |b| has(b, "De l'eau pour le 3e"))
            .unwrap();
    }

    // Then the homes punch through their routers.
    let started = Instant::now();
    let mut pairs = direct_pairs(&homes, &ids);
    while pairs.len() < HOMES * (HOMES - 1) / 2 && started.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(500));
        pairs = direct_pairs(&homes, &ids);
    }
    eprintln!(
        "pairs of homes connected directly through their routers: {} of {} (after {:.1} s): {pairs:?}",
        pairs.len(),
        HOMES * (HOMES - 1) / 2,
        started.elapsed().as_secs_f64()
    );
    for (i, home) in homes.iter().enumerate() {
        let status = home.json(&["status", "--json"]).unwrap();
        eprintln!(
            "{}: reachable directly (AutoNAT): {}, hole punches: {}",
            names[i], status["reachable_directly"], status["hole_punches"]
        );
    }
    assert_eq!(
        pairs.len(),
        HOMES * (HOMES - 1) / 2,
        "every pair of homes connects directly through their routers"
    );

    // AutoNAT: the meeting point tells each home it cannot be dialled from outside.
    let started = Instant::now();
    for (i, home) in homes.iter().enumerate() {
        loop {
            let status = home.json(&["status", "--json"]).unwrap();
            if status["reachable_directly"] == false {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{} never learnt it is behind a router: {status}",
                names[i]
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    eprintln!(
        "every home learnt it is behind a router within {:.1} s more",
        started.elapsed().as_secs_f64()
    );

    // A post now reaches the homes directly, with the meeting point gone.
    meeting.node.stop().unwrap();
    homes[2]
        .post("offer", "Je peux porter des packs", "week", "")
        .expect("post");
    for home in &homes[..2] {
        home.wait_board("Chloé's post, directly", PATIENCE, |b| {
            has(b, "Je peux porter des packs")
        })
        .unwrap();
    }
    Ran::Fully
}

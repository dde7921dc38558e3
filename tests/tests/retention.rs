//! Retention (issue 16), with three real nodes on loopback. Amel posts a request that is
//! done and one still open; Bruno and Chloé hold both. Chloé goes away. Amel's clock is
//! driven 31 days ahead: her node compacts her feed into a new epoch without the done
//! post; Bruno's node adopts it and drops the old epoch. Chloé comes back with the old
//! epoch: she ends on the new one, and the done post comes back to nobody. Bruno's node
//! rewrites its store without the old epoch, and reads it back after a restart.

use std::time::{Duration, Instant};

use entraide_tests::{TestNode, community, find_post, up_with_peer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(45);
const DAY: u64 = 24 * 3600;

fn feeds(node: &TestNode) -> u64 {
    let s = node.json(&["status", "--json"]).expect("status");
    s["board"]["feeds"]
        .as_u64()
        .unwrap_or_else(|| panic!("{s:#}"))
}

/// Waits until the node's log says `line`.
fn wait_for_log(node: &TestNode, line: &str) {
    let start = Instant::now();
    while !node.log().contains(line) {
        assert!(start.elapsed() < PATIENCE, "{line}: {}", node.log_tail());
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn wait_until(node: &TestNode, what: &str, check: impl Fn(&[Value]) -> bool) {
    node.wait_board(what, PATIENCE, check).unwrap();
}

#[test]
fn closed_posts_leave_every_node_after_a_month_also_one_that_was_away() {
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("offset");
    std::fs::write(&clock, "0").unwrap();
    let mut nodes = community(BIN, &["Amel", "Bruno", "Chloé"]).expect("community");
    let amel = nodes
        .remove(0)
        .with_env("ENTRAIDE_CLOCK_OFFSET_FILE", clock.to_str().unwrap());
    nodes.insert(0, amel);
    // Bruno's node gives back the space of the epoch it drops, however small its store.
    let bruno = nodes
        .remove(1)
        .with_env("ENTRAIDE_RECLAIM_SLACK_BYTES", "0");
    nodes.insert(1, bruno);
    up_with_peer(&mut nodes[0], None);
    let amel_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&amel_addr));
    up_with_peer(&mut nodes[2], Some(&amel_addr));
    let done = nodes[0]
        .post("request", "Porter l'eau", "today", "Bât. B")
        .unwrap();
    let open = nodes[0]
        .post("offer", "Prêt de perceuse", "whenever", "Bât. B")
        .unwrap();
    nodes[0].ok(&["done", &done]).unwrap();
    for n in &nodes[1..] {
        wait_until(n, "Amel's two posts, one done", |b| {
            find_post(b, &open).is_some()
                && find_post(b, &done).is_some_and(|p| p["status"] == "done")
        });
    }
    // Every node holds the three residents' feeds (each wrote their name on joining).
    let start = Instant::now();
    while nodes.iter().any(|n| feeds(n) != 3) {
        assert!(start.elapsed() < PATIENCE, "three feeds everywhere");
        std::thread::sleep(Duration::from_millis(300));
    }
    let before = feeds(&nodes[1]);

    // Chloé goes away; a month and a day pass on Amel's clock.
    nodes[2].stop().unwrap();
    std::fs::write(&clock, (31 * DAY).to_string()).unwrap();
    wait_for_log(&nodes[0], "compacted a resident's feed");
    for n in &nodes[..2] {
        wait_until(n, "the done post gone, the open one kept", |b| {
            find_post(b, &done).is_none() && find_post(b, &open).is_some()
        });
    }
    // Bruno's node holds the new epoch instead of the old, not beside it, and gives the
    // old one's space back to the disk.
    assert_eq!(feeds(&nodes[1]), before);
    wait_for_log(
        &nodes[1],
        "gave back to the disk the space of removed history",
    );

    // Chloé comes back with the old epoch, and converges on the new one.
    up_with_peer(&mut nodes[2], Some(&amel_addr));
    wait_until(&nodes[2], "the new epoch at Chloé's", |b| {
        find_post(b, &done).is_none() && find_post(b, &open).is_some()
    });
    assert_eq!(feeds(&nodes[2]), before);
    // Rounds later, the old epoch she offered is back nowhere.
    std::thread::sleep(Duration::from_secs(5));
    for n in &nodes {
        let b = n.board().unwrap();
        assert!(find_post(&b, &done).is_none(), "{}: {b:?}", n.name);
        assert_eq!(feeds(n), before, "{}", n.name);
    }
    // And a restart of Bruno's node reads the new epoch alone from its store.
    nodes[1].stop().unwrap();
    up_with_peer(&mut nodes[1], Some(&amel_addr));
    let b = nodes[1].board().unwrap();
    assert!(find_post(&b, &done).is_none() && find_post(&b, &open).is_some());
}

/// Amel's laptop compacts her feed while her phone, away, writes into the old epoch: once
/// the phone hears of the new epoch, it writes its post again into it, so nothing it wrote
/// is lost with the old epoch.
#[test]
fn what_the_phone_wrote_while_the_laptop_compacted_is_carried_over() {
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("offset");
    std::fs::write(&clock, "0").unwrap();
    let mut nodes = community(BIN, &["Amel"]).expect("community");
    let laptop = nodes
        .remove(0)
        .with_env("ENTRAIDE_CLOCK_OFFSET_FILE", clock.to_str().unwrap());
    nodes.push(laptop);
    nodes.push(TestNode::new(BIN, "Amel-phone"));
    up_with_peer(&mut nodes[0], None);
    let laptop_addr = nodes[0].address().unwrap();
    let link = nodes[0].json(&["device", "link", "--json"]).unwrap();
    let code = link["code"].as_str().unwrap().to_owned();
    nodes[1]
        .ok(&["join-device", &code, "--name", "téléphone"])
        .unwrap();
    up_with_peer(&mut nodes[1], Some(&laptop_addr));
    let done = nodes[0]
        .post("request", "Porter l'eau", "today", "Bât. B")
        .unwrap();
    nodes[0].ok(&["done", &done]).unwrap();
    wait_until(&nodes[1], "the done post on the phone", |b| {
        find_post(b, &done).is_some_and(|p| p["status"] == "done")
    });

    // The phone goes away; a month and a day pass on the laptop, which compacts.
    nodes[1].stop().unwrap();
    std::fs::write(&clock, (31 * DAY).to_string()).unwrap();
    wait_for_log(&nodes[0], "compacted a resident's feed");
    // The laptop is off when the phone, still on the old epoch, posts.
    nodes[0].stop().unwrap();
    let bread = nodes[1]
        .post("offer", "Pain du matin", "whenever", "Bât. B")
        .unwrap();
    up_with_peer(&mut nodes[0], None);
    let laptop_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&laptop_addr));
    for n in &nodes {
        wait_until(
            n,
            "the phone's post in the new epoch, the done post gone",
            |b| find_post(b, &bread).is_some() && find_post(b, &done).is_none(),
        );
    }
    assert!(
        nodes[1]
            .log()
            .contains("carried what was written into a replaced epoch over to the new one"),
        "{}",
        nodes[1].log_tail()
    );
    // One epoch everywhere: the new one, holding the post.
    for n in &nodes {
        assert_eq!(feeds(n), 1, "{}", n.name);
    }
}

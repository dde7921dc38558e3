//! Stewards and exclusion (issue 15) between four real nodes on loopback, with a
//! partition. Chloé founded the community, so she is its steward; Amel, Bruno and Xavier
//! joined. Xavier posts "Avant", which every node gets. Then the community is cut in two:
//! Bruno and Xavier go away, and Xavier, on his own, writes "Pendant". On the other side
//! Chloé excludes Xavier; Amel gets it. Then the sides swap: Chloé and Amel go away, Bruno
//! and Xavier meet, and Bruno gets "Pendant" and shows it (nobody on that side knows of the
//! exclusion yet), and posts something of his own. When the sides meet again, every node,
//! Xavier's too, agrees: Xavier's posts are off the board, "Avant" (which Chloé held when
//! she excluded him) is still held, "Pendant" (which she had not seen) is dropped where it
//! was held and refused where it arrives by a relay, Bruno's post of the partition stays,
//! and Xavier can write nothing more.

use std::time::{Duration, Instant};

use entraide_tests::{TestNode, community, find_post, up_with_peer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);

fn post(node: &TestNode, title: &str) -> String {
    node.post("request", title, "today", "Bât. B")
        .expect("post")
}

fn status(node: &TestNode) -> Value {
    node.json(&["status", "--json"]).expect("status")
}

/// Waits until `check` holds of every node's status.
fn wait_statuses(nodes: &[&TestNode], what: &str, check: impl Fn(&[Value]) -> bool) {
    let start = Instant::now();
    loop {
        let statuses: Vec<Value> = nodes.iter().map(|n| status(n)).collect();
        if check(&statuses) {
            return;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{what} did not happen within {PATIENCE:?}: {statuses:#?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn an_exclusion_made_on_one_side_of_a_partition_holds_on_both_after_it_heals() {
    let mut nodes = community(BIN, &["Chloé", "Amel", "Bruno", "Xavier"]).expect("community");
    up_with_peer(&mut nodes[0], None);
    let chloe_addr = nodes[0].address().unwrap();
    for n in &mut nodes[1..] {
        up_with_peer(n, Some(&chloe_addr));
    }
    let stewards = nodes[2].json(&["stewards", "--json"]).unwrap();
    assert_eq!(stewards["founder"]["name"], "Chloé");
    assert_eq!(stewards["stewards"][0]["name"], "Chloé");
    assert_eq!(stewards["you_are_steward"], false);

    let avant = post(&nodes[3], "Avant");
    for n in &nodes[..3] {
        n.wait_board("Xavier's first post", PATIENCE, |b| {
            find_post(b, &avant).is_some()
        })
        .unwrap();
    }
    // Only a steward excludes; a steward cannot exclude themselves; a reason is needed.
    for (node, args, says) in [
        (
            1,
            &["exclude", "Xavier", "--reason", "x"][..],
            "only a steward",
        ),
        (0, &["exclude", "Chloé", "--reason", "x"][..], "to yourself"),
        (0, &["exclude", "Xavier", "--reason", " "][..], "say why"),
        (
            0,
            &["exclude", "Personne", "--reason", "x"][..],
            "no member matches",
        ),
    ] {
        let out = nodes[node].run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }

    // The cut: Bruno and Xavier go away. Xavier, alone, writes on.
    nodes[2].stop().unwrap();
    nodes[3].stop().unwrap();
    let pendant = post(&nodes[3], "Pendant");

    // Chloé's side: the exclusion.
    let said = nodes[0]
        .ok(&["exclude", "Xavier", "--reason", "Messages insultants"])
        .unwrap();
    assert!(said.contains("is excluded"), "{said}");
    nodes[1]
        .wait_board("Xavier's post gone at Amel's", PATIENCE, |b| {
            find_post(b, &avant).is_none()
        })
        .unwrap();
    let seen = nodes[1].json(&["stewards", "--json"]).unwrap();
    assert_eq!(seen["excluded"][0]["member"]["name"], "Xavier");
    assert_eq!(
        seen["excluded"][0]["by"][0]["reason"],
        "Messages insultants"
    );

    // The sides swap: Chloé and Amel go away; Bruno and Xavier meet, unaware.
    nodes[0].stop().unwrap();
    nodes[1].stop().unwrap();
    up_with_peer(&mut nodes[2], None);
    let bruno_addr = nodes[2].address().unwrap();
    up_with_peer(&mut nodes[3], Some(&bruno_addr));
    nodes[2]
        .wait_board("Xavier's post of the partition at Bruno's", PATIENCE, |b| {
            find_post(b, &avant).is_some() && find_post(b, &pendant).is_some()
        })
        .unwrap();
    let bruno_post = post(&nodes[2], "Bruno pendant la coupure");

    // The partition heals.
    up_with_peer(&mut nodes[0], Some(&bruno_addr));
    up_with_peer(&mut nodes[1], Some(&bruno_addr));
    let all: Vec<&TestNode> = nodes.iter().collect();
    wait_statuses(&all, "every node agreeing", |s| {
        s.iter()
            .all(|st| st["board_digest"] == s[0]["board_digest"] && st["board"]["posts"] == 2)
    });
    for n in &nodes {
        let board = n.board().unwrap();
        assert!(
            find_post(&board, &avant).is_none(),
            "{}: Avant shows",
            n.name
        );
        assert!(
            find_post(&board, &pendant).is_none(),
            "{}: Pendant shows",
            n.name
        );
        assert!(
            find_post(&board, &bruno_post).is_some(),
            "{}: Bruno's post",
            n.name
        );
    }
    // Held: "Avant" and Bruno's post (2 posts, above); "Pendant" nowhere, Xavier's own
    // node included. Xavier is told why he can write no more.
    let out = nodes[3].run(&["post", "offer", "--title", "Encore", "--urgency", "today"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("excluded"), "{err}");
    let seen = nodes[3].json(&["stewards", "--json"]).unwrap();
    assert_eq!(seen["excluded"][0]["member"]["name"], "Xavier");
}

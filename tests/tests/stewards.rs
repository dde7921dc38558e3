//! Stewards and exclusion (issue 15) between four real nodes on loopback, with a
//! partition. Chloé founded the community, so she is its steward; Amel, Bruno and Xavier
//! joined. Xavier posts "Avant", which every node gets. Then the community is cut in two:
//! Bruno and Xavier go away, and Xavier, on his own, writes "Pendant". On the other side
//! Chloé excludes Xavier; Amel gets it. Then the sides swap: Chloé and Amel go away, Bruno
//! and Xavier meet, and Bruno gets "Pendant" and shows it (nobody on that side knows of the
//! exclusion yet), and posts something of his own. When the sides meet again (Chloé's node
//! handing Bruno's the community's new secret, `tests/rekey.rs`), Chloé, Amel and Bruno
//! agree: Xavier's posts are off the board, "Avant" (which Chloé held when she excluded
//! him) is still held, "Pendant" (which she had not seen) is dropped where it was held and
//! refused where it arrives by a relay, and Bruno's post of the partition stays. Xavier's
//! node, left on the old secret, meets nobody.
//!
//! A second test: reports reach the stewards only, a second steward's agreement is needed
//! once there are two, and a new key the stewards vouch for replaces a lost one on every
//! node, the lost key's later writing refused.

use std::time::{Duration, Instant};

use entraide_tests::{TestNode, community, find_post, invite_code, up_with_peer};
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

    // The partition heals. Chloé's and Amel's nodes moved to a new community secret when
    // the exclusion arrived (tests/tests/rekey.rs): Chloé's node hands it over to Bruno's
    // through its old door, and then all three meet on it. Xavier's node, still on the old
    // secret, meets nobody any more.
    up_with_peer(&mut nodes[0], Some(&bruno_addr));
    up_with_peer(&mut nodes[1], Some(&bruno_addr));
    let three: Vec<&TestNode> = nodes[..3].iter().collect();
    wait_statuses(&three, "Chloé, Amel and Bruno agreeing", |s| {
        s.iter()
            .all(|st| st["board_digest"] == s[0]["board_digest"] && st["board"]["posts"] == 2)
    });
    for n in &nodes[..3] {
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
        let seen = n.json(&["stewards", "--json"]).unwrap();
        assert_eq!(seen["excluded"][0]["member"]["name"], "Xavier");
    }
    // Held: "Avant" (the 2 posts above are it and Bruno's); "Pendant", which Chloé had not
    // seen, was dropped by Bruno's node, which held it, and refused by Chloé's and Amel's,
    // to which it came by Bruno's relay.
    let x = status(&nodes[3]);
    assert_eq!(x["peers_connected"], 0, "{x:#}");
}

/// Every file under `dir`, read whole, holds `needle` nowhere.
fn nowhere_in(dir: &std::path::Path, needle: &str) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                return false;
            }
        }
    }
    true
}

#[test]
fn reports_reach_only_the_stewards_and_a_vouched_key_replaces_a_lost_one() {
    let mut nodes = community(BIN, &["Chloé", "Amel", "Bruno", "Odette"]).expect("community");
    up_with_peer(&mut nodes[0], None);
    let chloe_addr = nodes[0].address().unwrap();
    for n in &mut nodes[1..] {
        up_with_peer(n, Some(&chloe_addr));
    }
    let courses = post(&nodes[3], "Courses pour jeudi");
    for n in &nodes[..3] {
        n.wait_board("Odette's post", PATIENCE, |b| {
            find_post(b, &courses).is_some()
        })
        .unwrap();
    }

    // The founder alone appoints Amel; then two stewards must agree on Bruno.
    nodes[0].ok(&["steward", "appoint", "Amel"]).unwrap();
    let said = nodes[0].ok(&["steward", "appoint", "Bruno"]).unwrap();
    assert!(said.contains("A second steward must agree"), "{said}");
    let v = nodes[0].json(&["stewards", "--json"]).unwrap();
    assert_eq!(v["stewards"].as_array().unwrap().len(), 2);
    assert_eq!(v["required"], 2);
    assert_eq!(v["proposals"][0]["what"], "appoint");
    assert_eq!(v["proposals"][0]["who"]["name"], "Bruno");
    let out = nodes[2].run(&["steward", "appoint", "Odette"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a steward"));

    // A report, sealed to Chloé and Amel.
    const REASON: &str = "Annonce trompeuse, déjà signalée";
    let out = nodes[2].run(&["report", &courses[..8], "--reason", " "]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("say why"));
    nodes[2]
        .ok(&["report", &courses[..8], "--reason", REASON])
        .unwrap();
    for steward in &nodes[..2] {
        let start = Instant::now();
        loop {
            let reports = steward.json(&["reports", "--json"]).unwrap();
            if reports.as_array().is_some_and(|r| !r.is_empty()) {
                assert_eq!(reports[0]["reason"], REASON);
                assert_eq!(reports[0]["reporter"]["name"], "Bruno");
                assert_eq!(reports[0]["author"]["name"], "Odette");
                assert_eq!(reports[0]["title"], "Courses pour jeudi");
                break;
            }
            assert!(start.elapsed() < PATIENCE, "{}: no report", steward.name);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    let out = nodes[3].run(&["reports"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a steward"));
    // Odette's node holds Bruno's feed, the report in it: sealed, never in clear.
    wait_statuses(&[&nodes[2], &nodes[3]], "Bruno's feed at Odette's", |s| {
        s[0]["board_digest"] == s[1]["board_digest"]
    });
    nodes[3].stop().unwrap();
    assert!(nowhere_in(nodes[3].data_dir(), REASON));

    // Odette lost her phone and every backup: she joins again with a new identity.
    let mut odette = TestNode::new(BIN, "Odette (nouveau)");
    odette
        .ok(&[
            "join",
            &invite_code(&nodes[0]).unwrap(),
            "--name",
            "Odette (nouveau)",
        ])
        .unwrap();
    up_with_peer(&mut odette, Some(&chloe_addr));
    let new_id = odette.json(&["whoami", "--json"]).unwrap()["author"]
        .as_str()
        .unwrap()
        .to_owned();
    // Chloé's node may not hold the new identity's feed yet: "no member matches" until then.
    let start = Instant::now();
    let said = loop {
        let out = nodes[0].run(&["vouch", "Odette", &new_id[..20]]);
        if out.status.success() {
            break String::from_utf8_lossy(&out.stdout).into_owned();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(said.contains("A second steward must vouch too"), "{said}");
    let start = Instant::now();
    loop {
        let out = nodes[1].run(&["vouch", "Odette", &new_id[..20]]);
        if out.status.success() {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for n in nodes[..3].iter().chain([&odette]) {
        n.wait_board("the old post under the new identity", PATIENCE, |b| {
            find_post(b, &courses).is_some_and(|p| {
                p["author_now"] == new_id.as_str() && p["author_name"] == "Odette (nouveau)"
            })
        })
        .unwrap();
    }

    // Whoever found the old phone writes with the old key, offline, then comes online:
    // nobody takes it.
    let stolen = post(&nodes[3], "Donne mes clés");
    up_with_peer(&mut nodes[3], Some(&chloe_addr));
    let all: Vec<&TestNode> = nodes.iter().chain([&odette]).collect();
    wait_statuses(&all, "every node agreeing", |s| {
        s.iter()
            .all(|st| st["board_digest"] == s[0]["board_digest"])
    });
    for n in &all {
        let board = n.board().unwrap();
        assert!(
            find_post(&board, &stolen).is_none(),
            "{}: the old key's post",
            n.name
        );
        assert!(
            find_post(&board, &courses).is_some(),
            "{}: the post before",
            n.name
        );
    }
    let out = nodes[3].run(&["post", "offer", "--title", "Encore", "--urgency", "today"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("new key"));

    // Bruno blocks Odette from the post she wrote before she lost her phone, so under her
    // old key: what she writes with the new one is hidden from him too, and only from him.
    let old_key = find_post(&nodes[2].board().unwrap(), &courses).unwrap()["author"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old_key, new_id);
    nodes[2].ok(&["block", &old_key[..20]]).unwrap();
    let thanks = post(&odette, "Merci pour les courses");
    nodes[1]
        .wait_board("Odette's new post", PATIENCE, |b| {
            find_post(b, &thanks).is_some()
        })
        .unwrap();
    wait_statuses(&all, "every node holding Odette's new post", |s| {
        s.iter()
            .all(|st| st["board_digest"] == s[0]["board_digest"])
    });
    let bruno = nodes[2].board().unwrap();
    assert!(find_post(&bruno, &thanks).is_none(), "the new key's post");
    assert!(find_post(&bruno, &courses).is_none(), "the old key's post");
    assert!(find_post(&nodes[1].board().unwrap(), &thanks).is_some());
}

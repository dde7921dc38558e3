//! Blocking (issue 15): a resident hides a member on their own screens only. Real nodes on
//! loopback: Amel, Bruno and (later) Chloé. Bruno blocks Amel: her post and her response
//! leave Bruno's board, `show` of her post says why, `blocked` lists her with his reason,
//! and the block survives a restart. Amel's own board is untouched, and Chloé, who meets
//! only Bruno, still gets Amel's post through him (his node relays her feed). Bad input
//! (blocking oneself, nobody, unblocking someone not blocked) gets one clear line; unblock
//! shows her again.

use std::time::Duration;

use entraide_tests::{TestNode, community, find_post, responders, up_with_peer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);

fn post(node: &TestNode, title: &str) -> String {
    node.post("request", title, "today", "Bât. B")
        .expect("post")
}

#[test]
fn a_block_hides_a_member_on_my_screens_only() {
    let mut nodes = community(BIN, &["Amel", "Bruno", "Chloé"]).expect("community");
    up_with_peer(&mut nodes[0], None);
    let a_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&a_addr));
    let (amel, bruno) = (&nodes[0], &nodes[1]);

    let hers = post(amel, "De l'eau au 4e");
    let his = post(bruno, "Un trajet jeudi");
    amel.wait_board("Bruno's post", PATIENCE, |b| find_post(b, &his).is_some())
        .unwrap();
    amel.ok(&["respond", &his[..8], "--message", "Je peux conduire"])
        .unwrap();
    bruno
        .wait_board("Amel's post and response", PATIENCE, |b| {
            find_post(b, &hers).is_some() && responders(b, &his) == ["Amel"]
        })
        .unwrap();

    // Bad input first: one clear line, a failure code, nothing changed.
    for (args, says) in [
        (&["block", "Bruno"][..], "cannot block yourself"),
        (&["block", "Personne"][..], "no member matches"),
        (&["unblock", "Amel"][..], "have not blocked"),
    ] {
        let out = bruno.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(err.contains(says), "{args:?}: {err}");
    }

    // The care register's circle choice offers her, until he blocks her.
    let amel_id = amel.json(&["whoami", "--json"]).unwrap()["author"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = bruno.page().unwrap();
    let (_, care) = page.fetch("/care").unwrap();
    assert!(care.contains(&format!("value=\"{amel_id}\"")), "{care}");

    let said = bruno
        .ok(&["block", "Amel", "--reason", "messages insultants"])
        .unwrap();
    let (_, care) = page.fetch("/care").unwrap();
    assert!(
        !care.contains(&amel_id),
        "the circle choice still offers her"
    );
    assert!(
        said.starts_with("Amel (") && said.contains(") is blocked"),
        "{said}"
    );
    let board = bruno.board().unwrap();
    assert!(find_post(&board, &hers).is_none(), "her post still shows");
    assert!(
        responders(&board, &his).is_empty(),
        "her response still shows"
    );
    let out = bruno.run(&["show", &hers]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("you blocked the author"));
    let listed = bruno.json(&["blocked", "--json"]).unwrap();
    assert_eq!(listed[0]["name"], "Amel");
    assert_eq!(listed[0]["reason"], "messages insultants");

    // Hers alone: Amel sees everything as before, and is not told.
    let board = amel.board().unwrap();
    assert!(find_post(&board, &hers).is_some());
    assert_eq!(responders(&board, &his), ["Amel"]);

    // Bruno's node still relays her feed: Chloé meets only Bruno, and gets her post.
    nodes[0].stop().unwrap();
    let b_addr = nodes[1].address().unwrap();
    up_with_peer(&mut nodes[2], Some(&b_addr));
    nodes[2]
        .wait_board("Amel's post through Bruno", PATIENCE, |b| {
            find_post(b, &hers).is_some()
        })
        .unwrap();

    // The block is kept across a restart, then undone.
    nodes[1].stop().unwrap();
    up_with_peer(&mut nodes[1], None);
    let bruno = &nodes[1];
    assert!(find_post(&bruno.board().unwrap(), &hers).is_none());
    assert!(
        bruno
            .ok(&["unblock", "Amel"])
            .unwrap()
            .contains(") shows again")
    );
    let board = bruno.board().unwrap();
    assert!(find_post(&board, &hers).is_some());
    assert_eq!(responders(&board, &his), ["Amel"]);
    assert_eq!(
        bruno.json(&["blocked", "--json"]).unwrap(),
        Value::Array(vec![])
    );
}

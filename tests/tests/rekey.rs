//! The re-key after an exclusion (issue 15), with four real nodes on loopback. Chloé
//! founded the community (its steward); Amel, Bruno and Xavier joined. Bruno is away
//! (stopped) when Chloé excludes Xavier. Her node writes a new community secret sealed to
//! Amel, Bruno and herself; Chloé's and Amel's nodes move to it and meet again on it, and
//! a post made after reaches them. Xavier's node, still on the old secret, cannot connect
//! any more (every redial fails at the handshake) and never gets the post. When Bruno comes
//! back, his node too is on the old secret: Chloé's node, through its old door, hands him
//! the notice, his node moves, meets the others and gets the post.
//!
//! A second test drives Chloé's clock a week and a day ahead after the move: her old door
//! closes, and Bruno, back on the old secret, is handed nothing, until a new invite code
//! (`entraide join` in his data folder) brings him back. A third has Dora join
//! after the move (her invite code carries no generation), become a steward and exclude
//! Bruno: every node moves on to the third secret.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use entraide_tests::{TestNode, community, find_post, up_with_peer};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(45);

fn status(node: &TestNode) -> Value {
    node.json(&["status", "--json"]).expect("status")
}

fn wait_for(node: &TestNode, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = status(node);
        if check(&s) {
            return s;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{}: {what} did not happen within {PATIENCE:?}: {s:#}\nlog:\n{}",
            node.name,
            node.log()
                .lines()
                .skip_while(|l| !l.contains("xclu"))
                .take(40)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Four nodes meeting at Chloé's, with Xavier's post "Avant" everywhere and Bruno on a port
/// of his own. Chloé's clock moves by the seconds written in the returned file.
struct Setup {
    nodes: Vec<TestNode>,
    bruno_args: Vec<String>,
    old_tag: String,
    avant: String,
    chloe_clock: PathBuf,
    _clock_dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let clock_dir = tempfile::tempdir().unwrap();
    let chloe_clock = clock_dir.path().join("offset");
    std::fs::write(&chloe_clock, "0").unwrap();
    let mut nodes = community(BIN, &["Chloé", "Amel", "Bruno", "Xavier"]).expect("community");
    let chloe = nodes
        .remove(0)
        .with_env("ENTRAIDE_CLOCK_OFFSET_FILE", chloe_clock.to_str().unwrap());
    nodes.insert(0, chloe);
    up_with_peer(&mut nodes[0], None);
    let chloe_addr = nodes[0].address().unwrap();
    up_with_peer(&mut nodes[1], Some(&chloe_addr));
    // Bruno on a port of his own, the same each time he starts (as the default 4747 is).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bruno_args: Vec<String> = [
        "--no-mdns",
        "--listen",
        &format!("/ip4/127.0.0.1/tcp/{port}"),
        "--resync",
        "2",
        "--peer",
        &chloe_addr,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let args: Vec<&str> = bruno_args.iter().map(String::as_str).collect();
    nodes[2].up(&args).unwrap();
    up_with_peer(&mut nodes[3], Some(&chloe_addr));
    let old_tag = status(&nodes[0])["community"].as_str().unwrap().to_owned();
    let avant = nodes[3]
        .post("request", "Avant", "today", "Bât. B")
        .unwrap();
    for n in &nodes[..3] {
        n.wait_board("Xavier's post", PATIENCE, |b| {
            find_post(b, &avant).is_some()
        })
        .unwrap();
    }
    // Chloé's node must know where Bruno listens before he goes (identify told it).
    wait_for(&nodes[0], "three neighbours", |s| s["peers_connected"] == 3);
    Setup {
        nodes,
        bruno_args,
        old_tag,
        avant,
        chloe_clock,
        _clock_dir: clock_dir,
    }
}

/// Bruno goes away, Chloé excludes Xavier, and Chloé's and Amel's nodes move to the new
/// secret. Returns its tag.
fn exclude_while_bruno_is_away(s: &mut Setup) -> String {
    s.nodes[2].stop().unwrap();
    s.nodes[0]
        .ok(&["exclude", "Xavier", "--reason", "Menaces"])
        .unwrap();
    let old_tag = s.old_tag.clone();
    let moved = wait_for(&s.nodes[0], "Chloé's node on the new secret", |st| {
        st["community"] != old_tag.as_str()
    });
    let new_tag = moved["community"].as_str().unwrap().to_owned();
    wait_for(&s.nodes[1], "Amel's node on the new secret", |st| {
        st["community"] == new_tag.as_str() && st["peers_connected"] == 1
    });
    new_tag
}

#[test]
fn an_exclusion_moves_the_community_to_a_new_secret_that_the_excluded_member_lacks() {
    let mut s = setup();
    let new_tag = exclude_while_bruno_is_away(&mut s);
    let Setup {
        nodes,
        bruno_args,
        old_tag,
        avant,
        ..
    } = &mut s;
    let bruno_args: Vec<&str> = bruno_args.iter().map(String::as_str).collect();
    let apres = nodes[1]
        .post("offer", "Après la coupure", "today", "Bât. B")
        .unwrap();
    nodes[0]
        .wait_board("Amel's post after the re-key", PATIENCE, |b| {
            find_post(b, &apres).is_some()
        })
        .unwrap();

    // Xavier's node redials Chloé every 2 s: it fails at the handshake each time.
    let x = status(&nodes[3]);
    assert_eq!(x["community"], old_tag.as_str(), "the excluded node moved");
    for _ in 0..10 {
        let x = status(&nodes[3]);
        assert_eq!(x["peers_connected"], 0, "Xavier connected: {x:#}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(find_post(&nodes[3].board().unwrap(), &apres).is_none());
    // Each attempt fails while the connection is set up: the pre-shared key differs, so
    // the handshake never completes (the line the node logs for it).
    let start = Instant::now();
    let failed = loop {
        let log = nodes[3].log();
        if let Some(line) = log
            .lines()
            .rfind(|l| l.contains("dial failed") && l.contains("Handshake failed"))
        {
            break line.to_owned();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "Xavier's node logged no dial failed at the handshake:\n{}",
            nodes[3].log_tail()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    eprintln!("Xavier's last attempt: {failed}");

    // Bruno comes back, on the old secret: the old door hands him the new one.
    nodes[2].up(&bruno_args).unwrap();
    let start = Instant::now();
    while status(&nodes[2])["community"] != new_tag.as_str() {
        assert!(
            start.elapsed() < PATIENCE,
            "Bruno's node did not move within {PATIENCE:?}; Chloé's log:\n{}\nBruno's:\n{}",
            nodes[0].log_tail(),
            nodes[2].log_tail()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Through the old door: Bruno's node could meet nobody on the old secret but Xavier,
    // whose address it does not know.
    assert!(
        nodes[2].log().contains("a member handed over a new secret"),
        "{}",
        nodes[2].log_tail()
    );
    nodes[2]
        .wait_board("Amel's post at Bruno's", PATIENCE, |b| {
            find_post(b, &apres).is_some() && find_post(b, avant.as_str()).is_none()
        })
        .unwrap();
    // Still nothing for Xavier.
    let x = status(&nodes[3]);
    assert_eq!(x["peers_connected"], 0, "{x:#}");
    assert!(find_post(&nodes[3].board().unwrap(), &apres).is_none());
    // The secret file keeps the old secret, to hand over, and until when.
    let file = std::fs::read_to_string(nodes[2].data_dir().join("community.key")).unwrap();
    assert!(
        file.contains("previous:") && file.contains("generation:"),
        "{file}"
    );
}

#[test]
fn the_old_secret_is_handed_over_for_a_week_then_never() {
    let mut s = setup();
    let new_tag = exclude_while_bruno_is_away(&mut s);
    // A week and a day later, by Chloé's clock: her old door closes.
    std::fs::write(&s.chloe_clock, (8 * 24 * 3600).to_string()).unwrap();
    let start = Instant::now();
    while !s.nodes[0].log().contains("no longer handed over") {
        assert!(start.elapsed() < PATIENCE, "{}", s.nodes[0].log_tail());
        std::thread::sleep(Duration::from_millis(300));
    }
    let args: Vec<&str> = s.bruno_args.iter().map(String::as_str).collect();
    s.nodes[2].up(&args).unwrap();
    // Five resync rounds of Chloé's: nothing reaches Bruno, still on the old secret.
    std::thread::sleep(Duration::from_secs(10));
    let b = status(&s.nodes[2]);
    assert_eq!(b["community"], s.old_tag.as_str(), "{b:#}");
    assert_ne!(b["community"], new_tag.as_str());
    assert_eq!(b["peers_connected"], 0, "{b:#}");
    assert!(!s.nodes[2].log().contains("handed over a new secret"));
    // A new invite code from Chloé brings Bruno back, in the same data folder.
    let code = entraide_tests::invite_code(&s.nodes[0]).unwrap();
    s.nodes[2].stop().unwrap();
    let said = s.nodes[2].ok(&["join", &code]).unwrap();
    assert!(
        said.contains("secret changed while you were away"),
        "{said}"
    );
    s.nodes[2].up(&args).unwrap();
    wait_for(&s.nodes[2], "Bruno back among the others", |st| {
        st["community"] == new_tag.as_str() && st["peers_connected"].as_u64() >= Some(1)
    });
}

/// Runs `args` on `node` until it succeeds (what it needs may still be on its way).
fn ok_eventually(node: &TestNode, args: &[&str]) -> String {
    let start = Instant::now();
    loop {
        match node.ok(args) {
            Ok(out) => return out,
            Err(e) => assert!(
                start.elapsed() < PATIENCE,
                "{}: {args:?} kept failing: {e:#}",
                node.name
            ),
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_steward_who_joined_after_a_re_key_writes_the_next_one_above_it() {
    let mut s = setup();
    let new_tag = exclude_while_bruno_is_away(&mut s);
    // Dora joins with an invite code of the new secret: her node knows no generation.
    let mut dora = TestNode::new(BIN, "Dora");
    let code = entraide_tests::invite_code(&s.nodes[0]).unwrap();
    dora.ok(&["join", &code, "--name", "Dora"]).unwrap();
    let chloe_addr = s.nodes[0].address().unwrap();
    up_with_peer(&mut dora, Some(&chloe_addr));
    assert_eq!(status(&dora)["community"], new_tag.as_str());
    // Chloé, the only steward, appoints her; Dora, once her node knows it, excludes Bruno.
    ok_eventually(&s.nodes[0], &["steward", "appoint", "Dora"]);
    ok_eventually(&dora, &["exclude", "Bruno", "--reason", "Parti"]);
    // Her notices must be of a generation above the first re-key's, or Chloé's and Amel's
    // nodes, already there, would ignore them and Dora's node would move alone.
    let moved = wait_for(&dora, "Dora's node on a third secret", |st| {
        st["community"] != new_tag.as_str()
    });
    let third = moved["community"].as_str().unwrap().to_owned();
    for n in &s.nodes[..2] {
        wait_for(n, "the third secret", |st| {
            st["community"] == third.as_str()
        });
    }
    let file = std::fs::read_to_string(s.nodes[0].data_dir().join("community.key")).unwrap();
    assert!(file.contains("generation: 00000002"), "{file}");
}

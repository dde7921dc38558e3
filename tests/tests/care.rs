//! The care register between four real `entraide` processes on loopback (`--peer`, no
//! mDNS), their clocks driven through `ENTRAIDE_CLOCK_OFFSET_FILE` (no sleeping for hours).
//!
//! Bruno registers Mme Martin, who has no device, with the circle Bruno and Chloé; Amel's
//! node (A) is the hub everyone dials; Dan (D) is a member outside the circle. D's board,
//! API and raw store bytes hold no trace of the name or the notes; B and C see the record;
//! a check by B shows on C; a missed window is seen by both; taken by B, no public request;
//! the next day nobody takes it and exactly one public request reaches D, with the area
//! only, even though B and C each raised it while cut off from each other (A stopped).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use entraide_tests::TestNode;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(45);
const LOOPBACK: &[&str] = &[
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--resync",
    "2",
];
const NAME: &str = "Mme Martin";
const NOTES: &str = "3e étage porte gauche, sonner deux fois, tél 06 12 34 56 78";
const AREA: &str = "Bât. B";

/// One clock for the four nodes: a file of seconds added to the system clock.
struct Clock {
    file: PathBuf,
    /// Local midnight (UTC: the nodes run with ENTRAIDE_UTC_OFFSET=0) of the test's day 0.
    day0: i64,
    _dir: tempfile::TempDir,
}

impl Clock {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("offset");
        std::fs::write(&file, "0").unwrap();
        // Day 0 is tomorrow, so every time the test sets is in the future of the real one.
        let day0 = (real_now() / 86_400 + 1) * 86_400;
        Clock {
            file,
            day0,
            _dir: dir,
        }
    }

    /// Moves every node's clock to `hh:mm` on day `day`.
    fn set(&self, day: i64, hh: i64, mm: i64) {
        let target = self.day0 + day * 86_400 + hh * 3600 + mm * 60;
        std::fs::write(&self.file, (target - real_now()).to_string()).unwrap();
    }
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn community(clock: &Clock, names: &[&str]) -> Vec<TestNode> {
    let node = |name: &str| {
        TestNode::new(BIN, name)
            .with_env("ENTRAIDE_CLOCK_OFFSET_FILE", clock.file.to_str().unwrap())
            .with_env("ENTRAIDE_UTC_OFFSET", "0")
    };
    let first = node(names[0]);
    first.ok(&["init", "--name", names[0]]).expect("init");
    let invite = first.ok(&["invite"]).expect("invite");
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let mut nodes = vec![first];
    for name in &names[1..] {
        let n = node(name);
        n.ok(&["join", &code, "--name", name]).expect("join");
        nodes.push(n);
    }
    nodes
}

fn up(n: &mut TestNode, peers: &[String]) {
    let mut args = LOOPBACK.to_vec();
    for p in peers {
        args.extend(["--peer", p.as_str()]);
    }
    n.up(&args).expect("up");
}

/// Waits until `what` holds on `node`'s JSON answer to `args`, or fails saying what it saw.
fn wait_json(node: &TestNode, args: &[&str], what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        if let Ok(v) = node.json(args) {
            if ok(&v) {
                return v;
            }
            last = v;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!(
        "{}: {what}: not within {PATIENCE:?}; last answer: {last:#}\n{}",
        node.name,
        node.log_tail()
    );
}

fn records(list: &Value) -> Vec<Value> {
    list["records"].as_array().cloned().unwrap_or_default()
}

fn state_of(list: &Value) -> Option<String> {
    records(list)
        .first()
        .and_then(|r| r["state"].as_str())
        .map(str::to_owned)
}

fn escalations(board: &Value) -> Vec<Value> {
    board
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p.get("escalation").is_some_and(|e| !e.is_null()))
        .cloned()
        .collect()
}

/// Every byte of every file under `dir`.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.extend(bytes);
        }
    }
    out
}

fn holds(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_circle_checks_on_a_neighbour_and_a_missed_check_goes_public_once() {
    let clock = Clock::new();
    clock.set(0, 8, 0);
    let mut nodes = community(&clock, &["Amel", "Bruno", "Chloé", "Dan"]);
    up(&mut nodes[0], &[]);
    let hub = nodes[0].address().unwrap();
    for n in &mut nodes[1..] {
        up(n, std::slice::from_ref(&hub));
    }
    let [a, b, c, d] = &mut nodes[..] else {
        unreachable!()
    };
    // Everyone knows everyone's name (the circle is typed by name).
    for n in [&*b, &*c, &*d] {
        wait_json(n, &["care", "list", "--json"], "the node answers", |_| true);
    }
    wait_json(b, &["status", "--json"], "four feeds", |s| {
        s["board"]["feeds"].as_u64() == Some(4)
    });

    // Day 0, 08:00: D declares a heatwave; B registers Mme Martin with B and C.
    d.ok(&[
        "alert", "declare", "heatwave", "--until", "4d", "--note", "36 °C",
    ])
    .expect("alert");
    let id = b
        .ok(&[
            "care",
            "add",
            "--name",
            NAME,
            "--area",
            AREA,
            "--window",
            "09:00-11:00",
            "--circle",
            "Bruno",
            "Chloé",
            "--consent",
            "Mme Martin, à sa porte, le 1er décembre, à Bruno",
            "--notes",
            NOTES,
        ])
        .expect("care add")
        .trim()
        .to_owned();
    assert_eq!(id.len(), 32, "the record's id is printed: {id}");
    let seen = wait_json(c, &["care", "list", "--json"], "C sees the record", |l| {
        records(l).len() == 1
    });
    let record = &records(&seen)[0];
    assert_eq!(record["name"], NAME);
    assert_eq!(record["notes"], NOTES);
    assert_eq!(record["state"], "upcoming");
    wait_json(
        c,
        &["care", "status", "--json"],
        "the alert is active on C",
        |l| l["alert_active"] == true,
    );

    // D holds the ciphertext (it relays it) but can read nothing of it.
    wait_json(d, &["status", "--json"], "D holds B's feed", |s| {
        s["board_digest"] == b.json(&["status", "--json"]).unwrap()["board_digest"]
    });
    assert!(records(&d.json(&["care", "list", "--json"]).unwrap()).is_empty());
    let d_board = d.json(&["list", "--json", "--all"]).unwrap().to_string();
    assert!(!d_board.contains("Martin") && !d_board.contains("06 12"));
    let d_status = d.json(&["status", "--json"]).unwrap().to_string();
    assert!(!d_status.contains("Martin"));
    // (`care list` went through D's API: the node is up.)
    d.stop().unwrap();
    let raw = all_bytes(d.data_dir());
    assert!(
        raw.len() > 10_000,
        "D's store is there ({} bytes)",
        raw.len()
    );
    for secret in ["Martin", "06 12 34", "sonner deux fois", "porte gauche"] {
        assert!(!holds(&raw, secret), "D's disk holds `{secret}` in clear");
    }
    // B's own disk, for contrast, holds the record only sealed too (it is in B's feed).
    up(d, std::slice::from_ref(&hub));

    // 09:30: B visited; C sees the check.
    clock.set(0, 9, 30);
    wait_json(c, &["care", "status", "--json"], "due on C", |l| {
        state_of(l).as_deref() == Some("due")
    });
    b.ok(&[
        "care",
        "ok",
        &id[..8],
        "--how",
        "visit",
        "--note",
        "brought water",
    ])
    .expect("care ok");
    let checked = wait_json(c, &["care", "status", "--json"], "B's check on C", |l| {
        state_of(l).as_deref() == Some("checked")
    });
    assert_eq!(records(&checked)[0]["check"]["how"], "visit");
    assert_eq!(records(&checked)[0]["checked_by_name"], "Bruno");

    // Day 1, 11:05: nobody checked. Both see it missed; B takes it.
    clock.set(1, 11, 5);
    for n in [&*b, &*c] {
        wait_json(n, &["care", "status", "--json"], "missed", |l| {
            state_of(l).as_deref() == Some("missed")
        });
    }
    b.ok(&["care", "take", &id[..8]]).expect("care take");
    wait_json(c, &["care", "status", "--json"], "taken, on C", |l| {
        state_of(l).as_deref() == Some("taken")
    });
    // Past the delay: taken, so no public request (three ticks of every node).
    clock.set(1, 11, 45);
    std::thread::sleep(Duration::from_secs(16));
    for n in [&*a, &*b, &*c, &*d] {
        let board = n.json(&["list", "--json", "--all"]).unwrap();
        assert!(escalations(&board).is_empty(), "{}: {board:#}", n.name);
    }

    // Day 2, 11:05: missed again; A (the hub) goes down, so B and C are cut off from each
    // other and from D; past the delay each raises the public request on its own.
    clock.set(2, 11, 5);
    for n in [&*b, &*c] {
        wait_json(n, &["care", "status", "--json"], "missed on day 2", |l| {
            state_of(l).as_deref() == Some("missed")
        });
    }
    a.stop().unwrap();
    clock.set(2, 11, 40);
    for n in [&*b, &*c] {
        wait_json(n, &["list", "--json"], "its own public request", |board| {
            escalations(board).len() == 1
        });
    }
    // A comes back and dials them: everything meets.
    let (bb, cc, dd) = (
        b.address().unwrap(),
        c.address().unwrap(),
        d.address().unwrap(),
    );
    up(a, &[bb, cc, dd]);
    let b_digest = || b.json(&["status", "--json"]).unwrap()["board_digest"].clone();
    wait_json(d, &["status", "--json"], "D holds everything", |s| {
        s["board_digest"] == b_digest()
    });
    for n in [&*a, &*b, &*c, &*d] {
        let board = wait_json(n, &["status", "--json"], "converged", |s| {
            s["board_digest"] == b_digest()
        });
        let _ = board;
        let list = n.json(&["list", "--json"]).unwrap();
        let shown = escalations(&list);
        assert_eq!(shown.len(), 1, "{}: exactly one request: {list:#}", n.name);
        assert_eq!(shown[0]["area"], AREA);
        assert_eq!(shown[0]["urgency"], "urgent");
        let text = shown[0].to_string();
        assert!(!text.contains("Martin"), "the name stays private: {text}");
    }
    // Both raised one: each still holds its own (two in every store), every board shows one.
    for n in [&*b, &*c] {
        let own = n.json(&["list", "--json", "--all", "--mine"]).unwrap();
        assert_eq!(escalations(&own).len(), 1, "{}: {own:#}", n.name);
    }

    // 12:10: C visits; the request is closed by whoever raised it.
    clock.set(2, 12, 10);
    c.ok(&["care", "ok", &id[..8], "--how", "visit"])
        .expect("care ok");
    wait_json(
        d,
        &["list", "--json"],
        "the request leaves D's board",
        |board| escalations(board).is_empty(),
    );

    // The person asks to be removed: nobody sees the record any more.
    c.ok(&["care", "remove", &id[..8]]).expect("care remove");
    for n in [&*b, &*c] {
        wait_json(n, &["care", "list", "--json"], "removed", |l| {
            records(l).is_empty()
        });
    }
}

#[test]
fn bad_care_input_gets_a_clear_error() {
    let clock = Clock::new();
    clock.set(0, 8, 0);
    let nodes = community(&clock, &["Amel", "Bruno"]);
    let a = &nodes[0];
    let add = |window: &str, circle: &[&str], consent: &str| {
        let mut args = vec![
            "care",
            "add",
            "--name",
            NAME,
            "--area",
            AREA,
            "--window",
            window,
            "--consent",
            consent,
            "--circle",
        ];
        args.extend(circle);
        a.run(&args)
    };
    let ok = "Mme Martin, orally, 1 Dec";
    let cases: [(&str, &[&str], &str, &str); 4] = [
        ("09:00-11:00", &["Amel"], ok, "circle needs 2"),
        ("09:00-11:00", &["Amel", "Nobody"], ok, "no member matches"),
        ("11:00-09:00", &["Amel", "Bruno"], ok, "not a daily window"),
        (
            "09:00-11:00",
            &["Amel", "Amel"],
            " ",
            "consent is mandatory",
        ),
    ];
    for (window, circle, consent, expected) in cases {
        let out = add(window, circle, consent);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{circle:?} {window} was accepted");
        assert!(stderr.contains(expected), "{circle:?} {window}: {stderr}");
    }
    let out = a.run(&["care", "ok", "ffff", "--how", "visit"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no record"));
    let out = a.run(&["care", "ok", "ffff", "--how", "teleport"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("self, visit or phone"));
}

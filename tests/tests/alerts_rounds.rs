//! Alerts, winter rounds and sightings (issue 12) across two real `entraide` processes on
//! loopback: the CLI, the JSON API and the clock moved through
//! `ENTRAIDE_CLOCK_OFFSET_FILE` (never a real wait for hours).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use entraide_tests::TestNode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(40);
const LOOPBACK: &[&str] = &[
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--resync",
    "2",
];
const HOUR: i64 = 3600;

/// Two residents of one community, each node with its own movable clock, both in Paris
/// winter time (UTC+1). A is up; B is up and dials A.
struct Pair {
    a: TestNode,
    b: TestNode,
    clocks: [PathBuf; 2],
    _dir: tempfile::TempDir,
}

impl Pair {
    fn start() -> Pair {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let clocks = [dir.path().join("clock-a"), dir.path().join("clock-b")];
        let node = |name: &str, clock: &PathBuf| {
            std::fs::write(clock, "0").expect("clock file");
            TestNode::new(BIN, name)
                .with_env("ENTRAIDE_CLOCK_OFFSET_FILE", clock.to_str().unwrap())
                .with_env("ENTRAIDE_UTC_OFFSET", "3600")
        };
        let mut a = node("Marie", &clocks[0]);
        a.ok(&["init", "--name", "Marie"]).expect("init");
        let invite = a.ok(&["invite"]).expect("invite");
        let code = invite
            .split_whitespace()
            .find(|w| w.starts_with("ENTRAIDE-"))
            .expect("a code")
            .to_owned();
        let mut b = node("Karim", &clocks[1]);
        b.ok(&["join", &code, "--name", "Karim"]).expect("join");
        a.up(LOOPBACK).expect("A up");
        let address = a.address().expect("A's address");
        let mut args = LOOPBACK.to_vec();
        args.extend(["--peer", &address]);
        b.up(&args).expect("B up");
        Pair {
            a,
            b,
            clocks,
            _dir: dir,
        }
    }

    /// Moves both nodes' clocks to `secs` after the real time.
    fn move_clocks(&self, secs: i64) {
        for c in &self.clocks {
            std::fs::write(c, secs.to_string()).expect("clock file");
        }
    }
}

/// Runs `args` (with `--json`) on `node` until `ready` holds of its answer.
fn wait_json(node: &TestNode, args: &[&str], what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let value = node.json(args).expect("a JSON answer");
        if ready(&value) {
            return value;
        }
        if start.elapsed() > PATIENCE {
            panic!(
                "{}: {what} not seen within {PATIENCE:?}; last answer: {value}\n{}",
                node.name,
                node.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A failing command's stderr.
fn refused(node: &TestNode, args: &[&str]) -> String {
    let out = node.run(args);
    assert!(
        !out.status.success(),
        "`entraide {}` should have been refused",
        args.join(" ")
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn author_of(node: &TestNode) -> String {
    node.json(&["whoami", "--json"]).expect("whoami")["author"]
        .as_str()
        .expect("an author id")
        .to_owned()
}

#[test]
fn alerts_cross_merge_by_kind_and_end_by_author_or_by_time() {
    let pair = Pair::start();
    let (a, b) = (&pair.a, &pair.b);

    let heat_a = a
        .ok(&[
            "alert",
            "declare",
            "heatwave",
            "--until",
            "2d",
            "--note",
            "Drink water",
        ])
        .unwrap();
    let heat_a = heat_a.lines().next().unwrap().trim().to_owned();
    // B sees it: CLI, API and status.
    let seen = wait_json(b, &["alert", "list", "--json"], "A's heatwave", |v| {
        v.as_array().is_some_and(|a| a.len() == 1)
    });
    assert_eq!(seen[0]["kind"], "heatwave");
    assert_eq!(seen[0]["ids"], json!([heat_a]));
    assert_eq!(seen[0]["notes"], json!(["Drink water"]));
    assert_eq!(seen[0]["authors"], json!([author_of(a)]));
    let (status, via_api) = b.call("GET", "/api/v1/alerts", None).unwrap();
    assert_eq!(status, 200);
    assert_eq!(via_api, seen);
    let status = b.json(&["status", "--json"]).unwrap();
    assert_eq!(status["alerts"][0]["kind"], "heatwave");
    assert!(b.ok(&["status"]).unwrap().contains("ALERT: heatwave until"));

    // A second heatwave, from B, lasting longer: one alert on A, both notes, B's end.
    let heat_b = b
        .ok(&[
            "alert",
            "declare",
            "heatwave",
            "--until",
            "3d",
            "--note",
            "Shutters closed",
        ])
        .unwrap();
    let heat_b = heat_b.lines().next().unwrap().trim().to_owned();
    let merged = wait_json(a, &["alert", "list", "--json"], "both heatwaves", |v| {
        v[0]["ids"].as_array().is_some_and(|ids| ids.len() == 2)
    });
    assert_eq!(merged.as_array().unwrap().len(), 1, "{merged}");
    // Oldest first; two alerts declared within the same second go by id.
    let (first, second) = if merged[0]["ids"][0] == heat_a {
        (0, 1)
    } else {
        (1, 0)
    };
    let ids = [heat_a.as_str(), heat_b.as_str()];
    let notes = ["Drink water", "Shutters closed"];
    assert_eq!(merged[0]["ids"], json!([ids[first], ids[second]]));
    assert_eq!(merged[0]["notes"], json!([notes[first], notes[second]]));
    let authors = [author_of(a), author_of(b)];
    let by = json!([authors[first], authors[second]]);
    assert_eq!(merged[0]["id_authors"], by);
    let until_b = merged[0]["until"].as_i64().unwrap();

    // A storm: only A ends it, and B sees it end.
    let storm = a
        .ok(&["alert", "declare", "storm", "--until", "5h"])
        .unwrap();
    let storm = storm.lines().next().unwrap().trim().to_owned();
    wait_json(b, &["alert", "list", "--json"], "A's storm", |v| {
        v.as_array().is_some_and(|a| a.len() == 2)
    });
    let error = refused(b, &["alert", "end", &storm]);
    assert!(error.contains("not yours"), "{error}");
    a.ok(&["alert", "end", &storm[..8]]).unwrap();
    let after = wait_json(b, &["alert", "list", "--json"], "the storm ended", |v| {
        v.as_array().is_some_and(|a| a.len() == 1)
    });
    assert_eq!(after[0]["kind"], "heatwave");

    // Two days and an hour later A's heatwave is over, B's still runs; after three days
    // and an hour nothing is left, on both nodes and in the status.
    pair.move_clocks(49 * HOUR);
    let later = a.json(&["alert", "list", "--json"]).unwrap();
    assert_eq!(later[0]["ids"], json!([heat_b]), "{later}");
    assert_eq!(later[0]["until"].as_i64().unwrap(), until_b);
    pair.move_clocks(73 * HOUR);
    for n in [a, b] {
        assert_eq!(n.json(&["alert", "list", "--json"]).unwrap(), json!([]));
        assert_eq!(n.json(&["status", "--json"]).unwrap()["alerts"], json!([]));
        assert!(!n.ok(&["status"]).unwrap().contains("ALERT"));
    }
}

#[test]
fn rounds_and_sightings_cross_two_nodes() {
    let pair = Pair::start();
    let (a, b) = (&pair.a, &pair.b);

    let round = a
        .ok(&[
            "round",
            "add",
            "--title",
            "Evening round",
            "--at",
            "20:00",
            "--from",
            "the station",
            "--to",
            "the church",
            "--days",
            "daily",
        ])
        .unwrap()
        .trim()
        .to_owned();
    wait_json(b, &["round", "list", "--json"], "A's round", |v| {
        v.as_array().is_some_and(|r| r.len() == 1)
    });
    let joined = b.ok(&["round", "join", &round[..6]]).unwrap();
    assert!(joined.contains(&round), "{joined}");
    let karim = author_of(b);
    let rounds = wait_json(a, &["round", "list", "--json"], "Karim on tonight", |v| {
        v[0]["evenings"][0]["walkers"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
    });
    let r = &rounds[0];
    assert_eq!(r["id"], round);
    assert_eq!(r["at"], "20:00");
    assert_eq!(
        r["days"],
        json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    );
    // Tonight and the next seven evenings; tonight has Karim, the next are flagged empty.
    let evenings = r["evenings"].as_array().unwrap();
    assert_eq!(evenings.len(), 8);
    assert_eq!(evenings[0]["tonight"], true);
    assert_eq!(evenings[0]["walkers"][0]["author"], karim);
    assert_eq!(evenings[0]["walkers"][0]["name"], "Karim");
    assert_eq!(evenings[0]["empty"], false);
    assert!(evenings[1..].iter().all(|e| e["empty"] == true));
    let text = a.ok(&["round", "list"]).unwrap();
    assert!(text.contains("Karim") && text.contains("EMPTY"), "{text}");
    // Karim withdraws: tonight is empty again.
    b.ok(&["round", "leave", &round]).unwrap();
    wait_json(a, &["round", "list", "--json"], "Karim's withdrawal", |v| {
        v[0]["evenings"][0]["empty"] == true
    });

    // A sighting on B, seen on A, done on A, seen done on B.
    let sighting = b
        .ok(&[
            "sighting",
            "add",
            "--place",
            "under the bridge, rue des Lilas",
            "--needs",
            "shelter,blanket",
            "--note",
            "asleep, cold night",
        ])
        .unwrap()
        .trim()
        .to_owned();
    let seen = wait_json(a, &["sighting", "list", "--json"], "B's sighting", |v| {
        v.as_array().is_some_and(|s| s.len() == 1)
    });
    assert_eq!(seen[0]["id"], sighting);
    assert_eq!(seen[0]["needs"], json!(["blanket", "shelter"]));
    assert_eq!(seen[0]["place"], "under the bridge, rue des Lilas");
    assert!(a.ok(&["sighting", "list"]).unwrap().contains("call 115"));
    a.ok(&["sighting", "done", &sighting, "--what", "brought a blanket"])
        .unwrap();
    let done = wait_json(b, &["sighting", "list", "--json"], "the blanket", |v| {
        v[0]["done"].as_array().is_some_and(|d| !d.is_empty())
    });
    assert_eq!(done[0]["done"][0]["what"], "brought a blanket");
    assert_eq!(done[0]["done"][0]["helper_name"], "Marie");

    // Never a name, a description or a phone number: refused, saying which rule.
    let named = refused(
        b,
        &[
            "sighting",
            "add",
            "--place",
            "station",
            "--needs",
            "food",
            "--note",
            "his name is Jo",
        ],
    );
    assert!(named.contains("seems to name a person"), "{named}");
    let capital = refused(
        b,
        &[
            "sighting",
            "add",
            "--place",
            "station",
            "--needs",
            "food",
            "--note",
            "ask for Marie",
        ],
    );
    assert!(capital.contains("`Marie`"), "{capital}");
    let phone = refused(
        b,
        &[
            "sighting",
            "add",
            "--place",
            "station",
            "--needs",
            "food",
            "--note",
            "call 06 12 34 56 78",
        ],
    );
    assert!(phone.contains("phone number"), "{phone}");
    let described = refused(
        a,
        &[
            "sighting",
            "done",
            &sighting,
            "--what",
            "the man with a grey beard was fine",
        ],
    );
    assert!(
        described.contains("seems to describe a person"),
        "{described}"
    );

    // A day later the sighting is gone from both nodes; the round's evenings moved on.
    pair.move_clocks(24 * HOUR + 60);
    for n in [a, b] {
        assert_eq!(n.json(&["sighting", "list", "--json"]).unwrap(), json!([]));
    }
    let next_day = a.json(&["round", "list", "--json"]).unwrap();
    assert_eq!(
        next_day[0]["evenings"][0]["date"], evenings[1]["date"],
        "tonight is the next day"
    );
}

#[test]
fn hostile_inputs_through_the_api_are_refused_with_a_reason() {
    let mut a = TestNode::new(BIN, "Marie");
    a.ok(&["init", "--name", "Marie"]).unwrap();
    a.up(LOOPBACK).unwrap();
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let post = |path: &str, body: Value| a.call("POST", path, Some(body)).unwrap();

    let (status, e) = post(
        "/api/v1/alerts",
        json!({ "kind": "earthquake", "until": unix + HOUR }),
    );
    assert_eq!(status, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("earthquake"), "{e}");
    let (status, e) = post(
        "/api/v1/alerts",
        json!({ "kind": "cold", "until": unix + 400 * 24 * HOUR }),
    );
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("at most 14 days"),
        "{e}"
    );
    let (status, e) = post(
        "/api/v1/alerts",
        json!({ "kind": "cold", "until": unix + HOUR, "note": "x".repeat(5000) }),
    );
    assert_eq!(status, 422, "{e}");
    assert!(e["error"].as_str().unwrap().contains("too long"), "{e}");
    let (status, e) = post(
        "/api/v1/alerts",
        json!({ "kind": "cold", "until": "tomorrow" }),
    );
    assert_eq!(status, 400, "{e}");

    let round =
        |at: &str, days: Value, title: &str| json!({ "title": title, "at": at, "days": days });
    let (status, e) = post("/api/v1/rounds", round("25:00", json!(["mon"]), "Night"));
    assert_eq!(status, 400, "{e}");
    let (status, e) = post("/api/v1/rounds", round("20:00", json!([]), "Night"));
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("at least one day"),
        "{e}"
    );
    let (status, e) = post("/api/v1/rounds", round("20:00", json!(["funday"]), "Night"));
    assert_eq!(status, 400, "{e}");
    let long = "y".repeat(10_000);
    let (status, e) = post("/api/v1/rounds", round("20:00", json!(["mon"]), &long));
    assert_eq!(status, 422, "{e}");
    assert!(e["error"].as_str().unwrap().contains("too long"), "{e}");
    let (status, created) = post("/api/v1/rounds", round("20:00", json!(["mon"]), "Night"));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, e) = post(
        &format!("/api/v1/rounds/{id}/join"),
        json!({ "date": "2026-02-30" }),
    );
    assert_eq!(status, 400, "{e}");
    let (status, e) = post(
        &format!("/api/v1/rounds/{id}/join"),
        json!({ "date": "2099-01-05" }),
    );
    assert_eq!(status, 422, "{e}");
    let (status, e) = post("/api/v1/rounds/ffffffffffffffff/join", json!({}));
    assert_eq!(status, 404, "{e}");

    let (status, e) = post(
        "/api/v1/sightings",
        json!({ "place": "station", "needs": ["money"] }),
    );
    assert_eq!(status, 400, "{e}");
    let (status, e) = post(
        "/api/v1/sightings",
        json!({ "place": "station", "needs": [] }),
    );
    assert_eq!(status, 422, "{e}");
    let (status, e) = post(
        "/api/v1/sightings",
        json!({ "place": "station", "needs": ["food"], "note": "elle s'appelle Jo" }),
    );
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"].as_str().unwrap().contains("name a person"),
        "{e}"
    );
    let (status, e) = post(
        "/api/v1/sightings/0123456789abcdef/done",
        json!({ "what": "x" }),
    );
    assert_eq!(status, 404, "{e}");
    let (status, e) = post("/api/v1/alerts/zz/end", json!({}));
    assert_eq!(status, 404, "{e}");

    // Nothing refused reached the board; the API still answers.
    assert_eq!(
        a.call("GET", "/api/v1/alerts", None).unwrap(),
        (200, json!([]))
    );
    assert_eq!(
        a.call("GET", "/api/v1/sightings", None).unwrap(),
        (200, json!([]))
    );
    let (_, rounds) = a.call("GET", "/api/v1/rounds", None).unwrap();
    assert_eq!(rounds.as_array().unwrap().len(), 1);
}

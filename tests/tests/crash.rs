//! Crash safety: `kill -9` a real `entraide up` at random moments while posts are made
//! through the CLI and the local API, restart it, and check that no acknowledged post is
//! lost and that the database always opens again.
//!
//! `ENTRAIDE_CRASH_ROUNDS=N` runs N rounds (50 by default); `ENTRAIDE_CRASH_SEED=S` replays
//! the same kill delays (the timing of the processes themselves is not reproducible).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use entraide_tests::TestNode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const ARGS: &[&str] = &["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"];
/// Threads running `entraide post`, and threads posting to the API.
const CLI_THREADS: usize = 2;
const API_THREADS: usize = 2;
/// The kill comes this long after the posting starts (ms, uniform).
const KILL_AFTER_MS: (u64, u64) = (5, 300);

/// splitmix64: a small seeded PRNG, so a run's kill delays can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// `entraide post` answered by the running node.
    Cli,
    /// `entraide post` with no node answering: it opened the store itself.
    CliOffline,
    /// `POST /api/v1/posts`.
    Api,
}

#[derive(Clone, Debug)]
struct Ack {
    id: String,
    title: String,
    source: Source,
    round: usize,
}

/// What the posting threads of one round share.
#[derive(Default)]
struct Shared {
    acks: Mutex<Vec<Ack>>,
    /// Attempts that were not acknowledged, by (source, what went wrong).
    refused: Mutex<BTreeMap<String, usize>>,
    /// CLI posts that failed because the database did not open.
    failed_opens: Mutex<Vec<String>>,
    stop: AtomicBool,
    in_flight: AtomicUsize,
}

impl Shared {
    fn refuse(&self, what: String) {
        *self.refused.lock().unwrap().entry(what).or_default() += 1;
    }
}

/// One line of an error, with digits folded so that similar errors count together.
fn gist(text: &str) -> String {
    let line = text
        .trim()
        .lines()
        .last()
        .unwrap_or("(no message)")
        .to_owned();
    let mut out = String::new();
    for c in line.chars().take(160) {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether an error message says the data directory or the database could not be opened.
fn is_open_failure(err: &str) -> bool {
    [
        "is damaged",
        "not an entraide",
        "identity file",
        "could not save",
    ]
    .iter()
    .any(|m| err.contains(m))
}

fn cli_poster(dir: PathBuf, round: usize, thread: usize, shared: Arc<Shared>) {
    let mut n = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        n += 1;
        let title = format!("crash-{round}-cli{thread}-{n}");
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(&dir)
            .args(["post", "request", "--title", &title])
            .env_remove("ENTRAIDE_DATA_DIR")
            .output()
            .expect("the entraide program runs");
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert!(
                !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()),
                "`post` succeeded without an id: {out:?}"
            );
            // With no node answering, `post` saves in the store itself and says so.
            let source = if stderr.contains("next `entraide up`") {
                Source::CliOffline
            } else {
                Source::Cli
            };
            shared.acks.lock().unwrap().push(Ack {
                id,
                title,
                source,
                round,
            });
        } else {
            if is_open_failure(&stderr) {
                shared
                    .failed_opens
                    .lock()
                    .unwrap()
                    .push(format!("round {round}: `entraide post` failed: {stderr}"));
            }
            shared.refuse(format!("cli: {}", gist(&stderr)));
        }
    }
}

fn api_poster(base: String, token: String, round: usize, thread: usize, shared: Arc<Shared>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let url = format!("{base}/api/v1/posts");
    let auth = format!("Bearer {token}");
    let mut n = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        n += 1;
        let title = format!("crash-{round}-api{thread}-{n}");
        let body =
            json!({"kind": "request", "category": "food", "title": title, "urgency": "today"});
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let answer = agent
            .post(&url)
            .header("Authorization", &auth)
            .send_json(&body)
            .and_then(|mut r| {
                let status = r.status().as_u16();
                let text = r.body_mut().read_to_string()?;
                Ok((status, text))
            });
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        match answer {
            Ok((201, text)) => {
                let v: Value = serde_json::from_str(&text).expect("a 201 answer is JSON");
                let id = v["id"].as_str().expect("a 201 answer has an id").to_owned();
                shared.acks.lock().unwrap().push(Ack {
                    id,
                    title,
                    source: Source::Api,
                    round,
                });
            }
            Ok((status, text)) => shared.refuse(format!("api: HTTP {status}: {}", gist(&text))),
            Err(e) => {
                shared.refuse(format!("api: {}", gist(&e.to_string())));
                // The node is gone: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// The running node's API address and token (from a previous start, if it was killed).
fn api_of(dir: &Path) -> Option<(String, String)> {
    let api: Value = serde_json::from_slice(&std::fs::read(dir.join("api.json")).ok()?).ok()?;
    let token = std::fs::read_to_string(dir.join("api.token")).ok()?;
    Some((
        format!("http://{}", api["address"].as_str()?),
        token.trim().to_owned(),
    ))
}

/// Measures, finer than [`TestNode::up`] polls (100 ms, through a CLI process), when the
/// new node's API first answers: a new `api.json` whose address answers `status`.
fn watch_api(
    dir: PathBuf,
    stale: Option<(String, String)>,
) -> std::thread::JoinHandle<Option<Duration>> {
    let start = Instant::now();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_millis(500)))
            .build()
            .into();
        while start.elapsed() < Duration::from_secs(40) {
            if let Some((base, token)) = api_of(&dir)
                && Some((&base, &token)) != stale.as_ref().map(|(b, t)| (b, t))
                && agent
                    .get(format!("{base}/api/v1/status"))
                    .header("Authorization", format!("Bearer {token}"))
                    .call()
                    .is_ok_and(|r| r.status().as_u16() == 200)
            {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    })
}

/// Acknowledged posts missing from the board (or there with another title), and the
/// number of posts on the board.
fn missing(node: &TestNode, acks: &[Ack]) -> Result<(Vec<Ack>, usize), String> {
    let board = node.board().map_err(|e| format!("{e:#}"))?;
    let on_board: HashMap<&str, &str> = board
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["title"].as_str().unwrap_or(""))))
        .collect();
    let lost: Vec<Ack> = acks
        .iter()
        .filter(|a| on_board.get(a.id.as_str()) != Some(&a.title.as_str()))
        .cloned()
        .collect();
    Ok((lost, board.len()))
}

/// Copies the data directory somewhere that outlives the test, for a failing case.
fn keep(dir: &Path, seed: u64, round: usize) -> PathBuf {
    let to = std::env::temp_dir().join(format!("entraide-crash-kept-{seed}-round{round}"));
    let _ = std::fs::remove_dir_all(&to);
    let ok = Command::new("cp")
        .arg("-a")
        .arg(dir)
        .arg(&to)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "could not keep {} in {}", dir.display(), to.display());
    to
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[test]
fn acknowledged_posts_survive_kill_9_at_random_moments() {
    let rounds: usize = std::env::var("ENTRAIDE_CRASH_ROUNDS")
        .ok()
        .map(|v| v.parse().expect("ENTRAIDE_CRASH_ROUNDS is a number"))
        .unwrap_or(50);
    let seed: u64 = std::env::var("ENTRAIDE_CRASH_SEED")
        .ok()
        .map(|v| v.parse().expect("ENTRAIDE_CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test: {rounds} rounds, seed {seed} (replay with ENTRAIDE_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let started = Instant::now();

    let mut node = TestNode::new(BIN, "crash");
    node.ok(&["init", "--name", "Crash"]).expect("init");
    let dir = node.data_dir().to_owned();
    let identity = std::fs::read(dir.join("identity.key")).unwrap();

    let mut acks: Vec<Ack> = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed_opens: Vec<String> = Vec::new();
    let mut lost: Vec<Ack> = Vec::new();
    // Start times after a kill: until `up` returns, and until the API first answers.
    let mut up_times = Vec::new();
    let mut api_times = Vec::new();
    let mut kills = 0;
    let mut killed_in_flight = 0;
    let mut saved_unacked = 0;
    let mut kept = None;

    // Per round: when the kill came after the posting started, requests in flight then,
    // posts acknowledged (CLI through the node / CLI with no node / API), how long the CLI
    // went on posting after the kill, attempts not acknowledged, how long the start before
    // the round took (until `up` returned / until the API answered), posts on the board then.
    eprintln!(
        "round  kill-after  in-flight  acked cli/offline/api  cli-after-kill  refused  start up/api     board"
    );
    // Round `rounds` only restarts and checks the last kill.
    for round in 0..=rounds {
        let stale = api_of(&dir);
        let watch = watch_api(dir.clone(), stale);
        let t0 = Instant::now();
        if let Err(e) = node.up(ARGS) {
            failed_opens.push(format!("round {round}: `entraide up` failed: {e:#}"));
            node.kill();
            kept = Some(keep(&dir, seed, round));
            break;
        }
        let up_took = t0.elapsed();
        let api_took = watch.join().unwrap().unwrap_or(up_took);
        if round > 0 {
            up_times.push(up_took);
            api_times.push(api_took);
        }

        let (missing_now, board_len) = match missing(&node, &acks) {
            Ok(m) => m,
            Err(e) => {
                failed_opens.push(format!("round {round}: the board does not list: {e}"));
                node.kill();
                kept = Some(keep(&dir, seed, round));
                break;
            }
        };
        saved_unacked = board_len.saturating_sub(acks.len() - missing_now.len());
        if !missing_now.is_empty() {
            lost = missing_now;
            node.kill();
            kept = Some(keep(&dir, seed, round));
            break;
        }
        if round == rounds {
            eprintln!(
                "final  {:>10}  {:>9}  {:>19}  {:>14}  {:>7}  {:>6}/{:<7}  {board_len}",
                "-",
                "-",
                "-",
                "-",
                "-",
                ms(up_took),
                ms(api_took)
            );
            node.stop().expect("a clean stop");
            break;
        }

        // Post from both sources until a random moment, then kill -9.
        let (base, token) = api_of(&dir).expect("the running node's api.json");
        let shared = Arc::new(Shared::default());
        let mut threads = Vec::new();
        for t in 0..CLI_THREADS {
            let (dir, shared) = (dir.clone(), shared.clone());
            threads.push(std::thread::spawn(move || {
                cli_poster(dir, round, t, shared)
            }));
        }
        for t in 0..API_THREADS {
            let (base, token, shared) = (base.clone(), token.clone(), shared.clone());
            threads.push(std::thread::spawn(move || {
                api_poster(base, token, round, t, shared)
            }));
        }
        let kill_after = rng.range(KILL_AFTER_MS.0, KILL_AFTER_MS.1);
        // One round in three, the CLI keeps posting a little after the kill: with no node
        // answering, `post` opens the store itself.
        let linger = if rng.range(0, 2) == 0 {
            rng.range(20, 150)
        } else {
            0
        };
        std::thread::sleep(Duration::from_millis(kill_after));
        let in_flight = shared.in_flight.load(Ordering::SeqCst);
        node.kill();
        kills += 1;
        killed_in_flight += usize::from(in_flight > 0);
        std::thread::sleep(Duration::from_millis(linger));
        shared.stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().expect("a posting thread");
        }

        let round_acks = std::mem::take(&mut *shared.acks.lock().unwrap());
        let count = |s: Source| round_acks.iter().filter(|a| a.source == s).count();
        let round_refused: usize = shared.refused.lock().unwrap().values().sum();
        for (k, v) in shared.refused.lock().unwrap().iter() {
            *refused.entry(k.clone()).or_default() += v;
        }
        failed_opens.extend(shared.failed_opens.lock().unwrap().drain(..));
        eprintln!(
            "{round:>5}  {kill_after:>7} ms  {in_flight:>9}  {:>9}/{:>3}/{:>4}  {:>14}  {round_refused:>7}  {:>6}/{:<7}  {board_len}",
            count(Source::Cli),
            count(Source::CliOffline),
            count(Source::Api),
            if linger > 0 {
                format!("{linger} ms")
            } else {
                "-".to_owned()
            },
            if round == 0 {
                "first".to_owned()
            } else {
                ms(up_took)
            },
            if round == 0 {
                String::new()
            } else {
                ms(api_took)
            },
        );
        acks.extend(round_acks);
        if !failed_opens.is_empty() {
            kept = Some(keep(&dir, seed, round));
            break;
        }
    }

    let by = |s: Source| acks.iter().filter(|a| a.source == s).count();
    up_times.sort();
    api_times.sort();
    eprintln!(
        "---- crash test, seed {seed}, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    eprintln!("rounds (kill -9):          {kills} of {rounds}");
    eprintln!("kills with posts in flight: {killed_in_flight} of {kills}");
    eprintln!(
        "acknowledged posts:        {} (CLI through the node {}, CLI with no node {}, API {})",
        acks.len(),
        by(Source::Cli),
        by(Source::CliOffline),
        by(Source::Api)
    );
    eprintln!("lost acknowledged posts:   {} (must be 0)", lost.len());
    eprintln!(
        "failed opens:              {} (must be 0)",
        failed_opens.len()
    );
    eprintln!("posts saved but not acknowledged (answer cut by the kill): {saved_unacked}");
    eprintln!(
        "restart until `up` returns: p50 {} p99 {} max {}",
        ms(percentile(&up_times, 50.0)),
        ms(percentile(&up_times, 99.0)),
        ms(up_times.last().copied().unwrap_or_default())
    );
    eprintln!(
        "restart until the API answers: p50 {} p99 {} max {}",
        ms(percentile(&api_times, 50.0)),
        ms(percentile(&api_times, 99.0)),
        ms(api_times.last().copied().unwrap_or_default())
    );
    eprintln!("not acknowledged (expected around a kill):");
    for (what, n) in &refused {
        eprintln!("  {n:>5}  {what}");
    }
    for a in lost.iter().take(20) {
        eprintln!(
            "LOST: {} {:?} ({:?}, acknowledged in round {})",
            a.id, a.title, a.source, a.round
        );
    }
    for f in &failed_opens {
        eprintln!("FAILED OPEN: {f}");
    }
    if let Some(k) = &kept {
        eprintln!("the failing data directory is kept in {}", k.display());
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged posts lost (seed {seed}); data kept in {kept:?}",
        lost.len()
    );
    assert!(
        failed_opens.is_empty(),
        "{} failed opens (seed {seed}); data kept in {kept:?}",
        failed_opens.len()
    );
    assert_eq!(
        std::fs::read(dir.join("identity.key")).unwrap(),
        identity,
        "the identity file never changes"
    );
    assert!(
        by(Source::Cli) > 0 && by(Source::Api) > 0,
        "both sources got posts acknowledged"
    );
}

// ---- Damaged files: what the crash rounds cannot produce. ----

/// Runs a command that must fail with one clear line containing `expect`.
fn fails_clearly(node: &TestNode, args: &[&str], expect: &str) {
    let out = node.run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail: {out:?}");
    // One line of error (after any log lines `up` writes before it).
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("entraide: ") && last.contains(expect),
        "{args:?}: expected `{expect}` in: {err}"
    );
    if args[0] != "up" {
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

const UP_ONCE: &[&str] = &[
    "up",
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--ui",
    "127.0.0.1:0",
];

#[test]
fn damaged_key_files_and_database_get_a_clear_error_and_the_identity_is_kept() {
    let n = TestNode::new(BIN, "damage");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.ok(&["post", "request", "--title", "Bread"]).unwrap();
    let dir = n.data_dir().to_owned();
    let identity_path = dir.join("identity.key");
    let identity = std::fs::read(&identity_path).unwrap();
    let community = std::fs::read(dir.join("community.key")).unwrap();
    let board_is_back = |what: &str| {
        assert_eq!(
            n.board().unwrap().len(),
            1,
            "{what}: restored, the board is back"
        );
        assert_eq!(std::fs::read(&identity_path).unwrap(), identity, "{what}");
    };

    // identity.key empty (a full disk) or cut: refused everywhere, never replaced.
    for (what, damaged) in [
        ("an empty identity.key", Vec::new()),
        (
            "a cut identity.key",
            identity[..identity.len() / 2].to_vec(),
        ),
    ] {
        std::fs::write(&identity_path, &damaged).unwrap();
        for args in [&["list"][..], &["post", "request", "--title", "x"], UP_ONCE] {
            fails_clearly(&n, args, "restore it from your backup");
        }
        fails_clearly(&n, &["init", "--name", "Again"], "never overwritten");
        assert_eq!(
            std::fs::read(&identity_path).unwrap(),
            damaged,
            "{what} was rewritten"
        );
        std::fs::write(&identity_path, &identity).unwrap();
        board_is_back(what);
    }

    // community.key empty or cut.
    for (what, damaged) in [
        ("an empty community.key", Vec::new()),
        (
            "a cut community.key",
            community[..community.len() / 2].to_vec(),
        ),
    ] {
        std::fs::write(dir.join("community.key"), &damaged).unwrap();
        for args in [&["list"][..], UP_ONCE] {
            fails_clearly(&n, args, "community.key is damaged");
        }
        assert_eq!(std::fs::read(&identity_path).unwrap(), identity, "{what}");
        std::fs::write(dir.join("community.key"), &community).unwrap();
        board_is_back(what);
    }

    // The db folder replaced by a file: refused, the file left as it is.
    let db = dir.join("db");
    let moved = dir.join("db.moved");
    std::fs::rename(&db, &moved).unwrap();
    std::fs::write(&db, "not a database").unwrap();
    for args in [&["list"][..], &["post", "request", "--title", "x"], UP_ONCE] {
        fails_clearly(&n, args, "move the db folder away");
    }
    assert_eq!(std::fs::read(&db).unwrap(), b"not a database");
    std::fs::remove_file(&db).unwrap();
    std::fs::rename(&moved, &db).unwrap();
    board_is_back("the db folder replaced by a file");

    // One byte flipped in the log, or a garbage snapshot, after a clean close.
    let log = db.join("db");
    let saved = std::fs::read(&log).unwrap();
    let written = saved.iter().rposition(|&b| b != 0).unwrap();
    let mut flipped = saved.clone();
    flipped[written / 2] ^= 0xff;
    std::fs::write(&log, &flipped).unwrap();
    fails_clearly(&n, &["list"], "is damaged");
    fails_clearly(&n, UP_ONCE, "is damaged");
    std::fs::write(&log, &saved).unwrap();
    board_is_back("a flipped byte in the log");
    let snap = std::fs::read_dir(&db)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .expect("sled wrote a snapshot on close");
    let snap_bytes = std::fs::read(&snap).unwrap();
    std::fs::write(&snap, vec![0x5a; snap_bytes.len()]).unwrap();
    fails_clearly(&n, &["list"], "is damaged");
    std::fs::write(&snap, &snap_bytes).unwrap();
    board_is_back("a garbage snapshot");
}

#[test]
fn a_damaged_community_key_is_mended_by_joining_again_as_the_message_says() {
    let n = TestNode::new(BIN, "community");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.ok(&["post", "request", "--title", "Bread"]).unwrap();
    let invite = n.ok(&["invite"]).unwrap();
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let identity = std::fs::read(n.data_dir().join("identity.key")).unwrap();
    let community = std::fs::read(n.data_dir().join("community.key")).unwrap();
    std::fs::write(
        n.data_dir().join("community.key"),
        &community[..community.len() / 2],
    )
    .unwrap();
    fails_clearly(
        &n,
        &["list"],
        "join the community again with an invite code",
    );
    // Doing what the message says.
    n.ok(&["join", &code])
        .expect("`join` mends a damaged community.key, as the error message advises");
    assert_eq!(
        std::fs::read(n.data_dir().join("identity.key")).unwrap(),
        identity
    );
    assert_eq!(n.board().unwrap().len(), 1);
}

#[test]
fn a_log_damaged_after_a_crash_is_refused_not_opened_with_posts_missing() {
    let mut n = TestNode::new(BIN, "torn");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.up(ARGS).unwrap();
    let (base, token) = api_of(n.data_dir()).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut ids = Vec::new();
    for i in 0..30 {
        let mut r = agent
            .post(format!("{base}/api/v1/posts"))
            .header("Authorization", format!("Bearer {token}"))
            .send_json(json!({"kind": "request", "category": "food", "title": format!("post {i}"), "urgency": "today"}))
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.body_mut().read_json().unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // A crash: sled's last snapshot is the one written when `init` closed the database;
    // the 30 acknowledged posts are only in the log after it.
    n.kill();
    let db = n.data_dir().join("db");
    let snap_lsn = std::fs::read_dir(&db)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
        })
        .max()
        .expect("a snapshot");
    let log = db.join("db");
    let saved = std::fs::read(&log).unwrap();
    let written = saved.iter().rposition(|&b| b != 0).unwrap() as u64;
    assert!(snap_lsn < written, "the posts are after the snapshot");
    let middle = ((snap_lsn + written) / 2) as usize;
    // Opening the database writes a new snapshot: each case starts from a copy.
    let pristine = n.data_dir().join("db.pristine");
    let copy = |from: &Path, to: &Path| {
        let _ = std::fs::remove_dir_all(to);
        assert!(
            Command::new("cp")
                .arg("-a")
                .arg(from)
                .arg(to)
                .status()
                .unwrap()
                .success()
        );
    };
    copy(&db, &pristine);
    let mut silent = Vec::new();
    for (what, damaged) in [
        ("one byte flipped", {
            let mut d = saved.clone();
            d[middle] ^= 0xff;
            d
        }),
        ("the log cut short", saved[..middle].to_vec()),
    ] {
        copy(&pristine, &db);
        std::fs::write(&log, &damaged).unwrap();
        let out = n.run(&["list", "--all", "--json"]);
        if out.status.success() {
            let board: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            let missing = ids
                .iter()
                .filter(|id| !board.iter().any(|p| p["id"] == id.as_str()))
                .count();
            silent.push(format!(
                "{what} after the last snapshot: the database opened without an error, \
                 {missing} of {} acknowledged posts missing",
                ids.len()
            ));
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("is damaged") || err.contains("has lost changes"),
                "{what}: {err}"
            );
        }
    }
    assert!(silent.is_empty(), "{}", silent.join("\n"));
}

//! Crash safety: `kill -9` a real `entraide up` at random moments while posts are made
//! through the CLI and the local API, restart it, and check that no acknowledged post is
//! lost and that the database always opens again. (Damaged files, which these rounds
//! cannot produce, are `damaged_files.rs`.)
//!
//! `ENTRAIDE_CRASH_ROUNDS=N` runs N rounds (50 by default); `ENTRAIDE_CRASH_SEED=S` replays
//! the same kill delays (the timing of the processes themselves is not reproducible).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use entraide_node::data_dir::{ApiInfo, DataDir};
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

/// Measures, finer than [`TestNode::up`] polls (100 ms, through a CLI process), when the
/// new node's API first answers: a new `api.json` whose address answers `status`.
fn watch_api(dir: PathBuf, stale: Option<ApiInfo>) -> std::thread::JoinHandle<Option<Duration>> {
    let start = Instant::now();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_millis(500)))
            .build()
            .into();
        let data = DataDir::new(dir);
        while start.elapsed() < Duration::from_secs(40) {
            if let Some(api) = data.read_api()
                && Some(&api) != stale.as_ref()
                && agent
                    .get(format!("{}/api/v1/status", api.base_url()))
                    .header("Authorization", format!("Bearer {}", api.token))
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
        let stale = DataDir::new(&dir).read_api();
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
        let api = node.api().expect("the running node's api.json");
        let (base, token) = (api.base_url(), api.token);
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

//! Six hosts on one LAN (network namespaces on a bridge) find each other by mDNS, are cut
//! into two halves that each stay connected inside, post and respond on both sides, and
//! are joined again. Afterwards every node must hold every acknowledged post and response,
//! and nothing else: Jepsen-style counts (acknowledged, ok, lost, unexpected) and the time
//! to converge after healing are printed.
//!
//! The cut: the hub namespace gets a second bridge, `br1`, and the veth ports of hosts 3, 4
//! and 5 move to it (`Lan::split`); healing moves them back to `br0` (`Lan::heal`). Nothing tells the nodes: connections across the cut are not closed, their packets
//! just stop arriving, as with a cable cut between two switches.
//!
//! Needs root and iproute2; reported as ignored, with the reason, elsewhere; never skipped
//! under CI=true.
//! `ENTRAIDE_PARTITION_SECS` sets how long the cut lasts at least (default 20 s); when it
//! is 15 s or more, every neighbour across the cut must be shown gone within 15 s.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use entraide_tests::harness::Ran;
use entraide_tests::netns::{self, Lan};
use entraide_tests::{TestNode, find_post, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const NAMES: [&str; 6] = ["Marie", "Bruno", "Chloe", "Karim", "Amel", "Nadia"];
/// The two halves of the cut.
const SIDES: [[usize; 3]; 2] = [[0, 1, 2], [3, 4, 5]];
const UP: &[&str] = &["--listen", "/ip4/0.0.0.0/tcp/0", "--resync", "2"];
/// For things that happen inside a connected LAN (discovery, sync within a half).
const PATIENCE: Duration = Duration::from_secs(60);
/// For every node to hold everything once the halves are joined again.
const CONVERGENCE: Duration = Duration::from_secs(120);
/// How long the cut lasts at least, unless `ENTRAIDE_PARTITION_SECS` says otherwise: long
/// enough to see every node notice it.
const DEFAULT_CUT: Duration = Duration::from_secs(20);
/// Every neighbour across the cut must be shown gone within this (issue 14: 15 s; the
/// kernel closes a silent connection after 10 to 11 s, `node/src/net.rs`
/// `watch_for_silence`, and the test looks once a second).
const NOTICE_WITHIN: Duration = Duration::from_secs(15);

tests_main!(
    two_halves_cut_apart_post_and_respond_then_converge_after_healing,
    ss_timers_are_read,
);

/// A community of `names`, node `i` on host `i`: the first creates it, the others join
/// with its invite code (made offline, so it carries no address: only mDNS connects them).
fn community(lan: &Lan, names: &[&str]) -> Vec<TestNode> {
    let first = TestNode::new(BIN, names[0]).with_prefix(&lan.prefix(0));
    first.ok(&["init", "--name", names[0]]).expect("init");
    let invite = first.ok(&["invite"]).expect("invite");
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let mut nodes = vec![first];
    for (i, name) in names.iter().enumerate().skip(1) {
        let n = TestNode::new(BIN, name).with_prefix(&lan.prefix(i));
        n.ok(&["join", &code, "--name", name]).expect("join");
        nodes.push(n);
    }
    nodes
}

fn whoami(node: &TestNode, field: &str) -> String {
    node.json(&["whoami", "--json"]).expect("whoami")[field]
        .as_str()
        .expect("a string")
        .to_owned()
}

/// How many of `others` (peer ids) `node` is connected to now.
fn connected_to(node: &TestNode, others: &BTreeSet<String>) -> usize {
    node.json(&["peers", "--json"])
        .map_or(0, |peers| connected_among(&peers, others))
}

/// How many of `others` (peer ids) a `peers --json` answer shows connected.
fn connected_among(peers: &Value, others: &BTreeSet<String>) -> usize {
    peers
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["connected"] == Value::Bool(true)
                && p["peer_id"].as_str().is_some_and(|id| others.contains(id))
        })
        .count()
}

fn post(node: &TestNode, kind: &str, title: &str) -> String {
    node.ok(&["post", kind, "--title", title, "--category", "errands"])
        .expect("post")
        .trim()
        .to_owned()
}

/// What was acknowledged: posts (id) and responses (post id, helper author id).
#[derive(Debug, Default)]
struct History {
    posts: BTreeSet<String>,
    responses: BTreeSet<(String, String)>,
}

/// What one board holds, in the same terms.
fn holdings(board: &[Value]) -> History {
    let mut h = History::default();
    for p in board {
        let id = p["id"].as_str().unwrap_or_default().to_owned();
        for r in p["responses"].as_array().into_iter().flatten() {
            let helper = r["helper"].as_str().unwrap_or_default().to_owned();
            h.responses.insert((id.clone(), helper));
        }
        h.posts.insert(id);
    }
    h
}

impl History {
    fn len(&self) -> usize {
        self.posts.len() + self.responses.len()
    }

    /// Acknowledged operations missing from `held`.
    fn missing_from(&self, held: &History) -> usize {
        self.posts.difference(&held.posts).count()
            + self.responses.difference(&held.responses).count()
    }
}

fn boards(nodes: &[TestNode]) -> Vec<Option<Vec<Value>>> {
    nodes.iter().map(|n| n.board().ok()).collect()
}

/// Every node's board, each asked up to three times (a command can fail on a busy machine).
fn final_boards(nodes: &[TestNode]) -> Vec<Option<Vec<Value>>> {
    nodes
        .iter()
        .map(|n| {
            (0..3).find_map(|attempt| {
                if attempt > 0 {
                    std::thread::sleep(Duration::from_millis(500));
                }
                n.board().ok()
            })
        })
        .collect()
}

/// The IPv4 address of host `i` on the LAN.
fn host_ip(lan: &Lan, i: usize) -> Option<String> {
    let out = Command::new("ip")
        .args([
            "-n",
            lan.host(i),
            "-4",
            "-o",
            "addr",
            "show",
            "dev",
            &format!("e{i}"),
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    words.find(|w| *w == "inet")?;
    Some(words.next()?.split('/').next()?.to_owned())
}

/// A duration as `ss` prints timers: `200ms`, `12sec`, `1min3sec`, and `2.824ms` for
/// 2 s 824 ms (seconds, a dot, then milliseconds).
fn ss_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        let value: f64 = number.parse().ok()?;
        rest = &rest[digits..];
        let (mut scale, unit) = [("min", 60.0), ("sec", 1.0), ("ms", 0.001)]
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .map(|(u, s)| (*s, u.len()))?;
        if number.contains('.') {
            scale = 1.0;
        }
        total += value * scale;
        rest = &rest[unit..];
    }
    Some(Duration::from_secs_f64(total))
}

/// A TCP connection end across the cut, as `ss -tino` shows it.
#[derive(Debug)]
struct Stalled {
    /// Times the retransmission timeout doubled (0: nothing waiting to be acknowledged).
    backoff: u32,
    /// When the next retransmission goes out, if one is pending.
    next_retry: Option<Duration>,
}

/// The established TCP connections host `i` has to any of `ips`; `None` when `ss` cannot
/// tell (this is for the printout only).
fn sockets_to(lan: &Lan, i: usize, ips: &[String]) -> Option<Vec<Stalled>> {
    let Ok(out) = Command::new("ip")
        .args([
            "netns",
            "exec",
            lan.host(i),
            "ss",
            "-tino",
            "state",
            "established",
        ])
        .output()
    else {
        return None;
    };
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let across = line
            .split_whitespace()
            .any(|w| ips.iter().any(|ip| w.starts_with(&format!("{ip}:"))));
        if !across {
            continue;
        }
        let info = lines.next().unwrap_or_default();
        let backoff = info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("backoff:"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let next_retry = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("timer:(on,"))
            .and_then(|t| ss_duration(t.split(',').next()?));
        found.push(Stalled {
            backoff,
            next_retry,
        });
    }
    Some(found)
}

/// Lines of `node`'s log since line `from` that contain `what`.
fn log_count(node: &TestNode, from: usize, what: &str) -> usize {
    node.log()
        .lines()
        .skip(from)
        .filter(|l| l.contains(what))
        .count()
}

fn two_halves_cut_apart_post_and_respond_then_converge_after_healing() -> Ran {
    let why = netns::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let started = Instant::now();
    let cut_for = std::env::var("ENTRAIDE_PARTITION_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(DEFAULT_CUT, Duration::from_secs);
    let tag = format!("pt{}", std::process::id() % 10_000);
    let lan = Lan::new(&tag, NAMES.len()).expect("a LAN of six hosts");
    let mut nodes = community(&lan, &NAMES);
    let authors: Vec<String> = nodes.iter().map(|n| whoami(n, "author")).collect();
    let peer_ids: Vec<String> = nodes.iter().map(|n| whoami(n, "peer_id")).collect();
    for n in &mut nodes {
        n.up(UP).expect("up");
    }

    // Everyone connected to everyone, by mDNS alone.
    let t = Instant::now();
    for (i, n) in nodes.iter().enumerate() {
        let others: BTreeSet<String> = (0..nodes.len())
            .filter(|&j| j != i)
            .map(|j| peer_ids[j].clone())
            .collect();
        while connected_to(n, &others) < others.len() {
            assert!(
                t.elapsed() < PATIENCE,
                "{} connected to {} of 5 neighbours after {PATIENCE:?}\nlog:\n{}",
                n.name,
                connected_to(n, &others),
                n.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "full mesh of 6 by mDNS {:.2?} after the last node started",
        t.elapsed()
    );

    let mut acked = History::default();
    // A post everyone holds before the cut; both halves respond to it during the cut.
    let shared = post(
        &nodes[0],
        "request",
        "Someone to water the courtyard plants",
    );
    acked.posts.insert(shared.clone());
    for n in &nodes {
        n.wait_board("the post made before the cut", PATIENCE, |b| {
            find_post(b, &shared).is_some()
        })
        .unwrap();
    }

    // The cut.
    let log_at_cut: Vec<usize> = nodes.iter().map(|n| n.log().lines().count()).collect();
    lan.split(&SIDES[1]).expect("cut the LAN in two");
    let cut_at = Instant::now();
    eprintln!("cut: hosts {:?} | hosts {:?}", SIDES[0], SIDES[1]);

    let mut side_posts: [Vec<(usize, String)>; 2] = Default::default();
    for (s, side) in SIDES.iter().enumerate() {
        for &i in side {
            let name = NAMES[i];
            for (kind, title) in [
                ("request", format!("{name} needs a hand with shopping")),
                ("offer", format!("{name} can lend a ladder")),
            ] {
                let id = post(&nodes[i], kind, &title);
                acked.posts.insert(id.clone());
                side_posts[s].push((i, id));
            }
        }
    }
    // One responder on each side to the post made before the cut: concurrent changes to
    // the same post from both halves.
    let mut side_responses: [Vec<(String, String)>; 2] = Default::default();
    for (s, &i) in [1, 4].iter().enumerate() {
        nodes[i]
            .ok(&["respond", &shared, "--message", "I have a watering can"])
            .expect("respond");
        acked.responses.insert((shared.clone(), authors[i].clone()));
        side_responses[s].push((shared.clone(), authors[i].clone()));
    }
    // Each half syncs inside: every node of a side holds that side's posts.
    for (s, side) in SIDES.iter().enumerate() {
        for &i in side {
            nodes[i]
                .wait_board("its own half's posts during the cut", PATIENCE, |b| {
                    side_posts[s]
                        .iter()
                        .all(|(_, id)| find_post(b, id).is_some())
                })
                .unwrap();
        }
    }
    // Each node responds to the posts of the next node of its own half.
    for (s, side) in SIDES.iter().enumerate() {
        for (k, &i) in side.iter().enumerate() {
            let next = side[(k + 1) % side.len()];
            for (_, id) in side_posts[s].iter().filter(|(author, _)| *author == next) {
                nodes[i]
                    .ok(&["respond", id, "--message", "I can help on Saturday"])
                    .expect("respond");
                acked.responses.insert((id.clone(), authors[i].clone()));
                side_responses[s].push((id.clone(), authors[i].clone()));
            }
        }
    }
    // Hold the cut, watching whether the nodes notice it: how many neighbours across the
    // cut each one still shows connected.
    let far_peers: Vec<BTreeSet<String>> = (0..NAMES.len())
        .map(|i| {
            let far = if SIDES[0].contains(&i) { 1 } else { 0 };
            SIDES[far].iter().map(|&j| peer_ids[j].clone()).collect()
        })
        .collect();
    let links = far_peers.iter().map(BTreeSet::len).sum::<usize>();
    let (mut first_noticed, mut all_noticed) = (None, None);
    let mut still: usize;
    loop {
        // All nodes asked at once, so that a busy machine does not stretch the look.
        let asks: Vec<_> = nodes
            .iter()
            .map(|n| n.spawn(&["peers", "--json"]))
            .collect();
        still = asks
            .into_iter()
            .zip(&far_peers)
            .map(|(ask, far)| {
                ask.wait_with_output()
                    .ok()
                    .and_then(|out| serde_json::from_slice::<Value>(&out.stdout).ok())
                    .map_or(far.len(), |peers| connected_among(&peers, far))
            })
            .sum();
        if still < links && first_noticed.is_none() {
            first_noticed = Some(cut_at.elapsed());
        }
        if still == 0 && all_noticed.is_none() {
            all_noticed = Some(cut_at.elapsed());
        }
        let left = cut_for.saturating_sub(cut_at.elapsed());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_secs(1)));
    }
    let report = (first_noticed, all_noticed);
    if cut_for >= NOTICE_WITHIN {
        assert!(
            all_noticed.is_some_and(|t| t <= NOTICE_WITHIN),
            "not every neighbour across the cut was shown gone within {NOTICE_WITHIN:?}: \
             {report:?}, {still} links of {links} still connected at the end"
        );
    }
    match report {
        (None, _) => eprintln!(
            "the cut went unnoticed: after {:.2?}, all {links} neighbour links across it \
             still show connected",
            cut_at.elapsed()
        ),
        (Some(first), all) => eprintln!(
            "the cut noticed: a first neighbour across it shown disconnected after {first:.2?}, \
             all {links} after {}",
            all.map_or(format!("never ({still} still connected)"), |t| format!(
                "{t:.2?}"
            ))
        ),
    }
    // The cut is real: nothing of one half reached the other.
    for (s, side) in SIDES.iter().enumerate() {
        let other = 1 - s;
        for &i in side {
            let held = holdings(&nodes[i].board().expect("board"));
            let leaked: Vec<_> = side_posts[other]
                .iter()
                .map(|(_, id)| id)
                .filter(|id| held.posts.contains(*id))
                .collect();
            assert!(
                leaked.is_empty(),
                "{} holds {leaked:?} across the cut",
                nodes[i].name
            );
            let leaked: Vec<_> = side_responses[other]
                .iter()
                .filter(|r| held.responses.contains(r))
                .collect();
            assert!(
                leaked.is_empty(),
                "{} holds {leaked:?} across the cut",
                nodes[i].name
            );
        }
    }
    // What the kernel makes of the connections across the cut by now.
    let ips: Vec<Option<String>> = (0..NAMES.len()).map(|i| host_ip(&lan, i)).collect();
    let mut across = Some(Vec::new());
    for (s, side) in SIDES.iter().enumerate() {
        let far: Vec<String> = SIDES[1 - s]
            .iter()
            .filter_map(|&j| ips[j].clone())
            .collect();
        for &i in side {
            across = across.zip(sockets_to(&lan, i, &far)).map(|(mut a, b)| {
                a.extend(b);
                a
            });
        }
    }
    if let Some(across) = across {
        let stalled: Vec<&Stalled> = across.iter().filter(|s| s.backoff > 0).collect();
        let retries: Vec<Duration> = stalled.iter().filter_map(|s| s.next_retry).collect();
        eprintln!(
            "before healing: {} TCP connection ends across the cut still established, \
             {} of them retransmitting into the void (backoff {}..={}), next retries in {:.2?}..={:.2?}",
            across.len(),
            stalled.len(),
            stalled.iter().map(|s| s.backoff).min().unwrap_or(0),
            stalled.iter().map(|s| s.backoff).max().unwrap_or(0),
            retries.iter().min().copied().unwrap_or_default(),
            retries.iter().max().copied().unwrap_or_default(),
        );
    }
    let log_at_heal: Vec<usize> = nodes.iter().map(|n| n.log().lines().count()).collect();

    // Heal, and time until every node holds every acknowledged operation.
    let cut_lasted = cut_at.elapsed();
    lan.heal(&SIDES[1]).expect("heal the LAN");
    let healed_at = Instant::now();
    eprintln!(
        "healed after a cut of {cut_lasted:.2?}; {} operations acknowledged ({} posts, {} responses)",
        acked.len(),
        acked.posts.len(),
        acked.responses.len()
    );
    let mut done_at: Vec<Option<Duration>> = vec![None; nodes.len()];
    while done_at.iter().any(Option::is_none) && healed_at.elapsed() < CONVERGENCE {
        for (i, b) in boards(&nodes).iter().enumerate() {
            if done_at[i].is_none()
                && let Some(b) = b
                && acked.missing_from(&holdings(b)) == 0
            {
                done_at[i] = Some(healed_at.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let converged = done_at
        .iter()
        .all(Option::is_some)
        .then(|| done_at.iter().flatten().max().copied().unwrap_or_default());

    // Jepsen-style counts over the final boards.
    let last = final_boards(&nodes);
    let held: Vec<History> = last
        .iter()
        .map(|b| holdings(b.as_deref().unwrap_or_default()))
        .collect();
    let everywhere = |has: &dyn Fn(&History) -> bool| held.iter().all(has);
    let mut lost: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut ok = 0;
    for id in &acked.posts {
        if everywhere(&|h| h.posts.contains(id)) {
            ok += 1;
        } else {
            let without = (0..held.len()).filter(|&i| !held[i].posts.contains(id));
            lost.insert(format!("post {id}"), without.map(|i| NAMES[i]).collect());
        }
    }
    for r in &acked.responses {
        if everywhere(&|h| h.responses.contains(r)) {
            ok += 1;
        } else {
            let without = (0..held.len()).filter(|&i| !held[i].responses.contains(r));
            lost.insert(
                format!("response of {} on {}", &r.1[..8], r.0),
                without.map(|i| NAMES[i]).collect(),
            );
        }
    }
    let mut unexpected: BTreeSet<String> = BTreeSet::new();
    for h in &held {
        for id in h.posts.difference(&acked.posts) {
            unexpected.insert(format!("post {id}"));
        }
        for r in h.responses.difference(&acked.responses) {
            unexpected.insert(format!("response of {} on {}", &r.1[..8], r.0));
        }
    }
    let unreadable: Vec<&str> = (0..last.len())
        .filter(|&i| last[i].is_none())
        .map(|i| NAMES[i])
        .collect();

    eprintln!("acknowledged: {}", acked.len());
    eprintln!("ok:           {ok}");
    eprintln!("lost:         {}", lost.len());
    eprintln!("unexpected:   {}", unexpected.len());
    for (i, n) in nodes.iter().enumerate() {
        eprintln!(
            "  {:<6} complete {:>9}  dead connections closed {}; disconnects during cut {}, after heal {}; connects after heal {}",
            n.name,
            done_at[i].map_or("never".into(), |d| format!("{:.2?}", d)),
            log_count(n, log_at_cut[i], "stopped answering"),
            log_count(n, log_at_cut[i], "neighbour disconnected")
                - log_count(n, log_at_heal[i], "neighbour disconnected"),
            log_count(n, log_at_heal[i], "neighbour disconnected"),
            log_count(n, log_at_heal[i], "neighbour connected"),
        );
    }
    match converged {
        Some(t) => eprintln!("converged {t:.2?} after healing (cut lasted {cut_lasted:.2?})"),
        None => eprintln!("not converged {CONVERGENCE:?} after healing"),
    }
    eprintln!("test took {:?}", started.elapsed());
    assert!(
        unreadable.is_empty(),
        "boards unreadable at the end: {unreadable:?}"
    );
    assert!(
        lost.is_empty(),
        "lost (acknowledged, missing on the nodes listed): {lost:#?}"
    );
    assert!(unexpected.is_empty(), "unexpected: {unexpected:#?}");
    assert!(converged.is_some());
    // Converged means the same board everywhere, not only the same ids.
    let first = last[0].as_ref().expect("a board");
    for (i, b) in last.iter().enumerate().skip(1) {
        assert_eq!(
            b.as_ref(),
            Some(first),
            "{} and {} hold different boards",
            NAMES[0],
            NAMES[i]
        );
    }
    Ran::Fully
}

fn ss_timers_are_read() {
    let ms = Duration::from_millis;
    assert_eq!(ss_duration("200ms"), Some(ms(200)));
    assert_eq!(ss_duration("12sec"), Some(ms(12_000)));
    assert_eq!(ss_duration("2.824ms"), Some(ms(2_824)));
    assert_eq!(ss_duration("1min3sec"), Some(ms(63_000)));
    assert_eq!(ss_duration("2min"), Some(ms(120_000)));
    assert_eq!(ss_duration("soon"), None);
}

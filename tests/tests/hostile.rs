//! A hostile member against two honest nodes, over real sockets: forged edits, forged
//! signatures, tampering, equivocation, garbage, oversized and endless frames, floods,
//! silent sessions, reconnect loops. One test per attack, each against a pair of honest
//! nodes of its own, started for it ([`Fixture`]); the tests run one at a time, so that no
//! attack loads the machine while another measures. For each attack: what of it got onto
//! the honest boards, honest sync latency during the attack against a baseline measured on
//! the same pair, peak memory of the honest node under attack, and whether the attacker was
//! disconnected. Once every test has run, the table of the attacks that ran is printed.
//!
//! `ENTRAIDE_FLOOD=N` sets how many valid changes the flood sends (default 5,000, sent as
//! fast as the attacker can sign them, well above 100,000 a minute).

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entraide_crdt::automerge::transaction::{CommitOptions, Transactable};
use entraide_crdt::automerge::{ActorId, Automerge, ROOT, ReadDoc};
use entraide_crdt::wire::{FeedSync, Frame, Push};
use entraide_crdt::{
    AuthorId, AuthorKey, Board, Category, DeviceId, FeedId, Kind, PostDraft, SignedHeads, Urgency,
    Writer,
};
use entraide_node::community::Community;
use entraide_tests::harness::run;
use entraide_tests::hostile::{Attacker, Seen};
use entraide_tests::{TestNode, trials};
use futures::AsyncWriteExt as _;
use libp2p::{Multiaddr, PeerId};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const NOW: i64 = 1_764_000_000;
/// The honest node's memory must stay under this, whatever the attack.
const MEMORY_LIMIT_MIB: f64 = 300.0;

fn main() -> ExitCode {
    let code = run(trials![
        a_write_into_another_author_s_feed_is_refused_by_both_nodes,
        a_post_withdrawn_or_accepted_from_another_feed_stays_as_its_author_left_it,
        a_tampered_byte_in_a_signed_change_is_refused_and_its_sender_dropped,
        a_bloom_filter_with_entries_but_no_bits_is_refused,
        a_bloom_filter_of_four_billion_probes_is_refused,
        equivocation_leaves_each_node_the_version_it_saw_first,
        a_garbage_frame_gets_its_sender_dropped,
        a_frame_over_the_limit_gets_its_sender_dropped,
        an_endless_frame_gets_its_sender_dropped,
        a_truncated_frame_and_a_replayed_change_are_harmless,
        changes_waiting_for_a_missing_dependency_are_held_not_applied,
        a_flood_of_valid_changes_leaves_honest_sync_fast,
        silent_sync_sessions_leave_honest_sync_fast,
        a_reconnect_loop_leaves_honest_sync_fast,
        a_flood_of_sealed_records_of_the_largest_shape_costs_little,
        a_document_bomb_is_refused_before_it_is_inflated,
        a_message_in_pieces_past_its_limit_gets_its_sender_dropped,
    ]);
    print_table();
    code
}

// ---- The honest nodes ----

struct Honest {
    node: TestNode,
    base: String,
    token: String,
    peer: PeerId,
    address: Multiaddr,
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl Honest {
    fn new(node: TestNode) -> Result<Self> {
        let api = node.api()?;
        let who = node.json(&["whoami", "--json"])?;
        let peer: PeerId = who["peer_id"].as_str().context("peer id")?.parse()?;
        let address: Multiaddr = node.address()?.parse()?;
        Ok(Self {
            base: api.base_url(),
            token: api.token,
            peer,
            address,
            node,
        })
    }

    fn get(&self, path: &str) -> Result<Value> {
        let mut r = http()
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()?;
        Ok(serde_json::from_str(&r.body_mut().read_to_string()?)?)
    }

    fn post(&self, title: &str) -> Result<String> {
        let mut r = http()
            .post(format!("{}/api/v1/posts", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .send_json(serde_json::json!({
                "kind": "request", "category": "food", "title": title, "urgency": "week"
            }))?;
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
        Ok(v["id"].as_str().context("an id")?.to_owned())
    }

    fn has_post(&self, id: &str) -> bool {
        self.get(&format!("/api/v1/posts/{id}"))
            .is_ok_and(|v| v["id"] == id)
    }

    /// Every post on the board, in any status.
    fn posts(&self) -> Vec<Value> {
        self.get("/api/v1/posts?all=true")
            .unwrap()
            .as_array()
            .expect("a list of posts")
            .clone()
    }

    /// The posts by `author` on the board, in any status.
    fn posts_by(&self, author: &AuthorId) -> usize {
        self.posts()
            .iter()
            .filter(|p| p["author"] == author.to_string())
            .count()
    }

    /// The board digest (equal digests: the same changes held).
    fn digest(&self) -> String {
        self.get("/api/v1/status").unwrap()["board_digest"]
            .as_str()
            .expect("a board digest")
            .to_owned()
    }

    /// What this node knows of `peer` (`GET /peers`), if it ever saw it.
    fn peer_info(&self, peer: PeerId) -> Option<Value> {
        self.get("/api/v1/peers")
            .unwrap()
            .as_array()?
            .iter()
            .find(|p| p["peer_id"] == peer.to_string())
            .cloned()
    }

    /// Changes the sync sessions with `peer` added to this node's documents, as its
    /// `GET /peers` says (`peer not listed` if it does not list it).
    fn changes_applied_from(&self, peer: PeerId) -> String {
        self.peer_info(peer)
            .and_then(|p| p["sync"]["changes_applied"].as_u64())
            .map_or_else(|| "peer not listed".to_owned(), |n| n.to_string())
    }
}

// ---- The fixture: two honest nodes per test, one test at a time ----

/// Held by the test that runs: the attacks and their measures never overlap.
static SERIAL: Mutex<()> = Mutex::new(());

/// Marie's post, on both boards before any attack.
const VICTIM_TITLE: &str = "Water to the 4th floor";

/// Two honest residents of one community, Marie (A) and Karim (B), connected by `--peer` on
/// loopback, their boards equal, Marie's post on both; the sync latency from A to B
/// without attack; a runtime for the attackers.
struct Fixture {
    a: Honest,
    b: Honest,
    /// Marie's post.
    victim: String,
    marie: AuthorId,
    community: Community,
    /// The fastest of five posts from A to B, before any attack.
    baseline: Duration,
    rt: tokio::runtime::Runtime,
    /// The key of the next attacker.
    seed: std::cell::Cell<u8>,
    started: Instant,
    _serial: MutexGuard<'static, ()>,
}

impl Fixture {
    fn new() -> Self {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let started = Instant::now();
        let mut a = TestNode::new(BIN, "Marie");
        a.ok(&["init", "--name", "Marie"]).unwrap();
        let invite = a.ok(&["invite"]).unwrap();
        let code = invite
            .split_whitespace()
            .find(|w| w.starts_with("ENTRAIDE-"))
            .unwrap()
            .to_owned();
        let mut b = TestNode::new(BIN, "Karim");
        b.ok(&["join", &code, "--name", "Karim"]).unwrap();
        let args = [
            "--no-mdns",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--resync",
            "2",
        ];
        a.up(&args).unwrap();
        let a_addr = a.address().unwrap();
        let mut b_args = args.to_vec();
        b_args.extend(["--peer", &a_addr]);
        b.up(&b_args).unwrap();
        let a = Honest::new(a).unwrap();
        let b = Honest::new(b).unwrap();
        let victim = a.post(VICTIM_TITLE).unwrap();
        let marie: AuthorId = a.get("/api/v1/whoami").unwrap()["author"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        // Both boards equal (Marie's post and Karim's name on both) before any attack, so
        // that what changes afterwards comes from the attack.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(b.has_post(&victim) && a.digest() == b.digest()) {
            assert!(
                Instant::now() < deadline,
                "the honest boards did not converge in 30 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let community = a.node.community().unwrap();
        let mut fixture = Self {
            a,
            b,
            victim,
            marie,
            community,
            baseline: Duration::ZERO,
            rt: tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            seed: std::cell::Cell::new(100),
            started,
            _serial: serial,
        };
        fixture.baseline = (0..5)
            .map(|i| fixture.latency(&format!("baseline {i}")))
            .min()
            .unwrap();
        eprintln!(
            "[{:>5.1}s] two honest nodes up, baseline {:.1} ms",
            fixture.started.elapsed().as_secs_f64(),
            ms(fixture.baseline)
        );
        fixture
    }

    /// A new attacker (a member with a key of its own), connected to `target`.
    fn attacker(&self, target: &Honest) -> Attacker {
        self.seed.set(self.seed.get() + 1);
        let mut att = Attacker::new_in(&self.rt, &self.community, [self.seed.get(); 32]).unwrap();
        self.rt
            .block_on(att.connect(&target.address, target.peer))
            .unwrap();
        att
    }

    /// Time for a new post made on A to be on B's board.
    fn latency(&self, label: &str) -> Duration {
        latency(&self.a, &self.b, label).unwrap()
    }

    /// Waits up to `within` for the attacker to be disconnected from A.
    fn dropped_by_a(&self, att: &mut Attacker, within: Duration) -> bool {
        self.rt
            .block_on(att.wait_for(Seen::Closed(self.a.peer), within))
            .is_ok()
    }

    /// Sends `frame` to A on a sync stream, then: whether A dropped the attacker within
    /// 5 s, and honest sync latency after it (`label`), with Marie's post checked
    /// untouched (`Fixture::unchanged`).
    fn send_to_a(&self, att: &mut Attacker, frame: Vec<u8>, label: &str) -> (Duration, bool) {
        let stream = self
            .rt
            .block_on(att.send_frames(self.a.peer, &[frame]))
            .unwrap();
        let gone = self.dropped_by_a(att, Duration::from_secs(5));
        drop(stream);
        let lat = self.latency(label);
        self.unchanged(label);
        (lat, gone)
    }

    /// On how many of the honest nodes Marie's post is no longer as she left it (open, no
    /// helper accepted, her title and name).
    fn victim_changed_on(&self) -> usize {
        [&self.a, &self.b]
            .into_iter()
            .filter(|h| {
                let v = h.get(&format!("/api/v1/posts/{}", self.victim)).unwrap();
                v["status"] != "open"
                    || !v["accepted"].is_null()
                    || v["title"] != VICTIM_TITLE
                    || v["author_name"] != "Marie"
            })
            .count()
    }

    /// Marie's post is untouched on both nodes, and both hold the same posts in the same
    /// states.
    fn unchanged(&self, label: &str) {
        for h in [&self.a, &self.b] {
            let v = h.get(&format!("/api/v1/posts/{}", self.victim)).unwrap();
            assert_eq!(
                v["status"], "open",
                "{label}: the victim's post changed on {}",
                h.node.name
            );
            assert_eq!(v["title"], VICTIM_TITLE, "{label}");
            assert_eq!(v["author_name"], "Marie", "{label}");
        }
        // The same posts, in the same states, on both honest nodes. (Their digests may
        // differ once an equivocating feed is split between them: each keeps the half it
        // saw first, which holds no post.)
        let ids = |h: &Honest| -> Vec<(Value, Value)> {
            let mut v: Vec<(Value, Value)> = h
                .posts()
                .iter()
                .map(|p| (p["id"].clone(), p["status"].clone()))
                .collect();
            v.sort_by_key(|(id, _)| id.to_string());
            v
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while ids(&self.a) != ids(&self.b) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            ids(&self.a),
            ids(&self.b),
            "{label}: the honest nodes disagree on the posts"
        );
    }

    /// Records the attack's row, after checking the honest node's memory.
    fn report(&self, row: Row) {
        let peak = row.peak_mib;
        eprintln!(
            "[{:>5.1}s] done: {}",
            self.started.elapsed().as_secs_f64(),
            row.attack
        );
        eprintln!("{}", row.markdown());
        ROWS.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(row);
        assert!(
            peak < MEMORY_LIMIT_MIB,
            "the honest node's memory grew to {peak} MiB"
        );
    }

    /// A row of the table, with A's peak memory so far (this test's pair only).
    fn row(
        &self,
        order: usize,
        attack: String,
        got_in: String,
        latency: Duration,
        disconnected: bool,
    ) -> Row {
        Row {
            order,
            attack,
            got_in,
            latency,
            baseline: self.baseline,
            peak_mib: self
                .a
                .node
                .peak_rss_mib()
                .expect("the honest node's peak memory can be read"),
            disconnected,
        }
    }
}

/// Time for a post made on `a` to be on `b`'s board.
fn latency(a: &Honest, b: &Honest, label: &str) -> Result<Duration> {
    let id = a.post(label)?;
    let t0 = Instant::now();
    while !b.has_post(&id) {
        if t0.elapsed() > Duration::from_secs(30) {
            bail!("a post from A did not reach B in 30 s ({label})");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(t0.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---- The table ----

/// One attack's figures, every one measured in its test.
struct Row {
    /// Its place in the table (the order of `main`).
    order: usize,
    attack: String,
    /// What of the attack got onto the honest boards, as measured.
    got_in: String,
    /// Honest sync A→B during or right after the attack.
    latency: Duration,
    /// The same pair's sync without attack.
    baseline: Duration,
    /// A's peak resident memory (`VmHWM`).
    peak_mib: f64,
    /// Whether A closed its connection to the attacker.
    disconnected: bool,
}

impl Row {
    fn markdown(&self) -> String {
        format!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.0} MiB | {} |",
            self.attack,
            self.got_in,
            ms(self.latency),
            ms(self.baseline),
            self.peak_mib,
            if self.disconnected { "yes" } else { "no" }
        )
    }
}

static ROWS: Mutex<Vec<Row>> = Mutex::new(Vec::new());

/// The rows of the attacks whose tests reached their report, in the order of `main`.
fn print_table() {
    let mut rows = std::mem::take(&mut *ROWS.lock().unwrap_or_else(PoisonError::into_inner));
    if rows.is_empty() {
        return;
    }
    rows.sort_by_key(|r| r.order);
    println!(
        "\n| attack | what got in (measured) | honest sync A→B during/after | without attack | peak memory of A | attacker disconnected |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!("{}", r.markdown());
    }
}

// ---- What the attackers build ----

/// A change in `author`'s feed made with `actor`, as a forger would build it.
fn raw_change(actor: ActorId, key: &str, value: &str) -> (Vec<u8>, Automerge) {
    let mut doc = Automerge::new().with_actor(actor);
    let mut tx = doc.transaction();
    tx.put(ROOT, "format", entraide_crdt::FORMAT).unwrap();
    tx.put(ROOT, key, value).unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
    let bytes = doc
        .get_change_by_hash(&hash.unwrap())
        .unwrap()
        .raw_bytes()
        .to_vec();
    (bytes, doc)
}

fn actor_of(author: &AuthorId, device: u8) -> ActorId {
    let mut bytes = author.0.to_vec();
    bytes.extend_from_slice(&[device; 8]);
    ActorId::from(bytes)
}

fn draft(title: &str) -> PostDraft {
    PostDraft {
        kind: Kind::Request,
        category: Category::Food,
        title: title.into(),
        details: String::new(),
        urgency: Urgency::Whenever,
        area: String::new(),
        expires_at: None,
        on_behalf_of: None,
    }
}

/// One change to the attacker's own feed (`feed`, keyed by `key`), as `write` makes it,
/// signed as an honest node would sign it: a valid gossip push.
fn signed_push(
    doc: &mut Automerge,
    key: &AuthorKey,
    feed: FeedId,
    write: impl FnOnce(&mut entraide_crdt::automerge::transaction::Transaction<'_>),
) -> Push {
    let mut tx = doc.transaction();
    write(&mut tx);
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
    let change = doc
        .get_change_by_hash(&hash.unwrap())
        .unwrap()
        .raw_bytes()
        .to_vec();
    Push {
        feed,
        change,
        signed: SignedHeads::sign(key, 0, &doc.get_heads()),
    }
}

/// A sync frame carrying `data` for `feed` with `signed`.
fn sync_frame(feed: FeedId, data: Vec<u8>, signed: Vec<SignedHeads>) -> Vec<u8> {
    use entraide_crdt::automerge::sync::{ChunkList, State, SyncDoc};
    let mut message = Automerge::new()
        .generate_sync_message(&mut State::new())
        .expect("a message");
    message.changes = ChunkList::from(vec![data]);
    Frame::Sync {
        feeds: vec![FeedSync {
            feed,
            signed,
            message: message.encode(),
            more: false,
        }],
    }
    .encode()
}

/// The number in the name the attacker's feed shows on `h` (`prefix` then a number), if
/// `h` holds that feed.
fn name_number(h: &Honest, peer: PeerId, prefix: &str) -> Option<usize> {
    h.peer_info(peer)?["name"]
        .as_str()?
        .strip_prefix(prefix)?
        .parse()
        .ok()
}

// ---- The attacks ----

/// Writing into Marie's feed (her actor id), signed with the attacker's key.
fn a_write_into_another_author_s_feed_is_refused_by_both_nodes() {
    let pair = Fixture::new();
    // Sent to both honest nodes: each must reach the same verdict on its own.
    let mut att = pair.attacker(&pair.a);
    pair.rt
        .block_on(att.connect(&pair.b.address, pair.b.peer))
        .unwrap();
    // Let both subscriptions reach the attacker, so one publish goes to both.
    std::thread::sleep(Duration::from_millis(800));
    let (change, doc) = raw_change(actor_of(&pair.marie, 9), "name", "Marie (pwned)");
    let mut signed = SignedHeads::sign(&AuthorKey::from_seed(att.seed), 0, &doc.get_heads());
    signed.feed = FeedId::first(pair.marie);
    let push = Push {
        feed: FeedId::first(pair.marie),
        change,
        signed,
    };
    pair.rt.block_on(att.publish(push.encode())).unwrap();
    let mut dropped_by = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while dropped_by.len() < 2 && Instant::now() < deadline {
        let next = pair.rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(200), att.seen.recv()).await
        });
        if let Ok(Some(Seen::Closed(p))) = next {
            dropped_by.insert(p);
        }
    }
    let gone = dropped_by.contains(&pair.a.peer) && dropped_by.contains(&pair.b.peer);
    let lat = pair.latency("during forged edit");
    let forged_on = pair.victim_changed_on();
    pair.unchanged("forged edit");
    assert_eq!(pair.a.get("/api/v1/whoami").unwrap()["name"], "Marie");
    assert!(
        gone,
        "both honest nodes must refuse and drop the forger: {dropped_by:?}"
    );
    pair.report(pair.row(
        1,
        "write into another author's feed (gossip, wrong key; sent to both nodes)".into(),
        format!(
            "forged name shown by {forged_on} of 2 nodes; dropped by {} of 2",
            dropped_by.len()
        ),
        lat,
        gone,
    ));
}

/// "Withdraw" and "accept" someone else's post from one's own, validly signed feed.
fn a_post_withdrawn_or_accepted_from_another_feed_stays_as_its_author_left_it() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let w = Writer::new(AuthorKey::from_seed(att.seed), DeviceId([1; 8]));
    let mut board = Board::new();
    let (_, first) = board
        .post_new(&w, [7; 8], &draft("Attacker's own post"), NOW)
        .unwrap();
    // Its own feed, with a key named like Marie's post, state withdrawn: a different post.
    let own = FeedId::first(w.author());
    let mut doc = Automerge::load(&board.feed(&own).unwrap().save())
        .unwrap()
        .with_actor(w.actor());
    let mut tx = doc.transaction();
    let fake = tx
        .put_object(
            ROOT,
            format!("post:{}", pair.victim),
            entraide_crdt::automerge::ObjType::Map,
        )
        .unwrap();
    for (k, v) in [
        ("kind", "request"),
        ("category", "food"),
        ("title", VICTIM_TITLE),
        ("urgency", "week"),
        ("state", "withdrawn"),
        ("accepted", &w.author().to_string()),
    ] {
        tx.put(&fake, k, v).unwrap();
    }
    tx.put(&fake, "created_at", NOW).unwrap();
    tx.put(&fake, "expires_at", NOW + 3600).unwrap();
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
    let second = doc
        .get_change_by_hash(&hash.unwrap())
        .unwrap()
        .raw_bytes()
        .to_vec();
    let signed = SignedHeads::sign(w.key(), 0, &doc.get_heads());
    pair.rt
        .block_on(
            att.publish(
                Push {
                    feed: first.feed,
                    change: first.change.clone(),
                    signed: first.signed.clone(),
                }
                .encode(),
            ),
        )
        .unwrap();
    pair.rt
        .block_on(
            att.publish(
                Push {
                    feed: own,
                    change: second,
                    signed,
                }
                .encode(),
            ),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let lat = pair.latency("during own-feed impostor");
    let changed_on = pair.victim_changed_on();
    let own_posts = pair.a.posts_by(&w.author());
    pair.unchanged("own-feed impostor");
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.report(pair.row(
        2,
        "withdraw / accept someone else's post from one's own feed".into(),
        format!(
            "victim's post changed on {changed_on} of 2 nodes; its own posts on A: {own_posts}"
        ),
        lat,
        gone,
    ));
}

/// A tampered byte in a valid change, through a sync session.
fn a_tampered_byte_in_a_signed_change_is_refused_and_its_sender_dropped() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let w = Writer::new(AuthorKey::from_seed(att.seed), DeviceId([1; 8]));
    let mut board = Board::new();
    let (_, change) = board
        .post_new(&w, [8; 8], &draft("honest text"), NOW)
        .unwrap();
    let mut tampered = change.change.clone();
    let at = tampered.len() - 20;
    tampered[at] ^= 0x20;
    let frame = sync_frame(change.feed, tampered, vec![change.signed.clone()]);
    let (lat, gone) = pair.send_to_a(&mut att, frame, "tampered byte");
    assert!(gone, "a tamperer must be disconnected");
    let posts = pair.a.posts_by(&w.author());
    assert!(posts == 0, "a tampered change got in");
    pair.report(pair.row(
        3,
        "tampered byte in a signed change (session)".into(),
        format!(
            "changes applied from its session: {}; its posts on A: {posts}",
            pair.a.changes_applied_from(att.peer_id)
        ),
        lat,
        gone,
    ));
}

/// A sync message about Marie's feed (which A holds) whose Bloom filter made automerge
/// divide by zero, or would make it allocate without bound, while A composed its reply:
/// one such message stopped a node (found by fuzzing).
fn bloom_filter_attack(order: usize, what: &str, bloom: &[u8]) {
    use entraide_crdt::automerge::sync::{BloomFilter, Have, State, SyncDoc};
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let mut message = Automerge::new()
        .generate_sync_message(&mut State::new())
        .expect("a message");
    message.have = vec![Have {
        last_sync: vec![],
        bloom: BloomFilter::try_from(bloom).expect("the filter parses"),
    }];
    let frame = Frame::Sync {
        feeds: vec![FeedSync {
            feed: FeedId::first(pair.marie),
            signed: vec![],
            message: message.encode(),
            more: false,
        }],
    }
    .encode();
    let (lat, gone) = pair.send_to_a(&mut att, frame, "crashing Bloom filter");
    assert!(
        gone,
        "{what}: the sender of a crashing filter must be disconnected"
    );
    pair.report(pair.row(
        order,
        format!("sync message with a Bloom filter that crashed automerge ({what})"),
        format!(
            "changes applied from its session: {}",
            pair.a.changes_applied_from(att.peer_id)
        ),
        lat,
        gone,
    ));
}

/// What a document bomb inflates to: more than the honest node may use, whole.
const BOMB_INFLATED: usize = 512 << 20;

/// A document chunk (no actors, no heads, no change columns) whose one op column, raw
/// values with the deflate bit (spec 0x5f), inflates to `inflated` zero bytes; its
/// checksum is right (protocol.md 5.1).
fn document_bomb(inflated: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..inflated >> 20 {
        deflater.write_all(&zeros).unwrap();
    }
    let column = deflater.finish().unwrap();
    let uleb = |mut n: usize, out: &mut Vec<u8>| {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    };
    let mut data = vec![0, 0, 0, 1, 0x5f];
    uleb(column.len(), &mut data);
    data.extend_from_slice(&column);
    let mut header = vec![0];
    uleb(data.len(), &mut header);
    let checksum = Sha256::new()
        .chain_update(&header)
        .chain_update(&data)
        .finalize();
    [&[0x85, 0x6f, 0x4a, 0x83], &checksum[..4], &header, &data].concat()
}

/// A document of a few hundred KiB that inflates to 512 MiB, in a sync message to A:
/// refused before automerge inflates it (protocol.md 5.1.1), the sender dropped, A's
/// memory where it was.
fn a_document_bomb_is_refused_before_it_is_inflated() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let bomb = document_bomb(BOMB_INFLATED);
    let size = bomb.len();
    let frame = sync_frame(FeedId::first(pair.marie), bomb, vec![]);
    let (lat, gone) = pair.send_to_a(&mut att, frame, "document bomb");
    assert!(gone, "the sender of a document bomb must be disconnected");
    pair.report(pair.row(
        16,
        format!(
            "a {} KiB document inflating to {} MiB, in a sync message",
            size >> 10,
            BOMB_INFLATED >> 20
        ),
        format!(
            "changes applied from its session: {}",
            pair.a.changes_applied_from(att.peer_id)
        ),
        lat,
        gone,
    ));
}

fn a_bloom_filter_with_entries_but_no_bits_is_refused() {
    bloom_filter_attack(4, "entries, no bits", &[5u8, 0, 7]);
}

fn a_bloom_filter_of_four_billion_probes_is_refused() {
    bloom_filter_attack(
        5,
        "four billion probes",
        &[5, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0],
    );
}

/// Equivocation: two different changes, same actor and sequence number, one to each node.
fn equivocation_leaves_each_node_the_version_it_saw_first() {
    let pair = Fixture::new();
    let mut att_a = pair.attacker(&pair.a);
    pair.seed.set(pair.seed.get() + 1);
    let seed_b = att_a.seed;
    let mut att_b = Attacker::new_in(&pair.rt, &pair.community, [pair.seed.get(); 32]).unwrap();
    pair.rt
        .block_on(att_b.connect(&pair.b.address, pair.b.peer))
        .unwrap();
    // Both halves in the name of the first attacker's key (a thief of one key).
    let key = AuthorKey::from_seed(seed_b);
    let feed = FeedId::first(key.id());
    let (x, dx) = raw_change(actor_of(&key.id(), 3), "name", "version X");
    let (y, dy) = raw_change(actor_of(&key.id(), 3), "name", "version Y");
    let sx = SignedHeads::sign(&key, 0, &dx.get_heads());
    let sy = SignedHeads::sign(&key, 0, &dy.get_heads());
    let _sa = pair
        .rt
        .block_on(att_a.send_frames(pair.a.peer, &[sync_frame(feed, x, vec![sx])]))
        .unwrap();
    let _sb = pair
        .rt
        .block_on(att_b.send_frames(pair.b.peer, &[sync_frame(feed, y, vec![sy])]))
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // The two honest nodes keep one version each (the first they saw) and go on syncing.
    let lat = pair.latency("after equivocation");
    let v = pair
        .a
        .get(&format!("/api/v1/posts/{}", pair.victim))
        .unwrap();
    assert_eq!(v["status"], "open");
    let split = pair.a.digest() != pair.b.digest();
    let gone = pair.dropped_by_a(&mut att_a, Duration::from_millis(500));
    pair.report(pair.row(
        6,
        "two different changes with one actor and seq, one to each node".into(),
        format!(
            "changes applied from the sessions: {} on A, {} on B; boards split: {}",
            pair.a.changes_applied_from(att_a.peer_id),
            pair.b.changes_applied_from(att_b.peer_id),
            if split { "yes" } else { "no" }
        ),
        lat,
        gone,
    ));
}

/// Raw bytes on a sync stream to A, then the sender must be dropped within `wait`.
fn frame_attack(order: usize, label: &str, mut bytes: Vec<u8>, wait: Duration) {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let mut stream = pair.rt.block_on(att.open_stream(pair.a.peer)).unwrap();
    pair.rt.block_on(async {
        stream.write_all(&bytes).await.unwrap();
        stream.flush().await.unwrap();
    });
    bytes.clear();
    let lat = pair.latency(label);
    let gone = pair.dropped_by_a(&mut att, wait);
    pair.unchanged(label);
    assert!(gone, "{label}: the sender must be disconnected");
    pair.report(pair.row(
        order,
        label.into(),
        format!(
            "changes applied from its session: {}",
            pair.a.changes_applied_from(att.peer_id)
        ),
        lat,
        gone,
    ));
}

fn a_garbage_frame_gets_its_sender_dropped() {
    let mut frame = 11u32.to_be_bytes().to_vec();
    frame.extend(b"hello world");
    frame_attack(7, "garbage frame", frame, Duration::from_secs(5));
}

fn a_frame_over_the_limit_gets_its_sender_dropped() {
    frame_attack(
        8,
        "frame over the 1 MiB limit",
        (2u32 << 20).to_be_bytes().to_vec(),
        Duration::from_secs(5),
    );
}

fn an_endless_frame_gets_its_sender_dropped() {
    let mut frame = (1u32 << 20).to_be_bytes().to_vec();
    frame.extend([0u8; 10]);
    frame_attack(
        9,
        "endless frame (announced, then dripped)",
        frame,
        Duration::from_secs(15),
    );
}

/// A message sent in pieces (`FeedSync::more`) that goes on past the 5 MiB a node takes
/// (`MAX_SYNC_MESSAGE_BYTES`): six pieces of a million bytes.
fn a_message_in_pieces_past_its_limit_gets_its_sender_dropped() {
    let feed = FeedId::first(AuthorKey::from_seed([77; 32]).id());
    let piece = Frame::Sync {
        feeds: vec![FeedSync {
            feed,
            signed: vec![],
            message: vec![0x42; 1_000_000],
            more: true,
        }],
    }
    .encode();
    let mut bytes = Vec::new();
    for _ in 0..6 {
        bytes.extend((piece.len() as u32).to_be_bytes());
        bytes.extend(&piece);
    }
    frame_attack(
        16,
        "a message in pieces past 5 MiB (six pieces of a million bytes)",
        bytes,
        Duration::from_secs(10),
    );
}

/// A truncated frame (the stream closed inside a frame), then a replay of a valid change
/// over a session: a lost connection and a duplicate are not attacks to punish.
fn a_truncated_frame_and_a_replayed_change_are_harmless() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let mut stream = pair.rt.block_on(att.open_stream(pair.a.peer)).unwrap();
    pair.rt.block_on(async {
        let mut frame = 100u32.to_be_bytes().to_vec();
        frame.extend([1u8; 10]);
        stream.write_all(&frame).await.unwrap();
        stream.close().await.unwrap();
    });
    let w = Writer::new(AuthorKey::from_seed(att.seed), DeviceId([1; 8]));
    let mut board = Board::new();
    let (_, c) = board
        .post_new(&w, [9; 8], &draft("said twice"), NOW)
        .unwrap();
    let frame = sync_frame(c.feed, c.change.clone(), vec![c.signed.clone()]);
    let copies = || {
        pair.a
            .posts()
            .iter()
            .filter(|p| p["title"] == "said twice")
            .count()
    };
    // A node takes a peer's new streams one at a time (libp2p-stream drops, with a reset,
    // one that comes while the node has yet to take the previous one): a stream right
    // behind the truncated one may never be read. Send the pair again until the change
    // lands; every copy is the same change.
    let mut streams = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while copies() == 0 {
        assert!(
            Instant::now() < deadline,
            "the change sent twice never reached A's board"
        );
        if let Ok(s) = pair
            .rt
            .block_on(att.send_frames(pair.a.peer, &[frame.clone(), frame.clone()]))
        {
            streams.push(s);
        }
        let landed = Instant::now() + Duration::from_secs(2);
        while copies() == 0 && Instant::now() < landed {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let lat = pair.latency("after truncation and replay");
    pair.unchanged("truncation and replay");
    let copies = copies();
    assert_eq!(copies, 1, "a replayed change must count once");
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.report(pair.row(
        10,
        "truncated frame, then the same valid change sent twice".into(),
        format!(
            "copies of the post sent twice on A: {copies} (streams sent: {}); changes applied \
             from its sessions: {}",
            streams.len(),
            pair.a.changes_applied_from(att.peer_id)
        ),
        lat,
        gone,
    ));
}

/// Thousands of valid changes with a missing dependency.
fn changes_waiting_for_a_missing_dependency_are_held_not_applied() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let key = AuthorKey::from_seed(att.seed);
    let feed = FeedId::first(key.id());
    let mut doc = Automerge::new().with_actor(actor_of(&key.id(), 1));
    let mut pushes = Vec::new();
    for i in 0..3_000 {
        pushes.push(signed_push(&mut doc, &key, feed, |tx| {
            tx.put(ROOT, "name", format!("v{i}")).unwrap();
        }));
    }
    let t0 = Instant::now();
    for p in pushes.iter().skip(1) {
        pair.rt.block_on(att.publish(p.encode())).unwrap();
    }
    let sent = t0.elapsed();
    let lat = pair.latency("during missing-dependency flood");
    pair.unchanged("missing deps");
    // The feed's name is the last change applied: none, while the first one is missing.
    let applied = name_number(&pair.a, att.peer_id, "v").unwrap_or(0);
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.report(pair.row(
        11,
        format!(
            "{} changes waiting for a missing dependency (sent in {:.1} s)",
            pushes.len() - 1,
            sent.as_secs_f64()
        ),
        format!("applied on A: {applied}"),
        lat,
        gone,
    ));
}

/// A flood of valid changes: its own feed, each change signed, as fast as it can.
fn a_flood_of_valid_changes_leaves_honest_sync_fast() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let key = AuthorKey::from_seed(att.seed);
    let feed = FeedId::first(key.id());
    let mut doc = Automerge::new().with_actor(actor_of(&key.id(), 1));
    let count: usize = std::env::var("ENTRAIDE_FLOOD")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let pushes: Vec<Push> = (0..count)
        .map(|i| {
            signed_push(&mut doc, &key, feed, |tx| {
                if i == 0 {
                    tx.put(ROOT, "format", entraide_crdt::FORMAT).unwrap();
                }
                tx.put(ROOT, "name", format!("flood {i}")).unwrap();
            })
        })
        .collect();
    let t0 = Instant::now();
    let mut during = Duration::ZERO;
    for (i, p) in pushes.iter().enumerate() {
        pair.rt.block_on(att.publish(p.encode())).unwrap();
        if i == count / 2 {
            during = pair.latency("during the flood");
        }
    }
    let took = t0.elapsed();
    let rate = pushes.len() as f64 / took.as_secs_f64() * 60.0;
    // The feed's name is its last change applied, `flood N`: N + 1 changes taken.
    let taken = name_number(&pair.a, att.peer_id, "flood ").map_or(0, |n| n + 1);
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.unchanged("flood");
    pair.report(pair.row(
        12,
        format!("flood of {count} valid signed changes in {took:.1?} ({rate:.0} per minute)"),
        format!("valid changes taken by A when the flood ended: {taken} of {count}"),
        during,
        gone,
    ));
}

/// Sessions opened and never answered.
fn silent_sync_sessions_leave_honest_sync_fast() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let mut streams = Vec::new();
    for _ in 0..50 {
        if let Ok(s) = pair.rt.block_on(att.open_stream(pair.a.peer)) {
            streams.push(s);
        }
    }
    let lat = pair.latency("with silent sessions");
    pair.unchanged("silent sessions");
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.report(pair.row(
        13,
        format!("{} sync sessions opened and never answered", streams.len()),
        format!(
            "changes applied from its sessions: {}",
            pair.a.changes_applied_from(att.peer_id)
        ),
        lat,
        gone,
    ));
    drop(streams);
}

/// Reconnecting in a loop.
fn a_reconnect_loop_leaves_honest_sync_fast() {
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let mut reconnected = 0;
    for _ in 0..100 {
        pair.rt.block_on(att.disconnect(pair.a.peer));
        let _ = pair
            .rt
            .block_on(att.wait_for(Seen::Closed(pair.a.peer), Duration::from_secs(2)));
        if pair
            .rt
            .block_on(att.connect(&pair.a.address, pair.a.peer))
            .is_ok()
        {
            reconnected += 1;
        }
    }
    let lat = pair.latency("after a reconnect loop");
    pair.unchanged("reconnect loop");
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.report(pair.row(
        14,
        "100 disconnect / reconnect cycles".into(),
        format!("reconnections A accepted: {reconnected} of 100"),
        lat,
        gone,
    ));
}

/// Sealed records (the care register's ciphertext) of the largest shape the format allows,
/// 16 slots each, from a member's own validly signed feed: every one is relayed and tried
/// by A's key once (16 X25519 operations), none opens; A's register stays empty and quick.
fn a_flood_of_sealed_records_of_the_largest_shape_costs_little() {
    use entraide_crdt::sealed::{MAX_RECIPIENTS, MAX_SEALED_PLAINTEXT};
    let pair = Fixture::new();
    let mut att = pair.attacker(&pair.a);
    let key = AuthorKey::from_seed(att.seed);
    let feed = FeedId::first(key.id());
    let mut doc = Automerge::new().with_actor(actor_of(&key.id(), 1));
    let count: usize = 300;
    // Not cryptographic: bytes that look random, so every slot costs a real try.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut noise = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    };
    let slot = 32 + MAX_SEALED_PLAINTEXT + 16;
    let pushes: Vec<Push> = (0..count)
        .map(|i| {
            let mut sealed = vec![1, MAX_RECIPIENTS as u8];
            sealed.extend(noise(MAX_RECIPIENTS * slot));
            signed_push(&mut doc, &key, feed, |tx| {
                if i == 0 {
                    tx.put(ROOT, "format", entraide_crdt::FORMAT).unwrap();
                }
                tx.put(
                    ROOT,
                    format!("sealed:{:016x}", i),
                    entraide_crdt::automerge::ScalarValue::Bytes(sealed),
                )
                .unwrap();
            })
        })
        .collect();
    let t0 = Instant::now();
    for p in &pushes {
        pair.rt.block_on(att.publish(p.encode())).unwrap();
    }
    let sent = t0.elapsed();
    let during = pair.latency("after the sealed flood");
    // A's register: empty, and how long it takes to answer with every record tried.
    let t1 = Instant::now();
    let care = pair.a.get("/api/v1/care").unwrap();
    let first = t1.elapsed();
    assert_eq!(care["records"], Value::Array(Vec::new()), "{care:#}");
    // Tried a little at a time: wait until every record was tried.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tried = Instant::now();
    while pair.a.get("/api/v1/care").unwrap()["unread"] != 0 {
        assert!(Instant::now() < deadline, "the flood was never all tried");
        std::thread::sleep(Duration::from_millis(50));
        tried = Instant::now();
    }
    let all_tried = tried.duration_since(t1);
    let t2 = Instant::now();
    pair.a.get("/api/v1/care").unwrap();
    let again = t2.elapsed();
    let held = pair.a.get("/api/v1/status").unwrap()["board"]["feeds"]
        .as_u64()
        .unwrap_or(0);
    let gone = pair.dropped_by_a(&mut att, Duration::from_millis(500));
    pair.unchanged("sealed flood");
    pair.report(pair.row(
        15,
        format!(
            "{count} sealed records of the largest shape (16 slots, {} KiB each) in {sent:.1?}",
            (2 + MAX_RECIPIENTS * slot) / 1024
        ),
        format!(
            "relayed, none opened; A's register empty, answered in {:.0} ms then {:.0} ms; all tried within {:.1} s ({held} feeds held)",
            ms(first),
            ms(again),
            all_tried.as_secs_f64()
        ),
        during,
        gone,
    ));
}

//! A hostile member against two honest nodes, over real sockets: forged edits, forged
//! signatures, tampering, equivocation, garbage, oversized and endless frames, floods,
//! silent sessions, reconnect loops. For each attack: changes accepted, honest sync
//! latency during the attack against a baseline, peak memory of the honest node, and
//! whether the attacker was disconnected. The table is printed (`-- --nocapture`).
//!
//! `ENTRAIDE_FLOOD=N` sets how many valid changes the flood sends (default 5,000, sent as
//! fast as the attacker can sign them, well above 100,000 a minute).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entraide_crdt::automerge::transaction::{CommitOptions, Transactable};
use entraide_crdt::automerge::{ActorId, Automerge, ROOT, ReadDoc};
use entraide_crdt::wire::{FeedSync, Frame, Push};
use entraide_crdt::{
    AuthorId, AuthorKey, Board, Category, DeviceId, FeedId, Kind, PostDraft, SignedHeads, Urgency,
    Writer,
};
use entraide_tests::TestNode;
use entraide_tests::hostile::{Attacker, Seen};
use futures::AsyncWriteExt as _;
use libp2p::{Multiaddr, PeerId};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const NOW: i64 = 1_764_000_000;

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
        let api: Value =
            serde_json::from_str(&std::fs::read_to_string(node.data_dir().join("api.json"))?)?;
        let token = std::fs::read_to_string(node.data_dir().join("api.token"))?
            .trim()
            .to_owned();
        let who = node.json(&["whoami", "--json"])?;
        let peer: PeerId = who["peer_id"].as_str().context("peer id")?.parse()?;
        let address: Multiaddr = node.address()?.parse()?;
        Ok(Self {
            base: format!("http://{}", api["address"].as_str().context("address")?),
            token,
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

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
        }],
    }
    .encode()
}

struct Report {
    rows: Vec<String>,
    start: Instant,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        attack: &str,
        invalid_accepted: &str,
        latency: Duration,
        baseline: Duration,
        peak: f64,
        disconnected: &str,
    ) {
        eprintln!(
            "[{:>6.1}s] done: {attack}",
            self.start.elapsed().as_secs_f64()
        );
        self.rows.push(format!(
            "| {attack} | {invalid_accepted} | {:.1} ms | {:.1} ms | {peak:.0} MiB | {disconnected} |",
            latency.as_secs_f64() * 1000.0,
            baseline.as_secs_f64() * 1000.0
        ));
    }
}

/// Waits up to `within` for the attacker to be disconnected from `peer`.
async fn dropped(att: &mut Attacker, peer: PeerId, within: Duration) -> bool {
    att.wait_for(Seen::Closed(peer), within).await.is_ok()
}

#[test]
fn a_hostile_member_gets_nothing_in_and_honest_nodes_keep_syncing() {
    // Two honest residents, one community, connected by --peer on loopback.
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
    let victim = a.post("Water to the 4th floor").unwrap();
    let marie: AuthorId = a.get("/api/v1/whoami").unwrap()["author"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    while !b.has_post(&victim) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let community = a.node.community().unwrap();

    let baseline = (0..5)
        .map(|i| latency(&a, &b, &format!("baseline {i}")).unwrap())
        .min()
        .unwrap();
    let rt = runtime();
    let mut report = Report {
        rows: Vec::new(),
        start: Instant::now(),
    };
    let seed = std::cell::Cell::new(100u8);
    let attacker = |rt: &tokio::runtime::Runtime, target: &Honest| -> Attacker {
        seed.set(seed.get() + 1);
        let mut att = Attacker::new_in(rt, &community, [seed.get(); 32]).unwrap();
        rt.block_on(att.connect(&target.address, target.peer))
            .unwrap();
        att
    };
    let unchanged = |label: &str| {
        for h in [&a, &b] {
            let v = h.get(&format!("/api/v1/posts/{victim}")).unwrap();
            assert_eq!(
                v["status"], "open",
                "{label}: the victim's post changed on {}",
                h.node.name
            );
            assert_eq!(v["title"], "Water to the 4th floor", "{label}");
            assert_eq!(v["author_name"], "Marie", "{label}");
        }
        // The same posts, in the same states, on both honest nodes. (Their digests may
        // differ once an equivocating feed is split between them: each keeps the half it
        // saw first, which holds no post.)
        let ids = |h: &Honest| -> Vec<(Value, Value)> {
            let mut v: Vec<(Value, Value)> = h
                .get("/api/v1/posts?all=true")
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["id"].clone(), p["status"].clone()))
                .collect();
            v.sort_by_key(|(id, _)| id.to_string());
            v
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while ids(&a) != ids(&b) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            ids(&a),
            ids(&b),
            "{label}: the honest nodes disagree on the posts"
        );
    };

    // 1. Writing into Marie's feed (her actor id), signed with the attacker's key.
    {
        // Sent to both honest nodes: each must reach the same verdict on its own.
        let mut att = attacker(&rt, &a);
        rt.block_on(att.connect(&b.address, b.peer)).unwrap();
        // Let both subscriptions reach the attacker, so one publish goes to both.
        std::thread::sleep(Duration::from_millis(800));
        let (change, doc) = raw_change(actor_of(&marie, 9), "name", "Marie (pwned)");
        let mut signed = SignedHeads::sign(&AuthorKey::from_seed(att.seed), 0, &doc.get_heads());
        signed.feed = FeedId::first(marie);
        let push = Push {
            feed: FeedId::first(marie),
            change,
            signed,
        };
        rt.block_on(att.publish(push.encode())).unwrap();
        let mut dropped_by = std::collections::HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while dropped_by.len() < 2 && Instant::now() < deadline {
            let next = rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(200), att.seen.recv()).await
            });
            if let Ok(Some(Seen::Closed(p))) = next {
                dropped_by.insert(p);
            }
        }
        let gone = dropped_by.contains(&a.peer) && dropped_by.contains(&b.peer);
        let lat = latency(&a, &b, "during forged edit").unwrap();
        unchanged("forged edit");
        assert_eq!(a.get("/api/v1/whoami").unwrap()["name"], "Marie");
        assert!(
            gone,
            "both honest nodes must refuse and drop the forger: {dropped_by:?}"
        );
        report.add(
            "write into another author's feed (gossip, wrong key; sent to both nodes)",
            "0 (both refuse it)",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "yes",
        );
    }
    // 2. "Withdraw" and "accept" someone else's post from one's own, validly signed feed.
    {
        let mut att = attacker(&rt, &a);
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
                format!("post:{victim}"),
                entraide_crdt::automerge::ObjType::Map,
            )
            .unwrap();
        for (k, v) in [
            ("kind", "request"),
            ("category", "food"),
            ("title", "Water to the 4th floor"),
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
        rt.block_on(
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
        rt.block_on(
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
        let lat = latency(&a, &b, "during own-feed impostor").unwrap();
        unchanged("own-feed impostor");
        let gone = rt.block_on(dropped(&mut att, a.peer, Duration::from_millis(500)));
        report.add(
            "withdraw / accept someone else's post from one's own feed",
            "0 (its own valid posts are its own)",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            if gone { "yes" } else { "no (valid data)" },
        );
    }
    // 3. A tampered byte in a valid change, through a sync session.
    {
        let mut att = attacker(&rt, &a);
        let w = Writer::new(AuthorKey::from_seed(att.seed), DeviceId([1; 8]));
        let mut board = Board::new();
        let (_, change) = board
            .post_new(&w, [8; 8], &draft("honest text"), NOW)
            .unwrap();
        let mut tampered = change.change.clone();
        let at = tampered.len() - 20;
        tampered[at] ^= 0x20;
        let frame = sync_frame(change.feed, tampered, vec![change.signed.clone()]);
        let stream = rt.block_on(att.send_frames(a.peer, &[frame])).unwrap();
        let gone = rt.block_on(dropped(&mut att, a.peer, Duration::from_secs(5)));
        drop(stream);
        let lat = latency(&a, &b, "during tampering").unwrap();
        unchanged("tampered byte");
        assert!(gone, "a tamperer must be disconnected");
        let board = a.get("/api/v1/posts?all=true").unwrap();
        assert!(
            !board
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["author"] == w.author().to_string()),
            "a tampered change got in"
        );
        report.add(
            "tampered byte in a signed change (session)",
            "0",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "yes",
        );
    }
    // 3b. Sync messages about Marie's feed (which A holds) whose Bloom filter made automerge
    // divide by zero, or would make it allocate without bound, while A composed its reply:
    // one such message stopped a node (found by fuzzing).
    for (what, bloom) in [
        ("entries, no bits", vec![5u8, 0, 7]),
        (
            "four billion probes",
            vec![5, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0],
        ),
    ] {
        use entraide_crdt::automerge::sync::{BloomFilter, Have, State, SyncDoc};
        let mut att = attacker(&rt, &a);
        let mut message = Automerge::new()
            .generate_sync_message(&mut State::new())
            .expect("a message");
        message.have = vec![Have {
            last_sync: vec![],
            bloom: BloomFilter::try_from(bloom.as_slice()).expect("the filter parses"),
        }];
        let frame = Frame::Sync {
            feeds: vec![FeedSync {
                feed: FeedId::first(marie),
                signed: vec![],
                message: message.encode(),
            }],
        }
        .encode();
        let stream = rt.block_on(att.send_frames(a.peer, &[frame])).unwrap();
        let gone = rt.block_on(dropped(&mut att, a.peer, Duration::from_secs(5)));
        drop(stream);
        let lat = latency(&a, &b, "after a crashing Bloom filter").unwrap();
        unchanged("crashing Bloom filter");
        assert!(
            gone,
            "{what}: the sender of a crashing filter must be disconnected"
        );
        report.add(
            &format!("sync message with a Bloom filter that crashed automerge ({what})"),
            "0 (refused before automerge uses it)",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "yes",
        );
    }
    // 4. Equivocation: two different changes, same actor and sequence number, one to each node.
    {
        let mut att_a = attacker(&rt, &a);
        seed.set(seed.get() + 1);
        let seed_b = att_a.seed;
        let mut att_b = Attacker::new_in(&rt, &community, [seed.get(); 32]).unwrap();
        rt.block_on(att_b.connect(&b.address, b.peer)).unwrap();
        // Both halves in the name of the first attacker's key (a thief of one key).
        let key = AuthorKey::from_seed(seed_b);
        let feed = FeedId::first(key.id());
        let (x, dx) = raw_change(actor_of(&key.id(), 3), "name", "version X");
        let (y, dy) = raw_change(actor_of(&key.id(), 3), "name", "version Y");
        let sx = SignedHeads::sign(&key, 0, &dx.get_heads());
        let sy = SignedHeads::sign(&key, 0, &dy.get_heads());
        let _sa = rt
            .block_on(att_a.send_frames(a.peer, &[sync_frame(feed, x, vec![sx])]))
            .unwrap();
        let _sb = rt
            .block_on(att_b.send_frames(b.peer, &[sync_frame(feed, y, vec![sy])]))
            .unwrap();
        std::thread::sleep(Duration::from_secs(3));
        // The two honest nodes keep one version each (the first they saw) and go on syncing.
        let lat = latency(&a, &b, "after equivocation").unwrap();
        let v = a.get(&format!("/api/v1/posts/{victim}")).unwrap();
        assert_eq!(v["status"], "open");
        report.add(
            "two different changes with one actor and seq, one to each node",
            "0 (each node keeps the first it saw)",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "no (not provably malicious to a relay)",
        );
    }
    // 5. Garbage, a frame over the limit, a frame that never ends.
    for (label, mut bytes, wait) in [
        (
            "garbage frame",
            {
                let mut f = 11u32.to_be_bytes().to_vec();
                f.extend(b"hello world");
                f
            },
            Duration::from_secs(5),
        ),
        (
            "frame over the 1 MiB limit",
            (2u32 << 20).to_be_bytes().to_vec(),
            Duration::from_secs(5),
        ),
        (
            "endless frame (announced, then dripped)",
            {
                let mut f = (1u32 << 20).to_be_bytes().to_vec();
                f.extend([0u8; 10]);
                f
            },
            Duration::from_secs(15),
        ),
    ] {
        let mut att = attacker(&rt, &a);
        let mut stream = rt.block_on(att.open_stream(a.peer)).unwrap();
        rt.block_on(async {
            stream.write_all(&bytes).await.unwrap();
            stream.flush().await.unwrap();
        });
        bytes.clear();
        let lat = latency(&a, &b, label).unwrap();
        let gone = rt.block_on(dropped(&mut att, a.peer, wait));
        unchanged(label);
        assert!(gone, "{label}: the sender must be disconnected");
        report.add(
            label,
            "0",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "yes",
        );
    }
    // 5b. A truncated frame (the stream closed inside a frame), then a replay of a valid
    // change over a session: a lost connection and a duplicate are not attacks to punish.
    {
        let mut att = attacker(&rt, &a);
        let mut stream = rt.block_on(att.open_stream(a.peer)).unwrap();
        rt.block_on(async {
            let mut f = 100u32.to_be_bytes().to_vec();
            f.extend([1u8; 10]);
            stream.write_all(&f).await.unwrap();
            stream.close().await.unwrap();
        });
        let w = Writer::new(AuthorKey::from_seed(att.seed), DeviceId([1; 8]));
        let mut board = Board::new();
        let (_, c) = board
            .post_new(&w, [9; 8], &draft("said twice"), NOW)
            .unwrap();
        let frame = sync_frame(c.feed, c.change.clone(), vec![c.signed.clone()]);
        let _s = rt
            .block_on(att.send_frames(a.peer, &[frame.clone(), frame]))
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let lat = latency(&a, &b, "after truncation and replay").unwrap();
        unchanged("truncation and replay");
        let copies = a
            .get("/api/v1/posts?all=true")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["title"] == "said twice")
            .count();
        assert_eq!(copies, 1, "a replayed change must count once");
        let gone = rt.block_on(dropped(&mut att, a.peer, Duration::from_millis(500)));
        report.add(
            "truncated frame, then the same valid change sent twice",
            "0 (the replay is a no-op)",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            if gone {
                "yes"
            } else {
                "no (neither is invalid)"
            },
        );
    }
    // 6. Thousands of valid changes with a missing dependency.
    {
        let mut att = attacker(&rt, &a);
        let key = AuthorKey::from_seed(att.seed);
        let feed = FeedId::first(key.id());
        let mut doc = Automerge::new().with_actor(actor_of(&key.id(), 1));
        let mut pushes = Vec::new();
        for i in 0..3_000 {
            let mut tx = doc.transaction();
            tx.put(ROOT, "name", format!("v{i}")).unwrap();
            let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
            let change = doc
                .get_change_by_hash(&hash.unwrap())
                .unwrap()
                .raw_bytes()
                .to_vec();
            pushes.push(Push {
                feed,
                change,
                signed: SignedHeads::sign(&key, 0, &doc.get_heads()),
            });
        }
        let t0 = Instant::now();
        for p in pushes.iter().skip(1) {
            rt.block_on(att.publish(p.encode())).unwrap();
        }
        let sent = t0.elapsed();
        let lat = latency(&a, &b, "during missing-dependency flood").unwrap();
        unchanged("missing deps");
        let gone = rt.block_on(dropped(&mut att, a.peer, Duration::from_millis(500)));
        report.add(
            &format!(
                "2,999 changes waiting for a missing dependency (sent in {:.1} s)",
                sent.as_secs_f64()
            ),
            "0 applied (held, bounded to 10,000 per feed)",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            if gone { "yes" } else { "no (valid data)" },
        );
    }
    // 7. A flood of valid changes: its own feed, each change signed, as fast as it can.
    {
        let mut att = attacker(&rt, &a);
        let key = AuthorKey::from_seed(att.seed);
        let feed = FeedId::first(key.id());
        let mut doc = Automerge::new().with_actor(actor_of(&key.id(), 1));
        let count: usize = std::env::var("ENTRAIDE_FLOOD")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(5_000);
        let pushes: Vec<Push> = (0..count)
            .map(|i| {
                let mut tx = doc.transaction();
                if i == 0 {
                    tx.put(ROOT, "format", entraide_crdt::FORMAT).unwrap();
                }
                tx.put(ROOT, "name", format!("flood {i}")).unwrap();
                let (hash, _) = tx.commit_with(CommitOptions::default().with_time(NOW));
                let change = doc
                    .get_change_by_hash(&hash.unwrap())
                    .unwrap()
                    .raw_bytes()
                    .to_vec();
                Push {
                    feed,
                    change,
                    signed: SignedHeads::sign(&key, 0, &doc.get_heads()),
                }
            })
            .collect();
        let t0 = Instant::now();
        let mut during = Duration::ZERO;
        for (i, p) in pushes.iter().enumerate() {
            rt.block_on(att.publish(p.encode())).unwrap();
            if i == count / 2 {
                during = latency(&a, &b, "during the flood").unwrap();
            }
        }
        let took = t0.elapsed();
        let rate = pushes.len() as f64 / took.as_secs_f64() * 60.0;
        let gone = rt.block_on(dropped(&mut att, a.peer, Duration::from_millis(500)));
        unchanged("flood");
        report.add(
            &format!("flood of {count} valid signed changes in {took:.1?} ({rate:.0} per minute)"),
            "0 invalid (60 valid ones taken by gossip, then the feed is throttled)",
            during,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            if gone { "yes" } else { "no (valid data)" },
        );
    }
    // 8. Sessions opened and never answered; reconnecting in a loop.
    {
        let mut att = attacker(&rt, &a);
        let mut streams = Vec::new();
        for _ in 0..50 {
            if let Ok(s) = rt.block_on(att.open_stream(a.peer)) {
                streams.push(s);
            }
        }
        let lat = latency(&a, &b, "with silent sessions").unwrap();
        unchanged("silent sessions");
        report.add(
            &format!("{} sync sessions opened and never answered", streams.len()),
            "0",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "no (kept to one session per peer)",
        );
        drop(streams);
    }
    {
        let mut att = attacker(&rt, &a);
        for _ in 0..100 {
            rt.block_on(att.disconnect(a.peer));
            let _ = rt.block_on(att.wait_for(Seen::Closed(a.peer), Duration::from_secs(2)));
            let _ = rt.block_on(att.connect(&a.address, a.peer));
        }
        let lat = latency(&a, &b, "after a reconnect loop").unwrap();
        unchanged("reconnect loop");
        report.add(
            "100 disconnect / reconnect cycles",
            "0",
            lat,
            baseline,
            a.node.peak_rss_mib().unwrap_or(0.0),
            "no (connection limits apply)",
        );
    }

    println!(
        "\n| attack | invalid changes accepted | honest sync A→B during/after | without attack | peak memory of A | attacker disconnected |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &report.rows {
        println!("{r}");
    }
    let peak = a.node.peak_rss_mib().unwrap_or(0.0);
    assert!(peak < 300.0, "the honest node's memory grew to {peak} MiB");
}

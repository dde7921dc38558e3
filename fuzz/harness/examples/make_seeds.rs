//! Writes the seed corpus of every target into `fuzz/seeds/<target>/`: valid inputs made
//! by the real code (session frames, signed changes and pushes, saved feeds, invite codes).
//! Deterministic: running it again rewrites the same files.
//!
//! `cargo run -p entraide-fuzz-harness --example make_seeds`

use std::path::{Path, PathBuf};

use entraide_crdt::automerge::{Automerge, Change};
use entraide_crdt::wire::Push;
use entraide_crdt::{Board, Category, Feed, Kind, LocalChange, PostDraft, Session, Urgency};
use entraide_fuzz_harness::fixtures::{self, NOW, SavedFeed};
use entraide_fuzz_harness::{invite, signed_change};
use entraide_node::Multiaddr;
use entraide_node::community::{Community, Invite};

struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn new(root: &Path, target: &str) -> Self {
        let dir = root.join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("clear the old seeds");
        }
        std::fs::create_dir_all(&dir).expect("create the seed directory");
        Self { dir, count: 0 }
    }

    fn write(&mut self, name: &str, bytes: &[u8]) {
        self.count += 1;
        let path = self.dir.join(format!("{:02}-{name}", self.count));
        std::fs::write(&path, bytes).expect("write a seed");
    }
}

/// Runs a whole session between `a` and `b`, returning every frame either side sent.
fn session_frames(a: &mut Board, b: &mut Board) -> Vec<Vec<u8>> {
    let (mut sa, mut sb) = (Session::new(), Session::new());
    let mut to_b = sa.start(a).frames;
    let mut to_a = sb.start(b).frames;
    let mut all = Vec::new();
    while !to_a.is_empty() || !to_b.is_empty() {
        for frame in std::mem::take(&mut to_b) {
            to_a.extend(sb.handle_frame(b, &frame).expect("a valid session").frames);
            all.push(frame);
        }
        for frame in std::mem::take(&mut to_a) {
            to_b.extend(sa.handle_frame(a, &frame).expect("a valid session").frames);
            all.push(frame);
        }
    }
    assert_eq!(a.digest(), b.digest(), "the session converged");
    all
}

fn frame_kind(frame: &[u8]) -> &'static str {
    match entraide_crdt::wire::Frame::decode(frame) {
        Ok(entraide_crdt::wire::Frame::Hello { .. }) => "hello",
        Ok(entraide_crdt::wire::Frame::Inventory { .. }) => "inventory",
        Ok(entraide_crdt::wire::Frame::Sync { .. }) => "sync",
        Err(_) => unreachable!("the session wrote a frame it cannot read"),
    }
}

/// The prepared board and more: writes that the prepared board does not hold.
fn richer() -> (Board, Vec<LocalChange>) {
    let mut board = fixtures::prepared_board();
    let (m, k, l) = (fixtures::marie(), fixtures::karim(), fixtures::writer(3));
    let ok = "a valid write";
    let mut changes = Vec::new();
    changes.push(
        board
            .thank(&m, fixtures::first_post(), k.author(), "Merci !", NOW)
            .expect(ok),
    );
    changes.push(board.done(&m, fixtures::first_post(), NOW).expect(ok));
    let long = PostDraft {
        kind: Kind::Offer,
        category: Category::Lending,
        title: "Tools to lend".into(),
        details: "A drill, a saw, a ladder, clamps and a spirit level. ".repeat(30),
        urgency: Urgency::Whenever,
        area: "Rue des Lilas".into(),
        expires_at: None,
        on_behalf_of: None,
    };
    changes.push(board.post_new(&m, [9; 8], &long, NOW).expect(ok).1);
    changes.push(board.set_name(&l, "Léa", NOW).expect(ok));
    (board, changes)
}

fn sync_frame(root: &Path) {
    let mut seeds = Seeds::new(root, "sync_frame");
    // A fresh node joining; an up-to-date node; a node catching up on new writes.
    let scenarios: [(&str, Board, Board); 3] = [
        ("fresh", fixtures::prepared_board(), Board::new()),
        (
            "same",
            fixtures::prepared_board(),
            fixtures::prepared_board(),
        ),
        ("newer", richer().0, fixtures::prepared_board()),
    ];
    for (name, mut a, mut b) in scenarios {
        for frame in session_frames(&mut a, &mut b) {
            seeds.write(&format!("{name}-{}", frame_kind(&frame)), &frame);
        }
    }
}

fn signed_change(root: &Path) {
    let mut seeds = Seeds::new(root, "signed_change");
    let join = signed_change::join;
    // The very first change of a feed, alone: it applies to an empty board.
    let mut first = Board::new();
    let change = first
        .set_name(&fixtures::marie(), "Marie", NOW)
        .expect("a valid write");
    seeds.write(
        "first-change",
        &join(std::slice::from_ref(&change.signed), &change.change),
    );
    seeds.write("first-push", &push(&change));

    // Changes the prepared board lacks: they apply there, and wait on an empty board.
    let (board, changes) = richer();
    for (i, change) in changes.iter().enumerate() {
        seeds.write(
            &format!("new-change-{i}"),
            &join(std::slice::from_ref(&change.signed), &change.change),
        );
        seeds.write(&format!("new-push-{i}"), &push(change));
    }
    // Several changes in one batch, as a sync message carries them.
    let marie = board
        .feed(&fixtures::prepared_feed_id())
        .expect("Marie's feed");
    let batch: Vec<u8> = changes[..3].iter().flat_map(|c| c.change.clone()).collect();
    seeds.write("batch", &join(marie.signed_heads(), &batch));

    // A compressed change chunk (automerge compresses a large enough change).
    let mut long = Change::try_from(&changes[2].change[..]).expect("a change");
    let compressed = long.bytes().into_owned();
    assert_eq!(compressed[8], 2, "the long change compresses");
    seeds.write(
        "compressed-change",
        &join(&[changes[2].signed.clone()], &compressed),
    );
    seeds.write(
        "compressed-push",
        &Push {
            feed: changes[2].feed,
            change: compressed,
            signed: changes[2].signed.clone(),
        }
        .encode(),
    );

    // A whole document, as automerge sends a peer that holds nothing.
    let saved = SavedFeed::of(marie);
    seeds.write("document", &join(&saved.signed, &saved.bytes));
    // A bundle of every change.
    let doc = Automerge::load(&saved.bytes).expect("a saved document");
    let hashes: Vec<_> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
    let bundle = doc.bundle(hashes).expect("a bundle");
    seeds.write("bundle", &join(&saved.signed, bundle.bytes()));
}

fn push(change: &LocalChange) -> Vec<u8> {
    Push {
        feed: change.feed,
        change: change.change.clone(),
        signed: change.signed.clone(),
    }
    .encode()
}

fn feed_load(root: &Path) {
    let mut seeds = Seeds::new(root, "feed_load");
    for saved in fixtures::prepared() {
        seeds.write("prepared", &saved.bytes);
    }
    let (board, changes) = richer();
    let marie = board
        .feed(&fixtures::prepared_feed_id())
        .expect("Marie's feed");
    seeds.write("richer", &marie.save());
    // A feed with changes waiting for a missing dependency: document, then the changes.
    let mut waiting = fixtures::prepared_board();
    let late = &changes[1];
    waiting
        .receive(late.feed, &late.change, std::slice::from_ref(&late.signed))
        .expect("a valid change that waits");
    let feed = waiting.feed(&late.feed).expect("Marie's feed");
    assert_eq!(feed.pending_count(), 1, "the change waits");
    seeds.write("waiting", &feed.save());
    // As the node stores a feed between compactions: saved feed, then appended changes.
    let mut appended = fixtures::prepared_feed().bytes.clone();
    appended.extend_from_slice(&changes[0].change);
    appended.extend_from_slice(&changes[1].change);
    seeds.write("appended", &appended);
    // A feed holding nothing.
    seeds.write("empty", &Feed::new(fixtures::prepared_feed_id()).save());
}

fn invite(root: &Path) {
    let mut seeds = Seeds::new(root, "invite");
    let address = |s: &str| s.parse::<Multiaddr>().expect("a multiaddr");
    let invites = [
        Vec::new(),
        vec![address("/ip4/192.168.1.20/tcp/4747")],
        vec![
            address("/ip4/192.168.1.20/tcp/4747"),
            address("/ip6/fe80::1/tcp/4747"),
        ],
        vec![
            address("/ip4/10.0.0.2/tcp/4747"),
            address("/ip6/::1/tcp/4747"),
            address("/dns4/example.org/tcp/4747"),
            address("/ip4/127.0.0.1/udp/4747/quic-v1"),
        ],
    ];
    for (i, addresses) in invites.into_iter().enumerate() {
        let invite = Invite {
            community: Community::from_secret([i as u8 + 1; 32]),
            addresses,
        };
        let code = invite.encode();
        seeds.write("code", code.as_bytes());
        // As people type it: lower case, in groups.
        let typed: String = code
            .to_lowercase()
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 8 == 0).then_some(' ').into_iter().chain([c]))
            .collect();
        seeds.write("typed", typed.as_bytes());
        // The payload alone: the target adds the checksum.
        let bytes = data_encoding::BASE32_NOPAD
            .decode(&code.as_bytes()["ENTRAIDE-".len()..])
            .expect("base32");
        let payload = &bytes[..bytes.len() - 4];
        assert_eq!(invite::code_for_payload(payload), code);
        seeds.write("payload", payload);
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds");
    sync_frame(&root);
    signed_change(&root);
    feed_load(&root);
    invite(&root);
    for (target, run) in entraide_fuzz_harness::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("the seeds")
            .map(|e| e.expect("an entry").path())
            .collect();
        files.sort();
        let bytes: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).expect("a seed").len())
            .sum();
        for file in &files {
            run(&std::fs::read(file).expect("a seed"));
        }
        println!("{target}: {} seeds, {bytes} bytes", files.len());
    }
}

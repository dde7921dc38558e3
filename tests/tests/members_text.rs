//! What a hostile member can put in their own feed, against a real `entraide up`: a
//! modified client writes raw automerge changes (signed with its own key, so they are
//! valid) holding dates ten years ahead, terminal escape sequences, direction overrides,
//! invisible characters, a name that looks like a neighbour's, and two thousand open
//! posts. The honest node's board, page and command line must stay sane.
//! (docs/threat-model.md, "Text from members".)

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use entraide_crdt::automerge::transaction::{CommitOptions, Transactable, Transaction};
use entraide_crdt::automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc};
use entraide_crdt::wire::Push;
use entraide_crdt::{AuthorId, AuthorKey, FeedId, SignedHeads};
use entraide_tests::TestNode;
use entraide_tests::hostile::Attacker;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const DAY: i64 = 24 * 3600;
const YEAR: i64 = 365 * DAY;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A member's feed written by hand, as a modified client would: whatever it likes, signed
/// with its own key.
struct RawFeed {
    doc: Automerge,
    key: AuthorKey,
    author: AuthorId,
    next_nonce: u64,
}

/// What a hand-made post says.
struct RawPost<'a> {
    title: &'a str,
    details: &'a str,
    area: &'a str,
    urgency: &'a str,
    created_at: i64,
    expires_at: i64,
}

impl RawFeed {
    fn new(seed: [u8; 32]) -> Self {
        let key = AuthorKey::from_seed(seed);
        let author = key.id();
        let mut actor = author.0.to_vec();
        actor.extend_from_slice(&[1; 8]);
        Self {
            doc: Automerge::new().with_actor(ActorId::from(actor)),
            key,
            author,
            next_nonce: 1,
        }
    }

    /// One change (the first also says the feed's format), and the gossip push that
    /// carries it with a fresh signature of the feed's heads.
    fn change(&mut self, write: impl FnOnce(&mut Transaction<'_>, &mut u64)) -> Push {
        let first = self.doc.get_heads().is_empty();
        let mut nonce = self.next_nonce;
        let mut tx = self.doc.transaction();
        if first {
            tx.put(ROOT, "format", entraide_crdt::FORMAT).unwrap();
        }
        write(&mut tx, &mut nonce);
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(now()));
        self.next_nonce = nonce;
        Push {
            feed: FeedId::first(self.author),
            change: self
                .doc
                .get_change_by_hash(&hash.unwrap())
                .unwrap()
                .raw_bytes()
                .to_vec(),
            signed: SignedHeads::sign(&self.key, 0, &self.doc.get_heads()),
        }
    }
}

fn put_post(tx: &mut Transaction<'_>, nonce: &mut u64, p: &RawPost<'_>) {
    let key = format!("post:{}", hex::encode(nonce.to_be_bytes()));
    *nonce += 1;
    let post = tx.put_object(ROOT, key, ObjType::Map).unwrap();
    for (k, v) in [
        ("kind", "request"),
        ("category", "food"),
        ("title", p.title),
        ("details", p.details),
        ("urgency", p.urgency),
        ("area", p.area),
        ("state", "open"),
        ("accepted", ""),
    ] {
        tx.put(&post, k, v).unwrap();
    }
    tx.put(&post, "created_at", p.created_at).unwrap();
    tx.put(&post, "expires_at", p.expires_at).unwrap();
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < Duration::from_secs(60), "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn has_bad_chars(text: &str) -> Option<char> {
    text.chars().find(|c| {
        (c.is_control() && *c != '\n' && *c != '\t')
            || entraide_crdt::is_bidi_control(*c)
            || entraide_crdt::is_invisible(*c)
    })
}

#[test]
fn a_modified_client_s_dates_escapes_look_alike_name_and_flood_stay_harmless() {
    let mut marie = TestNode::new(BIN, "Marie");
    marie.ok(&["init", "--name", "Marie"]).unwrap();
    marie
        .up(&["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"])
        .unwrap();
    let who = marie.json(&["whoami", "--json"]).unwrap();
    let peer = who["peer_id"].as_str().unwrap().parse().unwrap();
    let address = marie.address().unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut att = Attacker::new_in(&rt, &marie.community().unwrap(), [77; 32]).unwrap();
    rt.block_on(att.connect(&address, peer)).unwrap();
    let mut feed = RawFeed::new(att.seed);
    let mallory = feed.author.to_string();
    let t = now();

    // A name that looks like Marie's (a Cyrillic "а"), and three posts: one from a clock
    // ten years ahead, one a day ahead with an expiry three months out, one full of
    // escape sequences, a direction override and invisible characters.
    let push = feed.change(|tx, nonce| {
        tx.put(ROOT, "name", "M\u{0430}rie").unwrap();
        put_post(
            tx,
            nonce,
            &RawPost {
                title: "Forever on top",
                details: "",
                area: "",
                urgency: "urgent",
                created_at: t + 10 * YEAR,
                expires_at: t + 10 * YEAR + DAY,
            },
        );
        put_post(
            tx,
            nonce,
            &RawPost {
                title: "Tomorrow's clock",
                details: "",
                area: "",
                urgency: "today",
                created_at: t + DAY,
                expires_at: t + 90 * DAY,
            },
        );
        put_post(
            tx,
            nonce,
            &RawPost {
                title: "\u{1b}[2J\u{1b}]0;pwned\u{7}Water \u{202E}gnp.exe",
                details: "line\u{1b}[31m red\u{200B}\u{2066}\nnext\rline",
                area: "B\u{200B}\u{FEFF}t A",
                urgency: "week",
                created_at: t,
                expires_at: t + 7 * DAY,
            },
        );
    });
    rt.block_on(att.publish(push.encode())).unwrap();
    wait_for("Mallory's posts reach Marie", || {
        marie
            .board()
            .is_ok_and(|b| b.iter().filter(|p| p["author"] == mallory).count() == 2)
    });

    // Dates: the post ten years ahead is held back; the day-ahead one shows as posted
    // now, and leaves on its urgency's clock, not in three months.
    let board = marie.board().unwrap();
    let mine = |title: &str| -> Value {
        board
            .iter()
            .find(|p| p["author"] == mallory && p["title"].as_str().unwrap().contains(title))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert!(
        !board.iter().any(|p| p["title"] == "Forever on top"),
        "a post ten years ahead is held back"
    );
    let ahead = mine("Tomorrow");
    let shown_at = ahead["created_at"].as_i64().unwrap();
    assert!(shown_at <= now() && shown_at >= t - 5, "{ahead}");
    let expires = ahead["expires_at"].as_i64().unwrap();
    assert!(expires <= t + 3 * DAY, "the expiry is cut: {ahead}");
    let status = marie.json(&["status", "--json"]).unwrap();
    assert_eq!(status["board"]["held_back"], 1, "{status}");

    // Text: nothing that drives a terminal or turns text around reaches any face.
    let odd = mine("Water");
    for field in ["title", "details", "area", "author_name"] {
        let text = odd[field].as_str().unwrap();
        assert_eq!(has_bad_chars(text), None, "{field}: {text:?}");
    }
    assert_eq!(odd["area"], "Bt A");
    let listed = marie.run(&["list"]);
    let shown = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(has_bad_chars(&shown), None, "entraide list: {shown:?}");
    assert!(shown.contains("Water"), "{shown}");
    let shown = String::from_utf8_lossy(&marie.run(&["show", odd["id"].as_str().unwrap()]).stdout)
        .into_owned();
    assert_eq!(has_bad_chars(&shown), None, "entraide show: {shown:?}");

    // The look-alike name is flagged on the board and in Marie's settings.
    assert_eq!(odd["author_name_lookalike"], true, "{odd}");
    let who = marie.json(&["whoami", "--json"]).unwrap();
    assert_eq!(who["name_lookalikes"][0], mallory.as_str(), "{who}");
    let page = marie.page().unwrap();
    let (_, html) = page.fetch("/").unwrap();
    assert_eq!(has_bad_chars(&html.replace('\r', "")), None);
    assert!(html.contains(r#"class="lookalike""#), "the board warns");
    let (_, settings) = page.fetch("/settings").unwrap();
    assert!(
        settings.contains(r#"id="name-lookalikes""#),
        "settings warn Marie"
    );
    // The fingerprints that tell them apart are 80 bits.
    let fp = who["fingerprint"].as_str().unwrap();
    assert_eq!(fp.len(), 24, "{fp}");

    // The real client's contact filter sees through the spaces and digits phones type.
    let csrf = page.csrf("/new").unwrap();
    for title in [
        "Appelez le 06\u{202F}12\u{202F}34\u{202F}56\u{202F}78",
        "Appelez le 06\u{A0}12\u{A0}34\u{A0}56\u{A0}78",
        "Appelez le ٠٦١٢٣٤٥٦٧٨",
        "Appelez le ０６１２３４５６７８",
        "écrire à marie＠example.org",
        "écrire à marie @ example.org",
    ] {
        let r = page
            .post("/new")
            .header("Accept-Language", "fr-FR")
            .send_form([
                ("csrf", csrf.as_str()),
                ("kind", "request"),
                ("category", "food"),
                ("title", title),
                ("urgency", "today"),
            ])
            .unwrap();
        assert_eq!(r.status().as_u16(), 422, "{title}");
    }

    // A flood: two thousand open posts, in ten changes of two hundred.
    for batch in 0..10 {
        let push = feed.change(|tx, nonce| {
            for i in 0..200 {
                let title = format!("Flood {batch}-{i}");
                put_post(
                    tx,
                    nonce,
                    &RawPost {
                        title: &title,
                        details: "",
                        area: "",
                        urgency: "whenever",
                        created_at: t,
                        expires_at: t + 20 * DAY,
                    },
                );
            }
        });
        rt.block_on(att.publish(push.encode())).unwrap();
    }
    for i in 0..3 {
        marie
            .ok(&["post", "request", "--title", &format!("Marie's own {i}")])
            .unwrap();
    }
    wait_for("the flood reaches Marie", || {
        marie
            .board()
            .is_ok_and(|b| b.iter().filter(|p| p["author"] == mallory).count() == 2002)
    });
    let (status, html) = page
        .get("/")
        .header("Accept-Language", "en")
        .call()
        .map(|mut r| {
            (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            )
        })
        .unwrap();
    assert_eq!(status, 200);
    let cards_by = |html: &str, needle: &str| html.matches(needle).count();
    let own = cards_by(&html, "Marie&#39;s own");
    let flood = cards_by(&html, "Flood ");
    eprintln!(
        "board page with 2,002 open posts by one member: {} bytes, {own} of Marie's cards, {flood} of Mallory's",
        html.len()
    );
    assert_eq!(own, 3, "everyone else's posts stay on the first page");
    assert!(
        flood <= 10,
        "at most 10 of one member's open posts: {flood}"
    );
    assert!(
        html.contains("has 1,992 more open posts"),
        "the page says how many are hidden"
    );
    assert!(html.len() < 100_000, "the page stays small: {}", html.len());
    // Looking at Mallory's posts pages through all of them, 50 at a time.
    let link = format!("/?author={mallory}");
    let (_, first) = page.fetch(&link).unwrap();
    assert_eq!(first.matches("class=\"card ").count(), 50);
    assert!(first.contains("id=\"page-next\""));
    assert!(first.contains("Page 1 sur 41") || first.contains("Page 1 of 41"));
    let (_, last) = page.fetch(&format!("{link}&page=41")).unwrap();
    assert_eq!(last.matches("class=\"card ").count(), 2002 - 40 * 50);
    assert!(last.contains("id=\"page-prev\"") && !last.contains("id=\"page-next\""));
    // An author that is not an id: a clear refusal, not every post.
    let (status, _) = page.fetch("/?author=nope").unwrap();
    assert_eq!(status, 400);
}

//! The board view filters the stored posts before it builds any view (issue 16). These
//! tests hold it to the naive board it replaced: build the view of every post from the
//! public parts of the feeds, keep those the old predicate (`Filter::matches` on a
//! `PostView`, copied here) accepts, sort, keep one post per escalation key. Random boards
//! and filters, with text in several scripts, closed and held-back posts, blocked authors,
//! responders, withdrawn responses, look-alike names and escalations.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use entraide_crdt::limits::MAX_CLOCK_AHEAD_SECS;
use entraide_crdt::{
    AuthorId, Board, Category, FeedId, Filter, Kind, PostDraft, PostId, PostState, PostView,
    ResponseView, Status, StoredPost, Urgency, Writer,
};

/// A small deterministic generator (xorshift64*): a failing seed fails the same way again.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Texts whose lowercase differs from a letter-by-letter ASCII lowercase: longer (`İ`),
/// giving ASCII (the Kelvin sign), depending on the letters around (`Σ`), or not changed
/// by uppercasing back (`ß`).
const TITLES: &[&str] = &[
    "Écrou de roue à serrer",
    "EAU minérale, six packs",
    "Des packs d'eau au 4e étage",
    "Bureau à monter",
    "Straße fermée, courses à porter",
    "STRASSE",
    "İstanbul: lettre à traduire",
    "istanbul",
    "ΣΟΦΙΑ cherche une échelle",
    "ΟΔΟΣ Σ",
    "10 \u{212A}g de pommes de terre",
    "Water to the 4th floor",
    "water",
    "Garder le chat",
    "ﬁlet de légumes",
    "Cafe\u{301} à partager",
    "Café à partager",
];
const DETAILS: &[&str] = &[
    "",
    "six bottles",
    "Merci d'avance, EAU plate de préférence.",
    "The lift is broken.",
    "Sonnez deux fois.",
    "groß et lourd",
    "ς σ Σ",
    "DİKKAT",
];
const AREAS: &[&str] = &[
    "",
    "Bât. A",
    "bât. a",
    "Résidence des Tilleuls",
    "RÉSIDENCE",
    "Building B",
    "Straße 3",
];
/// What a resident may type in the search box or the area field.
const NEEDLES: &[&str] = &[
    "",
    "   ",
    "eau",
    "EAU",
    " Eau ",
    "écrou",
    "ÉCROU",
    "ecrou",
    "bureau",
    "ss",
    "ß",
    "STRASSE",
    "straße",
    "i̇",
    "i",
    "İ",
    "istanbul",
    "σ",
    "ς",
    "Σ",
    "οσ",
    "ΣΟΦΙΑ",
    "k",
    "kg",
    "fi",
    "ﬁ",
    "é",
    "e\u{301}",
    "café",
    "water",
    "4th",
    "bât",
    "BÂT. A",
    "résidence",
    "zzz",
    "dikkat",
    "lift",
];

/// A random post as a neighbour would write it.
fn random_draft(rng: &mut Rng) -> PostDraft {
    PostDraft {
        kind: *rng.pick(&[Kind::Request, Kind::Offer]),
        category: *rng.pick(Category::ALL),
        title: rng.pick(TITLES).to_string(),
        details: rng.pick(DETAILS).to_string(),
        urgency: *rng.pick(&[
            Urgency::Urgent,
            Urgency::Today,
            Urgency::Week,
            Urgency::Whenever,
        ]),
        area: rng.pick(AREAS).to_string(),
        expires_at: None,
        on_behalf_of: None,
    }
}

/// A random board at `NOW`: its writers, and every post id written.
fn random_board(rng: &mut Rng) -> (Board, Vec<Writer>, Vec<PostId>) {
    let writers: Vec<Writer> = (1..=7).map(writer).collect();
    let mut board = Board::new();
    // Two look-alike names, one plain, one unnamed author, the rest random.
    let names = ["Marie", "marie", "Karim", "Léa", "MARIE", "Jean"];
    for w in &writers {
        if !rng.chance(5) {
            let name = rng.pick(&names).to_string();
            board.set_name(w, &name, NOW - 10_000).unwrap();
        }
    }
    let mut posts = Vec::new();
    let keys = [[1u8; 8], [2u8; 8]];
    for n in 0..40u64 {
        let w = rng.pick(&writers);
        let draft = random_draft(rng);
        let nonce = (n + 1).to_be_bytes();
        // Most posts now; some old enough to expire, some dated far ahead (held back).
        let at = match rng.below(8) {
            0 => NOW - 10 * 24 * 3600,
            1 => NOW + MAX_CLOCK_AHEAD_SECS + 3600,
            _ => NOW - rng.below(3600) as i64,
        };
        let written = if rng.chance(6) {
            board.post_escalation(w, nonce, &draft, *rng.pick(&keys), at)
        } else {
            board.post_new(w, nonce, &draft, at)
        };
        let (id, _) = written.unwrap_or_else(|e| panic!("{draft:?}: {e}"));
        posts.push(id);
    }
    for &post in &posts {
        for helper in &writers {
            if rng.chance(5) {
                // Refused when it is the helper's own post or a closed one: fine.
                let message = rng.pick(DETAILS).to_string();
                let _ = board.respond(helper, post, &message, NOW - 50);
                if rng.chance(4) {
                    let feed = FeedId::first(helper.author());
                    let _ = board
                        .feed_mut(feed)
                        .withdraw_response(helper, post, NOW - 40);
                }
            }
        }
        let Some(view) = board.post(post, NOW - 30) else {
            continue;
        };
        let author = writers.iter().find(|w| w.author() == view.author).unwrap();
        if let Some(r) = view.responses.first()
            && rng.chance(2)
        {
            let _ = board.accept(author, post, r.helper, NOW - 20);
            if rng.chance(2) {
                let _ = board.thank(author, post, r.helper, "Merci !", NOW - 15);
            }
        }
        match rng.below(6) {
            0 => drop(board.done(author, post, NOW - 10)),
            1 => drop(board.withdraw(author, post, NOW - 10)),
            _ => {}
        }
    }
    (board, writers, posts)
}

fn random_filter(rng: &mut Rng, writers: &[Writer]) -> Filter {
    let someone = |rng: &mut Rng| rng.pick(writers).author();
    Filter {
        kind: rng
            .chance(4)
            .then(|| *rng.pick(&[Kind::Request, Kind::Offer])),
        category: rng.chance(3).then(|| *rng.pick(Category::ALL)),
        urgency: rng.chance(4).then(|| {
            *rng.pick(&[
                Urgency::Urgent,
                Urgency::Today,
                Urgency::Week,
                Urgency::Whenever,
            ])
        }),
        area: rng.chance(3).then(|| rng.pick(NEEDLES).to_string()),
        text: rng.chance(2).then(|| rng.pick(NEEDLES).to_string()),
        author: rng.chance(5).then(|| someone(rng)),
        responder: rng.chance(5).then(|| someone(rng)),
        include_closed: rng.chance(2),
        blocked: if rng.chance(3) {
            (0..1 + rng.below(2)).map(|_| someone(rng)).collect()
        } else {
            BTreeSet::new()
        },
    }
}

/// The old predicate, word for word: it judged the view built of every post.
fn old_matches(filter: &Filter, post: &PostView) -> bool {
    let contains = |haystack: &str, needle: &str| {
        haystack
            .to_lowercase()
            .contains(&needle.trim().to_lowercase())
    };
    (filter.include_closed || post.status.is_live())
        && !filter.blocked.contains(&post.author)
        && filter.kind.is_none_or(|k| post.kind == k)
        && filter.category.is_none_or(|c| post.category == c)
        && filter.urgency.is_none_or(|u| post.urgency == u)
        && filter.author.is_none_or(|a| post.author == a)
        && filter
            .responder
            .is_none_or(|r| post.responses.iter().any(|resp| resp.helper == r))
        && filter
            .area
            .as_deref()
            .is_none_or(|a| contains(&post.area, a))
        && filter
            .text
            .as_deref()
            .is_none_or(|t| contains(&post.title, t) || contains(&post.details, t))
}

fn expiry(post: &StoredPost) -> i64 {
    post.expires_at
        .min(post.created_at.saturating_add(post.urgency.max_lifetime()))
}

fn status(post: &StoredPost, now: i64) -> Status {
    match post.state {
        PostState::Withdrawn => Status::Withdrawn,
        PostState::Done => Status::Done,
        PostState::Open if now >= expiry(post) => Status::Expired,
        PostState::Open if post.accepted.is_some() => Status::Accepted,
        PostState::Open => Status::Open,
    }
}

fn rank(u: Urgency) -> u8 {
    match u {
        Urgency::Urgent => 0,
        Urgency::Today => 1,
        Urgency::Week => 2,
        Urgency::Whenever => 3,
    }
}

/// The view of every post of the board at `now`, built from the public parts of the
/// feeds, each post with whether it is held back. (These boards have no stewards: no
/// author is excluded or succeeded.)
fn every_view(board: &Board, now: i64) -> Vec<(PostView, bool)> {
    let lookalike = |a: &AuthorId| !board.lookalikes(a).is_empty();
    let feeds: Vec<_> = board
        .members()
        .iter()
        .filter_map(|a| board.current_feed(a))
        .collect();
    let mut all = Vec::new();
    for feed in &feeds {
        let author = feed.id().author;
        for post in feed.content().posts.values() {
            let mut responses: Vec<ResponseView> = feeds
                .iter()
                .flat_map(|f| {
                    let helper = f.id().author;
                    f.content()
                        .responses
                        .values()
                        .filter(move |r| !r.withdrawn && r.post == post.id && r.to == author)
                        .map(move |r| ResponseView {
                            helper,
                            helper_name: board.name_of(&helper),
                            helper_name_lookalike: lookalike(&helper),
                            message: r.message.clone(),
                            at: r.at.min(now),
                        })
                })
                .collect();
            responses.sort_by(|a, b| a.at.cmp(&b.at).then(a.helper.cmp(&b.helper)));
            let view = PostView {
                id: post.id,
                author,
                author_name: feed.content().name.clone(),
                author_name_lookalike: lookalike(&author),
                author_now: None,
                kind: post.kind,
                category: post.category,
                title: post.title.clone(),
                details: post.details.clone(),
                urgency: post.urgency,
                area: post.area.clone(),
                created_at: post.created_at.min(now),
                expires_at: expiry(post),
                status: status(post, now),
                accepted: post.accepted,
                responses,
                thanks: post.thanks.iter().map(|(h, m)| (*h, m.clone())).collect(),
                escalation: post.escalation.map(hex::encode),
                on_behalf_of: post.on_behalf_of.clone(),
            };
            all.push((view, post.created_at > now + MAX_CLOCK_AHEAD_SECS));
        }
    }
    all
}

/// What the board showed before issue 16: every view, the old predicate, board order, one
/// post per escalation key (a live one first, then the smallest id); and how many matching
/// posts were held back.
fn naive(all: &[(PostView, bool)], filter: &Filter) -> (Vec<PostView>, usize) {
    let matching: Vec<&(PostView, bool)> =
        all.iter().filter(|(v, _)| old_matches(filter, v)).collect();
    let held_back = matching.iter().filter(|(_, held)| *held).count();
    let mut shown: Vec<PostView> = matching
        .into_iter()
        .filter(|(_, held)| !held)
        .map(|(v, _)| v.clone())
        .collect();
    shown.sort_by(|a, b| {
        (!a.status.is_live())
            .cmp(&!b.status.is_live())
            .then(rank(a.urgency).cmp(&rank(b.urgency)))
            .then(b.created_at.cmp(&a.created_at))
            .then(a.id.cmp(&b.id))
    });
    let mut chosen: BTreeMap<String, (bool, PostId)> = BTreeMap::new();
    for p in &shown {
        if let Some(key) = &p.escalation {
            let candidate = (!p.status.is_live(), p.id);
            let c = chosen.entry(key.clone()).or_insert(candidate);
            *c = (*c).min(candidate);
        }
    }
    shown.retain(|p| p.escalation.as_ref().is_none_or(|k| chosen[k].1 == p.id));
    (shown, held_back)
}

#[test]
fn the_filtered_board_is_the_naive_board_for_random_boards_and_filters() {
    let (mut checked, mut nonempty, mut texts) = (0, 0, 0);
    for seed in 1..=6u64 {
        let mut rng = Rng::new(seed);
        let (board, writers, _) = random_board(&mut rng);
        let all = every_view(&board, NOW);
        for n in 0..400 {
            let filter = random_filter(&mut rng, &writers);
            let (want, held_back) = naive(&all, &filter);
            let got = board.view(&filter, NOW);
            assert_eq!(got, want, "seed {seed}, filter {n}: {filter:?}");
            let page = board.page(&filter, NOW, 0, usize::MAX);
            assert_eq!(
                page.held_back, held_back,
                "seed {seed}, filter {n}: {filter:?}"
            );
            checked += 1;
            nonempty += usize::from(!got.is_empty());
            texts += usize::from(!got.is_empty() && filter.text.is_some());
        }
    }
    // The boards and filters are varied enough to say something.
    assert_eq!(checked, 2400);
    assert!(nonempty > 600, "only {nonempty} filters showed posts");
    assert!(texts > 100, "only {texts} text filters showed posts");
}

#[test]
fn one_post_is_the_post_the_whole_board_shows() {
    for seed in 11..=14u64 {
        let mut rng = Rng::new(seed);
        let (board, _, posts) = random_board(&mut rng);
        let all = every_view(&board, NOW);
        let everything = Filter {
            include_closed: true,
            ..Filter::default()
        };
        let (shown, _) = naive(&all, &everything);
        let mut hidden = 0;
        for id in posts.iter().chain([&PostId([0xAB; 8])]) {
            let want = shown.iter().find(|p| p.id == *id).cloned();
            hidden += usize::from(want.is_none());
            assert_eq!(board.post(*id, NOW), want, "seed {seed}, post {id}");
        }
        // Held-back posts and escalation duplicates are not found, as before.
        assert!(hidden > 1, "seed {seed}: every post was found");
    }
}

/// The text filter's meaning, one case per way lowercasing can surprise.
#[test]
fn text_filters_mean_what_lowercasing_means() {
    let marie = writer(1);
    let mut board = Board::new();
    let titles = [
        "Écrou de roue",
        "EAU minérale",
        "Straße fermée",
        "İstanbul",
        "ΟΔΟΣ",
        "10 \u{212A}g",
        "Bureau",
    ];
    for (n, title) in titles.iter().enumerate() {
        let d = PostDraft {
            title: title.to_string(),
            details: String::new(),
            ..draft("")
        };
        board.post_new(&marie, [n as u8 + 1; 8], &d, NOW).unwrap();
    }
    let found = |q: &str| -> BTreeSet<String> {
        let filter = Filter {
            text: Some(q.into()),
            ..Filter::default()
        };
        board
            .view(&filter, NOW)
            .into_iter()
            .map(|p| p.title)
            .collect()
    };
    let set = |ts: &[&str]| -> BTreeSet<String> { ts.iter().map(|t| t.to_string()).collect() };
    assert_eq!(found(" eau "), set(&["EAU minérale", "Bureau"]));
    assert_eq!(found("ÉCROU"), set(&["Écrou de roue"]));
    assert_eq!(found("ecrou"), set(&[]), "accents matter");
    assert_eq!(
        found("STRASSE"),
        set(&[]),
        "ß lowercases to itself, not to ss"
    );
    assert_eq!(found("ß"), set(&["Straße fermée"]));
    // `İ` lowercases to `i` and a combining dot: `i` alone is found in it.
    assert_eq!(found("i"), set(&["İstanbul", "EAU minérale"]));
    // A capital sigma at the end of a word lowercases to a final sigma (`ς`), not `σ`,
    // in the title and in the text typed alike.
    assert_eq!(found("\u{3bf}\u{3b4}\u{3bf}\u{3c3}"), set(&[]), "οδοσ");
    assert_eq!(
        found("\u{3bf}\u{3b4}\u{3bf}\u{3c2}"),
        set(&["ΟΔΟΣ"]),
        "οδος"
    );
    assert_eq!(found("ΟΔΟΣ"), set(&["ΟΔΟΣ"]));
    assert_eq!(found("\u{3c3}"), set(&[]), "σ");
    assert_eq!(found("\u{3c2}"), set(&["ΟΔΟΣ"]), "ς");
    // The Kelvin sign lowercases to an ASCII k.
    assert_eq!(found("kg"), set(&["10 \u{212A}g"]));
    assert_eq!(found("K"), set(&["10 \u{212A}g"]));
    assert_eq!(
        found("   ").len(),
        titles.len(),
        "blank text matches everything"
    );
}

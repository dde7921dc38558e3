//! Property: 3 to 5 replicas making random posts, responses, accepts, done and withdrawals,
//! with pushes delivered in random order (duplicated, reordered, some never) and sessions
//! between random pairs, all reach the identical board once everyone has synced.

mod common;

use common::*;
use entraide_crdt::{Board, Filter, LocalChange, PostId, Writer};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Post {
        by: usize,
        nonce: u8,
    },
    Respond {
        by: usize,
        post: usize,
    },
    Accept {
        by: usize,
        post: usize,
        helper: usize,
    },
    Done {
        by: usize,
        post: usize,
    },
    Withdraw {
        by: usize,
        post: usize,
    },
    /// Deliver pushed change number `change` (modulo the pool) to replica `to`.
    Deliver {
        change: usize,
        to: usize,
    },
    Sync {
        a: usize,
        b: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..5usize;
    prop_oneof![
        3 => (r.clone(), any::<u8>()).prop_map(|(by, nonce)| Op::Post { by, nonce }),
        3 => (r.clone(), any::<usize>()).prop_map(|(by, post)| Op::Respond { by, post }),
        2 => (r.clone(), any::<usize>(), r.clone()).prop_map(|(by, post, helper)| Op::Accept { by, post, helper }),
        1 => (r.clone(), any::<usize>()).prop_map(|(by, post)| Op::Done { by, post }),
        1 => (r.clone(), any::<usize>()).prop_map(|(by, post)| Op::Withdraw { by, post }),
        5 => (any::<usize>(), r.clone()).prop_map(|(change, to)| Op::Deliver { change, to }),
        2 => (r.clone(), r).prop_map(|(a, b)| Op::Sync { a, b }),
    ]
}

struct World {
    writers: Vec<Writer>,
    boards: Vec<Board>,
    pushes: Vec<LocalChange>,
    posts: Vec<PostId>,
}

impl World {
    fn new(n: usize) -> Self {
        Self {
            writers: (0..n).map(|i| writer(i as u8 + 1)).collect(),
            boards: (0..n).map(|_| Board::new()).collect(),
            pushes: Vec::new(),
            posts: Vec::new(),
        }
    }

    fn pick_post(&self, i: usize) -> Option<PostId> {
        (!self.posts.is_empty()).then(|| self.posts[i % self.posts.len()])
    }

    fn run(&mut self, op: &Op, step: i64) {
        let n = self.boards.len();
        let now = NOW + step;
        let record = |pushes: &mut Vec<LocalChange>, r: Result<LocalChange, _>| {
            if let Ok(change) = r {
                pushes.push(change);
            }
        };
        match *op {
            Op::Post { by, nonce } => {
                let by = by % n;
                let title = format!("help {nonce} from {by}");
                if let Ok((id, change)) = self.boards[by].post_new(
                    &self.writers[by],
                    [nonce, by as u8, step as u8, 0, 0, 0, 0, 1],
                    &draft(&title),
                    now,
                ) {
                    self.posts.push(id);
                    self.pushes.push(change);
                }
            }
            Op::Respond { by, post } => {
                let by = by % n;
                if let Some(post) = self.pick_post(post) {
                    let r = self.boards[by].respond(&self.writers[by], post, "I can help", now);
                    record(&mut self.pushes, r);
                }
            }
            Op::Accept { by, post, helper } => {
                let by = by % n;
                if let Some(post) = self.pick_post(post) {
                    let helper = self.writers[helper % n].author();
                    let r = self.boards[by].accept(&self.writers[by], post, helper, now);
                    record(&mut self.pushes, r);
                }
            }
            Op::Done { by, post } => {
                let by = by % n;
                if let Some(post) = self.pick_post(post) {
                    let r = self.boards[by].done(&self.writers[by], post, now);
                    record(&mut self.pushes, r);
                }
            }
            Op::Withdraw { by, post } => {
                let by = by % n;
                if let Some(post) = self.pick_post(post) {
                    let r = self.boards[by].withdraw(&self.writers[by], post, now);
                    record(&mut self.pushes, r);
                }
            }
            Op::Deliver { change, to } => {
                if self.pushes.is_empty() {
                    return;
                }
                let push = &self.pushes[change % self.pushes.len()];
                // An honest push is never refused, whatever order it arrives in.
                self.boards[to % n]
                    .receive(push.feed, &push.change, std::slice::from_ref(&push.signed))
                    .expect("an honest push is accepted");
            }
            Op::Sync { a, b } => {
                let (a, b) = (a % n, b % n);
                if a == b {
                    return;
                }
                let (lo, hi) = (a.min(b), a.max(b));
                let (left, right) = self.boards.split_at_mut(hi);
                sync_pair(&mut left[lo], &mut right[0]).expect("honest sessions succeed");
            }
        }
    }

    fn settle(&mut self) {
        let n = self.boards.len();
        for _ in 0..2 {
            for i in 0..n {
                let j = (i + 1) % n;
                let (lo, hi) = (i.min(j), i.max(j));
                let (left, right) = self.boards.split_at_mut(hi);
                sync_pair(&mut left[lo], &mut right[0]).expect("honest sessions succeed");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_to_the_same_board(
        replicas in 3usize..=5,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let mut world = World::new(replicas);
        for (step, op) in ops.iter().enumerate() {
            world.run(op, step as i64);
        }
        world.settle();
        let everything = Filter { include_closed: true, ..Filter::default() };
        let later = NOW + 1_000;
        let first_view = world.boards[0].view(&everything, later);
        let first_digest = world.boards[0].digest();
        for board in &world.boards[1..] {
            prop_assert_eq!(board.digest(), first_digest);
            prop_assert_eq!(&board.view(&everything, later), &first_view);
        }
        // Every post made is on every board.
        prop_assert_eq!(first_view.len(), world.posts.len());
        // What each feed says, kept up to date change by change, equals a fresh reading of
        // the whole document.
        for board in &world.boards {
            for feed in board.feeds() {
                let fresh = entraide_crdt::Feed::load(feed.id(), &feed.save(), vec![]).unwrap();
                prop_assert_eq!(fresh.content(), feed.content());
            }
        }
    }
}

/// One post as a modified client may write it: any author, a clock off by up to ten years
/// either way, any urgency, any expiry, any state.
#[derive(Clone, Debug)]
struct SkewedPost {
    by: usize,
    skew: i64,
    urgency: usize,
    lifetime: i64,
    state: usize,
}

/// A response with a skewed clock to one of the posts.
#[derive(Clone, Debug)]
struct SkewedResponse {
    by: usize,
    post: usize,
    skew: i64,
}

const DAY: i64 = 24 * 3600;
const YEAR: i64 = 365 * DAY;

fn skew() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(10 * YEAR),
        Just(-10 * YEAR),
        -3 * DAY..3 * DAY,
        (2 * DAY - 5)..(2 * DAY + 5),
    ]
}

fn skewed_post() -> impl Strategy<Value = SkewedPost> {
    (0..4usize, skew(), 0..4usize, -DAY..200 * DAY, 0..3usize).prop_map(
        |(by, skew, urgency, lifetime, state)| SkewedPost {
            by,
            skew,
            urgency,
            lifetime,
            state,
        },
    )
}

fn skewed_response() -> impl Strategy<Value = SkewedResponse> {
    (0..4usize, any::<usize>(), skew()).prop_map(|(by, post, skew)| SkewedResponse {
        by,
        post,
        skew,
    })
}

/// The changes of four raw feeds (names that look alike, skewed posts and responses),
/// each with the signature its author made right after it, in the order they were made.
fn skewed_changes(
    posts: &[SkewedPost],
    responses: &[SkewedResponse],
) -> Vec<(entraide_crdt::FeedId, Vec<u8>, entraide_crdt::SignedHeads)> {
    use entraide_crdt::automerge::ScalarValue;
    use entraide_crdt::{AuthorKey, FeedId};
    let keys: Vec<AuthorKey> = (0..4u8)
        .map(|i| AuthorKey::from_seed([i + 40; 32]))
        .collect();
    let mut raws: Vec<RawFeed> = keys.iter().map(|k| RawFeed::new(actor(k, 1))).collect();
    let mut out = Vec::new();
    let names = ["Marie", "M\u{0430}rie", "Karim", "marie\u{200B}"];
    for (i, name) in names.iter().enumerate() {
        let change = raws[i].put("name", name);
        out.push((
            FeedId::first(keys[i].id()),
            change,
            raws[i].signed_by(&keys[i]),
        ));
    }
    let mut ids = Vec::new();
    for (n, p) in posts.iter().enumerate() {
        let created = NOW + p.skew;
        let urgency = ["urgent", "today", "week", "whenever"][p.urgency];
        let mut fields = post_fields("help", urgency, created, created + p.lifetime);
        fields[6].1 = ScalarValue::Str(["open", "done", "withdrawn"][p.state].into());
        let nonce = (n as u64).to_be_bytes();
        let change = raws[p.by].put_map(&format!("post:{:016x}", n as u64), &fields, &[]);
        out.push((
            FeedId::first(keys[p.by].id()),
            change,
            raws[p.by].signed_by(&keys[p.by]),
        ));
        ids.push((keys[p.by].id(), PostId::derive(&keys[p.by].id(), &nonce)));
    }
    for r in responses {
        if ids.is_empty() {
            break;
        }
        let (to, post) = ids[r.post % ids.len()];
        let change = raws[r.by].put_map(
            &format!("response:{post}"),
            &[
                ("to", ScalarValue::Str(to.to_string().into())),
                ("message", ScalarValue::Str("I can help".into())),
                ("at", ScalarValue::Int(NOW + r.skew)),
            ],
            &[],
        );
        out.push((
            FeedId::first(keys[r.by].id()),
            change,
            raws[r.by].signed_by(&keys[r.by]),
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Issue 10, point 8: whatever the clocks say, two boards holding the same feeds show
    /// the same board at the same "now", whatever order the changes came in, and no shown
    /// date escapes the bounds.
    #[test]
    fn boards_agree_on_skewed_clocks_whatever_the_delivery_order(
        (changes, order) in (
            proptest::collection::vec(skewed_post(), 1..25),
            proptest::collection::vec(skewed_response(), 0..10),
        )
            .prop_flat_map(|(posts, responses)| {
                let changes = skewed_changes(&posts, &responses);
                let order: Vec<usize> = (0..changes.len()).collect();
                (Just(changes), Just(order).prop_shuffle())
            }),
        offsets in proptest::collection::vec(prop_oneof![
            -3 * DAY..3 * DAY,
            Just(10 * YEAR - 2 * DAY),
            90 * DAY..100 * DAY,
        ], 1..4),
    ) {
        use entraide_crdt::limits::MAX_CLOCK_AHEAD_SECS;
        let (mut in_order, mut shuffled) = (Board::new(), Board::new());
        for (feed, change, signed) in &changes {
            in_order.receive(*feed, change, std::slice::from_ref(signed)).expect("honest order");
        }
        for &i in &order {
            let (feed, change, signed) = &changes[i];
            shuffled.receive(*feed, change, std::slice::from_ref(signed)).expect("any order");
        }
        prop_assert_eq!(in_order.digest(), shuffled.digest());
        let everything = Filter { include_closed: true, ..Filter::default() };
        for offset in offsets {
            let now = NOW + offset;
            let view = in_order.view(&everything, now);
            prop_assert_eq!(&shuffled.view(&everything, now), &view);
            prop_assert_eq!(
                shuffled.page(&Filter::default(), now, 0, 50),
                in_order.page(&Filter::default(), now, 0, 50)
            );
            prop_assert_eq!(shuffled.stats(now), in_order.stats(now));
            for p in &view {
                prop_assert!(p.created_at <= now);
                prop_assert!(
                    p.expires_at <= now + MAX_CLOCK_AHEAD_SECS + p.urgency.max_lifetime()
                );
                if p.created_at < now {
                    // Not clamped: the lifetime counts from the date shown.
                    prop_assert!(p.expires_at <= p.created_at + p.urgency.max_lifetime());
                }
                prop_assert!(p.responses.iter().all(|r| r.at <= now));
                // The look-alike names are flagged: Marie and her three doubles.
                prop_assert_eq!(p.author_name_lookalike, p.author_name.as_deref() != Some("Karim"));
            }
        }
    }
}

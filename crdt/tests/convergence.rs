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

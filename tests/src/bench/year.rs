//! Scenario 8, a year of a neighbourhood (issue 16): `posts` posts from `authors` authors
//! over 52 weeks of a driven clock (timestamps, no waiting), 70 % of them closed by their
//! author (done, or withdrawn) at a simulated time within the post's lifetime, the others
//! left to expire. One node is measured on that store (disk, memory, cold start, a filtered
//! list); then retention runs at the end of the year, every author's
//! [`Board::compact`](entraide_crdt::Board::compact), each new epoch is saved whole in
//! the node's store and the epoch it replaces removed (`Store::remove_feed`, as a node
//! removes a replaced epoch; a node writes its own new epoch change by change and receives
//! the others' through sync, which this does not measure), and the node is measured again.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use entraide_crdt::{Board, FeedId, PostDraft, PostId, PostState, Writer};
use entraide_node::data_dir::DataDir;
use entraide_node::store::{RECLAIM_SLACK_BYTES, Store};

use super::corpus::{self, Rng};
use super::one_node::{self, program_node};
use super::scenarios::{PROGRESS_EVERY, community};
use super::{Row, dir_size, prepare_data_dir, progress, row, temp_dir};

/// A week, in seconds.
const WEEK: i64 = 7 * 24 * 3600;
/// The length of the year simulated, in weeks.
const WEEKS: i64 = 52;
/// Out of ten posts, how many their author closes (done or withdrawn).
const CLOSED_IN_TEN: usize = 7;
/// One closed post in this many is withdrawn; the others are done.
const WITHDRAWN_ONE_IN: usize = 5;

/// One thing that happens during the year.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// Post number `i` is written.
    Post(usize),
    /// Post number `i` is closed.
    Close(usize, PostState),
}

/// The board at the end of the year, and who wrote it.
struct Year {
    board: Board,
    writers: Vec<Writer>,
    closed: usize,
    withdrawn: usize,
}

/// Writes the year: every post at its time, and its closing, in time order. The year ends
/// at `end`.
fn simulate(posts: usize, authors: usize, end: i64, start: Instant) -> Result<Year> {
    let begin = end - WEEKS * WEEK;
    let mut rng = Rng::new(365);
    let writers = corpus::writers(&mut rng, authors);
    let mut board = Board::new();
    for w in &writers {
        corpus::name_once(&mut board, w, begin);
    }
    let mut drafts: Vec<Option<(PostDraft, [u8; 8])>> = Vec::with_capacity(posts);
    let mut events: Vec<(i64, Event)> = Vec::with_capacity(posts * 2);
    let (mut closed, mut withdrawn) = (0, 0);
    for i in 0..posts {
        // Evenly over the year, the last one before its end.
        let at = begin + ((WEEKS * WEEK) as f64 * i as f64 / posts as f64) as i64;
        let draft = corpus::draft(&mut rng);
        if rng.below(10) < CLOSED_IN_TEN {
            // Closed within the post's usual lifetime: today's the same day, a week's within
            // the week, and before the year ends.
            let lifetime = usize::try_from(draft.urgency.default_lifetime()).unwrap_or(1);
            let closes = (at + 60 + rng.below(lifetime) as i64).min(end - 1).max(at);
            let state = if rng.below(WITHDRAWN_ONE_IN) == 0 {
                withdrawn += 1;
                PostState::Withdrawn
            } else {
                PostState::Done
            };
            closed += 1;
            events.push((closes, Event::Close(i, state)));
        }
        events.push((at, Event::Post(i)));
        drafts.push(Some((draft, rng.bytes8())));
    }
    // In time order; at the same second a post comes before its closing.
    events.sort_by_key(|&(at, e)| (at, matches!(e, Event::Close(..))));
    let mut ids: Vec<Option<PostId>> = vec![None; posts];
    let mut written = 0;
    for (at, event) in events {
        match event {
            Event::Post(i) => {
                let w = &writers[i % authors];
                let (draft, nonce) = drafts[i].take().context("a post written twice")?;
                // The feed directly: no compaction has run yet, so it is the first epoch.
                let (id, _) = board
                    .feed_mut(FeedId::first(w.author()))
                    .create_post(w, nonce, &draft, at)?;
                ids[i] = Some(id);
                written += 1;
                if written % PROGRESS_EVERY == 0 && written < posts {
                    progress(
                        start,
                        &format!(
                            "year: week {} of {WEEKS}: {written} of {posts} posts written ({authors} authors)",
                            (at - begin) / WEEK + 1
                        ),
                    );
                }
            }
            Event::Close(i, state) => {
                let w = &writers[i % authors];
                let id = ids[i].context("a post closed before it was written")?;
                board
                    .feed_mut(FeedId::first(w.author()))
                    .close(w, id, state, at)?;
            }
        }
    }
    Ok(Year {
        board,
        writers,
        closed,
        withdrawn,
    })
}

/// 8. A year of a neighbourhood, retention run at its end.
pub fn year(posts: usize, authors: usize, lists: usize, start: Instant) -> Result<Vec<Row>> {
    // The node reads the real clock: the year ends now.
    let end = super::now();
    progress(
        start,
        &format!(
            "year: writing {posts} posts from {authors} authors over {WEEKS} weeks, 70 % closed"
        ),
    );
    let Year {
        mut board,
        writers,
        closed,
        withdrawn,
    } = simulate(posts, authors, end, start)?;
    let scenario = format!(
        "8. a year: {posts} posts from {authors} authors over {WEEKS} weeks, {closed} closed ({withdrawn} withdrawn)"
    );
    let mut node = program_node("year")?;
    progress(start, "year: saving the feeds in the node's store");
    prepare_data_dir(node.data_dir(), &community(80), [8; 32], Some(&board))?;
    let stats_before = board.stats(end);
    let (before, floors_before) = one_node::measure(
        &mut node,
        &board,
        end,
        lists,
        "year, before retention",
        start,
    )?;

    progress(
        start,
        "year: retention at the end of the year: compacting every author's feed",
    );
    let t0 = Instant::now();
    let mut compactions = Vec::new();
    for w in &writers {
        compactions.extend(board.compact(w, end)?);
    }
    let compacting = t0.elapsed();
    let dropped: usize = compactions.iter().map(|c| c.dropped).sum();
    progress(
        start,
        &format!(
            "year: {} feeds compacted, {dropped} entries left out; updating the store",
            compactions.len()
        ),
    );
    // Each new epoch saved with its snapshot (as a node stores it once received, before
    // it stops), then the one it replaces removed.
    let t0 = Instant::now();
    let mut store = Store::open(&DataDir::new(node.data_dir()).db_path())?;
    for c in &compactions {
        let feed = board.feed(&c.to).context("the new epoch is on the board")?;
        let saved = store.save_feed(feed)?;
        store.save_snapshot(feed, &saved)?;
    }
    for id in board.take_dropped_epochs() {
        store.remove_feed(&id)?;
    }
    store.flush()?;
    let storing = t0.elapsed();
    // Then, as a node does after removing epochs, the space sled keeps of them given back.
    let t0 = Instant::now();
    let reclaimed = store.reclaim_space(RECLAIM_SLACK_BYTES)?;
    let reclaiming = t0.elapsed();
    drop(store);
    let stats_after = board.stats(end);
    super::scenarios::keep_store(node.data_dir(), start)?;
    let (after, floors_after) = one_node::measure(
        &mut node,
        &board,
        end,
        lists,
        "year, after retention",
        start,
    )?;
    // The same feeds in a store that never held the old epochs: what sled keeps of them.
    let fresh = temp_dir("year-fresh")?;
    prepare_data_dir(fresh.path(), &community(80), [9; 32], Some(&board))?;
    let fresh_disk = dir_size(fresh.path());

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut rows = vec![row(
        &scenario,
        &format!(
            "before retention: posts stored ({} live at the year's end)",
            stats_before.live_posts
        ),
        stats_before.posts as f64,
        "posts",
        None,
        "-",
    )];
    rows.extend(one_node::rows(
        &scenario,
        "before retention: ",
        &before,
        &floors_before,
    ));
    rows.push(row(
        &scenario,
        &format!(
            "retention: every author's feed compacted ({} feeds, {dropped} entries left out), in the harness",
            compactions.len()
        ),
        ms(compacting),
        "ms",
        None,
        "-",
    ));
    rows.push(row(
        &scenario,
        "retention: the new epochs saved and the old ones removed from the store",
        ms(storing),
        "ms",
        None,
        "-",
    ));
    let (from, to) = reclaimed.map_or((0.0, 0.0), |(b, a)| (mib(b), mib(a)));
    rows.push(row(
        &scenario,
        &format!(
            "retention: the store rewritten to give back the space of what was removed ({}: {from:.1} to {to:.1} MiB)",
            if reclaimed.is_some() { "done" } else { "not needed" }
        ),
        ms(reclaiming),
        "ms",
        None,
        "-",
    ));
    rows.push(row(
        &scenario,
        &format!(
            "after retention: posts stored ({} live)",
            stats_after.live_posts
        ),
        stats_after.posts as f64,
        "posts",
        Some((stats_before.posts as f64, "before retention")),
        "-",
    ));
    rows.extend(one_node::rows(
        &scenario,
        "after retention: ",
        &after,
        &floors_after,
    ));
    rows.push(row(
        &scenario,
        "after retention: disk used by the same feeds in a new store",
        mib(fresh_disk),
        "MiB",
        Some((mib(floors_after.saved), "automerge save() of the feeds")),
        "-",
    ));
    Ok(rows)
}

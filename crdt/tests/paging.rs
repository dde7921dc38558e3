//! Paging the board and the per-author cap (issue 10, point 12): one member posting
//! thousands of requests cannot bury everyone else's.

mod common;

use std::collections::BTreeSet;

use common::*;
use entraide_crdt::limits::{BOARD_PAGE_SIZE, MAX_OPEN_POSTS_SHOWN_PER_AUTHOR};
use entraide_crdt::{Board, Filter, PostId};

const FLOOD: usize = 2_000;

/// Karim posts 2,000 requests (a second apart), Marie 3, Léa responds to one of Marie's.
fn flooded() -> (Board, Vec<PostId>, Vec<PostId>) {
    let (marie, karim, lea) = (writer(1), writer(2), writer(3));
    let mut board = Board::new();
    board.set_name(&karim, "Karim", NOW).unwrap();
    let mut karims = Vec::new();
    for i in 0..FLOOD {
        let nonce = (i as u64).to_be_bytes();
        let (id, _) = board
            .post_new(
                &karim,
                nonce,
                &draft(&format!("request {i}")),
                NOW + i as i64,
            )
            .unwrap();
        karims.push(id);
    }
    let mut maries = Vec::new();
    for i in 0..3u8 {
        let (id, _) = board
            .post_new(
                &marie,
                [0xAA, i, 0, 0, 0, 0, 0, 0],
                &draft("Water"),
                NOW + i as i64,
            )
            .unwrap();
        maries.push(id);
    }
    board.respond(&lea, maries[0], "", NOW).unwrap();
    (board, karims, maries)
}

#[test]
fn one_author_posting_2000_requests_fills_ten_places_and_the_page_says_how_many_more() {
    let (board, karims, maries) = flooded();
    let karim = writer(2).author();
    let now = NOW + FLOOD as i64;

    let page = board.page(&Filter::default(), now, 0, BOARD_PAGE_SIZE);
    assert_eq!(page.total, MAX_OPEN_POSTS_SHOWN_PER_AUTHOR + 3);
    assert_eq!(page.posts.len(), 13);
    assert_eq!(page.offset, 0);
    assert_eq!(page.held_back, 0);
    assert_eq!(page.capped.len(), 1);
    assert_eq!(page.capped[0].author, karim);
    assert_eq!(page.capped[0].author_name.as_deref(), Some("Karim"));
    assert_eq!(
        page.capped[0].hidden,
        FLOOD - MAX_OPEN_POSTS_SHOWN_PER_AUTHOR
    );
    // Karim's posts that stay are his first ten in board order (his newest), and the
    // page keeps board order.
    let full = board.view(&Filter::default(), now);
    assert_eq!(full.len(), FLOOD + 3);
    let expected: Vec<PostId> = full
        .iter()
        .filter(|p| p.author != karim)
        .chain(full.iter().filter(|p| p.author == karim).take(10))
        .map(|p| p.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut shown: Vec<PostId> = page.posts.iter().map(|p| p.id).collect();
    shown.sort();
    assert_eq!(shown, expected);
    let positions: Vec<usize> = page
        .posts
        .iter()
        .map(|p| full.iter().position(|f| f.id == p.id).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "board order kept"
    );
    assert!(page.posts.iter().any(|p| p.id == karims[FLOOD - 1]));
    assert!(maries.iter().all(|m| page.posts.iter().any(|p| p.id == *m)));

    // A second page of the capped board is empty.
    assert!(
        board
            .page(&Filter::default(), now, BOARD_PAGE_SIZE, BOARD_PAGE_SIZE)
            .posts
            .is_empty()
    );
}

#[test]
fn looking_at_one_author_pages_through_all_their_posts_in_board_order() {
    let (board, karims, _) = flooded();
    let karim = writer(2).author();
    let now = NOW + FLOOD as i64;
    let filter = Filter {
        author: Some(karim),
        ..Filter::default()
    };
    let full: Vec<PostId> = board.view(&filter, now).iter().map(|p| p.id).collect();
    let mut walked = Vec::new();
    let mut offset = 0;
    loop {
        let page = board.page(&filter, now, offset, BOARD_PAGE_SIZE);
        assert_eq!(page.total, FLOOD);
        assert!(page.capped.is_empty(), "no cap when looking at one author");
        if page.posts.is_empty() {
            break;
        }
        assert!(page.posts.len() <= BOARD_PAGE_SIZE);
        walked.extend(page.posts.iter().map(|p| p.id));
        offset += page.posts.len();
    }
    assert_eq!(walked, full, "every post once, in board order");
    let unique: BTreeSet<PostId> = walked.iter().copied().collect();
    assert_eq!(unique.len(), FLOOD);
    assert_eq!(unique, karims.iter().copied().collect());
}

#[test]
fn the_cap_counts_live_posts_only() {
    let (mut board, karims, _) = flooded();
    let karim = writer(2);
    let now = NOW + FLOOD as i64;
    for id in &karims[..5] {
        board.withdraw(&karim, *id, now).unwrap();
    }
    let everything = Filter {
        include_closed: true,
        ..Filter::default()
    };
    let page = board.page(&everything, now, 0, 100);
    // Ten live posts of Karim's, his five withdrawn ones, Marie's three.
    assert_eq!(page.total, MAX_OPEN_POSTS_SHOWN_PER_AUTHOR + 5 + 3);
    assert_eq!(
        page.capped[0].hidden,
        FLOOD - 5 - MAX_OPEN_POSTS_SHOWN_PER_AUTHOR
    );
    // The stats still count everything held.
    let stats = board.stats(now);
    assert_eq!(stats.posts, FLOOD + 3);
    assert_eq!(stats.live_posts, FLOOD - 5 + 3);
}

//! Every validation rule, and every kind of forgery, against the public API.

mod common;

use common::*;
use entraide_crdt::limits::{MAX_CHANGE_BYTES, MAX_PENDING_CHANGES, MAX_SIGNED_HEADS_PER_FEED};
use entraide_crdt::{
    AuthorKey, Board, Feed, FeedId, Filter, SignedHeads, ValidationFailure, validate,
};

fn alice_key() -> AuthorKey {
    AuthorKey::from_seed([1; 32])
}

fn alice_feed() -> FeedId {
    FeedId::first(alice_key().id())
}

#[test]
fn a_signed_change_from_the_author_is_accepted_and_a_replay_is_harmless() {
    let key = alice_key();
    let mut raw = RawFeed::new(actor(&key, 1));
    let change = raw.put("name", "Alice");
    let signed = raw.signed_by(&key);
    let mut board = Board::new();
    let applied = board
        .receive(alice_feed(), &change, std::slice::from_ref(&signed))
        .expect("valid");
    assert_eq!(applied.applied, 1);
    // The same change again is a no-op, not an error: gossip and sessions both deliver it.
    let again = board
        .receive(alice_feed(), &change, &[signed])
        .expect("replay");
    assert_eq!(again.applied, 0);
    assert_eq!(board.name_of(&key.id()).as_deref(), Some("Alice"));
}

#[test]
fn a_change_signed_by_another_key_is_refused() {
    let alice = alice_key();
    let eve = AuthorKey::from_seed([66; 32]);
    // Eve writes with Alice's actor id and signs with her own key, claiming Alice's feed.
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice (really Eve)");
    let mut forged = raw.signed_by(&eve);
    forged.feed = alice_feed();
    let mut board = Board::new();
    assert_eq!(
        board.receive(alice_feed(), &change, &[forged]),
        Err(ValidationFailure::BadSignature { feed: alice_feed() })
    );
    // Signed honestly as Eve's feed, but sent for Alice's: refused as the wrong feed.
    let honest_eve = raw.signed_by(&eve);
    assert!(matches!(
        board.receive(alice_feed(), &change, &[honest_eve]),
        Err(ValidationFailure::WrongFeed { .. })
    ));
    assert!(board.is_empty(), "nothing was stored");
}

#[test]
fn a_change_with_no_signature_is_refused() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice");
    let mut board = Board::new();
    assert!(matches!(
        board.receive(alice_feed(), &change, &[]),
        Err(ValidationFailure::Unsigned { .. })
    ));
}

#[test]
fn a_signature_over_other_heads_does_not_cover_a_change() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let first = raw.put("name", "Alice");
    let signed_first = raw.signed_by(&alice);
    let second = raw.put("name", "Mallory");
    let mut board = Board::new();
    board
        .receive(alice_feed(), &first, std::slice::from_ref(&signed_first))
        .expect("first");
    // The second change with the first change's signature: not covered.
    assert!(matches!(
        board.receive(alice_feed(), &second, &[signed_first]),
        Err(ValidationFailure::Unsigned { .. })
    ));
}

#[test]
fn a_tampered_byte_is_refused() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice");
    let signed = raw.signed_by(&alice);
    // Flip each byte after the header in turn: every variant must be refused, by the
    // decoder or because its hash is no longer the signed one.
    for i in 9..change.len() {
        let mut tampered = change.clone();
        tampered[i] ^= 0x01;
        let mut board = Board::new();
        let verdict = board.receive(alice_feed(), &tampered, std::slice::from_ref(&signed));
        assert!(
            matches!(
                verdict,
                Err(ValidationFailure::Unsigned { .. }
                    | ValidationFailure::Undecodable { .. }
                    | ValidationFailure::ForeignActor { .. })
            ),
            "byte {i}: {verdict:?}"
        );
        assert!(board.is_empty());
    }
}

#[test]
fn a_tampered_signature_or_head_is_refused() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice");
    let mut signed = raw.signed_by(&alice);
    signed.signature[10] ^= 0x80;
    assert!(matches!(
        Board::new().receive(alice_feed(), &change, &[signed]),
        Err(ValidationFailure::BadSignature { .. })
    ));
}

#[test]
fn writing_into_another_authors_feed_is_refused() {
    let alice = alice_key();
    let bob = AuthorKey::from_seed([2; 32]);
    // Bob's change (Bob's actor) presented as part of Alice's feed, even with Alice's
    // signature over it (a confused or malicious author), is refused: actors must be hers.
    let mut raw = RawFeed::new(actor(&bob, 1));
    let change = raw.put("name", "Bob");
    let signed = raw.signed_by(&alice);
    assert_eq!(
        Board::new().receive(alice_feed(), &change, &[signed]),
        Err(ValidationFailure::ForeignActor { feed: alice_feed() })
    );
    // An actor that is only Alice's key, without a device id, is not hers either.
    let mut raw = RawFeed::new(entraide_crdt::automerge::ActorId::from(alice.id().0));
    let change = raw.put("name", "Alice");
    let signed = raw.signed_by(&alice);
    assert!(matches!(
        Board::new().receive(alice_feed(), &change, &[signed]),
        Err(ValidationFailure::ForeignActor { .. })
    ));
}

#[test]
fn editing_someone_elses_post_cannot_be_expressed() {
    // Karim's board holds Marie's post. Karim's writes go to Karim's feed only, and the
    // board refuses to touch a post that is not his.
    let (marie, karim) = (writer(1), writer(2));
    let mut board = Board::new();
    let (post, _) = board
        .post_new(&marie, [1; 8], &draft("Water"), NOW)
        .expect("post");
    assert!(board.withdraw(&karim, post, NOW).is_err());
    assert!(board.done(&karim, post, NOW).is_err());
    assert!(board.accept(&karim, post, karim.author(), NOW).is_err());
    let view = board.post(post, NOW).expect("post");
    assert_eq!(view.status, entraide_crdt::Status::Open);
    // And a feed of Marie's cannot be written by Karim's writer at all.
    let mut feed = Feed::new(feed_of(&marie));
    assert_eq!(
        feed.set_name(&karim, "Marie", NOW).unwrap_err(),
        entraide_crdt::WriteError::NotYourFeed
    );
}

#[test]
fn two_different_changes_at_one_sequence_number_are_equivocation() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let base = raw.put("name", "Alice");
    let base_signed = raw.signed_by(&alice);
    // Fork the document: two different seq-2 changes from the same actor.
    let mut fork = RawFeed {
        doc: raw.doc.fork().with_actor(actor(&alice, 1)),
    };
    let left = raw.put("name", "Alice L");
    let left_signed = raw.signed_by(&alice);
    let right = fork.put("name", "Alice R");
    let right_signed = fork.signed_by(&alice);
    assert_ne!(left, right);

    // Two nodes receive them in opposite orders: each accepts the first and refuses the
    // second as equivocation.
    for (first, second) in [
        ((&left, &left_signed), (&right, &right_signed)),
        ((&right, &right_signed), (&left, &left_signed)),
    ] {
        let mut board = Board::new();
        board
            .receive(alice_feed(), &base, std::slice::from_ref(&base_signed))
            .expect("base");
        board
            .receive(alice_feed(), first.0, std::slice::from_ref(first.1))
            .expect("first");
        assert_eq!(
            board.receive(alice_feed(), second.0, std::slice::from_ref(second.1)),
            Err(ValidationFailure::Equivocation { seq: 2 })
        );
        // Both in one batch: refused as well.
        let mut board = Board::new();
        board
            .receive(alice_feed(), &base, std::slice::from_ref(&base_signed))
            .expect("base");
        let both: Vec<u8> = [first.0.as_slice(), second.0.as_slice()].concat();
        assert_eq!(
            board.receive(alice_feed(), &both, &[first.1.clone(), second.1.clone()]),
            Err(ValidationFailure::Equivocation { seq: 2 })
        );
    }
}

#[test]
fn an_oversized_change_is_refused() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    // Incompressible text so the change really is large.
    let big: String = (0..MAX_CHANGE_BYTES + 10)
        .map(|i| char::from(b'a' + ((i * 7919 + i / 13) % 26) as u8))
        .collect();
    let change = raw.put("name", &big);
    let signed = raw.signed_by(&alice);
    assert!(matches!(
        Board::new().receive(alice_feed(), &change, &[signed]),
        Err(ValidationFailure::ChangeTooLarge { .. })
    ));
}

#[test]
fn too_many_signed_heads_are_refused() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice");
    let signed = raw.signed_by(&alice);
    let many = vec![signed; MAX_SIGNED_HEADS_PER_FEED + 1];
    assert!(matches!(
        Board::new().receive(alice_feed(), &change, &many),
        Err(ValidationFailure::TooManySignedHeads { .. })
    ));
}

#[test]
fn undecodable_bytes_are_refused() {
    let alice = alice_key();
    let signed = SignedHeads::sign(&alice, 0, &[]);
    for garbage in [
        &b"hello"[..],
        &[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 0xff][..],
        &[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 1, 5, 1, 2][..],
        &[0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 9, 0][..],
    ] {
        assert!(
            matches!(
                Board::new().receive(alice_feed(), garbage, std::slice::from_ref(&signed)),
                Err(ValidationFailure::Undecodable { .. })
            ),
            "{garbage:?}"
        );
    }
    // A truncated valid change.
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "Alice");
    let signed = raw.signed_by(&alice);
    assert!(matches!(
        Board::new().receive(alice_feed(), &change[..change.len() - 3], &[signed]),
        Err(ValidationFailure::Undecodable { .. })
    ));
}

#[test]
fn an_oversized_document_is_refused_before_it_is_decoded() {
    let alice = alice_key();
    let len = entraide_crdt::limits::MAX_DOCUMENT_BYTES + 1;
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0];
    leb(&mut chunk, len as u64);
    chunk.resize(chunk.len() + len, 0);
    let signed = SignedHeads::sign(&alice, 0, &[]);
    assert!(matches!(
        Board::new().receive(alice_feed(), &chunk, &[signed]),
        Err(ValidationFailure::DocumentTooLarge { .. })
    ));
}

#[test]
fn changes_waiting_for_dependencies_are_bounded() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let first = raw.put("k", "0");
    let mut rest = Vec::new();
    for i in 0..=MAX_PENDING_CHANGES {
        rest.extend(raw.put("k", &(i + 1).to_string()));
    }
    let signed = raw.signed_by(&alice);
    // Without the first change, every other one waits: one too many.
    let mut board = Board::new();
    assert!(matches!(
        board.receive(alice_feed(), &rest, std::slice::from_ref(&signed)),
        Err(ValidationFailure::TooManyPending { .. })
    ));
    // With it, everything applies.
    let all = [first.as_slice(), rest.as_slice()].concat();
    let applied = board
        .receive(alice_feed(), &all, &[signed])
        .expect("complete");
    assert_eq!(applied.applied, MAX_PENDING_CHANGES + 2);
    assert_eq!(applied.pending, 0);
}

#[test]
fn a_change_waiting_for_its_dependency_is_applied_when_it_arrives() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    let first = raw.put("name", "A");
    let first_signed = raw.signed_by(&alice);
    let second = raw.put("name", "B");
    let second_signed = raw.signed_by(&alice);
    let mut board = Board::new();
    let waiting = board
        .receive(alice_feed(), &second, &[second_signed])
        .expect("valid, waiting");
    assert_eq!((waiting.applied, waiting.pending), (0, 1));
    let applied = board
        .receive(alice_feed(), &first, &[first_signed])
        .expect("first");
    assert_eq!((applied.applied, applied.pending), (2, 0));
    assert_eq!(board.name_of(&alice.id()).as_deref(), Some("B"));
}

#[test]
fn an_automerge_author_field_is_refused() {
    let alice = alice_key();
    let mut raw = RawFeed::new(actor(&alice, 1));
    raw.doc
        .set_author(Some(entraide_crdt::automerge::Author::from(
            b"alice".to_vec(),
        )));
    let change = raw.put("name", "Alice");
    let signed = raw.signed_by(&alice);
    assert_eq!(
        Board::new().receive(alice_feed(), &change, &[signed]),
        Err(ValidationFailure::AuthorField)
    );
}

#[test]
fn the_verdict_is_a_pure_function_of_feed_state_and_input() {
    // The same forged input gets the same verdict from many independent boards.
    let alice = alice_key();
    let eve = AuthorKey::from_seed([66; 32]);
    let mut raw = RawFeed::new(actor(&alice, 1));
    let change = raw.put("name", "x");
    let mut forged = raw.signed_by(&eve);
    forged.feed = alice_feed();
    let verdicts: Vec<_> = (0..5)
        .map(|_| {
            validate(
                &Feed::new(alice_feed()),
                &change,
                std::slice::from_ref(&forged),
            )
            .map(|b| b.new_changes())
        })
        .collect();
    assert!(verdicts.iter().all(|v| *v == verdicts[0]));
    assert!(verdicts[0].is_err());
    assert!(Board::new().view(&Filter::default(), NOW).is_empty());
}

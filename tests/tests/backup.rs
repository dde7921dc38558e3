//! The paper backup from the command line (issue 13), with the real program: Marie prints
//! her identity with `entraide backup --paper`; the words, decoded by the BIP-39 crate
//! apart from the program, are her key; `entraide restore` writes them into an empty
//! folder (from its arguments, or typed on its standard input, any case, French or
//! English), and after `entraide join` that folder is Marie again. A mistyped word, a word
//! swapped for another word of the list, or a folder that already holds an identity
//! restores nothing.

use std::path::Path;

use bip39::Language;
use entraide_tests::{TestNode, author_of_words, backup_words};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");

fn author(node: &TestNode) -> String {
    let who = node.json(&["whoami", "--json"]).expect("whoami");
    who["author"].as_str().expect("an author id").to_owned()
}

fn invite_code(node: &TestNode) -> String {
    node.ok(&["invite"])
        .expect("invite")
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("an invite code")
        .to_owned()
}

/// The names of what a folder holds.
fn contents(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_paper_backup_brings_the_same_identity_back_elsewhere() {
    let marie = TestNode::new(BIN, "Marie");
    marie.ok(&["init", "--name", "Marie"]).unwrap();
    let who = marie.json(&["whoami", "--json"]).unwrap();
    let id = author(&marie);

    let sheet = marie.ok(&["backup", "--paper"]).unwrap();
    for want in [
        "Marie",
        who["fingerprint"].as_str().unwrap(),
        "BIP-39 English list",
        "act as you on the board",
        "read the sealed records addressed to you",
        "until you move to a new identity",
        "house key",
        "entraide restore",
        "entraide join CODE",
    ] {
        assert!(
            sheet.contains(want),
            "the sheet does not say {want:?}:\n{sheet}"
        );
    }
    let date = sheet
        .lines()
        .find_map(|l| l.strip_prefix("date"))
        .map(str::trim)
        .unwrap_or_default();
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "no date on the sheet: {date:?}"
    );
    // The QR code: block characters.
    assert!(
        sheet.contains('█') || sheet.contains('▀'),
        "no QR code:\n{sheet}"
    );
    let words = backup_words(&sheet);
    assert_eq!(words.len(), 24, "{words:?}\n{sheet}");
    assert_eq!(
        author_of_words(&words, Language::English).as_deref(),
        Some(id.as_str()),
        "the words are not Marie's key"
    );
    // The same key in the French list.
    let french = backup_words(&marie.ok(&["backup", "--paper", "--words", "fr"]).unwrap());
    assert_eq!(french.len(), 24);
    assert_ne!(french, words);
    assert_eq!(
        author_of_words(&french, Language::French).as_deref(),
        Some(id.as_str())
    );
    // `backup` alone says how.
    let out = marie.run(&["backup"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--paper"), "{}", stderr(&out));

    // On a new computer: restore from the words given as arguments, then rejoin.
    let again = TestNode::new(BIN, "Marie-again");
    let mut args = vec!["restore"];
    args.extend(words.iter().map(String::as_str));
    let said = again.ok(&args).unwrap();
    assert!(
        said.contains(who["fingerprint"].as_str().unwrap()),
        "{said}"
    );
    assert!(said.contains("entraide join CODE"), "no next step: {said}");
    // As a restored identity.key: no community yet, until `join`.
    assert_eq!(contents(again.data_dir()), ["ENTRAIDE", "identity.key"]);
    again.ok(&["join", &invite_code(&marie)]).unwrap();
    assert_eq!(author(&again), id, "the restored identity is not Marie's");
    let restored = std::fs::read_to_string(again.data_dir().join("identity.key")).unwrap();
    let original = std::fs::read_to_string(marie.data_dir().join("identity.key")).unwrap();
    assert_eq!(restored, original, "not the same identity.key");

    // Typed at the prompt: the French words in capitals, numbered, with extra spaces.
    let typed = TestNode::new(BIN, "Marie-typed");
    let line: String = french
        .iter()
        .enumerate()
        .map(|(i, w)| format!("  {}. {} ", i + 1, w.to_uppercase()))
        .collect();
    let out = typed.run_with_input(&["restore"], &format!("{line}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Type the 24 words"), "no prompt");
    typed.ok(&["join", &invite_code(&marie)]).unwrap();
    assert_eq!(author(&typed), id);

    // A folder that already holds an identity is refused, and left as it was.
    let before = std::fs::read(again.data_dir().join("identity.key")).unwrap();
    let other: Vec<String> = words.iter().rev().cloned().collect();
    let mut args = vec!["restore"];
    args.extend(other.iter().map(String::as_str));
    for (what, out) in [
        ("with words", again.run(&args)),
        ("at the prompt", again.run_with_input(&["restore"], "")),
    ] {
        assert!(!out.status.success(), "{what}: restored over an identity");
        let err = stderr(&out);
        assert!(
            err.contains("already holds an entraide identity")
                && err.contains("nothing was restored"),
            "{what}: {err}"
        );
        assert!(
            !err.contains("Type the"),
            "{what}: asked for words it would refuse"
        );
    }
    assert_eq!(
        std::fs::read(again.data_dir().join("identity.key")).unwrap(),
        before
    );
    assert_eq!(author(&again), id);
}

#[test]
fn a_mistyped_word_restores_nothing() {
    let marie = TestNode::new(BIN, "Marie");
    marie.ok(&["init", "--name", "Marie"]).unwrap();
    let words = backup_words(&marie.ok(&["backup", "--paper"]).unwrap());
    assert_eq!(words.len(), 24);
    let empty = TestNode::new(BIN, "Empty");
    let restore = |words: &[String]| {
        let mut args = vec!["restore"];
        args.extend(words.iter().map(String::as_str));
        empty.run(&args)
    };

    // A word in neither list: named, with its position.
    let mut typo = words.clone();
    typo[6] = format!("{}q", typo[6]);
    let out = restore(&typo);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("word 7, `{}`, is not in the word list", typo[6])),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // A word swapped for another word of the list: the checksum.
    // (One such swap in 256 keeps the checksum: the first swap that the BIP-39 crate
    // itself refuses.)
    let swapped = (0..24)
        .map(|i| {
            let mut s = words.clone();
            s[i] = if s[i] == "zoo" { "zone" } else { "zoo" }.into();
            s
        })
        .find(|s| author_of_words(s, Language::English).is_none())
        .expect("a swap that breaks the checksum");
    let out = restore(&swapped);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("do not match their checksum"),
        "{}",
        stderr(&out)
    );

    // Too few words, and none at the prompt.
    let out = restore(&words[..23]);
    assert!(
        stderr(&out).contains("24 words; 23 were given"),
        "{}",
        stderr(&out)
    );
    let out = empty.run_with_input(&["restore"], "\n");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("0 were given"), "{}", stderr(&out));

    assert_eq!(
        contents(empty.data_dir()),
        Vec::<String>::new(),
        "a failed restore wrote something"
    );
    assert!(!empty.run(&["whoami", "--json"]).status.success());
}

#[test]
fn the_owner_prints_a_hosted_residents_paper_backup_and_it_is_theirs() {
    let marie = TestNode::new(BIN, "Marie");
    marie.ok(&["init", "--name", "Marie"]).unwrap();
    marie.ok(&["resident", "add", "--name", "Zoé"]).unwrap();
    let list: serde_json::Value =
        serde_json::from_str(&marie.ok(&["resident", "list", "--json"]).unwrap()).unwrap();
    let zoe = list[0]["author"].as_str().unwrap().to_owned();
    let sheet = marie.ok(&["--as", "Zoé", "backup", "--paper"]).unwrap();
    assert!(sheet.contains("Zoé"), "{sheet}");
    let words = backup_words(&sheet);
    assert_eq!(
        author_of_words(&words, Language::English).as_deref(),
        Some(zoe.as_str()),
        "the words are Zoé's key, not Marie's"
    );
    assert_ne!(author(&marie), zoe);
    let out = marie.run(&["--as", "Nobody", "backup", "--paper"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Nobody"), "{}", stderr(&out));
}

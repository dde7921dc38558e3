//! The paper backup of a resident's identity (issue 13): `entraide backup --paper` and
//! `entraide restore`, and the words the page's `/backup` shows.
//!
//! The identity is the 32-byte ed25519 seed of the author key (`identity.key`). On paper it
//! is written as the 24 words of BIP-39 (the standard of hardware wallets: 256 bits and an
//! 8-bit SHA-256 checksum, 11 bits a word), from the English or the French list, and as a
//! QR code of the same words. The words *are* the key, in full: whoever holds them writes
//! as the resident and opens what is sealed to them.
//!
//! Reading words back is forgiving where it cannot be wrong: any case, extra spaces, the
//! numbers of the sheet, French words with or without their accents (the French list is
//! built so that no two words differ only by accents), either list. A word that is in
//! neither list is named with its position; a word swapped for another word of the list
//! is caught by the checksum (all but 1 in 256 such mistakes).

use std::collections::HashMap;
use std::io::{BufRead as _, Write as _};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use bip39::{Language, Mnemonic};
use entraide_crdt::LocalDate;
use entraide_node::data_dir::{DataDir, DataDirError};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use crate::client::Client;

/// How many words a paper backup has: 256 bits of seed and 8 of checksum, 11 bits a word.
pub(crate) const WORD_COUNT: usize = 24;

/// The longest typed word quoted back in an error.
const MAX_QUOTED_CHARS: usize = 40;

/// Which BIP-39 word list a sheet is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum WordList {
    /// The English list.
    En,
    /// The French list.
    Fr,
}

impl WordList {
    fn language(self) -> Language {
        match self {
            WordList::En => Language::English,
            WordList::Fr => Language::French,
        }
    }
}

/// Why typed words are not a paper backup. Each message says what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum WordsError {
    /// Not 24 words.
    #[error("a paper backup has 24 words; {0} were given")]
    Count(usize),
    /// A word in neither list.
    #[error("word {position}, `{word}`, is not in the word list: check its spelling on your sheet")]
    UnknownWord {
        /// Its position on the sheet, from 1.
        position: usize,
        /// The word as typed (cut to a few dozen characters).
        word: String,
    },
    /// Every word is in the list but the checksum does not match.
    #[error(
        "these words do not match their checksum: one of them is another word of the list than the one on your sheet, or two are in the wrong order; check each word against your sheet"
    )]
    Checksum,
}

/// The 24 words of `seed` in `list`, as people write them (accents composed).
pub(crate) fn words_of(seed: &[u8; 32], list: WordList) -> Vec<String> {
    // 32 bytes are always a valid BIP-39 entropy length.
    let Ok(mnemonic) = Mnemonic::from_entropy_in(list.language(), seed) else {
        unreachable!("32 bytes are a valid BIP-39 entropy")
    };
    mnemonic.words().map(|w| w.nfc().collect()).collect()
}

/// A typed word as it is compared: lower case, accents and other marks dropped.
fn folded(word: &str) -> String {
    word.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The index of `folded_word` in `list`, accents ignored (each list folded once).
fn find(list: WordList, folded_word: &str) -> Option<usize> {
    static FOLDED: [OnceLock<HashMap<String, usize>>; 2] = [OnceLock::new(), OnceLock::new()];
    let index = FOLDED[list as usize].get_or_init(|| {
        list.language()
            .word_list()
            .iter()
            .enumerate()
            .map(|(i, w)| (folded(w), i))
            .collect()
    });
    index.get(folded_word).copied()
}

/// Whether a token of typed text is a number of the sheet (`7`, `7.`, `7)`), not a word.
fn is_number(token: &str) -> bool {
    let digits = token.trim_end_matches(['.', ')', ':']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The seed that `typed` words name, in either list. See the module doc for what is
/// forgiven; everything else is a [`WordsError`].
pub(crate) fn seed_of(typed: &str) -> Result<[u8; 32], WordsError> {
    let words: Vec<&str> = typed
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|t| !t.is_empty() && !is_number(t))
        .collect();
    if words.len() != WORD_COUNT {
        return Err(WordsError::Count(words.len()));
    }
    let folded: Vec<String> = words.iter().map(|w| folded(w)).collect();
    let mut first_unknown = None;
    let mut checksum_failed = false;
    // The list that knows the most words first: its first unknown word is the typo.
    let mut lists = [WordList::En, WordList::Fr].map(|list| {
        let indices: Vec<Option<usize>> = folded.iter().map(|w| find(list, w)).collect();
        (list, indices)
    });
    lists.sort_by_key(|(_, indices)| std::cmp::Reverse(indices.iter().flatten().count()));
    for (list, indices) in &lists {
        if let Some(position) = indices.iter().position(Option::is_none) {
            first_unknown.get_or_insert(position);
            continue;
        }
        let word_list = list.language().word_list();
        let canonical: Vec<&str> = indices.iter().flatten().map(|&i| word_list[i]).collect();
        match Mnemonic::parse_in_normalized(list.language(), &canonical.join(" ")) {
            Ok(mnemonic) => {
                // 24 words are 32 bytes of entropy.
                let (entropy, _) = mnemonic.to_entropy_array();
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&entropy[..32]);
                return Ok(seed);
            }
            Err(_) => checksum_failed = true,
        }
    }
    if checksum_failed {
        return Err(WordsError::Checksum);
    }
    let position = first_unknown.unwrap_or(0);
    Err(WordsError::UnknownWord {
        position: position + 1,
        word: words[position].chars().take(MAX_QUOTED_CHARS).collect(),
    })
}

/// The date a sheet is printed on, in this computer's local time (`2026-12-02`).
pub(crate) fn today() -> LocalDate {
    let now = crate::output::now();
    LocalDate::of(now, entraide_node::clock::utc_offset(now))
}

/// `entraide backup --paper`: the identity of `data_dir` as a sheet to print or copy.
pub(crate) fn print_paper(data_dir: &DataDir, list: WordList, acting: Option<&str>) -> Result<()> {
    // The owner's key, or, with `--as NAME`, the key of a resident this computer hosts
    // (printed by the owner, for that resident to keep).
    let key = match acting {
        None => data_dir.load()?.key,
        Some(name) => {
            let residents = entraide_node::residents::load_all(data_dir)?;
            entraide_node::residents::find(&residents, name)?
                .key
                .clone()
        }
    };
    let client = Client::connect(data_dir)?.acting_for(data_dir, acting)?;
    let who = client.whoami();
    client.close()?;
    let who = who?;
    if who.author != key.id() {
        bail!("the running node's identity is not the one in identity.key: restart it");
    }
    let words = words_of(&key.to_seed(), list);
    let name = who.name.as_deref().unwrap_or("(no name)");
    say!("entraide: paper backup of an identity\n");
    say!("name         {}", crate::output::term_safe(name, false));
    say!("fingerprint  {}", who.fingerprint);
    say!("date         {}", today());
    say!(
        "words        {WORD_COUNT}, BIP-39 {} list\n",
        match list {
            WordList::En => "English",
            WordList::Fr => "French",
        }
    );
    let rows = WORD_COUNT / 4;
    for row in 0..rows {
        let line: Vec<String> = (0..4)
            .map(|col| {
                let i = col * rows + row;
                format!("{:>2}. {:<10}", i + 1, words[i])
            })
            .collect();
        say!("  {}", line.join("  ").trim_end());
    }
    say!("");
    crate::output::print_qr(&words.join(" "));
    for line in HOLDER_TEXT {
        say!("{line}");
    }
    say!("\nTo restore: `entraide restore` (it asks for the words), then `entraide join CODE`.");
    Ok(())
}

/// What the sheet says about itself (the terminal is in English, as the rest of the CLI).
const HOLDER_TEXT: [&str; 4] = [
    "Whoever holds these words can act as you on the board (post, offer help, accept,",
    "thank, in your name) and read the sealed records addressed to you, such as care",
    "records, until you move to a new identity. Keep this sheet like a house key: at home,",
    "somewhere safe; never photograph it, never send it. entraide never asks for it.",
];

/// `entraide restore`: reads the words (from `words`, else one line of standard input)
/// and writes the identity into `data_dir`, which must hold none.
pub(crate) fn restore(data_dir: &DataDir, words: &[String]) -> Result<()> {
    // Refuse before asking for 24 words; the write below refuses again if one appeared.
    if data_dir.is_initialized() {
        return Err(DataDirError::AlreadyInitialized(data_dir.root().to_owned()))
            .context("nothing was restored");
    }
    let typed = if words.is_empty() {
        eprint!("Type the {WORD_COUNT} words of your paper backup, in order, then Enter: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the words")?;
        line
    } else {
        words.join(" ")
    };
    let seed = seed_of(&typed).context("nothing was restored")?;
    let author = data_dir
        .restore_identity(seed)
        .context("nothing was restored")?;
    say!(
        "Identity {} restored in {}.",
        author.fmt_short(),
        data_dir.root().display()
    );
    match data_dir.load() {
        Ok(_) => say!("Next: `entraide up`."),
        Err(_) => say!(
            "Next: `entraide join CODE` with an invite code from a neighbour, to rejoin your community."
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use entraide_crdt::AuthorKey;

    use super::*;

    /// The key behind a sheet: what `restore` would write.
    fn key_of(typed: &str) -> Result<AuthorKey, WordsError> {
        seed_of(typed).map(AuthorKey::from_seed)
    }

    fn seeds() -> Vec<[u8; 32]> {
        let mut seeds = vec![[0u8; 32], [0xff; 32], [7; 32]];
        let mut s = [0u8; 32];
        for (i, b) in s.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        seeds.push(s);
        // Twenty more, fixed (xorshift), so that every run checks the same keys.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20 {
            let mut seed = [0u8; 32];
            for b in &mut seed {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            seeds.push(seed);
        }
        seeds
    }

    #[test]
    fn every_seed_comes_back_from_its_words_in_either_list() {
        for seed in seeds() {
            for list in [WordList::En, WordList::Fr] {
                let words = words_of(&seed, list);
                assert_eq!(words.len(), WORD_COUNT);
                assert_eq!(seed_of(&words.join(" ")), Ok(seed), "{list:?} {words:?}");
                assert_eq!(
                    key_of(&words.join(" ")).map(|k| k.id()),
                    Ok(AuthorKey::from_seed(seed).id())
                );
            }
        }
    }

    #[test]
    fn the_words_are_the_standard_ones() {
        // The BIP-39 test vector of 32 zero bytes (English): another implementation reads
        // the same sheet.
        let words = words_of(&[0; 32], WordList::En).join(" ");
        assert_eq!(
            words,
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon art"
        );
        // French words are shown with their accents composed, as people write them.
        let fr = words_of(&[0; 32], WordList::Fr);
        assert_eq!(fr[0], "abaisser");
        let accented = Language::French
            .word_list()
            .iter()
            .position(|w| !w.is_ascii())
            .expect("the French list has accented words");
        let mut seed = [0u8; 32];
        // The first word is the top 11 bits of the seed.
        seed[0] = (accented >> 3) as u8;
        seed[1] = ((accented & 7) << 5) as u8;
        let word = &words_of(&seed, WordList::Fr)[0];
        assert!(!word.is_ascii(), "{word}");
        assert!(word.nfc().eq(word.chars()), "{word:?} is not composed");
        assert_eq!(word.chars().count(), word.nfd().count() - 1, "{word:?}");
    }

    #[test]
    fn case_spaces_numbers_and_accents_are_forgiven() {
        let seed = [0x5a; 32];
        let en = words_of(&seed, WordList::En);
        let sloppy: String = en
            .iter()
            .enumerate()
            .map(|(i, w)| format!("  {}. {}\t", i + 1, w.to_uppercase()))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(seed_of(&sloppy), Ok(seed));
        let fr = words_of(&seed, WordList::Fr);
        let bare: Vec<String> = fr.iter().map(|w| folded(w)).collect();
        assert_eq!(seed_of(&bare.join(", ")), Ok(seed));
        // Decomposed accents (as some keyboards send them) too.
        let nfd: Vec<String> = fr.iter().map(|w| w.nfd().collect()).collect();
        assert_eq!(seed_of(&nfd.join(" ")), Ok(seed));
    }

    #[test]
    fn no_two_french_words_differ_only_by_accents() {
        let mut folded_list: Vec<String> = Language::French
            .word_list()
            .iter()
            .map(|w| folded(w))
            .collect();
        folded_list.sort();
        folded_list.dedup();
        assert_eq!(folded_list.len(), 2048);
    }

    #[test]
    fn a_mistyped_word_is_named_with_its_position() {
        for list in [WordList::En, WordList::Fr] {
            let mut words = words_of(&[0x33; 32], list);
            words[4] = "zzzebra".into();
            let err = seed_of(&words.join(" ")).unwrap_err();
            assert_eq!(
                err,
                WordsError::UnknownWord {
                    position: 5,
                    word: "zzzebra".into()
                },
                "{list:?}"
            );
            assert!(err.to_string().contains("word 5, `zzzebra`"), "{err}");
        }
        // A French sheet with one English-only typo is still read as French.
        let mut words = words_of(&[0x44; 32], WordList::Fr);
        words[17] = "abandonn".into();
        assert!(matches!(
            seed_of(&words.join(" ")),
            Err(WordsError::UnknownWord { position: 18, .. })
        ));
    }

    #[test]
    fn a_word_swapped_for_another_of_the_list_is_caught_by_the_checksum() {
        let mut caught = 0;
        for seed in seeds() {
            let mut words = words_of(&seed, WordList::En);
            words[9] = if words[9] == "zoo" { "zone" } else { "zoo" }.into();
            match seed_of(&words.join(" ")) {
                Err(WordsError::Checksum) => caught += 1,
                // One swap in 256 keeps the checksum: then it names another key, never
                // this one.
                Ok(other) => assert_ne!(other, seed),
                Err(e) => panic!("{e}"),
            }
        }
        // The seeds are fixed: every swap of this test is caught.
        assert_eq!(caught, seeds().len());
        // Two words in the wrong order, with a fixed seed whose checksum catches it.
        let mut words = words_of(&[0x11; 32], WordList::En);
        let first = words[0].clone();
        words[0] = words[1].clone();
        words[1] = first;
        assert_ne!(words[0], words[1]);
        assert_eq!(seed_of(&words.join(" ")), Err(WordsError::Checksum));
    }

    #[test]
    fn a_wrong_count_says_how_many_were_given() {
        assert!(
            WordsError::Count(1)
                .to_string()
                .contains(&WORD_COUNT.to_string())
        );
        let words = words_of(&[1; 32], WordList::En);
        assert_eq!(seed_of(&words[..23].join(" ")), Err(WordsError::Count(23)));
        assert_eq!(seed_of(""), Err(WordsError::Count(0)));
        // The first twelve words of a sheet (a 128-bit phrase) are not a backup either.
        assert_eq!(seed_of(&words[..12].join(" ")), Err(WordsError::Count(12)));
    }
}

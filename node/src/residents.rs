//! Residents hosted by this node: neighbours with only a phone, or nothing, whose keys this
//! node holds so that they take part as themselves.
//!
//! A hosted resident has their own author key and feed: what they post is signed with
//! their key, and neighbours see a separate author. The node's owner holds the key, so the
//! owner could act as them; the page tells the resident so, and how to move to a device of
//! their own ([`export_text`], then `entraide join --identity FILE` there, then
//! `entraide resident remove` here).
//!
//! ```text
//! <data dir>/residents/<author id, 64 hex>.key     (mode 0600)
//!   entraide resident v1
//!   name: Zoe
//!   secret: <32-byte seed, hex>
//!   login: <SHA-256 of the normalised login code, hex>
//!   exported: <unix seconds>          (once `resident export` wrote the key out)
//! ```
//!
//! Login codes are 12 characters from an alphabet without look-alikes (about 59 bits),
//! shown as `ABCD-EFGH-JKLM`; only their hash is kept. The page throttles wrong codes per
//! client.

use std::fs;
use std::path::{Path, PathBuf};

use entraide_crdt::{AuthorId, AuthorKey, TextError, check_name};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data_dir::{DataDir, write_atomic};

const HEADER: &str = "entraide resident v1";
/// The header of an identity file (`identity.key`), which an export writes.
const IDENTITY_HEADER: &str = "entraide identity v1";
/// Letters and digits nobody mistakes for one another (no I, L, O, U, 0, 1).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ23456789";
/// Characters in a login code.
pub const CODE_LEN: usize = 12;
/// Most residents one node hosts (a building's shared computer, a community centre).
pub const MAX_RESIDENTS: usize = 64;

/// What went wrong with a hosted resident. Every message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResidentError {
    /// No hosted resident has that name.
    #[error("no resident named `{0}` is hosted on this computer (see `entraide resident list`)")]
    NoSuchResident(String),
    /// The name is taken by another hosted resident (case aside).
    #[error("a resident named `{0}` is already hosted here: choose another name")]
    NameTaken(String),
    /// The name breaks the rules of display names.
    #[error("that name cannot be used: {0}")]
    BadName(#[from] TextError),
    /// The node hosts [`MAX_RESIDENTS`] already.
    #[error("this computer already hosts {MAX_RESIDENTS} residents")]
    TooMany,
    /// Removing would destroy the only copy of the resident's key.
    #[error(
        "`{0}` has not been exported: removing would destroy the only copy of their key. Run `entraide resident export {0}` first (or pass --forget to remove them anyway)"
    )]
    NotExported(String),
    /// A resident file cannot be read or written.
    #[error("cannot use {path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A resident whose key this node holds.
#[derive(Clone)]
pub struct HostedResident {
    /// The name they were added with (their display name on the board, and the handle
    /// `--as NAME` takes).
    pub name: String,
    /// Their key.
    pub key: AuthorKey,
    /// SHA-256 of their normalised login code.
    login: [u8; 32],
    /// When their key was exported, if ever.
    pub exported: Option<i64>,
}

impl std::fmt::Debug for HostedResident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedResident")
            .field("name", &self.name)
            .field("author", &self.key.id())
            .finish_non_exhaustive()
    }
}

/// A hosted resident as shown to people and the API (no secret in it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentInfo {
    /// Their author id.
    pub author: AuthorId,
    /// Their fingerprint.
    pub fingerprint: String,
    /// The name they were added with.
    pub name: String,
    /// When their key was exported (Unix seconds), if ever.
    pub exported: Option<i64>,
    /// A tag of their current login code (8 hex digits of a hash of its hash): a page
    /// session remembers it, so replacing the code signs every device of theirs out.
    pub code_tag: String,
}

impl HostedResident {
    /// Their author id.
    pub fn author(&self) -> AuthorId {
        self.key.id()
    }

    /// What people and the API see.
    pub fn info(&self) -> ResidentInfo {
        ResidentInfo {
            author: self.author(),
            fingerprint: self.author().fmt_short(),
            name: self.name.clone(),
            exported: self.exported,
            code_tag: code_tag(&self.login),
        }
    }

    /// Whether `typed` is their login code (spaces, dashes and case aside), compared in
    /// constant time.
    pub fn code_matches(&self, typed: &str) -> bool {
        crate::api::constant_time_eq(&code_hash(typed), &self.login)
    }

    fn to_text(&self) -> String {
        let mut text = format!(
            "{HEADER}\nname: {}\nsecret: {}\nlogin: {}\n",
            self.name,
            hex::encode(self.key.to_seed()),
            hex::encode(self.login)
        );
        if let Some(at) = self.exported {
            text.push_str(&format!("exported: {at}\n"));
        }
        text
    }

    fn from_text(text: &str) -> Result<Self, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(HEADER) {
            return Err(format!("it does not start with `{HEADER}`"));
        }
        let (mut name, mut seed, mut login, mut exported) = (None, None, None, None);
        for line in lines {
            let Some((field, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match field.trim() {
                "name" => name = Some(value.to_owned()),
                "secret" => seed = Some(hex32(value).ok_or("`secret` is not 64 hex digits")?),
                "login" => login = Some(hex32(value).ok_or("`login` is not 64 hex digits")?),
                "exported" => exported = value.parse().ok(),
                _ => {}
            }
        }
        Ok(Self {
            name: name.ok_or("no `name:` line")?,
            key: AuthorKey::from_seed(seed.ok_or("no `secret:` line")?),
            login: login.ok_or("no `login:` line")?,
            exported,
        })
    }
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// A new login code, `ABCD-EFGH-JKLM` (about 59 bits from the system's random source).
pub fn new_login_code() -> String {
    let mut out = String::with_capacity(CODE_LEN + 2);
    for i in 0..CODE_LEN {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        // 30 letters: a random u32 modulo 30 is biased by under one part in 10^8.
        let pick = rand::random::<u32>() as usize % CODE_ALPHABET.len();
        out.push(CODE_ALPHABET[pick] as char);
    }
    out
}

/// What a typed code is compared as: letters and digits only, upper case.
pub fn normalise_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn code_hash(typed: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"entraide/resident-login/1\0");
    h.update(normalise_code(typed).as_bytes());
    h.finalize().into()
}

fn code_tag(login: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"entraide/resident-login-tag/1\0");
    h.update(login);
    hex::encode(&h.finalize()[..4])
}

/// The folder of hosted residents.
pub fn residents_dir(data_dir: &DataDir) -> PathBuf {
    data_dir.root().join("residents")
}

fn file_of(data_dir: &DataDir, author: &AuthorId) -> PathBuf {
    residents_dir(data_dir).join(format!("{author}.key"))
}

fn file_err(path: &Path) -> impl FnOnce(String) -> ResidentError + '_ {
    move |reason| ResidentError::File {
        path: path.to_owned(),
        reason,
    }
}

/// Every resident hosted in `data_dir`, by name (case aside). A missing folder means none.
pub fn load_all(data_dir: &DataDir) -> Result<Vec<HostedResident>, ResidentError> {
    let dir = residents_dir(data_dir);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(file_err(&dir)(e.to_string())),
    };
    let mut out = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("key") {
            continue;
        }
        let text = fs::read_to_string(&path).map_err(|e| file_err(&path)(e.to_string()))?;
        let resident = HostedResident::from_text(&text).map_err(file_err(&path))?;
        out.push(resident);
    }
    out.sort_by_key(|r| r.name.to_lowercase());
    Ok(out)
}

/// The hosted resident called `name` (case aside).
pub fn find<'a>(
    residents: &'a [HostedResident],
    name: &str,
) -> Result<&'a HostedResident, ResidentError> {
    let wanted = name.trim().to_lowercase();
    residents
        .iter()
        .find(|r| r.name.to_lowercase() == wanted)
        .ok_or_else(|| ResidentError::NoSuchResident(name.trim().to_owned()))
}

/// Makes a new hosted resident `name` with key `seed`; returns them and their login code.
pub fn create(
    data_dir: &DataDir,
    name: &str,
    seed: [u8; 32],
) -> Result<(HostedResident, String), ResidentError> {
    check_name(name)?;
    let name = name.trim().to_owned();
    let existing = load_all(data_dir)?;
    if existing.len() >= MAX_RESIDENTS {
        return Err(ResidentError::TooMany);
    }
    if find(&existing, &name).is_ok() {
        return Err(ResidentError::NameTaken(name));
    }
    let code = new_login_code();
    let resident = HostedResident {
        name,
        key: AuthorKey::from_seed(seed),
        login: code_hash(&code),
        exported: None,
    };
    let dir = residents_dir(data_dir);
    fs::create_dir_all(&dir).map_err(|e| file_err(&dir)(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| file_err(&dir)(e.to_string()))?;
    }
    save(data_dir, &resident)?;
    Ok((resident, code))
}

fn save(data_dir: &DataDir, resident: &HostedResident) -> Result<(), ResidentError> {
    let path = file_of(data_dir, &resident.author());
    write_atomic(&path, resident.to_text().as_bytes()).map_err(|e| file_err(&path)(e.to_string()))
}

/// Gives `name` a new login code (the old one stops working); returns it.
pub fn replace_code(
    data_dir: &DataDir,
    name: &str,
) -> Result<(HostedResident, String), ResidentError> {
    let mut resident = find(&load_all(data_dir)?, name)?.clone();
    let code = new_login_code();
    resident.login = code_hash(&code);
    save(data_dir, &resident)?;
    Ok((resident, code))
}

/// `name`'s identity as an identity file (the format of `identity.key`), marking them as
/// exported. Whoever holds the text acts as them.
pub fn export_text(data_dir: &DataDir, name: &str, now: i64) -> Result<String, ResidentError> {
    let mut resident = find(&load_all(data_dir)?, name)?.clone();
    resident.exported = Some(now);
    save(data_dir, &resident)?;
    Ok(format!(
        "{IDENTITY_HEADER}\nsecret: {}\n",
        hex::encode(resident.key.to_seed())
    ))
}

/// Deletes this node's copy of `name`'s key. Refused unless they were exported or
/// `forget` is set. Their posts stay on the board: their feed is not touched.
pub fn remove(
    data_dir: &DataDir,
    name: &str,
    forget: bool,
) -> Result<HostedResident, ResidentError> {
    let resident = find(&load_all(data_dir)?, name)?.clone();
    if resident.exported.is_none() && !forget {
        return Err(ResidentError::NotExported(resident.name));
    }
    let path = file_of(data_dir, &resident.author());
    fs::remove_file(&path).map_err(|e| file_err(&path)(e.to_string()))?;
    Ok(resident)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, DataDir) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dd = DataDir::new(tmp.path().join("d"));
        (tmp, dd)
    }

    #[test]
    fn a_resident_is_saved_and_read_back_with_a_working_code() {
        let (_t, dd) = dir();
        let (zoe, code) = create(&dd, " Zoé ", [3; 32]).expect("create");
        assert_eq!(zoe.name, "Zoé");
        assert_eq!(code.len(), CODE_LEN + 2);
        let all = load_all(&dd).expect("load");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].author(), AuthorKey::from_seed([3; 32]).id());
        assert!(all[0].code_matches(&code));
        assert!(all[0].code_matches(&code.to_lowercase().replace('-', " ")));
        assert!(!all[0].code_matches("ABCD-EFGH-JKLM"));
        assert!(!all[0].code_matches(""));
        assert_eq!(find(&all, "zoé").expect("found").name, "Zoé");
    }

    #[test]
    fn names_are_unique_case_aside_and_follow_the_name_rules() {
        let (_t, dd) = dir();
        create(&dd, "Paul", [1; 32]).expect("create");
        assert!(matches!(
            create(&dd, "PAUL", [2; 32]),
            Err(ResidentError::NameTaken(_))
        ));
        assert!(matches!(
            create(&dd, "a\nb", [2; 32]),
            Err(ResidentError::BadName(_))
        ));
        assert_eq!(load_all(&dd).expect("load").len(), 1);
    }

    #[test]
    fn a_new_code_replaces_the_old_one_and_changes_the_tag() {
        let (_t, dd) = dir();
        let (zoe, old) = create(&dd, "Zoe", [3; 32]).expect("create");
        let (again, new) = replace_code(&dd, "zoe").expect("replace");
        assert_ne!(zoe.info().code_tag, again.info().code_tag);
        let read = load_all(&dd).expect("load");
        assert!(!read[0].code_matches(&old));
        assert!(read[0].code_matches(&new));
    }

    #[test]
    fn removal_needs_an_export_or_forget_and_the_export_is_an_identity_file() {
        let (_t, dd) = dir();
        create(&dd, "Zoe", [3; 32]).expect("create");
        assert!(matches!(
            remove(&dd, "Zoe", false),
            Err(ResidentError::NotExported(_))
        ));
        let text = export_text(&dd, "Zoe", 1_700_000_000).expect("export");
        assert_eq!(
            text,
            format!("entraide identity v1\nsecret: {}\n", hex::encode([3u8; 32]))
        );
        assert_eq!(
            load_all(&dd).expect("load")[0].exported,
            Some(1_700_000_000)
        );
        remove(&dd, "Zoe", false).expect("remove");
        assert!(load_all(&dd).expect("load").is_empty());
        assert!(matches!(
            remove(&dd, "Zoe", true),
            Err(ResidentError::NoSuchResident(_))
        ));
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let (_t, dd) = dir();
        create(&dd, "Zoe", [3; 32]).expect("create");
        let path = file_of(&dd, &AuthorKey::from_seed([3; 32]).id());
        fs::write(&path, "entraide resident v1\nname: Zoe\nsecret: zz\n").expect("write");
        let err = load_all(&dd).expect_err("damaged");
        assert!(err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn codes_use_the_unambiguous_alphabet() {
        for _ in 0..50 {
            let code = new_login_code();
            assert!(
                normalise_code(&code)
                    .bytes()
                    .all(|b| CODE_ALPHABET.contains(&b))
            );
            assert_eq!(normalise_code(&code).len(), CODE_LEN);
        }
    }
}

//! The data directory: identity, community, database, and how the CLI finds a
//! running node.
//!
//! ```text
//! <data dir>/
//!   ENTRAIDE          marker: this directory belongs to entraide
//!   identity.key      the resident's secret key (mode 0600). Back it up.
//!   community.key     the community secret, and its founder when it names one (mode 0600)
//!   device.id         which device of the resident this installation is (drawn once)
//!   node.key          on a device linked with `join-device` only: its own network key
//!   db/               sled database: feeds, signatures, sync states, peers
//!   api.json          address of the running node's local API (while it runs)
//!   api.token         token for the local API (mode 0600)
//! ```
//!
//! The identity lives in its own file, written atomically and never overwritten, so a
//! damaged database can never cost a resident their identity.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use entraide_crdt::{AuthorId, AuthorKey, Installation};

use crate::community::Community;

const MARKER: &str = "ENTRAIDE";
const MARKER_TEXT: &str = "entraide data directory, format 1\n";
const IDENTITY_HEADER: &str = "entraide identity v1";
const COMMUNITY_HEADER: &str = "entraide community v1";
const DEVICE_HEADER: &str = "entraide device v1";
const NODE_KEY_HEADER: &str = "entraide node key v1";

/// What went wrong with the data directory. Every message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirError {
    /// No identity yet.
    #[error(
        "no entraide identity in {0}: run `entraide init --name NAME` or `entraide join CODE` first"
    )]
    NotInitialized(PathBuf),
    /// `init` or `join` on a directory that already has an identity.
    #[error(
        "{0} already holds an entraide identity; it is never overwritten (use another --data-dir)"
    )]
    AlreadyInitialized(PathBuf),
    /// A non-empty directory that is not an entraide data directory.
    #[error(
        "{0} is not an entraide data directory (it holds other files): choose an empty or new folder with --data-dir"
    )]
    Foreign(PathBuf),
    /// The identity file cannot be read.
    #[error(
        "the identity file {path} is damaged ({reason}): restore it from your backup; entraide will not overwrite it"
    )]
    IdentityDamaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The community file cannot be read.
    #[error(
        "the file {path} is damaged ({reason}): restore it from a backup, or join the community again with an invite code"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A board exists but its identity file is gone.
    #[error(
        "the identity file {0} is missing, but this folder holds a board: restore identity.key from your backup (entraide will not make a new identity over an existing board)"
    )]
    IdentityMissing(PathBuf),
    /// An identity without a community: a restored backup of identity.key.
    #[error("{0} holds an identity but no community yet: join one with `entraide join CODE`")]
    NoCommunity(PathBuf),
    /// The filesystem refused.
    #[error("cannot use {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Everything a node needs from its data directory.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The resident's key.
    pub key: AuthorKey,
    /// The community.
    pub community: Community,
    /// Which device of the resident this installation is (`device.id`).
    pub installation: Installation,
    /// The network key of a device linked with `join-device` (`node.key`); `None` for the
    /// resident's first device, whose network key is the author key itself.
    pub node_seed: Option<[u8; 32]>,
    /// After a re-key: the community at its previous secret, and until when (Unix seconds)
    /// this node hands the new one over to members still on the old one (`crate::rekey`).
    pub previous: Option<(Community, i64)>,
}

impl Profile {
    /// The seed of this node's libp2p identity: its own key on a linked device, the
    /// author key on the first (so that its peer id stays what it always was).
    pub fn network_seed(&self) -> [u8; 32] {
        self.node_seed.unwrap_or_else(|| self.key.to_seed())
    }
}

/// How to reach a running node's local API: what `entraide up` records in `api.json`
/// and `api.token` while it runs (docs/api.md, "How a client finds the node").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiInfo {
    /// The address the API listens on, such as `127.0.0.1:7878`.
    pub address: String,
    /// The process id of the `entraide up` that wrote it.
    pub pid: u32,
    /// The bearer token, without the newline of `api.token`.
    pub token: String,
    /// Whether the page is open to the local network (`--ui-lan`), on the same port.
    pub lan: bool,
}

impl ApiInfo {
    /// The base URL of the API and the page, `http://` and the address.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// The contents of `api.json`: `{"address":"127.0.0.1:7878","pid":3794}`.
#[derive(serde::Serialize, serde::Deserialize)]
struct ApiFile {
    address: String,
    pid: u32,
    #[serde(default)]
    lan: bool,
}

/// A data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root` (not created until [`DataDir::init`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Its path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The identity key file.
    pub fn identity_path(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    /// The database directory.
    pub fn db_path(&self) -> PathBuf {
        self.root.join("db")
    }

    /// Where a running node records its API address.
    pub fn api_path(&self) -> PathBuf {
        self.root.join("api.json")
    }

    /// The API token file.
    pub fn token_path(&self) -> PathBuf {
        self.root.join("api.token")
    }

    /// Where the local page keeps the sign-ins of this computer's browsers (hashes only).
    pub fn page_sessions_path(&self) -> PathBuf {
        self.root.join("page-sessions.json")
    }

    fn community_path(&self) -> PathBuf {
        self.root.join("community.key")
    }

    /// Whether an identity exists here.
    pub fn is_initialized(&self) -> bool {
        self.identity_path().exists()
    }

    /// Creates the directory with a new identity (`seed`) and community. Refuses
    /// a directory that already has an identity or that holds unrelated files.
    pub fn init(&self, seed: [u8; 32], community: &Community) -> Result<Profile, DataDirError> {
        if self.is_initialized() {
            return Err(DataDirError::AlreadyInitialized(self.root.clone()));
        }
        if self.root.join(MARKER).exists()
            && (self.community_path().exists() || self.db_path().exists())
        {
            return Err(DataDirError::IdentityMissing(self.identity_path()));
        }
        self.claim()?;
        self.write_identity(seed)?;
        self.write_community(community)?;
        self.load()
    }

    /// Writes `community.key`, never over an existing one.
    fn write_community(&self, community: &Community) -> Result<(), DataDirError> {
        write_new_secret(&self.community_path(), &community_text(community))
    }

    /// Writes a restored identity (`seed`, read back from a backup) into a folder that has
    /// none, as copying a backed-up `identity.key` there by hand does: the folder then
    /// waits for `entraide join CODE` (or, if it still holds its board and community, for
    /// `entraide up`). Refuses, writing nothing, a folder that already holds an identity or
    /// holds unrelated files. Returns the restored author.
    pub fn restore_identity(&self, seed: [u8; 32]) -> Result<AuthorId, DataDirError> {
        if self.is_initialized() {
            return Err(DataDirError::AlreadyInitialized(self.root.clone()));
        }
        self.claim()?;
        self.write_identity(seed)?;
        Ok(AuthorKey::from_seed(seed).id())
    }

    /// Writes `identity.key`, never over an existing one.
    fn write_identity(&self, seed: [u8; 32]) -> Result<(), DataDirError> {
        write_new_secret(
            &self.identity_path(),
            &format!("{IDENTITY_HEADER}\nsecret: {}\n", hex::encode(seed)),
        )
    }

    /// Makes sure the directory is ours: creates it (and the marker) if new or empty.
    fn claim(&self) -> Result<(), DataDirError> {
        let marker = self.root.join(MARKER);
        if marker.exists() {
            return Ok(());
        }
        if self.root.exists() {
            // Empty, or holding only a restored identity.key: ours to take.
            let foreign = fs::read_dir(&self.root)
                .map_err(io_err(&self.root))?
                .filter_map(Result::ok)
                .any(|e| e.file_name() != "identity.key");
            if foreign {
                return Err(DataDirError::Foreign(self.root.clone()));
            }
        }
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
                .map_err(io_err(&self.root))?;
        }
        fs::write(&marker, MARKER_TEXT).map_err(io_err(&marker))
    }

    /// Reads identity and community.
    pub fn load(&self) -> Result<Profile, DataDirError> {
        let identity = self.identity_path();
        if !identity.exists() {
            if self.root.exists()
                && !self.root.join(MARKER).exists()
                && fs::read_dir(&self.root)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(false)
            {
                return Err(DataDirError::Foreign(self.root.clone()));
            }
            return Err(DataDirError::NotInitialized(self.root.clone()));
        }
        let seed = read_field::<32>(&identity, IDENTITY_HEADER, "secret").map_err(|reason| {
            DataDirError::IdentityDamaged {
                path: identity.clone(),
                reason,
            }
        })?;
        if !self.community_path().exists() {
            return Err(DataDirError::NoCommunity(self.root.clone()));
        }
        let damaged = |path: PathBuf| move |reason| DataDirError::Damaged { path, reason };
        let secret = read_field::<32>(&self.community_path(), COMMUNITY_HEADER, "secret")
            .map_err(damaged(self.community_path()))?;
        let founder =
            read_optional_field::<32>(&self.community_path(), COMMUNITY_HEADER, "founder")
                .map_err(damaged(self.community_path()))?;
        let path = self.community_path();
        let community = match founder {
            Some(founder) => Community::founded(secret, AuthorId(founder)),
            None => Community::from_secret(secret),
        };
        let generation = read_optional_field::<4>(&path, COMMUNITY_HEADER, "generation")
            .map_err(damaged(path.clone()))?
            .map_or(0, u32::from_be_bytes);
        let previous = read_optional_field::<32>(&path, COMMUNITY_HEADER, "previous")
            .map_err(damaged(path.clone()))?;
        let until = read_optional_field::<8>(&path, COMMUNITY_HEADER, "previous_until")
            .map_err(damaged(path.clone()))?
            .map_or(0, i64::from_be_bytes);
        let previous =
            previous.map(|p| (community.rekeyed(p, generation.saturating_sub(1)), until));
        let community = community.rekeyed(*community.secret(), generation);
        let node_path = self.root.join("node.key");
        let node_seed = if node_path.exists() {
            Some(
                read_field::<32>(&node_path, NODE_KEY_HEADER, "secret")
                    .map_err(damaged(node_path))?,
            )
        } else {
            None
        };
        Ok(Profile {
            key: AuthorKey::from_seed(seed),
            community,
            installation: self.installation()?,
            node_seed,
            previous,
        })
    }

    /// Which device of the resident this installation is: drawn once, kept in
    /// `device.id` (made here the first time, by whichever process gets there first).
    pub fn installation(&self) -> Result<Installation, DataDirError> {
        let path = self.root.join("device.id");
        if !path.exists() {
            let drawn: [u8; 4] = rand::random();
            match write_new_secret(
                &path,
                &format!("{DEVICE_HEADER}\ninstallation: {}\n", hex::encode(drawn)),
            ) {
                Ok(()) | Err(DataDirError::AlreadyInitialized(_)) => {}
                Err(e) => return Err(e),
            }
        }
        read_field::<4>(&path, DEVICE_HEADER, "installation")
            .map(Installation)
            .map_err(|reason| DataDirError::Damaged { path, reason })
    }

    /// Makes this (new or empty) folder a linked device of an existing resident: their
    /// identity (`seed`, received from their first device), the community, this device's
    /// own network key and its installation id. Refuses a folder that holds an identity.
    pub fn init_device(
        &self,
        seed: [u8; 32],
        community: &Community,
        node_seed: [u8; 32],
        installation: Installation,
    ) -> Result<Profile, DataDirError> {
        if self.is_initialized() {
            return Err(DataDirError::AlreadyInitialized(self.root.clone()));
        }
        self.claim()?;
        let _ = fs::remove_file(self.root.join("device.id"));
        write_new_secret(
            &self.root.join("device.id"),
            &format!("{DEVICE_HEADER}\ninstallation: {installation}\n"),
        )?;
        let _ = fs::remove_file(self.root.join("node.key"));
        write_new_secret(
            &self.root.join("node.key"),
            &format!("{NODE_KEY_HEADER}\nsecret: {}\n", hex::encode(node_seed)),
        )?;
        if !self.community_path().exists() {
            self.write_community(community)?;
        }
        self.write_identity(seed)?;
        self.load()
    }

    /// Sets the community of an existing identity: after restoring `identity.key` into a
    /// new folder, or to leave a community nobody else has joined yet (the caller checks).
    /// The identity is never touched.
    pub fn set_community(&self, community: &Community) -> Result<(), DataDirError> {
        if !self.is_initialized() {
            return Err(DataDirError::NotInitialized(self.root.clone()));
        }
        self.claim()?;
        let text = community_text(community);
        let path = self.community_path();
        if path.exists() {
            write_atomic(&path, text.as_bytes())
        } else {
            write_new_secret(&path, &text)
        }
    }

    /// Moves this folder's community to `new` (a re-key, `crate::rekey`), keeping the
    /// current secret as the previous one, handed over to members still on it until
    /// `until` (Unix seconds). Written atomically: a crash leaves the old file or the new.
    pub fn move_community(&self, new: &Community, until: i64) -> Result<(), DataDirError> {
        let current = self.load()?.community;
        let mut text = community_text(new);
        text.push_str(&format!(
            "previous: {}\nprevious_until: {}\n",
            hex::encode(current.secret()),
            hex::encode(until.to_be_bytes())
        ));
        write_atomic(&self.community_path(), text.as_bytes())
    }

    /// The secrets of this folder (and the folder itself) that other accounts of this
    /// computer can read or enter, with their Unix mode: each is a warning to show at
    /// start. Empty when everything is private (and always on systems without Unix modes).
    pub fn exposed_to_others(&self) -> Vec<(PathBuf, u32)> {
        let mut exposed = Vec::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for path in [
                self.root.clone(),
                self.identity_path(),
                self.community_path(),
            ] {
                if let Ok(meta) = fs::metadata(&path) {
                    let mode = meta.permissions().mode() & 0o7777;
                    if mode & 0o077 != 0 {
                        exposed.push((path, mode));
                    }
                }
            }
        }
        exposed
    }

    /// Writes the API address and token of a running node (token file mode 0600), this
    /// process's id, and whether its page is open to the LAN: what [`DataDir::read_api`]
    /// reads back.
    pub fn write_api(&self, address: &str, token: &str, lan: bool) -> Result<(), DataDirError> {
        let token_path = self.token_path();
        let _ = fs::remove_file(&token_path);
        write_new_secret(&token_path, &format!("{token}\n"))?;
        let api = ApiFile {
            address: address.to_owned(),
            pid: std::process::id(),
            lan,
        };
        let json = serde_json::to_vec(&api).map_err(|e| DataDirError::Io {
            path: self.api_path(),
            source: io::Error::other(e),
        })?;
        write_atomic(&self.api_path(), &json)
    }

    /// How to reach the running node's API, if a node recorded it (`api.json` and
    /// `api.token` both there and readable). A node killed without cleaning up leaves its
    /// record behind: the caller finds out whether anything answers.
    pub fn read_api(&self) -> Option<ApiInfo> {
        let api: ApiFile = serde_json::from_slice(&fs::read(self.api_path()).ok()?).ok()?;
        let token = fs::read_to_string(self.token_path()).ok()?;
        Some(ApiInfo {
            address: api.address,
            pid: api.pid,
            token: token.trim().to_owned(),
            lan: api.lan,
        })
    }

    /// Forgets the API address (the node is stopping).
    pub fn clear_api(&self) {
        let _ = fs::remove_file(self.api_path());
        let _ = fs::remove_file(self.token_path());
    }
}

/// The 32-byte seed of an identity file (`identity.key`, or what `entraide resident
/// export` writes), with a clear error for anything else.
pub fn read_identity_file(path: &Path) -> Result<[u8; 32], DataDirError> {
    read_field::<32>(path, IDENTITY_HEADER, "secret").map_err(|reason| {
        DataDirError::IdentityDamaged {
            path: path.to_owned(),
            reason,
        }
    })
}

/// Reads `name: <hex>` from a small text file that starts with `header`.
/// The text of `community.key`: the secret, the founder when the community names one, and
/// after a re-key its generation and the previous secret with until when it is handed over.
fn community_text(community: &Community) -> String {
    let mut text = format!(
        "{COMMUNITY_HEADER}\nsecret: {}\n",
        hex::encode(community.secret())
    );
    if let Some(founder) = community.founder() {
        text.push_str(&format!("founder: {founder}\n"));
    }
    if community.generation() > 0 {
        text.push_str(&format!(
            "generation: {}\n",
            hex::encode(community.generation().to_be_bytes())
        ));
    }
    text
}

/// Reads `name:` of a secret file, if the file has that line.
fn read_optional_field<const N: usize>(
    path: &Path,
    header: &str,
    name: &str,
) -> Result<Option<[u8; N]>, String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let prefix = format!("{name}:");
    if !text.lines().any(|l| l.trim().starts_with(&prefix)) {
        return Ok(None);
    }
    read_field(path, header, name).map(Some)
}

fn read_field<const N: usize>(path: &Path, header: &str, name: &str) -> Result<[u8; N], String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(header) {
        return Err(format!("it does not start with `{header}`"));
    }
    let prefix = format!("{name}:");
    let value = lines
        .find_map(|l| l.trim().strip_prefix(&prefix).map(str::trim))
        .ok_or_else(|| format!("no `{name}:` line"))?;
    let mut out = [0u8; N];
    hex::decode_to_slice(value, &mut out)
        .map_err(|_| format!("`{name}` is not {} hex digits", 2 * N))?;
    Ok(out)
}

/// Writes a new secret file atomically, mode 0600, refusing to replace an existing one.
fn write_new_secret(path: &Path, contents: &str) -> Result<(), DataDirError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    file.write_all(contents.as_bytes()).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    // A hard link fails if the target exists: the secret is never replaced.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => sync_dir(path),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(DataDirError::AlreadyInitialized(path.to_owned()))
        }
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Replaces a private file of the data directory atomically, readable by its owner only
/// (mode 0600 on Unix).
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), DataDirError> {
    write_atomic(path, contents)
}

/// Replaces a file atomically (write, fsync, rename, fsync the directory), mode 0600.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), DataDirError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io_err(&tmp))?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(io_err(&tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err(path)));
    if written.is_err() {
        // A half-written copy helps no one, and takes room on a disk that may be full.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<(), DataDirError> {
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[test]
    fn init_then_load_gives_the_same_profile_and_never_overwrites() {
        let dir = tmp();
        let data = DataDir::new(dir.path().join("node"));
        let community = Community::from_secret([3; 32]);
        let profile = data.init([1; 32], &community).unwrap();
        let loaded = data.load().unwrap();
        assert_eq!(loaded.key.id(), profile.key.id());
        assert_eq!(loaded.community, community);
        let before = fs::read(data.identity_path()).unwrap();
        assert!(matches!(
            data.init([9; 32], &community),
            Err(DataDirError::AlreadyInitialized(_))
        ));
        assert_eq!(fs::read(data.identity_path()).unwrap(), before);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.identity_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_restored_identity_is_the_same_and_never_replaces_one() {
        let dir = tmp();
        let data = DataDir::new(dir.path().join("new"));
        let id = data.restore_identity([5; 32]).unwrap();
        assert_eq!(id, AuthorKey::from_seed([5; 32]).id());
        // As after restoring identity.key by hand: an identity waiting for a community.
        assert!(matches!(data.load(), Err(DataDirError::NoCommunity(_))));
        data.set_community(&Community::from_secret([3; 32]))
            .unwrap();
        assert_eq!(data.load().unwrap().key.id(), id);
        let before = fs::read(data.identity_path()).unwrap();
        assert!(matches!(
            data.restore_identity([6; 32]),
            Err(DataDirError::AlreadyInitialized(_))
        ));
        assert_eq!(fs::read(data.identity_path()).unwrap(), before);
        // A folder of other files is not taken, and nothing is written in it.
        fs::write(dir.path().join("thesis.odt"), "my work").unwrap();
        let foreign = DataDir::new(dir.path());
        assert!(matches!(
            foreign.restore_identity([5; 32]),
            Err(DataDirError::Foreign(_))
        ));
        assert!(!foreign.identity_path().exists());
    }

    #[test]
    fn a_damaged_identity_is_reported_and_kept() {
        let dir = tmp();
        let data = DataDir::new(dir.path());
        data.init([1; 32], &Community::from_secret([3; 32]))
            .unwrap();
        fs::write(data.identity_path(), "entraide identity v1\nsecret: 12zz\n").unwrap();
        let err = data.load().unwrap_err();
        assert!(matches!(err, DataDirError::IdentityDamaged { .. }));
        assert!(
            err.to_string().contains("restore it from your backup"),
            "{err}"
        );
        assert!(matches!(
            data.init([1; 32], &Community::from_secret([3; 32])),
            Err(DataDirError::AlreadyInitialized(_))
        ));
        fs::write(data.identity_path(), b"\x00\x01garbage").unwrap();
        assert!(matches!(
            data.load(),
            Err(DataDirError::IdentityDamaged { .. })
        ));
    }

    #[test]
    fn a_foreign_directory_is_refused() {
        let dir = tmp();
        fs::write(dir.path().join("thesis.odt"), "my work").unwrap();
        let data = DataDir::new(dir.path());
        assert!(matches!(data.load(), Err(DataDirError::Foreign(_))));
        assert!(matches!(
            data.init([1; 32], &Community::from_secret([3; 32])),
            Err(DataDirError::Foreign(_))
        ));
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "nothing was written"
        );
    }

    #[cfg(unix)]
    #[test]
    fn secrets_readable_by_others_are_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tmp();
        let d = DataDir::new(dir.path().join("data"));
        d.init([7; 32], &Community::from_secret([1; 32])).unwrap();
        assert_eq!(d.exposed_to_others(), Vec::new());
        fs::set_permissions(d.identity_path(), fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(d.root(), fs::Permissions::from_mode(0o755)).unwrap();
        let exposed = d.exposed_to_others();
        assert_eq!(
            exposed,
            vec![(d.root().to_owned(), 0o755), (d.identity_path(), 0o644)]
        );
    }

    #[test]
    fn the_api_record_reads_back_in_its_documented_format() {
        let dir = tmp();
        let d = DataDir::new(dir.path());
        assert_eq!(d.read_api(), None);
        d.write_api("127.0.0.1:7878", "ab12", false).unwrap();
        let pid = std::process::id();
        assert_eq!(
            fs::read_to_string(d.api_path()).unwrap(),
            format!(r#"{{"address":"127.0.0.1:7878","pid":{pid},"lan":false}}"#)
        );
        assert_eq!(fs::read_to_string(d.token_path()).unwrap(), "ab12\n");
        let api = d.read_api().unwrap();
        assert_eq!(
            api,
            ApiInfo {
                address: "127.0.0.1:7878".into(),
                pid,
                lan: false,
                token: "ab12".into(),
            }
        );
        assert_eq!(api.base_url(), "http://127.0.0.1:7878");
        d.clear_api();
        assert_eq!(d.read_api(), None);
    }

    #[test]
    fn an_empty_directory_is_not_initialized() {
        let dir = tmp();
        assert!(matches!(
            DataDir::new(dir.path()).load(),
            Err(DataDirError::NotInitialized(_))
        ));
    }
}

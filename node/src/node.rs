//! The node handle: a cheap, cloneable [`Node`] that sends commands to the one actor
//! owning the swarm, the board and the store (see [`crate::actor`]).

use std::path::PathBuf;
use std::time::Duration;

use entraide_crdt::{
    AlertDraft, AlertId, AlertView, AuthorId, BoardPage, BoardStats, EntryKind, Filter, LocalDate,
    PostDraft, PostId, PostView, RoundDraft, RoundId, RoundView, SightingDraft, SightingId,
    SightingView, WriteError,
};
use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::data_dir::{DataDir, DataDirError};
use crate::residents::ResidentInfo;
use crate::store::StoreError;

/// Capacity of the command channel from handles to the actor.
pub const COMMAND_CAPACITY: usize = 64;
/// Capacity of the event broadcast (slow subscribers miss events and re-read the board).
pub const EVENT_CAPACITY: usize = 64;

/// How a node is started.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The data directory (initialised).
    pub data_dir: DataDir,
    /// Addresses to listen on; empty means `/ip4/0.0.0.0/tcp/0` and `/ip6/::/tcp/0`.
    pub listen: Vec<Multiaddr>,
    /// Peers given by hand: dialled now, remembered, redialled.
    pub peers: Vec<Multiaddr>,
    /// Where neighbours on other networks reach this node (a meeting point's public
    /// address, `entraide up --announce`): first in invite codes, and told to peers.
    pub announce: Vec<Multiaddr>,
    /// Find neighbours on the LAN with mDNS.
    pub mdns: bool,
    /// How often a sync round runs with every connected peer (repairs what gossip missed).
    pub resync_interval: Duration,
    /// Run without any network (commands on the store while no node runs).
    pub offline: bool,
    /// How long to wait for another process to let go of the database.
    pub store_lock_patience: Duration,
}

impl NodeConfig {
    /// Defaults for `data_dir`: mDNS on, listen everywhere, resync every 30 s.
    pub fn new(data_dir: DataDir) -> Self {
        Self {
            data_dir,
            listen: Vec::new(),
            peers: Vec::new(),
            announce: Vec::new(),
            mdns: true,
            resync_interval: Duration::from_secs(30),
            offline: false,
            store_lock_patience: crate::actor::STORE_LOCK_PATIENCE,
        }
    }
}

/// What can go wrong when asking the node for something. Messages are for people.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The board refused the write.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// No post matches.
    #[error("no post matches `{0}`")]
    NoSuchPost(String),
    /// Several posts match a short id.
    #[error("`{0}` matches several posts: type more of the id")]
    AmbiguousPost(String),
    /// No neighbour matches (or several do).
    #[error("no neighbour who offered help matches `{0}`")]
    NoSuchHelper(String),
    /// No alert, round or sighting matches.
    #[error("no {what} matches `{typed}`")]
    NoSuchEntry {
        /// Which kind of entry.
        what: EntryKind,
        /// What was typed.
        typed: String,
    },
    /// Several alerts, rounds or sightings match a short id.
    #[error("`{typed}` matches several {what}s: type more of the id")]
    AmbiguousEntry {
        /// Which kind of entry.
        what: EntryKind,
        /// What was typed.
        typed: String,
    },
    /// The data directory.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network could not start.
    #[error("the network could not start: {0}")]
    Network(#[from] crate::net::NetError),
    /// An address could not be dialled.
    #[error("cannot dial {address}: {source}")]
    Dial {
        /// The address.
        address: String,
        /// What libp2p said (boxed: it is large, and errors travel in every reply).
        source: Box<libp2p::swarm::DialError>,
    },
    /// The node stopped.
    #[error("the node has stopped")]
    Stopped,
    /// The care register refused the request.
    #[error(transparent)]
    Care(#[from] entraide_crdt::care::CareError),
    /// A report to the stewards was refused.
    #[error(transparent)]
    Report(#[from] entraide_crdt::report::ReportError),
    /// A hosted resident could not be added, found, changed or removed.
    #[error(transparent)]
    Resident(#[from] crate::residents::ResidentError),
    /// The resident this request acts for is no longer hosted here.
    #[error("that resident is no longer hosted on this computer")]
    NotHosted,
    /// Only the computer's owner may do this (not a hosted resident).
    #[error("only the owner of this computer can do that")]
    OwnerOnly,
    /// No member matches what was typed.
    #[error("no member matches `{0}`: type their name as they wrote it, or their fingerprint")]
    NoSuchMember(String),
    /// Several members match what was typed.
    #[error("`{0}` matches several members: type their fingerprint instead")]
    SeveralMembers(String),
    /// No device of the resident matches what was typed.
    #[error("no device of yours is `{0}`: `entraide whoami` lists them, each with its 8-digit id")]
    NoSuchDevice(String),
    /// The node runs without a network (`--offline`), and this needs one.
    #[error("the node runs offline: start it with the network (`entraide up`) to do this")]
    Offline,
    /// A resident tried to block themselves.
    #[error("you cannot block yourself")]
    BlockSelf,
    /// The resident's block list is full.
    #[error(
        "you already blocked {} members: unblock someone first",
        crate::blocked::MAX_BLOCKED
    )]
    TooManyBlocked,
    /// The member named is not on the resident's block list.
    #[error("you have not blocked `{0}`: `entraide blocked` lists whom you blocked")]
    NotBlocked(String),
    /// A private message was refused.
    #[error(transparent)]
    Message(#[from] entraide_crdt::message::MessageError),
    /// The post asked for is by a member the resident blocked.
    #[error("you blocked the author of this post: unblock them (`entraide unblock`) to see it")]
    PostHidden,
}

impl From<entraide_crdt::ResolveError> for NodeError {
    fn from(e: entraide_crdt::ResolveError) -> Self {
        use entraide_crdt::ResolveError as R;
        match e {
            R::NoSuchPost(t) => NodeError::NoSuchPost(t),
            R::AmbiguousPost(t) => NodeError::AmbiguousPost(t),
            R::NoSuchHelper(t) => NodeError::NoSuchHelper(t),
            R::SeveralHelpers(t) => NodeError::NoSuchHelper(format!("{t} (several match)")),
            R::NoSuchEntry { what, typed } => NodeError::NoSuchEntry { what, typed },
            R::AmbiguousEntry { what, typed } => NodeError::AmbiguousEntry { what, typed },
            // A kind added later keeps its own message.
            other => NodeError::NoSuchPost(other.to_string()),
        }
    }
}

/// A neighbour's node, as shown to people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// libp2p peer id.
    pub peer_id: String,
    /// The resident's author id, if known (from identify).
    pub author: Option<AuthorId>,
    /// Their display name, if known.
    pub name: Option<String>,
    /// Whether connected now.
    pub connected: bool,
    /// Whether connected by a direct connection, not only by a relayed one through a
    /// meeting point (which lives only for a hole punch).
    #[serde(default)]
    pub direct: bool,
    /// Addresses seen.
    pub addresses: Vec<String>,
    /// Last time a sync round with them completed or brought changes (Unix seconds).
    pub last_sync: Option<i64>,
    /// Last ping round trip, in microseconds.
    pub rtt_micros: Option<u64>,
    /// Sync-session traffic with them since this node started.
    pub sync: SyncTraffic,
}

/// Traffic of the sync sessions with one neighbour (frame payloads, not counting gossip,
/// ping and the transport's own bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncTraffic {
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Changes applied from them.
    pub changes_applied: u64,
}

/// The node's state, for `entraide status` and the page footer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Who runs this node.
    pub author: AuthorId,
    /// Their name.
    pub name: Option<String>,
    /// The community's public tag.
    pub community: String,
    /// Whether the node is on the network (false for offline commands).
    pub online: bool,
    /// Addresses the node listens on.
    pub listen_addresses: Vec<String>,
    /// Peers connected now.
    pub peers_connected: usize,
    /// Last completed sync with anyone (Unix seconds).
    pub last_sync: Option<i64>,
    /// How many distinct peers synced within the last 10 minutes.
    pub recently_synced_peers: usize,
    /// Board counts.
    pub board: BoardStats,
    /// Digest of every feed's heads (hex): two nodes with the same digest hold the same board.
    pub board_digest: String,
    /// Bytes sent over every connection since the node started (above TCP, with every
    /// protocol's overhead).
    pub network_bytes_sent: u64,
    /// Bytes received over every connection since the node started.
    pub network_bytes_received: u64,
    /// The alerts active now, merged by kind ([`entraide_crdt::Board::active_alerts`]).
    #[serde(default)]
    pub alerts: Vec<AlertView>,
    /// Set when this computer's clock looks wrong: most connected neighbours' clocks
    /// disagree with it by more than 10 minutes, the same way.
    #[serde(default)]
    pub clock_skew: Option<crate::peers::ClockSkew>,
    /// Whether other members can dial this node directly, as the meeting points it uses
    /// found (AutoNAT); `None` until one was asked.
    #[serde(default)]
    pub reachable_directly: Option<bool>,
    /// Direct connections to members behind routers that hole punching made since start.
    #[serde(default)]
    pub hole_punches: u64,
}

/// The owner of the node that holds a hosted resident's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    /// The owner's author id.
    pub author: AuthorId,
    /// Their display name, if the board knows it.
    pub name: Option<String>,
    /// Their fingerprint.
    pub fingerprint: String,
}

/// Who am I.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    /// Author id.
    pub author: AuthorId,
    /// Short fingerprint.
    pub fingerprint: String,
    /// Display name.
    pub name: Option<String>,
    /// Community tag.
    pub community: String,
    /// libp2p peer id.
    pub peer_id: String,
    /// Where the identity key file is (to back it up).
    pub identity_file: PathBuf,
    /// For a resident hosted on someone else's node: the owner of that node, whose
    /// computer holds this resident's key (and who could therefore act as them).
    #[serde(default)]
    pub hosted_by: Option<HostInfo>,
    /// Other residents whose name looks like this one's (same confusable skeleton): only
    /// the fingerprint tells them apart.
    #[serde(default)]
    pub name_lookalikes: Vec<AuthorId>,
    /// The resident's devices (`entraide device link`), this one marked.
    #[serde(default)]
    pub devices: Vec<DeviceInfo>,
}

/// One of a resident's devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Its id: 8 hex digits (what `entraide device remove` takes).
    pub id: String,
    /// What it is called.
    pub name: String,
    /// When it was linked (`None` for a device not listed yet: the only one).
    pub added: Option<i64>,
    /// When it was removed, if it was.
    pub removed: Option<i64>,
    /// Whether it is the device that answered.
    pub this_device: bool,
}

/// A one-time pairing code for a new device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceLink {
    /// The code (`ENTRAIDE-DEVICE-…`) to give `entraide join-device` on the new device.
    pub code: String,
    /// When it stops working (seconds since the Unix epoch).
    pub expires_at: i64,
}

/// Something that happened, for live views.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum NodeEvent {
    /// The board changed (a local write or changes from a neighbour).
    BoardChanged,
    /// A neighbour connected or left.
    PeersChanged,
}

/// A request to the actor, and the resident it acts for (`None`: the node's owner).
#[derive(Debug)]
pub(crate) struct Envelope {
    pub(crate) acting: Option<AuthorId>,
    pub(crate) command: Command,
}

/// A request to the actor.
#[derive(Debug)]
pub(crate) enum Command {
    Post(PostDraft, oneshot::Sender<Result<PostId, NodeError>>),
    Respond(String, String, oneshot::Sender<Result<PostId, NodeError>>),
    Accept(String, String, oneshot::Sender<Result<PostId, NodeError>>),
    Done(String, oneshot::Sender<Result<PostId, NodeError>>),
    Withdraw(String, oneshot::Sender<Result<PostId, NodeError>>),
    Thank(
        String,
        String,
        String,
        oneshot::Sender<Result<PostId, NodeError>>,
    ),
    SetName(String, oneshot::Sender<Result<(), NodeError>>),
    Block(
        String,
        Option<String>,
        oneshot::Sender<Result<crate::blocked::BlockedView, NodeError>>,
    ),
    Unblock(
        String,
        oneshot::Sender<Result<crate::blocked::BlockedView, NodeError>>,
    ),
    Blocked(oneshot::Sender<Vec<crate::blocked::BlockedView>>),
    Message(
        String,
        Option<String>,
        String,
        oneshot::Sender<Result<entraide_crdt::message::MessageView, NodeError>>,
    ),
    Messages(
        String,
        oneshot::Sender<Result<Vec<entraide_crdt::message::MessageView>, NodeError>>,
    ),
    DeleteMessages(String, oneshot::Sender<Result<usize, NodeError>>),
    List(Box<Filter>, oneshot::Sender<Vec<PostView>>),
    Page(Box<Filter>, usize, usize, oneshot::Sender<BoardPage>),
    Show(String, oneshot::Sender<Result<PostView, NodeError>>),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    Status(oneshot::Sender<Status>),
    WhoAmI(oneshot::Sender<WhoAmI>),
    Invite(oneshot::Sender<String>),
    Dial(Multiaddr, oneshot::Sender<Result<(), NodeError>>),
    Care(crate::care::CareCommand),
    DeclareAlert(AlertDraft, oneshot::Sender<Result<AlertId, NodeError>>),
    EndAlert(String, oneshot::Sender<Result<AlertId, NodeError>>),
    Alerts(oneshot::Sender<Vec<AlertView>>),
    AddRound(RoundDraft, oneshot::Sender<Result<RoundId, NodeError>>),
    SignUp(
        SignUp,
        oneshot::Sender<Result<(RoundId, LocalDate), NodeError>>,
    ),
    Rounds(oneshot::Sender<Vec<RoundView>>),
    AddSighting(
        SightingDraft,
        oneshot::Sender<Result<SightingId, NodeError>>,
    ),
    SightingDone(
        String,
        String,
        oneshot::Sender<Result<SightingId, NodeError>>,
    ),
    Sightings(oneshot::Sender<Vec<SightingView>>),
    Resident(ResidentCommand),
    Device(DeviceCommand),
    Steward(crate::stewards::StewardCommand),
    Export(oneshot::Sender<Vec<u8>>),
    Import(Vec<u8>, oneshot::Sender<ImportReport>),
}

/// What importing a board file did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// When the file was made (its maker's clock), if its header could be read.
    pub made_at: Option<i64>,
    /// Feeds read whole from the file.
    pub feeds: usize,
    /// Feeds that brought something new to this board.
    pub updated: usize,
    /// Feeds this board already held as they are.
    pub unchanged: usize,
    /// The fingerprints of the feeds kept (new or already here), in file order.
    pub kept: Vec<String>,
    /// Feeds refused, each with why: nothing of them was applied.
    pub refused: Vec<RefusedFeed>,
    /// Changes a removed device made after its removal, left out.
    pub removed_device_changes: usize,
    /// What was wrong with the file itself (cut short, changed after it was written...),
    /// past the feeds read: those were still checked and kept if valid.
    pub file_error: Option<String>,
}

/// A feed of a board file that was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedFeed {
    /// Its author.
    pub author: AuthorId,
    /// The author's fingerprint, to say which.
    pub fingerprint: String,
    /// Why, as a peer's change would be refused.
    pub reason: String,
}

/// A request about the resident's devices.
#[derive(Debug)]
pub(crate) enum DeviceCommand {
    List(oneshot::Sender<Vec<DeviceInfo>>),
    Link(oneshot::Sender<Result<DeviceLink, NodeError>>),
    Remove(String, oneshot::Sender<Result<DeviceInfo, NodeError>>),
}

/// A request about the residents this node hosts.
#[derive(Debug)]
pub(crate) enum ResidentCommand {
    List(oneshot::Sender<Vec<ResidentInfo>>),
    Add(
        String,
        oneshot::Sender<Result<(ResidentInfo, String), NodeError>>,
    ),
    NewCode(
        String,
        oneshot::Sender<Result<(ResidentInfo, String), NodeError>>,
    ),
    Export(String, oneshot::Sender<Result<String, NodeError>>),
    Remove(
        String,
        bool,
        oneshot::Sender<Result<ResidentInfo, NodeError>>,
    ),
    Login(String, oneshot::Sender<Option<ResidentInfo>>),
}

/// A sign-up for (or withdrawal from) one evening of a round.
#[derive(Debug)]
pub(crate) struct SignUp {
    pub(crate) round: String,
    /// `None`: tonight (the local date now).
    pub(crate) date: Option<LocalDate>,
    pub(crate) walk: bool,
}

/// A handle on a running node. Cheap to clone; the node stops when the last handle is
/// dropped or on [`Node::shutdown`].
#[derive(Clone, Debug)]
pub struct Node {
    commands: mpsc::Sender<Envelope>,
    /// The hosted resident this handle acts for; `None`: the node's owner.
    acting: Option<AuthorId>,
    /// Asks the actor to stop (not a command: nothing else ever handles it).
    stop: mpsc::Sender<oneshot::Sender<()>>,
    events: broadcast::Sender<NodeEvent>,
    /// The actor's task, awaited by [`Node::shutdown`].
    task: std::sync::Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Node {
    pub(crate) fn new(
        commands: mpsc::Sender<Envelope>,
        stop: mpsc::Sender<oneshot::Sender<()>>,
        events: broadcast::Sender<NodeEvent>,
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self {
            commands,
            acting: None,
            stop,
            events,
            task: std::sync::Arc::new(tokio::sync::Mutex::new(Some(task))),
        }
    }

    /// Starts a node: loads the data directory and the store, starts the network (unless
    /// `config.offline`) and returns once it listens.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        crate::actor::start(config).await
    }

    /// A handle on the same node that acts for the hosted resident `author`: every write
    /// is signed with their key, and "mine", "whoami" and the care register are theirs.
    /// The owner's own id gives a handle that acts for the owner. Whether `author` is
    /// hosted is checked at each request ([`NodeError::NotHosted`]).
    pub fn as_resident(&self, author: AuthorId) -> Node {
        Node {
            acting: Some(author),
            ..self.clone()
        }
    }

    /// The hosted resident this handle acts for, if any.
    pub fn acting(&self) -> Option<AuthorId> {
        self.acting
    }

    pub(crate) async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NodeError> {
        let (tx, rx) = oneshot::channel();
        let envelope = Envelope {
            acting: self.acting,
            command: make(tx),
        };
        self.commands
            .send(envelope)
            .await
            .map_err(|_| NodeError::Stopped)?;
        // The actor drops a request for a resident it does not host (any reply type).
        rx.await.map_err(|_| {
            if self.commands.is_closed() || self.acting.is_none() {
                NodeError::Stopped
            } else {
                NodeError::NotHosted
            }
        })
    }

    /// The residents this node hosts, by name.
    pub async fn residents(&self) -> Result<Vec<ResidentInfo>, NodeError> {
        self.ask(|tx| Command::Resident(ResidentCommand::List(tx)))
            .await
    }

    /// Hosts a new resident `name` (a new identity, with their display name set); returns
    /// them and their login code. Owner only.
    pub async fn add_resident(&self, name: &str) -> Result<(ResidentInfo, String), NodeError> {
        self.ask(|tx| Command::Resident(ResidentCommand::Add(name.into(), tx)))
            .await?
    }

    /// Gives hosted resident `name` a new login code (the old one stops working, and their
    /// page sessions end). Owner only.
    pub async fn new_resident_code(&self, name: &str) -> Result<(ResidentInfo, String), NodeError> {
        self.ask(|tx| Command::Resident(ResidentCommand::NewCode(name.into(), tx)))
            .await?
    }

    /// Hosted resident `name`'s identity file (the `identity.key` format). Owner only.
    pub async fn export_resident(&self, name: &str) -> Result<String, NodeError> {
        self.ask(|tx| Command::Resident(ResidentCommand::Export(name.into(), tx)))
            .await?
    }

    /// Deletes this node's copy of hosted resident `name`'s key (refused before an export
    /// unless `forget`). Their posts stay on the board. Owner only.
    pub async fn remove_resident(
        &self,
        name: &str,
        forget: bool,
    ) -> Result<ResidentInfo, NodeError> {
        self.ask(|tx| Command::Resident(ResidentCommand::Remove(name.into(), forget, tx)))
            .await?
    }

    /// The hosted resident whose login code `typed` is, if any (compared in constant time;
    /// the caller throttles guesses).
    pub async fn resident_login(&self, typed: &str) -> Result<Option<ResidentInfo>, NodeError> {
        self.ask(|tx| Command::Resident(ResidentCommand::Login(typed.into(), tx)))
            .await
    }

    /// Posts an offer or request; returns once it is on disk.
    pub async fn post(&self, draft: PostDraft) -> Result<PostId, NodeError> {
        self.ask(|tx| Command::Post(draft, tx)).await?
    }

    /// Responds "I can help" to a post (id or unique prefix).
    pub async fn respond(&self, post: &str, message: &str) -> Result<PostId, NodeError> {
        self.ask(|tx| Command::Respond(post.into(), message.into(), tx))
            .await?
    }

    /// Accepts a helper (author id, unique prefix, or name) for one's own post.
    pub async fn accept(&self, post: &str, helper: &str) -> Result<PostId, NodeError> {
        self.ask(|tx| Command::Accept(post.into(), helper.into(), tx))
            .await?
    }

    /// Marks one's own post done.
    pub async fn done(&self, post: &str) -> Result<PostId, NodeError> {
        self.ask(|tx| Command::Done(post.into(), tx)).await?
    }

    /// Withdraws one's own post.
    pub async fn withdraw(&self, post: &str) -> Result<PostId, NodeError> {
        self.ask(|tx| Command::Withdraw(post.into(), tx)).await?
    }

    /// Thanks a helper on one's own post.
    pub async fn thank(
        &self,
        post: &str,
        helper: &str,
        message: &str,
    ) -> Result<PostId, NodeError> {
        self.ask(|tx| Command::Thank(post.into(), helper.into(), message.into(), tx))
            .await?
    }

    /// Sets one's display name.
    pub async fn set_name(&self, name: &str) -> Result<(), NodeError> {
        self.ask(|tx| Command::SetName(name.into(), tx)).await?
    }

    /// Blocks a member for the resident acting (typed as their name, fingerprint or id):
    /// their posts, responses and name leave the resident's screens on this node. Nothing
    /// is sent to anyone.
    pub async fn block(
        &self,
        who: &str,
        reason: Option<&str>,
    ) -> Result<crate::blocked::BlockedView, NodeError> {
        self.ask(|tx| Command::Block(who.into(), reason.map(str::to_owned), tx))
            .await?
    }

    /// Takes a member off the resident's block list.
    pub async fn unblock(&self, who: &str) -> Result<crate::blocked::BlockedView, NodeError> {
        self.ask(|tx| Command::Unblock(who.into(), tx)).await?
    }

    /// Sends a private message about `post` to the other party: the post's author, for a
    /// neighbour who responded; for the author, `to` (a helper's name or fingerprint), else
    /// the accepted helper, else the only one who responded.
    pub async fn message(
        &self,
        post: &str,
        to: Option<&str>,
        text: &str,
    ) -> Result<entraide_crdt::message::MessageView, NodeError> {
        self.ask(|tx| Command::Message(post.into(), to.map(str::to_owned), text.into(), tx))
            .await?
    }

    /// The resident's private messages about `post`, oldest first.
    pub async fn messages(
        &self,
        post: &str,
    ) -> Result<Vec<entraide_crdt::message::MessageView>, NodeError> {
        self.ask(|tx| Command::Messages(post.into(), tx)).await?
    }

    /// Deletes the resident's conversations about a closed post, on both sides.
    pub async fn delete_messages(&self, post: &str) -> Result<usize, NodeError> {
        self.ask(|tx| Command::DeleteMessages(post.into(), tx))
            .await?
    }

    /// Whom the resident acting blocked.
    pub async fn blocked(&self) -> Result<Vec<crate::blocked::BlockedView>, NodeError> {
        self.ask(Command::Blocked).await
    }

    /// The posts matching `filter`, in board order.
    pub async fn list(&self, filter: Filter) -> Result<Vec<PostView>, NodeError> {
        self.ask(|tx| Command::List(Box::new(filter), tx)).await
    }

    /// One page of the board (`offset`, at most `limit` posts), with at most
    /// [`entraide_crdt::limits::MAX_OPEN_POSTS_SHOWN_PER_AUTHOR`] open posts of any one
    /// author unless the filter names the author ([`entraide_crdt::Board::page`]).
    pub async fn page(
        &self,
        filter: Filter,
        offset: usize,
        limit: usize,
    ) -> Result<BoardPage, NodeError> {
        self.ask(|tx| Command::Page(Box::new(filter), offset, limit, tx))
            .await
    }

    /// One post by id or unique prefix.
    pub async fn show(&self, post: &str) -> Result<PostView, NodeError> {
        self.ask(|tx| Command::Show(post.into(), tx)).await?
    }

    /// Known neighbours.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NodeError> {
        self.ask(Command::Peers).await
    }

    /// The node's state.
    pub async fn status(&self) -> Result<Status, NodeError> {
        self.ask(Command::Status).await
    }

    /// The acting resident's devices, this one marked.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>, NodeError> {
        self.ask(|tx| Command::Device(DeviceCommand::List(tx)))
            .await
    }

    /// A one-time code (10 minutes) that makes another computer a device of the owner
    /// (`entraide join-device`). Owner only; needs the network.
    pub async fn link_device(&self) -> Result<DeviceLink, NodeError> {
        self.ask(|tx| Command::Device(DeviceCommand::Link(tx)))
            .await?
    }

    /// Removes one of the acting resident's devices (its 8-digit id): its changes made
    /// after now are refused by every honest node.
    pub async fn remove_device(&self, id: &str) -> Result<DeviceInfo, NodeError> {
        self.ask(|tx| Command::Device(DeviceCommand::Remove(id.into(), tx)))
            .await?
    }

    /// The whole board as a board file (`entraide_crdt::board_file`).
    pub async fn export(&self) -> Result<Vec<u8>, NodeError> {
        self.ask(Command::Export).await
    }

    /// Checks every feed of a board file as if a peer had sent it, and keeps the valid
    /// ones (saved at once, and offered to neighbours at the next round).
    pub async fn import(&self, file: Vec<u8>) -> Result<ImportReport, NodeError> {
        self.ask(|tx| Command::Import(file, tx)).await
    }

    /// Who runs this node.
    pub async fn whoami(&self) -> Result<WhoAmI, NodeError> {
        self.ask(Command::WhoAmI).await
    }

    /// An invite code with this node's current addresses.
    pub async fn invite(&self) -> Result<String, NodeError> {
        self.ask(Command::Invite).await
    }

    /// Dials an address now and remembers it.
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NodeError> {
        self.ask(|tx| Command::Dial(address, tx)).await?
    }

    /// Declares an alert; returns once it is on disk.
    pub async fn declare_alert(&self, draft: AlertDraft) -> Result<AlertId, NodeError> {
        self.ask(|tx| Command::DeclareAlert(draft, tx)).await?
    }

    /// Ends one's own alert (id or unique prefix).
    pub async fn end_alert(&self, alert: &str) -> Result<AlertId, NodeError> {
        self.ask(|tx| Command::EndAlert(alert.into(), tx)).await?
    }

    /// The alerts active now, merged by kind.
    pub async fn alerts(&self) -> Result<Vec<AlertView>, NodeError> {
        self.ask(Command::Alerts).await
    }

    /// Adds a winter round.
    pub async fn add_round(&self, draft: RoundDraft) -> Result<RoundId, NodeError> {
        self.ask(|tx| Command::AddRound(draft, tx)).await?
    }

    /// Signs up to walk a round (id or unique prefix) on `date` (`None`: tonight), or
    /// withdraws (`walk` false). Returns the round and the date.
    pub async fn sign_up(
        &self,
        round: &str,
        date: Option<LocalDate>,
        walk: bool,
    ) -> Result<(RoundId, LocalDate), NodeError> {
        let signup = SignUp {
            round: round.into(),
            date,
            walk,
        };
        self.ask(|tx| Command::SignUp(signup, tx)).await?
    }

    /// Every round with who walks tonight and the next evenings (the node's local time).
    pub async fn rounds(&self) -> Result<Vec<RoundView>, NodeError> {
        self.ask(Command::Rounds).await
    }

    /// Reports a person sleeping outside (place and needs, never who).
    pub async fn add_sighting(&self, draft: SightingDraft) -> Result<SightingId, NodeError> {
        self.ask(|tx| Command::AddSighting(draft, tx)).await?
    }

    /// Says what one did for a sighting (id or unique prefix).
    pub async fn sighting_done(&self, sighting: &str, what: &str) -> Result<SightingId, NodeError> {
        self.ask(|tx| Command::SightingDone(sighting.into(), what.into(), tx))
            .await?
    }

    /// The live sightings, newest first.
    pub async fn sightings(&self) -> Result<Vec<SightingView>, NodeError> {
        self.ask(Command::Sightings).await
    }

    /// Events for live views.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Stops the node after saving everything; returns once its task and every session
    /// task have ended.
    pub async fn shutdown(&self) -> Result<(), NodeError> {
        let (tx, rx) = oneshot::channel();
        self.stop.send(tx).await.map_err(|_| NodeError::Stopped)?;
        let stopped = rx.await.map_err(|_| NodeError::Stopped);
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
        stopped
    }
}

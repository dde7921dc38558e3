//! The tasks that move a sync session's frames between its stream and the actor: one reads
//! (every frame bounded in size and time), one writes. The session's state machine itself
//! is [`entraide_crdt::Session`], owned by the actor.

use entraide_crdt::Session;
use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use libp2p::PeerId;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::frame::{FrameError, read_frame_within, write_frame};

/// Capacity of the channel from session I/O tasks to the actor.
pub const SESSION_INPUT_CAPACITY: usize = 64;
/// Capacity of each session's outgoing frame queue; a peer that does not drain it is
/// dropped rather than buffered without bound.
pub const SESSION_OUTPUT_CAPACITY: usize = 64;
/// Most sync sessions opened by other peers at once.
pub const MAX_INBOUND_SESSIONS: usize = 32;
/// How long a frame may take to arrive once its length prefix has (slow senders are cut).
pub const FRAME_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What session I/O tasks tell the actor.
#[derive(Debug)]
pub(crate) enum SessionInput {
    /// A stream we asked for is open.
    Opened(PeerId, libp2p::Stream),
    /// Opening failed.
    OpenFailed(PeerId, String),
    /// A frame arrived.
    Frame(PeerId, u64, Vec<u8>),
    /// The stream ended.
    Closed(PeerId, u64, Option<String>),
    /// The peer broke the framing (a frame over the limit, or too slow to arrive).
    Violation(PeerId, u64, String),
    /// A pairing request from a new device (`crate::devices`), to answer on the channel.
    Pairing(
        PeerId,
        crate::devices::PairRequest,
        tokio::sync::oneshot::Sender<Result<[u8; 32], String>>,
    ),
    /// A meeting point told who is reachable through it (`crate::relayed`).
    RelayedMembers(PeerId, Vec<PeerId>),
    /// A member that moved to a new secret handed over these notices (`crate::rekey`).
    Rekey(PeerId, Vec<entraide_crdt::rekey::RekeyNotice>),
}

/// An open sync session with one peer.
pub(crate) struct PeerSession {
    /// Which session of this peer (frames of an older one are ignored).
    pub(crate) id: u64,
    /// The state machine.
    pub(crate) session: Session,
    /// Its outgoing frames.
    pub(crate) out: mpsc::Sender<Vec<u8>>,
    /// Whether the other side opened it.
    pub(crate) inbound: bool,
}

/// Starts the two tasks of session `id` with `peer` in `tasks`; returns the queue of its
/// outgoing frames. Both tasks end when the stream ends, the queue is dropped, or the
/// actor stops listening.
pub(crate) fn spawn(
    tasks: &mut JoinSet<()>,
    peer: PeerId,
    id: u64,
    stream: libp2p::Stream,
    inputs: mpsc::Sender<SessionInput>,
) -> mpsc::Sender<Vec<u8>> {
    let (mut reader, mut writer) = stream.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(SESSION_OUTPUT_CAPACITY);
    let span = tracing::debug_span!("session", %peer, id);
    tasks.spawn(
        async move {
            while let Some(frame) = out_rx.recv().await {
                if write_frame(&mut writer, &frame).await.is_err() {
                    break;
                }
            }
            let _ = writer.close().await;
        }
        .instrument(span.clone()),
    );
    tasks.spawn(
        async move {
            loop {
                let read = read_frame_within(
                    &mut reader,
                    entraide_crdt::limits::MAX_FRAME_BYTES,
                    Some(FRAME_BODY_TIMEOUT),
                )
                .await;
                let input = match read {
                    Ok(Some(frame)) => SessionInput::Frame(peer, id, frame),
                    Ok(None) => SessionInput::Closed(peer, id, None),
                    // Announcing a frame over the limit, or dripping one, is a protocol
                    // violation; a stream cut inside a frame may just be a lost connection.
                    Err(e @ (FrameError::TooLarge { .. } | FrameError::TooSlow { .. })) => {
                        SessionInput::Violation(peer, id, e.to_string())
                    }
                    Err(e) => SessionInput::Closed(peer, id, Some(e.to_string())),
                };
                let closed = matches!(
                    input,
                    SessionInput::Closed(..) | SessionInput::Violation(..)
                );
                if inputs.send(input).await.is_err() || closed {
                    break;
                }
            }
        }
        .instrument(span),
    );
    out_tx
}

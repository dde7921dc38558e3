//! A node built to misbehave: a member of the community (it holds the secret, so its
//! connections get through the private-network layer) that speaks the real protocol over
//! real sockets, but sends whatever the test tells it to.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use entraide_node::community::Community;
use entraide_node::frame::write_frame;
use entraide_node::net::{NetConfig, build_swarm, gossip_topic, sync_protocol};
use futures::{AsyncWriteExt as _, StreamExt as _};
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

/// What the attacker's swarm saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// A connection to this peer is up.
    Connected(PeerId),
    /// The last connection to this peer closed.
    Closed(PeerId),
}

enum Command {
    Dial(Multiaddr),
    Publish(Vec<u8>, oneshot::Sender<Result<(), String>>),
    Disconnect(PeerId),
}

/// The attacker. Its swarm runs in a task of its own.
pub struct Attacker {
    /// Its peer id.
    pub peer_id: PeerId,
    /// Its libp2p key (its author key: the ed25519 seed).
    pub seed: [u8; 32],
    commands: mpsc::Sender<Command>,
    control: libp2p_stream::Control,
    protocol: libp2p::StreamProtocol,
    /// What its swarm sees.
    pub seen: mpsc::Receiver<Seen>,
}

impl std::fmt::Debug for Attacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attacker")
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl Attacker {
    /// [`Attacker::new`] inside `runtime` (its swarm task runs there).
    pub fn new_in(
        runtime: &tokio::runtime::Runtime,
        community: &Community,
        seed: [u8; 32],
    ) -> Result<Self> {
        let _guard = runtime.enter();
        Self::new(community, seed)
    }

    /// A member of `community` with the key `seed`, not yet connected. Call inside a tokio
    /// runtime.
    pub fn new(community: &Community, seed: [u8; 32]) -> Result<Self> {
        let keypair = Keypair::ed25519_from_bytes(seed).map_err(|e| anyhow!("{e}"))?;
        let peer_id = keypair.public().to_peer_id();
        let config = NetConfig {
            mdns: false,
            ..NetConfig::new(community.psk(), community.tag())
        };
        let mut swarm = build_swarm(keypair, &config)?;
        let topic = gossip_topic(&community.tag());
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| anyhow!("{e}"))?;
        let control = swarm.behaviour().stream.new_control();
        let (commands, mut rx) = mpsc::channel::<Command>(64);
        let (seen_tx, seen) = mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    event = swarm.select_next_some() => match event {
                        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                            let _ = seen_tx.try_send(Seen::Connected(peer_id));
                        }
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                            let _ = seen_tx.try_send(Seen::Closed(peer_id));
                        }
                        _ => {}
                    },
                    command = rx.recv() => match command {
                        Some(Command::Dial(addr)) => { let _ = swarm.dial(addr); }
                        Some(Command::Publish(bytes, reply)) => {
                            let r = swarm.behaviour_mut().gossipsub.publish(topic.clone(), bytes);
                            let _ = reply.send(r.map(|_| ()).map_err(|e| e.to_string()));
                        }
                        Some(Command::Disconnect(peer)) => { let _ = swarm.disconnect_peer_id(peer); }
                        None => return,
                    },
                }
            }
        });
        Ok(Self {
            peer_id,
            seed,
            commands,
            control,
            protocol: sync_protocol(&community.tag()),
            seen,
        })
    }

    /// Dials an honest node and waits until connected.
    pub async fn connect(&mut self, address: &Multiaddr, peer: PeerId) -> Result<()> {
        self.commands
            .send(Command::Dial(address.clone()))
            .await
            .map_err(|_| anyhow!("attacker stopped"))?;
        self.wait_for(Seen::Connected(peer), Duration::from_secs(20))
            .await
            .context("the attacker could not connect")
    }

    /// Waits until `what` is seen (other events are dropped).
    pub async fn wait_for(&mut self, what: Seen, timeout: Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.seen.recv()).await {
                Ok(Some(s)) if s == what => return Ok(()),
                Ok(Some(_)) => {}
                Ok(None) => return Err(anyhow!("attacker stopped")),
                Err(_) => return Err(anyhow!("{what:?} not seen within {timeout:?}")),
            }
        }
    }

    /// Publishes raw bytes on the community's gossip topic, retrying while the topic has
    /// no known subscriber yet (subscriptions travel right after connecting).
    pub async fn publish(&self, bytes: Vec<u8>) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut retried = false;
        loop {
            let (tx, rx) = oneshot::channel();
            self.commands
                .send(Command::Publish(bytes.clone(), tx))
                .await
                .map_err(|_| anyhow!("attacker stopped"))?;
            match rx.await? {
                Ok(()) => return Ok(()),
                // The honest node reads slower than we write: our own queue is full, wait.
                Err(e) if e.contains("AllQueuesFull") => {
                    retried = true;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                // gossipsub remembered the message on the attempt that found the queues
                // full; it goes out from its cache.
                Err(e) if retried && e.contains("Duplicate") => return Ok(()),
                Err(e) if e.contains("NoPeersSubscribedToTopic") || e.contains("no peers") => {
                    if tokio::time::Instant::now() > deadline {
                        return Err(anyhow!("nobody subscribed: {e}"));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(anyhow!("publish failed: {e}")),
            }
        }
    }

    /// Closes its connections to `peer`.
    pub async fn disconnect(&self, peer: PeerId) {
        let _ = self.commands.send(Command::Disconnect(peer)).await;
    }

    /// Opens a sync stream to `peer`.
    pub async fn open_stream(&mut self, peer: PeerId) -> Result<libp2p::Stream> {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.control.open_stream(peer, self.protocol.clone()),
        )
        .await
        .context("open_stream timed out")?
        .map_err(|e| anyhow!("open_stream: {e}"))
    }

    /// Opens a sync stream to `peer` and sends these frames (each length-prefixed).
    pub async fn send_frames(
        &mut self,
        peer: PeerId,
        frames: &[Vec<u8>],
    ) -> Result<libp2p::Stream> {
        let mut stream = self.open_stream(peer).await?;
        for f in frames {
            write_frame(&mut stream, f).await?;
        }
        stream.flush().await?;
        Ok(stream)
    }
}

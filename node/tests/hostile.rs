//! A node facing a peer that speaks garbage on the sync stream: the node drops it, keeps
//! refusing it for a while, and keeps syncing with honest neighbours.

use std::time::Duration;

use entraide_crdt::{Category, Filter, Kind, PostDraft, Urgency};
use entraide_node::community::Community;
use entraide_node::data_dir::DataDir;
use entraide_node::frame::write_frame;
use entraide_node::net::{NetConfig, build_swarm, sync_protocol};
use entraide_node::{Multiaddr, Node, NodeConfig};
use futures::{AsyncWriteExt as _, StreamExt as _};
use libp2p::PeerId;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use tokio::sync::mpsc;
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(20);

async fn start_node(dir: &std::path::Path, community: &Community, peers: Vec<Multiaddr>) -> Node {
    let data = DataDir::new(dir);
    data.init(rand::random(), community).unwrap();
    let mut config = NodeConfig::new(data);
    config.mdns = false;
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.peers = peers;
    config.resync_interval = Duration::from_secs(1);
    Node::start(config).await.unwrap()
}

async fn address(node: &Node) -> Multiaddr {
    let status = node.status().await.unwrap();
    let who = node.whoami().await.unwrap();
    let addr = status
        .listen_addresses
        .iter()
        .find(|a| a.starts_with("/ip4/"))
        .unwrap();
    format!("{addr}/p2p/{}", who.peer_id).parse().unwrap()
}

/// What the attacker's swarm saw.
#[derive(Debug)]
enum Seen {
    Connected(PeerId),
    Closed(PeerId),
}

#[tokio::test]
async fn a_peer_sending_garbage_is_dropped_and_kept_out_while_honest_ones_sync() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let community = Community::from_secret([9; 32]);
    let marie = start_node(dirs[0].path(), &community, vec![]).await;
    let marie_addr = address(&marie).await;
    let marie_peer: PeerId = marie.whoami().await.unwrap().peer_id.parse().unwrap();

    // The attacker is a member: it holds the community secret and completes handshakes.
    let config = NetConfig {
        mdns: false,
        ..NetConfig::new(community.psk(), community.tag())
    };
    let mut swarm = build_swarm(Keypair::generate_ed25519(), &config).unwrap();
    let mut control = swarm.behaviour().stream.new_control();
    let (seen_tx, mut seen) = mpsc::channel(16);
    let (dial_tx, mut dial_rx) = mpsc::channel::<Multiaddr>(4);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                event = swarm.select_next_some() => match event {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } => { let _ = seen_tx.send(Seen::Connected(peer_id)).await; }
                    SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => { let _ = seen_tx.send(Seen::Closed(peer_id)).await; }
                    _ => {}
                },
                Some(addr) = dial_rx.recv() => { let _ = swarm.dial(addr); }
            }
        }
    });
    dial_tx.send(marie_addr.clone()).await.unwrap();
    let connected = timeout(PATIENCE, seen.recv()).await.unwrap().unwrap();
    assert!(
        matches!(connected, Seen::Connected(p) if p == marie_peer),
        "{connected:?}"
    );

    let mut stream = timeout(
        PATIENCE,
        control.open_stream(marie_peer, sync_protocol(&community.tag())),
    )
    .await
    .unwrap()
    .expect("the node accepts a sync stream from a member");
    write_frame(&mut stream, b"\xff\x00 this is not a frame of the protocol")
        .await
        .unwrap();
    let _ = stream.flush().await;
    let closed = timeout(PATIENCE, seen.recv())
        .await
        .expect("the node drops the attacker")
        .unwrap();
    assert!(
        matches!(closed, Seen::Closed(p) if p == marie_peer),
        "{closed:?}"
    );

    // Dialling again: the connection is closed at once, for the ban's duration.
    dial_tx.send(marie_addr.clone()).await.unwrap();
    let mut reconnected_and_kept = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, seen.recv()).await {
        match event {
            Seen::Connected(_) => reconnected_and_kept = true,
            Seen::Closed(_) => reconnected_and_kept = false,
        }
    }
    assert!(
        !reconnected_and_kept,
        "a banned peer must not keep a connection"
    );

    // Meanwhile an honest neighbour syncs as usual.
    let karim = start_node(dirs[1].path(), &community, vec![marie_addr]).await;
    let id = marie
        .post(PostDraft {
            kind: Kind::Request,
            category: Category::Visit,
            title: "A visit on Sunday".into(),
            details: String::new(),
            urgency: Urgency::Week,
            area: String::new(),
            expires_at: None,
            on_behalf_of: None,
        })
        .await
        .unwrap();
    let found = timeout(PATIENCE, async {
        loop {
            if karim
                .list(Filter::default())
                .await
                .unwrap()
                .iter()
                .any(|p| p.id == id)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(found.is_ok(), "the honest neighbour got the post");
    marie.shutdown().await.unwrap();
    karim.shutdown().await.unwrap();
}

//! The networking layer over real sockets on this machine: the private transport, the sync
//! stream with its frames, gossip with application validation, the community fence, mDNS.
//!
//! Every test runs under a timeout, so a broken network fails instead of hanging.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket},
    time::Duration,
};

use entraide_node::{
    frame::{MAX_FRAME_BYTES, read_frame, write_frame},
    net::{
        Behaviour, BehaviourEvent, MAX_GOSSIP_MESSAGE_BYTES, NetConfig, build_swarm,
        gossip_message_id, gossip_topic, sync_protocol,
    },
};
use futures::{AsyncWriteExt as _, StreamExt as _};
use libp2p::{
    Multiaddr, Swarm,
    gossipsub::{self, MessageAcceptance, PublishError},
    identity::Keypair,
    mdns,
    multiaddr::Protocol,
    swarm::SwarmEvent,
};
use tokio::time::{Instant, sleep, timeout};

/// A community tag shaped like the real ones (16 hex digits).
const TAG: &str = "0123456789abcdef";
/// The community key most tests share.
const PSK: [u8; 32] = [7; 32];
/// Upper bound for any one test; they take a second or two when things work.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Handshake timeout in these tests, shorter than the default so the wrong-key test ends
/// soon: a wrong key usually shows as a stalled handshake, not as a quick error.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a connection with the wrong key is watched: past the handshake timeout.
const FENCE_WINDOW: Duration = Duration::from_secs(5);

fn new_swarm(psk: [u8; 32], mdns: bool) -> Swarm<Behaviour> {
    let config = NetConfig {
        mdns,
        handshake_timeout: HANDSHAKE_TIMEOUT,
        ..NetConfig::new(psk, TAG)
    };
    build_swarm(Keypair::generate_ed25519(), &config).expect("swarm builds")
}

/// Starts listening on `addr` and returns the first address the swarm reports.
async fn listen(swarm: &mut Swarm<Behaviour>, addr: &str) -> Multiaddr {
    swarm
        .listen_on(addr.parse().expect("valid multiaddr"))
        .expect("listen");
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            return address;
        }
    }
}

/// Which of the two swarms an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    A,
    B,
}

/// The next event of either swarm. Both must be polled all the time: a swarm that is not
/// polled does not answer its peer, and the handshake stalls.
async fn next_event(
    a: &mut Swarm<Behaviour>,
    b: &mut Swarm<Behaviour>,
) -> (Who, SwarmEvent<BehaviourEvent>) {
    tokio::select! {
        event = a.select_next_some() => (Who::A, event),
        event = b.select_next_some() => (Who::B, event),
    }
}

/// Two swarms of the community, B listening on loopback and A connected to it.
async fn connected_pair() -> (Swarm<Behaviour>, Swarm<Behaviour>) {
    let mut a = new_swarm(PSK, false);
    let mut b = new_swarm(PSK, false);
    let b_addr = listen(&mut b, "/ip4/127.0.0.1/tcp/0").await;
    let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());
    a.dial(b_addr.with(Protocol::P2p(b_id))).expect("dial");
    let (mut a_up, mut b_up) = (false, false);
    while !(a_up && b_up) {
        match next_event(&mut a, &mut b).await {
            (Who::A, SwarmEvent::ConnectionEstablished { peer_id, .. }) => {
                assert_eq!(peer_id, b_id);
                a_up = true;
            }
            (Who::B, SwarmEvent::ConnectionEstablished { peer_id, .. }) => {
                assert_eq!(peer_id, a_id);
                b_up = true;
            }
            (who, SwarmEvent::OutgoingConnectionError { error, .. }) => {
                panic!("{who:?}: dial failed: {error}")
            }
            (who, SwarmEvent::IncomingConnectionError { error, .. }) => {
                panic!("{who:?}: incoming connection failed: {error}")
            }
            _ => {}
        }
    }
    (a, b)
}

/// A payload whose bytes depend on their position, so a shifted or mixed-up frame shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn same_key_peers_connect_and_exchange_frames_on_a_sync_stream() {
    timeout(TEST_TIMEOUT, async {
        let (mut a, mut b) = connected_pair().await;
        let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());
        let protocol = sync_protocol(TAG);
        let mut incoming = b
            .behaviour()
            .stream
            .new_control()
            .accept(protocol.clone())
            .expect("first registration of the protocol");
        let mut a_control = a.behaviour().stream.new_control();

        // B answers: one greeting back, the big frame echoed, then it closes after A does.
        let b_side = tokio::spawn(async move {
            let (peer, mut stream) = incoming.next().await.expect("an incoming stream");
            assert_eq!(peer, a_id);
            let hello = read_frame(&mut stream, MAX_FRAME_BYTES).await.unwrap();
            assert_eq!(hello.as_deref(), Some(&b"hello from A"[..]));
            write_frame(&mut stream, b"hello from B").await.unwrap();
            let big = read_frame(&mut stream, MAX_FRAME_BYTES)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(big, pattern(MAX_FRAME_BYTES));
            write_frame(&mut stream, &big).await.unwrap();
            // A closed its side: a clean end, not an error.
            assert!(
                read_frame(&mut stream, MAX_FRAME_BYTES)
                    .await
                    .unwrap()
                    .is_none()
            );
            stream.close().await.unwrap();
        });
        let a_side = tokio::spawn(async move {
            let mut stream = a_control
                .open_stream(b_id, protocol)
                .await
                .expect("stream opens");
            write_frame(&mut stream, b"hello from A").await.unwrap();
            let reply = read_frame(&mut stream, MAX_FRAME_BYTES).await.unwrap();
            assert_eq!(reply.as_deref(), Some(&b"hello from B"[..]));
            write_frame(&mut stream, &pattern(MAX_FRAME_BYTES))
                .await
                .unwrap();
            let echo = read_frame(&mut stream, MAX_FRAME_BYTES)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(echo, pattern(MAX_FRAME_BYTES));
            stream.close().await.unwrap();
            assert!(
                read_frame(&mut stream, MAX_FRAME_BYTES)
                    .await
                    .unwrap()
                    .is_none()
            );
        });

        let both = async {
            a_side.await.expect("A's side");
            b_side.await.expect("B's side");
        };
        tokio::pin!(both);
        loop {
            tokio::select! {
                () = &mut both => break,
                (who, event) = next_event(&mut a, &mut b) => {
                    if let SwarmEvent::ConnectionClosed { cause, .. } = event {
                        panic!("{who:?}: connection closed during the session: {cause:?}");
                    }
                }
            }
        }
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn gossip_reaches_the_peer_and_waits_for_validation() {
    timeout(TEST_TIMEOUT, async {
        let topic = gossip_topic(TAG);
        let (mut a, mut b) = connected_pair().await;
        let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());
        a.behaviour_mut().gossipsub.subscribe(&topic).unwrap();
        b.behaviour_mut().gossipsub.subscribe(&topic).unwrap();

        // A publishes only once it has seen B's subscription; until then gossipsub says
        // `NoPeersSubscribedToTopic`, which a lone node must treat as normal.
        let small = b"a signed change".to_vec();
        let big = pattern(MAX_GOSSIP_MESSAGE_BYTES);
        let mut b_subscribed = false;
        let mut published = false;
        let mut next_try = Instant::now();
        let mut received: Vec<Vec<u8>> = Vec::new();
        while received.len() < 2 {
            let retry = sleep(next_try.saturating_duration_since(Instant::now()));
            tokio::select! {
                () = retry, if b_subscribed && !published => {
                    match a.behaviour_mut().gossipsub.publish(topic.clone(), small.clone()) {
                        Ok(id) => {
                            assert_eq!(id, gossip_message_id(&small));
                            // A full-size push fits: the transmit limit leaves room for
                            // gossipsub's envelope.
                            let id = a
                                .behaviour_mut()
                                .gossipsub
                                .publish(topic.clone(), big.clone())
                                .expect("a 64 KiB message publishes");
                            assert_eq!(id, gossip_message_id(&big));
                            published = true;
                        }
                        Err(PublishError::NoPeersSubscribedToTopic) => {
                            next_try = Instant::now() + Duration::from_millis(100);
                        }
                        Err(e) => panic!("publish failed: {e}"),
                    }
                }
                (who, event) = next_event(&mut a, &mut b) => match (who, event) {
                    (
                        Who::A,
                        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(
                            gossipsub::Event::Subscribed { peer_id, topic: t },
                        )),
                    ) if peer_id == b_id && t == topic.hash() => b_subscribed = true,
                    (
                        Who::B,
                        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                            propagation_source,
                            message_id,
                            message,
                        })),
                    ) => {
                        assert_eq!(propagation_source, a_id);
                        assert_eq!(message.source, Some(a_id), "signed messages name their author");
                        assert_eq!(message.topic, topic.hash());
                        assert_eq!(message_id, gossip_message_id(&message.data));
                        // The application decides; gossipsub held the message until now.
                        // (The big one is refused, to exercise both verdicts.)
                        let acceptance = if message.data == small {
                            MessageAcceptance::Accept
                        } else {
                            MessageAcceptance::Reject
                        };
                        assert!(
                            b.behaviour_mut().gossipsub.report_message_validation_result(
                                &message_id,
                                &propagation_source,
                                acceptance,
                            ),
                            "the message was waiting for validation"
                        );
                        received.push(message.data);
                    }
                    (who, SwarmEvent::ConnectionClosed { cause, .. }) => {
                        panic!("{who:?}: connection closed: {cause:?}")
                    }
                    _ => {}
                },
            }
        }
        assert_eq!(received, vec![small.clone(), big]);

        // Same bytes, same id: a republished change is a duplicate, not a new message.
        assert!(matches!(
            a.behaviour_mut().gossipsub.publish(topic.clone(), small),
            Err(PublishError::Duplicate)
        ));
        // One byte over the payload limit: refused locally, never sent.
        assert!(matches!(
            a.behaviour_mut()
                .gossipsub
                .publish(topic.clone(), vec![0u8; MAX_GOSSIP_MESSAGE_BYTES + 1]),
            Err(PublishError::TransformFailed(_))
        ));
        // Another community's topic is not even subscribable.
        assert!(
            a.behaviour_mut()
                .gossipsub
                .subscribe(&gossip_topic("fedcba9876543210"))
                .is_err()
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn a_node_with_another_key_cannot_connect_nor_open_a_stream() {
    timeout(TEST_TIMEOUT, async {
        let mut a = new_swarm([1; 32], false);
        let mut b = new_swarm([2; 32], false);
        let b_addr = listen(&mut b, "/ip4/127.0.0.1/tcp/0").await;
        let b_id = *b.local_peer_id();
        let protocol = sync_protocol(TAG);
        let mut incoming = b
            .behaviour()
            .stream
            .new_control()
            .accept(protocol.clone())
            .unwrap();
        let mut a_control = a.behaviour().stream.new_control();

        a.dial(b_addr.with(Protocol::P2p(b_id))).expect("dial starts");
        // The stream needs a connection; with the wrong key there is none, so this fails.
        let open = tokio::spawn(async move {
            match a_control.open_stream(b_id, protocol).await {
                Ok(mut stream) => {
                    // Were a stream ever opened, a frame would be written here; the test
                    // below would then see it arrive on B.
                    let _ = write_frame(&mut stream, b"should never arrive").await;
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        });
        tokio::pin!(open);

        let window = sleep(FENCE_WINDOW);
        tokio::pin!(window);
        let mut dial_failed = None;
        let mut refused = None;
        let mut open_result = None;
        // Watch until both sides gave up and the stream request failed (then this attempt
        // is over: nothing can come of it), or until the window closes.
        while dial_failed.is_none() || refused.is_none() || open_result.is_none() {
            tokio::select! {
                () = &mut window => break,
                result = &mut open, if open_result.is_none() => {
                    open_result = Some(result.expect("open task"));
                }
                stream = incoming.next() => {
                    panic!("B accepted a stream from a stranger: {:?}", stream.map(|s| s.0));
                }
                (who, event) = next_event(&mut a, &mut b) => match (who, event) {
                    (who, SwarmEvent::ConnectionEstablished { peer_id, .. }) => {
                        panic!("{who:?}: connection established with {peer_id} despite the wrong key");
                    }
                    (Who::A, SwarmEvent::OutgoingConnectionError { peer_id, error, .. }) => {
                        assert_eq!(peer_id, Some(b_id));
                        dial_failed.get_or_insert(error.to_string());
                    }
                    // B gives up too, freeing its pending-connection slot.
                    (Who::B, SwarmEvent::IncomingConnectionError { error, .. }) => {
                        refused.get_or_insert(error.to_string());
                    }
                    _ => {}
                },
            }
        }
        let error = dial_failed.expect("A's dial reported a failure within the window");
        println!("wrong key, dial error: {error}");
        let error = refused.expect("B dropped the incoming connection within the window");
        println!("wrong key, incoming error: {error}");
        match open_result {
            Some(Err(e)) => println!("wrong key, open_stream error: {e}"),
            other => panic!("open_stream should have failed, got {other:?}"),
        }
        assert!(!a.is_connected(&b_id));
    })
    .await
    .expect("test timed out");
}

/// Whether multicast from this machine loops back to it over a non-loopback interface,
/// which is what mDNS needs (it ignores loopback interfaces). `Err` says why not.
fn multicast_works() -> Result<(), String> {
    let group = Ipv4Addr::new(224, 0, 0, 251);
    let receiver = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| e.to_string())?;
    let port = receiver.local_addr().map_err(|e| e.to_string())?.port();
    // The interface the kernel would send multicast through.
    let probe = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).map_err(|e| e.to_string())?;
    probe
        .connect((group, port))
        .map_err(|e| format!("no route for multicast: {e}"))?;
    let iface = match probe.local_addr().map_err(|e| e.to_string())?.ip() {
        IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => ip,
        other => {
            return Err(format!(
                "multicast would leave through {other}, not a LAN interface"
            ));
        }
    };
    receiver
        .join_multicast_v4(&group, &iface)
        .map_err(|e| format!("cannot join {group} on {iface}: {e}"))?;
    receiver
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let sender = UdpSocket::bind((iface, 0)).map_err(|e| e.to_string())?;
    sender
        .set_multicast_loop_v4(true)
        .map_err(|e| e.to_string())?;
    sender
        .send_to(b"entraide-probe", SocketAddr::from((group, port)))
        .map_err(|e| format!("cannot send multicast from {iface}: {e}"))?;
    let mut buf = [0u8; 64];
    match receiver.recv_from(&mut buf) {
        Ok((n, _)) if &buf[..n] == b"entraide-probe" => Ok(()),
        Ok(_) => Err("unexpected multicast datagram".into()),
        Err(e) => Err(format!(
            "multicast sent from {iface} did not come back: {e}"
        )),
    }
}

#[tokio::test]
async fn mdns_finds_a_neighbour_on_this_machine() {
    let on_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if let Err(reason) = multicast_works() {
        if !on_ci {
            eprintln!("skipping the mDNS test: {reason} (set CI=true to make this a failure)");
            return;
        }
        eprintln!("CI=true: running the mDNS test although {reason}");
    }
    timeout(TEST_TIMEOUT, async {
        let mut a = new_swarm(PSK, true);
        let mut b = new_swarm(PSK, true);
        // mDNS answers only with addresses of the interface a query came in on, and skips
        // loopback: listen on every interface, not on 127.0.0.1.
        listen(&mut a, "/ip4/0.0.0.0/tcp/0").await;
        listen(&mut b, "/ip4/0.0.0.0/tcp/0").await;
        let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());

        let started = Instant::now();
        let (mut a_found_b, mut b_found_a) = (false, false);
        let mut dialed = false;
        let mut connected = false;
        while !(a_found_b && b_found_a && connected) {
            match next_event(&mut a, &mut b).await {
                (
                    Who::A,
                    SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(found))),
                ) => {
                    for (peer, addr) in found {
                        if peer != b_id {
                            continue; // another node on this LAN
                        }
                        a_found_b = true;
                        // mDNS never dials: the node does, as the actor will.
                        if !dialed {
                            println!("mDNS: A found B at {addr} after {:?}", started.elapsed());
                            a.dial(addr.with(Protocol::P2p(peer))).expect("dial");
                            dialed = true;
                        }
                    }
                }
                (
                    Who::B,
                    SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(found))),
                ) => {
                    b_found_a |= found.iter().any(|(peer, _)| *peer == a_id);
                }
                (Who::A, SwarmEvent::ConnectionEstablished { peer_id, .. }) if peer_id == b_id => {
                    connected = true;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("mDNS discovery timed out although multicast works here");
}

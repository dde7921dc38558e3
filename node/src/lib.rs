//! The entraide node: one actor owning the libp2p swarm, the board and the sled store, a
//! cloneable [`Node`] handle to talk to it, and the local JSON API.
pub mod actor;
pub mod api;
pub mod blocked;
pub mod care;
pub mod clock;
pub mod community;
pub mod data_dir;
pub mod devices;
pub mod frame;
pub mod gossip;
pub mod net;
pub mod network;
pub mod node;
pub mod peers;
pub mod rekey;
pub mod relayed;
pub mod residents;
pub mod session_io;
pub mod stewards;
pub mod store;

pub use libp2p::Multiaddr;
pub use libp2p::multiaddr::Protocol;
pub use node::{
    DeviceInfo, DeviceLink, HostInfo, ImportReport, Node, NodeConfig, NodeError, NodeEvent,
    PeerInfo, RefusedFeed, Status, SyncTraffic, WhoAmI,
};
pub use residents::ResidentInfo;

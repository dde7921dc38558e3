//! `entraide up`: run the node in the foreground and serve the local API.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use entraide_node::data_dir::DataDir;
use entraide_node::{Multiaddr, Node, NodeConfig};

use crate::ui::security::{ConnectionLimiter, Sessions};
use tracing_subscriber::EnvFilter;

/// Options of `entraide up`.
#[derive(Debug, clap::Args)]
pub(crate) struct UpArgs {
    /// Address to listen on for neighbours (repeatable), e.g. /ip4/0.0.0.0/tcp/4001.
    #[arg(long, value_name = "MULTIADDR")]
    listen: Vec<Multiaddr>,
    /// A neighbour's address to dial (repeatable); remembered for next time.
    #[arg(long, value_name = "MULTIADDR")]
    peer: Vec<Multiaddr>,
    /// Do not look for neighbours on the local network (mDNS).
    #[arg(long)]
    no_mdns: bool,
    /// Where the local page and API listen (a free port is used if this one is taken).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    ui: SocketAddr,
    /// Also open the page to phones and computers on the local network, behind a login
    /// code shown here and on the invite page.
    #[arg(long)]
    ui_lan: bool,
    /// Open a pop-up board: the page opens to the local network (as with --ui-lan) and
    /// passers-by who scan its QR code (or the poster at /poster) join as guests.
    #[arg(long)]
    popup: bool,
    /// The name of the Wi-Fi guests should join, printed on the pop-up's poster.
    #[arg(long, value_name = "NAME", requires = "popup")]
    wifi: Option<String>,
    /// Seconds between sync rounds with every neighbour.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    resync: u64,
    /// This computer's address as neighbours on other networks reach it (repeatable): a
    /// meeting point's public IP address and port, e.g. `203.0.113.7:4747` (or a multiaddr
    /// `/ip4/203.0.113.7/tcp/4747`). It goes first into invite codes.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_announce)]
    announce: Vec<Multiaddr>,
}

/// An address to announce: `IP:PORT`, or a multiaddr `/ip4/…/tcp/…` or `/ip6/…/tcp/…`.
/// Names are refused: entraide does not resolve them (it must work with no DNS at all).
fn parse_announce(text: &str) -> Result<Multiaddr, String> {
    let text = text.trim();
    let address: Multiaddr = if text.starts_with('/') {
        text.parse().map_err(|e| format!("not a multiaddr: {e}"))?
    } else {
        let socket: SocketAddr = text.parse().map_err(|_| {
            format!(
                "`{text}` is not IP:PORT (for example 203.0.113.7:4747); a name needs DNS, which entraide does not use: give the address"
            )
        })?;
        let ip = match socket.ip() {
            std::net::IpAddr::V4(v4) => format!("/ip4/{v4}"),
            std::net::IpAddr::V6(v6) => format!("/ip6/{v6}"),
        };
        format!("{ip}/tcp/{}", socket.port())
            .parse()
            .map_err(|e| format!("{e}"))?
    };
    use entraide_node::Protocol;
    let mut parts = address.iter();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Protocol::Ip4(_) | Protocol::Ip6(_)), Some(Protocol::Tcp(port)), None)
            if port > 0 =>
        {
            Ok(address)
        }
        _ => Err(format!(
            "`{text}`: announce an IP address and a TCP port, such as 203.0.113.7:4747"
        )),
    }
}

pub(crate) fn run(data_dir: &DataDir, args: UpArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,entraide=info,entraide_node=info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; none in a log file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if !args.ui.ip().is_loopback() {
        bail!(
            "--ui must be a loopback address (127.0.0.1 or [::1]): the page is for this computer only"
        );
    }
    if !data_dir.is_initialized() {
        crate::create_identity(data_dir, None, None, &[], None)?;
        say!(
            "First start: created your identity and a new community in {}.",
            data_dir.root().display()
        );
        say!(
            "Change your name with `entraide name NAME`; back up {}.",
            data_dir.identity_path().display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(data_dir, args))
}

async fn serve(data_dir: &DataDir, args: UpArgs) -> Result<()> {
    raise_descriptor_limit();
    for (path, mode) in data_dir.exposed_to_others() {
        say!(
            "Warning: {} can be read by other accounts of this computer (mode {mode:o}); fix it with: chmod go-rwx {}",
            path.display(),
            path.display()
        );
    }
    let mut config = NodeConfig::new(data_dir.clone());
    config.listen = args.listen;
    config.peers = args.peer;
    config.announce = args.announce.clone();
    config.mdns = !args.no_mdns;
    config.resync_interval = std::time::Duration::from_secs(args.resync.max(1));
    let node = Node::start(config).await?;

    // With --ui-lan (or --popup) the page listens on every interface, same port; the gate
    // in the UI lets only this computer in without the login code.
    let ui_lan = args.ui_lan || args.popup;
    let bind = if ui_lan {
        SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), args.ui.port())
    } else {
        args.ui
    };
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            tokio::net::TcpListener::bind(SocketAddr::new(bind.ip(), 0))
                .await
                .context("cannot open the local page")?
        }
        Err(e) => return Err(e).context(format!("cannot listen on {bind}")),
    };
    let bound = listener.local_addr()?;
    // The address this computer's browser and the CLI use.
    let address = SocketAddr::new(args.ui.ip(), bound.port());
    let token = hex::encode(rand::random::<[u8; 32]>());
    data_dir.write_api(&address.to_string(), &token, ui_lan)?;
    let sessions = Arc::new(Sessions::new(
        Some(data_dir.page_sessions_path()),
        crate::output::now(),
    ));

    let status = node.status().await?;
    let who = node.whoami().await?;
    say!(
        "entraide is running as {} ({}).",
        who.name.as_deref().unwrap_or("?"),
        who.fingerprint
    );
    say!();
    say!(
        "    Open http://{address}{} in your browser.",
        signin_path(&sessions)
    );
    say!();
    say!("That address signs this computer's browser in, once (for a new one: `entraide open`).");
    let lan = if ui_lan {
        let code = lan_code();
        say!(
            "The page is open to this local network (port {port}): on a phone, open http://<this computer's address>:{port}/ and type the code {code}",
            port = bound.port()
        );
        Some(Arc::new(crate::ui::LanAccess::new(code)))
    } else {
        None
    };
    let hosted = node.residents().await.map(|r| r.len()).unwrap_or(0);
    if hosted > 0 && ui_lan {
        say!(
            "{hosted} resident(s) hosted here sign in on their phones at http://<this computer's address>:{}/login with their own code.",
            bound.port()
        );
    } else if hosted > 0 {
        say!(
            "{hosted} resident(s) are hosted here: for their phones to reach the page, start with --ui-lan."
        );
    }
    say!(
        "Local API: http://{address}/api/v1/ (token in {})",
        data_dir.token_path().display()
    );
    for a in &status.listen_addresses {
        say!("Neighbours can reach this node at {a}/p2p/{}", who.peer_id);
    }
    for a in &args.announce {
        say!(
            "Meeting point: invite codes give {a} first, for neighbours on other networks (check that this port reaches this computer from outside)"
        );
    }
    let popup = if args.popup {
        let base = format!("http://{}:{}", lan_address(&status), bound.port());
        let host = who.name.clone().unwrap_or_else(|| who.fingerprint.clone());
        let wifi = args
            .wifi
            .as_deref()
            // One line, at most 64 characters (a Wi-Fi name has at most 32 bytes).
            .map(|w| {
                let w = entraide_crdt::neutralise(w, false);
                w.trim().chars().take(64).collect::<String>()
            })
            .filter(|w| !w.is_empty());
        let popup = crate::ui::popup::Popup::new(node.clone(), base, host, wifi);
        print_popup(&popup, &address);
        Some(Arc::new(popup))
    } else {
        None
    };
    say!("Stop with Ctrl-C.");

    let router = crate::ui::router(
        node.clone(),
        entraide_node::api::router(node.clone(), token.clone()),
        crate::ui::PageConfig {
            sessions: Arc::clone(&sessions),
            lan,
            port: bound.port(),
            api_token: token,
            data_dir: Some(data_dir.root().to_path_buf()),
            popup,
        },
    );
    crate::ui::serve::serve(
        listener,
        router,
        Arc::new(ConnectionLimiter::default()),
        shutdown_signal(),
    )
    .await;
    say!("Stopping: saving the board...");
    node.shutdown().await?;
    data_dir.clear_api();
    Ok(())
}

/// Prints the pop-up's join address, its QR code, and where the host's buttons are.
fn print_popup(popup: &crate::ui::popup::Popup, address: &SocketAddr) {
    let Some(url) = popup.join_url() else { return };
    say!();
    say!(
        "Pop-up board: passers-by on this Wi-Fi scan this code (or open {url}), type a name, and post as guests:"
    );
    crate::output::print_qr(&url);
    say!(
        "Print the poster at http://{address}/poster. There you can replace this code (the old one is then refused) or end the pop-up (nobody new can join; guests' posts stay)."
    );
}

/// This computer's IPv4 address on the local network, for the pop-up's QR code: the
/// node's own listen addresses first, else the address of the route out; loopback (which
/// phones cannot reach) when there is neither.
fn lan_address(status: &entraide_node::Status) -> std::net::Ipv4Addr {
    let listened = status
        .listen_addresses
        .iter()
        .find_map(|a| crate::page_address::lan_ipv4(a));
    // A UDP socket "connected" to a documentation address sends nothing; it only asks the
    // system which of our addresses would be used.
    let routed = || {
        let socket = std::net::UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0)).ok()?;
        socket.connect(("192.0.2.1", 9)).ok()?;
        match socket.local_addr().ok()?.ip() {
            std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
            _ => None,
        }
    };
    listened.or_else(routed).unwrap_or_else(|| {
        say!(
            "Warning: this computer has no address on a local network: phones cannot reach the pop-up board until it joins one (then restart entraide)."
        );
        std::net::Ipv4Addr::LOCALHOST
    })
}

/// The path of a new one-time sign-in address.
fn signin_path(sessions: &Sessions) -> String {
    format!("/signin/{}", sessions.new_link(crate::output::now()))
}

/// Raises the soft limit on open files to the hard limit: every page connection and every
/// neighbour takes a descriptor, and the usual soft limit (1,024) is low for a node whose
/// page is open to a LAN.
fn raise_descriptor_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!("open files limit: {limit}"),
        Err(e) => tracing::warn!("cannot raise the open files limit: {e}"),
    }
}

/// A login code for `--ui-lan`: 8 letters and digits without look-alikes (about 40 bits).
fn lan_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..8)
        .map(|_| ALPHABET[rand::random::<u8>() as usize % ALPHABET.len()] as char)
        .collect()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_addresses_are_ip_and_port_never_names() {
        assert_eq!(
            parse_announce("203.0.113.7:4747").unwrap().to_string(),
            "/ip4/203.0.113.7/tcp/4747"
        );
        assert_eq!(
            parse_announce("[2001:db8::1]:4747").unwrap().to_string(),
            "/ip6/2001:db8::1/tcp/4747"
        );
        assert!(parse_announce("/ip4/203.0.113.7/tcp/4747").is_ok());
        for bad in [
            "entraide.example.org:4747",
            "/dns4/entraide.example.org/tcp/4747",
            "203.0.113.7",
            "/ip4/203.0.113.7/tcp/0",
            "/ip4/203.0.113.7/udp/4747",
        ] {
            assert!(parse_announce(bad).is_err(), "{bad}");
        }
    }
}

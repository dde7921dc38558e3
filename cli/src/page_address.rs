//! The address of this node's page as other devices open it: in residents' login QR codes
//! and in the QR codes of the board on paper.

use entraide_node::data_dir::ApiInfo;

/// The page's address when no node runs: `entraide up`'s default `--ui`.
const DEFAULT_PAGE: &str = "http://127.0.0.1:7878";

/// `http://<IPv4 address of this computer>:<page port>`, when the running node's page is
/// open to the local network (`api.json`'s `lan`) and the node listens on such an address.
/// By IP address: phones often cannot resolve `.local` names.
pub(crate) fn on_the_lan(api: &ApiInfo, listen_addresses: &[String]) -> Option<String> {
    if !api.lan {
        return None;
    }
    let port = api.address.rsplit(':').next()?;
    let ip = listen_addresses.iter().find_map(|a| lan_ipv4(a))?;
    Some(format!("http://{ip}:{port}"))
}

/// The page's address for links that leave the screen (a sheet of paper): on the local
/// network when the page is open to it, else on this computer (the running node's address,
/// or `entraide up`'s default when none runs).
pub(crate) fn for_print(api: Option<&ApiInfo>, listen_addresses: &[String]) -> String {
    match api {
        Some(api) => on_the_lan(api, listen_addresses).unwrap_or_else(|| api.base_url()),
        None => DEFAULT_PAGE.to_owned(),
    }
}

/// The IPv4 address of a libp2p listen address, unless it is a loopback or unspecified one.
pub(crate) fn lan_ipv4(multiaddr: &str) -> Option<std::net::Ipv4Addr> {
    let rest = multiaddr.strip_prefix("/ip4/")?;
    let ip: std::net::Ipv4Addr = rest.split('/').next()?.parse().ok()?;
    (!ip.is_loopback() && !ip.is_unspecified() && !ip.is_link_local()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lan_ipv4_address_goes_into_the_qr_code() {
        assert_eq!(
            lan_ipv4("/ip4/192.168.1.20/tcp/4001"),
            Some("192.168.1.20".parse().expect("ip"))
        );
        assert_eq!(lan_ipv4("/ip4/127.0.0.1/tcp/4001"), None);
        assert_eq!(lan_ipv4("/ip4/0.0.0.0/tcp/4001"), None);
        assert_eq!(lan_ipv4("/ip6/::1/tcp/4001"), None);
        assert_eq!(lan_ipv4("/ip4/169.254.3.4/tcp/1"), None);
    }

    fn api(lan: bool) -> ApiInfo {
        ApiInfo {
            address: "127.0.0.1:7890".into(),
            pid: 1,
            token: "t".into(),
            lan,
        }
    }

    #[test]
    fn paper_links_use_the_lan_address_only_when_the_page_is_open_to_it() {
        let listen = [
            "/ip4/127.0.0.1/tcp/4001".to_owned(),
            "/ip4/192.168.1.20/tcp/4001".to_owned(),
        ];
        assert_eq!(
            for_print(Some(&api(true)), &listen),
            "http://192.168.1.20:7890"
        );
        assert_eq!(
            for_print(Some(&api(false)), &listen),
            "http://127.0.0.1:7890"
        );
        // Open to the LAN but listening on no LAN address: this computer.
        assert_eq!(
            for_print(Some(&api(true)), &listen[..1]),
            "http://127.0.0.1:7890"
        );
        assert_eq!(for_print(None, &listen), "http://127.0.0.1:7878");
    }
}

//! Network namespaces joined by veth pairs or a bridge: several "hosts" on one machine,
//! for tests of what crosses a real network (mDNS, partitions). Needs root and `ip`.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `program` with `args`; its error output is the error.
fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("run `{program}`"))?;
    if !out.status.success() {
        bail!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn ip(args: &[&str]) -> Result<()> {
    run("ip", args)
}

/// Why namespaces cannot be used here, if they cannot.
pub fn unavailable() -> Option<String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if uid.as_deref() != Some("0") {
        return Some("network namespaces need root".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("the `ip` command (iproute2) is not installed".into());
    }
    // Tests of one process probe side by side: each its own name.
    static PROBES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = format!("entraide-probe-{}-{n}", std::process::id());
    if let Err(e) = ip(&["netns", "add", &probe]) {
        return Some(format!("cannot create a network namespace: {e}"));
    }
    let _ = ip(&["netns", "del", &probe]);
    None
}

/// Hosts on one LAN: namespaces joined by a bridge in a namespace of their own.
#[derive(Debug)]
pub struct Lan {
    hub: String,
    hosts: Vec<String>,
}

impl Lan {
    /// `n` hosts named `<tag>h<i>` with addresses `10.<net>.0.<i+1>/24` on one bridge.
    pub fn new(tag: &str, n: usize) -> Result<Self> {
        let net = 50 + (std::process::id() % 150);
        let hub = format!("{tag}hub");
        ip(&["netns", "add", &hub])?;
        let mut lan = Lan {
            hub: hub.clone(),
            hosts: Vec::new(),
        };
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &hub, "link", "set", "br0", "up"])?;
        for i in 0..n {
            let host = format!("{tag}h{i}");
            ip(&["netns", "add", &host])?;
            lan.hosts.push(host.clone());
            let (inner, outer) = (format!("e{i}"), format!("p{i}"));
            ip(&[
                "-n", &host, "link", "add", &inner, "type", "veth", "peer", "name", &outer,
                "netns", &hub,
            ])?;
            ip(&["-n", &hub, "link", "set", &outer, "master", "br0"])?;
            ip(&["-n", &hub, "link", "set", &outer, "up"])?;
            ip(&[
                "-n",
                &host,
                "addr",
                "add",
                &format!("10.{net}.0.{}/24", i + 1),
                "dev",
                &inner,
            ])?;
            ip(&["-n", &host, "link", "set", &inner, "up"])?;
            ip(&["-n", &host, "link", "set", "lo", "up"])?;
            // mDNS needs a multicast route on the LAN interface.
            ip(&["-n", &host, "route", "add", "224.0.0.0/4", "dev", &inner])?;
        }
        Ok(lan)
    }

    /// The namespace of host `i`.
    pub fn host(&self, i: usize) -> &str {
        &self.hosts[i]
    }

    /// The command prefix that runs a program on host `i`.
    pub fn prefix(&self, i: usize) -> Vec<&str> {
        vec!["ip", "netns", "exec", self.host(i)]
    }

    /// Cuts host `i` off the LAN (its cable is pulled).
    pub fn unplug(&self, i: usize) -> Result<()> {
        ip(&["-n", &self.hub, "link", "set", &format!("p{i}"), "down"])
    }

    /// Plugs host `i` back in.
    pub fn plug(&self, i: usize) -> Result<()> {
        ip(&["-n", &self.hub, "link", "set", &format!("p{i}"), "up"])
    }

    /// Cuts the LAN in two: the ports of `hosts` move from `br0` to a bridge `br1` of their
    /// own (made on first use). Each half keeps its switch; nothing crosses between them,
    /// and no connection is closed: packets just stop, as with a cable cut between two
    /// switches.
    pub fn split(&self, hosts: &[usize]) -> Result<()> {
        if ip(&["-n", &self.hub, "link", "show", "br1"]).is_err() {
            ip(&["-n", &self.hub, "link", "add", "br1", "type", "bridge"])?;
            ip(&["-n", &self.hub, "link", "set", "br1", "up"])?;
        }
        for i in hosts {
            ip(&[
                "-n",
                &self.hub,
                "link",
                "set",
                &format!("p{i}"),
                "master",
                "br1",
            ])?;
        }
        Ok(())
    }

    /// Joins the halves again: the ports of `hosts` go back to `br0`.
    pub fn heal(&self, hosts: &[usize]) -> Result<()> {
        for i in hosts {
            ip(&[
                "-n",
                &self.hub,
                "link",
                "set",
                &format!("p{i}"),
                "master",
                "br0",
            ])?;
        }
        Ok(())
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for h in self.hosts.iter().chain(std::iter::once(&self.hub)) {
            let _ = ip(&["netns", "del", h]);
        }
    }
}

/// Hosts on networks of their own, joined only through a router: host 0 (a meeting point,
/// as a small rented server would be) reaches every network; every other host is on a
/// network that routes only to host 0's, so two of those hosts cannot reach each other at
/// all (as two homes behind their own routers). Host `i` is `10.N.(i+1).2`, the router
/// `10.N.(i+1).1` on that link. No default route anywhere.
#[derive(Debug)]
pub struct Routed {
    router: String,
    hosts: Vec<String>,
    addresses: Vec<String>,
}

impl Routed {
    /// A router `<tag>rt` and `n` hosts `<tag>r<i>`.
    pub fn new(tag: &str, n: usize) -> Result<Self> {
        let net = 100 + (std::process::id() % 100);
        let router = format!("{tag}rt");
        let _ = ip(&["netns", "del", &router]);
        ip(&["netns", "add", &router])?;
        let mut routed = Routed {
            router: router.clone(),
            hosts: Vec::new(),
            addresses: Vec::new(),
        };
        let out = Command::new("ip")
            .args(["netns", "exec", &router, "sh", "-c"])
            .arg("echo 1 > /proc/sys/net/ipv4/ip_forward")
            .output()
            .context("run `ip netns exec`")?;
        if !out.status.success() {
            bail!(
                "cannot turn forwarding on: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        ip(&["-n", &router, "link", "set", "lo", "up"])?;
        for i in 0..n {
            let host = format!("{tag}r{i}");
            let _ = ip(&["netns", "del", &host]);
            ip(&["netns", "add", &host])?;
            routed.hosts.push(host.clone());
            let outer = format!("r{i}");
            ip(&[
                "-n", &host, "link", "add", "e0", "type", "veth", "peer", "name", &outer, "netns",
                &router,
            ])?;
            let (gateway, address) = (
                format!("10.{net}.{}.1", i + 1),
                format!("10.{net}.{}.2", i + 1),
            );
            ip(&[
                "-n",
                &router,
                "addr",
                "add",
                &format!("{gateway}/24"),
                "dev",
                &outer,
            ])?;
            ip(&["-n", &router, "link", "set", &outer, "up"])?;
            ip(&[
                "-n",
                &host,
                "addr",
                "add",
                &format!("{address}/24"),
                "dev",
                "e0",
            ])?;
            ip(&["-n", &host, "link", "set", "e0", "up"])?;
            ip(&["-n", &host, "link", "set", "lo", "up"])?;
            let reach = if i == 0 {
                format!("10.{net}.0.0/16")
            } else {
                format!("10.{net}.1.0/24")
            };
            ip(&["-n", &host, "route", "add", &reach, "via", &gateway])?;
            routed.addresses.push(address);
        }
        Ok(routed)
    }

    /// The command prefix that runs a program on host `i`.
    pub fn prefix(&self, i: usize) -> Vec<&str> {
        vec!["ip", "netns", "exec", &self.hosts[i]]
    }

    /// Host `i`'s address.
    pub fn address(&self, i: usize) -> &str {
        &self.addresses[i]
    }
}

impl Drop for Routed {
    fn drop(&mut self) {
        for h in self.hosts.iter().chain(std::iter::once(&self.router)) {
            let _ = ip(&["netns", "del", h]);
        }
    }
}

/// Why [`Natted`] cannot be used here, if it cannot: [`unavailable`], or no `iptables`.
pub fn nat_unavailable() -> Option<String> {
    if let Some(why) = unavailable() {
        return Some(why);
    }
    match Command::new("iptables").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("the `iptables` command is not installed (home routers need it)".into()),
    }
}

fn in_ns(ns: &str, program: &str, args: &[&str]) -> Result<()> {
    run("ip", &[&["netns", "exec", ns, program][..], args].concat())
}

/// Homes behind home routers, on the internet with a meeting point. Host 0 (the meeting
/// point) is on the internet at `10.N.1.2`. Every other host `i` is a home at
/// `192.168.1.2`, the same private address in every home as with real routers, behind a
/// router of its own at `10.N.(i+1).2` on the internet: it translates addresses (NAT,
/// keeping the port when it is free) and drops any connection from outside that it did not
/// see go out, as home routers do. The internet is a core router joining every link; no
/// default route anywhere.
#[derive(Debug)]
pub struct Natted {
    namespaces: Vec<String>,
    hosts: Vec<String>,
    addresses: Vec<String>,
    public: Vec<String>,
}

impl Natted {
    /// A core `<tag>ct`, the meeting point `<tag>n0`, and `n - 1` homes `<tag>n<i>` behind
    /// routers `<tag>g<i>`.
    pub fn new(tag: &str, n: usize) -> Result<Self> {
        let net = 100 + (std::process::id() % 100);
        let core = format!("{tag}ct");
        let mut natted = Natted {
            namespaces: Vec::new(),
            hosts: Vec::new(),
            addresses: Vec::new(),
            public: Vec::new(),
        };
        let add = |natted: &mut Natted, name: &str, forward: bool| -> Result<()> {
            let _ = ip(&["netns", "del", name]);
            ip(&["netns", "add", name])?;
            natted.namespaces.push(name.to_owned());
            ip(&["-n", name, "link", "set", "lo", "up"])?;
            if forward {
                in_ns(name, "sysctl", &["-q", "-w", "net.ipv4.ip_forward=1"])?;
            }
            Ok(())
        };
        // A veth pair from `a` (named `a_if`, address `a_ip`) to `b`.
        let link = |a: &str, a_if: &str, a_ip: &str, b: &str, b_if: &str, b_ip: &str| {
            ip(&[
                "-n", a, "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b,
            ])?;
            for (ns, iface, addr) in [(a, a_if, a_ip), (b, b_if, b_ip)] {
                ip(&["-n", ns, "addr", "add", addr, "dev", iface])?;
                ip(&["-n", ns, "link", "set", iface, "up"])
                    .with_context(|| format!("{iface} up in {ns}"))?;
            }
            anyhow::Ok(())
        };
        let internet = format!("10.{net}.0.0/16");
        add(&mut natted, &core, true)?;
        for i in 0..n {
            let host = format!("{tag}n{i}");
            add(&mut natted, &host, false)?;
            natted.hosts.push(host.clone());
            let (core_ip, public) = (
                format!("10.{net}.{}.1", i + 1),
                format!("10.{net}.{}.2", i + 1),
            );
            let core_if = format!("c{i}");
            natted.public.push(public.clone());
            if i == 0 {
                link(
                    &host,
                    "e0",
                    &format!("{public}/24"),
                    &core,
                    &core_if,
                    &format!("{core_ip}/24"),
                )?;
                ip(&["-n", &host, "route", "add", &internet, "via", &core_ip])?;
                natted.addresses.push(public);
                continue;
            }
            let gateway = format!("{tag}g{i}");
            add(&mut natted, &gateway, true)?;
            link(
                &gateway,
                "wan",
                &format!("{public}/24"),
                &core,
                &core_if,
                &format!("{core_ip}/24"),
            )?;
            ip(&["-n", &gateway, "route", "add", &internet, "via", &core_ip])?;
            link(
                &host,
                "e0",
                "192.168.1.2/24",
                &gateway,
                "lan",
                "192.168.1.1/24",
            )?;
            ip(&["-n", &host, "route", "add", &internet, "via", "192.168.1.1"])?;
            let established = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED"];
            for rule in [
                &[
                    "-t",
                    "nat",
                    "-A",
                    "POSTROUTING",
                    "-o",
                    "wan",
                    "-j",
                    "MASQUERADE",
                ][..],
                &[
                    &["-A", "FORWARD", "-i", "wan"][..],
                    &established,
                    &["-j", "ACCEPT"],
                ]
                .concat(),
                &["-A", "FORWARD", "-i", "wan", "-j", "DROP"],
                &[
                    &["-A", "INPUT", "-i", "wan"][..],
                    &established,
                    &["-j", "ACCEPT"],
                ]
                .concat(),
                &["-A", "INPUT", "-i", "wan", "-j", "DROP"],
            ] {
                in_ns(&gateway, "iptables", rule)?;
            }
            natted.addresses.push("192.168.1.2".to_owned());
        }
        Ok(natted)
    }

    /// The command prefix that runs a program on host `i`.
    pub fn prefix(&self, i: usize) -> Vec<&str> {
        vec!["ip", "netns", "exec", &self.hosts[i]]
    }

    /// Host `i`'s own address (a home's is private: `192.168.1.2`).
    pub fn address(&self, i: usize) -> &str {
        &self.addresses[i]
    }

    /// Where host `i` is seen from the internet: its router's address for a home.
    pub fn public_address(&self, i: usize) -> &str {
        &self.public[i]
    }

    /// Whether a program on host `from` can open a TCP connection to `address:port` within
    /// three seconds.
    pub fn can_connect(&self, from: usize, address: &str, port: u16) -> bool {
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.hosts[from],
                "timeout",
                "3",
                "bash",
                "-c",
            ])
            .arg(format!("exec 3<>/dev/tcp/{address}/{port}"))
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Natted {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// Other hosts on a LAN with this machine: each guest is a namespace joined to this
/// machine's own namespace by a veth pair on a subnet of its own (guest `i` is `10.N.S.2`,
/// this machine is `10.N.S.1` on that link). A node run normally here is then "this
/// computer", and programs run in a guest are LAN hosts with addresses of their own.
#[derive(Debug)]
pub struct Guests {
    hosts: Vec<String>,
    links: Vec<String>,
    ours: Vec<String>,
}

/// Subnets handed out to guests of this process, so tests running side by side never share
/// one.
static NEXT_SUBNET: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Guests {
    /// `n` guests named `<tag>g<i>`.
    pub fn new(tag: &str, n: usize) -> Result<Self> {
        let net = 200 + (std::process::id() % 50);
        let mut guests = Guests {
            hosts: Vec::new(),
            links: Vec::new(),
            ours: Vec::new(),
        };
        for i in 0..n {
            let subnet = NEXT_SUBNET.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 250;
            let host = format!("{tag}g{i}");
            let (outer, inner) = (format!("{tag}v{i}"), "eth0".to_owned());
            let _ = ip(&["netns", "del", &host]);
            let _ = ip(&["link", "del", &outer]);
            ip(&["netns", "add", &host])?;
            guests.hosts.push(host.clone());
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner, "netns", &host,
            ])?;
            guests.links.push(outer.clone());
            let ours = format!("10.{net}.{subnet}.1");
            ip(&["addr", "add", &format!("{ours}/24"), "dev", &outer])?;
            ip(&["link", "set", &outer, "up"])?;
            ip(&[
                "-n",
                &host,
                "addr",
                "add",
                &format!("10.{net}.{subnet}.2/24"),
                "dev",
                &inner,
            ])?;
            ip(&["-n", &host, "link", "set", &inner, "up"])?;
            ip(&["-n", &host, "link", "set", "lo", "up"])?;
            guests.ours.push(ours);
        }
        Ok(guests)
    }

    /// The command prefix that runs a program on guest `i`.
    pub fn prefix(&self, i: usize) -> Vec<&str> {
        vec!["ip", "netns", "exec", &self.hosts[i]]
    }

    /// This machine's address as guest `i` reaches it.
    pub fn our_address(&self, i: usize) -> &str {
        &self.ours[i]
    }
}

impl Drop for Guests {
    fn drop(&mut self) {
        for link in &self.links {
            let _ = ip(&["link", "del", link]);
        }
        for host in &self.hosts {
            let _ = ip(&["netns", "del", host]);
        }
    }
}

//! `entraide resident ...`: neighbours with only a phone, or nothing, hosted on this
//! computer as residents of their own.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use entraide_node::ResidentInfo;
use entraide_node::data_dir::DataDir;
use serde_json::{Value, json};

use crate::client::{Client, urlencode};
use crate::output::term_safe;

/// Residents whose keys this computer holds.
#[derive(Debug, Subcommand)]
pub(crate) enum ResidentCmd {
    /// Host a new resident: their own identity and feed on this computer, and a personal
    /// login code (and QR code) for their phone on this Wi-Fi.
    Add {
        /// Their name as neighbours will see it (and as `--as NAME` takes it).
        #[arg(long)]
        name: String,
    },
    /// The residents hosted here.
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Give a resident a new login code: the old one stops working and every device
    /// signed in with it is signed out.
    Code {
        /// The resident's name.
        name: String,
    },
    /// Write a resident's identity to a file, to move them to a device of their own
    /// (`entraide join CODE --identity FILE` there). Whoever holds the file acts as them.
    Export {
        /// The resident's name.
        name: String,
        /// Where to write it (a new file).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Delete this computer's copy of a resident's key once they moved to their own
    /// device. Their posts stay on the board.
    Remove {
        /// The resident's name.
        name: String,
        /// Remove them even though their key was never exported (it is then lost).
        #[arg(long)]
        forget: bool,
    },
}

pub(crate) fn run(client: &Client, data_dir: &DataDir, command: ResidentCmd) -> Result<()> {
    match command {
        ResidentCmd::Add { name } => {
            let (resident, code) = client.add_resident(&name)?;
            say!(
                "{} is now hosted on this computer ({}).",
                term_safe(&resident.name, false),
                resident.fingerprint
            );
            print_login(client, data_dir, &code);
        }
        ResidentCmd::List { json } => {
            let residents = client.residents()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&residents)?);
            } else if residents.is_empty() {
                say!(
                    "No resident is hosted here. Add one with `entraide resident add --name NAME`."
                );
            } else {
                for r in &residents {
                    let exported = if r.exported.is_some() {
                        "  (exported)"
                    } else {
                        ""
                    };
                    say!("{}  {}{exported}", r.fingerprint, term_safe(&r.name, false));
                }
            }
        }
        ResidentCmd::Code { name } => {
            let (resident, code) = client.new_resident_code(&name)?;
            say!(
                "New login code for {} (the old one no longer works; their devices are signed out):",
                term_safe(&resident.name, false)
            );
            print_login(client, data_dir, &code);
        }
        ResidentCmd::Export { name, out } => {
            let identity = client.export_resident(&name)?;
            let path =
                out.unwrap_or_else(|| PathBuf::from(format!("{}.identity.key", file_safe(&name))));
            write_new(&path, identity.as_bytes())?;
            say!("Wrote {}.", path.display());
            say!("Whoever holds this file acts as {name}: give it to them only, then delete it.");
            say!(
                "On their own device: entraide join CODE --identity {}",
                path.display()
            );
            say!("Then, here: entraide resident remove {name}");
        }
        ResidentCmd::Remove { name, forget } => {
            let resident = client.remove_resident(&name, forget)?;
            say!(
                "{} is no longer hosted here: this computer no longer holds their key. Their posts stay on the board.",
                term_safe(&resident.name, false)
            );
        }
    }
    Ok(())
}

/// Prints a resident's login code, and, when the running node's page is open to the local
/// network, the address and a QR code that opens it on a phone (by IP address: phones
/// often cannot resolve `.local` names).
fn print_login(client: &Client, data_dir: &DataDir, code: &str) {
    say!();
    say!("    Login code: {code}");
    say!();
    match lan_login_url(client, data_dir, code) {
        Some(url) => {
            say!("On their phone, on this Wi-Fi, scan this code or open {url}");
            crate::output::print_qr(&url);
        }
        None => say!(
            "On their phone, on this Wi-Fi: open http://<this computer's address>:<port>/login and type the code (the page must be open to the network: `entraide up --ui-lan`)."
        ),
    }
    say!(
        "Keep the code for them only: it signs in as them. `entraide resident code NAME` replaces it."
    );
}

/// `http://<IPv4 address of this computer>:<page port>/login?code=...`, when a node runs
/// with its page open to the LAN.
fn lan_login_url(client: &Client, data_dir: &DataDir, code: &str) -> Option<String> {
    let api = data_dir.read_api().filter(|a| a.lan)?;
    let port = api.address.rsplit(':').next()?.to_owned();
    let status = client.status().ok()?;
    let ip = status.listen_addresses.iter().find_map(|a| lan_ipv4(a))?;
    Some(format!("http://{ip}:{port}/login?code={}", urlencode(code)))
}

/// The IPv4 address of a libp2p listen address, unless it is a loopback or unspecified one.
pub(crate) fn lan_ipv4(multiaddr: &str) -> Option<std::net::Ipv4Addr> {
    let rest = multiaddr.strip_prefix("/ip4/")?;
    let ip: std::net::Ipv4Addr = rest.split('/').next()?.parse().ok()?;
    (!ip.is_loopback() && !ip.is_unspecified() && !ip.is_link_local()).then_some(ip)
}

/// A file name made of the letters and digits of a name.
fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    if safe.trim_matches('-').is_empty() {
        "resident".to_owned()
    } else {
        safe
    }
}

/// Writes a new private file (mode 0600), never replacing one.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists: choose another --out", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

impl Client {
    pub(crate) fn residents(&self) -> Result<Vec<ResidentInfo>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/residents", None)
        } else {
            self.local(async |n| n.residents().await)
        }
    }

    fn coded(value: Value) -> Result<(ResidentInfo, String)> {
        let resident = serde_json::from_value(value.get("resident").cloned().unwrap_or_default())?;
        let code = value
            .get("code")
            .and_then(Value::as_str)
            .context("unexpected answer from the node: no code")?;
        Ok((resident, code.to_owned()))
    }

    pub(crate) fn add_resident(&self, name: &str) -> Result<(ResidentInfo, String)> {
        if self.is_remote() {
            Self::coded(self.call("POST", "/api/v1/residents", Some(json!({ "name": name })))?)
        } else {
            self.local(async |n| n.add_resident(name).await)
        }
    }

    pub(crate) fn new_resident_code(&self, name: &str) -> Result<(ResidentInfo, String)> {
        if self.is_remote() {
            let path = format!("/api/v1/residents/{}/code", urlencode(name));
            Self::coded(self.call("POST", &path, None)?)
        } else {
            self.local(async |n| n.new_resident_code(name).await)
        }
    }

    pub(crate) fn export_resident(&self, name: &str) -> Result<String> {
        if self.is_remote() {
            let path = format!("/api/v1/residents/{}/export", urlencode(name));
            let value: Value = self.call("POST", &path, None)?;
            value
                .get("identity")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .context("unexpected answer from the node: no identity")
        } else {
            self.local(async |n| n.export_resident(name).await)
        }
    }

    pub(crate) fn remove_resident(&self, name: &str, forget: bool) -> Result<ResidentInfo> {
        if self.is_remote() {
            let path = format!("/api/v1/residents/{}/remove", urlencode(name));
            self.call("POST", &path, Some(json!({ "forget": forget })))
        } else {
            self.local(async |n| n.remove_resident(name, forget).await)
        }
    }
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

    #[test]
    fn export_file_names_keep_letters_only() {
        assert_eq!(file_safe("Zoé"), "Zoé");
        assert_eq!(file_safe("../x y"), "---x-y");
        assert_eq!(file_safe("//"), "resident");
    }
}

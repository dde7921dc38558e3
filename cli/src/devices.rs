//! `entraide device ...` and `entraide join-device`: one resident, several devices.

use anyhow::{Context, Result};
use clap::Subcommand;
use entraide_node::data_dir::DataDir;
use entraide_node::devices::{PAIRING_VALIDITY, PairingCode};

use crate::client::Client;
use crate::output::{self, line};
use crate::when;

/// Your devices: link a new one, list them, remove a lost one.
#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCmd {
    /// Make a one-time pairing code (and QR code) that makes another computer a device of
    /// yours: run `entraide join-device CODE` there within 10 minutes. Needs `entraide up`.
    Link {
        /// Print JSON: `{"code": ..., "expires_at": ...}`.
        #[arg(long)]
        json: bool,
    },
    /// Your devices, with their ids (as `whoami` shows them too).
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Retire a lost device: every honest node refuses what it writes after this.
    Remove {
        /// The device's id: 8 hex digits, as `entraide device list` shows.
        id: String,
    },
}

pub(crate) fn run(client: &Client, command: DeviceCmd) -> Result<()> {
    match command {
        DeviceCmd::Link { json } => {
            let link = client.link_device()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&link)?);
                return Ok(());
            }
            say!(
                "Pairing code for a new device of yours (it works once, for {} minutes, until {}):\n",
                PAIRING_VALIDITY.as_secs() / 60,
                when::local(link.expires_at)
            );
            say!("{}\n", link.code);
            output::print_qr(&link.code);
            say!("On the new device: entraide join-device {}", link.code);
            say!(
                "Whoever holds this code can become you: give it to nobody, and keep this node running until the other device is linked."
            );
        }
        DeviceCmd::List { json } => {
            let devices = client.devices()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                print_devices(&devices);
            }
        }
        DeviceCmd::Remove { id } => {
            let device = client.remove_device(&id)?;
            say!(
                "Device {} ({}) is removed: what it writes from now on is refused by every honest node.",
                device.id,
                line(&device.name)
            );
            say!(
                "If someone could take your key out of it, make a new identity instead (the guide says how)."
            );
        }
    }
    Ok(())
}

/// The device lines of `whoami` and `device list`.
pub(crate) fn print_devices(devices: &[entraide_node::DeviceInfo]) {
    for d in devices {
        let state = match (d.this_device, d.removed) {
            (_, Some(at)) => format!("removed {}", when::local(at)),
            (true, None) => "this device".to_owned(),
            (false, None) => d
                .added
                .map(|at| format!("linked {}", when::local(at)))
                .unwrap_or_default(),
        };
        say!("  {}  {:<24} {state}", d.id, line(&d.name));
    }
}

/// `entraide join-device CODE`: this folder becomes a device of the resident whose first
/// device made the code.
pub(crate) fn join(data_dir: &DataDir, code: &str, name: Option<String>) -> Result<()> {
    let code = PairingCode::decode(code)?;
    let name = name
        .or_else(entraide_node::devices::host_name)
        .unwrap_or_else(|| "another device".to_owned());
    entraide_crdt::check_name(&name).context("invalid device name")?;
    say!("Reaching your first device...");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let profile = runtime.block_on(entraide_node::devices::join_device(data_dir, &code, &name))?;
    if !code.invite.addresses.is_empty() {
        let store = entraide_node::store::Store::open(&data_dir.db_path())?;
        for address in &code.invite.addresses {
            store.remember_peer(&address.to_string(), true)?;
        }
        store.flush()?;
    }
    say!(
        "This computer is now a device of {} (device {}).",
        profile.key.id().fmt_short(),
        profile.installation
    );
    say!("Next: `entraide up`. Your posts and name arrive from your other device.");
    Ok(())
}

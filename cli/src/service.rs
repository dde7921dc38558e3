//! `entraide service ...`: a systemd unit that keeps the node running for the building.
//!
//! The units are the two templates in `docs/` (`entraide.service`, the user unit, and
//! `entraide-system.service`), read here as they are: the program only replaces their
//! `ExecStart=` line (and, for the system unit, `User=`, `ReadWritePaths=` and
//! `ProtectHome=`), so the documented units and the written ones cannot drift apart.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser as _, Subcommand};
use entraide_node::Multiaddr;
use entraide_node::data_dir::DataDir;

/// The user unit, as `service install` writes it (docs/entraide.service).
const USER_UNIT: &str = include_str!("../../docs/entraide.service");
/// The system unit, as `service unit --system` prints it (docs/entraide-system.service).
const SYSTEM_UNIT: &str = include_str!("../../docs/entraide-system.service");
/// The unit's file name, and so its name for systemctl and journalctl.
const UNIT_FILE: &str = "entraide.service";

/// Keep the node running with systemd, for the building's volunteer.
#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCmd {
    /// Write a systemd user unit (~/.config/systemd/user/entraide.service) that runs this
    /// program's `entraide up` with this data folder and these addresses, then say how to
    /// start it, read its log and stop it.
    Install {
        #[command(flatten)]
        node: NodeArgs,
        /// Replace a unit that is already there and differs.
        #[arg(long)]
        force: bool,
    },
    /// Print the unit instead of writing it: the user unit, or with --system a system unit
    /// (an account of its own, nothing writable but the data folder) to install by hand.
    Unit {
        #[command(flatten)]
        node: NodeArgs,
        /// The system unit, for /etc/systemd/system/entraide.service.
        #[arg(long)]
        system: bool,
        /// With --system: the account the node runs as.
        #[arg(
            long,
            value_name = "NAME",
            default_value = "entraide",
            requires = "system"
        )]
        user: String,
    },
}

/// How the unit runs the node: `entraide --data-dir DIR up --listen ... [UP_OPTIONS]`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Address to listen on for neighbours (repeatable), as for `entraide up`, e.g.
    /// /ip4/0.0.0.0/tcp/4001 (a fixed port, so neighbours can be told it).
    #[arg(long, value_name = "MULTIADDR")]
    listen: Vec<Multiaddr>,
    /// More options of `entraide up`, after `--` (such as `-- --ui-lan`).
    #[arg(last = true, value_name = "UP_OPTIONS")]
    up_options: Vec<String>,
}

pub(crate) fn run(data_dir: &DataDir, command: ServiceCmd) -> Result<()> {
    match command {
        ServiceCmd::Install { node, force } => install(data_dir, &node, force),
        ServiceCmd::Unit { node, system, user } => {
            let command = exec_start(data_dir, &node)?;
            let unit = if system {
                system_unit(&command, &absolute(data_dir.root())?, &user)?
            } else {
                user_unit(&command)?
            };
            say!("{}", unit.trim_end());
            Ok(())
        }
    }
}

fn install(data_dir: &DataDir, node: &NodeArgs, force: bool) -> Result<()> {
    if !cfg!(target_os = "linux") {
        bail!("systemd units are for Linux; on this system, start `entraide up` another way");
    }
    let command = exec_start(data_dir, node)?;
    let unit = user_unit(&command)?;
    let dir = dirs::config_dir()
        .context("no configuration folder on this system (set HOME or XDG_CONFIG_HOME)")?
        .join("systemd")
        .join("user");
    let path = dir.join(UNIT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(old) if old == unit => say!("{} is already this unit.", path.display()),
        Ok(_) if !force => bail!(
            "{} is already there and differs; to replace it, add --force",
            path.display()
        ),
        _ => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let new = dir.join(format!(".{UNIT_FILE}.new"));
            std::fs::write(&new, &unit)
                .with_context(|| format!("cannot write {}", new.display()))?;
            std::fs::rename(&new, &path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            say!("Wrote {}.", path.display());
        }
    }
    say!("It runs: {}", exec_line(&command));
    if !data_dir.is_initialized() {
        say!(
            "{} holds no identity yet: run `entraide join CODE` first (or `entraide init`), or its first start makes a new community.",
            data_dir.root().display()
        );
    }
    let exe = &command[0];
    if exe.contains("/target/release/") || exe.contains("/target/debug/") {
        say!(
            "It runs the program from its source folder: copy it somewhere it stays (~/.local/bin) and install again from there."
        );
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "$USER".to_owned());
    say!("\nNext:");
    for (command, what) in [
        (
            "systemctl --user daemon-reload".to_owned(),
            "systemd reads the unit",
        ),
        (
            "systemctl --user enable --now entraide".to_owned(),
            "start it now and at every start",
        ),
        (
            format!("loginctl enable-linger {user}"),
            "run it with nobody logged in",
        ),
        ("journalctl --user -u entraide -f".to_owned(), "its log"),
        ("systemctl --user stop entraide".to_owned(), "stop it"),
    ] {
        say!("  {command:<40} # {what}");
    }
    Ok(())
}

/// The node's command line in the unit, each word as systemd will read it:
/// `/path/to/entraide --data-dir DIR up --listen ADDRESS ... [UP_OPTIONS]`.
fn exec_start(data_dir: &DataDir, node: &NodeArgs) -> Result<Vec<String>> {
    let exe = std::env::current_exe().context("cannot tell where this program is")?;
    let dir = absolute(data_dir.root())?;
    let mut words = vec![
        text(&exe)?,
        "--data-dir".to_owned(),
        text(&dir)?,
        "up".to_owned(),
    ];
    for address in &node.listen {
        words.push("--listen".to_owned());
        words.push(address.to_string());
    }
    words.extend(node.up_options.iter().cloned());
    if let Some(word) = words.iter().find(|w| w.chars().any(char::is_control)) {
        bail!("{word:?}: a unit cannot hold a control character");
    }
    // Read as `entraide up` will read it, so that a mistyped option fails now, not at boot.
    match crate::Cli::try_parse_from(&words) {
        Ok(crate::Cli {
            command: crate::Command::Up(_),
            ..
        }) => Ok(words),
        Ok(_) => bail!("the options after `--` must be options of `entraide up`"),
        Err(e) => {
            let error = e.to_string();
            let first = error.lines().next().unwrap_or_default();
            bail!(
                "not an option of `entraide up`: {}",
                first.trim_start_matches("error: ")
            )
        }
    }
}

fn text(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{}: a unit needs a path in UTF-8", path.display()))
}

/// `path` from the root: systemd starts the node in `/`, not in this folder.
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot tell where {} is", path.display()))
}

/// The user unit with this command line.
pub(crate) fn user_unit(command: &[String]) -> Result<String> {
    set(USER_UNIT, "ExecStart", &exec_line(command))
}

/// The system unit with this command line, data folder and account.
pub(crate) fn system_unit(command: &[String], data_dir: &Path, user: &str) -> Result<String> {
    let valid = user.chars().enumerate().all(|(i, c)| {
        c.is_ascii_lowercase() || c == '_' || (i > 0 && (c.is_ascii_digit() || c == '-'))
    });
    if user.is_empty() || user.len() > 32 || !valid {
        bail!("{user:?} is not an account name (lower-case letters, digits, - and _)");
    }
    let data_dir = text(data_dir)?;
    let unit = set(SYSTEM_UNIT, "ExecStart", &exec_line(command))?;
    let unit = set(&unit, "User", user)?;
    let unit = set(&unit, "ReadWritePaths", &quote(&data_dir, false))?;
    // A data folder in a home: homes are read-only to the node instead of hidden, and its
    // folder the one place it writes (ReadWritePaths).
    let in_a_home = ["/home", "/root", "/run/user"]
        .iter()
        .any(|home| Path::new(&data_dir).starts_with(home));
    set(
        &unit,
        "ProtectHome",
        if in_a_home { "read-only" } else { "true" },
    )
}

/// The `ExecStart=` value: every word quoted as systemd reads it.
fn exec_line(command: &[String]) -> String {
    command
        .iter()
        .map(|w| quote(w, true))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as one word of a unit file: `%` doubled (systemd's specifiers), `$` doubled
/// where systemd expands variables (`ExecStart=`), and in double quotes, with `\` and `"`
/// escaped, when it holds anything but letters, digits and `/._:+,=@-`.
fn quote(word: &str, expands_variables: bool) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._:+,=@-".contains(c));
    if plain {
        return word.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in word.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '%' => quoted.push_str("%%"),
            '$' if expands_variables => quoted.push_str("$$"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `unit` with its one `KEY=` line set to `KEY=value`.
fn set(unit: &str, key: &str, value: &str) -> Result<String> {
    let prefix = format!("{key}=");
    let mut found = 0;
    let lines: Vec<String> = unit
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) {
                found += 1;
                format!("{prefix}{value}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    if found != 1 {
        bail!("the unit template has {found} {key}= lines, not one");
    }
    Ok(lines.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn plain_words_stay_as_they_are() {
        assert_eq!(
            quote("/usr/local/bin/entraide", true),
            "/usr/local/bin/entraide"
        );
        assert_eq!(
            quote("/ip4/0.0.0.0/tcp/4001", true),
            "/ip4/0.0.0.0/tcp/4001"
        );
    }

    #[test]
    fn spaces_quotes_and_specifiers_are_quoted() {
        assert_eq!(
            quote("/home/ma rie/100% \"x\" \\ $HOME", true),
            r#""/home/ma rie/100%% \"x\" \\ $$HOME""#
        );
        // Paths (ReadWritePaths=) expand no variables.
        assert_eq!(quote("/a b/$x%", false), r#""/a b/$x%%""#);
        assert_eq!(quote("", true), r#""""#);
        assert_eq!(quote(";", true), r#"";""#);
    }

    #[test]
    fn the_user_unit_is_the_documented_one_with_its_command() {
        let command = words(&["/opt/my programs/entraide", "--data-dir", "/d", "up"]);
        let unit = user_unit(&command).unwrap();
        assert!(unit.contains("\nExecStart=\"/opt/my programs/entraide\" --data-dir /d up\n"));
        let documented: Vec<_> = USER_UNIT
            .lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect();
        let written: Vec<_> = unit
            .lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect();
        assert_eq!(documented, written);
        assert!(unit.contains("WantedBy=default.target"));
    }

    #[test]
    fn the_system_unit_writes_only_in_its_data_folder() {
        let command = words(&[
            "/usr/local/bin/entraide",
            "--data-dir",
            "/srv/the board",
            "up",
        ]);
        let unit = system_unit(&command, Path::new("/srv/the board"), "voisins").unwrap();
        for line in [
            "User=voisins",
            "ReadWritePaths=\"/srv/the board\"",
            "ProtectSystem=strict",
            "ProtectHome=true",
            "NoNewPrivileges=true",
            "Restart=on-failure",
            "WantedBy=multi-user.target",
        ] {
            assert!(unit.lines().any(|l| l == line), "no {line} in\n{unit}");
        }
        let home = system_unit(&command, Path::new("/home/marie/entraide"), "marie").unwrap();
        assert!(home.lines().any(|l| l == "ProtectHome=read-only"));
        assert!(system_unit(&command, Path::new("/d"), "root; rm").is_err());
        assert!(system_unit(&command, Path::new("/d"), "").is_err());
    }

    #[test]
    fn a_key_is_set_only_where_the_template_has_it_once() {
        assert!(set("A=1\nB=2\n", "A", "3").unwrap() == "A=3\nB=2\n");
        assert!(set("A=1\n", "C", "3").is_err());
        assert!(set("A=1\nA=2\n", "A", "3").is_err());
    }
}

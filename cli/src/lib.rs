//! `entraide`: the command line of the mutual-aid board.
//!
//! Every command except `up` talks to the running node through its local API, or, with no
//! node running, opens the store itself. Errors are one clear line and a non-zero exit.
//!
//! The command lives in this library so that the multi-process tests (crate
//! `entraide-tests`) can build the very same program as their own binary.

/// `println!` that ends the program quietly when stdout is closed (`entraide list | head`)
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod backup;
mod board_file;
mod care;
mod client;
mod devices;
mod manual;
mod output;
mod page_address;
mod print;
mod residents;
mod service;
mod stewards;
mod ui;
mod up;
mod when;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use entraide_crdt::{
    AlertDraft, AlertKind, Category, Days, Kind, LocalDate, OnBehalfOf, PostDraft, RoundDraft,
    SightingDraft, TimeOfDay, Urgency,
};
use entraide_node::Multiaddr;
use entraide_node::api::BoardQuery;
use entraide_node::community::{Community, Invite};
use entraide_node::data_dir::DataDir;

use crate::client::Client;

/// The version and the commit the program was built from (cli/build.rs), as `entraide
/// --version` prints it: `entraide 0.1.0 (commit 0123456789ab)`.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ENTRAIDE_COMMIT"),
    ")"
);

/// entraide: a mutual-aid board for neighbours, with no server.
#[derive(Debug, Parser)]
#[command(name = "entraide", version = VERSION, about, long_about = None)]
struct Cli {
    /// Where this node keeps its identity, community and board.
    #[arg(long, global = true, env = "ENTRAIDE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Act as a resident hosted on this computer (see `entraide resident`): every command
    /// is then theirs, signed with their key.
    #[arg(long = "as", global = true, value_name = "NAME")]
    acting: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create your identity and a new community.
    Init {
        /// Your name as neighbours will see it.
        #[arg(long)]
        name: String,
    },
    /// Join a community with the invite code a neighbour gave you.
    Join {
        /// The invite code (ENTRAIDE-...).
        code: String,
        /// Your name as neighbours will see it.
        #[arg(long)]
        name: Option<String>,
        /// An identity to restore instead of making a new one: a file written by
        /// `entraide resident export` (or a backed-up identity.key).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Show the invite code (and QR code) that lets a neighbour join.
    Invite,
    /// Who you are on the board, and where your identity key is.
    Whoami {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print your identity on paper: 24 words and a QR code that are your key, in full
    /// (with `--as NAME`, the key of a resident this computer hosts, for them to keep).
    Backup {
        /// As a sheet to print or copy by hand (the only form for now).
        #[arg(long)]
        paper: bool,
        /// The word list: `en` (English) or `fr` (French). `restore` reads either.
        #[arg(long, value_enum, default_value = "en")]
        words: backup::WordList,
    },
    /// Restore your identity from the 24 words of a paper backup, into a folder with none.
    Restore {
        /// The words, in order. Without them, `restore` asks for them (safer: typed words
        /// stay out of your shell's history).
        words: Vec<String>,
    },
    /// Run the node: find neighbours, keep the board in sync, serve the local page.
    Up(up::UpArgs),
    /// Open the running node's page in your browser, signed in (a new one-time address).
    Open {
        /// Only print the address; do not start a browser.
        #[arg(long)]
        print: bool,
    },
    /// The care register: people the neighbourhood checks on every day during an alert.
    #[command(subcommand)]
    Care(care::CareCmd),
    /// Residents with only a phone, or nothing, hosted on this computer as themselves.
    #[command(subcommand)]
    Resident(residents::ResidentCmd),
    /// Your devices: link another computer as a device of yours, list them, remove a lost one.
    #[command(subcommand)]
    Device(devices::DeviceCmd),
    /// Write the whole board (every feed with its signatures) into one file, to carry it
    /// where no network reaches (a USB stick). `entraide import` reads it on another node.
    Export {
        /// The file to write (a new one).
        file: PathBuf,
    },
    /// Merge a board file made by `entraide export`: every feed in it is checked as if a
    /// neighbour had sent it; importing twice changes nothing.
    Import {
        /// The file to read.
        file: PathBuf,
    },
    /// Write the board's open requests and offers as a page to print and pin on the hall
    /// board: most urgent first, then by area, each with a QR code of its address.
    Print {
        /// The file to write (a new one), such as `board.html`.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// `fr` or `en` (default: French when the locale is French, else English).
        #[arg(long, value_enum)]
        lang: Option<print::SheetLang>,
    },
    /// Make this computer a device of yours, with the pairing code of `entraide device link`
    /// on your first device (same network, within 10 minutes).
    JoinDevice {
        /// The pairing code (ENTRAIDE-DEVICE-...).
        code: String,
        /// What to call this device in your device list (default: the computer's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Post a request for help or an offer.
    Post {
        /// `request` (you need help) or `offer` (you can help).
        kind: KindArg,
        /// One line saying what it is about.
        #[arg(long)]
        title: String,
        /// A few more words.
        #[arg(long, default_value = "")]
        details: String,
        /// errands, visit, diy, transport, lending, paperwork, childcare, pets, shelter, food, other.
        #[arg(long, default_value = "other")]
        category: Category,
        /// urgent (within hours), today, week, whenever.
        #[arg(long, default_value = "week")]
        urgency: Urgency,
        /// A coarse place: building, street. Never an exact address.
        #[arg(long, default_value = "")]
        area: String,
        /// Post for a neighbour who has no device: their name as the board shows it
        /// ("posted by you for NAME"). Needs `--consent`. Replies come to you.
        #[arg(long = "for", value_name = "NAME", requires = "consent")]
        for_name: Option<String>,
        /// With `--for`: who agreed, how and when ("Mme Dupont, au téléphone, le 2
        /// décembre à 10 h"). Shown on the post; no phone number or e-mail address.
        #[arg(long, value_name = "TEXT", requires = "for_name")]
        consent: Option<String>,
    },
    /// List the board.
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
        /// Only `request`s or `offer`s.
        #[arg(long)]
        kind: Option<Kind>,
        /// Only one category.
        #[arg(long)]
        category: Option<Category>,
        /// Only one urgency.
        #[arg(long)]
        urgency: Option<Urgency>,
        /// Only posts whose area contains this.
        #[arg(long)]
        area: Option<String>,
        /// Only posts whose title or details contain this.
        #[arg(long)]
        search: Option<String>,
        /// Also show done, withdrawn and expired posts.
        #[arg(long)]
        all: bool,
        /// Only your own posts.
        #[arg(long)]
        mine: bool,
        /// Only posts you offered help on.
        #[arg(long)]
        responded: bool,
    },
    /// Show one post with its responses.
    Show {
        /// The post's id (or the start of it).
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Offer your help on a post ("I can help").
    Respond {
        /// The post's id (or the start of it).
        id: String,
        /// A short message for its author.
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Accept a neighbour's offer of help on your post.
    Accept {
        /// Your post's id (or the start of it).
        id: String,
        /// The helper: their name, fingerprint or id.
        #[arg(long)]
        helper: String,
    },
    /// Mark your post done.
    Done {
        /// Your post's id (or the start of it).
        id: String,
    },
    /// Withdraw your post.
    Withdraw {
        /// Your post's id (or the start of it).
        id: String,
    },
    /// Thank a helper on your post.
    Thank {
        /// Your post's id (or the start of it).
        id: String,
        /// The helper: their name, fingerprint or id.
        #[arg(long)]
        helper: String,
        /// Your words.
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Change your name.
    Name {
        /// Your new name.
        name: String,
    },
    /// Send a private message about a post: between its author and a neighbour who
    /// responded, readable by the two of you only (a time, a door code, a phone number).
    Message {
        /// The post (its id, or the start of it).
        post: String,
        /// What to say.
        #[arg(long)]
        text: String,
        /// For the post's author with several helpers: which one (name or fingerprint).
        /// Without it: the accepted helper, or the only one who responded.
        #[arg(long)]
        to: Option<String>,
    },
    /// Your private messages about a post.
    Messages {
        /// The post (its id, or the start of it).
        post: String,
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
        /// Delete your conversation about this post, on both sides (once it is closed).
        #[arg(long)]
        delete: bool,
    },
    /// Hide a member's posts, responses and name from your own screens. Only on this
    /// computer, only for you: your node still passes their posts on, and they are not
    /// told.
    Block {
        /// Their name as they wrote it, or their fingerprint.
        who: String,
        /// Why, for you to remember (never sent anywhere).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Show a member you blocked again.
    Unblock {
        /// Their name, or their fingerprint (`entraide blocked` lists them).
        who: String,
    },
    /// The members you blocked.
    Blocked {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Who the community's stewards are, who is excluded and why, and what waits for a
    /// second steward.
    Stewards {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Appoint or retire a steward (stewards only).
    #[command(subcommand)]
    Steward(stewards::StewardCmd),
    /// Exclude a member from the community (stewards only): their posts leave every
    /// honest node's board and what they write from now on is refused.
    Exclude {
        /// Their name, or their fingerprint.
        who: String,
        /// Why: shown to every member.
        #[arg(long)]
        reason: String,
    },
    /// Report a post to the stewards: only they can read your reason.
    Report {
        /// The post's id (or its first characters).
        post: String,
        /// Why: read by the stewards only.
        #[arg(long)]
        reason: String,
    },
    /// The reports made to you as a steward.
    Reports {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Vouch that a new identity is the person who lost every copy of their key (stewards
    /// only; with two stewards or more, a second one must too).
    Vouch {
        /// The lost identity: name or fingerprint.
        old: String,
        /// The new identity: name or fingerprint (they joined with an invite code and
        /// told you their fingerprint in person).
        new: String,
    },
    /// Neighbours this node knows.
    Peers {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Neighbours connected, last sync, feeds and posts, and the alerts active now.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Heatwave, cold, storm or outage alerts: shown on every page until they end.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Winter rounds: evening walks members sign up for, date by date.
    #[command(subcommand)]
    Round(RoundCommand),
    /// People sleeping outside: where, and what they need (never who).
    #[command(subcommand)]
    Sighting(SightingCommand),
    /// Keep the node running with systemd: `service install` writes a user unit with this
    /// data folder and these addresses.
    #[command(subcommand)]
    Service(service::ServiceCmd),
    /// Print the completions of every command for a shell, to install once (see the guide).
    Completions {
        /// bash, zsh or fish.
        #[arg(value_enum)]
        shell: manual::Shell,
    },
    /// Print the manual page, every command in it: `entraide man | man -l -`.
    Man,
}

#[derive(Debug, Subcommand)]
enum AlertCommand {
    /// Declare an alert; it shows on every neighbour's page until it ends.
    Declare {
        /// heatwave, cold, storm, outage or other.
        kind: AlertKind,
        /// When it ends: a duration (2d, 36h, 90m), a local date and time
        /// ("2026-12-05 18:00"), a date (the end of that day) or a time (18:00).
        #[arg(long)]
        until: String,
        /// A short note ("drink water, close the shutters").
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The alerts active now (two alerts of the same kind show as one).
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// End an alert you declared.
    End {
        /// The alert's id (or the start of it).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum RoundCommand {
    /// Add a recurring round (every evening at 20:00, from the station to the church).
    Add {
        /// One line: "Evening round".
        #[arg(long)]
        title: String,
        /// When it starts, local time (HH:MM).
        #[arg(long)]
        at: TimeOfDay,
        /// Where it starts (a coarse place).
        #[arg(long, default_value = "")]
        from: String,
        /// Where it ends (a coarse place).
        #[arg(long, default_value = "")]
        to: String,
        /// The area it covers.
        #[arg(long, default_value = "")]
        area: String,
        /// `daily`, or days such as `mon,wed,fri`.
        #[arg(long, default_value = "daily")]
        days: Days,
    },
    /// Sign up to walk a round one evening.
    Join {
        /// The round's id (or the start of it).
        round: String,
        /// `tonight` or a date YYYY-MM-DD.
        #[arg(long, default_value = "tonight")]
        date: String,
    },
    /// Take back your sign-up for one evening.
    Leave {
        /// The round's id (or the start of it).
        round: String,
        /// `tonight` or a date YYYY-MM-DD.
        #[arg(long, default_value = "tonight")]
        date: String,
    },
    /// The rounds, who walks tonight and the next evenings, and the empty evenings.
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SightingCommand {
    /// Report a person sleeping outside: a coarse place and what they need. Never a
    /// name, a photo or a description.
    Add {
        /// Where (coarse: "under the bridge, rue des Lilas").
        #[arg(long)]
        place: String,
        /// What is needed: blanket, drink, food, company, shelter (comma-separated).
        #[arg(long)]
        needs: String,
        /// A short note, never a name or a description.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The sightings of the last 24 hours.
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Say what you did for a sighting ("brought a blanket").
    Done {
        /// The sighting's id (or the start of it).
        id: String,
        /// What you did.
        #[arg(long)]
        what: String,
    },
}

/// `tonight` (`None`) or a date.
fn date_arg(text: &str) -> Result<Option<LocalDate>> {
    match text.trim() {
        "" | "tonight" => Ok(None),
        d => Ok(Some(d.parse()?)),
    }
}

fn run_alert(client: &Client, command: AlertCommand) -> Result<()> {
    match command {
        AlertCommand::Declare { kind, until, note } => {
            let now = output::now();
            let until = when::parse_when(&until, now, entraide_node::clock::utc_offset(now))?;
            let id = client.declare_alert(AlertDraft { kind, until, note })?;
            say!("{id}");
            say!("Alert {kind} until {}.", when::local(until));
        }
        AlertCommand::List { json } => {
            let alerts = client.alerts()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&alerts)?);
            } else {
                output::print_alerts(&alerts);
            }
        }
        AlertCommand::End { id } => {
            let id = client.end_alert(&id)?;
            say!("Alert {id} ended.");
        }
    }
    Ok(())
}

fn run_round(client: &Client, command: RoundCommand) -> Result<()> {
    match command {
        RoundCommand::Add {
            title,
            at,
            from,
            to,
            area,
            days,
        } => {
            let draft = RoundDraft {
                title,
                at,
                from,
                to,
                area,
                days,
            };
            say!("{}", client.add_round(draft)?);
        }
        RoundCommand::Join { round, date } => {
            let (id, date) = client.sign_up(&round, date_arg(&date)?, true)?;
            say!("You walk round {id} on {date}.");
        }
        RoundCommand::Leave { round, date } => {
            let (id, date) = client.sign_up(&round, date_arg(&date)?, false)?;
            say!("You no longer walk round {id} on {date}.");
        }
        RoundCommand::List { json } => {
            let rounds = client.rounds()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&rounds)?);
            } else {
                output::print_rounds(&rounds);
            }
        }
    }
    Ok(())
}

fn run_sighting(client: &Client, command: SightingCommand) -> Result<()> {
    match command {
        SightingCommand::Add { place, needs, note } => {
            let needs = entraide_crdt::parse_needs(&needs)?;
            say!(
                "{}",
                client.add_sighting(SightingDraft { place, needs, note })?
            );
        }
        SightingCommand::List { json } => {
            let sightings = client.sightings()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&sightings)?);
            } else {
                output::print_sightings(&sightings);
            }
        }
        SightingCommand::Done { id, what } => {
            let id = client.sighting_done(&id, &what)?;
            say!("Done on sighting {id}: {}", output::term_safe(&what, false));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KindArg {
    Request,
    Offer,
}

/// Runs the command line with the process's arguments.
pub fn main() -> ExitCode {
    run_with_args(std::env::args_os())
}

/// Runs the command line with these arguments (the first is the program name).
pub fn run_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("entraide: {}", output::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn default_data_dir() -> Result<PathBuf> {
    let base = dirs::data_dir().context("no data directory on this system: pass --data-dir DIR")?;
    Ok(base.join("entraide"))
}

/// Starts the desktop's browser on `url`.
fn open_in_browser(url: &str) -> Result<()> {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    let status = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("{program} failed ({status})");
    }
    Ok(())
}

/// A default name for a resident who has not chosen one: "Neighbour" and their fingerprint.
pub(crate) fn default_name(fingerprint: &str) -> String {
    format!("Neighbour {}", &fingerprint[..4])
}

/// Creates a new identity in `data_dir` for `community`, sets the name, remembers peers.
/// Creates the identity (`restored`, or a new one) in `data_dir`, in `community`, or
/// without one in a new community that this identity founds (its first steward).
pub(crate) fn create_identity(
    data_dir: &DataDir,
    community: Option<&Community>,
    name: Option<&str>,
    peers: &[Multiaddr],
    restored: Option<[u8; 32]>,
) -> Result<()> {
    if let Some(name) = name {
        entraide_crdt::check_name(name).context("invalid name")?;
    }
    let seed = restored.unwrap_or_else(rand::random);
    let community = community.cloned().unwrap_or_else(|| {
        Community::founded(
            rand::random(),
            entraide_crdt::AuthorKey::from_seed(seed).id(),
        )
    });
    let profile = data_dir.init(seed, &community)?;
    // A restored identity keeps the name its feed already carries, unless given one.
    let name = match (name, restored) {
        (Some(n), _) => Some(n.to_owned()),
        (None, None) => Some(default_name(&profile.key.id().fmt_short())),
        (None, Some(_)) => None,
    };
    if let Some(name) = name {
        let client = Client::connect(data_dir)?;
        client.set_name(&name)?;
        client.close()?;
    }
    if !peers.is_empty() {
        let store = entraide_node::store::Store::open(&data_dir.db_path())?;
        for p in peers {
            store.remember_peer(&p.to_string(), true)?;
        }
        store.flush()?;
    }
    Ok(())
}

/// `join` where an identity already exists: a restored `identity.key` with no community
/// yet, the same community again, or a community of one (made by a first `entraide up`)
/// that nobody else has joined. Never leaves a community that has neighbours in it.
fn join_with_existing_identity(
    data_dir: &DataDir,
    invite: &Invite,
    name: Option<&str>,
) -> Result<()> {
    match data_dir.load() {
        Err(entraide_node::data_dir::DataDirError::NoCommunity(_)) => {
            data_dir.set_community(&invite.community)?;
        }
        // A damaged community file is mended by the invite, as its error message says; the
        // identity is not touched (a damaged identity is its own, different error).
        Err(entraide_node::data_dir::DataDirError::Damaged { path, .. })
            if path.file_name().is_some_and(|f| f == "community.key") =>
        {
            data_dir.set_community(&invite.community)?;
        }
        Err(e) => return Err(e.into()),
        Ok(profile)
            if profile.community.founder() == invite.community.founder()
                && profile.community.secret() == invite.community.secret() => {}
        // The same community (its founder) under a newer secret: a re-key happened while
        // this node was away for longer than the old secret was handed over.
        Ok(profile)
            if profile.community.founder().is_some()
                && profile.community.founder() == invite.community.founder() =>
        {
            let client = Client::connect(data_dir)?;
            let online = client.is_remote();
            client.close()?;
            if online {
                bail!("stop `entraide up` first (Ctrl-C), then run `entraide join` again");
            }
            // Its generation stays ours (the code carries none): a later re-key's notice
            // is still newer.
            let current = profile
                .community
                .rekeyed(*invite.community.secret(), profile.community.generation());
            data_dir.set_community(&current)?;
            say!(
                "Your community's secret changed while you were away: this node now uses the new one."
            );
        }
        Ok(_) => {
            let client = Client::connect(data_dir)?;
            let status = client.status();
            let online = client.is_remote();
            client.close()?;
            let status = status?;
            if online {
                bail!("stop `entraide up` first (Ctrl-C), then run `entraide join` again");
            }
            if status.board.feeds > 1 {
                bail!(
                    "{} already belongs to a community with neighbours in it; to join another one, use a new --data-dir",
                    data_dir.root().display()
                );
            }
            // A community of one, nobody else in it: leave it for the neighbour's.
            data_dir.set_community(&invite.community)?;
        }
    }
    // Through the running node if there is one (it holds the database), else directly.
    let client = Client::connect(data_dir)?;
    if let Some(name) = name {
        client.set_name(name)?;
    }
    for address in &invite.addresses {
        client.dial(&address.to_string())?;
    }
    client.close()
}

fn run(cli: Cli) -> Result<()> {
    // These need no data folder.
    match cli.command {
        Command::Completions { shell } => return manual::completions(shell),
        Command::Man => return manual::man(),
        _ => {}
    }
    let data_dir = DataDir::new(match cli.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    });
    if cli.acting.is_some()
        && matches!(
            cli.command,
            Command::Init { .. }
                | Command::Join { .. }
                | Command::Up(_)
                | Command::Open { .. }
                | Command::Resident(_)
                | Command::JoinDevice { .. }
                | Command::Restore { .. }
                | Command::Service(_)
        )
    {
        bail!("--as acts for a hosted resident on the board; it does not apply to this command");
    }
    match cli.command {
        Command::Init { name } => {
            create_identity(&data_dir, None, Some(&name), &[], None)?;
            say!(
                "Welcome, {name}. Your identity and a new community are in {}.",
                data_dir.root().display()
            );
            say!(
                "Back up {}: it is who you are on the board.",
                data_dir.identity_path().display()
            );
            say!("Next: `entraide up` to start, then `entraide invite` to bring neighbours in.");
            Ok(())
        }
        Command::Open { print } => {
            let url = Client::signin_url(&data_dir)?;
            if print {
                say!("{url}");
                return Ok(());
            }
            say!("Opening {url}");
            say!("(it works once; if no browser opens, copy it into one)");
            if let Err(e) = open_in_browser(&url) {
                say!("No browser could be started ({e}).");
            }
            Ok(())
        }
        Command::Join {
            code,
            name,
            identity,
        } => {
            if code
                .trim()
                .to_uppercase()
                .starts_with(entraide_node::devices::PAIRING_PREFIX)
            {
                bail!(
                    "this is a device pairing code, not an invite: run `entraide join-device CODE` to make this computer a device of yours"
                );
            }
            let invite = Invite::decode(&code)?;
            let restored = match &identity {
                Some(path) => Some(entraide_node::data_dir::read_identity_file(path)?),
                None => None,
            };
            if identity.is_some() && data_dir.is_initialized() {
                bail!(
                    "{} already holds an identity; restore into a new folder with --data-dir",
                    data_dir.root().display()
                );
            }
            if data_dir.is_initialized() {
                join_with_existing_identity(&data_dir, &invite, name.as_deref())?;
            } else {
                create_identity(
                    &data_dir,
                    Some(&invite.community),
                    name.as_deref(),
                    &invite.addresses,
                    restored,
                )?;
            }
            say!("You joined community {}.", invite.community.tag());
            if !invite.addresses.is_empty() {
                say!(
                    "Your node will reach your neighbour at: {}",
                    output::join(&invite.addresses)
                );
            }
            say!("Next: `entraide up`.");
            Ok(())
        }
        Command::Up(args) => up::run(&data_dir, args),
        Command::JoinDevice { code, name } => devices::join(&data_dir, &code, name),
        Command::Backup { paper, words } => {
            if !paper {
                bail!("say how: `entraide backup --paper` (the only kind of backup for now)");
            }
            backup::print_paper(&data_dir, words, cli.acting.as_deref())
        }
        Command::Restore { words } => backup::restore(&data_dir, &words),
        Command::Service(command) => service::run(&data_dir, command),
        Command::Resident(command) => {
            let client = Client::connect(&data_dir)?;
            let result = residents::run(&client, &data_dir, command);
            client.close()?;
            result
        }
        command => {
            let client =
                Client::connect(&data_dir)?.acting_for(&data_dir, cli.acting.as_deref())?;
            let result = run_command(&client, &data_dir, command);
            client.close()?;
            result
        }
    }
}

fn run_command(client: &Client, data_dir: &DataDir, command: Command) -> Result<()> {
    match command {
        Command::Invite => {
            let code = client.invite()?;
            output::print_invite(&code, client.is_remote());
        }
        Command::Whoami { json } => {
            let who = client.whoami()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&who)?);
            } else {
                output::print_whoami(&who);
            }
        }
        Command::Post {
            kind,
            title,
            details,
            category,
            urgency,
            area,
            for_name,
            consent,
        } => {
            let on_behalf_of = match (for_name, consent) {
                (Some(name), Some(consent)) => Some(OnBehalfOf { name, consent }),
                // clap requires both together.
                _ => None,
            };
            let draft = PostDraft {
                kind: match kind {
                    KindArg::Request => Kind::Request,
                    KindArg::Offer => Kind::Offer,
                },
                category,
                title,
                details,
                urgency,
                area,
                expires_at: None,
                on_behalf_of,
            };
            let id = client.post(draft)?;
            say!("{id}");
            if !client.is_remote() {
                eprintln!("(saved; it will reach neighbours at the next `entraide up`)");
            }
        }
        Command::List {
            json,
            kind,
            category,
            urgency,
            area,
            search,
            all,
            mine,
            responded,
        } => {
            let me = if mine || responded {
                Some(client.whoami()?.author)
            } else {
                None
            };
            let query = BoardQuery {
                kind,
                category,
                urgency,
                area,
                q: search,
                author: me.filter(|_| mine),
                responder: me.filter(|_| responded),
                all,
                page: None,
            };
            let posts = client.list(&query)?;
            if json {
                say!("{}", serde_json::to_string_pretty(&posts)?);
            } else {
                output::print_board(&posts, query.narrows());
            }
        }
        Command::Show { id, json } => {
            let post = client.show(&id)?;
            if json {
                say!("{}", serde_json::to_string_pretty(&post)?);
            } else {
                output::print_post(&post);
            }
        }
        Command::Respond { id, message } => {
            let id = client.respond(&id, &message)?;
            say!("You offered help on {id}.");
        }
        Command::Accept { id, helper } => {
            let id = client.accept(&id, &helper)?;
            say!("Helper accepted on {id}.");
        }
        Command::Done { id } => {
            let id = client.done(&id)?;
            say!("{id} is done.");
        }
        Command::Withdraw { id } => {
            let id = client.withdraw(&id)?;
            say!("{id} is withdrawn.");
        }
        Command::Thank {
            id,
            helper,
            message,
        } => {
            let id = client.thank(&id, &helper, &message)?;
            say!("Thanks sent on {id}.");
        }
        Command::Name { name } => {
            client.set_name(&name)?;
            say!("Your name is now {}.", name.trim().trim_end_matches('.'));
        }
        Command::Message { post, text, to } => {
            let m = client.message(&post, to.as_deref(), &text)?;
            say!(
                "Sent to {}: readable by the two of you only.",
                m.to.fmt_short()
            );
        }
        Command::Messages { post, json, delete } => {
            if delete {
                let n = client.delete_messages(&post)?;
                say!(
                    "Conversation deleted: {n} message(s) of yours removed; the other side's node removes theirs when it sees it."
                );
            } else {
                let list = client.messages(&post)?;
                if json {
                    say!("{}", serde_json::to_string_pretty(&list)?);
                } else {
                    output::print_messages(&list);
                }
            }
        }
        Command::Block { who, reason } => {
            let b = client.block(&who, reason.as_deref())?;
            say!(
                "{} is blocked: their posts, responses and name no longer show to you on this computer. They are not told, and your node still passes their posts on. Undo: entraide unblock {}",
                output::name_or_id(&b.name, &b.author),
                b.fingerprint
            );
        }
        Command::Unblock { who } => {
            let b = client.unblock(&who)?;
            say!("{} shows again.", output::name_or_id(&b.name, &b.author));
        }
        Command::Blocked { json } => {
            let list = client.blocked()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                output::print_blocked(&list);
            }
        }
        Command::Stewards { json } => {
            let view = client.stewards()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                stewards::print_stewards(&view);
            }
        }
        Command::Steward(command) => stewards::run_steward(client, command)?,
        Command::Exclude { who, reason } => {
            let view = client.exclude(&who, &reason)?;
            say!(
                "{} is excluded. Every neighbour's node takes their posts off the board and refuses what they write from now on, as it receives this.",
                output::line(&who)
            );
            stewards::print_stewards(&view);
        }
        Command::Report { post, reason } => {
            client.report(&post, &reason)?;
            say!("Reported. Only the stewards can read your reason; the author is not told.");
        }
        Command::Reports { json } => {
            let reports = client.reports()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&reports)?);
            } else {
                stewards::print_reports(&reports);
            }
        }
        Command::Vouch { old, new } => {
            let view = client.vouch(&old, &new)?;
            if view.proposals.iter().any(|p| p.what == "vouch") {
                say!(
                    "Noted. A second steward must vouch too (the same command); until then nothing changes."
                );
            } else {
                say!(
                    "Done: the board shows {} as the same person as {}, and the lost key writes no more.",
                    output::line(&new),
                    output::line(&old)
                );
            }
            stewards::print_stewards(&view);
        }
        Command::Peers { json } => {
            let peers = client.peers()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&peers)?);
            } else {
                output::print_peers(&peers, client.is_remote());
            }
        }
        Command::Status { json } => {
            let status = client.status()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                output::print_status(&status);
            }
        }
        Command::Care(command) => care::run(client, command)?,
        Command::Device(command) => devices::run(client, command)?,
        Command::Export { file } => board_file::export(client, &file)?,
        Command::Import { file } => board_file::import(client, &file)?,
        Command::Print { out, lang } => print::run(client, data_dir, &out, lang)?,
        Command::Alert(command) => run_alert(client, command)?,
        Command::Round(command) => run_round(client, command)?,
        Command::Sighting(command) => run_sighting(client, command)?,
        Command::Init { .. }
        | Command::Join { .. }
        | Command::Up(_)
        | Command::Open { .. }
        | Command::Resident(_)
        | Command::JoinDevice { .. }
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Service(_)
        | Command::Completions { .. }
        | Command::Man => {
            unreachable!("handled in run")
        }
    }
    Ok(())
}

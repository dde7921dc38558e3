//! What one node costs on a given store (scenarios 5 and 8): cold start, memory, disk and a
//! filtered list, each next to its floor measured in the same run.
//!
//! The memory floors are separate processes (this benchmark binary, run with
//! [`AS_MEMORY_FLOOR`] set) that do one thing and report their resident memory: hold every
//! feed as a plain automerge document, or open the node's store and load its board as the
//! node does, without network or page. The node's own figure minus these says where its
//! memory and its start-up time go.

use std::ffi::OsStr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use entraide_crdt::automerge::Automerge;
use entraide_crdt::{Board, Category, Filter};
use entraide_node::data_dir::{ApiInfo, DataDir};
use entraide_node::store::{SNAPSHOTS_TREE, Store};

use super::{Row, Summary, dir_size, progress, row, rss_mib, summary, temp_dir, verdict};
use crate::TestNode;

/// Set in the environment of a memory-floor process: `automerge:<file of saved feeds>` or
/// `store:<database directory>` (src/bin/bench.rs).
pub const AS_MEMORY_FLOOR: &str = "ENTRAIDE_BENCH_MEMORY_FLOOR";

/// 80 MB, issue 16's memory target, in MiB (the unit of the table).
const MEMORY_TARGET_MIB: f64 = 80e6 / (1024.0 * 1024.0);

/// What the node measured.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// From `entraide up` to its API answering a filtered list.
    pub cold: Duration,
    /// Resident memory after the lists.
    pub rss_mib: f64,
    /// Peak resident memory (`VmHWM`), start-up included.
    pub peak_mib: f64,
    /// The data directory, without the harness's log.
    pub disk: u64,
    /// The filtered list through the API.
    pub list: Summary,
    /// A process that only opens the store and loads the board: how long that takes.
    pub store_load: Duration,
    /// Its resident memory then.
    pub store_mib: f64,
    /// The same process on a copy of the store without its snapshots, as a node's first
    /// start after upgrading from a version without them finds it: every document parsed,
    /// and its snapshot stored.
    pub upgrade_load: Duration,
}

/// The floors, measured on the same board in the same run.
#[derive(Clone, Copy, Debug)]
pub struct Floors {
    /// Plain automerge loading every feed's saved bytes, in the harness.
    pub load: Duration,
    /// automerge's own saved size of every feed.
    pub saved: u64,
    /// Resident memory of a process holding every feed as an automerge document.
    pub automerge_mib: f64,
    /// The same filter over the same board, in memory, no HTTP.
    pub filter: Summary,
}

/// Measures the floors of `board`, then starts `node` (whose store holds `board`), lists
/// `lists` times, and stops it. `label` names the step in the progress lines.
pub fn measure(
    node: &mut TestNode,
    board: &Board,
    now: i64,
    lists: usize,
    label: &str,
    start: Instant,
) -> Result<(Figures, Floors)> {
    progress(
        start,
        &format!("{label}: floors: automerge alone on {} feeds", board.len()),
    );
    let saved: Vec<Vec<u8>> = board.feeds().map(|f| f.save()).collect();
    let t0 = Instant::now();
    for s in &saved {
        Automerge::load(s)?;
    }
    let load = t0.elapsed();
    let blobs_dir = temp_dir("floor")?;
    let blobs = blobs_dir.path().join("feeds");
    let mut file = Vec::with_capacity(saved.iter().map(|s| s.len() + 8).sum());
    for s in &saved {
        file.extend_from_slice(&(s.len() as u64).to_le_bytes());
        file.extend_from_slice(s);
    }
    std::fs::write(&blobs, &file)?;
    drop(file);
    let (_, automerge_mib) = floor_process(&format!("automerge:{}", blobs.display()))?;
    progress(
        start,
        &format!("{label}: a process that only loads the board from the store"),
    );
    let db = DataDir::new(node.data_dir()).db_path();
    let (store_load, store_mib) = floor_process(&format!("store:{}", db.display()))?;
    progress(start, &format!("{label}: cold start of `entraide up`"));
    let (api, cold) = start_up(node)?;
    let pid = node.pid().context("the node runs")?;
    let agent = http();
    let mut times = Vec::with_capacity(lists);
    for _ in 0..lists {
        let t = Instant::now();
        let mut r = agent
            .get(format!(
                "{}/api/v1/posts?category=food&q=eau",
                api.base_url()
            ))
            .header("Authorization", format!("Bearer {}", api.token))
            .call()?;
        let body = r.body_mut().read_to_string()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if !body.starts_with('[') {
            bail!("unexpected list answer: {body:.100}");
        }
    }
    // The node serves the whole board, not a part of it it could load.
    let status: serde_json::Value = agent
        .get(format!("{}/api/v1/status", api.base_url()))
        .header("Authorization", format!("Bearer {}", api.token))
        .call()?
        .body_mut()
        .read_json()?;
    let held = status["board"]["posts"].as_u64();
    let written = board.stats(now).posts as u64;
    if held != Some(written) {
        bail!("the node holds {held:?} posts, the board written {written}");
    }
    let rss = rss_mib(pid).context("cannot read the node's memory")?;
    let peak = node.peak_rss_mib()?;
    // The data directory, without the log the harness keeps there.
    let log = std::fs::metadata(node.log_path()).map_or(0, |m| m.len());
    let disk = dir_size(node.data_dir()).saturating_sub(log);
    node.stop()?;
    progress(
        start,
        &format!("{label}: the first start after upgrading: the store without its snapshots"),
    );
    let upgrade = temp_dir("upgrade")?;
    let upgrade_db = upgrade.path().join("db");
    super::scenarios::copy_dir(&db, &upgrade_db)?;
    {
        let copy = sled::open(&upgrade_db)?;
        if !copy.drop_tree(SNAPSHOTS_TREE)? {
            bail!("the store has no `{SNAPSHOTS_TREE}` tree to drop");
        }
        copy.flush()?;
    }
    let (upgrade_load, _) = floor_process(&format!("store:{}", upgrade_db.display()))?;
    drop(upgrade);
    let filter = Filter {
        category: Some(Category::Food),
        text: Some("eau".into()),
        ..Filter::default()
    };
    let mut floor = Vec::new();
    for _ in 0..lists.min(20) {
        let t = Instant::now();
        let _ = board.view(&filter, now);
        floor.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((
        Figures {
            cold,
            rss_mib: rss,
            peak_mib: peak,
            disk,
            list: summary(&times),
            store_load,
            store_mib,
            upgrade_load,
        },
        Floors {
            load,
            saved: saved.iter().map(|s| s.len() as u64).sum(),
            automerge_mib,
            filter: summary(&floor),
        },
    ))
}

/// The table rows of one measurement; `when` prefixes each metric ("" or "after
/// retention: "). The targets are issue 16's, for 100,000 posts from 5,000 authors.
pub fn rows(scenario: &str, when: &str, f: &Figures, floor: &Floors) -> Vec<Row> {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let cold = ms(f.cold);
    let disk_ratio = f.disk as f64 / floor.saved.max(1) as f64;
    let load_floor = Some((ms(floor.load), "automerge load of the same feeds"));
    let memory_floor = Some((
        floor.automerge_mib,
        "a process holding the same feeds as automerge documents",
    ));
    vec![
        row(
            scenario,
            &format!("{when}cold start to serving the board"),
            cold,
            "ms",
            load_floor,
            &verdict(cold < 500.0, "< 0.5 s"),
        ),
        row(
            scenario,
            &format!("{when}of which: a process that only opens the store and loads the board"),
            ms(f.store_load),
            "ms",
            load_floor,
            "-",
        ),
        row(
            scenario,
            &format!(
                "{when}the same process on the store without its snapshots (a first start after upgrading to them)"
            ),
            ms(f.upgrade_load),
            "ms",
            load_floor,
            "-",
        ),
        row(
            scenario,
            &format!("{when}resident memory after listing"),
            f.rss_mib,
            "MiB",
            memory_floor,
            &verdict(f.rss_mib < MEMORY_TARGET_MIB, "< 80 MB (76.3 MiB)"),
        ),
        row(
            scenario,
            &format!("{when}peak resident memory (start-up included)"),
            f.peak_mib,
            "MiB",
            memory_floor,
            "-",
        ),
        row(
            scenario,
            &format!("{when}resident memory of a process that only loads the board from the store"),
            f.store_mib,
            "MiB",
            memory_floor,
            "-",
        ),
        row(
            scenario,
            &format!("{when}disk used"),
            mib(f.disk),
            "MiB",
            Some((mib(floor.saved), "automerge save() of the feeds")),
            &verdict(disk_ratio <= 1.5, "within 1.5x"),
        ),
        row(
            scenario,
            &format!("{when}filtered list through the API, p50"),
            f.list.p50,
            "ms",
            Some((floor.filter.p50, "same filter in memory")),
            &verdict(f.list.p50 < 10.0, "< 10 ms"),
        ),
        row(
            scenario,
            &format!("{when}filtered list through the API, p99"),
            f.list.p99,
            "ms",
            Some((floor.filter.p99, "same filter in memory")),
            "-",
        ),
    ]
}

/// A node run as a child process, as the tests run one ([`TestNode`]): the program is this
/// benchmark binary, which is the `entraide` command line when [`super::AS_ENTRAIDE`] is
/// set. It logs what `entraide up` logs by default.
pub fn program_node(name: &str) -> Result<TestNode> {
    Ok(TestNode::new(std::env::current_exe()?, name)
        .with_env(super::AS_ENTRAIDE, "1")
        .with_env("RUST_LOG", "warn,entraide=info,entraide_node=info"))
}

/// An HTTP client for a node's local API.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Starts `entraide up` on `node` and waits until its API serves the board, polling every
/// 5 ms; returns how to reach the API and the wait.
pub fn start_up(node: &mut TestNode) -> Result<(ApiInfo, Duration)> {
    let t0 = Instant::now();
    node.start(&["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"])?;
    let agent = http();
    loop {
        if t0.elapsed() > Duration::from_secs(120) {
            bail!("entraide up did not answer in 120 s: {}", node.log());
        }
        if let Some(api) = node.running_api() {
            let r = agent
                .get(format!("{}/api/v1/posts?category=food", api.base_url()))
                .header("Authorization", format!("Bearer {}", api.token))
                .call();
            if r.is_ok_and(|r| r.status().is_success()) {
                return Ok((api, t0.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs this binary as a memory-floor process on `spec`; returns the time it took to load
/// and its resident memory then, in MiB.
fn floor_process(spec: &str) -> Result<(Duration, f64)> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .env(AS_MEMORY_FLOOR, spec)
        .output()?;
    if !out.status.success() {
        bail!(
            "the memory floor ({spec}) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.split_whitespace().map(str::parse::<f64>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(secs)), Some(Ok(mib))) => Ok((Duration::from_secs_f64(secs), mib)),
        _ => bail!("the memory floor ({spec}) printed `{text}`"),
    }
}

/// The body of a memory-floor process: loads what `spec` names, keeps it, and prints the
/// seconds the load took and its resident memory in MiB.
pub fn memory_floor_process(spec: &OsStr) -> ExitCode {
    match load_and_measure(spec) {
        Ok((took, mib)) => {
            println!("{} {mib}", took.as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench memory floor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_and_measure(spec: &OsStr) -> Result<(Duration, f64)> {
    let spec = spec.to_str().context("a memory floor spec in UTF-8")?;
    let pid = std::process::id();
    if let Some(path) = spec.strip_prefix("automerge:") {
        let file = std::fs::read(path)?;
        let t0 = Instant::now();
        let mut docs = Vec::new();
        let mut rest = file.as_slice();
        while let Some((len, tail)) = rest.split_first_chunk::<8>() {
            let len = usize::try_from(u64::from_le_bytes(*len))?;
            let (doc, tail) = tail.split_at_checked(len).context("a truncated feed")?;
            docs.push(Automerge::load(doc)?);
            rest = tail;
        }
        let took = t0.elapsed();
        // The file's bytes are not part of the floor: only the documents stay.
        drop(file);
        let mib = rss_mib(pid).context("VmRSS")?;
        std::hint::black_box(&docs);
        Ok((took, mib))
    } else if let Some(path) = spec.strip_prefix("store:") {
        let t0 = Instant::now();
        let store = Store::open(Path::new(path))?;
        let (board, _) = store.load_board(&[])?;
        let took = t0.elapsed();
        let mib = rss_mib(pid).context("VmRSS")?;
        std::hint::black_box((&store, &board));
        Ok((took, mib))
    } else {
        bail!("unknown memory floor `{spec}`")
    }
}

//! The benchmark harness: real nodes over real loopback TCP (with the community fence,
//! Noise and Yamux, as residents run them), each figure next to a baseline measured in the
//! same run. `cargo run --release -p entraide-tests --bin bench [-- --quick]`.

pub mod corpus;
pub mod one_node;
pub mod scenarios;
pub mod year;

pub use one_node::AS_MEMORY_FLOOR;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use entraide_crdt::Board;
use entraide_node::community::Community;
use entraide_node::data_dir::DataDir;
use entraide_node::store::Store;
use entraide_node::{Multiaddr, Node, NodeConfig};

/// Set in the environment of the benchmark binary's child processes, which then are the
/// `entraide` command line (src/bin/bench.rs): the nodes of scenarios 5 to 8.
pub const AS_ENTRAIDE: &str = "ENTRAIDE_BENCH_AS_ENTRAIDE";

/// Median and 99th percentile of samples.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    /// Median.
    pub p50: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Number of samples.
    pub n: usize,
}

/// Summarises samples (any unit).
pub fn summary(samples: &[f64]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let rank = |p: f64| s[(((p * s.len() as f64).ceil() as usize).max(1) - 1).min(s.len() - 1)];
    Summary {
        p50: rank(0.5),
        p99: rank(0.99),
        n: s.len(),
    }
}

/// One row of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    /// Scenario.
    pub scenario: String,
    /// What is measured.
    pub metric: String,
    /// The figure.
    pub value: String,
    /// The baseline measured in the same run, and what it is.
    pub baseline: String,
    /// value / baseline, when it means something.
    pub ratio: String,
    /// The goal, and whether it is met.
    pub target: String,
}

/// A row with a ratio computed from two numbers.
pub fn row(
    scenario: &str,
    metric: &str,
    value: f64,
    unit: &str,
    baseline: Option<(f64, &str)>,
    target: &str,
) -> Row {
    let (baseline_text, ratio) = match baseline {
        Some((b, what)) => (
            format!("{} {unit} ({what})", fmt_num(b)),
            if b > 0.0 {
                format!("{:.2}x", value / b)
            } else {
                "-".into()
            },
        ),
        None => ("-".into(), "-".into()),
    };
    Row {
        scenario: scenario.into(),
        metric: metric.into(),
        value: format!("{} {unit}", fmt_num(value)),
        baseline: baseline_text,
        ratio,
        target: target.into(),
    }
}

/// A number with sensible precision.
pub fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `met` or `MISSED` against a target.
pub fn verdict(met: bool, goal: &str) -> String {
    format!("{goal}: {}", if met { "met" } else { "MISSED" })
}

/// Prints progress on stderr, with the time since the run started.
pub fn progress(start: Instant, text: &str) {
    eprintln!("[{:>6.1}s] {text}", start.elapsed().as_secs_f64());
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A data directory of a new resident of `community`, holding `board`'s feeds in its store
/// with their snapshots, as a node that received them stores them before it stops.
pub fn prepare_data_dir(
    root: &Path,
    community: &Community,
    seed: [u8; 32],
    board: Option<&Board>,
) -> Result<DataDir> {
    let data = DataDir::new(root);
    data.init(seed, community)?;
    let store = Store::open(&data.db_path())?;
    if let Some(board) = board {
        for feed in board.feeds() {
            let saved = store.save_feed(feed)?;
            store.save_snapshot(feed, &saved)?;
        }
    }
    store.flush()?;
    Ok(data)
}

/// An in-process node on loopback with its own data directory and database.
#[derive(Debug)]
pub struct BenchNode {
    /// Its handle.
    pub node: Node,
    /// Where it can be dialled.
    pub address: Multiaddr,
    _dir: tempfile::TempDir,
}

/// Starts a node on `data` that dials `peers`.
pub async fn start_node(
    dir: tempfile::TempDir,
    data: DataDir,
    peers: Vec<Multiaddr>,
) -> Result<BenchNode> {
    let mut config = NodeConfig::new(data);
    config.mdns = false;
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse()?];
    config.peers = peers;
    let node = Node::start(config).await?;
    let status = node.status().await?;
    let who = node.whoami().await?;
    let addr = status
        .listen_addresses
        .iter()
        .find(|a| a.starts_with("/ip4/"))
        .context("no IPv4 listen address")?;
    let address = format!("{addr}/p2p/{}", who.peer_id).parse()?;
    Ok(BenchNode {
        node,
        address,
        _dir: dir,
    })
}

/// A fresh temporary directory for a node.
pub fn temp_dir(name: &str) -> Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(&format!("entraide-bench-{name}-"))
        .tempdir()?)
}

/// `n` nodes of one community, every one connected to every other (as mDNS connects the
/// nodes of one LAN), with empty boards.
pub async fn full_mesh(n: usize, community: &Community, seed: u64) -> Result<Vec<BenchNode>> {
    let mut rng = corpus::Rng::new(seed);
    let mut nodes: Vec<BenchNode> = Vec::with_capacity(n);
    for i in 0..n {
        let dir = temp_dir(&format!("mesh{i}"))?;
        let data = prepare_data_dir(dir.path(), community, rng.bytes32(), None)?;
        let peers = nodes.iter().map(|b| b.address.clone()).collect();
        nodes.push(start_node(dir, data, peers).await?);
    }
    wait_until(Duration::from_secs(120), || async {
        for b in &nodes {
            if b.node
                .status()
                .await
                .map(|s| s.peers_connected)
                .unwrap_or(0)
                < n - 1
            {
                return false;
            }
        }
        true
    })
    .await
    .context("the mesh did not connect")?;
    Ok(nodes)
}

/// Polls `check` every 2 ms until it holds (the poll period bounds the error on timings).
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            anyhow::bail!("timed out after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Bytes sent over the loopback interface so far (`/proc/net/dev`), with TCP/IP headers.
pub fn loopback_tx_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/dev").ok()?;
    let line = text.lines().find(|l| l.trim_start().starts_with("lo:"))?;
    let fields: Vec<&str> = line.split(':').nth(1)?.split_whitespace().collect();
    fields.get(8)?.parse().ok()
}

/// CPU seconds (user + system) used by this process so far.
pub fn cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU seconds (user and system) a process used so far, all its threads.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// How many times the threads of a process were woken so far: the sum of their voluntary
/// and involuntary context switches (each time a thread is scheduled again, it was woken).
pub fn process_wakeups(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let status = std::fs::read_to_string(task.ok()?.path().join("status")).ok()?;
        for line in status.lines() {
            if let Some(n) = line
                .strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
            {
                total += n.trim().parse::<u64>().ok()?;
            }
        }
    }
    Some(total)
}

/// Resident memory of a process, in MiB (`VmRSS`).
pub fn rss_mib(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = text
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Bytes used by a directory tree.
pub fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack: Vec<PathBuf> = vec![path.to_owned()];
    while let Some(p) = stack.pop() {
        if let Ok(entries) = std::fs::read_dir(&p) {
            for e in entries.flatten() {
                match e.metadata() {
                    Ok(m) if m.is_dir() => stack.push(e.path()),
                    Ok(m) => total += m.len(),
                    Err(_) => {}
                }
            }
        }
    }
    total
}

/// The results as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | metric | value | baseline (same run) | ratio | target |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.scenario, r.metric, r.value, r.baseline, r.ratio, r.target
        ));
    }
    out
}

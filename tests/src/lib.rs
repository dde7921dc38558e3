//! Multi-node tests and the benchmark harness of entraide.
//!
//! [`TestNode`] drives the real `entraide` program in its own process with its own data
//! directory: real libp2p over real loopback sockets, a real sled database on disk.
//!
//! Test files holding a test that needs what a machine may lack (root, Chromium) run on
//! [`harness`], which reports such a test as `ignored` with its reason; under `CI=true`
//! it runs, and a missing tool fails it.

pub mod bench;
pub mod browser;
pub mod harness;
pub mod hostile;
pub mod netns;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use entraide_node::data_dir::{ApiInfo, DataDir};
use serde_json::Value;

/// Whether tests must run everything (CI) instead of skipping what this machine lacks.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Ends a test that returns [`harness::Ran`] as skipped for `reason` unless `cond` holds;
/// under CI, where everything must run, a missing tool fails the test instead.
#[macro_export]
macro_rules! skip_unless {
    ($cond:expr, $reason:expr) => {
        if !$cond {
            let reason = ::std::string::ToString::to_string(&$reason);
            if $crate::in_ci() {
                panic!("required under CI=true: {reason}");
            }
            return $crate::harness::Ran::Skipped(reason);
        }
    };
}

/// The flags of a node that meets its neighbours on loopback sockets only: no mDNS, a
/// free port, a resync every 2 s.
pub const LOOPBACK: &[&str] = &[
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--resync",
    "2",
];

/// The invite code `entraide invite` prints on `node`.
pub fn invite_code(node: &TestNode) -> Result<String> {
    let invite = node.ok(&["invite"])?;
    Ok(invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .ok_or_else(|| anyhow!("no invite code in {invite:?}"))?
        .to_owned())
}

/// A meeting point: a new community's first node, on the host that `prefix` runs programs
/// on, listening on port 4747 and announcing `address:4747` (`entraide up --announce`).
#[derive(Debug)]
pub struct MeetingPoint {
    /// The node.
    pub node: TestNode,
    /// Its invite code (the announced address first).
    pub code: String,
    args: Vec<String>,
}

impl MeetingPoint {
    /// Creates the community and starts the meeting point.
    pub fn start(bin: &str, prefix: &[&str], address: &str) -> Result<Self> {
        let node = TestNode::new(bin, "Meeting").with_prefix(prefix);
        node.ok(&["init", "--name", "Salle des fêtes"])?;
        let args: Vec<String> = [
            "--listen",
            "/ip4/0.0.0.0/tcp/4747",
            "--no-mdns",
            "--announce",
            &format!("{address}:4747"),
        ]
        .map(str::to_owned)
        .into();
        let mut meeting = MeetingPoint {
            code: String::new(),
            node,
            args,
        };
        meeting.restart()?;
        meeting.code = invite_code(&meeting.node)?;
        Ok(meeting)
    }

    /// Starts it again, as it was started first.
    pub fn restart(&mut self) -> Result<()> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.node.up(&args)
    }
}

/// A community of `names`, each a node running the program at `bin`: the first creates
/// it, the others join with its invite code.
pub fn community(bin: &str, names: &[&str]) -> Result<Vec<TestNode>> {
    let first = TestNode::new(bin, names[0]);
    first.ok(&["init", "--name", names[0]])?;
    let code = invite_code(&first)?;
    let mut nodes = vec![first];
    for name in &names[1..] {
        let n = TestNode::new(bin, name);
        n.ok(&["join", &code, "--name", name])?;
        nodes.push(n);
    }
    Ok(nodes)
}

/// The value of header `name` of an HTTP answer, or `""`.
pub fn header_of<B>(response: &ureq::http::Response<B>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// One resident's node, run as a separate `entraide` process.
#[derive(Debug)]
pub struct TestNode {
    /// A name for messages.
    pub name: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
    stdout: Option<mpsc::Receiver<String>>,
    /// Extra command prefix (e.g. `ip netns exec NS`).
    prefix: Vec<String>,
    /// Extra environment of every command.
    envs: Vec<(String, String)>,
}

impl TestNode {
    /// A node with an empty data directory, running the program at `bin`.
    pub fn new(bin: impl Into<PathBuf>, name: &str) -> Self {
        Self {
            name: name.to_owned(),
            bin: bin.into(),
            dir: tempfile::Builder::new()
                .prefix(&format!("entraide-{name}-"))
                .tempdir()
                .expect("a temporary directory"),
            child: None,
            stdout: None,
            prefix: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Runs every command of this node with `name=value` in its environment.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.envs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs every command of this node through `prefix` (e.g. `ip netns exec ns1`).
    pub fn with_prefix(mut self, prefix: &[&str]) -> Self {
        self.prefix = prefix.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut cmd = match self.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.bin);
                c
            }
            None => Command::new(&self.bin),
        };
        cmd.arg("--data-dir").arg(self.dir.path());
        cmd.env_remove("ENTRAIDE_DATA_DIR");
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs a command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("the entraide program runs")
    }

    /// Starts a command without waiting for it, its stdout piped (to ask several nodes at
    /// once: `wait_with_output` on each).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the entraide program runs")
    }

    /// Runs a command to completion with `input` on its standard input.
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the entraide program runs");
        if let Some(mut stdin) = child.stdin.take() {
            // A program that exits without reading all of it closes the pipe: not an error.
            let _ = stdin.write_all(input.as_bytes());
        }
        child.wait_with_output().expect("the entraide program ends")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> Result<String> {
        let out = self.run(args);
        if !out.status.success() {
            bail!(
                "{}: `entraide {}` failed: {}",
                self.name,
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Posts a `request` or an `offer` titled `title`, with this urgency (`urgent`, `today`,
    /// ...) and area; its id.
    pub fn post(&self, kind: &str, title: &str, urgency: &str, area: &str) -> Result<String> {
        let args = [
            "post",
            kind,
            "--title",
            title,
            "--urgency",
            urgency,
            "--area",
            area,
        ];
        Ok(self.ok(&args)?.trim().to_owned())
    }

    /// Runs a command with `--json` output and parses it.
    pub fn json(&self, args: &[&str]) -> Result<Value> {
        let text = self.ok(args)?;
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON: {text}", self.name))
    }

    /// Starts `entraide up` with `args` (the API on a free loopback port) and waits until
    /// its API answers.
    pub fn up(&mut self, args: &[&str]) -> Result<()> {
        self.start(args)?;
        self.wait_up(Duration::from_secs(30))
    }

    /// Starts `entraide up` with `args` (the API on a free loopback port), without waiting:
    /// [`TestNode::wait_up`] waits, [`TestNode::running_api`] tells when its API is there.
    /// Its log goes to `up.log` in the data directory; the log level is `RUST_LOG` (of this
    /// node, else of the test), by default the node's debug messages.
    pub fn start(&mut self, args: &[&str]) -> Result<()> {
        if self.child.is_some() {
            bail!("{} is already up", self.name);
        }
        let mut cmd = self.command();
        cmd.arg("up").args(["--ui", "127.0.0.1:0"]).args(args);
        if !self.envs.iter().any(|(k, _)| k == "RUST_LOG") {
            cmd.env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,entraide_node=debug".into()),
            );
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().context("spawn entraide up")?;
        let (tx, rx) = mpsc::sync_channel(1024);
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.try_send(line);
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let name = self.name.clone();
            let log = self.log_path();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut file = std::fs::File::create(log).ok();
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Some(f) = file.as_mut() {
                        let _ = writeln!(f, "{line}");
                    }
                    if std::env::var("ENTRAIDE_TEST_LOGS").is_ok() {
                        eprintln!("[{name}] {line}");
                    }
                }
            });
        }
        self.child = Some(child);
        self.stdout = Some(rx);
        Ok(())
    }

    /// Waits until the `up` started by [`TestNode::start`] answers on its API, for at most
    /// `timeout`; fails with its log if it exits first.
    pub fn wait_up(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!(
                    "{}: entraide up exited with {status}: {}",
                    self.name,
                    self.log()
                );
            }
            if self.api_answers() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: entraide up did not start in {timeout:?}: {}",
                    self.name,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the `up` we started (not a previous, killed one) answers on its API.
    fn api_answers(&self) -> bool {
        self.running_api().is_some()
            && self
                .json(&["status", "--json"])
                .is_ok_and(|s| s["online"] == Value::Bool(true))
    }

    /// What the data directory records about a running node's API (`api.json` and
    /// `api.token`, read by [`DataDir::read_api`] as the command line reads them). After a
    /// kill it may be a previous run's.
    pub fn api(&self) -> Result<ApiInfo> {
        DataDir::new(self.data_dir())
            .read_api()
            .ok_or_else(|| anyhow!("{}: no api.json and api.token (is the node up?)", self.name))
    }

    /// A call to this node's API with its token (a `GET`, or a `POST` with `body` as JSON or
    /// empty): the status and the JSON answer, whatever the status.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value)> {
        let info = self.api()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", info.base_url());
        let auth = format!("Bearer {}", info.token);
        let mut response = match (method, body) {
            ("GET", _) => agent.get(&url).header("Authorization", &auth).call()?,
            (_, Some(b)) => agent
                .post(&url)
                .header("Authorization", &auth)
                .send_json(b)?,
            (_, None) => agent
                .post(&url)
                .header("Authorization", &auth)
                .send_empty()?,
        };
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string()?;
        match serde_json::from_str(&text) {
            Ok(v) => Ok((status, v)),
            Err(_) => bail!("{method} {path}: {status}, not JSON: {text}"),
        }
    }

    /// [`TestNode::api`], once the `up` we started (not a previous, killed one) wrote it.
    pub fn running_api(&self) -> Option<ApiInfo> {
        let pid = self.pid()?;
        self.api().ok().filter(|api| api.pid == pid)
    }

    /// Where the stderr of `up` goes: `up.log` in the data directory.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("up.log")
    }

    /// The node's log so far (stderr of `up`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The last 60 lines of the node's log, without colour codes: enough to see why a
    /// test failed.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let mut plain = String::with_capacity(log.len());
        let mut chars = log.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // An escape sequence: up to its final letter.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                plain.push(c);
            }
        }
        let lines: Vec<_> = plain.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// The login code that `up --ui-lan` printed, waiting for it at most `timeout`. It
    /// reads (and so takes) the lines `up` printed since the last look.
    pub fn lan_code(&self, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            let found = self.stdout_lines().iter().find_map(|l| {
                l.split("type the code ")
                    .nth(1)
                    .map(|c| c.trim().to_owned())
            });
            if let Some(code) = found {
                return Ok(code);
            }
            if start.elapsed() > timeout {
                bail!("{}: `up --ui-lan` printed no login code", self.name);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pop-up's join address that `up --popup` printed (`http://…/join?t=TOKEN`),
    /// waiting for it at most `timeout`. Like [`TestNode::lan_code`], it takes the lines
    /// `up` printed since the last look.
    pub fn join_url(&self, timeout: Duration) -> Result<String> {
        let start = Instant::now();
        loop {
            let found = self.stdout_lines().iter().find_map(|l| {
                let at = l.find("http://")?;
                let url = l[at..].split([' ', ')']).next()?;
                url.contains("/join?t=").then(|| url.to_owned())
            });
            if let Some(url) = found {
                return Ok(url);
            }
            if start.elapsed() > timeout {
                bail!("{}: `up --popup` printed no join address", self.name);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Lines `up` printed on stdout so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout
            .as_ref()
            .map(|rx| rx.try_iter().collect())
            .unwrap_or_default()
    }

    /// The address of the running node's local page: `http://` and the `address` recorded
    /// in `api.json`.
    pub fn ui_url(&self) -> Result<String> {
        Ok(self.api()?.base_url())
    }

    /// The community this node belongs to (read from its data directory), as a member
    /// who was given the invite code holds it.
    pub fn community(&self) -> Result<entraide_node::community::Community> {
        Ok(entraide_node::data_dir::DataDir::new(self.data_dir())
            .load()?
            .community)
    }

    /// A new one-time address that signs a browser of this computer in to the running
    /// node's page (`entraide open --print`).
    pub fn signin_url(&self) -> Result<String> {
        Ok(self.ok(&["open", "--print"])?.trim().to_owned())
    }

    /// The running node's page, signed in as this computer's browser would be.
    pub fn page(&self) -> Result<Page> {
        let url = self.signin_url()?;
        let r = Page::agent()
            .get(&url)
            .call()
            .with_context(|| format!("{}: open {url}", self.name))?;
        if r.status().as_u16() != 303 {
            bail!("{}: the sign-in address answered {}", self.name, r.status());
        }
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or_else(|| anyhow!("{}: signing in set no cookie", self.name))?
            .to_owned();
        Ok(Page {
            base: self.ui_url()?,
            cookie,
        })
    }

    /// A loopback address neighbours can dial, with the peer id.
    pub fn address(&self) -> Result<String> {
        let status = self.json(&["status", "--json"])?;
        let who = self.json(&["whoami", "--json"])?;
        let peer = who["peer_id"]
            .as_str()
            .ok_or_else(|| anyhow!("no peer id"))?;
        let addr = status["listen_addresses"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .find(|a| a.starts_with("/ip4/"))
            })
            .ok_or_else(|| anyhow!("{} listens on no IPv4 address", self.name))?;
        Ok(format!("{addr}/p2p/{peer}"))
    }

    /// Stops the node with SIGTERM (a clean shutdown) and waits for it.
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while child.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    bail!("{} did not stop within 15 s", self.name);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// The process id of the running `up`, if any.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Peak resident memory of the running `up` so far (`VmHWM`), in MiB; an error when it
    /// cannot be read (no running `up`, no `/proc`).
    pub fn peak_rss_mib(&self) -> Result<f64> {
        let pid = self
            .pid()
            .ok_or_else(|| anyhow!("{}: no running `up` to measure", self.name))?;
        let path = format!("/proc/{pid}/status");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read {path}", self.name))?;
        let kib: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow!("{}: no VmHWM in {path}", self.name))?;
        Ok(kib / 1024.0)
    }

    /// Kills the node with SIGKILL, as a power cut would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The board as `list --all --json` shows it.
    pub fn board(&self) -> Result<Vec<Value>> {
        let v = self.json(&["list", "--all", "--json"])?;
        v.as_array()
            .cloned()
            .ok_or_else(|| anyhow!("list is not an array"))
    }

    /// Waits until `check` holds on this node's board.
    pub fn wait_board(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&[Value]) -> bool,
    ) -> Result<Duration> {
        let start = Instant::now();
        loop {
            if let Ok(board) = self.board()
                && check(&board)
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                bail!(
                    "{}: {what} did not happen within {timeout:?}\nboard: {:?}\nlog:\n{}",
                    self.name,
                    self.board().ok(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The local page as a signed-in browser of this computer sees it: its address and the
/// session cookie, sent with every request ([`TestNode::page`]).
#[derive(Clone, Debug)]
pub struct Page {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `entraide-PORT=<session>`.
    pub cookie: String,
}

impl Page {
    /// An HTTP client that reports every status and follows no redirect.
    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into()
    }

    /// A GET of `path`, signed in.
    pub fn get(&self, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        Self::agent()
            .get(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
    }

    /// A POST to `path` from the page itself (signed in, with its `Origin`).
    pub fn post(&self, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        Self::agent()
            .post(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("Origin", &self.base)
    }

    /// The status and body of a signed-in GET of `path`.
    pub fn fetch(&self, path: &str) -> Result<(u16, String)> {
        let mut r = self.get(path).call()?;
        Ok((
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ))
    }

    /// The form token of the page at `path`.
    pub fn csrf(&self, path: &str) -> Result<String> {
        let (_, page) = self.fetch(path)?;
        csrf_of(&page).ok_or_else(|| anyhow!("no form token on {path}"))
    }
}

/// A guest joins the pop-up board of the page at `base` with `token` and `name`, from the
/// page itself: their new session, or the status and page of the refusal.
pub fn join_popup(base: &str, token: &str, name: &str) -> Result<Result<Page, (u16, String)>> {
    let mut response = Page::agent()
        .post(format!("{base}/join"))
        .header("Origin", base)
        .send_form([("t", token), ("name", name)])?;
    let status = response.status().as_u16();
    if status != 303 {
        let body = response.body_mut().read_to_string().unwrap_or_default();
        return Ok(Err((status, body)));
    }
    let cookie = session_cookie(response.headers())
        .ok_or_else(|| anyhow!("joining set no session cookie"))?;
    Ok(Ok(Page {
        base: base.to_owned(),
        cookie,
    }))
}

/// The page's session cookie (`entraide-PORT=…`) that a response sets, if it sets one.
pub fn session_cookie(headers: &ureq::http::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("entraide-"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The token of a pop-up's join address.
pub fn join_token(url: &str) -> Result<String> {
    url.split_once("/join?t=")
        .map(|(_, t)| t.to_owned())
        .ok_or_else(|| anyhow!("no token in {url}"))
}

/// The login code `entraide resident add` (or `resident code`) printed.
pub fn login_code(output: &str) -> Result<String> {
    output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Login code:"))
        .map(|c| c.trim().to_owned())
        .ok_or_else(|| anyhow!("no login code in {output:?}"))
}

/// The hidden form token of a page.
pub fn csrf_of(page: &str) -> Option<String> {
    let key = r#"name="csrf" value=""#;
    let at = page.find(key)? + key.len();
    let end = page[at..].find('"')? + at;
    Some(page[at..end].to_owned())
}

/// The words of a paper backup as `entraide backup --paper` prints them (`7. word`), in
/// the order of their numbers.
pub fn backup_words(sheet: &str) -> Vec<String> {
    let tokens: Vec<&str> = sheet.split_whitespace().collect();
    let mut numbered: Vec<(usize, String)> = tokens
        .windows(2)
        .filter_map(|w| {
            let n = w[0].strip_suffix('.')?.parse::<usize>().ok()?;
            Some((n, w[1].to_owned()))
        })
        .collect();
    numbered.sort_by_key(|(n, _)| *n);
    numbered.into_iter().map(|(_, w)| w).collect()
}

/// The author id (64 hex digits) that the words of a paper backup name, decoded with the
/// BIP-39 crate itself, apart from the program: `None` if they are not a valid phrase of
/// `language`.
pub fn author_of_words(words: &[String], language: bip39::Language) -> Option<String> {
    let mnemonic = bip39::Mnemonic::parse_in(language, words.join(" ")).ok()?;
    let seed: [u8; 32] = mnemonic.to_entropy().try_into().ok()?;
    Some(entraide_crdt::AuthorKey::from_seed(seed).id().to_string())
}

/// Starts `node` on loopback ([`LOOPBACK`]), dialling `peer` if given, and waits until it
/// is up.
pub fn up_with_peer(node: &mut TestNode, peer: Option<&str>) {
    let mut args = LOOPBACK.to_vec();
    if let Some(p) = peer {
        args.extend(["--peer", p]);
    }
    node.up(&args).expect("up");
}

/// The names of those who responded to post `id` on `board`, in the board's order.
pub fn responders(board: &[Value], id: &str) -> Vec<String> {
    find_post(board, id)
        .and_then(|p| p["responses"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|r| r["helper_name"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The post with this id on a board, if any.
pub fn find_post<'a>(board: &'a [Value], id: &str) -> Option<&'a Value> {
    board.iter().find(|p| p["id"] == id)
}

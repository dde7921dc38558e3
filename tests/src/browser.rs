//! A real headless Chromium driven through chromedriver (WebDriver), for end-to-end tests
//! of the local page that `entraide up` serves.
//!
//! [`Driver`] runs one chromedriver on a free loopback port and kills it when dropped;
//! [`Driver::session`] opens a browser with a profile of its own (its own cookies), so two
//! residents can sit at two browsers side by side.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
pub use fantoccini::elements::Element;
pub use fantoccini::{Client, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// The flags every browser of the tests runs with: headless, nothing fetched from outside,
/// a laptop-sized window.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

/// How long chromedriver may take to answer after it starts.
const DRIVER_START: Duration = Duration::from_secs(30);

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn first_of(fixed: &[&str], names: &[&str]) -> Option<PathBuf> {
    fixed
        .iter()
        .map(PathBuf::from)
        .find(|p| is_executable(p))
        .or_else(|| on_path(names))
}

/// The tokio runtime a browser test drives its sessions on (two worker threads).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The chromedriver program: `/usr/bin/chromedriver`, or `chromedriver` on the PATH.
pub fn chromedriver_path() -> Option<PathBuf> {
    first_of(&["/usr/bin/chromedriver"], &["chromedriver"])
}

/// The browser: `/usr/bin/chromium`, or a Chromium or Chrome on the PATH.
pub fn chromium_path() -> Option<PathBuf> {
    first_of(
        &["/usr/bin/chromium"],
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    )
}

/// Why a browser cannot be driven on this machine, if it cannot.
pub fn unavailable() -> Option<String> {
    let Some(driver) = chromedriver_path() else {
        return Some(
            "chromedriver is not installed (apt-get install chromium-driver, or put it on the PATH)"
                .into(),
        );
    };
    if chromium_path().is_none() {
        return Some(
            "Chromium is not installed (apt-get install chromium, or put it on the PATH)".into(),
        );
    }
    match Command::new(&driver).arg("--version").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "{} --version failed: {}",
            driver.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("{} does not run: {e}", driver.display())),
    }
}

/// How many pages a PDF has: its page objects (`/Type /Page`, not `/Pages`).
pub fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

/// A new folder for the screenshots of a run, under the system temp dir, kept after the
/// test.
pub fn screenshot_dir() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!(
        "entraide-screenshots-{stamp}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a screenshot folder");
    dir
}

/// One plain HTTP/1.1 exchange with a loopback server: `(status, body)`.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, String)> {
    let timeout = Duration::from_secs(30);
    let mut stream = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver keeps the connection open whatever we ask: read the head, then
    // exactly Content-Length bytes.
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("no HTTP status in {head:?}"))?;
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<u64>().ok())?
    });
    let mut body = Vec::new();
    match length {
        Some(n) => {
            reader.take(n).read_to_end(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A chromedriver process on a loopback port; killed, with its browsers, when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
    chromium: PathBuf,
    log: PathBuf,
    dir: tempfile::TempDir,
    sessions: Mutex<Vec<String>>,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub fn start() -> Result<Self> {
        if let Some(why) = unavailable() {
            bail!("{why}");
        }
        let driver = chromedriver_path().context("chromedriver")?;
        let chromium = chromium_path().context("chromium")?;
        let dir = tempfile::Builder::new()
            .prefix("entraide-browser-")
            .tempdir()?;
        // ENTRAIDE_CHROMEDRIVER_LOG=FILE keeps a verbose log of chromedriver after the test.
        let verbose = std::env::var_os("ENTRAIDE_CHROMEDRIVER_LOG").map(PathBuf::from);
        let log = verbose
            .clone()
            .unwrap_or_else(|| dir.path().join("chromedriver.log"));
        let mut last = String::new();
        // The port may be taken between choosing and binding it: try a few.
        for _ in 0..3 {
            let port = free_port()?;
            let mut child = Command::new(&driver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .args(verbose.is_some().then_some("--verbose"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("start {}", driver.display()))?;
            let deadline = Instant::now() + DRIVER_START;
            loop {
                if let Some(status) = child.try_wait()? {
                    last = format!(
                        "chromedriver exited with {status}: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                    break;
                }
                match http(port, "GET", "/status", None) {
                    Ok((200, body))
                        if serde_json::from_str::<Value>(&body)
                            .is_ok_and(|v| v["value"]["ready"] == Value::Bool(true)) =>
                    {
                        return Ok(Self {
                            child,
                            port,
                            chromium,
                            log,
                            dir,
                            sessions: Mutex::new(Vec::new()),
                        });
                    }
                    Ok((status, body)) => last = format!("/status answered {status}: {body}"),
                    Err(e) => last = format!("/status: {e}"),
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!("chromedriver was not ready within {DRIVER_START:?}: {last}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        bail!("chromedriver did not start: {last}")
    }

    /// The chromedriver's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What chromedriver logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Opens a browser with a fresh profile of its own (its own cookies) named `name`.
    pub async fn session(&self, name: &str) -> Result<Browser> {
        self.session_with(name, &[]).await
    }

    /// [`Driver::session`] with more Chromium flags, e.g.
    /// `--host-resolver-rules=MAP evil.example 127.0.0.1` to see what a page whose name
    /// was rebound to this computer sees.
    pub async fn session_with(&self, name: &str, extra: &[&str]) -> Result<Browser> {
        let profile = self.dir.path().join(format!("profile-{name}"));
        std::fs::create_dir_all(&profile)?;
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(format!("--user-data-dir={}", profile.display()));
        // ENTRAIDE_CHROMIUM_ARGS adds flags (space-separated), to investigate.
        if let Ok(extra) = std::env::var("ENTRAIDE_CHROMIUM_ARGS") {
            args.extend(extra.split_whitespace().map(str::to_owned));
        }
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": self.chromium.display().to_string(),
                "args": args,
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!("an object")
        };
        let client = fantoccini::ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url())
            .await
            .with_context(|| format!("open a browser session for {name}: {}", self.log()))?;
        let id = client
            .session_id()
            .await?
            .ok_or_else(|| anyhow!("the new session has no id"))?;
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(id.clone());
        Ok(Browser {
            client,
            name: name.to_owned(),
            session: id,
            port: self.port,
        })
    }

    /// Processes whose command line names one of our profiles (browsers left behind).
    fn our_browsers(&self) -> Vec<String> {
        let needle = self.dir.path().display().to_string();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
                let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                String::from_utf8_lossy(&cmdline)
                    .contains(&needle)
                    .then(|| pid.to_string())
            })
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Ending each session closes its browser; then chromedriver goes, then anything
        // of ours a crash may have left.
        let sessions =
            std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|e| e.into_inner()));
        for id in sessions {
            let _ = http(self.port, "DELETE", &format!("/session/{id}"), None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = self.our_browsers();
            if left.is_empty() || Instant::now() > deadline {
                break;
            }
            let _ = Command::new("kill")
                .arg("-KILL")
                .args(&left)
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Polls `check` every 100 ms until it gives a value, for at most `timeout`. Errors from
/// `check` (an element replaced while a page loads) count as "not yet"; the last one is
/// reported if time runs out.
pub async fn poll<T>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Result<Option<T>>,
) -> Result<T> {
    let start = Instant::now();
    let mut last = None;
    loop {
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last = Some(e),
        }
        if start.elapsed() > timeout {
            return Err(match last {
                Some(e) => e.context(format!("{what}: not within {timeout:?}")),
                None => anyhow!("{what}: not within {timeout:?}"),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `flow` in a new browser session named `name`, closing it either way. When `flow`
/// fails, a full screenshot goes to `failure` and the page's text to stderr.
pub fn run_session(
    driver: &Driver,
    name: &str,
    failure: &Path,
    flow: impl AsyncFnOnce(&Browser) -> Result<()>,
) -> Result<()> {
    runtime().block_on(async {
        let b = driver.session(name).await?;
        let result = flow(&b).await;
        if result.is_err() {
            let _ = b.full_screenshot_to(failure).await;
            eprintln!("{}", b.snapshot().await);
        }
        b.close().await?;
        result
    })
}

/// One browser (one profile, one window) in a chromedriver session.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver client, for anything the helpers below do not cover.
    pub client: Client,
    /// A name for messages.
    pub name: String,
    session: String,
    port: u16,
}

impl std::ops::Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// Loads `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("{}: open {url}", self.name))
    }

    /// The current URL.
    pub async fn url(&self) -> Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    /// The path of the current URL (`/posts/…`), without the query.
    pub async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_owned())
    }

    /// The first element matching `css`, if any.
    pub async fn find_css(&self, css: &str) -> Result<Option<Element>> {
        Ok(self
            .client
            .find_all(Locator::Css(css))
            .await?
            .into_iter()
            .next())
    }

    /// Whether an element matches `css`.
    pub async fn exists(&self, css: &str) -> Result<bool> {
        Ok(self.find_css(css).await?.is_some())
    }

    /// Waits until an element matches `css`, for at most `timeout`.
    pub async fn wait_css(&self, css: &str, timeout: Duration) -> Result<Element> {
        let what = format!("{}: an element `{css}`", self.name);
        poll(&what, timeout, async || self.find_css(css).await).await
    }

    /// The element matching `css`; an error naming the page if there is none.
    pub async fn one(&self, css: &str) -> Result<Element> {
        match self.find_css(css).await? {
            Some(e) => Ok(e),
            None => bail!("{}: no element `{css}` on the page", self.name),
        }
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.one(css).await?.text().await?)
    }

    /// An attribute of the element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        Ok(self.one(css).await?.attr(name).await?)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// The `lang` attribute of `<html>`.
    pub async fn lang(&self) -> Result<String> {
        let v = self
            .js(
                "return document.documentElement.getAttribute('lang');",
                vec![],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// The visible text of the whole page.
    pub async fn body_text(&self) -> Result<String> {
        self.text("body").await
    }

    /// Leaves a mark in the page's JavaScript state: [`Browser::marked`] tells later whether
    /// this very page is still shown (a navigation or a reload wipes the mark).
    pub async fn mark(&self) -> Result<()> {
        self.js(
            "window.__entraideTestMark = 'still here'; return null;",
            vec![],
        )
        .await?;
        Ok(())
    }

    /// Whether the page marked by [`Browser::mark`] is still the one shown.
    pub async fn marked(&self) -> Result<bool> {
        let v = self
            .js("return window.__entraideTestMark === 'still here';", vec![])
            .await?;
        Ok(v == Value::Bool(true))
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot_to(&self, path: &Path) -> Result<()> {
        let png = self.client.screenshot().await?;
        std::fs::write(path, png).with_context(|| format!("write {}", path.display()))
    }

    /// Saves a PNG of the whole page (not only what the window shows) to `path`, at the
    /// window's width.
    pub async fn full_screenshot_to(&self, path: &Path) -> Result<()> {
        let size = self
            .js(
                "return [window.innerWidth, Math.max(window.innerHeight, \
                 document.documentElement.scrollHeight)];",
                vec![],
            )
            .await?;
        let (width, height) = (
            size[0].as_u64().unwrap_or(1280),
            size[1].as_u64().unwrap_or(900),
        );
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height.min(8000), "deviceScaleFactor": 1, "mobile": false }),
        )
        .await?;
        let shot = self.screenshot_to(path).await;
        self.stop_emulation().await?;
        shot
    }

    /// Sends a Chrome DevTools command to this browser (through chromedriver).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        let (port, path) = (
            self.port,
            format!("/session/{}/goog/cdp/execute", self.session),
        );
        let body = json!({ "cmd": cmd, "params": params });
        let (status, answer) =
            tokio::task::spawn_blocking(move || http(port, "POST", &path, Some(&body))).await??;
        if status != 200 {
            bail!("{}: CDP {cmd} answered {status}: {answer}", self.name);
        }
        Ok(serde_json::from_str::<Value>(&answer)?["value"].take())
    }

    /// On the new-post form: types `title`, posts it as a request, and waits for the
    /// post's page, which must show the title and `author`; returns the post's id.
    pub async fn submit_request(
        &self,
        title: &str,
        author: &str,
        timeout: Duration,
    ) -> Result<String> {
        self.wait_css("#f-title", timeout).await?;
        self.type_into("#f-title", title).await?;
        self.one("form#new-post-form button[data-action=submit-post]")
            .await?
            .click()
            .await?;
        let id = poll("the post's page", timeout, async || {
            let path = self.path().await?;
            Ok(path
                .strip_prefix("/posts/")
                .filter(|id| id.len() == 16)
                .map(str::to_owned))
        })
        .await?;
        let text = self.text("main#main").await?;
        ensure!(
            text.contains(title) && text.contains(author),
            "the post page: {text}"
        );
        Ok(id)
    }

    /// The page printed on A4 paper (or the size its own `@page` asks), as Chromium prints
    /// it through the DevTools protocol: the PDF's bytes.
    pub async fn print_pdf(&self) -> Result<Vec<u8>> {
        let pdf = self
            .cdp(
                "Page.printToPDF",
                json!({ "paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": true }),
            )
            .await?;
        let pdf = data_encoding::BASE64
            .decode(pdf["data"].as_str().unwrap_or_default().as_bytes())
            .with_context(|| format!("{}: the printed PDF", self.name))?;
        ensure!(
            pdf.starts_with(b"%PDF"),
            "{}: the printout is not a PDF",
            self.name
        );
        Ok(pdf)
    }

    /// Emulates a phone screen `width` CSS pixels wide (and `height` high).
    pub async fn emulate_phone(&self, width: u32, height: u32) -> Result<()> {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": true }),
        )
        .await?;
        Ok(())
    }

    /// A phone screen `width` px wide again, checked: Chromium drops the emulation when a
    /// click loads a new page, so tests set it after each one, before the next click.
    pub async fn phone(&self, width: u32) -> Result<()> {
        self.emulate_phone(width, 780).await?;
        let inner = self.js("return window.innerWidth;", vec![]).await?;
        ensure!(inner == width, "the viewport is {inner} px wide");
        Ok(())
    }

    /// Checks a page just loaded as a phone shows it: at 360 px, in language `lang`,
    /// nothing sticking out, no raw translation key; saves a full screenshot to `shot`.
    pub async fn check_at_360(&self, lang: &str, shot: &Path) -> Result<()> {
        self.phone(360).await?;
        ensure!(self.lang().await? == lang, "the page is not in {lang}");
        self.fits(360).await?;
        if let Some(bad) = untranslated(&self.body_text().await?) {
            bail!("the page shows {bad:?}:\n{}", self.snapshot().await);
        }
        self.full_screenshot_to(shot).await
    }

    /// Fails unless the page fits `width` px (no sideways scrolling), naming the first
    /// elements that stick out.
    pub async fn fits(&self, width: u32) -> Result<()> {
        let scroll = self
            .js("return document.documentElement.scrollWidth;", vec![])
            .await?
            .as_f64()
            .unwrap_or(0.0);
        if scroll > f64::from(width) {
            let wide = self
                .js(
                    "return [...document.querySelectorAll('body *')]\
                     .filter(e => e.getBoundingClientRect().right > arguments[0] + 1)\
                     .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' \
                     + Math.round(e.getBoundingClientRect().right)).join(', ');",
                    vec![json!(width)],
                )
                .await?;
            bail!("the page is {scroll} px wide at {width} px: {wide}");
        }
        Ok(())
    }

    /// Back to the window's own size.
    pub async fn stop_emulation(&self) -> Result<()> {
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
            .await?;
        Ok(())
    }

    /// The URL and the beginning of the text of the page, for error messages.
    pub async fn snapshot(&self) -> String {
        let url = self.url().await.unwrap_or_default();
        let text = self.body_text().await.unwrap_or_default();
        let text: String = text.chars().take(1500).collect();
        format!("{}'s page {url}:\n{text}", self.name)
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let field = self.one(css).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Fails, showing the page, unless the element matching `css` has `name="want"`.
    pub async fn expect_attr(&self, css: &str, name: &str, want: &str) -> Result<()> {
        let got = self.attr(css, name).await?;
        if got.as_deref() != Some(want) {
            bail!(
                "{}: `{css}` has {name}={got:?}, expected {want:?}\n{}",
                self.name,
                self.snapshot().await
            );
        }
        Ok(())
    }

    /// Checks the page shown against `page` in `lang`: the `<html lang>`, the board link
    /// saying `board_word`, the footer saying `synced` (lower case), the page's words in
    /// this language and none only the other language uses, a form token in every POST
    /// form, and no raw translation key ([`untranslated`]).
    pub async fn check_page(
        &self,
        page: &TourPage,
        lang: &str,
        board_word: &str,
        synced: &str,
    ) -> Result<()> {
        ensure!(
            self.lang().await? == lang,
            "<html lang> is {:?}",
            self.lang().await?
        );
        let nav = self.text("#nav-board").await?;
        ensure!(
            nav.contains(board_word),
            "#nav-board says {nav:?}, not {board_word:?}"
        );
        let footer = self.text("footer#sync-status").await?;
        ensure!(
            footer.to_lowercase().contains(synced),
            "footer#sync-status says {footer:?}, not {synced:?}"
        );
        let main = self.text("main#main").await?;
        let (want, other) = if lang == "fr" {
            (page.fr, page.en)
        } else {
            (page.en, page.fr)
        };
        // Case aside: a capital letter moved is not a broken page.
        let lower = main.to_lowercase();
        for w in want.iter().chain(page.both) {
            ensure!(
                lower.contains(&w.to_lowercase()),
                "the page does not say {w:?}:\n{main}"
            );
        }
        for o in other {
            let o_lower = o.to_lowercase();
            ensure!(
                !lower.contains(&o_lower)
                    || want.iter().any(|w| w.to_lowercase().contains(&o_lower)),
                "the page says {o:?}, from the other language:\n{main}"
            );
        }
        let unprotected = self
            .js(
                "return Array.from(document.querySelectorAll('form')).filter(f => \
                 f.method.toLowerCase() === 'post' && !f.querySelector('input[name=csrf]')) \
                 .map(f => f.getAttribute('action'));",
                vec![],
            )
            .await?;
        ensure!(
            unprotected.as_array().is_some_and(Vec::is_empty),
            "POST forms without a hidden csrf input: {unprotected}"
        );
        let title = self.client.title().await?;
        let all = format!("{title}\n{}", self.body_text().await?);
        if let Some(bad) = untranslated(&all) {
            bail!("the page shows {bad:?}, an untranslated key or marker:\n{all}");
        }
        Ok(())
    }

    /// Ends the session (closes the browser).
    pub async fn close(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// One page of the local page's tour: how to reach it, and what it must say
/// ([`Browser::check_page`]).
#[derive(Debug)]
pub struct TourPage {
    /// A short name, for messages and screenshot files.
    pub key: &'static str,
    /// The id of the navigation link to it (none for a post page).
    pub nav: Option<&'static str>,
    /// Its path; `{id}` stands for a post's id.
    pub path: &'static str,
    /// Words only the French page says, in `<main id="main">` (from cli/src/ui/i18n.rs).
    pub fr: &'static [&'static str],
    /// The same for English.
    pub en: &'static [&'static str],
    /// What it shows in both languages (the data, not the interface).
    pub both: &'static [&'static str],
}

/// A raw translation key (`nav.board`, `post_title`) or a missing-translation marker in
/// `text`, if there is one.
pub fn untranslated(text: &str) -> Option<String> {
    for marker in [
        "???",
        "MISSING",
        "missing translation",
        "TODO",
        "{",
        "}",
        "Some(",
        "None",
        "undefined",
        "NaN",
    ] {
        if text.contains(marker) {
            return Some(marker.to_owned());
        }
    }
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '.'))
        .find(|w| {
            let dotted = w.contains('.')
                && w.split('.').all(|s| {
                    s.starts_with(|c: char| c.is_ascii_lowercase())
                        && s.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                });
            let snake = w.contains('_')
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            dotted || snake
        })
        .map(str::to_owned)
}

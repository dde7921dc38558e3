//! The local page under attack, each attack against a real `entraide up`: a web page that
//! rebinds its name to this computer, another account of this computer, LAN hosts that
//! hold connections or guess login codes. (docs/threat-model.md, "The local page".)
//!
//! The LAN tests put other hosts in network namespaces (root and iproute2); the
//! other-account test runs a process as `nobody` (root and setpriv); the Chromium test needs
//! Chromium and chromedriver. Elsewhere they are reported as ignored, with the reason;
//! under CI=true they must run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use entraide_tests::browser::{self, Driver};
use entraide_tests::harness::Ran;
use entraide_tests::netns::{self, Guests};
use entraide_tests::{Page, TestNode, csrf_of, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const CLIENT: &str = env!("CARGO_BIN_EXE_lan-client");
const LOOPBACK: &[&str] = &["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"];
const LAN: &[&str] = &["--no-mdns", "--listen", "/ip4/0.0.0.0/tcp/0", "--ui-lan"];

tests_main!(
    a_page_that_rebinds_its_name_to_this_computer_gets_nothing,
    in_chromium_a_rebound_name_sees_a_refusal_not_the_invite,
    without_the_sign_in_address_this_computer_s_other_programs_get_nothing,
    another_account_of_this_computer_reads_no_secret_and_gets_no_sign_in_address,
    a_lan_host_holding_a_thousand_connections_cannot_freeze_the_page,
    a_guessing_lan_host_cannot_lock_out_the_resident_s_phone,
);

fn running(name: &str, args: &[&str]) -> TestNode {
    let mut n = TestNode::new(BIN, name);
    n.ok(&["init", "--name", name]).unwrap();
    n.up(args).unwrap();
    n
}

fn port_of(n: &TestNode) -> u16 {
    n.ui_url()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn invite_code(n: &TestNode) -> String {
    n.ok(&["invite"])
        .unwrap()
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("an invite code")
        .to_owned()
}

/// One request made by the LAN client program, run through `prefix` (a namespace, another
/// account); its JSON answer.
fn request(prefix: &[&str], to: &str, method: &str, path: &str, headers: &[String]) -> Value {
    request_with(prefix, to, method, path, headers, "")
}

/// [`request`] with a body.
fn request_with(
    prefix: &[&str],
    to: &str,
    method: &str,
    path: &str,
    headers: &[String],
    body: &str,
) -> Value {
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(CLIENT);
            c
        }
        None => Command::new(CLIENT),
    };
    cmd.args(["request", to, method, path]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if !body.is_empty() {
        cmd.args(["--body", body]);
    }
    let out = cmd.output().expect("the LAN client runs");
    assert!(
        out.status.success(),
        "lan-client request {to} {method} {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the LAN client prints JSON")
}

fn status_of(v: &Value) -> u64 {
    v["status"].as_u64().unwrap_or(0)
}

fn a_page_that_rebinds_its_name_to_this_computer_gets_nothing() {
    let n = running("Marie", LOOPBACK);
    let port = port_of(&n);
    let page = n.page().unwrap();
    let code = invite_code(&n);
    let token = n.api().unwrap().token;
    let to = format!("127.0.0.1:{port}");
    // Even with the resident's own cookie and the API token (which a rebinding page does
    // not have), a foreign name in Host is refused before any route runs.
    let creds = [
        format!("Cookie: {}", page.cookie),
        format!("Authorization: Bearer {token}"),
    ];
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        format!("127.0.0.1:{}", port + 1),
        "evil.example".to_owned(),
    ] {
        for path in [
            "/",
            "/invite",
            "/settings",
            "/print",
            "/board.entraide",
            "/events",
            "/api/v1/status",
            "/api/v1/invite",
            "/login",
            "/signin/0000",
            "/static/app.js",
        ] {
            let mut headers = vec![format!("Host: {host}")];
            headers.extend(creds.iter().cloned());
            let r = request(&[], &to, "GET", path, &headers);
            assert_eq!(status_of(&r), 421, "Host {host}, {path}: {r}");
            assert!(!r.to_string().contains(&code), "{path} leaked the invite");
        }
        let mut headers = vec![format!("Host: {host}"), format!("Origin: http://{host}")];
        headers.extend(creds.iter().cloned());
        headers.push("Content-Type: application/x-www-form-urlencoded".into());
        let r = request(&[], &to, "POST", "/settings/name", &headers);
        assert_eq!(status_of(&r), 421, "a rename through {host}: {r}");
    }
    // The real names still work.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let r = request(
            &[],
            &to,
            "GET",
            "/invite",
            &[format!("Host: {host}"), format!("Cookie: {}", page.cookie)],
        );
        assert_eq!(status_of(&r), 200, "{host}");
        assert!(r["body"].as_str().unwrap().contains(&code));
    }
    assert_eq!(n.json(&["whoami", "--json"]).unwrap()["name"], "Marie");
}

fn in_chromium_a_rebound_name_sees_a_refusal_not_the_invite() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let n = running("Marie", LOOPBACK);
    let port = port_of(&n);
    let code = invite_code(&n);
    let signin = n.signin_url().unwrap();
    let driver = Driver::start().expect("chromedriver");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The browser resolves evil.example to this computer, as after DNS rebinding.
        let b = driver
            .session_with(
                "rebound",
                &["--host-resolver-rules=MAP evil.example 127.0.0.1"],
            )
            .await
            .unwrap();
        // Even a valid sign-in address, opened under the foreign name, is refused (and
        // stays unused).
        let foreign = signin.replace("127.0.0.1", "evil.example");
        b.goto(&foreign).await.unwrap();
        let text = b.body_text().await.unwrap();
        assert!(text.contains("answers only at the address"), "{text}");
        b.goto(&format!("http://evil.example:{port}/invite"))
            .await
            .unwrap();
        let text = b.body_text().await.unwrap();
        assert!(!text.contains(&code), "the invite code was shown: {text}");
        // What the rebinding page's script would try: read the API and the page.
        for path in [
            "/invite",
            "/print",
            "/board.entraide",
            "/api/v1/invite",
            "/api/v1/status",
            "/events",
        ] {
            let got = b
                .js(
                    "return fetch(arguments[0]).then(r => r.status + ' ' + r.text().then(t => t), e => 'error ' + e);",
                    vec![Value::String(path.into())],
                )
                .await
                .unwrap();
            assert!(got.as_str().unwrap().starts_with("421"), "{path}: {got}");
        }
        // The real address without a session: how to sign in, in both languages, on a
        // phone-sized screen.
        b.emulate_phone(360, 780).await.unwrap();
        b.goto(&format!("http://127.0.0.1:{port}/")).await.unwrap();
        b.wait_css("#signin-needed", Duration::from_secs(20))
            .await
            .unwrap();
        for lang in ["fr", "en"] {
            b.one(&format!("#lang-{lang}"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            browser::poll("the sign-in page's language", Duration::from_secs(20), async || {
                Ok((b.lang().await? == lang).then_some(()))
            })
            .await
            .unwrap();
            if lang == "fr" {
                assert!(b.body_text().await.unwrap().contains("Connexion nécessaire"));
            }
        }
        let text = b.body_text().await.unwrap();
        assert!(
            text.contains("Sign-in needed") && text.contains("entraide open"),
            "{text}"
        );
        assert!(!text.contains(&code));
        let widths = b
            .js(
                "return [window.innerWidth, document.documentElement.scrollWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            widths[1].as_u64().unwrap() <= widths[0].as_u64().unwrap(),
            "the sign-in page fits 360 px: {widths}"
        );
        b.stop_emulation().await.unwrap();
        // The same browser on the real address, with the unused sign-in address: in.
        b.goto(&signin).await.unwrap();
        b.wait_css("ul#board", Duration::from_secs(20))
            .await
            .unwrap();
        b.goto(&format!("http://127.0.0.1:{port}/invite"))
            .await
            .unwrap();
        assert!(b.body_text().await.unwrap().contains(&code));
        b.close().await.unwrap();
    });
    Ran::Fully
}

fn without_the_sign_in_address_this_computer_s_other_programs_get_nothing() {
    let mut n = TestNode::new(BIN, "Marie");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    // A secret readable by others is named at start, with the fix.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = n.data_dir().join("identity.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        n.up(LOOPBACK).unwrap();
        let printed = n.stdout_lines().join("\n");
        assert!(
            printed.contains("identity.key can be read by other accounts")
                && printed.contains("chmod go-rwx"),
            "{printed}"
        );
        let start = printed
            .lines()
            .find(|l| l.contains("/signin/"))
            .expect("up prints a sign-in address");
        assert!(
            start.trim().starts_with("Open http://127.0.0.1:"),
            "{start}"
        );
        n.stop().unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    n.up(LOOPBACK).unwrap();
    let base = n.ui_url().unwrap();
    let code = invite_code(&n);
    let agent = Page::agent();
    let get = |path: &str, cookie: Option<&str>| {
        let mut r = agent.get(format!("{base}{path}"));
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        let mut r = r.call().unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    // No session: the sign-in page, nothing of the board, the invite or the stream.
    for path in [
        "/",
        "/invite",
        "/settings",
        "/mine",
        "/neighbours",
        "/print",
        "/board.entraide",
        "/events",
    ] {
        let (status, body) = get(path, None);
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("entraide open"), "{path}: {body}");
        assert!(!body.contains(&code), "{path} leaked the invite");
    }
    let cookie_name = format!("entraide-{}", port_of(&n));
    let forged = format!("{cookie_name}={}", "0".repeat(64));
    assert_eq!(get("/invite", Some(&forged)).0, 401);
    let r = agent
        .post(format!("{base}/settings/name"))
        .header("Origin", &base)
        .send_form([("name", "Mallory")])
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // A sign-in address works once.
    let url = n.signin_url().unwrap();
    let first = agent.get(&url).call().unwrap();
    assert_eq!(first.status().as_u16(), 303);
    assert_eq!(first.headers().get("location").unwrap(), "/");
    let set = first.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let (status, body) = get(&url.replacen(&base, "", 1), None);
    assert_eq!(status, 401, "a second use");
    assert!(body.contains("signin-refused"), "{body}");
    assert_eq!(get("/invite", Some(&cookie)).0, 200);
    // The browser stays signed in when the node restarts. (The test's node takes a new
    // free port each time, and the cookie is named after the port: the same session
    // token under the new name stands for the browser that returns to 7878.)
    n.stop().unwrap();
    n.up(LOOPBACK).unwrap();
    let base = n.ui_url().unwrap();
    let session = cookie.split_once('=').unwrap().1;
    let cookie = format!("entraide-{}={session}", port_of(&n));
    let fetch = |path: &str, cookie: &str| {
        Page {
            base: base.clone(),
            cookie: cookie.to_owned(),
        }
        .fetch(path)
        .unwrap()
    };
    assert_eq!(fetch("/invite", &cookie).0, 200, "after a restart");
    // "Sign out every other device" ends the others; "sign me out" ends this one.
    let other = n.page().unwrap();
    let me = Page {
        base: base.clone(),
        cookie: cookie.clone(),
    };
    let csrf = me.csrf("/settings").unwrap();
    let r = me
        .post("/signout-others")
        .send_form([("csrf", csrf.as_str())])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(other.fetch("/").unwrap().0, 401, "the other browser is out");
    assert_eq!(me.fetch("/").unwrap().0, 200);
    let r = me
        .post("/signout")
        .send_form([("csrf", csrf.as_str())])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(me.fetch("/").unwrap().0, 401, "signed out");
}

fn another_account_of_this_computer_reads_no_secret_and_gets_no_sign_in_address() -> Ran {
    // Another account of this computer, for real: it can reach the port but not the data
    // folder, so it has neither the token nor a sign-in address.
    let setpriv = Command::new("setpriv").arg("--version").output();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    skip_unless!(
        root && setpriv.is_ok(),
        "another account needs root and setpriv (util-linux)"
    );
    let n = running("Marie", LOOPBACK);
    let base = n.ui_url().unwrap();
    let code = invite_code(&n);
    // The resident's browser signed in: every secret of the folder is there to be read.
    n.page().unwrap();
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let to = base.trim_start_matches("http://").to_owned();
    let r = request(&nobody, &to, "GET", "/invite", &[]);
    assert_eq!(status_of(&r), 401, "{r}");
    assert!(!r.to_string().contains(&code));
    for file in ["api.token", "identity.key", "page-sessions.json"] {
        assert!(n.data_dir().join(file).exists(), "no {file} to try");
        let out = Command::new(nobody[0])
            .args(&nobody[1..])
            .arg("cat")
            .arg(n.data_dir().join(file))
            .output()
            .unwrap();
        assert!(!out.status.success(), "nobody read {file}");
    }
    let out = Command::new(nobody[0])
        .args(&nobody[1..])
        .arg(BIN)
        .arg("--data-dir")
        .arg(n.data_dir())
        .args(["open", "--print"])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("/signin/"),
        "nobody got a sign-in address: {out:?}"
    );
    Ran::Fully
}

/// Runs the LAN client's `hold` in a guest; returns its process and the "holding" report.
fn hold(guests: &Guests, i: usize, to: &str, count: usize, secs: u64, partial: bool) -> Holder {
    let mut cmd = Command::new("ip");
    cmd.args(&guests.prefix(i)[1..]).arg(CLIENT).args([
        "hold",
        to,
        &count.to_string(),
        &secs.to_string(),
    ]);
    if partial {
        cmd.arg("--partial");
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the LAN client starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let holding: Value =
        serde_json::from_str(&lines.next().expect("a holding line").unwrap()).unwrap();
    Holder {
        child,
        lines,
        holding,
    }
}

struct Holder {
    child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    holding: Value,
}

impl Holder {
    fn done(mut self) -> Value {
        let done: Value =
            serde_json::from_str(&self.lines.next().expect("a done line").unwrap()).unwrap();
        let _ = self.child.wait();
        done
    }
}

/// The soft and hard limits on open files of a process, from /proc.
fn nofile(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .to_owned();
    let mut f = line.split_whitespace().skip(3);
    (f.next().unwrap().into(), f.next().unwrap().into())
}

fn a_lan_host_holding_a_thousand_connections_cannot_freeze_the_page() -> Ran {
    let why = netns::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let tag = format!("px{}", std::process::id() % 1000);
    let guests = Guests::new(&tag, 2).expect("two LAN hosts");
    // Started with the usual low soft limit on open files, which `up` raises; a short
    // idle timeout so the test need not wait the default 30 s.
    let mut n = TestNode::new(BIN, "Marie")
        .with_prefix(&["sh", "-c", "ulimit -Sn 1024; exec \"$0\" \"$@\""])
        .with_env("ENTRAIDE_PAGE_IDLE_SECS", "3");
    n.ok(&["init", "--name", "Marie"]).unwrap();
    n.up(LAN).unwrap();
    let (soft, hard) = nofile(n.pid().unwrap());
    assert_eq!(
        soft, hard,
        "the open files limit is raised to the hard limit"
    );
    let port = port_of(&n);
    let page = n.page().unwrap();
    let attacked = format!("{}:{port}", guests.our_address(0));

    // 1,100 idle connections from one host: it keeps 16, the rest are closed at once.
    let held = hold(&guests, 0, &attacked, 1100, 1, false);
    eprintln!("attacker: {}", held.holding);
    assert_eq!(
        held.holding["opened"].as_u64().unwrap() + held.holding["failed"].as_u64().unwrap(),
        1100
    );
    let started = Instant::now();
    let (status, _) = page.fetch("/").unwrap();
    assert_eq!(
        status, 200,
        "the resident's own page answers under the attack"
    );
    n.json(&["status", "--json"])
        .expect("the API answers under the attack");
    eprintln!("own page and API answered in {:?}", started.elapsed());
    let phone = request(
        &guests.prefix(1),
        &format!("{}:{port}", guests.our_address(1)),
        "GET",
        "/login",
        &[],
    );
    assert_eq!(
        status_of(&phone),
        200,
        "another LAN device still gets in: {phone}"
    );
    let done = held.done();
    eprintln!("attacker after 1 s: {done}");
    assert!(
        done["open"].as_u64().unwrap() <= 16,
        "at most 16 connections per client: {done}"
    );

    // Connections that never finish a request head (slowloris) or stay idle are closed
    // after the timeout.
    let held = hold(&guests, 0, &attacked, 16, 6, true);
    assert_eq!(held.holding["opened"], 16);
    let done = held.done();
    eprintln!("slow heads after 6 s: {done}");
    assert_eq!(
        done["open"], 0,
        "idle and half-sent connections are closed: {done}"
    );
    assert_eq!(page.fetch("/").unwrap().0, 200);
    Ran::Fully
}

fn a_guessing_lan_host_cannot_lock_out_the_resident_s_phone() -> Ran {
    let why = netns::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let tag = format!("pl{}", std::process::id() % 1000);
    let guests = Guests::new(&tag, 2).expect("two LAN hosts");
    let n = running("Marie", LAN);
    let port = port_of(&n);
    let code = n
        .stdout_lines()
        .iter()
        .find_map(|l| {
            l.split("type the code ")
                .nth(1)
                .map(|c| c.trim().to_owned())
        })
        .expect("up prints the login code");
    let attacker = (
        guests.prefix(0),
        format!("{}:{port}", guests.our_address(0)),
    );
    let phone = (
        guests.prefix(1),
        format!("{}:{port}", guests.our_address(1)),
    );
    let login = |who: &(Vec<&str>, String), code: &str| {
        request_with(
            &who.0,
            &who.1,
            "POST",
            "/login",
            &[
                "Content-Type: application/x-www-form-urlencoded".into(),
                format!("Origin: http://{}", who.1),
            ],
            &format!("code={code}"),
        )
    };
    // Ten wrong codes, then the attacker is held off, even with the right code.
    for i in 0..10 {
        let r = login(&attacker, "WRONG123");
        assert_eq!(status_of(&r), 401, "wrong code {i}");
    }
    let r = login(&attacker, "WRONG123");
    assert_eq!(status_of(&r), 429, "{r}");
    assert!(r["headers"]["retry-after"].is_string(), "{r}");
    assert_eq!(status_of(&login(&attacker, &code)), 429, "not even checked");
    // The resident's phone, another device, gets in with the right code.
    let r = login(&phone, &code.to_lowercase());
    assert_eq!(status_of(&r), 303, "{r}");
    let cookie = r["headers"]["set-cookie"]
        .as_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let get = |path: &str, extra: &[String]| {
        let mut h = vec![format!("Cookie: {cookie}")];
        h.extend(extra.iter().cloned());
        request(&phone.0, &phone.1, "GET", path, &h)
    };
    let board = get("/settings", &[]);
    assert_eq!(status_of(&board), 200);
    // The API stays on this computer, whatever the token.
    let token = n.api().unwrap().token;
    let api = get(
        "/api/v1/invite",
        &[format!("Authorization: Bearer {token}")],
    );
    assert_eq!(status_of(&api), 403, "{api}");
    // A rebinding name from the LAN: refused too.
    assert_eq!(
        status_of(&get("/", &[format!("Host: evil.example:{port}")])),
        421
    );
    // The phone signs out: its cookie no longer opens anything.
    let csrf = csrf_of(board["body"].as_str().unwrap()).expect("a form token");
    let r = request_with(
        &phone.0,
        &phone.1,
        "POST",
        "/signout",
        &[
            format!("Cookie: {cookie}"),
            "Content-Type: application/x-www-form-urlencoded".into(),
            format!("Origin: http://{}", phone.1),
        ],
        &format!("csrf={csrf}"),
    );
    assert_eq!(status_of(&r), 303, "{r}");
    assert_eq!(r["headers"]["location"], "/login?out=1");
    let after = get("/settings", &[]);
    assert_eq!(status_of(&after), 303, "signed out: back to the login page");
    Ran::Fully
}

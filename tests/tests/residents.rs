//! Residents hosted by a neighbour's node (issue 13), between real `entraide` processes on
//! loopback: Amel's node (A) hosts Zoé and Paul; Bruno's node (B) is a neighbour.
//!
//! Zoé posts (from the command line with `--as`, and from her phone's page session), and B
//! shows the posts signed by Zoé's own key, under her name, not Amel's. Paul, signed in with
//! his own code, cannot withdraw Zoé's post, cannot read the invite, and cannot sign her
//! out. Twenty wrong codes from one client are throttled after ten. A new code for Paul
//! signs his phone out, not Zoé's. Then Zoé moves to a device of her own (`resident
//! export`, `join --identity`), Amel's node removes its copy of her key, her page session
//! there ends, and her posts stay on every board.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, ensure};
use entraide_tests::{LOOPBACK, Page, TestNode, community, csrf_of, login_code, session_cookie};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(45);

/// A hosted resident's id, from `resident list --json`.
fn resident_id(node: &TestNode, name: &str) -> Result<String> {
    let list = node.json(&["resident", "list", "--json"])?;
    list.as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == name))
        .and_then(|r| r["author"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("{name} not in {list}"))
}

/// Signs a device in to `node`'s page with a login code: the session, or the status.
fn sign_in(node: &TestNode, code: &str) -> Result<std::result::Result<Page, u16>> {
    let base = node.ui_url()?;
    let response = Page::agent()
        .post(format!("{base}/login"))
        .header("Origin", &base)
        .send_form([("code", code)])?;
    let status = response.status().as_u16();
    if status != 303 {
        return Ok(Err(status));
    }
    let cookie = session_cookie(response.headers()).context("no session cookie")?;
    Ok(Ok(Page { base, cookie }))
}

/// Whether a page session is over: its next page sends it to the login form.
fn signed_out(page: &Page) -> Result<bool> {
    let response = page.get("/").call()?;
    Ok(response.status().as_u16() == 303
        && response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login")))
}

fn post_by<'a>(board: &'a [Value], author: &str, title: &str) -> Option<&'a Value> {
    board
        .iter()
        .find(|p| p["author"] == author && p["title"] == title)
}

#[test]
fn hosted_residents_write_as_themselves_and_move_to_their_own_device() {
    let mut nodes = community(BIN, &["Amel", "Bruno"]).expect("a community of two");
    nodes[0].up(LOOPBACK).expect("A up");
    let a_addr = nodes[0].address().expect("A's address");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", &a_addr]);
    nodes[1].up(&args).expect("B up");
    if let Err(e) = run(&mut nodes) {
        panic!(
            "{e:?}\n\n--- A's log ---\n{}\n--- B's log ---\n{}",
            nodes[0].log_tail(),
            nodes[1].log_tail()
        );
    }
}

fn run(nodes: &mut [TestNode]) -> Result<()> {
    let (a, b) = (&nodes[0], &nodes[1]);
    let amel = a.json(&["whoami", "--json"])?["author"]
        .as_str()
        .context("A's author")?
        .to_owned();
    let zoe_code = login_code(&a.ok(&["resident", "add", "--name", "Zoé"])?)?;
    let paul_code = login_code(&a.ok(&["resident", "add", "--name", "Paul"])?)?;
    let taken = a.run(&["resident", "add", "--name", "ZOÉ"]);
    ensure!(!taken.status.success(), "a second Zoé was accepted");
    let zoe = resident_id(a, "Zoé")?;
    let paul = resident_id(a, "Paul")?;
    ensure!(
        zoe != amel && paul != amel && zoe != paul,
        "three distinct authors"
    );

    // `--as` acts for Zoé: her own key, and whoami says whose computer holds it.
    let who = a.json(&["--as", "zoé", "whoami", "--json"])?;
    ensure!(who["author"] == zoe.as_str(), "--as whoami: {who}");
    ensure!(
        who["hosted_by"]["author"] == amel.as_str(),
        "hosted_by: {who}"
    );
    ensure!(a.json(&["whoami", "--json"])?["hosted_by"].is_null());
    let id = a
        .ok(&[
            "--as",
            "Zoé",
            "post",
            "request",
            "--title",
            "De l'eau au 4e",
        ])?
        .trim()
        .to_owned();
    let unknown = a.run(&["--as", "Nobody", "list"]);
    ensure!(
        !unknown.status.success()
            && String::from_utf8_lossy(&unknown.stderr).contains("no resident named"),
        "--as an unknown name: {}",
        String::from_utf8_lossy(&unknown.stderr)
    );

    // B shows it signed by Zoé's key, under her name.
    b.wait_board("Zoé's post", PATIENCE, |board| {
        post_by(board, &zoe, "De l'eau au 4e").is_some_and(|p| p["author_name"] == "Zoé")
    })?;
    let mine = a.json(&["--as", "Zoé", "list", "--mine", "--json"])?;
    ensure!(
        mine.as_array()
            .is_some_and(|l| l.len() == 1 && l[0]["id"] == id.as_str()),
        "Zoé's own posts: {mine}"
    );
    ensure!(
        a.json(&["list", "--mine", "--json"])?
            .as_array()
            .is_some_and(Vec::is_empty),
        "Amel owns none of it"
    );

    // Phones: each signs in with their own code and acts as themselves only.
    let zoe_page = sign_in(a, &zoe_code)?.map_err(|s| anyhow!("Zoé's login: {s}"))?;
    let paul_page = sign_in(a, &paul_code)?.map_err(|s| anyhow!("Paul's login: {s}"))?;
    let (_, settings) = zoe_page.fetch("/settings")?;
    ensure!(
        settings.contains(r#"id="hosted""#) && settings.contains("Amel"),
        "Zoé's settings do not say whose computer holds her key"
    );
    let csrf = paul_page.csrf("/settings")?;
    let refused = paul_page
        .post(&format!("/posts/{id}/withdraw"))
        .send_form([("csrf", csrf.as_str())])?;
    ensure!(
        refused.status().as_u16() >= 400,
        "Paul withdrew Zoé's post: {}",
        refused.status()
    );
    let post = a.json(&["show", &id, "--json"])?;
    ensure!(
        post["status"] == "open",
        "Zoé's post after Paul's try: {post}"
    );
    let (status, _) = paul_page.fetch("/invite")?;
    ensure!(status == 403, "a resident read the invite page: {status}");
    let ended = paul_page
        .post("/signout-others")
        .send_form([("csrf", csrf.as_str())])?;
    ensure!(
        ended.status().as_u16() == 303,
        "sign-out-others: {}",
        ended.status()
    );
    let (status, _) = zoe_page.fetch("/settings")?;
    ensure!(status == 200, "Paul signed Zoé out: {status}");

    // Zoé posts from her phone's session: the form token of her page, her key.
    let (_, form) = zoe_page.fetch("/new")?;
    let csrf = csrf_of(&form).context("no form token on /new")?;
    let made = zoe_page.post("/new").send_form([
        ("csrf", csrf.as_str()),
        ("kind", "request"),
        ("category", "visit"),
        ("urgency", "today"),
        ("title", "Une visite cet après-midi"),
        ("details", ""),
        ("area", "Bât. B"),
    ])?;
    ensure!(
        made.status().as_u16() == 303,
        "Zoé's form post: {}",
        made.status()
    );
    b.wait_board("Zoé's page post", PATIENCE, |board| {
        post_by(board, &zoe, "Une visite cet après-midi").is_some()
    })?;

    // Twenty wrong codes from one client: ten are compared, then it must wait.
    let mut statuses = Vec::new();
    for i in 0..20 {
        statuses.push(
            sign_in(a, &format!("WRNG-CODE-{i:04}"))?
                .err()
                .unwrap_or(303),
        );
    }
    ensure!(
        statuses[..10].iter().all(|s| *s == 401) && statuses[10..].iter().all(|s| *s == 429),
        "wrong codes: {statuses:?}"
    );
    // Throttled, even the right code waits: guessing gains nothing.
    ensure!(
        sign_in(a, &zoe_code)?.err() == Some(429),
        "the right code got past the throttle"
    );

    // Paul's code is replaced (a lost phone): the device signed in with the old one is
    // signed out, Zoé's is not.
    let new_code = login_code(&a.ok(&["resident", "code", "Paul"])?)?;
    ensure!(new_code != paul_code, "Paul's code was not replaced");
    ensure!(signed_out(&paul_page)?, "Paul's session outlived his code");
    ensure!(!signed_out(&zoe_page)?, "Paul's new code signed Zoé out");

    // Paul was never exported: his key is not destroyed by mistake.
    let refused = a.run(&["resident", "remove", "Paul"]);
    ensure!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("has not been exported"),
        "removing Paul: {}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Zoé blocks Bruno, with a reason for herself: her list, on A.
    a.ok(&[
        "--as",
        "Zoé",
        "block",
        "Bruno",
        "--reason",
        "messages insultants",
    ])?;
    ensure!(
        a.ok(&["--as", "Zoé", "blocked"])?
            .contains("messages insultants"),
        "Zoé's block list"
    );
    ensure!(
        !a.ok(&["blocked"])?.contains("Bruno"),
        "Zoé's block is not Amel's"
    );

    // Zoé moves to her own device.
    let file = a.data_dir().join("zoe-export.key");
    let file_arg = file.to_str().context("path")?;
    a.ok(&["resident", "export", "Zoé", "--out", file_arg])?;
    let again = a.run(&["resident", "export", "Zoé", "--out", file_arg]);
    ensure!(!again.status.success(), "an export overwrote a file");
    let invite = a.ok(&["invite"])?;
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .context("invite code")?;
    let mut own = TestNode::new(BIN, "Zoé-own");
    own.ok(&["join", code, "--identity", file_arg])?;
    ensure!(
        own.json(&["whoami", "--json"])?["author"] == zoe.as_str(),
        "the restored identity is not Zoé's"
    );
    let a_addr = a.address()?;
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", &a_addr]);
    own.up(&args)?;
    own.wait_board("Zoé's own node holds her posts", PATIENCE, |board| {
        post_by(board, &zoe, "De l'eau au 4e").is_some()
    })?;
    ensure!(
        own.json(&["whoami", "--json"])?["name"] == "Zoé",
        "Zoé's name did not follow her"
    );
    own.ok(&["post", "offer", "--title", "Je prête ma perceuse"])?;
    b.wait_board("a post from Zoé's own device", PATIENCE, |board| {
        post_by(board, &zoe, "Je prête ma perceuse").is_some()
    })?;

    let removed = a.ok(&["resident", "remove", "Zoé"])?;
    ensure!(removed.contains("no longer hosted"), "remove: {removed}");
    let gone = a.run(&["--as", "Zoé", "whoami"]);
    ensure!(!gone.status.success(), "--as a removed resident worked");
    ensure!(signed_out(&zoe_page)?, "Zoé's old session on A still works");
    for node in [a, b, &own] {
        let board = node.board()?;
        ensure!(
            post_by(&board, &zoe, "De l'eau au 4e").is_some()
                && post_by(&board, &zoe, "Une visite cet après-midi").is_some(),
            "{}: Zoé's posts are gone after the removal",
            node.name
        );
    }
    drop(own);

    // Whom Zoé blocked, and why, did not stay behind her in A's store.
    nodes[0].stop()?;
    let store = entraide_node::store::Store::open(&nodes[0].data_dir().join("db"))?;
    // Amel blocked nobody: nothing is left.
    let left = store.blocks();
    ensure!(left.is_empty(), "left in A's store: {left:?}");
    Ok(())
}

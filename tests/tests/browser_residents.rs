//! Hosted residents in a real browser (issue 13): Amel's node (A) hosts Zoé and Paul;
//! Bruno's node (B) is a neighbour. On her phone (a browser context of her own, 360 pixels
//! wide, in French), Zoé opens the address of her QR code: the login form is filled in, one
//! tap signs her in as herself. She posts with the page's form, and B shows the post signed
//! by Zoé's key, under her name. Her settings say, in French then in English, whose
//! computer holds her key. Paul, in another context, sees Zoé's post without any button
//! that acts on it, and his own "mine" page does not list it.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots go to a folder printed as `screenshots: …`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use entraide_tests::browser::{self, Browser, Driver, poll, runtime};
use entraide_tests::harness::Ran;
use entraide_tests::{LOOPBACK, TestNode, community, login_code, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);
const TITLE: &str = "Monter six packs d'eau au 4e";

tests_main!(zoe_signs_in_from_her_phone_and_posts_as_herself);

fn zoe_signs_in_from_her_phone_and_posts_as_herself() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let mut nodes = community(BIN, &["Amel", "Bruno"]).expect("a community of two");
    nodes[0].up(LOOPBACK).expect("A up");
    let a_addr = nodes[0].address().expect("A's address");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", &a_addr]);
    nodes[1].up(&args).expect("B up");
    if let Err(e) = run(&nodes) {
        panic!(
            "{e:?}\n\n--- A's log ---\n{}\n--- B's log ---\n{}",
            nodes[0].log_tail(),
            nodes[1].log_tail()
        );
    }
    Ran::Fully
}

fn run(nodes: &[TestNode]) -> Result<()> {
    let (a, b) = (&nodes[0], &nodes[1]);
    let zoe_code = login_code(&a.ok(&["resident", "add", "--name", "Zoé"])?)?;
    let paul_code = login_code(&a.ok(&["resident", "add", "--name", "Paul"])?)?;
    let list = a.json(&["resident", "list", "--json"])?;
    let zoe = list
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "Zoé"))
        .and_then(|r| r["author"].as_str())
        .context("Zoé's id")?
        .to_owned();
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start()?;
    let base = a.ui_url()?;
    let id = runtime().block_on(async {
        let phone = driver.session("Zoé").await?;
        let flow = zoe_phone(&phone, &base, &zoe_code, &shots).await;
        if flow.is_err() {
            let _ = phone
                .screenshot_to(&shots.join("residents-failed.png"))
                .await;
            eprintln!("{}", phone.snapshot().await);
        }
        let id = flow?;
        phone.close().await?;
        Ok::<_, anyhow::Error>(id)
    })?;

    // B shows the post signed by Zoé's key, under her name.
    let start = Instant::now();
    loop {
        let board = b.board()?;
        if let Some(p) = board.iter().find(|p| p["id"] == id.as_str()) {
            ensure!(p["author"] == zoe.as_str(), "B shows it by {}", p["author"]);
            ensure!(
                p["author_name"] == "Zoé",
                "B shows it under {}",
                p["author_name"]
            );
            ensure!(p["title"] == TITLE, "{p}");
            break;
        }
        if start.elapsed() > PATIENCE {
            bail!("B never showed Zoé's post {id}: {board:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    runtime().block_on(async {
        let paul = driver.session("Paul").await?;
        let flow = paul_phone(&paul, &base, &paul_code, &id).await;
        if flow.is_err() {
            eprintln!("{}", paul.snapshot().await);
        }
        flow?;
        paul.close().await
    })?;
    let post = a.json(&["show", &id, "--json"])?;
    ensure!(post["status"] == "open", "Zoé's post after Paul: {post}");
    Ok(())
}

/// Opens the address of a QR code and taps "Entrer"; returns once on the board.
async fn sign_in(phone: &Browser, base: &str, code: &str) -> Result<()> {
    phone
        .goto(&format!("{base}/lang/fr?back=/login%3Fcode%3D{code}"))
        .await?;
    phone.wait_css("#login-form", PATIENCE).await?;
    phone.emulate_phone(360, 780).await?;
    ensure!(
        phone.lang().await? == "fr",
        "the login page is not in French"
    );
    phone.expect_attr("#f-code", "value", code).await?;
    ensure!(
        phone.exists("#login-ready").await?,
        "the login page does not say the code is filled in"
    );
    phone
        .one("button[data-action=login]")
        .await?
        .click()
        .await?;
    poll("the board after signing in", PATIENCE, async || {
        Ok((phone.path().await? == "/" && phone.exists("#nav-board").await?).then_some(()))
    })
    .await
}

/// Zoé's phone: signs in, checks her settings, posts; returns the post's id.
async fn zoe_phone(
    phone: &Browser,
    base: &str,
    code: &str,
    shots: &std::path::Path,
) -> Result<String> {
    sign_in(phone, base, code).await?;
    // Her settings say whose computer holds her key, and what that means.
    phone.goto(&format!("{base}/settings")).await?;
    phone.wait_css("#hosted", PATIENCE).await?;
    let hosted = phone.text("#hosted").await?;
    for want in [
        "Amel",
        "pourrait publier ou répondre en votre nom",
        "entraide resident export",
    ] {
        ensure!(
            hosted.contains(want),
            "the settings do not say {want:?}: {hosted}"
        );
    }
    ensure!(
        !phone.exists("#emergency").await? && !phone.exists("#identity-file").await?,
        "a hosted resident sees the owner's settings"
    );
    ensure!(phone.text("#f-name").await.is_ok(), "no name field for Zoé");
    phone.expect_attr("#f-name", "value", "Zoé").await?;
    let widths = phone
        .js(
            "return [window.innerWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await?;
    ensure!(
        widths[1].as_f64() <= Some(360.0),
        "the settings are wider than the phone: {widths}"
    );
    if let Some(bad) = browser::untranslated(&phone.body_text().await?) {
        bail!("the settings show {bad:?}");
    }
    phone
        .full_screenshot_to(&shots.join("resident-settings-360px-fr.png"))
        .await?;
    // The same in English.
    phone
        .goto(&format!("{base}/lang/en?back=/settings"))
        .await?;
    phone.wait_css("#hosted", PATIENCE).await?;
    ensure!(phone.lang().await? == "en", "not in English");
    let hosted = phone.text("#hosted").await?;
    ensure!(
        hosted.contains("could post or respond as you") && hosted.contains("Amel"),
        "the English settings say {hosted:?}"
    );
    if let Some(bad) = browser::untranslated(&phone.body_text().await?) {
        bail!("the English settings show {bad:?}");
    }
    phone.goto(&format!("{base}/lang/fr?back=/new")).await?;

    // A post with the page's form, on the phone.
    phone.emulate_phone(360, 780).await?;
    phone.submit_request(TITLE, "Zoé", PATIENCE).await
}

/// Paul's phone: his own session sees Zoé's post with nothing to act on it, and his
/// "mine" does not list it.
async fn paul_phone(phone: &Browser, base: &str, code: &str, id: &str) -> Result<()> {
    sign_in(phone, base, code).await?;
    phone.goto(&format!("{base}/posts/{id}")).await?;
    phone.wait_css("main#main", PATIENCE).await?;
    let text = phone.text("main#main").await?;
    ensure!(text.contains(TITLE), "Paul does not see Zoé's post: {text}");
    for owner_action in ["withdraw", "done", "accept"] {
        ensure!(
            !phone
                .exists(&format!("button[data-action={owner_action}]"))
                .await?,
            "Paul is offered to {owner_action} Zoé's post"
        );
    }
    phone.goto(&format!("{base}/mine")).await?;
    phone.wait_css("main#main", PATIENCE).await?;
    ensure!(
        !phone.text("main#main").await?.contains(TITLE),
        "Zoé's post is on Paul's \"mine\" page"
    );
    Ok(())
}

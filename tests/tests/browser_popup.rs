//! The pop-up board in a real browser (issue 14): Amel's node (A) runs
//! `up --popup --wifi "Salle commune"`; Bruno's node (B) is a neighbour. A passer-by, Lucie,
//! on her phone (a browser context of her own, 360 pixels wide, in French), opens the join
//! address, types her name and posts a request: B shows it under Lucie's own key, not
//! Amel's. Amel prints the poster (French and English, one A4 page each, and at 360 px),
//! replaces the code (the old address is refused), then ends the pop-up (joining is
//! refused); Lucie's post stays on A and B, and her phone stays signed in.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots and PDFs go to a folder printed as `screenshots: …`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use entraide_tests::browser::{self, Browser, Driver, poll, runtime};
use entraide_tests::harness::Ran;
use entraide_tests::{
    LOOPBACK, TestNode, community, join_popup, join_token, skip_unless, tests_main,
};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);
const TITLE: &str = "Recharger un téléphone au 5e";

tests_main!(a_passer_by_joins_the_popup_and_posts_as_herself);

fn a_passer_by_joins_the_popup_and_posts_as_herself() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let mut nodes = community(BIN, &["Amel", "Bruno"]).expect("a community of two");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--popup", "--wifi", "Salle commune"]);
    nodes[0].up(&args).expect("A up");
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
    let token = join_token(&a.join_url(PATIENCE)?)?;
    let base = a.ui_url()?;
    let join = format!("{base}/join?t={token}");
    let amel = a.json(&["whoami", "--json"])?["author"]
        .as_str()
        .context("A's author")?
        .to_owned();
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start()?;
    // One runtime for both browsers: a browser session lives on the runtime it began on.
    let rt = runtime();

    // Lucie's phone joins and posts.
    let (phone, id) = rt.block_on(async {
        let phone = driver.session("Lucie").await?;
        match lucie_joins_and_posts(&phone, &base, &token, &shots).await {
            Ok(id) => Ok((phone, id)),
            Err(e) => {
                let _ = phone.screenshot_to(&shots.join("popup-failed.png")).await;
                bail!("{e:?}\n{}", phone.snapshot().await)
            }
        }
    })?;
    let lucie = a
        .json(&["resident", "list", "--json"])?
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "Lucie"))
        .and_then(|r| r["author"].as_str())
        .context("Lucie is not hosted on A")?
        .to_owned();
    ensure!(lucie != amel, "Lucie is Amel");
    let on_b = |board: &[serde_json::Value]| {
        board.iter().any(|p| {
            p["id"] == id.as_str() && p["author"] == lucie.as_str() && p["author_name"] == "Lucie"
        })
    };
    b.wait_board("Lucie's post under her own key", PATIENCE, on_b)?;

    // Amel prints the poster, replaces the code, then ends the pop-up.
    let signin = a.signin_url()?;
    rt.block_on(async {
        let host = driver.session("Amel").await?;
        let flow = amel_prints_and_ends(&host, &phone, &signin, &base, &join, &shots).await;
        if flow.is_err() {
            let _ = host.screenshot_to(&shots.join("poster-failed.png")).await;
            eprintln!("{}\n{}", host.snapshot().await, phone.snapshot().await);
        }
        flow?;
        host.close().await?;
        phone.close().await
    })?;
    match join_popup(&base, &token, "Marc")? {
        Err((410, _)) => {}
        Err((status, _)) => bail!("joining after the end: {status}, not 410"),
        Ok(_) => bail!("Marc joined after the end"),
    }

    // Lucie's post stays on A and on B.
    let post = a.json(&["show", &id, "--json"])?;
    ensure!(
        post["author"] == lucie.as_str() && post["status"] == "open",
        "A after the end: {post}"
    );
    ensure!(on_b(&b.board()?), "B lost Lucie's post");

    // B runs no pop-up: its poster says how to start one, its join page refuses.
    let (status, poster) = b.page()?.fetch("/poster")?;
    ensure!(
        status == 200 && poster.contains("poster-none") && poster.contains("entraide up --popup"),
        "B's poster: {status}"
    );
    match join_popup(&b.ui_url()?, &token, "Marc")? {
        Err((404, page)) if page.contains("join-refused") => {}
        Err((status, _)) => bail!("joining B: {status}, not 404"),
        Ok(_) => bail!("Marc joined B, which runs no pop-up"),
    }
    Ok(())
}

/// Lucie opens the join address in French at 360 px, types her name, and posts a request
/// with the page's form; returns the post's id.
async fn lucie_joins_and_posts(
    phone: &Browser,
    base: &str,
    token: &str,
    shots: &Path,
) -> Result<String> {
    phone
        .goto(&format!("{base}/lang/fr?back=/join%3Ft%3D{token}"))
        .await?;
    phone.wait_css("#join-form", PATIENCE).await?;
    phone.phone(360).await?;
    ensure!(
        phone.lang().await? == "fr",
        "the join page is not in French"
    );
    let intro = phone.text("#join-intro").await?;
    for want in [
        "tableau d'entraide entre voisins",
        "Amel",
        "agir en votre nom",
        "restent sur le tableau",
    ] {
        ensure!(intro.contains(want), "the join page does not say {want:?}");
    }
    phone.fits(360).await?;
    if let Some(bad) = browser::untranslated(&phone.body_text().await?) {
        bail!("the join page shows {bad:?}");
    }
    phone
        .full_screenshot_to(&shots.join("join-360px-fr.png"))
        .await?;
    phone.type_into("#f-name", "Lucie").await?;
    phone.one("button[data-action=join]").await?.click().await?;
    poll("the board after joining", PATIENCE, async || {
        Ok((phone.path().await? == "/" && phone.exists("#nav-board").await?).then_some(()))
    })
    .await?;

    phone.goto(&format!("{base}/new")).await?;
    phone.wait_css("#f-title", PATIENCE).await?;
    phone.phone(360).await?;
    phone.submit_request(TITLE, "Lucie", PATIENCE).await
}

/// The poster in `lang`: what it says, one A4 page printed, and 360 px wide.
async fn check_poster(host: &Browser, base: &str, lang: &str, shots: &Path) -> Result<()> {
    host.stop_emulation().await?;
    host.goto(&format!("{base}/lang/{lang}?back=/poster"))
        .await?;
    host.wait_css("#poster", PATIENCE).await?;
    ensure!(host.lang().await? == lang, "the poster is not in {lang}");
    let wants: &[&str] = if lang == "fr" {
        &[
            "Entraide entre voisins",
            "Connectez-vous au Wi-Fi Salle commune",
            "Scannez ce code",
            "Numéros d'urgence",
            "112",
            "Affiche faite le",
        ]
    } else {
        &[
            "Neighbours helping neighbours",
            "Join the Wi-Fi Salle commune",
            "Scan this code",
            "Emergency numbers",
            "112",
            "Poster made on",
        ]
    };
    let text = host.text("#poster").await?;
    for want in wants {
        ensure!(
            text.contains(want),
            "the {lang} poster does not say {want:?}"
        );
    }
    ensure!(
        host.exists("#poster-qr svg").await?,
        "the poster has no QR code"
    );
    if let Some(bad) = browser::untranslated(&host.body_text().await?) {
        bail!("the {lang} poster shows {bad:?}");
    }
    // Printed: no navigation, no buttons, no banner; only the sheet.
    host.cdp("Emulation.setEmulatedMedia", json!({ "media": "print" }))
        .await?;
    let hidden = host
        .js(
            "return ['header.top', 'footer', '#poster-host', '.skip']\
             .map(s => document.querySelector(s))\
             .filter(e => e && getComputedStyle(e).display !== 'none' \
                 && getComputedStyle(e.closest('.no-print') || e).display !== 'none')\
             .map(e => e.tagName + '#' + e.id);",
            vec![],
        )
        .await?;
    ensure!(
        hidden.as_array().is_some_and(Vec::is_empty),
        "printed, the {lang} poster shows {hidden}"
    );
    host.full_screenshot_to(&shots.join(format!("poster-print-{lang}.png")))
        .await?;
    host.cdp("Emulation.setEmulatedMedia", json!({ "media": "" }))
        .await?;
    let pdf = host.print_pdf().await?;
    std::fs::write(shots.join(format!("poster-a4-{lang}.pdf")), &pdf)?;
    let pages = browser::pdf_pages(&pdf);
    ensure!(
        pages == 1,
        "the {lang} poster prints on {pages} pages, not one"
    );
    host.phone(360).await?;
    host.fits(360).await?;
    host.full_screenshot_to(&shots.join(format!("poster-360px-{lang}.png")))
        .await?;
    host.stop_emulation().await
}

/// Amel signs in, checks the poster in French and English, replaces the code (Lucie's
/// old address is then refused), and ends the pop-up (refused as ended); Lucie's phone
/// stays signed in and still sees her post.
async fn amel_prints_and_ends(
    host: &Browser,
    phone: &Browser,
    signin: &str,
    base: &str,
    join: &str,
    shots: &Path,
) -> Result<()> {
    host.goto(signin).await?;
    host.wait_css("#nav-board", PATIENCE).await?;
    check_poster(host, base, "en", shots).await?;
    check_poster(host, base, "fr", shots).await?;

    host.one("button[data-action=replace-token]")
        .await?
        .click()
        .await?;
    host.wait_css("#poster-replaced", PATIENCE).await?;
    phone.goto(join).await?;
    phone.wait_css("#join-refused", PATIENCE).await?;
    let refused = phone.text("#join-refused").await?;
    ensure!(
        refused.contains("plus, valable"),
        "the old address after a new code: {refused}"
    );
    ensure!(
        !phone.exists("#join-form").await?,
        "the old address shows the form"
    );

    host.one("button[data-action=end-popup]")
        .await?
        .click()
        .await?;
    host.wait_css("#poster-ended", PATIENCE).await?;
    phone.goto(join).await?;
    phone.wait_css("#join-refused", PATIENCE).await?;
    let ended = phone.text("#join-refused").await?;
    ensure!(
        ended.contains("terminé"),
        "the address after the end: {ended}"
    );
    phone.goto(&format!("{base}/mine")).await?;
    phone.wait_css("main#main", PATIENCE).await?;
    ensure!(
        phone.text("main#main").await?.contains(TITLE),
        "Lucie's phone no longer shows her post after the end"
    );
    Ok(())
}

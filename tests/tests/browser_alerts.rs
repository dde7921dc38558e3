//! The alert banner and the rounds page in a real headless Chromium at 360 px, in French:
//! an alert declared on Karim's node shows on Marie's page with the French emergency
//! numbers; Marie makes a round, signs up for tonight, reports a sighting and says what
//! she did, all by clicking; a sighting naming someone is refused in French.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots go to the folder printed as `screenshots: …`.

use std::time::Duration;

use anyhow::{Result, ensure};
use entraide_tests::browser::{self, Browser, Driver, poll};
use entraide_tests::harness::Ran;
use entraide_tests::{TestNode, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);
const LOOPBACK: &[&str] = &[
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--resync",
    "2",
];

tests_main!(the_banner_and_the_rounds_page_work_by_clicking_at_360_px_in_french);

fn the_banner_and_the_rounds_page_work_by_clicking_at_360_px_in_french() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let mut marie = TestNode::new(BIN, "Marie").with_env("ENTRAIDE_UTC_OFFSET", "3600");
    marie.ok(&["init", "--name", "Marie"]).expect("init");
    let invite = marie.ok(&["invite"]).expect("invite");
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let mut karim = TestNode::new(BIN, "Karim").with_env("ENTRAIDE_UTC_OFFSET", "3600");
    karim.ok(&["join", &code, "--name", "Karim"]).expect("join");
    marie.up(LOOPBACK).expect("Marie's node up");
    let address = marie.address().expect("Marie's address");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", &address]);
    karim.up(&args).expect("Karim's node up");
    karim
        .ok(&[
            "alert",
            "declare",
            "cold",
            "--until",
            "2d",
            "--note",
            "Grand froid cette nuit",
        ])
        .expect("Karim declares an alert");

    let url = marie.ui_url().expect("Marie's page");
    let signin = marie.signin_url().expect("a sign-in address");
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start().expect("chromedriver");
    let result = browser::runtime().block_on(async {
        let b = driver.session("Marie").await?;
        let flow = flow(&b, &url, &signin, &karim, &shots).await;
        if flow.is_err() {
            let _ = b
                .full_screenshot_to(&shots.join("alerts-failure.png"))
                .await;
            eprintln!("{}", b.snapshot().await);
        }
        b.close().await?;
        flow
    });
    if let Err(e) = result {
        panic!(
            "{e:?}\n\n--- Marie's node log ---\n{}\n--- Karim's node log ---\n{}",
            marie.log_tail(),
            karim.log_tail()
        );
    }
    Ran::Fully
}

async fn flow(
    b: &Browser,
    url: &str,
    signin: &str,
    karim: &TestNode,
    shots: &std::path::Path,
) -> Result<()> {
    b.goto(signin).await?;
    b.goto(&format!("{url}/lang/fr?back=/")).await?;
    b.emulate_phone(360, 780).await?;

    // Karim's alert reaches Marie's page: the banner, in French, with 15, 112, 114, 115.
    let banner = poll("the alert banner on Marie's page", PATIENCE, async || {
        b.goto(&format!("{url}/")).await?;
        Ok(match b.find_css("#alert-banner").await? {
            Some(e) => Some(e.text().await?),
            None => None,
        })
    })
    .await?;
    for want in [
        "Alerte",
        "grand froid",
        "Grand froid cette nuit",
        "15 (SAMU)",
        "112",
        "114 (par SMS, personnes sourdes ou malentendantes)",
        "115 (hébergement d'urgence)",
    ] {
        ensure!(banner.contains(want), "the banner lacks {want:?}: {banner}");
    }
    ensure!(b.lang().await? == "fr", "the page is not in French");
    fits_360(b).await?;
    b.full_screenshot_to(&shots.join("alerts-banner-fr-360.png"))
        .await?;

    // To the rounds page by the navigation, then a round made by filling its form.
    b.one("#nav-rounds").await?.click().await?;
    b.wait_css("#round-form", PATIENCE).await?;
    phone(b).await?;
    ensure!(b.exists("#alert-banner").await?, "no banner on /rounds");
    b.type_into("#f-round-title", "Maraude du soir").await?;
    b.type_into("#f-round-from", "la gare").await?;
    b.type_into("#f-round-to", "l'église").await?;
    b.one("[data-action=add-round]").await?.click().await?;
    let round = b.wait_css("section.round", PATIENCE).await?;
    phone(b).await?;
    let text = round.text().await?;
    ensure!(
        text.contains("Maraude du soir") && text.contains("Personne pour l'instant"),
        "the new round: {text}"
    );
    ensure!(
        b.exists("section.round .tonight.empty-evening").await?,
        "tonight is not flagged empty"
    );

    // The big button: Marie walks tonight.
    let button = b.one("[data-action=walk-tonight]").await?;
    let height = b
        .js(
            "return document.querySelector('[data-action=walk-tonight]').getBoundingClientRect().height;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    ensure!(height >= 44.0, "the button is {height} px high");
    ensure!(
        button.text().await?.contains("Je marche ce soir"),
        "the button says something else"
    );
    button.click().await?;
    let walkers = poll("Marie on tonight", PATIENCE, async || {
        let t = b.text("section.round .tonight .walkers").await?;
        Ok(t.contains("Marie").then_some(t))
    })
    .await?;
    ensure!(!walkers.contains("Personne"), "{walkers}");
    phone(b).await?;
    ensure!(
        b.exists("[data-action=leave-tonight]").await?,
        "no way to withdraw"
    );
    // Karim's node sees Marie on tonight.
    poll("Marie on tonight at Karim's", PATIENCE, async || {
        let v = karim.json(&["round", "list", "--json"])?;
        Ok((v[0]["evenings"][0]["walkers"][0]["name"] == "Marie").then_some(()))
    })
    .await?;

    // A sighting, by clicking: place, two needs, a note.
    b.type_into("#f-place", "sous le pont, rue des Lilas")
        .await?;
    b.one("#f-need-shelter").await?.click().await?;
    b.one("#f-need-blanket").await?.click().await?;
    b.type_into("#f-sighting-note", "endormi, nuit froide")
        .await?;
    b.one("[data-action=add-sighting]").await?.click().await?;
    let sighting = b.wait_css("article.sighting", PATIENCE).await?;
    phone(b).await?;
    let text = sighting.text().await?;
    for want in [
        "sous le pont, rue des Lilas",
        "une couverture",
        "appelez le 115",
    ] {
        ensure!(text.contains(want), "the sighting lacks {want:?}: {text}");
    }
    b.type_into(
        "article.sighting input[name=what]",
        "apporté une couverture",
    )
    .await?;
    b.one("[data-action=sighting-done]").await?.click().await?;
    let done = b.wait_css("article.sighting .done", PATIENCE).await?;
    phone(b).await?;
    let done = done.text().await?;
    ensure!(done.contains("apporté une couverture"), "{done}");
    fits_360(b).await?;
    b.full_screenshot_to(&shots.join("rounds-fr-360.png"))
        .await?;

    // A sighting that names the person is refused, in French, saying which word.
    b.type_into("#f-place", "la gare").await?;
    b.one("#f-need-food").await?.click().await?;
    b.type_into("#f-sighting-note", "il s'appelle Jo").await?;
    b.one("[data-action=add-sighting]").await?.click().await?;
    let error = b.wait_css("#err-rounds", PATIENCE).await?.text().await?;
    ensure!(
        error.contains("semble nommer la personne") && error.contains("s'appelle"),
        "the refusal: {error}"
    );
    ensure!(
        !error.contains("seems"),
        "English on a French page: {error}"
    );

    // The alerts page: Marie declares a heatwave by clicking, then ends it.
    b.goto(&format!("{url}/alerts")).await?;
    b.wait_css("#alert-form", PATIENCE).await?;
    phone(b).await?;
    fits_360(b).await?;
    b.one("#f-alert-heatwave").await?.click().await?;
    b.type_into("#f-alert-note", "38 °C demain").await?;
    b.one("[data-action=declare-alert]").await?.click().await?;
    b.wait_css("[data-alert-kind=heatwave]", PATIENCE).await?;
    phone(b).await?;
    fits_360(b).await?;
    let banner = b.one("#alert-banner").await?.text().await?;
    ensure!(banner.contains("38 °C demain"), "the banner: {banner}");
    b.full_screenshot_to(&shots.join("alerts-page-fr-360.png"))
        .await?;
    b.one("[data-action=end-alert]").await?.click().await?;
    b.wait_css("#alert-form", PATIENCE).await?;
    ensure!(
        !b.exists("[data-alert-kind=heatwave]").await?,
        "the heatwave is still listed after Marie ended it"
    );
    ensure!(
        b.exists("[data-alert-kind=cold]").await?,
        "Karim's alert went too"
    );
    Ok(())
}

/// A 360 px phone screen again: Chromium drops the emulation when a click loads a new
/// page, so it is set after each one, before the next click.
async fn phone(b: &Browser) -> Result<()> {
    b.emulate_phone(360, 780).await?;
    let inner = b.js("return window.innerWidth;", vec![]).await?;
    ensure!(inner == 360, "the viewport is {inner} px wide");
    Ok(())
}

/// Nothing wider than a 360 px phone: no sideways scrolling.
async fn fits_360(b: &Browser) -> Result<()> {
    let width = b
        .js("return document.documentElement.scrollWidth;", vec![])
        .await?
        .as_f64()
        .unwrap_or(0.0);
    if width > 360.0 {
        let wide = b
            .js(
                "return [...document.querySelectorAll('body *')]\
                 .filter(e => e.getBoundingClientRect().right > 361)\
                 .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' \
                 + Math.round(e.getBoundingClientRect().right)).join(', ');",
                vec![],
            )
            .await?;
        let inner = b.js("return window.innerWidth;", vec![]).await?;
        anyhow::bail!("the page is {width} px wide at 360 px (viewport {inner}): {wide}");
    }
    Ok(())
}

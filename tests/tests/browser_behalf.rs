//! Posting for a neighbour without a device, in a real headless Chromium at 360 px: Marie
//! opens the form's "for a neighbour" section, fills it in French, and the board, the post
//! page and "mine" say "publié par Marie … pour Mme Dupont", the post page the consent;
//! the same in English. A name without consent is refused in the page's language and
//! nothing is posted; a form sent without the page's token changes nothing.
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
const LOOPBACK: &[&str] = &["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"];
const CONSENT_FR: &str = "Mme Dupont, au téléphone, le 2 décembre à 10 h";
const CONSENT_EN: &str = "Mr Okafor, in person, on 3 December at noon";

tests_main!(
    a_post_for_a_neighbour_is_made_by_clicking_at_360_px_in_french_and_english,
    a_form_for_a_neighbour_without_the_page_token_changes_nothing,
);

fn marie() -> TestNode {
    let mut marie = TestNode::new(BIN, "Marie");
    marie.ok(&["init", "--name", "Marie"]).expect("init");
    marie.up(LOOPBACK).expect("Marie's node up");
    marie
}

fn a_post_for_a_neighbour_is_made_by_clicking_at_360_px_in_french_and_english() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let marie = marie();
    let url = marie.ui_url().expect("Marie's page");
    let signin = marie.signin_url().expect("a sign-in address");
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start().expect("chromedriver");
    let failure = shots.join("behalf-failure.png");
    let result = browser::run_session(&driver, "Marie", &failure, async |b| {
        flow(b, &url, &signin, &marie, &shots).await
    });
    if let Err(e) = result {
        panic!("{e:?}\n\n--- Marie's node log ---\n{}", marie.log_tail());
    }
    Ran::Fully
}

/// What one language says, for the same steps.
struct Words {
    lang: &'static str,
    summary: &'static str,
    title: &'static str,
    neighbour: &'static str,
    consent: &'static str,
    posted_by: &'static str,
    posted_for: &'static str,
    no_consent: &'static str,
}

const FRENCH: Words = Words {
    lang: "fr",
    summary: "Pour un voisin sans appareil",
    title: "Courses de la semaine",
    neighbour: "Mme Dupont",
    consent: CONSENT_FR,
    posted_by: "publié par Marie",
    posted_for: "pour Mme Dupont",
    no_consent: "il faut son accord",
};

const ENGLISH: Words = Words {
    lang: "en",
    summary: "For a neighbour without a device",
    title: "A lift to the clinic",
    neighbour: "Mr Okafor",
    consent: CONSENT_EN,
    posted_by: "posted by Marie",
    posted_for: "for Mr Okafor",
    no_consent: "you need their consent",
};

async fn flow(
    b: &Browser,
    url: &str,
    signin: &str,
    marie: &TestNode,
    shots: &std::path::Path,
) -> Result<()> {
    b.goto(signin).await?;
    // `posted`: how many posts this flow made before this language's round.
    for (posted, w) in [&FRENCH, &ENGLISH].into_iter().enumerate() {
        b.goto(&format!("{url}/lang/{}?back=/new", w.lang)).await?;
        b.phone(360).await?;
        b.wait_css("#new-post-form", PATIENCE).await?;
        ensure!(b.lang().await? == w.lang, "the page is not in {}", w.lang);

        // A name without consent: refused, in the page's language, next to the field,
        // with the section open and what was typed kept; nothing is posted.
        open_behalf(b, w).await?;
        b.type_into("#f-title", w.title).await?;
        b.type_into("#f-behalf-name", w.neighbour).await?;
        b.one("[data-action=submit-post]").await?.click().await?;
        let error = b
            .wait_css("#err-behalf_consent", PATIENCE)
            .await?
            .text()
            .await?;
        b.phone(360).await?;
        ensure!(error.contains(w.no_consent), "the refusal: {error}");
        ensure!(behalf_is_open(b).await?, "the section closed on the error");
        b.expect_attr("#f-behalf-name", "value", w.neighbour)
            .await?;
        b.fits(360).await?;
        b.full_screenshot_to(&shots.join(format!("behalf-refused-{}-360.png", w.lang)))
            .await?;
        ensure!(
            marie.board()?.len() == posted,
            "a post without consent was published"
        );

        // With the consent: posted, and the post page says both names and the consent.
        b.type_into("#f-behalf-consent", w.consent).await?;
        b.one("[data-action=submit-post]").await?.click().await?;
        let line = b.wait_css("#posted-for", PATIENCE).await?.text().await?;
        b.phone(360).await?;
        ensure!(
            line.contains(w.posted_by) && line.contains(w.posted_for),
            "the post page says: {line}"
        );
        let consent = b.text("#consent").await?;
        ensure!(consent == w.consent, "the consent shown: {consent}");
        b.fits(360).await?;
        b.full_screenshot_to(&shots.join(format!("behalf-post-{}-360.png", w.lang)))
            .await?;
        let path = b.path().await?;
        let id = path.trim_start_matches("/posts/").to_owned();
        let json = marie.json(&["show", &id, "--json"])?;
        ensure!(
            json["on_behalf_of"]["name"] == w.neighbour
                && json["on_behalf_of"]["consent"] == w.consent,
            "stored: {json}"
        );

        // The board and "mine" show both names on the card, in its "posted by" line.
        for (page, list) in [("/", "#board"), ("/mine", "#my-posts")] {
            b.goto(&format!("{url}{page}")).await?;
            b.phone(360).await?;
            let card = poll("the card of the post", PATIENCE, async || {
                Ok(
                    match b
                        .find_css(&format!("{list} [data-post-id='{id}'] .posted-for"))
                        .await?
                    {
                        Some(e) => Some(e.text().await?),
                        None => None,
                    },
                )
            })
            .await?;
            ensure!(
                card.contains(w.posted_by) && card.contains(w.posted_for),
                "{page} says: {card}"
            );
            b.fits(360).await?;
        }
        b.full_screenshot_to(&shots.join(format!("behalf-board-{}-360.png", w.lang)))
            .await?;
    }
    Ok(())
}

/// Opens the form's "for a neighbour" section, which starts closed, by its summary.
async fn open_behalf(b: &Browser, w: &Words) -> Result<()> {
    ensure!(!behalf_is_open(b).await?, "the section starts open");
    let summary = b.one("#behalf summary").await?;
    ensure!(
        summary.text().await? == w.summary,
        "the section is called {:?}",
        summary.text().await?
    );
    let height = b
        .js(
            "return document.querySelector('#behalf summary').getBoundingClientRect().height;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    ensure!(height >= 44.0, "the summary is {height} px high");
    summary.click().await?;
    ensure!(behalf_is_open(b).await?, "a click did not open the section");
    let intro = b.text("#behalf-intro").await?;
    ensure!(intro.len() > 100, "no explanation of consent: {intro}");
    Ok(())
}

async fn behalf_is_open(b: &Browser) -> Result<bool> {
    Ok(
        b.js("return document.querySelector('#behalf').open;", vec![])
            .await?
            == serde_json::Value::Bool(true),
    )
}

fn a_form_for_a_neighbour_without_the_page_token_changes_nothing() -> Ran {
    let marie = marie();
    let page = marie.page().expect("Marie's page");
    let fields = |token: &str| {
        vec![
            ("csrf", token.to_owned()),
            ("kind", "request".to_owned()),
            ("category", "errands".to_owned()),
            ("title", "Courses".to_owned()),
            ("urgency", "today".to_owned()),
            ("behalf_name", "Mme Dupont".to_owned()),
            ("behalf_consent", CONSENT_FR.to_owned()),
        ]
    };
    let token = page.csrf("/new").expect("a form token");
    for (what, sent) in [
        ("no token", String::new()),
        ("a wrong token", format!("{token}x")),
    ] {
        let r = page.post("/new").send_form(fields(&sent)).unwrap();
        assert_eq!(r.status().as_u16(), 403, "{what}");
    }
    // From another site, even with the right token.
    let r = entraide_tests::Page::agent()
        .post(format!("{}/new", page.base))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form(fields(&token))
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "another site");
    assert!(marie.board().unwrap().is_empty(), "something was posted");
    // The same form with the page's token does post: the refusals above were the token's.
    let r = page.post("/new").send_form(fields(&token)).unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let board = marie.board().unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!(board[0]["on_behalf_of"]["name"], "Mme Dupont");
    Ran::Fully
}

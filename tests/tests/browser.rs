//! The local page in a real browser: two real nodes, two headless Chromiums (Marie at
//! node A, Karim at node B), a request made by filling the form, seen live on the other
//! page, answered, accepted; then every page in French and in English, with screenshots.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true, where they must run). The
//! screenshot folder is printed (`screenshots: …`, under the system temp dir; kept).
//! To investigate: `ENTRAIDE_CHROMEDRIVER_LOG=FILE` keeps a verbose chromedriver log,
//! `ENTRAIDE_CHROMIUM_ARGS="--flag …"` adds browser flags, `ENTRAIDE_TEST_LOGS=1` shows
//! the nodes' logs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use entraide_tests::browser::{self, Browser, Driver, Locator, TourPage, poll};
use entraide_tests::harness::Ran;
use entraide_tests::{TestNode, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
/// How long anything may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);
/// How soon a new post must show on a neighbour's page that is already open.
const LIVE: Duration = Duration::from_secs(5);
/// A page of a node on this very computer that takes longer than this to load is broken.
const SLOW_PAGE: Duration = Duration::from_secs(15);

const LOOPBACK: &[&str] = &[
    "--no-mdns",
    "--listen",
    "/ip4/127.0.0.1/tcp/0",
    "--resync",
    "2",
];

tests_main!(
    the_browser_harness_drives_a_plain_page,
    a_request_made_in_marie_s_page_is_answered_live_from_karim_s_in_both_languages,
);

/// A community of `names`: the first creates it, the others join with its invite code.
fn community(names: &[&str]) -> Vec<TestNode> {
    let first = TestNode::new(BIN, names[0]);
    first.ok(&["init", "--name", names[0]]).expect("init");
    let invite = first.ok(&["invite"]).expect("invite");
    let code = invite
        .split_whitespace()
        .find(|w| w.starts_with("ENTRAIDE-"))
        .expect("a code")
        .to_owned();
    let mut nodes = vec![first];
    for name in &names[1..] {
        let n = TestNode::new(BIN, name);
        n.ok(&["join", &code, "--name", name]).expect("join");
        nodes.push(n);
    }
    nodes
}

fn the_browser_harness_drives_a_plain_page() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let driver = Driver::start().expect("chromedriver");
    browser::runtime().block_on(async {
        let b = driver.session("probe").await.expect("a browser");
        let page = "data:text/html;charset=utf-8,<!doctype html><html lang=fr><head>\
            <meta name=viewport content='width=device-width'></head><body>\
            <main id=main><form id=f onsubmit=\"document.getElementById('out').textContent=\
            'Bonjour '%2Bthis.who.value;return false\"><input name=who>\
            <button data-action=go>OK</button></form><p id=out></p></main></body></html>";
        b.goto(page).await.unwrap();
        assert_eq!(b.lang().await.unwrap(), "fr");
        b.mark().await.unwrap();
        b.one("input[name=who]")
            .await
            .unwrap()
            .send_keys("Marie")
            .await
            .unwrap();
        b.one("[data-action=go]")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let out = poll("the greeting", PATIENCE, async || {
            let t = b.text("#out").await?;
            Ok((!t.is_empty()).then_some(t))
        })
        .await
        .unwrap();
        assert_eq!(out, "Bonjour Marie");
        assert!(b.marked().await.unwrap(), "no navigation happened");
        let png = b.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        b.emulate_phone(360, 780).await.unwrap();
        let width = b.js("return window.innerWidth;", vec![]).await.unwrap();
        assert_eq!(width, 360);
        b.stop_emulation().await.unwrap();
        b.close().await.unwrap();
    });
    Ran::Fully
}

const PAGES: &[TourPage] = &[
    TourPage {
        key: "board",
        nav: Some("nav-board"),
        path: "/",
        fr: &["Demandes et offres d'entraide", "Aide acceptée"],
        en: &["Requests and offers of help", "Helper accepted"],
        both: &[TITLE],
    },
    TourPage {
        key: "new",
        nav: Some("nav-new"),
        path: "/new",
        fr: &["Demandez un coup de main", "Publier l'annonce"],
        en: &["Ask for a hand, or offer yours", "Publish the post"],
        both: &[],
    },
    TourPage {
        key: "post",
        nav: None,
        path: "/posts/{id}",
        fr: &[
            "C'est votre annonce.",
            "Aide acceptée :",
            "Courses et commissions",
        ],
        en: &[
            "This is your post.",
            "Helper accepted:",
            "Groceries and errands",
        ],
        both: &[TITLE, DETAILS, AREA, MESSAGE, "Karim"],
    },
    TourPage {
        key: "mine",
        nav: Some("nav-mine"),
        path: "/mine",
        fr: &[
            "Mes annonces et mes propositions",
            "Là où j'ai proposé mon aide",
        ],
        en: &["My posts and my offers", "Where I offered help"],
        both: &[TITLE],
    },
    TourPage {
        key: "neighbours",
        nav: Some("nav-neighbours"),
        path: "/neighbours",
        fr: &["Cet ordinateur garde", "connecté"],
        en: &["This computer keeps", "connected"],
        both: &["Karim"],
    },
    TourPage {
        key: "invite",
        nav: Some("nav-invite"),
        path: "/invite",
        fr: &["Inviter un voisin", "votre voisin tape"],
        en: &["Invite a neighbour", "your neighbour types"],
        both: &["ENTRAIDE-"],
    },
    TourPage {
        key: "settings",
        nav: Some("nav-settings"),
        path: "/settings",
        fr: &["Votre identité", "Langue de la page"],
        en: &["Your identity", "Language of the page"],
        both: &["Marie"],
    },
];

/// Per language: the board link, and what the footer says once synced (lower case).
const CHROME: [(&str, &str, &str); 2] = [
    ("fr", "Tableau", "synchronisé avec 1 voisin"),
    ("en", "Board", "synced with 1 neighbour"),
];

const TITLE: &str = "Eau à monter au 4e étage";
const DETAILS: &str = "L'ascenseur est en panne : six packs d'eau à monter, merci !";
const AREA: &str = "Bât. B";
const MESSAGE: &str = "Je peux monter l'eau ce soir après mon service.";

fn a_request_made_in_marie_s_page_is_answered_live_from_karim_s_in_both_languages() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let started = Instant::now();
    let mut nodes = community(&["Marie", "Karim"]);
    nodes[0].up(LOOPBACK).expect("Marie's node up");
    let a_addr = nodes[0].address().expect("Marie's address");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", &a_addr]);
    nodes[1].up(&args).expect("Karim's node up");
    for n in &nodes {
        let connected = (0..(PATIENCE.as_millis() / 200)).any(|_| {
            let ok = n
                .json(&["status", "--json"])
                .is_ok_and(|s| s["peers_connected"].as_u64().unwrap_or(0) >= 1);
            if !ok {
                std::thread::sleep(Duration::from_millis(200));
            }
            ok
        });
        assert!(connected, "{} never connected:\n{}", n.name, n.log());
    }
    let who = |n: &TestNode| -> String {
        n.json(&["whoami", "--json"]).expect("whoami")["author"]
            .as_str()
            .expect("an author id")
            .to_owned()
    };
    let people = People {
        a_url: nodes[0].ui_url().expect("Marie's page"),
        b_url: nodes[1].ui_url().expect("Karim's page"),
        a_signin: nodes[0].signin_url().expect("Marie's sign-in address"),
        b_signin: nodes[1].signin_url().expect("Karim's sign-in address"),
        karim: who(&nodes[1]),
    };
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    eprintln!("nodes up and connected in {:?}", started.elapsed());

    let driver = Driver::start().expect("chromedriver");
    let result = browser::runtime().block_on(flow(&driver, &people, &shots));
    if let Err(e) = result {
        panic!(
            "{e:?}\n\n--- Marie's node log ---\n{}\n--- Karim's node log ---\n{}",
            nodes[0].log_tail(),
            nodes[1].log_tail()
        );
    }
    println!("screenshots: {}", shots.display());
    eprintln!("browser test done in {:?}", started.elapsed());
    Ran::Fully
}

#[derive(Debug)]
struct People {
    a_url: String,
    b_url: String,
    /// One-time sign-in addresses of the two pages (as `entraide open` gives them).
    a_signin: String,
    b_signin: String,
    /// Karim's author id (64 hex).
    karim: String,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn flow(driver: &Driver, p: &People, shots: &Path) -> Result<()> {
    let clock = Instant::now();
    let marie = driver.session("Marie").await?;
    let karim = driver.session("Karim").await?;
    eprintln!("[{:?}] two browsers open", clock.elapsed());

    // Each signs in with the address `entraide open` gives, which leads to the board.
    for (b, signin) in [(&marie, &p.a_signin), (&karim, &p.b_signin)] {
        b.goto(signin).await?;
        b.wait_css("ul#board", PATIENCE).await?;
        ensure!(
            b.path().await? == "/",
            "signing in leads to the board, leaving the address bar"
        );
    }
    // Karim's board is open before the post exists.
    karim.goto(&format!("{}/", p.b_url)).await?;
    karim.wait_css("ul#board", PATIENCE).await?;
    ensure!(
        !karim.body_text().await?.contains(TITLE),
        "Karim's board shows the post before it exists"
    );
    karim.mark().await?;

    // Marie fills the form.
    marie.goto(&format!("{}/", p.a_url)).await?;
    marie.wait_css("#nav-new", PATIENCE).await?.click().await?;
    marie.wait_css("form#new-post-form", PATIENCE).await?;
    ensure!(marie.path().await? == "/new", "nav-new leads to /new");
    let form = "form#new-post-form";
    ensure!(
        marie.exists(&format!("{form} input[name=csrf]")).await?,
        "the new post form has no hidden csrf input"
    );
    marie
        .one(&format!(r#"{form} input[name="kind"][value="request"]"#))
        .await?
        .click()
        .await?;
    marie
        .one(&format!(r#"{form} select[name="category"]"#))
        .await?
        .select_by_value("errands")
        .await?;
    marie
        .type_into(&format!(r#"{form} input[name="title"]"#), TITLE)
        .await?;
    marie
        .one(&format!(r#"{form} select[name="urgency"]"#))
        .await?
        .select_by_value("today")
        .await?;
    marie
        .type_into(&format!(r#"{form} input[name="area"]"#), AREA)
        .await?;
    // First with a phone number in the details: refused next to the field, nothing lost.
    marie
        .type_into(
            &format!(r#"{form} textarea[name="details"]"#),
            "Appelez-moi au 06 12 34 56 78",
        )
        .await?;
    marie
        .one(&format!(r#"{form} button[data-action="submit-post"]"#))
        .await?
        .click()
        .await?;
    let error = marie
        .wait_css(".field-error", PATIENCE)
        .await?
        .text()
        .await?;
    ensure!(!error.trim().is_empty(), "an empty .field-error");
    eprintln!("the form refused a phone number: {error}");
    ensure!(
        !marie.exists("article#post").await?,
        "a post with a phone number was published"
    );
    for (field, want) in [("title", TITLE), ("area", AREA), ("category", "errands")] {
        let css = format!(r#"{form} [name="{field}"]"#);
        let got = marie.one(&css).await?.prop("value").await?;
        ensure!(
            got.as_deref() == Some(want),
            "after the refusal, {field} holds {got:?} instead of {want:?}"
        );
    }
    marie
        .type_into(&format!(r#"{form} textarea[name="details"]"#), DETAILS)
        .await?;
    // Mark this document: the errors of the first try stay on screen until the browser
    // has the answer to the second, and must not be read as its answer.
    marie
        .client
        .execute("document.documentElement.dataset.submitted = '1';", vec![])
        .await?;
    let posted = Instant::now();
    marie
        .one(&format!(r#"{form} button[data-action="submit-post"]"#))
        .await?
        .click()
        .await?;
    // The post page, or the form again with its errors: either is final.
    let refused = poll("Marie's post page after submitting", PATIENCE, async || {
        let old = marie
            .client
            .execute(
                "return document.documentElement.dataset.submitted || null;",
                vec![],
            )
            .await?;
        if !old.is_null() {
            return Ok(None);
        }
        let mut refused = Vec::new();
        for e in marie.client.find_all(Locator::Css(".field-error")).await? {
            let t = e.text().await?;
            if !t.trim().is_empty() {
                refused.push(t);
            }
        }
        if !refused.is_empty() {
            return Ok(Some(refused));
        }
        Ok(marie.exists("article#post").await?.then(Vec::new))
    })
    .await?;
    ensure!(refused.is_empty(), "the form was refused: {refused:?}");
    let id = marie
        .attr("article#post", "data-post-id")
        .await?
        .ok_or_else(|| anyhow!("article#post has no data-post-id"))?;
    ensure!(is_hex(&id, 16), "data-post-id {id:?} is not 16 hex digits");
    ensure!(
        marie.path().await? == format!("/posts/{id}"),
        "after submitting, Marie is at {} instead of /posts/{id}",
        marie.url().await?
    );
    marie
        .expect_attr("article#post", "data-status", "open")
        .await?;
    let text = marie.text("main#main").await?;
    ensure!(
        text.contains(TITLE) && text.contains(DETAILS) && text.contains(AREA),
        "the post page lacks the title, details or area:\n{text}"
    );
    marie.mark().await?;
    eprintln!("Marie posted {id} in {:?}", posted.elapsed());

    // It appears in Karim's open page without a reload.
    let card = format!(r#"ul#board li.card[data-post-id="{id}"]"#);
    let seen = poll("the card on Karim's open board", PATIENCE, async || {
        Ok(karim.exists(&card).await?.then(|| posted.elapsed()))
    })
    .await;
    let seen = match seen {
        Ok(t) => t,
        Err(e) => {
            let still = karim.marked().await.unwrap_or(false);
            karim.client.refresh().await?;
            let after_reload = karim.exists(&card).await.unwrap_or(false);
            bail!(
                "{e}: the post reached Karim's node: {after_reload} (visible after a reload); \
                 the page was reloaded meanwhile: {}",
                !still
            );
        }
    };
    ensure!(
        karim.marked().await?,
        "Karim's board was reloaded or left: the card must appear live"
    );
    ensure!(
        seen <= LIVE,
        "the card appeared on Karim's open board after {seen:?}, more than {LIVE:?}"
    );
    eprintln!("the card appeared live on Karim's board {seen:?} after the click");
    karim
        .expect_attr(&format!("{card} .status"), "data-status", "open")
        .await?;
    karim
        .expect_attr(&format!("{card} .helpers-count"), "data-count", "0")
        .await?;
    let card_title = karim.text(&format!("{card} a.card-title")).await?;
    ensure!(card_title.contains(TITLE), "card title {card_title:?}");

    // Karim opens it and responds.
    karim
        .one(&format!("{card} a.card-title"))
        .await?
        .click()
        .await?;
    karim
        .wait_css(&format!(r#"article#post[data-post-id="{id}"]"#), PATIENCE)
        .await?;
    for action in ["accept", "done", "withdraw", "thank"] {
        ensure!(
            !karim
                .exists(&format!(r#"[data-action="{action}"]"#))
                .await?,
            "Karim, who did not write the post, is offered `{action}`"
        );
    }
    ensure!(
        karim.exists("form#respond-form input[name=csrf]").await?,
        "the respond form has no hidden csrf input"
    );
    karim
        .type_into(r#"form#respond-form textarea[name="message"]"#, MESSAGE)
        .await?;
    let responded = Instant::now();
    karim
        .one(r#"form#respond-form [data-action="respond"]"#)
        .await?
        .click()
        .await?;
    let response = format!(r#"li.response[data-helper="{}"]"#, p.karim);
    karim.wait_css(&response, PATIENCE).await?;
    ensure!(
        karim.text(&response).await?.contains(MESSAGE),
        "Karim's response lacks his message"
    );
    karim.mark().await?;

    // It appears live on Marie's post page; she accepts Karim.
    let took = poll(
        "Karim's response on Marie's open post page",
        PATIENCE,
        async || Ok(marie.exists(&response).await?.then(|| responded.elapsed())),
    )
    .await?;
    ensure!(
        marie.marked().await?,
        "Marie's post page was reloaded or left: the response must appear live"
    );
    eprintln!("Karim's response appeared live on Marie's page {took:?} after his click");
    ensure!(
        marie.text(&response).await?.contains(MESSAGE),
        "the response on Marie's page lacks Karim's message"
    );
    for action in ["accept", "thank"] {
        ensure!(
            marie
                .exists(&format!(r#"{response} [data-action="{action}"]"#))
                .await?,
            "Marie is not offered `{action}` on Karim's response"
        );
    }
    for action in ["done", "withdraw"] {
        ensure!(
            marie
                .exists(&format!(r#"[data-action="{action}"]"#))
                .await?,
            "Marie is not offered `{action}` on her post"
        );
    }
    marie
        .one(&format!(r#"{response} [data-action="accept"]"#))
        .await?
        .click()
        .await?;
    marie
        .wait_css(r#"article#post[data-status="accepted"]"#, PATIENCE)
        .await?;
    ensure!(
        marie.path().await? == format!("/posts/{id}"),
        "after accepting, Marie is at {}",
        marie.url().await?
    );

    eprintln!("[{:?}] Marie accepted Karim", clock.elapsed());

    // Accepted on Karim's side too: live on his open post page, or after reloads.
    let accepted = r#"article#post[data-status="accepted"]"#;
    let live = poll(
        "accepted, live on Karim's page",
        Duration::from_secs(10),
        async || Ok(karim.exists(accepted).await?.then_some(())),
    )
    .await
    .is_ok()
        && karim.marked().await?;
    if !live {
        eprintln!("note: the acceptance did not show live on Karim's open post page");
        poll(
            "accepted on Karim's page (reloading)",
            PATIENCE,
            async || {
                karim.client.refresh().await?;
                Ok(karim.exists(accepted).await?.then_some(()))
            },
        )
        .await?;
    }
    for (b, url) in [(&marie, &p.a_url), (&karim, &p.b_url)] {
        b.goto(&format!("{url}/?all=1")).await?;
        b.wait_css(&card, PATIENCE).await?;
        b.expect_attr(&format!("{card} .status"), "data-status", "accepted")
            .await?;
        b.expect_attr(&format!("{card} .helpers-count"), "data-count", "1")
            .await?;
    }

    eprintln!("[{:?}] accepted on both sides", clock.elapsed());
    tour(&marie, &p.a_url, &id, shots).await?;
    eprintln!("[{:?}] every page in both languages", clock.elapsed());

    // Karim's phone: the board 360 pixels wide.
    karim.emulate_phone(360, 780).await?;
    karim.goto(&format!("{}/", p.b_url)).await?;
    karim.wait_css(&card, PATIENCE).await?;
    let widths = karim
        .js(
            "return [window.innerWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await?;
    ensure!(widths[0] == 360, "the phone viewport is {widths}");
    if widths[1].as_u64().unwrap_or(0) > 361 {
        eprintln!(
            "note: the board is wider than a 360-pixel phone (scrollWidth {})",
            widths[1]
        );
    }
    karim.screenshot_to(&shots.join("board-360px.png")).await?;
    karim.stop_emulation().await?;

    marie.close().await?;
    karim.close().await?;
    Ok(())
}

/// Every page in French, then in English, switched with the language links.
async fn tour(b: &Browser, base: &str, id: &str, shots: &Path) -> Result<()> {
    b.goto(&format!("{base}/")).await?;
    b.wait_css("main#main", PATIENCE).await?;
    for (lang, board_word, synced) in CHROME {
        // Switch where we are (the board first, the last page of the French round next):
        // the link must bring us back to the same page.
        let here = b.path().await?;
        b.wait_css(&format!("#lang-{lang}"), PATIENCE)
            .await?
            .click()
            .await?;
        poll(
            &format!("<html lang=\"{lang}\"> after clicking #lang-{lang}"),
            PATIENCE,
            async || Ok((b.lang().await? == *lang).then_some(())),
        )
        .await?;
        ensure!(
            b.path().await? == here,
            "#lang-{lang} on {here} led to {} instead of back",
            b.url().await?
        );
        for (i, page) in PAGES.iter().enumerate() {
            let path = page.path.replace("{id}", id);
            let asked = Instant::now();
            match page.nav {
                Some(nav) => {
                    b.wait_css(&format!("#{nav}"), PATIENCE)
                        .await?
                        .click()
                        .await?;
                    poll(
                        &format!("{path} after clicking #{nav}"),
                        PATIENCE,
                        async || {
                            Ok((b.path().await? == path && b.exists("main#main").await?)
                                .then_some(()))
                        },
                    )
                    .await?;
                }
                None => {
                    b.goto(&format!("{base}{path}")).await?;
                    b.wait_css("main#main", PATIENCE).await?;
                }
            }
            let loaded = asked.elapsed();
            ensure!(
                loaded < SLOW_PAGE,
                "the {} page ({path}) in {lang} took {loaded:?} to load from a node on this \
                 computer: is the browser out of connections to it (six per host), held by the \
                 event streams of pages it keeps in its back/forward cache?",
                page.key
            );
            let shown = Instant::now();
            b.check_page(page, lang, board_word, synced)
                .await
                .with_context(|| format!("the {} page ({path}) in {lang}", page.key))?;
            let file = shots.join(format!("{lang}-{}-{}.png", i + 1, page.key));
            b.full_screenshot_to(&file).await?;
            eprintln!(
                "{lang} {}: loaded in {loaded:?}, checked in {:?}",
                page.key,
                shown.elapsed()
            );
        }
    }
    Ok(())
}

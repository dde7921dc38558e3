//! The paper backup page in a real headless Chromium (issue 13). Marie, on her computer's
//! browser 360 pixels wide and in French, goes from the settings to `/backup`: it says what
//! someone holding the sheet can do, and shows no word until she presses the button. The
//! 24 words then shown, decoded by the BIP-39 crate apart from the program, are her node's
//! key; printed, the sheet fits on one A4 page. The page in English says the same.
//!
//! Then, without a browser: the words are never shown on a GET, nor to a POST without the
//! session's form token, with a wrong one, or from another site; a session signed in with
//! the LAN code (`--ui-lan`, as a phone would) gets a clear refusal and no word.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots and the printed PDF go to the folder printed as `screenshots: …`.

use std::time::Duration;

use anyhow::{Result, anyhow, bail, ensure};
use bip39::Language;
use entraide_tests::browser::{self, Browser, Driver};
use entraide_tests::harness::Ran;
use entraide_tests::{LOOPBACK, Page, TestNode, author_of_words, csrf_of, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
/// How long anything may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);
/// The smallest target a finger can press (WCAG 2.5.5 asks 44 CSS pixels; we ask 48).
const FINGER: f64 = 48.0;

tests_main!(the_backup_page_shows_the_words_to_the_owner_only);

fn the_backup_page_shows_the_words_to_the_owner_only() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let mut marie = TestNode::new(BIN, "Marie");
    marie.ok(&["init", "--name", "Marie"]).expect("init");
    let mut args = LOOPBACK.to_vec();
    args.push("--ui-lan");
    marie.up(&args).expect("Marie's node up");
    if let Err(e) = run(&marie) {
        panic!("{e:?}\n\n--- Marie's node log ---\n{}", marie.log_tail());
    }
    Ran::Fully
}

fn run(marie: &TestNode) -> Result<()> {
    let who = marie.json(&["whoami", "--json"])?;
    let author = who["author"].as_str().unwrap_or_default().to_owned();
    let fingerprint = who["fingerprint"].as_str().unwrap_or_default().to_owned();
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start()?;
    let signin = marie.signin_url()?;
    let base = marie.ui_url()?;
    let words = browser::runtime().block_on(async {
        let browser = driver.session("Marie").await?;
        let flow = in_the_browser(&browser, &signin, &base, &fingerprint, &shots).await;
        if flow.is_err() {
            let _ = browser
                .screenshot_to(&shots.join("backup-failed.png"))
                .await;
            eprintln!("{}", browser.snapshot().await);
        }
        let words = flow?;
        browser.close().await?;
        Ok::<_, anyhow::Error>(words)
    })?;
    ensure!(words.len() == 24, "{} words shown: {words:?}", words.len());
    ensure!(
        author_of_words(&words, Language::French).as_deref() == Some(author.as_str()),
        "the words shown are not Marie's key: {words:?}"
    );
    without_a_browser(marie, &words)
}

/// The flow in Chromium; returns the words shown.
async fn in_the_browser(
    marie: &Browser,
    signin: &str,
    base: &str,
    fingerprint: &str,
    shots: &std::path::Path,
) -> Result<Vec<String>> {
    marie.goto(signin).await?;
    marie.wait_css("main#main", PATIENCE).await?;
    marie.emulate_phone(360, 780).await?;
    marie
        .goto(&format!("{base}/lang/fr?back=/settings"))
        .await?;
    marie.wait_css("#backup-link", PATIENCE).await?;
    ensure!(marie.lang().await? == "fr", "the page is not in French");
    let link = marie.text("#backup-link").await?;
    ensure!(
        link == "Sauvegarde sur papier",
        "the settings link says {link:?}"
    );
    marie.one("#backup-link").await?.click().await?;
    marie.wait_css("#backup-reveal-form", PATIENCE).await?;
    ensure!(
        marie.path().await? == "/backup",
        "at {}",
        marie.url().await?
    );
    let text = marie.text("main#main").await?;
    for want in [
        "Ce que peut faire qui détient la feuille",
        "agir en votre nom sur le tableau",
        "lire les fiches scellées qui vous sont adressées",
        "jusqu'à ce que vous passiez à une nouvelle identité",
        "comme une clé de maison",
        "Afficher mes 24 mots",
    ] {
        ensure!(
            text.contains(want),
            "/backup does not say {want:?}:\n{text}"
        );
    }
    ensure!(
        marie.text("#backup-fingerprint").await? == fingerprint,
        "the page names another identity"
    );
    ensure!(
        !marie.exists("#backup-words").await?,
        "words shown before the button"
    );
    if let Some(bad) = browser::untranslated(&marie.body_text().await?) {
        bail!("/backup shows {bad:?}");
    }
    fits_a_phone(marie, "/backup").await?;
    marie
        .full_screenshot_to(&shots.join("backup-360px-fr.png"))
        .await?;
    marie.emulate_phone(360, 780).await?;

    marie
        .one("#backup-reveal-form button[data-action=reveal]")
        .await?
        .click()
        .await?;
    marie.wait_css("#backup-words", PATIENCE).await?;
    ensure!(
        marie.path().await? == "/backup/words",
        "at {}",
        marie.url().await?
    );
    let shown = marie
        .js(
            "return Array.from(document.querySelectorAll('#backup-words li')) \
               .map(li => li.textContent.trim());",
            vec![],
        )
        .await?;
    let words: Vec<String> = shown
        .as_array()
        .ok_or_else(|| anyhow!("no words: {shown}"))?
        .iter()
        .filter_map(|w| w.as_str().map(str::to_owned))
        .collect();
    ensure!(
        marie.text("#backup-fingerprint").await? == fingerprint,
        "the sheet names another identity"
    );
    ensure!(marie.text("#backup-name").await? == "Marie");
    let date = marie.text("#backup-date").await?;
    ensure!(date.len() == 10, "the sheet's date is {date:?}");
    ensure!(
        marie.exists("#backup-sheet figure.qr svg").await?,
        "no QR code"
    );
    let sheet = marie.text("#backup-sheet").await?;
    for want in [
        "Qui détient ces mots peut agir en votre nom",
        "entraide restore",
        "entraide join CODE",
    ] {
        ensure!(sheet.contains(want), "the sheet does not say {want:?}");
    }
    let print = marie.one("button[data-action=print]").await?;
    ensure!(print.is_displayed().await?, "no Print button");
    fits_a_phone(marie, "/backup/words").await?;
    marie
        .full_screenshot_to(&shots.join("backup-words-360px-fr.png"))
        .await?;

    // Printed: one A4 sheet.
    let pdf = marie.print_a4().await?;
    std::fs::write(shots.join("backup-a4.pdf"), &pdf)?;
    let pages = browser::pdf_pages(&pdf);
    ensure!(pages == 1, "the sheet prints on {pages} pages, not one");

    // The same page in English.
    marie.goto(&format!("{base}/lang/en?back=/backup")).await?;
    marie.wait_css("#backup-reveal-form", PATIENCE).await?;
    ensure!(marie.lang().await? == "en", "the page is not in English");
    let text = marie.text("main#main").await?;
    for want in [
        "What someone holding the sheet can do",
        "act as you on the board",
        "until you move to a new identity",
        "Show my 24 words",
    ] {
        ensure!(
            text.contains(want),
            "/backup in English does not say {want:?}"
        );
    }
    marie
        .goto(&format!("{base}/lang/fr?back=/settings"))
        .await?;
    marie.wait_css("#backup-link", PATIENCE).await?;
    Ok(words)
}

/// Nothing wider than the phone, and every button of the page big enough for a finger.
async fn fits_a_phone(marie: &Browser, what: &str) -> Result<()> {
    let sizes = marie
        .js(
            "const small = Array.from(document.querySelectorAll('main button, main a.big-link')) \
               .map(x => x.getBoundingClientRect()) \
               .filter(r => r.width > 0 && r.height < arguments[0]).length; \
             return [window.innerWidth, document.documentElement.scrollWidth, small];",
            vec![FINGER.into()],
        )
        .await?;
    let n = |i: usize| sizes[i].as_f64().unwrap_or(-1.0);
    ensure!(n(0) == 360.0, "{what}: the phone viewport is {sizes}");
    ensure!(n(1) <= 360.0, "{what} is wider than the phone: {sizes}");
    ensure!(
        n(2) == 0.0,
        "{what}: {} targets lower than {FINGER} px",
        n(2)
    );
    Ok(())
}

/// Whether `body` shows any of the backup's words (the list, or its first three words in a
/// row).
fn shows_words(body: &str, words: &[String]) -> bool {
    body.contains("backup-words")
        || body.contains(&format!("<li>{}</li><li>{}</li>", words[0], words[1]))
        || body.contains(&words[..3].join(" "))
}

/// What the page does for requests that must not see the words.
fn without_a_browser(marie: &TestNode, words: &[String]) -> Result<()> {
    let page: Page = marie.page()?;
    let (status, body) = page.fetch("/backup")?;
    ensure!(status == 200, "/backup: {status}");
    ensure!(
        !shows_words(&body, words),
        "/backup shows the words on a GET"
    );
    let r = page.get("/backup").call()?;
    ensure!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            == Some("no-store"),
        "/backup may be cached: {:?}",
        r.headers().get("cache-control")
    );
    let token = csrf_of(&body).ok_or_else(|| anyhow!("no form token on /backup"))?;
    // No GET shows the sheet.
    let (status, body) = page.fetch("/backup/words")?;
    ensure!(status == 405, "GET /backup/words: {status}");
    ensure!(
        !shows_words(&body, words),
        "GET /backup/words shows the words"
    );
    for (what, form) in [
        ("no token", vec![]),
        ("a wrong token", vec![("csrf", "0000")]),
    ] {
        let mut r = page.post("/backup/words").send_form(form)?;
        let body = r.body_mut().read_to_string().unwrap_or_default();
        ensure!(r.status().as_u16() == 403, "{what}: {}", r.status());
        ensure!(!shows_words(&body, words), "{what}: the words are shown");
    }
    // The right token from another site.
    let mut r = Page::agent()
        .post(format!("{}/backup/words", page.base))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form([("csrf", token.as_str())])?;
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(r.status().as_u16() == 403, "cross-site: {}", r.status());
    ensure!(
        !shows_words(&body, words),
        "cross-site: the words are shown"
    );
    // No session at all.
    let mut r = Page::agent()
        .post(format!("{}/backup/words", page.base))
        .header("Origin", &page.base)
        .send_form([("csrf", token.as_str())])?;
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(r.status().as_u16() == 401, "no session: {}", r.status());
    ensure!(
        !shows_words(&body, words),
        "no session: the words are shown"
    );
    // The right token, from the page: the route is real.
    let mut r = page
        .post("/backup/words")
        .send_form([("csrf", token.as_str())])?;
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(r.status().as_u16() == 200, "with the token: {}", r.status());
    ensure!(shows_words(&body, words), "with the token: no words");
    ensure!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            == Some("no-store"),
        "the sheet may be cached"
    );

    // A session signed in with the LAN code, as a phone would be: refused, clearly.
    let lan = lan_session(marie, &page.base)?;
    let mut r = lan.get("/backup").call()?;
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(
        r.status().as_u16() == 403,
        "LAN GET /backup: {}",
        r.status()
    );
    ensure!(
        body.contains(r#"id="backup-refused""#) && body.contains("entraide open"),
        "LAN GET /backup: no clear refusal:\n{body}"
    );
    ensure!(
        !body.contains("backup-reveal-form"),
        "LAN GET /backup: the button is offered"
    );
    let lan_token = lan.csrf("/settings")?;
    let mut r = lan
        .post("/backup/words")
        .send_form([("csrf", lan_token.as_str())])?;
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(r.status().as_u16() == 403, "LAN POST: {}", r.status());
    ensure!(body.contains(r#"id="backup-refused""#), "LAN POST: {body}");
    ensure!(!shows_words(&body, words), "LAN POST: the words are shown");
    Ok(())
}

/// A page session begun with the `--ui-lan` login code (from this computer's address:
/// what counts is how the session began).
fn lan_session(marie: &TestNode, base: &str) -> Result<Page> {
    let code = marie.lan_code(PATIENCE)?;
    let r = Page::agent()
        .post(format!("{base}/login"))
        .header("Origin", base)
        .send_form([("code", code.as_str())])?;
    ensure!(r.status().as_u16() == 303, "LAN login: {}", r.status());
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow!("the LAN login set no cookie"))?
        .to_owned();
    Ok(Page {
        base: base.to_owned(),
        cookie,
    })
}

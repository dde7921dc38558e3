//! The care page in a real browser (issue 12): two real nodes on loopback sockets, Marie
//! (A) and Karim (B). Marie registers herself from the command line with a circle of the
//! two of them; then, on her phone (Chromium 360 pixels wide, in French), she presses
//! "Je vais bien", and both nodes' command lines say she checked in herself. She then
//! registers a neighbour who has no device with the page's form, which Karim's node
//! receives too. Posting the care forms without the form token, from another site, or a
//! removal without its tick, changes nothing.
//!
//! No alert is declared (alerts are not part of this page): a person's own check-in is
//! accepted at any time, and shows as `checked`.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots go to a folder printed as `screenshots: …`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use entraide_tests::browser::{self, Browser, Driver, poll};
use entraide_tests::harness::Ran;
use entraide_tests::{LOOPBACK, Page, TestNode, community, csrf_of, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
/// How long anything may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);
/// The smallest target a finger can press (WCAG 2.5.5 asks 44 CSS pixels; we ask 48).
const FINGER: f64 = 48.0;

const NEIGHBOUR: &str = "Mme Lefèvre";
const NEIGHBOUR_AREA: &str = "Bât. C";
const NEIGHBOUR_NOTES: &str = "Porte bleue, sonner deux fois";

tests_main!(marie_says_she_is_fine_from_her_phone_and_registers_a_neighbour);

/// Waits until `check` gives a value, trying every 200 ms for at most `timeout`.
fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            bail!("{what}: not within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The records of `node`'s register, as `care status --json` (or `care list --json`)
/// gives them.
fn records(node: &TestNode, command: &str) -> Result<Vec<Value>> {
    let list = node.json(&["care", command, "--json"])?;
    list["records"]
        .as_array()
        .cloned()
        .ok_or_else(|| anyhow!("{}: no records in {list}", node.name))
}

fn record<'a>(records: &'a [Value], id: &str) -> Option<&'a Value> {
    records.iter().find(|r| r["id"] == id)
}

fn marie_says_she_is_fine_from_her_phone_and_registers_a_neighbour() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let mut nodes = community(BIN, &["Marie", "Karim"]).expect("a community of two");
    nodes[0].up(LOOPBACK).expect("Marie's node up");
    let a_addr = nodes[0].address().expect("Marie's address");
    let mut args = LOOPBACK.to_vec();
    args.extend(["--peer", &a_addr]);
    nodes[1].up(&args).expect("Karim's node up");
    let result = run(&nodes);
    if let Err(e) = result {
        panic!(
            "{e:?}\n\n--- Marie's node log ---\n{}\n--- Karim's node log ---\n{}",
            nodes[0].log_tail(),
            nodes[1].log_tail()
        );
    }
    Ran::Fully
}

fn run(nodes: &[TestNode]) -> Result<()> {
    let (a, b) = (&nodes[0], &nodes[1]);
    // A circle is made of members whose feeds the node holds: each must hold the other's.
    for n in nodes {
        wait_for(&format!("{} holds both feeds", n.name), PATIENCE, || {
            let s = n.json(&["status", "--json"]).ok()?;
            (s["board"]["feeds"].as_u64()? >= 2).then_some(())
        })?;
    }
    let id = a
        .ok(&[
            "care",
            "add",
            "--name",
            "Marie",
            "--area",
            "Bât. B",
            "--window",
            "09:00-11:00",
            "--circle",
            "Marie",
            "Karim",
            "--consent",
            "Marie elle-même, par écrit, le 2 décembre",
            "--me",
        ])?
        .trim()
        .to_owned();
    ensure!(
        id.len() == 32 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "care add printed {id:?}, not a record id"
    );
    wait_for("Karim's node opens Marie's record", PATIENCE, || {
        record(&records(b, "list").ok()?, &id).map(|_| ())
    })?;
    let before = records(a, "status")?;
    let state = record(&before, &id).map(|r| r["state"].clone());
    ensure!(
        state.as_ref().and_then(Value::as_str) != Some("checked"),
        "Marie's record is checked before she pressed anything: {state:?}"
    );

    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start()?;
    let signin = a.signin_url()?;
    let base = a.ui_url()?;
    browser::runtime().block_on(async {
        let marie = driver.session("Marie").await?;
        let flow = phone(&marie, &signin, &base, &id, &shots).await;
        if flow.is_err() {
            let _ = marie.screenshot_to(&shots.join("failed.png")).await;
            eprintln!("{}", marie.snapshot().await);
        }
        flow?;
        marie.close().await
    })?;

    // Both command lines say she checked in herself.
    for (n, command) in [(a, "status"), (b, "list")] {
        wait_for(
            &format!("{}: Marie checked, self", n.name),
            PATIENCE,
            || {
                let all = records(n, command).ok()?;
                let r = record(&all, &id)?;
                (r["state"] == "checked"
                    && r["check"]["how"] == "self"
                    && r["check"]["fine"] == true)
                    .then_some(())
            },
        )
        .with_context(|| format!("{}'s register: {:?}", n.name, records(n, command).ok()))?;
    }
    // The neighbour registered with the page's form, on both nodes.
    for n in nodes {
        let found = wait_for(
            &format!("{}: {NEIGHBOUR}'s record", n.name),
            PATIENCE,
            || {
                records(n, "list")
                    .ok()?
                    .into_iter()
                    .find(|r| r["name"] == NEIGHBOUR)
            },
        )?;
        ensure!(found["area"] == NEIGHBOUR_AREA, "{found}");
        ensure!(found["window"] == "10:00-12:15", "{found}");
        ensure!(found["notes"] == NEIGHBOUR_NOTES, "{found}");
        ensure!(
            found["subject"].is_null(),
            "a neighbour with no device: {found}"
        );
        ensure!(
            found["circle"].as_array().map(Vec::len) == Some(2),
            "{found}"
        );
    }
    hostile(a, b, &id)
}

/// Marie's phone: French, 360 pixels wide.
async fn phone(
    marie: &Browser,
    signin: &str,
    base: &str,
    id: &str,
    shots: &std::path::Path,
) -> Result<()> {
    marie.goto(signin).await?;
    marie.wait_css("main#main", PATIENCE).await?;
    marie.emulate_phone(360, 780).await?;
    // The French link, from the care page: back to it.
    marie.goto(&format!("{base}/lang/fr?back=/care")).await?;
    marie.wait_css("#care-me", PATIENCE).await?;
    ensure!(marie.lang().await? == "fr", "the page is not in French");
    ensure!(marie.path().await? == "/care", "at {}", marie.url().await?);
    let nav = marie.text("#nav-care").await?;
    ensure!(nav == "Veille", "the care link says {nav:?}");
    marie.expect_attr("#care-me", "data-record", id).await?;
    marie
        .expect_attr("#care-me", "data-state", "no_alert")
        .await?;
    ensure!(
        !marie.exists("#care-strip").await?,
        "the strip shows while nobody needs anyone"
    );
    let text = marie.text("main#main").await?;
    for want in [
        "Et vous, ça va ?",
        "Pas d'alerte en ce moment",
        "Inscrire une personne",
    ] {
        ensure!(
            text.contains(want),
            "the care page does not say {want:?}:\n{text}"
        );
    }
    if let Some(bad) = browser::untranslated(&marie.body_text().await?) {
        bail!("the care page shows {bad:?}");
    }
    let fine = "#care-fine-form button[data-action=i-am-fine]";
    ensure!(
        marie.text(fine).await? == "Je vais bien",
        "the large button says {:?}",
        marie.text(fine).await?
    );
    // Nothing wider than the phone, and every button big enough for a finger.
    let sizes = marie
        .js(
            "const b = document.querySelector(arguments[0]).getBoundingClientRect(); \
             const small = Array.from(document.querySelectorAll('main button')) \
               .map(x => x.getBoundingClientRect()) \
               .filter(r => r.width > 0 && r.height < arguments[1]).length; \
             return [window.innerWidth, document.documentElement.scrollWidth, b.width, \
                     b.height, small];",
            vec![fine.into(), FINGER.into()],
        )
        .await?;
    let n = |i: usize| sizes[i].as_f64().unwrap_or(-1.0);
    ensure!(n(0) == 360.0, "the phone viewport is {sizes}");
    ensure!(
        n(1) <= 360.0,
        "the care page is wider than the phone: {sizes}"
    );
    ensure!(
        n(3) >= 1.5 * FINGER && n(2) >= 0.8 * 360.0,
        "\"Je vais bien\" is {}×{} pixels: not very large",
        n(2),
        n(3)
    );
    ensure!(n(4) == 0.0, "{} buttons are lower than {FINGER} px", n(4));
    marie
        .screenshot_to(&shots.join("care-360px-fr.png"))
        .await?;

    marie.one(fine).await?.click().await?;
    poll("the page after \"Je vais bien\"", PATIENCE, async || {
        Ok(marie.exists(r#"#care-saved"#).await?.then_some(()))
    })
    .await?;
    marie
        .expect_attr("#care-me", "data-state", "checked")
        .await?;
    let line = marie.text("#care-me .care-line").await?;
    ensure!(line.contains("Marie va bien"), "after the press: {line:?}");
    marie
        .full_screenshot_to(&shots.join("care-checked-360px-fr.png"))
        .await?;
    // A full screenshot ends the phone's emulation: the form is filled on the phone too.
    marie.emulate_phone(360, 780).await?;

    // The register form, for a neighbour with no device.
    let form = "form#care-add-form";
    marie
        .type_into(&format!("{form} #c-name"), NEIGHBOUR)
        .await?;
    marie
        .type_into(&format!("{form} #c-area"), NEIGHBOUR_AREA)
        .await?;
    for (select, value) in [
        ("c-start-h", "10"),
        ("c-start-m", "00"),
        ("c-end-h", "12"),
        ("c-end-m", "15"),
    ] {
        marie
            .one(&format!("{form} #{select}"))
            .await?
            .select_by_value(value)
            .await?;
    }
    let boxes = marie
        .client
        .find_all(browser::Locator::Css(&format!(
            r#"{form} input[name="circle"]"#
        )))
        .await?;
    ensure!(boxes.len() == 2, "{} members to tick, not 2", boxes.len());
    for b in boxes {
        b.click().await?;
    }
    marie
        .type_into(
            &format!("{form} #c-consent"),
            "Mme Lefèvre, de vive voix, le 2 décembre",
        )
        .await?;
    marie
        .type_into(&format!("{form} #c-notes"), NEIGHBOUR_NOTES)
        .await?;
    marie
        .one(&format!(r#"{form} button[data-action="register"]"#))
        .await?
        .click()
        .await?;
    poll("the neighbour on the care page", PATIENCE, async || {
        if marie.exists("#care-add-error").await? {
            bail!("refused: {}", marie.text("#care-add-error").await?);
        }
        let items = marie.text("#care-list").await.unwrap_or_default();
        Ok((marie.exists("#care-saved").await? && items.contains(NEIGHBOUR)).then_some(()))
    })
    .await?;
    marie
        .full_screenshot_to(&shots.join("care-registered-360px-fr.png"))
        .await?;
    marie.stop_emulation().await?;
    Ok(())
}

/// The register form, valid but for its form token: a circle of `circle`.
fn register_form<'a>(circle: &[&'a str], csrf: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("name", "Mallory"),
        ("area", "Bât. Z"),
        ("start_h", "09"),
        ("start_m", "00"),
        ("end_h", "10"),
        ("end_m", "00"),
        ("consent", "personne, jamais, nulle part"),
    ];
    form.extend(circle.iter().map(|c| ("circle", *c)));
    form.extend(csrf.map(|c| ("csrf", c)));
    form
}

/// A form posted without the form token, or with a wrong one, or from another site, is
/// refused and changes nothing; a removal without its tick too; the page needs a session.
fn hostile(a: &TestNode, b: &TestNode, id: &str) -> Result<()> {
    let page: Page = a.page()?;
    let (_, care) = page.fetch("/care")?;
    let token = csrf_of(&care).ok_or_else(|| anyhow!("no form token on /care"))?;
    let count = |a: &TestNode| records(a, "list").map(|r| r.len());
    let before = count(a)?;
    let author = |n: &TestNode| -> Result<String> {
        let who = n.json(&["whoami", "--json"])?;
        Ok(who["author"].as_str().unwrap_or_default().to_owned())
    };
    let circle = [author(a)?, author(b)?];
    let circle = [circle[0].as_str(), circle[1].as_str()];
    for (what, form) in [
        ("no token", register_form(&circle, None)),
        ("a wrong token", register_form(&circle, Some("0000"))),
    ] {
        let r = page.post("/care/add").send_form(form)?;
        ensure!(
            r.status().as_u16() == 403,
            "/care/add with {what}: {}",
            r.status()
        );
    }
    for action in ["fine", "check", "take", "remove", "not-fine-me"] {
        let path = format!("/care/{id}/{action}");
        let r = page
            .post(&path)
            .send_form([("how", "visit"), ("fine", "0"), ("confirm", "1")])?;
        ensure!(
            r.status().as_u16() == 403,
            "{path} without a token: {}",
            r.status()
        );
        let r =
            page.post(&path)
                .send_form([("csrf", "nope"), ("how", "visit"), ("confirm", "1")])?;
        ensure!(
            r.status().as_u16() == 403,
            "{path} with a wrong token: {}",
            r.status()
        );
    }
    // Without a session, the care page is the sign-in page, and it names nobody.
    let mut r = Page::agent().get(format!("{}/care", page.base)).call()?;
    ensure!(
        r.status().as_u16() == 401,
        "/care without a session: {}",
        r.status()
    );
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(
        !body.contains("Marie") && !body.contains(NEIGHBOUR),
        "the sign-in page names someone of the register:\n{body}"
    );
    // The right token from another site: the gate refuses it too.
    let r = Page::agent()
        .post(format!("{}/care/{id}/remove", page.base))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form([("csrf", token.as_str()), ("confirm", "1")])?;
    ensure!(
        r.status().as_u16() == 403,
        "a cross-site removal: {}",
        r.status()
    );
    // The right token without the tick: nothing is removed, and the page says why.
    let mut r = page
        .post(&format!("/care/{id}/remove"))
        .send_form([("csrf", token.as_str())])?;
    ensure!(
        r.status().as_u16() == 422,
        "a removal without its tick: {}",
        r.status()
    );
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(
        body.contains(r#"id="care-error""#),
        "no reason given:\n{body}"
    );
    let after = records(a, "list")?;
    ensure!(
        after.len() == before,
        "{before} records before, {} after",
        after.len()
    );
    let r = record(&after, id).ok_or_else(|| anyhow!("Marie's record is gone"))?;
    ensure!(
        r["state"] == "checked" && r["check"]["how"] == "self",
        "Marie's record changed: {r}"
    );
    // And the same removal with its tick works: the route is real.
    let r = page
        .post(&format!("/care/{id}/remove"))
        .send_form([("csrf", token.as_str()), ("confirm", "1")])?;
    ensure!(
        r.status().as_u16() == 303,
        "a removal with its tick: {}",
        r.status()
    );
    ensure!(
        record(&records(a, "list")?, id).is_none(),
        "Marie's record is still listed after its removal"
    );
    Ok(())
}

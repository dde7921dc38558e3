//! The board file on the page (issue 14), in a real headless Chromium: Marie downloads her
//! board from her settings (`/board.entraide`); Lina, on a phone 360 px wide, uploads it
//! from hers, in French, and the result page says what came in; uploaded again, in English,
//! nothing changes; a file changed on the way is refused feed by feed, and the page says the
//! file was changed. Then, without a browser: a cross-site upload and one without the
//! session's form token are refused.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true).

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use entraide_tests::browser::{self, Browser, Driver};
use entraide_tests::harness::Ran;
use entraide_tests::{LOOPBACK, TestNode, community, skip_unless, tests_main};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);

tests_main!(a_board_file_goes_down_from_one_page_and_up_into_another);

fn a_board_file_goes_down_from_one_page_and_up_into_another() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let mut nodes = community(BIN, &["Marie", "Lina"]).expect("a community");
    for (title, urgency) in [("Eau pour le 3e", "today"), ("Soupe du soir", "week")] {
        nodes[0]
            .post("request", title, urgency, "Bât. B")
            .expect("post");
    }
    // Not connected to each other: only the file carries the board.
    for n in &mut nodes {
        n.up(LOOPBACK).expect("up");
    }
    if let Err(e) = run(&nodes) {
        panic!(
            "{e:?}\n\n--- Marie ---\n{}\n--- Lina ---\n{}",
            nodes[0].log_tail(),
            nodes[1].log_tail()
        );
    }
    Ran::Fully
}

fn run(nodes: &[TestNode]) -> Result<()> {
    let (marie, lina) = (&nodes[0], &nodes[1]);
    let dir = tempfile::tempdir()?;
    // Marie's settings link: the board, as `entraide export` writes it.
    let page = marie.page()?;
    let mut r = page.get("/board.entraide").call()?;
    ensure!(r.status() == 200, "download: {}", r.status());
    let disposition = entraide_tests::header_of(&r, "content-disposition");
    ensure!(disposition.contains(".entraide"), "{disposition}");
    let file = r.body_mut().with_config().limit(u64::MAX).read_to_vec()?;
    ensure!(file.starts_with(b"ENTRAIDE-BOARD\n\0"), "not a board file");
    let good = dir.path().join("marie.entraide");
    std::fs::write(&good, &file)?;
    let mut changed = file.clone();
    let middle = 25 + 4 + u32::from_be_bytes(file[25..29].try_into()?) as usize / 2;
    changed[middle] ^= 0x40;
    let bad = dir.path().join("changed.entraide");
    std::fs::write(&bad, &changed)?;

    let shots = browser::screenshot_dir();
    let signin = lina.signin_url()?;
    let base = lina.ui_url()?;
    browser::runtime().block_on(async {
        let driver = Driver::start()?;
        let b = driver.session("Lina").await?;
        b.goto(&signin).await?;
        b.wait_css("main#main", PATIENCE).await?;
        b.emulate_phone(360, 780).await?;
        let flow = async {
            upload(&b, &base, "fr", &good).await?;
            let said = b.text("#import-summary").await?;
            ensure!(said.contains("1 apportai(en)t du nouveau"), "{said}");
            ensure!(b.text("#import-kept").await?.len() >= 24);
            b.fits(360).await?;
            b.full_screenshot_to(&shots.join("import-360px-fr.png"))
                .await?;
            b.emulate_phone(360, 780).await?;
            upload(&b, &base, "en", &good).await?;
            let said = b.text("#import-summary").await?;
            ensure!(
                said.contains("0 brought something new, 1 were already here"),
                "{said}"
            );
            upload(&b, &base, "en", &bad).await?;
            ensure!(
                b.exists("#import-file-error").await?,
                "the change is not named"
            );
            ensure!(
                b.exists("#import-refused").await?,
                "the changed feed was kept"
            );
            b.fits(360).await?;
            b.full_screenshot_to(&shots.join("import-changed-360px-en.png"))
                .await?;
            if let Some(bad) = browser::untranslated(&b.body_text().await?) {
                anyhow::bail!("the import page shows {bad:?}");
            }
            Ok::<_, anyhow::Error>(())
        };
        let result = flow.await;
        if result.is_err() {
            eprintln!("{}", b.snapshot().await);
        }
        b.close().await?;
        result
    })?;
    let titles: Vec<String> = lina
        .board()?
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        titles.contains(&"Eau pour le 3e".to_owned())
            && titles.contains(&"Soupe du soir".to_owned()),
        "Lina's board: {titles:?}"
    );

    // A page elsewhere cannot upload, nor can a form without the session's token.
    let page = lina.page()?;
    let boundary = "xyz";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nnope\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.entraide\"\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n--{boundary}--\r\n"
    );
    let kind = format!("multipart/form-data; boundary={boundary}");
    let r = page
        .post("/import")
        .header("Origin", "http://evil.example")
        .header("Content-Type", &kind)
        .send(body.as_bytes())?;
    ensure!(r.status() == 403, "a cross-site upload: {}", r.status());
    let r = page
        .post("/import")
        .header("Origin", &page.base)
        .header("Content-Type", &kind)
        .send(body.as_bytes())?;
    ensure!(
        r.status() == 403,
        "an upload without the form token: {}",
        r.status()
    );
    Ok(())
}

/// On Lina's settings in `lang`: chooses `file` and imports it; waits for the result page.
async fn upload(b: &Browser, base: &str, lang: &str, file: &std::path::Path) -> Result<()> {
    b.goto(&format!("{base}/lang/{lang}?back=/settings"))
        .await?;
    b.wait_css("#import-form", PATIENCE).await?;
    b.one("#f-board-file")
        .await?
        .send_keys(file.to_str().context("a path")?)
        .await?;
    b.one("#import-form button[data-action=import]")
        .await?
        .click()
        .await?;
    b.wait_css("#import-summary", PATIENCE).await?;
    Ok(())
}

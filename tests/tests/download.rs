//! `/download` (issue 14): a running node gives its own program to a neighbour who is not a
//! member yet, with no internet. Without any session, the page names the system and the
//! processor, the size and the SHA-256 of the very file the node runs from, and
//! `/download/entraide` is that file, byte for byte. Two downloads at once are served, a
//! third is asked to come back later. Then the page in Chromium at 360 px, in French and
//! English. (The same page from another host of a LAN: tests/tests/lan.rs.)

use std::io::Read as _;
use std::time::Duration;

use anyhow::{Result, ensure};
use entraide_tests::browser::{self, Driver};
use entraide_tests::harness::Ran;
use entraide_tests::{LOOPBACK, Page, TestNode, skip_unless, tests_main};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);

tests_main!(
    the_node_gives_its_own_program_to_a_neighbour,
    the_download_page_on_a_phone,
);

fn node_up() -> TestNode {
    let mut n = TestNode::new(BIN, "Marie");
    n.ok(&["init", "--name", "Marie"]).expect("init");
    let mut args = LOOPBACK.to_vec();
    args.push("--ui-lan");
    n.up(&args).expect("up");
    n
}

fn the_node_gives_its_own_program_to_a_neighbour() -> Ran {
    let n = node_up();
    if let Err(e) = check_download(&n) {
        panic!("{e:?}\n\n--- log ---\n{}", n.log_tail());
    }
    Ran::Fully
}

fn check_download(n: &TestNode) -> Result<()> {
    let base = n.ui_url()?;
    let agent = Page::agent();
    let program = std::fs::read(BIN)?;
    let sha = hex::encode(Sha256::digest(&program));
    // No cookie: a neighbour who is not a member.
    let mut r = agent
        .get(format!("{base}/download"))
        .header("Accept-Language", "en")
        .call()?;
    ensure!(r.status() == 200, "{}", r.status());
    let page = r.body_mut().read_to_string()?;
    ensure!(
        page.contains(&sha),
        "the page's SHA-256 is not the program's"
    );
    ensure!(
        page.contains(std::env::consts::OS),
        "the system is not named"
    );
    ensure!(
        page.contains(&format!("-{}", std::env::consts::ARCH)),
        "the file name does not name the processor"
    );
    ensure!(page.contains("sha256sum"), "no install steps");
    let mut r = agent.get(format!("{base}/download/entraide")).call()?;
    ensure!(r.status() == 200, "{}", r.status());
    let disposition = entraide_tests::header_of(&r, "content-disposition");
    ensure!(disposition.contains("entraide-"), "{disposition}");
    let mut got = Vec::new();
    r.body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .read_to_end(&mut got)?;
    ensure!(
        got == program,
        "the download is not the program ({} bytes)",
        got.len()
    );

    // Two at once are served; a third is asked to come back.
    let slow: Vec<_> = (0..2)
        .map(|_| agent.get(format!("{base}/download/entraide")).call())
        .collect::<Result<_, _>>()?;
    ensure!(slow.iter().all(|r| r.status() == 200));
    let third = agent.get(format!("{base}/download/entraide")).call()?;
    ensure!(
        third.status() == 503,
        "a third download: {}",
        third.status()
    );
    drop(slow);
    // Once they are gone, downloads work again.
    let start = std::time::Instant::now();
    loop {
        let r = agent.get(format!("{base}/download/entraide")).call()?;
        if r.status() == 200 {
            break;
        }
        ensure!(start.elapsed() < PATIENCE, "downloads never came back");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The rest of the page still needs a session.
    let r = agent.get(format!("{base}/settings")).call()?;
    ensure!(
        r.status() != 200,
        "settings without a session: {}",
        r.status()
    );
    Ok(())
}

fn the_download_page_on_a_phone() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let n = node_up();
    let base = n.ui_url().expect("the page");
    let shots = browser::screenshot_dir();
    let run = browser::runtime().block_on(async {
        let driver = Driver::start()?;
        let b = driver.session("neighbour").await?;
        b.emulate_phone(360, 780).await?;
        for (lang, want) in [("fr", "Télécharger entraide"), ("en", "Download entraide")] {
            b.goto(&format!("{base}/lang/{lang}?back=/download"))
                .await?;
            b.wait_css("#download-button", PATIENCE).await?;
            ensure!(b.lang().await? == lang, "not in {lang}");
            let text = b.text("#download-button").await?;
            ensure!(text == want, "{lang}: {text}");
            ensure!(b.text("#download-sha256").await?.len() == 64);
            if let Some(bad) = browser::untranslated(&b.body_text().await?) {
                anyhow::bail!("/download in {lang} shows {bad:?}");
            }
            b.fits(360).await?;
            b.full_screenshot_to(&shots.join(format!("download-360px-{lang}.png")))
                .await?;
            b.emulate_phone(360, 780).await?;
        }
        b.close().await?;
        Ok::<_, anyhow::Error>(())
    });
    if let Err(e) = run {
        panic!("{e:?}\n\n--- log ---\n{}", n.log_tail());
    }
    Ran::Fully
}

//! The stewards' page (issue 15), in a real headless Chromium at 360 px: Chloé founded the
//! community, Amel and Xavier joined; the three nodes are connected on loopback and Xavier
//! posted a request.
//!
//! In French: Amel reaches `/stewards` from her settings and sees Chloé as the only
//! steward, and no form; Chloé sees the forms, appoints Amel (two stewards now, and the
//! rule that two must agree), then excludes Xavier with a reason, ticking the box that
//! says what it does. Amel's page then shows Xavier excluded, by Chloé, with the reason,
//! and his post leaves Amel's board. In English: Amel's page says the same; Chloé steps
//! down, which now waits for a second steward (both pages list it), and stepping down
//! again shows the node's refusal above the page.
//!
//! Then, without a browser: an exclusion sent without the page's form token, with a wrong
//! one, from another site, or unconfirmed changes nothing; a member who is not a steward
//! is told only a steward can do it.
//!
//! Reports, in a community of their own (an exclusion moves a community to a new secret):
//! a report sent without the form token, with a wrong one or from another site is refused
//! and never reaches the steward, an empty reason is refused with the page's words, and
//! Xavier's page offers no report of his own post. Then at 360 px, in French and in
//! English: Amel opens "Report to the stewards" on Xavier's post, says why and sees the
//! notice; Chloé, the steward, reads it on `/stewards` (the post linked, its author, the
//! reporter, the reason); Amel's `/stewards` shows no reports. Chloé's `reports --json`
//! then holds exactly the two reports sent from the page.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots go to the folder printed as `screenshots: …`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use entraide_tests::browser::{self, Browser, Driver, poll};
use entraide_tests::harness::Ran;
use entraide_tests::{LOOPBACK, Page, TestNode, community, find_post, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);
const XAVIER_TITLE: &str = "Vends des cartes de fidélité";
const REASON: &str = "Messages insultants répétés envers les voisins";

tests_main!(
    stewards_appoint_and_exclude_by_clicking_at_360_px_in_french_and_english,
    an_exclusion_without_the_page_token_or_by_a_member_changes_nothing,
    a_member_reports_a_post_and_only_the_steward_reads_it_at_360_px,
);

/// The community's nodes, in the order named, connected to the first; the last one's post.
struct Community {
    nodes: Vec<TestNode>,
    ids: Vec<String>,
    post: String,
}

impl Community {
    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- {} ---\n{}", n.name, n.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `names` as a community (the first founds it), every node up and connected to the
/// first, and a post by the last one that every node holds.
fn start(names: &[&str]) -> Community {
    let mut nodes = community(BIN, names).expect("a community");
    nodes[0].up(LOOPBACK).expect("the founder's node up");
    let first = nodes[0].address().expect("the founder's address");
    for n in &mut nodes[1..] {
        let mut args = LOOPBACK.to_vec();
        args.extend(["--peer", &first]);
        n.up(&args).expect("a node up");
    }
    let last = nodes.last().expect("a node");
    let post = last
        .post("offer", XAVIER_TITLE, "week", "Bât. B")
        .expect("the post");
    for n in &nodes {
        n.wait_board("the post", PATIENCE, |b| find_post(b, &post).is_some())
            .expect("the post on every node");
    }
    let ids = nodes
        .iter()
        .map(|n| {
            n.json(&["whoami", "--json"]).expect("whoami")["author"]
                .as_str()
                .expect("an author id")
                .to_owned()
        })
        .collect();
    Community { nodes, ids, post }
}

/// What one language says.
struct Words {
    lang: &'static str,
    rule_one: &'static str,
    rule_two: &'static str,
    not_steward: &'static str,
    you_are: &'static str,
    appointed: &'static str,
    excluded: &'static str,
    waiting: &'static str,
    already_said: &'static str,
    none_excluded: &'static str,
    by: &'static str,
}

const FRENCH: Words = Words {
    lang: "fr",
    rule_one: "Un seul intendant pour l'instant",
    rule_two: "Deux intendants doivent être d'accord",
    not_steward: "Seuls les intendants peuvent agir ici.",
    you_are: "Vous êtes l'un des intendants.",
    appointed: "C'est fait : le nouvel intendant est nommé.",
    excluded: "C'est fait : le membre est exclu.",
    waiting: "C'est noté : un second intendant doit être d'accord",
    already_said: "Vous l'avez déjà fait",
    none_excluded: "Personne n'est exclu.",
    by: "par",
};

const ENGLISH: Words = Words {
    lang: "en",
    rule_one: "One steward for now",
    rule_two: "Two stewards must agree",
    not_steward: "Only stewards can act here.",
    you_are: "You are one of the stewards.",
    appointed: "Done: the new steward is appointed.",
    excluded: "Done: the member is excluded.",
    waiting: "Noted: a second steward must agree",
    already_said: "You already did this",
    none_excluded: "Nobody is excluded.",
    by: "by",
};

/// A page just loaded, as a phone shows it in `w`'s language; a full screenshot named
/// `name` (`Browser::check_at_360`).
async fn at_360(b: &Browser, w: &Words, shots: &Path, name: &str) -> Result<()> {
    b.check_at_360(
        w.lang,
        &shots.join(format!("stewards-{name}-{}-360.png", w.lang)),
    )
    .await
}

/// Opens `/stewards` on the page at `url`.
async fn stewards(b: &Browser, url: &str) -> Result<()> {
    b.goto(&format!("{url}/stewards")).await?;
    b.wait_css("#stewards-list", PATIENCE).await?;
    Ok(())
}

/// The steward forms on the page shown.
async fn forms(b: &Browser) -> Result<usize> {
    let n = b
        .js(
            "return document.querySelectorAll('form[action^=\"/stewards/\"]').length;",
            vec![],
        )
        .await?;
    Ok(usize::try_from(n.as_u64().unwrap_or(0)).unwrap_or(0))
}

/// The stewards listed, by author id.
async fn listed(b: &Browser) -> Result<Vec<String>> {
    let v = b
        .js(
            "return [...document.querySelectorAll('#stewards-list li.steward')]\
             .map(e => e.dataset.author);",
            vec![],
        )
        .await?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Clicks the button matching `css` and waits for the notice the page then shows,
/// different from what it said before.
async fn click_for_notice(b: &Browser, css: &str) -> Result<String> {
    // The page before the click may show the last act's notice: only the new page counts.
    b.mark().await?;
    b.one(css).await?.click().await?;
    poll("the page's notice", PATIENCE, async || {
        // An error here is the page changing under us: ask again.
        if b.marked().await.unwrap_or(true) {
            return Ok(None);
        }
        Ok(match b.find_css("#stewards-notice").await? {
            Some(e) => Some(e.text().await?),
            None => None,
        })
    })
    .await
}

fn stewards_appoint_and_exclude_by_clicking_at_360_px_in_french_and_english() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let started = Instant::now();
    let c = start(&["Chloé", "Amel", "Xavier"]);
    eprintln!("three nodes and a post in {:?}", started.elapsed());
    let (chloe_url, amel_url) = (
        c.nodes[0].ui_url().expect("Chloé's page"),
        c.nodes[1].ui_url().expect("Amel's page"),
    );
    let (chloe_in, amel_in) = (
        c.nodes[0].signin_url().expect("a sign-in address"),
        c.nodes[1].signin_url().expect("a sign-in address"),
    );
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start().expect("chromedriver");
    let failure = shots.join("stewards-failure.png");
    // One browser signed in to both pages (each port has its own session cookie), as two
    // neighbours' phones would be.
    let result = browser::run_session(&driver, "Chloé and Amel", &failure, async |b| {
        for signin in [&chloe_in, &amel_in] {
            b.goto(signin).await?;
            b.wait_css("main#main", PATIENCE).await?;
        }
        french(b, &chloe_url, &amel_url, &c, &shots).await?;
        english(b, &chloe_url, &amel_url, &c, &shots).await
    });
    if let Err(e) = result {
        panic!("{e:?}\n\n{}", c.logs());
    }
    // The CLI agrees with what the page did.
    let view = c.nodes[1].json(&["stewards", "--json"]).expect("stewards");
    assert_eq!(view["stewards"].as_array().map(Vec::len), Some(2), "{view}");
    assert_eq!(view["excluded"][0]["member"]["author"], c.ids[2], "{view}");
    assert_eq!(view["excluded"][0]["by"][0]["reason"], REASON, "{view}");
    eprintln!("the browser test took {:?}", started.elapsed());
    Ran::Fully
}

async fn french(b: &Browser, chloe: &str, amel: &str, c: &Community, shots: &Path) -> Result<()> {
    let w = &FRENCH;
    let (chloe_id, amel_id, xavier_id) = (&c.ids[0], &c.ids[1], &c.ids[2]);
    b.goto(&format!("{amel}/lang/fr?back=/settings")).await?;

    // Amel, from her settings: Chloé the only steward, the founder, and no form.
    b.wait_css("#stewards-page-link", PATIENCE)
        .await?
        .click()
        .await?;
    b.wait_css("#stewards-list", PATIENCE).await?;
    ensure!(
        b.path().await? == "/stewards",
        "the link led to {}",
        b.path().await?
    );
    ensure!(
        listed(b).await? == [chloe_id.clone()],
        "the stewards listed: {:?}",
        listed(b).await?
    );
    let line = b.text("#stewards-list li.steward").await?;
    ensure!(line.contains("Chloé"), "the list says {line:?}");
    let founder = b.text("#founder").await?;
    ensure!(
        founder.contains("Chloé"),
        "the founder line says {founder:?}"
    );
    b.expect_attr("#rule", "data-required", "1").await?;
    ensure!(
        b.text("#rule").await?.starts_with(w.rule_one),
        "the rule says {:?}",
        b.text("#rule").await?
    );
    ensure!(
        b.text("#not-steward").await?.starts_with(w.not_steward),
        "no word for a member"
    );
    ensure!(
        forms(b).await? == 0,
        "Amel, not a steward, is offered forms"
    );
    ensure!(!b.exists("#acts").await?, "Amel sees the stewards' acts");
    ensure!(
        b.text("#excluded-none").await? == w.none_excluded,
        "someone is excluded already"
    );
    at_360(b, w, shots, "member").await?;

    // Chloé: the forms.
    stewards(b, chloe).await?;
    ensure!(
        b.text("#you-are-steward").await? == w.you_are,
        "Chloé is not told she is a steward"
    );
    ensure!(
        forms(b).await? == 4,
        "Chloé is offered {} forms",
        forms(b).await?
    );
    ensure!(
        !b.exists("#retire-form").await?,
        "a form to retire the only other steward: nobody"
    );
    for css in [
        "#appoint-form",
        "#exclude-form",
        "#vouch-form",
        "#step-down-form",
    ] {
        ensure!(
            b.exists(&format!("{css} input[name=csrf]")).await?,
            "{css} has no form token"
        );
    }
    at_360(b, w, shots, "steward").await?;

    // She appoints Amel: two stewards, and two must agree now.
    b.one("#f-appoint").await?.select_by_value(amel_id).await?;
    let notice = click_for_notice(b, "#appoint-form button[data-action=appoint]").await?;
    ensure!(notice == w.appointed, "the notice says {notice:?}");
    ensure!(
        b.url().await?.ends_with("/stewards?done=appointed"),
        "the appointment led to {}",
        b.url().await?
    );
    let mut now = listed(b).await?;
    now.sort();
    let mut want = vec![chloe_id.clone(), amel_id.clone()];
    want.sort();
    ensure!(now == want, "the stewards listed: {now:?}");
    b.expect_attr("#rule", "data-required", "2").await?;
    ensure!(
        b.text("#rule").await?.starts_with(w.rule_two),
        "the rule says {:?}",
        b.text("#rule").await?
    );
    ensure!(b.exists("#retire-form").await?, "no form to retire Amel");
    at_360(b, w, shots, "appointed").await?;

    // She excludes Xavier, saying why and ticking what it does.
    b.phone(360).await?;
    b.one("#f-exclude")
        .await?
        .select_by_value(xavier_id)
        .await?;
    b.type_into("#f-reason", REASON).await?;
    let warning = b.text("#exclude-consequences").await?;
    ensure!(
        warning.contains("quitteront le tableau de chaque membre")
            && warning.contains("sera refusé"),
        "the exclusion's warning says {warning:?}"
    );
    b.one("#f-confirm").await?.click().await?;
    let notice = click_for_notice(b, "#exclude-form button[data-action=exclude]").await?;
    ensure!(notice.starts_with(w.excluded), "the notice says {notice:?}");
    let xavier = format!(r#"#excluded-list li.excluded[data-author="{xavier_id}"]"#);
    let line = b.text(&xavier).await?;
    ensure!(
        line.contains("Xavier") && line.contains(REASON) && line.contains("Chloé"),
        "the exclusion says {line:?}"
    );
    ensure!(
        !b.exists(&format!("#f-exclude option[value=\"{xavier_id}\"]"))
            .await?,
        "Xavier is still offered to exclude"
    );
    at_360(b, w, shots, "excluded").await?;

    // Amel's page, once Chloé's statements reach her node: Xavier excluded, by Chloé,
    // for the reason; Amel is a steward now.
    poll("Xavier excluded on Amel's page", PATIENCE, async || {
        stewards(b, amel).await?;
        b.find_css(&xavier).await
    })
    .await?;
    let line = b.text(&xavier).await?;
    ensure!(
        line.contains("Xavier")
            && line.contains(REASON)
            && line.contains(&format!("{} Chloé", w.by)),
        "Amel's page says {line:?}"
    );
    ensure!(
        b.text("#you-are-steward").await? == w.you_are,
        "Amel is not told she is a steward"
    );
    at_360(b, w, shots, "member-sees-exclusion").await?;

    // His post leaves Amel's board.
    let card = format!(r#"ul#board li.card[data-post-id="{}"]"#, c.post);
    poll(
        "Xavier's post gone from Amel's board",
        PATIENCE,
        async || {
            b.goto(&format!("{amel}/")).await?;
            b.wait_css("main#main", PATIENCE).await?;
            Ok((!b.exists(&card).await?).then_some(()))
        },
    )
    .await?;
    let main = b.text("main#main").await?;
    ensure!(
        !main.contains(XAVIER_TITLE),
        "Amel's board still shows his post:\n{main}"
    );
    at_360(b, w, shots, "board").await?;
    Ok(())
}

async fn english(b: &Browser, chloe: &str, amel: &str, c: &Community, shots: &Path) -> Result<()> {
    let w = &ENGLISH;
    let (chloe_id, xavier_id) = (&c.ids[0], &c.ids[2]);
    b.goto(&format!("{amel}/lang/en?back=/stewards")).await?;
    b.wait_css("#stewards-list", PATIENCE).await?;

    // Amel's page in English: the same facts.
    let xavier = format!(r#"#excluded-list li.excluded[data-author="{xavier_id}"]"#);
    let line = b.text(&xavier).await?;
    ensure!(
        line.contains(REASON) && line.contains(&format!("{} Chloé", w.by)),
        "Amel's page says {line:?}"
    );
    ensure!(
        b.text("#rule").await?.starts_with(w.rule_two),
        "the rule says {:?}",
        b.text("#rule").await?
    );
    ensure!(
        b.text("#you-are-steward").await? == w.you_are,
        "Amel is not told she is a steward"
    );
    at_360(b, w, shots, "member-sees-exclusion").await?;

    // Chloé steps down: with two stewards, it waits for the second.
    stewards(b, chloe).await?;
    b.phone(360).await?;
    let notice = click_for_notice(b, "#step-down-form button[data-action=step-down]").await?;
    ensure!(notice.starts_with(w.waiting), "the notice says {notice:?}");
    let proposal =
        format!(r#"#waiting-list li.proposal[data-what="retire"][data-author="{chloe_id}"]"#);
    let line = b.text(&proposal).await?;
    ensure!(line.contains("Chloé"), "the proposal says {line:?}");
    ensure!(listed(b).await?.len() == 2, "Chloé left at once");
    at_360(b, w, shots, "waiting").await?;

    // Again: the node's refusal, above the page.
    b.one("#step-down-form button[data-action=step-down]")
        .await?
        .click()
        .await?;
    let error = b
        .wait_css("#stewards-error", PATIENCE)
        .await?
        .text()
        .await?;
    ensure!(
        error.starts_with(w.already_said),
        "the refusal says {error:?}"
    );
    ensure!(
        !b.exists("#stewards-notice").await?,
        "a notice with the refusal"
    );
    at_360(b, w, shots, "refused").await?;

    // Amel's page lists what waits for her.
    poll("the proposal on Amel's page", PATIENCE, async || {
        stewards(b, amel).await?;
        b.find_css(&proposal).await
    })
    .await?;
    at_360(b, w, shots, "member-sees-waiting").await?;
    Ok(())
}

fn an_exclusion_without_the_page_token_or_by_a_member_changes_nothing() -> Ran {
    let c = start(&["Chloé", "Xavier"]);
    let (chloe, xavier) = (&c.nodes[0], &c.nodes[1]);
    let xavier_id = c.ids[1].clone();
    let page = chloe.page().expect("Chloé's page");
    let token = page.csrf("/settings").expect("a form token");
    let excluded = || {
        chloe.json(&["stewards", "--json"]).expect("stewards")["excluded"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(usize::MAX)
    };
    let send = |fields: Vec<(&str, String)>| {
        page.post("/stewards/exclude")
            .send_form(fields)
            .expect("an answer")
            .status()
            .as_u16()
    };
    let fields = |csrf: Option<String>, confirm: bool| {
        let mut f = vec![("who", xavier_id.clone()), ("reason", REASON.to_owned())];
        if let Some(t) = csrf {
            f.push(("csrf", t));
        }
        if confirm {
            f.push(("confirm", "1".to_owned()));
        }
        f
    };

    for (what, f) in [
        ("no token", fields(None, true)),
        ("an empty token", fields(Some(String::new()), true)),
        ("a wrong token", fields(Some(format!("{token}x")), true)),
    ] {
        assert_eq!(send(f), 403, "an exclusion with {what}");
    }
    // From another site, even with the right token.
    let r = Page::agent()
        .post(format!("{}/stewards/exclude", page.base))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form(fields(Some(token.clone()), true))
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 403, "an exclusion from another site");
    // Without ticking what it does: the page says so.
    let mut r = page
        .post("/stewards/exclude")
        .header("Accept-Language", "en")
        .send_form(fields(Some(token.clone()), false))
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 422, "an unconfirmed exclusion");
    let body = r.body_mut().read_to_string().unwrap_or_default();
    assert!(
        body.contains("Tick the box to confirm the exclusion."),
        "{body}"
    );
    assert!(body.contains(REASON), "the reason typed is lost:\n{body}");
    assert_eq!(excluded(), 0, "Xavier was excluded");
    let board = chloe.board().expect("board");
    assert!(
        find_post(&board, &c.post).is_some(),
        "his post left the board"
    );

    // Xavier, not a steward, tries to exclude Chloé from his own page.
    let his = xavier.page().expect("Xavier's page");
    let his_token = his.csrf("/settings").expect("his form token");
    let mut r = his
        .post("/stewards/exclude")
        .header("Accept-Language", "en")
        .send_form([
            ("csrf", his_token.as_str()),
            ("who", c.ids[0].as_str()),
            ("reason", "no"),
            ("confirm", "1"),
        ])
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 422, "a member's exclusion");
    let body = r.body_mut().read_to_string().unwrap_or_default();
    assert!(body.contains("Only a steward can do this."), "{body}");
    let his_view = xavier.json(&["stewards", "--json"]).expect("stewards");
    assert_eq!(his_view["excluded"], Value::Array(vec![]), "{his_view}");

    // With the page's token and the box ticked it works: the refusals above were theirs.
    let r = page
        .post("/stewards/exclude")
        .send_form(fields(Some(token.clone()), true))
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 303, "an exclusion with the token");
    assert_eq!(
        entraide_tests::header_of(&r, "location"),
        "/stewards?done=excluded"
    );
    assert_eq!(excluded(), 1, "Xavier is not excluded");
    Ran::Fully
}

/// What one language says about reports.
struct ReportWords {
    lang: &'static str,
    summary: &'static str,
    private: &'static str,
    reported: &'static str,
    reason: &'static str,
    reporter: &'static str,
}

const REPORT_FRENCH: ReportWords = ReportWords {
    lang: "fr",
    summary: "Signaler aux intendants",
    private: "Seuls les intendants de la communauté lisent votre signalement. L'auteur de l'annonce n'est pas prévenu.",
    reported: "Signalé : seuls les intendants le lisent.",
    reason: "Il revend des cartes de fidélité volées, ce n'est pas de l'entraide",
    reporter: "signalée par Amel",
};

const REPORT_ENGLISH: ReportWords = ReportWords {
    lang: "en",
    summary: "Report to the stewards",
    private: "Only the community's stewards read your report. The post's author is not told.",
    reported: "Reported: only the stewards read it.",
    reason: "Selling stolen loyalty cards is not mutual aid",
    reporter: "reported by Amel",
};

/// The reason of the reports the page must refuse.
const REFUSED_REASON: &str = "sent without the page's own form";

/// The texts of the reports on the `/stewards` page shown, in order.
async fn report_lines(b: &Browser) -> Result<Vec<String>> {
    let v = b
        .js(
            "return [...document.querySelectorAll('#reports-list li.report-item')]\
             .map(e => e.innerText);",
            vec![],
        )
        .await?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn a_member_reports_a_post_and_only_the_steward_reads_it_at_360_px() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let started = Instant::now();
    let c = start(&["Chloé", "Amel", "Xavier"]);
    eprintln!("three nodes and a post in {:?}", started.elapsed());
    let (chloe, amel, xavier) = (&c.nodes[0], &c.nodes[1], &c.nodes[2]);
    let reports = || chloe.json(&["reports", "--json"]).expect("Chloé's reports");

    // Without a browser: what the page must refuse.
    let page = amel.page().expect("Amel's page");
    let post_path = format!("/posts/{}", c.post);
    let report_path = format!("{post_path}/report");
    let token = page.csrf(&post_path).expect("a form token");
    let send = |csrf: Option<&str>, reason: &str| {
        let mut f = vec![("reason", reason.to_owned())];
        if let Some(t) = csrf {
            f.push(("csrf", t.to_owned()));
        }
        page.post(&report_path)
            .header("Accept-Language", "en")
            .send_form(f)
            .expect("an answer")
    };
    for (what, csrf) in [
        ("no token", None),
        ("an empty token", Some(String::new())),
        ("a wrong token", Some(format!("{token}x"))),
    ] {
        let r = send(csrf.as_deref(), REFUSED_REASON);
        assert_eq!(r.status().as_u16(), 403, "a report with {what}");
    }
    let r = Page::agent()
        .post(format!("{}{report_path}", page.base))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form([("csrf", token.as_str()), ("reason", REFUSED_REASON)])
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 403, "a report from another site");
    // An empty reason: the node's refusal on the post, its form open.
    let mut r = send(Some(&token), "   ");
    assert_eq!(r.status().as_u16(), 422, "a report without a reason");
    let body = r.body_mut().read_to_string().unwrap_or_default();
    assert!(
        body.contains("Say why you report this post: only the stewards read it."),
        "{body}"
    );
    assert!(
        body.contains(r#"<details id="report" class="report" open>"#),
        "{body}"
    );
    // Xavier's own post: nothing to report.
    let (_, his) = xavier
        .page()
        .expect("Xavier's page")
        .fetch(&post_path)
        .expect("his post");
    assert!(his.contains(r#"id="post""#), "{his}");
    assert!(
        !his.contains("report-form"),
        "a report form on his own post"
    );

    let (chloe_url, amel_url) = (
        chloe.ui_url().expect("Chloé's page"),
        amel.ui_url().expect("Amel's page"),
    );
    let (chloe_in, amel_in) = (
        chloe.signin_url().expect("a sign-in address"),
        amel.signin_url().expect("a sign-in address"),
    );
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start().expect("chromedriver");
    let failure = shots.join("stewards-report-failure.png");
    let browsing = Instant::now();
    let result = browser::run_session(&driver, "Amel and Chloé", &failure, async |b| {
        for signin in [&chloe_in, &amel_in] {
            b.goto(signin).await?;
            b.wait_css("main#main", PATIENCE).await?;
        }
        for (w, sw) in [(&REPORT_FRENCH, &FRENCH), (&REPORT_ENGLISH, &ENGLISH)] {
            report_in(b, w, sw, &chloe_url, &amel_url, &c, &shots).await?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e:?}\n\n{}", c.logs());
    }
    eprintln!("the reports in the browser took {:?}", browsing.elapsed());

    // The CLI agrees: the two reports sent from the page, newest first; none of the
    // refused ones (sent before them in Amel's feed) arrived.
    let got = reports();
    let got = got.as_array().expect("a list");
    let reasons: Vec<_> = got.iter().map(|r| r["reason"].as_str()).collect();
    assert_eq!(
        reasons,
        [Some(REPORT_ENGLISH.reason), Some(REPORT_FRENCH.reason)],
        "{got:?}"
    );
    for r in got {
        assert_eq!(r["reporter"]["author"], c.ids[1], "{r}");
        assert_eq!(r["author"]["author"], c.ids[2], "{r}");
        assert_eq!(r["post"], c.post, "{r}");
        assert_eq!(r["title"], XAVIER_TITLE, "{r}");
    }
    // Amel, not a steward, reads none.
    let out = amel.run(&["reports", "--json"]);
    assert!(!out.status.success(), "Amel read the reports");
    eprintln!("the report test took {:?}", started.elapsed());
    Ran::Fully
}

/// In `w`'s language: Amel reports Xavier's post from its page, Chloé reads it on
/// `/stewards`, Amel's `/stewards` shows no reports.
async fn report_in(
    b: &Browser,
    w: &ReportWords,
    sw: &Words,
    chloe: &str,
    amel: &str,
    c: &Community,
    shots: &Path,
) -> Result<()> {
    let post_path = format!("/posts/{}", c.post);
    b.goto(&format!("{amel}/lang/{}?back={post_path}", w.lang))
        .await?;
    b.wait_css("#post", PATIENCE).await?;
    b.phone(360).await?;

    // Folded: one line under the post.
    let summary = b.text("#report summary").await?;
    ensure!(
        summary == w.summary,
        "the report's summary says {summary:?}"
    );
    let open = b
        .js("return document.querySelector('#report').open;", vec![])
        .await?;
    ensure!(open == Value::Bool(false), "the report form is open");
    b.one("#report summary").await?.click().await?;
    let hint = b.text("#hint-report").await?;
    ensure!(hint == w.private, "the report's hint says {hint:?}");
    ensure!(
        b.exists("#report-form input[name=csrf]").await?,
        "the report form has no form token"
    );
    b.type_into("#f-report", w.reason).await?;
    at_360(b, sw, shots, "report-form").await?;
    b.one("#report-form button[data-action=report]")
        .await?
        .click()
        .await?;
    let notice = b.wait_css("#post-notice", PATIENCE).await?.text().await?;
    ensure!(notice == w.reported, "the notice says {notice:?}");
    ensure!(
        b.path().await? == post_path,
        "the report led to {}",
        b.url().await?
    );
    ensure!(!b.exists("#post-error").await?, "an error with the notice");
    at_360(b, sw, shots, "reported").await?;

    // Chloé reads it, newest first: the post linked, its author, Amel, the reason.
    let lines = poll("the report on Chloé's page", PATIENCE, async || {
        stewards(b, chloe).await?;
        let lines = report_lines(b).await?;
        Ok(lines
            .first()
            .is_some_and(|l| l.contains(w.reason))
            .then_some(lines))
    })
    .await?;
    let line = &lines[0];
    ensure!(
        line.contains(XAVIER_TITLE) && line.contains("Xavier") && line.contains(w.reporter),
        "Chloé's page says {line:?}"
    );
    let link = b.attr("#reports-list li.report-item a", "href").await?;
    ensure!(
        link.as_deref() == Some(post_path.as_str()),
        "the report links to {link:?}"
    );
    ensure!(
        !lines.iter().any(|l| l.contains(REFUSED_REASON)),
        "a refused report arrived: {lines:?}"
    );
    at_360(b, sw, shots, "steward-reads-report").await?;

    // Amel's page: no reports at all.
    stewards(b, amel).await?;
    ensure!(!b.exists("#reports").await?, "Amel sees a reports section");
    let text = b.body_text().await?;
    ensure!(
        !text.contains(w.reason),
        "Amel's stewards page shows the reason"
    );
    ensure!(
        b.text("#not-steward").await?.starts_with(sw.not_steward),
        "Amel is not told she is no steward"
    );
    Ok(())
}

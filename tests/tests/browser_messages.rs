//! The private conversation on a post (issue 15), in a real headless Chromium at 360 px:
//! Marie, Karim and Chloé are three members on loopback; Marie posts two requests from the
//! command line, Karim responds to both and Chloé to the second. In French, Marie opens her
//! first post: its "Messages privés" section says there is no message yet; she sends a
//! door code and a phone number, which shows as hers ("vous") and which Karim's node reads;
//! Karim answers from the command line and, after a reload, his answer shows under hers
//! with his name. An empty field is not sent, and blanks or a text over the node's limit
//! are refused with the French reason, sending nothing. Chloé's node holds and relays
//! everything and reads nothing, and her page neither shows the conversation nor lets her
//! write in it. Marie marks the post done by its button: the form goes, "Supprimer la
//! conversation" comes, and a click deletes the conversation on both nodes. In English, on
//! her second post, she chooses whom she writes to ("To": Karim or Chloé), and each reads
//! only the message to them. Then, without a browser: a message sent without the page's
//! form token, with a wrong one, or from another site is refused and sends nothing.
//!
//! Needs Chromium and chromedriver (reported as ignored without them, except under
//! CI=true). Screenshots go to the folder printed as `screenshots: …`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use entraide_tests::browser::{self, Browser, Driver, poll};
use entraide_tests::harness::Ran;
use entraide_tests::{
    LOOPBACK, Page, TestNode, community, find_post, responders, skip_unless, tests_main,
};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);
const FIRST_TITLE: &str = "Monter les courses au 4e";
const SECOND_TITLE: &str = "Arroser les plantes en août";
const DOOR_AND_PHONE: &str = "Code 4512B, appelez le 06 12 34 56 78";
const KARIM_ANSWERS: &str = "D'accord, je sonne à 18 h";
const TO_CHLOE: &str = "Could you water them on Tuesday? Karim does the weekend";
/// With a long unbroken link: the conversation must still fit 360 px (it once made the
/// page 609 px wide).
const IN_ENGLISH: &str = "The watering can is behind the door: https://www.openstreetmap.org/?mlat=48.85837&mlon=2.29448#map=19/48.85837/2.29448";

tests_main!(
    a_private_conversation_is_held_and_deleted_by_clicking_at_360_px_in_french_and_english,
    a_message_without_the_page_token_sends_nothing,
);

/// Members on loopback, connected (each to Marie), Marie and Karim first: Marie's posts,
/// each with Karim's response, on Marie's node; their author ids.
struct Members {
    nodes: Vec<TestNode>,
    posts: Vec<String>,
    marie: String,
    karim: String,
}

impl Members {
    fn marie(&self) -> &TestNode {
        &self.nodes[0]
    }

    fn karim(&self) -> &TestNode {
        &self.nodes[1]
    }

    fn chloe(&self) -> &TestNode {
        &self.nodes[2]
    }

    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- {}'s node log ---\n{}\n", n.name, n.log_tail()))
            .collect()
    }
}

fn author_of(node: &TestNode) -> String {
    node.json(&["whoami", "--json"]).expect("whoami")["author"]
        .as_str()
        .expect("an author id")
        .to_owned()
}

/// `names` (Marie and Karim first) up and connected; Marie posts `titles`, Karim responds
/// to each, and Marie's node has the responses.
fn members(names: &[&str], titles: &[&str]) -> Members {
    let mut nodes = community(BIN, names).expect("a community");
    nodes[0].up(LOOPBACK).expect("Marie's node up");
    let marie_addr = nodes[0].address().expect("Marie's address");
    for n in &mut nodes[1..] {
        let mut args = LOOPBACK.to_vec();
        args.extend(["--peer", &marie_addr]);
        n.up(&args).expect("a node up");
    }
    let (marie, karim) = (&nodes[0], &nodes[1]);
    let posts: Vec<String> = titles
        .iter()
        .map(|t| marie.post("request", t, "today", "Bât. A").expect("a post"))
        .collect();
    karim
        .wait_board("Marie's posts", PATIENCE, |b| {
            posts.iter().all(|p| find_post(b, p).is_some())
        })
        .expect("Marie's posts on Karim's node");
    for p in &posts {
        karim
            .ok(&["respond", p, "--message", "Je peux passer"])
            .expect("Karim responds");
    }
    marie
        .wait_board("Karim's responses", PATIENCE, |b| {
            posts.iter().all(|p| responders(b, p) == ["Karim"])
        })
        .expect("Karim's responses on Marie's node");
    let (marie_id, karim_id) = (author_of(marie), author_of(karim));
    Members {
        nodes,
        posts,
        marie: marie_id,
        karim: karim_id,
    }
}

/// What `entraide messages POST --json` lists on `node`: `(from_name, text)`, oldest first.
fn messages(node: &TestNode, post: &str) -> Result<Vec<(String, String)>> {
    let list = node.json(&["messages", post, "--json"])?;
    let Some(list) = list.as_array() else {
        bail!("{}: `messages --json` is not a list: {list}", node.name);
    };
    Ok(list
        .iter()
        .map(|m| {
            (
                m["from_name"].as_str().unwrap_or("").to_owned(),
                m["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

fn said(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(w, t)| (w.to_string(), t.to_string()))
        .collect()
}

/// Waits until `node` lists exactly `want` about `post`.
async fn wait_messages(node: &TestNode, post: &str, want: &[(&str, &str)]) -> Result<()> {
    let want = said(want);
    let what = format!("{} lists {want:?}", node.name);
    let mut last = Vec::new();
    let got = poll(&what, PATIENCE, async || {
        last = messages(node, post)?;
        Ok((last == want).then_some(()))
    })
    .await;
    got.map_err(|e| e.context(format!("{} lists {last:?}", node.name)))
}

fn board_digest(node: &TestNode) -> Result<Value> {
    Ok(node.json(&["status", "--json"])?["board_digest"].clone())
}

/// What one language says, for the same steps.
struct Words {
    lang: &'static str,
    title: &'static str,
    intro: &'static str,
    none: &'static str,
    field: &'static str,
    to: &'static str,
    send: &'static str,
    you: &'static str,
    empty: &'static str,
    too_long: &'static str,
}

const FRENCH: Words = Words {
    lang: "fr",
    title: "Messages privés",
    intro: "Lisibles par vous deux seulement",
    none: "Aucun message pour l'instant.",
    field: "Votre message",
    to: "À",
    send: "Envoyer",
    you: "vous",
    empty: "Le message est vide.",
    too_long: "Le message est trop long : 1000 caractères au plus (moins avec des émojis).",
};

const ENGLISH: Words = Words {
    lang: "en",
    title: "Private messages",
    intro: "Readable by the two of you only",
    none: "No message yet.",
    field: "Your message",
    to: "To",
    send: "Send",
    you: "you",
    empty: "The message is empty.",
    too_long: "The message is too long: at most 1000 characters (fewer with emoji).",
};

fn a_private_conversation_is_held_and_deleted_by_clicking_at_360_px_in_french_and_english() -> Ran {
    let why = browser::unavailable();
    skip_unless!(why.is_none(), why.clone().unwrap_or_default());
    let started = Instant::now();
    let m = members(&["Marie", "Karim", "Chloé"], &[FIRST_TITLE, SECOND_TITLE]);
    // Chloé responds to the second post too: Marie then chooses whom she writes to.
    let second = m.posts[1].clone();
    m.chloe()
        .wait_board("Marie's second post", PATIENCE, |b| {
            find_post(b, &second).is_some()
        })
        .expect("Marie's second post on Chloé's node");
    m.chloe()
        .ok(&["respond", &second, "--message", "Moi en semaine"])
        .expect("Chloé responds");
    m.marie()
        .wait_board("Chloé's response", PATIENCE, |b| {
            responders(b, &second).len() == 2
        })
        .expect("Chloé's response on Marie's node");
    eprintln!(
        "three nodes, two posts and three responses in {:?}",
        started.elapsed()
    );
    let url = m.marie().ui_url().expect("Marie's page");
    let signin = m.marie().signin_url().expect("a sign-in address");
    let shots = browser::screenshot_dir();
    println!("screenshots: {}", shots.display());
    let driver = Driver::start().expect("chromedriver");
    let failure = shots.join("messages-failure.png");
    let result = browser::run_session(&driver, "Marie", &failure, async |b| {
        b.goto(&signin).await?;
        b.wait_css("main#main", PATIENCE).await?;
        french(b, &url, &m, &shots).await?;
        english(b, &url, &m, &shots).await
    });
    if let Err(e) = result {
        panic!("{e:?}\n\n{}", m.logs());
    }
    eprintln!("the browser test took {:?}", started.elapsed());
    Ran::Fully
}

/// A page just loaded, as a phone shows it in `w`'s language; a full screenshot named
/// `name` (`Browser::check_at_360`).
async fn at_360(b: &Browser, w: &Words, shots: &Path, name: &str) -> Result<()> {
    b.check_at_360(
        w.lang,
        &shots.join(format!("messages-{name}-{}-360.png", w.lang)),
    )
    .await
}

/// Fails unless the button matching `css` says `label` and is big enough to tap.
async fn button_says(b: &Browser, css: &str, label: &str) -> Result<()> {
    let said = text(b, css).await?;
    ensure!(said == label, "`{css}` says {said:?}, not {label:?}");
    let height = b
        .js(
            "return document.querySelector(arguments[0]).getBoundingClientRect().height;",
            vec![Value::from(css)],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    ensure!(height >= 44.0, "`{css}` is {height} px high");
    Ok(())
}

/// Opens a post's page, which must show the post.
async fn post_page(b: &Browser, url: &str, id: &str) -> Result<()> {
    b.goto(&format!("{url}/posts/{id}")).await?;
    b.wait_css(&format!(r#"article#post[data-post-id="{id}"]"#), PATIENCE)
        .await?;
    Ok(())
}

/// The visible text of the element matching `css`, read in one go: the page's live update
/// (cli/assets/app.js) may swap `<main>` between two WebDriver calls.
async fn text(b: &Browser, css: &str) -> Result<String> {
    let v = b
        .js(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
            vec![Value::from(css)],
        )
        .await?;
    match v.as_str() {
        Some(t) => Ok(t.trim().to_owned()),
        None => bail!("no element `{css}` on the page\n{}", b.snapshot().await),
    }
}

/// An attribute of the element matching `css`, read in one go (see [`text`]).
async fn attr(b: &Browser, css: &str, name: &str) -> Result<Option<String>> {
    let v = b
        .js(
            "const e = document.querySelector(arguments[0]); \
             return e ? [e.getAttribute(arguments[1])] : null;",
            vec![Value::from(css), Value::from(name)],
        )
        .await?;
    match v.as_array() {
        Some(a) => Ok(a[0].as_str().map(str::to_owned)),
        None => bail!("no element `{css}` on the page\n{}", b.snapshot().await),
    }
}

/// The messages shown: `(data-from, who, text)` of each `li.private-message`.
async fn shown(b: &Browser) -> Result<Vec<(String, String, String)>> {
    let v = b
        .js(
            "return [...document.querySelectorAll('#conversation li.private-message')].map(li => \
             [li.dataset.from, li.querySelector('strong').innerText, \
             li.querySelector('p.message').innerText]);",
            vec![],
        )
        .await?;
    Ok(v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let s = |i: usize| m[i].as_str().unwrap_or("").to_owned();
            (s(0), s(1), s(2))
        })
        .collect())
}

/// The conversation section of a live post the viewer is a party of, with no message yet:
/// its words in `w`, an empty form to write, its form token, and a choice of `helpers`
/// (`(author id, name)`) if there are two or more.
async fn empty_conversation(
    b: &Browser,
    w: &Words,
    id: &str,
    helpers: &[(&str, &str)],
) -> Result<()> {
    let h2 = text(b, "#conversation h2#conversation-h").await?;
    ensure!(h2 == w.title, "the section is called {h2:?}");
    let intro = text(b, "#conversation p.hint").await?;
    ensure!(intro.starts_with(w.intro), "the section's hint: {intro:?}");
    let none = text(b, "#conversation #no-messages").await?;
    ensure!(none == w.none, "the empty conversation says {none:?}");
    ensure!(!b.exists("#messages").await?, "a list with no message");
    let action = attr(b, "#message-form", "action").await?;
    ensure!(
        action.as_deref() == Some(format!("/posts/{id}/message").as_str()),
        "the form posts to {action:?}"
    );
    ensure!(
        b.exists("#message-form input[name=csrf]").await?,
        "the form has no form token"
    );
    if helpers.len() < 2 {
        ensure!(
            !b.exists("#f-to").await?,
            "a choice of helper with a single helper"
        );
    } else {
        let label = text(b, "label[for=f-to]").await?;
        ensure!(label == w.to, "the choice is labelled {label:?}");
        let name = attr(b, "#f-to", "name").await?;
        ensure!(
            name.as_deref() == Some("helper"),
            "the choice is named {name:?}"
        );
        let options = b
            .js(
                "return [...document.querySelectorAll('#f-to option')]\
                 .map(o => [o.value, o.innerText]);",
                vec![],
            )
            .await?;
        let options: Vec<(String, String)> = options
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|o| {
                let s = |i: usize| o[i].as_str().unwrap_or("").to_owned();
                (s(0), s(1))
            })
            .collect();
        ensure!(
            options.len() == helpers.len()
                && helpers.iter().all(|(author, name)| options
                    .iter()
                    .any(|(v, t)| v == author && t.starts_with(name))),
            "the choice of helpers: {options:?}"
        );
    }
    let label = text(b, "label[for=f-private]").await?;
    ensure!(label == w.field, "the field is labelled {label:?}");
    let name = attr(b, "#f-private", "name").await?;
    ensure!(
        name.as_deref() == Some("message"),
        "the field is named {name:?}"
    );
    button_says(b, SEND, w.send).await?;
    ensure!(
        !b.exists("#delete-conversation").await?,
        "a delete button on a live post"
    );
    Ok(())
}

const SEND: &str = "#message-form button[data-action=send-message]";

/// Whether `e` is WebDriver's "stale element": the page's live update (cli/assets/app.js)
/// swapped `<main>` between finding an element and using it.
fn stale(e: &anyhow::Error) -> bool {
    format!("{e:#}").contains("stale element")
}

/// Runs `act` again while it fails on a stale element (nothing was clicked then), at most
/// five times.
async fn again_if_stale(what: &str, mut act: impl AsyncFnMut() -> Result<()>) -> Result<()> {
    for _ in 0..5 {
        match act().await {
            Err(e) if stale(&e) => tokio::time::sleep(Duration::from_millis(200)).await,
            done => return done,
        }
    }
    act().await.context(what.to_owned())
}

/// Clicks the element matching `css`.
async fn click(b: &Browser, css: &str) -> Result<()> {
    again_if_stale(css, async || {
        b.one(css).await?.click().await?;
        Ok(())
    })
    .await
}

/// Chooses the helper `to` (their author id) if given, types `text` in the conversation's
/// field (cleared first) and clicks "send".
async fn type_and_send(b: &Browser, text: &str, to: Option<&str>) -> Result<()> {
    again_if_stale("type and send", async || {
        if let Some(to) = to {
            b.one("#f-to").await?.select_by_value(to).await?;
        }
        b.type_into("#f-private", text).await?;
        b.one(SEND).await?.click().await?;
        Ok(())
    })
    .await
}

/// Types `text` in the conversation's field and sends it (to the helper `to`, if given):
/// the post's page again, its last message `text` from "you".
async fn send(
    b: &Browser,
    w: &Words,
    m: &Members,
    id: &str,
    text: &str,
    to: Option<&str>,
) -> Result<()> {
    let before = shown(b).await?.len();
    type_and_send(b, text, to).await?;
    let list = poll("the message on the page", PATIENCE, async || {
        let list = shown(b).await?;
        Ok((list.len() > before).then_some(list))
    })
    .await?;
    ensure!(
        b.path().await? == format!("/posts/{id}"),
        "sending led to {}",
        b.url().await?
    );
    ensure!(list.len() == before + 1, "shown: {list:?}");
    let last = list.last().cloned().unwrap_or_default();
    ensure!(
        last == (m.marie.clone(), w.you.to_owned(), text.to_owned()),
        "the message shows as {last:?}"
    );
    ensure!(
        !b.exists("#no-messages").await?,
        "\"no message\" next to a message"
    );
    let field = b
        .js("return document.querySelector('#f-private').value;", vec![])
        .await?;
    let field = field.as_str().unwrap_or("?");
    ensure!(field.is_empty(), "the field still holds {field:?}");
    Ok(())
}

/// What a node lists about a post: `(node, [(from_name, text)])`.
type Lists<'a> = [(&'a TestNode, &'a [(&'a str, &'a str)])];

/// Refused messages (none, blanks, too long): the post's page again with the reason above
/// it, and nothing sent (the page shows what it showed, the nodes list what `lists` says).
async fn refusals(b: &Browser, w: &Words, id: &str, lists: &Lists<'_>, shots: &Path) -> Result<()> {
    let shown_before = shown(b).await?;
    // An empty field is not even sent: the browser asks for it to be filled.
    b.mark().await?;
    type_and_send(b, "", None).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(b.marked().await?, "an empty message was sent by the form");
    let missing = b
        .js(
            "return document.querySelector('#f-private').validity.valueMissing;",
            vec![],
        )
        .await?;
    ensure!(
        missing == Value::Bool(true),
        "the empty field is not missing"
    );

    // Blanks pass the browser, and the node refuses them.
    type_and_send(b, "   ", None).await?;
    b.wait_css("main#main .form-errors", PATIENCE).await?;
    let error = text(b, "main#main .form-errors").await?;
    ensure!(error == w.empty, "the refusal says {error:?}");
    b.wait_css(&format!(r#"article#post[data-post-id="{id}"]"#), PATIENCE)
        .await?;
    ensure!(
        shown(b).await? == shown_before,
        "the refused page shows {:?}",
        shown(b).await?
    );
    ensure!(
        b.exists("#message-form").await?,
        "no form on the refused page"
    );
    at_360(b, w, shots, "blank-refused").await?;

    // Within the field's 1000 characters but over the node's bytes (three bytes each, as
    // pasted): refused by the node, with its reason.
    let long = "€".repeat(950);
    b.mark().await?;
    again_if_stale("paste and send", async || {
        b.js(
            "document.querySelector('#f-private').value = arguments[0]; return null;",
            vec![Value::from(long.as_str())],
        )
        .await?;
        b.one(SEND).await?.click().await?;
        Ok(())
    })
    .await?;
    let error = poll("the refusal of a long message", PATIENCE, async || {
        if b.marked().await? {
            return Ok(None);
        }
        Ok(match b.find_css("main#main .form-errors").await? {
            Some(e) => Some(e.text().await?),
            None => None,
        })
    })
    .await?;
    ensure!(error == w.too_long, "the refusal says {error:?}");
    ensure!(
        shown(b).await? == shown_before,
        "the refused page shows {:?}",
        shown(b).await?
    );
    at_360(b, w, shots, "long-refused").await?;

    for (node, want) in lists {
        let want = said(want);
        let got = messages(node, id)?;
        ensure!(
            got == want,
            "{} lists {got:?} after the refusals",
            node.name
        );
    }
    Ok(())
}

async fn french(b: &Browser, url: &str, m: &Members, shots: &Path) -> Result<()> {
    let w = &FRENCH;
    let id = m.posts[0].as_str();
    let (marie, karim, chloe) = (m.marie(), m.karim(), m.chloe());
    b.goto(&format!("{url}/lang/fr?back=/")).await?;
    b.wait_css("main#main", PATIENCE).await?;

    // Her post, with Karim's response: the conversation, empty.
    post_page(b, url, id).await?;
    at_360(b, w, shots, "empty").await?;
    empty_conversation(b, w, id, &[(&m.karim, "Karim")]).await?;

    // A door code and a phone number, sent by a click: hers, on the page and on his node.
    send(b, w, m, id, DOOR_AND_PHONE, None).await?;
    at_360(b, w, shots, "sent").await?;
    wait_messages(karim, id, &[("Marie", DOOR_AND_PHONE)]).await?;

    // Karim answers (a second later: times are whole seconds); a reload shows it, his name
    // on it, under hers.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    karim.ok(&["message", id, "--text", KARIM_ANSWERS])?;
    let list = poll("Karim's answer on Marie's page", PATIENCE, async || {
        b.refresh().await?;
        b.wait_css("article#post", PATIENCE).await?;
        let list = shown(b).await?;
        Ok((list.len() == 2).then_some(list))
    })
    .await?;
    ensure!(
        list == [
            (m.marie.clone(), w.you.to_owned(), DOOR_AND_PHONE.to_owned()),
            (
                m.karim.clone(),
                "Karim".to_owned(),
                KARIM_ANSWERS.to_owned()
            ),
        ],
        "the conversation shows {list:?}"
    );
    let times = b
        .js(
            "return [...document.querySelectorAll('#messages li time')]\
             .map(t => t.getAttribute('datetime'));",
            vec![],
        )
        .await?;
    ensure!(
        times.as_array().is_some_and(
            |t| t.len() == 2 && t.iter().all(|t| t.as_str().is_some_and(|s| !s.is_empty()))
        ),
        "the messages' times: {times}"
    );
    at_360(b, w, shots, "answered").await?;
    let both = [("Marie", DOOR_AND_PHONE), ("Karim", KARIM_ANSWERS)];
    wait_messages(marie, id, &both).await?;

    // Blanks: refused in French, nothing sent.
    refusals(b, w, id, &[(marie, &both), (karim, &both)], shots).await?;

    // Chloé's node holds and relays both feeds and reads nothing; her page shows no
    // conversation.
    let mut digests = Vec::new();
    poll("Chloé's node catching up", PATIENCE, async || {
        digests = vec![board_digest(marie)?, board_digest(chloe)?];
        Ok((digests[0] == digests[1]).then_some(()))
    })
    .await
    .map_err(|e| e.context(format!("board digests {digests:?}")))?;
    let hers = messages(chloe, id)?;
    ensure!(hers.is_empty(), "Chloé lists {hers:?}");
    let (status, page) = chloe.page()?.fetch(&format!("/posts/{id}"))?;
    ensure!(status == 200, "Chloé's post page answered {status}");
    ensure!(
        page.contains(FIRST_TITLE) && !page.contains(r#"id="conversation""#),
        "Chloé's page shows a conversation:\n{page}"
    );
    ensure!(
        !page.contains("4512B") && !page.contains(KARIM_ANSWERS),
        "Chloé's page shows the messages"
    );
    // Her page refuses her a message on it, in French, and nothing is sent.
    let hers = chloe.page()?;
    let token = hers.csrf(&format!("/posts/{id}"))?;
    let mut r = hers
        .post(&format!("/posts/{id}/message"))
        .header("Accept-Language", "fr")
        .send_form([("csrf", token.as_str()), ("message", "Moi aussi")])?;
    let body = r.body_mut().read_to_string().unwrap_or_default();
    ensure!(
        r.status().as_u16() == 422
            && body.contains("Les messages privés se font entre")
            && !body.contains("4512B"),
        "Chloé's message answered {}:\n{body}",
        r.status()
    );
    ensure!(
        messages(chloe, id)?.is_empty(),
        "Chloé's node lists a message"
    );

    // Done by its button: no more writing; the conversation can be deleted.
    post_page(b, url, id).await?;
    b.phone(360).await?;
    click(b, "section.actions button[data-action=done]").await?;
    b.wait_css(
        &format!(r#"article#post[data-post-id="{id}"][data-status="done"]"#),
        PATIENCE,
    )
    .await?;
    ensure!(
        !b.exists("#message-form").await? && !b.exists("#f-private").await?,
        "a closed post still offers to write"
    );
    ensure!(
        shown(b).await?.len() == 2,
        "the closed post shows {:?}",
        shown(b).await?
    );
    let delete = "#delete-conversation button[data-action=delete-messages]";
    button_says(b, delete, "Supprimer la conversation").await?;
    let action = attr(b, "#delete-conversation", "action").await?;
    ensure!(
        action.as_deref() == Some(format!("/posts/{id}/delete-messages").as_str()),
        "the delete form posts to {action:?}"
    );
    ensure!(
        b.exists("#delete-conversation input[name=csrf]").await?,
        "the delete form has no form token"
    );
    let hint = text(b, "#delete-conversation p.hint").await?;
    ensure!(
        hint.contains("chez vous deux"),
        "the delete hint says {hint:?}"
    );
    at_360(b, w, shots, "closed").await?;

    // Deleted by a click: gone from the page and from both nodes.
    click(b, delete).await?;
    poll("the conversation leaving the page", PATIENCE, async || {
        Ok(
            (b.exists("article#post").await? && !b.exists("li.private-message").await?)
                .then_some(()),
        )
    })
    .await?;
    ensure!(
        b.path().await? == format!("/posts/{id}"),
        "deleting led to {}",
        b.url().await?
    );
    ensure!(
        !b.exists("#delete-conversation").await?,
        "a delete button with nothing to delete"
    );
    let main = text(b, "main#main").await?;
    ensure!(
        !main.contains("4512B") && !main.contains(KARIM_ANSWERS),
        "the page still shows the messages:\n{main}"
    );
    at_360(b, w, shots, "deleted").await?;
    let left = messages(marie, id)?;
    ensure!(left.is_empty(), "Marie's node lists {left:?}");
    wait_messages(karim, id, &[]).await?;
    Ok(())
}

async fn english(b: &Browser, url: &str, m: &Members, shots: &Path) -> Result<()> {
    let w = &ENGLISH;
    let id = m.posts[1].as_str();
    let (marie, karim, chloe) = (m.marie(), m.karim(), m.chloe());
    let chloe_id = author_of(chloe);
    b.goto(&format!("{url}/lang/en?back=/")).await?;
    b.wait_css("main#main", PATIENCE).await?;

    // Her second post, with Karim's and Chloé's responses: she chooses whom she writes to.
    post_page(b, url, id).await?;
    at_360(b, w, shots, "empty").await?;
    empty_conversation(b, w, id, &[(&m.karim, "Karim"), (&chloe_id, "Chloé")]).await?;
    send(b, w, m, id, TO_CHLOE, Some(&chloe_id)).await?;
    at_360(b, w, shots, "sent-chloe").await?;
    wait_messages(chloe, id, &[("Marie", TO_CHLOE)]).await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    send(b, w, m, id, IN_ENGLISH, Some(&m.karim)).await?;
    at_360(b, w, shots, "sent").await?;
    wait_messages(karim, id, &[("Marie", IN_ENGLISH)]).await?;

    // Each reads the message to them only, once all three nodes hold everything.
    let mut digests = Vec::new();
    poll("the three nodes catching up", PATIENCE, async || {
        digests = vec![
            board_digest(marie)?,
            board_digest(karim)?,
            board_digest(chloe)?,
        ];
        Ok((digests[0] == digests[1] && digests[1] == digests[2]).then_some(()))
    })
    .await
    .map_err(|e| e.context(format!("board digests {digests:?}")))?;
    let both = [("Marie", TO_CHLOE), ("Marie", IN_ENGLISH)];
    let lists: &Lists<'_> = &[
        (marie, &both),
        (karim, &[("Marie", IN_ENGLISH)]),
        (chloe, &[("Marie", TO_CHLOE)]),
    ];
    for (node, want) in lists {
        let got = messages(node, id)?;
        ensure!(got == said(want), "{} lists {got:?}", node.name);
    }
    refusals(b, w, id, lists, shots).await?;

    // The first post's conversation stays deleted.
    let first = messages(marie, &m.posts[0])?;
    ensure!(first.is_empty(), "the deleted conversation lists {first:?}");
    Ok(())
}

fn a_message_without_the_page_token_sends_nothing() -> Ran {
    let m = members(&["Marie", "Karim"], &[FIRST_TITLE]);
    let (marie, karim) = (m.marie(), m.karim());
    let id = m.posts[0].as_str();
    let path = format!("/posts/{id}/message");
    let page = marie.page().expect("Marie's page");
    let token = page.csrf(&format!("/posts/{id}")).expect("a form token");
    let fields = |csrf: Option<&str>| {
        let mut f = vec![("message", DOOR_AND_PHONE.to_owned())];
        if let Some(t) = csrf {
            f.push(("csrf", t.to_owned()));
        }
        f
    };
    let status = |r: Result<ureq::http::Response<ureq::Body>, ureq::Error>| {
        r.expect("an answer").status().as_u16()
    };
    for (what, sent) in [
        ("no token", None),
        ("an empty token", Some(String::new())),
        ("a wrong token", Some(format!("{token}x"))),
        ("another page's token", Some("0".repeat(token.len()))),
    ] {
        let r = page.post(&path).send_form(fields(sent.as_deref()));
        assert_eq!(status(r), 403, "a message with {what}");
    }
    // From another site, even with the right token.
    let r = Page::agent()
        .post(format!("{}{path}", page.base))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form(fields(Some(&token)));
    assert_eq!(status(r), 403, "a message from another site");
    let mine = messages(marie, id).expect("Marie's messages");
    assert!(mine.is_empty(), "Marie's node lists {mine:?}");

    // With the page's token it is sent: the refusals above were the token's. Karim's node
    // then lists that one only, also a resync later.
    let r = page
        .post(&path)
        .send_form(fields(Some(&token)))
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 303, "a message with the token");
    assert_eq!(
        entraide_tests::header_of(&r, "location"),
        format!("/posts/{id}")
    );
    let want = said(&[("Marie", DOOR_AND_PHONE)]);
    let started = Instant::now();
    loop {
        let got = messages(karim, id).unwrap_or_default();
        if got == want {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "Karim lists {got:?}\n{}",
            m.logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(messages(karim, id).expect("Karim's messages"), want);
    assert_eq!(messages(marie, id).expect("Marie's messages"), want);
    Ran::Fully
}

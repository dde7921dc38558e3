//! The pop-up board (issue 14) against hostile visitors, with a real `entraide up --popup`
//! on loopback and plain HTTP:
//!
//! - a hostile web page: a cross-site POST to `/join`, even with the right token, adds no
//!   one;
//! - a hostile LAN host: without a session it gets neither the poster nor the token; a
//!   wrong token is refused with a page saying so; more than three guests from one client
//!   are refused with 429; wrong tokens are throttled like wrong login codes;
//! - a hostile guest: `/poster` and the host's two buttons answer 403 (and change
//!   nothing); another guest's post cannot be withdrawn;
//! - a full node: with `MAX_RESIDENTS` hosted, joining says the pop-up is full.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use entraide_tests::{LOOPBACK, Page, TestNode, csrf_of, join_popup, join_token};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const PATIENCE: Duration = Duration::from_secs(30);

/// Amel's node, its owner named `name`, up with a pop-up: the node, its page's address, the
/// join token, and the start of the join address as printed (`http://<LAN IPv4>:<port>`).
fn popup_node(name: &str) -> Result<(TestNode, String, String, String)> {
    let mut a = TestNode::new(BIN, "Amel");
    a.ok(&["init", "--name", name])?;
    let mut args = LOOPBACK.to_vec();
    args.extend(["--popup", "--wifi", "Salle commune"]);
    a.up(&args)?;
    let url = a.join_url(PATIENCE)?;
    let token = join_token(&url)?;
    let base = a.ui_url()?;
    let lan = url.split("/join").next().unwrap_or_default().to_owned();
    Ok((a, base, token, lan))
}

/// A GET of `path` with no session, in English: the status and the page.
fn get_anonymous(base: &str, path: &str) -> Result<(u16, String)> {
    let mut response = Page::agent()
        .get(format!("{base}{path}"))
        .header("Accept-Language", "en")
        .call()?;
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Ok((response.status().as_u16(), body))
}

fn residents(a: &TestNode) -> Result<usize> {
    Ok(a.json(&["resident", "list", "--json"])?
        .as_array()
        .map_or(0, Vec::len))
}

fn joined(result: Result<std::result::Result<Page, (u16, String)>>, who: &str) -> Result<Page> {
    match result? {
        Ok(page) => Ok(page),
        Err((status, body)) => bail!("{who} could not join: {status}\n{body}"),
    }
}

fn refused(result: Result<std::result::Result<Page, (u16, String)>>) -> Result<(u16, String)> {
    match result? {
        Ok(_) => bail!("joined where it should have been refused"),
        Err(refusal) => Ok(refusal),
    }
}

#[test]
fn hostile_pages_hosts_and_guests_get_nothing_from_the_popup() {
    let (a, base, token, lan) = popup_node("Amel <i>B</i>").expect("A up with a pop-up");
    if let Err(e) = run(&a, &base, &token, &lan) {
        panic!("{e:?}\n\n--- A's log ---\n{}", a.log_tail());
    }
}

fn run(a: &TestNode, base: &str, token: &str, lan: &str) -> Result<()> {
    // From the LAN address printed (when this machine has one, the connection is not a
    // loopback one, as a phone's): the form for the token; the poster needs a login.
    if !lan.contains("//127.0.0.1:") {
        let (status, page) = get_anonymous(lan, &format!("/join?t={token}"))?;
        ensure!(
            status == 200 && page.contains("join-form"),
            "the join page from the LAN: {status}"
        );
        let (status, _) = get_anonymous(lan, "/poster")?;
        ensure!(status == 303, "the poster from the LAN: {status}");
    }

    // A hostile web page: a cross-site form post, the right token and all.
    let cross = Page::agent()
        .post(format!("{base}/join"))
        .header("Origin", "http://evil.example")
        .send_form([("t", token), ("name", "Mallory")])?;
    ensure!(
        cross.status().as_u16() == 403,
        "cross-site join: {}",
        cross.status()
    );
    ensure!(residents(a)? == 0, "a cross-site post added a guest");

    // A hostile LAN host: no poster without a session, and never the token.
    let (status, body) = get_anonymous(base, "/poster")?;
    ensure!(
        status != 200 && !body.contains(token),
        "the poster without a session: {status}"
    );
    let (status, page) = get_anonymous(base, "/join?t=00000000000000000000000000000000")?;
    ensure!(
        status == 403 && page.contains("scan the QR code on the poster again"),
        "a wrong token: {status} {page}"
    );
    ensure!(!page.contains("join-form"), "a wrong token got the form");

    // The form says whose computer it is, the host's name written as text.
    let (_, page) = get_anonymous(base, &format!("/join?t={token}"))?;
    ensure!(
        page.contains("join-form")
            && page.contains("Amel &lt;i&gt;B&lt;/i&gt;")
            && !page.contains("<i>B</i>")
            && page.contains("who can therefore act as you"),
        "the join form: {page}"
    );
    // Renamed while the pop-up is open: the form says the name as it is now.
    a.ok(&["name", "Amel (salle commune)"])?;
    let (_, page) = get_anonymous(base, &format!("/join?t={token}"))?;
    ensure!(
        page.contains("Amel (salle commune)") && !page.contains("Amel &lt;i&gt;B&lt;/i&gt;"),
        "the join form after a rename: {page}"
    );

    // Three guests from one client; the fourth must wait (and is told how long).
    let zoe = joined(join_popup(base, token, "Zoé"), "Zoé")?;
    let paul = joined(join_popup(base, token, "Paul"), "Paul")?;
    let (status, page) = refused(join_popup(base, token, "ZOÉ"))?;
    ensure!(
        status == 422 && page.contains("déjà pris"),
        "a second Zoé: {status}"
    );
    let karim = joined(join_popup(base, token, "Karim <b>3e</b>"), "Karim")?;
    let (_, settings) = karim.fetch("/settings")?;
    ensure!(
        settings.contains("Karim &lt;b&gt;3e&lt;/b&gt;") && !settings.contains("<b>3e</b>"),
        "a guest's name is not written as text"
    );
    let fourth = Page::agent()
        .post(format!("{base}/join"))
        .header("Origin", base)
        .send_form([("t", token), ("name", "Lucie")])?;
    ensure!(
        fourth.status().as_u16() == 429 && fourth.headers().get("retry-after").is_some(),
        "a fourth guest from one client: {}",
        fourth.status()
    );
    ensure!(residents(a)? == 3, "guests: {}", residents(a)?);

    // A hostile guest: the poster and the host's buttons are the owner's.
    let (status, page) = paul.fetch("/poster")?;
    ensure!(
        status == 403 && !page.contains(token),
        "a guest read the poster: {status}"
    );
    let (_, settings) = paul.fetch("/settings")?;
    let csrf = csrf_of(&settings).context("no form token on Paul's settings")?;
    for button in ["/popup/token", "/popup/end"] {
        let r = paul.post(button).send_form([("csrf", csrf.as_str())])?;
        ensure!(
            r.status().as_u16() == 403,
            "a guest's {button}: {}",
            r.status()
        );
    }
    let (status, _) = get_anonymous(base, &format!("/join?t={token}"))?;
    ensure!(
        status == 200,
        "the guest's buttons changed the pop-up: {status}"
    );

    // Zoé posts from her phone; Paul cannot withdraw it.
    let (_, form) = zoe.fetch("/new")?;
    let zoe_csrf = csrf_of(&form).context("no form token on /new")?;
    let made = zoe.post("/new").send_form([
        ("csrf", zoe_csrf.as_str()),
        ("kind", "request"),
        ("category", "visit"),
        ("urgency", "today"),
        ("title", "Des bougies au 2e"),
        ("details", ""),
        ("area", ""),
    ])?;
    let id = made
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .and_then(|l| l.strip_prefix("/posts/"))
        .with_context(|| format!("Zoé's post: {}", made.status()))?
        .to_owned();
    let withdraw = paul
        .post(&format!("/posts/{id}/withdraw"))
        .send_form([("csrf", csrf.as_str())])?;
    ensure!(
        withdraw.status().as_u16() >= 400,
        "Paul withdrew Zoé's post: {}",
        withdraw.status()
    );
    let post = a.json(&["show", &id, "--json"])?;
    ensure!(
        post["status"] == "open" && post["author_name"] == "Zoé",
        "Zoé's post: {post}"
    );

    // Guessing tokens: ten wrong ones are compared, then this client must wait.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let (status, _) = refused(join_popup(base, &format!("{i:032x}"), "X"))?;
        statuses.push(status);
    }
    ensure!(
        statuses[..10].iter().all(|s| *s == 403) && statuses[10..].iter().all(|s| *s == 429),
        "wrong tokens: {statuses:?}"
    );
    Ok(())
}

#[test]
fn a_full_popup_says_so() {
    let (a, base, token, _) = popup_node("Amel").expect("A up with a pop-up");
    let check = || -> Result<()> {
        for i in 0..entraide_node::residents::MAX_RESIDENTS {
            a.ok(&["resident", "add", "--name", &format!("Voisin {i}")])?;
        }
        let (status, page) = refused(join_popup(&base, &token, "Zoé"))?;
        ensure!(
            status == 503 && page.contains("complet"),
            "joining a full node: {status}\n{page}"
        );
        // A refusal because the node is full takes no guest place from the client.
        a.ok(&["resident", "remove", "--forget", "Voisin 0"])?;
        joined(join_popup(&base, &token, "Zoé"), "Zoé once there is room")?;
        Ok(())
    };
    if let Err(e) = check() {
        panic!("{e:?}\n\n--- A's log ---\n{}", a.log_tail());
    }
}

//! The web page over real HTTP: escaping, cross-site requests, the LAN login gate, the API
//! token, the language choice. (The click-through in a real browser is `browser.rs`.)
//!
//! The LAN login test needs a LAN address on this machine; without one it is reported as
//! ignored, with the reason (never under CI=true).

use std::time::Duration;

use entraide_tests::harness::Ran;
use entraide_tests::{TestNode, skip_unless, tests_main};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const LOOPBACK: &[&str] = &["--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"];

tests_main!(
    text_from_neighbours_is_shown_as_text_never_as_markup,
    cross_site_and_tokenless_form_posts_are_refused,
    the_seasonal_forms_refuse_what_another_site_or_a_tokenless_post_sends,
    the_json_api_needs_the_token,
    the_language_follows_the_browser_and_the_switch,
    on_the_lan_the_page_asks_for_the_login_code,
);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The running node's API address and token.
fn api(node: &TestNode) -> (String, String) {
    let api = node.api().unwrap();
    (api.base_url(), api.token)
}

fn get(url: &str) -> (u16, String) {
    let mut r = agent().get(url).call().unwrap();
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn running(name: &str, args: &[&str]) -> TestNode {
    let mut n = TestNode::new(BIN, name);
    n.ok(&["init", "--name", name]).unwrap();
    n.up(args).unwrap();
    n
}

fn text_from_neighbours_is_shown_as_text_never_as_markup() {
    let n = running("Marie", LOOPBACK);
    let page = n.page().unwrap();
    let nasty = r#"<script>alert("x")</script>"#;
    let id = n
        .ok(&[
            "post",
            "request",
            "--title",
            nasty,
            "--details",
            "<img src=x onerror=alert(1)> & \"quotes\"",
            "--area",
            "<b>B</b>",
        ])
        .unwrap()
        .trim()
        .to_owned();
    n.ok(&["name", "<i>Marie</i>"]).unwrap();
    for path in [
        "/".to_owned(),
        format!("/posts/{id}"),
        "/mine".to_owned(),
        "/settings".to_owned(),
    ] {
        let (status, html) = page.fetch(&path).unwrap();
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script>alert"), "{path}: raw script");
        assert!(!html.contains("<img src=x"), "{path}: raw img");
        assert!(
            !html.contains("<i>Marie</i>") && !html.contains("<b>B</b>"),
            "{path}: raw markup"
        );
    }
    let (_, post) = page.fetch(&format!("/posts/{id}")).unwrap();
    assert!(post.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(post.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;"));
    assert!(post.contains("&lt;i&gt;Marie&lt;/i&gt;"));
    // And the page forbids inline scripts anyway.
    let r = page.get("/").call().unwrap();
    let csp = r
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

fn cross_site_and_tokenless_form_posts_are_refused() {
    let n = running("Marie", LOOPBACK);
    let page = n.page().unwrap();
    let base = page.base.clone();
    let csrf = page.csrf("/new").unwrap();
    let fields = |token: &str| {
        vec![
            ("csrf", token.to_owned()),
            ("kind", "request".to_owned()),
            ("category", "food".to_owned()),
            ("title", "Bread please".to_owned()),
            ("urgency", "today".to_owned()),
        ]
    };
    // No token: a page on another site cannot know it.
    let r = page.post("/new").send_form(fields("")).unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // The right token but sent from another origin.
    let r = agent()
        .post(format!("{base}/new"))
        .header("Cookie", &page.cookie)
        .header("Origin", "http://evil.example")
        .send_form(fields(&csrf))
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Another session's token (another signed-in browser) is not this one's.
    let other = n.page().unwrap();
    let r = other.post("/new").send_form(fields(&csrf)).unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(n.board().unwrap().is_empty(), "nothing was posted");
    // From the page itself: accepted, and the browser is sent to the new post.
    let r = page.post("/new").send_form(fields(&csrf)).unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(location.starts_with("/posts/"), "{location}");
    assert_eq!(n.board().unwrap().len(), 1);
    // A refused text comes back with the reason in plain words, in the page's language.
    let r = page
        .post("/new")
        .header("Accept-Language", "fr-FR")
        .send_form(vec![
            ("csrf", csrf.clone()),
            ("kind", "request".into()),
            ("title", "Appelez le 06 12 34 56 78".into()),
        ])
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let page = r.into_body().read_to_string().unwrap();
    assert!(
        page.contains("numéro de téléphone") && page.contains("field-error"),
        "{page}"
    );
    // The language switch only redirects within the page.
    for back in ["//evil.example/", "/%09/evil.example/", "/%5Cevil.example/"] {
        let r = agent()
            .get(format!("{base}/lang/en?back={back}"))
            .call()
            .unwrap();
        assert_eq!(r.headers().get("location").unwrap(), "/", "{back}");
    }
}

/// Every form of the alerts, rounds, sightings and settings pages (issue 12), posted
/// without the form token, with a wrong one, or with the right one from another site:
/// refused, and nothing is declared, added, joined or set.
fn the_seasonal_forms_refuse_what_another_site_or_a_tokenless_post_sends() {
    let n = running("Marie", LOOPBACK);
    let page = n.page().unwrap();
    let base = page.base.clone();
    let csrf = page.csrf("/alerts").unwrap();
    let forms: [(&str, Vec<(&str, &str)>); 8] = [
        (
            "/alerts",
            vec![("kind", "heatwave"), ("until", "2d"), ("note", "x")],
        ),
        ("/alerts/0123456789abcdef/end", vec![]),
        (
            "/rounds",
            vec![
                ("title", "Evening"),
                ("at", "20:00"),
                ("from", "station"),
                ("to", "church"),
            ],
        ),
        ("/rounds/0123456789abcdef/join", vec![]),
        ("/rounds/0123456789abcdef/leave", vec![]),
        ("/sightings", vec![("place", "Gare"), ("needs", "blanket")]),
        (
            "/sightings/0123456789abcdef/done",
            vec![("what", "a blanket")],
        ),
        ("/settings/emergency", vec![("numbers", "999 (evil)")]),
    ];
    for (path, fields) in &forms {
        let with = |token: &str| -> Vec<(String, String)> {
            let mut f: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            f.push(("csrf".into(), token.into()));
            f
        };
        let r = page.post(path).send_form(fields.clone()).unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path} without a token");
        let r = page.post(path).send_form(with("0000")).unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path} with a wrong token");
        let r = agent()
            .post(format!("{base}{path}"))
            .header("Cookie", &page.cookie)
            .header("Origin", "http://evil.example")
            .send_form(with(&csrf))
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path} from another site");
    }
    let empty = |args: &[&str]| {
        let v = n.json(args).unwrap();
        assert!(v.as_array().is_some_and(Vec::is_empty), "{args:?}: {v:#}");
    };
    empty(&["alert", "list", "--json"]);
    empty(&["sighting", "list", "--json"]);
    let rounds = n.json(&["round", "list", "--json"]).unwrap();
    assert!(
        rounds.as_array().is_some_and(Vec::is_empty),
        "round list: {rounds:#}"
    );
    let (_, settings) = page.fetch("/settings").unwrap();
    assert!(
        !settings.contains("999 (evil)"),
        "the local numbers were set"
    );
}

fn the_json_api_needs_the_token() {
    let n = running("Marie", LOOPBACK);
    let (base, token) = api(&n);
    assert_eq!(get(&format!("{base}/api/v1/status")).0, 401);
    let r = agent()
        .get(format!("{base}/api/v1/status"))
        .header("Authorization", "Bearer nope")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = agent()
        .get(format!("{base}/api/v1/status"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(n.data_dir().join("api.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the resident can read the token");
    }
}

fn the_language_follows_the_browser_and_the_switch() {
    let n = running("Marie", LOOPBACK);
    let signed_in = n.page().unwrap();
    let base = signed_in.base.clone();
    let page = |lang: &str, cookie: Option<&str>| {
        let cookies = match cookie {
            Some(c) => format!("{c}; {}", signed_in.cookie),
            None => signed_in.cookie.clone(),
        };
        let req = agent()
            .get(&base)
            .header("Accept-Language", lang)
            .header("Cookie", cookies);
        req.call().unwrap().into_body().read_to_string().unwrap()
    };
    assert!(page("en-GB,en;q=0.9", None).contains(r#"<html lang="en">"#));
    assert!(page("fr-FR", None).contains(r#"<html lang="fr">"#));
    assert!(page("en-GB", Some("lang=fr")).contains(r#"<html lang="fr">"#));
    let r = agent()
        .get(format!("{base}/lang/en?back=/neighbours"))
        .call()
        .unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/neighbours");
    assert!(
        r.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("lang=en")
    );
}

fn on_the_lan_the_page_asks_for_the_login_code() -> Ran {
    let n = running(
        "Marie",
        &["--no-mdns", "--listen", "/ip4/0.0.0.0/tcp/0", "--ui-lan"],
    );
    let (base, token) = api(&n);
    let port = base.rsplit(':').next().unwrap().to_owned();
    let code = n
        .stdout_lines()
        .iter()
        .find_map(|l| {
            l.split("type the code ")
                .nth(1)
                .map(|c| c.trim().to_owned())
        })
        .expect("up prints the login code");
    // This machine's address on its LAN, as a phone would use it.
    let status = n.json(&["status", "--json"]).unwrap();
    let lan_ip = status["listen_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|a| a.strip_prefix("/ip4/"))
        .map(|a| a.split('/').next().unwrap().to_owned())
        .find(|ip| ip != "127.0.0.1");
    skip_unless!(
        lan_ip.is_some(),
        "this machine has no LAN address to test --ui-lan from"
    );
    let ip = lan_ip.unwrap();
    let lan = format!("http://{ip}:{port}");
    // Without the code: sent to the login page, the board is not shown.
    let r = agent().get(format!("{lan}/")).call().unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/login");
    // The API answers only this computer, token or not.
    let r = agent()
        .get(format!("{lan}/api/v1/status"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = agent()
        .post(format!("{lan}/login"))
        .send_form(vec![("code", "WRONG123")])
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = agent()
        .post(format!("{lan}/login"))
        .send_form(vec![("code", code.to_lowercase())])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let r = agent()
        .get(format!("{lan}/"))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // This computer's browser needs no code, but a sign-in address.
    assert_eq!(get(&format!("{base}/")).0, 401);
    assert_eq!(n.page().unwrap().fetch("/").unwrap().0, 200);
    Ran::Fully
}

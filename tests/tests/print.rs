//! `entraide print --out FILE.html` (issue 14), with the real program: with no node
//! running, Marie's board goes to a new file in her locale's language (French), the open
//! posts in urgency-then-area order with a QR code each, a hostile title escaped; an
//! existing file is refused and left as it was. With her node up, the command goes
//! through it, in English when asked, its QR codes pointing to her page; and the page's
//! `/print` holds the very same posts, under a policy that lets nothing run.

use entraide_tests::{LOOPBACK, TestNode};

const BIN: &str = env!("CARGO_BIN_EXE_entraide");
const HOSTILE: &str = "<script>alert(1)</script>";

/// The ids of the posts on a sheet, in its order.
fn ids_on(sheet: &str) -> Vec<String> {
    sheet
        .split("data-post-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').expect("a quote")].to_owned())
        .collect()
}

/// The list of posts of a sheet, as written.
fn posts_of(sheet: &str) -> &str {
    let start = sheet
        .find(r#"<ol id="print-posts""#)
        .expect("a list of posts");
    let end = sheet[start..].find("</ol>").expect("the end of the list") + start;
    &sheet[start..end]
}

#[test]
fn the_board_goes_to_a_new_file_with_or_without_a_running_node() {
    // French from the locale, which comes before LANG.
    let mut marie = TestNode::new(BIN, "Marie").with_env("LC_ALL", "fr_FR.UTF-8");
    marie.ok(&["init", "--name", "Marie"]).expect("init");
    let post = |kind, title, urgency, area| marie.post(kind, title, urgency, area).expect("post");
    let drill = post("offer", "Perceuse à prêter", "whenever", "");
    let water = post("request", "Eau au 4e", "today", "Bât. A");
    let hostile = post("request", HOSTILE, "urgent", "Bât. B");
    let bread = post("request", "Pain du matin", "urgent", "Bât. A");
    marie.ok(&["withdraw", &bread]).expect("withdraw");
    let dir = tempfile::tempdir().expect("a folder");

    // No node running: the store, opened by the command.
    let file = dir.path().join("tableau.html");
    let path = file.to_str().expect("a path");
    let out = marie.ok(&["print", "--out", path]).expect("print");
    assert!(
        out.contains(&format!(
            "Wrote 3 open requests and offers, most urgent first, to {path}."
        )),
        "{out}"
    );
    let sheet = std::fs::read_to_string(&file).expect("the sheet");
    assert!(sheet.contains(r#"<html lang="fr">"#));
    assert!(sheet.contains("<h1>Tableau d&#39;entraide</h1>"));
    assert_eq!(ids_on(&sheet), [hostile.as_str(), &water, &drill]);
    assert_eq!(sheet.matches("<svg").count(), 3, "one QR code per post");
    for id in [&hostile, &water, &drill] {
        // No node serves a page: the QR codes name this computer's default address.
        assert!(
            sheet.contains(&format!(">http://127.0.0.1:7878/posts/{id}<")),
            "{id}"
        );
    }
    assert!(sheet.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!sheet.contains("<script"), "markup from a neighbour");
    assert!(!sheet.contains("Pain du matin"), "a withdrawn post");
    assert!(sheet.contains("Urgences : 15 (SAMU), 112"));
    // Nothing the document does not carry: its style inline, no script, no request.
    assert!(sheet.contains("default-src &#39;none&#39;"));
    assert!(!sheet.contains("src=\"") && !sheet.contains("<link"));

    // An existing file is refused, and left as it was.
    let again = marie.run(&["print", "--out", path]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).expect("the sheet"), sheet);

    // Through the running node, in English when asked: the QR codes open its page.
    marie.up(LOOPBACK).expect("Marie's node up");
    let base = marie.ui_url().expect("the page's address");
    let file = dir.path().join("board.html");
    let path = file.to_str().expect("a path");
    let out = marie
        .ok(&["print", "--out", path, "--lang", "en"])
        .expect("print");
    assert!(out.contains(&format!("opens it at {base}/posts/")), "{out}");
    let sheet = std::fs::read_to_string(&file).expect("the sheet");
    assert!(sheet.contains(r#"<html lang="en">"#));
    assert!(sheet.contains("<h1>Mutual-aid board</h1>"));
    assert_eq!(ids_on(&sheet), [hostile.as_str(), &water, &drill]);
    assert!(sheet.contains(&format!(">{base}/posts/{hostile}<")));

    // The page's /print, in English: the same posts, word for word.
    let page = marie.page().expect("Marie's page");
    let mut r = entraide_tests::Page::agent()
        .get(format!("{base}/print"))
        .header("Cookie", format!("{}; lang=en", page.cookie))
        .call()
        .expect("GET /print");
    assert_eq!(r.status().as_u16(), 200);
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let policy = header("content-security-policy");
    assert!(
        policy.starts_with("default-src 'none'; style-src 'sha256-")
            && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert_eq!(header("cache-control"), "no-store");
    let served = r.body_mut().read_to_string().expect("the page");
    assert_eq!(posts_of(&served), posts_of(&sheet));
    assert!(served.contains(r#"<a id="print-back" href="/">"#));
}

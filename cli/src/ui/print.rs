//! The board on paper (issue 14): `/print` and `entraide print --out FILE.html` make the
//! same document, to pin on the hall board when the network is down.
//!
//! The open requests and offers, as the board shows them (live, not held back, at most
//! [`MAX_OPEN_POSTS_SHOWN_PER_AUTHOR`] of any one neighbour), most urgent first, then by
//! area; the time of the snapshot, the emergency numbers, and beside each post a QR code
//! of its address on this node's page. The document stands alone: its style is written
//! into it, allowed by its hash in the document's own content security policy, which
//! allows nothing else (no script, nothing fetched); the QR codes are SVG drawn here. Every
//! neighbour's text is escaped by the template, as on every page ([`super::html::Html`]).

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::Extension;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use entraide_crdt::limits::MAX_OPEN_POSTS_SHOWN_PER_AUTHOR;
use entraide_crdt::{AuthorId, Filter, PostView};
use entraide_node::data_dir::DataDir;
use sha2::{Digest, Sha256};

use super::i18n::{self, Lang, PrintStrings, Strings};
use super::pages::Facts;
use super::public::{self, Banner};
use super::{Ui, html, lang_of, node_error, now, qr_svg};

/// The sheet's style, written into the document.
const CSS: &str = include_str!("../../assets/print.css");

/// The printable board's route, merged into the page's router (behind the same gate as the
/// board: signed-in visitors only).
pub(super) fn routes() -> Router<Ui> {
    Router::new().route("/print", get(page))
}

/// `GET /print`: the sheet, in the visitor's language, with a link back to the board
/// that is not printed.
async fn page(Extension(ui): Extension<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (posts, status) = match (
        ui.node.list(Filter::default()).await,
        ui.node.status().await,
    ) {
        (Ok(posts), Ok(status)) => (posts, status),
        (Err(e), _) | (_, Err(e)) => return node_error(&ui, lang, e).await,
    };
    let dir = ui.data_dir.as_deref();
    let api = dir.and_then(|d| DataDir::new(d).read_api());
    let base = crate::page_address::for_print(api.as_ref(), &status.listen_addresses);
    let numbers = dir.map(public::read_numbers).unwrap_or_default();
    let selection = Selection::of(posts);
    let sheet = Sheet::new(lang, &selection, now(), &base, &numbers, Some("/"));
    let mut response = html(StatusCode::OK, &sheet);
    // The page's usual policy would refuse the inline style; this one allows only it.
    if let Ok(v) = HeaderValue::from_str(&format!("{}; frame-ancestors 'none'", policy())) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// What `entraide print` writes: the document, and how many posts it holds and left out.
#[derive(Debug)]
pub(crate) struct Printed {
    pub(crate) html: String,
    pub(crate) posts: usize,
    pub(crate) left_out: usize,
}

/// The document of `entraide print` (the page's, without the link back to the board):
/// `posts` are the board's live posts, `base` the page's address for the QR codes,
/// `data_dir` the node's folder (the emergency numbers set on this node).
pub(crate) fn document(
    lang: Lang,
    posts: Vec<PostView>,
    at: i64,
    base: &str,
    data_dir: &std::path::Path,
) -> Result<Printed, askama::Error> {
    let selection = Selection::of(posts);
    let numbers = public::read_numbers(data_dir);
    let html = Sheet::new(lang, &selection, at, base, &numbers, None).render()?;
    Ok(Printed {
        html,
        posts: selection.posts.len(),
        left_out: selection.left_out,
    })
}

/// The document's content security policy: its own style, by hash, and nothing else.
fn policy() -> String {
    let hash = data_encoding::BASE64.encode(&Sha256::digest(CSS.as_bytes()));
    format!("default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'")
}

/// The posts a sheet shows, in its order, and how many it leaves out.
#[derive(Debug)]
pub(crate) struct Selection {
    pub(crate) posts: Vec<PostView>,
    /// Live posts beyond [`MAX_OPEN_POSTS_SHOWN_PER_AUTHOR`] of one neighbour.
    pub(crate) left_out: usize,
}

impl Selection {
    /// From the board's posts, in any order: the live ones, at most
    /// [`MAX_OPEN_POSTS_SHOWN_PER_AUTHOR`] of each author (their most urgent and newest, as
    /// the board keeps them), so that one member posting hundreds cannot fill the paper;
    /// then the most urgent first, then by area (posts without one last in their
    /// urgency), then the newest.
    pub(crate) fn of(mut posts: Vec<PostView>) -> Self {
        posts.retain(|p| p.status.is_live());
        // `Urgency` orders from the most urgent.
        posts.sort_by(|a, b| {
            a.urgency
                .cmp(&b.urgency)
                .then(b.created_at.cmp(&a.created_at))
                .then(a.id.cmp(&b.id))
        });
        let before = posts.len();
        let mut shown: BTreeMap<AuthorId, usize> = BTreeMap::new();
        posts.retain(|p| {
            let n = shown.entry(p.author).or_default();
            *n += 1;
            *n <= MAX_OPEN_POSTS_SHOWN_PER_AUTHOR
        });
        let left_out = before - posts.len();
        posts.sort_by(|a, b| {
            a.urgency
                .cmp(&b.urgency)
                .then_with(|| area_key(&a.area).cmp(&area_key(&b.area)))
                .then(b.created_at.cmp(&a.created_at))
                .then(a.id.cmp(&b.id))
        });
        Selection { posts, left_out }
    }
}

/// How areas sort: alphabetically, whatever the case, a post without one last.
fn area_key(area: &str) -> (bool, String) {
    let area = area.trim();
    (area.is_empty(), area.to_lowercase())
}

/// One post on the sheet.
#[derive(Debug)]
pub(crate) struct SheetPost<'a> {
    pub(crate) facts: Facts<'a>,
    /// When it was posted, in words.
    pub(crate) posted: String,
    /// Its address on this node's page, which the QR code holds.
    pub(crate) address: String,
    /// The QR code of `address`: SVG drawn here, written unescaped.
    pub(crate) qr_svg: String,
    /// The details, line by line (the template puts a `<br>` between lines).
    pub(crate) lines: Vec<&'a str>,
}

/// The board on paper.
#[derive(Template)]
#[template(path = "print.html")]
pub(crate) struct Sheet<'a> {
    lang: Lang,
    t: &'static Strings,
    s: &'static PrintStrings,
    css: &'static str,
    policy: String,
    /// The time of the snapshot, in words.
    made: String,
    numbers: String,
    count: String,
    posts: Vec<SheetPost<'a>>,
    left_out: Option<String>,
    /// The board's address, for the link back to it (the page only).
    board_link: Option<&'a str>,
}

impl<'a> Sheet<'a> {
    /// The sheet of `selection` at `at`, its QR codes on the page at `base`.
    pub(crate) fn new(
        lang: Lang,
        selection: &'a Selection,
        at: i64,
        base: &str,
        local_numbers: &str,
        board_link: Option<&'a str>,
    ) -> Self {
        let banner = Banner {
            alerts: Vec::new(),
            local_numbers: local_numbers.to_owned(),
        };
        let posts = selection
            .posts
            .iter()
            .map(|p| {
                let address = format!("{base}/posts/{}", p.id);
                SheetPost {
                    facts: Facts::of(lang, p, at),
                    posted: public::when_words(lang, p.created_at),
                    qr_svg: qr_svg(&address),
                    address,
                    lines: p.details.split('\n').collect(),
                }
            })
            .collect::<Vec<_>>();
        Sheet {
            lang,
            t: lang.t(),
            s: lang.print(),
            css: CSS,
            policy: policy(),
            made: public::when_words(lang, at),
            numbers: banner.numbers(lang),
            count: i18n::count(lang, posts.len(), lang.t().posts),
            posts,
            left_out: (selection.left_out > 0).then(|| {
                (lang.print().left_out)(selection.left_out, MAX_OPEN_POSTS_SHOWN_PER_AUTHOR)
            }),
            board_link,
        }
    }

    fn made_line(&self) -> String {
        (self.s.made)(&self.made)
    }
}

#[cfg(test)]
mod tests {
    use entraide_crdt::{Category, Kind, OnBehalfOf, PostId, Status, Urgency};

    use super::*;

    const NASTY: &str = r#"<script>alert("x")</script> & 'quotes' <i>"#;
    const ESCAPED: &str =
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &lt;i&gt;";

    fn post(n: u8, author: u8, urgency: Urgency, area: &str, status: Status) -> PostView {
        PostView {
            id: format!("{n:016x}").parse::<PostId>().unwrap(),
            author: AuthorId([author; 32]),
            author_name: Some(NASTY.into()),
            author_name_lookalike: false,
            author_now: None,
            kind: Kind::Request,
            category: Category::Food,
            title: format!("{NASTY} {n}"),
            details: format!("{NASTY}\nline two"),
            urgency,
            area: area.into(),
            created_at: 1_000_000 + i64::from(n),
            expires_at: 2_000_000,
            status,
            accepted: None,
            escalation: None,
            on_behalf_of: None,
            responses: Vec::new(),
            thanks: Vec::new(),
        }
    }

    fn ids(selection: &Selection) -> Vec<u8> {
        selection
            .posts
            .iter()
            .map(|p| u8::from_str_radix(&p.id.to_string()[14..], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_sheet_puts_the_most_urgent_first_then_sorts_by_area() {
        use Urgency::*;
        let posts = vec![
            post(1, 1, Week, "Bât. A", Status::Open),
            post(2, 1, Urgent, "bât. b", Status::Open),
            post(3, 2, Urgent, "", Status::Accepted),
            post(4, 2, Urgent, "Bât. A", Status::Open),
            post(5, 3, Whenever, "Allée", Status::Open),
            post(6, 3, Today, "Cour", Status::Done),
            post(7, 3, Today, "Cour", Status::Expired),
            post(8, 3, Urgent, "Bât. A", Status::Open),
            post(9, 4, Today, "Cour", Status::Withdrawn),
        ];
        let selection = Selection::of(posts);
        // Urgent: Bât. A (the newest first), bât. b (whatever the case), no area last;
        // then week, then whenever. Closed posts are not on the sheet.
        assert_eq!(ids(&selection), [8, 4, 2, 3, 1, 5]);
        assert_eq!(selection.left_out, 0);
    }

    #[test]
    fn one_neighbour_cannot_fill_the_paper() {
        let cap = MAX_OPEN_POSTS_SHOWN_PER_AUTHOR;
        let mut posts: Vec<PostView> = (0..cap as u8 + 5)
            .map(|n| post(n, 1, Urgency::Whenever, "Z", Status::Open))
            .collect();
        posts.push(post(200, 1, Urgency::Urgent, "Z", Status::Open));
        posts.push(post(201, 2, Urgency::Whenever, "A", Status::Open));
        let selection = Selection::of(posts);
        assert_eq!(selection.left_out, 6);
        let shown = ids(&selection);
        assert_eq!(shown.len(), cap + 1);
        // Kept as the board keeps them: the urgent one and the newest.
        assert_eq!(shown[0], 200);
        assert!(shown.contains(&201));
        assert!(!shown.contains(&0), "{shown:?}");
        let html = Sheet::new(Lang::En, &selection, 1_000_100, "http://h:1", "", None)
            .render()
            .unwrap();
        assert!(html.contains(&format!(
            "6 more open posts are not printed (at most {cap} per neighbour)"
        )));
    }

    #[test]
    fn neighbour_text_is_escaped_on_paper_and_each_post_has_its_qr_code() {
        let mut behalf = post(2, 2, Urgency::Today, NASTY, Status::Accepted);
        behalf.on_behalf_of = Some(OnBehalfOf {
            name: NASTY.into(),
            consent: NASTY.into(),
        });
        let selection = Selection::of(vec![post(1, 1, Urgency::Urgent, "", Status::Open), behalf]);
        for lang in [Lang::Fr, Lang::En] {
            let html = Sheet::new(
                lang,
                &selection,
                1_000_100,
                "http://192.168.1.20:7878",
                NASTY,
                Some("/"),
            )
            .render()
            .unwrap();
            assert!(
                !html.contains("<script>") && !html.contains("<i>"),
                "{html}"
            );
            assert!(!html.contains("'quotes'"), "{html}");
            assert!(html.contains(&format!("<h2 class=\"title\">{ESCAPED} 1</h2>")));
            assert!(html.contains(&format!("{ESCAPED}<br>line two")));
            assert!(html.contains(&format!("data-area=\"{ESCAPED}\"")));
            assert!(html.contains(&format!("<strong class=\"behalf-name\">{ESCAPED}</strong>")));
            assert_eq!(html.matches("<svg").count(), 2);
            for id in ["0000000000000001", "0000000000000002"] {
                assert!(html.contains(&format!(
                    "<span class=\"address\">http://192.168.1.20:7878/posts/{id}</span>"
                )));
            }
            assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())));
            assert!(html.contains(r#"<a id="print-back" href="/">"#));
            let title = match lang {
                Lang::Fr => "<h1>Tableau d&#39;entraide</h1>",
                Lang::En => "<h1>Mutual-aid board</h1>",
            };
            assert!(html.contains(title));
        }
        // The local numbers are the English banner's, escaped too.
        let html = Sheet::new(Lang::En, &selection, 0, "http://h:1", NASTY, None)
            .render()
            .unwrap();
        assert!(html.contains(&format!("Emergency: 112 · {ESCAPED}")));
        assert!(!html.contains("print-back"));
    }

    #[test]
    fn an_empty_board_says_so() {
        let selection = Selection::of(Vec::new());
        let html = Sheet::new(Lang::Fr, &selection, 0, "http://h:1", "", None)
            .render()
            .unwrap();
        assert!(html.contains(r#"<p id="print-empty">Aucune demande ni offre en cours.</p>"#));
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn only_the_style_and_the_qr_codes_are_written_unescaped_and_the_policy_allows_the_style() {
        let source = include_str!("templates/print.html");
        assert_eq!(source.matches("|safe").count(), 2);
        assert!(source.contains("<style>{{ css|safe }}</style>"));
        assert!(source.contains("{{ item.qr_svg|safe }}"));
        let selection = Selection::of(Vec::new());
        let html = Sheet::new(Lang::En, &selection, 0, "http://h:1", "", None)
            .render()
            .unwrap();
        // What the browser hashes: the text of the style element, exactly.
        let style = &html[html.find("<style>").unwrap() + 7..html.find("</style>").unwrap()];
        let hash = data_encoding::BASE64.encode(&Sha256::digest(style.as_bytes()));
        assert!(policy().contains(&format!("style-src 'sha256-{hash}'")));
        assert!(policy().starts_with("default-src 'none';"));
        assert!(!html.contains("<script"));
    }
}

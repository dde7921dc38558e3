//! The page bodies. Pure functions from data to HTML: every user-supplied text is escaped.

use std::fmt::Write;

use entraide_crdt::limits::BOARD_PAGE_SIZE;
use entraide_crdt::{AuthorId, BoardPage, Category, Kind, PostView, Status, Urgency};
use entraide_node::{PeerInfo, Status as NodeStatus, WhoAmI};

use super::html::esc;
use super::i18n::{self, Lang};

/// What the viewer may do is decided by who they are: the node's own resident.
pub(crate) struct Viewer {
    pub(crate) author: AuthorId,
}

/// A neighbour as pages name them: their name and fingerprint, and a warning when another
/// neighbour's name looks the same (only the fingerprint tells them apart then).
fn name_or_short(lang: Lang, name: &Option<String>, id: &AuthorId, lookalike: bool) -> String {
    let warning = if lookalike && name.is_some() {
        format!(
            r#" <span class="lookalike" title="{title}">⚠ {text}</span>"#,
            title = esc(lang.t().lookalike_hint),
            text = esc(lang.t().lookalike),
        )
    } else {
        String::new()
    };
    match name {
        Some(n) => format!(
            "{} <span class=\"fp\">{}</span>{warning}",
            esc(n),
            esc(&id.fmt_short())
        ),
        None => format!("<span class=\"fp\">{}</span>", esc(&id.fmt_short())),
    }
}

/// A helper of `p` as pages name them (their name and look-alike flag come with their
/// response).
fn helper_name(lang: Lang, p: &PostView, helper: &AuthorId) -> String {
    let response = p.responses.iter().find(|r| r.helper == *helper);
    name_or_short(
        lang,
        &response.and_then(|r| r.helper_name.clone()),
        helper,
        response.is_some_and(|r| r.helper_name_lookalike),
    )
}

fn helpers_count(lang: Lang, n: usize) -> String {
    let t = lang.t();
    match n {
        0 => t.helpers_none.to_owned(),
        1 => t.helpers_one.to_owned(),
        n => format!("{n} {}", t.helpers_many),
    }
}

fn csrf_field(csrf: &str) -> String {
    format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(csrf))
}

/// One card of the board.
fn card(lang: Lang, p: &PostView, now: i64) -> String {
    let t = lang.t();
    let area = if p.area.is_empty() {
        String::new()
    } else {
        format!(r#"· <span class="area">{}</span>"#, esc(&p.area))
    };
    format!(
        r#"<li class="card kind-{kind_code} urgency-{urg_code}" data-post-id="{id}">
<p class="card-meta"><span class="kind">{kind}</span> · <span class="category">{category}</span> · <span class="urgency">{urgency}</span></p>
<h3><a class="card-title" href="/posts/{id}">{title}</a></h3>
<p class="card-line">{by} {author} · <time datetime="{created}">{age}</time> {area}</p>
<p class="card-line"><span class="status status-{status_code}" data-status="{status_code}">{status}</span> · <span class="helpers-count" data-count="{count}">{helpers}</span></p>
</li>"#,
        kind_code = p.kind.as_str(),
        urg_code = p.urgency.as_str(),
        id = p.id,
        kind = esc(i18n::kind(lang, p.kind)),
        category = esc(i18n::category(lang, p.category)),
        urgency = esc(i18n::urgency(lang, p.urgency)),
        title = esc(&p.title),
        by = esc(t.by),
        author = name_or_short(lang, &p.author_name, &p.author, p.author_name_lookalike),
        created = p.created_at,
        age = esc(&i18n::relative(lang, p.created_at, now)),
        status_code = p.status.as_str(),
        status = esc(i18n::status(lang, p.status)),
        count = p.responses.len(),
        helpers = esc(&helpers_count(lang, p.responses.len())),
    )
}

fn cards(lang: Lang, posts: &[PostView], now: i64, empty: &str) -> String {
    if posts.is_empty() {
        return format!(
            r#"<p class="empty">{}</p><ul id="board" class="cards"></ul>"#,
            esc(empty)
        );
    }
    let mut out = String::from(r#"<ul id="board" class="cards">"#);
    for p in posts {
        out.push_str(&card(lang, p, now));
    }
    out.push_str("</ul>");
    out
}

/// The filters the board was asked for, to fill the form back.
#[derive(Debug, Default)]
pub(crate) struct BoardFilters {
    pub(crate) kind: Option<Kind>,
    pub(crate) category: Option<Category>,
    pub(crate) urgency: Option<Urgency>,
    pub(crate) area: String,
    pub(crate) q: String,
    pub(crate) all: bool,
    /// Only this neighbour's posts (then none of theirs is hidden).
    pub(crate) author: Option<AuthorId>,
}

/// The query string of the board's address, as the filter form writes it.
#[derive(serde::Serialize)]
struct BoardLink<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    urgency: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    area: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    q: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    all: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<usize>,
}

impl BoardFilters {
    fn is_empty(&self) -> bool {
        self.kind.is_none()
            && self.category.is_none()
            && self.urgency.is_none()
            && self.area.trim().is_empty()
            && self.q.trim().is_empty()
            && !self.all
            && self.author.is_none()
    }

    /// The board's address with these filters, `author` instead of this one's, on page
    /// `page` (1 is the first).
    fn link(&self, author: Option<AuthorId>, page: usize) -> String {
        let query = serde_urlencoded::to_string(BoardLink {
            kind: self.kind.map(Kind::as_str),
            category: self.category.map(Category::as_str),
            urgency: self.urgency.map(Urgency::as_str),
            area: self.area.trim(),
            q: self.q.trim(),
            all: self.all.then_some("1"),
            author: author.map(|a| a.to_string()),
            page: (page > 1).then_some(page),
        })
        .unwrap_or_default();
        if query.is_empty() {
            "/".into()
        } else {
            format!("/?{query}")
        }
    }
}

/// Below the cards: the page links, who has more posts than the board shows, and posts
/// held back for their dates.
fn board_footer(lang: Lang, page: &BoardPage, f: &BoardFilters, number: usize) -> String {
    let t = lang.t();
    let mut out = String::new();
    let size = BOARD_PAGE_SIZE.max(1);
    let pages = page.total.div_ceil(size).max(1);
    if pages > 1 {
        let prev = if number > 1 {
            format!(
                r#"<a id="page-prev" rel="prev" href="{}">{}</a>"#,
                esc(&f.link(f.author, number - 1)),
                esc(t.page_prev)
            )
        } else {
            String::new()
        };
        let next = if number < pages {
            format!(
                r#"<a id="page-next" rel="next" href="{}">{}</a>"#,
                esc(&f.link(f.author, number + 1)),
                esc(t.page_next)
            )
        } else {
            String::new()
        };
        let _ = write!(
            out,
            r#"<nav class="pages" aria-label="{of}"><span id="page-of">{of}</span> {prev} {next}</nav>"#,
            of = esc(&(t.page_of)(number, pages)),
        );
    }
    if !page.capped.is_empty() {
        out.push_str(r#"<ul id="capped" class="capped">"#);
        for c in &page.capped {
            let _ = write!(
                out,
                r#"<li data-author="{id}">{who} {more} <a href="{link}">{show}</a></li>"#,
                id = c.author,
                who = name_or_short(lang, &c.author_name, &c.author, c.author_name_lookalike),
                more = esc(&(t.more_open_posts)(&i18n::number(lang, c.hidden))),
                link = esc(&f.link(Some(c.author), 1)),
                show = esc(t.show_them),
            );
        }
        out.push_str("</ul>");
    }
    if page.held_back > 0 {
        let _ = write!(
            out,
            r#"<p id="held-back" class="hint">{}</p>"#,
            esc(&(t.held_back)(&i18n::number(lang, page.held_back)))
        );
    }
    out
}

fn options<T: Copy + PartialEq>(
    all: &[T],
    selected: Option<T>,
    code: fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> String {
    let mut out = String::new();
    for v in all {
        let sel = if Some(*v) == selected {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<option value="{}"{sel}>{}</option>"#,
            code(*v),
            esc(label(*v))
        );
    }
    out
}

/// The board: filters, one page of cards, and what the page leaves out.
pub(crate) fn board(
    lang: Lang,
    page: &BoardPage,
    f: &BoardFilters,
    number: usize,
    now: i64,
) -> String {
    let t = lang.t();
    let posts = &page.posts;
    let by = match (f.author, posts.first()) {
        (Some(author), first) => {
            let name = first
                .map(|p| name_or_short(lang, &p.author_name, &p.author, p.author_name_lookalike))
                .unwrap_or_else(|| esc(&author.fmt_short()).to_string());
            format!(
                r#"<p id="posts-by">{} {name} · <a href="{}">{}</a></p>"#,
                esc(t.posts_by),
                esc(&f.link(None, 1)),
                esc(t.everyones_posts)
            )
        }
        _ => String::new(),
    };
    let kind_all = if f.kind.is_none() { " selected" } else { "" };
    let cat_all = if f.category.is_none() {
        " selected"
    } else {
        ""
    };
    let urg_all = if f.urgency.is_none() { " selected" } else { "" };
    format!(
        r#"<h1>{title}</h1>
<details class="filters-box"{open}><summary>{legend}</summary>
<form class="filters" method="get" action="/" role="search">
<fieldset><legend class="visually-hidden">{legend}</legend>{author_field}
<p><label for="f-kind">{kind_label}</label> <select id="f-kind" name="kind"><option value=""{kind_all}>{all}</option>{kinds}</select></p>
<p><label for="f-category">{cat_label}</label> <select id="f-category" name="category"><option value=""{cat_all}>{all}</option>{cats}</select></p>
<p><label for="f-urgency">{urg_label}</label> <select id="f-urgency" name="urgency"><option value=""{urg_all}>{all}</option>{urgs}</select></p>
<p><label for="f-area">{area_label}</label> <input id="f-area" name="area" value="{area}"></p>
<p><label for="f-q">{search_label}</label> <input id="f-q" name="q" type="search" value="{q}"></p>
<p class="check"><input id="f-all" name="all" type="checkbox" value="1"{all_checked}> <label for="f-all">{closed}</label></p>
<p><button type="submit">{apply}</button> <a href="/">{reset}</a></p>
</fieldset>
</form>
</details>
{by}{cards}{footer}"#,
        footer = board_footer(lang, page, f, number),
        author_field = match f.author {
            Some(a) => format!(r#"<input type="hidden" name="author" value="{a}">"#),
            None => String::new(),
        },
        title = esc(t.board_title),
        legend = esc(t.filter_legend),
        open = if f.is_empty() { "" } else { " open" },
        kind_label = esc(t.filter_kind),
        all = esc(t.filter_all),
        kinds = options(
            &[Kind::Request, Kind::Offer],
            f.kind,
            |k| k.as_str(),
            |k| i18n::kind(lang, k)
        ),
        cat_label = esc(t.field_category),
        cats = options(
            Category::ALL,
            f.category,
            |c| c.as_str(),
            |c| i18n::category(lang, c)
        ),
        urg_label = esc(t.field_urgency),
        urgs = options(
            Urgency::ALL,
            f.urgency,
            |u| u.as_str(),
            |u| i18n::urgency(lang, u)
        ),
        area_label = esc(t.filter_area),
        area = esc(&f.area),
        search_label = esc(t.filter_search),
        q = esc(&f.q),
        all_checked = if f.all { " checked" } else { "" },
        closed = esc(t.filter_show_closed),
        apply = esc(t.filter_apply),
        reset = esc(t.filter_reset),
        cards = cards(
            lang,
            posts,
            now,
            if f.is_empty() {
                t.board_empty
            } else {
                t.board_empty_filtered
            }
        ),
    )
}

/// The new-post form, with what was typed and the errors, if any.
#[derive(Debug, Default)]
pub(crate) struct PostForm {
    pub(crate) kind: Option<Kind>,
    pub(crate) category: Option<Category>,
    pub(crate) title: String,
    pub(crate) details: String,
    pub(crate) urgency: Option<Urgency>,
    pub(crate) area: String,
    /// (field name, message)
    pub(crate) errors: Vec<(&'static str, String)>,
}

fn field_error(form: &PostForm, field: &str) -> String {
    form.errors
        .iter()
        .filter(|(f, _)| *f == field)
        .map(|(_, m)| format!(r#"<p class="field-error" id="err-{field}">{}</p>"#, esc(m)))
        .collect()
}

fn described_by(form: &PostForm, field: &str, hint: bool) -> String {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("hint-{field}"));
    }
    if form.errors.iter().any(|(f, _)| *f == field) {
        ids.push(format!("err-{field}"));
    }
    if ids.is_empty() {
        String::new()
    } else {
        format!(r#" aria-describedby="{}""#, ids.join(" "))
    }
}

pub(crate) fn new_post(lang: Lang, form: &PostForm, csrf: &str) -> String {
    let t = lang.t();
    let kind = form.kind.unwrap_or(Kind::Request);
    let mut kinds = String::new();
    for k in [Kind::Request, Kind::Offer] {
        let checked = if k == kind { " checked" } else { "" };
        let _ = write!(
            kinds,
            r#"<p class="check"><input type="radio" id="f-kind-{code}" name="kind" value="{code}"{checked}> <label for="f-kind-{code}">{label}</label></p>"#,
            code = k.as_str(),
            label = esc(&format!("{} {}", t.field_kind, i18n::kind_choice(lang, k))),
        );
    }
    let summary = if form.errors.is_empty() {
        String::new()
    } else {
        format!(
            r#"<p class="form-errors" role="alert">{}</p>"#,
            esc(t.form_has_errors)
        )
    };
    let general = field_error(form, "form");
    format!(
        r#"<h1>{title}</h1>
<p class="intro">{intro}</p>
{summary}{general}
<form id="new-post-form" method="post" action="/new">
{csrf}
<fieldset><legend>{kind_legend}</legend>{kinds}</fieldset>
<p><label for="f-category">{cat_label}</label><br><select id="f-category" name="category">{cats}</select></p>
<p><label for="f-title">{title_label}</label><br><span class="hint" id="hint-title">{title_hint}</span><br>
<input id="f-title" name="title" required maxlength="120" value="{title_value}"{title_desc}></p>{title_err}
<p><label for="f-details">{details_label}</label><br><span class="hint" id="hint-details">{details_hint}</span><br>
<textarea id="f-details" name="details" rows="5" maxlength="2000"{details_desc}>{details_value}</textarea></p>{details_err}
<p><label for="f-urgency">{urg_label}</label><br><select id="f-urgency" name="urgency">{urgs}</select></p>
<p><label for="f-area">{area_label}</label><br><span class="hint" id="hint-area">{area_hint}</span><br>
<input id="f-area" name="area" maxlength="80" value="{area_value}"{area_desc}></p>{area_err}
<p><button type="submit" data-action="submit-post">{submit}</button></p>
</form>"#,
        title = esc(t.new_title),
        intro = esc(t.new_intro),
        csrf = csrf_field(csrf),
        kind_legend = esc(t.field_kind),
        cat_label = esc(t.field_category),
        cats = options(
            Category::ALL,
            Some(form.category.unwrap_or(Category::Other)),
            |c| c.as_str(),
            |c| i18n::category(lang, c)
        ),
        title_label = esc(t.field_title),
        title_hint = esc(t.field_title_hint),
        title_value = esc(&form.title),
        title_desc = described_by(form, "title", true),
        title_err = field_error(form, "title"),
        details_label = esc(t.field_details),
        details_hint = esc(t.field_details_hint),
        details_value = esc(&form.details),
        details_desc = described_by(form, "details", true),
        details_err = field_error(form, "details"),
        urg_label = esc(t.field_urgency),
        urgs = options(
            Urgency::ALL,
            Some(form.urgency.unwrap_or(Urgency::Week)),
            |u| u.as_str(),
            |u| i18n::urgency(lang, u)
        ),
        area_label = esc(t.field_area),
        area_hint = esc(t.field_area_hint),
        area_value = esc(&form.area),
        area_desc = described_by(form, "area", true),
        area_err = field_error(form, "area"),
        submit = esc(t.submit_post),
    )
}

pub(crate) fn post(
    lang: Lang,
    p: &PostView,
    viewer: &Viewer,
    csrf: &str,
    now: i64,
    error: Option<&str>,
) -> String {
    let t = lang.t();
    let mine = p.author == viewer.author;
    let live = p.status.is_live();
    let mut out = String::new();
    if let Some(e) = error {
        let _ = write!(out, r#"<p class="form-errors" role="alert">{}</p>"#, esc(e));
    }
    let area = if p.area.is_empty() {
        String::new()
    } else {
        format!("<dt>{}</dt><dd>{}</dd>", esc(t.post_area), esc(&p.area))
    };
    let details = if p.details.is_empty() {
        String::new()
    } else {
        format!(
            r#"<div class="details">{}</div>"#,
            esc(&p.details).to_string().replace('\n', "<br>")
        )
    };
    let _ = write!(
        out,
        r#"<article id="post" data-post-id="{id}" data-status="{status_code}">
<p class="card-meta"><span class="kind">{kind}</span> · <span class="category">{category}</span> · <span class="urgency">{urgency}</span></p>
<h1>{title}</h1>
<p><span class="status status-{status_code}" data-status="{status_code}">{status}</span></p>
<dl class="facts"><dt>{by_label}</dt><dd>{author}</dd><dt>{posted}</dt><dd>{age}</dd><dt>{expires}</dt><dd>{expiry}</dd>{area}</dl>
{details}
"#,
        id = p.id,
        status_code = p.status.as_str(),
        kind = esc(i18n::kind(lang, p.kind)),
        category = esc(i18n::category(lang, p.category)),
        urgency = esc(i18n::urgency(lang, p.urgency)),
        title = esc(&p.title),
        status = esc(i18n::status(lang, p.status)),
        by_label = esc(t.by),
        author = name_or_short(lang, &p.author_name, &p.author, p.author_name_lookalike),
        posted = esc(t.post_posted),
        age = esc(&i18n::relative(lang, p.created_at, now)),
        expires = esc(t.post_expires),
        expiry = esc(&i18n::relative(lang, p.expires_at, now)),
    );
    if mine {
        let _ = write!(out, r#"<p class="you">{}</p>"#, esc(t.post_your_post));
    }
    if let Some(helper) = &p.accepted {
        let _ = write!(
            out,
            r#"<p class="accepted">{} {}</p>"#,
            esc(t.post_accepted_helper),
            helper_name(lang, p, helper)
        );
    }
    let _ = write!(
        out,
        r#"<section aria-labelledby="responses-h"><h2 id="responses-h">{}</h2>"#,
        esc(t.post_responses)
    );
    if p.responses.is_empty() {
        let _ = write!(out, r#"<p class="empty">{}</p>"#, esc(t.post_no_responses));
    }
    out.push_str(r#"<ul class="responses">"#);
    for r in &p.responses {
        let accepted = p.accepted == Some(r.helper);
        let _ = write!(
            out,
            r#"<li class="response" data-helper="{helper}"><p><strong>{who}</strong> · <time datetime="{at}">{age}</time>{mark}</p>{message}"#,
            helper = r.helper,
            who = name_or_short(lang, &r.helper_name, &r.helper, r.helper_name_lookalike),
            at = r.at,
            age = esc(&i18n::relative(lang, r.at, now)),
            mark = if accepted {
                format!(
                    r#" · <span class="accepted-mark">{}</span>"#,
                    esc(t.accepted_mark)
                )
            } else {
                String::new()
            },
            message = if r.message.is_empty() {
                String::new()
            } else {
                format!(r#"<p class="message">{}</p>"#, esc(&r.message))
            },
        );
        if mine {
            if live && !accepted {
                let _ = write!(
                    out,
                    r#"<form method="post" action="/posts/{id}/accept" class="inline">{csrf}<input type="hidden" name="helper" value="{helper}"><button type="submit" data-action="accept">{label}</button></form>"#,
                    id = p.id,
                    csrf = csrf_field(csrf),
                    helper = r.helper,
                    label = esc(t.accept_button),
                );
            }
            if !p.thanks.iter().any(|(h, _)| *h == r.helper) && p.status != Status::Withdrawn {
                let _ = write!(
                    out,
                    r#"<form method="post" action="/posts/{id}/thank" class="inline">{csrf}<input type="hidden" name="helper" value="{helper}"><label for="thank-{helper}" class="visually-hidden">{msg_label}</label><input id="thank-{helper}" name="message" maxlength="500" placeholder="{placeholder}"> <button type="submit" data-action="thank">{label}</button></form>"#,
                    id = p.id,
                    csrf = csrf_field(csrf),
                    helper = r.helper,
                    msg_label = esc(t.field_message),
                    placeholder = esc(t.thank_placeholder),
                    label = esc(t.thank_button),
                );
            }
        }
        out.push_str("</li>");
    }
    out.push_str("</ul></section>");
    if !p.thanks.is_empty() {
        let _ = write!(
            out,
            r#"<section><h2>{}</h2><ul class="thanks">"#,
            esc(t.thanks_given)
        );
        for (helper, message) in &p.thanks {
            let _ = write!(
                out,
                "<li>{} : {}</li>",
                helper_name(lang, p, helper),
                esc(message)
            );
        }
        out.push_str("</ul></section>");
    }
    if mine && live {
        let _ = write!(
            out,
            r#"<section class="actions"><form method="post" action="/posts/{id}/done" class="inline">{csrf}<button type="submit" data-action="done">{done}</button></form> <form method="post" action="/posts/{id}/withdraw" class="inline">{csrf}<button type="submit" class="secondary" data-action="withdraw">{withdraw}</button></form></section>"#,
            id = p.id,
            csrf = csrf_field(csrf),
            done = esc(t.done_button),
            withdraw = esc(t.withdraw_button),
        );
    } else if !mine && live {
        let responded = p.responses.iter().any(|r| r.helper == viewer.author);
        if responded {
            let _ = write!(out, r#"<p class="you">{}</p>"#, esc(t.post_you_responded));
        }
        let _ = write!(
            out,
            r#"<section aria-labelledby="respond-h"><h2 id="respond-h">{title}</h2>
<form id="respond-form" method="post" action="/posts/{id}/respond">{csrf}
<p><label for="f-message">{label}</label><br><span class="hint" id="hint-message">{hint}</span><br>
<textarea id="f-message" name="message" rows="3" maxlength="500" aria-describedby="hint-message"></textarea></p>
<p><button type="submit" data-action="respond">{button}</button></p></form></section>"#,
            title = esc(t.respond_title),
            id = p.id,
            csrf = csrf_field(csrf),
            label = esc(t.field_message),
            hint = esc(t.respond_hint),
            button = esc(t.respond_button),
        );
    } else if !live {
        let _ = write!(out, r#"<p class="closed">{}</p>"#, esc(t.post_closed));
    }
    let _ = write!(
        out,
        r#"<p class="hint">{}</p></article><p><a href="/">{}</a></p>"#,
        esc(t.contact_privately),
        esc(t.back_to_board)
    );
    out
}

pub(crate) fn not_found(lang: Lang) -> String {
    let t = lang.t();
    format!(
        r#"<h1>{}</h1><p>{}</p><p><a href="/">{}</a></p>"#,
        esc(t.error_title),
        esc(t.post_not_found),
        esc(t.back_to_board)
    )
}

pub(crate) fn error(lang: Lang, message: &str) -> String {
    let t = lang.t();
    format!(
        r#"<h1>{}</h1><p class="form-errors" role="alert">{}</p><p><a href="/">{}</a></p>"#,
        esc(t.error_title),
        esc(message),
        esc(t.back_to_board)
    )
}

pub(crate) fn mine(lang: Lang, posts: &[PostView], responded: &[PostView], now: i64) -> String {
    let t = lang.t();
    format!(
        r#"<h1>{title}</h1><section aria-labelledby="mine-posts"><h2 id="mine-posts">{posts_title}</h2>{posts}</section>
<section aria-labelledby="mine-responses"><h2 id="mine-responses">{resp_title}</h2>{responded}</section>"#,
        title = esc(t.mine_title),
        posts_title = esc(t.mine_posts),
        posts =
            cards(lang, posts, now, t.mine_no_posts).replace(r#"id="board""#, r#"id="my-posts""#),
        resp_title = esc(t.mine_responses),
        responded = cards(lang, responded, now, t.mine_no_responses)
            .replace(r#"id="board""#, r#"id="my-responses""#),
    )
}

pub(crate) fn neighbours(lang: Lang, peers: &[PeerInfo], status: &NodeStatus, now: i64) -> String {
    let t = lang.t();
    let mut out = format!("<h1>{}</h1>", esc(t.neighbours_title));
    let _ = write!(
        out,
        r#"<p class="summary">{holds} {feeds} {feeds_l}{colon}{posts} {posts_l} ({live} {open_l}).</p>"#,
        colon = if lang == Lang::Fr { " : " } else { ": " },
        holds = esc(t.this_node_holds),
        feeds = status.board.feeds,
        feeds_l = esc(t.feeds),
        posts = status.board.posts,
        posts_l = esc(t.posts),
        live = status.board.live_posts,
        open_l = esc(t.open_posts),
    );
    if peers.is_empty() {
        let _ = write!(
            out,
            r#"<p class="empty">{}</p><p>{}</p>"#,
            esc(t.neighbours_none),
            esc(t.neighbours_none_help)
        );
    } else {
        out.push_str(r#"<ul id="peers" class="peers">"#);
        for p in peers {
            let who = match (&p.name, &p.author) {
                (Some(n), Some(a)) => format!(
                    "{} <span class=\"fp\">{}</span>",
                    esc(n),
                    esc(&a.fmt_short())
                ),
                (None, Some(a)) => format!("<span class=\"fp\">{}</span>", esc(&a.fmt_short())),
                _ => format!("<span class=\"fp\">{}</span>", esc(&p.peer_id)),
            };
            let sync = match p.last_sync {
                Some(at) => format!("{} {}", t.last_synced, i18n::relative(lang, at, now)),
                None => t.never_synced.to_owned(),
            };
            let _ = write!(
                out,
                r#"<li class="peer" data-connected="{c}"><strong>{who}</strong> · <span class="state">{state}</span> · {sync}</li>"#,
                c = p.connected,
                state = esc(if p.connected {
                    t.connected
                } else {
                    t.not_connected
                }),
                sync = esc(&sync),
            );
        }
        out.push_str("</ul>");
    }
    if !status.listen_addresses.is_empty() {
        let _ = write!(
            out,
            r#"<details><summary>{}</summary><ul class="addresses">"#,
            esc(t.listening_on)
        );
        for a in &status.listen_addresses {
            let _ = write!(out, "<li><code>{}</code></li>", esc(a));
        }
        out.push_str("</ul></details>");
    }
    out
}

pub(crate) fn invite(lang: Lang, code: &str, qr_svg: &str, lan_code: Option<&str>) -> String {
    let t = lang.t();
    let lan = match lan_code {
        Some(c) => format!(
            r#"<p class="lan-code">{} <strong>{}</strong></p>"#,
            esc(t.lan_code),
            esc(c)
        ),
        None => String::new(),
    };
    format!(
        r#"<h1>{title}</h1><p>{intro}</p><p class="warning">{warning}</p>
<figure class="qr" role="img" aria-label="{alt}">{qr}</figure>
<p class="code" id="invite-code">{code}</p>
<p>{how}</p><pre><code>entraide join {code}</code></pre>
<p class="hint no-print">{print}</p>{lan}"#,
        title = esc(t.invite_title),
        intro = esc(t.invite_intro),
        warning = esc(t.invite_warning),
        alt = esc(t.invite_qr_alt),
        qr = qr_svg,
        code = esc(code),
        how = esc(t.invite_how),
        print = esc(t.invite_print),
    )
}

/// What the settings page shows.
pub(crate) struct SettingsPage<'a> {
    pub(crate) who: &'a WhoAmI,
    pub(crate) csrf: &'a str,
    /// The name was just saved.
    pub(crate) saved: bool,
    /// Why the name was refused.
    pub(crate) error: Option<&'a str>,
    /// Signed-in sessions: (this computer's browsers, LAN devices).
    pub(crate) sessions: (usize, usize),
    /// Every other device was just signed out.
    pub(crate) others_signed_out: bool,
}

pub(crate) fn settings(lang: Lang, page: &SettingsPage<'_>) -> String {
    let t = lang.t();
    let who = page.who;
    let notice = match (page.saved, page.error) {
        (_, Some(e)) => format!(
            r#"<p class="form-errors" role="alert" id="err-name">{}</p>"#,
            esc(e)
        ),
        (true, None) => format!(
            r#"<p class="saved" role="status">{}</p>"#,
            esc(t.settings_saved)
        ),
        _ => String::new(),
    };
    let lookalikes = if who.name_lookalikes.is_empty() {
        String::new()
    } else {
        let fps: Vec<String> = who
            .name_lookalikes
            .iter()
            .map(|a| format!(r#"<span class="fp">{}</span>"#, esc(&a.fmt_short())))
            .collect();
        format!(
            r#"<p class="warning" id="name-lookalikes">{} {}</p>"#,
            esc(t.settings_lookalikes),
            fps.join(", ")
        )
    };
    let others_out = if page.others_signed_out {
        format!(
            r#"<p class="saved" role="status">{}</p>"#,
            esc(t.signed_out_others)
        )
    } else {
        String::new()
    };
    format!(
        r#"<h1>{title}</h1>{notice}
<form id="name-form" method="post" action="/settings/name">{csrf}
<p><label for="f-name">{name_label}</label><br><input id="f-name" name="name" required maxlength="40" value="{name}"></p>
<p><button type="submit" data-action="save-name">{save}</button></p></form>
<section><h2>{lang_title}</h2><p><a href="/lang/fr?back=/settings" lang="fr" hreflang="fr">Français</a> · <a href="/lang/en?back=/settings" lang="en" hreflang="en">English</a></p></section>
<section><h2>{id_title}</h2><p>{fp_label} : <strong class="fp">{fp}</strong></p>{lookalikes}<p>{id_text}</p><p><code id="identity-file">{file}</code></p><p>{backup}</p></section>
<section id="sessions"><h2>{sessions_title}</h2>{others_out}<ul><li>{here} : <strong id="sessions-here">{n_here}</strong></li><li>{lan} : <strong id="sessions-lan">{n_lan}</strong></li></ul>
<form id="signout-others-form" method="post" action="/signout-others">{csrf}<p><button type="submit" data-action="sign-out-others">{sign_out_others}</button></p></form>
<form id="signout-form" method="post" action="/signout">{csrf}<p><button type="submit" class="secondary" data-action="sign-out">{sign_out}</button></p></form></section>"#,
        title = esc(t.settings_title),
        csrf = csrf_field(page.csrf),
        name_label = esc(t.settings_name),
        name = esc(who.name.as_deref().unwrap_or("")),
        save = esc(t.settings_save),
        lang_title = esc(t.settings_language),
        id_title = esc(t.settings_identity),
        fp_label = esc(t.settings_fingerprint),
        fp = esc(&who.fingerprint),
        id_text = esc(t.settings_identity_text),
        file = esc(&who.identity_file.display().to_string()),
        backup = esc(t.settings_backup),
        sessions_title = esc(t.sessions_title),
        here = esc(t.sessions_here),
        lan = esc(t.sessions_lan),
        n_here = page.sessions.0,
        n_lan = page.sessions.1,
        sign_out_others = esc(t.sign_out_others),
        sign_out = esc(t.sign_out),
    )
}

/// What the login page says above its form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginNotice {
    None,
    /// The code typed was wrong.
    Wrong,
    /// Too many wrong codes from this device.
    Throttled,
    /// The visitor just signed out.
    SignedOut,
}

/// The page this computer's browser sees without a session: how to sign in.
pub(crate) fn signin_needed(lang: Lang, link_refused: bool, signed_out: bool) -> String {
    let t = lang.t();
    let notice = if link_refused {
        format!(
            r#"<p class="form-errors" role="alert" id="signin-refused">{}</p>"#,
            esc(t.signin_used)
        )
    } else if signed_out {
        format!(
            r#"<p class="saved" role="status" id="signed-out">{}</p>"#,
            esc(t.signed_out)
        )
    } else {
        String::new()
    };
    format!(
        r#"<h1 id="signin-needed">{title}</h1>{notice}<p>{text}</p><p>{how}</p><pre><code>entraide open</code></pre><p><a class="button" href="/">{retry}</a></p>"#,
        title = esc(t.signin_title),
        text = esc(t.signin_text),
        how = esc(t.signin_how),
        retry = esc(t.signin_retry),
    )
}

pub(crate) fn login(lang: Lang, notice: LoginNotice) -> String {
    let t = lang.t();
    let error = match notice {
        LoginNotice::None => String::new(),
        LoginNotice::Wrong | LoginNotice::Throttled => format!(
            r#"<p class="form-errors" role="alert" id="login-error">{}</p>"#,
            esc(if notice == LoginNotice::Wrong {
                t.login_wrong
            } else {
                t.login_throttled
            })
        ),
        LoginNotice::SignedOut => format!(
            r#"<p class="saved" role="status" id="signed-out">{}</p>"#,
            esc(t.signed_out)
        ),
    };
    format!(
        r#"<h1>{title}</h1><p>{text}</p>{error}<form id="login-form" method="post" action="/login"><p><label for="f-code">{code}</label><br><input id="f-code" name="code" required autocomplete="off" autocapitalize="characters"></p><p><button type="submit" data-action="login">{button}</button></p></form>"#,
        title = esc(t.login_title),
        text = esc(t.login_text),
        code = esc(t.login_code),
        button = esc(t.login_button),
    )
}

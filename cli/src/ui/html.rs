//! HTML building: every piece of user text goes through [`esc`]; the layout every page
//! shares.

use std::fmt::{self, Display, Write};

use super::i18n::{self, Lang};

/// Text escaped for HTML content and attribute values.
pub(crate) struct Esc<'a>(pub(crate) &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Shorthand for [`Esc`].
pub(crate) fn esc(text: &str) -> Esc<'_> {
    Esc(text)
}

/// What the footer says about sync.
pub(crate) struct Footer {
    pub(crate) online: bool,
    pub(crate) last_sync: Option<i64>,
    pub(crate) recently_synced_peers: usize,
    pub(crate) peers_connected: usize,
    pub(crate) posts: usize,
    pub(crate) live_posts: usize,
    pub(crate) feeds: usize,
}

/// Which navigation entry is the current page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Board,
    New,
    Mine,
    Neighbours,
    Invite,
    Settings,
    None,
}

/// A whole page around `body`.
pub(crate) fn page(
    lang: Lang,
    title: &str,
    nav: Nav,
    path: &str,
    footer: &Footer,
    now: i64,
    body: &str,
) -> String {
    let t = lang.t();
    let mut out = String::with_capacity(body.len() + 4096);
    let _ = write!(
        out,
        r##"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · entraide</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">{skip}</a>
<header class="top">
<a class="brand" href="/">entraide</a>
<nav aria-label="entraide">
<ul>"##,
        lang = lang.code(),
        title = esc(title),
        skip = esc(t.skip_to_content),
    );
    for (id, href, label, which) in [
        ("nav-board", "/", t.nav_board, Nav::Board),
        ("nav-new", "/new", t.nav_new, Nav::New),
        ("nav-mine", "/mine", t.nav_mine, Nav::Mine),
        (
            "nav-neighbours",
            "/neighbours",
            t.nav_neighbours,
            Nav::Neighbours,
        ),
        ("nav-invite", "/invite", t.nav_invite, Nav::Invite),
        ("nav-settings", "/settings", t.nav_settings, Nav::Settings),
    ] {
        let current = if nav == which {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<li><a id="{id}" href="{href}"{current}>{}</a></li>"#,
            esc(label)
        );
    }
    let back = esc(path);
    let _ = write!(
        out,
        r#"</ul></nav>
<p class="lang" aria-label="{language}"><a id="lang-fr" href="/lang/fr?back={back}" hreflang="fr" lang="fr"{fr_cur}>FR</a> <a id="lang-en" href="/lang/en?back={back}" hreflang="en" lang="en"{en_cur}>EN</a></p>
</header>
<p id="live-notice" class="notice" hidden>{live}</p>
<main id="main">
{body}
</main>
<footer id="sync-status">{footer}</footer>
</body>
</html>
"#,
        language = esc(t.language),
        fr_cur = if lang == Lang::Fr {
            r#" aria-current="true""#
        } else {
            ""
        },
        en_cur = if lang == Lang::En {
            r#" aria-current="true""#
        } else {
            ""
        },
        live = esc(t.live_notice),
        footer = footer_text(lang, footer, now),
    );
    out
}

fn footer_text(lang: Lang, f: &Footer, now: i64) -> String {
    let t = lang.t();
    let sync = match (f.online, f.last_sync) {
        (false, _) => t.footer_offline.to_owned(),
        (true, None) => t.footer_never.to_owned(),
        (true, Some(at)) => {
            let when = i18n::relative(lang, at, now);
            i18n::synced_with(lang, f.recently_synced_peers, &when)
        }
    };
    let _ = f.peers_connected;
    format!(
        "{} · {} {} ({} {}) · {} {}",
        esc(&sync),
        f.posts,
        esc(t.posts),
        f.live_posts,
        esc(t.open_posts),
        f.feeds,
        esc(t.feeds)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            esc(r#"<script>alert("x") & 'y'</script>"#).to_string(),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}

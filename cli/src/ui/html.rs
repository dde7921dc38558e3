//! What every page shares: the escaper the templates write through, and the frame around
//! each page's body (language, title, navigation, sync footer) that
//! `templates/layout.html` draws.

use std::fmt::{self, Write};

use super::i18n::{self, Lang, Strings};

/// The templates' escaper (`cli/askama.toml` names it for every `.html` template): every
/// value a template writes goes through it, unless the template says `|safe` (only the QR
/// code, which is ours). It writes the entities the page always wrote (`&lt;`, `&quot;`,
/// `&#39;`), so a value is safe in text and in attributes under either quote.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut out: W, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            out.write_str(&rest[..at])?;
            out.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        out.write_str(rest)
    }
}

/// What the footer says about sync.
#[derive(Debug, Default)]
pub(crate) struct Footer {
    pub(crate) online: bool,
    pub(crate) last_sync: Option<i64>,
    pub(crate) recently_synced_peers: usize,
    pub(crate) posts: usize,
    pub(crate) live_posts: usize,
    pub(crate) feeds: usize,
    /// Set when this computer's clock looks wrong against the neighbours'.
    pub(crate) clock_skew: Option<entraide_node::peers::ClockSkew>,
}

/// Which navigation entry is the current page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Nav {
    Board,
    New,
    Mine,
    Care,
    Neighbours,
    Invite,
    Settings,
    Rounds,
    None,
}

/// One entry of the navigation.
#[derive(Debug)]
pub(crate) struct NavItem {
    pub(crate) id: &'static str,
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
}

/// Everything around a page's body: every page struct has one, named `frame`, which the
/// layout reads.
#[derive(Debug)]
pub(crate) struct Frame<'a> {
    pub(crate) lang: Lang,
    /// The page's title (before "· entraide").
    pub(crate) title: &'a str,
    pub(crate) nav: Nav,
    /// This page's address, where the language links come back to.
    pub(crate) path: &'a str,
    pub(crate) footer: Footer,
    /// Unix seconds, for "5 min ago".
    pub(crate) now: i64,
    /// The alerts active now, shown at the top of every page.
    pub(crate) banner: super::public::Banner,
    /// The people of the resident's circles who need someone now (the strip at the top
    /// of every page).
    pub(crate) care: Vec<CareAlert>,
}

/// One person of the resident's circles who needs someone now: nobody checked on them
/// today, or someone found them not fine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CareAlert {
    /// Their name (only circle members see it).
    pub(crate) name: String,
    /// Someone checked and they are not fine (else: nobody checked).
    pub(crate) not_fine: bool,
}

impl CareAlert {
    /// The strip's sentence (the templates pass values by reference).
    pub(crate) fn text(&self, lang: &Lang) -> String {
        i18n::care_strip(*lang, &self.name, self.not_fine)
    }
}

impl Frame<'_> {
    pub(crate) fn t(&self) -> &'static Strings {
        self.lang.t()
    }

    pub(crate) fn nav_items(&self) -> [NavItem; 8] {
        let t = self.t();
        [
            ("nav-board", "/", t.nav_board, Nav::Board),
            ("nav-new", "/new", t.nav_new, Nav::New),
            ("nav-mine", "/mine", t.nav_mine, Nav::Mine),
            ("nav-care", "/care", t.nav_care, Nav::Care),
            (
                "nav-neighbours",
                "/neighbours",
                t.nav_neighbours,
                Nav::Neighbours,
            ),
            ("nav-invite", "/invite", t.nav_invite, Nav::Invite),
            (
                "nav-rounds",
                "/rounds",
                super::public::strings(self.lang).nav_rounds,
                Nav::Rounds,
            ),
            ("nav-settings", "/settings", t.nav_settings, Nav::Settings),
        ]
        .map(|(id, href, label, which)| NavItem {
            id,
            href,
            label,
            current: self.nav == which,
        })
    }

    /// "Synced with 2 neighbours, 5 min ago · 3 posts (1 in progress) · 2 residents".
    /// The strings of the alert banner and the rounds pages.
    pub(crate) fn banner_strings(&self) -> &'static super::public::PublicStrings {
        super::public::strings(self.lang)
    }

    /// The active alerts in words, for the banner.
    pub(crate) fn banner_items(&self) -> Vec<super::public::BannerAlert> {
        self.banner.items(self.lang)
    }

    /// The emergency numbers of the page's language, for the banner.
    pub(crate) fn banner_numbers(&self) -> String {
        self.banner.numbers(self.lang)
    }

    /// What to say when the clock looks wrong (the line above the page), if it does.
    pub(crate) fn clock_warning(&self) -> Option<String> {
        self.footer
            .clock_skew
            .map(|skew| i18n::clock_warning(self.lang, skew.ahead_secs, skew.neighbours))
    }

    pub(crate) fn footer_text(&self) -> String {
        let (lang, t, f) = (self.lang, self.t(), &self.footer);
        let sync = match (f.online, f.last_sync) {
            (false, _) => t.footer_offline.to_owned(),
            (true, None) => t.footer_never.to_owned(),
            (true, Some(at)) => {
                let when = i18n::relative(lang, at, self.now);
                i18n::synced_with(lang, f.recently_synced_peers, &when)
            }
        };
        format!(
            "{sync} · {} ({} {}) · {}",
            i18n::count(lang, f.posts, t.posts),
            f.live_posts,
            t.open_posts,
            i18n::count(lang, f.feeds, t.feeds),
        )
    }
}

#[cfg(test)]
mod tests {
    use askama::filters::Escaper;

    use super::*;

    #[test]
    fn escaping_covers_markup_and_attributes() {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, r#"<script>alert("x") & 'y'</script>"#)
            .unwrap();
        assert_eq!(
            out,
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    fn footer(lang: Lang, posts: usize, live_posts: usize, feeds: usize) -> String {
        Frame {
            lang,
            title: "",
            nav: Nav::None,
            path: "/",
            footer: Footer {
                online: true,
                last_sync: Some(0),
                recently_synced_peers: 1,
                posts,
                live_posts,
                feeds,
                clock_skew: None,
            },
            now: 300,
            banner: Default::default(),
            care: Vec::new(),
        }
        .footer_text()
    }

    #[test]
    fn footer_counts_agree_in_number() {
        assert_eq!(
            footer(Lang::En, 1, 1, 1),
            "Synced with 1 neighbour, 5 min ago · 1 post (1 in progress) · 1 resident"
        );
        assert_eq!(
            footer(Lang::En, 2, 0, 3),
            "Synced with 1 neighbour, 5 min ago · 2 posts (0 in progress) · 3 residents"
        );
        assert_eq!(
            footer(Lang::En, 0, 0, 0),
            "Synced with 1 neighbour, 5 min ago · 0 posts (0 in progress) · 0 residents"
        );
        assert_eq!(
            footer(Lang::Fr, 1, 1, 1),
            "Synchronisé avec 1 voisin, il y a 5 min · 1 annonce (1 en cours) · 1 voisin"
        );
        assert_eq!(
            footer(Lang::Fr, 2, 0, 3),
            "Synchronisé avec 1 voisin, il y a 5 min · 2 annonces (0 en cours) · 3 voisins"
        );
        // French counts zero in the singular.
        assert_eq!(
            footer(Lang::Fr, 0, 0, 0),
            "Synchronisé avec 1 voisin, il y a 5 min · 0 annonce (0 en cours) · 0 voisin"
        );
    }
}

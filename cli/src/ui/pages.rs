//! The pages: one struct each, rendered by its template in `templates/` (askama, checked
//! when the crate compiles). The templates escape every value they write; what is worked
//! out in Rust (links, counts, labels) is plain text, never HTML.

use askama::Template;
use entraide_crdt::care::{CheckHow, CheckState, MAX_CONSENT_CHARS, MIN_CONSENT_CHARS, Window};
use entraide_crdt::limits::BOARD_PAGE_SIZE;
use entraide_crdt::limits::MAX_MESSAGE_CHARS;
use entraide_crdt::{
    AuthorId, BoardPage, CappedAuthor, Category, Field, Kind, OnBehalfOf, PostView, ResponseView,
    Status, Urgency,
};
use entraide_node::api::BoardQuery;
use entraide_node::care::{CareList, CareMember, CareRecord};
use entraide_node::{PeerInfo, Status as NodeStatus, WhoAmI};

use super::html::Frame;
use super::i18n::{self, Lang};

/// What the viewer may do is decided by who they are: the node's own resident.
#[derive(Debug)]
pub(crate) struct Viewer {
    pub(crate) author: AuthorId,
}

/// A neighbour as pages name them: their name and fingerprint, and a warning when another
/// neighbour's name looks the same (only the fingerprint tells them apart then).
#[derive(Debug)]
pub(crate) struct Who<'a> {
    pub(crate) name: Option<&'a str>,
    pub(crate) id: AuthorId,
    pub(crate) lookalike: bool,
}

impl<'a> Who<'a> {
    /// A post's author: for a lost key the stewards replaced, the new key (the same
    /// person, whose name the post carries).
    fn author_of(p: &'a PostView) -> Self {
        Who {
            name: p.author_name.as_deref(),
            id: p.author_now.unwrap_or(p.author),
            lookalike: p.author_name_lookalike,
        }
    }

    fn helper(r: &'a ResponseView) -> Self {
        Who {
            name: r.helper_name.as_deref(),
            id: r.helper,
            lookalike: r.helper_name_lookalike,
        }
    }

    fn capped(c: &'a CappedAuthor) -> Self {
        Who {
            name: c.author_name.as_deref(),
            id: c.author,
            lookalike: c.author_name_lookalike,
        }
    }

    /// A helper of `p` (their name and look-alike flag come with their response).
    fn helper_of(p: &'a PostView, helper: AuthorId) -> Self {
        match p.responses.iter().find(|r| r.helper == helper) {
            Some(r) => Who::helper(r),
            None => Who {
                name: None,
                id: helper,
                lookalike: false,
            },
        }
    }

    pub(crate) fn short(&self) -> String {
        self.id.fmt_short()
    }
}

/// One `<option>` of a select, or one radio button.
#[derive(Debug)]
pub(crate) struct Choice {
    pub(crate) code: &'static str,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    selected: Option<T>,
    code: fn(T) -> &'static str,
    label: impl Fn(T) -> String,
) -> Vec<Choice> {
    all.iter()
        .map(|&v| Choice {
            code: code(v),
            label: label(v),
            selected: Some(v) == selected,
        })
        .collect()
}

/// A card's or a post's facts, in the page's language.
#[derive(Debug)]
pub(crate) struct Facts<'a> {
    pub(crate) post: &'a PostView,
    pub(crate) kind: &'static str,
    pub(crate) category: &'static str,
    pub(crate) urgency: &'static str,
    pub(crate) status: &'static str,
    pub(crate) age: String,
    pub(crate) helpers: String,
    pub(crate) author: Who<'a>,
    /// For a post made for a neighbour: their name and consent ("posted by … for …").
    pub(crate) behalf: Option<&'a OnBehalfOf>,
}

impl<'a> Facts<'a> {
    pub(crate) fn of(lang: Lang, post: &'a PostView, now: i64) -> Self {
        Facts {
            post,
            kind: i18n::kind(lang, post.kind),
            category: i18n::category(lang, post.category),
            urgency: i18n::urgency(lang, post.urgency),
            status: i18n::status(lang, post.status),
            age: i18n::relative(lang, post.created_at, now),
            helpers: i18n::helpers(lang, post.responses.len()),
            author: Who::author_of(post),
            behalf: post.on_behalf_of.as_ref(),
        }
    }
}

/// A list of cards: its id, and what it says when empty.
#[derive(Debug)]
pub(crate) struct Cards<'a> {
    pub(crate) id: &'static str,
    pub(crate) cards: Vec<Facts<'a>>,
    pub(crate) empty: &'static str,
}

impl<'a> Cards<'a> {
    fn of(frame: &Frame<'_>, id: &'static str, posts: &'a [PostView], empty: &'static str) -> Self {
        Cards {
            id,
            cards: posts
                .iter()
                .map(|p| Facts::of(frame.lang, p, frame.now))
                .collect(),
            empty,
        }
    }
}

/// The board: filters, one page of cards, and what the page leaves out.
#[derive(Template)]
#[template(path = "board.html")]
pub(crate) struct Board<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) page: &'a BoardPage,
    /// The filters and page asked for, to fill the form back and to build the links.
    pub(crate) query: &'a BoardQuery,
}

impl Board<'_> {
    /// Whether anything is asked besides the whole live board.
    fn filtered(&self) -> bool {
        self.query.narrows() || self.query.all
    }

    /// This page's number, 1 for the first.
    fn number(&self) -> usize {
        self.query.page.unwrap_or(1).max(1)
    }

    fn pages(&self) -> usize {
        self.page.total.div_ceil(BOARD_PAGE_SIZE.max(1)).max(1)
    }

    /// The board's address with these filters, `author` instead of this one's, on page
    /// `page` (1 is the first).
    fn link(&self, author: Option<AuthorId>, page: usize) -> String {
        let query = BoardQuery {
            author,
            page: (page > 1).then_some(page),
            ..self.query.clone()
        }
        .to_query();
        if query.is_empty() {
            "/".into()
        } else {
            format!("/?{query}")
        }
    }

    fn prev(&self) -> Option<String> {
        let n = self.number();
        (n > 1).then(|| self.link(self.query.author, n - 1))
    }

    fn next(&self) -> Option<String> {
        let n = self.number();
        (n < self.pages()).then(|| self.link(self.query.author, n + 1))
    }

    fn page_of(&self) -> String {
        (self.frame.t().page_of)(self.number(), self.pages())
    }

    fn capped(&self) -> Vec<(Who<'_>, String, String)> {
        let (lang, t) = (self.frame.lang, self.frame.t());
        self.page
            .capped
            .iter()
            .map(|c| {
                (
                    Who::capped(c),
                    (t.more_open_posts)(&i18n::number(lang, c.hidden)),
                    self.link(Some(c.author), 1),
                )
            })
            .collect()
    }

    fn held_back(&self) -> String {
        (self.frame.t().held_back)(&i18n::number(self.frame.lang, self.page.held_back))
    }

    /// Whose posts these are, when filtered by author: their name from their first post.
    fn posts_by(&self) -> Option<Who<'_>> {
        let author = self.query.author?;
        Some(match self.page.posts.first() {
            Some(p) => Who::author_of(p),
            None => Who {
                name: None,
                id: author,
                lookalike: false,
            },
        })
    }

    fn kinds(&self) -> Vec<Choice> {
        let lang = self.frame.lang;
        choices(
            &[Kind::Request, Kind::Offer],
            self.query.kind,
            Kind::as_str,
            |k| i18n::kind(lang, k).into(),
        )
    }

    fn categories(&self) -> Vec<Choice> {
        let lang = self.frame.lang;
        choices(Category::ALL, self.query.category, Category::as_str, |c| {
            i18n::category(lang, c).into()
        })
    }

    fn urgencies(&self) -> Vec<Choice> {
        let lang = self.frame.lang;
        choices(Urgency::ALL, self.query.urgency, Urgency::as_str, |u| {
            i18n::urgency(lang, u).into()
        })
    }

    fn area(&self) -> &str {
        self.query.area.as_deref().unwrap_or("")
    }

    fn q(&self) -> &str {
        self.query.q.as_deref().unwrap_or("")
    }

    fn cards(&self) -> Cards<'_> {
        let t = self.frame.t();
        let empty = if self.filtered() {
            t.board_empty_filtered
        } else {
            t.board_empty
        };
        Cards::of(&self.frame, "board", &self.page.posts, empty)
    }
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
    /// For a neighbour without a device: their name, as typed.
    pub(crate) behalf_name: String,
    /// And their consent, as typed.
    pub(crate) behalf_consent: String,
    /// (field name, message)
    pub(crate) errors: Vec<(&'static str, String)>,
}

impl PostForm {
    /// Whether the "for a neighbour" section opens: closed by default, open once
    /// something was typed in it or it holds an error.
    pub(crate) fn behalf_open(&self) -> bool {
        !self.behalf_name.trim().is_empty()
            || !self.behalf_consent.trim().is_empty()
            || self
                .errors
                .iter()
                .any(|(f, _)| matches!(*f, "behalf_name" | "behalf_consent"))
    }
}

/// The new-post page.
#[derive(Template)]
#[template(path = "new_post.html")]
pub(crate) struct NewPost<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) form: &'a PostForm,
    pub(crate) csrf: &'a str,
}

impl NewPost<'_> {
    fn errors(&self, field: &str) -> Vec<&str> {
        self.form
            .errors
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// The ids describing a field: its hint, and its error if any.
    fn described_by(&self, field: &str) -> String {
        if self.form.errors.iter().any(|(f, _)| *f == field) {
            format!("hint-{field} err-{field}")
        } else {
            format!("hint-{field}")
        }
    }

    fn kinds(&self) -> Vec<Choice> {
        let (lang, t) = (self.frame.lang, self.frame.t());
        choices(
            &[Kind::Request, Kind::Offer],
            Some(self.form.kind.unwrap_or(Kind::Request)),
            Kind::as_str,
            |k| format!("{} {}", t.field_kind, i18n::kind_choice(lang, k)),
        )
    }

    fn categories(&self) -> Vec<Choice> {
        let lang = self.frame.lang;
        choices(
            Category::ALL,
            Some(self.form.category.unwrap_or(Category::Other)),
            Category::as_str,
            |c| i18n::category(lang, c).into(),
        )
    }

    fn urgencies(&self) -> Vec<Choice> {
        let lang = self.frame.lang;
        choices(
            Urgency::ALL,
            Some(self.form.urgency.unwrap_or(Urgency::Week)),
            Urgency::as_str,
            |u| i18n::urgency(lang, u).into(),
        )
    }
}

/// One response on a post page.
#[derive(Debug)]
pub(crate) struct ResponseItem<'a> {
    pub(crate) response: &'a ResponseView,
    pub(crate) who: Who<'a>,
    pub(crate) age: String,
    pub(crate) accepted: bool,
    /// The author may accept this helper now.
    pub(crate) can_accept: bool,
    /// The author may thank this helper now.
    pub(crate) can_thank: bool,
}

/// One post with its responses, and what the viewer may do with it.
#[derive(Template)]
#[template(path = "post.html")]
pub(crate) struct Post<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) post: &'a PostView,
    pub(crate) viewer: &'a Viewer,
    pub(crate) csrf: &'a str,
    /// What was just done (the post was reported).
    pub(crate) notice: Option<&'a str>,
    /// Why the last action was refused.
    pub(crate) error: Option<&'a str>,
    /// The reason of a report the node refused, as typed (its form shows open).
    pub(crate) report: Option<&'a str>,
    /// The viewer's private messages about the post (empty unless they are a party).
    pub(crate) messages: &'a [entraide_crdt::message::MessageView],
}

impl Post<'_> {
    /// Whether someone other than the viewer responded (each such response has a block
    /// button, explained once below them).
    fn others_responded(&self) -> bool {
        self.post
            .responses
            .iter()
            .any(|r| r.helper != self.viewer.author)
    }

    /// Whether the viewer may write privately here: the post's author once someone
    /// responded, or a neighbour who responded.
    fn party(&self) -> bool {
        if self.mine() {
            !self.post.responses.is_empty()
        } else {
            self.responded()
        }
    }

    /// The helpers the author can write to (more than one: the form asks which).
    fn message_helpers(&self) -> Vec<Who<'_>> {
        if !self.mine() || self.post.responses.len() < 2 {
            return Vec::new();
        }
        self.responses().into_iter().map(|r| r.who).collect()
    }

    /// Who wrote a message, as shown: "you" for the viewer.
    fn message_from(&self, m: &entraide_crdt::message::MessageView) -> String {
        if m.from == self.viewer.author {
            self.frame.lang.messages().you.to_owned()
        } else {
            m.from_name.clone().unwrap_or_else(|| m.from.fmt_short())
        }
    }

    /// To whom the author's message went, when they talk with several helpers.
    fn message_to(&self, m: &entraide_crdt::message::MessageView) -> Option<String> {
        if !self.mine() || self.post.responses.len() < 2 {
            return None;
        }
        let other = if m.from == self.viewer.author {
            m.to
        } else {
            self.viewer.author
        };
        if other == self.viewer.author {
            return Some(self.frame.lang.messages().you.to_owned());
        }
        Some(
            self.post
                .responses
                .iter()
                .find(|r| r.helper == other)
                .and_then(|r| r.helper_name.clone())
                .unwrap_or_else(|| other.fmt_short()),
        )
    }

    /// The helper the author last wrote to or heard from: the form's choice stays on them.
    fn last_talked_to(&self) -> Option<entraide_crdt::AuthorId> {
        self.messages.last().map(|m| {
            if m.from == self.viewer.author {
                m.to
            } else {
                m.from
            }
        })
    }

    fn message_age(&self, m: &entraide_crdt::message::MessageView) -> String {
        i18n::relative(self.frame.lang, m.at, self.frame.now)
    }

    fn facts(&self) -> Facts<'_> {
        Facts::of(self.frame.lang, self.post, self.frame.now)
    }

    fn mine(&self) -> bool {
        self.post.author == self.viewer.author
    }

    fn live(&self) -> bool {
        self.post.status.is_live()
    }

    fn expiry(&self) -> String {
        i18n::relative(self.frame.lang, self.post.expires_at, self.frame.now)
    }

    fn accepted(&self) -> Option<Who<'_>> {
        self.post
            .accepted
            .map(|helper| Who::helper_of(self.post, helper))
    }

    fn responses(&self) -> Vec<ResponseItem<'_>> {
        let p = self.post;
        let mine = self.mine();
        p.responses
            .iter()
            .map(|r| {
                let accepted = p.accepted == Some(r.helper);
                ResponseItem {
                    response: r,
                    who: Who::helper(r),
                    age: i18n::relative(self.frame.lang, r.at, self.frame.now),
                    accepted,
                    can_accept: mine && self.live() && !accepted,
                    can_thank: mine
                        && !p.thanks.iter().any(|(h, _)| *h == r.helper)
                        && p.status != Status::Withdrawn,
                }
            })
            .collect()
    }

    fn thanks(&self) -> Vec<(Who<'_>, &str)> {
        self.post
            .thanks
            .iter()
            .map(|(helper, message)| (Who::helper_of(self.post, *helper), message.as_str()))
            .collect()
    }

    fn responded(&self) -> bool {
        self.post
            .responses
            .iter()
            .any(|r| r.helper == self.viewer.author)
    }

    /// The details, line by line (the template puts a `<br>` between lines).
    fn details_lines(&self) -> Vec<&str> {
        self.post.details.split('\n').collect()
    }
}

/// A post that is not (yet) on this computer.
#[derive(Template)]
#[template(path = "not_found.html")]
pub(crate) struct NotFound<'a> {
    pub(crate) frame: Frame<'a>,
}

/// An error, said in the resident's language.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct Error<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) message: &'a str,
}

/// The resident's own posts, and the posts they offered help on.
#[derive(Template)]
#[template(path = "mine.html")]
pub(crate) struct Mine<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) posts: &'a [PostView],
    pub(crate) responded: &'a [PostView],
}

impl Mine<'_> {
    fn posts(&self) -> Cards<'_> {
        Cards::of(
            &self.frame,
            "my-posts",
            self.posts,
            self.frame.t().mine_no_posts,
        )
    }

    fn responded(&self) -> Cards<'_> {
        Cards::of(
            &self.frame,
            "my-responses",
            self.responded,
            self.frame.t().mine_no_responses,
        )
    }
}

/// The neighbours this node knows, and what it holds.
#[derive(Template)]
#[template(path = "neighbours.html")]
pub(crate) struct Neighbours<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) peers: &'a [PeerInfo],
    pub(crate) status: &'a NodeStatus,
}

impl Neighbours<'_> {
    /// "This computer keeps the board of 2 residents: 5 posts (3 in progress)."
    fn summary(&self) -> String {
        let (lang, t, board) = (self.frame.lang, self.frame.t(), &self.status.board);
        let colon = if lang == Lang::Fr { " : " } else { ": " };
        format!(
            "{} {}{colon}{} ({} {}).",
            t.this_node_holds,
            i18n::count(lang, board.feeds, t.feeds),
            i18n::count(lang, board.posts, t.posts),
            board.live_posts,
            t.open_posts,
        )
    }

    fn sync(&self, peer: &PeerInfo) -> String {
        let t = self.frame.t();
        match peer.last_sync {
            Some(at) => format!(
                "{} {}",
                t.last_synced,
                i18n::relative(self.frame.lang, at, self.frame.now)
            ),
            None => t.never_synced.to_owned(),
        }
    }
}

/// The invite code, as text and as a QR code.
#[derive(Template)]
#[template(path = "invite.html")]
pub(crate) struct Invite<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) code: &'a str,
    /// The QR code of `code`: SVG that this program drew, the only markup a template
    /// writes unescaped.
    pub(crate) qr_svg: &'a str,
    /// The login code of other devices on the LAN, with `--ui-lan`.
    pub(crate) lan_code: Option<&'a str>,
}

/// The settings: name, language, identity, signed-in devices.
#[derive(Template)]
#[template(path = "settings.html")]
pub(crate) struct Settings<'a> {
    pub(crate) frame: Frame<'a>,
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
    /// The neighbours the resident blocked.
    pub(crate) blocked: &'a [entraide_node::blocked::BlockedView],
    /// Someone was just blocked or shown again: what to say.
    pub(crate) block_notice: Option<&'static str>,
}

impl Settings<'_> {
    fn lookalikes(&self) -> Vec<String> {
        self.who
            .name_lookalikes
            .iter()
            .map(AuthorId::fmt_short)
            .collect()
    }

    fn identity_file(&self) -> String {
        self.who.identity_file.display().to_string()
    }

    /// For a hosted resident: the name (or fingerprint) of whoever holds their key.
    fn host_name(&self) -> String {
        self.who
            .hosted_by
            .as_ref()
            .map(|h| h.name.clone().unwrap_or_else(|| h.fingerprint.clone()))
            .unwrap_or_default()
    }
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
#[derive(Template)]
#[template(path = "signin_needed.html")]
pub(crate) struct SigninNeeded<'a> {
    pub(crate) frame: Frame<'a>,
    /// A sign-in address was used again, or is no longer valid.
    pub(crate) refused: bool,
    pub(crate) signed_out: bool,
}

/// The login form: the LAN code of this computer's owner, or a hosted resident's own code.
#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct Login<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) notice: LoginNotice,
    /// The code the address carried (a resident's QR code), to sign in with one tap.
    pub(crate) code: &'a str,
}

/// The register form, with what was typed and why it was refused, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CareForm {
    pub(crate) name: String,
    pub(crate) area: String,
    /// The window typed, as minutes after midnight.
    pub(crate) start: u16,
    pub(crate) end: u16,
    /// The members ticked.
    pub(crate) circle: Vec<AuthorId>,
    pub(crate) consent: String,
    pub(crate) notes: String,
    pub(crate) me: bool,
    pub(crate) name_public: bool,
    /// Why the register refused it.
    pub(crate) error: Option<String>,
}

impl Default for CareForm {
    fn default() -> Self {
        CareForm {
            name: String::new(),
            area: String::new(),
            start: 9 * 60,
            end: 11 * 60,
            circle: Vec::new(),
            consent: String::new(),
            notes: String::new(),
            me: false,
            name_public: false,
            error: None,
        }
    }
}

/// `09:05`.
fn hh_mm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Where a record goes on the page: the ones needing someone first (not fine, nobody
/// went, missed), then someone going, then due, then checked, then later.
fn rank(s: CheckState) -> u8 {
    match s {
        CheckState::NotFine => 0,
        CheckState::Escalated => 1,
        CheckState::Missed => 2,
        CheckState::Taken => 3,
        CheckState::Due => 4,
        CheckState::Checked => 5,
        CheckState::Upcoming => 6,
        CheckState::NoAlert => 7,
    }
}

/// The colour of a record's state: red when someone is needed now, orange when nobody
/// has checked yet, blue when due, green when fine, grey otherwise.
fn tone(s: CheckState) -> &'static str {
    match s {
        CheckState::NotFine | CheckState::Escalated => "urgent",
        CheckState::Missed => "warn",
        CheckState::Due => "due",
        CheckState::Checked => "ok",
        CheckState::Taken | CheckState::Upcoming | CheckState::NoAlert => "calm",
    }
}

/// One person of the register as the care page shows them.
#[derive(Debug)]
pub(crate) struct CareItem<'a> {
    pub(crate) record: &'a CareRecord,
    pub(crate) id: String,
    /// `not_fine`, `due`…: for the tests and the style.
    pub(crate) state: &'static str,
    pub(crate) tone: &'static str,
    pub(crate) badge: &'static str,
    pub(crate) line: String,
    pub(crate) window: String,
    pub(crate) circle: Vec<Who<'a>>,
    pub(crate) registered_by: Who<'a>,
    /// "I am going" is offered (missed, nobody going yet).
    pub(crate) can_take: bool,
    /// The notes, line by line.
    pub(crate) notes: Vec<&'a str>,
    /// What the fold of the details says.
    pub(crate) fold: String,
}

/// One member the register form offers for the circle.
#[derive(Debug)]
pub(crate) struct CircleChoice<'a> {
    pub(crate) who: Who<'a>,
    /// Their id, the box's value.
    pub(crate) value: String,
    pub(crate) ticked: bool,
    pub(crate) is_me: bool,
}

/// One hour or minute of the window's selects.
#[derive(Debug)]
pub(crate) struct TimeChoice {
    pub(crate) value: String,
    pub(crate) selected: bool,
}

/// The care register's page: the resident's own "I am fine", today's checks for their
/// circles, and the register form.
#[derive(Template)]
#[template(path = "care.html")]
pub(crate) struct Care<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) list: &'a CareList,
    /// The members who may be put in a circle.
    pub(crate) members: &'a [CareMember],
    pub(crate) csrf: &'a str,
    pub(crate) form: &'a CareForm,
    /// What was just done ("Noted").
    pub(crate) saved: Option<&'a str>,
    /// Why an action on a record was refused.
    pub(crate) error: Option<&'a str>,
}

impl<'a> Care<'a> {
    /// A member's name: from the record, else from the members this node holds.
    fn who(&self, id: AuthorId, known: Option<&'a str>) -> Who<'a> {
        let name = known.or_else(|| {
            self.members
                .iter()
                .find(|m| m.id == id)
                .and_then(|m| m.name.as_deref())
        });
        Who {
            name,
            id,
            lookalike: false,
        }
    }

    /// Who did something, in a sentence: "you", or their name (or fingerprint).
    fn by(&self, id: AuthorId, known: Option<&str>) -> String {
        if id == self.list.me {
            return self.frame.t().care_you.to_owned();
        }
        match known {
            Some(name) => name.to_owned(),
            None => self
                .who(id, None)
                .name
                .map_or_else(|| id.fmt_short(), str::to_owned),
        }
    }

    fn item(&self, r: &'a CareRecord) -> CareItem<'a> {
        let (lang, now, v) = (self.frame.lang, self.frame.now, &r.view);
        let mut facts = i18n::CareFacts {
            name: &v.name,
            start: hh_mm(v.window.start),
            end: hh_mm(v.window.end),
            escalates: i18n::relative(lang, v.escalates_at, now),
            ..i18n::CareFacts::default()
        };
        if let Some(c) = &v.check {
            facts.by = self.by(c.by, r.checked_by_name.as_deref());
            facts.when = i18n::relative(lang, c.at, now);
            facts.how = i18n::care_how(lang, c.how);
        } else if let Some((by, at)) = v.taken_by {
            facts.by = self.by(by, r.taken_by_name.as_deref());
            facts.when = i18n::relative(lang, at, now);
        }
        CareItem {
            record: r,
            id: v.id.to_string(),
            state: v.state.as_str(),
            tone: tone(v.state),
            badge: i18n::care_state(lang, v.state),
            line: i18n::care_line(lang, v.state, &facts),
            window: window_text(lang, v.window),
            circle: v
                .circle
                .iter()
                .zip(&r.circle_names)
                .map(|(id, name)| self.who(*id, name.as_deref()))
                .collect(),
            registered_by: self.who(v.registered_by, None),
            can_take: matches!(v.state, CheckState::Missed | CheckState::Escalated),
            notes: if v.notes.is_empty() {
                Vec::new()
            } else {
                v.notes.split('\n').collect()
            },
            fold: self.frame.t().care_details.to_owned(),
        }
    }

    /// The records whose person is the resident: each gets the large "I am fine".
    fn mine(&self) -> Vec<CareItem<'a>> {
        self.list
            .records
            .iter()
            .filter(|r| r.is_me)
            .map(|r| CareItem {
                fold: format!("{} · {}", self.frame.t().care_details, r.view.name),
                ..self.item(r)
            })
            .collect()
    }

    /// Everyone else the resident can see, the ones needing someone first.
    fn others(&self) -> Vec<CareItem<'a>> {
        let mut records: Vec<&CareRecord> = self.list.records.iter().filter(|r| !r.is_me).collect();
        records.sort_by_key(|r| rank(r.view.state));
        records.into_iter().map(|r| self.item(r)).collect()
    }

    fn how(&self, how: CheckHow) -> &'static str {
        i18n::care_how(self.frame.lang, how)
    }

    /// Why the register form was refused.
    fn form_error(&self) -> Option<&str> {
        self.form.error.as_deref()
    }

    /// The hours to choose from, `selected` (minutes after midnight) chosen (the
    /// templates pass values by reference).
    fn hours(&self, selected: &u16) -> Vec<TimeChoice> {
        let selected = *selected;
        (0..24)
            .map(|h| TimeChoice {
                value: format!("{h:02}"),
                selected: selected / 60 == h,
            })
            .collect()
    }

    fn minutes(&self, selected: &u16) -> Vec<TimeChoice> {
        let selected = *selected;
        (0..60)
            .step_by(15)
            .map(|m| TimeChoice {
                value: format!("{m:02}"),
                selected: selected % 60 == m,
            })
            .collect()
    }

    /// The members to tick for the circle.
    fn circle_choices(&self) -> Vec<CircleChoice<'a>> {
        self.members
            .iter()
            .map(|m| CircleChoice {
                who: Who {
                    name: m.name.as_deref(),
                    id: m.id,
                    lookalike: false,
                },
                value: m.id.to_string(),
                ticked: self.form.circle.contains(&m.id),
                is_me: m.is_me,
            })
            .collect()
    }
}

/// "de 09:00 à 11:00" / "from 09:00 to 11:00".
fn window_text(lang: Lang, w: Window) -> String {
    let t = lang.t();
    format!(
        "{} {} {} {}",
        t.care_from.to_lowercase(),
        hh_mm(w.start),
        t.care_to,
        hh_mm(w.end)
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use entraide_crdt::PostId;
    use entraide_node::api::BoardQuery;

    use super::super::html::{Footer, Nav};
    use super::*;

    const NASTY: &str = r#"<script>alert("x")</script> & 'quotes' <i>"#;
    const ESCAPED: &str =
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &lt;i&gt;";

    /// The post page of `p` as a neighbour (neither its author nor a helper) sees it.
    fn neighbours_post_page(lang: Lang, p: &PostView) -> String {
        Post {
            frame: frame(lang),
            post: p,
            viewer: &Viewer { author: author(3) },
            csrf: "token",
            notice: None,
            error: None,
            report: None,
            messages: &[],
        }
        .render()
        .unwrap()
    }

    fn frame(lang: Lang) -> Frame<'static> {
        Frame {
            lang,
            title: NASTY,
            nav: Nav::Board,
            path: "/",
            footer: Footer::default(),
            now: 1_000_000,
            banner: Default::default(),
            care: Vec::new(),
        }
    }

    fn author(byte: u8) -> AuthorId {
        AuthorId([byte; 32])
    }

    fn post() -> PostView {
        PostView {
            id: "0123456789abcdef".parse::<PostId>().unwrap(),
            author: author(1),
            author_name: Some(NASTY.into()),
            author_name_lookalike: true,
            author_now: None,
            kind: Kind::Request,
            category: Category::Food,
            title: NASTY.into(),
            details: format!("{NASTY}\nline two"),
            urgency: Urgency::Today,
            area: NASTY.into(),
            created_at: 999_000,
            expires_at: 1_100_000,
            status: Status::Open,
            accepted: None,
            escalation: None,
            on_behalf_of: Some(OnBehalfOf {
                name: NASTY.into(),
                consent: NASTY.into(),
            }),
            responses: vec![ResponseView {
                helper: author(2),
                helper_name: Some(NASTY.into()),
                helper_name_lookalike: false,
                message: NASTY.into(),
                at: 999_500,
            }],
            thanks: vec![(author(2), NASTY.into())],
        }
    }

    /// No raw markup from a neighbour's text anywhere in `html`.
    fn assert_escaped(html: &str) {
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<i>"), "{html}");
        assert!(!html.contains("'quotes'"), "{html}");
        assert!(html.contains(ESCAPED), "{html}");
    }

    #[test]
    fn neighbour_text_is_escaped_on_the_post_page() {
        let p = post();
        for (viewer, lang) in [(author(1), Lang::Fr), (author(3), Lang::En)] {
            let html = Post {
                frame: frame(lang),
                post: &p,
                viewer: &Viewer { author: viewer },
                csrf: "tok\"en",
                notice: None,
                error: Some(NASTY),
                report: Some(NASTY),
                messages: &[],
            }
            .render()
            .unwrap();
            assert_escaped(&html);
            // The title, in <title> and <h1>; the details keep their line break.
            assert!(html.contains(&format!("<title>{ESCAPED} · entraide</title>")));
            assert!(html.contains(&format!("<h1>{ESCAPED}</h1>")));
            assert!(html.contains(&format!("{ESCAPED}<br>line two")));
            assert!(html.contains(r#"name="csrf" value="tok&quot;en""#));
            assert!(html.contains(r#"class="lookalike""#));
            // Posted for a neighbour: both names, and the consent.
            assert!(html.contains(&format!(
                r#"<strong class="behalf-name">{ESCAPED}</strong>"#
            )));
            assert!(html.contains(&format!(
                r#"<dd class="consent" id="consent">{ESCAPED}</dd>"#
            )));
        }
    }

    #[test]
    fn a_post_of_a_lost_key_names_its_author_by_the_new_key() {
        let mut p = post();
        p.author_now = Some(author(9));
        for (lang, words) in [
            (Lang::Fr, "avec son ancienne clé"),
            (Lang::En, "with their former key"),
        ] {
            let html = neighbours_post_page(lang, &p);
            let by = &html[html.find("<dl class=\"facts\">").unwrap()..];
            let by = &by[..by.find("</dd>").unwrap()];
            assert!(by.contains(&author(9).fmt_short()), "{by}");
            assert!(
                by.contains(&format!(
                    r#"id="former-key">({words} <span class="fp">{}</span>)"#,
                    author(1).fmt_short()
                )),
                "{by}"
            );
        }
        p.author_now = None;
        let html = neighbours_post_page(Lang::En, &p);
        assert!(!html.contains("former-key"));
    }

    #[test]
    fn the_section_for_a_neighbour_opens_only_when_it_holds_something() {
        let render = |form: &PostForm| {
            NewPost {
                frame: frame(Lang::En),
                form,
                csrf: "t",
            }
            .render()
            .unwrap()
        };
        assert!(render(&PostForm::default()).contains(r#"<details id="behalf"><summary>"#));
        let typed = PostForm {
            behalf_name: NASTY.into(),
            ..PostForm::default()
        };
        let html = render(&typed);
        assert!(html.contains(r#"<details id="behalf" open><summary>"#));
        assert_escaped(&html);
        let refused = PostForm {
            errors: vec![("behalf_consent", NASTY.into())],
            ..PostForm::default()
        };
        let html = render(&refused);
        assert!(html.contains(r#"<details id="behalf" open><summary>"#));
        assert!(html.contains(r#"aria-describedby="hint-behalf_consent err-behalf_consent""#));
    }

    #[test]
    fn neighbour_text_is_escaped_on_the_board() {
        let page = BoardPage {
            posts: vec![post()],
            offset: 0,
            total: 120,
            capped: vec![CappedAuthor {
                author: author(4),
                author_name: Some(NASTY.into()),
                author_name_lookalike: false,
                hidden: 3,
            }],
            held_back: 1,
        };
        let query = BoardQuery {
            area: Some(NASTY.into()),
            q: Some(NASTY.into()),
            author: Some(author(1)),
            ..BoardQuery::default()
        };
        let html = Board {
            frame: frame(Lang::En),
            page: &page,
            query: &query,
        }
        .render()
        .unwrap();
        assert_escaped(&html);
        assert!(html.contains(&format!(
            r#"<input id="f-area" name="area" value="{ESCAPED}">"#
        )));
        // Links carry the filters, escaped for the attribute.
        assert!(html.contains(r#"<a id="page-next" rel="next" href="/?area="#));
        assert!(html.contains("&amp;page=2\">"));
        assert!(html.contains(
            r#"class="card kind-request urgency-today" data-post-id="0123456789abcdef""#
        ));
        let mine = Mine {
            frame: frame(Lang::Fr),
            posts: &page.posts,
            responded: &[],
        }
        .render()
        .unwrap();
        assert_escaped(&mine);
        assert!(mine.contains(r#"<ul id="my-posts" class="cards">"#));
        assert!(mine.contains(r#"<ul id="my-responses" class="cards"></ul>"#));
    }

    #[test]
    fn neighbour_text_is_escaped_in_settings_and_errors() {
        let who = WhoAmI {
            author: author(1),
            fingerprint: "b9ca-556b".into(),
            name: Some(NASTY.into()),
            community: "c".into(),
            peer_id: "p".into(),
            identity_file: PathBuf::from("/tmp/x"),
            hosted_by: None,
            name_lookalikes: vec![author(2)],
            devices: Vec::new(),
        };
        let html = Settings {
            frame: frame(Lang::Fr),
            who: &who,
            csrf: "t",
            saved: false,
            error: Some(NASTY),
            sessions: (1, 0),
            others_signed_out: false,
            blocked: &[entraide_node::blocked::BlockedView {
                author: author(3),
                name: Some(NASTY.into()),
                fingerprint: "0303-0303".into(),
                reason: Some(NASTY.into()),
                at: 0,
            }],
            block_notice: None,
        }
        .render()
        .unwrap();
        assert_escaped(&html);
        assert!(html.contains(r#"id="name-lookalikes""#));
        let html = Error {
            frame: frame(Lang::En),
            message: NASTY,
        }
        .render()
        .unwrap();
        assert_escaped(&html);
    }

    #[test]
    fn neighbours_say_who_is_reached_only_through_the_meeting_point() {
        let peer = |id: &str, connected: bool, direct: bool| PeerInfo {
            peer_id: id.into(),
            author: None,
            name: None,
            connected,
            direct,
            addresses: Vec::new(),
            last_sync: None,
            rtt_micros: None,
            sync: Default::default(),
        };
        let peers = [
            peer("direct-one", true, true),
            peer("relayed-one", true, false),
            peer("gone-one", false, false),
        ];
        for (lang, relayed, behind) in [
            (
                Lang::En,
                "connected only through the meeting point",
                "behind a router",
            ),
            (
                Lang::Fr,
                "connecté seulement par le point de rencontre",
                "derrière une box",
            ),
        ] {
            let status = NodeStatus {
                author: author(1),
                name: None,
                community: "c".into(),
                online: true,
                listen_addresses: Vec::new(),
                peers_connected: 2,
                last_sync: None,
                recently_synced_peers: 0,
                board: Default::default(),
                board_digest: String::new(),
                network_bytes_sent: 0,
                network_bytes_received: 0,
                alerts: Vec::new(),
                clock_skew: None,
                reachable_directly: Some(false),
                hole_punches: 0,
            };
            let render = |status: &NodeStatus| {
                Neighbours {
                    frame: frame(lang),
                    peers: &peers,
                    status,
                }
                .render()
                .unwrap()
            };
            let html = render(&status);
            let item = |id: &str| {
                let at = html.find(id).unwrap();
                let end = at + html[at..].find("</li>").unwrap();
                html[at..end].to_owned()
            };
            assert!(item("relayed-one").contains(relayed), "{lang:?}: {html}");
            assert!(!item("direct-one").contains(relayed), "{lang:?}");
            assert!(!item("gone-one").contains(relayed), "{lang:?}");
            assert!(html.contains(r#"id="reachability" data-direct="false""#));
            assert!(html.contains(behind), "{lang:?}");
            let status = NodeStatus {
                reachable_directly: None,
                ..status
            };
            let html = render(&status);
            assert!(
                !html.contains("reachability"),
                "nothing said before anyone was asked"
            );
        }
    }

    /// Every `maxlength="N"` after `name="NAME"` in `html`.
    fn maxlength(html: &str, name: &str) -> usize {
        let at = html
            .find(&format!(r#"name="{name}""#))
            .unwrap_or_else(|| panic!("no field {name}"));
        let rest = &html[at..];
        let rest = &rest[rest.find("maxlength=\"").expect("a maxlength") + 11..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn field_limits_come_from_the_board_s_rules() {
        let form = PostForm::default();
        let html = NewPost {
            frame: frame(Lang::Fr),
            form: &form,
            csrf: "t",
        }
        .render()
        .unwrap();
        assert_eq!(maxlength(&html, "title"), Field::Title.max_chars());
        assert_eq!(maxlength(&html, "details"), Field::Details.max_chars());
        assert_eq!(maxlength(&html, "area"), Field::Area.max_chars());
        assert_eq!(
            maxlength(&html, "behalf_name"),
            Field::Neighbour.max_chars()
        );
        assert_eq!(
            maxlength(&html, "behalf_consent"),
            Field::Consent.max_chars()
        );

        let p = post();
        let html = neighbours_post_page(Lang::En, &p);
        assert_eq!(maxlength(&html, "message"), Field::Message.max_chars());
        // A neighbour's post: the folded report form, its reason's limit the board's.
        assert!(html.contains(r#"<details id="report" class="report">"#));
        assert_eq!(
            maxlength(&html, "reason"),
            entraide_crdt::report::MAX_REPORT_CHARS
        );
        // The author's page: the thank-you form's message.
        let unthanked = PostView {
            thanks: vec![],
            ..post()
        };
        let mine = Post {
            frame: frame(Lang::En),
            post: &unthanked,
            viewer: &Viewer { author: author(1) },
            csrf: "t",
            notice: None,
            error: None,
            report: None,
            messages: &[],
        }
        .render()
        .unwrap();
        assert!(mine.contains(r#"data-action="thank""#));
        assert!(!mine.contains("/report"), "a report form on one's own post");
        assert_eq!(maxlength(&mine, "message"), Field::Message.max_chars());

        let who = WhoAmI {
            author: author(1),
            fingerprint: "f".into(),
            name: None,
            community: "c".into(),
            peer_id: "p".into(),
            identity_file: PathBuf::from("/tmp/x"),
            hosted_by: None,
            name_lookalikes: vec![],
            devices: Vec::new(),
        };
        let html = Settings {
            frame: frame(Lang::En),
            who: &who,
            csrf: "t",
            saved: true,
            error: None,
            sessions: (1, 0),
            others_signed_out: false,
            blocked: &[],
            block_notice: None,
        }
        .render()
        .unwrap();
        assert_eq!(maxlength(&html, "name"), Field::Name.max_chars());
    }

    /// A record in `state`, named, noted and consented by a neighbour's nasty text.
    fn care_record(byte: u8, state: CheckState, is_me: bool) -> CareRecord {
        use entraide_crdt::care::{CareView, CheckHow, CheckView, RecordId};

        let check = matches!(state, CheckState::Checked | CheckState::NotFine).then(|| CheckView {
            by: author(2),
            how: CheckHow::Visit,
            fine: state == CheckState::Checked,
            note: NASTY.into(),
            at: 999_000,
        });
        CareRecord {
            view: CareView {
                id: RecordId([byte; 16]),
                name: format!("{NASTY} {byte}"),
                area: NASTY.into(),
                window: "09:00-11:00".parse().unwrap(),
                circle: vec![author(1), author(2)],
                subject: is_me.then(|| author(1)),
                registered_by: author(1),
                registered_at: 990_000,
                consent: NASTY.into(),
                notes: format!("{NASTY}\nporte bleue"),
                name_public: false,
                day: "1970-01-12".into(),
                state,
                check,
                taken_by: (state == CheckState::Taken).then_some((author(2), 999_500)),
                window_start: 990_000,
                window_end: 997_000,
                escalates_at: 1_001_800,
                escalation_key: [0; 8],
            },
            circle_names: vec![Some(NASTY.into()), None],
            checked_by_name: Some(NASTY.into()),
            taken_by_name: None,
            is_me,
        }
    }

    fn care_list(records: Vec<CareRecord>) -> CareList {
        CareList {
            alert_active: true,
            me: author(1),
            records,
            unread: 0,
        }
    }

    fn members() -> Vec<CareMember> {
        vec![
            CareMember {
                id: author(1),
                name: Some(NASTY.into()),
                is_me: true,
            },
            CareMember {
                id: author(2),
                name: None,
                is_me: false,
            },
        ]
    }

    fn care_page(list: &CareList, form: &CareForm, lang: Lang) -> String {
        let members = members();
        Care {
            frame: frame(lang),
            list,
            members: &members,
            csrf: "tok\"en",
            form,
            saved: None,
            error: Some(NASTY),
        }
        .render()
        .unwrap()
    }

    #[test]
    fn neighbour_text_is_escaped_on_the_care_page() {
        let list = care_list(vec![
            care_record(1, CheckState::Due, false),
            care_record(2, CheckState::NoAlert, true),
            care_record(3, CheckState::NotFine, false),
        ]);
        let form = CareForm {
            name: NASTY.into(),
            area: NASTY.into(),
            consent: NASTY.into(),
            notes: NASTY.into(),
            error: Some(NASTY.into()),
            ..CareForm::default()
        };
        for lang in [Lang::Fr, Lang::En] {
            let html = care_page(&list, &form, lang);
            assert_escaped(&html);
            assert!(html.contains(&format!("<h3>{ESCAPED} 1 <span")), "{html}");
            assert!(html.contains(&format!("{ESCAPED}<br>porte bleue")));
            assert!(html.contains(r#"name="csrf" value="tok&quot;en""#));
            assert!(!html.contains("tok\"en"));
            // The form gives back what was typed, escaped.
            assert!(html.contains(&format!(r#"value="{ESCAPED}""#)));
            assert!(html.contains(&format!(">{ESCAPED}</textarea>")));
        }
    }

    #[test]
    fn the_care_page_puts_the_person_s_own_button_first_and_those_needing_someone_next() {
        let list = care_list(vec![
            care_record(1, CheckState::Upcoming, false),
            care_record(2, CheckState::Checked, false),
            care_record(3, CheckState::Due, false),
            care_record(4, CheckState::Missed, false),
            care_record(5, CheckState::NoAlert, true),
            care_record(6, CheckState::NotFine, false),
            care_record(7, CheckState::Escalated, false),
        ]);
        let html = care_page(&list, &CareForm::default(), Lang::Fr);
        let at = |needle: &str| {
            html.find(needle)
                .unwrap_or_else(|| panic!("no {needle} in {html}"))
        };
        let fine = at(r#"data-action="i-am-fine""#);
        assert!(fine < at(r#"id="care-list""#));
        assert!(html.contains(&format!(
            r#"action="/care/{}/fine""#,
            entraide_crdt::care::RecordId([5; 16])
        )));
        assert_eq!(html.matches(r#"data-action="i-am-fine""#).count(), 1);
        let order: Vec<usize> = ["06", "07", "04", "03", "02", "01"]
            .iter()
            .map(|b| at(&format!(r#"id="r-{}""#, b.repeat(16))))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        // "I am going" only where nobody checked and nobody is going.
        assert_eq!(html.matches(r#"data-action="going""#).count(), 2);
        assert!(html.contains(r#"class="care-item tone-urgent""#));
        assert!(html.contains("Ne va pas bien"));
        // A remove button with its confirmation, on each record.
        assert_eq!(html.matches(r#"data-action="remove""#).count(), 7);
        assert_eq!(
            html.matches(r#"name="confirm" value="1" required"#).count(),
            7
        );
    }

    #[test]
    fn care_field_limits_come_from_the_register_s_rules() {
        let list = care_list(vec![care_record(1, CheckState::Due, false)]);
        let html = care_page(&list, &CareForm::default(), Lang::En);
        assert_eq!(maxlength(&html, "name"), Field::Name.max_chars());
        assert_eq!(maxlength(&html, "area"), Field::Area.max_chars());
        assert_eq!(maxlength(&html, "consent"), MAX_CONSENT_CHARS);
        assert_eq!(maxlength(&html, "notes"), MAX_MESSAGE_CHARS);
        assert_eq!(maxlength(&html, "note"), MAX_MESSAGE_CHARS);
        assert!(html.contains(&format!(r#"minlength="{MIN_CONSENT_CHARS}""#)));
        // Every member is offered for the circle, by name or fingerprint.
        assert_eq!(html.matches(r#"name="circle""#).count(), 2);
        assert!(html.contains(&format!(r#"value="{}""#, author(2))));
    }

    #[test]
    fn every_page_shows_who_needs_someone_apart_from_the_rest() {
        use super::super::html::CareAlert;

        for (lang, not_fine, want) in [
            (
                Lang::Fr,
                false,
                format!("Personne n&#39;a vérifié que {ESCAPED} va bien aujourd&#39;hui."),
            ),
            (Lang::En, true, format!("{ESCAPED} is not fine.")),
        ] {
            let mut f = frame(lang);
            f.care = vec![CareAlert {
                name: NASTY.into(),
                not_fine,
            }];
            let html = Error {
                frame: f,
                message: "x",
            }
            .render()
            .unwrap();
            assert_escaped(&html);
            let strip = html.find(r#"<section id="care-strip""#).expect("the strip");
            assert!(strip < html.find("<main").unwrap());
            assert!(html.contains(&want), "{html}");
            assert!(html[strip..].contains(r#"<a href="/care">"#));
        }
        let html = Error {
            frame: frame(Lang::Fr),
            message: "x",
        }
        .render()
        .unwrap();
        assert!(!html.contains("care-strip"));
        assert!(html.contains(r#"id="nav-care" href="/care""#));
    }

    #[test]
    fn only_the_qr_code_is_written_unescaped() {
        for (name, source) in [
            ("layout", include_str!("templates/layout.html")),
            ("macros", include_str!("templates/macros.html")),
            ("board", include_str!("templates/board.html")),
            ("new_post", include_str!("templates/new_post.html")),
            ("post", include_str!("templates/post.html")),
            ("not_found", include_str!("templates/not_found.html")),
            ("error", include_str!("templates/error.html")),
            ("mine", include_str!("templates/mine.html")),
            ("neighbours", include_str!("templates/neighbours.html")),
            ("settings", include_str!("templates/settings.html")),
            (
                "signin_needed",
                include_str!("templates/signin_needed.html"),
            ),
            ("login", include_str!("templates/login.html")),
            ("care", include_str!("templates/care.html")),
            ("care_macros", include_str!("templates/care_macros.html")),
        ] {
            assert!(
                !source.contains("|safe"),
                "{name} writes something unescaped"
            );
            assert!(!source.contains("|e"), "{name} escapes by hand");
        }
        let invite = include_str!("templates/invite.html");
        assert_eq!(invite.matches("|safe").count(), 1);
        assert!(invite.contains("{{ qr_svg|safe }}"));
    }
}

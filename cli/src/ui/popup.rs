//! The pop-up board (issue 14): `entraide up --popup` lets passers-by on the same Wi-Fi
//! join this node as guests.
//!
//! The host's terminal and `/poster` show `http://<LAN IPv4>:<port>/join?t=TOKEN` as a QR
//! code. The token is 128 random bits, held only in memory, compared in constant time; it
//! is the only way in, so a photographed poster is worth nothing once the host replaces it
//! (`POST /popup/token`) or ends the pop-up (`POST /popup/end`). A guest types a name on
//! `/join` and becomes a hosted resident of this node ([`Node::add_resident`]), signed in
//! on that device at once with a resident's page session.
//!
//! Guests are throttled ([`GuestThrottle`]): [`GUESTS_PER_CLIENT`] per client (one IPv4
//! address, one IPv6 /64) per [`GUEST_CLIENT_WINDOW`], [`GUESTS_OVERALL`] in all per
//! [`GUEST_OVERALL_WINDOW`], and never more than [`MAX_RESIDENTS`] hosted residents.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use entraide_node::residents::{MAX_RESIDENTS, ResidentError};
use entraide_node::{Node, NodeError};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::html::{Frame, Nav};
use super::i18n::{self, Lang, PopupStrings};
use super::security::{self, Conn, ResidentSession, Visitor, client_key, constant_time_eq};
use super::{CsrfBody, Ui, error_page, html, lang_of, now, qr_svg};

/// Guests one client may add per [`GUEST_CLIENT_WINDOW`].
pub(crate) const GUESTS_PER_CLIENT: usize = 3;
/// The window of [`GUESTS_PER_CLIENT`].
pub(crate) const GUEST_CLIENT_WINDOW: Duration = Duration::from_secs(3600);
/// Guests that may join altogether per [`GUEST_OVERALL_WINDOW`].
pub(crate) const GUESTS_OVERALL: usize = 20;
/// The window of [`GUESTS_OVERALL`].
pub(crate) const GUEST_OVERALL_WINDOW: Duration = Duration::from_secs(600);
/// Most clients whose guests are remembered (a bound on memory).
const MAX_TRACKED_CLIENTS: usize = 4096;
/// Longest name field read from the form (the node's own name rules apply after).
const MAX_NAME_FIELD: usize = 256;

/// The pop-up of a running node: its join token (until it ends), the Wi-Fi to name on the
/// poster, and the guests who joined lately.
#[derive(Debug)]
pub(crate) struct Popup {
    /// The node as its owner: guests are added by the owner, whoever asks.
    node: Node,
    /// `http://<LAN IPv4>:<port>`, the start of the join address.
    base: String,
    /// The host's name when the pop-up opened: what the join page says if the node cannot
    /// tell its name now ([`Popup::host_name`]).
    host: String,
    wifi: Option<String>,
    token: JoinToken,
    guests: GuestThrottle,
}

impl Popup {
    /// The host's name as it is now (renamed since the pop-up opened, perhaps), else
    /// their name when it opened.
    async fn host_name(&self) -> String {
        match self.node.whoami().await {
            Ok(who) => who.name.unwrap_or(who.fingerprint),
            Err(_) => self.host.clone(),
        }
    }

    /// A pop-up open now, with a new token.
    pub(crate) fn new(node: Node, base: String, host: String, wifi: Option<String>) -> Self {
        Self {
            node,
            base,
            host,
            wifi,
            token: JoinToken::new(rand::random()),
            guests: GuestThrottle::default(),
        }
    }

    /// The address of the QR code, while the pop-up is open.
    pub(crate) fn join_url(&self) -> Option<String> {
        let token = self.token.current()?;
        Some(format!("{}/join?t={token}", self.base))
    }
}

/// What a typed token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenCheck {
    Valid,
    Wrong,
    Ended,
}

/// The join token: 128 bits as 32 hex digits while the pop-up is open, none once ended.
/// Randomness is an input.
#[derive(Debug)]
struct JoinToken(Mutex<Option<String>>);

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl JoinToken {
    fn new(random: [u8; 16]) -> Self {
        Self(Mutex::new(Some(hex::encode(random))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> Option<String> {
        self.lock().clone()
    }

    /// A new token (the old one is refused from now on); nothing once ended.
    fn replace(&self, random: [u8; 16]) {
        let mut token = self.lock();
        if token.is_some() {
            *token = Some(hex::encode(random));
        }
    }

    /// Ends the pop-up: no token is valid any more.
    fn end(&self) {
        *self.lock() = None;
    }

    /// Compares the hashes, so the time taken says nothing of the token.
    fn check(&self, typed: &str) -> TokenCheck {
        match self.lock().as_deref() {
            None => TokenCheck::Ended,
            Some(t) if constant_time_eq(&digest(typed.trim()), &digest(t)) => TokenCheck::Valid,
            Some(_) => TokenCheck::Wrong,
        }
    }
}

/// Guests who joined lately, per client and altogether; see the module documentation for
/// the limits. Time is an input.
#[derive(Debug, Default)]
pub(crate) struct GuestThrottle {
    inner: Mutex<GuestCounts>,
}

#[derive(Debug, Default)]
struct GuestCounts {
    clients: HashMap<IpAddr, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

fn forget_before(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// How long until the oldest of `times` leaves `window`, if `times` holds `max` already.
fn wait(times: &VecDeque<Instant>, max: usize, now: Instant, window: Duration) -> Option<Duration> {
    (times.len() >= max).then(|| {
        let oldest = times.front().copied().unwrap_or(now);
        window.saturating_sub(now.saturating_duration_since(oldest))
    })
}

impl GuestThrottle {
    /// Takes a place for a guest from `client` now, or says how long to wait. A place
    /// taken for a guest who could not be added is given back with [`Self::release`].
    pub(crate) fn admit(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = client_key(client);
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        forget_before(&mut c.all, now, GUEST_OVERALL_WINDOW);
        if let Some(w) = wait(&c.all, GUESTS_OVERALL, now, GUEST_OVERALL_WINDOW) {
            return Err(w);
        }
        if c.clients.len() >= MAX_TRACKED_CLIENTS && !c.clients.contains_key(&key) {
            c.clients.retain(|_, t| {
                t.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < GUEST_CLIENT_WINDOW)
            });
            if c.clients.len() >= MAX_TRACKED_CLIENTS {
                // Every tracked client joined within the hour: refuse newcomers rather
                // than forget a client who is at their limit.
                return Err(GUEST_OVERALL_WINDOW);
            }
        }
        let mine = c.clients.entry(key).or_default();
        forget_before(mine, now, GUEST_CLIENT_WINDOW);
        if let Some(w) = wait(mine, GUESTS_PER_CLIENT, now, GUEST_CLIENT_WINDOW) {
            return Err(w);
        }
        mine.push_back(now);
        c.all.push_back(now);
        Ok(())
    }

    /// Gives back the place [`Self::admit`] took at `at` for `client`.
    pub(crate) fn release(&self, client: IpAddr, at: Instant) {
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = c.all.iter().rposition(|t| *t == at) {
            c.all.remove(i);
        }
        if let Some(mine) = c.clients.get_mut(&client_key(client))
            && let Some(i) = mine.iter().rposition(|t| *t == at)
        {
            mine.remove(i);
        }
    }
}

/// The pop-up's routes, merged into the page's router (behind the same gate: `/join` is
/// public, the others are the owner's).
pub(super) fn routes() -> Router<Ui> {
    Router::new()
        .route("/join", get(join_form).post(join_submit))
        .route("/poster", get(poster))
        .route("/popup/{action}", post(host_action))
}

/// The paths only the node's owner may use (hosted residents and guests get 403).
pub(super) fn owner_only(path: &str) -> bool {
    path == "/poster" || path.starts_with("/popup/")
}

/// The join page: the form, or why there is none.
#[derive(Template)]
#[template(path = "join.html")]
pub(crate) struct JoinPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) s: &'static PopupStrings,
    /// The token of the address, sent back with the form; `None` when refused.
    pub(crate) token: Option<&'a str>,
    pub(crate) host: &'a str,
    pub(crate) name: &'a str,
    /// Why the form was refused, or why joining is not possible.
    pub(crate) error: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
struct JoinQuery {
    #[serde(default)]
    t: String,
}

#[derive(Debug, Default, Deserialize)]
struct JoinBody {
    #[serde(default)]
    t: String,
    #[serde(default)]
    name: String,
}

async fn join_page(
    ui: &Ui,
    lang: Lang,
    status: StatusCode,
    token: Option<&str>,
    name: &str,
    error: Option<&str>,
) -> Response {
    let s = lang.popup();
    let title = if token.is_some() {
        s.join_title
    } else {
        s.refused_title
    };
    let frame = ui.frame_without_care(lang, title, Nav::None, "/join").await;
    let host = match ui.popup.as_ref() {
        Some(popup) => popup.host_name().await,
        None => String::new(),
    };
    html(
        status,
        &JoinPage {
            frame,
            s,
            token,
            host: &host,
            name,
            error,
        },
    )
}

/// Refuses a token that is not the current one (or any token, with no pop-up open).
async fn refuse(ui: &Ui, lang: Lang, check: Option<TokenCheck>) -> Response {
    let s = lang.popup();
    let (status, message) = match check {
        None => (StatusCode::NOT_FOUND, s.join_none),
        Some(TokenCheck::Ended) => (StatusCode::GONE, s.join_ended),
        Some(_) => (StatusCode::FORBIDDEN, s.join_wrong),
    };
    join_page(ui, lang, status, None, "", Some(message)).await
}

async fn join_form(
    Extension(ui): Extension<Ui>,
    headers: HeaderMap,
    Query(q): Query<JoinQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let check = ui.popup.as_ref().map(|p| p.token.check(&q.t));
    if check != Some(TokenCheck::Valid) {
        return refuse(&ui, lang, check).await;
    }
    join_page(&ui, lang, StatusCode::OK, Some(q.t.trim()), "", None).await
}

/// A name typed on the join page: with a valid token and within the throttle, a new
/// hosted resident, signed in on this device at once.
async fn join_submit(
    Extension(ui): Extension<Ui>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    Form(b): Form<JoinBody>,
) -> Response {
    let lang = lang_of(&headers);
    let s = lang.popup();
    let client = conn.remote.ip();
    let started = Instant::now();
    let Some(popup) = ui.popup.clone() else {
        return refuse(&ui, lang, None).await;
    };
    // Wrong tokens count as wrong login codes: guessing is throttled like them.
    if let Err(wait) = ui.throttle.check(client, started) {
        return throttled(&ui, lang, wait).await;
    }
    let check = popup.token.check(&b.t);
    if check != TokenCheck::Valid {
        if check == TokenCheck::Wrong {
            ui.throttle.failed(client, started);
            tracing::info!("page: wrong pop-up token from {client}");
        }
        return refuse(&ui, lang, Some(check)).await;
    }
    let name: String = b.name.chars().take(MAX_NAME_FIELD).collect();
    let token = b.t.trim();
    if let Err(wait) = popup.guests.admit(client, started) {
        tracing::info!("page: too many guests (from {client}, or altogether)");
        return throttled(&ui, lang, wait).await;
    }
    let added = popup.node.add_resident(name.trim()).await;
    let (info, _code) = match added {
        Ok(added) => added,
        Err(e) => {
            popup.guests.release(client, started);
            let (status, message) = match &e {
                NodeError::Resident(ResidentError::NameTaken(_)) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, s.join_name_taken.into())
                }
                NodeError::Resident(ResidentError::BadName(t)) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, i18n::text_error(lang, t))
                }
                NodeError::Resident(ResidentError::TooMany) => {
                    tracing::warn!("page: a guest could not join: {MAX_RESIDENTS} residents");
                    (StatusCode::SERVICE_UNAVAILABLE, s.join_full.into())
                }
                _ => {
                    tracing::warn!("page: a guest could not join: {e}");
                    return error_page(
                        &ui,
                        lang,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &i18n::node_error(lang, &e),
                    )
                    .await;
                }
            };
            return join_page(&ui, lang, status, Some(token), &name, Some(&message)).await;
        }
    };
    tracing::info!(guest = %info.fingerprint, "page: a guest joined the pop-up board");
    let session = ui.sessions.begin_resident(
        ResidentSession {
            author: info.author,
            code_tag: info.code_tag,
        },
        now(),
    );
    let mut response = Redirect::to("/").into_response();
    if let Some(v) = security::set_cookie(
        &ui.cookie,
        &session,
        security::RESIDENT_SESSION_LIFETIME_SECS,
    ) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn throttled(ui: &Ui, lang: Lang, wait: Duration) -> Response {
    let s = lang.popup();
    let mut response = join_page(
        ui,
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        None,
        "",
        Some(s.join_throttled),
    )
    .await;
    if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// What the poster shows.
#[derive(Debug)]
pub(crate) enum PosterState {
    /// No pop-up on this run: how to start one.
    None,
    /// The pop-up has ended: how to start another.
    Ended,
    /// Open: the QR code of the join address (SVG drawn here, written unescaped).
    Open { qr_svg: String },
}

/// `/poster`: an A4 sheet to print or show on a screen, and the host's two buttons.
#[derive(Template)]
#[template(path = "poster.html")]
pub(crate) struct PosterPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) s: &'static PopupStrings,
    pub(crate) csrf: &'a str,
    pub(crate) state: PosterState,
    pub(crate) wifi: Option<&'a str>,
    pub(crate) made: String,
    pub(crate) replaced: bool,
}

#[derive(Debug, Default, Deserialize)]
struct PosterQuery {
    #[serde(default)]
    replaced: String,
}

async fn poster(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Query(q): Query<PosterQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let s = lang.popup();
    let state = match ui.popup.as_ref() {
        None => PosterState::None,
        Some(p) => match p.join_url() {
            None => PosterState::Ended,
            Some(url) => PosterState::Open {
                qr_svg: qr_svg(&url),
            },
        },
    };
    let frame = ui
        .frame_without_care(lang, s.poster_title, Nav::None, "/poster")
        .await;
    html(
        StatusCode::OK,
        &PosterPage {
            frame,
            s,
            csrf: &visitor.csrf,
            state,
            wifi: ui.popup.as_ref().and_then(|p| p.wifi.as_deref()),
            made: super::public::when_words(lang, now()),
            replaced: !q.replaced.is_empty(),
        },
    )
}

/// The host's two buttons, `POST /popup/token` (a new token: the old QR code is refused
/// from then on) and `POST /popup/end` (nobody new can join); back to the poster.
async fn host_action(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(b): Form<CsrfBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let Some(popup) = ui.popup.as_deref() else {
        return Redirect::to("/poster").into_response();
    };
    match action.as_str() {
        "token" => {
            popup.token.replace(rand::random());
            tracing::info!("page: the pop-up's join code was replaced");
            Redirect::to("/poster?replaced=1").into_response()
        }
        "end" => {
            popup.token.end();
            tracing::info!("page: the pop-up board has ended");
            Redirect::to("/poster").into_response()
        }
        _ => error_page(&ui, lang, StatusCode::NOT_FOUND, lang.t().error_generic).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_token_is_refused_and_an_ended_pop_up_takes_none() {
        let t = JoinToken::new([7; 16]);
        let first = t.current().unwrap();
        assert_eq!(first.len(), 32, "128 bits");
        assert_eq!(t.check(&first), TokenCheck::Valid);
        assert_eq!(t.check(&format!(" {first}\n")), TokenCheck::Valid);
        assert_eq!(t.check(""), TokenCheck::Wrong);
        assert_eq!(t.check(&first[..31]), TokenCheck::Wrong);
        t.replace([8; 16]);
        assert_eq!(t.check(&first), TokenCheck::Wrong);
        let second = t.current().unwrap();
        assert_eq!(t.check(&second), TokenCheck::Valid);
        t.end();
        assert_eq!(t.check(&second), TokenCheck::Ended);
        t.replace([9; 16]);
        assert_eq!(t.current(), None, "an ended pop-up stays ended");
    }

    #[test]
    fn guests_are_limited_per_client_and_altogether_and_windows_pass() {
        let t = GuestThrottle::default();
        let start = Instant::now();
        let a: IpAddr = "192.168.1.20".parse().unwrap();
        for i in 0..GUESTS_PER_CLIENT {
            assert!(t.admit(a, start).is_ok(), "guest {i}");
        }
        let wait = t.admit(a, start + Duration::from_secs(1)).unwrap_err();
        assert!(
            wait > GUEST_CLIENT_WINDOW - Duration::from_secs(5),
            "{wait:?}"
        );
        assert!(
            t.admit(a, start + GUEST_CLIENT_WINDOW).is_ok(),
            "an hour later"
        );
        // A place given back (a name already taken) does not count.
        let b: IpAddr = "192.168.1.21".parse().unwrap();
        for _ in 0..10 {
            assert!(t.admit(b, start).is_ok());
            t.release(b, start);
        }
        // Altogether: many clients, one each, until the overall limit.
        let t = GuestThrottle::default();
        for i in 0..GUESTS_OVERALL as u32 {
            let c = IpAddr::from((0x0a00_0000u32 + i).to_be_bytes());
            assert!(t.admit(c, start).is_ok(), "client {i}");
        }
        let late = IpAddr::from([10, 9, 9, 9]);
        assert!(t.admit(late, start).is_err());
        assert!(t.admit(late, start + GUEST_OVERALL_WINDOW).is_ok());
    }

    #[test]
    fn an_ipv6_guest_is_counted_by_its_64() {
        let t = GuestThrottle::default();
        let now = Instant::now();
        for i in 0..GUESTS_PER_CLIENT {
            let ip: IpAddr = format!("fd00::{i}:1").parse().unwrap();
            assert!(t.admit(ip, now).is_ok());
        }
        assert!(t.admit("fd00::9:9".parse().unwrap(), now).is_err());
    }
}

//! Who may use the local page, and how each request is checked: every rule in one module.
//!
//! The page holds the community secret (the invite), the board, and the power to post as
//! the resident. Four kinds of visitor try it:
//!
//! - **a web page the resident opens**, which can send requests to `127.0.0.1` and can even
//!   rebind its own domain name to `127.0.0.1` (DNS rebinding), so that its requests carry
//!   its own name in `Host` and `Origin`;
//! - **another account on the same computer**, which can connect to `127.0.0.1` like the
//!   resident but cannot read the resident's data folder;
//! - **a host on the LAN** (with `--ui-lan`), which can connect, guess login codes, and hold
//!   connections open;
//! - **the resident**, on this computer or on a phone signed in with the LAN code.
//!
//! What the gate ([`gate`]) checks, in this order, before any route runs:
//!
//! 1. [`host_allowed`]: the `Host` header names the address the connection arrived on
//!    (`localhost` too when that is a loopback address). A rebinding page's name is
//!    refused with `421`, the API and `/events` included.
//! 2. The JSON API (`/api/`) answers only connections from this computer ([`Conn::is_local`]);
//!    its bearer token is checked by the API itself.
//! 3. Every page except the assets, the sign-in routes, the pop-up's join page (its own
//!    token, `ui::popup`) and the language switch needs a session cookie ([`Sessions`]): a one-time sign-in address (printed by `entraide up`,
//!    or made by `entraide open`) for this computer's browser, or the LAN login code.
//! 4. Every POST comes from the page itself ([`same_origin`]) and carries the session's own
//!    form token ([`Visitor::csrf`]), compared in constant time.
//!
//! Around them: wrong login codes are throttled per client ([`LoginThrottle`]), connections
//! are capped per client and per kind of client ([`ConnectionLimiter`]), redirects only
//! follow same-site relative paths ([`safe_local_path`]). Time is always an input.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use entraide_crdt::AuthorId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long this computer's browser stays signed in after a sign-in address was used.
pub(crate) const OWNER_SESSION_LIFETIME_SECS: i64 = 365 * 24 * 3600;
/// How long a LAN login (a phone) lasts at most.
pub(crate) const LAN_SESSION_LIFETIME_SECS: i64 = 30 * 24 * 3600;
/// A LAN login unused this long ends.
pub(crate) const LAN_SESSION_IDLE_SECS: i64 = 7 * 24 * 3600;
/// How long a one-time sign-in address stays valid if nobody opens it.
pub(crate) const SIGNIN_LINK_LIFETIME_SECS: i64 = 24 * 3600;
/// Most sessions of this computer's browsers kept (oldest forgotten first).
const MAX_OWNER_SESSIONS: usize = 32;
/// Most LAN logins kept (oldest forgotten first).
const MAX_LAN_SESSIONS: usize = 64;
/// How long a hosted resident's device stays signed in at most.
pub(crate) const RESIDENT_SESSION_LIFETIME_SECS: i64 = 180 * 24 * 3600;
/// A hosted resident's device unused this long is signed out.
pub(crate) const RESIDENT_SESSION_IDLE_SECS: i64 = 60 * 24 * 3600;
/// Most devices of hosted residents signed in at once (oldest forgotten first).
const MAX_RESIDENT_SESSIONS: usize = 256;
/// Most unused sign-in addresses kept (oldest forgotten first).
const MAX_PENDING_LINKS: usize = 16;

/// Wrong login codes one client may send per [`LOGIN_WINDOW`]; then it must wait.
pub(crate) const MAX_LOGIN_FAILURES_PER_CLIENT: usize = 10;
/// The window of [`MAX_LOGIN_FAILURES_PER_CLIENT`].
pub(crate) const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// Most clients whose failures are remembered (a bound on memory; oldest forgotten first).
const MAX_THROTTLED_CLIENTS: usize = 4096;

/// Open connections one LAN client (one IPv4 address, one IPv6 /64) may hold.
pub(crate) const MAX_CONNECTIONS_PER_CLIENT: usize = 16;
/// Open connections from the LAN altogether.
pub(crate) const MAX_LAN_CONNECTIONS: usize = 256;
/// Open connections from this computer altogether (a pool of its own, so the LAN can never
/// take the resident's own page away).
pub(crate) const MAX_LOCAL_CONNECTIONS: usize = 512;

/// One connection to the page: who connected, and to which of our addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conn {
    /// The client's address.
    pub(crate) remote: SocketAddr,
    /// Our address the connection arrived on.
    pub(crate) local: SocketAddr,
}

impl Conn {
    /// Whether the client is a process of this computer.
    pub(crate) fn is_local(&self) -> bool {
        self.remote.ip().to_canonical().is_loopback()
    }
}

/// Whether a request's `Host` names the address its connection arrived on: the IP literal
/// and port of `local`, or `localhost` and the port when `local` is a loopback address.
///
/// A page that rebinds its own domain name to our address still sends its own name here,
/// so it is refused; a LAN phone that typed our address is accepted.
pub(crate) fn host_allowed(host: Option<&HeaderValue>, local: SocketAddr) -> bool {
    let Some(authority) = host
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
    else {
        return false;
    };
    // An authority with user info (`a@b`) is not a Host.
    if authority.as_str().contains('@') {
        return false;
    }
    let port_ok = match authority.port_u16() {
        Some(port) => port == local.port(),
        None => local.port() == 80,
    };
    let name = authority.host();
    let literal = name.trim_start_matches('[').trim_end_matches(']');
    let host_ok = match literal.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical() == local.ip().to_canonical(),
        Err(_) => name.eq_ignore_ascii_case("localhost") && local.ip().is_loopback(),
    };
    port_ok && host_ok
}

/// Whether a POST comes from the page itself: its `Origin` (or, failing that, its
/// `Referer`) has the very scheme-less authority the `Host` header names. Browsers send one
/// of them on every cross-site form post; a request with neither is not from a browser
/// page (the form token still applies to it).
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    let Some(source) = source else {
        return true;
    };
    source_authority(source).is_some_and(|a| a.as_str().eq_ignore_ascii_case(host))
}

/// The authority of an `http://` origin or referer; `None` for anything else (`null`,
/// another scheme, garbage).
fn source_authority(value: &HeaderValue) -> Option<Authority> {
    let uri: Uri = value.to_str().ok()?.parse().ok()?;
    if uri.scheme_str() != Some("http") {
        return None;
    }
    uri.authority().cloned()
}

/// The path and query of a same-origin `Referer`, to send a visitor back where they were.
pub(crate) fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let authority = source_authority(referer)?;
    if !authority.as_str().eq_ignore_ascii_case(host) {
        return None;
    }
    let uri: Uri = referer.to_str().ok()?.parse().ok()?;
    safe_local_path(uri.path_and_query()?.as_str())
}

/// `path` if it is a same-site relative path that every browser reads the same way: it
/// starts with one `/`, is printable ASCII with no backslash (browsers drop tabs and
/// newlines and read `\` as `/`, which turns `/\t/evil.example` into `//evil.example`),
/// and parses as a path and query.
pub(crate) fn safe_local_path(path: &str) -> Option<String> {
    let printable = path
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\');
    let mut chars = path.chars();
    let single_slash = chars.next() == Some('/') && chars.next() != Some('/');
    if !(printable && single_slash) {
        return None;
    }
    let parsed: axum::http::uri::PathAndQuery = path.parse().ok()?;
    (parsed.as_str() == path).then(|| path.to_owned())
}

/// Two secrets compared in time that does not depend on where they differ (the node's
/// one comparison of secrets).
pub(crate) use entraide_node::api::constant_time_eq;

/// The value of cookie `name` in a request.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value: host-only, path `/`, `SameSite=Strict`, lasting `max_age`.
/// `http_only` keeps it away from scripts (the session; the language cookie too).
pub(crate) fn set_cookie(name: &str, value: &str, max_age_secs: i64) -> Option<HeaderValue> {
    let c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
}

/// A `Set-Cookie` value that removes cookie `name`.
pub(crate) fn remove_cookie(name: &str) -> Option<HeaderValue> {
    set_cookie(name, "", 0)
}

/// The name of the session cookie of the page on `port`. Browsers share cookies between
/// ports of one host, so two nodes on one computer need two names.
pub(crate) fn session_cookie_name(port: u16) -> String {
    format!("entraide-{port}")
}

fn hash(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(token.as_bytes()));
    out
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// How a session began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SessionKind {
    /// A browser of this computer, signed in with a one-time sign-in address.
    Owner,
    /// A device signed in with the LAN login code.
    Lan,
    /// A device of a resident hosted on this node, signed in with their own login code.
    Resident,
}

/// Which hosted resident a session is, and with which of their login codes it began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResidentSession {
    /// The resident.
    pub(crate) author: AuthorId,
    /// The tag of the code they signed in with (`ResidentInfo::code_tag`): once the code
    /// is replaced, the session no longer counts.
    pub(crate) code_tag: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Session {
    kind: SessionKind,
    created: i64,
    last_used: i64,
    #[serde(default)]
    resident: Option<ResidentSession>,
}

impl Session {
    fn alive(&self, now: i64) -> bool {
        match self.kind {
            SessionKind::Owner => now < self.created + OWNER_SESSION_LIFETIME_SECS,
            SessionKind::Lan => {
                now < self.created + LAN_SESSION_LIFETIME_SECS
                    && now < self.last_used + LAN_SESSION_IDLE_SECS
            }
            SessionKind::Resident => {
                self.resident.is_some()
                    && now < self.created + RESIDENT_SESSION_LIFETIME_SECS
                    && now < self.last_used + RESIDENT_SESSION_IDLE_SECS
            }
        }
    }

    /// Whether it is kept across restarts: a LAN login is not (the LAN code changes at
    /// every start); this computer's browsers and hosted residents' devices are.
    fn kept(&self) -> bool {
        self.kind != SessionKind::Lan
    }
}

/// Who is making a request, once the gate let them in.
#[derive(Clone, Debug)]
pub(crate) struct Visitor {
    /// How their session began.
    pub(crate) kind: SessionKind,
    /// The form token of their session: pages put it in every form, POSTs must return it.
    pub(crate) csrf: String,
    /// For a hosted resident's device: who, and with which login code.
    pub(crate) resident: Option<ResidentSession>,
    /// Their session token (from their cookie), to sign them out.
    token: String,
}

impl Visitor {
    /// Whether `token` is this session's form token.
    pub(crate) fn csrf_ok(&self, token: &str) -> bool {
        constant_time_eq(token.as_bytes(), self.csrf.as_bytes())
    }
}

/// The form token of a session: derived from its secret token, so nothing more is stored.
fn csrf_of(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"entraide/page-form-token/1\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// What [`Sessions`] keeps on disk: the hashes of this computer's sessions, so that a
/// browser, or a hosted resident's phone, stays signed in across restarts. LAN logins are
/// not kept: the LAN code changes at every start.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SavedSessions {
    sessions: Vec<(String, Session)>,
}

#[derive(Debug, Default)]
struct SessionsInner {
    sessions: HashMap<[u8; 32], Session>,
    links: VecDeque<([u8; 32], i64)>,
}

/// The page's sessions and one-time sign-in addresses. Only hashes of tokens are held.
#[derive(Debug)]
pub(crate) struct Sessions {
    inner: Mutex<SessionsInner>,
    file: Option<PathBuf>,
}

impl Sessions {
    /// Sessions kept in `file` (this computer's only), read back now; a missing or
    /// damaged file only means signing in again.
    pub(crate) fn new(file: Option<PathBuf>, now: i64) -> Self {
        let mut inner = SessionsInner::default();
        if let Some(path) = &file
            && let Ok(bytes) = std::fs::read(path)
        {
            match serde_json::from_slice::<SavedSessions>(&bytes) {
                Ok(saved) => {
                    for (h, s) in saved.sessions {
                        let mut key = [0u8; 32];
                        if hex::decode_to_slice(&h, &mut key).is_ok() && s.kept() && s.alive(now) {
                            inner.sessions.insert(key, s);
                        }
                    }
                }
                Err(e) => tracing::warn!(
                    "{} is damaged ({e}); browsers will need to sign in again",
                    path.display()
                ),
            }
        }
        Self {
            inner: Mutex::new(inner),
            file,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SessionsInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new one-time sign-in token for this computer's browser.
    pub(crate) fn new_link(&self, now: i64) -> String {
        let token = random_token();
        let mut inner = self.lock();
        inner.links.retain(|(_, expires)| *expires > now);
        if inner.links.len() >= MAX_PENDING_LINKS {
            inner.links.pop_front();
        }
        inner
            .links
            .push_back((hash(&token), now + SIGNIN_LINK_LIFETIME_SECS));
        token
    }

    /// Uses a sign-in token: if it is valid, unused and not too old, a new session of this
    /// computer's browser begins and its token is returned. A token works once.
    pub(crate) fn redeem_link(&self, token: &str, now: i64) -> Option<String> {
        let wanted = hash(token);
        {
            let mut inner = self.lock();
            let at = inner
                .links
                .iter()
                .position(|(h, expires)| constant_time_eq(h, &wanted) && *expires > now)?;
            inner.links.remove(at);
        }
        Some(self.begin(SessionKind::Owner, now))
    }

    /// Begins a session of this computer's browser or of a LAN login; returns its token
    /// (for the cookie).
    pub(crate) fn begin(&self, kind: SessionKind, now: i64) -> String {
        self.begin_session(kind, None, now)
    }

    /// Begins a session of a hosted resident's device; returns its token.
    pub(crate) fn begin_resident(&self, resident: ResidentSession, now: i64) -> String {
        self.begin_session(SessionKind::Resident, Some(resident), now)
    }

    fn begin_session(
        &self,
        kind: SessionKind,
        resident: Option<ResidentSession>,
        now: i64,
    ) -> String {
        let token = random_token();
        let kept = {
            let mut inner = self.lock();
            inner.sessions.retain(|_, s| s.alive(now));
            let max = match kind {
                SessionKind::Owner => MAX_OWNER_SESSIONS,
                SessionKind::Lan => MAX_LAN_SESSIONS,
                SessionKind::Resident => MAX_RESIDENT_SESSIONS,
            };
            let of_kind = inner.sessions.values().filter(|s| s.kind == kind).count();
            if of_kind >= max
                && let Some(oldest) = inner
                    .sessions
                    .iter()
                    .filter(|(_, s)| s.kind == kind)
                    .min_by_key(|(_, s)| s.created)
                    .map(|(k, _)| *k)
            {
                inner.sessions.remove(&oldest);
            }
            let session = Session {
                kind,
                created: now,
                last_used: now,
                resident,
            };
            let kept = session.kept();
            inner.sessions.insert(hash(&token), session);
            kept
        };
        if kept {
            self.save();
        }
        token
    }

    /// The visitor a session token belongs to, if the session is alive.
    pub(crate) fn check(&self, token: &str, now: i64) -> Option<Visitor> {
        let mut inner = self.lock();
        let key = hash(token);
        let session = inner.sessions.get_mut(&key)?;
        if !session.alive(now) {
            inner.sessions.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(Visitor {
            kind: session.kind,
            csrf: csrf_of(token),
            resident: session.resident.clone(),
            token: token.to_owned(),
        })
    }

    /// Ends the visitor's session (sign out).
    pub(crate) fn end(&self, visitor: &Visitor) {
        let removed = self.lock().sessions.remove(&hash(&visitor.token));
        if removed.is_some_and(|s| s.kept()) {
            self.save();
        }
    }

    /// Ends every other session of the visitor's own: for the owner, every session of
    /// this computer's browsers and LAN logins (and unused sign-in addresses); for a hosted
    /// resident, every other device of theirs. Never someone else's. Returns how many ended.
    pub(crate) fn end_others(&self, visitor: &Visitor) -> usize {
        let keep = hash(&visitor.token);
        let ended = {
            let mut inner = self.lock();
            let before = inner.sessions.len();
            match &visitor.resident {
                Some(me) => inner.sessions.retain(|k, s| {
                    *k == keep || s.resident.as_ref().map(|r| r.author) != Some(me.author)
                }),
                None => {
                    inner
                        .sessions
                        .retain(|k, s| *k == keep || s.kind == SessionKind::Resident);
                    inner.links.clear();
                }
            }
            before - inner.sessions.len()
        };
        self.save();
        ended
    }

    /// How many devices are signed in: for the owner (`None`), (this computer's browsers,
    /// LAN logins); for a hosted resident, (0, their devices).
    pub(crate) fn count(&self, now: i64, resident: Option<&AuthorId>) -> (usize, usize) {
        let inner = self.lock();
        let alive = inner.sessions.values().filter(|s| s.alive(now));
        alive.fold((0, 0), |(o, l), s| match (s.kind, resident) {
            (SessionKind::Owner, None) => (o + 1, l),
            (SessionKind::Lan, None) => (o, l + 1),
            (SessionKind::Resident, Some(me))
                if s.resident.as_ref().map(|r| &r.author) == Some(me) =>
            {
                (o, l + 1)
            }
            _ => (o, l),
        })
    }

    fn save(&self) {
        let Some(path) = &self.file else { return };
        let saved = SavedSessions {
            sessions: self
                .lock()
                .sessions
                .iter()
                .filter(|(_, s)| s.kept())
                .map(|(k, s)| (hex::encode(k), s.clone()))
                .collect(),
        };
        let bytes = serde_json::to_vec(&saved).unwrap_or_default();
        // Not kept on disk (a full disk, say): the browser stays signed in until the next
        // start, which is all that is lost.
        if let Err(e) = entraide_node::data_dir::write_private_file(path, &bytes) {
            tracing::warn!("cannot save the page's sign-ins: {e}");
        }
    }
}

/// The client a login attempt is counted against: one IPv4 address, or one IPv6 /64 (a
/// single device can take any address of its /64).
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut bytes = v6.octets();
            bytes[8..].fill(0);
            IpAddr::from(bytes)
        }
        v4 => v4,
    }
}

/// Wrong login codes, counted per client: a client that sent
/// [`MAX_LOGIN_FAILURES_PER_CLIENT`] in the last [`LOGIN_WINDOW`] is refused without its
/// code being checked until the oldest of them leaves the window. Other clients are not
/// affected, so a guessing LAN host cannot lock the resident's phone out.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    clients: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `Err(wait)` if `client` must wait before trying a code again.
    pub(crate) fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let Some(failures) = clients.get_mut(&client_key(client)) else {
            return Ok(());
        };
        while failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= LOGIN_WINDOW)
        {
            failures.pop_front();
        }
        match failures.front() {
            Some(oldest) if failures.len() >= MAX_LOGIN_FAILURES_PER_CLIENT => {
                Err(LOGIN_WINDOW.saturating_sub(now.saturating_duration_since(*oldest)))
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong code from `client`.
    pub(crate) fn failed(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= MAX_THROTTLED_CLIENTS && !clients.contains_key(&client_key(client)) {
            // Forget the clients whose failures are all out of the window, else the one
            // whose last failure is oldest.
            clients.retain(|_, f| {
                f.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < LOGIN_WINDOW)
            });
            if clients.len() >= MAX_THROTTLED_CLIENTS
                && let Some(oldest) = clients
                    .iter()
                    .min_by_key(|(_, f)| f.back().copied())
                    .map(|(k, _)| *k)
            {
                clients.remove(&oldest);
            }
        }
        let failures = clients.entry(client_key(client)).or_default();
        failures.push_back(now);
        while failures.len() > MAX_LOGIN_FAILURES_PER_CLIENT {
            failures.pop_front();
        }
    }

    /// A right code from `client`: its count starts again.
    pub(crate) fn succeeded(&self, client: IpAddr) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&client_key(client));
    }
}

/// Open connections, counted per LAN client, for the LAN, and for this computer, each
/// against its cap. A connection over a cap is closed at once.
#[derive(Debug)]
pub(crate) struct ConnectionLimiter {
    per_client: Mutex<HashMap<IpAddr, usize>>,
    lan: AtomicUsize,
    local: AtomicUsize,
    max_per_client: usize,
    max_lan: usize,
    max_local: usize,
}

impl Default for ConnectionLimiter {
    fn default() -> Self {
        Self::new(
            MAX_CONNECTIONS_PER_CLIENT,
            MAX_LAN_CONNECTIONS,
            MAX_LOCAL_CONNECTIONS,
        )
    }
}

impl ConnectionLimiter {
    /// A limiter with these caps.
    pub(crate) fn new(max_per_client: usize, max_lan: usize, max_local: usize) -> Self {
        Self {
            per_client: Mutex::new(HashMap::new()),
            lan: AtomicUsize::new(0),
            local: AtomicUsize::new(0),
            max_per_client,
            max_lan,
            max_local,
        }
    }

    /// A permit for a new connection from `remote`, or `None` if a cap is reached. The
    /// connection counts until the permit is dropped.
    pub(crate) fn admit(self: &Arc<Self>, remote: IpAddr) -> Option<ConnectionPermit> {
        let remote = remote.to_canonical();
        if remote.is_loopback() {
            let taken = self
                .local
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < self.max_local).then_some(n + 1)
                });
            return taken.is_ok().then(|| ConnectionPermit {
                limiter: Arc::clone(self),
                client: None,
            });
        }
        let key = client_key(remote);
        let mut per_client = self.per_client.lock().unwrap_or_else(|p| p.into_inner());
        let mine = per_client.get(&key).copied().unwrap_or(0);
        if mine >= self.max_per_client {
            return None;
        }
        let taken = self
            .lan
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_lan).then_some(n + 1)
            });
        if taken.is_err() {
            return None;
        }
        per_client.insert(key, mine + 1);
        Some(ConnectionPermit {
            limiter: Arc::clone(self),
            client: Some(key),
        })
    }

    /// Open connections: (from this computer, from the LAN).
    pub(crate) fn open(&self) -> (usize, usize) {
        (
            self.local.load(Ordering::Acquire),
            self.lan.load(Ordering::Acquire),
        )
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    limiter: Arc<ConnectionLimiter>,
    client: Option<IpAddr>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        match self.client {
            None => {
                self.limiter.local.fetch_sub(1, Ordering::AcqRel);
            }
            Some(key) => {
                let mut per_client = self
                    .limiter
                    .per_client
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if let Some(n) = per_client.get_mut(&key) {
                    *n -= 1;
                    if *n == 0 {
                        per_client.remove(&key);
                    }
                }
                self.limiter.lan.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

/// Security headers every answer carries. A page that sets a content security policy of
/// its own keeps it: only the board on paper does (`print.rs`), stricter than this one.
fn harden(response: &mut Response) {
    let h = response.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// What a request may reach without a session.
fn is_public(path: &str) -> bool {
    path.starts_with("/static/")
        || path.starts_with("/signin/")
        || path == "/signin"
        || path == "/login"
        || path == "/join"
        || path.starts_with("/lang/")
        || path == "/download"
        || path == "/download/entraide"
}

/// What the gate needs to decide: the sessions, and whether LAN logins are open.
#[derive(Clone, Debug)]
pub(crate) struct GateState {
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) lan: bool,
    pub(crate) cookie: Arc<str>,
    /// How long a request (its body included) may take; `/events` streams are exempt.
    pub(crate) request_timeout: Duration,
}

/// What the gate answers when it refuses; the page renders it in the visitor's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// This computer's browser has no session: it needs a sign-in address.
    SignInNeeded,
    /// A POST from another site.
    CrossSite,
}

/// The gate every request passes before any route (API, pages, `/events`) runs; see the
/// module documentation for its rules. A refused page request reaches the router as a
/// request for the refusal page, so that it is rendered in the visitor's language.
pub(crate) async fn gate(
    axum::extract::State(state): axum::extract::State<GateState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(conn) = request.extensions().get::<Conn>().copied() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no connection info").into_response();
    };
    if !host_allowed(request.headers().get(header::HOST), conn.local) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "entraide: this page answers only at the address entraide printed.\n",
        )
            .into_response();
    }
    let path = request.uri().path().to_owned();
    if path.starts_with("/api/") {
        if !conn.is_local() {
            return (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "error": "the API answers only on this computer"
                })),
            )
                .into_response();
        }
        return timed(&state, &path, next.run(request)).await;
    }
    let now = crate::output::now();
    let visitor = cookie_value(request.headers(), &state.cookie)
        .and_then(|token| state.sessions.check(&token, now));
    let cross_site = request.method() == Method::POST && !same_origin(request.headers());
    let refusal = if cross_site {
        Some(Refusal::CrossSite)
    } else if visitor.is_none() && !is_public(&path) {
        if conn.is_local() {
            Some(Refusal::SignInNeeded)
        } else if state.lan {
            let mut r = axum::response::Redirect::to("/login").into_response();
            harden(&mut r);
            return r;
        } else {
            return (StatusCode::FORBIDDEN, "forbidden").into_response();
        }
    } else {
        None
    };
    if let Some(visitor) = visitor {
        request.extensions_mut().insert(visitor);
    }
    if let Some(refusal) = refusal {
        request.extensions_mut().insert(refusal);
    }
    let mut response = timed(&state, &path, next.run(request)).await;
    harden(&mut response);
    response
}

async fn timed(state: &GateState, path: &str, run: impl Future<Output = Response>) -> Response {
    if path == "/events" {
        return run.await;
    }
    match tokio::time::timeout(state.request_timeout, run).await {
        Ok(r) => r,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request timeout").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn only_the_address_the_connection_arrived_on_is_a_valid_host() {
        let lo = addr("127.0.0.1:7878");
        for ok in ["127.0.0.1:7878", "localhost:7878", "LOCALHOST:7878"] {
            assert!(host_allowed(Some(&hv(ok)), lo), "{ok}");
        }
        for bad in [
            "evil.example:7878",
            "127.0.0.1:7879",
            "127.0.0.1",
            "localhost",
            "127.0.0.1.evil.example:7878",
            "user@127.0.0.1:7878",
            "192.168.1.10:7878",
            "[::1]:7878",
            "",
            "127.0.0.1:7878/x",
        ] {
            assert!(!host_allowed(Some(&hv(bad)), lo), "{bad}");
        }
        assert!(!host_allowed(None, lo));
        let lan = addr("192.168.1.10:7878");
        assert!(host_allowed(Some(&hv("192.168.1.10:7878")), lan));
        assert!(!host_allowed(Some(&hv("localhost:7878")), lan));
        assert!(!host_allowed(Some(&hv("printer.local:7878")), lan));
        let v6 = addr("[::1]:7878");
        assert!(host_allowed(Some(&hv("[::1]:7878")), v6));
        assert!(host_allowed(Some(&hv("localhost:7878")), v6));
        let port80 = addr("127.0.0.1:80");
        assert!(host_allowed(Some(&hv("127.0.0.1")), port80));
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                hv(v),
            );
        }
        h
    }

    #[test]
    fn posts_must_come_from_the_page_itself() {
        let host = ("host", "127.0.0.1:7878");
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:7878")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("referer", "http://127.0.0.1:7878/new?x=1")
        ])));
        // No browser header at all: not a browser page (the form token still applies).
        assert!(same_origin(&headers(&[host])));
        for bad in [
            "http://evil.example",
            "http://127.0.0.1:7879",
            "https://127.0.0.1:7878",
            "null",
            "http://127.0.0.1:7878.evil.example",
            "http://user@127.0.0.1:7878",
            "garbage",
        ] {
            assert!(
                !same_origin(&headers(&[host, ("origin", bad)])),
                "origin {bad}"
            );
        }
        // The Origin wins over a Referer that would match.
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://evil.example"),
            ("referer", "http://127.0.0.1:7878/")
        ])));
        assert!(!same_origin(&headers(&[(
            "origin",
            "http://127.0.0.1:7878"
        )])));
    }

    #[test]
    fn redirects_follow_only_same_site_relative_paths() {
        for ok in ["/", "/neighbours", "/?kind=offer&q=eau", "/posts/abcd"] {
            assert_eq!(safe_local_path(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "/\t/evil.example/",
            "/\n/evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "\\/evil.example",
            "https://evil.example/",
            "evil.example",
            "",
            "/ /evil",
            "/caf\u{e9}",
            "/%09/evil.example/",
        ] {
            // `/%09/...` stays percent-encoded, which browsers do not decode into a tab:
            // it is a harmless local path.
            let expected = (bad == "/%09/evil.example/").then(|| bad.to_owned());
            assert_eq!(safe_local_path(bad), expected, "{bad:?}");
        }
        let h = headers(&[
            ("host", "127.0.0.1:7878"),
            ("referer", "http://127.0.0.1:7878/mine?x=1"),
        ]);
        assert_eq!(referer_path(&h).as_deref(), Some("/mine?x=1"));
        let h = headers(&[
            ("host", "127.0.0.1:7878"),
            ("referer", "http://evil.example/mine"),
        ]);
        assert_eq!(referer_path(&h), None);
    }

    #[test]
    fn cookies_are_read_by_name_and_written_strict_and_http_only() {
        let h = headers(&[("cookie", "lang=fr; entraide-7878=abc123; other=x")]);
        assert_eq!(cookie_value(&h, "entraide-7878").as_deref(), Some("abc123"));
        assert_eq!(cookie_value(&h, "lang").as_deref(), Some("fr"));
        assert_eq!(cookie_value(&h, "entraide-7879"), None);
        let set = set_cookie("entraide-7878", "tok", 60).unwrap();
        let set = set.to_str().unwrap();
        for part in ["entraide-7878=tok", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(part), "{set}");
        }
        let gone = remove_cookie("entraide-7878").unwrap();
        assert!(gone.to_str().unwrap().contains("Max-Age=0"), "{gone:?}");
    }

    #[test]
    fn constant_time_comparison_tells_equal_from_different() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn a_sign_in_address_works_once_and_not_after_a_day() {
        let s = Sessions::new(None, 1_000);
        let link = s.new_link(1_000);
        let token = s.redeem_link(&link, 1_010).expect("first use");
        assert!(s.redeem_link(&link, 1_011).is_none(), "second use");
        let v = s.check(&token, 1_020).expect("signed in");
        assert_eq!(v.kind, SessionKind::Owner);
        assert!(v.csrf_ok(&v.csrf));
        assert!(!v.csrf_ok("nope"));
        let old = s.new_link(2_000);
        assert!(
            s.redeem_link(&old, 2_000 + SIGNIN_LINK_LIFETIME_SECS)
                .is_none()
        );
        assert!(s.redeem_link("0000", 2_000).is_none());
        assert!(s.check("not a session", 2_000).is_none());
    }

    #[test]
    fn lan_logins_expire_when_idle_and_after_their_lifetime() {
        let s = Sessions::new(None, 0);
        let t = s.begin(SessionKind::Lan, 0);
        // Used every 6 days: alive until the 30-day limit.
        let mut now = 0;
        while now + 6 * 86_400 < LAN_SESSION_LIFETIME_SECS {
            now += 6 * 86_400;
            assert!(s.check(&t, now).is_some(), "day {}", now / 86_400);
        }
        assert!(s.check(&t, LAN_SESSION_LIFETIME_SECS).is_none());
        // Unused for a week: ended.
        let t = s.begin(SessionKind::Lan, 0);
        assert!(s.check(&t, LAN_SESSION_IDLE_SECS - 1).is_some());
        assert!(s.check(&t, 2 * LAN_SESSION_IDLE_SECS).is_none());
        // This computer's browser stays a year.
        let o = s.begin(SessionKind::Owner, 0);
        assert!(s.check(&o, OWNER_SESSION_LIFETIME_SECS - 1).is_some());
        assert!(s.check(&o, OWNER_SESSION_LIFETIME_SECS).is_none());
    }

    #[test]
    fn signing_out_ends_one_session_or_all_the_others() {
        let s = Sessions::new(None, 0);
        let a = s.begin(SessionKind::Owner, 0);
        let b = s.begin(SessionKind::Lan, 0);
        let c = s.begin(SessionKind::Lan, 0);
        let va = s.check(&a, 1).unwrap();
        let vb = s.check(&b, 1).unwrap();
        s.end(&vb);
        assert!(s.check(&b, 2).is_none());
        assert!(s.check(&c, 2).is_some());
        assert_eq!(s.end_others(&va), 1);
        assert!(s.check(&c, 3).is_none());
        assert!(s.check(&a, 3).is_some());
        assert_eq!(s.count(3, None), (1, 0));
    }

    fn resident(seed: u8) -> ResidentSession {
        ResidentSession {
            author: entraide_crdt::AuthorKey::from_seed([seed; 32]).id(),
            code_tag: "0a1b2c3d".into(),
        }
    }

    #[test]
    fn a_resident_signs_out_only_their_own_devices_and_the_owner_never_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page-sessions.json");
        let s = Sessions::new(Some(file.clone()), 0);
        let owner = s.begin(SessionKind::Owner, 0);
        let zoe_phone = s.begin_resident(resident(1), 0);
        let zoe_tablet = s.begin_resident(resident(1), 0);
        let paul = s.begin_resident(resident(2), 0);
        let zoe = s.check(&zoe_phone, 1).unwrap();
        assert_eq!(zoe.kind, SessionKind::Resident);
        assert_eq!(zoe.resident, Some(resident(1)));
        assert_eq!(s.count(1, Some(&resident(1).author)), (0, 2));
        assert_eq!(s.count(1, None), (1, 0));
        assert_eq!(s.end_others(&zoe), 1);
        assert!(s.check(&zoe_tablet, 2).is_none());
        assert!(s.check(&paul, 2).is_some() && s.check(&owner, 2).is_some());
        let o = s.check(&owner, 2).unwrap();
        assert_eq!(s.end_others(&o), 0, "the owner's sign-out spares residents");
        assert!(s.check(&paul, 3).is_some());
        // Residents' devices stay signed in across a restart, bound to the same resident.
        let again = Sessions::new(Some(file), 3);
        assert_eq!(again.check(&paul, 4).unwrap().resident, Some(resident(2)));
        assert!(again.check(&zoe_phone, 4).is_some());
        assert!(
            again
                .check(&zoe_phone, 4 + RESIDENT_SESSION_LIFETIME_SECS)
                .is_none()
        );
    }

    #[test]
    fn sessions_are_bounded_oldest_first() {
        let s = Sessions::new(None, 0);
        let first = s.begin(SessionKind::Lan, 0);
        for i in 1..=MAX_LAN_SESSIONS as i64 {
            s.begin(SessionKind::Lan, i);
        }
        assert!(s.check(&first, 100).is_none());
        assert_eq!(s.count(100, None), (0, MAX_LAN_SESSIONS));
    }

    #[test]
    fn this_computer_s_sessions_survive_a_restart_lan_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page-sessions.json");
        let s = Sessions::new(Some(file.clone()), 0);
        let owner = s.begin(SessionKind::Owner, 0);
        let lan = s.begin(SessionKind::Lan, 0);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(&owner), "only hashes are kept: {text}");
        let again = Sessions::new(Some(file.clone()), 10);
        assert!(again.check(&owner, 10).is_some());
        assert!(again.check(&lan, 10).is_none());
        std::fs::write(&file, b"{garbage").unwrap();
        let damaged = Sessions::new(Some(file), 10);
        assert!(damaged.check(&owner, 10).is_none());
    }

    #[test]
    fn wrong_codes_are_throttled_per_client_and_the_window_passes() {
        let t = LoginThrottle::default();
        let attacker: IpAddr = "192.168.1.66".parse().unwrap();
        let phone: IpAddr = "192.168.1.20".parse().unwrap();
        let start = Instant::now();
        for i in 0..MAX_LOGIN_FAILURES_PER_CLIENT {
            assert!(t.check(attacker, start).is_ok(), "attempt {i}");
            t.failed(attacker, start + Duration::from_millis(i as u64));
        }
        let wait = t
            .check(attacker, start + Duration::from_secs(1))
            .unwrap_err();
        assert!(
            wait <= LOGIN_WINDOW && wait > Duration::from_secs(50),
            "{wait:?}"
        );
        // Another device is not affected.
        assert!(t.check(phone, start + Duration::from_secs(1)).is_ok());
        // After the window, the attacker may try again.
        assert!(
            t.check(attacker, start + LOGIN_WINDOW + Duration::from_secs(1))
                .is_ok()
        );
        // A success clears a client's count.
        t.failed(phone, start);
        t.succeeded(phone);
        assert!(t.clients.lock().unwrap().get(&phone).is_none());
    }

    #[test]
    fn an_ipv6_client_is_its_whole_64() {
        let a: IpAddr = "fd00::1:2:3:4".parse().unwrap();
        let b: IpAddr = "fd00::9:9:9:9".parse().unwrap();
        let c: IpAddr = "fd00:0:0:1::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.168.1.5".parse().unwrap();
        assert_eq!(client_key(mapped), "192.168.1.5".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_throttle_remembers_a_bounded_number_of_clients() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..(MAX_THROTTLED_CLIENTS as u32 + 100) {
            t.failed(IpAddr::from((0x0a00_0000u32 + i).to_be_bytes()), now);
        }
        assert!(t.clients.lock().unwrap().len() <= MAX_THROTTLED_CLIENTS);
    }

    #[test]
    fn connections_are_capped_per_client_and_the_lan_never_takes_local_places() {
        let l = Arc::new(ConnectionLimiter::new(3, 5, 4));
        let a: IpAddr = "10.0.0.2".parse().unwrap();
        let b: IpAddr = "10.0.0.3".parse().unwrap();
        let c: IpAddr = "10.0.0.4".parse().unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let held_a: Vec<_> = (0..3).map(|_| l.admit(a).expect("a")).collect();
        assert!(l.admit(a).is_none(), "a's fourth");
        let held_b: Vec<_> = (0..2).map(|_| l.admit(b).expect("b")).collect();
        assert!(l.admit(c).is_none(), "the LAN is full");
        let held_lo: Vec<_> = (0..4).map(|_| l.admit(lo).expect("local")).collect();
        assert!(l.admit(lo).is_none(), "local is full");
        assert_eq!(l.open(), (4, 5));
        drop(held_a);
        assert!(l.admit(c).is_some(), "places are freed");
        drop((held_b, held_lo));
        assert_eq!(l.open(), (0, 0));
        assert!(l.per_client.lock().unwrap().is_empty());
    }
}

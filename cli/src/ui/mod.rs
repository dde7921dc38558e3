//! The web page `entraide up` serves: the real face of entraide for neighbours who never
//! open a terminal.
//!
//! Server-rendered HTML, French and English, every action a plain form (no JavaScript
//! needed); a small script adds live updates from server-sent events. Everything is
//! compiled into the binary. Safety: all user text is escaped ([`html::esc`]); every form
//! carries a per-start random token and cross-site posts are refused; with `--ui-lan`,
//! requests from other machines need the login code shown in the terminal.

mod html;
mod i18n;
mod pages;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use entraide_crdt::{Category, Filter, Kind, PostDraft, TextError, Urgency, WriteError};
use entraide_node::store::StoreError;
use entraide_node::{Node, NodeError};
use futures::Stream;
use serde::Deserialize;

use self::html::{Footer, Nav};
use self::i18n::Lang;
use self::pages::{BoardFilters, PostForm, Viewer};

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");
/// Most browser sessions remembered for `--ui-lan` logins (oldest forgotten first).
const MAX_LAN_SESSIONS: usize = 64;
/// Most wrong login codes accepted per minute, all clients together.
const MAX_LOGIN_FAILURES_PER_MINUTE: usize = 10;

/// Access for other machines on the LAN (`--ui-lan`).
#[derive(Debug)]
pub(crate) struct LanAccess {
    /// The login code shown in the terminal and on the invite page.
    pub(crate) code: String,
    sessions: Mutex<VecDeque<String>>,
    failures: Mutex<VecDeque<std::time::Instant>>,
}

impl LanAccess {
    pub(crate) fn new(code: String) -> Self {
        Self {
            code,
            sessions: Mutex::new(VecDeque::new()),
            failures: Mutex::new(VecDeque::new()),
        }
    }
}

#[derive(Clone, Debug)]
struct Ui {
    node: Node,
    csrf: Arc<String>,
    lan: Option<Arc<LanAccess>>,
}

/// The page's routes.
pub(crate) fn router(node: Node, csrf: String, lan: Option<Arc<LanAccess>>) -> Router {
    let ui = Ui {
        node,
        csrf: Arc::new(csrf),
        lan,
    };
    Router::new()
        .route("/", get(board))
        .route("/new", get(new_form).post(new_submit))
        .route("/posts/{id}", get(show_post))
        .route("/posts/{id}/{action}", post(post_action))
        .route("/mine", get(mine))
        .route("/neighbours", get(neighbours))
        .route("/invite", get(invite))
        .route("/settings", get(settings))
        .route("/settings/name", post(set_name))
        .route("/lang/{code}", get(set_lang))
        .route("/login", get(login_form).post(login_submit))
        .route("/events", get(events))
        .route(
            "/static/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    JS,
                )
            }),
        )
        .layer(middleware::from_fn_with_state(ui.clone(), guard))
        .with_state(ui)
}

/// Security headers on every answer; the LAN gate; the cross-site check on every POST.
async fn guard(
    State(ui): State<Ui>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let lang = lang_of(request.headers());
    let path = request.uri().path().to_owned();
    let local = remote.ip().is_loopback();
    if !local && !path.starts_with("/login") && path != "/static/app.css" {
        let allowed = ui.lan.as_ref().is_some_and(|lan| {
            let cookie = cookie(request.headers(), "session");
            cookie.is_some_and(|c| lan.sessions.lock().map(|s| s.contains(&c)).unwrap_or(false))
        });
        if !allowed {
            if ui.lan.is_none() {
                return (StatusCode::FORBIDDEN, "forbidden").into_response();
            }
            return Redirect::to("/login").into_response();
        }
    }
    if request.method() == Method::POST && !same_origin(request.headers()) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A POST is same-origin when its `Origin` (or, failing that, `Referer`) names the host it
/// was sent to. Browsers always send one of them on cross-site form posts.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    match source {
        // Neither header: not a browser form (curl, tests); the form token still applies.
        None => true,
        Some(source) => {
            let rest = source
                .strip_prefix("http://")
                .or_else(|| source.strip_prefix("https://"))
                .unwrap_or("");
            let origin_host = rest.split('/').next().unwrap_or("");
            origin_host.eq_ignore_ascii_case(host)
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, "lang")
        .and_then(|c| Lang::from_code(&c))
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        })
}

fn now() -> i64 {
    crate::output::now()
}

async fn footer(ui: &Ui) -> Footer {
    match ui.node.status().await {
        Ok(s) => Footer {
            online: s.online,
            last_sync: s.last_sync,
            recently_synced_peers: s.recently_synced_peers,
            peers_connected: s.peers_connected,
            posts: s.board.posts,
            live_posts: s.board.live_posts,
            feeds: s.board.feeds,
        },
        Err(_) => Footer {
            online: false,
            last_sync: None,
            recently_synced_peers: 0,
            peers_connected: 0,
            posts: 0,
            live_posts: 0,
            feeds: 0,
        },
    }
}

async fn render(
    ui: &Ui,
    lang: Lang,
    status: StatusCode,
    title: &str,
    nav: Nav,
    path: &str,
    body: &str,
) -> Response {
    let footer = footer(ui).await;
    let html = html::page(lang, title, nav, path, &footer, now(), body);
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

async fn error_page(ui: &Ui, lang: Lang, status: StatusCode, message: &str) -> Response {
    render(
        ui,
        lang,
        status,
        lang.t().error_title,
        Nav::None,
        "/",
        &pages::error(lang, message),
    )
    .await
}

/// A node error as a page, in plain words where the board gave a reason.
async fn node_error(ui: &Ui, lang: Lang, e: NodeError) -> Response {
    match e {
        NodeError::NoSuchPost(_) | NodeError::Write(WriteError::UnknownPost(_)) => {
            render(
                ui,
                lang,
                StatusCode::NOT_FOUND,
                lang.t().error_title,
                Nav::None,
                "/",
                &pages::not_found(lang),
            )
            .await
        }
        NodeError::Write(WriteError::Text(t)) => {
            error_page(
                ui,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &i18n::text_error(lang, &t),
            )
            .await
        }
        NodeError::Store(StoreError::DiskFull { .. }) => {
            let message = problem(lang, &e);
            error_page(ui, lang, StatusCode::INSUFFICIENT_STORAGE, &message).await
        }
        other => {
            let message = problem(lang, &other);
            error_page(ui, lang, StatusCode::UNPROCESSABLE_ENTITY, &message).await
        }
    }
}

/// A node error in the resident's words: a full disk says what to do in their language;
/// anything else is shown as the node said it.
fn problem(lang: Lang, e: &NodeError) -> String {
    match e {
        NodeError::Store(StoreError::DiskFull { .. }) => lang.t().error_disk_full.to_owned(),
        other => format!("{} {other}", lang.t().error_generic),
    }
}

fn check_csrf(ui: &Ui, token: &str) -> bool {
    let expected = ui.csrf.as_bytes();
    token.len() == expected.len()
        && token
            .bytes()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[derive(Debug, Default, Deserialize)]
struct BoardQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    all: String,
}

async fn board(State(ui): State<Ui>, headers: HeaderMap, Query(q): Query<BoardQuery>) -> Response {
    let lang = lang_of(&headers);
    let f = BoardFilters {
        kind: q.kind.parse().ok(),
        category: q.category.parse().ok(),
        urgency: q.urgency.parse().ok(),
        area: q.area.clone(),
        q: q.q.clone(),
        all: !q.all.is_empty(),
    };
    let filter = Filter {
        kind: f.kind,
        category: f.category,
        urgency: f.urgency,
        area: Some(f.area.clone()).filter(|a| !a.trim().is_empty()),
        text: Some(f.q.clone()).filter(|a| !a.trim().is_empty()),
        include_closed: f.all,
        ..Filter::default()
    };
    let posts = ui.node.list(filter).await.unwrap_or_default();
    let body = pages::board(lang, &posts, &f, now());
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().nav_board,
        Nav::Board,
        "/",
        &body,
    )
    .await
}

async fn new_form(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let body = pages::new_post(lang, &PostForm::default(), &ui.csrf);
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().new_title,
        Nav::New,
        "/new",
        &body,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct NewPostBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    area: String,
}

fn field_name(e: &TextError) -> &'static str {
    match e {
        TextError::Empty { field }
        | TextError::TooLong { field, .. }
        | TextError::PhoneNumber { field }
        | TextError::Email { field }
        | TextError::ControlCharacters { field } => match field {
            entraide_crdt::Field::Title => "title",
            entraide_crdt::Field::Details => "details",
            entraide_crdt::Field::Area => "area",
            _ => "form",
        },
        _ => "form",
    }
}

async fn new_submit(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Form(b): Form<NewPostBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !check_csrf(&ui, &b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let mut form = PostForm {
        kind: b.kind.parse().ok(),
        category: b.category.parse().ok(),
        title: b.title.clone(),
        details: b.details.clone(),
        urgency: b.urgency.parse().ok(),
        area: b.area.clone(),
        errors: Vec::new(),
    };
    let draft = PostDraft {
        kind: form.kind.unwrap_or(Kind::Request),
        category: form.category.unwrap_or(Category::Other),
        title: b.title,
        details: b.details.replace("\r\n", "\n"),
        urgency: form.urgency.unwrap_or(Urgency::Week),
        area: b.area,
        expires_at: None,
    };
    // Every problem at once, each next to its field.
    for e in draft.problems(now()) {
        form.errors
            .push((field_name(&e), i18n::text_error(lang, &e)));
    }
    if form.errors.is_empty() {
        match ui.node.post(draft).await {
            Ok(id) => return Redirect::to(&format!("/posts/{id}")).into_response(),
            Err(NodeError::Write(WriteError::Text(e))) => form
                .errors
                .push((field_name(&e), i18n::text_error(lang, &e))),
            Err(e) => form.errors.push(("form", problem(lang, &e))),
        }
    }
    let body = pages::new_post(lang, &form, &ui.csrf);
    render(
        &ui,
        lang,
        StatusCode::UNPROCESSABLE_ENTITY,
        lang.t().new_title,
        Nav::New,
        "/new",
        &body,
    )
    .await
}

async fn viewer(ui: &Ui) -> Option<Viewer> {
    ui.node
        .whoami()
        .await
        .ok()
        .map(|w| Viewer { author: w.author })
}

async fn show_post(State(ui): State<Ui>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let lang = lang_of(&headers);
    match (ui.node.show(&id).await, viewer(&ui).await) {
        (Ok(p), Some(v)) => {
            let body = pages::post(lang, &p, &v, &ui.csrf, now(), None);
            render(
                &ui,
                lang,
                StatusCode::OK,
                &p.title,
                Nav::None,
                &format!("/posts/{}", p.id),
                &body,
            )
            .await
        }
        (Err(e), _) => node_error(&ui, lang, e).await,
        (_, None) => node_error(&ui, lang, NodeError::Stopped).await,
    }
}

#[derive(Debug, Deserialize)]
struct ActionBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    helper: String,
}

async fn post_action(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(b): Form<ActionBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !check_csrf(&ui, &b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let result = match action.as_str() {
        "respond" => ui.node.respond(&id, &b.message).await,
        "accept" => ui.node.accept(&id, &b.helper).await,
        "done" => ui.node.done(&id).await,
        "withdraw" => ui.node.withdraw(&id).await,
        "thank" => ui.node.thank(&id, &b.helper, &b.message).await,
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    match result {
        Ok(id) => Redirect::to(&format!("/posts/{id}")).into_response(),
        // A refused message: show the post again with the reason above it.
        Err(NodeError::Write(WriteError::Text(e))) => {
            match (ui.node.show(&id).await, viewer(&ui).await) {
                (Ok(p), Some(v)) => {
                    let body = pages::post(
                        lang,
                        &p,
                        &v,
                        &ui.csrf,
                        now(),
                        Some(&i18n::text_error(lang, &e)),
                    );
                    render(
                        &ui,
                        lang,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &p.title,
                        Nav::None,
                        &format!("/posts/{}", p.id),
                        &body,
                    )
                    .await
                }
                _ => node_error(&ui, lang, NodeError::Write(WriteError::Text(e))).await,
            }
        }
        Err(e) => node_error(&ui, lang, e).await,
    }
}

async fn mine(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let Some(v) = viewer(&ui).await else {
        return node_error(&ui, lang, NodeError::Stopped).await;
    };
    let posts = ui
        .node
        .list(Filter {
            author: Some(v.author),
            include_closed: true,
            ..Filter::default()
        })
        .await
        .unwrap_or_default();
    let responded = ui
        .node
        .list(Filter {
            responder: Some(v.author),
            include_closed: true,
            ..Filter::default()
        })
        .await
        .unwrap_or_default();
    let body = pages::mine(lang, &posts, &responded, now());
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().nav_mine,
        Nav::Mine,
        "/mine",
        &body,
    )
    .await
}

async fn neighbours(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (Ok(peers), Ok(status)) = (ui.node.peers().await, ui.node.status().await) else {
        return node_error(&ui, lang, NodeError::Stopped).await;
    };
    let body = pages::neighbours(lang, &peers, &status, now());
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().nav_neighbours,
        Nav::Neighbours,
        "/neighbours",
        &body,
    )
    .await
}

async fn invite(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let code = match ui.node.invite().await {
        Ok(c) => c,
        Err(e) => return node_error(&ui, lang, e).await,
    };
    let svg = qrcode::QrCode::new(code.as_bytes())
        .map(|qr| {
            qr.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default();
    // The SVG is ours (generated from the code), not user text: strip its XML prologue only.
    let svg = svg.trim_start_matches(|c| c != '<').to_owned();
    let svg = match svg.find("<svg") {
        Some(i) => svg[i..].to_owned(),
        None => String::new(),
    };
    let body = pages::invite(lang, &code, &svg, ui.lan.as_ref().map(|l| l.code.as_str()));
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().nav_invite,
        Nav::Invite,
        "/invite",
        &body,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct SettingsQuery {
    #[serde(default)]
    saved: String,
}

async fn settings(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Query(q): Query<SettingsQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let who = match ui.node.whoami().await {
        Ok(w) => w,
        Err(e) => return node_error(&ui, lang, e).await,
    };
    let body = pages::settings(lang, &who, &ui.csrf, !q.saved.is_empty(), None);
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().nav_settings,
        Nav::Settings,
        "/settings",
        &body,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct NameBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn set_name(State(ui): State<Ui>, headers: HeaderMap, Form(b): Form<NameBody>) -> Response {
    let lang = lang_of(&headers);
    if !check_csrf(&ui, &b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    match ui.node.set_name(&b.name).await {
        Ok(()) => Redirect::to("/settings?saved=1").into_response(),
        Err(e) => {
            let message = match &e {
                NodeError::Write(WriteError::Text(t)) => i18n::text_error(lang, t),
                other => format!("{} {other}", lang.t().error_generic),
            };
            let Ok(who) = ui.node.whoami().await else {
                return node_error(&ui, lang, e).await;
            };
            let body = pages::settings(lang, &who, &ui.csrf, false, Some(&message));
            render(
                &ui,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                lang.t().nav_settings,
                Nav::Settings,
                "/settings",
                &body,
            )
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    #[serde(default)]
    back: String,
}

async fn set_lang(
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::from_code(&code).unwrap_or(Lang::Fr);
    // Back to the page the link was on, query included: from the same-origin `Referer`,
    // else from `back`. Only a local path: never an open redirect to another site.
    let from_referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .zip(headers.get(header::HOST).and_then(|h| h.to_str().ok()))
        .and_then(|(referer, host)| {
            let rest = referer
                .strip_prefix("http://")
                .or_else(|| referer.strip_prefix("https://"))?;
            let (origin_host, path) = rest.split_at(rest.find('/')?);
            origin_host
                .eq_ignore_ascii_case(host)
                .then(|| path.to_owned())
        });
    let local = |p: &String| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\');
    let back = from_referer
        .filter(local)
        .or_else(|| Some(q.back).filter(local))
        .unwrap_or_else(|| "/".into());
    let mut response = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Strict",
        lang.code()
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn login_form(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    render(
        &ui,
        lang,
        StatusCode::OK,
        lang.t().login_title,
        Nav::None,
        "/login",
        &pages::login(lang, false),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    #[serde(default)]
    code: String,
}

async fn login_submit(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Form(b): Form<LoginBody>,
) -> Response {
    let lang = lang_of(&headers);
    let Some(lan) = ui.lan.clone() else {
        return Redirect::to("/").into_response();
    };
    let now = std::time::Instant::now();
    let throttled = {
        let mut failures = lan.failures.lock().unwrap_or_else(|p| p.into_inner());
        while failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            failures.pop_front();
        }
        failures.len() >= MAX_LOGIN_FAILURES_PER_MINUTE
    };
    let typed: String = b
        .code
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if throttled || typed != lan.code {
        if !throttled {
            lan.failures
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_back(now);
        }
        return render(
            &ui,
            lang,
            StatusCode::UNAUTHORIZED,
            lang.t().login_title,
            Nav::None,
            "/login",
            &pages::login(lang, true),
        )
        .await;
    }
    let session = hex::encode(rand::random::<[u8; 24]>());
    {
        let mut sessions = lan.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if sessions.len() >= MAX_LAN_SESSIONS {
            sessions.pop_front();
        }
        sessions.push_back(session.clone());
    }
    let mut response = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "session={session}; Path=/; HttpOnly; SameSite=Strict"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `change` events whenever the board or the neighbours change; the page's script then
/// fetches the page again and swaps its content.
async fn events(
    State(ui): State<Ui>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let receiver = ui.node.subscribe();
    let stream = futures::stream::unfold(receiver, |mut rx| async move {
        match rx.recv().await {
            // A lagging page just refreshes once: the page itself is the state.
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                Some((Ok(Event::default().event("change").data("1")), rx))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}

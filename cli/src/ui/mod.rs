//! The web page `entraide up` serves: the real face of entraide for neighbours who never
//! open a terminal.
//!
//! Server-rendered HTML, French and English, every action a plain form (no JavaScript
//! needed); a small script adds live updates from server-sent events. Everything is
//! compiled into the binary. Each page is one struct ([`pages`]) rendered by its askama
//! template (`templates/`), which escapes every value it writes ([`html::Html`]). Every
//! form carries a per-start random token and cross-site posts are refused; with
//! `--ui-lan`, requests from other machines need the login code shown in the terminal.

mod backup;
mod blocking;
mod board_file;
mod care;
mod download;
mod html;
mod i18n;
mod messages;
mod pages;
pub(crate) mod popup;
pub(crate) mod print;
mod public;
mod reporting;
pub(crate) mod security;
pub(crate) mod serve;
mod stewards;

use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Extension, Form, Path, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use entraide_crdt::care::CareError;
use entraide_crdt::limits::BOARD_PAGE_SIZE;
use entraide_crdt::{
    Category, Filter, Kind, OnBehalfOf, PostDraft, TextError, Urgency, WriteError,
};
use entraide_node::api::BoardQuery;
use entraide_node::store::StoreError;
use entraide_node::{Node, NodeError, ResidentInfo};
use futures::Stream;
use serde::Deserialize;

use self::html::{Footer, Frame, Nav};
pub(crate) use self::i18n::Lang;
use self::pages::{LoginNotice, PostForm, Viewer};
use self::security::{
    Conn, GateState, LoginThrottle, Refusal, SessionKind, Sessions, Visitor, constant_time_eq,
};

const CSS: &str = include_str!("../../assets/app.css");
const JS: &str = include_str!("../../assets/app.js");
/// How long a request to the page may take, its body included (a LAN host dripping a form
/// body byte by byte is cut off); the live `/events` stream is exempt.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Access for other machines on the LAN (`--ui-lan`).
#[derive(Debug)]
pub(crate) struct LanAccess {
    /// The login code shown in the terminal and on the invite page.
    pub(crate) code: String,
}

impl LanAccess {
    pub(crate) fn new(code: String) -> Self {
        Self { code }
    }
}

/// Everything the page needs besides the node.
#[derive(Debug)]
pub(crate) struct PageConfig {
    /// The page's sessions and sign-in addresses.
    pub(crate) sessions: Arc<Sessions>,
    /// LAN logins, with `--ui-lan`.
    pub(crate) lan: Option<Arc<LanAccess>>,
    /// The port the page listens on (it names the session cookie).
    pub(crate) port: u16,
    /// The API token, which `entraide open` shows to get a sign-in address.
    pub(crate) api_token: String,
    /// The data directory (the local emergency numbers are kept there).
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// The pop-up board, with `--popup`.
    pub(crate) popup: Option<Arc<popup::Popup>>,
}

#[derive(Clone, Debug)]
struct Ui {
    /// The node, acting for the visitor: its owner, or the hosted resident signed in.
    node: Node,
    /// The hosted resident signed in, if the visitor is one.
    resident: Option<Arc<ResidentInfo>>,
    /// Wrong login codes (the LAN code and residents' codes), per client.
    throttle: Arc<LoginThrottle>,
    sessions: Arc<Sessions>,
    lan: Option<Arc<LanAccess>>,
    cookie: Arc<str>,
    api_token: Arc<str>,
    data_dir: Option<Arc<std::path::Path>>,
    popup: Option<Arc<popup::Popup>>,
}

/// The page's routes, around `api` (the JSON API), all behind the gate of
/// [`security::gate`].
pub(crate) fn router(node: Node, api: Router, config: PageConfig) -> Router {
    let cookie: Arc<str> = security::session_cookie_name(config.port).into();
    let ui = Ui {
        node,
        resident: None,
        throttle: Arc::new(LoginThrottle::default()),
        sessions: Arc::clone(&config.sessions),
        lan: config.lan.clone(),
        cookie: Arc::clone(&cookie),
        api_token: config.api_token.into(),
        data_dir: config.data_dir.map(Into::into),
        popup: config.popup,
    };
    let gate = GateState {
        sessions: config.sessions,
        lan: config.lan.is_some(),
        cookie,
        request_timeout: REQUEST_TIMEOUT,
    };
    let pages = Router::new()
        .route("/", get(board))
        .route("/new", get(new_form).post(new_submit))
        .route("/posts/{id}", get(show_post))
        .route("/posts/{id}/{action}", post(post_action))
        .route("/mine", get(mine))
        .merge(care::routes())
        .merge(backup::routes())
        .merge(board_file::routes())
        .merge(blocking::routes())
        .merge(stewards::routes())
        .merge(reporting::routes())
        .merge(download::routes())
        .merge(print::routes())
        .merge(popup::routes())
        .route("/neighbours", get(neighbours))
        .route("/invite", get(invite))
        .route("/settings", get(settings))
        .route("/settings/name", post(set_name))
        .route("/settings/emergency", post(public::set_numbers))
        .route("/rounds", get(public::rounds).post(public::add_round))
        .route("/rounds/{id}/{action}", post(public::sign_up))
        .route("/sightings", post(public::add_sighting))
        .route("/sightings/{id}/done", post(public::sighting_done))
        .route("/alerts", get(public::alerts).post(public::declare_alert))
        .route("/alerts/{id}/end", post(public::end_alert))
        .route("/signout", post(sign_out))
        .route("/signout-others", post(sign_out_others))
        .route("/lang/{code}", get(set_lang))
        .route("/login", get(login_form).post(login_submit))
        .route("/signin", get(signin_page))
        .route("/signin/{token}", get(signin))
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
        .layer(middleware::from_fn_with_state(ui.clone(), refusals))
        .route("/api/v1/page/signin", post(new_signin_link))
        .with_state(ui);
    pages
        .merge(api)
        .layer(middleware::from_fn_with_state(gate, security::gate))
}

/// Renders what the gate refused, in the visitor's language; then hands the route the page
/// as the visitor: the node acting for the hosted resident signed in, if one is.
async fn refusals(State(ui): State<Ui>, mut request: Request, next: Next) -> Response {
    let lang = lang_of(request.headers());
    let resident = request
        .extensions()
        .get::<Visitor>()
        .and_then(|v| v.resident.clone().map(|r| (v.clone(), r)));
    let ui = match resident {
        None => ui,
        Some((visitor, session)) => match ui.for_resident(&session).await {
            Some(acting) => acting,
            None => {
                // Removed from this node, or their code was replaced: signed out.
                ui.sessions.end(&visitor);
                let mut response = Redirect::to("/login?out=1").into_response();
                if let Some(v) = security::remove_cookie(&ui.cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, v);
                }
                return response;
            }
        },
    };
    if ui.resident.is_some() && owner_only(request.uri().path()) {
        let t = lang.t();
        let frame = ui.frame(lang, t.error_title, Nav::None, "/").await;
        let page = pages::Error {
            frame,
            message: t.error_owner_only,
        };
        return html(StatusCode::FORBIDDEN, &page);
    }
    request.extensions_mut().insert(ui.clone());
    match request.extensions().get::<Refusal>() {
        Some(Refusal::CrossSite) => {
            let t = lang.t();
            let frame = ui
                .frame_without_care(lang, t.error_title, Nav::None, "/")
                .await;
            let page = pages::Error {
                frame,
                message: t.error_forbidden,
            };
            html(StatusCode::FORBIDDEN, &page)
        }
        Some(Refusal::SignInNeeded) => signin_needed(&ui, lang, false, false).await,
        None => next.run(request).await,
    }
}

/// The pages a hosted resident (a pop-up guest too) may not use: the community's invite
/// (the owner decides who joins through their node), this node's local emergency numbers,
/// and the pop-up's poster and buttons.
fn owner_only(path: &str) -> bool {
    matches!(path, "/invite" | "/settings/emergency") || popup::owner_only(path)
}

impl Ui {
    /// The page as hosted resident `session`, if they are still hosted here and signed in
    /// with their current code.
    async fn for_resident(&self, session: &security::ResidentSession) -> Option<Ui> {
        let residents = self.node.residents().await.ok()?;
        let info = residents
            .into_iter()
            .find(|r| r.author == session.author && r.code_tag == session.code_tag)?;
        Some(Ui {
            node: self.node.as_resident(info.author),
            resident: Some(Arc::new(info)),
            ..self.clone()
        })
    }
}

async fn signin_needed(ui: &Ui, lang: Lang, refused: bool, signed_out: bool) -> Response {
    let frame = ui
        .frame_without_care(lang, lang.t().signin_title, Nav::None, "/signin")
        .await;
    html(
        StatusCode::UNAUTHORIZED,
        &pages::SigninNeeded {
            frame,
            refused,
            signed_out,
        },
    )
}

fn lang_of(headers: &HeaderMap) -> Lang {
    security::cookie_value(headers, "lang")
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

impl Ui {
    /// The frame of a signed-in visitor's page: its title, navigation and address, the
    /// sync footer, and who of the resident's circles needs someone now.
    async fn frame<'a>(&self, lang: Lang, title: &'a str, nav: Nav, path: &'a str) -> Frame<'a> {
        let mut frame = self.frame_without_care(lang, title, nav, path).await;
        if let Ok(list) = self.node.care_list().await {
            frame.care = care::needing_someone(&list);
        }
        frame
    }

    /// The frame of a page anyone who reaches the port may see (signing in, a refusal):
    /// never the names of the care register.
    async fn frame_without_care<'a>(
        &self,
        lang: Lang,
        title: &'a str,
        nav: Nav,
        path: &'a str,
    ) -> Frame<'a> {
        let mut banner = public::Banner {
            alerts: Vec::new(),
            local_numbers: self
                .data_dir
                .as_deref()
                .map(public::read_numbers)
                .unwrap_or_default(),
        };
        let footer = match self.node.status().await {
            Ok(s) => {
                banner.alerts = s.alerts;
                Footer {
                    online: s.online,
                    last_sync: s.last_sync,
                    recently_synced_peers: s.recently_synced_peers,
                    posts: s.board.posts,
                    live_posts: s.board.live_posts,
                    feeds: s.board.feeds,
                    clock_skew: s.clock_skew,
                }
            }
            Err(_) => Footer::default(),
        };
        Frame {
            lang,
            title,
            nav,
            path,
            footer,
            now: now(),
            banner,
            care: Vec::new(),
        }
    }
}

/// A rendered page as the answer, never cached.
fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("page: cannot render: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn error_page(ui: &Ui, lang: Lang, status: StatusCode, message: &str) -> Response {
    let frame = ui.frame(lang, lang.t().error_title, Nav::None, "/").await;
    html(status, &pages::Error { frame, message })
}

/// A node error as a page, in the resident's language (the node's own message, in English,
/// goes to the terminal when it is not the resident's doing).
async fn node_error(ui: &Ui, lang: Lang, e: NodeError) -> Response {
    let status = match &e {
        NodeError::NoSuchPost(_) | NodeError::Write(WriteError::UnknownPost(_)) => {
            let frame = ui.frame(lang, lang.t().error_title, Nav::None, "/").await;
            return html(StatusCode::NOT_FOUND, &pages::NotFound { frame });
        }
        NodeError::Store(StoreError::DiskFull { .. }) => StatusCode::INSUFFICIENT_STORAGE,
        NodeError::PostHidden => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    log_node_error(&e);
    error_page(ui, lang, status, &i18n::node_error(lang, &e)).await
}

/// Writes to the terminal, in the node's own words, an error that is not the resident's
/// doing: the page only says it in theirs.
fn log_node_error(e: &NodeError) {
    let residents_doing = matches!(
        e,
        NodeError::Write(_)
            | NodeError::AmbiguousPost(_)
            | NodeError::NoSuchHelper(_)
            | NodeError::Dial { .. }
            | NodeError::NoSuchMember(_)
            | NodeError::SeveralMembers(_)
    ) || matches!(e, NodeError::Care(c) if !matches!(c, CareError::Seal(_)));
    if !residents_doing {
        tracing::warn!("page: {e}");
    }
}

async fn board(
    Extension(ui): Extension<Ui>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let lang = lang_of(&headers);
    let query = match BoardQuery::from_query(query.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => {
            let message = i18n::query_error(lang, &e);
            return error_page(&ui, lang, StatusCode::BAD_REQUEST, message).await;
        }
    };
    let size = BOARD_PAGE_SIZE;
    let offset = (query.page.unwrap_or(1).max(1) - 1).saturating_mul(size);
    let page = match ui.node.page(query.filter(), offset, size).await {
        Ok(p) => p,
        Err(e) => return node_error(&ui, lang, e).await,
    };
    let frame = ui.frame(lang, lang.t().nav_board, Nav::Board, "/").await;
    html(
        StatusCode::OK,
        &pages::Board {
            frame,
            page: &page,
            query: &query,
        },
    )
}

async fn new_form(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let frame = ui.frame(lang, lang.t().new_title, Nav::New, "/new").await;
    html(
        StatusCode::OK,
        &pages::NewPost {
            frame,
            form: &PostForm::default(),
            csrf: &visitor.csrf,
        },
    )
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
    /// For a neighbour without a device: their name (`crate::behalf` in the crdt).
    #[serde(default)]
    behalf_name: String,
    /// And their consent: who agreed, how, when.
    #[serde(default)]
    behalf_consent: String,
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
            entraide_crdt::Field::Neighbour => "behalf_name",
            entraide_crdt::Field::Consent => "behalf_consent",
            _ => "form",
        },
        TextError::NoNeighbour => "behalf_name",
        TextError::NoConsent { .. } => "behalf_consent",
        _ => "form",
    }
}

async fn new_submit(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<NewPostBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let mut form = PostForm {
        kind: b.kind.parse().ok(),
        category: b.category.parse().ok(),
        title: b.title.clone(),
        details: b.details.clone(),
        urgency: b.urgency.parse().ok(),
        area: b.area.clone(),
        behalf_name: b.behalf_name.clone(),
        behalf_consent: b.behalf_consent.clone(),
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
        on_behalf_of: OnBehalfOf::from_fields(&b.behalf_name, &b.behalf_consent),
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
            Err(e) => {
                log_node_error(&e);
                form.errors.push(("form", i18n::node_error(lang, &e)));
            }
        }
    }
    let frame = ui.frame(lang, lang.t().new_title, Nav::New, "/new").await;
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &pages::NewPost {
            frame,
            form: &form,
            csrf: &visitor.csrf,
        },
    )
}

async fn viewer(ui: &Ui) -> Option<Viewer> {
    ui.node
        .whoami()
        .await
        .ok()
        .map(|w| Viewer { author: w.author })
}

#[derive(Debug, Default, Deserialize)]
struct PostQuery {
    /// The reader just reported the post to the stewards.
    #[serde(default)]
    reported: String,
}

async fn show_post(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PostQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let notice = (!q.reported.is_empty()).then(|| lang.reporting().reported);
    post_page(
        &ui,
        &visitor,
        lang,
        &id,
        StatusCode::OK,
        PostExtras {
            notice,
            ..PostExtras::default()
        },
    )
    .await
}

/// What the post page says besides the post: what was just done, why the last action was
/// refused, and the report as typed when it was refused.
#[derive(Debug, Default)]
struct PostExtras<'a> {
    notice: Option<&'static str>,
    error: Option<&'a str>,
    report: Option<&'a str>,
}

/// The post page of `id`, with `extras`.
async fn post_page(
    ui: &Ui,
    visitor: &Visitor,
    lang: Lang,
    id: &str,
    status: StatusCode,
    extras: PostExtras<'_>,
) -> Response {
    match (ui.node.show(id).await, viewer(ui).await) {
        (Ok(p), Some(v)) => {
            let messages = ui.node.messages(id).await.unwrap_or_default();
            let path = format!("/posts/{}", p.id);
            let frame = ui.frame(lang, &p.title, Nav::None, &path).await;
            let page = pages::Post {
                frame,
                post: &p,
                viewer: &v,
                csrf: &visitor.csrf,
                notice: extras.notice,
                error: extras.error,
                report: extras.report,
                messages: &messages,
            };
            html(status, &page)
        }
        (Err(e), _) => node_error(ui, lang, e).await,
        (_, None) => node_error(ui, lang, NodeError::Stopped).await,
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
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(b): Form<ActionBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let result = match action.as_str() {
        "respond" => ui.node.respond(&id, &b.message).await,
        "accept" => ui.node.accept(&id, &b.helper).await,
        "done" => ui.node.done(&id).await,
        "withdraw" => ui.node.withdraw(&id).await,
        "thank" => ui.node.thank(&id, &b.helper, &b.message).await,
        "message" => {
            let to = Some(b.helper.as_str()).filter(|h| !h.is_empty());
            ui.node.message(&id, to, &b.message).await.map(|m| m.post)
        }
        "delete-messages" => match ui.node.delete_messages(&id).await {
            Ok(_) => ui.node.show(&id).await.map(|p| p.id),
            Err(e) => Err(e),
        },
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    match result {
        Ok(id) => Redirect::to(&format!("/posts/{id}")).into_response(),
        // A refused message: show the post again with the reason above it.
        Err(e @ (NodeError::Write(WriteError::Text(_)) | NodeError::Message(_))) => {
            let error = match &e {
                NodeError::Write(WriteError::Text(t)) => i18n::text_error(lang, t),
                other => i18n::node_error(lang, other),
            };
            post_page(
                &ui,
                &visitor,
                lang,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                PostExtras {
                    error: Some(&error),
                    ..PostExtras::default()
                },
            )
            .await
        }
        Err(e) => node_error(&ui, lang, e).await,
    }
}

async fn mine(Extension(ui): Extension<Ui>, headers: HeaderMap) -> Response {
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
    let frame = ui.frame(lang, lang.t().nav_mine, Nav::Mine, "/mine").await;
    html(
        StatusCode::OK,
        &pages::Mine {
            frame,
            posts: &posts,
            responded: &responded,
        },
    )
}

async fn neighbours(Extension(ui): Extension<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let (Ok(peers), Ok(status)) = (ui.node.peers().await, ui.node.status().await) else {
        return node_error(&ui, lang, NodeError::Stopped).await;
    };
    let frame = ui
        .frame(
            lang,
            lang.t().nav_neighbours,
            Nav::Neighbours,
            "/neighbours",
        )
        .await;
    html(
        StatusCode::OK,
        &pages::Neighbours {
            frame,
            peers: &peers,
            status: &status,
        },
    )
}

async fn invite(Extension(ui): Extension<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let code = match ui.node.invite().await {
        Ok(c) => c,
        Err(e) => return node_error(&ui, lang, e).await,
    };
    let svg = qr_svg(&code);
    let frame = ui
        .frame(lang, lang.t().nav_invite, Nav::Invite, "/invite")
        .await;
    html(
        StatusCode::OK,
        &pages::Invite {
            frame,
            code: &code,
            qr_svg: &svg,
            lan_code: ui.lan.as_ref().map(|l| l.code.as_str()),
        },
    )
}

/// `text` as a QR code in SVG, to write into a page as is (empty if it is too long for a
/// QR code). The SVG is ours, generated from `text`, never the text itself.
fn qr_svg(text: &str) -> String {
    let svg = qrcode::QrCode::new(text.as_bytes())
        .map(|qr| {
            qr.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default();
    // Without its XML prologue.
    match svg.find("<svg") {
        Some(i) => svg[i..].to_owned(),
        None => String::new(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct SettingsQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    blocked: String,
    #[serde(default)]
    unblocked: String,
    #[serde(default)]
    others: String,
}

async fn settings(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Query(q): Query<SettingsQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let who = match ui.node.whoami().await {
        Ok(w) => w,
        Err(e) => return node_error(&ui, lang, e).await,
    };
    let blocked = ui.node.blocked().await.unwrap_or_default();
    let words = lang.blocking();
    let block_notice = if !q.blocked.is_empty() {
        Some(words.blocked_now)
    } else if !q.unblocked.is_empty() {
        Some(words.shown_again)
    } else {
        None
    };
    let frame = ui
        .frame(lang, lang.t().nav_settings, Nav::Settings, "/settings")
        .await;
    html(
        StatusCode::OK,
        &pages::Settings {
            frame,
            who: &who,
            csrf: &visitor.csrf,
            saved: !q.saved.is_empty(),
            error: None,
            sessions: ui
                .sessions
                .count(now(), ui.resident.as_ref().map(|r| &r.author)),
            others_signed_out: !q.others.is_empty(),
            blocked: &blocked,
            block_notice,
        },
    )
}

#[derive(Debug, Deserialize)]
struct NameBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn set_name(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<NameBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    match ui.node.set_name(&b.name).await {
        Ok(()) => Redirect::to("/settings?saved=1").into_response(),
        Err(e) => {
            let Ok(who) = ui.node.whoami().await else {
                return node_error(&ui, lang, e).await;
            };
            log_node_error(&e);
            let message = i18n::node_error(lang, &e);
            let blocked = ui.node.blocked().await.unwrap_or_default();
            let frame = ui
                .frame(lang, lang.t().nav_settings, Nav::Settings, "/settings")
                .await;
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &pages::Settings {
                    frame,
                    who: &who,
                    csrf: &visitor.csrf,
                    saved: false,
                    error: Some(&message),
                    sessions: ui
                        .sessions
                        .count(now(), ui.resident.as_ref().map(|r| &r.author)),
                    others_signed_out: false,
                    blocked: &blocked,
                    block_notice: None,
                },
            )
        }
    }
}

/// A form with nothing but its form token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfBody {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// Ends this device's session; the cookie goes too.
async fn sign_out(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<CsrfBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    ui.sessions.end(&visitor);
    let to = match visitor.kind {
        SessionKind::Owner => "/signin?out=1",
        SessionKind::Lan | SessionKind::Resident => "/login?out=1",
    };
    let mut response = Redirect::to(to).into_response();
    if let Some(v) = security::remove_cookie(&ui.cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Ends every session but this one (a lost phone, a shared computer), and every unused
/// sign-in address.
async fn sign_out_others(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<CsrfBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let ended = ui.sessions.end_others(&visitor);
    tracing::info!("page: signed out {ended} other devices");
    Redirect::to("/settings?others=1").into_response()
}

#[derive(Debug, Default, Deserialize)]
struct SignedOutQuery {
    #[serde(default)]
    out: String,
}

/// How this computer's browser signs in (also where a signed-out owner lands).
async fn signin_page(
    Extension(ui): Extension<Ui>,
    headers: HeaderMap,
    Query(q): Query<SignedOutQuery>,
) -> Response {
    signin_needed(&ui, lang_of(&headers), false, !q.out.is_empty()).await
}

/// A one-time sign-in address: a valid one begins a session of this computer's browser
/// and goes to the board (so the address leaves the address bar); any other is refused.
async fn signin(
    Extension(ui): Extension<Ui>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let Some(session) = ui.sessions.redeem_link(token.trim(), now()) else {
        return signin_needed(&ui, lang, true, false).await;
    };
    let mut response = Redirect::to("/").into_response();
    if let Some(v) =
        security::set_cookie(&ui.cookie, &session, security::OWNER_SESSION_LIFETIME_SECS)
    {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `POST /api/v1/page/signin` (API token): a new one-time sign-in address, for
/// `entraide open`. The gate only lets this computer reach it.
async fn new_signin_link(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    if !entraide_node::api::bearer_ok(&headers, &ui.api_token) {
        return entraide_node::api::unauthorized();
    }
    let token = ui.sessions.new_link(now());
    Json(serde_json::json!({ "path": format!("/signin/{token}") })).into_response()
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
    // else from `back`. Only a same-site relative path: never a redirect to another site.
    let back = security::referer_path(&headers)
        .or_else(|| security::safe_local_path(&q.back))
        .unwrap_or_else(|| "/".into());
    let mut response = Redirect::to(&back).into_response();
    if let Some(v) = security::set_cookie("lang", lang.code(), 365 * 24 * 3600) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    out: String,
    /// A resident's code, from the address in their QR code: the form comes filled in.
    #[serde(default)]
    code: String,
}

async fn login_form(
    Extension(ui): Extension<Ui>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let notice = if q.out.is_empty() {
        LoginNotice::None
    } else {
        LoginNotice::SignedOut
    };
    // Filled in, never signed in by the address alone: a page elsewhere could otherwise
    // sign this browser in as someone else. One tap on the button signs in.
    let code = residents_code_shape(&q.code);
    login_page(&ui, lang, StatusCode::OK, notice, &code).await
}

/// The code of an address, if it has the shape of a login code (letters, digits and
/// dashes, not too long); anything else is dropped rather than echoed.
fn residents_code_shape(code: &str) -> String {
    let code = code.trim();
    if code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        code.to_owned()
    } else {
        String::new()
    }
}

async fn login_page(
    ui: &Ui,
    lang: Lang,
    status: StatusCode,
    notice: LoginNotice,
    code: &str,
) -> Response {
    let frame = ui
        .frame_without_care(lang, lang.t().login_title, Nav::None, "/login")
        .await;
    html(
        status,
        &pages::Login {
            frame,
            notice,
            code,
        },
    )
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    #[serde(default)]
    code: String,
}

/// A login code: a hosted resident's own (their device then acts as them), or the LAN code
/// of this computer's owner. Checked unless this client sent too many wrong ones lately
/// (then not even compared, so guessing gains nothing), in constant time.
async fn login_submit(
    Extension(ui): Extension<Ui>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    Form(b): Form<LoginBody>,
) -> Response {
    let lang = lang_of(&headers);
    let client = conn.remote.ip();
    let now = Instant::now();
    if let Err(wait) = ui.throttle.check(client, now) {
        let mut response = login_page(
            &ui,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            LoginNotice::Throttled,
            "",
        )
        .await;
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    let resident = ui.node.resident_login(&b.code).await.ok().flatten();
    let typed = entraide_node::residents::normalise_code(&b.code);
    let lan_ok = ui
        .lan
        .as_ref()
        .is_some_and(|lan| constant_time_eq(typed.as_bytes(), lan.code.as_bytes()));
    let (session, lifetime) = match (resident, lan_ok) {
        (Some(r), _) => (
            ui.sessions.begin_resident(
                security::ResidentSession {
                    author: r.author,
                    code_tag: r.code_tag,
                },
                self::now(),
            ),
            security::RESIDENT_SESSION_LIFETIME_SECS,
        ),
        (None, true) => (
            ui.sessions.begin(SessionKind::Lan, self::now()),
            security::LAN_SESSION_LIFETIME_SECS,
        ),
        (None, false) => {
            ui.throttle.failed(client, now);
            tracing::info!("page: wrong login code from {client}");
            return login_page(&ui, lang, StatusCode::UNAUTHORIZED, LoginNotice::Wrong, "").await;
        }
    };
    ui.throttle.succeeded(client);
    let mut response = Redirect::to("/").into_response();
    if let Some(v) = security::set_cookie(&ui.cookie, &session, lifetime) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `change` events whenever the board or the neighbours change; the page's script then
/// fetches the page again and swaps its content.
async fn events(
    Extension(ui): Extension<Ui>,
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

#[cfg(test)]
mod tests {
    /// Phones open the page as plain `http://<LAN address>`, which browsers do not count
    /// as a secure context: no WebCrypto, no service worker, no clipboard API there. The
    /// page's script must not lean on anything a plain-http page lacks.
    #[test]
    fn the_script_needs_nothing_a_plain_http_page_lacks() {
        for secure_only in [
            "crypto",
            "serviceWorker",
            "isSecureContext",
            "navigator.clipboard",
            "navigator.credentials",
        ] {
            assert!(
                !super::JS.contains(secure_only),
                "app.js uses {secure_only}, which a phone on the LAN's plain http may not have"
            );
        }
    }
}

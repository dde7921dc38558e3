//! The care register's routes (issue 12): `/care`, where the resident says "I am fine",
//! checks on the people of their circles and registers a person; and the strip every page
//! shows while someone of their circles needs someone.
//!
//! Every POST here goes through the same checks as the page's other forms: the gate's
//! (session, same origin), then the session's form token, before anything is done.

use axum::Router;
use axum::extract::{Extension, Form, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use entraide_crdt::AuthorId;
use entraide_crdt::care::CheckHow;
use entraide_node::NodeError;
use entraide_node::care::{CareList, CareRequest};
use serde::Deserialize;

use super::html::{CareAlert, Nav};
use super::i18n::{self, Lang};
use super::pages::{self, CareForm};
use super::security::Visitor;
use super::{Ui, error_page, html, lang_of, log_node_error, node_error};

/// The care page's routes, merged into the page's router (behind the same gate).
pub(super) fn routes() -> Router<Ui> {
    Router::new()
        .route("/care", get(care))
        .route("/care/add", post(add))
        .route("/care/{id}/{action}", post(action))
}

/// The people of the resident's circles (or whom the resident registered) who need
/// someone now: not fine, or nobody checked on them today. The resident's own record is
/// not among them: the strip is for those who check.
pub(super) fn needing_someone(list: &CareList) -> Vec<CareAlert> {
    list.records
        .iter()
        .filter(|r| !r.is_me && r.view.state.needs_someone())
        .filter(|r| r.view.circle.contains(&list.me) || r.view.registered_by == list.me)
        .map(|r| CareAlert {
            name: r.view.name.clone(),
            not_fine: r.view.state == entraide_crdt::care::CheckState::NotFine,
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// What was just done, as the page says it.
fn saved_text(lang: Lang, code: &str) -> Option<&'static str> {
    let t = lang.t();
    match code {
        "added" => Some(t.care_added),
        "checked" => Some(t.care_checked_saved),
        "taken" => Some(t.care_taken_saved),
        "removed" => Some(t.care_removed),
        _ => None,
    }
}

async fn care(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Query(q): Query<SavedQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let saved = saved_text(lang, &q.saved);
    render(
        &ui,
        &visitor,
        lang,
        StatusCode::OK,
        &CareForm::default(),
        saved,
        None,
    )
    .await
}

/// The care page, with `form` in the register form and what was saved or refused.
async fn render(
    ui: &Ui,
    visitor: &Visitor,
    lang: Lang,
    status: StatusCode,
    form: &CareForm,
    saved: Option<&str>,
    error: Option<&str>,
) -> Response {
    let (list, members) = match (ui.node.care_list().await, ui.node.care_members().await) {
        (Ok(l), Ok(m)) => (l, m),
        (Err(e), _) | (_, Err(e)) => return node_error(ui, lang, e).await,
    };
    let frame = ui.frame(lang, lang.t().nav_care, Nav::Care, "/care").await;
    html(
        status,
        &pages::Care {
            frame,
            list: &list,
            members: &members,
            csrf: &visitor.csrf,
            form,
            saved,
            error,
        },
    )
}

/// The start of a window that was not typed as a time.
const NO_WINDOW: u16 = u16::MAX;

/// The register form's fields, read from its pairs (the circle is one `circle` pair per
/// member ticked).
fn read_form(pairs: &[(String, String)]) -> (String, CareForm) {
    let mut csrf = String::new();
    let mut form = CareForm::default();
    let (mut start_h, mut start_m, mut end_h, mut end_m) = (None, None, None, None);
    let number = |v: &str| v.trim().parse::<u16>().ok();
    for (key, value) in pairs {
        match key.as_str() {
            "csrf" => csrf.clone_from(value),
            "name" => form.name.clone_from(value),
            "area" => form.area.clone_from(value),
            "consent" => form.consent.clone_from(value),
            "notes" => form.notes = value.replace("\r\n", "\n"),
            "me" => form.me = value == "1",
            "name_public" => form.name_public = value == "1",
            "start_h" => start_h = number(value),
            "start_m" => start_m = number(value),
            "end_h" => end_h = number(value),
            "end_m" => end_m = number(value),
            "circle" => {
                if let Ok(id) = value.trim().parse::<AuthorId>()
                    && !form.circle.contains(&id)
                {
                    form.circle.push(id);
                }
            }
            _ => {}
        }
    }
    match (start_h, start_m, end_h, end_m) {
        (Some(sh), Some(sm), Some(eh), Some(em)) if sh < 24 && sm < 60 && eh < 24 && em < 60 => {
            form.start = sh * 60 + sm;
            form.end = eh * 60 + em;
        }
        // Not a time: the node says what a window must be.
        _ => form.start = NO_WINDOW,
    }
    (csrf, form)
}

/// `HH:MM-HH:MM` of the form's window, or something the node refuses as a window.
fn window_of(form: &CareForm) -> String {
    if form.start == NO_WINDOW {
        return "?".into();
    }
    format!(
        "{:02}:{:02}-{:02}:{:02}",
        form.start / 60,
        form.start % 60,
        form.end / 60,
        form.end % 60
    )
}

async fn add(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers);
    let (csrf, mut form) = read_form(&pairs);
    if !visitor.csrf_ok(&csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let request = CareRequest {
        name: form.name.clone(),
        area: form.area.clone(),
        window: window_of(&form),
        circle: form.circle.iter().map(AuthorId::to_string).collect(),
        consent: form.consent.clone(),
        notes: form.notes.clone(),
        me: form.me,
        name_public: form.name_public,
    };
    match ui.node.care_add(request).await {
        Ok(_) => Redirect::to("/care?saved=added").into_response(),
        Err(e) => {
            log_node_error(&e);
            form.error = Some(i18n::node_error(lang, &e));
            if form.start == NO_WINDOW {
                form.start = CareForm::default().start;
            }
            let status = status_of(&e);
            render(&ui, &visitor, lang, status, &form, None, None).await
        }
    }
}

fn status_of(e: &NodeError) -> StatusCode {
    match e {
        NodeError::Store(entraide_node::store::StoreError::DiskFull { .. }) => {
            StatusCode::INSUFFICIENT_STORAGE
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

#[derive(Debug, Deserialize)]
struct ActionBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    how: String,
    #[serde(default)]
    fine: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirm: String,
}

/// An action on one record: `fine` (the person's own "I am fine"), `not-fine-me` (the
/// person's own "I am not well"), `check` (a circle member visited or phoned: fine or
/// not), `take` ("I am going"), `remove` (with its tick).
async fn action(
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
    let node = &ui.node;
    let (result, saved) = match action.as_str() {
        "fine" => (
            node.care_check(&id, CheckHow::Myself, true, "").await,
            "checked",
        ),
        "not-fine-me" => (
            node.care_check(&id, CheckHow::Myself, false, &b.note).await,
            "checked",
        ),
        "check" => {
            // Only a visit or a call here: "self" is the person's own button.
            let how = match b.how.as_str() {
                "phone" => CheckHow::Phone,
                "visit" => CheckHow::Visit,
                other => {
                    let e = entraide_crdt::care::CareError::How(other.into());
                    let message = i18n::care_error(lang, &e);
                    return refused(&ui, &visitor, lang, &message).await;
                }
            };
            let fine = b.fine != "0";
            (node.care_check(&id, how, fine, &b.note).await, "checked")
        }
        "take" => (node.care_take(&id).await, "taken"),
        "remove" => {
            if b.confirm != "1" {
                return refused(&ui, &visitor, lang, lang.t().care_remove_unconfirmed).await;
            }
            (node.care_remove(&id).await, "removed")
        }
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/care?saved={saved}")).into_response(),
        Err(
            e @ (NodeError::Care(_) | NodeError::NoSuchMember(_) | NodeError::SeveralMembers(_)),
        ) => {
            log_node_error(&e);
            refused(&ui, &visitor, lang, &i18n::node_error(lang, &e)).await
        }
        Err(e) => node_error(&ui, lang, e).await,
    }
}

/// The care page again, with why the action was refused above it.
async fn refused(ui: &Ui, visitor: &Visitor, lang: Lang, message: &str) -> Response {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render(
        ui,
        visitor,
        lang,
        status,
        &CareForm::default(),
        None,
        Some(message),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_register_form_reads_every_circle_member_and_the_window() {
        let a = AuthorId([1; 32]).to_string();
        let b = AuthorId([2; 32]).to_string();
        let (csrf, form) = read_form(&pairs(&[
            ("csrf", "tok"),
            ("name", "Mme Martin"),
            ("area", "Bât. B"),
            ("start_h", "09"),
            ("start_m", "15"),
            ("end_h", "11"),
            ("end_m", "00"),
            ("circle", &a),
            ("circle", &b),
            ("circle", &a),
            ("circle", "not an id"),
            ("consent", "elle-même, de vive voix"),
            ("notes", "porte bleue\r\ncode 12"),
            ("me", "1"),
        ]));
        assert_eq!(csrf, "tok");
        assert_eq!(form.circle, vec![AuthorId([1; 32]), AuthorId([2; 32])]);
        assert_eq!(window_of(&form), "09:15-11:00");
        assert_eq!(form.notes, "porte bleue\ncode 12");
        assert!(form.me && !form.name_public);
        // A window that does not read goes to the node as one it refuses.
        let (_, form) = read_form(&pairs(&[("start_h", "25"), ("start_m", "00")]));
        assert_eq!(window_of(&form), "?");
        assert!("?".parse::<entraide_crdt::care::Window>().is_err());
    }
}

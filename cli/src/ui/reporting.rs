//! Reports to the stewards on the page (issue 15): "Report to the stewards" on a post that
//! is not the reader's own (`POST /posts/{id}/report`, a reason only the stewards read),
//! and the reports a steward reads on `/stewards`.
//!
//! The POST goes through the same checks as the page's other forms: the gate's (session,
//! same origin), then the session's form token, before anything is done. Done, it goes
//! back to the post saying so (`?reported=1`); refused (no reason, no stewards), the post
//! shows the node's refusal above it, the reason as typed, the form open.

use axum::Router;
use axum::extract::{Extension, Form, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use entraide_crdt::report::ReportError;
use serde::Deserialize;

use super::i18n::Lang;
use super::security::Visitor;
use super::{Ui, error_page, lang_of, log_node_error};

pub(super) fn routes() -> Router<Ui> {
    Router::new().route("/posts/{id}/report", post(report))
}

/// The words of reporting, on the post page and on the stewards page.
#[derive(Debug)]
pub(crate) struct ReportStrings {
    pub(crate) summary: &'static str,
    pub(crate) reason: &'static str,
    pub(crate) private: &'static str,
    pub(crate) button: &'static str,
    pub(crate) reported: &'static str,
    pub(crate) title: &'static str,
    pub(crate) text: &'static str,
    pub(crate) none: &'static str,
    pub(crate) post: &'static str,
    pub(crate) gone: &'static str,
    pub(crate) author: &'static str,
    pub(crate) reporter: &'static str,
}

static FR: ReportStrings = ReportStrings {
    summary: "Signaler aux intendants",
    reason: "Pourquoi ?",
    private: "Seuls les intendants de la communauté lisent votre signalement. L'auteur de l'annonce n'est pas prévenu.",
    button: "Envoyer le signalement",
    reported: "Signalé : seuls les intendants le lisent.",
    title: "Signalements",
    text: "Des membres vous signalent ces annonces. Vous seuls, les intendants, les lisez : leurs auteurs ne sont pas prévenus.",
    none: "Aucun signalement.",
    post: "Annonce",
    gone: "n'est plus sur le tableau",
    author: "de",
    reporter: "signalée par",
};

static EN: ReportStrings = ReportStrings {
    summary: "Report to the stewards",
    reason: "Why?",
    private: "Only the community's stewards read your report. The post's author is not told.",
    button: "Send the report",
    reported: "Reported: only the stewards read it.",
    title: "Reports",
    text: "Members report these posts to you. Only you, the stewards, read them: their authors are not told.",
    none: "No reports.",
    post: "Post",
    gone: "no longer on the board",
    author: "by",
    reporter: "reported by",
};

impl Lang {
    /// The words of reporting in this language.
    pub(crate) fn reporting(self) -> &'static ReportStrings {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

/// A report refused, in plain words.
pub(crate) fn report_error(lang: Lang, e: &ReportError) -> String {
    let max = entraide_crdt::report::MAX_REPORT_CHARS;
    match (lang, e) {
        (Lang::Fr, ReportError::Empty) => {
            "Dites pourquoi vous signalez cette annonce : seuls les intendants le lisent.".into()
        }
        (Lang::En, ReportError::Empty) => {
            "Say why you report this post: only the stewards read it.".into()
        }
        (Lang::Fr, ReportError::TooLong) => {
            format!("La raison est trop longue : {max} caractères au plus.")
        }
        (Lang::En, ReportError::TooLong) => {
            format!("The reason is too long: at most {max} characters.")
        }
        (Lang::Fr, ReportError::NoStewards) => {
            "Cette communauté n'a pas d'intendants à qui signaler une annonce.".into()
        }
        (Lang::En, ReportError::NoStewards) => {
            "This community has no stewards to report a post to.".into()
        }
        // Sealing failed, or a refusal added later.
        (_, _) => lang.t().error_generic.into(),
    }
}

#[derive(Debug, Deserialize)]
struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /posts/{id}/report`: reports the post to the stewards after checking the form's
/// token; back to the post saying so, or the post with the node's refusal.
async fn report(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReportForm>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&f.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    match ui.node.report(&id, &f.reason).await {
        Ok(()) => match ui.node.show(&id).await {
            Ok(p) => Redirect::to(&format!("/posts/{}?reported=1#post-notice", p.id)),
            Err(_) => Redirect::to("/"),
        }
        .into_response(),
        Err(e) => {
            log_node_error(&e);
            let message = super::i18n::node_error(lang, &e);
            super::post_page(
                &ui,
                &visitor,
                lang,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                super::PostExtras {
                    error: Some(&message),
                    report: Some(&f.reason),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_of_a_report_is_translated() {
        for e in [
            ReportError::Empty,
            ReportError::TooLong,
            ReportError::NoStewards,
        ] {
            let (fr, en) = (report_error(Lang::Fr, &e), report_error(Lang::En, &e));
            assert_ne!(fr, en, "{e:?}");
            assert_ne!(en, Lang::En.t().error_generic, "{e:?}");
        }
    }
}

//! The board file on the page (issue 14): download the whole board (`/board.entraide`) to
//! carry it on a USB stick, and upload one (`POST /import`) to merge it, each feed checked
//! as a peer's would be. The settings page has the link and the form; the answer is a page
//! that says what the import did, in words.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use entraide_node::ImportReport;

use super::html::{Frame, Nav};
use super::i18n::Lang;
use super::security::Visitor;
use super::{Ui, error_page, html, lang_of};

/// Largest board file the page takes (as the API).
const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Fingerprints of kept feeds listed on the result page, at most.
const KEPT_SHOWN: usize = 20;

pub(crate) fn routes() -> Router<Ui> {
    Router::new().route("/board.entraide", get(download)).route(
        "/import",
        post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

/// The settings section's and the result page's words.
pub(crate) struct BoardFileStrings {
    pub(crate) title: &'static str,
    pub(crate) text: &'static str,
    pub(crate) download: &'static str,
    pub(crate) choose: &'static str,
    pub(crate) import: &'static str,
    pub(crate) result_title: &'static str,
    /// "N feeds read, U brought something new, K were already here, R refused."
    pub(crate) summary: fn(usize, usize, usize, usize) -> String,
    pub(crate) refused: &'static str,
    pub(crate) kept: &'static str,
    pub(crate) and_more: fn(usize) -> String,
    pub(crate) file_problem: &'static str,
    pub(crate) not_a_file: &'static str,
    pub(crate) back: &'static str,
}

static FR: BoardFileStrings = BoardFileStrings {
    title: "Le tableau dans un fichier",
    text: "Pour porter le tableau là où aucun réseau ne passe (une clé USB) : téléchargez-le ici, puis importez-le sur un autre ordinateur. Chaque annonce du fichier y est vérifiée comme si un voisin l'avait envoyée.",
    download: "Télécharger le tableau (fichier)",
    choose: "Un fichier de tableau (.entraide) à importer",
    import: "Importer",
    result_title: "Import du tableau",
    summary: |read, new, here, refused| {
        format!(
            "{read} fil(s) lu(s) : {new} apportai(en)t du nouveau, {here} étai(en)t déjà là, {refused} refusé(s)."
        )
    },
    refused: "Refusé",
    kept: "Gardés",
    and_more: |n| format!("et {n} autre(s)"),
    file_problem: "Le fichier lui-même pose problème (ce qui précède a été vérifié et gardé s'il était valide) :",
    not_a_file: "Choisissez un fichier de tableau (fait par « entraide export » ou par le lien de téléchargement).",
    back: "Retour aux réglages",
};

static EN: BoardFileStrings = BoardFileStrings {
    title: "The board in a file",
    text: "To carry the board where no network reaches (a USB stick): download it here, then import it on another computer. Every post in the file is checked there as if a neighbour had sent it.",
    download: "Download the board (file)",
    choose: "A board file (.entraide) to import",
    import: "Import",
    result_title: "Board import",
    summary: |read, new, here, refused| {
        format!(
            "{read} feed(s) read: {new} brought something new, {here} were already here, {refused} refused."
        )
    },
    refused: "Refused",
    kept: "Kept",
    and_more: |n| format!("and {n} more"),
    file_problem: "The file itself has a problem (what came before it was checked and kept if valid):",
    not_a_file: "Choose a board file (made by “entraide export” or by the download link).",
    back: "Back to the settings",
};

impl Lang {
    /// The board file's words in this language.
    pub(crate) fn board_file(self) -> &'static BoardFileStrings {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

/// `GET /board.entraide`: the whole board, as `entraide export` writes it.
async fn download(Extension(ui): Extension<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    match ui.node.export().await {
        Ok(file) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"entraide-board-{}.entraide\"",
                        crate::when::local(crate::output::now())
                            .split_whitespace()
                            .nth(1)
                            .unwrap_or("today")
                    ),
                ),
            ],
            file,
        )
            .into_response(),
        Err(e) => super::node_error(&ui, lang, e).await,
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage<'a> {
    frame: Frame<'a>,
    s: &'static BoardFileStrings,
    summary: String,
    report: ImportReport,
    kept: Vec<String>,
    more: Option<String>,
}

/// `POST /import`: a board file from the form (with the session's form token).
async fn upload(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let lang = lang_of(&headers);
    let s = lang.board_file();
    let (mut csrf, mut file) = (String::new(), None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("file") => file = field.bytes().await.ok(),
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return error_page(&ui, lang, StatusCode::BAD_REQUEST, s.not_a_file).await,
        }
    }
    if !visitor.csrf_ok(&csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return error_page(&ui, lang, StatusCode::BAD_REQUEST, s.not_a_file).await;
    };
    let report = match ui.node.import(file.to_vec()).await {
        Ok(r) => r,
        Err(e) => return super::node_error(&ui, lang, e).await,
    };
    if report.made_at.is_none() {
        return error_page(&ui, lang, StatusCode::UNPROCESSABLE_ENTITY, s.not_a_file).await;
    }
    let frame = ui
        .frame(lang, s.result_title, Nav::Settings, "/settings")
        .await;
    let summary = (s.summary)(
        report.feeds,
        report.updated,
        report.unchanged,
        report.refused.len(),
    );
    let kept: Vec<String> = report.kept.iter().take(KEPT_SHOWN).cloned().collect();
    let more =
        (report.kept.len() > KEPT_SHOWN).then(|| (s.and_more)(report.kept.len() - KEPT_SHOWN));
    let status = if report.file_error.is_some() || !report.refused.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        status,
        &ImportPage {
            frame,
            s,
            summary,
            report,
            kept,
            more,
        },
    )
}

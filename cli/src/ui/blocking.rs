//! Blocking on the page: "Block this person" on a post (its author, or a neighbour who
//! responded), and the settings' list of blocked neighbours with "Show again". Both forms
//! carry the session's form token; a block is the signed-in resident's own.

use axum::extract::Form;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Router};
use serde::Deserialize;

use super::i18n::Lang;
use super::security::Visitor;
use super::{Ui, error_page, lang_of};

pub(crate) fn routes() -> Router<Ui> {
    Router::new()
        .route("/block", post(block))
        .route("/unblock", post(unblock))
}

/// The words of blocking, on the post page and in the settings.
pub(crate) struct BlockStrings {
    pub(crate) block_button: &'static str,
    pub(crate) block_confirm: &'static str,
    pub(crate) title: &'static str,
    pub(crate) text: &'static str,
    pub(crate) none: &'static str,
    pub(crate) unblock_button: &'static str,
    pub(crate) blocked_now: &'static str,
    pub(crate) shown_again: &'static str,
}

static FR: BlockStrings = BlockStrings {
    block_button: "Bloquer cette personne",
    block_confirm: "Ses annonces, ses réponses et son nom disparaîtront de vos écrans sur cet ordinateur. Elle n'est pas prévenue.",
    title: "Personnes bloquées",
    text: "Leurs annonces, leurs réponses et leur nom ne s'affichent plus pour vous, sur cet ordinateur seulement. Elles ne sont pas prévenues, et votre ordinateur transmet toujours leurs annonces aux voisins.",
    none: "Vous n'avez bloqué personne.",
    unblock_button: "Afficher de nouveau",
    blocked_now: "Cette personne est bloquée pour vous.",
    shown_again: "Cette personne s'affiche de nouveau.",
};

static EN: BlockStrings = BlockStrings {
    block_button: "Block this person",
    block_confirm: "Their posts, responses and name will leave your screens on this computer. They are not told.",
    title: "Blocked people",
    text: "Their posts, responses and name no longer show to you, on this computer only. They are not told, and your computer still passes their posts on to neighbours.",
    none: "You blocked nobody.",
    unblock_button: "Show again",
    blocked_now: "This person is blocked for you.",
    shown_again: "This person shows again.",
};

impl Lang {
    /// The words of blocking in this language.
    pub(crate) fn blocking(self) -> &'static BlockStrings {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WhoForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    who: String,
}

/// `POST /block`: blocks the neighbour named (their author id) for the signed-in resident.
async fn block(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(f): Form<WhoForm>,
) -> Response {
    act(ui, visitor, headers, f, true).await
}

/// `POST /unblock`: shows the neighbour named again.
async fn unblock(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(f): Form<WhoForm>,
) -> Response {
    act(ui, visitor, headers, f, false).await
}

/// Blocks (or shows again) after checking the form's token, then back to the settings' list.
async fn act(ui: Ui, visitor: Visitor, headers: HeaderMap, f: WhoForm, block: bool) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&f.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let (done, back) = if block {
        (
            ui.node.block(&f.who, None).await,
            "/settings?blocked=1#blocked",
        )
    } else {
        (
            ui.node.unblock(&f.who).await,
            "/settings?unblocked=1#blocked",
        )
    };
    match done {
        Ok(_) => Redirect::to(back).into_response(),
        Err(e) => super::node_error(&ui, lang, e).await,
    }
}

//! The paper backup on the page (issue 13): `/backup`, reached from the settings, says what
//! the backup is and what someone holding it can do; its button (a POST with the session's
//! form token) shows the 24 words and their QR code as one printable A4 sheet.
//!
//! The words are the key in full, so the page shows them only to whom [`key_for`] allows,
//! only after a deliberate press, never on a GET, and never in a response a browser keeps
//! (`Cache-Control: no-store`, as every page). The sheet is served at `/backup/words`, an
//! address with no GET, so the page's live updates (which fetch the address again) leave
//! it alone. Nothing external is loaded: the QR code is SVG drawn here.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use entraide_crdt::AuthorKey;
use entraide_node::data_dir::DataDir;
use serde::Deserialize;

use super::html::{Frame, Nav};
use super::i18n::Lang;
use super::security::{Conn, SessionKind, Visitor};
use super::{Ui, error_page, html, lang_of, qr_svg};
use crate::backup::{WordList, today, words_of};

/// The backup page's routes, merged into the page's router (behind the same gate).
pub(super) fn routes() -> Router<Ui> {
    Router::new()
        .route("/backup", get(page))
        .route("/backup/words", post(words))
}

/// An identity whose paper backup a visitor may see: the key, and what the sheet prints
/// beside the words so a person can tell which identity it is.
struct Identity {
    key: AuthorKey,
    name: Option<String>,
    fingerprint: String,
}

/// Why the page shows no backup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    /// Not this computer's owner in this computer's browser.
    NotTheOwner,
    /// The identity cannot be read now (no data folder, or not the running node's).
    Unreadable,
}

/// The identity whose paper backup `visitor` (connected as `conn`) may see, or why not: the
/// one way the page reaches a secret key.
///
/// Only the owner's identity, and only to the owner's browser on this computer: a session
/// begun with a one-time sign-in address (`entraide open`), on a connection from this
/// computer. A phone signed in with the LAN code is refused: that code proves being on the
/// network and having seen the owner's screen, not owning the key. A hosted resident's
/// phone is refused too (their settings do not link here): their host prints their sheet
/// with `entraide --as NAME backup --paper`.
async fn key_for(ui: &Ui, visitor: &Visitor, conn: &Conn) -> Result<Identity, Refused> {
    if visitor.kind != SessionKind::Owner || !conn.is_local() {
        return Err(Refused::NotTheOwner);
    }
    let dir = ui.data_dir.as_deref().ok_or(Refused::Unreadable)?;
    let key = match DataDir::new(dir).load() {
        Ok(profile) => profile.key,
        Err(e) => {
            tracing::warn!("page: the backup page cannot read the identity: {e}");
            return Err(Refused::Unreadable);
        }
    };
    let who = ui.node.whoami().await.map_err(|_| Refused::Unreadable)?;
    if who.author != key.id() {
        tracing::warn!("page: identity.key is not the running node's identity");
        return Err(Refused::Unreadable);
    }
    Ok(Identity {
        key,
        name: who.name,
        fingerprint: who.fingerprint,
    })
}

/// The strings of the backup page, in one language.
#[derive(Debug)]
pub(crate) struct BackupStrings {
    pub(crate) settings_link: &'static str,
    pub(crate) settings_text: &'static str,
    pub(crate) title: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) holder_title: &'static str,
    pub(crate) holder: &'static str,
    pub(crate) keep: &'static str,
    pub(crate) whose: &'static str,
    pub(crate) reveal_hint: &'static str,
    pub(crate) reveal: &'static str,
    pub(crate) sheet_title: &'static str,
    pub(crate) name: &'static str,
    pub(crate) no_name: &'static str,
    pub(crate) fingerprint: &'static str,
    pub(crate) date: &'static str,
    pub(crate) words_title: &'static str,
    pub(crate) words_list: &'static str,
    pub(crate) qr_alt: &'static str,
    pub(crate) restore_title: &'static str,
    pub(crate) restore: &'static str,
    pub(crate) print: &'static str,
    pub(crate) print_hint: &'static str,
    pub(crate) hide: &'static str,
    pub(crate) refused_title: &'static str,
    pub(crate) refused: &'static str,
    pub(crate) unreadable: &'static str,
}

static FR: BackupStrings = BackupStrings {
    settings_link: "Sauvegarde sur papier",
    settings_text: "Imprimez votre identité sur une feuille, pour la retrouver si cet ordinateur est perdu, volé ou en panne.",
    title: "Sauvegarde sur papier",
    intro: "Votre identité sur le tableau tient en 24 mots. Imprimés ou recopiés sur une feuille, ils vous permettent de la retrouver sur un autre ordinateur si celui-ci est perdu, volé ou en panne : vos voisins vous reconnaîtront, vos annonces et vos fiches resteront les vôtres.",
    holder_title: "Ce que peut faire qui détient la feuille",
    holder: "Qui détient ces mots peut agir en votre nom sur le tableau (publier, proposer son aide, accepter, remercier) et lire les fiches scellées qui vous sont adressées, comme les fiches de veille, jusqu'à ce que vous passiez à une nouvelle identité. Les mots sont votre clé, en entier.",
    keep: "Gardez la feuille comme une clé de maison : chez vous, en lieu sûr. Ne la photographiez pas, ne l'envoyez à personne. entraide ne vous demandera jamais ces mots.",
    whose: "Identité de cet ordinateur :",
    reveal_hint: "Avant d'afficher les mots, vérifiez que personne ne voit votre écran.",
    reveal: "Afficher mes 24 mots",
    sheet_title: "entraide · sauvegarde d'identité",
    name: "Nom",
    no_name: "(sans nom)",
    fingerprint: "Empreinte",
    date: "Date",
    words_title: "Vos 24 mots, dans l'ordre",
    words_list: "Liste BIP-39 française. « entraide restore » lit aussi la liste anglaise, avec ou sans accents.",
    qr_alt: "Les mêmes 24 mots en code QR",
    restore_title: "Pour retrouver votre identité",
    restore: "Sur le nouvel ordinateur, tapez « entraide restore » puis les 24 mots ; ensuite « entraide join CODE » avec un code d'invitation d'un voisin.",
    print: "Imprimer",
    print_hint: "Une seule feuille A4. Vous pouvez aussi recopier les mots à la main, lisiblement et dans l'ordre.",
    hide: "Cacher les mots",
    refused_title: "Seulement sur l'ordinateur lui-même",
    refused: "La sauvegarde de votre identité ne s'affiche que dans le navigateur de l'ordinateur qui fait tourner entraide, ouvert avec « entraide open ». Une connexion depuis un téléphone avec le code du réseau local ne prouve pas que vous êtes le propriétaire de la clé.",
    unreadable: "L'identité de ce nœud ne peut pas être lue pour l'instant. Dans un terminal, « entraide backup --paper » l'imprime.",
};

static EN: BackupStrings = BackupStrings {
    settings_link: "Paper backup",
    settings_text: "Print your identity on a sheet of paper, to get it back if this computer is lost, stolen or broken.",
    title: "Paper backup",
    intro: "Your identity on the board fits in 24 words. Printed or copied onto a sheet, they let you get it back on another computer if this one is lost, stolen or broken: your neighbours will know you, and your posts and records stay yours.",
    holder_title: "What someone holding the sheet can do",
    holder: "Whoever holds these words can act as you on the board (post, offer help, accept, thank, in your name) and read the sealed records addressed to you, such as care records, until you move to a new identity. The words are your key, in full.",
    keep: "Keep the sheet like a house key: at home, somewhere safe. Never photograph it, never send it to anyone. entraide will never ask you for these words.",
    whose: "This computer's identity:",
    reveal_hint: "Before showing the words, make sure nobody can see your screen.",
    reveal: "Show my 24 words",
    sheet_title: "entraide · identity backup",
    name: "Name",
    no_name: "(no name)",
    fingerprint: "Fingerprint",
    date: "Date",
    words_title: "Your 24 words, in order",
    words_list: "BIP-39 English list. “entraide restore” also reads the French list.",
    qr_alt: "The same 24 words as a QR code",
    restore_title: "To get your identity back",
    restore: "On the new computer, type “entraide restore” and then the 24 words; then “entraide join CODE” with an invite code from a neighbour.",
    print: "Print",
    print_hint: "One A4 sheet. You can also copy the words by hand, legibly and in order.",
    hide: "Hide the words",
    refused_title: "Only on the computer itself",
    refused: "The backup of your identity shows only in the browser of the computer that runs entraide, opened with “entraide open”. Signing in from a phone with the local network's code does not prove that you own the key.",
    unreadable: "This node's identity cannot be read right now. In a terminal, “entraide backup --paper” prints it.",
};

/// The backup page's strings in `lang`.
pub(crate) fn strings(lang: Lang) -> &'static BackupStrings {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

impl Frame<'_> {
    /// The backup page's strings (the settings page links to it).
    pub(crate) fn backup_strings(&self) -> &'static BackupStrings {
        strings(self.lang)
    }
}

/// The words, ready to print.
#[derive(Debug)]
pub(crate) struct Sheet {
    pub(crate) name: Option<String>,
    pub(crate) fingerprint: String,
    pub(crate) date: String,
    pub(crate) words: Vec<String>,
    /// The QR code of the words: SVG drawn here, written unescaped.
    pub(crate) qr_svg: String,
}

/// What the page shows.
#[derive(Debug)]
pub(crate) enum Shown {
    /// Why there is no backup here (a heading, and the reason).
    Refused {
        title: Option<&'static str>,
        text: &'static str,
    },
    /// The explanation and the button, for the identity named.
    Form {
        name: Option<String>,
        fingerprint: String,
    },
    /// The sheet.
    Sheet(Sheet),
}

/// `/backup` and `/backup/words`.
#[derive(Template)]
#[template(path = "backup.html")]
pub(crate) struct BackupPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) s: &'static BackupStrings,
    pub(crate) csrf: &'a str,
    pub(crate) shown: Shown,
}

fn refusal(s: &'static BackupStrings, why: Refused) -> (StatusCode, Shown) {
    match why {
        Refused::NotTheOwner => (
            StatusCode::FORBIDDEN,
            Shown::Refused {
                title: Some(s.refused_title),
                text: s.refused,
            },
        ),
        Refused::Unreadable => (
            StatusCode::SERVICE_UNAVAILABLE,
            Shown::Refused {
                title: None,
                text: s.unreadable,
            },
        ),
    }
}

async fn render(
    ui: &Ui,
    lang: Lang,
    visitor: &Visitor,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let s = strings(lang);
    let frame = ui.frame(lang, s.title, Nav::Settings, "/backup").await;
    html(
        status,
        &BackupPage {
            frame,
            s,
            csrf: &visitor.csrf,
            shown,
        },
    )
}

/// `GET /backup`: what the backup is, and the button, for whom may see it.
async fn page(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let (status, shown) = match key_for(&ui, &visitor, &conn).await {
        Ok(id) => (
            StatusCode::OK,
            Shown::Form {
                name: id.name,
                fingerprint: id.fingerprint,
            },
        ),
        Err(why) => refusal(strings(lang), why),
    };
    render(&ui, lang, &visitor, status, shown).await
}

#[derive(Debug, Deserialize)]
struct RevealBody {
    #[serde(default)]
    csrf: String,
}

/// `POST /backup/words`: the sheet, after the button, with the session's form token.
async fn words(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    Extension(conn): Extension<Conn>,
    headers: HeaderMap,
    Form(b): Form<RevealBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let (status, shown) = match key_for(&ui, &visitor, &conn).await {
        Ok(id) => {
            let list = match lang {
                Lang::Fr => WordList::Fr,
                Lang::En => WordList::En,
            };
            let words = words_of(&id.key.to_seed(), list);
            let qr_svg = qr_svg(&words.join(" "));
            (
                StatusCode::OK,
                Shown::Sheet(Sheet {
                    name: id.name,
                    fingerprint: id.fingerprint,
                    date: today().to_string(),
                    words,
                    qr_svg,
                }),
            )
        }
        Err(why) => refusal(strings(lang), why),
    };
    render(&ui, lang, &visitor, status, shown).await
}

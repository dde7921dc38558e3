//! `/download`: the running node gives its own program to a neighbour on the Wi-Fi, so that
//! entraide spreads with no internet (issue 14). The page says which system and processor
//! the program runs on, its size and SHA-256, and how to install it; `/download/entraide`
//! is the program itself, streamed from the file this process was started from.
//!
//! Both are public (no session: the neighbour is not a member yet), and reachable from the
//! LAN only when the page is open to it (`--ui-lan`, `--popup`). At most
//! [`MAX_DOWNLOADS`] run at once; the SHA-256 is computed once, the first time it is asked.

use std::path::PathBuf;
use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt as _;
use tokio::sync::{OnceCell, Semaphore};

use super::html::{Frame, Nav};
use super::i18n::Lang;
use super::{Ui, html, lang_of};

/// Most downloads of the program at once (each reads the whole file).
pub(crate) const MAX_DOWNLOADS: usize = 2;
/// Bytes read from the program file per chunk sent.
const CHUNK: usize = 256 * 1024;

pub(crate) fn routes() -> Router<Ui> {
    Router::new()
        .route("/download", get(page))
        .route("/download/entraide", get(program))
}

/// The program file of this process, its size and SHA-256 (hex).
#[derive(Clone, Debug)]
struct Program {
    path: PathBuf,
    size: u64,
    sha256: String,
}

static PROGRAM: OnceCell<Option<Program>> = OnceCell::const_new();
static DOWNLOADS: Semaphore = Semaphore::const_new(MAX_DOWNLOADS);

/// This process's program, measured once.
async fn program_file() -> Option<Program> {
    PROGRAM
        .get_or_init(|| async {
            let path = std::env::current_exe().ok()?;
            // Hashed as it is read: the program is never held in memory whole.
            tokio::task::spawn_blocking(move || {
                use std::io::Read as _;
                let mut file = std::fs::File::open(&path).ok()?;
                let mut hasher = Sha256::new();
                let mut buf = vec![0u8; CHUNK];
                let mut size = 0u64;
                loop {
                    let n = file.read(&mut buf).ok()?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    size += n as u64;
                }
                Some(Program {
                    size,
                    sha256: hex::encode(hasher.finalize()),
                    path,
                })
            })
            .await
            .ok()
            .flatten()
        })
        .await
        .clone()
}

/// The name the program is saved under.
fn file_name() -> String {
    format!(
        "entraide-{}-{}-{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[derive(Template)]
#[template(path = "download.html")]
struct DownloadPage<'a> {
    frame: Frame<'a>,
    words: Words,
    program: Option<Program>,
    file_name: String,
    size: String,
}

/// The page's sentences in one language.
struct Words {
    title: &'static str,
    intro: String,
    size: &'static str,
    sha: &'static str,
    button: &'static str,
    steps_title: &'static str,
    steps: [String; 4],
    other_system: &'static str,
    missing: &'static str,
}

/// The processor, as people name it.
fn processor(lang: Lang) -> &'static str {
    match (std::env::consts::ARCH, lang) {
        ("x86_64", _) => "x86-64 (Intel, AMD)",
        ("aarch64", Lang::Fr) => "ARM 64 bits (Raspberry Pi 4 ou 5, Mac récent)",
        ("aarch64", Lang::En) => "64-bit ARM (Raspberry Pi 4 or 5, recent Mac)",
        ("arm", Lang::Fr) => "ARM 32 bits",
        ("arm", Lang::En) => "32-bit ARM",
        ("x86", _) => "x86 (32 bits)",
        (other, _) => other,
    }
}

fn words(lang: Lang, name: &str) -> Words {
    let (os, arch) = (std::env::consts::OS, processor(lang));
    match lang {
        Lang::Fr => Words {
            title: "Obtenir entraide",
            intro: format!(
                "Voici le programme que fait tourner cet ordinateur : entraide {}, pour le système {os} sur un processeur {arch}. Il se copie d'un voisin à l'autre, sans internet.",
                env!("CARGO_PKG_VERSION")
            ),
            size: "Taille",
            sha: "Empreinte SHA-256",
            button: "Télécharger entraide",
            steps_title: "Pour l'installer",
            steps: [
                format!("Téléchargez-le (bouton ci-dessus) : il arrive sous le nom « {name} »."),
                format!(
                    "Vérifiez-le : dans un terminal, « sha256sum {name} » doit afficher exactement l'empreinte ci-dessus. Sinon, ne le lancez pas."
                ),
                format!(
                    "Rendez-le exécutable et rangez-le : « chmod +x {name} » puis « mv {name} ~/.local/bin/entraide »."
                ),
                "Demandez un code d'invitation à un voisin, puis « entraide join CODE » et « entraide up ». Le guide en dit plus (« entraide --help »)."
                    .to_owned(),
            ],
            other_system: "Ce programme ne marche que sur ce système et ce type de processeur. Pour un autre ordinateur, demandez à un voisin qui en a un du même genre.",
            missing: "Le programme de cet ordinateur est introuvable : demandez à la personne qui l'a installé.",
        },
        Lang::En => Words {
            title: "Get entraide",
            intro: format!(
                "This is the program this computer runs: entraide {}, for the {os} system on a {arch} processor. It copies from one neighbour to the next, with no internet.",
                env!("CARGO_PKG_VERSION")
            ),
            size: "Size",
            sha: "SHA-256 fingerprint",
            button: "Download entraide",
            steps_title: "To install it",
            steps: [
                format!("Download it (button above): it arrives named “{name}”."),
                format!(
                    "Check it: in a terminal, “sha256sum {name}” must show exactly the fingerprint above. If not, do not run it."
                ),
                format!(
                    "Make it runnable and put it away: “chmod +x {name}” then “mv {name} ~/.local/bin/entraide”."
                ),
                "Ask a neighbour for an invite code, then “entraide join CODE” and “entraide up”. The guide says more (“entraide --help”)."
                    .to_owned(),
            ],
            other_system: "This program only runs on this system and this kind of processor. For another computer, ask a neighbour who has one of that kind.",
            missing: "This computer's program cannot be found: ask whoever installed it.",
        },
    }
}

/// `/download`: what the program is and how to install it.
async fn page(Extension(ui): Extension<Ui>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers);
    let name = file_name();
    let words = words(lang, &name);
    let frame = ui
        .frame_without_care(lang, words.title, Nav::None, "/download")
        .await;
    let program = program_file().await;
    let size = program
        .as_ref()
        .map(|p| format!("{:.1} MB", p.size as f64 / 1_000_000.0))
        .unwrap_or_default();
    let page = DownloadPage {
        frame,
        words,
        program,
        file_name: name,
        size,
    };
    html(StatusCode::OK, &page)
}

/// `/download/entraide`: the program file, streamed.
async fn program() -> Response {
    let Some(program) = program_file().await else {
        return (
            StatusCode::NOT_FOUND,
            "entraide: the program file is not found\n",
        )
            .into_response();
    };
    let Ok(permit) = DOWNLOADS.try_acquire() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "entraide: other neighbours are downloading; try again in a minute\n",
        )
            .into_response();
    };
    let Ok(file) = tokio::fs::File::open(&program.path).await else {
        return (
            StatusCode::NOT_FOUND,
            "entraide: the program file is not found\n",
        )
            .into_response();
    };
    let permit = Arc::new(permit);
    // One chunk at a time; the permit is held until the last is sent (or the download is
    // dropped).
    let stream = futures::stream::unfold(Some((file, permit)), |state| async move {
        let (mut file, permit) = state?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some((file, permit))))
            }
            // The error ends the body (the neighbour's download fails, visibly).
            Err(e) => Some((Err(e), None)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, program.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name()),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

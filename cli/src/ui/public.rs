//! The public parts of "checking on each other" (issue 12) on the page: the alert banner
//! every page shows, the alerts page (declare, end), and the rounds page (winter rounds,
//! sign-ups, sightings). French and English; every form is a plain POST with the
//! session's form token, checked like every other form of the page.

use askama::Template;
use axum::extract::{Extension, Form, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use entraide_crdt::{
    AlertDraft, AlertKind, AlertView, AuthorId, Days, EntryError, EntryKind, Field, LocalDate,
    Need, RoundDraft, RoundView, SightingDraft, SightingView, TextError, Weekday,
};
use entraide_node::NodeError;
use serde::Deserialize;

use super::html::{Frame, Nav};
use super::i18n::{self, Lang};
use super::security::Visitor;
use super::{Ui, error_page, html, lang_of, log_node_error, now};

/// The strings of these pages, in one language.
#[derive(Debug)]
pub(crate) struct PublicStrings {
    pub(crate) nav_rounds: &'static str,
    pub(crate) field_note: &'static str,
    pub(crate) banner_alert: &'static str,
    pub(crate) banner_until: &'static str,
    pub(crate) banner_numbers: &'static str,
    pub(crate) banner_manage: &'static str,
    pub(crate) alerts_title: &'static str,
    pub(crate) alerts_none: &'static str,
    pub(crate) alerts_declare: &'static str,
    pub(crate) alerts_kind: &'static str,
    pub(crate) alerts_until: &'static str,
    pub(crate) alerts_until_hint: &'static str,
    pub(crate) alerts_note_hint: &'static str,
    pub(crate) alerts_submit: &'static str,
    pub(crate) alerts_end: &'static str,
    pub(crate) rounds_title: &'static str,
    pub(crate) rounds_intro: &'static str,
    pub(crate) rounds_none: &'static str,
    pub(crate) rounds_at: &'static str,
    pub(crate) rounds_from: &'static str,
    pub(crate) rounds_to: &'static str,
    pub(crate) rounds_tonight: &'static str,
    pub(crate) rounds_nobody: &'static str,
    pub(crate) rounds_walk_tonight: &'static str,
    pub(crate) rounds_cancel_tonight: &'static str,
    pub(crate) rounds_walk: &'static str,
    pub(crate) rounds_cancel: &'static str,
    pub(crate) rounds_next: &'static str,
    pub(crate) rounds_not_tonight: &'static str,
    pub(crate) round_new: &'static str,
    pub(crate) round_title: &'static str,
    pub(crate) round_title_hint: &'static str,
    pub(crate) round_days: &'static str,
    pub(crate) round_area: &'static str,
    pub(crate) round_time: &'static str,
    pub(crate) round_from: &'static str,
    pub(crate) round_to: &'static str,
    pub(crate) round_submit: &'static str,
    pub(crate) sightings_title: &'static str,
    pub(crate) sightings_none: &'static str,
    pub(crate) sightings_needs: &'static str,
    pub(crate) sightings_done: &'static str,
    pub(crate) sightings_done_label: &'static str,
    pub(crate) sightings_done_hint: &'static str,
    pub(crate) sightings_done_submit: &'static str,
    pub(crate) sighting_new: &'static str,
    pub(crate) sighting_rule: &'static str,
    pub(crate) sighting_place: &'static str,
    pub(crate) sighting_place_hint: &'static str,
    pub(crate) sighting_submit: &'static str,
    pub(crate) sighting_seen: &'static str,
    pub(crate) sighting_shelter: &'static str,
    pub(crate) settings_numbers: &'static str,
    pub(crate) settings_numbers_hint: &'static str,
    pub(crate) settings_numbers_save: &'static str,
    pub(crate) kinds: [&'static str; 5],
    pub(crate) needs: [&'static str; 5],
    pub(crate) days: [&'static str; 7],
    pub(crate) months: [&'static str; 12],
}

static FR: PublicStrings = PublicStrings {
    nav_rounds: "Maraudes",
    field_note: "Note",
    banner_alert: "Alerte",
    banner_until: "jusqu'au",
    banner_numbers: "Urgences : 15 (SAMU), 112, 114 (par SMS, personnes sourdes ou malentendantes), 115 (hébergement d'urgence)",
    banner_manage: "Voir ou déclarer une alerte",
    alerts_title: "Alertes",
    alerts_none: "Aucune alerte en cours.",
    alerts_declare: "Déclarer une alerte",
    alerts_kind: "Quel genre d'alerte ?",
    alerts_until: "Jusqu'à quand ?",
    alerts_until_hint: "Au plus 14 jours. Heure d'ici.",
    alerts_note_hint: "Quelques mots : « buvez de l'eau, fermez les volets ».",
    alerts_submit: "Déclarer l'alerte",
    alerts_end: "Terminer cette alerte",
    rounds_title: "Maraudes",
    rounds_intro: "Des voisins marchent le soir pour voir qui dort dehors. Inscrivez-vous soir par soir : personne ne marche seul, aucun soir ne reste vide.",
    rounds_none: "Aucune maraude pour l'instant. Créez-en une plus bas.",
    rounds_at: "à",
    rounds_from: "de",
    rounds_to: "à",
    rounds_tonight: "Ce soir",
    rounds_nobody: "Personne pour l'instant",
    rounds_walk_tonight: "Je marche ce soir",
    rounds_cancel_tonight: "Je ne peux plus ce soir",
    rounds_walk: "Je marche",
    rounds_cancel: "Je ne peux plus",
    rounds_next: "Les soirs suivants",
    rounds_not_tonight: "Pas de maraude ce soir.",
    round_new: "Nouvelle maraude",
    round_title: "Nom de la maraude",
    round_title_hint: "Par exemple « Maraude du soir ».",
    round_days: "Quels jours ?",
    round_area: "Quartier",
    round_time: "Heure de départ",
    round_from: "Point de départ",
    round_to: "Point d'arrivée",
    round_submit: "Créer la maraude",
    sightings_title: "Personnes vues dehors (dernières 24 heures)",
    sightings_none: "Personne n'a été signalé ces dernières 24 heures.",
    sightings_needs: "Besoins",
    sightings_done: "Fait",
    sightings_done_label: "Ce que vous avez fait",
    sightings_done_hint: "Par exemple « apporté une couverture ».",
    sightings_done_submit: "C'est fait",
    sighting_new: "Signaler une personne qui dort dehors",
    sighting_rule: "Jamais de nom, de photo ni de description de la personne : seulement l'endroit et ce dont elle a besoin.",
    sighting_place: "Où ?",
    sighting_place_hint: "Un endroit approximatif : « sous le pont, rue des Lilas ».",
    sighting_submit: "Signaler",
    sighting_seen: "vue",
    sighting_shelter: "une place pour dormir : appelez le 115 (gratuit, jour et nuit)",
    settings_numbers: "Numéros d'urgence locaux (page en anglais)",
    settings_numbers_hint: "Affichés après le 112 sur la bannière d'alerte en anglais. Réglés sur cet ordinateur seulement.",
    settings_numbers_save: "Enregistrer les numéros",
    kinds: ["canicule", "grand froid", "tempête", "coupure", "autre"],
    needs: [
        "une couverture",
        "une boisson chaude",
        "à manger",
        "de la compagnie",
        "une place pour dormir",
    ],
    days: [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
};

static EN: PublicStrings = PublicStrings {
    nav_rounds: "Rounds",
    field_note: "Note",
    banner_alert: "Alert",
    banner_until: "until",
    banner_numbers: "Emergency: 112",
    banner_manage: "See or declare an alert",
    alerts_title: "Alerts",
    alerts_none: "No alert right now.",
    alerts_declare: "Declare an alert",
    alerts_kind: "What kind of alert?",
    alerts_until: "Until when?",
    alerts_until_hint: "At most 14 days. Local time.",
    alerts_note_hint: "A few words: “drink water, close the shutters”.",
    alerts_submit: "Declare the alert",
    alerts_end: "End this alert",
    rounds_title: "Winter rounds",
    rounds_intro: "Neighbours walk in the evening to see who sleeps outside. Sign up evening by evening: nobody walks alone, no evening stays empty.",
    rounds_none: "No round yet. Make one below.",
    rounds_at: "at",
    rounds_from: "from",
    rounds_to: "to",
    rounds_tonight: "Tonight",
    rounds_nobody: "Nobody yet",
    rounds_walk_tonight: "I'll walk tonight",
    rounds_cancel_tonight: "I can't make it tonight",
    rounds_walk: "I'll walk",
    rounds_cancel: "I can't make it",
    rounds_next: "The next evenings",
    rounds_not_tonight: "No round tonight.",
    round_new: "New round",
    round_title: "Name of the round",
    round_title_hint: "For example “Evening round”.",
    round_days: "Which days?",
    round_area: "Area",
    round_time: "Start time",
    round_from: "Starting point",
    round_to: "End point",
    round_submit: "Make the round",
    sightings_title: "People seen outside (last 24 hours)",
    sightings_none: "Nobody was reported in the last 24 hours.",
    sightings_needs: "Needs",
    sightings_done: "Done",
    sightings_done_label: "What you did",
    sightings_done_hint: "For example “brought a blanket”.",
    sightings_done_submit: "Done",
    sighting_new: "Report a person sleeping outside",
    sighting_rule: "Never a name, a photo or a description of the person: only the place and what they need.",
    sighting_place: "Where?",
    sighting_place_hint: "A rough place: “under the bridge, rue des Lilas”.",
    sighting_submit: "Report",
    sighting_seen: "seen",
    sighting_shelter: "a place to sleep (in France: call 115, free, day and night)",
    settings_numbers: "Local emergency numbers (English page)",
    settings_numbers_hint: "Shown after 112 on the English alert banner. Set on this computer only.",
    settings_numbers_save: "Save the numbers",
    kinds: ["heatwave", "cold snap", "storm", "outage", "other"],
    needs: [
        "a blanket",
        "a hot drink",
        "food",
        "company",
        "a place to sleep",
    ],
    days: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

/// These pages' strings in `lang`.
pub(crate) fn strings(lang: Lang) -> &'static PublicStrings {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

fn index_of<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

/// An alert kind in words.
pub(crate) fn kind(lang: Lang, k: AlertKind) -> &'static str {
    strings(lang).kinds[index_of(AlertKind::ALL, &k)]
}

fn need(lang: Lang, n: Need) -> &'static str {
    strings(lang).needs[index_of(Need::ALL, &n)]
}

fn day(lang: Lang, d: Weekday) -> &'static str {
    strings(lang).days[index_of(Weekday::ALL, &d)]
}

/// "samedi 5 décembre", "Saturday 5 December".
fn date_words(lang: Lang, date: LocalDate) -> String {
    let text = date.to_string();
    let month: usize = text[5..7].parse().unwrap_or(1);
    let dom: u32 = text[8..10].parse().unwrap_or(1);
    let s = strings(lang);
    format!(
        "{} {dom} {}",
        day(lang, date.weekday()),
        s.months[month.clamp(1, 12) - 1]
    )
}

/// An instant in the node's local time: "samedi 5 décembre, 18:00".
pub(crate) fn when_words(lang: Lang, at: i64) -> String {
    let offset = entraide_node::clock::utc_offset(at);
    let minutes = (at + i64::from(offset)).rem_euclid(86_400) / 60;
    format!(
        "{}, {:02}:{:02}",
        date_words(lang, LocalDate::of(at, offset)),
        minutes / 60,
        minutes % 60
    )
}

/// One active alert on the banner.
#[derive(Debug)]
pub(crate) struct BannerAlert {
    pub(crate) kind_code: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) until: String,
    pub(crate) notes: Vec<String>,
}

/// The alert banner every page shows while an alert is active.
#[derive(Debug, Default)]
pub(crate) struct Banner {
    pub(crate) alerts: Vec<AlertView>,
    /// The local emergency numbers set for the English page.
    pub(crate) local_numbers: String,
}

impl Banner {
    /// What the banner says: the alerts in words.
    pub(crate) fn items(&self, lang: Lang) -> Vec<BannerAlert> {
        self.alerts
            .iter()
            .map(|a| BannerAlert {
                kind_code: a.kind.as_str(),
                kind: kind(lang, a.kind),
                until: when_words(lang, a.until),
                notes: a.notes.clone(),
            })
            .collect()
    }

    /// The emergency numbers of the page's language.
    pub(crate) fn numbers(&self, lang: Lang) -> String {
        let base = strings(lang).banner_numbers;
        match lang {
            Lang::En if !self.local_numbers.trim().is_empty() => {
                format!("{base} · {}", self.local_numbers.trim())
            }
            _ => base.to_owned(),
        }
    }
}

/// The file in the data directory holding the local emergency numbers.
pub(crate) const NUMBERS_FILE: &str = "emergency-numbers.txt";
/// Longest list of local emergency numbers, in characters.
const MAX_NUMBERS_CHARS: usize = 200;

/// The local emergency numbers set on this node (empty if none).
pub(crate) fn read_numbers(data_dir: &std::path::Path) -> String {
    std::fs::read_to_string(data_dir.join(NUMBERS_FILE))
        .map(|t| clean_numbers(&t))
        .unwrap_or_default()
}

/// One line, neutralised, at most [`MAX_NUMBERS_CHARS`].
fn clean_numbers(text: &str) -> String {
    entraide_crdt::neutralise(text, false)
        .trim()
        .chars()
        .take(MAX_NUMBERS_CHARS)
        .collect()
}

/// A refused alert or sighting text, in plain words (`field` already in `lang`).
pub(crate) fn text_error(lang: Lang, e: &TextError, field: &str) -> String {
    match (lang, e) {
        (Lang::Fr, TextError::AlertEnd { max_days }) => format!(
            "La fin de l'alerte doit venir après maintenant, et au plus {max_days} jours plus tard."
        ),
        (Lang::En, TextError::AlertEnd { max_days }) => {
            format!("The end of the alert must be after now, and at most {max_days} days ahead.")
        }
        (Lang::Fr, TextError::NamesAPerson { word, .. }) => format!(
            "{field} : « {word} » semble nommer la personne. Un signalement ne porte jamais de nom : seulement l'endroit et ce qu'il faut."
        ),
        (Lang::En, TextError::NamesAPerson { word, .. }) => format!(
            "{field}: “{word}” seems to name the person. A report never holds a name: only the place and what is needed."
        ),
        (Lang::Fr, TextError::DescribesAPerson { word, .. }) => format!(
            "{field} : « {word} » semble décrire la personne. Un signalement ne porte jamais de description : seulement l'endroit et ce qu'il faut."
        ),
        (Lang::En, TextError::DescribesAPerson { word, .. }) => format!(
            "{field}: “{word}” seems to describe the person. A report never holds a description: only the place and what is needed."
        ),
        _ => i18n::text_error(lang, e),
    }
}

fn what(lang: Lang, w: EntryKind) -> &'static str {
    match (lang, w) {
        (Lang::Fr, EntryKind::Alert) => "alerte",
        (Lang::Fr, EntryKind::Round) => "maraude",
        (Lang::Fr, EntryKind::Sighting) => "signalement",
        (Lang::En, EntryKind::Alert) => "alert",
        (Lang::En, EntryKind::Round) => "round",
        (Lang::En, EntryKind::Sighting) => "report",
    }
}

/// No alert, round or sighting with that id.
pub(crate) fn no_such(lang: Lang, w: EntryKind) -> String {
    match lang {
        Lang::Fr => format!(
            "Cette {} n'est pas (ou plus) sur cet ordinateur.",
            what(lang, w)
        )
        .replace("Cette signalement", "Ce signalement"),
        Lang::En => format!(
            "This {} is not (or no longer) on this computer.",
            what(lang, w)
        ),
    }
}

/// Several ids start with what was typed.
pub(crate) fn ambiguous(lang: Lang, w: EntryKind, typed: &str) -> String {
    match lang {
        Lang::Fr => format!(
            "Plusieurs identifiants ({}) commencent par « {typed} » : donnez davantage de l'identifiant.",
            what(lang, w)
        ),
        Lang::En => format!(
            "Several {} ids start with “{typed}”: give more of the id.",
            what(lang, w)
        ),
    }
}

/// A refused alert, round or sighting write, in plain words.
pub(crate) fn entry_error(lang: Lang, e: &EntryError) -> String {
    match (lang, e) {
        (_, EntryError::Unknown { what: w, .. }) => no_such(lang, *w),
        (Lang::Fr, EntryError::NotYours { .. }) => {
            "Seule la personne qui l'a déclarée peut la changer.".into()
        }
        (Lang::En, EntryError::NotYours { .. }) => {
            "Only the person who made it can change it.".into()
        }
        (Lang::Fr, EntryError::Over { .. }) => "C'est déjà terminé.".into(),
        (Lang::En, EntryError::Over { .. }) => "This is already over.".into(),
        (Lang::Fr, EntryError::NotOnThatDay { date, .. }) => {
            format!("La maraude n'a pas lieu le {}.", date_words(lang, *date))
        }
        (Lang::En, EntryError::NotOnThatDay { date, .. }) => {
            format!("The round does not run on {}.", date_words(lang, *date))
        }
        (Lang::Fr, EntryError::DateOutOfRange { max_days, .. }) => {
            format!("On s'inscrit pour aujourd'hui ou au plus {max_days} jours plus tard.")
        }
        (Lang::En, EntryError::DateOutOfRange { max_days, .. }) => {
            format!("Sign up for today or at most {max_days} days ahead.")
        }
        (Lang::Fr, EntryError::NoDays) => "Cochez au moins un jour.".into(),
        (Lang::En, EntryError::NoDays) => "Tick at least one day.".into(),
        (Lang::Fr, EntryError::NoNeeds) => "Cochez au moins un besoin.".into(),
        (Lang::En, EntryError::NoNeeds) => "Tick at least one need.".into(),
        (Lang::Fr, EntryError::Duplicate { .. }) => {
            "Le même identifiant existe déjà : réessayez.".into()
        }
        (Lang::En, EntryError::Duplicate { .. }) => "The same id already exists: try again.".into(),
        (_, _) => lang.t().error_generic.to_owned(),
    }
}

/// A walker or author as the page names them.
fn name(name: &Option<String>, id: &AuthorId) -> String {
    match name {
        Some(n) => format!("{n} ({})", id.fmt_short()),
        None => id.fmt_short(),
    }
}

/// One evening of a round, in words.
#[derive(Debug)]
pub(crate) struct EveningLine {
    pub(crate) date: String,
    pub(crate) label: String,
    pub(crate) walkers: String,
    pub(crate) empty: bool,
    pub(crate) mine: bool,
}

/// A round, in words.
#[derive(Debug)]
pub(crate) struct RoundCard {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) line: String,
    pub(crate) tonight: Option<EveningLine>,
    pub(crate) next: Vec<EveningLine>,
}

impl RoundCard {
    fn of(lang: Lang, r: &RoundView, me: &AuthorId) -> Self {
        let s = strings(lang);
        let mut line = format!("{} {}", s.rounds_at, r.at);
        if !r.from.is_empty() {
            line.push_str(&format!(", {} {}", s.rounds_from, r.from));
        }
        if !r.to.is_empty() {
            line.push_str(&format!(" {} {}", s.rounds_to, r.to));
        }
        if !r.area.is_empty() {
            line.push_str(&format!(" ({})", r.area));
        }
        let days: Vec<&str> = r.days.list().into_iter().map(|d| day(lang, d)).collect();
        line.push_str(&format!(" · {}", days.join(", ")));
        let evening = |e: &entraide_crdt::Evening| EveningLine {
            date: e.date.to_string(),
            label: if e.tonight {
                s.rounds_tonight.to_owned()
            } else {
                date_words(lang, e.date)
            },
            walkers: if e.empty {
                s.rounds_nobody.to_owned()
            } else {
                e.walkers
                    .iter()
                    .map(|w| name(&w.name, &w.author))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            empty: e.empty,
            mine: e.walkers.iter().any(|w| w.author == *me),
        };
        RoundCard {
            id: r.id.to_string(),
            title: r.title.clone(),
            line,
            tonight: r.evenings.iter().find(|e| e.tonight).map(evening),
            next: r
                .evenings
                .iter()
                .filter(|e| !e.tonight)
                .map(evening)
                .collect(),
        }
    }
}

/// A sighting, in words.
#[derive(Debug)]
pub(crate) struct SightingCard {
    pub(crate) id: String,
    pub(crate) place: String,
    pub(crate) seen: String,
    pub(crate) needs: Vec<(&'static str, &'static str)>,
    pub(crate) note: String,
    pub(crate) done: Vec<String>,
}

impl SightingCard {
    fn of(lang: Lang, v: &SightingView, now: i64) -> Self {
        let s = strings(lang);
        SightingCard {
            id: v.id.to_string(),
            place: v.place.clone(),
            seen: format!(
                "{} {} · {}",
                s.sighting_seen,
                i18n::relative(lang, v.created_at, now),
                name(&v.author_name, &v.author)
            ),
            needs: v
                .needs
                .iter()
                .map(|n| {
                    let words = if *n == Need::Shelter {
                        s.sighting_shelter
                    } else {
                        need(lang, *n)
                    };
                    (n.as_str(), words)
                })
                .collect(),
            note: v.note.clone(),
            done: v
                .done
                .iter()
                .map(|d| {
                    let who = name(&d.helper_name, &d.helper);
                    match lang {
                        Lang::Fr => format!("{} : {} — {who}", s.sightings_done, d.what),
                        Lang::En => format!("{}: {} — {who}", s.sightings_done, d.what),
                    }
                })
                .collect(),
        }
    }
}

/// The rounds page: rounds, tonight's sightings, and the forms.
#[derive(Template)]
#[template(path = "rounds.html")]
pub(crate) struct RoundsPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) s: &'static PublicStrings,
    pub(crate) csrf: &'a str,
    pub(crate) error: Option<String>,
    pub(crate) rounds: Vec<RoundCard>,
    pub(crate) sightings: Vec<SightingCard>,
    /// (code, words) of every need and every day, for the forms.
    pub(crate) needs: Vec<(&'static str, &'static str)>,
    pub(crate) days: Vec<(&'static str, &'static str)>,
}

impl RoundsPage<'_> {
    fn note_max(&self) -> usize {
        Field::Note.max_chars()
    }

    fn area_max(&self) -> usize {
        Field::Area.max_chars()
    }

    fn title_max(&self) -> usize {
        Field::Title.max_chars()
    }
}

/// One active alert on the alerts page, with the ids the viewer may end.
#[derive(Debug)]
pub(crate) struct AlertCard {
    pub(crate) kind: &'static str,
    pub(crate) kind_code: &'static str,
    pub(crate) until: String,
    pub(crate) notes: Vec<String>,
    pub(crate) mine: Vec<String>,
}

/// The alerts page: the active alerts, ending one's own, declaring one.
#[derive(Template)]
#[template(path = "alerts.html")]
pub(crate) struct AlertsPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) s: &'static PublicStrings,
    pub(crate) csrf: &'a str,
    pub(crate) error: Option<String>,
    pub(crate) alerts: Vec<AlertCard>,
    pub(crate) kinds: Vec<(&'static str, &'static str)>,
    /// The default end: tomorrow evening, as a `datetime-local` value.
    pub(crate) until_default: String,
}

impl AlertsPage<'_> {
    fn note_max(&self) -> usize {
        Field::Note.max_chars()
    }
}

async fn me(ui: &Ui) -> Result<AuthorId, NodeError> {
    Ok(ui.node.whoami().await?.author)
}

/// The rounds page with `error` above it (if any).
async fn rounds_page(
    ui: &Ui,
    lang: Lang,
    visitor: &Visitor,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (rounds, sightings, me) = match (ui.node.rounds().await, ui.node.sightings().await) {
        (Ok(r), Ok(s)) => match me(ui).await {
            Ok(me) => (r, s, me),
            Err(e) => return super::node_error(ui, lang, e).await,
        },
        (Err(e), _) | (_, Err(e)) => return super::node_error(ui, lang, e).await,
    };
    let s = strings(lang);
    let now = now();
    let frame = ui.frame(lang, s.rounds_title, Nav::Rounds, "/rounds").await;
    html(
        status,
        &RoundsPage {
            frame,
            s,
            csrf: &visitor.csrf,
            error,
            rounds: rounds.iter().map(|r| RoundCard::of(lang, r, &me)).collect(),
            sightings: sightings
                .iter()
                .map(|v| SightingCard::of(lang, v, now))
                .collect(),
            needs: Need::ALL
                .iter()
                .map(|n| (n.as_str(), need(lang, *n)))
                .collect(),
            days: Weekday::ALL
                .iter()
                .map(|d| (d.as_str(), day(lang, *d)))
                .collect(),
        },
    )
}

/// `GET /rounds`.
pub(crate) async fn rounds(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
) -> Response {
    rounds_page(&ui, lang_of(&headers), &visitor, None, StatusCode::OK).await
}

/// After a write from the rounds page: back to it, or the page again with the reason.
async fn after_rounds_write<T>(
    ui: &Ui,
    lang: Lang,
    visitor: &Visitor,
    result: Result<T, NodeError>,
    anchor: &str,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/rounds{anchor}")).into_response(),
        Err(e) => {
            log_node_error(&e);
            let message = i18n::node_error(lang, &e);
            rounds_page(
                ui,
                lang,
                visitor,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// A form whose token is wrong: refused like every other form of the page.
async fn forbidden(ui: &Ui, lang: Lang) -> Response {
    error_page(ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RoundBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    d_mon: String,
    #[serde(default)]
    d_tue: String,
    #[serde(default)]
    d_wed: String,
    #[serde(default)]
    d_thu: String,
    #[serde(default)]
    d_fri: String,
    #[serde(default)]
    d_sat: String,
    #[serde(default)]
    d_sun: String,
}

/// `POST /rounds`: a new round.
pub(crate) async fn add_round(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<RoundBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    let ticked = [
        &b.d_mon, &b.d_tue, &b.d_wed, &b.d_thu, &b.d_fri, &b.d_sat, &b.d_sun,
    ];
    let days = Days::of(
        Weekday::ALL
            .iter()
            .zip(ticked)
            .filter(|(_, t)| !t.is_empty())
            .map(|(d, _)| *d),
    );
    let Ok(at) = b.at.trim().parse() else {
        let message = match lang {
            Lang::Fr => "Heure : écrivez-la comme 20:00.",
            Lang::En => "Time: write it like 20:00.",
        };
        return rounds_page(
            &ui,
            lang,
            &visitor,
            Some(message.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let draft = RoundDraft {
        title: b.title,
        at,
        from: b.from,
        to: b.to,
        area: b.area,
        days,
    };
    let result = ui.node.add_round(draft).await;
    after_rounds_write(&ui, lang, &visitor, result, "").await
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignUpBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
}

/// `POST /rounds/{id}/join` and `/rounds/{id}/leave`.
pub(crate) async fn sign_up(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(b): Form<SignUpBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    let walk = match action.as_str() {
        "join" => true,
        "leave" => false,
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    let date = match b.date.trim() {
        "" | "tonight" => None,
        d => match d.parse::<LocalDate>() {
            Ok(d) => Some(d),
            Err(_) => return (StatusCode::BAD_REQUEST, "not a date").into_response(),
        },
    };
    let result = ui.node.sign_up(&id, date, walk).await;
    after_rounds_write(&ui, lang, &visitor, result, &format!("#round-{id}")).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct SightingBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    n_blanket: String,
    #[serde(default)]
    n_drink: String,
    #[serde(default)]
    n_food: String,
    #[serde(default)]
    n_company: String,
    #[serde(default)]
    n_shelter: String,
}

/// `POST /sightings`: a new sighting.
pub(crate) async fn add_sighting(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<SightingBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    let ticked = [
        &b.n_blanket,
        &b.n_drink,
        &b.n_food,
        &b.n_company,
        &b.n_shelter,
    ];
    let needs = Need::ALL
        .iter()
        .zip(ticked)
        .filter(|(_, t)| !t.is_empty())
        .map(|(n, _)| *n)
        .collect();
    let draft = SightingDraft {
        place: b.place,
        needs,
        note: b.note,
    };
    let result = ui.node.add_sighting(draft).await;
    after_rounds_write(&ui, lang, &visitor, result, "#sightings").await
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    what: String,
}

/// `POST /sightings/{id}/done`.
pub(crate) async fn sighting_done(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(b): Form<DoneBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    let result = ui.node.sighting_done(&id, &b.what).await;
    after_rounds_write(&ui, lang, &visitor, result, &format!("#sighting-{id}")).await
}

/// The alerts page with `error` above it (if any).
async fn alerts_page(
    ui: &Ui,
    lang: Lang,
    visitor: &Visitor,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (alerts, me) = match (ui.node.alerts().await, me(ui).await) {
        (Ok(a), Ok(me)) => (a, me),
        (Err(e), _) | (_, Err(e)) => return super::node_error(ui, lang, e).await,
    };
    let s = strings(lang);
    let now = now();
    // Tomorrow at 20:00, local time.
    let offset = entraide_node::clock::utc_offset(now);
    let tomorrow = LocalDate::of(now, offset).add_days(1);
    let frame = ui.frame(lang, s.alerts_title, Nav::None, "/alerts").await;
    html(
        status,
        &AlertsPage {
            frame,
            s,
            csrf: &visitor.csrf,
            error,
            alerts: alerts
                .iter()
                .map(|a| AlertCard {
                    kind: kind(lang, a.kind),
                    kind_code: a.kind.as_str(),
                    until: when_words(lang, a.until),
                    notes: a.notes.clone(),
                    mine: a
                        .ids
                        .iter()
                        .zip(&a.id_authors)
                        .filter(|(_, author)| **author == me)
                        .map(|(id, _)| id.to_string())
                        .collect(),
                })
                .collect(),
            kinds: AlertKind::ALL
                .iter()
                .map(|k| (k.as_str(), kind(lang, *k)))
                .collect(),
            until_default: format!("{tomorrow}T20:00"),
        },
    )
}

/// `GET /alerts`.
pub(crate) async fn alerts(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
) -> Response {
    alerts_page(&ui, lang_of(&headers), &visitor, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct AlertBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    /// A `datetime-local` value, `YYYY-MM-DDTHH:MM`, local time.
    #[serde(default)]
    until: String,
    #[serde(default)]
    note: String,
}

/// `POST /alerts`: declare an alert.
pub(crate) async fn declare_alert(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<AlertBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    let now = now();
    let until = crate::when::parse_when(&b.until, now, entraide_node::clock::utc_offset(now));
    let (Ok(kind), Ok(until)) = (b.kind.parse::<AlertKind>(), until) else {
        let message = match lang {
            Lang::Fr => "Choisissez un genre d'alerte et une date de fin.",
            Lang::En => "Choose a kind of alert and an end date.",
        };
        return alerts_page(
            &ui,
            lang,
            &visitor,
            Some(message.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let draft = AlertDraft {
        kind,
        until,
        note: b.note,
    };
    match ui.node.declare_alert(draft).await {
        Ok(_) => Redirect::to("/alerts").into_response(),
        Err(e) => {
            log_node_error(&e);
            let message = i18n::node_error(lang, &e);
            alerts_page(
                &ui,
                lang,
                &visitor,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /alerts/{id}/end`.
pub(crate) async fn end_alert(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(b): Form<super::CsrfBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    match ui.node.end_alert(&id).await {
        Ok(_) => Redirect::to("/alerts").into_response(),
        Err(e) => {
            log_node_error(&e);
            let message = i18n::node_error(lang, &e);
            alerts_page(
                &ui,
                lang,
                &visitor,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct NumbersBody {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    numbers: String,
}

/// `POST /settings/emergency`: the local emergency numbers of the English banner.
pub(crate) async fn set_numbers(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(b): Form<NumbersBody>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&b.csrf) {
        return forbidden(&ui, lang).await;
    }
    let Some(dir) = ui.data_dir.as_deref() else {
        return error_page(&ui, lang, StatusCode::NOT_FOUND, lang.t().error_generic).await;
    };
    if let Err(e) = std::fs::write(dir.join(NUMBERS_FILE), clean_numbers(&b.numbers)) {
        tracing::warn!("page: cannot save the emergency numbers: {e}");
        return error_page(
            &ui,
            lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            lang.t().error_generic,
        )
        .await;
    }
    Redirect::to("/settings?saved=1").into_response()
}

#[cfg(test)]
pub(crate) fn every_entry_error() -> Vec<EntryError> {
    let date: LocalDate = "2026-12-06".parse().unwrap();
    vec![
        EntryError::Unknown {
            what: EntryKind::Alert,
            id: "0123".into(),
        },
        EntryError::Unknown {
            what: EntryKind::Sighting,
            id: "0123".into(),
        },
        EntryError::NotYours {
            what: EntryKind::Alert,
        },
        EntryError::Over {
            what: EntryKind::Sighting,
        },
        EntryError::NotOnThatDay {
            date,
            weekday: date.weekday(),
        },
        EntryError::DateOutOfRange { date, max_days: 60 },
        EntryError::NoDays,
        EntryError::NoNeeds,
        EntryError::Duplicate {
            what: EntryKind::Round,
        },
    ]
}

#[cfg(test)]
pub(crate) fn every_entry_node_error() -> Vec<NodeError> {
    vec![
        NodeError::NoSuchEntry {
            what: EntryKind::Round,
            typed: "zz".into(),
        },
        NodeError::AmbiguousEntry {
            what: EntryKind::Alert,
            typed: "a".into(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_gives_each_language_its_numbers() {
        let banner = Banner {
            alerts: Vec::new(),
            local_numbers: " 999 (UK), 111 ".into(),
        };
        let fr = banner.numbers(Lang::Fr);
        for n in [
            "15 (SAMU)",
            "112",
            "114 (par SMS",
            "115 (hébergement d'urgence)",
        ] {
            assert!(fr.contains(n), "{fr}");
        }
        assert!(!fr.contains("999"));
        assert_eq!(banner.numbers(Lang::En), "Emergency: 112 · 999 (UK), 111");
        assert_eq!(Banner::default().numbers(Lang::En), "Emergency: 112");
    }

    #[test]
    fn dates_are_said_in_words() {
        let date: LocalDate = "2026-12-05".parse().unwrap();
        assert_eq!(date_words(Lang::Fr, date), "samedi 5 décembre");
        assert_eq!(date_words(Lang::En, date), "Saturday 5 December");
        assert_eq!(kind(Lang::Fr, AlertKind::Cold), "grand froid");
        assert_eq!(need(Lang::En, Need::Drink), "a hot drink");
    }
}

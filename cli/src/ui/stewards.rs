//! The stewards' page (issue 15): `/stewards` shows every member who the stewards are,
//! the rule they follow, who is excluded and why, the lost keys replaced and what waits
//! for a second steward; a steward also gets the forms to appoint and retire stewards
//! (stepping down included), to exclude a member and to vouch for a new key.
//!
//! Every POST (`/stewards/appoint`, `/retire`, `/exclude`, `/vouch`) goes through the same
//! checks as the page's other forms: the gate's (session, same origin), then the session's
//! form token, before anything is done. Done, it goes back to the page with what was done
//! (`?done=…`); refused, the page shows the node's reason above it, the form as typed.

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use entraide_crdt::authority::AuthorityError;
use entraide_crdt::{AuthorId, Field};
use entraide_node::care::CareMember;
use entraide_node::stewards::{Member, ProposalView, ReportView, StewardsView};
use serde::Deserialize;

use super::html::{Frame, Nav};
use super::i18n::{self, Lang};
use super::security::Visitor;
use super::{Ui, error_page, html, lang_of, log_node_error, node_error};

/// The stewards page's routes, merged into the page's router (behind the same gate).
pub(super) fn routes() -> Router<Ui> {
    Router::new()
        .route("/stewards", get(page))
        .route("/stewards/{act}", post(act))
}

/// The words of the stewards page, in one language.
#[derive(Debug)]
pub(crate) struct StewardsStrings {
    pub(crate) title: &'static str,
    pub(crate) settings_text: &'static str,
    pub(crate) settings_link: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) no_founder: &'static str,
    pub(crate) stewards_title: &'static str,
    pub(crate) founder: &'static str,
    pub(crate) you: &'static str,
    pub(crate) you_are: &'static str,
    pub(crate) not_steward: &'static str,
    pub(crate) rule_one: &'static str,
    pub(crate) rule_two: &'static str,
    pub(crate) rule_exclude: &'static str,
    pub(crate) waiting_title: &'static str,
    pub(crate) excluded_title: &'static str,
    pub(crate) excluded_text: &'static str,
    pub(crate) excluded_none: &'static str,
    pub(crate) by: &'static str,
    pub(crate) keys_title: &'static str,
    pub(crate) keys_text: &'static str,
    pub(crate) keys_none: &'static str,
    pub(crate) now_is: &'static str,
    pub(crate) vouched_by: &'static str,
    pub(crate) retired_title: &'static str,
    pub(crate) acts_title: &'static str,
    pub(crate) choose: &'static str,
    pub(crate) nobody: &'static str,
    pub(crate) member: &'static str,
    pub(crate) appoint_title: &'static str,
    pub(crate) appoint_hint: &'static str,
    pub(crate) appoint_button: &'static str,
    pub(crate) second_needed: &'static str,
    pub(crate) retire_title: &'static str,
    pub(crate) retire_hint: &'static str,
    pub(crate) retire_button: &'static str,
    pub(crate) step_down_title: &'static str,
    pub(crate) step_down_hint: &'static str,
    pub(crate) step_down_last: &'static str,
    pub(crate) step_down_button: &'static str,
    pub(crate) exclude_title: &'static str,
    pub(crate) exclude_reason: &'static str,
    pub(crate) exclude_consequences: &'static str,
    pub(crate) exclude_confirm: &'static str,
    pub(crate) exclude_button: &'static str,
    pub(crate) vouch_title: &'static str,
    pub(crate) vouch_text: &'static str,
    pub(crate) vouch_check: &'static str,
    pub(crate) vouch_old: &'static str,
    pub(crate) vouch_new: &'static str,
    pub(crate) typed_hint: &'static str,
    pub(crate) vouch_effect: &'static str,
    pub(crate) vouch_button: &'static str,
    pub(crate) done_appointed: &'static str,
    pub(crate) done_retired: &'static str,
    pub(crate) done_excluded: &'static str,
    pub(crate) done_vouched: &'static str,
    pub(crate) done_waiting: &'static str,
    pub(crate) confirm_needed: &'static str,
    pub(crate) former_key: &'static str,
}

static FR: StewardsStrings = StewardsStrings {
    title: "Intendants de la communauté",
    settings_text: "Qui veille sur la communauté : les intendants, les membres exclus et pourquoi, les clés perdues remplacées.",
    settings_link: "Voir les intendants",
    intro: "Les intendants veillent sur la communauté : ils nomment d'autres intendants, peuvent exclure un membre qui nuit, et reconnaissent la nouvelle identité d'un voisin qui a perdu sa clé. Chaque membre voit ici qui ils sont et ce qu'ils ont décidé.",
    no_founder: "Cette communauté n'a pas d'intendants : elle a été créée avant qu'entraide ne nomme le fondateur d'une communauté.",
    stewards_title: "Les intendants",
    founder: "A créé la communauté :",
    you: "vous",
    you_are: "Vous êtes l'un des intendants.",
    not_steward: "Seuls les intendants peuvent agir ici. Pour un problème avec un membre, parlez-en à l'un d'eux.",
    rule_one: "Un seul intendant pour l'instant : ses décisions s'appliquent tout de suite. Dès qu'il y en a deux, deux doivent être d'accord.",
    rule_two: "Deux intendants doivent être d'accord pour nommer ou retirer un intendant, ou pour reconnaître une nouvelle clé.",
    rule_exclude: "Un intendant seul peut exclure un membre, en disant pourquoi : la raison est montrée à tous.",
    waiting_title: "En attente d'un second intendant",
    excluded_title: "Membres exclus",
    excluded_text: "Leurs annonces et leurs réponses ont quitté le tableau de chaque membre, et ce qu'ils écrivent depuis leur exclusion est refusé.",
    excluded_none: "Personne n'est exclu.",
    by: "par",
    keys_title: "Clés perdues remplacées",
    keys_text: "Ces voisins ont perdu leur clé ; des intendants ont reconnu leur nouvelle identité. Leurs anciennes annonces s'affichent sous leur nouveau nom, et l'ancienne clé ne peut plus rien écrire.",
    keys_none: "Aucune clé n'a été remplacée.",
    now_is: "est désormais",
    vouched_by: "reconnu par",
    retired_title: "Anciens intendants",
    acts_title: "Agir en intendant",
    choose: "Choisir…",
    nobody: "Personne à proposer.",
    member: "Membre",
    appoint_title: "Nommer un intendant",
    appoint_hint: "Choisissez quelqu'un en qui la communauté a confiance : un intendant peut exclure un membre.",
    appoint_button: "Nommer intendant",
    second_needed: "Un second intendant devra faire de même : d'ici là, rien ne change.",
    retire_title: "Retirer un intendant",
    retire_hint: "Une clé retirée ne redevient jamais intendante. Les exclusions qu'elle a prononcées et ses garanties restent en vigueur.",
    retire_button: "Retirer",
    step_down_title: "Quitter mon rôle d'intendant",
    step_down_hint: "Vous ne serez plus intendant, et votre clé ne pourra plus le redevenir. Vos exclusions et vos garanties restent en vigueur. Le dernier intendant ne peut pas se retirer.",
    step_down_last: "Vous êtes le seul intendant : après vous, plus personne ne pourra nommer d'intendant ni exclure un membre.",
    step_down_button: "Quitter le rôle",
    exclude_title: "Exclure un membre",
    exclude_reason: "Raison (montrée à tous les membres)",
    exclude_consequences: "Ses annonces et ses réponses quitteront le tableau de chaque membre, et tout ce qu'il écrira désormais sera refusé. Votre nom et la raison seront montrés à tous. Une exclusion ne s'annule pas.",
    exclude_confirm: "J'ai compris : exclure ce membre.",
    exclude_button: "Exclure",
    vouch_title: "Une nouvelle clé pour une clé perdue",
    vouch_text: "Un voisin qui a perdu sa clé et toutes ses sauvegardes rejoint la communauté avec une nouvelle identité. Ici, vous reconnaissez que c'est bien la même personne.",
    vouch_check: "Vérifiez en personne, face à face, l'empreinte de sa nouvelle identité (affichée dans les réglages de son appareil) : quelqu'un d'autre pourrait prendre le même nom.",
    vouch_old: "Clé perdue",
    vouch_new: "Nouvelle clé",
    typed_hint: "Son nom ou son empreinte.",
    vouch_effect: "Ses anciennes annonces s'afficheront sous sa nouvelle identité, et l'ancienne clé ne pourra plus rien écrire.",
    vouch_button: "Reconnaître la nouvelle clé",
    done_appointed: "C'est fait : le nouvel intendant est nommé.",
    done_retired: "C'est fait : l'intendant est retiré.",
    done_excluded: "C'est fait : le membre est exclu. Chaque membre le saura à sa prochaine synchronisation.",
    done_vouched: "C'est fait : la nouvelle clé remplace l'ancienne.",
    done_waiting: "C'est noté : un second intendant doit être d'accord (en faisant de même). D'ici là, rien ne change.",
    confirm_needed: "Cochez la case pour confirmer l'exclusion.",
    former_key: "avec son ancienne clé",
};

static EN: StewardsStrings = StewardsStrings {
    title: "The community's stewards",
    settings_text: "Who looks after the community: the stewards, the members excluded and why, the lost keys replaced.",
    settings_link: "See the stewards",
    intro: "Stewards look after the community: they appoint other stewards, may exclude a member who does harm, and vouch for the new identity of a neighbour who lost their key. Every member sees here who they are and what they decided.",
    no_founder: "This community has no stewards: it was created before entraide named a community's founder.",
    stewards_title: "The stewards",
    founder: "Founded the community:",
    you: "you",
    you_are: "You are one of the stewards.",
    not_steward: "Only stewards can act here. For a problem with a member, talk to one of them.",
    rule_one: "One steward for now: their decisions apply at once. From two stewards on, two must agree.",
    rule_two: "Two stewards must agree to appoint or retire a steward, or to vouch for a new key.",
    rule_exclude: "One steward alone may exclude a member, saying why: the reason is shown to all.",
    waiting_title: "Waiting for a second steward",
    excluded_title: "Excluded members",
    excluded_text: "Their posts and responses have left every member's board, and what they write after their exclusion is refused.",
    excluded_none: "Nobody is excluded.",
    by: "by",
    keys_title: "Lost keys replaced",
    keys_text: "These neighbours lost their key; stewards vouched for their new identity. Their old posts show under their new name, and the old key can no longer write anything.",
    keys_none: "No key has been replaced.",
    now_is: "is now",
    vouched_by: "vouched for by",
    retired_title: "Former stewards",
    acts_title: "Act as a steward",
    choose: "Choose…",
    nobody: "Nobody to choose from.",
    member: "Member",
    appoint_title: "Appoint a steward",
    appoint_hint: "Choose someone the community trusts: a steward can exclude a member.",
    appoint_button: "Appoint steward",
    second_needed: "A second steward must do the same: until then, nothing changes.",
    retire_title: "Retire a steward",
    retire_hint: "A retired key never becomes a steward again. The exclusions and successions it stated stay in force.",
    retire_button: "Retire",
    step_down_title: "Step down as a steward",
    step_down_hint: "You will no longer be a steward, and your key can never be one again. Your exclusions and successions stay in force. The last steward cannot step down.",
    step_down_last: "You are the only steward: after you, nobody can appoint a steward or exclude a member.",
    step_down_button: "Step down",
    exclude_title: "Exclude a member",
    exclude_reason: "Reason (shown to every member)",
    exclude_consequences: "Their posts and responses will leave every member's board, and whatever they write from now on will be refused. Your name and the reason are shown to all. An exclusion cannot be undone.",
    exclude_confirm: "I understand: exclude this member.",
    exclude_button: "Exclude",
    vouch_title: "A new key for a lost one",
    vouch_text: "A neighbour who lost their key and every backup joins the community with a new identity. Here you vouch that it is the same person.",
    vouch_check: "Check the fingerprint of their new identity in person, face to face (their device shows it in its settings): someone else could take the same name.",
    vouch_old: "Lost key",
    vouch_new: "New key",
    typed_hint: "Their name or their fingerprint.",
    vouch_effect: "Their old posts will show under their new identity, and the old key will no longer be able to write anything.",
    vouch_button: "Vouch for the new key",
    done_appointed: "Done: the new steward is appointed.",
    done_retired: "Done: the steward is retired.",
    done_excluded: "Done: the member is excluded. Every member learns it at their next sync.",
    done_vouched: "Done: the new key replaces the old one.",
    done_waiting: "Noted: a second steward must agree (by doing the same). Until then, nothing changes.",
    confirm_needed: "Tick the box to confirm the exclusion.",
    former_key: "with their former key",
};

/// The stewards page's words in `lang`.
pub(crate) fn strings(lang: Lang) -> &'static StewardsStrings {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

impl Frame<'_> {
    /// The stewards page's words (the settings and the post page use some).
    pub(crate) fn stewards_strings(&self) -> &'static StewardsStrings {
        strings(self.lang)
    }
}

/// A steward's act the board refused, in plain words.
pub(crate) fn authority_error(lang: Lang, e: &AuthorityError) -> String {
    let fr = lang == Lang::Fr;
    match e {
        AuthorityError::NoFounder => strings(lang).no_founder.into(),
        AuthorityError::NotASteward if fr => {
            "Seul un intendant peut faire cela. La liste des intendants est sur cette page.".into()
        }
        AuthorityError::NotASteward => {
            "Only a steward can do this. The stewards are listed on this page.".into()
        }
        AuthorityError::AlreadySteward(who) if fr => {
            format!("{} est déjà intendant.", who.fmt_short())
        }
        AuthorityError::AlreadySteward(who) => format!("{} is already a steward.", who.fmt_short()),
        AuthorityError::RetiredForGood(who) if fr => format!(
            "{} a été intendant et a été retiré : une clé retirée ne redevient jamais intendante.",
            who.fmt_short()
        ),
        AuthorityError::RetiredForGood(who) => format!(
            "{} was a steward and was retired: a retired key never becomes a steward again.",
            who.fmt_short()
        ),
        AuthorityError::NotSteward(who) if fr => {
            format!("{} n'est pas intendant.", who.fmt_short())
        }
        AuthorityError::NotSteward(who) => format!("{} is not a steward.", who.fmt_short()),
        AuthorityError::ExcludingASteward(who) if fr => format!(
            "{} est intendant : il faut d'abord le retirer (deux intendants doivent être d'accord).",
            who.fmt_short()
        ),
        AuthorityError::ExcludingASteward(who) => format!(
            "{} is a steward: retire them first (two stewards must agree).",
            who.fmt_short()
        ),
        AuthorityError::IsExcluded(who) if fr => {
            format!("{} est exclu de la communauté.", who.fmt_short())
        }
        AuthorityError::IsExcluded(who) => {
            format!("{} is excluded from the community.", who.fmt_short())
        }
        AuthorityError::AlreadySaid if fr => "Vous l'avez déjà fait : cela attend l'accord d'un second intendant, ou c'est déjà en vigueur.".into(),
        AuthorityError::AlreadySaid => "You already did this: it waits for a second steward's agreement, or it stands.".into(),
        AuthorityError::NoReason if fr => "Dites pourquoi : la raison est montrée à chaque membre.".into(),
        AuthorityError::NoReason => "Say why: the reason is shown to every member.".into(),
        AuthorityError::Yourself if fr => "Vous ne pouvez pas faire cela pour vous-même.".into(),
        AuthorityError::Yourself => "You cannot do this to yourself.".into(),
        AuthorityError::SameKey if fr => "La clé perdue et la nouvelle clé sont la même.".into(),
        AuthorityError::SameKey => "The lost key and the new key are the same.".into(),
        AuthorityError::AlreadySucceeded(who) if fr => {
            format!("{} a déjà une nouvelle clé.", who.fmt_short())
        }
        AuthorityError::AlreadySucceeded(who) => {
            format!("{} already has a new key.", who.fmt_short())
        }
        AuthorityError::TooManyStewards if fr => format!(
            "La communauté a déjà {} intendants : retirez-en un d'abord.",
            entraide_crdt::sealed::MAX_RECIPIENTS
        ),
        AuthorityError::TooManyStewards => format!(
            "The community already has {} stewards: retire one first.",
            entraide_crdt::sealed::MAX_RECIPIENTS
        ),
        AuthorityError::LastSteward if fr => "La communauté a besoin d'un intendant : nommez-en un autre avant que celui-ci se retire.".into(),
        AuthorityError::LastSteward => "The community needs a steward: appoint another one before this one steps down.".into(),
        AuthorityError::WouldUndo(who) if fr => format!(
            "Ce retrait défairait ce que la communauté a décidé pour {} : un autre intendant en fonction doit d'abord le confirmer (exclure ou se porter garant à son tour).",
            who.fmt_short()
        ),
        AuthorityError::WouldUndo(who) => format!(
            "This retirement would undo what the community decided about {}: another current steward must confirm it first (exclude or vouch too).",
            who.fmt_short()
        ),
        // A refusal added to the rules later.
        _ => lang.t().error_generic.into(),
    }
}

/// What the writer's own excluded (or replaced) key is told when it tries to write.
pub(crate) fn excluded_error(lang: Lang) -> String {
    match lang {
        Lang::Fr => "Les intendants ont exclu cette identité de la communauté (ou l'ont remplacée par une nouvelle clé) : plus rien de ce qu'elle écrit n'est accepté.".into(),
        Lang::En => "The stewards excluded this identity from the community (or replaced it with a new key): nothing it writes is accepted any more.".into(),
    }
}

/// A member as one line of text: "Amel (1a2b-…)", or the fingerprint alone.
fn label(m: &Member) -> String {
    match &m.name {
        Some(name) => format!("{name} ({})", m.fingerprint),
        None => m.fingerprint.clone(),
    }
}

/// Whether `typed` (a name, a fingerprint or an id) names `m`.
fn names(m: &Member, typed: &str) -> bool {
    let t = typed.trim().to_lowercase();
    !t.is_empty()
        && (m.name.as_deref().is_some_and(|n| n.to_lowercase() == t)
            || m.author.matches_fingerprint(&t)
            || (t.len() >= 8 && m.author.to_string().starts_with(&t)))
}

/// One `<option>` of a member select.
#[derive(Debug)]
pub(crate) struct MemberChoice {
    /// Their id, the option's value.
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// One line of the list of exclusions.
#[derive(Debug)]
pub(crate) struct ExclusionLine<'a> {
    pub(crate) steward: &'a Member,
    pub(crate) reason: &'a str,
    pub(crate) at: i64,
    pub(crate) when: String,
}

/// A form as it was sent (the page shows it again when the act is refused).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    csrf: String,
    /// The act refused (`appoint`, `retire`, `exclude`, `vouch`): its form keeps the
    /// values and shows the reason.
    #[serde(skip)]
    pub(crate) act: String,
    #[serde(default)]
    pub(crate) who: String,
    #[serde(default)]
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) confirm: String,
    #[serde(default)]
    pub(crate) old: String,
    #[serde(default)]
    pub(crate) new: String,
}

/// `/stewards`.
#[derive(Template)]
#[template(path = "stewards.html")]
pub(crate) struct StewardsPage<'a> {
    pub(crate) frame: Frame<'a>,
    pub(crate) s: &'static StewardsStrings,
    pub(crate) csrf: &'a str,
    pub(crate) view: &'a StewardsView,
    /// The resident looking.
    pub(crate) me: AuthorId,
    /// The members this node knows (the forms offer them).
    pub(crate) members: &'a [CareMember],
    /// The reports a steward reads, newest first (empty for anyone else).
    pub(crate) reports: &'a [ReportView],
    /// What was just done.
    pub(crate) notice: Option<&'static str>,
    /// Why the act was refused.
    pub(crate) error: Option<&'a str>,
    pub(crate) form: &'a ActForm,
}

impl StewardsPage<'_> {
    fn is_me(&self, m: &Member) -> bool {
        m.author == self.me
    }

    /// "appoint Amel (…), asked by Chloé (…)".
    fn proposal(&self, p: &ProposalView) -> String {
        let fr = self.frame.lang == Lang::Fr;
        let what = match (p.what.as_str(), &p.new, fr) {
            ("appoint", _, true) => format!("Nommer {} intendant", label(&p.who)),
            ("appoint", _, false) => format!("Appoint {} steward", label(&p.who)),
            ("retire", _, true) => format!("Retirer l'intendant {}", label(&p.who)),
            ("retire", _, false) => format!("Retire steward {}", label(&p.who)),
            (_, Some(new), true) => format!(
                "Reconnaître {} comme la nouvelle clé de {}",
                label(new),
                label(&p.who)
            ),
            (_, Some(new), false) => format!(
                "Vouch that {} replaces the lost key {}",
                label(new),
                label(&p.who)
            ),
            (other, None, _) => other.to_owned(),
        };
        let asked = if fr { "demandé par" } else { "asked by" };
        format!("{what} · {asked} {}", label(&p.by))
    }

    fn exclusions<'b>(
        &self,
        e: &'b entraide_node::stewards::ExcludedView,
    ) -> Vec<ExclusionLine<'b>> {
        e.by.iter()
            .map(|b| ExclusionLine {
                steward: &b.steward,
                reason: &b.reason,
                at: b.at,
                when: super::public::when_words(self.frame.lang, b.at),
            })
            .collect()
    }

    /// When a report was made, in words.
    fn report_when(&self, r: &ReportView) -> String {
        super::public::when_words(self.frame.lang, r.at)
    }

    fn vouchers(&self, s: &entraide_node::stewards::SuccessionView) -> String {
        s.by.iter().map(label).collect::<Vec<_>>().join(", ")
    }

    /// Whether `id` may be acted on at all: not excluded, not a lost key.
    fn gone(&self, id: &AuthorId) -> bool {
        self.view.excluded.iter().any(|e| e.member.author == *id)
            || self.view.succeeded.iter().any(|s| s.old.author == *id)
    }

    fn is_steward(&self, id: &AuthorId) -> bool {
        self.view.stewards.iter().any(|m| m.author == *id)
    }

    fn choices(&self, act: &str, keep: impl Fn(&CareMember) -> bool) -> Vec<MemberChoice> {
        self.members
            .iter()
            .filter(|m| keep(m))
            .map(|m| {
                let value = m.id.to_string();
                let label = match &m.name {
                    Some(n) => format!("{n} ({})", m.id.fmt_short()),
                    None => m.id.fmt_short(),
                };
                MemberChoice {
                    selected: self.form.act == act
                        && !self.form.who.is_empty()
                        && value == self.form.who,
                    value,
                    label,
                }
            })
            .collect()
    }

    /// Whom a steward may appoint: members not stewards, never retired, not excluded.
    fn appoint_choices(&self) -> Vec<MemberChoice> {
        self.choices("appoint", |m| {
            !self.is_steward(&m.id)
                && !self.view.retired.iter().any(|r| r.author == m.id)
                && !self.gone(&m.id)
        })
    }

    /// Whom a steward may exclude: members not stewards, not excluded, not themselves.
    fn exclude_choices(&self) -> Vec<MemberChoice> {
        self.choices("exclude", |m| {
            !m.is_me && m.id != self.me && !self.is_steward(&m.id) && !self.gone(&m.id)
        })
    }

    /// The other stewards (stepping down has its own form).
    fn retire_choices(&self) -> Vec<MemberChoice> {
        self.view
            .stewards
            .iter()
            .filter(|m| m.author != self.me)
            .map(|m| {
                let value = m.author.to_string();
                MemberChoice {
                    selected: self.form.act == "retire" && value == self.form.who,
                    label: label(m),
                    value,
                }
            })
            .collect()
    }

    /// The members a lost or a new key may be typed from: name and fingerprint.
    fn known(&self) -> Vec<(String, String)> {
        self.members
            .iter()
            .filter(|m| !self.gone(&m.id))
            .map(|m| (m.id.fmt_short(), m.name.clone().unwrap_or_default()))
            .collect()
    }

    /// The form's values when `act`'s form was refused, else empty.
    fn kept(&self, act: &str, value: &'static str) -> &str {
        if self.form.act != act {
            return "";
        }
        match value {
            "reason" => &self.form.reason,
            "old" => &self.form.old,
            "new" => &self.form.new,
            _ => "",
        }
    }

    fn reason_max(&self) -> usize {
        Field::Message.max_chars()
    }
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// What was just done, as the page says it.
fn done_text(s: &'static StewardsStrings, code: &str) -> Option<&'static str> {
    match code {
        "appointed" => Some(s.done_appointed),
        "retired" => Some(s.done_retired),
        "excluded" => Some(s.done_excluded),
        "vouched" => Some(s.done_vouched),
        "waiting" => Some(s.done_waiting),
        _ => None,
    }
}

async fn page(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let notice = done_text(strings(lang), &q.done);
    render(
        &ui,
        &visitor,
        lang,
        StatusCode::OK,
        notice,
        None,
        &ActForm::default(),
    )
    .await
}

/// The page, with what was done or why the act in `form` was refused.
async fn render(
    ui: &Ui,
    visitor: &Visitor,
    lang: Lang,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<&str>,
    form: &ActForm,
) -> Response {
    let (view, who) = match (ui.node.stewards().await, ui.node.whoami().await) {
        (Ok(v), Ok(w)) => (v, w),
        (Err(e), _) | (_, Err(e)) => return node_error(ui, lang, e).await,
    };
    let members = ui.node.care_members().await.unwrap_or_default();
    // Only a steward reads reports; the node refuses anyone else.
    let reports = if view.you_are_steward {
        ui.node.reports().await.unwrap_or_else(|e| {
            log_node_error(&e);
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let s = strings(lang);
    let frame = ui.frame(lang, s.title, Nav::None, "/stewards").await;
    html(
        status,
        &StewardsPage {
            frame,
            s,
            csrf: &visitor.csrf,
            view: &view,
            me: who.author,
            members: &members,
            reports: &reports,
            notice,
            error,
            form,
        },
    )
}

/// `POST /stewards/{appoint,retire,exclude,vouch}`: the act, after the form's token; back
/// to the page saying what was done, or the page with the node's refusal.
async fn act(
    Extension(ui): Extension<Ui>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Path(act): Path<String>,
    Form(mut f): Form<ActForm>,
) -> Response {
    let lang = lang_of(&headers);
    if !visitor.csrf_ok(&f.csrf) {
        return error_page(&ui, lang, StatusCode::FORBIDDEN, lang.t().error_forbidden).await;
    }
    let s = strings(lang);
    let waiting = |v: &StewardsView, what: &str, typed: &str| {
        v.proposals
            .iter()
            .any(|p| p.what == what && names(&p.who, typed))
    };
    let done = match act.as_str() {
        "appoint" => ui.node.appoint_steward(&f.who).await.map(|v| {
            if waiting(&v, "appoint", &f.who) {
                "waiting"
            } else {
                "appointed"
            }
        }),
        "retire" => ui.node.retire_steward(&f.who).await.map(|v| {
            if waiting(&v, "retire", &f.who) {
                "waiting"
            } else {
                "retired"
            }
        }),
        "exclude" => {
            // A steward confirms what an exclusion does; anyone else hears the node's
            // refusal, whatever they ticked.
            let steward = ui
                .node
                .stewards()
                .await
                .map(|v| v.you_are_steward)
                .unwrap_or(false);
            if steward && f.confirm != "1" {
                f.act = act;
                return render(
                    &ui,
                    &visitor,
                    lang,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(s.confirm_needed),
                    &f,
                )
                .await;
            }
            ui.node.exclude(&f.who, &f.reason).await.map(|_| "excluded")
        }
        "vouch" => ui.node.vouch(&f.old, &f.new).await.map(|v| {
            if waiting(&v, "vouch", &f.old) {
                "waiting"
            } else {
                "vouched"
            }
        }),
        _ => return (StatusCode::NOT_FOUND, "no such action").into_response(),
    };
    match done {
        Ok(code) => Redirect::to(&format!("/stewards?done={code}")).into_response(),
        Err(e) => {
            log_node_error(&e);
            let message = i18n::node_error(lang, &e);
            f.act = act;
            render(
                &ui,
                &visitor,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&message),
                &f,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use entraide_node::stewards::{ExcludedBy, ExcludedView, SuccessionView};

    use super::super::html::Footer;
    use super::*;

    const NASTY: &str = r#"<script>alert("x")</script> & 'quotes' <i>"#;
    const ESCAPED: &str =
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &lt;i&gt;";

    fn author(byte: u8) -> AuthorId {
        AuthorId([byte; 32])
    }

    fn member(byte: u8) -> Member {
        Member {
            author: author(byte),
            name: Some(NASTY.into()),
            fingerprint: author(byte).fmt_short(),
        }
    }

    /// Two stewards (1 and 2), 3 excluded, 4 replaced by 5, a proposal waiting.
    fn view(you_are_steward: bool) -> StewardsView {
        StewardsView {
            founded: true,
            founder: Some(member(1)),
            stewards: vec![member(1), member(2)],
            required: 2,
            you_are_steward,
            retired: vec![],
            excluded: vec![ExcludedView {
                member: member(3),
                by: vec![ExcludedBy {
                    steward: member(1),
                    reason: NASTY.into(),
                    at: 1_000_000,
                }],
            }],
            succeeded: vec![SuccessionView {
                old: member(4),
                new: member(5),
                by: vec![member(1), member(2)],
            }],
            proposals: vec![ProposalView {
                what: "appoint".into(),
                who: member(6),
                new: None,
                by: member(2),
            }],
        }
    }

    /// A report with a nasty title and reason, and one of a post gone from the board.
    fn reports() -> Vec<ReportView> {
        vec![
            ReportView {
                reporter: member(6),
                post: entraide_crdt::PostId([7; 8]),
                title: Some(NASTY.into()),
                author: member(5),
                reason: NASTY.into(),
                at: 1_000_050,
            },
            ReportView {
                reporter: member(6),
                post: entraide_crdt::PostId([8; 8]),
                title: None,
                author: member(5),
                reason: "spam".into(),
                at: 1_000_040,
            },
        ]
    }

    fn render(lang: Lang, view: &StewardsView, me: u8) -> String {
        let reports = reports();
        let members: Vec<CareMember> = (1..=6)
            .map(|b| CareMember {
                id: author(b),
                name: Some(NASTY.into()),
                is_me: b == me,
            })
            .collect();
        StewardsPage {
            frame: Frame {
                lang,
                title: strings(lang).title,
                nav: Nav::None,
                path: "/stewards",
                footer: Footer::default(),
                now: 1_000_100,
                banner: Default::default(),
                care: Vec::new(),
            },
            s: strings(lang),
            csrf: "token",
            view,
            me: author(me),
            members: &members,
            reports: &reports,
            notice: None,
            error: None,
            form: &ActForm::default(),
        }
        .render()
        .unwrap()
    }

    #[test]
    fn names_and_reasons_are_escaped_and_only_a_steward_gets_forms() {
        for lang in [Lang::Fr, Lang::En] {
            let s = strings(lang);
            let html = render(lang, &view(false), 6);
            assert!(
                !html.contains("<script>") && !html.contains("<i>"),
                "{html}"
            );
            assert!(html.contains(ESCAPED), "{html}");
            let esc = |text: &str| text.replace('\'', "&#39;");
            assert!(html.contains(&esc(s.rule_two)), "{html}");
            assert!(html.contains(&esc(s.not_steward)), "{html}");
            assert!(!html.contains("<form"), "a form for a member: {html}");
            assert!(
                !html.contains(r#"id="reports""#),
                "reports for a member: {html}"
            );
            assert!(
                !html.contains("spam"),
                "a report's reason for a member: {html}"
            );
            assert!(html.contains(r#"id="excluded-list""#), "{html}");
            assert!(html.contains(r#"id="replaced-list""#), "{html}");
            assert!(html.contains(r#"id="waiting-list""#), "{html}");

            let html = render(lang, &view(true), 1);
            assert!(
                !html.contains("<script>") && !html.contains("<i>"),
                "{html}"
            );
            // A steward reads the reports: the post linked while it is on the board.
            let list = &html[html.find(r#"id="reports-list""#).expect("reports")..];
            let list = &list[..list.find("</ul>").unwrap()];
            assert_eq!(list.matches("<li").count(), 2, "{list}");
            assert!(
                list.contains(&format!(
                    r#"<a href="/posts/0707070707070707">{ESCAPED}</a>"#
                )),
                "{list}"
            );
            assert!(
                !list.contains(r#"href="/posts/0808080808080808""#),
                "{list}"
            );
            assert!(list.contains(&esc(lang.reporting().gone)), "{list}");
            assert!(list.contains(r#"<q class="reason">spam</q>"#), "{list}");
            for form in ["appoint", "retire", "exclude", "vouch", "step-down"] {
                assert!(
                    html.contains(&format!(r#"id="{form}-form""#)),
                    "{form}: {html}"
                );
            }
            // Every form carries the token.
            assert_eq!(
                html.matches("<form").count(),
                html.matches(r#"name="csrf" value="token""#).count()
            );
            // Neither a steward, an excluded member nor a lost key is offered to exclude.
            let exclude = &html[html.find(r#"id="f-exclude""#).unwrap()..];
            let exclude = &exclude[..exclude.find("</select>").unwrap()];
            for gone in [1, 2, 3, 4] {
                assert!(!exclude.contains(&author(gone).to_string()), "{gone}");
            }
            assert!(exclude.contains(&author(5).to_string()));
        }
    }

    #[test]
    fn every_refusal_of_a_steward_s_act_is_translated() {
        let errors = [
            AuthorityError::NoFounder,
            AuthorityError::NotASteward,
            AuthorityError::AlreadySteward(author(1)),
            AuthorityError::RetiredForGood(author(1)),
            AuthorityError::NotSteward(author(1)),
            AuthorityError::ExcludingASteward(author(1)),
            AuthorityError::IsExcluded(author(1)),
            AuthorityError::AlreadySaid,
            AuthorityError::NoReason,
            AuthorityError::Yourself,
            AuthorityError::SameKey,
            AuthorityError::AlreadySucceeded(author(1)),
            AuthorityError::TooManyStewards,
        ];
        for e in &errors {
            let fr = authority_error(Lang::Fr, e);
            let en = authority_error(Lang::En, e);
            assert_ne!(fr, en, "{e:?}");
            assert_ne!(en, Lang::En.t().error_generic, "{e:?}");
        }
    }
}

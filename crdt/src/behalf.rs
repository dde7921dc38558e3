//! Posting on behalf of a neighbour who has no device, with their consent.
//!
//! A member may post for someone else: the post then carries that neighbour's name and a
//! consent statement (who agreed, how, when). Consent is data, not authority: it is a
//! claim the poster makes and signs with their own key like every change of their feed.
//! The post stays the poster's in every way: it is in the poster's feed, its author is the
//! poster, responses go to the poster, "mine" and author filters mean the poster. The
//! named neighbour gets nothing from it; should they get an identity of their own later,
//! even under the same name, these posts do not become theirs.
//!
//! On the wire (`docs/protocol.md` §3.2) the post map holds two more strings,
//! [`NAME_KEY`] and [`CONSENT_KEY`], both or neither, written once with the post and
//! never changed by an honest writer.

use serde::{Deserialize, Serialize};

use crate::content::{Source, text};
use crate::post::{Field, TextError, clean_text, clip};
use crate::text::neutralise;

/// The post map key of the neighbour's name.
pub const NAME_KEY: &str = "behalf_name";
/// The post map key of the consent statement.
pub const CONSENT_KEY: &str = "behalf_consent";
/// Fewest characters of a consent statement: "who, how, when" cannot be shorter (the
/// care register's rule, [`crate::care::MIN_CONSENT_CHARS`]).
pub const MIN_CONSENT_CHARS: usize = crate::care::MIN_CONSENT_CHARS;

/// Whom a post is for, when a member posts for a neighbour who has no device, and the
/// consent that neighbour gave.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OnBehalfOf {
    /// The neighbour's name, as the board shows it after the poster's ("for Mme Dupont").
    pub name: String,
    /// Who agreed, how and when: "Mme Dupont, au téléphone, le 2 décembre à 10 h".
    pub consent: String,
}

impl OnBehalfOf {
    /// The "on behalf of" part of a form or command line with two separate fields: `None`
    /// when both are blank (an ordinary post), otherwise both as typed, for
    /// `OnBehalfOf::cleaned` to say which one is missing.
    pub fn from_fields(name: &str, consent: &str) -> Option<Self> {
        let blank = |t: &str| neutralise(t, false).trim().is_empty();
        if blank(name) && blank(consent) {
            return None;
        }
        Some(Self {
            name: name.to_owned(),
            consent: consent.to_owned(),
        })
    }

    /// Every rule the two texts break (for forms that show all problems at once).
    pub(crate) fn problems(&self) -> Vec<TextError> {
        [self.clean_name(), self.clean_consent()]
            .into_iter()
            .filter_map(Result::err)
            .collect()
    }

    /// The two texts as they will be stored, or the first rule they break: both present
    /// (a name without consent is [`TextError::NoConsent`], a consent without a name
    /// [`TextError::NoNeighbour`]), the consent at least [`MIN_CONSENT_CHARS`] long, and
    /// both under the rules of every public text (`post::clean_text`: length, no control
    /// characters, no phone number, no e-mail address).
    pub(crate) fn cleaned(&self) -> Result<OnBehalfOf, TextError> {
        Ok(OnBehalfOf {
            name: self.clean_name()?,
            consent: self.clean_consent()?,
        })
    }

    fn clean_name(&self) -> Result<String, TextError> {
        clean_text(Field::Neighbour, &self.name).map_err(|e| match e {
            TextError::Empty { .. } => TextError::NoNeighbour,
            e => e,
        })
    }

    fn clean_consent(&self) -> Result<String, TextError> {
        let consent = clean_text(Field::Consent, &self.consent).map_err(|e| match e {
            TextError::Empty { .. } => TextError::NoConsent {
                min: MIN_CONSENT_CHARS,
            },
            e => e,
        })?;
        if consent.chars().count() < MIN_CONSENT_CHARS {
            return Err(TextError::NoConsent {
                min: MIN_CONSENT_CHARS,
            });
        }
        Ok(consent)
    }

    /// Reads the part from a post map, leniently: both keys must hold strings that are
    /// not blank once neutralised; each is cut to its field's length. Anything else (one
    /// key alone, a number, a map) reads as no "on behalf of" part: the post is shown as
    /// the poster's own, never refused for it.
    pub(crate) fn read<S: Source>(source: &S, post: &S::Obj) -> Option<Self> {
        let part = |key: &str, field: Field| {
            text(source, post, key)
                .map(|t| clip(field, &t).trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        Some(Self {
            name: part(NAME_KEY, Field::Neighbour)?,
            consent: part(CONSENT_KEY, Field::Consent)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behalf(name: &str, consent: &str) -> OnBehalfOf {
        OnBehalfOf {
            name: name.into(),
            consent: consent.into(),
        }
    }

    #[test]
    fn a_plain_consent_statement_passes_and_is_stored_trimmed() {
        let b = behalf(
            "  Mme Dupont ",
            "Mme Dupont, au téléphone, le 2 décembre à 10 h",
        );
        assert_eq!(
            b.cleaned(),
            Ok(behalf(
                "Mme Dupont",
                "Mme Dupont, au téléphone, le 2 décembre à 10 h"
            ))
        );
        // A date and a time in digits are not a phone number.
        assert!(
            behalf("M. Okafor", "M. Okafor, in person, on 02/12/2026 at 10:00")
                .cleaned()
                .is_ok()
        );
    }

    #[test]
    fn both_parts_or_neither() {
        assert_eq!(OnBehalfOf::from_fields("", "  "), None);
        assert_eq!(OnBehalfOf::from_fields("\u{200B}", ""), None);
        assert_eq!(
            OnBehalfOf::from_fields("Mme Dupont", "").map(|b| b.cleaned()),
            Some(Err(TextError::NoConsent {
                min: MIN_CONSENT_CHARS
            }))
        );
        assert_eq!(
            OnBehalfOf::from_fields("", "elle a dit oui hier").map(|b| b.cleaned()),
            Some(Err(TextError::NoNeighbour))
        );
        // Invisible characters do not make a consent.
        assert_eq!(
            behalf("Mme Dupont", "\u{200B}\u{2060} ").cleaned(),
            Err(TextError::NoConsent {
                min: MIN_CONSENT_CHARS
            })
        );
        assert_eq!(
            behalf("Mme Dupont", "oui").cleaned(),
            Err(TextError::NoConsent {
                min: MIN_CONSENT_CHARS
            })
        );
        assert_eq!(
            behalf("", "").problems(),
            vec![
                TextError::NoNeighbour,
                TextError::NoConsent {
                    min: MIN_CONSENT_CHARS
                }
            ]
        );
    }

    #[test]
    fn the_rules_of_public_text_apply_to_both_parts() {
        assert_eq!(
            behalf("Mme Dupont", "au 06 12 34 56 78, le 2 décembre").cleaned(),
            Err(TextError::PhoneNumber {
                field: Field::Consent
            })
        );
        assert_eq!(
            behalf("dupont@example.org", "elle a dit oui au téléphone").cleaned(),
            Err(TextError::Email {
                field: Field::Neighbour
            })
        );
        assert_eq!(
            behalf("Mme\nDupont", "elle a dit oui au téléphone").cleaned(),
            Err(TextError::ControlCharacters {
                field: Field::Neighbour
            })
        );
        let long = "x".repeat(Field::Consent.max_chars() + 1);
        assert!(matches!(
            behalf("Mme Dupont", &long).cleaned(),
            Err(TextError::TooLong {
                field: Field::Consent,
                ..
            })
        ));
        let long = "x".repeat(Field::Neighbour.max_chars() + 1);
        assert!(matches!(
            behalf(&long, "elle a dit oui au téléphone").cleaned(),
            Err(TextError::TooLong {
                field: Field::Neighbour,
                ..
            })
        ));
        assert_eq!(
            behalf("Mme\u{202E} Dupont", "oui, en personne, ce matin").cleaned(),
            Ok(behalf("Mme Dupont", "oui, en personne, ce matin"))
        );
    }
}

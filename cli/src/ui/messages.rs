//! The words of the private conversation shown on a post to its two parties (the routes
//! are the post's actions: `message` and `delete-messages`, in `ui::post_action`).

use super::i18n::Lang;

/// The conversation's words.
pub(crate) struct MessageStrings {
    pub(crate) title: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) none: &'static str,
    pub(crate) field: &'static str,
    pub(crate) to: &'static str,
    pub(crate) send: &'static str,
    pub(crate) delete: &'static str,
    pub(crate) delete_hint: &'static str,
    pub(crate) you: &'static str,
}

static FR: MessageStrings = MessageStrings {
    title: "Messages privés",
    intro: "Lisibles par vous deux seulement : vous pouvez y donner un numéro de téléphone, un code de porte, une heure.",
    none: "Aucun message pour l'instant.",
    field: "Votre message",
    to: "À",
    send: "Envoyer",
    delete: "Supprimer la conversation",
    delete_hint: "L'annonce est close : la conversation peut être supprimée, chez vous deux.",
    you: "vous",
};

static EN: MessageStrings = MessageStrings {
    title: "Private messages",
    intro: "Readable by the two of you only: you may give a phone number, a door code, a time.",
    none: "No message yet.",
    field: "Your message",
    to: "To",
    send: "Send",
    delete: "Delete the conversation",
    delete_hint: "The post is closed: the conversation can be deleted, for both of you.",
    you: "you",
};

impl Lang {
    /// The conversation's words in this language.
    pub(crate) fn messages(self) -> &'static MessageStrings {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

//! Every string of the web page, in French and English.
//!
//! One struct with one field per string: a language that misses a string does not
//! compile, so no page can show a half-translated screen.

use entraide_crdt::care::{
    CareError, CheckHow, CheckState, MAX_CIRCLE, MIN_CIRCLE, MIN_CONSENT_CHARS,
};
use entraide_crdt::message::MessageError;
use entraide_crdt::{Category, Field, Kind, Status, TextError, Urgency, WriteError};
use entraide_node::NodeError;
use entraide_node::api::QueryError;
use entraide_node::store::StoreError;

/// A language of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    Fr,
    En,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first of French or English in an `Accept-Language` header (French when
    /// neither is named: the project's home language).
    pub(crate) fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("fr") => Lang::Fr,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Fr)
    }

    pub(crate) fn t(self) -> &'static Strings {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// Whether a count takes the singular: 0 and 1 in French, only 1 in English.
    pub(crate) fn singular(self, n: usize) -> bool {
        match self {
            Lang::Fr => n <= 1,
            Lang::En => n == 1,
        }
    }
}

/// A word that agrees with a count: "1 post", "2 posts".
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plural {
    pub(crate) one: &'static str,
    pub(crate) many: &'static str,
}

/// A count and its word, agreeing in number: "1 post", "0 posts", "0 annonce".
pub(crate) fn count(lang: Lang, n: usize, word: Plural) -> String {
    let word = if lang.singular(n) {
        word.one
    } else {
        word.many
    };
    format!("{n} {word}")
}

/// The strings of one language.
pub(crate) struct Strings {
    pub(crate) nav_board: &'static str,
    pub(crate) nav_new: &'static str,
    pub(crate) nav_mine: &'static str,
    pub(crate) nav_neighbours: &'static str,
    pub(crate) nav_invite: &'static str,
    pub(crate) nav_settings: &'static str,
    pub(crate) skip_to_content: &'static str,
    pub(crate) language: &'static str,

    pub(crate) board_title: &'static str,
    pub(crate) board_empty: &'static str,
    pub(crate) board_empty_filtered: &'static str,
    pub(crate) filter_legend: &'static str,
    pub(crate) filter_all: &'static str,
    pub(crate) filter_kind: &'static str,
    pub(crate) filter_search: &'static str,
    pub(crate) filter_area: &'static str,
    pub(crate) filter_show_closed: &'static str,
    pub(crate) filter_apply: &'static str,
    pub(crate) filter_reset: &'static str,
    pub(crate) by: &'static str,
    pub(crate) helpers_none: &'static str,
    pub(crate) helpers_one: &'static str,
    pub(crate) helpers_many: &'static str,

    pub(crate) new_title: &'static str,
    pub(crate) new_intro: &'static str,
    pub(crate) field_kind: &'static str,
    pub(crate) field_category: &'static str,
    pub(crate) field_title: &'static str,
    pub(crate) field_title_hint: &'static str,
    pub(crate) field_details: &'static str,
    pub(crate) field_details_hint: &'static str,
    pub(crate) field_urgency: &'static str,
    pub(crate) field_area: &'static str,
    pub(crate) field_area_hint: &'static str,
    pub(crate) field_name: &'static str,
    pub(crate) field_message: &'static str,
    pub(crate) submit_post: &'static str,
    pub(crate) form_has_errors: &'static str,
    pub(crate) behalf_legend: &'static str,
    pub(crate) behalf_intro: &'static str,
    pub(crate) field_behalf_name: &'static str,
    pub(crate) field_behalf_name_hint: &'static str,
    pub(crate) field_consent: &'static str,
    pub(crate) field_consent_hint: &'static str,
    pub(crate) posted_by: &'static str,
    pub(crate) posted_for: &'static str,
    pub(crate) post_consent: &'static str,
    pub(crate) behalf_replies: &'static str,

    pub(crate) post_posted: &'static str,
    pub(crate) post_expires: &'static str,
    pub(crate) post_area: &'static str,
    pub(crate) post_responses: &'static str,
    pub(crate) post_no_responses: &'static str,
    pub(crate) post_accepted_helper: &'static str,
    pub(crate) post_you_responded: &'static str,
    pub(crate) post_your_post: &'static str,
    pub(crate) post_closed: &'static str,
    pub(crate) post_not_found: &'static str,
    pub(crate) respond_title: &'static str,
    pub(crate) respond_hint: &'static str,
    pub(crate) respond_button: &'static str,
    pub(crate) accept_button: &'static str,
    pub(crate) accepted_mark: &'static str,
    pub(crate) thank_button: &'static str,
    pub(crate) thank_placeholder: &'static str,
    pub(crate) thanks_given: &'static str,
    pub(crate) done_button: &'static str,
    pub(crate) withdraw_button: &'static str,
    pub(crate) back_to_board: &'static str,
    pub(crate) contact_privately: &'static str,

    pub(crate) mine_title: &'static str,
    pub(crate) mine_posts: &'static str,
    pub(crate) mine_responses: &'static str,
    pub(crate) mine_no_posts: &'static str,
    pub(crate) mine_no_responses: &'static str,

    pub(crate) neighbours_title: &'static str,
    pub(crate) neighbours_none: &'static str,
    pub(crate) neighbours_none_help: &'static str,
    pub(crate) connected: &'static str,
    pub(crate) not_connected: &'static str,
    pub(crate) through_meeting_point: &'static str,
    pub(crate) reachable_directly: &'static str,
    pub(crate) not_reachable_directly: &'static str,
    pub(crate) last_synced: &'static str,
    pub(crate) never_synced: &'static str,
    pub(crate) this_node_holds: &'static str,
    pub(crate) feeds: Plural,
    pub(crate) posts: Plural,
    pub(crate) open_posts: &'static str,
    pub(crate) listening_on: &'static str,

    // The care register's page (issue 12).
    pub(crate) nav_care: &'static str,
    pub(crate) care_title: &'static str,
    pub(crate) care_intro: &'static str,
    pub(crate) care_no_alert: &'static str,
    pub(crate) care_me_title: &'static str,
    pub(crate) care_me_hint: &'static str,
    pub(crate) care_i_am_fine: &'static str,
    pub(crate) care_i_am_not_fine: &'static str,
    pub(crate) care_today: &'static str,
    pub(crate) care_none: &'static str,
    pub(crate) care_seen_fine: &'static str,
    pub(crate) care_not_fine: &'static str,
    pub(crate) care_going: &'static str,
    pub(crate) care_how: &'static str,
    pub(crate) care_note: &'static str,
    pub(crate) care_details: &'static str,
    pub(crate) care_window: &'static str,
    pub(crate) care_circle: &'static str,
    pub(crate) care_notes: &'static str,
    pub(crate) care_consent: &'static str,
    pub(crate) care_registered_by: &'static str,
    pub(crate) care_name_public: &'static str,
    pub(crate) care_name_private: &'static str,
    pub(crate) care_you: &'static str,
    pub(crate) care_remove: &'static str,
    pub(crate) care_remove_confirm: &'static str,
    pub(crate) care_remove_hint: &'static str,
    pub(crate) care_remove_unconfirmed: &'static str,
    pub(crate) care_add_title: &'static str,
    pub(crate) care_add_intro: &'static str,
    pub(crate) care_field_name: &'static str,
    pub(crate) care_field_name_hint: &'static str,
    pub(crate) care_field_window: &'static str,
    pub(crate) care_from: &'static str,
    pub(crate) care_to: &'static str,
    pub(crate) care_hour: &'static str,
    pub(crate) care_minute: &'static str,
    pub(crate) care_field_circle: &'static str,
    pub(crate) care_field_circle_hint: &'static str,
    pub(crate) care_field_consent: &'static str,
    pub(crate) care_field_consent_hint: &'static str,
    pub(crate) care_field_notes: &'static str,
    pub(crate) care_field_notes_hint: &'static str,
    pub(crate) care_field_me: &'static str,
    pub(crate) care_field_name_public: &'static str,
    pub(crate) care_add_button: &'static str,
    pub(crate) care_added: &'static str,
    pub(crate) care_checked_saved: &'static str,
    pub(crate) care_taken_saved: &'static str,
    pub(crate) care_removed: &'static str,
    pub(crate) care_form_refused: &'static str,
    pub(crate) care_strip_link: &'static str,

    pub(crate) invite_title: &'static str,
    pub(crate) invite_intro: &'static str,
    pub(crate) invite_warning: &'static str,
    pub(crate) invite_how: &'static str,
    pub(crate) invite_print: &'static str,
    pub(crate) invite_qr_alt: &'static str,
    pub(crate) lan_code: &'static str,

    pub(crate) settings_title: &'static str,
    pub(crate) settings_name: &'static str,
    pub(crate) settings_save: &'static str,
    pub(crate) settings_saved: &'static str,
    pub(crate) settings_language: &'static str,
    pub(crate) settings_identity: &'static str,
    pub(crate) settings_identity_text: &'static str,
    pub(crate) settings_backup: &'static str,
    pub(crate) settings_fingerprint: &'static str,

    pub(crate) footer_never: &'static str,
    pub(crate) footer_offline: &'static str,
    pub(crate) live_notice: &'static str,

    pub(crate) login_title: &'static str,
    pub(crate) login_text: &'static str,
    pub(crate) login_code: &'static str,
    pub(crate) login_button: &'static str,
    pub(crate) login_wrong: &'static str,
    pub(crate) login_throttled: &'static str,
    pub(crate) login_ready: &'static str,
    pub(crate) hosted_where: &'static str,
    pub(crate) hosted_means: &'static str,
    pub(crate) hosted_move: &'static str,
    pub(crate) sessions_mine: &'static str,
    pub(crate) error_owner_only: &'static str,

    pub(crate) signin_title: &'static str,
    pub(crate) signin_text: &'static str,
    pub(crate) signin_how: &'static str,
    pub(crate) signin_retry: &'static str,
    pub(crate) signin_used: &'static str,
    pub(crate) signed_out: &'static str,
    pub(crate) sessions_title: &'static str,
    pub(crate) sessions_here: &'static str,
    pub(crate) sessions_lan: &'static str,
    pub(crate) sign_out: &'static str,
    pub(crate) sign_out_others: &'static str,
    pub(crate) signed_out_others: &'static str,

    pub(crate) error_title: &'static str,
    pub(crate) error_forbidden: &'static str,
    pub(crate) error_generic: &'static str,
    pub(crate) error_disk_full: &'static str,

    pub(crate) just_now: &'static str,
    pub(crate) ago: fn(&str) -> String,
    pub(crate) in_future: fn(&str) -> String,

    pub(crate) lookalike: &'static str,
    pub(crate) lookalike_hint: &'static str,
    pub(crate) settings_lookalikes: &'static str,
    pub(crate) page_prev: &'static str,
    pub(crate) page_next: &'static str,
    pub(crate) page_of: fn(usize, usize) -> String,
    pub(crate) more_open_posts: fn(&str) -> String,
    pub(crate) show_them: &'static str,
    pub(crate) held_back: fn(&str) -> String,
    pub(crate) posts_by: &'static str,
    pub(crate) everyones_posts: &'static str,
    pub(crate) error_unknown_author: &'static str,
    pub(crate) error_bad_filter: &'static str,
}

pub(crate) static FR: Strings = Strings {
    nav_board: "Tableau",
    nav_new: "Nouvelle annonce",
    nav_mine: "Mes annonces",
    nav_neighbours: "Voisins",
    nav_invite: "Inviter",
    nav_settings: "Réglages",
    skip_to_content: "Aller au contenu",
    language: "Langue",

    board_title: "Demandes et offres d'entraide",
    board_empty: "Rien sur le tableau pour l'instant. Besoin d'un coup de main, ou envie d'en donner un ?",
    board_empty_filtered: "Aucune annonce ne correspond à ces filtres.",
    filter_legend: "Trier les annonces",
    filter_all: "Tout",
    filter_kind: "Type",
    filter_search: "Rechercher",
    filter_area: "Lieu",
    filter_show_closed: "Afficher aussi les annonces terminées, retirées ou expirées",
    filter_apply: "Filtrer",
    filter_reset: "Tout afficher",
    by: "par",
    helpers_none: "personne ne s'est encore proposé",
    helpers_one: "1 voisin peut aider",
    helpers_many: "voisins peuvent aider",

    new_title: "Nouvelle annonce",
    new_intro: "Demandez un coup de main, ou proposez le vôtre. Ne mettez ni numéro de téléphone ni adresse exacte : vous les donnerez en privé à la personne qui aide.",
    field_kind: "Je",
    field_category: "Catégorie",
    field_title: "Titre",
    field_title_hint: "En une ligne : « Monter de l'eau au 4e étage »",
    field_details: "Détails",
    field_details_hint: "Facultatif : quand, combien, ce qu'il faut savoir.",
    field_urgency: "Urgence",
    field_area: "Lieu approximatif",
    field_area_hint: "Facultatif : le bâtiment ou la rue, jamais l'adresse exacte.",
    field_name: "Votre nom",
    field_message: "Message",
    submit_post: "Publier l'annonce",
    form_has_errors: "L'annonce n'est pas publiée : corrigez ce qui est indiqué ci-dessous.",
    behalf_legend: "Pour un voisin sans appareil",
    behalf_intro: "Vous pouvez publier pour un voisin qui n'a ni ordinateur ni téléphone. Demandez-lui d'abord : publiez seulement s'il est d'accord, et notez qui a accepté, comment et quand. Le tableau affiche vos deux noms ; les réponses vous arrivent, à vous de les lui transmettre. S'il rejoint le tableau plus tard, ces annonces restent les vôtres.",
    field_behalf_name: "Nom du voisin",
    field_behalf_name_hint: "Tel qu'il veut être nommé : « Mme Dupont ».",
    field_consent: "Son accord",
    field_consent_hint: "Qui a accepté, comment, quand : « Mme Dupont, au téléphone, le 2 décembre à 10 h ». Pas de numéro de téléphone.",
    posted_by: "publié par",
    posted_for: "pour",
    post_consent: "Accord",
    behalf_replies: "Les réponses vont à la personne qui a publié, qui les transmet.",

    post_posted: "Publiée",
    post_expires: "Expire",
    post_area: "Lieu",
    post_responses: "Voisins qui peuvent aider",
    post_no_responses: "Personne ne s'est encore proposé.",
    post_accepted_helper: "Aide acceptée :",
    post_you_responded: "Vous avez proposé votre aide.",
    post_your_post: "C'est votre annonce.",
    post_closed: "Cette annonce est close.",
    post_not_found: "Cette annonce n'existe pas (ou n'est pas encore arrivée sur cet ordinateur).",
    respond_title: "Je peux aider",
    respond_hint: "Un petit mot pour la personne (facultatif). Pas de numéro de téléphone ici.",
    respond_button: "Proposer mon aide",
    accept_button: "Accepter cette aide",
    accepted_mark: "Aide acceptée",
    thank_button: "Remercier",
    thank_placeholder: "Merci beaucoup !",
    thanks_given: "Remerciements",
    done_button: "Marquer comme terminée",
    withdraw_button: "Retirer l'annonce",
    back_to_board: "Retour au tableau",
    contact_privately: "Échangez vos coordonnées de vive voix ou en privé, jamais sur le tableau.",

    mine_title: "Mes annonces et mes propositions",
    mine_posts: "Mes annonces",
    mine_responses: "Là où j'ai proposé mon aide",
    mine_no_posts: "Vous n'avez encore rien publié.",
    mine_no_responses: "Vous n'avez encore proposé votre aide nulle part.",

    neighbours_title: "Voisins",
    neighbours_none: "Aucun voisin trouvé pour l'instant.",
    neighbours_none_help: "Sur le même Wi-Fi, les voisins apparaissent d'eux-mêmes. Si votre box bloque cela, demandez à un voisin son code d'invitation.",
    connected: "connecté",
    not_connected: "non connecté",
    through_meeting_point: "connecté seulement par le point de rencontre (connexion directe en cours d'essai)",
    reachable_directly: "Les autres membres peuvent joindre cet ordinateur directement.",
    not_reachable_directly: "Les autres membres ne peuvent pas joindre cet ordinateur directement (il est derrière une box) : ils passent par le point de rencontre.",
    last_synced: "synchronisé",
    never_synced: "jamais synchronisé",
    this_node_holds: "Cet ordinateur garde le tableau de",
    feeds: Plural {
        one: "voisin",
        many: "voisins",
    },
    posts: Plural {
        one: "annonce",
        many: "annonces",
    },
    open_posts: "en cours",
    listening_on: "Adresses de cet ordinateur",

    nav_care: "Veille",
    care_title: "Veille : prendre des nouvelles chaque jour",
    care_intro: "Pendant une alerte (canicule, grand froid…), chaque personne inscrite ici reçoit chaque jour, dans son créneau, une visite ou un appel d'un voisin de son cercle. Seuls les voisins du cercle voient son nom.",
    care_no_alert: "Pas d'alerte en ce moment : aucune vérification n'est due aujourd'hui.",
    care_me_title: "Et vous, ça va ?",
    care_me_hint: "Appuyez sur le bouton : vos voisins sauront aujourd'hui que vous allez bien.",
    care_i_am_fine: "Je vais bien",
    care_i_am_not_fine: "Ça ne va pas, j'ai besoin de quelqu'un",
    care_today: "Aujourd'hui",
    care_none: "Personne n'est inscrit dans un cercle dont vous faites partie.",
    care_seen_fine: "Vu, ça va",
    care_not_fine: "Ça ne va pas",
    care_going: "J'y vais",
    care_how: "Comment avez-vous eu des nouvelles ?",
    care_note: "Un mot pour le cercle (facultatif)",
    care_details: "Détails",
    care_window: "Créneau, chaque jour",
    care_circle: "Cercle (voisins qui vérifient)",
    care_notes: "Notes",
    care_consent: "Accord",
    care_registered_by: "Inscrite par",
    care_name_public: "Son nom peut apparaître dans une demande de visite publique.",
    care_name_private: "Son nom n'apparaît jamais en public.",
    care_you: "vous",
    care_remove: "Retirer du registre",
    care_remove_confirm: "Oui, la personne a demandé à ne plus être inscrite",
    care_remove_hint: "Plus personne ne verra cette fiche, ni son nom, ni ses notes.",
    care_remove_unconfirmed: "Rien n'est retiré : cochez d'abord la case qui confirme que la personne l'a demandé.",
    care_add_title: "Inscrire une personne",
    care_add_intro: "Vous-même, ou un voisin qui n'a ni ordinateur ni téléphone, avec son accord.",
    care_field_name: "Nom de la personne",
    care_field_name_hint: "Comme ses voisins l'appellent : « Mme Martin ».",
    care_field_window: "Quand passer ou appeler, chaque jour",
    care_from: "De",
    care_to: "à",
    care_hour: "heure",
    care_minute: "minutes",
    care_field_circle: "Qui vérifie ? (au moins deux voisins)",
    care_field_circle_hint: "Cochez les voisins qui passeront ou appelleront. Seuls eux verront la fiche.",
    care_field_consent: "Accord de la personne (obligatoire)",
    care_field_consent_hint: "Qui a donné son accord, comment, quand : « Mme Martin, de vive voix, le 2 juillet ».",
    care_field_notes: "Notes pour le cercle",
    care_field_notes_hint: "Facultatif : comment la joindre, quelle porte, quel code. Seul le cercle les lit.",
    care_field_me: "Cette personne, c'est moi (j'aurai le bouton « Je vais bien »)",
    care_field_name_public: "La personne accepte que son nom apparaisse dans une demande de visite publique si personne n'est passé",
    care_add_button: "Inscrire la personne",
    care_added: "C'est inscrit. Seuls les voisins du cercle voient la fiche.",
    care_checked_saved: "C'est noté, le cercle le voit.",
    care_taken_saved: "C'est noté : le cercle voit que vous y allez.",
    care_removed: "C'est retiré du registre : plus personne ne voit la fiche.",
    care_form_refused: "La personne n'est pas inscrite : corrigez ce qui est indiqué ci-dessous.",
    care_strip_link: "Voir la veille",

    invite_title: "Inviter un voisin",
    invite_intro: "Donnez ce code (ou faites scanner le QR code) à un voisin de confiance. Il lui permet de rejoindre votre communauté.",
    invite_warning: "Ce code ouvre la communauté : ne l'affichez qu'à l'intérieur de l'immeuble.",
    invite_how: "Sur son ordinateur, votre voisin tape :",
    invite_print: "Imprimez cette page (Ctrl+P) pour l'afficher dans le hall.",
    invite_qr_alt: "QR code du code d'invitation",
    lan_code: "Code de connexion pour un téléphone sur ce Wi-Fi :",

    settings_title: "Réglages",
    settings_name: "Votre nom, tel que vos voisins le voient",
    settings_save: "Enregistrer",
    settings_saved: "C'est enregistré.",
    settings_language: "Langue de la page",
    settings_identity: "Votre identité",
    settings_identity_text: "Votre identité est une clé secrète rangée dans ce fichier. Si vous la perdez, vos voisins ne pourront plus vous reconnaître.",
    settings_backup: "Pour la sauvegarder, copiez ce fichier sur une clé USB et rangez-la en lieu sûr. Ne la donnez à personne.",
    settings_fingerprint: "Votre empreinte (pour que vos voisins vous reconnaissent)",

    footer_never: "Pas encore synchronisé avec un voisin.",
    footer_offline: "Hors ligne",
    live_notice: "Du nouveau sur le tableau : rechargez la page quand vous aurez fini.",

    login_title: "Connexion",
    login_text: "Entrez le code affiché sur l'ordinateur qui fait tourner entraide.",
    login_code: "Code",
    login_button: "Entrer",
    login_wrong: "Ce code n'est pas le bon.",
    login_throttled: "Trop d'essais depuis cet appareil : attendez une minute avant de réessayer.",
    login_ready: "Votre code est déjà inscrit : appuyez sur « Entrer ».",
    hosted_where: "Votre clé, ce qui fait que vous êtes vous sur le tableau, est gardée sur l'ordinateur de",
    hosted_means: "Cela veut dire que cette personne pourrait publier ou répondre en votre nom. Choisissez donc quelqu'un en qui vous avez confiance. Vos annonces sont signées avec votre propre clé : les voisins vous voient comme une personne à part entière.",
    hosted_move: "Pour passer un jour sur un appareil à vous : demandez-lui d'exporter votre identité (« entraide resident export »), installez entraide sur votre appareil et rejoignez avec « entraide join CODE --identity FICHIER » ; ensuite, elle efface sa copie (« entraide resident remove »). Vos annonces restent.",
    sessions_mine: "Vos appareils connectés",
    error_owner_only: "Seule la personne à qui appartient cet ordinateur peut faire cela.",

    signin_title: "Connexion nécessaire",
    signin_text: "Pour que les autres programmes et les autres comptes de cet ordinateur ne puissent pas agir en votre nom, cette page demande une adresse de connexion.",
    signin_how: "Ouvrez l'adresse qu'entraide a affichée au démarrage (elle se termine par /signin/…), ou tapez « entraide open » dans un terminal : une nouvelle adresse s'ouvre.",
    signin_retry: "Réessayer",
    signin_used: "Cette adresse de connexion a déjà servi ou n'est plus valable : elle ne sert qu'une fois, pendant 24 heures.",
    signed_out: "Vous êtes déconnecté de cet appareil.",
    sessions_title: "Appareils connectés",
    sessions_here: "Navigateurs de cet ordinateur",
    sessions_lan: "Téléphones et ordinateurs du réseau local",
    sign_out: "Me déconnecter de cet appareil",
    sign_out_others: "Déconnecter tous les autres appareils",
    signed_out_others: "Tous les autres appareils sont déconnectés.",

    error_title: "Oups",
    error_forbidden: "Cette demande a été refusée (formulaire expiré ou venant d'un autre site). Rechargez la page et recommencez.",
    error_generic: "Quelque chose s'est mal passé dans entraide. Réessayez ; si cela continue, redémarrez entraide (le terminal où il tourne en dit plus).",
    error_disk_full: "Le disque de cet ordinateur est plein : ceci n'a pas été enregistré. Libérez de la place (supprimez des fichiers, videz la corbeille), puis redémarrez entraide. Tout ce qui était enregistré avant est intact.",

    just_now: "à l'instant",
    ago: |t| format!("il y a {t}"),
    in_future: |t| format!("dans {t}"),

    lookalike: "nom semblable",
    lookalike_hint: "Un autre voisin a un nom qui ressemble à celui-ci : regardez l'empreinte pour savoir qui est qui.",
    settings_lookalikes: "D'autres voisins ont un nom qui ressemble au vôtre ; seule l'empreinte vous distingue :",
    page_prev: "← Page précédente",
    page_next: "Page suivante →",
    page_of: |n, m| format!("Page {n} sur {m}"),
    more_open_posts: |n| {
        if n == "1" {
            "a 1 autre annonce ouverte, cachée ici.".into()
        } else {
            format!("a {n} autres annonces ouvertes, cachées ici.")
        }
    },
    show_them: "Les voir",
    held_back: |n| {
        if n == "1" {
            "1 annonce datée de plus de deux jours dans le futur (l'horloge d'un voisin avance) n'est pas montrée.".into()
        } else {
            format!(
                "{n} annonces datées de plus de deux jours dans le futur (l'horloge d'un voisin avance) ne sont pas montrées."
            )
        }
    },
    posts_by: "Annonces de",
    everyones_posts: "Voir les annonces de tout le monde",
    error_unknown_author: "Ce voisin n'est pas connu ici (l'adresse de la page est peut-être abîmée).",
    error_bad_filter: "Ces filtres ne se lisent pas (l'adresse de la page est peut-être abîmée).",
};

pub(crate) static EN: Strings = Strings {
    nav_board: "Board",
    nav_new: "New post",
    nav_mine: "My posts",
    nav_neighbours: "Neighbours",
    nav_invite: "Invite",
    nav_settings: "Settings",
    skip_to_content: "Skip to content",
    language: "Language",

    board_title: "Requests and offers of help",
    board_empty: "Nothing on the board yet. Need a hand, or want to lend one?",
    board_empty_filtered: "No post matches these filters.",
    filter_legend: "Sort the posts",
    filter_all: "All",
    filter_kind: "Type",
    filter_search: "Search",
    filter_area: "Place",
    filter_show_closed: "Also show done, withdrawn and expired posts",
    filter_apply: "Filter",
    filter_reset: "Show all",
    by: "by",
    helpers_none: "nobody has offered yet",
    helpers_one: "1 neighbour can help",
    helpers_many: "neighbours can help",

    new_title: "New post",
    new_intro: "Ask for a hand, or offer yours. Put no phone number and no exact address: you will give them privately to whoever helps.",
    field_kind: "I",
    field_category: "Category",
    field_title: "Title",
    field_title_hint: "One line: “Carry water up to the 4th floor”",
    field_details: "Details",
    field_details_hint: "Optional: when, how much, what to know.",
    field_urgency: "Urgency",
    field_area: "Rough place",
    field_area_hint: "Optional: the building or the street, never the exact address.",
    field_name: "Your name",
    field_message: "Message",
    submit_post: "Publish the post",
    form_has_errors: "The post is not published: fix what is shown below.",
    behalf_legend: "For a neighbour without a device",
    behalf_intro: "You can post for a neighbour who has no computer and no phone. Ask them first: post only if they agree, and write down who agreed, how and when. The board shows both your names; replies come to you, and you pass them on. If they join the board later, these posts stay yours.",
    field_behalf_name: "Your neighbour's name",
    field_behalf_name_hint: "As they want to be named: “Mme Dupont”.",
    field_consent: "Their consent",
    field_consent_hint: "Who agreed, how, when: “Mme Dupont, on the phone, 2 December at 10 am”. No phone number.",
    posted_by: "posted by",
    posted_for: "for",
    post_consent: "Consent",
    behalf_replies: "Replies go to the person who posted it, who passes them on.",

    post_posted: "Posted",
    post_expires: "Expires",
    post_area: "Place",
    post_responses: "Neighbours who can help",
    post_no_responses: "Nobody has offered yet.",
    post_accepted_helper: "Helper accepted:",
    post_you_responded: "You offered your help.",
    post_your_post: "This is your post.",
    post_closed: "This post is closed.",
    post_not_found: "This post does not exist (or has not reached this computer yet).",
    respond_title: "I can help",
    respond_hint: "A short word for them (optional). No phone number here.",
    respond_button: "Offer my help",
    accept_button: "Accept this help",
    accepted_mark: "Helper accepted",
    thank_button: "Thank",
    thank_placeholder: "Thank you so much!",
    thanks_given: "Thanks",
    done_button: "Mark as done",
    withdraw_button: "Withdraw the post",
    back_to_board: "Back to the board",
    contact_privately: "Exchange contact details face to face or privately, never on the board.",

    mine_title: "My posts and my offers",
    mine_posts: "My posts",
    mine_responses: "Where I offered help",
    mine_no_posts: "You have not posted anything yet.",
    mine_no_responses: "You have not offered help anywhere yet.",

    neighbours_title: "Neighbours",
    neighbours_none: "No neighbour found yet.",
    neighbours_none_help: "On the same Wi-Fi, neighbours appear by themselves. If your router blocks that, ask a neighbour for their invite code.",
    connected: "connected",
    not_connected: "not connected",
    through_meeting_point: "connected only through the meeting point (trying a direct connection)",
    reachable_directly: "Other members can reach this computer directly.",
    not_reachable_directly: "Other members cannot reach this computer directly (it is behind a router): they go through the meeting point.",
    last_synced: "synced",
    never_synced: "never synced",
    this_node_holds: "This computer keeps the board of",
    feeds: Plural {
        one: "resident",
        many: "residents",
    },
    posts: Plural {
        one: "post",
        many: "posts",
    },
    open_posts: "in progress",
    listening_on: "Addresses of this computer",

    nav_care: "Care",
    care_title: "Care: checking on each other every day",
    care_intro: "During an alert (heatwave, cold snap…), every person registered here gets a visit or a call from a neighbour of their circle every day, within their time window. Only the neighbours of the circle see their name.",
    care_no_alert: "No alert now: no check is due today.",
    care_me_title: "And you, are you all right?",
    care_me_hint: "Press the button: your neighbours will know today that you are fine.",
    care_i_am_fine: "I am fine",
    care_i_am_not_fine: "I am not well, I need someone",
    care_today: "Today",
    care_none: "Nobody is registered in a circle you are part of.",
    care_seen_fine: "Seen, fine",
    care_not_fine: "Not fine",
    care_going: "I am going",
    care_how: "How did you check?",
    care_note: "A word for the circle (optional)",
    care_details: "Details",
    care_window: "Time window, every day",
    care_circle: "Circle (neighbours who check)",
    care_notes: "Notes",
    care_consent: "Consent",
    care_registered_by: "Registered by",
    care_name_public: "Their name may appear in a public visit request.",
    care_name_private: "Their name never appears in public.",
    care_you: "you",
    care_remove: "Remove from the register",
    care_remove_confirm: "Yes, the person asked to leave the register",
    care_remove_hint: "Nobody will see this record any more, nor its name, nor its notes.",
    care_remove_unconfirmed: "Nothing was removed: first tick the box confirming that the person asked for it.",
    care_add_title: "Register a person",
    care_add_intro: "Yourself, or a neighbour who has no computer or phone, with their consent.",
    care_field_name: "The person's name",
    care_field_name_hint: "As the neighbours call them: “Mrs Martin”.",
    care_field_window: "When to visit or call, every day",
    care_from: "From",
    care_to: "to",
    care_hour: "hour",
    care_minute: "minutes",
    care_field_circle: "Who checks? (at least two neighbours)",
    care_field_circle_hint: "Tick the neighbours who will visit or call. Only they will see the record.",
    care_field_consent: "The person's consent (required)",
    care_field_consent_hint: "Who agreed, how, when: “Mrs Martin, in person, 2 July”.",
    care_field_notes: "Notes for the circle",
    care_field_notes_hint: "Optional: how to reach them, which door, which code. Only the circle reads them.",
    care_field_me: "This person is me (I get the “I am fine” button)",
    care_field_name_public: "The person agrees that their name may appear in a public visit request if nobody came",
    care_add_button: "Register the person",
    care_added: "Registered. Only the neighbours of the circle see the record.",
    care_checked_saved: "Noted: the circle sees it.",
    care_taken_saved: "Noted: the circle sees that you are going.",
    care_removed: "Removed from the register: nobody sees the record any more.",
    care_form_refused: "The person is not registered: fix what is shown below.",
    care_strip_link: "See the care page",

    invite_title: "Invite a neighbour",
    invite_intro: "Give this code (or let them scan the QR code) to a neighbour you trust. It lets them join your community.",
    invite_warning: "This code opens the community: only show it inside the building.",
    invite_how: "On their computer, your neighbour types:",
    invite_print: "Print this page (Ctrl+P) to put it up in the hall.",
    invite_qr_alt: "QR code of the invite code",
    lan_code: "Login code for a phone on this Wi-Fi:",

    settings_title: "Settings",
    settings_name: "Your name, as neighbours see it",
    settings_save: "Save",
    settings_saved: "Saved.",
    settings_language: "Language of the page",
    settings_identity: "Your identity",
    settings_identity_text: "Your identity is a secret key kept in this file. If you lose it, your neighbours can no longer recognise you.",
    settings_backup: "To back it up, copy this file to a USB stick and keep it somewhere safe. Never give it to anyone.",
    settings_fingerprint: "Your fingerprint (so neighbours can recognise you)",

    footer_never: "Not synced with a neighbour yet.",
    footer_offline: "Offline",
    live_notice: "Something new on the board: reload the page when you have finished.",

    login_title: "Log in",
    login_text: "Type the code shown on the computer that runs entraide.",
    login_code: "Code",
    login_button: "Enter",
    login_wrong: "That code is not right.",
    login_throttled: "Too many tries from this device: wait a minute before trying again.",
    login_ready: "Your code is already filled in: press “Enter”.",
    hosted_where: "Your key, what makes you you on the board, is kept on the computer of",
    hosted_means: "This means that this person could post or respond as you, so choose someone you trust. Your posts are signed with your own key: neighbours see you as a person of your own.",
    hosted_move: "To move to a device of your own one day: ask them to export your identity (“entraide resident export”), install entraide on your device and join with “entraide join CODE --identity FILE”; then they delete their copy (“entraide resident remove”). Your posts stay.",
    sessions_mine: "Your devices signed in",
    error_owner_only: "Only the owner of this computer can do that.",

    signin_title: "Sign-in needed",
    signin_text: "So that other programs and other accounts on this computer cannot act in your name, this page needs a sign-in address.",
    signin_how: "Open the address entraide printed when it started (it ends with /signin/…), or type `entraide open` in a terminal: a new address opens.",
    signin_retry: "Try again",
    signin_used: "This sign-in address was already used or is no longer valid: it works once, for 24 hours.",
    signed_out: "You are signed out of this device.",
    sessions_title: "Signed-in devices",
    sessions_here: "Browsers on this computer",
    sessions_lan: "Phones and computers on the local network",
    sign_out: "Sign me out of this device",
    sign_out_others: "Sign out every other device",
    signed_out_others: "Every other device is signed out.",

    error_title: "Oops",
    error_forbidden: "This request was refused (an expired form, or one from another site). Reload the page and try again.",
    error_generic: "Something went wrong in entraide. Try again; if it goes on, restart entraide (the terminal running it says more).",
    error_disk_full: "This computer's disk is full: this was not saved. Make some room (delete files, empty the bin), then restart entraide. Everything saved before is safe.",

    just_now: "just now",
    ago: |t| format!("{t} ago"),
    in_future: |t| format!("in {t}"),

    lookalike: "similar name",
    lookalike_hint: "Another neighbour has a name that looks like this one: check the fingerprint to know who is who.",
    settings_lookalikes: "Other neighbours have a name that looks like yours; only the fingerprint tells you apart:",
    page_prev: "← Previous page",
    page_next: "Next page →",
    page_of: |n, m| format!("Page {n} of {m}"),
    more_open_posts: |n| {
        if n == "1" {
            "has 1 more open post, hidden here.".into()
        } else {
            format!("has {n} more open posts, hidden here.")
        }
    },
    show_them: "Show them",
    held_back: |n| {
        if n == "1" {
            "1 post dated more than two days ahead (a neighbour's clock is fast) is not shown."
                .into()
        } else {
            format!(
                "{n} posts dated more than two days ahead (a neighbour's clock is fast) are not shown."
            )
        }
    },
    posts_by: "Posts by",
    everyones_posts: "See everyone's posts",
    error_unknown_author: "This neighbour is not known here (the page's address may be damaged).",
    error_bad_filter: "These filters cannot be read (the page's address may be damaged).",
};

/// The strings of the board on paper (`/print` and `entraide print`), in one language.
pub(crate) struct PrintStrings {
    /// The board's link to the sheet.
    pub(crate) link: &'static str,
    pub(crate) title: &'static str,
    /// "Open requests and offers on {when}."
    pub(crate) made: fn(&str) -> String,
    /// How to answer a post seen on paper.
    pub(crate) how: &'static str,
    pub(crate) empty: &'static str,
    /// Beside each QR code.
    pub(crate) scan: &'static str,
    pub(crate) qr_alt: &'static str,
    pub(crate) back: &'static str,
    /// On screen only: how to print.
    pub(crate) hint: &'static str,
    /// "3 more open posts are not printed (at most 10 per neighbour) …": how many (at
    /// least 1), and the most printed of one neighbour's.
    pub(crate) left_out: fn(usize, usize) -> String,
}

static PRINT_FR: PrintStrings = PrintStrings {
    link: "Imprimer le tableau",
    title: "Tableau d'entraide",
    made: |when| format!("Demandes et offres en cours le {when}."),
    how: "Pour répondre, scannez le code d'une annonce avec un téléphone connecté au même Wi-Fi que l'ordinateur où tourne entraide, ou parlez-en à un voisin qui l'utilise.",
    empty: "Aucune demande ni offre en cours.",
    scan: "Scannez pour répondre",
    qr_alt: "Code QR de l'adresse de l'annonce",
    back: "Retour au tableau",
    hint: "Pour imprimer : le menu de votre navigateur, ou Ctrl+P. Ce cadre et le lien ne sont pas imprimés.",
    left_out: |n, cap| match n {
        1 => format!(
            "1 autre annonce en cours n'est pas imprimée (au plus {cap} par voisin) : voir le tableau."
        ),
        n => format!(
            "{n} autres annonces en cours ne sont pas imprimées (au plus {cap} par voisin) : voir le tableau."
        ),
    },
};

static PRINT_EN: PrintStrings = PrintStrings {
    link: "Print the board",
    title: "Mutual-aid board",
    made: |when| format!("Open requests and offers on {when}."),
    how: "To answer, scan a post's code with a phone on the same Wi-Fi as the computer running entraide, or tell a neighbour who uses it.",
    empty: "No open request or offer right now.",
    scan: "Scan to answer",
    qr_alt: "QR code of the post's address",
    back: "Back to the board",
    hint: "To print: your browser's menu, or Ctrl+P. This box and the link are not printed.",
    left_out: |n, cap| match n {
        1 => {
            format!("1 more open post is not printed (at most {cap} per neighbour): see the board.")
        }
        n => format!(
            "{n} more open posts are not printed (at most {cap} per neighbour): see the board."
        ),
    },
};

impl Lang {
    /// The strings of the board on paper.
    pub(crate) fn print(self) -> &'static PrintStrings {
        match self {
            Lang::Fr => &PRINT_FR,
            Lang::En => &PRINT_EN,
        }
    }
}

pub(crate) fn kind(lang: Lang, k: Kind) -> &'static str {
    match (lang, k) {
        (Lang::Fr, Kind::Request) => "Demande",
        (Lang::Fr, Kind::Offer) => "Offre",
        (Lang::En, Kind::Request) => "Request",
        (Lang::En, Kind::Offer) => "Offer",
    }
}

/// The kind as a choice in the form: "I … need a hand / can help".
pub(crate) fn kind_choice(lang: Lang, k: Kind) -> &'static str {
    match (lang, k) {
        (Lang::Fr, Kind::Request) => "cherche un coup de main",
        (Lang::Fr, Kind::Offer) => "propose mon aide",
        (Lang::En, Kind::Request) => "need a hand",
        (Lang::En, Kind::Offer) => "can help",
    }
}

pub(crate) fn category(lang: Lang, c: Category) -> &'static str {
    match (lang, c) {
        (Lang::Fr, Category::Errands) => "Courses et commissions",
        (Lang::Fr, Category::Visit) => "Visite et compagnie",
        (Lang::Fr, Category::Diy) => "Bricolage et réparations",
        (Lang::Fr, Category::Transport) => "Transport",
        (Lang::Fr, Category::Lending) => "Prêt d'objets",
        (Lang::Fr, Category::Paperwork) => "Papiers et démarches",
        (Lang::Fr, Category::Childcare) => "Garde d'enfants",
        (Lang::Fr, Category::Pets) => "Animaux",
        (Lang::Fr, Category::Shelter) => "Chaleur et abri",
        (Lang::Fr, Category::Food) => "Eau et nourriture",
        (Lang::Fr, Category::Other) => "Autre",
        (Lang::En, Category::Errands) => "Groceries and errands",
        (Lang::En, Category::Visit) => "Visit and company",
        (Lang::En, Category::Diy) => "DIY and repairs",
        (Lang::En, Category::Transport) => "Transport",
        (Lang::En, Category::Lending) => "Lending",
        (Lang::En, Category::Paperwork) => "Paperwork",
        (Lang::En, Category::Childcare) => "Childcare",
        (Lang::En, Category::Pets) => "Pets",
        (Lang::En, Category::Shelter) => "Warmth and shelter",
        (Lang::En, Category::Food) => "Water and food",
        (Lang::En, Category::Other) => "Other",
    }
}

pub(crate) fn urgency(lang: Lang, u: Urgency) -> &'static str {
    match (lang, u) {
        (Lang::Fr, Urgency::Urgent) => "Urgent (dans les heures)",
        (Lang::Fr, Urgency::Today) => "Aujourd'hui",
        (Lang::Fr, Urgency::Week) => "Cette semaine",
        (Lang::Fr, Urgency::Whenever) => "Quand vous pouvez",
        (Lang::En, Urgency::Urgent) => "Urgent (within hours)",
        (Lang::En, Urgency::Today) => "Today",
        (Lang::En, Urgency::Week) => "This week",
        (Lang::En, Urgency::Whenever) => "Whenever",
    }
}

pub(crate) fn status(lang: Lang, s: Status) -> &'static str {
    match (lang, s) {
        (Lang::Fr, Status::Open) => "Ouverte",
        (Lang::Fr, Status::Accepted) => "Aide acceptée",
        (Lang::Fr, Status::Done) => "Terminée",
        (Lang::Fr, Status::Withdrawn) => "Retirée",
        (Lang::Fr, Status::Expired) => "Expirée",
        (Lang::En, Status::Open) => "Open",
        (Lang::En, Status::Accepted) => "Helper accepted",
        (Lang::En, Status::Done) => "Done",
        (Lang::En, Status::Withdrawn) => "Withdrawn",
        (Lang::En, Status::Expired) => "Expired",
    }
}

fn field(lang: Lang, f: Field) -> &'static str {
    let t = lang.t();
    match f {
        Field::Title => t.field_title,
        Field::Details => t.field_details,
        Field::Area => t.field_area,
        Field::Name => t.field_name,
        Field::Message => t.field_message,
        Field::Note => super::public::strings(lang).field_note,
        Field::Neighbour => t.field_behalf_name,
        Field::Consent => t.field_consent,
    }
}

/// A refused text, in plain words.
pub(crate) fn text_error(lang: Lang, e: &TextError) -> String {
    match (lang, e) {
        (Lang::Fr, TextError::Empty { field: f }) => {
            format!("{} : ce champ est vide.", field(lang, *f))
        }
        (Lang::Fr, TextError::TooLong { field: f, len, max }) => {
            format!(
                "{} : trop long ({len} caractères, {max} au plus).",
                field(lang, *f)
            )
        }
        (Lang::Fr, TextError::PhoneNumber { field: f }) => format!(
            "{} : on dirait un numéro de téléphone. Les coordonnées se donnent en privé, pas sur le tableau.",
            field(lang, *f)
        ),
        (Lang::Fr, TextError::Email { field: f }) => format!(
            "{} : on dirait une adresse e-mail. Les coordonnées se donnent en privé, pas sur le tableau.",
            field(lang, *f)
        ),
        (Lang::Fr, TextError::ControlCharacters { field: f }) => {
            format!("{} : contient des caractères invisibles.", field(lang, *f))
        }
        (Lang::Fr, TextError::Expiry { max_days }) => {
            let jours = if *max_days == 1 { "jour" } else { "jours" };
            format!(
                "La date d'expiration doit venir après maintenant, et au plus {max_days} {jours} plus tard pour cette urgence."
            )
        }
        (Lang::En, TextError::Empty { field: f }) => {
            format!("{}: this field is empty.", field(lang, *f))
        }
        (Lang::En, TextError::TooLong { field: f, len, max }) => {
            format!(
                "{}: too long ({len} characters, at most {max}).",
                field(lang, *f)
            )
        }
        (Lang::En, TextError::PhoneNumber { field: f }) => format!(
            "{}: this looks like a phone number. Contact details are shared privately, not on the board.",
            field(lang, *f)
        ),
        (Lang::En, TextError::Email { field: f }) => format!(
            "{}: this looks like an e-mail address. Contact details are shared privately, not on the board.",
            field(lang, *f)
        ),
        (Lang::En, TextError::ControlCharacters { field: f }) => {
            format!("{}: contains invisible characters.", field(lang, *f))
        }
        (Lang::En, TextError::Expiry { max_days }) => {
            let days = if *max_days == 1 { "day" } else { "days" };
            format!(
                "The expiry must be after now, and at most {max_days} {days} ahead for this urgency."
            )
        }
        (Lang::Fr, TextError::NoConsent { min }) => format!(
            "Pour publier pour un voisin, il faut son accord : dites qui a accepté, comment et quand ({min} caractères au moins)."
        ),
        (Lang::Fr, TextError::NoNeighbour) => {
            "Pour publier pour un voisin, il faut aussi son nom, pas seulement son accord.".into()
        }
        (Lang::En, TextError::NoConsent { min }) => format!(
            "To post for a neighbour, you need their consent: say who agreed, how and when (at least {min} characters)."
        ),
        (Lang::En, TextError::NoNeighbour) => {
            "To post for a neighbour, give their name too, not only their consent.".into()
        }
        (_, TextError::AlertEnd { .. })
        | (_, TextError::NamesAPerson { .. })
        | (_, TextError::DescribesAPerson { .. }) => {
            super::public::text_error(lang, e, field(lang, field_of(e)))
        }
        // A rule added to the board later: still a sentence in the resident's language.
        (_, _) => lang.t().error_generic.to_owned(),
    }
}

/// The field a sighting's text error is about (`Note` for the others).
fn field_of(e: &TextError) -> Field {
    match e {
        TextError::NamesAPerson { field, .. } | TextError::DescribesAPerson { field, .. } => *field,
        _ => Field::Note,
    }
}

/// How many neighbours offered help, as a card says it.
pub(crate) fn helpers(lang: Lang, n: usize) -> String {
    let t = lang.t();
    match n {
        0 => t.helpers_none.to_owned(),
        1 => t.helpers_one.to_owned(),
        n => format!("{n} {}", t.helpers_many),
    }
}

/// A refused board filter (the page's address), in plain words.
pub(crate) fn query_error(lang: Lang, e: &QueryError) -> &'static str {
    match e {
        QueryError::NotAnAuthor { .. } => lang.t().error_unknown_author,
        _ => lang.t().error_bad_filter,
    }
}

/// A node error in the resident's language: the node's own messages are English, for the
/// terminal and the API, and never reach the page.
pub(crate) fn node_error(lang: Lang, e: &NodeError) -> String {
    match (lang, e) {
        (_, NodeError::Write(w)) => write_error(lang, w),
        (_, NodeError::NoSuchPost(_)) => lang.t().post_not_found.to_owned(),
        (Lang::Fr, NodeError::AmbiguousPost(prefix)) => format!(
            "Plusieurs annonces commencent par « {prefix} » : donnez davantage de l'identifiant."
        ),
        (Lang::En, NodeError::AmbiguousPost(prefix)) => {
            format!("Several posts start with “{prefix}”: give more of the id.")
        }
        // Not the text given: the node may have added English to it.
        (Lang::Fr, NodeError::NoSuchHelper(_)) => {
            "Ce voisin n'a pas proposé son aide sur cette annonce.".into()
        }
        (Lang::En, NodeError::NoSuchHelper(_)) => {
            "This neighbour has not offered help on this post.".into()
        }
        (Lang::Fr, NodeError::DataDir(_)) => "Le dossier de données d'entraide pose problème : le terminal où tourne entraide dit lequel et quoi faire.".into(),
        (Lang::En, NodeError::DataDir(_)) => "entraide's data folder has a problem: the terminal running entraide says which one and what to do.".into(),
        (_, NodeError::Store(StoreError::DiskFull { .. })) => lang.t().error_disk_full.to_owned(),
        (Lang::Fr, NodeError::Store(StoreError::Write(_))) => "Ceci n'a pas pu être enregistré sur le disque. Réessayez ; le terminal où tourne entraide en dit plus.".into(),
        (Lang::En, NodeError::Store(StoreError::Write(_))) => "This could not be saved to disk. Try again; the terminal running entraide says more.".into(),
        (Lang::Fr, NodeError::Store(_)) => "La base de données d'entraide pose problème : le terminal où tourne entraide dit quoi faire.".into(),
        (Lang::En, NodeError::Store(_)) => "entraide's database has a problem: the terminal running entraide says what to do.".into(),
        (Lang::Fr, NodeError::Network(_)) => "Le réseau d'entraide n'a pas pu démarrer : le terminal où tourne entraide dit pourquoi.".into(),
        (Lang::En, NodeError::Network(_)) => "entraide's network could not start: the terminal running entraide says why.".into(),
        (Lang::Fr, NodeError::Dial { address, .. }) => format!("Impossible de joindre {address}."),
        (Lang::En, NodeError::Dial { address, .. }) => format!("Cannot reach {address}."),
        (Lang::Fr, NodeError::Stopped) => {
            "entraide est en train de s'arrêter : relancez-le, puis rechargez la page.".into()
        }
        (Lang::En, NodeError::Stopped) => {
            "entraide is stopping: start it again, then reload the page.".into()
        }
        (_, NodeError::NoSuchEntry { what, .. }) => super::public::no_such(lang, *what),
        (_, NodeError::AmbiguousEntry { what, typed }) => {
            super::public::ambiguous(lang, *what, typed)
        }
        (_, NodeError::Care(c)) => care_error(lang, c),
        (_, NodeError::Report(r)) => super::reporting::report_error(lang, r),
        (Lang::Fr, NodeError::NoSuchMember(typed)) => format!(
            "Aucun voisin ne s'appelle « {typed} » ici : choisissez-le dans la liste, ou donnez son empreinte."
        ),
        (Lang::En, NodeError::NoSuchMember(typed)) => format!(
            "No neighbour here is called “{typed}”: pick them from the list, or give their fingerprint."
        ),
        (Lang::Fr, NodeError::SeveralMembers(typed)) => format!(
            "Plusieurs voisins s'appellent « {typed} » : donnez plutôt son empreinte."
        ),
        (Lang::En, NodeError::SeveralMembers(typed)) => format!(
            "Several neighbours are called “{typed}”: give their fingerprint instead."
        ),
        (Lang::Fr, NodeError::Message(MessageError::Empty)) => "Le message est vide.".into(),
        (Lang::En, NodeError::Message(MessageError::Empty)) => "The message is empty.".into(),
        (Lang::Fr, NodeError::Message(MessageError::TooLong)) => format!(
            "Le message est trop long : {} caractères au plus (moins avec des émojis).",
            entraide_crdt::message::MAX_PRIVATE_MESSAGE_CHARS
        ),
        (Lang::En, NodeError::Message(MessageError::TooLong)) => format!(
            "The message is too long: at most {} characters (fewer with emoji).",
            entraide_crdt::message::MAX_PRIVATE_MESSAGE_CHARS
        ),
        (Lang::Fr, NodeError::Message(MessageError::NotParties)) => "Les messages privés se font entre l'auteur d'une annonce et un voisin qui y a répondu.".into(),
        (Lang::En, NodeError::Message(MessageError::NotParties)) => {
            "Private messages are between a post's author and a neighbour who responded to it."
                .into()
        }
        (Lang::Fr, NodeError::Message(MessageError::PostOpen)) => "Une conversation se supprime une fois l'annonce close (faite, retirée ou expirée).".into(),
        (Lang::En, NodeError::Message(MessageError::PostOpen)) => {
            "A conversation can be deleted once its post is closed (done, withdrawn or expired)."
                .into()
        }
        (Lang::Fr, NodeError::BlockSelf) => "Vous ne pouvez pas vous bloquer vous-même.".into(),
        (Lang::En, NodeError::BlockSelf) => "You cannot block yourself.".into(),
        (Lang::Fr, NodeError::TooManyBlocked) => format!(
            "Vous avez déjà bloqué {} personnes : débloquez-en une d'abord.",
            entraide_node::blocked::MAX_BLOCKED
        ),
        (Lang::En, NodeError::TooManyBlocked) => format!(
            "You already blocked {} people: unblock someone first.",
            entraide_node::blocked::MAX_BLOCKED
        ),
        (Lang::Fr, NodeError::NotBlocked(typed)) => {
            format!("Vous n'avez pas bloqué « {typed} ».")
        }
        (Lang::En, NodeError::NotBlocked(typed)) => format!("You have not blocked “{typed}”."),
        (Lang::Fr, NodeError::PostHidden) => "Vous avez bloqué l'auteur de cette annonce : débloquez-le dans les réglages pour la voir.".into(),
        (Lang::En, NodeError::PostHidden) => {
            "You blocked the author of this post: unblock them in the settings to see it.".into()
        }
        // Errors added to the node later.
        (_, _) => lang.t().error_generic.to_owned(),
    }
}

/// A refusal of the care register, in plain words.
pub(crate) fn care_error(lang: Lang, e: &CareError) -> String {
    let what = |code: &str| match (lang, code) {
        (Lang::Fr, "consent") => "L'accord",
        (Lang::Fr, "notes") => "Les notes",
        (Lang::Fr, _) => "Le mot pour le cercle",
        (Lang::En, "consent") => "The consent",
        (Lang::En, "notes") => "The notes",
        (Lang::En, _) => "The word for the circle",
    };
    match (lang, e) {
        (_, CareError::Text(t)) => text_error(lang, t),
        (Lang::Fr, CareError::NoConsent) => format!(
            "L'accord de la personne est obligatoire : dites qui l'a donné, comment et quand (au moins {MIN_CONSENT_CHARS} caractères)."
        ),
        (Lang::En, CareError::NoConsent) => format!(
            "The person's consent is required: say who gave it, how and when (at least {MIN_CONSENT_CHARS} characters)."
        ),
        (Lang::Fr, CareError::TooLong(code, max)) => {
            format!("{} : trop long ({max} caractères au plus).", what(code))
        }
        (Lang::En, CareError::TooLong(code, max)) => {
            format!("{}: too long (at most {max} characters).", what(code))
        }
        (Lang::Fr, CareError::Window(_)) => "Le créneau ne se lit pas : il doit commencer et finir le même jour, la fin après le début (par exemple de 09:00 à 11:00).".into(),
        (Lang::En, CareError::Window(_)) => "The time window cannot be read: it must start and end on the same day, the end after the start (for example from 09:00 to 11:00).".into(),
        (Lang::Fr, CareError::Circle(n)) => format!(
            "Un cercle compte de {MIN_CIRCLE} à {MAX_CIRCLE} voisins qui vérifient, pas {n} : cochez-en au moins {MIN_CIRCLE}."
        ),
        (Lang::En, CareError::Circle(n)) => format!(
            "A circle has {MIN_CIRCLE} to {MAX_CIRCLE} neighbours who check, not {n}: tick at least {MIN_CIRCLE}."
        ),
        (Lang::Fr, CareError::How(_)) => {
            "Dites comment vous avez eu des nouvelles : visite ou téléphone.".into()
        }
        (Lang::En, CareError::How(_)) => "Say how you checked: a visit or a phone call.".into(),
        (Lang::Fr, CareError::NoSuchRecord(_)) => "Cette personne n'est plus sur le registre, ou sa fiche n'est pas encore arrivée sur cet ordinateur.".into(),
        (Lang::En, CareError::NoSuchRecord(_)) => "This person is no longer on the register, or their record has not reached this computer yet.".into(),
        (Lang::Fr, CareError::AmbiguousRecord(_)) => "Plusieurs fiches correspondent : rechargez la page et recommencez.".into(),
        (Lang::En, CareError::AmbiguousRecord(_)) => "Several records match: reload the page and try again.".into(),
        (Lang::Fr, CareError::NotTheSubject) => "Seule la personne elle-même peut dire « Je vais bien » ; si vous êtes passé ou avez appelé, dites-le avec « Vu, ça va ».".into(),
        (Lang::En, CareError::NotTheSubject) => "Only the person themselves can say “I am fine”; if you visited or called, say so with “Seen, fine”.".into(),
        (Lang::Fr, CareError::NotInCircle) => {
            "Vous n'êtes pas dans le cercle de cette personne.".into()
        }
        (Lang::En, CareError::NotInCircle) => "You are not in this person's circle.".into(),
        (Lang::Fr, CareError::Seal(_)) => "La fiche n'a pas pu être chiffrée pour le cercle (un voisin du cercle a peut-être une identité abîmée). Rien n'est enregistré.".into(),
        (Lang::En, CareError::Seal(_)) => "The record could not be encrypted for the circle (a neighbour of the circle may have a damaged identity). Nothing was saved.".into(),
        // A refusal added to the register later.
        (_, _) => lang.t().error_generic.to_owned(),
    }
}

/// Where one person's check stands today, in a word or two (the badge of a record).
pub(crate) fn care_state(lang: Lang, s: CheckState) -> &'static str {
    match (lang, s) {
        (Lang::Fr, CheckState::NotFine) => "Ne va pas bien",
        (Lang::Fr, CheckState::Escalated) => "Personne n'est passé",
        (Lang::Fr, CheckState::Missed) => "Pas encore de nouvelles",
        (Lang::Fr, CheckState::Taken) => "Quelqu'un y va",
        (Lang::Fr, CheckState::Due) => "À vérifier maintenant",
        (Lang::Fr, CheckState::Upcoming) => "À vérifier plus tard",
        (Lang::Fr, CheckState::Checked) => "Va bien",
        (Lang::Fr, CheckState::NoAlert) => "Pas d'alerte",
        (Lang::En, CheckState::NotFine) => "Not fine",
        (Lang::En, CheckState::Escalated) => "Nobody went",
        (Lang::En, CheckState::Missed) => "No news yet",
        (Lang::En, CheckState::Taken) => "Someone is going",
        (Lang::En, CheckState::Due) => "To check now",
        (Lang::En, CheckState::Upcoming) => "To check later",
        (Lang::En, CheckState::Checked) => "Fine",
        (Lang::En, CheckState::NoAlert) => "No alert",
    }
}

/// How a check was made, as a choice and in a sentence.
pub(crate) fn care_how(lang: Lang, how: CheckHow) -> &'static str {
    match (lang, how) {
        (Lang::Fr, CheckHow::Myself) => "par la personne elle-même",
        (Lang::Fr, CheckHow::Visit) => "visite",
        (Lang::Fr, CheckHow::Phone) => "appel",
        (Lang::En, CheckHow::Myself) => "by the person themselves",
        (Lang::En, CheckHow::Visit) => "visit",
        (Lang::En, CheckHow::Phone) => "phone call",
    }
}

/// What a record's line says besides its state: all plain text, worked out by the page.
#[derive(Debug, Default)]
pub(crate) struct CareFacts<'a> {
    /// The person's name.
    pub(crate) name: &'a str,
    /// `09:00`, `11:00`: today's window.
    pub(crate) start: String,
    pub(crate) end: String,
    /// Who checked, or who is going (a name or a fingerprint).
    pub(crate) by: String,
    /// When they checked or took it ("5 min ago").
    pub(crate) when: String,
    /// How they checked.
    pub(crate) how: &'static str,
    /// When a missed check goes public ("in 25 min").
    pub(crate) escalates: String,
}

/// Today's state of one person, in a sentence.
pub(crate) fn care_line(lang: Lang, state: CheckState, f: &CareFacts<'_>) -> String {
    let CareFacts {
        name,
        start,
        end,
        by,
        when,
        how,
        escalates,
    } = f;
    match (lang, state) {
        (Lang::Fr, CheckState::NotFine) => format!(
            "{name} ne va pas bien : {by} l'a signalé {when} ({how}). Il faut quelqu'un maintenant."
        ),
        (Lang::Fr, CheckState::Escalated) => format!(
            "Personne n'a vérifié que {name} va bien aujourd'hui. Une demande de visite urgente est sur le tableau."
        ),
        (Lang::Fr, CheckState::Missed) => format!(
            "Personne n'a vérifié que {name} va bien aujourd'hui. Si personne n'y va, une demande publique partira {escalates}."
        ),
        (Lang::Fr, CheckState::Taken) => {
            format!("Personne n'avait vérifié que {name} va bien : {by} y va ({when}).")
        }
        (Lang::Fr, CheckState::Due) => {
            format!("Prenez des nouvelles de {name} maintenant, avant {end}.")
        }
        (Lang::Fr, CheckState::Upcoming) => {
            format!("Prenez des nouvelles de {name} aujourd'hui entre {start} et {end}.")
        }
        (Lang::Fr, CheckState::Checked) => format!("{name} va bien : {by}, {when} ({how})."),
        (Lang::Fr, CheckState::NoAlert) => format!(
            "Pas d'alerte : rien à vérifier pour {name} aujourd'hui (créneau de {start} à {end})."
        ),
        (Lang::En, CheckState::NotFine) => {
            format!("{name} is not fine: {by} said so {when} ({how}). Someone is needed now.")
        }
        (Lang::En, CheckState::Escalated) => {
            format!("Nobody has checked on {name} today. An urgent visit request is on the board.")
        }
        (Lang::En, CheckState::Missed) => format!(
            "Nobody has checked on {name} today. If nobody goes, a public request goes out {escalates}."
        ),
        (Lang::En, CheckState::Taken) => {
            format!("Nobody had checked on {name}: {by} is going ({when}).")
        }
        (Lang::En, CheckState::Due) => format!("Check on {name} now, before {end}."),
        (Lang::En, CheckState::Upcoming) => {
            format!("Check on {name} today between {start} and {end}.")
        }
        (Lang::En, CheckState::Checked) => format!("{name} is fine: {by}, {when} ({how})."),
        (Lang::En, CheckState::NoAlert) => {
            format!("No alert: nothing to check for {name} today (window {start} to {end}).")
        }
    }
}

/// The strip at the top of every page about one person who needs someone.
pub(crate) fn care_strip(lang: Lang, name: &str, not_fine: bool) -> String {
    match (lang, not_fine) {
        (Lang::Fr, true) => format!("{name} ne va pas bien."),
        (Lang::Fr, false) => format!("Personne n'a vérifié que {name} va bien aujourd'hui."),
        (Lang::En, true) => format!("{name} is not fine."),
        (Lang::En, false) => format!("Nobody has checked on {name} today."),
    }
}

/// A write the board refused, in plain words.
pub(crate) fn write_error(lang: Lang, e: &WriteError) -> String {
    match (lang, e) {
        (_, WriteError::Text(t)) => text_error(lang, t),
        (_, WriteError::UnknownPost(_)) => lang.t().post_not_found.to_owned(),
        (Lang::Fr, WriteError::NotYourFeed) => {
            "Ce n'est pas votre annonce : seule la personne qui l'a publiée peut la changer."
                .into()
        }
        (Lang::En, WriteError::NotYourFeed) => {
            "This is not your post: only its author can change it.".into()
        }
        (Lang::Fr, WriteError::Closed(_, state)) => match closed_status(lang, state) {
            Some(s) => format!("Cette annonce est déjà {s} : elle ne change plus."),
            None => "Cette annonce est close : elle ne change plus.".into(),
        },
        (Lang::En, WriteError::Closed(_, state)) => match closed_status(lang, state) {
            Some(s) => format!("This post is already {s}: it no longer changes."),
            None => "This post is closed: it no longer changes.".into(),
        },
        (Lang::Fr, WriteError::OwnPost) => {
            "Vous ne pouvez pas proposer votre aide sur votre propre annonce.".into()
        }
        (Lang::En, WriteError::OwnPost) => "You cannot offer help on your own post.".into(),
        (Lang::Fr, WriteError::ThisDeviceRemoved) => "Cet appareil a été retiré de vos appareils : ce qu'il écrit est refusé partout. Pour vous en resservir, reliez-le de nouveau (voir le guide, « Plusieurs appareils »).".into(),
        (Lang::En, WriteError::ThisDeviceRemoved) => "This device was removed from your devices: what it writes is refused everywhere. To use it again, link it again (see the guide, \"Several devices\").".into(),
        (Lang::Fr, WriteError::NotAHelper(helper)) => format!(
            "{} n'a pas proposé son aide sur cette annonce.",
            helper.fmt_short()
        ),
        (Lang::En, WriteError::NotAHelper(helper)) => format!(
            "{} has not offered help on this post.",
            helper.fmt_short()
        ),
        (Lang::Fr, WriteError::DuplicatePost) => {
            "Une annonce avec le même identifiant existe déjà : réessayez.".into()
        }
        (Lang::En, WriteError::DuplicatePost) => {
            "A post with the same id already exists: try again.".into()
        }
        (Lang::Fr, WriteError::FeedFull { size, max }) => format!(
            "Votre place sur le tableau est pleine ({} sur {}) : aucun nœud n'en accepterait davantage. Clôturez ou retirez les annonces dont vous n'avez plus besoin et effacez les anciennes conversations : les annonces closes quittent tous les nœuds après le délai de conservation, ce qui refait de la place.",
            megabytes(lang, *size),
            megabytes(lang, *max)
        ),
        (Lang::En, WriteError::FeedFull { size, max }) => format!(
            "Your space on the board is full ({} of {}): no node would accept more. Close or withdraw the posts you no longer need and delete old conversations: closed posts leave every node after the retention period, which makes room again.",
            megabytes(lang, *size),
            megabytes(lang, *max)
        ),
        (Lang::Fr, WriteError::NothingChanged) => {
            "Rien à changer : c'est déjà ce qui est enregistré.".into()
        }
        (Lang::En, WriteError::NothingChanged) => {
            "Nothing to change: that is already what it says.".into()
        }
        (Lang::Fr, WriteError::Document(_)) => "Le tableau a refusé d'enregistrer ceci (une erreur d'entraide, pas la vôtre). Réessayez ; si cela continue, redémarrez entraide.".into(),
        (Lang::En, WriteError::Document(_)) => "The board refused to save this (a fault in entraide, not yours). Try again; if it goes on, restart entraide.".into(),
        (_, WriteError::Entry(e)) => super::public::entry_error(lang, e),
        (_, WriteError::Authority(a)) => super::stewards::authority_error(lang, a),
        (_, WriteError::Excluded) => super::stewards::excluded_error(lang),
        // A refusal added to the board later.
        (_, _) => lang.t().error_generic.to_owned(),
    }
}

/// "3,1 Mo", "3.1 MB": a feed's size (in MiB, as the limits are).
fn megabytes(lang: Lang, bytes: usize) -> String {
    let amount = format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
    match lang {
        Lang::Fr => format!("{} Mo", amount.replace('.', ",")),
        Lang::En => format!("{amount} MB"),
    }
}

/// "terminée", "withdrawn": the status a closed post is in (`WriteError::Closed` carries
/// its code).
fn closed_status(lang: Lang, code: &str) -> Option<String> {
    [Status::Done, Status::Withdrawn, Status::Expired]
        .into_iter()
        .find(|s| s.as_str() == code)
        .map(|s| status(lang, s).to_lowercase())
}

/// "5 min ago" / "il y a 5 min".
pub(crate) fn relative(lang: Lang, at: i64, now: i64) -> String {
    let t = lang.t();
    let delta = now - at;
    let amount = delta.unsigned_abs();
    let text = match amount {
        0..=59 => return t.just_now.into(),
        60..=3599 => format!("{} min", amount / 60),
        3600..=86_399 => format!("{} h", amount / 3600),
        _ => match lang {
            Lang::Fr => format!("{} j", amount / 86_400),
            Lang::En => format!("{} d", amount / 86_400),
        },
    };
    if delta < 0 {
        (t.in_future)(&text)
    } else {
        (t.ago)(&text)
    }
}

/// "synchronised with 4 neighbours, 2 minutes ago".
/// A count with the language's thousands separator: `1 990` (a narrow no-break space) in
/// French, `1,990` in English.
pub(crate) fn number(lang: Lang, n: usize) -> String {
    let digits = n.to_string();
    let sep = match lang {
        Lang::Fr => "\u{202f}",
        Lang::En => ",",
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// The line every page shows while this computer's clock disagrees with most neighbours'.
pub(crate) fn clock_warning(lang: Lang, ahead_secs: i64, neighbours: usize) -> String {
    use crate::output::ClockUnit;
    let (n, unit) = crate::output::clock_span(ahead_secs);
    let (unit_fr, unit_en) = match unit {
        ClockUnit::Day => ("jour", "day"),
        ClockUnit::Hour => ("heure", "hour"),
        ClockUnit::Minute => ("minute", "minute"),
    };
    let plural = if n > 1 { "s" } else { "" };
    match (lang, ahead_secs > 0, neighbours) {
        (Lang::Fr, ahead, count) => format!(
            "L'horloge de cet ordinateur semble fausse : elle {} d'environ {n} {unit_fr}{plural} sur celle {}. Les heures des annonces et leur expiration peuvent paraître fausses : réglez la date et l'heure de l'ordinateur.",
            if ahead { "avance" } else { "retarde" },
            if count > 1 {
                format!("de vos voisins ({count} d'entre eux)")
            } else {
                "de votre voisin".to_owned()
            }
        ),
        (Lang::En, ahead, count) => format!(
            "This computer's clock looks wrong: it is about {n} {unit_en}{plural} {} {}. Times and expiry of posts may look wrong: set the computer's date and time right.",
            if ahead { "ahead of" } else { "behind" },
            if count > 1 {
                format!("your neighbours' ({count} of them)")
            } else {
                "your neighbour's".to_owned()
            }
        ),
    }
}

pub(crate) fn synced_with(lang: Lang, peers: usize, when: &str) -> String {
    match (lang, peers) {
        (Lang::Fr, 0 | 1) => format!("Synchronisé avec 1 voisin, {when}"),
        (Lang::Fr, n) => format!("Synchronisé avec {n} voisins, {when}"),
        (Lang::En, 0 | 1) => format!("Synced with 1 neighbour, {when}"),
        (Lang::En, n) => format!("Synced with {n} neighbours, {when}"),
    }
}

/// The strings of the pop-up board (`ui::popup`): the guests' join page and the poster.
#[derive(Debug)]
pub(crate) struct PopupStrings {
    pub(crate) join_title: &'static str,
    /// Before the host's name: "a board hosted on the computer of".
    pub(crate) join_intro_before: &'static str,
    /// After the host's name: what hosting means, and that posts stay.
    pub(crate) join_intro_after: &'static str,
    pub(crate) join_name: &'static str,
    pub(crate) join_name_hint: &'static str,
    pub(crate) join_button: &'static str,
    pub(crate) join_wrong: &'static str,
    pub(crate) join_ended: &'static str,
    pub(crate) join_none: &'static str,
    pub(crate) join_full: &'static str,
    pub(crate) join_throttled: &'static str,
    pub(crate) join_name_taken: &'static str,
    pub(crate) refused_title: &'static str,
    pub(crate) poster_title: &'static str,
    pub(crate) poster_heading: &'static str,
    pub(crate) poster_what: &'static str,
    pub(crate) poster_how: &'static str,
    /// Before the Wi-Fi's name.
    pub(crate) poster_wifi: &'static str,
    pub(crate) poster_wifi_unknown: &'static str,
    pub(crate) poster_scan: &'static str,
    pub(crate) poster_qr_alt: &'static str,
    pub(crate) poster_numbers: &'static str,
    pub(crate) poster_made: &'static str,
    pub(crate) poster_print: &'static str,
    pub(crate) poster_print_hint: &'static str,
    pub(crate) poster_none: &'static str,
    pub(crate) poster_ended: &'static str,
    pub(crate) poster_host_title: &'static str,
    pub(crate) poster_host_text: &'static str,
    pub(crate) poster_replace: &'static str,
    pub(crate) poster_replaced: &'static str,
    pub(crate) poster_end: &'static str,
}

static POPUP_FR: PopupStrings = PopupStrings {
    join_title: "Rejoindre le tableau d'entraide",
    join_intro_before: "Ceci est un tableau d'entraide entre voisins, hébergé sur l'ordinateur de",
    join_intro_after: "qui peut donc agir en votre nom. Vos annonces restent sur le tableau après la fin du tableau éphémère.",
    join_name: "Votre nom",
    join_name_hint: "Celui que vos voisins verront, par exemple « Zoé, 3e étage ».",
    join_button: "Rejoindre",
    join_wrong: "Cette adresse n'est pas, ou plus, valable : scannez à nouveau le QR code de l'affiche.",
    join_ended: "Le tableau éphémère est terminé : on ne peut plus le rejoindre. Les annonces publiées restent sur le tableau.",
    join_none: "Aucun tableau éphémère n'est ouvert sur cet ordinateur.",
    join_full: "Le tableau éphémère est complet : cet ordinateur accueille déjà autant de personnes qu'il le peut. Demandez à la personne qui l'héberge.",
    join_throttled: "Trop d'inscriptions depuis cet appareil ou en ce moment : attendez quelques minutes avant de réessayer.",
    join_name_taken: "Ce nom est déjà pris ici : ajoutez une initiale ou votre étage.",
    refused_title: "Impossible de rejoindre",
    poster_title: "Affiche du tableau éphémère",
    poster_heading: "Entraide entre voisins",
    poster_what: "Besoin d'un coup de main, ou envie d'en donner un ? Publiez-le ici : vos voisins le voient et répondent.",
    poster_how: "Ni compte ni appli : votre nom suffit, depuis votre téléphone.",
    poster_wifi: "Connectez-vous au Wi-Fi",
    poster_wifi_unknown: "Connectez-vous au Wi-Fi de ce lieu (demandez lequel autour de vous).",
    poster_scan: "Scannez ce code avec l'appareil photo, puis tapez votre nom.",
    poster_qr_alt: "QR code pour rejoindre le tableau éphémère",
    poster_numbers: "Numéros d'urgence",
    poster_made: "Affiche faite le",
    poster_print: "Imprimer",
    poster_print_hint: "Imprimez cette page (Ctrl+P) ou laissez-la affichée sur un écran.",
    poster_none: "Aucun tableau éphémère n'est ouvert. Pour en ouvrir un, arrêtez entraide (Ctrl+C) puis relancez-le ainsi, avec le nom de votre Wi-Fi :",
    poster_ended: "Le tableau éphémère est terminé : personne ne peut plus le rejoindre. Les invités déjà connectés le restent, et leurs annonces restent sur le tableau. Pour en ouvrir un autre, relancez entraide ainsi :",
    poster_host_title: "Pour vous, qui hébergez",
    poster_host_text: "Chaque invité publie sous son nom et avec sa propre clé, mais cet ordinateur détient ces clés : vous pourriez agir en son nom. Changer le code rend l'affiche actuelle inutilisable ; terminer empêche toute nouvelle inscription.",
    poster_replace: "Changer le code (l'ancien QR code ne marchera plus)",
    poster_replaced: "Nouveau code : l'ancienne affiche ne marche plus, imprimez celle-ci.",
    poster_end: "Terminer le tableau éphémère",
};

static POPUP_EN: PopupStrings = PopupStrings {
    join_title: "Join the mutual-aid board",
    join_intro_before: "This is a neighbourhood mutual-aid board, hosted on the computer of",
    join_intro_after: "who can therefore act as you. Your posts stay on the board after the pop-up board ends.",
    join_name: "Your name",
    join_name_hint: "The one your neighbours will see, for example “Zoe, 3rd floor”.",
    join_button: "Join",
    join_wrong: "This address is not valid, or no longer: scan the QR code on the poster again.",
    join_ended: "The pop-up board has ended: nobody can join any more. The posts made stay on the board.",
    join_none: "No pop-up board is open on this computer.",
    join_full: "The pop-up board is full: this computer already hosts as many people as it can. Ask the person hosting it.",
    join_throttled: "Too many sign-ups from this device or right now: wait a few minutes before trying again.",
    join_name_taken: "This name is already taken here: add an initial or your floor.",
    refused_title: "Cannot join",
    poster_title: "Pop-up board poster",
    poster_heading: "Neighbours helping neighbours",
    poster_what: "Need a hand, or able to give one? Post it here: your neighbours see it and answer.",
    poster_how: "No account, no app: just your name, from your phone.",
    poster_wifi: "Join the Wi-Fi",
    poster_wifi_unknown: "Join this place's Wi-Fi (ask around which one).",
    poster_scan: "Scan this code with your camera, then type your name.",
    poster_qr_alt: "QR code to join the pop-up board",
    poster_numbers: "Emergency numbers",
    poster_made: "Poster made on",
    poster_print: "Print",
    poster_print_hint: "Print this page (Ctrl+P) or leave it on a screen.",
    poster_none: "No pop-up board is open. To open one, stop entraide (Ctrl+C) and start it again like this, with the name of your Wi-Fi:",
    poster_ended: "The pop-up board has ended: nobody can join any more. Guests already signed in stay so, and their posts stay on the board. To open another one, start entraide again like this:",
    poster_host_title: "For you, the host",
    poster_host_text: "Each guest posts under their own name with their own key, but this computer holds those keys: you could act as them. Replacing the code makes the current poster useless; ending stops anyone new from joining.",
    poster_replace: "Replace the code (the old QR code stops working)",
    poster_replaced: "New code: the old poster no longer works; print this one.",
    poster_end: "End the pop-up board",
};

impl Lang {
    /// The pop-up board's strings.
    pub(crate) fn popup(self) -> &'static PopupStrings {
        match self {
            Lang::Fr => &POPUP_FR,
            Lang::En => &POPUP_EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_each_language_s_thousands_separator() {
        assert_eq!(number(Lang::En, 7), "7");
        assert_eq!(number(Lang::En, 1_990), "1,990");
        assert_eq!(number(Lang::En, 1_234_567), "1,234,567");
        assert_eq!(number(Lang::Fr, 1_990), "1\u{202f}990");
        assert_eq!(number(Lang::Fr, 100), "100");
    }

    #[test]
    fn accept_language_picks_french_or_english() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("fr-FR,fr;q=0.9,en;q=0.8"),
            Lang::Fr
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,fr;q=0.7"),
            Lang::Fr
        );
        assert_eq!(Lang::from_accept_language("de-DE,en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::Fr);
    }

    /// Every error the page may show, one of each kind.
    fn every_node_error() -> Vec<NodeError> {
        use std::path::PathBuf;

        use entraide_node::data_dir::DataDirError;
        use entraide_node::net::NetError;

        let mut all: Vec<NodeError> = every_write_error()
            .into_iter()
            .map(NodeError::Write)
            .collect();
        all.extend([
            NodeError::NoSuchPost("ffff".into()),
            NodeError::AmbiguousPost("c".into()),
            NodeError::NoSuchHelper("karim (several match)".into()),
            NodeError::DataDir(DataDirError::NotInitialized(PathBuf::from("/tmp/x"))),
            NodeError::Store(StoreError::DiskFull {
                path: "/tmp/x".into(),
            }),
            NodeError::Store(StoreError::Write("no space".into())),
            NodeError::Store(StoreError::Locked("/tmp/x".into())),
            NodeError::Network(NetError::InvalidCommunityTag("x".into())),
            NodeError::Dial {
                address: "/ip4/192.0.2.1/tcp/4747".into(),
                source: Box::new(libp2p::swarm::DialError::Aborted),
            },
            NodeError::Stopped,
            NodeError::NoSuchMember("karim".into()),
            NodeError::SeveralMembers("karim".into()),
            NodeError::Message(MessageError::Empty),
            NodeError::Message(MessageError::TooLong),
            NodeError::Message(MessageError::NotParties),
            NodeError::Message(MessageError::PostOpen),
            NodeError::BlockSelf,
            NodeError::TooManyBlocked,
            NodeError::NotBlocked("karim".into()),
            NodeError::PostHidden,
        ]);
        all.extend(super::super::public::every_entry_node_error());
        all.extend(every_care_error().into_iter().map(NodeError::Care));
        all
    }

    /// Every refusal of the care register, one of each kind.
    fn every_care_error() -> Vec<CareError> {
        use entraide_crdt::AuthorId;
        use entraide_crdt::sealed::SealError;

        vec![
            CareError::Text(TextError::Empty { field: Field::Name }),
            CareError::Text(TextError::PhoneNumber { field: Field::Area }),
            CareError::NoConsent,
            CareError::TooLong("consent", 200),
            CareError::TooLong("notes", 500),
            CareError::TooLong("note", 500),
            CareError::Window("25:00-26:00".into()),
            CareError::Circle(1),
            CareError::How("telepathy".into()),
            CareError::NoSuchRecord("abcd".into()),
            CareError::AmbiguousRecord("a".into()),
            CareError::NotTheSubject,
            CareError::NotInCircle,
            CareError::Seal(SealError::Recipients(0)),
            CareError::Seal(SealError::TooLong(1)),
            CareError::Seal(SealError::BadRecipient(AuthorId([0; 32]))),
        ]
    }

    #[test]
    fn every_care_error_is_said_in_both_languages() {
        for e in every_care_error() {
            let english = e.to_string();
            let (fr, en) = (care_error(Lang::Fr, &e), care_error(Lang::En, &e));
            assert!(!fr.is_empty() && !en.is_empty(), "{e:?}");
            assert_ne!(fr, en, "{e:?} is not translated");
            assert!(!fr.contains(&english), "{e:?}: {fr}");
            assert_ne!(fr, FR.error_generic, "{e:?}");
            assert_ne!(en, EN.error_generic, "{e:?}");
            // The command line's words never reach the page.
            assert!(!en.contains("--how"), "{e:?}: {en}");
        }
        // What was typed is not echoed where the page has its own words for it.
        let e = CareError::Window("<b>".into());
        assert!(!care_error(Lang::Fr, &e).contains("<b>"));
        // The three private texts are named apart.
        let named: std::collections::BTreeSet<String> = ["consent", "notes", "note"]
            .into_iter()
            .map(|c| care_error(Lang::Fr, &CareError::TooLong(c, 10)))
            .collect();
        assert_eq!(named.len(), 3);
    }

    #[test]
    fn every_care_state_is_said_in_both_languages() {
        use CheckState as S;

        let facts = CareFacts {
            name: "Mme Martin",
            start: "09:00".into(),
            end: "11:00".into(),
            by: "Karim".into(),
            when: "5 min".into(),
            how: care_how(Lang::Fr, CheckHow::Visit),
            escalates: "dans 20 min".into(),
        };
        let all = [
            S::NotFine,
            S::Escalated,
            S::Missed,
            S::Taken,
            S::Due,
            S::Upcoming,
            S::Checked,
            S::NoAlert,
        ];
        let mut badges = std::collections::BTreeSet::new();
        for s in all {
            assert_ne!(care_state(Lang::Fr, s), care_state(Lang::En, s), "{s:?}");
            badges.insert(care_state(Lang::Fr, s));
            let (fr, en) = (
                care_line(Lang::Fr, s, &facts),
                care_line(Lang::En, s, &facts),
            );
            assert_ne!(fr, en, "{s:?}");
            assert!(
                fr.contains("Mme Martin") && en.contains("Mme Martin"),
                "{s:?}"
            );
        }
        assert_eq!(badges.len(), all.len(), "two states share a badge");
        for how in [CheckHow::Myself, CheckHow::Visit, CheckHow::Phone] {
            assert_ne!(care_how(Lang::Fr, how), care_how(Lang::En, how));
        }
        assert!(care_line(Lang::Fr, S::Due, &facts).contains("11:00"));
        assert!(care_line(Lang::Fr, S::Missed, &facts).contains("dans 20 min"));
        assert_eq!(
            care_strip(Lang::Fr, "Mme Martin", false),
            "Personne n'a vérifié que Mme Martin va bien aujourd'hui."
        );
        assert_eq!(
            care_strip(Lang::En, "Mme Martin", true),
            "Mme Martin is not fine."
        );
    }

    fn every_write_error() -> Vec<WriteError> {
        use entraide_crdt::{AuthorId, PostId};

        let post: PostId = "0123456789abcdef".parse().unwrap();
        let mut all: Vec<WriteError> = every_text_error()
            .into_iter()
            .map(WriteError::Text)
            .collect();
        all.extend([
            WriteError::NotYourFeed,
            WriteError::UnknownPost(post),
            WriteError::Closed(post, "done"),
            WriteError::Closed(post, "withdrawn"),
            WriteError::Closed(post, "expired"),
            WriteError::Closed(post, "something new"),
            WriteError::OwnPost,
            WriteError::NotAHelper(AuthorId([7; 32])),
            WriteError::DuplicatePost,
            WriteError::FeedFull {
                size: 3_146_000,
                max: 3_145_728,
            },
            WriteError::Document("automerge said no".into()),
        ]);
        all.extend(
            super::super::public::every_entry_error()
                .into_iter()
                .map(WriteError::Entry),
        );
        all
    }

    fn every_text_error() -> Vec<TextError> {
        let mut all = vec![
            TextError::Expiry { max_days: 1 },
            TextError::Expiry { max_days: 90 },
            TextError::AlertEnd { max_days: 14 },
            TextError::NamesAPerson {
                field: Field::Note,
                word: "Marie".into(),
            },
            TextError::DescribesAPerson {
                field: Field::Area,
                word: "beard".into(),
            },
            TextError::NoConsent { min: 8 },
            TextError::NoNeighbour,
        ];
        for field in [
            Field::Title,
            Field::Details,
            Field::Area,
            Field::Name,
            Field::Message,
            Field::Note,
            Field::Neighbour,
            Field::Consent,
        ] {
            all.extend([
                TextError::Empty { field },
                TextError::TooLong {
                    field,
                    len: 121,
                    max: 120,
                },
                TextError::PhoneNumber { field },
                TextError::Email { field },
                TextError::ControlCharacters { field },
            ]);
        }
        all
    }

    #[test]
    fn every_node_error_is_said_in_both_languages() {
        for e in every_node_error() {
            let english = e.to_string();
            let (fr, en) = (node_error(Lang::Fr, &e), node_error(Lang::En, &e));
            assert!(!fr.is_empty() && !en.is_empty(), "{e:?}");
            assert_ne!(fr, en, "{e:?} is not translated");
            // The node's own (English) message never reaches a French page.
            assert!(!fr.contains(&english), "{e:?}: {fr}");
            assert!(!fr.contains("several match"), "{e:?}: {fr}");
            // Nor the generic sentence, when the error has words of its own.
            assert_ne!(fr, FR.error_generic, "{e:?}");
        }
        assert!(node_error(Lang::Fr, &NodeError::Stopped).contains("s'arrêter"));
        assert_eq!(
            node_error(
                Lang::Fr,
                &NodeError::Store(StoreError::DiskFull {
                    path: "/tmp".into()
                })
            ),
            FR.error_disk_full
        );
    }

    #[test]
    fn every_write_error_is_said_in_both_languages() {
        for e in every_write_error() {
            let (fr, en) = (write_error(Lang::Fr, &e), write_error(Lang::En, &e));
            assert_ne!(fr, en, "{e:?} is not translated");
            assert!(!fr.contains(&e.to_string()), "{e:?}: {fr}");
            assert_ne!(fr, FR.error_generic, "{e:?}");
        }
        let post = "0123456789abcdef".parse().unwrap();
        assert_eq!(
            write_error(Lang::Fr, &WriteError::Closed(post, "withdrawn")),
            "Cette annonce est déjà retirée : elle ne change plus."
        );
        assert_eq!(
            write_error(Lang::En, &WriteError::Closed(post, "done")),
            "This post is already done: it no longer changes."
        );
        let full = WriteError::FeedFull {
            size: 3_146_000,
            max: 3_145_728,
        };
        assert!(write_error(Lang::Fr, &full).contains("(3,0 Mo sur 3,0 Mo)"));
        assert!(write_error(Lang::En, &full).contains("Close or withdraw the posts"));
    }

    #[test]
    fn every_text_error_is_said_in_both_languages() {
        for e in every_text_error() {
            let (fr, en) = (text_error(Lang::Fr, &e), text_error(Lang::En, &e));
            assert_ne!(fr, en, "{e:?} is not translated");
            assert!(!fr.contains(&e.to_string()), "{e:?}: {fr}");
        }
    }

    #[test]
    fn counts_agree_with_their_word() {
        let posts = EN.posts;
        assert_eq!(count(Lang::En, 0, posts), "0 posts");
        assert_eq!(count(Lang::En, 1, posts), "1 post");
        assert_eq!(count(Lang::En, 2, posts), "2 posts");
        let posts = FR.posts;
        assert_eq!(count(Lang::Fr, 0, posts), "0 annonce");
        assert_eq!(count(Lang::Fr, 1, posts), "1 annonce");
        assert_eq!(count(Lang::Fr, 2, posts), "2 annonces");
        assert_eq!(count(Lang::Fr, 1, FR.feeds), "1 voisin");
        assert_eq!(count(Lang::En, 3, EN.feeds), "3 residents");
    }

    #[test]
    fn a_refused_filter_is_said_in_both_languages() {
        use entraide_node::api::BoardQuery;

        for query in ["author=nope", "kind=foo", "all=maybe"] {
            let e = BoardQuery::from_query(query).unwrap_err();
            assert_ne!(query_error(Lang::Fr, &e), query_error(Lang::En, &e));
        }
        let e = BoardQuery::from_query("author=nope").unwrap_err();
        assert_eq!(query_error(Lang::Fr, &e), FR.error_unknown_author);
    }

    #[test]
    fn relative_times_in_both_languages() {
        assert_eq!(relative(Lang::Fr, 0, 300), "il y a 5 min");
        assert_eq!(relative(Lang::En, 0, 300), "5 min ago");
        assert_eq!(relative(Lang::Fr, 7200, 0), "dans 2 h");
        assert_eq!(relative(Lang::En, 0, 10), "just now");
    }
}

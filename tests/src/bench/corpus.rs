//! Realistic, seeded posts: varied titles and details in French and English, as neighbours
//! write them. The same seed gives the same corpus on every run.

use entraide_crdt::{AuthorKey, Board, Category, DeviceId, Kind, PostDraft, Urgency, Writer};

/// A small deterministic generator (xorshift64*): no dependency, same numbers everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// One item of a slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// 8 random bytes.
    pub fn bytes8(&mut self) -> [u8; 8] {
        self.next_u64().to_be_bytes()
    }

    /// 32 random bytes.
    pub fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_be_bytes());
        }
        out
    }
}

const VERBS: &[&str] = &[
    "Monter",
    "Porter",
    "Chercher",
    "Récupérer",
    "Déposer",
    "Réparer",
    "Prêter",
    "Garder",
    "Carry",
    "Fetch",
    "Pick up",
    "Drop off",
    "Fix",
    "Lend",
    "Mind",
    "Bring",
];
const OBJECTS: &[&str] = &[
    "des packs d'eau au 4e étage",
    "les courses du marché",
    "une perceuse pour l'après-midi",
    "un colis à la poste",
    "le chat pendant le week-end",
    "une lampe qui ne marche plus",
    "des médicaments à la pharmacie",
    "un formulaire de la CAF",
    "du pain et du lait",
    "a few bottles of water to the 5th floor",
    "groceries from the corner shop",
    "a ladder for an hour",
    "a parcel from the post office",
    "the dog for a short walk",
    "a radiator that leaks",
    "a letter from the tax office",
];
const WHEN: &[&str] = &[
    "ce soir",
    "demain matin",
    "samedi",
    "avant midi",
    "cette semaine",
    "tonight",
    "tomorrow morning",
    "on Saturday",
    "before noon",
    "this week",
    "",
];
const SENTENCES: &[&str] = &[
    "L'ascenseur est en panne depuis lundi.",
    "Je ne peux plus porter de charges lourdes.",
    "Je peux rendre la pareille avec des confitures maison.",
    "Sonnez deux fois, j'entends mal.",
    "C'est assez urgent avec la chaleur.",
    "The lift has been broken since Monday.",
    "I can't carry heavy things any more.",
    "Happy to return the favour with a cake.",
    "Please knock twice, I don't hear the bell well.",
    "It is rather urgent with this heat.",
    "Merci d'avance à qui pourra aider.",
    "Thanks in advance to whoever can help.",
];
const AREAS: &[&str] = &[
    "Bât. A",
    "Bât. B",
    "Bât. C",
    "Résidence des Tilleuls",
    "rue des Lilas",
    "place du Marché",
    "Building D",
    "Elm Street",
    "",
];

/// A post as a neighbour would write it.
pub fn draft(rng: &mut Rng) -> PostDraft {
    let when = rng.pick(WHEN);
    let mut title = format!("{} {}", rng.pick(VERBS), rng.pick(OBJECTS));
    if !when.is_empty() {
        title = format!("{title} {when}");
    }
    let details: Vec<&str> = (0..rng.below(4)).map(|_| *rng.pick(SENTENCES)).collect();
    PostDraft {
        kind: if rng.below(4) == 0 {
            Kind::Offer
        } else {
            Kind::Request
        },
        category: *rng.pick(Category::ALL),
        title,
        details: details.join(" "),
        urgency: *rng.pick(&[
            Urgency::Today,
            Urgency::Week,
            Urgency::Week,
            Urgency::Whenever,
        ]),
        area: rng.pick(AREAS).to_string(),
        expires_at: None,
        on_behalf_of: None,
    }
}

/// `authors` writers with names, from the seed.
pub fn writers(rng: &mut Rng, authors: usize) -> Vec<Writer> {
    (0..authors)
        .map(|_| Writer::new(AuthorKey::from_seed(rng.bytes32()), DeviceId(rng.bytes8())))
        .collect()
}

/// Gives `writer` a name on `board` at `now`, unless they have one: "Voisin·e" and their
/// short id.
pub fn name_once(board: &mut Board, writer: &Writer, now: i64) {
    if board.name_of(&writer.author()).is_some() {
        return;
    }
    // Its short id spelt in letters: a name with a run of digits reads as a phone number,
    // which the board refuses.
    let id: String = writer
        .author()
        .fmt_short()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from(b'g' + d as u8),
            None => c,
        })
        .collect();
    let name = format!("Voisin·e {id}");
    board.set_name(writer, &name, now).expect("a valid name");
}

/// Adds `posts` posts spread round-robin over `writers` to `board`, at time `now`;
/// `written` is told the count after each post.
pub fn add_posts(
    board: &mut Board,
    writers: &[Writer],
    rng: &mut Rng,
    posts: usize,
    now: i64,
    mut written: impl FnMut(usize),
) {
    for i in 0..posts {
        let w = &writers[i % writers.len()];
        name_once(board, w, now);
        let mut d = draft(rng);
        // Long-lived posts, so a benchmark run never sees them expire.
        d.urgency = Urgency::Whenever;
        board
            .post_new(w, rng.bytes8(), &d, now)
            .expect("a valid post");
        written(i + 1);
    }
}

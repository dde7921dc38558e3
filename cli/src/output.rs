//! What the terminal shows: plain text for people (`--json` prints the API's JSON instead).
//!
//! Every text that came from someone else (titles, details, areas, names, messages,
//! thanks, peer addresses, error messages) goes through [`term_safe`] before it is
//! printed: a terminal obeys escape sequences, so printing a neighbour's text raw would
//! let them clear the screen, rewrite lines or set the window title.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};

use entraide_crdt::{
    AlertView, PostView, RoundView, SightingView, Status as PostStatus, is_bidi_control,
    is_invisible, is_joiner,
};
use entraide_node::{PeerInfo, Status, WhoAmI};

/// `text` made safe to print on a terminal: every control character (but `\n` and `\t`
/// when `multiline`), direction control, invisible character, line or paragraph
/// separator, and joiner next to an ASCII character or a space is shown as a visible
/// escape such as `\u{1b}`, so nothing printed can drive the terminal or reorder what is
/// around it, and what was hidden shows.
///
/// The board already neutralises text read from feeds (`entraide_crdt::neutralise`);
/// this is the last gate, for whatever reaches the terminal by another way (an error
/// message, a peer's address, an older node).
pub(crate) fn term_safe(text: &str, multiline: bool) -> Cow<'_, str> {
    let chars: Vec<char> = text.chars().collect();
    let joinable = |c: Option<&char>| c.is_some_and(|c| !c.is_ascii() && !c.is_whitespace());
    let unsafe_at = |i: usize| {
        let c = chars[i];
        (c.is_control() && !(multiline && (c == '\n' || c == '\t')))
            || is_bidi_control(c)
            || is_invisible(c)
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{E0000}'..='\u{E007F}')
            || (is_joiner(c)
                && !(joinable(i.checked_sub(1).and_then(|p| chars.get(p)))
                    && joinable(chars.get(i + 1))))
    };
    if !(0..chars.len()).any(unsafe_at) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        if unsafe_at(i) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A neighbour's one-line text (a title, an area, a name), safe for the terminal.
pub(crate) fn line(text: &str) -> Cow<'_, str> {
    term_safe(text, false)
}

/// A neighbour's message shown after a label on one line: safe for the terminal, its
/// further lines indented so that none can pass for a line of ours.
fn inline_message(text: &str) -> String {
    term_safe(text, true).replace('\n', "\n    ")
}

pub(crate) fn now() -> i64 {
    entraide_node::clock::now()
}

/// "5 min ago", "in 3 h".
pub(crate) fn relative(at: i64, now: i64) -> String {
    let delta = now - at;
    let (amount, future) = (delta.unsigned_abs(), delta < 0);
    let text = match amount {
        0..=59 => return "just now".into(),
        60..=3599 => format!("{} min", amount / 60),
        3600..=86_399 => format!("{} h", amount / 3600),
        _ => format!("{} d", amount / 86_400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// An error and its causes on one line, safe for the terminal (an error can quote text
/// from elsewhere: a node's answer, a value typed or received).
pub(crate) fn error_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    term_safe(&parts.join(": "), true).into_owned()
}

pub(crate) fn join<T: Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn name_or_id(name: &Option<String>, id: &entraide_crdt::AuthorId) -> String {
    match name {
        Some(n) => format!("{} ({})", line(n), id.fmt_short()),
        None => id.fmt_short(),
    }
}

/// Who posted: "by Marie (b9ca-556b)", or for a post made for a neighbour "posted by
/// Marie (b9ca-556b) for Mme Dupont".
fn posted_by(p: &PostView) -> String {
    let by = name_or_id(&p.author_name, &p.author);
    match &p.on_behalf_of {
        None => format!("by {by}"),
        Some(behalf) => format!("posted by {by} for {}", line(&behalf.name)),
    }
}

pub(crate) fn print_board(posts: &[PostView], filtered: bool) {
    if posts.is_empty() {
        if filtered {
            say!("No post matches these filters (`entraide list --all` shows everything).");
        } else {
            say!("The board is empty. Post with `entraide post request --title ...`.");
        }
        return;
    }
    let now = now();
    for p in posts {
        let helpers = match p.responses.len() {
            0 => String::new(),
            1 => " · 1 neighbour can help".into(),
            n => format!(" · {n} neighbours can help"),
        };
        let area = if p.area.is_empty() {
            String::new()
        } else {
            format!(" · {}", line(&p.area))
        };
        say!(
            "{}  {:<7} {:<8} {:<9} {}{}",
            p.id,
            p.kind,
            p.urgency,
            p.category,
            line(&p.title),
            if p.status == PostStatus::Open {
                String::new()
            } else {
                format!(" [{}]", p.status.as_str())
            }
        );
        say!(
            "{:18}{} · {}{}{}",
            "",
            posted_by(p),
            relative(p.created_at, now),
            area,
            helpers
        );
    }
}

pub(crate) fn print_post(p: &PostView) {
    let now = now();
    say!(
        "{} ({} · {} · {})",
        line(&p.title),
        p.kind,
        p.category,
        p.urgency
    );
    say!("id       {}", p.id);
    say!("status   {}", p.status.as_str());
    match &p.on_behalf_of {
        None => say!("by       {}", name_or_id(&p.author_name, &p.author)),
        Some(behalf) => {
            say!("{}", posted_by(p));
            say!("consent  {}", line(&behalf.consent));
        }
    }
    say!("posted   {}", relative(p.created_at, now));
    say!("expires  {}", relative(p.expires_at, now));
    if !p.area.is_empty() {
        say!("area     {}", line(&p.area));
    }
    if !p.details.is_empty() {
        say!("\n{}\n", term_safe(&p.details, true));
    }
    if let Some(helper) = &p.accepted {
        let name = p
            .responses
            .iter()
            .find(|r| r.helper == *helper)
            .and_then(|r| r.helper_name.clone());
        say!("accepted {}", name_or_id(&name, helper));
    }
    if p.responses.is_empty() {
        say!("No offer of help yet.");
    }
    for r in &p.responses {
        let message = if r.message.is_empty() {
            String::new()
        } else {
            format!(": {}", inline_message(&r.message))
        };
        say!(
            "- {} can help ({}){}",
            name_or_id(&r.helper_name, &r.helper),
            relative(r.at, now),
            message
        );
    }
    for (helper, message) in &p.thanks {
        let name = p
            .responses
            .iter()
            .find(|r| r.helper == *helper)
            .and_then(|r| r.helper_name.clone());
        say!(
            "Thanks to {}: {}",
            name_or_id(&name, helper),
            inline_message(message)
        );
    }
}

pub(crate) fn print_messages(list: &[entraide_crdt::message::MessageView]) {
    if list.is_empty() {
        say!("No private message about this post yet.");
        return;
    }
    let now = now();
    for m in list {
        say!(
            "{}, {}: {}",
            name_or_id(&m.from_name, &m.from),
            relative(m.at, now),
            line(&m.text)
        );
    }
}

pub(crate) fn print_blocked(list: &[entraide_node::blocked::BlockedView]) {
    if list.is_empty() {
        say!("You blocked nobody.");
        return;
    }
    let now = now();
    for b in list {
        let reason = b
            .reason
            .as_deref()
            .map(|r| format!(": {}", line(r)))
            .unwrap_or_default();
        say!(
            "{} ({}), blocked {}{reason}",
            name_or_id(&b.name, &b.author),
            b.fingerprint,
            relative(b.at, now)
        );
    }
}

pub(crate) fn print_peers(peers: &[PeerInfo], online: bool) {
    if !online {
        say!("No node is running: start one with `entraide up` to see neighbours.");
        return;
    }
    if peers.is_empty() {
        say!("No neighbour found yet. On the same Wi-Fi they appear by themselves; otherwise");
        say!("ask one for an invite code, or their address for `entraide up --peer ADDRESS`.");
        return;
    }
    let now = now();
    for p in peers {
        let who = match (&p.name, &p.author) {
            (Some(_), Some(a)) => name_or_id(&p.name, a),
            (None, Some(a)) => a.fmt_short(),
            _ => line(&p.peer_id).into_owned(),
        };
        let state = if p.direct {
            "connected"
        } else if p.connected {
            "connected only through the meeting point (trying a direct connection)"
        } else {
            "not connected"
        };
        let sync = p
            .last_sync
            .map(|t| format!(", synced {}", relative(t, now)))
            .unwrap_or_default();
        say!("{who}: {state}{sync}");
        for a in &p.addresses {
            say!("    {}", line(a));
        }
    }
}

/// How far a clock is off, roughly: a number of days (from 20 hours), hours (from 90
/// minutes) or minutes, rounded to the nearest.
pub(crate) fn clock_span(secs: i64) -> (u64, ClockUnit) {
    let span = secs.unsigned_abs();
    if span >= 20 * 3600 {
        ((span + 43_200) / 86_400, ClockUnit::Day)
    } else if span >= 90 * 60 {
        ((span + 1800) / 3600, ClockUnit::Hour)
    } else {
        ((span + 30) / 60, ClockUnit::Minute)
    }
}

/// The unit of [`clock_span`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClockUnit {
    Day,
    Hour,
    Minute,
}

pub(crate) fn print_status(s: &Status) {
    let now = now();
    let name = s
        .name
        .as_deref()
        .map_or_else(|| "(no name)".into(), |n| line(n).into_owned());
    say!(
        "{name} ({}) in community {}",
        s.author.fmt_short(),
        s.community
    );
    if s.online {
        say!("running, {} neighbour(s) connected", s.peers_connected);
        match s.last_sync {
            Some(t) => say!(
                "last synced with {} neighbour(s), {}",
                s.recently_synced_peers.max(1),
                relative(t, now)
            ),
            None => say!("not synced with anyone yet"),
        }
        for a in &s.listen_addresses {
            say!("listening on {a}");
        }
        match s.reachable_directly {
            Some(true) => say!("other members can connect to this computer directly"),
            Some(false) => say!(
                "other members cannot connect to this computer directly (behind a router): they reach it through the meeting point"
            ),
            None => {}
        }
        if s.hole_punches > 0 {
            say!(
                "{} direct connection(s) made through a router (hole punching)",
                s.hole_punches
            );
        }
        if let Some(skew) = s.clock_skew {
            let (n, unit) = clock_span(skew.ahead_secs);
            let unit = match unit {
                ClockUnit::Day => "day",
                ClockUnit::Hour => "hour",
                ClockUnit::Minute => "minute",
            };
            say!(
                "warning: this computer's clock looks wrong: it is about {n} {unit}{} {} {} neighbour(s)' (set the date and time right)",
                if n > 1 { "s" } else { "" },
                if skew.ahead_secs > 0 {
                    "ahead of"
                } else {
                    "behind"
                },
                skew.neighbours
            );
        }
    } else {
        say!("not running (start it with `entraide up`)");
    }
    say!(
        "{} residents known, {} posts ({} still open or in hand)",
        s.board.feeds,
        s.board.posts,
        s.board.live_posts
    );
    for a in &s.alerts {
        say!("ALERT: {} until {}", a.kind, crate::when::local(a.until));
    }
}

/// The active alerts, one line per kind and its notes below.
pub(crate) fn print_alerts(alerts: &[AlertView]) {
    if alerts.is_empty() {
        say!("No alert is active.");
        return;
    }
    for a in alerts {
        say!(
            "{} until {} (id {})",
            a.kind.as_str().to_uppercase(),
            crate::when::local(a.until),
            join(&a.ids)
        );
        for note in &a.notes {
            say!("    {}", line(note));
        }
    }
    say!("Emergency: 112 (in France also 15 SAMU, 114 by text message, 115 shelter).");
}

/// The rounds with who walks each evening; empty evenings are flagged.
pub(crate) fn print_rounds(rounds: &[RoundView]) {
    if rounds.is_empty() {
        say!("No round yet. Add one: entraide round add --title ... --at 20:00");
        return;
    }
    for r in rounds {
        say!("{}  {} at {}", r.id, line(&r.title), r.at);
        let route = match (r.from.is_empty(), r.to.is_empty()) {
            (false, false) => format!("from {} to {}", line(&r.from), line(&r.to)),
            (false, true) => format!("from {}", line(&r.from)),
            (true, false) => format!("to {}", line(&r.to)),
            (true, true) => String::new(),
        };
        let area = if r.area.is_empty() {
            String::new()
        } else {
            format!(" ({})", line(&r.area))
        };
        if !route.is_empty() || !area.is_empty() {
            say!("    {route}{area}");
        }
        for e in &r.evenings {
            let day = crate::when::title_case(e.weekday.as_str());
            let label = if e.tonight {
                format!("tonight {}", e.date)
            } else {
                format!("{day} {}", e.date)
            };
            if e.empty {
                say!("    {label:<18} EMPTY: nobody yet");
            } else {
                let names: Vec<String> = e
                    .walkers
                    .iter()
                    .map(|w| name_or_id(&w.name, &w.author))
                    .collect();
                say!("    {label:<18} {}", names.join(", "));
            }
        }
    }
}

/// The live sightings with their needs and what was done.
pub(crate) fn print_sightings(sightings: &[SightingView]) {
    if sightings.is_empty() {
        say!("No sighting in the last 24 hours.");
        return;
    }
    let now = now();
    for s in sightings {
        say!(
            "{}  {}  ({})",
            s.id,
            line(&s.place),
            relative(s.created_at, now)
        );
        say!("    needs: {}", join(&s.needs));
        if s.needs.contains(&entraide_crdt::Need::Shelter) {
            say!("    shelter: in France call 115 (free, day and night)");
        }
        if !s.note.is_empty() {
            say!("    note: {}", line(&s.note));
        }
        for d in &s.done {
            say!(
                "    done: {} ({}, {})",
                line(&d.what),
                name_or_id(&d.helper_name, &d.helper),
                relative(d.at, now)
            );
        }
    }
}

pub(crate) fn print_whoami(w: &WhoAmI) {
    say!(
        "name         {}",
        line(w.name.as_deref().unwrap_or("(none)"))
    );
    say!("fingerprint  {}", w.fingerprint);
    say!("author id    {}", w.author);
    say!("peer id      {}", w.peer_id);
    say!("community    {}", w.community);
    say!(
        "identity key {}  (back this file up: it is who you are)",
        w.identity_file.display()
    );
    if w.devices.len() > 1 {
        say!("devices");
        crate::devices::print_devices(&w.devices);
    } else if let Some(d) = w.devices.first() {
        say!(
            "device       {}  (link another with `entraide device link`)",
            d.id
        );
    }
}

/// Prints `text` as a QR code made of terminal characters (nothing when it does not fit).
pub(crate) fn print_qr(text: &str) {
    if let Ok(qr) = qrcode::QrCode::new(text.as_bytes()) {
        let art = qr
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build();
        say!("{art}\n");
    }
}

pub(crate) fn print_invite(code: &str, online: bool) {
    say!("Invite code (give it only to neighbours you trust: it opens the community):\n");
    say!("{code}\n");
    print_qr(code);
    say!("On their machine: entraide join {code}");
    if !online {
        say!(
            "(no node is running, so the code carries no address: neighbours on the same Wi-Fi still find you)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_neighbours_cannot_drive_the_terminal() {
        // Clear the screen, set the window title, ring, a C1 CSI, a right-to-left override.
        let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202E}gro.elpmaxe";
        let safe = term_safe(hostile, false);
        assert_eq!(
            safe,
            "\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m\\u{202e}gro.elpmaxe"
        );
        assert!(!safe.chars().any(|c| c.is_control() || is_bidi_control(c)));
        // Invisible characters and joiners between ASCII letters show.
        assert_eq!(
            term_safe("Ma\u{200B}ri\u{200D}e", false),
            "Ma\\u{200b}ri\\u{200d}e"
        );
        assert_eq!(
            term_safe("a\u{2028}b\u{FEFF}", true),
            "a\\u{2028}b\\u{feff}"
        );
        // Lines and tabs stay in multi-line text only; a carriage return never does.
        assert_eq!(term_safe("a\nb\tc", true), "a\nb\tc");
        assert_eq!(term_safe("a\nb\tc", false), "a\\u{a}b\\u{9}c");
        assert_eq!(term_safe("a\r\nb", true), "a\\u{d}\nb");
        // Ordinary text, accents, emoji sequences and Persian pass untouched and borrowed.
        for t in [
            "Water to the 4th floor",
            "Léa · Bât. B",
            "👩\u{200D}💻",
            "می\u{200C}خواهم",
        ] {
            assert!(matches!(term_safe(t, false), Cow::Borrowed(_)), "{t}");
        }
    }

    #[test]
    fn a_message_cannot_pass_for_a_line_of_ours() {
        assert_eq!(
            inline_message("ok\n- Marie can help (just now)\u{1b}[1A"),
            "ok\n    - Marie can help (just now)\\u{1b}[1A"
        );
    }

    #[test]
    fn error_chains_are_safe_for_the_terminal() {
        let e = anyhow::anyhow!("unknown post `\u{1b}[2J`").context("cannot show it");
        assert_eq!(error_chain(&e), "cannot show it: unknown post `\\u{1b}[2J`");
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(100, 100), "just now");
        assert_eq!(relative(0, 300), "5 min ago");
        assert_eq!(relative(7200 + 10, 10), "in 2 h");
        assert_eq!(relative(0, 3 * 86_400), "3 d ago");
    }
}

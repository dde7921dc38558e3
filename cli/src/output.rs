//! What the terminal shows: plain text for people (`--json` prints the API's JSON instead).

use std::fmt::Display;
use std::time::{SystemTime, UNIX_EPOCH};

use entraide_crdt::{PostView, Status as PostStatus};
use entraide_node::{PeerInfo, Status, WhoAmI};

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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

/// An error and its causes on one line.
pub(crate) fn error_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

pub(crate) fn join<T: Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn name_or_id(name: &Option<String>, id: &entraide_crdt::AuthorId) -> String {
    match name {
        Some(n) => format!("{n} ({})", id.fmt_short()),
        None => id.fmt_short(),
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
            format!(" · {}", p.area)
        };
        say!(
            "{}  {:<7} {:<8} {:<9} {}{}",
            p.id,
            p.kind,
            p.urgency,
            p.category,
            p.title,
            if p.status == PostStatus::Open {
                String::new()
            } else {
                format!(" [{}]", p.status.as_str())
            }
        );
        say!(
            "{:18}by {} · {}{}{}",
            "",
            name_or_id(&p.author_name, &p.author),
            relative(p.created_at, now),
            area,
            helpers
        );
    }
}

pub(crate) fn print_post(p: &PostView) {
    let now = now();
    say!("{} ({} · {} · {})", p.title, p.kind, p.category, p.urgency);
    say!("id       {}", p.id);
    say!("status   {}", p.status.as_str());
    say!("by       {}", name_or_id(&p.author_name, &p.author));
    say!("posted   {}", relative(p.created_at, now));
    say!("expires  {}", relative(p.expires_at, now));
    if !p.area.is_empty() {
        say!("area     {}", p.area);
    }
    if !p.details.is_empty() {
        say!("\n{}\n", p.details);
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
            format!(": {}", r.message)
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
        say!("Thanks to {}: {message}", name_or_id(&name, helper));
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
            (Some(n), Some(a)) => format!("{n} ({})", a.fmt_short()),
            (None, Some(a)) => a.fmt_short(),
            _ => p.peer_id.clone(),
        };
        let state = if p.connected {
            "connected"
        } else {
            "not connected"
        };
        let sync = p
            .last_sync
            .map(|t| format!(", synced {}", relative(t, now)))
            .unwrap_or_default();
        say!("{who}: {state}{sync}");
        for a in &p.addresses {
            say!("    {a}");
        }
    }
}

pub(crate) fn print_status(s: &Status) {
    let now = now();
    let name = s.name.clone().unwrap_or_else(|| "(no name)".into());
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
    } else {
        say!("not running (start it with `entraide up`)");
    }
    say!(
        "{} residents known, {} posts ({} still open or in hand)",
        s.board.feeds,
        s.board.posts,
        s.board.live_posts
    );
}

pub(crate) fn print_whoami(w: &WhoAmI) {
    say!("name         {}", w.name.as_deref().unwrap_or("(none)"));
    say!("fingerprint  {}", w.fingerprint);
    say!("author id    {}", w.author);
    say!("peer id      {}", w.peer_id);
    say!("community    {}", w.community);
    say!(
        "identity key {}  (back this file up: it is who you are)",
        w.identity_file.display()
    );
}

pub(crate) fn print_invite(code: &str, online: bool) {
    say!("Invite code (give it only to neighbours you trust: it opens the community):\n");
    say!("{code}\n");
    if let Ok(qr) = qrcode::QrCode::new(code.as_bytes()) {
        let art = qr
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build();
        say!("{art}\n");
    }
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
    fn relative_times_read_naturally() {
        assert_eq!(relative(100, 100), "just now");
        assert_eq!(relative(0, 300), "5 min ago");
        assert_eq!(relative(7200 + 10, 10), "in 2 h");
        assert_eq!(relative(0, 3 * 86_400), "3 d ago");
    }
}

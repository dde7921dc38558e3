//! `entraide stewards`, `entraide steward appoint|retire`, `entraide exclude` and
//! `entraide vouch`: the community governing itself (docs/guide.en.md, "Stewards").

use anyhow::Result;
use clap::Subcommand;
use entraide_node::stewards::{Member, ReportView, StewardsView};
use serde_json::json;

use crate::client::Client;
use crate::output::{line, name_or_id};
use crate::when;

/// Appoint or retire a steward (stewards only).
#[derive(Debug, Subcommand)]
pub(crate) enum StewardCmd {
    /// Make a member a steward. With two stewards or more, a second one must agree (run
    /// the same command).
    Appoint {
        /// Their name, or their fingerprint.
        who: String,
    },
    /// Retire a steward, yourself included. With two stewards or more, a second one must
    /// agree. Their exclusions are kept under your name.
    Retire {
        /// Their name, or their fingerprint.
        who: String,
    },
}

impl Client {
    pub(crate) fn stewards(&self) -> Result<StewardsView> {
        if self.is_remote() {
            self.call("GET", "/api/v1/stewards", None)
        } else {
            self.local(async |n| n.stewards().await)
        }
    }

    pub(crate) fn steward_act(&self, command: &StewardCmd) -> Result<StewardsView> {
        let (path, who) = match command {
            StewardCmd::Appoint { who } => ("/api/v1/stewards/appoint", who),
            StewardCmd::Retire { who } => ("/api/v1/stewards/retire", who),
        };
        if self.is_remote() {
            self.call("POST", path, Some(json!({ "who": who })))
        } else {
            match command {
                StewardCmd::Appoint { who } => self.local(async |n| n.appoint_steward(who).await),
                StewardCmd::Retire { who } => self.local(async |n| n.retire_steward(who).await),
            }
        }
    }

    pub(crate) fn exclude(&self, who: &str, reason: &str) -> Result<StewardsView> {
        if self.is_remote() {
            let body = json!({ "who": who, "reason": reason });
            self.call("POST", "/api/v1/exclude", Some(body))
        } else {
            self.local(async |n| n.exclude(who, reason).await)
        }
    }

    pub(crate) fn report(&self, post: &str, reason: &str) -> Result<()> {
        if self.is_remote() {
            let path = format!("/api/v1/posts/{post}/report");
            let _: serde_json::Value =
                self.call("POST", &path, Some(json!({ "reason": reason })))?;
            Ok(())
        } else {
            self.local(async |n| n.report(post, reason).await)
        }
    }

    pub(crate) fn reports(&self) -> Result<Vec<ReportView>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/reports", None)
        } else {
            self.local(async |n| n.reports().await)
        }
    }

    pub(crate) fn vouch(&self, old: &str, new: &str) -> Result<StewardsView> {
        if self.is_remote() {
            let body = json!({ "old": old, "new": new });
            self.call("POST", "/api/v1/vouch", Some(body))
        } else {
            self.local(async |n| n.vouch(old, new).await)
        }
    }
}

pub(crate) fn run_steward(client: &Client, command: StewardCmd) -> Result<()> {
    let view = client.steward_act(&command)?;
    let (who, appointing) = match &command {
        StewardCmd::Appoint { who } => (who, true),
        StewardCmd::Retire { who } => (who, false),
    };
    let waiting = view.proposals.iter().any(|p| {
        p.what == if appointing { "appoint" } else { "retire" } && matches_typed(&p.who, who)
    });
    if waiting {
        say!(
            "Noted. A second steward must agree: they run the same command. Until then nothing changes."
        );
    } else if appointing {
        say!("{} is a steward now.", line(who));
    } else {
        say!("{} is no longer a steward.", line(who));
    }
    print_stewards(&view);
    Ok(())
}

fn matches_typed(m: &Member, typed: &str) -> bool {
    let t = typed.trim().to_lowercase();
    m.name.as_deref().is_some_and(|n| n.to_lowercase() == t)
        || m.author.matches_fingerprint(&t)
        || (t.len() >= 8 && m.author.to_string().starts_with(&t))
}

fn member(m: &Member) -> String {
    name_or_id(&m.name, &m.author)
}

pub(crate) fn print_stewards(v: &StewardsView) {
    if !v.founded {
        say!(
            "This community has no stewards: it was created before entraide named a community's founder."
        );
        return;
    }
    let names: Vec<String> = v.stewards.iter().map(member).collect();
    say!("Stewards: {}", names.join(", "));
    if let Some(f) = &v.founder {
        say!("Founder: {}", member(f));
    }
    if v.required > 1 {
        say!("Two stewards must agree to appoint or retire a steward, or to vouch for a new key.");
    }
    if v.you_are_steward {
        say!("You are a steward.");
    }
    for p in &v.proposals {
        let what = match (p.what.as_str(), &p.new) {
            ("appoint", _) => format!("appoint {}", member(&p.who)),
            ("retire", _) => format!("retire {}", member(&p.who)),
            (_, Some(new)) => format!("{} replaces the lost key {}", member(new), member(&p.who)),
            _ => continue,
        };
        say!(
            "Waiting for a second steward: {what} (asked by {})",
            member(&p.by)
        );
    }
    for e in &v.excluded {
        say!("Excluded: {}", member(&e.member));
        for by in &e.by {
            say!(
                "  by {} on {}: {}",
                member(&by.steward),
                when::local(by.at),
                line(&by.reason)
            );
        }
    }
    for s in &v.succeeded {
        say!(
            "New key: {} is now {} (vouched by {})",
            member(&s.old),
            member(&s.new),
            s.by.iter().map(member).collect::<Vec<_>>().join(", ")
        );
    }
    if !v.retired.is_empty() {
        let names: Vec<String> = v.retired.iter().map(member).collect();
        say!("Former stewards: {}", names.join(", "));
    }
}

pub(crate) fn print_reports(reports: &[ReportView]) {
    if reports.is_empty() {
        say!("No reports.");
        return;
    }
    for r in reports {
        let title = r
            .title
            .as_deref()
            .map(line)
            .unwrap_or_else(|| "(no longer on the board)".into());
        say!(
            "{}  {} by {}\n  reported by {} on {}: {}",
            &r.post.to_string()[..8],
            title,
            member(&r.author),
            member(&r.reporter),
            when::local(r.at),
            line(&r.reason)
        );
    }
}

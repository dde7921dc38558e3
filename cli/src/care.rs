//! `entraide care ...`: the care register from the command line.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use entraide_crdt::care::{CheckHow, CheckState, RecordId};
use entraide_node::care::{CareList, CareRecord, CareRequest};
use serde_json::{Value, json};

use crate::client::{Client, urlencode};
use crate::output::{now, relative, term_safe};

/// The care register: people the neighbourhood checks on every day during an alert.
#[derive(Debug, Subcommand)]
pub(crate) enum CareCmd {
    /// Register a person to check on (yourself with --me, or a neighbour with no device).
    /// Prints the record's id. Only the circle can read the record.
    Add {
        /// The person's name, as the circle knows them.
        #[arg(long)]
        name: String,
        /// A coarse place: building, street. Never an exact address.
        #[arg(long)]
        area: String,
        /// When to check each day, local time, e.g. 09:00-11:00.
        #[arg(long)]
        window: String,
        /// Members who check (at least two): names, fingerprints or ids.
        #[arg(long, num_args = 1.., required = true, value_name = "WHO")]
        circle: Vec<String>,
        /// The person's consent: who gave it, how, when (mandatory).
        #[arg(long)]
        consent: String,
        /// What only the circle needs: how to reach them, which door.
        #[arg(long, default_value = "")]
        notes: String,
        /// The person is you: your page gets the "I am fine" button.
        #[arg(long)]
        me: bool,
        /// The person agreed that their name may appear in a public request for a visit.
        #[arg(long)]
        name_public: bool,
    },
    /// Every person of the register you can see.
    List {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Say that you checked on someone today (or, with --how self, that you are fine).
    Ok {
        /// The record (its id or the start of it).
        id: String,
        /// self (the person themselves), visit or phone.
        #[arg(long)]
        how: String,
        /// A short note for the circle.
        #[arg(long, default_value = "")]
        note: String,
        /// The person is NOT fine: the circle is told at once, as urgent.
        #[arg(long)]
        not_fine: bool,
    },
    /// "I am going": take today's missed check, so the others see it is handled.
    Take {
        /// The record.
        id: String,
    },
    /// Today's checks: who is checked, due, missed, taken.
    Status {
        /// Print JSON (stable, see docs/api.md).
        #[arg(long)]
        json: bool,
    },
    /// Remove a person from the register at their request: nobody sees them any more.
    Remove {
        /// The record.
        id: String,
    },
}

pub(crate) fn run(client: &Client, command: CareCmd) -> Result<()> {
    match command {
        CareCmd::Add {
            name,
            area,
            window,
            circle,
            consent,
            notes,
            me,
            name_public,
        } => {
            let id = client.care_add(CareRequest {
                name,
                area,
                window,
                circle,
                consent,
                notes,
                me,
                name_public,
            })?;
            say!("{id}");
        }
        CareCmd::List { json } => {
            let list = client.care_list()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print_list(&list);
            }
        }
        CareCmd::Ok {
            id,
            how,
            note,
            not_fine,
        } => {
            let how: CheckHow = how.parse().map_err(|e| anyhow!("{e}"))?;
            let id = client.care_check(&id, how, !not_fine, &note)?;
            if not_fine {
                say!(
                    "Noted as NOT fine: the circle sees it at once ({}).",
                    short(&id)
                );
            } else {
                say!("Noted: checked today, fine ({}).", short(&id));
            }
        }
        CareCmd::Take { id } => {
            let id = client.care_take(&id)?;
            say!(
                "You are going: the circle sees it is handled ({}).",
                short(&id)
            );
        }
        CareCmd::Status { json } => {
            let list = client.care_list()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print_status(&list);
            }
        }
        CareCmd::Remove { id } => {
            let id = client.care_remove(&id)?;
            say!(
                "Removed from the register ({}): nobody sees it any more.",
                short(&id)
            );
        }
    }
    Ok(())
}

fn short(id: &RecordId) -> String {
    id.to_string()[..8].to_owned()
}

fn who(name: &Option<String>, fallback: &entraide_crdt::AuthorId) -> String {
    match name {
        Some(n) => term_safe(n, false).into_owned(),
        None => fallback.fmt_short(),
    }
}

fn print_unread(list: &CareList) {
    if list.unread > 0 {
        say!(
            "({} sealed records not tried yet: the node is still reading them; ask again in a moment.)",
            list.unread
        );
    }
}

fn print_list(list: &CareList) {
    print_unread(list);
    if list.records.is_empty() {
        say!("Nobody you can see is in the care register.");
        return;
    }
    for r in &list.records {
        let v = &r.view;
        let circle: Vec<String> = v
            .circle
            .iter()
            .zip(&r.circle_names)
            .map(|(a, n)| who(n, a))
            .collect();
        say!(
            "{}  {}  {}  every day {}{}",
            short(&v.id),
            term_safe(&v.name, false),
            term_safe(&v.area, false),
            v.window,
            if r.is_me { "  (you)" } else { "" }
        );
        say!("    circle: {}", circle.join(", "));
        say!("    consent: {}", term_safe(&v.consent, false));
        if !v.notes.is_empty() {
            say!(
                "    notes: {}",
                term_safe(&v.notes, true).replace('\n', "\n    ")
            );
        }
    }
}

/// One line of today's state, in plain words.
fn state_line(r: &CareRecord, now: i64) -> String {
    let v = &r.view;
    let name = term_safe(&v.name, false);
    match v.state {
        CheckState::NoAlert => format!("{name}: no alert, nothing due"),
        CheckState::Upcoming => format!("{name}: to check today {}", v.window),
        CheckState::Due => format!(
            "{name}: DUE now, until {} ({})",
            &v.window.to_string()[6..],
            relative(v.window_end, now)
        ),
        CheckState::Checked | CheckState::NotFine => {
            let c = v.check.as_ref().expect("a checked record has its check");
            let by = who(&r.checked_by_name, &c.by);
            let fine = if c.fine { "fine" } else { "NOT FINE: urgent" };
            let note = if c.note.is_empty() {
                String::new()
            } else {
                format!(": {}", term_safe(&c.note, false))
            };
            format!(
                "{name}: checked {} by {by} ({}), {fine}{note}",
                relative(c.at, now),
                c.how.as_str()
            )
        }
        CheckState::Missed => format!(
            "{name}: MISSED: nobody has checked on them today; a public request goes out {} unless someone takes it",
            relative(v.escalates_at, now)
        ),
        CheckState::Taken => {
            let by = v
                .taken_by
                .map(|(a, _)| who(&r.taken_by_name, &a))
                .unwrap_or_default();
            format!("{name}: missed, {by} is going")
        }
        CheckState::Escalated => format!(
            "{name}: MISSED and nobody took it: an urgent visit request is on the board ({})",
            term_safe(&v.area, false)
        ),
    }
}

fn print_status(list: &CareList) {
    let now = now();
    print_unread(list);
    if !list.alert_active {
        say!("No alert is active: no check is due today.");
    }
    if list.records.is_empty() {
        say!("Nobody you can see is in the care register.");
        return;
    }
    for r in &list.records {
        say!("{}  {}", short(&r.view.id), state_line(r, now));
    }
}

impl Client {
    fn care_id(value: Value) -> Result<RecordId> {
        serde_json::from_value(value.get("id").cloned().unwrap_or(Value::Null))
            .map_err(|e| anyhow!("unexpected answer from the node: {e}"))
    }

    fn care_action(&self, id: &str, action: &str, body: Value) -> Result<RecordId> {
        let path = format!("/api/v1/care/{}/{action}", urlencode(id));
        Self::care_id(self.call("POST", &path, Some(body))?)
    }

    pub(crate) fn care_add(&self, request: CareRequest) -> Result<RecordId> {
        if self.is_remote() {
            let body = serde_json::to_value(request)?;
            Self::care_id(self.call("POST", "/api/v1/care", Some(body))?)
        } else {
            self.local(async |n| n.care_add(request).await)
        }
    }

    pub(crate) fn care_list(&self) -> Result<CareList> {
        if self.is_remote() {
            self.call("GET", "/api/v1/care", None)
        } else {
            self.local(async |n| n.care_list().await)
        }
    }

    pub(crate) fn care_check(
        &self,
        id: &str,
        how: CheckHow,
        fine: bool,
        note: &str,
    ) -> Result<RecordId> {
        if self.is_remote() {
            let body = json!({ "how": how, "fine": fine, "note": note });
            self.care_action(id, "ok", body)
        } else {
            self.local(async |n| n.care_check(id, how, fine, note).await)
        }
    }

    pub(crate) fn care_take(&self, id: &str) -> Result<RecordId> {
        if self.is_remote() {
            self.care_action(id, "take", json!({}))
        } else {
            self.local(async |n| n.care_take(id).await)
        }
    }

    pub(crate) fn care_remove(&self, id: &str) -> Result<RecordId> {
        if self.is_remote() {
            self.care_action(id, "remove", json!({}))
        } else {
            self.local(async |n| n.care_remove(id).await)
        }
    }
}

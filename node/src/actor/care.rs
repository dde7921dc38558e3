//! The care register, the actor's side: sealed writes, and the tick that raises the
//! public request of a missed check nobody took (and closes it once someone checked).

use entraide_crdt::care::{
    CareContext, CareDraft, CareEntry, CareError, CareView, CheckHow, CheckState, Opened, RecordId,
    care_view, escalation_draft, local_day, removed_records, resolve_record,
};
use entraide_crdt::{AuthorId, Filter};
use tracing::{info, warn};

use super::Actor;
use crate::care::{CareCommand, CareList, CareMember, CareRecord, CareRequest, parse_window};
use crate::node::{NodeError, NodeEvent};

impl Actor {
    pub(super) fn handle_care(&mut self, command: CareCommand, now: i64) {
        match command {
            CareCommand::Add(request, reply) => {
                let _ = reply.send(self.care_add(request, now));
            }
            CareCommand::List(reply) => {
                let _ = reply.send(self.care_list(now));
            }
            CareCommand::Members(reply) => {
                let _ = reply.send(self.care_members());
            }
            CareCommand::Check {
                record,
                how,
                fine,
                note,
                reply,
            } => {
                let result = self.care_write(&record, now, |view, me, day| {
                    if how == CheckHow::Myself && view.subject != Some(me) {
                        return Err(CareError::NotTheSubject);
                    }
                    Ok(CareEntry::CareCheck {
                        record: view.id,
                        day,
                        how,
                        fine,
                        note: entraide_crdt::care::check_note(&note)?,
                        at: now,
                    })
                });
                let _ = reply.send(result);
            }
            CareCommand::Take(record, reply) => {
                let result = self.care_write(&record, now, |view, _, day| {
                    Ok(CareEntry::CareTake {
                        record: view.id,
                        day,
                        at: now,
                    })
                });
                let _ = reply.send(result);
            }
            CareCommand::Remove(record, reply) => {
                let result = self.care_write(&record, now, |view, _, _| {
                    Ok(CareEntry::CareRemove {
                        record: view.id,
                        at: now,
                    })
                });
                if result.is_ok() {
                    self.care_forget_removed(now);
                }
                let _ = reply.send(result);
            }
        }
    }

    /// Every entry this node's resident can open, and whether an alert is active.
    fn care_opened(&mut self, now: i64) -> (Vec<Opened>, CareContext) {
        let opened = self.care_refresh();
        let ctx = CareContext {
            now,
            utc_offset: crate::clock::utc_offset(now),
            alert_active: !self.board.active_alerts(now).is_empty(),
        };
        (opened, ctx)
    }

    /// Every entry the acting resident can open: each local resident has a cache of their
    /// own, opened with their own key only.
    pub(super) fn care_refresh(&mut self) -> Vec<Opened> {
        let budget = self.open_budget();
        self.care.entry(self.writer.author()).or_default().refresh(
            &self.board,
            self.writer.key(),
            budget,
        )
    }

    /// How long one look at the register may spend trying new sealed records: short
    /// while the node runs (it tries the rest at the next look), long for a command run
    /// while no node is up (nothing else would try them).
    fn open_budget(&self) -> std::time::Duration {
        if let Some(share) = self.care_tick_share {
            share
        } else if self.network.is_some() {
            crate::care::OPEN_BUDGET
        } else {
            std::time::Duration::from_secs(30)
        }
    }

    fn care_views(&mut self, now: i64) -> (Vec<CareView>, CareContext) {
        let (opened, ctx) = self.care_opened(now);
        (care_view(&opened, ctx), ctx)
    }

    fn care_list(&mut self, now: i64) -> CareList {
        let me = self.writer.author();
        let (views, ctx) = self.care_views(now);
        let name = |a: &AuthorId| self.board.name_of(a);
        CareList {
            alert_active: ctx.alert_active,
            unread: self
                .care
                .get(&self.writer.author())
                .map_or(0, |c| c.unread()),
            me,
            records: views
                .into_iter()
                .map(|view| CareRecord {
                    circle_names: view.circle.iter().map(name).collect(),
                    checked_by_name: view.check.as_ref().and_then(|c| name(&c.by)),
                    taken_by_name: view.taken_by.and_then(|(a, _)| name(&a)),
                    is_me: view.subject == Some(me),
                    view,
                })
                .collect(),
        }
    }

    /// Every member whose feed this node holds, this node's resident first, then those
    /// with a name by name (case aside), then the others by id.
    fn care_members(&self) -> Vec<CareMember> {
        let me = self.writer.author();
        let mut ids = self.board.members();
        // Not who this resident blocked, nor whom the stewards excluded or replaced by a
        // new key: a circle is people one counts on.
        let blocked = self.blocked_authors();
        let authority = self.board.authority();
        ids.retain(|id| {
            !blocked.contains(id)
                && !authority.excluded.contains_key(id)
                && !authority.succeeded.contains_key(id)
        });
        if !ids.contains(&me) {
            ids.push(me);
        }
        let mut members: Vec<CareMember> = ids
            .into_iter()
            .map(|id| CareMember {
                id,
                name: self.board.name_of(&id),
                is_me: id == me,
            })
            .collect();
        members.sort_by_cached_key(|m| {
            (
                !m.is_me,
                m.name.is_none(),
                m.name.as_deref().map(str::to_lowercase),
                m.id,
            )
        });
        members
    }

    fn care_add(&mut self, request: CareRequest, now: i64) -> Result<RecordId, NodeError> {
        let me = self.writer.author();
        let window = parse_window(&request.window)?;
        let circle = request
            .circle
            .iter()
            .map(|typed| self.resolve_member(typed))
            .collect::<Result<Vec<_>, _>>()?;
        let draft = CareDraft {
            name: request.name,
            area: request.area,
            window,
            circle,
            subject: request.me.then_some(me),
            consent: request.consent,
            notes: request.notes,
            name_public: request.name_public,
        };
        let id = RecordId(rand::random());
        let entry = draft.to_entry(id, now)?;
        let mut to = draft.circle.clone();
        to.push(me);
        self.seal_and_commit(&entry, &to, now)?;
        info!(record = %id, "registered a person in the care register");
        Ok(id)
    }

    /// Writes an entry about the record `typed` names, sealed to its recipients, if this
    /// node's resident is one of them.
    fn care_write(
        &mut self,
        typed: &str,
        now: i64,
        make: impl FnOnce(&CareView, AuthorId, String) -> Result<CareEntry, CareError>,
    ) -> Result<RecordId, NodeError> {
        let me = self.writer.author();
        let (views, ctx) = self.care_views(now);
        let id = resolve_record(&views, typed)?;
        let view = views
            .iter()
            .find(|v| v.id == id)
            .ok_or_else(|| CareError::NoSuchRecord(typed.into()))?;
        let recipients = view.recipients();
        if !recipients.contains(&me) {
            return Err(CareError::NotInCircle.into());
        }
        let entry = make(view, me, local_day(now, ctx.utc_offset))?;
        self.seal_and_commit(&entry, &recipients, now)?;
        Ok(id)
    }

    fn seal_and_commit(
        &mut self,
        entry: &CareEntry,
        recipients: &[AuthorId],
        now: i64,
    ) -> Result<(), NodeError> {
        let nonce: [u8; 8] = rand::random();
        let sealed = entry
            .seal(&self.writer.author(), &nonce, recipients, rand::random())
            .map_err(CareError::from)?;
        let change = self.board.put_sealed(&self.writer, nonce, sealed, now)?;
        self.commit_local(change)
    }

    /// Deletes what this resident wrote about records someone removed at the person's
    /// request (the removals themselves stay, so that every node keeps hiding the record).
    fn care_forget_removed(&mut self, now: i64) {
        let me = self.writer.author();
        let opened = self.care_refresh();
        let removed = removed_records(&opened);
        let mine: Vec<[u8; 8]> = opened
            .iter()
            .filter(|o| o.writer == me && removed.contains(&o.entry.record()))
            .filter(|o| !matches!(o.entry, CareEntry::CareRemove { .. }))
            .map(|o| o.nonce)
            .collect();
        if mine.is_empty() {
            return;
        }
        match self.board.delete_sealed(&self.writer, &mine, now) {
            Ok(change) => {
                if let Err(e) = self.commit_local(change) {
                    warn!(error = %e, "could not delete the entries of a removed record");
                }
            }
            Err(e) => warn!(error = %e, "could not delete the entries of a removed record"),
        }
    }

    /// Raises the public request of every missed check nobody took (once per record and
    /// day, unless one is already on the board), and closes ours once someone checked.
    pub(super) fn care_tick(&mut self) {
        // A short command run while no node is up does not raise requests: `up` does.
        if self.network.is_none() {
            return;
        }
        // One budget for the whole tick, shared by every local resident: a node hosting
        // many residents does not stall its loop for 25 ms each (each still opens at least
        // one record per tick).
        let hosted: Vec<AuthorId> = self.hosted.keys().copied().collect();
        let residents = u32::try_from(hosted.len() + 1).unwrap_or(u32::MAX);
        self.care_tick_share = Some(crate::care::OPEN_BUDGET / residents);
        self.care_tick_for(None);
        for author in hosted {
            self.care_tick_for(Some(author));
        }
        self.care_tick_share = None;
    }

    /// One resident's tick: the owner's, or a hosted resident's (acting as them).
    fn care_tick_for(&mut self, acting: Option<AuthorId>) {
        self.acting_as(acting, |actor| actor.care_tick_one());
    }

    fn care_tick_one(&mut self) {
        let now = super::now();
        let me = self.writer.author();
        self.care_forget_removed(now);
        // The other side deleted a conversation: delete our messages of it too.
        self.erase_own_messages(now, None);
        let (views, _) = self.care_views(now);
        if views.is_empty() {
            return;
        }
        let live_keys: Vec<String> = self
            .board
            .view(&Filter::default(), now)
            .into_iter()
            .filter_map(|p| p.escalation)
            .collect();
        let mine = self.board.view(
            &Filter {
                author: Some(me),
                include_closed: true,
                ..Filter::default()
            },
            now,
        );
        let mut changed = false;
        for view in &views {
            let key = hex::encode(view.escalation_key);
            let in_circle = view.circle.contains(&me) || view.registered_by == me;
            let mine_for_key = mine.iter().find(|p| p.escalation.as_deref() == Some(&key));
            match view.state {
                CheckState::Escalated if in_circle => {
                    if mine_for_key.is_some() || live_keys.contains(&key) {
                        continue;
                    }
                    let draft = escalation_draft(view);
                    let result = self
                        .board
                        .post_escalation(
                            &self.writer,
                            rand::random(),
                            &draft,
                            view.escalation_key,
                            now,
                        )
                        .map_err(NodeError::from)
                        .and_then(|(id, change)| self.commit_local(change).map(|()| id));
                    match result {
                        Ok(id) => {
                            info!(post = %id, "a missed check nobody took: urgent visit request posted");
                            changed = true;
                        }
                        Err(e) => warn!(error = %e, "could not post the request of a missed check"),
                    }
                }
                CheckState::Checked | CheckState::NotFine => {
                    let Some(post) = mine_for_key.filter(|p| p.status.is_live()) else {
                        continue;
                    };
                    let result = self
                        .board
                        .done(&self.writer, post.id, now)
                        .map_err(NodeError::from)
                        .and_then(|change| self.commit_local(change));
                    match result {
                        Ok(()) => changed = true,
                        Err(e) => {
                            warn!(error = %e, "could not close the request of a check now done")
                        }
                    }
                }
                _ => {}
            }
        }
        if changed {
            self.emit(NodeEvent::BoardChanged);
        }
    }

    /// The member what a person typed names: the start of their id (8 characters or
    /// more), their fingerprint, or their display name (case-insensitive), among the
    /// members whose feed this node holds.
    pub(super) fn resolve_member(&self, typed: &str) -> Result<AuthorId, NodeError> {
        let wanted = typed.trim().to_lowercase();
        if wanted.is_empty() {
            return Err(NodeError::NoSuchMember(typed.into()));
        }
        let me = self.writer.author();
        let mut members = self.board.members();
        if !members.contains(&me) {
            members.push(me);
        }
        let found: Vec<AuthorId> = members
            .into_iter()
            .filter(|a| {
                (wanted.len() >= 8 && a.to_string().starts_with(&wanted))
                    || a.matches_fingerprint(&wanted)
                    || self
                        .board
                        .name_of(a)
                        .is_some_and(|n| n.to_lowercase() == wanted)
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(NodeError::NoSuchMember(typed.into())),
            _ => Err(NodeError::SeveralMembers(typed.into())),
        }
    }
}

//! Hosted residents, the actor's side: which writer a request acts for, and adding,
//! re-coding, exporting and removing the residents this node hosts.
//!
//! Every request arrives in an [`Envelope`] naming the resident it acts for. For a hosted
//! resident, their writer is swapped into `self.writer` for that one request, so that
//! every write is signed with their key and every "mine" is theirs, through the same code
//! as the owner's requests. A request for a resident this node does not host is dropped
//! unanswered, which its caller hears as [`NodeError::NotHosted`]: it never runs as the
//! owner.

use entraide_crdt::{AuthorId, DeviceId, Writer};
use tracing::{debug, info};

use super::{Actor, now};
use crate::node::{Envelope, NodeError, NodeEvent, ResidentCommand};
use crate::residents::{self, ResidentInfo};

impl Actor {
    pub(super) fn handle_envelope(&mut self, envelope: Envelope) {
        let Envelope { acting, command } = envelope;
        if let Some(author) = acting
            && author != self.owner()
            && !self.hosted.contains_key(&author)
        {
            debug!(resident = %author.fmt_short(), "a request for a resident not hosted here: dropped");
            return;
        }
        self.acting_as(acting, |actor| actor.handle_command(command));
    }

    /// The node's owner.
    pub(super) fn owner(&self) -> AuthorId {
        self.profile.key.id()
    }

    /// Runs `f` with `self.writer` acting for `acting` (the owner for `None`, for the
    /// owner's own id, and for a resident not hosted here, whom callers filter out first).
    pub(super) fn acting_as<T>(
        &mut self,
        acting: Option<AuthorId>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let Some(writer) = acting.and_then(|a| self.hosted.remove(&a)) else {
            return f(self);
        };
        let owner = std::mem::replace(&mut self.writer, writer);
        let out = f(self);
        let writer = std::mem::replace(&mut self.writer, owner);
        self.hosted.insert(writer.author(), writer);
        out
    }

    /// The resident commands (owner only, except the login check the page makes).
    pub(super) fn handle_resident_command(&mut self, command: ResidentCommand) {
        let owner = self.writer.author() == self.owner();
        match command {
            ResidentCommand::List(reply) => {
                let _ = reply.send(self.residents.iter().map(|r| r.info()).collect());
            }
            ResidentCommand::Login(typed, reply) => {
                // Every resident is compared, so the time taken does not say which matched.
                let mut found = None;
                for r in &self.residents {
                    if r.code_matches(&typed) {
                        found = Some(r.info());
                    }
                }
                let _ = reply.send(found);
            }
            ResidentCommand::Add(name, reply) => {
                let result = if owner {
                    self.add_resident(&name)
                } else {
                    owner_only()
                };
                let _ = reply.send(result);
            }
            ResidentCommand::NewCode(name, reply) => {
                let result = if owner {
                    residents::replace_code(&self.config.data_dir, &name)
                        .map_err(NodeError::from)
                        .map(|(r, code)| {
                            self.reload_residents();
                            (r.info(), code)
                        })
                } else {
                    owner_only()
                };
                let _ = reply.send(result);
            }
            ResidentCommand::Export(name, reply) => {
                let result = if owner {
                    residents::export_text(&self.config.data_dir, &name, now())
                        .map_err(NodeError::from)
                        .inspect(|_| self.reload_residents())
                } else {
                    owner_only()
                };
                let _ = reply.send(result);
            }
            ResidentCommand::Remove(name, forget, reply) => {
                let result = if owner {
                    self.remove_resident(&name, forget)
                } else {
                    owner_only()
                };
                let _ = reply.send(result);
            }
        }
    }

    fn add_resident(&mut self, name: &str) -> Result<(ResidentInfo, String), NodeError> {
        let (resident, code) =
            residents::create(&self.config.data_dir, name, rand::random::<[u8; 32]>())?;
        let author = resident.author();
        let writer = Writer::new(
            resident.key.clone(),
            DeviceId::new(self.profile.installation, rand::random()),
        );
        self.hosted.insert(author, writer);
        self.reload_residents();
        // Their name on the board, written in their own feed with their own key.
        let named = self.acting_as(Some(author), |actor| {
            let change = actor.board.set_name(&actor.writer, &resident.name, now())?;
            actor.commit_local(change)
        });
        if let Err(e) = named {
            // The key file is there (never lose a key); the name can be set again later.
            tracing::warn!(error = %e, "a resident was added, but their name could not be written");
        }
        info!(resident = %author.fmt_short(), "a resident is now hosted here");
        self.emit(NodeEvent::BoardChanged);
        Ok((resident.info(), code))
    }

    fn remove_resident(&mut self, name: &str, forget: bool) -> Result<ResidentInfo, NodeError> {
        let resident = residents::remove(&self.config.data_dir, name, forget)?;
        let author = resident.author();
        self.hosted.remove(&author);
        self.care.remove(&author);
        // Whom they blocked, and why, was theirs alone: it does not stay behind them.
        self.blocked.forget(&author);
        if let Err(e) = self.store.forget_blocks_of(&author) {
            tracing::warn!(error = %e, "a resident is no longer hosted, but their block list could not be removed from the store");
        }
        self.reload_residents();
        info!(resident = %author.fmt_short(), "a resident is no longer hosted here");
        Ok(resident.info())
    }

    /// Reads the residents' files again (names, login codes, exports).
    fn reload_residents(&mut self) {
        match residents::load_all(&self.config.data_dir) {
            Ok(list) => self.residents = list,
            Err(e) => tracing::warn!(error = %e, "cannot read the hosted residents again"),
        }
    }
}

/// The answer to a resident command asked for by a hosted resident.
fn owner_only<T>() -> Result<T, NodeError> {
    Err(NodeError::OwnerOnly)
}

//! How a command reaches the board: through the running node's local API, or, with no node
//! running, by opening the store directly (the change syncs at the next `entraide up`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use entraide_crdt::message::MessageView;
use entraide_crdt::{
    AlertDraft, AlertId, AlertView, AuthorId, Filter, LocalDate, PostDraft, PostId, PostView,
    RoundDraft, RoundId, RoundView, SightingDraft, SightingId, SightingView,
};
use entraide_node::api::BoardQuery;
use entraide_node::blocked::BlockedView;
use entraide_node::data_dir::DataDir;
use entraide_node::store::StoreError;
use entraide_node::{Node, NodeConfig, NodeError, PeerInfo, Status, WhoAmI};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A node reached one way or the other.
pub(crate) enum Client {
    /// A node running in another process, through its API.
    Remote {
        base: String,
        token: String,
        agent: ureq::Agent,
        /// The hosted resident every request acts for (`--as`), sent in
        /// [`entraide_node::api::ACTING_HEADER`].
        acting: Option<AuthorId>,
    },
    /// No node running: the store, opened here.
    Local {
        node: Node,
        runtime: tokio::runtime::Runtime,
    },
}

impl Client {
    /// Finds the running node of `data_dir`, or opens the store. A node that is starting
    /// holds the store before its API answers: wait for one or the other a few seconds.
    pub(crate) fn connect(data_dir: &DataDir) -> Result<Client> {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            if let Some(remote) = Self::remote(data_dir)? {
                return Ok(remote);
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let mut config = NodeConfig::new(data_dir.clone());
            config.offline = true;
            config.store_lock_patience = Duration::ZERO;
            match runtime.block_on(Node::start(config)) {
                Ok(node) => return Ok(Client::Local { node, runtime }),
                Err(NodeError::Store(StoreError::Locked(_))) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The running node, if its API answers.
    fn remote(data_dir: &DataDir) -> Result<Option<Client>> {
        let Some(api) = data_dir.read_api() else {
            return Ok(None);
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let base = api.base_url();
        let token = api.token;
        let probe = agent
            .get(format!("{base}/api/v1/whoami"))
            .header("Authorization", format!("Bearer {token}"))
            .config()
            .timeout_global(Some(Duration::from_secs(3)))
            .build()
            .call();
        match probe {
            Ok(r) if r.status().is_success() => Ok(Some(Client::Remote {
                base,
                token,
                agent,
                acting: None,
            })),
            Ok(r) => bail!(
                "the running node refused this command ({}); is api.token readable?",
                r.status()
            ),
            // Nothing answers: a node that stopped without cleaning up, or not started yet.
            Err(_) => Ok(None),
        }
    }

    /// A new one-time address that signs this computer's browser in to the running node's
    /// page. Only a running node serves the page.
    pub(crate) fn signin_url(data_dir: &DataDir) -> Result<String> {
        let Some(client) = Self::remote(data_dir)? else {
            bail!("no node is running: start it with `entraide up` (it serves the page)");
        };
        let answer: Value = client.call("POST", "/api/v1/page/signin", None)?;
        let path = answer
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("unexpected answer from the node: {answer}"))?;
        let Client::Remote { base, .. } = &client else {
            unreachable!("a remote client")
        };
        Ok(format!("{base}{path}"))
    }

    /// This client, acting for the hosted resident called `name` (`--as NAME`): every
    /// command from now on is theirs, signed with their key.
    pub(crate) fn acting_for(mut self, data_dir: &DataDir, name: Option<&str>) -> Result<Client> {
        let Some(name) = name else {
            return Ok(self);
        };
        let residents = entraide_node::residents::load_all(data_dir)?;
        let author = entraide_node::residents::find(&residents, name)?.author();
        match &mut self {
            Client::Remote { acting, .. } => *acting = Some(author),
            Client::Local { node, .. } => *node = node.as_resident(author),
        }
        Ok(self)
    }

    /// Whether a running node is reached.
    pub(crate) fn is_remote(&self) -> bool {
        matches!(self, Client::Remote { .. })
    }

    pub(crate) fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let Client::Remote {
            base,
            token,
            agent,
            acting,
        } = self
        else {
            unreachable!("call on a local client")
        };
        let url = format!("{base}{path}");
        let auth = format!("Bearer {token}");
        let acting = acting.map(|a| a.to_string()).unwrap_or_default();
        let header = entraide_node::api::ACTING_HEADER;
        let response = if method == "GET" {
            let request = agent.get(&url).header("Authorization", &auth);
            if acting.is_empty() {
                request.call()
            } else {
                request.header(header, &acting).call()
            }
        } else {
            let mut request = agent.post(&url).header("Authorization", &auth);
            if !acting.is_empty() {
                request = request.header(header, &acting);
            }
            match body {
                Some(body) => request.send_json(body),
                None => request.send_empty(),
            }
        };
        answer(response)
    }

    pub(crate) fn local<T>(
        &self,
        f: impl AsyncFnOnce(&Node) -> Result<T, entraide_node::NodeError>,
    ) -> Result<T> {
        let Client::Local { node, runtime } = self else {
            unreachable!("local on a remote client")
        };
        Ok(runtime.block_on(f(node))?)
    }

    fn id_of(value: Value) -> Result<PostId> {
        serde_json::from_value(value.get("id").cloned().unwrap_or(Value::Null))
            .map_err(|e| anyhow!("unexpected answer from the node: {e}"))
    }

    pub(crate) fn post(&self, draft: PostDraft) -> Result<PostId> {
        if self.is_remote() {
            Self::id_of(self.call("POST", "/api/v1/posts", Some(serde_json::to_value(draft)?))?)
        } else {
            self.local(async |n| n.post(draft).await)
        }
    }

    fn action(&self, id: &str, action: &str, body: Value) -> Result<PostId> {
        let path = format!("/api/v1/posts/{}/{action}", urlencode(id));
        Self::id_of(self.call("POST", &path, Some(body))?)
    }

    pub(crate) fn respond(&self, id: &str, message: &str) -> Result<PostId> {
        if self.is_remote() {
            self.action(id, "respond", json!({ "message": message }))
        } else {
            self.local(async |n| n.respond(id, message).await)
        }
    }

    pub(crate) fn accept(&self, id: &str, helper: &str) -> Result<PostId> {
        if self.is_remote() {
            self.action(id, "accept", json!({ "helper": helper }))
        } else {
            self.local(async |n| n.accept(id, helper).await)
        }
    }

    pub(crate) fn done(&self, id: &str) -> Result<PostId> {
        if self.is_remote() {
            self.action(id, "done", json!({}))
        } else {
            self.local(async |n| n.done(id).await)
        }
    }

    pub(crate) fn withdraw(&self, id: &str) -> Result<PostId> {
        if self.is_remote() {
            self.action(id, "withdraw", json!({}))
        } else {
            self.local(async |n| n.withdraw(id).await)
        }
    }

    pub(crate) fn thank(&self, id: &str, helper: &str, message: &str) -> Result<PostId> {
        if self.is_remote() {
            self.action(id, "thank", json!({ "helper": helper, "message": message }))
        } else {
            self.local(async |n| n.thank(id, helper, message).await)
        }
    }

    pub(crate) fn set_name(&self, name: &str) -> Result<()> {
        if self.is_remote() {
            let _: Value = self.call("POST", "/api/v1/name", Some(json!({ "name": name })))?;
            Ok(())
        } else {
            self.local(async |n| n.set_name(name).await)
        }
    }

    pub(crate) fn list(&self, query: &BoardQuery) -> Result<Vec<PostView>> {
        if self.is_remote() {
            self.call("GET", &format!("/api/v1/posts?{}", query.to_query()), None)
        } else {
            let filter: Filter = query.filter();
            self.local(async |n| n.list(filter).await)
        }
    }

    pub(crate) fn show(&self, id: &str) -> Result<PostView> {
        if self.is_remote() {
            self.call("GET", &format!("/api/v1/posts/{}", urlencode(id)), None)
        } else {
            self.local(async |n| n.show(id).await)
        }
    }

    pub(crate) fn block(&self, who: &str, reason: Option<&str>) -> Result<BlockedView> {
        if self.is_remote() {
            let body = json!({ "who": who, "reason": reason });
            self.call("POST", "/api/v1/blocked", Some(body))
        } else {
            self.local(async |n| n.block(who, reason).await)
        }
    }

    pub(crate) fn unblock(&self, who: &str) -> Result<BlockedView> {
        if self.is_remote() {
            self.call("POST", "/api/v1/unblock", Some(json!({ "who": who })))
        } else {
            self.local(async |n| n.unblock(who).await)
        }
    }

    pub(crate) fn blocked(&self) -> Result<Vec<BlockedView>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/blocked", None)
        } else {
            self.local(async |n| n.blocked().await)
        }
    }

    pub(crate) fn message(&self, post: &str, to: Option<&str>, text: &str) -> Result<MessageView> {
        if self.is_remote() {
            let body = json!({ "text": text, "to": to });
            self.call("POST", &format!("/api/v1/posts/{post}/message"), Some(body))
        } else {
            self.local(async |n| n.message(post, to, text).await)
        }
    }

    pub(crate) fn messages(&self, post: &str) -> Result<Vec<MessageView>> {
        if self.is_remote() {
            self.call("GET", &format!("/api/v1/posts/{post}/messages"), None)
        } else {
            self.local(async |n| n.messages(post).await)
        }
    }

    pub(crate) fn delete_messages(&self, post: &str) -> Result<usize> {
        if self.is_remote() {
            let v: Value = self.call(
                "POST",
                &format!("/api/v1/posts/{post}/messages/delete"),
                None,
            )?;
            Ok(v["deleted"].as_u64().unwrap_or(0) as usize)
        } else {
            self.local(async |n| n.delete_messages(post).await)
        }
    }

    pub(crate) fn peers(&self) -> Result<Vec<PeerInfo>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/peers", None)
        } else {
            self.local(async |n| n.peers().await)
        }
    }

    pub(crate) fn status(&self) -> Result<Status> {
        if self.is_remote() {
            self.call("GET", "/api/v1/status", None)
        } else {
            self.local(async |n| n.status().await)
        }
    }

    pub(crate) fn whoami(&self) -> Result<WhoAmI> {
        if self.is_remote() {
            self.call("GET", "/api/v1/whoami", None)
        } else {
            self.local(async |n| n.whoami().await)
        }
    }

    /// The whole board as a board file.
    pub(crate) fn export_board(&self) -> Result<Vec<u8>> {
        if let Client::Remote {
            base, token, agent, ..
        } = self
        {
            let mut response = agent
                .get(format!("{base}/api/v1/export"))
                .header("Authorization", format!("Bearer {token}"))
                .call()
                .map_err(|e| anyhow!("the running node did not answer: {e}"))?;
            if !response.status().is_success() {
                bail!(
                    "the running node refused the export ({})",
                    response.status()
                );
            }
            return response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .read_to_vec()
                .map_err(|e| anyhow!("the export was cut off: {e}"));
        }
        self.local(async |n| n.export().await)
    }

    /// Checks and merges a board file (`entraide_crdt::board_file`).
    pub(crate) fn import_board(&self, file: Vec<u8>) -> Result<entraide_node::ImportReport> {
        if let Client::Remote {
            base, token, agent, ..
        } = self
        {
            return answer(
                agent
                    .post(format!("{base}/api/v1/import"))
                    .header("Authorization", format!("Bearer {token}"))
                    .header("Content-Type", "application/octet-stream")
                    .send(&file[..]),
            );
        }
        self.local(async |n| n.import(file).await)
    }

    /// The acting resident's devices.
    pub(crate) fn devices(&self) -> Result<Vec<entraide_node::DeviceInfo>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/devices", None)
        } else {
            self.local(async |n| n.devices().await)
        }
    }

    /// A one-time pairing code for a new device (needs the running node).
    pub(crate) fn link_device(&self) -> Result<entraide_node::DeviceLink> {
        if self.is_remote() {
            self.call("POST", "/api/v1/devices/link", None)
        } else {
            self.local(async |n| n.link_device().await)
        }
    }

    /// Removes one of the acting resident's devices.
    pub(crate) fn remove_device(&self, id: &str) -> Result<entraide_node::DeviceInfo> {
        if self.is_remote() {
            self.call(
                "POST",
                &format!("/api/v1/devices/{}/remove", urlencode(id)),
                None,
            )
        } else {
            self.local(async |n| n.remove_device(id).await)
        }
    }

    /// Dials a neighbour's address now and remembers it.
    pub(crate) fn dial(&self, address: &str) -> Result<()> {
        if self.is_remote() {
            let _: Value =
                self.call("POST", "/api/v1/peers", Some(json!({ "address": address })))?;
            Ok(())
        } else {
            let address = address
                .parse()
                .map_err(|e| anyhow!("not an address: {e}"))?;
            self.local(async |n| n.dial(address).await)
        }
    }

    pub(crate) fn invite(&self) -> Result<String> {
        if self.is_remote() {
            let v: Value = self.call("GET", "/api/v1/invite", None)?;
            Ok(v.get("code")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned())
        } else {
            self.local(async |n| n.invite().await)
        }
    }

    /// The field `key` of an answer, read as `T`.
    fn field<T: DeserializeOwned>(value: &Value, key: &str) -> Result<T> {
        serde_json::from_value(value.get(key).cloned().unwrap_or(Value::Null))
            .map_err(|e| anyhow!("unexpected answer from the node: {e}"))
    }

    pub(crate) fn declare_alert(&self, draft: AlertDraft) -> Result<AlertId> {
        if self.is_remote() {
            let v: Value =
                self.call("POST", "/api/v1/alerts", Some(serde_json::to_value(draft)?))?;
            Self::field(&v, "id")
        } else {
            self.local(async |n| n.declare_alert(draft).await)
        }
    }

    pub(crate) fn end_alert(&self, id: &str) -> Result<AlertId> {
        if self.is_remote() {
            let path = format!("/api/v1/alerts/{}/end", urlencode(id));
            let v: Value = self.call("POST", &path, Some(json!({})))?;
            Self::field(&v, "id")
        } else {
            self.local(async |n| n.end_alert(id).await)
        }
    }

    pub(crate) fn alerts(&self) -> Result<Vec<AlertView>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/alerts", None)
        } else {
            self.local(async |n| n.alerts().await)
        }
    }

    pub(crate) fn add_round(&self, draft: RoundDraft) -> Result<RoundId> {
        if self.is_remote() {
            let v: Value =
                self.call("POST", "/api/v1/rounds", Some(serde_json::to_value(draft)?))?;
            Self::field(&v, "id")
        } else {
            self.local(async |n| n.add_round(draft).await)
        }
    }

    /// Signs up for (`walk`) or withdraws from a round's evening (`None`: tonight).
    pub(crate) fn sign_up(
        &self,
        round: &str,
        date: Option<LocalDate>,
        walk: bool,
    ) -> Result<(RoundId, LocalDate)> {
        if self.is_remote() {
            let action = if walk { "join" } else { "leave" };
            let path = format!("/api/v1/rounds/{}/{action}", urlencode(round));
            let body = match date {
                Some(d) => json!({ "date": d }),
                None => json!({ "date": "tonight" }),
            };
            let v: Value = self.call("POST", &path, Some(body))?;
            Ok((Self::field(&v, "id")?, Self::field(&v, "date")?))
        } else {
            self.local(async |n| n.sign_up(round, date, walk).await)
        }
    }

    pub(crate) fn rounds(&self) -> Result<Vec<RoundView>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/rounds", None)
        } else {
            self.local(async |n| n.rounds().await)
        }
    }

    pub(crate) fn add_sighting(&self, draft: SightingDraft) -> Result<SightingId> {
        if self.is_remote() {
            let body = Some(serde_json::to_value(draft)?);
            let v: Value = self.call("POST", "/api/v1/sightings", body)?;
            Self::field(&v, "id")
        } else {
            self.local(async |n| n.add_sighting(draft).await)
        }
    }

    pub(crate) fn sighting_done(&self, id: &str, what: &str) -> Result<SightingId> {
        if self.is_remote() {
            let path = format!("/api/v1/sightings/{}/done", urlencode(id));
            let v: Value = self.call("POST", &path, Some(json!({ "what": what })))?;
            Self::field(&v, "id")
        } else {
            self.local(async |n| n.sighting_done(id, what).await)
        }
    }

    pub(crate) fn sightings(&self) -> Result<Vec<SightingView>> {
        if self.is_remote() {
            self.call("GET", "/api/v1/sightings", None)
        } else {
            self.local(async |n| n.sightings().await)
        }
    }

    /// Saves and closes a locally opened store.
    pub(crate) fn close(self) -> Result<()> {
        if let Client::Local { node, runtime } = self {
            runtime.block_on(node.shutdown())?;
        }
        Ok(())
    }
}

/// The JSON answer of the running node as `T`, or its error message.
fn answer<T: DeserializeOwned>(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<T> {
    let mut response = response.map_err(|e| anyhow!("the running node did not answer: {e}"))?;
    let status = response.status();
    let value: Value = response
        .body_mut()
        .read_json()
        .map_err(|e| anyhow!("the running node sent an unreadable answer: {e}"))?;
    if !status.is_success() {
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown error");
        bail!("{message}");
    }
    serde_json::from_value(value).map_err(|e| anyhow!("unexpected answer from the node: {e}"))
}

pub(crate) fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

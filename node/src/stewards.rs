//! Stewards, exclusion and lost keys as the node serves them: what residents ask (the
//! `Node::stewards*` methods), what they see ([`StewardsView`]), and the API routes. The
//! rules are in `entraide_crdt::authority`; the actor's side is `actor/stewards.rs`.

use entraide_crdt::AuthorId;
use entraide_crdt::authority::{Authority, Proposal};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::node::{Command, Node, NodeError};

/// A member as the page names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Their id.
    pub author: AuthorId,
    /// Their display name, if this node holds their feed and they set one.
    pub name: Option<String>,
    /// Their fingerprint.
    pub fingerprint: String,
}

/// One steward's exclusion of a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedBy {
    /// The steward.
    pub steward: Member,
    /// Their reason, shown to all.
    pub reason: String,
    /// When (the steward's clock).
    pub at: i64,
}

/// A member excluded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludedView {
    /// Who.
    pub member: Member,
    /// By which stewards, and why.
    pub by: Vec<ExcludedBy>,
}

/// A lost key and the new key stewards vouched for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessionView {
    /// The lost key.
    pub old: Member,
    /// The new one.
    pub new: Member,
    /// The stewards who vouched.
    pub by: Vec<Member>,
}

/// An act one steward made that waits for a second one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    /// `appoint`, `retire` or `vouch`.
    pub what: String,
    /// Whom it is about (for a vouch: the lost key).
    pub who: Member,
    /// For a vouch: the new key.
    pub new: Option<Member>,
    /// The steward who made it.
    pub by: Member,
}

/// Who may act for the community, as this node's feeds say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StewardsView {
    /// Whether the community names a founder: without one there are no stewards.
    pub founded: bool,
    /// The founder.
    pub founder: Option<Member>,
    /// The current stewards.
    pub stewards: Vec<Member>,
    /// How many stewards must agree on an appointment, a retirement or a new key.
    pub required: usize,
    /// Whether the resident asking is a steward.
    pub you_are_steward: bool,
    /// Former stewards.
    pub retired: Vec<Member>,
    /// Members excluded, with why.
    pub excluded: Vec<ExcludedView>,
    /// Lost keys and their successors.
    pub succeeded: Vec<SuccessionView>,
    /// What waits for a second steward.
    pub proposals: Vec<ProposalView>,
}

impl StewardsView {
    /// The view of `authority` for `me`, naming members with `name_of`.
    pub(crate) fn of(
        authority: &Authority,
        me: &AuthorId,
        name_of: impl Fn(&AuthorId) -> Option<String>,
    ) -> Self {
        let member = |a: &AuthorId| member(a, name_of(a));
        Self {
            founded: authority.founder.is_some(),
            founder: authority.founder.as_ref().map(member),
            stewards: authority.stewards.iter().map(member).collect(),
            required: authority.required(),
            you_are_steward: authority.is_steward(me),
            retired: authority.retired.iter().map(member).collect(),
            excluded: authority
                .excluded
                .iter()
                .map(|(who, e)| ExcludedView {
                    member: member(who),
                    by: e
                        .by
                        .iter()
                        .map(|(s, reason, at)| ExcludedBy {
                            steward: member(s),
                            reason: reason.clone(),
                            at: *at,
                        })
                        .collect(),
                })
                .collect(),
            succeeded: authority
                .succeeded
                .iter()
                .map(|(old, s)| SuccessionView {
                    old: member(old),
                    new: member(&s.new),
                    by: s.by.iter().map(member).collect(),
                })
                .collect(),
            proposals: authority
                .proposals
                .iter()
                .map(|p| match p {
                    Proposal::Appoint { who, by } => ProposalView {
                        what: "appoint".into(),
                        who: member(who),
                        new: None,
                        by: member(by),
                    },
                    Proposal::Retire { who, by } => ProposalView {
                        what: "retire".into(),
                        who: member(who),
                        new: None,
                        by: member(by),
                    },
                    Proposal::Vouch { old, new, by } => ProposalView {
                        what: "vouch".into(),
                        who: member(old),
                        new: Some(member(new)),
                        by: member(by),
                    },
                })
                .collect(),
        }
    }
}

/// A request about stewards.
#[derive(Debug)]
pub(crate) enum StewardCommand {
    View(oneshot::Sender<StewardsView>),
    Appoint(String, oneshot::Sender<Result<StewardsView, NodeError>>),
    Retire(String, oneshot::Sender<Result<StewardsView, NodeError>>),
    Exclude(
        String,
        String,
        oneshot::Sender<Result<StewardsView, NodeError>>,
    ),
    Vouch(
        String,
        String,
        oneshot::Sender<Result<StewardsView, NodeError>>,
    ),
    Report(String, String, oneshot::Sender<Result<(), NodeError>>),
    Reports(oneshot::Sender<Result<Vec<ReportView>, NodeError>>),
}

/// A report, as a steward reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// Who reported.
    pub reporter: Member,
    /// The post reported.
    pub post: entraide_crdt::PostId,
    /// Its title, if it is still on this node's board.
    pub title: Option<String>,
    /// Its author.
    pub author: Member,
    /// Why.
    pub reason: String,
    /// When (the reporter's clock).
    pub at: i64,
}

/// Names a member for a view.
pub(crate) fn member(a: &AuthorId, name: Option<String>) -> Member {
    Member {
        author: *a,
        name,
        fingerprint: a.fmt_short(),
    }
}

impl Node {
    /// Who the stewards are, who is excluded, and what waits for a second steward.
    pub async fn stewards(&self) -> Result<StewardsView, NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::View(tx)))
            .await
    }

    /// The acting resident, a steward, appoints `who` (name, fingerprint or id) steward,
    /// or agrees to.
    pub async fn appoint_steward(&self, who: &str) -> Result<StewardsView, NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::Appoint(who.into(), tx)))
            .await?
    }

    /// The acting resident, a steward, retires steward `who`, or agrees to.
    pub async fn retire_steward(&self, who: &str) -> Result<StewardsView, NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::Retire(who.into(), tx)))
            .await?
    }

    /// The acting resident, a steward, excludes `who` for `reason`.
    pub async fn exclude(&self, who: &str, reason: &str) -> Result<StewardsView, NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::Exclude(who.into(), reason.into(), tx)))
            .await?
    }

    /// The acting resident reports `post` to the stewards, for `reason`: sealed to the
    /// stewards of the moment, only they read it.
    pub async fn report(&self, post: &str, reason: &str) -> Result<(), NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::Report(post.into(), reason.into(), tx)))
            .await?
    }

    /// The reports the acting resident, a steward, can read, newest first.
    pub async fn reports(&self) -> Result<Vec<ReportView>, NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::Reports(tx)))
            .await?
    }

    /// The acting resident, a steward, vouches that `new` is the person who lost `old`.
    pub async fn vouch(&self, old: &str, new: &str) -> Result<StewardsView, NodeError> {
        self.ask(|tx| Command::Steward(StewardCommand::Vouch(old.into(), new.into(), tx)))
            .await?
    }
}

/// What a steward's act names: a member, and for an exclusion why.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StewardAct {
    /// The member, as typed (name, fingerprint or id).
    pub who: String,
    /// An exclusion's reason.
    #[serde(default)]
    pub reason: String,
}

/// A new key for a lost one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VouchRequest {
    /// The lost key, as typed.
    pub old: String,
    /// The new key, as typed.
    pub new: String,
}

pub(crate) fn routes() -> axum::Router<crate::api::ApiState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/stewards", get(api_view))
        .route("/api/v1/stewards/appoint", post(api_appoint))
        .route("/api/v1/stewards/retire", post(api_retire))
        .route("/api/v1/exclude", post(api_exclude))
        .route("/api/v1/vouch", post(api_vouch))
        .route("/api/v1/posts/{id}/report", post(api_report))
        .route("/api/v1/reports", get(api_reports))
}

/// Why a post is reported.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReportRequest {
    /// The reason, read by the stewards only.
    pub reason: String,
}

async fn api_report(
    Extension(s): Extension<ApiState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Json(r): Json<ReportRequest>,
) -> ApiResult<serde_json::Value> {
    s.node.report(&id, &r.reason).await?;
    Ok(Json(serde_json::json!({ "reported": true })))
}

async fn api_reports(Extension(s): Extension<ApiState>) -> ApiResult<Vec<ReportView>> {
    Ok(Json(s.node.reports().await?))
}

use axum::{Extension, Json};

use crate::api::{ApiResult, ApiState};

async fn api_view(Extension(s): Extension<ApiState>) -> ApiResult<StewardsView> {
    Ok(Json(s.node.stewards().await?))
}

async fn api_appoint(
    Extension(s): Extension<ApiState>,
    Json(a): Json<StewardAct>,
) -> ApiResult<StewardsView> {
    Ok(Json(s.node.appoint_steward(&a.who).await?))
}

async fn api_retire(
    Extension(s): Extension<ApiState>,
    Json(a): Json<StewardAct>,
) -> ApiResult<StewardsView> {
    Ok(Json(s.node.retire_steward(&a.who).await?))
}

async fn api_exclude(
    Extension(s): Extension<ApiState>,
    Json(a): Json<StewardAct>,
) -> ApiResult<StewardsView> {
    Ok(Json(s.node.exclude(&a.who, &a.reason).await?))
}

async fn api_vouch(
    Extension(s): Extension<ApiState>,
    Json(v): Json<VouchRequest>,
) -> ApiResult<StewardsView> {
    Ok(Json(s.node.vouch(&v.old, &v.new).await?))
}

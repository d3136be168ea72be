//! The idempotent publish of one flow, shared by `create-shared`, `create-parent` and the
//! demo.
//!
//! 1. Find the flow by exact name and type. If its published description carries the
//!    content marker of exactly this content, stop: `unchanged` (no job, no new version).
//! 2. If it is absent, `POST /api/v2/flows` creates it (so it lands in the right division).
//! 3. An Architect job uploads the YAML; Architect finds the flow by name and type,
//!    updates and publishes it. flowctl waits for the job with adaptive polling.
//! 4. The flow is read back to confirm the published version.
//!
//! If the job fails for a flow this run created, that empty flow is deleted so nothing is
//! left behind. A job failure that is really a rate limit ("could not find the flow with
//! id", see genesys-api.md) is retried a bounded number of times.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::{content_marker, FlowDocument};
use crate::models::{ArchitectJob, Division, EntityRef, Flow, FlowCreate, FlowType, JobStatus};
use serde::Serialize;
use std::time::Duration;

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

/// The `--output json` record of a create: `{"id","name","type","version","action"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub version: String,
    pub action: Action,
}

#[derive(Debug, Clone, Copy)]
pub struct PublishOptions {
    /// Overall limit for one Architect job.
    pub job_timeout: Duration,
    /// Attempts for jobs that fail because of a rate limit inside Architect.
    pub job_attempts: u32,
}

/// Why a flow whose content is unchanged must still be published again.
#[derive(Debug, Clone, Default)]
pub struct Freshness {
    /// A module this flow calls was published at this ISO-8601 time. Genesys copies a
    /// module into its callers only when they publish, so a caller published before it
    /// still runs the old copy and is republished.
    pub modules_published_at: Option<String>,
    /// Publish even if the content is unchanged (a module it calls changes in this run).
    pub force: bool,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            job_timeout: Duration::from_secs(300),
            job_attempts: 3,
        }
    }
}

/// The first 16 hex digits of the content hash, as written in the description marker.
fn short_hash(doc: &FlowDocument) -> String {
    doc.content_hash().chars().take(16).collect()
}

/// True when `flow` is published with exactly `doc`'s content.
pub fn is_up_to_date(flow: &Flow, doc: &FlowDocument) -> bool {
    flow.published_version.is_some()
        && flow
            .description
            .as_deref()
            .and_then(content_marker)
            .is_some_and(|m| m == short_hash(doc))
}

/// Publishes `doc` into `division` unless it is already published with this content.
pub async fn publish(
    client: &Client,
    doc: &FlowDocument,
    division: &Division,
    freshness: &Freshness,
    options: PublishOptions,
) -> Result<Published> {
    let what = format!("{} '{}'", kind(doc.flow_type), doc.name);
    let existing = client
        .find_flows_by_name(&doc.name, doc.flow_type)
        .await
        .map_err(|e| Error::from(e).context(format!("looking up {what}")))?
        .into_iter()
        .next();
    publish_known(client, doc, division, existing, freshness, options).await
}

/// [`publish`] when the caller has already looked the flow up (`existing`).
pub async fn publish_known(
    client: &Client,
    doc: &FlowDocument,
    division: &Division,
    existing: Option<Flow>,
    freshness: &Freshness,
    options: PublishOptions,
) -> Result<Published> {
    let what = format!("{} '{}'", kind(doc.flow_type), doc.name);
    if let Some(flow) = &existing {
        if !freshness.force
            && is_up_to_date(flow, doc)
            && !is_stale(flow, freshness.modules_published_at.as_deref())
        {
            tracing::info!(flow = %flow.id, "content unchanged; no job");
            return Ok(Published {
                id: flow.id.clone(),
                name: flow.name.clone(),
                flow_type: flow.flow_type,
                version: version_of(flow),
                action: Action::Unchanged,
            });
        }
        if let Some(err) = lock_error(flow) {
            return Err(err);
        }
    }

    let (flow_id, created) = match &existing {
        Some(flow) => (flow.id.clone(), false),
        None => {
            let body = FlowCreate {
                name: doc.name.clone(),
                description: doc.description.clone(),
                flow_type: doc.flow_type,
                division: Some(EntityRef {
                    id: Some(division.id.clone()),
                    name: Some(division.name.clone()),
                    self_uri: None,
                }),
            };
            let flow = client
                .create_flow(&body)
                .await
                .map_err(|e| Error::from(e).context(format!("creating {what}")))?;
            (flow.id, true)
        }
    };

    match run_publish_job(client, doc, &what, options).await {
        Ok(()) => {}
        Err(err) if created && job_timed_out(&err) => {
            // The job may still publish: deleting the flow now could race it. Say so; the
            // next run finds the flow by name and converges.
            return Err(err.context(format!(
                "publishing {what} (the job is still running; flow {flow_id} may yet be published: run the command again to converge)"
            )));
        }
        Err(err) if created => {
            // Leave nothing half-created: the flow exists only because of this run.
            return Err(match client.delete_flow(&flow_id).await {
                Ok(()) => err.context(format!("publishing {what} (the empty flow {flow_id} was removed)")),
                Err(del) => err.context(format!(
                    "publishing {what} (and removing the empty flow {flow_id} failed too: {del}; delete it by hand)"
                )),
            });
        }
        Err(err) => {
            // The job may have failed on a lock taken since we looked: name the holder.
            if let Ok(Some(flow)) = client.get_flow(&flow_id).await {
                if let Some(lock) = lock_error(&flow) {
                    return Err(lock.context(format!("publishing {what}")));
                }
            }
            return Err(err.context(format!("publishing {what}")));
        }
    }

    let flow = client
        .get_flow(&flow_id)
        .await
        .map_err(|e| Error::from(e).context(format!("reading back {what}")))?
        .ok_or_else(|| {
            Error::rejected(
                format!("{what} ({flow_id}) disappeared right after it was published"),
                None,
            )
        })?;
    if flow.published_version.is_none() {
        return Err(Error::rejected(
            format!(
                "the Architect job succeeded but {what} ({flow_id}) shows no published version"
            ),
            Some("run the command again; if it persists, check the flow in Architect".into()),
        ));
    }
    if !is_up_to_date(&flow, doc) {
        tracing::warn!(flow = %flow_id, "published, but the description does not carry this content's marker; the next run will publish again");
    }
    Ok(Published {
        id: flow.id.clone(),
        name: flow.name.clone(),
        flow_type: flow.flow_type,
        version: version_of(&flow),
        action: if created {
            Action::Created
        } else {
            Action::Updated
        },
    })
}

/// True when `flow` was published before `module_published_at` (both ISO-8601), i.e. it
/// still runs an older copy of the module. Unparseable dates count as not stale.
pub fn is_stale(flow: &Flow, module_published_at: Option<&str>) -> bool {
    let flow_at = flow
        .published_version
        .as_ref()
        .and_then(|v| v.date_published.as_deref())
        .and_then(|d| humantime::parse_rfc3339_weak(d).ok());
    let module_at = module_published_at.and_then(|d| humantime::parse_rfc3339_weak(d).ok());
    matches!((flow_at, module_at), (Some(f), Some(m)) if f < m)
}

/// Runs the Architect job for `doc`, retrying the rate-limit failures Architect reports as
/// "could not find the flow".
async fn run_publish_job(
    client: &Client,
    doc: &FlowDocument,
    what: &str,
    options: PublishOptions,
) -> Result<()> {
    let yaml = doc.publish_yaml();
    let mut attempt = 1;
    loop {
        let job = client.run_job(&yaml, options.job_timeout).await?;
        if job.status == JobStatus::Success {
            return Ok(());
        }
        if is_rate_limit_failure(&job) && attempt < options.job_attempts {
            let wait = Duration::from_secs(2u64.pow(attempt));
            tracing::warn!(job = %job.id, attempt, "Architect job hit a rate limit; retrying in {wait:?}");
            crate::progress::sleep(
                format!(
                    "a retry of '{}' after a rate limit inside Architect",
                    doc.name
                ),
                wait,
            )
            .await;
            attempt += 1;
            continue;
        }
        return Err(job_failure(&job, what));
    }
}

/// True when waiting for the job ran out of time (the job's own outcome is unknown).
fn job_timed_out(err: &Error) -> bool {
    matches!(err.root(), Error::Client(c) if matches!(**c, crate::client::ClientError::Timeout { .. }))
}

/// Archy exit code 107: a 429 inside the job surfaces as "could not find the flow with id".
fn is_rate_limit_failure(job: &ArchitectJob) -> bool {
    job.messages.iter().any(|m| {
        let t = m.text.to_lowercase();
        t.contains("could not find the flow with id") || t.contains("rate limit")
    })
}

/// The job's messages, whole, as the error.
fn job_failure(job: &ArchitectJob, what: &str) -> Error {
    let mut message = format!("Architect job {} failed for {what}", job.id);
    if job.messages.is_empty() {
        message.push_str(
            ": no messages were returned (Genesys reports \"no tracing messages available\")",
        );
    }
    for m in &job.messages {
        message.push_str(&format!(
            "\n  {}: {}",
            m.message_type.as_deref().unwrap_or("Message"),
            m.text
        ));
    }
    let hint = if job.messages.iter().any(|m| m.text.contains("is locked")) {
        Some("ask the holder to publish or discard their changes in Architect, or unlock it with the architect:flow:unlock permission".to_string())
    } else {
        None
    };
    Error::rejected(message, hint)
}

/// A lock held by someone (a UI user or another OAuth client) blocks publishing.
fn lock_error(flow: &Flow) -> Option<Error> {
    let holder = match (&flow.locked_user, &flow.locked_client) {
        (Some(user), _) => format!("user {}", describe(user)),
        (None, Some(client)) => format!("OAuth client {}", describe(client)),
        (None, None) => return None,
    };
    Some(Error::rejected(
        format!(
            "{} '{}' ({}) is locked by {holder}",
            kind(flow.flow_type),
            flow.name,
            flow.id
        ),
        Some(
            "ask them to publish or discard their changes in Architect; an admin with architect:flow:unlock can unlock it"
                .into(),
        ),
    ))
}

fn describe(entity: &EntityRef) -> String {
    match (&entity.name, &entity.id) {
        (Some(name), Some(id)) => format!("'{name}' ({id})"),
        (Some(name), None) => format!("'{name}'"),
        (None, Some(id)) => id.clone(),
        (None, None) => "unknown".into(),
    }
}

fn version_of(flow: &Flow) -> String {
    flow.published_version
        .as_ref()
        .map(|v| v.id.clone())
        .unwrap_or_default()
}

/// "common module" / "inbound call flow", for messages: the one vocabulary of
/// [`crate::output::type_name`].
pub fn kind(flow_type: FlowType) -> String {
    crate::output::type_name(flow_type).to_string()
}

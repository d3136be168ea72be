//! The idempotent publish of one flow, shared by `create-shared`, `create-parent`, `apply`
//! and the demo. It goes as the Terraform provider goes (docs/genesys-api.md#flows):
//!
//! 1. Find the flow by exact name and type. If its published description carries the
//!    content marker of exactly this content, stop: `unchanged` (no job, no new version).
//! 2. No `POST /api/v2/flows`: an Architect job gets the YAML (its `division:` set), finds
//!    the flow by name and type or creates it, and publishes it. flowctl takes the flow's
//!    id from the finished job's `flow.id`. So no `architect:flow:add` permission is
//!    needed, and no window opens where the job publishes another flow than one created.
//! 3. The flow is read back (a 404 right after the write is waited out) to confirm the
//!    published version; `apply` reads all of them back in one listing instead.
//!
//! A lock held by this very OAuth client (a run that died mid-checkout) is ours: the flow
//! is published, and if Architect still refuses it, our own lock is released and the job
//! sent once more. A lock held by anyone else fails, naming them. If the job fails for a
//! flow that did not exist before, the flow the job made (its `flow.id`, still unpublished)
//! is deleted, so nothing is left half-created.
//!
//! A job runs on this client's token and spends its rate-limit window; when the window is
//! spent the job fails ("could not find the flow with id", Archy exit code 107, or a 429 in
//! its messages). Such a job is run again, at most [`MAX_RERUNS`] times, each time only
//! after the window has reset and only after re-reading the flow and finding its published
//! version unchanged, so one run never makes two versions of one flow. (The Terraform
//! provider retries this failure for export jobs only; for a publish job the re-read is
//! what makes running it again safe.) Any other job failure is reported, not retried.

use crate::client::export::ExportTarget;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::compare::{compare, Comparison};
use crate::flow::{content_marker, FlowDocument};
use crate::models::{ArchitectJob, Division, EntityRef, Flow, FlowType, FlowVersion, JobStatus};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    Created,
    Updated,
    Unchanged,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
        }
    }
}

/// The `--output json` record of a create: `{"id","name","type","version","action"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Published {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    pub(crate) version: String,
    pub(crate) action: Action,
}

pub(crate) use crate::cli::JOB_TIMEOUT_SECS;

#[derive(Debug, Clone, Copy)]
pub(crate) struct PublishOptions {
    /// Overall limit for one Architect job.
    pub(crate) job_timeout: Duration,
    /// Read the flow back after the job (`GET /api/v2/flows/{id}`). `apply` turns this off
    /// and reads every published flow back in one listing.
    pub(crate) read_back: bool,
    /// [`publish_found`] checks a flow someone else published last against its export
    /// (`--no-drift` turns it off). `apply` decides in its plan instead.
    pub(crate) drift: bool,
}

/// Why a flow whose content is unchanged must still be published again.
#[derive(Debug, Clone, Default)]
pub(crate) struct Freshness {
    /// A module this flow calls was published at this ISO-8601 time. Genesys copies a
    /// module into its callers only when they publish, so a caller published before it
    /// still runs the old copy and is republished.
    pub(crate) modules_published_at: Option<String>,
    /// Publish even if the content is unchanged (a module it calls changes in this run).
    pub(crate) force: bool,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            job_timeout: Duration::from_secs(JOB_TIMEOUT_SECS),
            read_back: true,
            drift: true,
        }
    }
}

/// The first 16 hex digits of the content hash, as written in the description marker.
fn short_hash(doc: &FlowDocument) -> String {
    doc.content_hash().chars().take(16).collect()
}

/// True when `flow` is published with exactly `doc`'s content.
pub(crate) fn is_up_to_date(flow: &Flow, doc: &FlowDocument) -> bool {
    flow.published_version.is_some()
        && flow
            .description
            .as_deref()
            .and_then(content_marker)
            .is_some_and(|m| m == short_hash(doc))
}

/// Whether the published version of `f` is flowctl's own work with `doc`'s content: its
/// marker names `doc`'s content and the version's `createdByClient` is this OAuth client.
/// Then nothing but this client has published since, so the published content is what
/// flowctl published with that marker. A listing without `createdByClient` (whether the
/// flow listing carries it is unverified; the SDK's `FlowVersion` has it) or a token
/// without a client id gives `false`, and the flow is exported: the safe reading.
pub(crate) fn published_by_us(f: &Flow, doc: &FlowDocument, client_id: &str) -> bool {
    let by = f
        .published_version
        .as_ref()
        .and_then(|v| v.created_by_client.as_ref())
        .and_then(|c| c.id.as_deref());
    !client_id.is_empty() && by == Some(client_id) && is_up_to_date(f, doc)
}

/// How the published content of a flow compares with `doc`, from its export (`None`: the
/// export job did not return it, which compares as changed: republishing converges,
/// trusting an unread flow would not).
pub(crate) fn compare_exported(doc: &FlowDocument, exported: Option<&String>) -> Comparison {
    match exported {
        Some(text) => compare(&doc.publish_yaml(), text).unwrap_or_else(|e| Comparison {
            same: false,
            diff: format!("the export could not be compared: {e}\n"),
        }),
        None => Comparison {
            same: false,
            diff: "the export job did not return this flow\n".into(),
        },
    }
}

/// The flow of `doc`'s exact name and type, if it exists.
pub(crate) async fn find_existing(client: &Client, doc: &FlowDocument) -> Result<Option<Flow>> {
    let what = format!("{} '{}'", kind(doc.flow_type), doc.name);
    Ok(client
        .find_flows_by_name(&doc.name, doc.flow_type)
        .await
        .map_err(|e| Error::from(e).context(format!("looking up {what}")))?
        .into_iter()
        .next())
}

/// The division a flow is published into: the one the user named, else the one it is in
/// today (a re-run never moves a flow), else Genesys' default division.
pub(crate) fn target_division(named: Option<&str>, existing: Option<&Flow>) -> String {
    named
        .map(str::to_string)
        .or_else(|| existing.and_then(division_today))
        .unwrap_or_else(|| crate::flow::DEFAULT_DIVISION.to_string())
}

/// The division `flow` is in, by name.
pub(crate) fn division_today(flow: &Flow) -> Option<String> {
    flow.division.as_ref().and_then(|d| d.name.clone())
}

/// "moves inbound call flow 'X' from division 'A' to 'B'" when publishing `existing` into
/// `target` moves it to another division.
pub(crate) fn division_move(existing: Option<&Flow>, target: &str) -> Option<String> {
    let flow = existing?;
    let today = division_today(flow)?;
    (today != target).then(|| {
        format!(
            "moves {} '{}' from division '{today}' to '{target}'",
            kind(flow.flow_type),
            flow.name
        )
    })
}

/// Publishes `doc` into `division` unless it is already published with this content
/// (`existing` is the flow of its name and type, looked up by the caller). As in `plan`,
/// the marker alone does not decide: a flow someone else published last (a UI edit keeps
/// the marker) is exported and compared, unless `options.drift` is off.
pub(crate) async fn publish_found(
    client: &Client,
    doc: &FlowDocument,
    division: &Division,
    existing: Option<Flow>,
    freshness: &Freshness,
    options: PublishOptions,
) -> Result<Published> {
    let what = format!("{} '{}'", kind(doc.flow_type), doc.name);
    let mut freshness = freshness.clone();
    let drift_check = existing
        .as_ref()
        .filter(|f| {
            options.drift
                && !freshness.force
                && is_up_to_date(f, doc)
                && !published_by_us(f, doc, client.client_id())
        })
        .and_then(ExportTarget::published);
    if let Some(target) = drift_check {
        let exported = export_for_drift(client, std::slice::from_ref(&target), &what).await?;
        let c = compare_exported(doc, exported.get(&target.id));
        if !c.same {
            tracing::warn!(flow = %target.id, "{what} changed in the org since flowctl published it; publishing it again");
            tracing::info!("drift:\n{}", c.diff);
            freshness.force = true;
        }
    }
    publish_known(client, doc, division, existing, &freshness, options).await
}

/// How long one export job of a drift check may take before it gives up.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(300);

/// The drift check's export of `targets` (`what` names them in an error): each flow's
/// published YAML by flow id. A failed export job stops the command (exit 4) with the job's
/// messages; nothing changes.
pub(crate) async fn export_for_drift(
    client: &Client,
    targets: &[ExportTarget],
    what: &str,
) -> Result<HashMap<String, String>> {
    let exported = client
        .export_flows(targets, EXPORT_TIMEOUT)
        .await
        .map_err(|e| {
            Error::from(e).context(format!(
                "reading the published content of {what} for the drift check (--no-drift skips it)"
            ))
        })?;
    if !exported.failures.is_empty() {
        return Err(Error::rejected(
            format!(
                "the export job for the drift check failed:\n  {}",
                exported.failures.join("\n  ")
            ),
            Some("run again; --no-drift trusts the description markers alone".into()),
        ));
    }
    Ok(exported.yaml)
}

/// [`publish_found`] when the caller has already looked the flow up (`existing`).
pub(crate) async fn publish_known(
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
        if let Some(err) = lock_error(flow, client.client_id()) {
            return Err(err);
        }
    }
    let yaml = doc.publish_yaml_in(&division.name);
    let mut job = run_job(client, &yaml, &what, options).await?;
    let mut reruns = 0;
    while job.status == JobStatus::Failure
        && crate::client::killed_by_rate_limit(job.messages.iter().map(|m| m.text.as_str()))
    {
        if reruns == MAX_RERUNS {
            break;
        }
        reruns += 1;
        tracing::warn!(
            "the Architect job {} for {what} was killed by the rate limit (jobs run on this token's window); running it again once the window has reset ({reruns} of {MAX_RERUNS})",
            job.id
        );
        client.after_job_killed().await;
        // The killed job may have published after all: never make a second version.
        let now = reread(client, doc, existing.as_ref())
            .await
            .map_err(|e| e.context(format!("re-reading {what} before running its job again")))?;
        let before = existing.as_ref().and_then(|f| f.published_version.as_ref());
        let after = now.as_ref().and_then(|f| f.published_version.as_ref());
        if before.map(|v| &v.id) != after.map(|v| &v.id) {
            let Some(flow) = now.filter(|f| is_up_to_date(f, doc)) else {
                return Err(Error::rejected(
                    format!("{what} was published by someone else while its job, killed by the rate limit, waited to run again"),
                    Some("run the command again: it plans afresh from what is published now".into()),
                ));
            };
            tracing::warn!(flow = %flow.id, "{what}: the killed job published after all; not running it again");
            let action = if existing.is_some() {
                Action::Updated
            } else {
                Action::Created
            };
            return confirm(&flow, doc, &what, action);
        }
        job = run_job(client, &yaml, &what, options).await?;
    }
    if job.status == JobStatus::Failure && mentions_lock(&job) {
        // Architect may still hold our own lock against us: release it and send once more.
        if let Some(id) = own_lock(client, doc, existing.as_ref()).await {
            tracing::warn!(flow = %id, "the flow is locked by this OAuth client (an earlier run died mid-checkout); unlocking it");
            client
                .unlock_flow(&id)
                .await
                .map_err(|e| Error::from(e).context(format!("unlocking our own lock on {what}")))?;
            job = run_job(client, &yaml, &what, options).await?;
        }
    }
    if job.status != JobStatus::Success {
        return Err(failed(client, &job, existing.as_ref(), &what).await);
    }
    let created = existing.is_none();
    let flow_id = match job.flow.as_ref().and_then(|f| f.id.clone()) {
        Some(id) => id,
        // (unverified) Every source shows `flow.id` on a finished publish job; without it
        // the flow is found the way the job found it, by name and type.
        None => client
            .find_flows_by_name(&doc.name, doc.flow_type)
            .await
            .map_err(|e| Error::from(e).context(format!("looking up {what} after its job")))?
            .into_iter()
            .next()
            .map(|f| f.id)
            .ok_or_else(|| {
                Error::rejected(
                    format!(
                        "the Architect job {} succeeded but names no flow, and no {what} exists",
                        job.id
                    ),
                    Some(
                        "run the command again; if it persists, check the flow in Architect".into(),
                    ),
                )
            })?,
    };
    let action = if created {
        Action::Created
    } else {
        Action::Updated
    };
    if !options.read_back {
        return Ok(Published {
            id: flow_id,
            name: doc.name.clone(),
            flow_type: doc.flow_type,
            version: String::new(),
            action,
        });
    }
    let flow = client
        .get_flow_after_write(&flow_id)
        .await
        .map_err(|e| Error::from(e).context(format!("reading back {what}")))?
        .ok_or_else(|| {
            Error::rejected(
                format!("{what} ({flow_id}) could not be read after it was published"),
                Some("run the command again; if it persists, check the flow in Architect".into()),
            )
        })?;
    confirm(&flow, doc, &what, action)
}

/// The record of a flow read back after its job: it must show a published version.
pub(crate) fn confirm(
    flow: &Flow,
    doc: &FlowDocument,
    what: &str,
    action: Action,
) -> Result<Published> {
    if flow.published_version.is_none() {
        return Err(Error::rejected(
            format!(
                "the Architect job succeeded but {what} ({}) shows no published version",
                flow.id
            ),
            Some("run the command again; if it persists, check the flow in Architect".into()),
        ));
    }
    if !is_up_to_date(flow, doc) {
        tracing::warn!(flow = %flow.id, "published, but the description does not carry this content's marker; the next run will publish again");
    }
    Ok(Published {
        id: flow.id.clone(),
        name: flow.name.clone(),
        flow_type: flow.flow_type,
        version: version_of(flow),
        action,
    })
}

/// Times a publish job the rate limit killed is run again (after the first run).
const MAX_RERUNS: u32 = 3;

/// The flow as it is now: by id when it existed, else by name and type.
async fn reread(
    client: &Client,
    doc: &FlowDocument,
    existing: Option<&Flow>,
) -> Result<Option<Flow>> {
    let found = match existing {
        Some(f) => client.get_flow(&f.id).await,
        None => client
            .find_flows_by_name(&doc.name, doc.flow_type)
            .await
            .map(|v| v.into_iter().next()),
    };
    found.map_err(Error::from)
}

/// register → upload → wait, with the step that failed named.
async fn run_job(
    client: &Client,
    yaml: &str,
    what: &str,
    options: PublishOptions,
) -> Result<ArchitectJob> {
    client
        .run_job(yaml, options.job_timeout)
        .await
        .map_err(|e| {
            let e = Error::from(e);
            if job_timed_out(&e) {
                // The job may still publish: nothing is deleted, and the next run finds the
                // flow by name and converges.
                e.context(format!(
                    "publishing {what} (the job is still running and may yet publish: run the command again to converge)"
                ))
            } else {
                e.context(format!("publishing {what}"))
            }
        })
}

/// The id of the flow when it is locked by this very OAuth client.
async fn own_lock(client: &Client, doc: &FlowDocument, existing: Option<&Flow>) -> Option<String> {
    let flow = match existing {
        Some(f) => client.get_flow(&f.id).await.ok().flatten(),
        None => client
            .find_flows_by_name(&doc.name, doc.flow_type)
            .await
            .ok()?
            .into_iter()
            .next(),
    }?;
    let ours = flow.locked_user.is_none()
        && flow
            .locked_client
            .as_ref()
            .and_then(|c| c.id.as_deref())
            .is_some_and(|id| id == client.client_id());
    ours.then_some(flow.id)
}

fn mentions_lock(job: &ArchitectJob) -> bool {
    job.messages
        .iter()
        .any(|m| m.text.to_lowercase().contains("locked"))
}

/// The error for a failed job, after leaving nothing half-created: a flow that did not
/// exist before and that this run's job made (named by its `flow.id`, still unpublished)
/// is deleted; anything else is left alone.
async fn failed(client: &Client, job: &ArchitectJob, existing: Option<&Flow>, what: &str) -> Error {
    let err = job_failure(job, what);
    if let Some(before) = existing {
        // A lock taken since we looked: name the holder.
        if let Ok(Some(flow)) = client.get_flow(&before.id).await {
            if let Some(lock) = lock_error(&flow, client.client_id()) {
                return lock.context(format!("publishing {what}"));
            }
        }
        return err;
    }
    let Some(id) = job.flow.as_ref().and_then(|f| f.id.clone()) else {
        return err;
    };
    match client.get_flow(&id).await {
        Ok(Some(flow)) if flow.published_version.is_none() => match client.delete_flow(&id).await {
            Ok(()) => err.context(format!(
                "publishing {what} (the unpublished flow {id} its job created was removed)"
            )),
            Err(del) => err.context(format!(
                "publishing {what} (removing the unpublished flow {id} its job created failed too: {del}; delete it by hand)"
            )),
        },
        Ok(_) => err,
        Err(e) => err.context(format!(
            "publishing {what} (could not check whether its job left flow {id} behind: {e})"
        )),
    }
}

/// True when `flow` was published before `module_published_at` (both ISO-8601), i.e. it
/// still runs an older copy of the module. Unparseable dates count as not stale.
pub(crate) fn is_stale(flow: &Flow, module_published_at: Option<&str>) -> bool {
    let flow_at = flow
        .published_version
        .as_ref()
        .and_then(|v| v.date_published.as_deref())
        .and_then(|d| humantime::parse_rfc3339_weak(d).ok());
    let module_at = module_published_at.and_then(|d| humantime::parse_rfc3339_weak(d).ok());
    matches!((flow_at, module_at), (Some(f), Some(m)) if f < m)
}

/// True when waiting for the job ran out of time (the job's own outcome is unknown).
fn job_timed_out(err: &Error) -> bool {
    matches!(err.root(), Error::Client(c) if matches!(**c, crate::client::ClientError::Timeout { .. }))
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
            // Server text: one line each, no control characters, cut when huge.
            crate::output::sanitize(m.message_type.as_deref().unwrap_or("Message"), 40),
            crate::output::sanitize(&m.text, crate::output::MAX_MESSAGE)
        ));
    }
    let hint = if job.messages.iter().any(|m| m.text.contains("is locked")) {
        Some("ask the holder to publish or discard their changes in Architect, or unlock it with the architect:flow:unlock permission".to_string())
    } else {
        None
    };
    Error::rejected(message, hint)
}

/// A lock held by someone else (a UI user or another OAuth client) blocks publishing; a
/// lock held by `own_client_id` (this OAuth client) does not.
pub(crate) fn lock_error(flow: &Flow, own_client_id: &str) -> Option<Error> {
    let holder = match (&flow.locked_user, &flow.locked_client) {
        (Some(user), _) => format!("user {}", describe(user)),
        (None, Some(client)) if client.id.as_deref() == Some(own_client_id) => return None,
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
pub(crate) fn kind(flow_type: FlowType) -> String {
    crate::output::type_name(flow_type).to_string()
}

// Versions: what `history`, `diff` and `rollback` share.

/// A version id (`"3.0"`) as numbers, for ordering: `"10.0"` comes after `"9.0"`. An id
/// that is not numbers sorts first.
pub(crate) fn version_key(id: &str) -> Vec<u64> {
    id.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The flow's published versions, newest first. The order of the API's listing is not
/// documented (unverified), so it is sorted here by version number.
pub(crate) async fn versions(client: &Client, flow: &Flow) -> Result<Vec<FlowVersion>> {
    let mut versions = client.flow_versions(&flow.id).await.map_err(|e| {
        Error::from(e).context(format!(
            "listing the versions of {} '{}'",
            kind(flow.flow_type),
            flow.name
        ))
    })?;
    // Only published versions are history; a listing row without a type is kept.
    versions.retain(|v| v.version_type.as_deref().is_none_or(|t| t == "PUBLISH"));
    versions.sort_by_key(|v| std::cmp::Reverse(version_key(&v.id)));
    Ok(versions)
}

/// The input error for a version the flow does not have, naming those it has.
pub(crate) fn no_such_version(flow: &Flow, wanted: &str, versions: &[FlowVersion]) -> Error {
    let ids: Vec<&str> = versions.iter().map(|v| v.id.as_str()).collect();
    Error::input(
        format!(
            "{} '{}' has no version {wanted}; its versions are {}",
            kind(flow.flow_type),
            flow.name,
            if ids.is_empty() {
                "none (it was never published)".to_string()
            } else {
                ids.join(", ")
            }
        ),
        Some(format!(
            "pick one of them (`flowctl history {}` lists them with their dates)",
            super::verify::shell_word(&flow.name)
        )),
    )
}

/// The YAML of version `version` of `flow`, from an export job (`flow.version`). A failed
/// job stops the command (exit 4) with its messages.
pub(crate) async fn export_version(client: &Client, flow: &Flow, version: &str) -> Result<String> {
    let what = format!(
        "version {version} of {} '{}'",
        kind(flow.flow_type),
        flow.name
    );
    let target = ExportTarget {
        id: flow.id.clone(),
        name: flow.name.clone(),
        flow_type: flow.flow_type,
        version: Some(version.to_string()),
    };
    let exported = client
        .export_flows(std::slice::from_ref(&target), EXPORT_TIMEOUT)
        .await
        .map_err(|e| Error::from(e).context(format!("exporting {what}")))?;
    if !exported.failures.is_empty() {
        return Err(Error::rejected(
            format!(
                "the export job for {what} failed:\n  {}",
                exported.failures.join("\n  ")
            ),
            Some("run the command again; if it persists, open the version in Architect".into()),
        ));
    }
    exported.yaml.get(&flow.id).cloned().ok_or_else(|| {
        Error::rejected(
            format!("the export job returned no content for {what}"),
            Some("run the command again; if it persists, open the version in Architect".into()),
        )
    })
}

/// Exported Architect YAML as a document flowctl can publish again: no placeholders are
/// substituted (an export has none to fill), and the description loses the marker it had,
/// so that publishing writes the marker of this very content.
pub(crate) fn document_of_export(text: &str, source: &str) -> Result<FlowDocument> {
    let facts = crate::flow::read::facts(text, source)?;
    let description = facts
        .description
        .as_deref()
        .map(crate::flow::compare::without_marker)
        .filter(|d| !d.is_empty());
    let yaml = crate::flow::read::with_description(text, description.as_deref().unwrap_or(""))
        .unwrap_or_else(|| text.to_string());
    Ok(FlowDocument {
        flow_type: facts.flow_type,
        name: facts.name,
        description,
        division: facts.division,
        yaml,
        modules: facts.modules,
        queues: facts.queues,
        references: facts.references,
    })
}

/// Whether the callers of a flow of this type bind a copy of it when they publish, so that
/// changing it means republishing them: common modules, and bot flows (the callers of a
/// bot bind its published version the same way, unverified beyond dependency tracking
/// naming them as consumers).
pub(crate) fn cascades(flow_type: FlowType) -> bool {
    matches!(
        flow_type,
        FlowType::CommonModule | FlowType::Bot | FlowType::DigitalBot
    )
}

/// The flows whose published version uses `flow` (dependency tracking's
/// `consumingresources`, `flowFilter=published`), read as flows (one listing of their
/// types). Empty for a type that does not cascade.
pub(crate) async fn callers(client: &Client, flow: &Flow) -> Result<Vec<Flow>> {
    let Some(object_type) = flow
        .flow_type
        .object_type()
        .filter(|_| cascades(flow.flow_type))
    else {
        return Ok(Vec::new());
    };
    let what = format!("{} '{}'", kind(flow.flow_type), flow.name);
    let deps = client
        .consuming_resources(&flow.id, object_type, Some("published"))
        .await
        .map_err(|e| Error::from(e).context(format!("finding the callers of {what}")))?;
    let mut types: Vec<FlowType> = deps
        .iter()
        .filter_map(|d| {
            d.object_type
                .as_deref()
                .and_then(FlowType::from_object_type)
        })
        .collect();
    types.sort();
    types.dedup();
    if types.is_empty() {
        return Ok(Vec::new());
    }
    let listed = client
        .list_flows(&types)
        .await
        .map_err(|e| Error::from(e).context(format!("reading the callers of {what}")))?;
    let mut found: Vec<Flow> = listed
        .into_iter()
        .filter(|f| f.id != flow.id && deps.iter().any(|d| d.id == f.id))
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(found)
}

/// A caller and the version of the flow it runs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallerRow {
    pub name: String,
    pub id: String,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    /// The version of the module it runs (`None`: published before any listed version).
    pub runs: Option<String>,
    pub stale: bool,
}

/// The callers of `flow` (from [`callers`]) and the version of `flow` each runs.
pub(crate) fn caller_rows(
    flow: &Flow,
    versions: &[FlowVersion],
    callers: &[Flow],
) -> Vec<CallerRow> {
    let current = flow.published_version.as_ref().map(|v| v.id.as_str());
    callers
        .iter()
        .map(|c| {
            let published = c
                .published_version
                .as_ref()
                .and_then(|v| v.date_published.as_deref());
            let runs = bound_version(versions, published).map(|v| v.id.clone());
            CallerRow {
                stale: runs.as_deref() != current,
                name: c.name.clone(),
                id: c.id.clone(),
                flow_type: c.flow_type,
                runs,
            }
        })
        .collect()
}

/// Which of `versions` (newest first) a caller published at `caller_published` runs: the
/// newest one published at or before it, since Genesys copies a module into a caller when
/// the caller publishes. Dates that do not parse give `None`.
pub(crate) fn bound_version<'a>(
    versions: &'a [FlowVersion],
    caller_published: Option<&str>,
) -> Option<&'a FlowVersion> {
    let at = humantime::parse_rfc3339_weak(caller_published?).ok()?;
    versions.iter().find(|v| {
        v.date_published
            .as_deref()
            .and_then(|d| humantime::parse_rfc3339_weak(d).ok())
            .is_some_and(|d| d <= at)
    })
}

/// The permission dependency tracking needs (`GET /api/v2/architect/dependencytracking/*`,
/// "Requires ALL permissions: architect:dependencyTracking:view" in the Python SDK's
/// ArchitectApi docs).
pub(crate) const DEPENDENCY_PERMISSION: &str = "architect:dependencyTracking:view";

/// A lookup of a module's callers that the OAuth client may not make: a 403 is a warning
/// naming the permission (the callers are only reported, never changed), anything else
/// stays the error it is.
pub(crate) fn callers_or_warning<T: Default>(
    result: Result<T>,
    module: &str,
) -> Result<(T, Option<String>)> {
    match result {
        Ok(found) => Ok((found, None)),
        Err(e) if forbidden(&e) => Ok((
            T::default(),
            Some(format!(
                "the callers of common module '{module}' could not be listed: the OAuth client lacks {DEPENDENCY_PERMISSION} (403), so flows outside this run that call it are not reported; give its role that permission to see them"
            )),
        )),
        Err(e) => Err(e),
    }
}

/// True for a 403 answer.
fn forbidden(e: &Error) -> bool {
    matches!(e.root(), Error::Client(c) if c.status() == Some(403))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ApiError, ClientError};

    fn api(status: u16) -> Error {
        Error::from(ClientError::from(ApiError {
            method: "GET".into(),
            path: "/api/v2/architect/dependencytracking/consumingresources".into(),
            status,
            code: String::new(),
            message: "no".into(),
            context_id: None,
            correlation_id: None,
            retry_after: None,
            body: None,
        }))
    }

    #[test]
    fn a_403_on_the_callers_is_a_warning_naming_the_permission() {
        let (found, warning) =
            callers_or_warning::<Vec<String>>(Err(api(403).context("listing")), "M")
                .expect("warning");
        assert!(found.is_empty());
        let w = warning.expect("a warning");
        assert!(w.contains("architect:dependencyTracking:view"), "{w}");
        assert!(w.contains("'M'"), "{w}");
        assert!(callers_or_warning::<Vec<String>>(Err(api(500)), "M").is_err());
        assert!(callers_or_warning::<Vec<String>>(Err(api(401)), "M").is_err());
        let (found, warning) = callers_or_warning(Ok(vec!["x".to_string()]), "M").expect("ok");
        assert_eq!((found.len(), warning), (1, None));
    }
}

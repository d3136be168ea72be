//! Architect export jobs: the published content of many flows in a few requests.
//!
//! 1. `POST /api/v2/flows/export/jobs` with `{"flows": [{"flow": {"id", "version"},
//!    "fileName", "exportType": "Yaml"}]}` → `{id, status, totalFlows}`
//!    (`RegisterArchitectExportJob`, `ExportDetails`, `ArchitectFlowReference` in the
//!    Python SDK 269; the Terraform provider sends only `flow.id` and `flow.version`).
//! 2. Poll `GET /api/v2/flows/export/jobs/{id}?expand=messages`
//!    (`ArchitectExportJobStateResponse`: `status`, `downloadUrl`, `messages`) until it
//!    ends, with the same adaptive clock as publish jobs.
//! 3. `GET downloadUrl`: a storage URL, so no `Authorization` header. One flow comes back
//!    as its YAML file, several as a zip of them.
//!
//! Many flows go in one job (chunks of [`EXPORT_CHUNK`]), so a drift check of 300 flows
//! costs a handful of requests, not 300.

use super::retry::{run, Schedule, Step, Task};
use super::{Client, ClientError, ClientResult, Resend};
pub(crate) use crate::models::{
    ExportDetails, ExportJobRegistration, ExportJobRequest, ExportJobState, FlowReference,
};
use crate::models::{FlowType, JobStatus};
use reqwest::Method;
use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

/// Flows per export job. No source gives the real limit (unverified); 100 keeps a job's
/// zip small and 300 flows at three jobs.
pub(crate) const EXPORT_CHUNK: usize = 100;
/// Attempts of one export job the rate limit kills, as the Terraform provider's
/// `generateDownloadUrlFn` (`maxJobAttempts = 5`).
const EXPORT_ATTEMPTS: u32 = 5;
/// Export jobs of one call running at once.
const PARALLEL_JOBS: usize = 4;
/// Largest download accepted, and largest file inside a zip (against a runaway server).
const MAX_DOWNLOAD: usize = 64 * 1024 * 1024;
const MAX_ENTRY: u64 = 16 * 1024 * 1024;
/// The first poll of an export job. A plan has learned no job times yet, and export jobs
/// take about as long as publish jobs (seconds), so polling from 100 ms would spend most
/// of the drift check's requests on polls.
const FIRST_POLL: Duration = Duration::from_millis(500);
/// Most files read from one zip.
const MAX_ENTRIES: usize = 10_000;

/// A flow to export: its id, the version (the published one), and its name and type to
/// match the file that comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportTarget {
    pub id: String,
    pub name: String,
    pub flow_type: FlowType,
    pub version: Option<String>,
}

impl ExportTarget {
    /// The published version of `f`, or `None` when it was never published.
    pub(crate) fn published(f: &crate::models::Flow) -> Option<ExportTarget> {
        let version = f.published_version.as_ref()?;
        Some(ExportTarget {
            id: f.id.clone(),
            name: f.name.clone(),
            flow_type: f.flow_type,
            version: Some(version.id.clone()),
        })
    }
}

/// What an export gives back: each flow's YAML by flow id, or the messages of the job
/// that failed.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub(crate) yaml: HashMap<String, String>,
    /// Failed jobs' messages (the flows of such a job are absent from `yaml`).
    pub(crate) failures: Vec<String>,
}

impl Client {
    /// Exports the published content of `targets` in as few jobs as it can.
    pub async fn export_flows(
        &self,
        targets: &[ExportTarget],
        timeout: Duration,
    ) -> ClientResult<Exported> {
        use futures::stream::{self, StreamExt, TryStreamExt};
        let chunks: Vec<&[ExportTarget]> = targets.chunks(EXPORT_CHUNK).collect();
        let results: Vec<Exported> = stream::iter(chunks)
            .map(|chunk| self.export_resilient(chunk, timeout))
            .buffer_unordered(PARALLEL_JOBS)
            .try_collect()
            .await?;
        let mut out = Exported::default();
        for r in results {
            out.yaml.extend(r.yaml);
            out.failures.extend(r.failures);
        }
        Ok(out)
    }

    /// One chunk, as the Terraform provider exports (`generateDownloadUrlFn`): a job the
    /// rate limit killed is run again from scratch, up to [`EXPORT_ATTEMPTS`] in all, each
    /// time in a fresh rate-limit window (where the provider sleeps 15 s × attempt). A
    /// chunk whose job still fails is split in two, down to one flow per job, so one flow
    /// Archy cannot export no longer sinks the other 99.
    fn export_resilient<'a>(
        &'a self,
        targets: &'a [ExportTarget],
        timeout: Duration,
    ) -> futures::future::BoxFuture<'a, ClientResult<Exported>> {
        Box::pin(async move {
            let mut attempt = 1;
            let messages = loop {
                match self.export_chunk(targets, timeout).await? {
                    Ok(yaml) => {
                        return Ok(Exported {
                            yaml,
                            failures: Vec::new(),
                        })
                    }
                    Err(messages)
                        if attempt < EXPORT_ATTEMPTS
                            && super::killed_by_rate_limit(messages.iter().map(String::as_str)) =>
                    {
                        tracing::warn!(
                            "an export job of {} flow(s) was killed by the rate limit (it runs on this token's window); running it again in the next window (attempt {} of {EXPORT_ATTEMPTS})",
                            targets.len(),
                            attempt + 1
                        );
                        self.after_job_killed().await;
                        attempt += 1;
                    }
                    Err(messages) => break messages,
                }
            };
            if targets.len() < 2 {
                return Ok(Exported {
                    yaml: HashMap::new(),
                    failures: messages,
                });
            }
            tracing::info!(
                "an export job of {} flows failed; exporting them in two halves",
                targets.len()
            );
            let (a, b) = targets.split_at(targets.len() / 2);
            let mut out = self.export_resilient(a, timeout).await?;
            let rest = self.export_resilient(b, timeout).await?;
            out.yaml.extend(rest.yaml);
            out.failures.extend(rest.failures);
            Ok(out)
        })
    }

    /// One export job: register, wait, download, unpack, match files to flows.
    async fn export_chunk(
        &self,
        targets: &[ExportTarget],
        timeout: Duration,
    ) -> ClientResult<Result<HashMap<String, String>, Vec<String>>> {
        let request = ExportJobRequest {
            flows: targets
                .iter()
                .enumerate()
                .map(|(i, t)| ExportDetails {
                    flow: FlowReference {
                        id: Some(t.id.clone()),
                        version: t.version.clone(),
                        ..FlowReference::default()
                    },
                    file_name: Some(file_stem(i)),
                    export_type: Some("Yaml".into()),
                })
                .collect(),
        };
        // The job runs on this token's window: it starts when the window can carry it.
        let mut slot = self.inner.pacer.admit_job().await;
        let job = self.register_export_job(&request).await?;
        slot.registered().await;
        let state = self.wait_for_export_job(&job.id, timeout).await?;
        slot.ran();
        drop(slot);
        let url = match (state.status, state.download_url) {
            (JobStatus::Success, Some(url)) => url,
            (_, _) => {
                let mut messages: Vec<String> =
                    state.messages.into_iter().map(|m| m.text).collect();
                if messages.is_empty() {
                    messages.push(format!(
                        "export job {} ended {:?} without a download URL",
                        state.id, state.status
                    ));
                }
                return Ok(Err(messages));
            }
        };
        let bytes = self.download_export(&url).await?;
        let files = unpack(&bytes).map_err(|message| ClientError::Decode {
            method: "GET".into(),
            path: "export download".into(),
            message,
        })?;
        Ok(Ok(match_files(targets, files)))
    }

    /// `POST /api/v2/flows/export/jobs`. A registration that is sent twice only costs an
    /// extra job, so it is safe to resend.
    pub(crate) async fn register_export_job(
        &self,
        request: &ExportJobRequest,
    ) -> ClientResult<ExportJobRegistration> {
        let body = serde_json::to_value(request).map_err(|e| ClientError::Decode {
            method: "POST".into(),
            path: "/api/v2/flows/export/jobs".into(),
            message: e.to_string(),
        })?;
        self.send(
            Method::POST,
            &["api", "v2", "flows", "export", "jobs"],
            &[],
            Some(&body),
            Resend::Safe,
        )
        .await?
        .json()
    }

    /// Polls until the job ends (Success or Failure, returned as is) or `timeout` passes.
    async fn wait_for_export_job(
        &self,
        id: &str,
        timeout: Duration,
    ) -> ClientResult<ExportJobState> {
        self.poll_job(super::polling::JobPoll {
            segments: &["api", "v2", "flows", "export", "jobs", id],
            what: format!("export job {id}"),
            timeout,
            min_first: FIRST_POLL,
            learn: false,
            quote_status: false,
        })
        .await
    }

    /// `GET downloadUrl` without the token (a storage URL), retried like an upload.
    async fn download_export(&self, url: &str) -> ClientResult<Vec<u8>> {
        // Held to the https-or-loopback rule like an upload, and never shown with its query
        // (a credential) or user info.
        let target = super::storage_url(url, "export download URL")?;
        let shown = super::shown_url(url);
        let what = format!("GET {shown}");
        let task = Task {
            what: &what,
            waiting_for: "a retry of the export download",
        };
        run(Schedule::Backoff(self.policy()), task, |_| {
            self.download_once(target.clone(), &shown)
        })
        .await
        .map_err(|g| g.into_client_error("GET", &shown))
    }

    /// One try of [`Client::download_export`].
    async fn download_once(&self, target: url::Url, shown: &str) -> Step<Vec<u8>, ClientError> {
        let err = match self.http().get(target).send().await {
            Ok(resp) if resp.status().is_success() => {
                // Read no further than the bound (a larger declared length is not read).
                match super::read_bounded(resp, MAX_DOWNLOAD).await {
                    Ok(b) if b.truncated => return Step::Fail(too_big(shown)),
                    Ok(b) => return Step::Done(b.bytes),
                    Err(e) => super::storage_network("GET", shown, &e),
                }
            }
            Ok(resp) => {
                super::storage_refusal("GET", shown, "the download of the exported flows", resp)
                    .await
            }
            Err(e) => super::storage_network("GET", shown, &e),
        };
        super::retry::storage_step(err)
    }
}

fn too_big(shown: &str) -> ClientError {
    ClientError::Decode {
        method: "GET".into(),
        path: shown.to_string(),
        message: format!("the export is larger than {} MiB", MAX_DOWNLOAD >> 20),
    }
}

/// The `fileName` of the `i`-th flow of a job: only letters, digits, `_`, `-`, as the API
/// requires.
fn file_stem(i: usize) -> String {
    format!("flow_{i}")
}

/// A download's files: the entries of a zip, or the one YAML file it is.
pub fn unpack(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    if !bytes.starts_with(b"PK\x03\x04") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "the exported flow is not UTF-8 text".to_string())?;
        return Ok(vec![(String::new(), text.to_string())]);
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("the export is not a readable zip: {e}"))?;
    let mut files = Vec::new();
    for i in 0..archive.len().min(MAX_ENTRIES) {
        let entry = archive
            .by_index(i)
            .map_err(|e| format!("entry {i} of the export zip: {e}"))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let mut text = String::new();
        entry
            .take(MAX_ENTRY + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("'{name}' in the export zip: {e}"))?;
        if text.len() as u64 > MAX_ENTRY {
            return Err(format!(
                "'{name}' in the export zip is larger than {} MiB",
                MAX_ENTRY >> 20
            ));
        }
        files.push((name, text));
    }
    Ok(files)
}

/// Matches files to flows: by the `fileName` flowctl gave each flow, else by the flow type
/// and name written in the YAML (the real zip's entry names are unverified).
fn match_files(targets: &[ExportTarget], files: Vec<(String, String)>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let ([t], [(_, text)]) = (targets, files.as_slice()) {
        out.insert(t.id.clone(), text.clone());
        return out;
    }
    for (name, text) in files {
        let base = name.rsplit('/').next().unwrap_or(&name);
        let stem = base.split('.').next().unwrap_or(base);
        let by_stem = stem
            .strip_prefix("flow_")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| targets.get(i));
        let target = by_stem.or_else(|| {
            let (t, n) = type_and_name(&text)?;
            targets.iter().find(|x| x.flow_type == t && x.name == n)
        });
        if let Some(t) = target {
            out.insert(t.id.clone(), text);
        }
    }
    out
}

/// The flow type (the one top-level key) and `name` of Architect YAML.
fn type_and_name(text: &str) -> Option<(FlowType, String)> {
    let value: yaml_serde::Value = yaml_serde::from_str(text).ok()?;
    let (key, body) = value.as_mapping()?.iter().next()?;
    let t = FlowType::parse_any(key.as_str()?)?;
    Some((t, body.get("name")?.as_str()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(i: usize, name: &str) -> ExportTarget {
        ExportTarget {
            id: format!("id{i}"),
            name: name.into(),
            flow_type: FlowType::InboundCall,
            version: None,
        }
    }

    #[test]
    fn files_are_matched_by_file_name_then_by_the_name_in_the_yaml() {
        let targets = [target(0, "A"), target(1, "B"), target(2, "C")];
        let files = vec![
            (
                "flow_1.yaml".to_string(),
                "inboundCall:\n  name: B\n".to_string(),
            ),
            ("whatever.yaml".into(), "inboundCall:\n  name: C\n".into()),
            ("junk.yaml".into(), "not: a flow".into()),
        ];
        let m = match_files(&targets, files);
        assert_eq!(m.len(), 2);
        assert!(m["id1"].contains("name: B"));
        assert!(m["id2"].contains("name: C"));
    }

    #[test]
    fn a_download_that_is_not_a_zip_is_the_one_yaml_file() {
        let files = unpack(b"commonModule:\n  name: M\n").unwrap_or_default();
        assert_eq!(files.len(), 1);
        assert!(unpack(b"PK\x03\x04garbage").is_err());
        assert!(unpack(&[0xff, 0xfe, 0x00]).is_err());
    }
}

//! The typed verbs flowctl uses: flows, Architect jobs, queues, divisions, the org, and
//! dependency tracking. Each goes through [`Client::send`].

use super::retry::{self, Schedule, Step};
use super::{Client, ClientError, ClientResult, Resend};
use crate::models::*;
use reqwest::Method;
use std::time::{Duration, Instant};

/// True when an Architect job's messages say the rate limit killed it: its Archy session,
/// which runs on the caller's token, found the window spent. The real service then says
/// "could not find the flow with id '…'" and "setting the Archy exit code to 107". As the
/// Terraform provider's `isRetryableJobFailure` does, "could not find the flow with id"
/// counts only with exit code 107 or "Archy failed" beside it: alone it is also what a
/// flow deleted in the meantime gives, which no rerun cures. A 429 or "Too Many Requests"
/// in the messages says the same more plainly.
pub(crate) fn killed_by_rate_limit<'a>(messages: impl IntoIterator<Item = &'a str>) -> bool {
    let all = messages
        .into_iter()
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("\n");
    let not_found = all.contains("could not find the flow with id");
    let exit_107 = ["exit code 107", "exit code: 107", "exit code to 107"]
        .iter()
        .any(|p| all.contains(p));
    let throttled = all.contains("too many requests")
        || all
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "429");
    (not_found && (exit_107 || all.contains("archy failed"))) || throttled
}

/// A 404 or 410 answer, which some verbs treat as "absent".
fn is_gone(e: &ClientError) -> bool {
    matches!(e.status(), Some(404 | 410))
}

impl Client {
    // flows

    /// `GET /api/v2/flows/{id}`; `None` for 404/410.
    pub async fn get_flow(&self, id: &str) -> ClientResult<Option<Flow>> {
        match self.get(&["api", "v2", "flows", id], &[]).await {
            Ok(f) => Ok(Some(f)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v2/flows/{id}` right after a job wrote the flow: a 404 there can be the
    /// read racing the write (eventual consistency), so it is retried for a bounded time
    /// ([`retry::READ_AFTER_WRITE`]) before it counts as "absent".
    pub async fn get_flow_after_write(&self, id: &str) -> ClientResult<Option<Flow>> {
        let what = format!("GET /api/v2/flows/{id}");
        let waiting_for = format!("flow {id} to be readable after its publish");
        let task = retry::Task {
            what: &what,
            waiting_for: &waiting_for,
        };
        let read = retry::run(Schedule::Settle(retry::READ_AFTER_WRITE), task, |_| async {
            match self.get::<Flow>(&["api", "v2", "flows", id], &[]).await {
                Ok(flow) => Step::Done(flow),
                Err(e) if is_gone(&e) => Step::retry(e),
                Err(e) => Step::Fail(e),
            }
        })
        .await;
        match read {
            Ok(flow) => Ok(Some(flow)),
            // Still absent when the window closed: absent.
            Err(g) if g.exhausted => {
                tracing::debug!(flow = %id, "{what}: gave up after {} attempts over {:.1} s: still {}", g.attempts, g.elapsed.as_secs_f64(), g.last.status().unwrap_or(404));
                Ok(None)
            }
            Err(g) => Err(g.last),
        }
    }

    /// `POST /api/v2/flows/actions/unlock?flow={id}` (needs `architect:flow:unlock`).
    pub(crate) async fn unlock_flow(&self, id: &str) -> ClientResult<()> {
        self.send(
            Method::POST,
            &["api", "v2", "flows", "actions", "unlock"],
            &[("flow", id.to_string())],
            None,
            Resend::Safe,
        )
        .await
        .map(|_| ())
    }

    /// Every flow of this type whose name equals `name` exactly, reading every page (the
    /// API's `name` filter is a substring match).
    pub(crate) async fn find_flows_by_name(
        &self,
        name: &str,
        flow_type: FlowType,
    ) -> ClientResult<Vec<Flow>> {
        let flows = self
            .flow_rows(&[("type", flow_type.as_query()), ("name", name.to_string())])
            .await?;
        Ok(flows
            .into_iter()
            .filter(|f| f.name == name && f.flow_type == flow_type && f.deleted != Some(true))
            .collect())
    }

    /// Every flow of any type whose name equals `name` exactly (all pages), for references
    /// that do not say the type (`transferToFlow`).
    pub(crate) async fn find_flows_any_type(&self, name: &str) -> ClientResult<Vec<Flow>> {
        let flows = self.flow_rows(&[("name", name.to_string())]).await?;
        Ok(flows
            .into_iter()
            .filter(|f| f.name == name && f.deleted != Some(true))
            .collect())
    }

    /// Every schedule group, data table, data action or user prompt (all pages): what a
    /// flow may reference by name but flowctl never creates.
    pub(crate) async fn list_referenced(
        &self,
        kind: crate::flow::RefKind,
    ) -> ClientResult<Vec<EntityRef>> {
        use crate::flow::RefKind;
        let path: &[&str] = match kind {
            RefKind::ScheduleGroup => &["api", "v2", "architect", "schedulegroups"],
            RefKind::DataTable => &["api", "v2", "flows", "datatables"],
            RefKind::DataAction => &["api", "v2", "integrations", "actions"],
            RefKind::UserPrompt => &["api", "v2", "architect", "prompts"],
            RefKind::BotFlow | RefKind::DigitalBotFlow | RefKind::Flow | RefKind::InQueueFlow => {
                return Ok(Vec::new())
            }
        };
        self.get_all(path, &[]).await
    }

    /// Every row of the flow listing (all pages) that reads as a flow. A row of a flow
    /// type flowctl does not know is skipped with a debug line, as the SDKs read an unknown
    /// enum value as `OUTDATED_SDK_VERSION` rather than failing: a type Genesys adds must
    /// not fail the page.
    async fn flow_rows(&self, query: &[(&str, String)]) -> ClientResult<Vec<Flow>> {
        let rows: Vec<serde_json::Value> = self.get_all(&["api", "v2", "flows"], query).await?;
        let mut flows = Vec::with_capacity(rows.len());
        for row in rows {
            let kind = row
                .get("type")
                .and_then(|t| t.as_str())
                .map(|t| crate::output::sanitize(t, 40))
                .unwrap_or_default();
            match serde_json::from_value::<Flow>(row) {
                Ok(f) => flows.push(f),
                Err(e) if FlowType::parse_any(&kind).is_none() => {
                    tracing::debug!("skipped a flow listing row of type '{kind}', which flowctl does not know ({e})");
                }
                Err(e) => {
                    return Err(ClientError::Decode {
                        method: "GET".into(),
                        path: "/api/v2/flows".into(),
                        message: crate::output::sanitize(&e.to_string(), 300),
                    })
                }
            }
        }
        Ok(flows)
    }

    /// Every flow of these types (all pages); no types lists every type (no `type=`, as
    /// the Terraform provider lists).
    pub async fn list_flows(&self, types: &[FlowType]) -> ClientResult<Vec<Flow>> {
        let query: Vec<(&str, String)> = types.iter().map(|t| ("type", t.as_query())).collect();
        let flows = self.flow_rows(&query).await?;
        Ok(flows
            .into_iter()
            .filter(|f| f.deleted != Some(true))
            .collect())
    }

    /// `DELETE /api/v2/flows/{id}`; 404/410 count as done. A 409 is transient there (the
    /// Terraform provider retries it for 30 s), so it is retried for
    /// [`retry::DELETE_CONFLICT`] before it is the answer.
    pub async fn delete_flow(&self, id: &str) -> ClientResult<()> {
        let what = format!("DELETE /api/v2/flows/{id}");
        let waiting_for = format!("flow {id} to be deletable (Genesys answered 409)");
        let task = retry::Task {
            what: &what,
            waiting_for: &waiting_for,
        };
        retry::run(Schedule::Settle(retry::DELETE_CONFLICT), task, |_| async {
            match self
                .send(
                    Method::DELETE,
                    &["api", "v2", "flows", id],
                    &[],
                    None,
                    Resend::Safe,
                )
                .await
            {
                Ok(_) => Step::Done(()),
                Err(e) if is_gone(&e) => Step::Done(()),
                Err(e) if e.status() == Some(409) => Step::retry(e),
                Err(e) => Step::Fail(e),
            }
        })
        .await
        .map_err(|g| g.into_client_error("DELETE", &format!("/api/v2/flows/{id}")))
    }

    /// `GET /api/v2/flows/{id}/versions` (all pages).
    pub(crate) async fn flow_versions(&self, id: &str) -> ClientResult<Vec<FlowVersion>> {
        self.get_all(&["api", "v2", "flows", id, "versions"], &[])
            .await
    }

    // Architect jobs

    /// `POST /api/v2/flows/jobs`.
    pub async fn register_job(&self) -> ClientResult<JobRegistration> {
        // An unused registration expires on its own, so sending again is harmless.
        self.send(
            Method::POST,
            &["api", "v2", "flows", "jobs"],
            &[],
            None,
            Resend::Safe,
        )
        .await?
        .json()
    }

    /// `PUT presignedUrl` with exactly the returned headers and no Authorization (it is a
    /// storage URL, not the API). Only 200 is success.
    pub async fn upload_job_content(&self, job: &JobRegistration, yaml: &str) -> ClientResult<()> {
        // Held to the https-or-loopback rule like every URL (nothing is sent otherwise), and
        // never shown with its query: that is a credential for the upload.
        let target = super::upload_url(&job.presigned_url)?;
        let shown = super::shown_url(&job.presigned_url);
        // Headers the registration asks for must be HTTP headers: a bad one is the answer's
        // fault, not the network's, so it is refused once rather than retried.
        for (k, v) in &job.headers {
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err()
                || reqwest::header::HeaderValue::from_str(v).is_err()
            {
                return Err(ClientError::Decode {
                    method: "POST".into(),
                    path: "/api/v2/flows/jobs".into(),
                    message: format!(
                        "the job's upload header '{}' is not a valid HTTP header",
                        crate::output::sanitize(k, 80)
                    ),
                });
            }
        }
        let what = format!("PUT {shown}");
        let task = retry::Task {
            what: &what,
            waiting_for: "a retry of the Architect job upload",
        };
        retry::run(Schedule::Backoff(self.policy()), task, |attempt| {
            let target = target.clone();
            let shown = &shown;
            async move {
                // The upload may have landed and only its answer been lost: a job that has
                // left `Registered` has its content, and uploading again must not run it twice.
                if attempt > 1 {
                    if let Ok(state) = self.get_job(&job.id).await {
                        if state.status != JobStatus::Registered {
                            tracing::info!(job = %job.id, "the upload's answer was lost, but the job has its content");
                            return Step::Done(());
                        }
                    }
                }
                let mut req = self.http().put(target).body(yaml.to_string());
                for (k, v) in &job.headers {
                    req = req.header(k, v);
                }
                let err = match req.send().await {
                    Ok(resp) if resp.status().as_u16() == 200 => return Step::Done(()),
                    Ok(resp) => {
                        super::storage_refusal("PUT", shown, "the upload of the flow's YAML", resp)
                            .await
                    }
                    Err(e) => super::storage_network("PUT", shown, &e),
                };
                super::retry::storage_step(err)
            }
        })
        .await
        .map_err(|g| g.into_client_error("PUT", &shown))
    }

    /// `GET /api/v2/flows/jobs/{id}?expand=messages`.
    pub async fn get_job(&self, id: &str) -> ClientResult<ArchitectJob> {
        let (job, _) = self
            .get_job_state(&["api", "v2", "flows", "jobs", id])
            .await?;
        Ok(job)
    }

    /// Waits until the job is Success or Failure (returned as is), or `timeout` passes:
    /// first for about as long as this run's earlier jobs took, then polling quickly with
    /// backoff (see `polling`).
    pub async fn wait_for_job(&self, id: &str, timeout: Duration) -> ClientResult<ArchitectJob> {
        let _waiting = crate::progress::waiting_for_job(format!("Architect job {id}"), timeout);
        self.poll_job(super::polling::JobPoll {
            segments: &["api", "v2", "flows", "jobs", id],
            what: format!("Architect job {id}"),
            timeout,
            min_first: Duration::ZERO,
            learn: true,
            quote_status: true,
        })
        .await
    }

    /// register → upload → wait. Returns the finished job, Success or Failure. The job is
    /// in the journal from its registration until it is seen finished, so a run killed in
    /// between lets the next one wait for it ([`Client::wait_for_earlier_jobs`]).
    ///
    /// The job runs on this client's token and spends its rate-limit window, so it starts
    /// only when the window can carry it besides the jobs already in flight (the pacer's
    /// job admission; its spend is learned from `inin-ratelimit-count`).
    pub async fn run_job(&self, yaml: &str, timeout: Duration) -> ClientResult<ArchitectJob> {
        let mut slot = self.inner.pacer.admit_job().await;
        let job = self.register_job().await?;
        slot.registered().await;
        if let Some(j) = self.journal() {
            j.record(&job.id);
        }
        self.upload_job_content(&job, yaml).await?;
        let done = self.wait_for_job(&job.id, timeout).await?;
        slot.ran();
        drop(slot);
        if let Some(j) = self.journal() {
            j.done(&job.id);
        }
        Ok(done)
    }

    /// A job the rate limit killed: no job starts late in a window again in this run (its
    /// spend may come sooner than the pacer learned), and this waits until the window
    /// current now has reset, so that the job is run again only in a fresh window.
    pub(crate) async fn after_job_killed(&self) {
        self.inner.pacer.job_killed();
        self.inner.pacer.wait_for_reset().await;
    }

    /// Waits (up to `timeout` in all) for the Architect jobs an earlier run of this client
    /// left in flight, so that what happens next is decided on what they published. Returns
    /// how many were waited for. A job that cannot be read is forgotten: the plan then sees
    /// whatever it did.
    pub(crate) async fn wait_for_earlier_jobs(&self, timeout: Duration) -> usize {
        let Some(journal) = self.journal() else {
            return 0;
        };
        let pending = journal.pending();
        if pending.is_empty() {
            return 0;
        }
        tracing::warn!(
            "waiting for {} Architect job(s) that an earlier run left in flight (up to {} s)",
            pending.len(),
            timeout.as_secs()
        );
        let start = Instant::now();
        let mut waited = 0;
        for entry in pending {
            let left = timeout.saturating_sub(start.elapsed());
            match self.get_job(&entry.job).await {
                Ok(job) if job.status == JobStatus::Started && !left.is_zero() => {
                    waited += 1;
                    match self.wait_for_job(&entry.job, left).await {
                        Ok(_) => journal.done(&entry.job),
                        Err(e) => tracing::warn!("Architect job {} did not finish: {e}", entry.job),
                    }
                }
                // Finished, never given content (Registered), or gone.
                Ok(job) if job.status != JobStatus::Started => journal.done(&entry.job),
                Err(e) if is_gone(&e) => journal.done(&entry.job),
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot read Architect job {}: {e}", entry.job),
            }
        }
        waited
    }

    // queues, divisions, org

    /// `GET /api/v2/routing/queues/{id}`; `None` for 404.
    pub(crate) async fn get_queue(&self, id: &str) -> ClientResult<Option<Queue>> {
        match self.get(&["api", "v2", "routing", "queues", id], &[]).await {
            Ok(q) => Ok(Some(q)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Queues whose name contains `name` (case-insensitive, as the API filters), all pages.
    pub(crate) async fn search_queues(&self, name: &str) -> ClientResult<Vec<Queue>> {
        self.get_all(
            &["api", "v2", "routing", "queues"],
            &[("name", name.to_string())],
        )
        .await
    }

    /// Every queue (all pages), for suggestions.
    pub async fn list_queues(&self) -> ClientResult<Vec<Queue>> {
        self.get_all(&["api", "v2", "routing", "queues"], &[]).await
    }

    /// The division with exactly this name, if any.
    pub(crate) async fn find_division(&self, name: &str) -> ClientResult<Option<Division>> {
        let all: Vec<Division> = self
            .get_all(
                &["api", "v2", "authorization", "divisions"],
                &[("name", name.to_string())],
            )
            .await?;
        Ok(all.into_iter().find(|d| d.name == name))
    }

    /// `GET /api/v2/organizations/me`.
    pub async fn organization(&self) -> ClientResult<Organization> {
        self.get(&["api", "v2", "organizations", "me"], &[]).await
    }

    // dependency tracking

    /// `consumedresources?id=&version=&objectType=&resourceType=...` (all pages).
    pub(crate) async fn consumed_resources(
        &self,
        id: &str,
        version: &str,
        object_type: &str,
        resource_types: &[&str],
    ) -> ClientResult<Vec<Dependency>> {
        let mut q = vec![
            ("id", id.to_string()),
            ("version", version.to_string()),
            ("objectType", object_type.to_string()),
        ];
        q.extend(
            resource_types
                .iter()
                .map(|r| ("resourceType", r.to_string())),
        );
        self.get_all(
            &[
                "api",
                "v2",
                "architect",
                "dependencytracking",
                "consumedresources",
            ],
            &q,
        )
        .await
    }

    /// `consumingresources?id=&objectType=&flowFilter=` (all pages).
    pub async fn consuming_resources(
        &self,
        id: &str,
        object_type: &str,
        flow_filter: Option<&str>,
    ) -> ClientResult<Vec<Dependency>> {
        let mut q = vec![
            ("id", id.to_string()),
            ("objectType", object_type.to_string()),
        ];
        if let Some(f) = flow_filter {
            q.push(("flowFilter", f.to_string()));
        }
        self.get_all(
            &[
                "api",
                "v2",
                "architect",
                "dependencytracking",
                "consumingresources",
            ],
            &q,
        )
        .await
    }

    /// The flows whose published version calls the common module `module_id`
    /// (`consumingresources`, `flowFilter=published`; all pages).
    pub(crate) async fn module_callers(&self, module_id: &str) -> ClientResult<Vec<Dependency>> {
        self.consuming_resources(
            module_id,
            FlowType::CommonModule.object_type().unwrap_or_default(),
            Some("published"),
        )
        .await
    }

    /// `GET /api/v2/architect/dependencytracking/build`.
    pub(crate) async fn dependency_build_status(&self) -> ClientResult<DependencyStatus> {
        self.get(
            &["api", "v2", "architect", "dependencytracking", "build"],
            &[],
        )
        .await
    }
}

/// The `status` of a job's answer as the server spelt it (printable, short).
pub(crate) fn status_text(raw: &serde_json::Value) -> String {
    raw.get("status")
        .and_then(|s| s.as_str())
        .map(|s| crate::output::sanitize(s, 40))
        .unwrap_or_else(|| "(none)".into())
}

#[cfg(test)]
mod tests {
    use super::killed_by_rate_limit;

    #[test]
    fn a_job_killed_by_the_rate_limit_is_told_from_a_flow_that_is_gone() {
        let killed = [
            "Archy failed: could not find the flow with id 'f1'",
            "setting the Archy exit code to 107",
        ];
        assert!(killed_by_rate_limit(killed));
        assert!(killed_by_rate_limit([
            "could not find the flow with id 'f1' (exit code: 107)"
        ]));
        assert!(killed_by_rate_limit([
            "Archy failed; could not find the flow with id 'f1'"
        ]));
        assert!(killed_by_rate_limit(["HTTP 429 from the flows API"]));
        assert!(killed_by_rate_limit(["Too Many Requests"]));
        // A flow deleted meanwhile says "could not find" too, and no rerun cures it.
        assert!(!killed_by_rate_limit([
            "could not find the flow with id 'f1'"
        ]));
        assert!(!killed_by_rate_limit([
            "the queue 'Q4290' could not be found"
        ]));
        assert!(!killed_by_rate_limit([
            "Unable to publish: the flow is locked"
        ]));
    }
}

//! The typed verbs flowctl uses: flows, Architect jobs, queues, divisions, the org, and
//! dependency tracking. Each goes through [`Client::send`].

use super::retry::Decision;
use super::{Client, ClientError, ClientResult, Resend};
use crate::models::*;
use reqwest::Method;
use std::time::{Duration, Instant};

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

    /// Every flow of this type whose name equals `name` exactly, reading every page (the
    /// API's `name` filter is a substring match).
    pub async fn find_flows_by_name(
        &self,
        name: &str,
        flow_type: FlowType,
    ) -> ClientResult<Vec<Flow>> {
        let flows: Vec<Flow> = self
            .get_all(
                &["api", "v2", "flows"],
                &[("type", flow_type.as_query()), ("name", name.to_string())],
            )
            .await?;
        Ok(flows
            .into_iter()
            .filter(|f| f.name == name && f.flow_type == flow_type && f.deleted != Some(true))
            .collect())
    }

    /// Every flow of these types (all pages).
    pub async fn list_flows(&self, types: &[FlowType]) -> ClientResult<Vec<Flow>> {
        let query: Vec<(&str, String)> = types.iter().map(|t| ("type", t.as_query())).collect();
        let flows: Vec<Flow> = self.get_all(&["api", "v2", "flows"], &query).await?;
        Ok(flows
            .into_iter()
            .filter(|f| f.deleted != Some(true))
            .collect())
    }

    /// `POST /api/v2/flows`. After an ambiguous failure (the connection dropped, a 5xx) the
    /// flow is looked up by name and type before posting again, so a retry never makes a
    /// duplicate.
    pub async fn create_flow(&self, body: &FlowCreate) -> ClientResult<Flow> {
        let json = serde_json::to_value(body).map_err(|e| ClientError::Decode {
            method: "POST".into(),
            path: "/api/v2/flows".into(),
            message: e.to_string(),
        })?;
        let policy = self.policy();
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self
                .send(
                    Method::POST,
                    &["api", "v2", "flows"],
                    &[],
                    Some(&json),
                    Resend::OnlyAfter429,
                )
                .await
            {
                Ok(b) => return b.json(),
                Err(e) => e,
            };
            let ambiguous = match &err {
                ClientError::Network { .. } => true,
                ClientError::RetriesExhausted { .. } => false,
                other => matches!(other.status(), Some(500 | 502 | 503 | 504)),
            };
            if !ambiguous {
                return Err(err);
            }
            // Did it land? Then that is our flow.
            if let Ok(mut found) = self.find_flows_by_name(&body.name, body.flow_type).await {
                if !found.is_empty() {
                    tracing::info!(name = %body.name, "the create's answer was lost, but the flow exists; using it");
                    return Ok(found.remove(0));
                }
            }
            match policy.decide(attempt, true, None, start.elapsed(), rand::random::<f64>()) {
                Decision::RetryAfter(d) => {
                    crate::progress::sleep(format!("a retry of creating '{}'", body.name), d).await
                }
                Decision::GiveUp => return Err(err),
            }
        }
    }

    /// `PUT /api/v2/flows/{id}`.
    pub async fn update_flow(&self, id: &str, body: &FlowCreate) -> ClientResult<Flow> {
        let json = serde_json::to_value(body).unwrap_or_default();
        self.send(
            Method::PUT,
            &["api", "v2", "flows", id],
            &[],
            Some(&json),
            Resend::Safe,
        )
        .await?
        .json()
    }

    /// `DELETE /api/v2/flows/{id}`; 404/410 count as done.
    pub async fn delete_flow(&self, id: &str) -> ClientResult<()> {
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
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v2/flows/{id}/versions` (all pages).
    pub async fn flow_versions(&self, id: &str) -> ClientResult<Vec<FlowVersion>> {
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
        let policy = self.policy();
        let start = Instant::now();
        let mut attempt = 0;
        // Never log the presigned URL's query: it is a credential for the upload.
        let shown = job
            .presigned_url
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        loop {
            attempt += 1;
            let mut req = self.http().put(&job.presigned_url).body(yaml.to_string());
            for (k, v) in &job.headers {
                req = req.header(k, v);
            }
            let err = match req.send().await {
                Ok(resp) if resp.status().as_u16() == 200 => return Ok(()),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    ClientError::from(super::ApiError {
                        method: "PUT".into(),
                        path: shown.clone(),
                        status,
                        code: String::new(),
                        message: format!(
                            "the upload of the flow's YAML was refused: {}",
                            super::auth::excerpt(&body)
                        ),
                        context_id: None,
                        correlation_id: None,
                        retry_after: None,
                        body: None,
                    })
                }
                Err(e) => ClientError::Network {
                    method: "PUT".into(),
                    url: shown.clone(),
                    message: super::auth::describe(&e),
                },
            };
            match policy.decide(
                attempt,
                err.is_retryable(),
                None,
                start.elapsed(),
                rand::random::<f64>(),
            ) {
                Decision::RetryAfter(d) => {
                    crate::progress::sleep("a retry of the Architect job upload", d).await
                }
                Decision::GiveUp => return Err(err),
            }
        }
    }

    /// `GET /api/v2/flows/jobs/{id}?expand=messages`.
    pub async fn get_job(&self, id: &str) -> ClientResult<ArchitectJob> {
        self.get(
            &["api", "v2", "flows", "jobs", id],
            &[("expand", "messages".to_string())],
        )
        .await
    }

    /// Waits until the job is Success or Failure (returned as is), or `timeout` passes:
    /// first for about as long as this run's earlier jobs took, then polling quickly with
    /// backoff (see `polling`).
    pub async fn wait_for_job(&self, id: &str, timeout: Duration) -> ClientResult<ArchitectJob> {
        let start = Instant::now();
        let _waiting = crate::progress::waiting_for_job(format!("Architect job {id}"), timeout);
        let mut delay = self.job_clock().first_wait();
        let mut first = true;
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(delay.min(left)).await;
            let job = self.get_job(id).await?;
            if job.status.is_finished() {
                self.job_clock().record(start.elapsed());
                return Ok(job);
            }
            if timeout.saturating_sub(start.elapsed()).is_zero() {
                return Err(ClientError::Timeout {
                    what: format!("Architect job {id} (last status {:?})", job.status),
                    after: timeout,
                });
            }
            // After the learned first wait, poll quickly again, then back off.
            delay = if first {
                Duration::from_millis(100)
            } else {
                super::polling::next_wait(delay)
            };
            first = false;
        }
    }

    /// register → upload → wait. Returns the finished job, Success or Failure.
    pub async fn run_job(&self, yaml: &str, timeout: Duration) -> ClientResult<ArchitectJob> {
        let job = self.register_job().await?;
        self.upload_job_content(&job, yaml).await?;
        self.wait_for_job(&job.id, timeout).await
    }

    // queues, divisions, org

    /// `GET /api/v2/routing/queues/{id}`; `None` for 404.
    pub async fn get_queue(&self, id: &str) -> ClientResult<Option<Queue>> {
        match self.get(&["api", "v2", "routing", "queues", id], &[]).await {
            Ok(q) => Ok(Some(q)),
            Err(e) if is_gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Queues whose name contains `name` (case-insensitive, as the API filters), all pages.
    pub async fn search_queues(&self, name: &str) -> ClientResult<Vec<Queue>> {
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
    pub async fn find_division(&self, name: &str) -> ClientResult<Option<Division>> {
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
    pub async fn consumed_resources(
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

    /// `GET /api/v2/architect/dependencytracking/build`.
    pub async fn dependency_build_status(&self) -> ClientResult<DependencyStatus> {
        self.get(
            &["api", "v2", "architect", "dependencytracking", "build"],
            &[],
        )
        .await
    }
}

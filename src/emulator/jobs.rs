//! Architect jobs over HTTP: registration, the presigned S3 upload that starts the job
//! (its completion is `architect::complete_job`), and the job's status.

use super::architect;
use super::http::{lock, ok, param, params, query, s3_error, unknown};
use super::state::{Fault, Job};
use super::Shared;
use crate::models::*;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

const UPLOAD_HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/octet-stream"),
    ("x-amz-server-side-encryption", "AES256"),
];

pub(super) async fn register_job(AxState(shared): AxState<Shared>, headers: HeaderMap) -> Response {
    let token = super::edge::bearer(&headers);
    let id = uuid::Uuid::new_v4().to_string();
    let signature = uuid::Uuid::new_v4().simple().to_string();
    let mut s = lock(&shared);
    let front = s.scripted.front().cloned();
    let (fail_as_rate_limit, fail_after_publishing) = match front {
        Some(Fault::JobRateLimited) => (true, false),
        Some(Fault::JobRateLimitedAfterPublishing) => (false, true),
        _ => (false, false),
    };
    if fail_as_rate_limit || fail_after_publishing {
        s.scripted.pop_front();
    }
    s.jobs.insert(
        id.clone(),
        Job {
            id: id.clone(),
            signature: signature.clone(),
            status: JobStatus::Registered,
            flow: None,
            messages: Vec::new(),
            fail_as_rate_limit,
            fail_after_publishing,
            token,
        },
    );
    ok(&JobRegistration {
        id: id.clone(),
        presigned_url: format!(
            "{}/uploads/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature={signature}",
            shared.base_url
        ),
        headers: UPLOAD_HEADERS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        self_uri: Some(format!("/api/v2/flows/jobs/{id}")),
    })
}

pub(super) async fn upload(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let q = query(&raw);
    if headers.contains_key("authorization") {
        return s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter should be specified");
    }
    for (k, v) in UPLOAD_HEADERS {
        if headers.get(k).and_then(|h| h.to_str().ok()) != Some(v) {
            return s3_error(StatusCode::FORBIDDEN, "SignatureDoesNotMatch", &format!("The request signature we calculated does not match the signature you provided: header '{k}' must be '{v}'"));
        }
    }
    let yaml = String::from_utf8_lossy(&body).into_owned();
    {
        let mut s = lock(&shared);
        let Some(job) = s.jobs.get_mut(&id) else {
            return s3_error(
                StatusCode::NOT_FOUND,
                "NoSuchUpload",
                "The specified upload does not exist",
            );
        };
        if param(&q, "X-Amz-Signature") != Some(job.signature.as_str()) {
            return s3_error(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
            );
        }
        if job.status != JobStatus::Registered {
            return s3_error(
                StatusCode::CONFLICT,
                "InvalidRequest",
                "This upload URL was already used",
            );
        }
        job.status = JobStatus::Started;
    }
    let at_start = shared.config.job_spends_at_start;
    if at_start {
        charge(&shared, &id);
    }
    let job_time = shared.config.job_time;
    let runner = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(job_time).await;
        if !at_start {
            charge(&runner, &id);
        }
        let mut s = lock(&runner);
        let client_id = runner.config.client_id.clone();
        if architect::complete_job(&mut s, &id, &yaml, &client_id) {
            runner.save(&s);
        }
    });
    StatusCode::OK.into_response()
}

/// The job's Archy session spends its requests on the caller's token; with the window
/// spent it cannot read the flow, and fails as the real service's does.
fn charge(shared: &Shared, id: &str) {
    let mut s = lock(shared);
    let token = s.jobs.get(id).and_then(|j| j.token.clone());
    if !super::edge::charge_job(&shared.config, &mut s, token.as_deref()) {
        if let Some(job) = s.jobs.get_mut(id) {
            job.fail_as_rate_limit = true;
        }
    }
}

pub(super) async fn get_job(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let expand = params(&query(&raw), "expand").contains(&"messages");
    let s = lock(&shared);
    let Some(job) = s.jobs.get(&id) else {
        return unknown("job", &id);
    };
    ok(&ArchitectJob {
        id: job.id.clone(),
        status: job.status,
        command: Some("Publish".into()),
        flow: job.flow.clone(),
        messages: if expand {
            job.messages.clone()
        } else {
            Vec::new()
        },
        self_uri: Some(format!("/api/v2/flows/jobs/{id}")),
    })
}

//! The emulator's HTTP surface (axum): the routes, and the answers every handler shares
//! (the Genesys error body, paging, query parameters). The edge middleware is in `edge`,
//! the handlers by resource in `flows`, `jobs`, `export`, `dependencies` and `org`.
//! Every error has the real error body shape; nothing panics on input.

use super::dependencies::{build_status, consumed, consuming};
use super::edge::{edge, token};
use super::flows::{
    create_flow, delete_flow, flow_action, flow_versions, get_flow, latest_configuration,
    list_flows, update_flow,
};
use super::jobs::{get_job, register_job, upload};
use super::org::{
    get_division, get_queue, list_divisions, list_queues, list_resources, organization,
};
use super::state::ResourceKind;
use super::Shared;
use crate::models::*;
use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route("/api/v2/flows", get(list_flows).post(create_flow))
        .route("/api/v2/flows/jobs", post(register_job))
        .route("/api/v2/flows/jobs/{id}", get(get_job))
        .route("/api/v2/flows/export/jobs", post(super::export::register))
        .route("/api/v2/flows/export/jobs/{id}", get(super::export::status))
        .route("/exports/{id}", get(super::export::download))
        .route("/api/v2/flows/actions/{action}", post(flow_action))
        .route(
            "/api/v2/flows/{id}",
            get(get_flow).put(update_flow).delete(delete_flow),
        )
        .route("/api/v2/flows/{id}/versions", get(flow_versions))
        .route(
            "/api/v2/flows/{id}/latestconfiguration",
            get(latest_configuration),
        )
        .route(
            "/api/v2/architect/dependencytracking/consumedresources",
            get(consumed),
        )
        .route(
            "/api/v2/architect/dependencytracking/consumingresources",
            get(consuming),
        )
        .route(
            "/api/v2/architect/dependencytracking/build",
            get(build_status),
        )
        .route(
            "/api/v2/architect/schedulegroups",
            get(|s: AxState<Shared>, q: RawQuery| {
                list_resources(s, q, ResourceKind::ScheduleGroup)
            }),
        )
        .route(
            "/api/v2/flows/datatables",
            get(|s: AxState<Shared>, q: RawQuery| list_resources(s, q, ResourceKind::DataTable)),
        )
        .route(
            "/api/v2/integrations/actions",
            get(|s: AxState<Shared>, q: RawQuery| list_resources(s, q, ResourceKind::DataAction)),
        )
        .route(
            "/api/v2/architect/prompts",
            get(|s: AxState<Shared>, q: RawQuery| list_resources(s, q, ResourceKind::Prompt)),
        )
        .route("/api/v2/routing/queues", get(list_queues))
        .route("/api/v2/routing/queues/{id}", get(get_queue))
        .route("/api/v2/authorization/divisions", get(list_divisions))
        .route("/api/v2/authorization/divisions/{id}", get(get_division))
        .route("/api/v2/organizations/me", get(organization))
        .route("/uploads/{id}", put(upload))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), edge))
        .with_state(shared)
}

// ---------------------------------------------------------------------------------------
// Answers

/// The Genesys error body.
pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    let body = ErrorBody {
        message: message.clone(),
        code: code.to_string(),
        status,
        message_with_params: Some(message),
        message_params: Default::default(),
        context_id: Some(uuid::Uuid::new_v4().to_string()),
        details: Vec::new(),
        errors: Vec::new(),
        limit: None,
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

pub(super) fn ok<T: Serialize>(value: &T) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

pub(super) fn lock(shared: &Shared) -> super::StateGuard<'_> {
    shared.lock_state()
}

pub(super) fn query(raw: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(super) fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A list parameter, repeated (`type=a&type=b`, as the Go SDK sends it) or comma-joined
/// (`type=a,b`, as the Python SDK sends it): the real API takes both.
pub(super) fn params<'a>(q: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// Pages `items` as the API does (`pageSize` default 25, at most 500; `pageNumber` from 1)
/// and answers with the listing, or 400 for a bad paging parameter.
pub(super) fn listing<T: Clone + Serialize>(
    items: Vec<T>,
    q: &[(String, String)],
    path: &str,
) -> Response {
    let number = |key: &str, default: u32| -> Result<u32, String> {
        match param(q, key) {
            None => Ok(default),
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("Value [{v}] is not valid for field type [{key}]. Allowable values are: positive integers")),
        }
    };
    let (size, page_number) = match (number("pageSize", 25), number("pageNumber", 1)) {
        (Ok(s), Ok(n)) => (s.min(500), n),
        (Err(e), _) | (_, Err(e)) => return error(400, "invalid.value", e),
    };
    let total = items.len() as u64;
    let page_count = (total as u32).div_ceil(size).max(1);
    let start = ((page_number - 1) as usize).saturating_mul(size as usize);
    let entities: Vec<T> = items.into_iter().skip(start).take(size as usize).collect();
    let other: String = q
        .iter()
        .filter(|(k, _)| k != "pageNumber" && k != "pageSize")
        .map(|(k, v)| {
            format!(
                "&{}={}",
                k,
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect();
    let uri = |n: u32| format!("{path}?pageSize={size}&pageNumber={n}{other}");
    ok(&EntityListing {
        entities,
        page_size: Some(size),
        page_number: Some(page_number),
        total: Some(total),
        page_count: Some(page_count),
        first_uri: Some(uri(1)),
        next_uri: (page_number < page_count).then(|| uri(page_number + 1)),
        previous_uri: (page_number > 1).then(|| uri(page_number - 1)),
        last_uri: Some(uri(page_count)),
        self_uri: Some(uri(page_number)),
    })
}

async fn not_found(req: Request) -> Response {
    error(
        404,
        "not.found",
        format!(
            "No resource exists at {} {}",
            req.method(),
            req.uri().path()
        ),
    )
}

async fn method_not_allowed(req: Request) -> Response {
    error(
        405,
        "method.not.allowed",
        format!("{} is not allowed on {}", req.method(), req.uri().path()),
    )
}

/// The 404 for an object that is not there: `Unable to locate {what} with id {id}`.
pub(super) fn unknown(what: &str, id: &str) -> Response {
    error(
        404,
        "not.found",
        format!("Unable to locate {what} with id {id}"),
    )
}

/// A JSON request body, or the 400 that says it is not `what` (the message names serde's
/// reason).
// The error is the handler's whole answer, returned once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub(super) fn json_body<T: DeserializeOwned>(body: &Bytes, what: &str) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| error(400, "bad.request", format!("The request body {what}: {e}")))
}

/// The S3 error body (XML) that a presigned upload or download answers with.
pub(super) fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
    )
        .into_response()
}

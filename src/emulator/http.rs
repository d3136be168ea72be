//! The emulator's HTTP surface (axum): routes, the middleware that plays Genesys' edge
//! (latency, faults, bearer auth, the per-token rate limit and its `inin-*` headers), and
//! the handlers. Every error has the real error body shape; nothing panics on input.

use super::architect;
use super::state::{iso, now_ms, Fault, Job, ResourceKind};
use super::Shared;
use crate::models::*;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use base64::Engine;
use serde::Serialize;
use std::time::Instant;

pub fn router(shared: Shared) -> Router {
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
pub fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
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
fn listing<T: Clone + Serialize>(items: Vec<T>, q: &[(String, String)], path: &str) -> Response {
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

// ---------------------------------------------------------------------------------------
// The edge: log, latency, faults, auth, rate limit, headers

async fn edge(AxState(shared): AxState<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let api = path.starts_with("/api/v2/");
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let mut response = if api {
        api_edge(&shared, req, next).await
    } else {
        next.run(req).await
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("inin-correlation-id", v);
    }
    // A dropped connection is logged as status 0: the client never saw an answer.
    let status = if response.headers().contains_key("x-emulator-fault") {
        0
    } else {
        response.status().as_u16()
    };
    response.headers_mut().remove("x-emulator-fault");
    lock(&shared).log.push((method, path, status));
    response
}

async fn api_edge(shared: &Shared, req: Request, next: Next) -> Response {
    // Faults first: they stand for the network and the edge, before auth.
    let fault = {
        let mut s = lock(shared);
        // A scripted job fault waits at the front for the next job registration; it does
        // not hold back the other faults.
        match s.scripted.front() {
            Some(Fault::JobRateLimited) | None => s.random.next(),
            Some(_) => s.scripted.pop_front(),
        }
    };
    match fault {
        Some(Fault::Status429 { retry_after }) => return too_many(retry_after),
        Some(Fault::Status503) => {
            return error(
                503,
                "service.unavailable",
                "The service is currently unavailable",
            )
        }
        Some(Fault::Drop) => return dropped(),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::JobRateLimited) | None => {}
    }

    // Bearer auth.
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_string);
    let Some(token) = token else {
        return error(401, "bad.credentials", "Invalid login credentials.");
    };
    let (allowed, count, reset) = {
        let mut s = lock(shared);
        match s.tokens.get(&token) {
            None => return error(401, "bad.credentials", "Invalid login credentials."),
            Some(exp) if *exp <= Instant::now() => {
                return error(401, "credentials.expired", "The access token has expired.")
            }
            Some(_) => {}
        }
        let window = shared.config.rate_window;
        let now = Instant::now();
        let entry = s.windows.entry(token).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        let reset = window.saturating_sub(now.duration_since(entry.0));
        let reset_secs = reset.as_secs_f64().ceil() as u64;
        if entry.1 >= shared.config.rate_limit {
            let mut r = too_many(reset_secs.max(1));
            rate_headers(
                r.headers_mut(),
                shared.config.rate_limit,
                entry.1,
                reset_secs,
            );
            return r;
        }
        entry.1 += 1;
        (shared.config.rate_limit, entry.1, reset_secs)
    };
    let mut response = next.run(req).await;
    rate_headers(response.headers_mut(), allowed, count, reset);
    response
}

fn rate_headers(h: &mut HeaderMap, allowed: u32, count: u32, reset: u64) {
    for (k, v) in [
        ("inin-ratelimit-allowed", allowed as u64),
        ("inin-ratelimit-count", count as u64),
        ("inin-ratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
            h.insert(k, v);
        }
    }
}

fn too_many(retry_after: u64) -> Response {
    let mut r = error(
        429,
        "too.many.requests",
        format!("Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"),
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// A connection that breaks before the answer is complete.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("x-emulator-fault", "drop")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| error(503, "service.unavailable", "dropped"))
}

// ---------------------------------------------------------------------------------------
// OAuth

async fn token(AxState(shared): AxState<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let invalid_client = || {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"
            })),
        )
            .into_response()
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if param(&form, "grant_type") != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "unsupported_grant_type", "description": "grant_type must be client_credentials", "error_description": "grant_type must be client_credentials"})),
        )
            .into_response();
    }
    let creds = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = creds.as_deref().and_then(|c| c.split_once(':')) else {
        return invalid_client();
    };
    if id != shared.config.client_id || secret != shared.config.client_secret {
        return invalid_client();
    }
    let access_token = format!("emu-{}", uuid::Uuid::new_v4().simple());
    let lifetime = shared.config.token_lifetime;
    lock(&shared)
        .tokens
        .insert(access_token.clone(), Instant::now() + lifetime);
    ok(&TokenResponse {
        access_token,
        token_type: "bearer".into(),
        expires_in: lifetime.as_secs(),
    })
}

// ---------------------------------------------------------------------------------------
// Flows

async fn list_flows(AxState(shared): AxState<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = query(&raw);
    let mut types = Vec::new();
    for t in params(&q, "type") {
        match FlowType::parse_any(t) {
            Some(ft) if t == ft.as_query() => types.push(ft),
            _ => return error(400, "invalid.value", format!("Value [{t}] is not valid for field type [type]. Flow types are lower case, e.g. inboundcall")),
        }
    }
    let name = param(&q, "name").map(str::to_lowercase);
    let s = lock(&shared);
    let mut flows: Vec<Flow> = s
        .org
        .flows
        .values()
        .map(|r| r.flow.clone())
        .filter(|f| types.is_empty() || types.contains(&f.flow_type))
        .filter(|f| {
            name.as_ref()
                .is_none_or(|n| f.name.to_lowercase().contains(n))
        })
        .collect();
    flows.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    listing(flows, &q, "/api/v2/flows")
}

async fn create_flow(AxState(shared): AxState<Shared>, body: Bytes) -> Response {
    let create: FlowCreate = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error(
                400,
                "bad.request",
                format!("The request body could not be read as a flow: {e}"),
            )
        }
    };
    if let Some(problem) = super::state::name_problem(&create.name) {
        return error(400, "invalid.value", problem);
    }
    let mut s = lock(&shared);
    if s.org.flows.values().any(|r| {
        r.flow.flow_type == create.flow_type && r.flow.name.eq_ignore_ascii_case(&create.name)
    }) {
        return error(
            400,
            "general.bad.request",
            format!(
                "A flow named '{}' of type {} already exists",
                create.name, create.flow_type
            ),
        );
    }
    let division = match create.division.as_ref().and_then(|d| d.id.as_deref()) {
        Some(id) => match s.org.divisions.iter().find(|d| d.id == id) {
            Some(d) => d.clone(),
            None => return error(400, "invalid.value", format!("Division {id} was not found")),
        },
        None => match s.org.home() {
            Some(h) => h.clone(),
            None => return error(500, "internal.server.error", "The org has no home division"),
        },
    };
    let flow = s.org.create_flow(
        &create.name,
        create.description.clone(),
        create.flow_type,
        &division,
    );
    shared.save(&s);
    ok(&flow)
}

async fn get_flow(AxState(shared): AxState<Shared>, Path(id): Path<String>) -> Response {
    let s = lock(&shared);
    // Optional read lag: a flow a job just made answers 404 for a while, as an eventually
    // consistent read after a write can (the Terraform provider retries such reads).
    let lagging = s
        .read_lag_from
        .get(&id)
        .is_some_and(|at| at.elapsed() < shared.config.read_lag);
    match s.org.flows.get(&id).filter(|_| !lagging) {
        Some(r) => ok(&r.flow),
        None => error(
            404,
            "not.found",
            format!("Unable to locate flow with id {id}"),
        ),
    }
}

async fn update_flow(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let update: FlowCreate = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error(
                400,
                "bad.request",
                format!("The request body could not be read as a flow: {e}"),
            )
        }
    };
    let mut s = lock(&shared);
    let Some(record) = s.org.flows.get_mut(&id) else {
        return error(
            404,
            "not.found",
            format!("Unable to locate flow with id {id}"),
        );
    };
    if record.flow.flow_type != update.flow_type {
        return error(400, "invalid.value", "The flow type cannot be changed");
    }
    record.flow.name = update.name;
    record.flow.description = update.description;
    let flow = record.flow.clone();
    shared.save(&s);
    ok(&flow)
}

async fn delete_flow(AxState(shared): AxState<Shared>, Path(id): Path<String>) -> Response {
    let mut s = lock(&shared);
    // Optional transient conflicts: the first DELETEs answer 409, as the real service can
    // while a flow is busy (the Terraform provider retries a 409 on delete for 30 s).
    if s.delete_conflicts > 0 && s.org.flows.contains_key(&id) {
        s.delete_conflicts -= 1;
        return error(
            409,
            "general.conflict",
            format!("The flow {id} is busy with another operation; try again"),
        );
    }
    let Some(record) = s.org.flows.get(&id) else {
        return error(
            404,
            "not.found",
            format!("Unable to locate flow with id {id}"),
        );
    };
    if record.flow.flow_type == FlowType::CommonModule {
        let users: Vec<String> = s
            .org
            .published_consumers(&id)
            .iter()
            .filter(|r| r.flow.id != id)
            .map(|r| format!("'{}'", r.flow.name))
            .collect();
        if !users.is_empty() {
            return error(
                409,
                "flow.in.use",
                format!(
                    "The common module '{}' cannot be deleted: it is used by {}",
                    record.flow.name,
                    users.join(", ")
                ),
            );
        }
    }
    if let Some(user) = &record.flow.locked_user {
        return error(
            409,
            "flow.locked",
            format!(
                "The flow is locked by {}",
                user.name.as_deref().unwrap_or("another user")
            ),
        );
    }
    s.org.flows.remove(&id);
    shared.save(&s);
    StatusCode::NO_CONTENT.into_response()
}

async fn flow_versions(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let s = lock(&shared);
    let Some(record) = s.org.flows.get(&id) else {
        return error(
            404,
            "not.found",
            format!("Unable to locate flow with id {id}"),
        );
    };
    let versions: Vec<FlowVersion> = record
        .versions
        .iter()
        .rev()
        .map(|v| v.version.clone())
        .collect();
    listing(
        versions,
        &query(&raw),
        &format!("/api/v2/flows/{id}/versions"),
    )
}

async fn latest_configuration(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
) -> Response {
    let s = lock(&shared);
    let Some(record) = s.org.flows.get(&id) else {
        return error(
            404,
            "not.found",
            format!("Unable to locate flow with id {id}"),
        );
    };
    let Some(latest) = record.versions.last() else {
        return error(
            404,
            "not.found",
            format!("Flow {id} has no saved configuration"),
        );
    };
    match yaml_serde::from_str::<serde_json::Value>(&latest.yaml) {
        Ok(v) => ok(&v),
        Err(_) => ok(&serde_json::json!({ "yaml": latest.yaml })),
    }
}

async fn flow_action(
    AxState(shared): AxState<Shared>,
    Path(action): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = query(&raw);
    let Some(id) = param(&q, "flow").map(str::to_string) else {
        return error(400, "bad.request", "The flow query parameter is required");
    };
    let mut s = lock(&shared);
    let Some(record) = s.org.flows.get_mut(&id) else {
        return error(
            404,
            "not.found",
            format!("Unable to locate flow with id {id}"),
        );
    };
    let client = EntityRef {
        id: Some(shared.config.client_id.clone()),
        name: Some("OAuth client".into()),
        self_uri: None,
    };
    match action.as_str() {
        "checkout" => {
            if let Some(user) = &record.flow.locked_user {
                return error(
                    409,
                    "flow.locked",
                    format!(
                        "The flow is locked by another entity: {}",
                        user.name.as_deref().unwrap_or("?")
                    ),
                );
            }
            record.flow.locked_client = Some(client);
        }
        "checkin" | "unlock" => {
            record.flow.locked_user = None;
            record.flow.locked_client = None;
        }
        "publish" => {
            if let Some(user) = &record.flow.locked_user {
                return error(
                    409,
                    "flow.locked",
                    format!(
                        "The flow is locked by another entity: {}",
                        user.name.as_deref().unwrap_or("?")
                    ),
                );
            }
            if record.versions.is_empty() {
                return error(
                    400,
                    "bad.request",
                    "The flow has no configuration to publish",
                );
            }
            record.flow.published_version = record.versions.last().map(|v| v.version.clone());
        }
        "revert" | "deactivate" => {}
        other => return error(404, "not.found", format!("Unknown flow action '{other}'")),
    }
    let flow = record.flow.clone();
    shared.save(&s);
    ok(&flow)
}

// ---------------------------------------------------------------------------------------
// Architect jobs

const UPLOAD_HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/octet-stream"),
    ("x-amz-server-side-encryption", "AES256"),
];

async fn register_job(AxState(shared): AxState<Shared>) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let signature = uuid::Uuid::new_v4().simple().to_string();
    let mut s = lock(&shared);
    let fail_as_rate_limit = if s.scripted.front() == Some(&Fault::JobRateLimited) {
        s.scripted.pop_front();
        true
    } else {
        false
    };
    s.jobs.insert(
        id.clone(),
        Job {
            id: id.clone(),
            signature: signature.clone(),
            status: JobStatus::Registered,
            flow: None,
            messages: Vec::new(),
            fail_as_rate_limit,
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

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/xml")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
    )
        .into_response()
}

async fn upload(
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
    let job_time = shared.config.job_time;
    let runner = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(job_time).await;
        let mut s = lock(&runner);
        let lag = s.index_lag;
        let rate_limited = s.jobs.get(&id).is_some_and(|j| j.fail_as_rate_limit);
        let client_id = runner.config.client_id.clone();
        let outcome = if rate_limited {
            Err(architect::Failure::from(vec![format!(
                "could not find the flow with id {}",
                uuid::Uuid::new_v4()
            )]))
        } else {
            architect::run_guarded(&mut s.org, &yaml, lag, &client_id)
        };
        let changed = outcome.is_ok() || outcome.as_ref().is_err_and(|f| f.flow.is_some());
        if let Ok(flow)
        | Err(architect::Failure {
            flow: Some(flow), ..
        }) = &outcome
        {
            if let Some(id) = &flow.id {
                s.read_lag_from
                    .entry(id.clone())
                    .or_insert_with(Instant::now);
            }
        }
        if let Some(job) = s.jobs.get_mut(&id) {
            match outcome {
                Ok(flow) => {
                    job.status = JobStatus::Success;
                    job.flow = Some(flow);
                }
                Err(architect::Failure { messages, flow }) => {
                    job.status = JobStatus::Failure;
                    job.flow = flow;
                    let now = iso(now_ms());
                    job.messages = messages
                        .into_iter()
                        .map(|text| JobMessage {
                            date_time: Some(now.clone()),
                            message_type: Some("Error".into()),
                            text,
                            details: Vec::new(),
                        })
                        .collect();
                }
            }
        }
        if changed {
            runner.save(&s);
        }
    });
    StatusCode::OK.into_response()
}

async fn get_job(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let expand = params(&query(&raw), "expand").contains(&"messages");
    let s = lock(&shared);
    let Some(job) = s.jobs.get(&id) else {
        return error(
            404,
            "not.found",
            format!("Unable to locate job with id {id}"),
        );
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

// ---------------------------------------------------------------------------------------
// Dependency tracking

fn object_type_of(t: FlowType) -> String {
    t.object_type().unwrap_or_default().to_string()
}

async fn consumed(AxState(shared): AxState<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = query(&raw);
    let (Some(id), Some(version), Some(object_type)) = (
        param(&q, "id"),
        param(&q, "version"),
        param(&q, "objectType"),
    ) else {
        return error(
            400,
            "bad.request",
            "id, version and objectType are required",
        );
    };
    let kinds = params(&q, "resourceType");
    let s = lock(&shared);
    let now = now_ms();
    let found: Vec<Dependency> = s
        .org
        .flows
        .get(id)
        .filter(|r| object_type_of(r.flow.flow_type) == object_type)
        .and_then(|r| r.versions.iter().find(|v| v.version.id == version))
        .filter(|v| v.indexed_at <= now)
        .map(|v| {
            v.consumes
                .iter()
                .filter(|d| {
                    kinds.is_empty()
                        || kinds.contains(&d.object_type.as_deref().unwrap_or_default())
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    listing(
        found,
        &q,
        "/api/v2/architect/dependencytracking/consumedresources",
    )
}

async fn consuming(AxState(shared): AxState<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = query(&raw);
    let (Some(id), Some(_object_type)) = (param(&q, "id"), param(&q, "objectType")) else {
        return error(400, "bad.request", "id and objectType are required");
    };
    let filter = param(&q, "flowFilter");
    let s = lock(&shared);
    let now = now_ms();
    let mut found = Vec::new();
    for r in s.org.flows.values() {
        let versions: Vec<_> = match filter {
            Some("published") | Some("checkedIn") => r.published().into_iter().collect(),
            _ => r.versions.last().into_iter().collect(),
        };
        for v in versions {
            if v.indexed_at <= now && v.consumes.iter().any(|d| d.id == id) {
                found.push(Dependency {
                    id: r.flow.id.clone(),
                    name: Some(r.flow.name.clone()),
                    version: Some(v.version.id.clone()),
                    object_type: Some(object_type_of(r.flow.flow_type)),
                    deleted: Some(false),
                    updated: Some(false),
                    state_unknown: Some(false),
                    self_uri: r.flow.self_uri.clone(),
                });
            }
        }
    }
    listing(
        found,
        &q,
        "/api/v2/architect/dependencytracking/consumingresources",
    )
}

async fn build_status(AxState(shared): AxState<Shared>) -> Response {
    let s = lock(&shared);
    ok(&DependencyStatus {
        id: Some("dependency-index".into()),
        build_id: Some("emulator".into()),
        status: s.org.build_status.clone(),
        date_started: None,
        date_completed: None,
        self_uri: Some("/api/v2/architect/dependencytracking/build".into()),
    })
}

// ---------------------------------------------------------------------------------------
// Queues, divisions, org

/// Schedule groups, data tables, data actions, prompts: `?name=` is an exact match here
/// (unverified for these endpoints; flowctl filters by exact name itself anyway).
async fn list_resources(
    AxState(shared): AxState<Shared>,
    RawQuery(raw): RawQuery,
    kind: ResourceKind,
) -> Response {
    let q = query(&raw);
    let name = param(&q, "name").map(str::to_string);
    let items: Vec<EntityRef> = lock(&shared)
        .org
        .resources
        .list(kind)
        .iter()
        .filter(|e| name.is_none() || e.name == name)
        .cloned()
        .collect();
    listing(items, &q, kind.path())
}

async fn list_queues(AxState(shared): AxState<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = query(&raw);
    let name = param(&q, "name").map(str::to_lowercase);
    let s = lock(&shared);
    let mut queues: Vec<Queue> = s
        .org
        .queues
        .iter()
        .filter(|x| {
            name.as_ref()
                .is_none_or(|n| x.name.to_lowercase().contains(n))
        })
        .cloned()
        .collect();
    queues.sort_by(|a, b| a.name.cmp(&b.name));
    listing(queues, &q, "/api/v2/routing/queues")
}

async fn get_queue(AxState(shared): AxState<Shared>, Path(id): Path<String>) -> Response {
    match lock(&shared).org.queues.iter().find(|q| q.id == id) {
        Some(q) => ok(q),
        None => error(
            404,
            "not.found",
            format!("Unable to locate queue with id {id}"),
        ),
    }
}

async fn list_divisions(AxState(shared): AxState<Shared>, RawQuery(raw): RawQuery) -> Response {
    let q = query(&raw);
    let name = param(&q, "name");
    let s = lock(&shared);
    let divisions: Vec<Division> = s
        .org
        .divisions
        .iter()
        .filter(|d| name.is_none_or(|n| d.name == n))
        .cloned()
        .collect();
    listing(divisions, &q, "/api/v2/authorization/divisions")
}

async fn get_division(AxState(shared): AxState<Shared>, Path(id): Path<String>) -> Response {
    match lock(&shared).org.divisions.iter().find(|d| d.id == id) {
        Some(d) => ok(d),
        None => error(
            404,
            "not.found",
            format!("Unable to locate division with id {id}"),
        ),
    }
}

async fn organization(AxState(shared): AxState<Shared>) -> Response {
    ok(&lock(&shared).org.organization)
}

//! A second, independent server of the Genesys Cloud API, for the tests that must not lean
//! on flowctl's own emulator.
//!
//! It is written from the public API (the SDK models `Flow`, `FlowVersion`, `Dependency`,
//! the Architect publish and export jobs, the listings) and shares no code with
//! `src/emulator` or with flowctl's wire models: every answer is built here as JSON. It
//! serves only what `history`, `diff`, `rollback` and `verify` ask for.
//!
//! Where the real API leaves room, it answers the other way from the emulator, so a test
//! that passes on both shows flowctl does not depend on the emulator's choices:
//!
//! - JSON keys in alphabetical order, with fields flowctl does not know (`nluInfo`,
//!   `virtualAgentEnabled`, `outputSchema`, ...);
//! - flow ids and job ids in upper-case hex, version `createdBy` users without a name;
//! - the versions listing in text order of the id ("10.0" before "2.0"), two rows a page;
//! - `datePublished` with milliseconds, and a reset header rounded up;
//! - jobs that go Registered → Started → a status flowctl does not know → Success, one
//!   step per poll;
//! - an export that is always a zip (one folder per job), that writes the flow's division
//!   into the YAML when the published YAML had none, and that writes the YAML's keys in
//!   reverse alphabetical order;
//! - dependency tracking's consumer rows without a `version`, two a page.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "independent-client";
pub const CLIENT_SECRET: &str = "independent-secret";
const TOKEN: &str = "independent-token-7f3e";
const HOME: (&str, &str) = ("D1V15I0N-H0ME", "Home");
/// 2026-11-30T09:00:00Z: the first publish's time. Every publish is 1.25 s after the one
/// before (a clock of its own, so dates never tie and tests never wait).
const EPOCH_MS: i64 = 1_796_029_200_000;

/// Who published a version.
#[derive(Debug, Clone)]
pub enum Publisher {
    /// A person in the Architect UI (the version's `createdBy` has only the id).
    User(String),
    /// An OAuth client (the version's `createdByClient`).
    Client(String),
}

#[derive(Debug, Clone)]
pub struct Version {
    pub number: u32,
    pub yaml: String,
    pub published_ms: i64,
    pub by: Publisher,
    /// (module id, module version) copied into this version.
    pub consumes: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct FlowRec {
    pub id: String,
    pub name: String,
    /// Wire type: `COMMONMODULE`, `INBOUNDCALL`.
    pub kind: String,
    pub description: Option<String>,
    pub division: String,
    pub versions: Vec<Version>,
    pub locked_by: Option<String>,
}

impl FlowRec {
    pub fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }
}

#[derive(Debug)]
enum Job {
    Publish {
        polls: u32,
        yaml: Option<String>,
        /// Set when the job ran: the flow's id, or the failure's messages.
        result: Option<Result<String, Vec<String>>>,
    },
    Export {
        polls: u32,
        /// (fileName, flow id, version asked)
        asked: Vec<(String, String, Option<String>)>,
        result: Option<Result<Vec<u8>, Vec<String>>>,
    },
}

#[derive(Default)]
struct Inner {
    flows: Vec<FlowRec>,
    jobs: HashMap<String, Job>,
    publishes: i64,
    next_id: u64,
    requests: u64,
    log: Vec<(String, String)>,
}

impl Inner {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{:012X}", 0xA0_0000 + self.next_id)
    }

    fn flow_by_id(&self, id: &str) -> Option<&FlowRec> {
        self.flows.iter().find(|f| f.id == id)
    }

    /// Runs an Architect publish: finds the flow by name and type in the YAML, or makes it.
    fn publish(&mut self, yaml: &str, by: Publisher) -> Result<String, Vec<String>> {
        let doc: yaml_serde::Value =
            yaml_serde::from_str(yaml).map_err(|e| vec![format!("YAML parse error: {e}")])?;
        let Some((key, body)) = doc.as_mapping().and_then(|m| m.iter().next()) else {
            return Err(vec!["the file holds no flow".into()]);
        };
        let kind = match key.as_str() {
            Some("commonModule") => "COMMONMODULE",
            Some("inboundCall") => "INBOUNDCALL",
            Some("inqueueCall") => "INQUEUECALL",
            other => return Err(vec![format!("unsupported flow type key {other:?}")]),
        };
        let Some(name) = body.get("name").and_then(|n| n.as_str()) else {
            return Err(vec!["the flow has no name".into()]);
        };
        let division = body
            .get("division")
            .and_then(|d| d.as_str())
            .unwrap_or(HOME.1);
        if division != HOME.1 {
            return Err(vec![format!("division '{division}' not found")]);
        }
        let mut modules = Vec::new();
        module_calls(body, &mut modules);
        let mut consumes = Vec::new();
        for m in modules {
            match self
                .flows
                .iter()
                .find(|f| f.kind == "COMMONMODULE" && f.name == m)
                .and_then(|f| {
                    f.latest()
                        .map(|v| (f.id.clone(), format!("{}.0", v.number)))
                }) {
                Some(c) => consumes.push(c),
                None => {
                    return Err(vec![format!(
                        "Unable to find a published common module named '{m}'"
                    )])
                }
            }
        }
        let description = body
            .get("description")
            .and_then(|d| d.as_str())
            .map(str::to_string);
        let existing = self
            .flows
            .iter()
            .position(|f| f.kind == kind && f.name == name);
        let index = match existing {
            Some(i) => i,
            None => {
                let id = self.new_id("F10W");
                self.flows.push(FlowRec {
                    id,
                    name: name.into(),
                    kind: kind.into(),
                    description: None,
                    division: HOME.1.into(),
                    versions: Vec::new(),
                    locked_by: None,
                });
                self.flows.len() - 1
            }
        };
        if let Some(holder) = &self.flows[index].locked_by {
            return Err(vec![format!(
                "Unable to publish flow '{name}': it is locked by another entity ({holder})"
            )]);
        }
        self.publishes += 1;
        let published_ms = EPOCH_MS + self.publishes * 1250;
        let flow = &mut self.flows[index];
        let number = flow.versions.len() as u32 + 1;
        flow.description = description;
        flow.versions.push(Version {
            number,
            yaml: yaml.into(),
            published_ms,
            by,
            consumes,
        });
        Ok(flow.id.clone())
    }

    /// The export of one flow version: its YAML, keys in reverse order, with the division.
    fn export_one(&self, id: &str, version: Option<&str>) -> Result<String, String> {
        let flow = self
            .flow_by_id(id)
            .ok_or_else(|| format!("could not find the flow with id '{id}'"))?;
        let v = match version {
            Some(asked) => flow
                .versions
                .iter()
                .find(|v| format!("{}.0", v.number) == asked || v.number.to_string() == asked)
                .ok_or_else(|| format!("flow '{}' has no version '{asked}'", flow.name))?,
            None => flow
                .latest()
                .ok_or_else(|| format!("flow '{}' is not published", flow.name))?,
        };
        let mut doc: yaml_serde::Value =
            yaml_serde::from_str(&v.yaml).map_err(|e| e.to_string())?;
        if let Some(body) = doc
            .as_mapping_mut()
            .and_then(|m| m.iter_mut().next().map(|(_, b)| b))
            .and_then(|b| b.as_mapping_mut())
        {
            if !body.contains_key("division") {
                body.insert("division".into(), flow.division.clone().into());
            }
        }
        yaml_serde::to_string(&reversed(doc)).map_err(|e| e.to_string())
    }
}

/// The names of the common modules `value` calls (`callCommonModule: commonModule: NAME:`).
fn module_calls(value: &yaml_serde::Value, out: &mut Vec<String>) {
    match value {
        yaml_serde::Value::Mapping(m) => {
            for (k, v) in m {
                if k.as_str() == Some("callCommonModule") {
                    if let Some(name) = v
                        .get("commonModule")
                        .and_then(|c| c.as_mapping())
                        .and_then(|c| c.keys().next())
                        .and_then(|k| k.as_str())
                    {
                        if !out.iter().any(|n| n == name) {
                            out.push(name.to_string());
                        }
                    }
                }
                module_calls(v, out);
            }
        }
        yaml_serde::Value::Sequence(s) => s.iter().for_each(|v| module_calls(v, out)),
        _ => {}
    }
}

/// Every mapping's keys in reverse alphabetical order (sequences keep theirs).
fn reversed(value: yaml_serde::Value) -> yaml_serde::Value {
    match value {
        yaml_serde::Value::Mapping(m) => {
            let mut entries: Vec<(yaml_serde::Value, yaml_serde::Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| {
                let key = |v: &yaml_serde::Value| v.as_str().unwrap_or_default().to_string();
                key(&b.0).cmp(&key(&a.0))
            });
            yaml_serde::Value::Mapping(entries.into_iter().map(|(k, v)| (k, reversed(v))).collect())
        }
        yaml_serde::Value::Sequence(s) => {
            yaml_serde::Value::Sequence(s.into_iter().map(reversed).collect())
        }
        other => other,
    }
}

type Shared = Arc<Mutex<Inner>>;

/// The server, on 127.0.0.1 at a port of its own; it stops when dropped.
pub struct Genesys {
    pub base: String,
    inner: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Genesys {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Genesys {
    pub async fn start() -> Genesys {
        let inner: Shared = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/api/v2/flows", get(list_flows))
            .route("/api/v2/flows/{id}", get(get_flow))
            .route("/api/v2/flows/{id}/versions", get(list_versions))
            .route("/api/v2/flows/jobs", post(register_publish))
            .route("/api/v2/flows/jobs/{id}", get(publish_status))
            .route("/api/v2/flows/export/jobs", post(register_export))
            .route("/api/v2/flows/export/jobs/{id}", get(export_status))
            .route("/storage/in/{id}", put(upload))
            .route("/storage/out/{id}", get(download))
            .route("/api/v2/authorization/divisions", get(divisions))
            .route(
                "/api/v2/architect/dependencytracking/consumingresources",
                get(consuming),
            )
            .route(
                "/api/v2/architect/dependencytracking/consumedresources",
                get(consumed),
            )
            .route("/api/v2/architect/dependencytracking/build", get(build))
            .fallback(|| async { (StatusCode::NOT_FOUND, "no such route here") })
            .with_state(Ctx {
                inner: inner.clone(),
                base: base.clone(),
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Genesys { base, inner, task }
    }

    /// Publishes `yaml` as someone outside flowctl would (the seed of a test).
    pub fn publish(&self, yaml: &str, by: Publisher) -> String {
        self.lock()
            .publish(yaml, by)
            .unwrap_or_else(|e| panic!("seed publish failed: {e:?}"))
    }

    pub fn flows(&self) -> Vec<FlowRec> {
        self.lock().flows.clone()
    }

    pub fn flow(&self, name: &str) -> FlowRec {
        self.flows()
            .into_iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no flow '{name}'"))
    }

    pub fn lock_flow(&self, name: &str, user: &str) {
        let mut inner = self.lock();
        if let Some(f) = inner.flows.iter_mut().find(|f| f.name == name) {
            f.locked_by = Some(user.into());
        }
    }

    /// (method, path) of every request, in order.
    pub fn log(&self) -> Vec<(String, String)> {
        self.lock().log.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone)]
struct Ctx {
    inner: Shared,
    base: String,
}

impl Ctx {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts the request, checks the token; `Err` is the answer to send instead.
    fn enter(&self, headers: &HeaderMap, method: &str, path: &str) -> Result<u64, Box<Response>> {
        let mut inner = self.lock();
        inner.requests += 1;
        inner.log.push((method.into(), path.into()));
        let count = inner.requests;
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer != Some(TOKEN) {
            return Err(Box::new(answer(
                count,
                StatusCode::UNAUTHORIZED,
                error_body(401, "bad.credentials", "Invalid login credentials."),
            )));
        }
        Ok(count)
    }
}

/// A JSON answer with the rate-limit headers: 300 a window, the reset rounded up.
fn answer(count: u64, status: StatusCode, body: Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    let h = r.headers_mut();
    h.insert("inin-ratelimit-allowed", "300".parse().expect("header"));
    h.insert(
        "inin-ratelimit-count",
        count.min(300).to_string().parse().expect("header"),
    );
    h.insert(
        "inin-ratelimit-reset",
        reset_secs().to_string().parse().expect("header"),
    );
    h.insert(
        "inin-correlation-id",
        format!("corr-{count:08}").parse().expect("header"),
    );
    r
}

/// Whole seconds to the end of the current 60 s window, rounded up (1 to 60).
fn reset_secs() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    (60_000 - now % 60_000).div_ceil(1000)
}

fn error_body(status: u16, code: &str, message: &str) -> Value {
    json!({
        "code": code,
        "contextId": "ctx-independent",
        "details": [],
        "errors": [],
        "message": message,
        "messageParams": {},
        "messageWithParams": message,
        "status": status,
    })
}

fn page(all: Vec<Value>, q: &HashMap<String, String>, cap: usize) -> Value {
    let size = q
        .get("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, cap);
    let number = q
        .get("pageNumber")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = all.len();
    let count = total.div_ceil(size).max(1);
    let entities: Vec<Value> = all
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
    json!({
        "entities": entities,
        "pageCount": count,
        "pageNumber": number,
        "pageSize": size,
        "total": total,
    })
}

fn iso(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

fn version_json(f: &FlowRec, v: &Version) -> Value {
    let id = format!("{}.0", v.number);
    let (user, client) = match &v.by {
        Publisher::User(u) => (
            json!({"id": u, "selfUri": format!("/api/v2/users/{u}")}),
            Value::Null,
        ),
        Publisher::Client(c) => (
            Value::Null,
            json!({"id": c, "name": "Release pipeline", "selfUri": format!("/api/v2/oauth/clients/{c}")}),
        ),
    };
    let mut out = json!({
        "commitVersion": id,
        "configurationVersion": id,
        "dateCreated": v.published_ms - 400,
        "datePublished": iso(v.published_ms),
        "debug": false,
        "generationId": format!("gen-{}", v.number),
        "id": id,
        "name": f.name,
        "nluInfo": null,
        "outputSchema": {"type": "object"},
        "publishResultUri": format!("/api/v2/flows/{}/versions/{id}/publishresult", f.id),
        "secure": false,
        "selfUri": format!("/api/v2/flows/{}/versions/{id}", f.id),
        "supportedLanguages": [{"language": "en-us", "isDefault": true}],
        "type": "PUBLISH",
        "virtualAgentEnabled": false,
    });
    if !user.is_null() {
        out["createdBy"] = user;
    }
    if !client.is_null() {
        out["createdByClient"] = client;
    }
    out
}

fn flow_json(f: &FlowRec) -> Value {
    let mut out = json!({
        "active": true,
        "compatibleFlowTypes": [],
        "deleted": false,
        "division": {"id": HOME.0, "name": f.division, "selfUri": format!("/api/v2/authorization/divisions/{}", HOME.0)},
        "id": f.id,
        "name": f.name,
        "nluInfo": null,
        "selfUri": format!("/api/v2/flows/{}", f.id),
        "system": false,
        "type": f.kind,
        "virtualAgentEnabled": false,
    });
    if let Some(d) = &f.description {
        out["description"] = json!(d);
    }
    if let Some(v) = f.latest() {
        out["publishedVersion"] = version_json(f, v);
        out["checkedInVersion"] = version_json(f, v);
        if let Publisher::User(u) = &v.by {
            out["publishedBy"] = json!({"id": u});
        }
    }
    if let Some(u) = &f.locked_by {
        out["lockedUser"] =
            json!({"id": format!("user-{u}"), "name": u, "selfUri": "/api/v2/users/x"});
    }
    out
}

async fn token(AxState(ctx): AxState<Ctx>, headers: HeaderMap, body: String) -> Response {
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    ctx.lock().log.push(("POST".into(), "/oauth/token".into()));
    if basic != Some(expected.as_str()) || !body.contains("grant_type=client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"})),
        )
            .into_response();
    }
    axum::Json(json!({"access_token": TOKEN, "expires_in": 86399, "token_type": "bearer"}))
        .into_response()
}

async fn list_flows(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let n = match ctx.enter(&headers, "GET", "/api/v2/flows") {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let types: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v.to_ascii_uppercase())
        .collect();
    let name = q
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.to_lowercase());
    let flat: HashMap<String, String> = q.into_iter().collect();
    let rows: Vec<Value> = ctx
        .lock()
        .flows
        .iter()
        .filter(|f| types.is_empty() || types.contains(&f.kind))
        // The name filter is not exact: any flow whose name contains it.
        .filter(|f| {
            name.as_ref()
                .is_none_or(|n| f.name.to_lowercase().contains(n))
        })
        .map(flow_json)
        .collect();
    answer(n, StatusCode::OK, page(rows, &flat, 100))
}

async fn get_flow(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let n = match ctx.enter(&headers, "GET", &format!("/api/v2/flows/{id}")) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match ctx.lock().flow_by_id(&id) {
        Some(f) => answer(n, StatusCode::OK, flow_json(f)),
        None => answer(
            n,
            StatusCode::NOT_FOUND,
            error_body(404, "not.found", "flow not found"),
        ),
    }
}

async fn list_versions(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let n = match ctx.enter(&headers, "GET", &format!("/api/v2/flows/{id}/versions")) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let inner = ctx.lock();
    let Some(f) = inner.flow_by_id(&id) else {
        return answer(
            n,
            StatusCode::NOT_FOUND,
            error_body(404, "not.found", "flow not found"),
        );
    };
    let mut rows: Vec<Value> = f.versions.iter().map(|v| version_json(f, v)).collect();
    // Text order of the id: "10.0" comes before "2.0".
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    answer(n, StatusCode::OK, page(rows, &q, 2))
}

async fn register_publish(AxState(ctx): AxState<Ctx>, headers: HeaderMap) -> Response {
    let n = match ctx.enter(&headers, "POST", "/api/v2/flows/jobs") {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let mut inner = ctx.lock();
    let id = inner.new_id("J0B");
    inner.jobs.insert(
        id.clone(),
        Job::Publish {
            polls: 0,
            yaml: None,
            result: None,
        },
    );
    answer(
        n,
        StatusCode::OK,
        json!({
            "headers": {"Content-Type": "application/octet-stream", "x-amz-server-side-encryption": "AES256"},
            "id": id,
            "presignedUrl": format!("{}/storage/in/{id}?X-Signature=abc", ctx.base),
            "selfUri": format!("/api/v2/flows/jobs/{id}"),
        }),
    )
}

async fn upload(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut inner = ctx.lock();
    inner.log.push(("PUT".into(), format!("/storage/in/{id}")));
    if headers.contains_key("authorization")
        || headers
            .get("x-amz-server-side-encryption")
            .and_then(|v| v.to_str().ok())
            != Some("AES256")
    {
        return (
            StatusCode::FORBIDDEN,
            "<Error><Code>AccessDenied</Code></Error>",
        )
            .into_response();
    }
    match inner.jobs.get_mut(&id) {
        Some(Job::Publish { yaml, .. }) if yaml.is_none() => {
            *yaml = Some(String::from_utf8_lossy(&body).into_owned());
            StatusCode::OK.into_response()
        }
        _ => (
            StatusCode::FORBIDDEN,
            "<Error><Code>AccessDenied</Code></Error>",
        )
            .into_response(),
    }
}

/// The status after `polls` polls: Registered, Started, an unknown one, then the end.
fn stage(polls: u32) -> Option<&'static str> {
    match polls {
        0 | 1 => Some("Registered"),
        2 => Some("Started"),
        3 => Some("Compiling"),
        _ => None,
    }
}

fn messages(texts: &[String]) -> Value {
    texts
        .iter()
        .map(|t| json!({"dateTime": iso(EPOCH_MS), "text": t, "type": "Error"}))
        .collect()
}

async fn publish_status(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let n = match ctx.enter(&headers, "GET", &format!("/api/v2/flows/jobs/{id}")) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let mut inner = ctx.lock();
    let (polls, yaml) = match inner.jobs.get_mut(&id) {
        Some(Job::Publish {
            polls,
            yaml,
            result,
        }) => {
            *polls += 1;
            if let Some(r) = result.clone() {
                drop(inner);
                return publish_answer(n, &id, &r);
            }
            (*polls, yaml.clone())
        }
        _ => {
            return answer(
                n,
                StatusCode::NOT_FOUND,
                error_body(404, "not.found", "job not found"),
            )
        }
    };
    if let Some(status) = stage(polls) {
        return answer(
            n,
            StatusCode::OK,
            json!({"command": "Publish", "id": id, "messages": [], "selfUri": format!("/api/v2/flows/jobs/{id}"), "status": status}),
        );
    }
    let r = match yaml {
        Some(y) => inner.publish(&y, Publisher::Client(CLIENT_ID.into())),
        None => Err(vec!["no content was uploaded for this job".into()]),
    };
    if let Some(Job::Publish { result, .. }) = inner.jobs.get_mut(&id) {
        *result = Some(r.clone());
    }
    drop(inner);
    publish_answer(n, &id, &r)
}

fn publish_answer(n: u64, id: &str, r: &Result<String, Vec<String>>) -> Response {
    let body = match r {
        Ok(flow) => {
            json!({"command": "Publish", "flow": {"id": flow, "selfUri": format!("/api/v2/flows/{flow}")}, "id": id, "messages": [], "status": "Success"})
        }
        Err(m) => {
            json!({"command": "Publish", "id": id, "messages": messages(m), "status": "Failure"})
        }
    };
    answer(n, StatusCode::OK, body)
}

async fn register_export(AxState(ctx): AxState<Ctx>, headers: HeaderMap, body: Bytes) -> Response {
    let n = match ctx.enter(&headers, "POST", "/api/v2/flows/export/jobs") {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            n,
            StatusCode::BAD_REQUEST,
            error_body(400, "bad.request", "the body is not JSON"),
        );
    };
    let mut asked = Vec::new();
    for (i, d) in req["flows"].as_array().into_iter().flatten().enumerate() {
        let Some(id) = d["flow"]["id"].as_str() else {
            return answer(
                n,
                StatusCode::BAD_REQUEST,
                error_body(400, "invalid.value", "flows[].flow.id is required"),
            );
        };
        let file = d["fileName"]
            .as_str()
            .map_or_else(|| format!("export_{i}"), str::to_string);
        asked.push((
            file,
            id.to_string(),
            d["flow"]["version"].as_str().map(str::to_string),
        ));
    }
    if asked.is_empty() {
        return answer(
            n,
            StatusCode::BAD_REQUEST,
            error_body(400, "invalid.value", "flows is required"),
        );
    }
    let mut inner = ctx.lock();
    let id = inner.new_id("EXP0RT");
    let total = asked.len();
    inner.jobs.insert(
        id.clone(),
        Job::Export {
            polls: 0,
            asked,
            result: None,
        },
    );
    answer(
        n,
        StatusCode::OK,
        json!({"id": id, "status": "Registered", "totalFlows": total}),
    )
}

async fn export_status(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let n = match ctx.enter(&headers, "GET", &format!("/api/v2/flows/export/jobs/{id}")) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let mut inner = ctx.lock();
    let (polls, asked) = match inner.jobs.get_mut(&id) {
        Some(Job::Export { polls, asked, .. }) => {
            *polls += 1;
            (*polls, asked.clone())
        }
        _ => {
            return answer(
                n,
                StatusCode::NOT_FOUND,
                error_body(404, "not.found", "job not found"),
            )
        }
    };
    if let Some(status) = stage(polls) {
        return answer(
            n,
            StatusCode::OK,
            json!({"command": "Export", "id": id, "messages": [], "selfUri": format!("/api/v2/flows/export/jobs/{id}"), "status": status}),
        );
    }
    let already = matches!(
        inner.jobs.get(&id),
        Some(Job::Export {
            result: Some(_),
            ..
        })
    );
    if !already {
        let mut files = Vec::new();
        let mut failures = Vec::new();
        for (file, flow, version) in &asked {
            match inner.export_one(flow, version.as_deref()) {
                Ok(y) => files.push((format!("{id}/{file}.yaml"), y)),
                Err(e) => failures.push(e),
            }
        }
        let result = if failures.is_empty() {
            Ok(zip_of(&files))
        } else {
            Err(failures)
        };
        if let Some(Job::Export { result: r, .. }) = inner.jobs.get_mut(&id) {
            *r = Some(result);
        }
    }
    let body = match inner.jobs.get(&id) {
        Some(Job::Export {
            result: Some(Ok(_)),
            ..
        }) => {
            json!({"command": "Export", "downloadUrl": format!("{}/storage/out/{id}?X-Signature=def", ctx.base), "id": id, "messages": [], "status": "Success"})
        }
        Some(Job::Export {
            result: Some(Err(m)),
            ..
        }) => json!({"command": "Export", "id": id, "messages": messages(m), "status": "Failure"}),
        _ => json!({"id": id, "status": "Failure"}),
    };
    answer(n, StatusCode::OK, body)
}

fn zip_of(files: &[(String, String)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        out.write_all(text.as_bytes()).expect("zip write");
    }
    out.finish().expect("zip").into_inner()
}

async fn download(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let inner = ctx.lock();
    if headers.contains_key("authorization") {
        return (StatusCode::BAD_REQUEST, "Only one auth mechanism allowed").into_response();
    }
    match inner.jobs.get(&id) {
        Some(Job::Export {
            result: Some(Ok(bytes)),
            ..
        }) => ([("content-type", "application/zip")], bytes.clone()).into_response(),
        _ => (StatusCode::NOT_FOUND, "NoSuchKey").into_response(),
    }
}

async fn divisions(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let n = match ctx.enter(&headers, "GET", "/api/v2/authorization/divisions") {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let home = json!({"description": "", "homeDivision": true, "id": HOME.0, "name": HOME.1, "objectCounts": {}, "selfUri": format!("/api/v2/authorization/divisions/{}", HOME.0)});
    let rows = match q.get("name") {
        Some(name) if name != HOME.1 => Vec::new(),
        _ => vec![home],
    };
    answer(n, StatusCode::OK, page(rows, &q, 100))
}

fn object_type(kind: &str) -> String {
    format!("{kind}FLOW")
}

fn dependency(f: &FlowRec, version: Option<String>) -> Value {
    let mut out = json!({
        "deleted": false,
        "id": f.id,
        "name": f.name,
        "selfUri": format!("/api/v2/flows/{}", f.id),
        "stateUnknown": false,
        "type": object_type(&f.kind),
        "updated": false,
    });
    if let Some(v) = version {
        out["version"] = json!(v);
    }
    out
}

async fn consuming(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let n = match ctx.enter(
        &headers,
        "GET",
        "/api/v2/architect/dependencytracking/consumingresources",
    ) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let id = q.get("id").cloned().unwrap_or_default();
    let rows: Vec<Value> = ctx
        .lock()
        .flows
        .iter()
        .filter(|f| {
            f.latest()
                .is_some_and(|v| v.consumes.iter().any(|(m, _)| *m == id))
        })
        .map(|f| dependency(f, None))
        .collect();
    // Two rows a page: the callers come over several pages.
    answer(n, StatusCode::OK, page(rows, &q, 2))
}

async fn consumed(
    AxState(ctx): AxState<Ctx>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let n = match ctx.enter(
        &headers,
        "GET",
        "/api/v2/architect/dependencytracking/consumedresources",
    ) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let wants_modules = q
        .iter()
        .any(|(k, v)| k == "resourceType" && v == "COMMONMODULEFLOW");
    let flat: HashMap<String, String> = q.into_iter().collect();
    let id = flat.get("id").cloned().unwrap_or_default();
    let version = flat.get("version").cloned().unwrap_or_default();
    let inner = ctx.lock();
    let rows: Vec<Value> = inner
        .flow_by_id(&id)
        .and_then(|f| {
            f.versions
                .iter()
                .find(|v| format!("{}.0", v.number) == version)
        })
        .filter(|_| wants_modules)
        .map(|v| {
            v.consumes
                .iter()
                .filter_map(|(m, mv)| {
                    inner
                        .flow_by_id(m)
                        .map(|mf| dependency(mf, Some(mv.clone())))
                })
                .collect()
        })
        .unwrap_or_default();
    answer(n, StatusCode::OK, page(rows, &flat, 100))
}

async fn build(AxState(ctx): AxState<Ctx>, headers: HeaderMap) -> Response {
    let n = match ctx.enter(
        &headers,
        "GET",
        "/api/v2/architect/dependencytracking/build",
    ) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    answer(
        n,
        StatusCode::OK,
        json!({"dateCompleted": iso(EPOCH_MS), "id": "build-1", "status": "OPERATIONAL"}),
    )
}

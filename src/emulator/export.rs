//! The emulator's Architect export jobs, and a way for tests to publish "as a UI user".
//!
//! `POST /api/v2/flows/export/jobs` takes `{"flows": [{"flow": {"id"} | {"name","type"},
//! "version"?, "fileName"?, "exportType"?}]}` and answers `{id, status, totalFlows}`. The
//! job reads each flow's published version (or the version asked for) when it is
//! registered, and is `Started` until the job time passes; then
//! `GET /api/v2/flows/export/jobs/{id}?expand=messages` gives `Success` and a `downloadUrl`
//! (a storage URL, outside `/api/v2`, that refuses an `Authorization` header as S3 does).
//! One flow downloads as its YAML file, several as a zip.
//!
//! Like Architect, the export is not the uploaded text: it is re-serialized in the
//! emulator's own layout (4-space indent, flow keys in Architect's order and every other
//! mapping sorted, strings quoted when any YAML reader could take them for something
//! else), names the flow's division as every real export does, and carries the defaults Architect fills in
//! (`settingsActionDefaults`, `settingsPrompts`, and for call flows `settingsSpeechRec`;
//! `preTransferAudio` and `failureTransferAudio` on `transferToAcd`). No test can pass by
//! comparing bytes.

use super::http::{error, json_body, s3_error as s3, unknown};
use super::state::{State, VersionRecord};
use super::{architect, Emulator, Shared};
use crate::models::{ExportJobRegistration, ExportJobRequest, ExportJobState};
use crate::models::{FlowType, JobStatus};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;
use yaml_serde::{Mapping, Value};

/// One export job: what it will give, and when.
#[derive(Debug, Clone)]
pub(crate) struct ExportJob {
    pub(crate) signature: String,
    pub(crate) ready_at: Instant,
    /// The download (content type, bytes), or the job's error messages.
    pub(crate) result: Result<(&'static str, Vec<u8>), Vec<String>>,
}

/// The export jobs, and failures scripted by a test.
#[derive(Debug, Default)]
pub(crate) struct Exports {
    pub(crate) jobs: HashMap<String, ExportJob>,
    pub(crate) fail_next: Option<String>,
    /// The next this many export jobs are killed by the rate limit (their Archy session
    /// ran out), whatever the window holds.
    pub(crate) kill_next: u32,
    /// Flows (by id) whose export fails with this message: every job naming one fails.
    pub(crate) failing: HashMap<String, String>,
    /// Every registration's request, in order.
    pub(crate) requests: Vec<ExportJobRequest>,
}

/// Most flows one export job accepts (unverified for the real API; the emulator's choice).
const MAX_FLOWS: usize = 500;

pub(super) async fn register(
    AxState(shared): AxState<Shared>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let request: ExportJobRequest = match json_body(&body, "is not a valid export job request") {
        Ok(r) => r,
        Err(r) => return r,
    };
    if request.flows.is_empty() || request.flows.len() > MAX_FLOWS {
        return error(
            400,
            "invalid.value",
            format!(
                "An export job takes 1 to {MAX_FLOWS} flows; got {}",
                request.flows.len()
            ),
        );
    }
    for d in &request.flows {
        if let Some(f) = &d.file_name {
            if f.is_empty()
                || !f
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return error(
                    400,
                    "invalid.value",
                    format!("fileName '{f}' must contain only alphanumeric characters, underscores, or hyphens"),
                );
            }
        }
        match d.export_type.as_deref() {
            None | Some("Yaml") => {}
            Some("Architect") => {
                return error(
                    400,
                    "invalid.value",
                    "exportType 'Architect' is not supported by the emulator; use 'Yaml'",
                )
            }
            Some(other) => {
                return error(
                    400,
                    "invalid.value",
                    format!("exportType '{other}' is not one of Architect, Yaml"),
                )
            }
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut s = super::http::lock(&shared);
    // The export's Archy session spends its requests on the caller's token.
    let token = super::edge::bearer(&headers);
    let charged = super::edge::charge_job(&shared.config, &mut s, token.as_deref());
    let killed = s.exports.kill_next > 0;
    s.exports.kill_next = s.exports.kill_next.saturating_sub(1);
    let failing = request.flows.iter().find_map(|d| {
        let id = d.flow.id.as_ref()?;
        s.exports.failing.get(id).cloned()
    });
    s.exports.requests.push(request.clone());
    let result = match s.exports.fail_next.take().or(failing) {
        Some(message) => Err(vec![message]),
        None if !charged || killed => {
            let first = request.flows.first().and_then(|d| d.flow.id.clone());
            Err(super::architect::rate_limited_messages(
                first.as_deref().unwrap_or_default(),
            ))
        }
        None => build(&s, &request, shared.config.alternate_readings),
    };
    let total = request.flows.len() as u32;
    s.exports.jobs.insert(
        id.clone(),
        ExportJob {
            signature: uuid::Uuid::new_v4().simple().to_string(),
            ready_at: Instant::now() + shared.config.job_time,
            result,
        },
    );
    super::http::ok(&ExportJobRegistration {
        id: id.clone(),
        status: Some(JobStatus::Started),
        total_flows: Some(total),
        self_uri: Some(format!("/api/v2/flows/export/jobs/{id}")),
    })
}

pub(super) async fn status(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let expand = super::http::params(&super::http::query(&raw), "expand").contains(&"messages");
    let s = super::http::lock(&shared);
    let Some(job) = s.exports.jobs.get(&id) else {
        return unknown("export job", &id);
    };
    let (status, download_url, messages) = if Instant::now() < job.ready_at {
        (JobStatus::Started, None, Vec::new())
    } else {
        match &job.result {
            Ok(_) => (
                JobStatus::Success,
                Some(format!(
                    "{}/exports/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature={}",
                    shared.base_url, job.signature
                )),
                Vec::new(),
            ),
            Err(messages) => (JobStatus::Failure, None, messages.clone()),
        }
    };
    super::http::ok(&ExportJobState {
        id: id.clone(),
        status,
        command: Some("Export".into()),
        download_url,
        messages: if expand {
            super::architect::error_messages(messages)
        } else {
            Vec::new()
        },
        self_uri: Some(format!("/api/v2/flows/export/jobs/{id}")),
    })
}

/// The storage URL of a finished export.
pub(super) async fn download(
    AxState(shared): AxState<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    if headers.contains_key("authorization") {
        return s3(StatusCode::BAD_REQUEST, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter should be specified");
    }
    let q = super::http::query(&raw);
    let s = super::http::lock(&shared);
    let Some(ExportJob {
        signature,
        result: Ok((content_type, bytes)),
        ready_at,
        ..
    }) = s.exports.jobs.get(&id)
    else {
        return s3(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    if super::http::param(&q, "X-Amz-Signature") != Some(signature.as_str())
        || Instant::now() < *ready_at
    {
        return s3(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        );
    }
    (
        StatusCode::OK,
        [("content-type", *content_type)],
        bytes.clone(),
    )
        .into_response()
}

/// Reads every requested flow now: one YAML file, a zip of several, or the job's errors.
/// `alternate`: always a zip, its files named after the flow and version, not `fileName`.
fn build(
    s: &State,
    request: &ExportJobRequest,
    alternate: bool,
) -> Result<(&'static str, Vec<u8>), Vec<String>> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut errors = Vec::new();
    for d in &request.flows {
        let r = &d.flow;
        let record = match (&r.id, &r.name, r.flow_type) {
            (Some(id), _, _) => s.org.flows.get(id),
            (None, Some(name), Some(t)) => s.org.find_flow(name, t),
            _ => {
                errors.push("A flow to export needs its id, or its name and type".to_string());
                continue;
            }
        };
        let what = r.id.clone().or(r.name.clone()).unwrap_or_default();
        let Some(record) = record else {
            errors.push(format!("could not find the flow with id {what}"));
            continue;
        };
        let version: Option<&VersionRecord> = match &r.version {
            Some(v) => record.versions.iter().find(|x| &x.version.id == v),
            None => record.published(),
        };
        let Some(version) = version else {
            errors.push(format!(
                "Flow '{}' has no {} to export",
                record.flow.name,
                r.version
                    .as_ref()
                    .map(|v| format!("version {v}"))
                    .unwrap_or_else(|| "published version".into())
            ));
            continue;
        };
        let asked = d.file_name.clone().filter(|_| !alternate);
        let stem = asked.unwrap_or_else(|| {
            let safe: String = record
                .flow
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("{safe}_v{}", version.version.id)
        });
        let division = record
            .flow
            .division
            .as_ref()
            .and_then(|d| d.name.as_deref());
        match as_architect_exports(&version.yaml, record.flow.flow_type, division) {
            Ok(text) => files.push((format!("{stem}.yaml"), text)),
            Err(e) => errors.push(format!("Flow '{}': {e}", record.flow.name)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let ([(_, text)], false) = (files.as_slice(), alternate) {
        return Ok(("application/x-yaml", text.clone().into_bytes()));
    }
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in &files {
        zip.start_file(name.as_str(), options)
            .and_then(|_| zip.write_all(text.as_bytes()).map_err(Into::into))
            .map_err(|e| vec![format!("could not write the export: {e}")])?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| vec![format!("could not write the export: {e}")])?
        .into_inner();
    Ok(("application/zip", bytes))
}

/// Flow-level keys in the order Architect writes them; others follow, sorted.
const FLOW_KEY_ORDER: &[&str] = &[
    "name",
    "description",
    "division",
    "startUpRef",
    "defaultLanguage",
    "supportedLanguages",
    "initialGreeting",
    "variables",
    "settingsActionDefaults",
    "settingsCommonModule",
    "settingsErrorHandling",
    "settingsMenu",
    "settingsPrompts",
    "settingsSpeechRec",
];

/// The published YAML as Architect's export writes it. `division`: the flow's division,
/// which every real export names, whether or not the published file did.
pub fn as_architect_exports(
    yaml: &str,
    flow_type: FlowType,
    division: Option<&str>,
) -> Result<String, String> {
    let value: Value =
        yaml_serde::from_str(yaml).map_err(|e| format!("unreadable configuration: {e}"))?;
    let Value::Mapping(top) = value else {
        return Err("the configuration is not a mapping".into());
    };
    let mut out = Mapping::new();
    for (key, body) in top {
        let Value::Mapping(mut body) = body else {
            out.insert(key, body);
            continue;
        };
        add_defaults(&mut body, flow_type);
        if let (Some(d), false) = (division, body.contains_key("division")) {
            body.insert(Value::from("division"), Value::from(d));
        }
        let mut ordered = Mapping::new();
        for k in FLOW_KEY_ORDER {
            if let Some(v) = body.remove(*k) {
                ordered.insert(Value::from(*k), sorted(v));
            }
        }
        let mut rest: Vec<(Value, Value)> = body.into_iter().collect();
        rest.sort_by_key(|a| key_text(&a.0));
        for (k, v) in rest {
            ordered.insert(k, sorted(v));
        }
        out.insert(key, Value::Mapping(ordered));
    }
    let mut text = String::new();
    write_block(&mut text, &Value::Mapping(out), 0);
    Ok(text)
}

fn key_text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_default()
}

/// Every nested mapping with its keys sorted (Architect's order is not the file's).
fn sorted(v: Value) -> Value {
    match v {
        Value::Mapping(m) => {
            let mut items: Vec<(Value, Value)> = m.into_iter().collect();
            items.sort_by_key(|a| key_text(&a.0));
            Value::Mapping(items.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Writes a mapping or sequence in block style, 4 spaces a level: a layout unlike any
/// serializer flowctl uses, so that no test can pass by comparing bytes.
fn write_block(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                out.push_str(&pad);
                out.push_str(&scalar_text(k));
                out.push(':');
                write_after(out, child, indent + 4);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Mapping(m) if !m.is_empty() => {
                        // The item's first key on the dash's line, the rest under it.
                        let mut inner = String::new();
                        write_block(&mut inner, item, indent + 2);
                        out.push(' ');
                        out.push_str(inner.get(indent + 2..).unwrap_or(&inner));
                    }
                    _ => write_after(out, item, indent + 4),
                }
            }
        }
        Value::Tagged(t) => write_block(out, &t.value, indent),
        other => {
            out.push_str(&pad);
            out.push_str(&scalar_text(other));
            out.push('\n');
        }
    }
}

/// What follows `key:` or `-`: a scalar on the same line, a collection on the next ones.
fn write_after(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            write_block(out, v, indent);
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            write_block(out, v, indent);
        }
        Value::Tagged(t) => write_after(out, &t.value, indent),
        other => {
            out.push(' ');
            out.push_str(&scalar_text(other));
            out.push('\n');
        }
    }
}

/// A scalar as YAML text. A string is written plain only when every YAML reader, 1.1 or
/// 1.2, reads it back as that string: `yes`, `no`, `on`, `off`, `y`, `n`, `true`, `null`,
/// numbers and anything with YAML punctuation are double-quoted.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if plain_is_safe(s) => s.clone(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}")),
        Value::Mapping(m) if m.is_empty() => "{}".into(),
        Value::Sequence(s) if s.is_empty() => "[]".into(),
        Value::Tagged(t) => scalar_text(&t.value),
        // A collection as a key: written in flow style, quoted (Architect YAML has none).
        other => serde_json::to_string(&yaml_serde::to_string(other).unwrap_or_default())
            .unwrap_or_default(),
    }
}

fn plain_is_safe(s: &str) -> bool {
    const YAML11_WORDS: &[&str] = &[
        "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && s.trim() == s
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, ' ' | '_' | '-' | '.' | '/' | '(' | ')' | '[' | ']')
        })
        && !YAML11_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

fn yaml(text: &str) -> Value {
    yaml_serde::from_str(text).unwrap_or(Value::Null)
}

/// What Architect fills in that a file may leave out.
fn add_defaults(body: &mut Mapping, flow_type: FlowType) {
    let mut put = |k: &str, v: &str| {
        if !body.contains_key(k) {
            body.insert(Value::from(k), yaml(v));
        }
    };
    put(
        "settingsActionDefaults",
        "playAudioOnSilence: {timeout: {lit: {seconds: 40}}}\ndetectSilence: {timeout: {lit: {seconds: 40}}}\ncallData: {processingPrompt: {noValue: true}}\ncollectInput: {noEntryTimeout: {lit: {seconds: 5}}}\ntransferToFlowSecure: {connectTimeout: {lit: {seconds: 15}}}\n",
    );
    put(
        "settingsPrompts",
        "ensureAudioInPrompts: false\npromptMediaToValidate: [{mediaType: audio}, {mediaType: tts}]\n",
    );
    if flow_type == FlowType::InboundCall {
        put(
            "settingsSpeechRec",
            "completeMatchTimeout: {lit: {ms: 100}}\nincompleteMatchTimeout: {lit: {ms: 1500}}\nmaxSpeechLengthTimeout: {lit: {seconds: 20}}\nminConfidenceLevel: {lit: 50}\nasrCompanyDir: none\nasrEnabledOnFlow: true\n",
        );
    }
    let mut stack: Vec<&mut Value> = body.values_mut().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Mapping(m) => {
                if let Some(Value::Mapping(t)) = m.get_mut("transferToAcd") {
                    for k in ["preTransferAudio", "failureTransferAudio"] {
                        if !t.contains_key(k) {
                            t.insert(Value::from(k), yaml("noValue: true"));
                        }
                    }
                }
                stack.extend(m.values_mut());
            }
            Value::Sequence(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// The OAuth client of Architect's UI in the emulator: a version published "as a UI user"
/// names it as its `createdByClient`. (The real UI's client id is not published; any id
/// other than the caller's own has the same effect.)
pub const UI_CLIENT_ID: &str = "00000000-0000-4000-8000-00000000a0e1";

impl Emulator {
    /// Publishes `yaml` as a user in Architect's UI would: a new version with this content,
    /// the flow's description left as it was (a UI edit does not touch it), made by a user
    /// through the UI's own OAuth client ([`UI_CLIENT_ID`]), not by the caller's client. A
    /// flow that does not exist yet is created, as one made by hand. Returns the flow id, or
    /// Architect's errors.
    pub fn publish_as_ui_user(&self, yaml: &str) -> Result<String, Vec<String>> {
        self.publish_by(yaml, UI_CLIENT_ID, true)
    }

    /// Publishes `yaml` as an Architect job of the OAuth client `client_id` would (what an
    /// apply with that client leaves behind), without a request: for seeding large orgs in
    /// tests and benchmarks.
    pub fn publish_as_client(&self, yaml: &str, client_id: &str) -> Result<String, Vec<String>> {
        self.publish_by(yaml, client_id, false)
    }

    /// Publishes as `client_id`; `ui_user`: as a UI user, who keeps the description and
    /// is the version's author.
    fn publish_by(
        &self,
        yaml: &str,
        client_id: &str,
        ui_user: bool,
    ) -> Result<String, Vec<String>> {
        let shared = self.shared.clone();
        self.with(|s| {
            // The description before the edit, if the flow exists (a UI edit keeps it).
            let before: Option<Option<String>> = ui_user
                .then(|| {
                    let v: Value = yaml_serde::from_str(yaml).ok()?;
                    let (key, body) = v.as_mapping()?.iter().next()?;
                    let t = FlowType::parse_any(key.as_str()?)?;
                    let name = body.get("name")?.as_str()?;
                    Some(s.org.find_flow(name, t)?.flow.description.clone())
                })
                .flatten();
            let lag = s.index_lag;
            let flow = architect::run(&mut s.org, yaml, lag, client_id).map_err(|f| f.messages)?;
            let id = flow.id.unwrap_or_default();
            if let (true, Some(r)) = (ui_user, s.org.flows.get_mut(&id)) {
                if let Some(description) = before {
                    r.flow.description = description;
                }
                let user = super::user_ref("Jane Architect (UI)");
                r.flow.published_by = Some(user.clone());
                if let Some(v) = r.flow.published_version.as_mut() {
                    v.created_by = Some(user.clone());
                }
                if let Some(v) = r.versions.last_mut() {
                    v.version.created_by = Some(user);
                }
            }
            shared.save(s);
            Ok(id)
        })
    }

    /// The next export job fails with this message, as Architect reports a failed export.
    pub fn fail_next_export(&self, message: &str) {
        self.with(|s| s.exports.fail_next = Some(message.to_string()));
    }

    /// Export jobs registered so far.
    pub fn export_job_count(&self) -> usize {
        self.with(|s| s.exports.jobs.len())
    }

    /// The next `n` export jobs are killed by the rate limit, as a real job whose Archy
    /// session ran out of its token's window ("could not find the flow with id", exit
    /// code 107).
    pub fn kill_next_exports(&self, n: u32) {
        self.with(|s| s.exports.kill_next = n);
    }

    /// Every export job naming this flow fails with `message`, as Archy fails a flow it
    /// cannot export.
    pub fn fail_exports_of(&self, flow_id: &str, message: &str) {
        self.with(|s| {
            s.exports
                .failing
                .insert(flow_id.to_string(), message.to_string())
        });
    }

    /// The body of every export job registration so far, in order.
    pub fn export_requests(&self) -> Vec<ExportJobRequest> {
        self.with(|s| s.exports.requests.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_reserialized_with_defaults_and_is_not_the_uploaded_text() {
        let uploaded = "inboundCall:\n  name: F\n  division: Home\n  startUpRef: /inboundCall/tasks/task[s]\n  tasks:\n  - task:\n      name: Start\n      refId: s\n      actions:\n      - transferToAcd:\n          name: Q\n          targetQueue:\n            lit:\n              name: Sales\n";
        let exported = as_architect_exports(uploaded, FlowType::InboundCall, Some("Home"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(exported, uploaded);
        assert!(exported.contains("settingsActionDefaults"));
        assert!(exported.contains("settingsPrompts"));
        assert!(exported.contains("preTransferAudio"));
        assert!(
            exported.starts_with("inboundCall:\n    name: F\n"),
            "{exported}"
        );
        let c =
            crate::flow::compare::compare(uploaded, &exported).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.same, "{}", c.diff);
    }

    #[test]
    fn a_sequence_of_mappings_with_several_keys_survives_the_export() {
        let text = "botFlow:\n  name: B\n  intents:\n  - name: Sales\n    utterances:\n    - segments:\n      - text: buy\n";
        let exported =
            as_architect_exports(text, FlowType::Bot, None).unwrap_or_else(|e| panic!("{e}"));
        let back: Value =
            yaml_serde::from_str(&exported).unwrap_or_else(|e| panic!("{e}\n{exported}"));
        assert_eq!(
            back["botFlow"]["intents"][0]["utterances"][0]["segments"][0]["text"].as_str(),
            Some("buy"),
            "{exported}"
        );
    }

    #[test]
    fn multi_line_text_survives_the_relayout() {
        let uploaded = "commonModule:\n  name: M\n  description: \"first line\\n  indented second\\nthird\"\n  startUpTaskActions:\n  - endTask:\n      name: Done\n";
        let exported = as_architect_exports(uploaded, FlowType::CommonModule, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let v: Value =
            yaml_serde::from_str(&exported).unwrap_or_else(|e| panic!("{e}\n{exported}"));
        assert_eq!(
            v["commonModule"]["description"].as_str(),
            Some("first line\n  indented second\nthird"),
            "{exported}"
        );
    }

    #[test]
    fn an_export_keeps_strings_strings_and_names_the_division() {
        let uploaded = "botFlow:\n  name: B\n  bots:\n  - bot:\n      name: 'Start: here'\n      refId: s\n      actions:\n      - askForBoolean:\n          name: Ask\n          outputs:\n            \"yes\":\n              actions:\n              - exitBotFlow: {name: 'on'}\n            \"no\":\n              actions:\n              - exitBotFlow: {name: \"0012\"}\n      - communicate:\n          communication: {exp: 'MakeCommunication(\"a: b # c\")'}\n          name: \"- x\"\n      - switch:\n          evaluate:\n            firstTrue:\n              cases:\n              - - nested\n                - [deeper]\n              - {}\n              - []\n";
        let exported = as_architect_exports(uploaded, FlowType::Bot, Some("Sales"))
            .unwrap_or_else(|e| panic!("{e}"));
        let v: Value =
            yaml_serde::from_str(&exported).unwrap_or_else(|e| panic!("{e}\n{exported}"));
        assert_eq!(
            v["botFlow"]["division"].as_str(),
            Some("Sales"),
            "{exported}"
        );
        // A YAML 1.1 reader takes plain yes/no/on for booleans: they are quoted.
        for word in ["\"yes\":", "\"no\":", "name: \"on\"", "name: \"0012\""] {
            assert!(exported.contains(word), "{word} in\n{exported}");
        }
        let c =
            crate::flow::compare::compare(uploaded, &exported).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.same, "{}\n{exported}", c.diff);
        // A file that names its division keeps it.
        let named = uploaded.replace("  name: B\n", "  name: B\n  division: Home\n");
        let exported = as_architect_exports(&named, FlowType::Bot, Some("Sales"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(exported.contains("division: Home\n"), "{exported}");
    }
}

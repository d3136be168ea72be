//! The emulator's Architect: what a job does with the uploaded YAML.
//!
//! This is deliberately its own reader, not `crate::flow`: it checks flowctl's renderer
//! the way the real Architect would. It rejects unreplaced `{{...}}` placeholders, reads
//! the flow type and name, checks that `startUpRef` resolves, that every
//! `callCommonModule` names a published common module and every `transferToAcd` a queue
//! that exists, refuses flows locked by someone else, then creates or updates the flow by
//! name and type, publishes version `N.0` and records what that version consumes.

use super::state::{iso, now_ms, Org, VersionRecord};
use crate::models::*;
use std::time::Duration;
use yaml_serde::Value;

/// What a job reports: the flow it published, or its error messages (and the flow it
/// created before it failed, if it did).
pub type Outcome = Result<EntityRef, Failure>;

/// A failed job: its messages, and the flow it made on the way, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failure {
    pub messages: Vec<String>,
    pub flow: Option<EntityRef>,
}

impl From<Vec<String>> for Failure {
    fn from(messages: Vec<String>) -> Failure {
        Failure {
            messages,
            flow: None,
        }
    }
}

/// Architect's top-level keys, read case-sensitively, as real exports spell them
/// (`inqueueCall` with a lower-case q, `botFlow`). Kept apart from flowctl's own table on
/// purpose: the emulator checks flowctl, it does not share its beliefs.
const FLOW_KEYS: &[(&str, FlowType)] = &[
    ("botFlow", FlowType::Bot),
    ("commonModule", FlowType::CommonModule),
    ("digitalBot", FlowType::DigitalBot),
    ("inboundCall", FlowType::InboundCall),
    ("inboundChat", FlowType::InboundChat),
    ("inboundEmail", FlowType::InboundEmail),
    ("inboundShortMessage", FlowType::InboundShortMessage),
    ("inqueueCall", FlowType::InQueueCall),
    ("outboundCall", FlowType::OutboundCall),
    ("secureCall", FlowType::SecureCall),
    ("workflow", FlowType::Workflow),
];

/// Runs a job, and turns a crash into a failed job with a message instead of leaving it
/// `Started` forever (the emulator never panics on input, but if a bug does, the client
/// hears about it).
pub fn run_guarded(org: &mut Org, yaml: &str, index_lag: Duration, client_id: &str) -> Outcome {
    guarded(|| run(org, yaml, index_lag, client_id))
}

fn guarded(job: impl FnOnce() -> Outcome) -> Outcome {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or_else(|_| {
        Err(
            vec!["Internal error: the flow configuration could not be processed".to_string()]
                .into(),
        )
    })
}

/// Runs a job's YAML for the OAuth client `client_id`: a flow locked by that same client
/// is not someone else's work and publishes.
pub fn run(org: &mut Org, yaml: &str, index_lag: Duration, client_id: &str) -> Outcome {
    let (name, flow_type, body, division) = parse(org, yaml)?;
    let checked = check(org, &name, flow_type, &body, client_id);
    let (consumes, errors) = match checked {
        Ok(c) => (c, Vec::new()),
        Err(Blocked::Locked(errors)) => return Err(errors.into()),
        Err(Blocked::Invalid(errors)) => (Vec::new(), errors),
    };
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let description = text("description");
    if !errors.is_empty() {
        // (unverified) Whether Archy leaves a new flow behind when its publish fails
        // validation is not settled by any source. The emulator takes the reading that is
        // hardest on clients: the flow is created, unpublished, and the job names it, so
        // a client must clean up what its job made.
        let flow = match org.find_flow(&name, flow_type) {
            Some(_) => None,
            None => {
                let f = org.create_flow(&name, description, flow_type, &division);
                Some(flow_ref(&f.id, &name))
            }
        };
        return Err(Failure {
            messages: errors,
            flow,
        });
    }
    Ok(publish(
        org,
        &name,
        flow_type,
        description,
        &division,
        yaml,
        consumes,
        index_lag,
        client_id,
    )?)
}

fn flow_ref(id: &str, name: &str) -> EntityRef {
    EntityRef {
        id: Some(id.to_string()),
        name: Some(name.to_string()),
        self_uri: Some(format!("/api/v2/flows/{id}")),
    }
}

/// Why a job cannot publish: the flow is someone else's (nothing is touched), or the
/// content is wrong.
enum Blocked {
    Locked(Vec<String>),
    Invalid(Vec<String>),
}

/// Reads the YAML as Architect does: placeholders, one case-sensitive flow-type key, a
/// name, a division that exists.
fn parse(
    org: &Org,
    yaml: &str,
) -> Result<(String, FlowType, yaml_serde::Mapping, Division), Vec<String>> {
    if let Some((_, after)) = yaml.split_once("{{") {
        // Quote at most 40 characters, cut on a character boundary (never a byte index).
        let inner: String = match after.split_once("}}") {
            Some((inner, _)) => inner.chars().take(40).collect(),
            None => after.chars().take(38).collect(),
        };
        let closed = after.contains("}}") && inner.chars().count() < 40;
        return Err(vec![format!(
            "Unable to parse the flow configuration: found an unreplaced substitution placeholder '{{{{{inner}{}'",
            if closed { "}}" } else { "" }
        )]);
    }
    // Architect's parser is not libyaml; refuse what would stall ours (see flow::read).
    if let Some((line, column)) = crate::yaml_guard::too_deep(yaml) {
        return Err(vec![format!(
            "Unable to parse the flow configuration YAML: nesting too deep at line {line} column {column}"
        )]);
    }
    let value: Value = yaml_serde::from_str(yaml)
        .map_err(|e| vec![format!("Unable to parse the flow configuration YAML: {e}")])?;
    let Value::Mapping(top) = value else {
        return Err(vec![
            "The flow configuration must be a mapping whose single key is the flow type".into(),
        ]);
    };
    if top.len() != 1 {
        return Err(vec![format!(
            "The flow configuration must have exactly one top-level key (the flow type); found {}",
            top.len()
        )]);
    }
    let Some((key, body)) = top.into_iter().next() else {
        return Err(vec!["The flow configuration is empty".into()]);
    };
    let key = key.as_str().unwrap_or_default().to_string();
    let Some(flow_type) = FLOW_KEYS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t) else {
        return Err(vec![format!("Unknown flow type '{key}'")]);
    };
    let Value::Mapping(body) = body else {
        return Err(vec![format!("'{key}' must be a mapping")]);
    };
    super::vocabulary::check(&Value::Mapping(body.clone()), yaml)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(name) = text("name").filter(|n| !n.trim().is_empty()) else {
        return Err(vec![format!("'{key}.name' is required")]);
    };
    if let Some(problem) = super::state::name_problem(&name) {
        return Err(vec![problem]);
    }
    let division = match text("division") {
        Some(d) => match org.divisions.iter().find(|x| x.name == d) {
            Some(x) => x.clone(),
            None => return Err(vec![format!("Division '{d}' was not found")]),
        },
        None => match org.home() {
            Some(h) => h.clone(),
            None => return Err(vec!["The org has no home division".into()]),
        },
    };
    Ok((name, flow_type, body, division))
}

/// Checks the lock, the start reference and everything the flow references; returns what
/// the new version consumes.
fn check(
    org: &Org,
    name: &str,
    flow_type: FlowType,
    body: &yaml_serde::Mapping,
    client_id: &str,
) -> Result<Vec<Dependency>, Blocked> {
    if let Some(existing) = org.find_flow(name, flow_type) {
        let flow = &existing.flow;
        let holder = match (&flow.locked_user, &flow.locked_client) {
            (Some(user), _) => Some(format!(
                "user '{}'",
                user.name.as_deref().unwrap_or("unknown")
            )),
            (None, Some(c)) if c.id.as_deref() != Some(client_id) => Some(format!(
                "OAuth client '{}'",
                c.name.as_deref().or(c.id.as_deref()).unwrap_or("unknown")
            )),
            _ => None,
        };
        if let Some(holder) = holder {
            return Err(Blocked::Locked(vec![format!(
                "Unable to publish flow '{name}' ({}): the flow is locked by another entity ({holder}). It must be checked in or unlocked first.",
                flow.id
            )]));
        }
    }
    let key = FLOW_KEYS
        .iter()
        .find(|(_, t)| *t == flow_type)
        .map(|(k, _)| *k)
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut consumes: Vec<Dependency> = Vec::new();
    if flow_type == FlowType::InboundCall {
        if let Err(e) = check_start_ref(body, key) {
            errors.push(e);
        }
    }
    let refs = references(&Value::Mapping(body.clone()));
    let modules = refs.modules;
    let queues = refs.queues;
    for (module, action) in modules {
        if module == name && flow_type == FlowType::CommonModule {
            errors.push(format!(
                "Common module '{name}' cannot call itself (action '{action}')"
            ));
            continue;
        }
        match org.find_flow(&module, FlowType::CommonModule) {
            Some(r) => match &r.flow.published_version {
                Some(v) => push_unique(
                    &mut consumes,
                    Dependency {
                        id: r.flow.id.clone(),
                        name: Some(r.flow.name.clone()),
                        version: Some(v.id.clone()),
                        object_type: Some("COMMONMODULEFLOW".into()),
                        deleted: Some(false),
                        updated: Some(false),
                        state_unknown: Some(false),
                        self_uri: r.flow.self_uri.clone(),
                    },
                ),
                None => errors.push(format!(
                    "Action '{action}': the common module '{module}' has no published version. Publish it before the flows that call it."
                )),
            },
            None => errors.push(format!("Action '{action}': the common module '{module}' could not be found")),
        }
    }
    for (queue, action) in queues {
        match org.queues.iter().find(|q| q.name == queue) {
            Some(q) => push_unique(
                &mut consumes,
                Dependency {
                    id: q.id.clone(),
                    name: Some(q.name.clone()),
                    version: None,
                    object_type: Some("QUEUE".into()),
                    deleted: Some(false),
                    updated: Some(false),
                    state_unknown: Some(false),
                    self_uri: q.self_uri.clone(),
                },
            ),
            None => errors.push(format!(
                "Action '{action}': the queue '{queue}' could not be found"
            )),
        }
    }
    for (kind, target, action) in refs.flows {
        let found = org
            .flows
            .values()
            .filter(|r| r.flow.name == target && kind.is_none_or(|t| r.flow.flow_type == t))
            .find(|r| r.flow.published_version.is_some());
        let noun = match kind {
            Some(FlowType::Bot) => "bot flow",
            Some(FlowType::DigitalBot) => "digital bot flow",
            _ => "flow",
        };
        match found {
            Some(r) => push_unique(
                &mut consumes,
                Dependency {
                    id: r.flow.id.clone(),
                    name: Some(r.flow.name.clone()),
                    version: r.flow.published_version.as_ref().map(|v| v.id.clone()),
                    object_type: r.flow.flow_type.object_type().map(str::to_string),
                    deleted: Some(false),
                    updated: Some(false),
                    state_unknown: Some(false),
                    self_uri: r.flow.self_uri.clone(),
                },
            ),
            None => errors.push(format!(
                "Action '{action}': the {noun} '{target}' could not be found or has no published version. Publish it before the flows that call it."
            )),
        }
    }
    for (kind, target, action) in refs.resources {
        let (list, noun) = match kind {
            "SCHEDULEGROUP" => (&org.resources.schedule_groups, "schedule group"),
            "DATATABLE" => (&org.resources.data_tables, "data table"),
            "DATAACTION" => (&org.resources.data_actions, "data action"),
            _ => (&org.resources.prompts, "user prompt"),
        };
        match list
            .iter()
            .find(|e| e.name.as_deref() == Some(target.as_str()))
        {
            Some(e) => push_unique(
                &mut consumes,
                Dependency {
                    id: e.id.clone().unwrap_or_default(),
                    name: e.name.clone(),
                    version: None,
                    object_type: Some(kind.to_string()),
                    deleted: Some(false),
                    updated: Some(false),
                    state_unknown: Some(false),
                    self_uri: e.self_uri.clone(),
                },
            ),
            None => errors.push(format!(
                "Action '{action}': the {noun} '{target}' could not be found"
            )),
        }
    }
    if errors.is_empty() {
        Ok(consumes)
    } else {
        Err(Blocked::Invalid(errors))
    }
}

/// Creates or updates the flow by name and type, then publishes `N.0` as made by the OAuth
/// client `client_id` (the version's `createdByClient`); a lock held by that client is
/// released, as a check-in does.
#[allow(clippy::too_many_arguments)]
fn publish(
    org: &mut Org,
    name: &str,
    flow_type: FlowType,
    description: Option<String>,
    division: &Division,
    yaml: &str,
    consumes: Vec<Dependency>,
    index_lag: Duration,
    client_id: &str,
) -> Result<EntityRef, Vec<String>> {
    let name = name.to_string();
    let id = match org.find_flow(&name, flow_type) {
        Some(r) => r.flow.id.clone(),
        None => {
            org.create_flow(&name, description.clone(), flow_type, division)
                .id
        }
    };
    let division_ref = org.division_ref(division);
    let Some(record) = org.flows.get_mut(&id) else {
        return Err(vec![format!("could not find the flow with id {id}")]);
    };
    let number = record.versions.len() + 1;
    let now = now_ms();
    let version = FlowVersion {
        id: format!("{number}.0"),
        name: Some(name.clone()),
        commit_version: Some(format!("{number}.0")),
        configuration_version: Some(format!("{number}.0")),
        version_type: Some("PUBLISH".into()),
        secure: Some(false),
        debug: Some(false),
        created_by: Some(emulator_user()),
        created_by_client: (!client_id.is_empty()).then(|| super::client_ref(client_id)),
        date_created: Some(now),
        date_published: Some(iso(now)),
        generation_id: Some(uuid::Uuid::new_v4().to_string()),
        self_uri: Some(format!("/api/v2/flows/{id}/versions/{number}.0")),
    };
    record.flow.description = description;
    record.flow.division = Some(division_ref);
    record.flow.published_version = Some(version.clone());
    record.flow.checked_in_version = Some(version.clone());
    record.flow.saved_version = Some(version.clone());
    record.flow.published_by = Some(emulator_user());
    record.flow.active = Some(true);
    record.flow.locked_client = None;
    record.versions.push(VersionRecord {
        version,
        yaml: yaml.to_string(),
        consumes,
        indexed_at: now + index_lag.as_millis() as i64,
    });
    Ok(EntityRef {
        id: Some(id.clone()),
        name: Some(name),
        self_uri: Some(format!("/api/v2/flows/{id}")),
    })
}

fn push_unique(v: &mut Vec<Dependency>, d: Dependency) {
    if !v.iter().any(|x| x.id == d.id) {
        v.push(d);
    }
}

pub fn emulator_user() -> EntityRef {
    EntityRef {
        id: Some("00000000-0000-4000-8000-00000000e001".into()),
        name: Some("flowctl emulator".into()),
        self_uri: None,
    }
}

/// `(referenced name, action name)` pairs.
type Refs = Vec<(String, String)>;

/// What a flow's actions reference by name.
#[derive(Default)]
struct References {
    modules: Refs,
    queues: Refs,
    /// `(flow type if the action says it, flow name, action)`: `callBotFlow`,
    /// `callDigitalBotFlow`, `transferToFlow`, `transferToFlowSecure`.
    flows: Vec<(Option<FlowType>, String, String)>,
    /// `(dependency type, name, action)`: schedule groups, data tables, data actions and
    /// user prompts.
    resources: Vec<(&'static str, String, String)>,
}

/// The names a target field gives: `lit: {name}`, `name:`, or a mapping keyed by name.
fn named(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Mapping(m)) = v else {
        return Vec::new();
    };
    if let Some(lit) = m.get("lit") {
        return lit
            .get("name")
            .and_then(Value::as_str)
            .or(lit.as_str())
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
    }
    if ["exp", "var", "noValue"].iter().any(|k| m.contains_key(*k)) {
        return Vec::new();
    }
    if let Some(n) = m.get("name").and_then(Value::as_str) {
        return vec![n.to_string()];
    }
    m.keys()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Every reference at any depth: `callCommonModule`, literal `transferToAcd` targets,
/// bot flows, transfers to flows, schedule groups, data tables, data actions, and
/// `Prompt.X` in expressions.
fn references(v: &Value) -> References {
    let mut refs = References::default();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    let action = || {
                        child
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("(unnamed)")
                            .to_string()
                    };
                    let mut flow = |t: Option<FlowType>, field: &str| {
                        for n in named(child.get(field)) {
                            refs.flows.push((t, n, action()));
                        }
                    };
                    match k.as_str() {
                        Some("callCommonModule") => {
                            for n in named(child.get("commonModule")) {
                                refs.modules.push((n, action()));
                            }
                        }
                        Some("transferToAcd") => {
                            for n in named(child.get("targetQueue")) {
                                refs.queues.push((n, action()));
                            }
                        }
                        Some("callBotFlow") => flow(Some(FlowType::Bot), "botFlow"),
                        Some("callDigitalBotFlow") => {
                            flow(Some(FlowType::DigitalBot), "digitalBotFlow")
                        }
                        Some("transferToFlow" | "transferToFlowSecure") => flow(None, "targetFlow"),
                        Some("evaluateScheduleGroup") => {
                            for n in named(child.get("scheduleGroup")) {
                                refs.resources.push(("SCHEDULEGROUP", n, action()));
                            }
                        }
                        Some("dataTableLookup") => {
                            for n in named(child.get("dataTable")) {
                                refs.resources.push(("DATATABLE", n, action()));
                            }
                        }
                        Some("callData") => {
                            if let Some(Value::Mapping(categories)) = child.get("category") {
                                for category in categories.values() {
                                    for n in named(category.get("dataAction")) {
                                        refs.resources.push(("DATAACTION", n, action()));
                                    }
                                }
                            }
                        }
                        Some("exp") => {
                            if let Some(text) = child.as_str() {
                                for n in prompts_in(text) {
                                    refs.resources.push(("USERPROMPT", n, "expression".into()));
                                }
                            }
                        }
                        _ => {}
                    }
                    stack.push(child);
                }
            }
            Value::Sequence(items) => stack.extend(items.iter()),
            Value::Tagged(t) => stack.push(&t.value),
            _ => {}
        }
    }
    refs
}

/// `Prompt.Name` in an expression (a name is letters, digits and `_`).
fn prompts_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let needle: Vec<char> = "Prompt.".chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + needle.len() <= chars.len() {
        let starts = chars[i..i + needle.len()] == needle[..]
            && (i == 0
                || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '.'));
        if starts {
            let name: String = chars[i + needle.len()..]
                .iter()
                .take_while(|c| c.is_alphanumeric() || **c == '_')
                .collect();
            i += needle.len() + name.chars().count();
            if !name.is_empty() {
                out.push(name);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// `startUpRef: /inboundCall/tasks/task[ref]` (or `./menus/menu[ref]`) must name a refId.
fn check_start_ref(body: &yaml_serde::Mapping, key: &str) -> Result<(), String> {
    let Some(r) = body.get("startUpRef").and_then(Value::as_str) else {
        return Err("startUpRef is required for an inbound call flow".into());
    };
    let rest = r
        .strip_prefix(&format!("/{key}/"))
        .or_else(|| r.strip_prefix("./"))
        .ok_or_else(|| format!("startUpRef '{r}' is not a path into this flow"))?;
    let (list, item, wanted) = if let Some(x) = rest.strip_prefix("tasks/task[") {
        ("tasks", "task", x)
    } else if let Some(x) = rest.strip_prefix("menus/menu[") {
        ("menus", "menu", x)
    } else {
        return Err(format!("startUpRef '{r}' must point at a task or a menu"));
    };
    let wanted = wanted
        .strip_suffix(']')
        .ok_or_else(|| format!("startUpRef '{r}' is malformed"))?;
    let found = body
        .get(list)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get(item)?.get("refId")?.as_str())
        .any(|id| id == wanted);
    if found {
        Ok(())
    } else {
        Err(format!(
            "startUpRef '{r}' does not resolve: no {item} has refId '{wanted}'"
        ))
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    #[test]
    fn a_job_that_crashes_ends_as_a_failure_with_a_message() {
        let out = guarded(|| panic!("a bug in the job runner"));
        match out {
            Err(f) => assert!(f.messages[0].contains("Internal error"), "{f:?}"),
            Ok(_) => panic!("a crashed job must fail"),
        }
    }
}

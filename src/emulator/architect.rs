//! The emulator's Architect: what a job does with the uploaded YAML.
//!
//! This is deliberately its own reader, not `crate::flow`: it checks flowctl's renderer
//! the way the real Architect would. It rejects unreplaced `{{...}}` placeholders, reads
//! the flow type and name, checks that `startUpRef` resolves, that every
//! `callCommonModule` names a published common module and every `transferToAcd` a queue
//! that exists, refuses flows locked by someone else, then creates or updates the flow by
//! name and type, publishes version `N.0` and records what that version consumes.

use super::state::{iso, now_ms, Org, State, VersionRecord};
use crate::architect_refs::{references as target_references, RefKind, Target};
use crate::models::*;
use std::time::Duration;
use std::time::Instant;
use yaml_serde::Value;

/// What a job reports: the flow it published, or its error messages (and the flow it
/// created before it failed, if it did).
pub(crate) type Outcome = Result<EntityRef, Failure>;

/// A failed job: its messages, and the flow it made on the way, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Failure {
    pub(crate) messages: Vec<String>,
    pub(crate) flow: Option<EntityRef>,
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
    ("inqueueEmail", FlowType::InQueueEmail),
    ("inqueueShortMessage", FlowType::InQueueShortMessage),
    ("outboundCall", FlowType::OutboundCall),
    ("secureCall", FlowType::SecureCall),
    ("surveyInvite", FlowType::SurveyInvite),
    ("workflow", FlowType::Workflow),
    ("workitem", FlowType::Workitem),
];

/// Runs a job, and turns a crash into a failed job with a message instead of leaving it
/// `Started` forever (the emulator never panics on input, but if a bug does, the client
/// hears about it).
pub(crate) fn run_guarded(
    org: &mut Org,
    yaml: &str,
    index_lag: Duration,
    client_id: &str,
) -> Outcome {
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
pub(crate) fn run(org: &mut Org, yaml: &str, index_lag: Duration, client_id: &str) -> Outcome {
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

/// Completes job `id` with its uploaded YAML, as the job runner does once the job's time
/// is up: the job ends `Success` with the flow it published, or `Failure` with its
/// messages (and the flow it made on the way, if any). A scripted rate-limit fault fails
/// the job as the real service's overloaded job does. Returns whether the org changed (so
/// the caller saves it).
pub(super) fn complete_job(s: &mut State, id: &str, yaml: &str, client_id: &str) -> bool {
    let lag = s.index_lag;
    let rate_limited = s.jobs.get(id).is_some_and(|j| j.fail_as_rate_limit);
    let after_publishing = s.jobs.get(id).is_some_and(|j| j.fail_after_publishing);
    let outcome = if rate_limited {
        Err(Failure::from(rate_limited_messages(
            &uuid::Uuid::new_v4().to_string(),
        )))
    } else {
        match run_guarded(&mut s.org, yaml, lag, client_id) {
            Ok(flow) if after_publishing => Err(Failure {
                messages: rate_limited_messages(flow.id.as_deref().unwrap_or_default()),
                flow: Some(flow),
            }),
            other => other,
        }
    };
    let changed = outcome.is_ok() || outcome.as_ref().is_err_and(|f| f.flow.is_some());
    if let Ok(flow)
    | Err(Failure {
        flow: Some(flow), ..
    }) = &outcome
    {
        if let Some(id) = &flow.id {
            s.read_lag_from
                .entry(id.clone())
                .or_insert_with(Instant::now);
        }
    }
    if let Some(job) = s.jobs.get_mut(id) {
        match outcome {
            Ok(flow) => {
                job.status = JobStatus::Success;
                job.flow = Some(flow);
            }
            Err(Failure { messages, flow }) => {
                job.status = JobStatus::Failure;
                job.flow = flow;
                job.messages = error_messages(messages);
            }
        }
    }
    changed
}

/// The messages of a job whose Archy session ran out of its token's rate limit, in the shape
/// the real service gives them (the Terraform provider's `isRetryableJobFailure` matches
/// "could not find the flow with id" with "exit code: 107" or "Archy failed"; the job
/// messages of the report behind it say "setting the Archy exit code to 107").
pub(crate) fn rate_limited_messages(flow_id: &str) -> Vec<String> {
    vec![
        format!("Archy failed: could not find the flow with id '{flow_id}'"),
        "Too Many Requests: the session's requests exceeded the rate limit; setting the Archy exit code to 107 (exit code: 107)".to_string(),
    ]
}

/// A job's error messages as the API shows them (`expand=messages`), stamped now.
pub(super) fn error_messages(messages: Vec<String>) -> Vec<JobMessage> {
    let now = iso(now_ms());
    messages
        .into_iter()
        .map(|text| JobMessage {
            date_time: Some(now.clone()),
            message_type: Some("Error".into()),
            text,
            details: Vec::new(),
        })
        .collect()
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
            Some(FlowType::InQueueCall) => "in-queue flow",
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

pub(crate) fn emulator_user() -> EntityRef {
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

/// Every reference at any depth, from the format's one walk
/// ([`crate::architect_refs::references`]), sorted by what Architect checks.
fn references(v: &Value) -> References {
    let mut refs = References::default();
    for n in target_references(v).0 {
        let action = n.action.unwrap_or("(unnamed)").to_string();
        match n.target {
            Target::Module => refs.modules.push((n.name, action)),
            Target::Queue => refs.queues.push((n.name, action)),
            Target::Ref(kind) if kind.is_flow() => {
                refs.flows.push((kind.flow_type(), n.name, action))
            }
            Target::Ref(RefKind::UserPrompt) => {
                refs.resources
                    .push(("USERPROMPT", n.name, "expression".into()))
            }
            Target::Ref(kind) => {
                let t = kind.resource_type().unwrap_or_default();
                refs.resources.push((t, n.name, action))
            }
        }
    }
    refs
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

#[cfg(test)]
mod job_tests {
    use super::*;
    use crate::emulator::state::{FaultConfig, Job, RandomFaults};

    fn state() -> State {
        State {
            org: Org::default(),
            tokens: Default::default(),
            windows: Default::default(),
            jobs: Default::default(),
            exports: Default::default(),
            scripted: Default::default(),
            random: RandomFaults::new(FaultConfig::default()),
            index_lag: Duration::ZERO,
            log: Vec::new(),
            read_lag_from: Default::default(),
            delete_conflicts: 0,
            persist: None,
        }
    }

    fn started(s: &mut State, id: &str, fail_as_rate_limit: bool) {
        s.jobs.insert(
            id.to_string(),
            Job {
                id: id.to_string(),
                signature: "sig".into(),
                status: JobStatus::Started,
                flow: None,
                messages: Vec::new(),
                fail_as_rate_limit,
                fail_after_publishing: false,
                token: None,
            },
        );
    }

    /// Registers job `id`, uploads `text` and completes it; whether the org changed.
    fn run_job(s: &mut State, id: &str, text: &str) -> bool {
        started(s, id, false);
        complete_job(s, id, text, "client")
    }

    /// An org where job-1 has published "Main IVR" (description "first").
    fn with_main_ivr() -> State {
        let mut s = state();
        assert!(run_job(
            &mut s,
            "job-1",
            &yaml("Main IVR", "first", "Start_1")
        ));
        s
    }

    fn published_id(record: &super::super::state::FlowRecord) -> Option<&str> {
        record
            .flow
            .published_version
            .as_ref()
            .map(|v| v.id.as_str())
    }

    /// A small inbound call flow; `target` is the task its start refers to.
    fn yaml(name: &str, description: &str, target: &str) -> String {
        format!(
            "inboundCall:
  name: {name}
  description: {description}
  division: Home
  startUpRef: \"/inboundCall/tasks/task[{target}]\"
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      defaultLanguageSkill:
        noValue: true
  tasks:
    - task:
        name: Start
        refId: Start_1
        actions:
          - disconnect:
              name: Bye
"
        )
    }

    fn flows_named<'a>(s: &'a State, name: &str) -> Vec<&'a super::super::state::FlowRecord> {
        s.org
            .flows
            .values()
            .filter(|r| r.flow.name == name)
            .collect()
    }

    #[test]
    fn a_job_that_succeeds_creates_the_flow_and_publishes_its_first_version() {
        let mut s = state();
        let text = yaml("Main IVR", "first", "Start_1");
        assert!(run_job(&mut s, "job-1", &text), "the org changed");

        let job = &s.jobs["job-1"];
        assert_eq!(job.status, JobStatus::Success, "{:?}", job.messages);
        assert!(job.messages.is_empty());
        let made = flows_named(&s, "Main IVR");
        assert_eq!(made.len(), 1);
        let record = made[0];
        assert_eq!(
            job.flow.as_ref().and_then(|f| f.id.as_ref()),
            Some(&record.flow.id)
        );
        assert_eq!(record.versions.len(), 1);
        assert_eq!(
            record.versions[0].yaml, text,
            "the version keeps the uploaded YAML"
        );
        assert_eq!(
            published_id(record),
            Some(record.versions[0].version.id.as_str()),
            "the new version is the published one"
        );
        assert!(s.read_lag_from.contains_key(&record.flow.id));
    }

    #[test]
    fn a_second_job_for_the_same_flow_adds_a_version_to_it() {
        let mut s = with_main_ivr();
        assert!(run_job(
            &mut s,
            "job-2",
            &yaml("Main IVR", "second", "Start_1")
        ));

        let made = flows_named(&s, "Main IVR");
        assert_eq!(made.len(), 1, "updated by name and type, not made again");
        let record = made[0];
        assert_eq!(record.versions.len(), 2);
        assert_eq!(record.flow.description.as_deref(), Some("second"));
        assert_eq!(
            published_id(record),
            Some(record.versions[1].version.id.as_str())
        );
        assert_eq!(
            s.jobs["job-2"].flow.as_ref().and_then(|f| f.id.as_ref()),
            Some(&record.flow.id)
        );
    }

    #[test]
    fn a_failed_job_for_a_new_flow_leaves_it_behind_unpublished_and_names_it() {
        let mut s = state();
        let changed = run_job(&mut s, "job-1", &yaml("Broken", "x", "Nowhere_9"));

        let job = &s.jobs["job-1"];
        assert_eq!(job.status, JobStatus::Failure);
        assert!(!job.messages.is_empty());
        assert!(job
            .messages
            .iter()
            .all(|m| m.message_type.as_deref() == Some("Error") && m.date_time.is_some()));
        let made = flows_named(&s, "Broken");
        assert_eq!(made.len(), 1, "the flow the job made stays");
        assert!(made[0].versions.is_empty());
        assert!(made[0].flow.published_version.is_none());
        assert_eq!(
            job.flow.as_ref().and_then(|f| f.id.as_ref()),
            Some(&made[0].flow.id),
            "the job names what it made, so a client can clean up"
        );
        assert!(changed, "a flow was made, so the org is saved");
    }

    #[test]
    fn a_failed_job_for_an_existing_flow_changes_nothing() {
        let mut s = with_main_ivr();
        let changed = run_job(&mut s, "job-2", &yaml("Main IVR", "second", "Nowhere_9"));

        assert!(!changed);
        let job = &s.jobs["job-2"];
        assert_eq!(job.status, JobStatus::Failure);
        assert!(job.flow.is_none());
        let record = flows_named(&s, "Main IVR")[0];
        assert_eq!(record.versions.len(), 1);
        assert_eq!(record.flow.description.as_deref(), Some("first"));
    }

    #[test]
    fn a_rate_limited_job_fails_and_touches_no_flow() {
        let mut s = state();
        started(&mut s, "job-1", true);
        let changed = complete_job(
            &mut s,
            "job-1",
            &yaml("Main IVR", "first", "Start_1"),
            "client",
        );

        assert!(!changed);
        let job = &s.jobs["job-1"];
        assert_eq!(job.status, JobStatus::Failure);
        assert!(job.messages[0].text.contains("could not find the flow"));
        assert!(s.org.flows.is_empty());
    }
}

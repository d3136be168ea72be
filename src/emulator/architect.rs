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
use serde_yaml_ng::Value;
use std::time::Duration;

/// What a job reports: the flow it published, or its error messages.
pub type Outcome = Result<EntityRef, Vec<String>>;

pub fn run(org: &mut Org, yaml: &str, index_lag: Duration) -> Outcome {
    if let Some(start) = yaml.find("{{") {
        let end = yaml[start..]
            .find("}}")
            .map(|e| start + e + 2)
            .unwrap_or(yaml.len().min(start + 40));
        return Err(vec![format!(
            "Unable to parse the flow configuration: found an unreplaced substitution placeholder '{}'",
            &yaml[start..end]
        )]);
    }
    // Architect's parser is not libyaml; refuse what would stall ours (see flow::read).
    if let Some((line, column)) = crate::flow::read::too_deep(yaml) {
        return Err(vec![format!(
            "Unable to parse the flow configuration YAML: nesting too deep at line {line} column {column}"
        )]);
    }
    let value: Value = serde_yaml_ng::from_str(yaml)
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
    let Some(flow_type) = FlowType::parse_any(&key) else {
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
    if name.chars().count() > 200 {
        return Err(vec![format!(
            "The flow name '{}...' is longer than 200 characters",
            name.chars().take(40).collect::<String>()
        )]);
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

    let mut errors = Vec::new();
    let mut consumes: Vec<Dependency> = Vec::new();
    if flow_type == FlowType::InboundCall {
        if let Err(e) = check_start_ref(&body, key.as_str()) {
            errors.push(e);
        }
    }
    let (modules, queues) = references(&Value::Mapping(body.clone()));
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
    if let Some(existing) = org.find_flow(&name, flow_type) {
        if let Some(user) = &existing.flow.locked_user {
            errors.push(format!(
                "Unable to publish flow '{name}' ({}): the flow is locked by another entity (user '{}'). It must be checked in or unlocked first.",
                existing.flow.id,
                user.name.as_deref().unwrap_or("unknown")
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // Create or update by name and type, then publish N.0.
    let description = text("description");
    let id = match org.find_flow(&name, flow_type) {
        Some(r) => r.flow.id.clone(),
        None => {
            org.create_flow(&name, description.clone(), flow_type, &division)
                .id
        }
    };
    let division_ref = org.division_ref(&division);
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
        created_by_client: None,
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

/// `(module name, action name)` of every `callCommonModule`, and `(queue, action)` of every
/// literal `transferToAcd` target, at any depth.
fn references(v: &Value) -> (Refs, Refs) {
    let mut modules = Vec::new();
    let mut queues = Vec::new();
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
                    match k.as_str() {
                        Some("callCommonModule") => {
                            if let Some(Value::Mapping(target)) = child.get("commonModule") {
                                for name in target.keys().filter_map(Value::as_str) {
                                    modules.push((name.to_string(), action()));
                                }
                            }
                        }
                        Some("transferToAcd") => {
                            if let Some(name) = child
                                .get("targetQueue")
                                .and_then(|t| t.get("lit"))
                                .and_then(|l| l.get("name"))
                                .and_then(Value::as_str)
                            {
                                queues.push((name.to_string(), action()));
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
    (modules, queues)
}

/// `startUpRef: /inboundCall/tasks/task[ref]` (or `./menus/menu[ref]`) must name a refId.
fn check_start_ref(body: &serde_yaml_ng::Mapping, key: &str) -> Result<(), String> {
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

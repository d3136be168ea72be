//! Reading users' own Architect YAML: `{{key}}` substitution, then the flow's type, name,
//! description and division, and every common module it calls and queue it transfers to,
//! at any depth (switch cases, failure outputs, menus).

use super::{FlowError, RefKind, Reference};
use crate::models::FlowType;
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Replaces `{{ key }}` from `vars`. Every placeholder left is reported with its line.
pub fn substitute(
    text: &str,
    vars: &BTreeMap<String, String>,
    source: &str,
) -> Result<String, FlowError> {
    let mut out = String::with_capacity(text.len());
    let mut missing: Vec<(String, usize)> = Vec::new();
    let mut rest = text;
    let mut consumed = 0usize;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        let key = after[..end].trim();
        match vars.get(key) {
            Some(v) => out.push_str(v),
            None => {
                let line = text[..consumed + start].matches('\n').count() + 1;
                if !missing.iter().any(|(k, _)| k == key) {
                    missing.push((key.to_string(), line));
                }
                out.push_str(&rest[start..start + 2 + end + 2]);
            }
        }
        let used = start + 2 + end + 2;
        consumed += used;
        rest = &rest[used..];
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(FlowError::Placeholders {
            file: source.to_string(),
            missing,
        })
    }
}

/// Deepest `[`/`{` nesting accepted. libyaml's scanner slows down quadratically with
/// flow-collection depth (100,000 levels take about a minute), so a hostile file is refused
/// before it is parsed.
pub const MAX_NESTING: usize = 256;

/// Where `text` first nests `[`/`{` deeper than [`MAX_NESTING`] (1-based line and column),
/// skipping quoted strings and comments.
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut prev = '\n';
    for c in text.chars() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
            comment = false;
            quote = quote.filter(|q| *q == '"' || *q == '\'');
            prev = c;
            continue;
        }
        match (quote, c) {
            _ if comment => {}
            (Some(q), c) if c == q && !(q == '"' && prev == '\\') => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if prev.is_whitespace() => comment = true,
            (None, '[' | '{') => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((line, col));
                }
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = c;
    }
    None
}

/// What a flow file says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub flow_type: FlowType,
    pub name: String,
    pub description: Option<String>,
    pub division: Option<String>,
    pub modules: Vec<String>,
    pub queues: Vec<String>,
    /// `transferToAcd` targets given by expression: not checkable offline.
    pub dynamic_queues: usize,
    /// Bot flows, transfer targets, schedule groups, data tables, data actions, prompts.
    pub references: Vec<Reference>,
    /// The top-level body, for further checks.
    pub body: Mapping,
}

/// Parses substituted Architect YAML.
pub fn facts(text: &str, source: &str) -> Result<Facts, FlowError> {
    if let Some((line, column)) = too_deep(text) {
        return Err(FlowError::Yaml {
            file: source.to_string(),
            line: Some(line),
            column: Some(column),
            message: format!("brackets nest deeper than {MAX_NESTING} levels"),
        });
    }
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| FlowError::Yaml {
        file: source.to_string(),
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        message: e.to_string(),
    })?;
    let shape = |message: String| FlowError::Shape {
        file: source.to_string(),
        message,
    };
    let Value::Mapping(top) = value else {
        return Err(shape(
            "an Architect flow file is a mapping with one key, the flow type (e.g. `inboundCall:`)"
                .into(),
        ));
    };
    if top.len() != 1 {
        return Err(shape(format!(
            "expected exactly one top-level key (the flow type), found {}",
            top.len()
        )));
    }
    let Some((key, body)) = top.into_iter().next() else {
        return Err(shape("the file is empty".into()));
    };
    let key = key.as_str().unwrap_or_default().to_string();
    // Architect reads the key case-sensitively: `inQueueCall` is not `inqueueCall`.
    let Some(flow_type) = FlowType::from_yaml_key(&key) else {
        let valid = FlowType::yaml_keys();
        let hint = valid
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&key) || strsim::levenshtein(k, &key) <= 2)
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        return Err(shape(format!(
            "unknown flow type `{key}`{hint}; expected one of: {}",
            valid.join(", ")
        )));
    };
    let Value::Mapping(body) = body else {
        return Err(shape(format!(
            "`{key}` must be a mapping with the flow's settings"
        )));
    };
    let text_of = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(name) = text_of("name") else {
        return Err(shape(format!("`{key}.name` is missing or not text")));
    };
    let mut found = Collected::default();
    walk(&Value::Mapping(body.clone()), &mut found);
    Ok(Facts {
        flow_type,
        name,
        description: text_of("description"),
        division: text_of("division"),
        modules: found.modules.into_iter().collect(),
        queues: found.queues.into_iter().collect(),
        dynamic_queues: found.dynamic_queues,
        references: found.references.into_iter().collect(),
        body,
    })
}

/// What a walk over the flow's body collects.
#[derive(Default)]
struct Collected {
    modules: BTreeSet<String>,
    queues: BTreeSet<String>,
    dynamic_queues: usize,
    references: BTreeSet<Reference>,
}

/// The names an action's target field gives: `lit: {name: X}` (queues, schedule groups),
/// `name: X` (`transferToFlow.targetFlow`), or the keys of a mapping keyed by name
/// (`commonModule`, `dataTable`). `exp:`/`var:`/`noValue:` targets are decided at run time.
fn target_names(v: &Value) -> Vec<String> {
    let Value::Mapping(m) = v else {
        return Vec::new();
    };
    if let Some(lit) = m.get("lit") {
        return match lit {
            Value::Mapping(l) => l
                .get("name")
                .and_then(Value::as_str)
                .map(|n| vec![n.to_string()])
                .unwrap_or_default(),
            Value::String(n) => vec![n.clone()],
            _ => Vec::new(),
        };
    }
    if m.contains_key("exp") || m.contains_key("var") || m.contains_key("noValue") {
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

/// `Prompt.Name` identifiers in an Architect expression.
fn prompt_names(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find("Prompt.") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + "Prompt.".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') && !name.is_empty()
        {
            names.push(name.clone());
        }
        rest = &after[name.len()..];
    }
    names
}

/// The field of each referencing action that names its target (see genesys-api.md,
/// "Architect YAML"). `callCommonModule.commonModule`, `transferToAcd.targetQueue`,
/// `evaluateScheduleGroup.scheduleGroup` and `dataTableLookup.dataTable` are as real
/// exports write them. `callBotFlow.botFlow` and `callDigitalBotFlow.digitalBotFlow` are
/// written like `callCommonModule` (unverified: no public export of them was found), and
/// `callData`'s `category.<name>.dataAction.<name>` is unverified too.
fn walk(v: &Value, found: &mut Collected) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    let action = || {
                        child
                            .get("name")
                            .and_then(Value::as_str)
                            .or(k.as_str())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let mut refer = |kind: RefKind, field: &str| {
                        if let Some(target) = child.get(field) {
                            for name in target_names(target) {
                                found.references.insert(Reference {
                                    kind,
                                    name,
                                    action: action(),
                                });
                            }
                        }
                    };
                    match (k.as_str(), child) {
                        (Some("callCommonModule"), Value::Mapping(call)) => {
                            if let Some(target) = call.get("commonModule") {
                                found.modules.extend(target_names(target));
                            }
                        }
                        (Some("transferToAcd"), Value::Mapping(t)) => {
                            let names = t.get("targetQueue").map(target_names).unwrap_or_default();
                            if names.is_empty() {
                                found.dynamic_queues += 1;
                            }
                            found.queues.extend(names);
                        }
                        (Some("callBotFlow"), Value::Mapping(_)) => {
                            refer(RefKind::BotFlow, "botFlow")
                        }
                        (Some("callDigitalBotFlow"), Value::Mapping(_)) => {
                            refer(RefKind::DigitalBotFlow, "digitalBotFlow")
                        }
                        (Some("transferToFlow" | "transferToFlowSecure"), Value::Mapping(_)) => {
                            refer(RefKind::Flow, "targetFlow")
                        }
                        (Some("evaluateScheduleGroup"), Value::Mapping(_)) => {
                            refer(RefKind::ScheduleGroup, "scheduleGroup")
                        }
                        (Some("dataTableLookup"), Value::Mapping(_)) => {
                            refer(RefKind::DataTable, "dataTable")
                        }
                        (Some("callData"), Value::Mapping(call)) => {
                            let categories = call.get("category").and_then(Value::as_mapping);
                            for (_, category) in categories.into_iter().flatten() {
                                if let Some(target) = category.get("dataAction") {
                                    for name in target_names(target) {
                                        found.references.insert(Reference {
                                            kind: RefKind::DataAction,
                                            name,
                                            action: action(),
                                        });
                                    }
                                }
                            }
                        }
                        (Some("exp"), Value::String(e)) => {
                            for name in prompt_names(e) {
                                found.references.insert(Reference {
                                    kind: RefKind::UserPrompt,
                                    name,
                                    action: "expression".into(),
                                });
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
}

/// Lint checks beyond reading: `startUpRef` resolves to a task or menu `refId`; names fit.
pub fn lint_problems(f: &Facts) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(m) = super::graph::name_problem(&f.name) {
        problems.push(format!("flow {m}"));
    }
    if f.flow_type == FlowType::CommonModule && f.modules.contains(&f.name) {
        problems.push(format!("module '{}' calls itself", f.name));
    }
    if f.flow_type != FlowType::CommonModule && f.flow_type != FlowType::Workflow {
        match f.body.get("startUpRef").and_then(Value::as_str) {
            None if f.body.contains_key("tasks") || f.body.contains_key("menus") => problems
                .push("`startUpRef` is missing: say which task or menu the flow starts in".into()),
            None => {}
            Some(r) => {
                if let Err(e) = resolve_start_ref(f, r) {
                    problems.push(e);
                }
            }
        }
    }
    problems
}

/// `/inboundCall/tasks/task[ref]`, `./menus/menu[ref]`, ...
fn resolve_start_ref(f: &Facts, r: &str) -> Result<(), String> {
    let key = f.flow_type.yaml_key().unwrap_or_default();
    let rest = r
        .strip_prefix(&format!("/{key}/"))
        .or_else(|| r.strip_prefix("./"))
        .ok_or_else(|| format!("startUpRef '{r}' must start with '/{key}/' or './'"))?;
    // Tasks and menus (call flows), bots (bot flows: `/botFlow/bots/bot[..]`), states
    // (workflows).
    let containers = [
        ("tasks", "tasks/task["),
        ("menus", "menus/menu["),
        ("bots", "bots/bot["),
        ("states", "states/state["),
    ];
    let Some((list, item)) = containers
        .iter()
        .find_map(|(list, prefix)| rest.strip_prefix(prefix).map(|x| (*list, x)))
    else {
        return Err(format!(
            "startUpRef '{r}' must point at tasks/task[..], menus/menu[..], bots/bot[..] or states/state[..]"
        ));
    };
    let wanted = item
        .strip_suffix(']')
        .ok_or_else(|| format!("startUpRef '{r}' is missing its closing ']'"))?;
    let singular = &list[..list.len() - 1];
    let found = f
        .body
        .get(list)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get(singular))
        .filter_map(|e| e.get("refId"))
        .filter_map(Value::as_str)
        .any(|id| id == wanted);
    if found {
        Ok(())
    } else {
        Err(format!(
            "startUpRef '{r}' resolves to no {singular} with refId '{wanted}'"
        ))
    }
}

/// Sets the top-level body's `key` to `value` unless the file already has that key; a new
/// key goes after `after` (else at the end). Re-serializes.
pub fn with_key(text: &str, key: &str, value: &str, after: &str) -> Option<String> {
    let mut doc: Value = serde_yaml_ng::from_str(text).ok()?;
    let Value::Mapping(top) = &mut doc else {
        return None;
    };
    let (_, body) = top.iter_mut().next()?;
    let Value::Mapping(body) = body else {
        return None;
    };
    if body.contains_key(key) {
        return Some(text.to_string());
    }
    let mut out = Mapping::new();
    for (k, v) in std::mem::take(body) {
        let here = k.as_str() == Some(after);
        out.insert(k, v);
        if here {
            out.insert(Value::String(key.into()), Value::String(value.into()));
        }
    }
    if !out.contains_key(key) {
        out.insert(Value::String(key.into()), Value::String(value.into()));
    }
    *body = out;
    serde_yaml_ng::to_string(&doc).ok()
}

/// Sets (or replaces) the top-level body's `description` and re-serializes.
pub fn with_description(text: &str, description: &str) -> Option<String> {
    let mut value: Value = serde_yaml_ng::from_str(text).ok()?;
    let Value::Mapping(top) = &mut value else {
        return None;
    };
    let (_, body) = top.iter_mut().next()?;
    let Value::Mapping(body) = body else {
        return None;
    };
    // Keep the key where it was; append it after `name` otherwise.
    if body.contains_key("description") {
        body.insert(
            Value::String("description".into()),
            Value::String(description.into()),
        );
    } else {
        let mut out = Mapping::new();
        for (k, v) in std::mem::take(body) {
            let is_name = k.as_str() == Some("name");
            out.insert(k, v);
            if is_name {
                out.insert(
                    Value::String("description".into()),
                    Value::String(description.into()),
                );
            }
        }
        if !out.contains_key("description") {
            out.insert(
                Value::String("description".into()),
                Value::String(description.into()),
            );
        }
        *body = out;
    }
    serde_yaml_ng::to_string(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_quotes_and_comments() {
        let deep = format!(
            "a: {}{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        assert_eq!(too_deep(&deep), Some((1, 4 + MAX_NESTING)));
        let quoted = format!(
            "a: \"{}\"\nb: '{}' # {}",
            "[".repeat(1000),
            "{".repeat(1000),
            "[".repeat(1000)
        );
        assert_eq!(too_deep(&quoted), None);
        assert_eq!(too_deep("a: [[1, 2], {b: [3]}]"), None);
    }
}

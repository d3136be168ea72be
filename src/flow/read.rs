//! Reading users' own Architect YAML: `{{key}}` substitution, then the flow's type, name,
//! description and division, and every common module it calls and queue it transfers to,
//! at any depth (switch cases, failure outputs, menus).

use super::FlowError;
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
    let Some(flow_type) = FlowType::parse_any(&key) else {
        let valid: Vec<&str> = FlowType::ALL.iter().map(|t| t.yaml_key()).collect();
        return Err(shape(format!(
            "unknown flow type `{key}`; expected one of: {}",
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
    let mut modules = BTreeSet::new();
    let mut queues = BTreeSet::new();
    let mut dynamic_queues = 0;
    walk(
        &Value::Mapping(body.clone()),
        &mut modules,
        &mut queues,
        &mut dynamic_queues,
    );
    Ok(Facts {
        flow_type,
        name,
        description: text_of("description"),
        division: text_of("division"),
        modules: modules.into_iter().collect(),
        queues: queues.into_iter().collect(),
        dynamic_queues,
        body,
    })
}

fn walk(
    v: &Value,
    modules: &mut BTreeSet<String>,
    queues: &mut BTreeSet<String>,
    dynamic: &mut usize,
) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                match (k.as_str(), child) {
                    (Some("callCommonModule"), Value::Mapping(call)) => {
                        if let Some(Value::Mapping(target)) = call.get("commonModule") {
                            modules.extend(
                                target.keys().filter_map(Value::as_str).map(str::to_string),
                            );
                        }
                    }
                    (Some("transferToAcd"), Value::Mapping(t)) => match t.get("targetQueue") {
                        Some(Value::Mapping(q)) => match q.get("lit") {
                            Some(Value::Mapping(lit)) => {
                                if let Some(name) = lit.get("name").and_then(Value::as_str) {
                                    queues.insert(name.to_string());
                                }
                            }
                            _ => *dynamic += 1,
                        },
                        _ => *dynamic += 1,
                    },
                    _ => {}
                }
                walk(child, modules, queues, dynamic);
            }
        }
        Value::Sequence(items) => {
            for i in items {
                walk(i, modules, queues, dynamic);
            }
        }
        Value::Tagged(t) => walk(&t.value, modules, queues, dynamic),
        _ => {}
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
    let key = f.flow_type.yaml_key();
    let rest = r
        .strip_prefix(&format!("/{key}/"))
        .or_else(|| r.strip_prefix("./"))
        .ok_or_else(|| format!("startUpRef '{r}' must start with '/{key}/' or './'"))?;
    let (list, item) = if let Some(x) = rest.strip_prefix("tasks/task[") {
        ("tasks", x)
    } else if let Some(x) = rest.strip_prefix("menus/menu[") {
        ("menus", x)
    } else {
        return Err(format!(
            "startUpRef '{r}' must point at tasks/task[..] or menus/menu[..]"
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

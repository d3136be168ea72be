//! Reading users' own Architect YAML: `{{key}}` substitution, then the flow's type, name,
//! description and division, and every common module it calls and queue it transfers to,
//! at any depth (switch cases, failure outputs, menus).

use super::placeholder::{replace, Replaced};
use super::{FlowError, RefKind, Reference};
use crate::architect_refs::{references, Target};
use crate::models::FlowType;
use std::collections::{BTreeMap, BTreeSet};
use yaml_serde::{Mapping, Value};

/// The byte-order mark some Windows editors put first; YAML allows it. yaml_serde reads a
/// leading one, but it is stripped first so the text guards and every reader count lines
/// and columns on the same text.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Replaces `{{ key }}` from `vars`. Every placeholder left is reported with its line.
///
/// Users' Architect files need text replacement (a placeholder may sit inside a quoted
/// string), so a value could otherwise inject YAML: a value may only fill the scalar it
/// stands in. When the substituted document parses to a different structure than the same
/// document with a neutral value in each placeholder, the substitution is refused, naming
/// the variable and the file.
pub fn substitute(
    text: &str,
    vars: &BTreeMap<String, String>,
    source: &str,
) -> Result<String, FlowError> {
    let text = strip_bom(text);
    let Replaced {
        text: out,
        missing,
        used,
    } = replace(text, |k| vars.get(k));
    if !missing.is_empty() {
        return Err(FlowError::Placeholders {
            file: source.to_string(),
            missing,
        });
    }
    if used.is_empty() {
        return Ok(out);
    }
    let neutral_text = replace(text, |_| Some(NEUTRAL)).text;
    let Some(expected) = parse_plain(&neutral_text) else {
        // The file is broken with any value; reading it reports that, with its line.
        return Ok(out);
    };
    if parse_plain(&out).is_some_and(|v| same_shape(&v, &expected)) {
        return Ok(out);
    }
    // Name each value that alone changes the structure.
    let culprits: Vec<&String> = used
        .iter()
        .filter(|key| {
            let one = |k: &str| {
                if k == key.as_str() {
                    vars.get(k).map(String::as_str)
                } else {
                    Some(NEUTRAL)
                }
            };
            let t = replace(text, one).text;
            !parse_plain(&t).is_some_and(|v| same_shape(&v, &expected))
        })
        .collect();
    let named: Vec<String> = if culprits.is_empty() {
        used.iter().map(|k| format!("'{k}'")).collect()
    } else {
        culprits.iter().map(|k| format!("'{k}'")).collect()
    };
    Err(FlowError::Shape {
        file: source.to_string(),
        message: format!(
            "the value of {} changes the document's structure (it must only fill the text it stands in; a newline, `: ` or a quote in it adds or breaks YAML); nothing was sent",
            named.join(", ")
        ),
    })
}

/// What stands in for every placeholder when the document's own structure is read.
const NEUTRAL: &str = "x";

/// The document as a value, or `None` when it is too deep or not YAML.
fn parse_plain(text: &str) -> Option<Value> {
    if too_deep(text).is_some() {
        return None;
    }
    yaml_serde::from_str(text).ok()
}

/// True when both documents have the same collections with the same keys in the same
/// places; any scalar matches any scalar (a number may fill a placeholder), and keys are
/// compared only when both are collections.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| same_shape(ka, kb) && same_shape(va, vb))
        }
        (Value::Sequence(x), Value::Sequence(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same_shape(a, b))
        }
        (Value::Tagged(x), Value::Tagged(y)) => x.tag == y.tag && same_shape(&x.value, &y.value),
        (Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_), _)
        | (_, Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_)) => false,
        _ => true,
    }
}

pub(crate) use crate::yaml_guard::{first_tag_in, too_deep, MAX_NESTING};

/// What a flow file says about itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facts {
    pub(crate) flow_type: FlowType,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) division: Option<String>,
    pub(crate) modules: Vec<String>,
    pub(crate) queues: Vec<String>,
    /// `transferToAcd` targets given by expression: not checkable offline.
    pub(crate) dynamic_queues: usize,
    /// Bot flows, transfer targets, schedule groups, data tables, data actions, prompts.
    pub(crate) references: Vec<Reference>,
    /// The top-level body, for further checks.
    pub(crate) body: Mapping,
}

/// Parses substituted Architect YAML.
pub(crate) fn facts(text: &str, source: &str) -> Result<Facts, FlowError> {
    let text = strip_bom(text);
    if let Some((line, column)) = too_deep(text) {
        return Err(FlowError::Yaml {
            file: source.to_string(),
            line: Some(line),
            column: Some(column),
            message: format!("brackets nest deeper than {MAX_NESTING} levels"),
        });
    }
    let value: Value = yaml_serde::from_str(text).map_err(|e| FlowError::Yaml {
        file: source.to_string(),
        line: e.location().map(|l| l.line()),
        column: e.location().map(|l| l.column()),
        message: e.to_string(),
    })?;
    let shape = |message: String| FlowError::Shape {
        file: source.to_string(),
        message,
    };
    if let Some((tag, line)) = first_tag_in(text).or_else(|| first_tag(&value).map(|t| (t, 0))) {
        // Architect YAML has no tags; dropping one silently would publish something else
        // than the file says.
        let at = if line > 0 {
            format!(" (line {line})")
        } else {
            String::new()
        };
        return Err(shape(format!(
            "YAML tag `{tag}`{at} is not Architect YAML; remove it (flowctl never drops a tag silently)"
        )));
    }
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
        // The key is quoted only when it is a near miss of a flow type: a file that is not
        // Architect YAML at all (a password file given by mistake) is never echoed into
        // a CI log.
        let near = valid
            .iter()
            .find(|k| k.eq_ignore_ascii_case(&key) || strsim::levenshtein(k, &key) <= 2);
        return Err(shape(match (near, shown_key(&key)) {
            (Some(k), _) => format!(
                "unknown flow type `{key}` (did you mean `{k}`?); expected one of: {}",
                valid.join(", ")
            ),
            (None, Some(key)) => format!(
                "unknown flow type `{key}`; expected one of: {}",
                valid.join(", ")
            ),
            (None, None) => format!(
                "its top-level key is not a flow type (not shown: it is no word); expected one of: {}",
                valid.join(", ")
            ),
        }));
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
    let found = collect(&Value::Mapping(body.clone()));
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

/// A top-level key as it may be quoted in an error: a word (ASCII letters and digits, at
/// most 40), as a flow type is spelt. Anything else (`root:$6$...` from a password file
/// given by mistake) is not shown, so a file's content never lands in a CI log.
pub(crate) fn shown_key(key: &str) -> Option<&str> {
    (!key.is_empty() && key.len() <= 40 && key.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(key)
}

/// The first YAML tag (`!evil`, `!!binary`) anywhere in `v`.
pub(crate) fn first_tag(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) => Some(t.tag.to_string()),
        Value::Mapping(m) => m
            .iter()
            .find_map(|(k, v)| first_tag(k).or_else(|| first_tag(v))),
        Value::Sequence(items) => items.iter().find_map(first_tag),
        _ => None,
    }
}

/// What a flow's body refers to, from [`references`] (the format's one walk).
#[derive(Default)]
struct Collected {
    modules: BTreeSet<String>,
    queues: BTreeSet<String>,
    dynamic_queues: usize,
    references: BTreeSet<Reference>,
}

fn collect(v: &Value) -> Collected {
    let (named, dynamic_queues) = references(v);
    let mut found = Collected {
        dynamic_queues,
        ..Collected::default()
    };
    for n in named {
        match n.target {
            Target::Module => {
                found.modules.insert(n.name);
            }
            Target::Queue => {
                found.queues.insert(n.name);
            }
            Target::Ref(kind) => {
                let action = match kind {
                    RefKind::UserPrompt => "expression".to_string(),
                    _ => n.action.unwrap_or(n.key).to_string(),
                };
                found.references.insert(Reference {
                    kind,
                    name: n.name,
                    action,
                });
            }
        }
    }
    found
}

/// Parses `text`, hands the top-level body (the mapping under the file's one key) to
/// `edit`, and re-serializes when it changed something (`Some(true)`); the text as it was
/// for `Some(false)`; `None` when there is no such body or `edit` refuses.
fn edit_body(text: &str, edit: impl FnOnce(&mut Mapping) -> Option<bool>) -> Option<String> {
    let mut doc: Value = yaml_serde::from_str(text).ok()?;
    let Value::Mapping(top) = &mut doc else {
        return None;
    };
    let (_, body) = top.iter_mut().next()?;
    let Value::Mapping(body) = body else {
        return None;
    };
    if !edit(body)? {
        return Some(text.to_string());
    }
    yaml_serde::to_string(&doc).ok()
}

/// Sets `key` to `value` where it is; a new key goes after `after` (else at the end).
fn set_after(body: &mut Mapping, key: &str, value: &str, after: &str) {
    let value = Value::String(value.into());
    if let Some(slot) = body.get_mut(key) {
        *slot = value;
        return;
    }
    let mut out = Mapping::new();
    for (k, v) in std::mem::take(body) {
        let here = k.as_str() == Some(after);
        out.insert(k, v);
        if here {
            out.insert(Value::String(key.into()), value.clone());
        }
    }
    if !out.contains_key(key) {
        out.insert(Value::String(key.into()), value);
    }
    *body = out;
}

/// Sets the top-level body's `key` to `value` unless the file already has that key; a new
/// key goes after `after` (else at the end). Re-serializes.
pub(crate) fn with_key(text: &str, key: &str, value: &str, after: &str) -> Option<String> {
    edit_body(text, |body| {
        if body.contains_key(key) {
            return Some(false);
        }
        set_after(body, key, value, after);
        Some(true)
    })
}

/// Replaces the value of the top-level body's `key` (where it is) and re-serializes; `None`
/// when the file has no such key.
pub(crate) fn replace_key(text: &str, key: &str, value: &str) -> Option<String> {
    edit_body(text, |body| {
        *body.get_mut(key)? = Value::String(value.into());
        Some(true)
    })
}

/// Sets (or replaces) the top-level body's `description` and re-serializes: where it was,
/// else after `name`.
pub(crate) fn with_description(text: &str, description: &str) -> Option<String> {
    edit_body(text, |body| {
        set_after(body, "description", description, "name");
        Some(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brackets nested one deeper than allowed, and closed.
    fn too_nested() -> String {
        format!(
            "{}{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        )
    }

    #[test]
    fn nesting_is_measured_outside_quotes_and_comments() {
        let deep = format!("a: {}", too_nested());
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

    #[test]
    fn an_apostrophe_inside_a_plain_scalar_does_not_hide_the_brackets_after_it() {
        let deep = format!("a:\n  name: it's fine\n  b: {}\n", too_nested());
        assert_eq!(too_deep(&deep), Some((3, 6 + MAX_NESTING)));
        let flow = format!("a: [it's, {}]", "{".repeat(MAX_NESTING + 1));
        assert!(too_deep(&flow).is_some());
        // Quotes where YAML opens them still hide what they hold, escapes included.
        // A quote that only looks like one: a plain scalar's continuation line, a `- ` or a
        // tag in the middle of a plain scalar, inside a flow collection.
        for sneaky in [
            format!("k: [x\n  'a {}", "[".repeat(MAX_NESTING + 1)),
            format!("k: [a - 'x {}", "[".repeat(MAX_NESTING + 1)),
            format!("k: [it is !x 'y {}", "[".repeat(MAX_NESTING + 1)),
            format!("d: |\n  'open\nx: {}", "[".repeat(MAX_NESTING + 1)),
        ] {
            assert!(too_deep(&sneaky).is_some(), "{sneaky:.40}");
        }
        for quoted in [
            format!("a: 'it''s {}'", "[".repeat(1000)),
            format!("a: \"say \\\" {}\"", "[".repeat(1000)),
            format!("- [x, '{}']", "[".repeat(1000)),
            format!("a: !!str '{}'", "[".repeat(1000)),
            format!("a: &anchor \"{}\"", "{".repeat(1000)),
            format!("? '{}'\n: 1", "[".repeat(1000)),
            format!("a:\n  - - '{}'", "[".repeat(1000)),
            format!("a:\n\n  # note\n  '{}'", "[".repeat(1000)),
        ] {
            assert_eq!(too_deep(&quoted), None, "{quoted}");
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_value_that_adds_keys_is_refused_naming_the_variable_and_the_file() {
        let text = "inboundCall:\n  name: \"{{name}}\"\n  description: \"{{d}}\"\n";
        let ok = substitute(
            text,
            &vars(&[("name", "A \\\"B\\\""), ("d", "x: y, [z]")]),
            "f.yaml",
        );
        assert!(ok.is_ok(), "{ok:?}");
        let err = substitute(
            text,
            &vars(&[("name", "A"), ("d", "x\"\n  variables:\n    - evil: \"1")]),
            "f.yaml",
        )
        .expect_err("injected keys");
        let msg = err.to_string();
        assert!(
            msg.contains("f.yaml") && msg.contains("'d'") && !msg.contains("'name'"),
            "{msg}"
        );
        // Unquoted, a value with `: ` turns a scalar into a mapping.
        let plain = "commonModule:\n  name: {{n}}\n";
        assert!(substitute(plain, &vars(&[("n", "a: b")]), "p.yaml").is_err());
        assert!(substitute(plain, &vars(&[("n", "Mod 7")]), "p.yaml").is_ok());
        assert!(
            substitute(plain, &vars(&[("n", "42")]), "p.yaml").is_ok(),
            "a number fills a scalar"
        );
    }

    #[test]
    fn a_byte_order_mark_is_read_as_yaml_allows_and_tags_are_refused() {
        let f = facts("\u{feff}commonModule:\n  name: M\n", "bom.yaml").expect("BOM accepted");
        assert_eq!(f.name, "M");
        for tag in ["!evil", "!!binary"] {
            let text = format!("commonModule:\n  name: M\n  description: {tag} aGk=\n");
            let err = facts(&text, "t.yaml").expect_err("tag refused");
            assert!(
                err.to_string().contains(tag) && err.to_string().contains("line 3"),
                "{err}"
            );
        }
    }
}

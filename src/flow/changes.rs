//! What changed between two versions of a flow, by place: `task 'Main' › playAudio 'Greet'
//! › audio.tts`, with the old and the new value. [`super::compare`] decides *whether* two
//! flows mean the same; this module only lists *where* they differ, for people.
//!
//! Places are named the way Architect's UI names them: a list item that is an action or a
//! task (a one-key mapping whose body has a `name`) is called by its kind and name, and list
//! items are matched by that label, so inserting an action does not make every later one
//! look changed. Other list items are matched by position.
//!
//! Architect's re-serialization is not a change, by the same rules as the comparison: a key
//! only one side has whose value is empty (`noValue: true`, `none: true`, null, `{}`, `[]`),
//! a flow-level `settings*` block only the newer side (an export) has, and flowctl's content
//! marker in `description`.

use yaml_serde::Value;

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Change {
    /// Where, e.g. `startUpTaskActions › playAudio 'Greet' › audio.tts`.
    pub(crate) place: String,
    /// The old value (YAML, one line when short); `None` when added.
    pub(crate) old: Option<String>,
    /// The new value; `None` when removed.
    pub(crate) new: Option<String>,
}

/// The changes from `old` to `new` (both Architect YAML). An error names the side that is
/// not YAML.
pub(crate) fn changes(old: &str, new: &str) -> Result<Vec<Change>, String> {
    let parse = |text: &str, side: &str| -> Result<Value, String> {
        if let Some((line, column)) = super::read::too_deep(text) {
            return Err(format!(
                "{side}: nesting too deep at line {line} column {column}"
            ));
        }
        yaml_serde::from_str::<Value>(text).map_err(|e| format!("{side} is not YAML: {e}"))
    };
    let mut a = parse(old, "the older version")?;
    let mut b = parse(new, "the newer version")?;
    flow_level(&mut a, &mut b);
    let mut out = Vec::new();
    walk(&a, &b, &mut Vec::new(), &mut out);
    Ok(out)
}

/// Flow-level rules: the marker out of both descriptions; a `settings*` block or a
/// description only one side has is Architect's, not a change.
fn flow_level(a: &mut Value, b: &mut Value) {
    let (Value::Mapping(a), Value::Mapping(b)) = (a, b) else {
        return;
    };
    for (key, body_a) in a.iter_mut() {
        let (Some(Value::Mapping(fb)), Value::Mapping(fa)) = (b.get_mut(key), body_a) else {
            continue;
        };
        for body in [&mut *fa, &mut *fb] {
            if let Some(Value::String(d)) = body.get_mut("description") {
                *d = super::compare::without_marker(d);
            }
        }
        let one_sided: Vec<Value> = fa
            .keys()
            .chain(fb.keys())
            .filter(|k| {
                let name = k.as_str().unwrap_or_default();
                (name.starts_with("settings") || name == "description")
                    && (fa.contains_key(*k) != fb.contains_key(*k))
            })
            .cloned()
            .collect();
        for k in one_sided {
            fa.remove(&k);
            fb.remove(&k);
        }
    }
}

/// An empty value: what Architect writes for an input nobody set.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Sequence(s) => s.is_empty(),
        Value::Mapping(m) => {
            m.is_empty()
                || (m.len() == 1
                    && m.iter().all(|(k, v)| {
                        matches!(k.as_str(), Some("noValue" | "none")) && scalar(v) == "true"
                    }))
        }
        _ => false,
    }
}

/// A scalar's text (`0` and `"0"` are one value).
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "~".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Tagged(t) => scalar(&t.value),
        other => shown(other),
    }
}

/// A value as shown to people: a scalar's text, else flow-style YAML on one line.
fn shown(v: &Value) -> String {
    match v {
        Value::Mapping(_) | Value::Sequence(_) => {
            let text = yaml_serde::to_string(v).unwrap_or_default();
            let text = text.trim_end();
            if text.lines().count() <= 1 {
                text.to_string()
            } else {
                text.lines().map(str::trim).collect::<Vec<_>>().join("; ")
            }
        }
        other => scalar(other),
    }
}

/// The label of a list item that is an action or a task: `playAudio 'Greet'`.
fn label(item: &Value) -> Option<String> {
    let Value::Mapping(m) = item else {
        return None;
    };
    if m.len() != 1 {
        return None;
    }
    let (k, body) = m.iter().next()?;
    let name = body.get("name")?.as_str()?;
    Some(format!("{} '{name}'", k.as_str()?))
}

/// The body of a one-key mapping (an action under its kind), else the value itself.
fn body(v: &Value) -> &Value {
    match v {
        Value::Mapping(m) if m.len() == 1 => m.values().next().unwrap_or(v),
        _ => v,
    }
}

fn place(path: &[String]) -> String {
    let mut out = String::new();
    for (i, p) in path.iter().enumerate() {
        if i > 0 {
            // A labelled item or a list position starts a new step; keys join with dots.
            let step = p.contains('\'') || p.starts_with('[') || path[i - 1].contains('\'');
            out.push_str(if step { " › " } else { "." });
        }
        out.push_str(p);
    }
    if out.is_empty() {
        "(the whole flow)".into()
    } else {
        out
    }
}

fn walk(a: &Value, b: &Value, path: &mut Vec<String>, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Mapping(ma), Value::Mapping(mb)) => {
            let mut keys: Vec<&Value> = ma.keys().collect();
            keys.extend(mb.keys().filter(|k| !ma.contains_key(*k)));
            for k in keys {
                let name = scalar(k);
                // The flow type key is the whole flow: not worth a step in every place.
                let top = path.is_empty() && ma.len() == 1 && mb.len() == 1;
                if !top {
                    path.push(name);
                }
                match (ma.get(k), mb.get(k)) {
                    (Some(x), Some(y)) => walk(x, y, path, out),
                    (Some(x), None) if !is_empty(x) => out.push(Change {
                        place: place(path),
                        old: Some(shown(x)),
                        new: None,
                    }),
                    (None, Some(y)) if !is_empty(y) => out.push(Change {
                        place: place(path),
                        old: None,
                        new: Some(shown(y)),
                    }),
                    _ => {}
                }
                if !top {
                    path.pop();
                }
            }
        }
        (Value::Sequence(sa), Value::Sequence(sb)) => {
            let la: Vec<Option<String>> = sa.iter().map(label).collect();
            let lb: Vec<Option<String>> = sb.iter().map(label).collect();
            let labelled = la.iter().chain(&lb).all(Option::is_some);
            if labelled {
                for (i, x) in sa.iter().enumerate() {
                    let l = la[i].clone().unwrap_or_default();
                    path.push(l.clone());
                    match lb.iter().position(|y| y.as_deref() == Some(&l)) {
                        // Into the action's body: its kind is in the label already.
                        Some(j) => walk(body(x), body(&sb[j]), path, out),
                        None => out.push(Change {
                            place: place(path),
                            old: Some("(present)".into()),
                            new: None,
                        }),
                    }
                    path.pop();
                }
                for (j, y) in sb.iter().enumerate() {
                    let l = lb[j].clone().unwrap_or_default();
                    if !la.iter().any(|x| x.as_deref() == Some(&l)) {
                        path.push(l);
                        out.push(Change {
                            place: place(path),
                            old: None,
                            new: Some(shown(y)),
                        });
                        path.pop();
                    }
                }
            } else {
                for i in 0..sa.len().max(sb.len()) {
                    path.push(format!("[{i}]"));
                    match (sa.get(i), sb.get(i)) {
                        (Some(x), Some(y)) => walk(x, y, path, out),
                        (x, y) => out.push(Change {
                            place: place(path),
                            old: x.map(shown),
                            new: y.map(shown),
                        }),
                    }
                    path.pop();
                }
            }
        }
        (x, y) => {
            let same = match (x, y) {
                (Value::Mapping(_) | Value::Sequence(_), _)
                | (_, Value::Mapping(_) | Value::Sequence(_)) => false,
                _ => scalar(x) == scalar(y),
            };
            let both_empty = is_empty(x) && is_empty(y);
            if !(same || both_empty) {
                out.push(Change {
                    place: place(path),
                    old: Some(shown(x)),
                    new: Some(shown(y)),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "commonModule:\n  name: M\n  description: greeting [flowctl:sha256=0123456789abcdef]\n  startUpTaskActions:\n  - playAudio:\n      name: Greet\n      audio:\n        tts: Hello\n  - endTask:\n      name: Done\n";

    #[test]
    fn a_changed_value_is_named_by_the_action_that_holds_it() {
        let new = OLD.replace("tts: Hello", "tts: Helo");
        let c = changes(OLD, &new).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c,
            vec![Change {
                place: "startUpTaskActions › playAudio 'Greet' › audio.tts".into(),
                old: Some("Hello".into()),
                new: Some("Helo".into()),
            }]
        );
    }

    #[test]
    fn an_inserted_action_is_one_change_not_a_shift_of_every_later_one() {
        let new = OLD.replace(
            "  - endTask:",
            "  - disconnect:\n      name: Bye\n  - endTask:",
        );
        let c = changes(OLD, &new).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].place, "startUpTaskActions › disconnect 'Bye'");
        assert_eq!(c[0].old, None);
    }

    #[test]
    fn re_serialization_defaults_and_the_marker_are_not_changes() {
        let new = "commonModule:\n    name: M\n    description: \"greeting [flowctl:sha256=fedcba9876543210]\"\n    settingsPrompts:\n        ensureAudioInPrompts: false\n    startUpTaskActions:\n        - playAudio:\n            name: Greet\n            audio:\n                tts: \"Hello\"\n            extra:\n                noValue: true\n        - endTask:\n            name: Done\n";
        let c = changes(OLD, new).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn a_removed_key_shows_its_old_value() {
        let new = OLD.replace("      audio:\n        tts: Hello\n", "");
        let c = changes(OLD, &new).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].old.as_deref(), Some("tts: Hello"));
        assert_eq!(c[0].new, None);
    }
}

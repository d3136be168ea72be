//! What changed between two versions of a flow, by place: `task 'Main' › playAudio 'Greet'
//! › audio.tts`, with the old and the new value. [`super::compare`] decides *whether* two
//! flows mean the same; this module only lists *where* they differ, for people.
//!
//! Places are named the way Architect's UI names them: a list item that is an action or a
//! task (a one-key mapping whose body has a `name`) is called by its kind and name, and list
//! items are matched by that label, so inserting an action does not make every later one
//! look changed. Other list items are matched by position.
//!
//! Both sides go through the comparison's own normalization first
//! ([`super::compare::normalized`]): Architect's re-serialization, its defaults and
//! flowctl's content marker are not changes here by exactly the rules that make them not
//! drift, so a diff never lists a change where the comparison sees none.

use super::compare::{is_empty, normalized, render, Canon};

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

/// The changes from `old` to `new` (both Architect YAML). As in the comparison, `new` is
/// the side flowctl would publish (a local file, the version a rollback restores, the newer
/// version) and `old` the exported one. An error names the side that is not YAML.
pub(crate) fn changes(old: &str, new: &str) -> Result<Vec<Change>, String> {
    let (b, a) = normalized(new, old, ("the newer version", "the older version"))?;
    let mut out = Vec::new();
    walk(&a, &b, &mut Vec::new(), &mut out);
    Ok(out)
}

/// A value as shown to people: a scalar's text, else its YAML-like text on one line.
fn shown(v: &Canon) -> String {
    match v {
        Canon::Scalar(s) => s.clone(),
        other => render(other)
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The label of a list item that is an action or a task: `playAudio 'Greet'`.
fn label(item: &Canon) -> Option<String> {
    let Canon::Map(m) = item else {
        return None;
    };
    if m.len() != 1 {
        return None;
    }
    let (k, body) = m.iter().next()?;
    let Canon::Map(body) = body else {
        return None;
    };
    let Some(Canon::Scalar(name)) = body.get("name") else {
        return None;
    };
    Some(format!("{k} '{name}'"))
}

/// The body of a labelled item (an action under its kind: [`label`] gives a label only to a
/// one-key mapping), else the value itself.
fn body(v: &Canon) -> &Canon {
    match v {
        Canon::Map(m) => m.values().next().unwrap_or(v),
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

fn walk(a: &Canon, b: &Canon, path: &mut Vec<String>, out: &mut Vec<Change>) {
    match (a, b) {
        (Canon::Map(ma), Canon::Map(mb)) => {
            let mut keys: Vec<&String> = ma.keys().collect();
            keys.extend(mb.keys().filter(|k| !ma.contains_key(*k)));
            for k in keys {
                // The flow type key is the whole flow: not worth a step in every place.
                let top = path.is_empty() && ma.len() == 1 && mb.len() == 1;
                if !top {
                    path.push(k.clone());
                }
                match (ma.get(k), mb.get(k)) {
                    (Some(x), Some(y)) => walk(x, y, path, out),
                    (x, y) => out.push(Change {
                        place: place(path),
                        old: x.map(shown),
                        new: y.map(shown),
                    }),
                }
                if !top {
                    path.pop();
                }
            }
        }
        (Canon::Seq(sa), Canon::Seq(sb)) => {
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
            let same = matches!((x, y), (Canon::Scalar(p), Canon::Scalar(q)) if p == q);
            if !(same || (is_empty(x) && is_empty(y))) {
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

    /// An export of OLD as Architect writes it: its own layout and quoting, a settings
    /// block and a division the file did not set, an empty input, another marker.
    const EXPORTED: &str = "commonModule:\n    name: M\n    division: Home\n    description: \"greeting [flowctl:sha256=fedcba9876543210]\"\n    settingsPrompts:\n        ensureAudioInPrompts: false\n    startUpTaskActions:\n        - playAudio:\n            name: Greet\n            audio:\n                tts: \"Hello\"\n            extra:\n                noValue: true\n        - endTask:\n            name: Done\n";

    #[test]
    fn re_serialization_defaults_and_the_marker_are_not_changes() {
        let c = changes(EXPORTED, OLD).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.is_empty(), "{c:?}");
        assert!(crate::flow::compare::compare(OLD, EXPORTED).map(|c| c.same) == Ok(true));
    }

    #[test]
    fn what_the_comparison_calls_drift_is_listed_and_what_it_does_not_is_not() {
        // The file sets a settings block the export lacks: drift, and so a change.
        let file = OLD.replace(
            "  startUpTaskActions:",
            "  settingsPrompts:\n    ensureAudioInPrompts: true\n  startUpTaskActions:",
        );
        let export = EXPORTED.replace(
            "    settingsPrompts:\n        ensureAudioInPrompts: false\n",
            "",
        );
        assert!(crate::flow::compare::compare(&file, &export).map(|c| c.same) == Ok(false));
        let c = changes(&export, &file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].place, "settingsPrompts");
        assert_eq!(c[0].old, None);
        // A division only the export names is no drift, and no change.
        let c = changes(
            EXPORTED,
            &OLD.replace(
                "  name: M\n",
                "  name: M\n  settingsPrompts:\n    ensureAudioInPrompts: false\n",
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
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

    #[test]
    fn a_value_emptied_or_filled_is_a_change_both_ways() {
        let emptied = OLD.replace("      audio:\n        tts: Hello\n", "      audio: ~\n");
        for (old, new) in [(OLD, emptied.as_str()), (emptied.as_str(), OLD)] {
            let c = changes(old, new).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.len(), 1, "{c:?}");
            assert!(c[0].place.ends_with("audio"), "{c:?}");
        }
    }
}

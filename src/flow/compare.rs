//! Content comparison of Architect YAML: is what the org publishes the flow flowctl would
//! publish?
//!
//! Bytes never match: Architect's export has its own layout and key order, quotes as it
//! likes and fills in what the file left out. So both sides become a canonical tree first:
//!
//! - mappings are compared by key, whatever their order; sequences keep their order (the
//!   order of actions is the flow's logic);
//! - scalars compare by their text (`lit: 0` and `lit: "0"` are one value);
//! - a key only one side has is ignored when its value is empty (`noValue: true`,
//!   `none: true`, null, `{}`, `[]`): Architect writes such defaults for optional inputs;
//! - a flow-level `settings*` block the file does not set (`settingsActionDefaults`,
//!   `settingsPrompts`, `settingsSpeechRec`, `settingsMenu`, ...) is Architect's default and
//!   ignored. Which values Architect fills in there is unverified, so any value is
//!   accepted: a wrong guess would otherwise report drift on every run forever;
//! - the flowctl content marker is removed from `description`, and a description the
//!   export leaves out is not drift (whether Architect keeps it is unsettled, see
//!   docs/genesys-api.md#export-jobs);
//! - a `division` the file does not name is the flow's own division, which every export
//!   names (real exports always carry `division:`): not drift. A file that names one is
//!   compared as usual;
//! - comments, key order and quoting never reach the tree: YAML's reader drops the first,
//!   mappings are sorted and scalars are compared by their text.

use super::MARKER_PREFIX;
use std::collections::BTreeMap;
use std::fmt::Write;
use yaml_serde::Value;

/// The result of comparing two flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The content is the same.
    pub same: bool,
    /// A unified diff of the canonical forms (`-` flowctl's file, `+` the org), empty when
    /// `same`.
    pub diff: String,
}

/// A canonical tree: sorted mappings, text scalars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Canon {
    Scalar(String),
    Seq(Vec<Canon>),
    Map(BTreeMap<String, Canon>),
}

/// Compares the YAML flowctl would publish (`ours`) with what the org exported
/// (`theirs`). An error names which side is not YAML.
pub fn compare(ours: &str, theirs: &str) -> Result<Comparison, String> {
    let (a, b) = normalized(ours, theirs, ("the flow's file", "the exported flow"))?;
    if a == b {
        return Ok(Comparison {
            same: true,
            diff: String::new(),
        });
    }
    let (left, right) = (render(&a), render(&b));
    let diff = similar::TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .header("flowctl would publish", "published in the org")
        .to_string();
    Ok(Comparison { same: false, diff })
}

/// Both sides as canonical trees with Architect's re-serialization and defaults taken out,
/// by the rules above: what [`compare`] compares and what [`super::changes`] walks, so the
/// two never disagree. `ours` is the side flowctl would publish (a file, or the version a
/// rollback restores), `theirs` the side Architect exported; `sides` names them in errors.
pub(crate) fn normalized(
    ours: &str,
    theirs: &str,
    sides: (&str, &str),
) -> Result<(Canon, Canon), String> {
    let parse = |text: &str, side: &str| -> Result<Canon, String> {
        if let Some((line, column)) = super::read::too_deep(text) {
            return Err(format!(
                "{side}: nesting too deep at line {line} column {column}"
            ));
        }
        yaml_serde::from_str::<Value>(text)
            .map(|v| canon(&v))
            .map_err(|e| format!("{side} is not YAML: {e}"))
    };
    let mut a = parse(ours, sides.0)?;
    let mut b = parse(theirs, sides.1)?;
    flow_level(&mut a, &mut b);
    prune(&mut a, &mut b);
    Ok((a, b))
}

fn canon(v: &Value) -> Canon {
    match v {
        Value::Null => Canon::Scalar("~".into()),
        Value::Bool(b) => Canon::Scalar(b.to_string()),
        Value::Number(n) => Canon::Scalar(n.to_string()),
        Value::String(s) => Canon::Scalar(s.clone()),
        Value::Sequence(items) => Canon::Seq(items.iter().map(canon).collect()),
        Value::Mapping(m) => Canon::Map(
            m.iter()
                .map(|(k, v)| {
                    let key = match canon(k) {
                        Canon::Scalar(s) => s,
                        other => render(&other),
                    };
                    (key, canon(v))
                })
                .collect(),
        ),
        Value::Tagged(t) => canon(&t.value),
    }
}

/// An empty value: what Architect writes for an input nobody set. A mapping is empty when
/// every entry is `noValue: true`, `none: true` or itself empty, all the way down: exports
/// write such defaults nested (`failureOutputs: {errorType: {noValue: true}}`,
/// `supportedLanguages: {en-us: {defaultLanguageSkill: {noValue: true}}}`).
pub(crate) fn is_empty(c: &Canon) -> bool {
    match c {
        Canon::Scalar(s) => s == "~",
        Canon::Seq(items) => items.is_empty(),
        Canon::Map(m) => m.iter().all(|(k, v)| {
            ((k == "noValue" || k == "none") && v == &scalar("true"))
                || (!matches!(v, Canon::Scalar(_)) && is_empty(v))
        }),
    }
}

fn scalar(s: &str) -> Canon {
    Canon::Scalar(s.to_string())
}

/// The flow body under the one top-level key, on both sides when they have the same key.
fn flow_level(a: &mut Canon, b: &mut Canon) {
    let (Canon::Map(a), Canon::Map(b)) = (a, b) else {
        return;
    };
    for (key, body_a) in a.iter_mut() {
        let (Some(Canon::Map(fa)), Canon::Map(fb)) = (b.get_mut(key), body_a) else {
            continue;
        };
        // Architect's defaults for settings the file did not set.
        let defaults: Vec<String> = fa
            .keys()
            .filter(|k| k.starts_with("settings") && !fb.contains_key(*k))
            .cloned()
            .collect();
        for k in defaults {
            fa.remove(&k);
        }
        if !fb.contains_key("division") {
            fa.remove("division");
        }
        for body in [&mut *fa, &mut *fb] {
            if let Some(Canon::Scalar(d)) = body.get_mut("description") {
                *d = without_marker(d);
            }
        }
        if !fa.contains_key("description") {
            fb.remove("description");
        }
        // An empty description the org shows where the file has none says nothing.
        if fa.get("description") == Some(&scalar("")) && !fb.contains_key("description") {
            fa.remove("description");
        }
    }
}

/// The description with flowctl's `[flowctl:sha256=...]` marker taken out.
pub(crate) fn without_marker(d: &str) -> String {
    let Some(start) = d.rfind(MARKER_PREFIX) else {
        return d.trim().to_string();
    };
    let (head, tail) = d.split_at(start);
    let rest = tail.find(']').map(|e| tail.get(e + 1..).unwrap_or(""));
    match rest {
        Some(rest) => format!("{} {}", head.trim(), rest.trim())
            .trim()
            .to_string(),
        None => d.trim().to_string(),
    }
}

/// Drops the keys that only one side has and whose value is empty, at every depth.
fn prune(a: &mut Canon, b: &mut Canon) {
    match (a, b) {
        (Canon::Map(ma), Canon::Map(mb)) => {
            ma.retain(|k, v| mb.contains_key(k) || !is_empty(v));
            mb.retain(|k, v| ma.contains_key(k) || !is_empty(v));
            for (k, va) in ma.iter_mut() {
                if let Some(vb) = mb.get_mut(k) {
                    prune(va, vb);
                }
            }
        }
        (Canon::Seq(sa), Canon::Seq(sb)) => {
            for (x, y) in sa.iter_mut().zip(sb.iter_mut()) {
                prune(x, y);
            }
        }
        _ => {}
    }
}

/// A stable YAML-like text of the tree, for the diff.
pub(crate) fn render(c: &Canon) -> String {
    let mut out = String::new();
    write_node(&mut out, c, 0);
    out
}

fn write_node(out: &mut String, c: &Canon, indent: usize) {
    let pad = " ".repeat(indent);
    match c {
        Canon::Scalar(s) => {
            let _ = writeln!(out, "{pad}{}", quote(s));
        }
        Canon::Seq(items) if items.is_empty() => {
            let _ = writeln!(out, "{pad}[]");
        }
        Canon::Map(m) if m.is_empty() => {
            let _ = writeln!(out, "{pad}{{}}");
        }
        Canon::Seq(items) => {
            for item in items {
                match item {
                    Canon::Scalar(s) => {
                        let _ = writeln!(out, "{pad}- {}", quote(s));
                    }
                    other => {
                        let _ = writeln!(out, "{pad}-");
                        write_node(out, other, indent + 2);
                    }
                }
            }
        }
        Canon::Map(m) => {
            for (k, v) in m {
                match v {
                    Canon::Scalar(s) => {
                        let _ = writeln!(out, "{pad}{}: {}", quote(k), quote(s));
                    }
                    Canon::Seq(s) if s.is_empty() => {
                        let _ = writeln!(out, "{pad}{}: []", quote(k));
                    }
                    Canon::Map(x) if x.is_empty() => {
                        let _ = writeln!(out, "{pad}{}: {{}}", quote(k));
                    }
                    other => {
                        let _ = writeln!(out, "{pad}{}:", quote(k));
                        write_node(out, other, indent + 2);
                    }
                }
            }
        }
    }
}

/// Quotes text that would read ambiguously (empty, spaces at the ends, a newline).
fn quote(s: &str) -> String {
    if s.is_empty() || s.trim() != s || s.contains('\n') || s.contains(": ") {
        format!("{s:?}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "commonModule:\n  name: M\n  description: Greets [flowctl:sha256=0123456789abcdef]\n  division: Home\n  startUpTaskActions:\n  - playAudio:\n      name: Play\n      audio:\n        tts: Hello\n  - endTask:\n      name: Return\n";

    #[test]
    fn layout_key_order_quoting_and_architect_defaults_are_not_drift() {
        let theirs = "commonModule:\n    startUpTaskActions:\n        -   playAudio:\n                audio: {tts: \"Hello\"}\n                name: 'Play'\n        -   endTask:\n                name: Return\n                outputs: {noValue: true}\n    division: Home\n    name: M\n    description: Greets\n    settingsPrompts:\n        ensureAudioInPrompts: false\n    settingsActionDefaults:\n        playAudioOnSilence: {timeout: {lit: {seconds: 40}}}\n";
        let c = compare(OURS, theirs).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.same, "{}", c.diff);
        assert!(c.diff.is_empty());
    }

    #[test]
    fn a_changed_prompt_is_drift_with_a_readable_diff() {
        let theirs = OURS.replace("tts: Hello", "tts: Hello from the UI");
        let c = compare(OURS, &theirs).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.same);
        assert!(c.diff.contains("\n-          tts: Hello\n"), "{}", c.diff);
        assert!(
            c.diff.contains("\n+          tts: Hello from the UI\n"),
            "{}",
            c.diff
        );
        assert!(c
            .diff
            .starts_with("--- flowctl would publish\n+++ published in the org\n"));
    }

    #[test]
    fn reordered_actions_and_a_settings_block_the_file_sets_are_drift() {
        let swapped = "commonModule:\n  name: M\n  division: Home\n  startUpTaskActions:\n  - endTask:\n      name: Return\n  - playAudio:\n      name: Play\n      audio:\n        tts: Hello\n";
        assert!(!compare(OURS, swapped).map(|c| c.same).unwrap_or(true));
        let ours = "inboundCall:\n  name: F\n  settingsPrompts:\n    ensureAudioInPrompts: true\n";
        let theirs =
            "inboundCall:\n  name: F\n  settingsPrompts:\n    ensureAudioInPrompts: false\n";
        assert!(!compare(ours, theirs).map(|c| c.same).unwrap_or(true));
    }

    #[test]
    fn a_description_changed_in_the_org_is_drift_but_a_dropped_one_is_not() {
        let dropped = OURS.replace(
            "  description: Greets [flowctl:sha256=0123456789abcdef]\n",
            "",
        );
        assert!(compare(OURS, &dropped).map(|c| c.same).unwrap_or(false));
        let changed = OURS.replace("Greets [flowctl", "Says hi [flowctl");
        assert!(!compare(OURS, &changed).map(|c| c.same).unwrap_or(true));
    }

    #[test]
    fn a_value_the_org_set_where_the_file_has_none_is_drift() {
        let ours = "inboundCall:\n  name: F\n  tasks:\n  - task:\n      actions:\n      - transferToAcd:\n          preTransferAudio:\n            noValue: true\n";
        let theirs = ours.replace("noValue: true", "tts: Please hold");
        assert!(!compare(ours, &theirs).map(|c| c.same).unwrap_or(true));
    }

    fn same(ours: &str, theirs: &str) -> bool {
        compare(ours, theirs)
            .map(|c| c.same)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_division_an_export_adds_is_not_drift_but_a_changed_named_one_is() {
        let ours = OURS.replace("  division: Home\n", "");
        let exported = "commonModule:\n  name: M\n  description: Greets\n  division: Sales Org # moved?\n  startUpTaskActions:\n  - playAudio: {audio: {tts: 'Hello'}, name: \"Play\"}\n  - endTask: {name: Return}\n";
        assert!(same(&ours, exported));
        // A file that names its division: a different one in the org is drift.
        assert!(!same(OURS, exported));
        assert!(same(OURS, &exported.replace("Sales Org # moved?", "Home")));
    }

    #[test]
    fn what_the_file_sets_and_the_org_dropped_is_drift() {
        // The org removed `audio:` from an action.
        let theirs = OURS.replace("      audio:\n        tts: Hello\n", "");
        assert!(!same(OURS, &theirs));
    }

    #[test]
    fn a_flow_level_key_only_the_org_has_is_drift_unless_it_is_a_settings_block() {
        let theirs = format!("{OURS}  variables:\n  - stringVariable:\n      name: Flow.X\n");
        assert!(!same(OURS, &theirs));
        let theirs = format!("{OURS}  settingsErrorHandling:\n    errorHandling:\n      disconnect:\n        none: true\n");
        assert!(same(OURS, &theirs));
    }

    #[test]
    fn only_true_empties_are_defaults() {
        let with = |extra: &str| {
            OURS.replace(
                "      name: Return\n",
                &format!("      name: Return\n{extra}"),
            )
        };
        // A one-entry mapping the org added is a value, not a default.
        assert!(!same(OURS, &with("      outputs:\n        tts: Hi\n")));
        assert!(!same(
            OURS,
            &with("      outputs:\n        noValue: false\n")
        ));
        assert!(!same(OURS, &with("      outputs:\n        none: false\n")));
        assert!(same(OURS, &with("      outputs:\n        none: true\n")));
        assert!(same(OURS, &with("      outputs:\n        noValue: true\n")));
        assert!(same(OURS, &with("      outputs: []\n")));
        assert!(same(OURS, &with("      outputs: {}\n")));
        assert!(same(OURS, &with("      outputs: ~\n")));
        assert!(!same(OURS, &with("      outputs: [x]\n")));
        assert!(!same(
            OURS,
            &with("      outputs:\n        noValue: true\n        tts: Hi\n")
        ));
    }

    #[test]
    fn an_empty_description_against_none_is_not_drift_but_a_written_one_is() {
        let none = OURS.replace(
            "  description: Greets [flowctl:sha256=0123456789abcdef]\n",
            "",
        );
        let empty = OURS.replace(
            "  description: Greets [flowctl:sha256=0123456789abcdef]\n",
            "  description: ''\n",
        );
        let marker_only = OURS.replace(
            "Greets [flowctl:sha256=0123456789abcdef]",
            "'[flowctl:sha256=0123456789abcdef]'",
        );
        assert!(same(&none, &empty));
        assert!(same(&empty, &none));
        assert!(same(&marker_only, &none));
        assert!(same(&marker_only, &empty));
        // The org wrote a description the file does not have.
        assert!(!same(
            &none,
            &OURS.replace("Greets [flowctl:sha256=0123456789abcdef]", "Edited")
        ));
        assert!(!same(
            &empty,
            &OURS.replace("Greets [flowctl:sha256=0123456789abcdef]", "Edited")
        ));
    }

    #[test]
    fn comments_and_quoting_are_not_drift() {
        let theirs = "# exported\ncommonModule:\n  name: \"M\" # the name\n  description: 'Greets'\n  division: \"Home\"\n  startUpTaskActions:\n  # first\n  - playAudio:\n      name: Play\n      audio:\n        tts: \"Hello\"\n  - endTask:\n      name: 'Return'\n";
        assert!(same(OURS, theirs));
    }

    #[test]
    fn the_marker_is_removed_from_a_description() {
        assert_eq!(
            without_marker("Greets [flowctl:sha256=0123456789abcdef]"),
            "Greets"
        );
        assert_eq!(without_marker("[flowctl:sha256=0123456789abcdef]"), "");
        assert_eq!(without_marker("plain"), "plain");
        assert_eq!(
            without_marker("broken [flowctl:sha256=12"),
            "broken [flowctl:sha256=12"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_compares_without_panicking_and_equals_itself(text in "\\PC{0,200}") {
            if let Ok(c) = compare(&text, &text) {
                proptest::prop_assert!(c.same, "{}", c.diff);
            }
            let _ = compare(OURS, &text);
        }
    }

    #[test]
    fn text_that_is_not_yaml_names_its_side() {
        let e = compare(OURS, "a: [unclosed").err().unwrap_or_default();
        assert!(e.contains("the exported flow"), "{e}");
    }
}

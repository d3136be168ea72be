//! Architect's action vocabulary in the emulator: a job whose YAML uses an action Architect
//! does not have fails, as a real publish would, so end-to-end tests can show the failure
//! path.
//!
//! The names are those of lint's catalogue (`src/lint/catalogue.yaml`): one vocabulary, so
//! that the emulator accepts every action lint knows and lint knows every action the
//! emulator accepts. The catalogue is learned from real public exports and the Architect
//! Scripting SDK's documentation, each entry citing its source; neither side can drift from
//! the other, and a test publishes every catalogue action through the emulator.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use yaml_serde::Value;

/// The catalogue's data file itself (not the lint module, which sits in a higher layer than the
/// emulator): its `actions` keys are the vocabulary.
const CATALOGUE: &str = include_str!("../lint/catalogue.yaml");

/// Whether Architect has an action of this name.
pub(crate) fn is_action(name: &str) -> bool {
    static ACTIONS: OnceLock<BTreeSet<String>> = OnceLock::new();
    ACTIONS
        .get_or_init(|| {
            yaml_serde::from_str::<Value>(CATALOGUE)
                .ok()
                .and_then(|v| {
                    let actions = v.get("actions")?.as_mapping()?;
                    Some(
                        actions
                            .keys()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            .collect(),
                    )
                })
                .unwrap_or_default()
        })
        .contains(name)
}

/// Every action of `body` that Architect does not know, as job error messages.
pub fn check(body: &Value, yaml: &str) -> Result<(), Vec<String>> {
    let mut unknown: Vec<String> = Vec::new();
    let mut stack = vec![body];
    while let Some(v) = stack.pop() {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    let list = matches!(
                        k.as_str(),
                        Some("actions" | "startUpTaskActions" | "choices")
                    );
                    if let (true, Value::Sequence(items)) = (list, child) {
                        for item in items {
                            let Some(Value::Mapping(a)) = Some(item) else {
                                continue;
                            };
                            let Some(name) = a.keys().next().and_then(Value::as_str) else {
                                continue;
                            };
                            if a.len() == 1
                                && name != "ref"
                                && !is_action(name)
                                && !unknown.iter().any(|u| u == name)
                            {
                                unknown.push(name.to_string());
                            }
                        }
                    }
                    stack.push(child);
                }
            }
            Value::Sequence(items) => stack.extend(items.iter()),
            Value::Tagged(t) => stack.push(&t.value),
            _ => {}
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    Err(unknown
        .iter()
        .map(|name| {
            let line = yaml
                .lines()
                .position(|l| {
                    l.trim_start()
                        .trim_start_matches("- ")
                        .starts_with(&format!("{name}:"))
                })
                .map(|i| format!(" (line {})", i + 1))
                .unwrap_or_default();
            format!("Unable to parse the flow configuration: unknown action type '{name}'{line}")
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_action_fails_with_its_name_and_line() {
        let yaml = "inboundCall:\n  tasks:\n    - task:\n        actions:\n          - transferToAdc:\n              name: q\n          - disconnect:\n              name: d\n";
        let v: Value = yaml_serde::from_str(yaml).unwrap_or_default();
        let e = check(&v, yaml).err().unwrap_or_default();
        assert_eq!(
            e,
            ["Unable to parse the flow configuration: unknown action type 'transferToAdc' (line 5)"]
        );
        let good = yaml.replace("transferToAdc", "transferToAcd");
        let v: Value = yaml_serde::from_str(&good).unwrap_or_default();
        assert!(check(&v, &good).is_ok());
    }

    #[test]
    fn the_actions_real_exports_use_are_accepted() {
        for name in [
            "digitalMenu",
            "getConversationData",
            "getExternalContact",
            "callDigitalBotFlow",
            "endState",
        ] {
            assert!(is_action(name), "{name}");
        }
        assert!(!is_action("transferToAdc"));
    }
}

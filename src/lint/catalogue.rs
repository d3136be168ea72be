//! The catalogue of Architect YAML (`catalogue.yaml`, embedded): flow types and their keys,
//! containers, actions and their fields, each entry naming the public exports it was learned
//! from. Loaded once; a unit test keeps the data consistent.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const SOURCE: &str = include_str!("catalogue.yaml");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Catalogue {
    /// Source id → `github.com/owner/repo@commit path`.
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) sources: BTreeMap<String, String>,
    pub(crate) wrappers: Wrappers,
    pub flow_types: BTreeMap<String, FlowTypeEntry>,
    /// Flow-level keys accepted in every flow type.
    pub(crate) common_keys: Vec<String>,
    /// Real flow types of which no export was sampled: generic checks only.
    pub unlearned_flow_types: Vec<String>,
    /// Keys of `task`, `menu`, `state`, `bot` items.
    pub(crate) containers: BTreeMap<String, ContainerEntry>,
    /// Keys of the flow-level `settings*` blocks, and of `errorHandling` inside
    /// `settingsErrorHandling`.
    pub(crate) settings: BTreeMap<String, ContainerEntry>,
    pub actions: BTreeMap<String, ActionEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Wrappers {
    pub(crate) value: Vec<String>,
    pub(crate) audio: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowTypeEntry {
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) learned: Vec<String>,
    pub(crate) keys: Vec<String>,
    /// List key → item key: `tasks: task`.
    #[serde(default)]
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) containers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContainerEntry {
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) learned: Vec<String>,
    pub(crate) keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionEntry {
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) learned: Vec<String>,
    /// `None`: known by name only, fields not checked.
    #[serde(default)]
    pub(crate) fields: Option<BTreeMap<String, FieldKind>>,
    #[serde(default)]
    pub(crate) required: Vec<String>,
}

/// The shape a field's value takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FieldKind {
    /// `lit`, `exp`, `var` or `noValue`.
    Value,
    /// A value, or `tts` / `prompt`.
    Audio,
    /// Not checked.
    Any,
}

impl Catalogue {
    pub(crate) fn wrappers(&self, kind: FieldKind) -> &[String] {
        match kind {
            FieldKind::Value => &self.wrappers.value,
            FieldKind::Audio => &self.wrappers.audio,
            FieldKind::Any => &[],
        }
    }
}

/// A catalogue from YAML text in the format of `catalogue.yaml`.
pub fn parse(text: &str) -> Result<Catalogue, String> {
    yaml_serde::from_str(text).map_err(|e| e.to_string())
}

/// The embedded catalogue, or why it cannot be read (a build defect the unit test catches).
pub fn get() -> Result<&'static Catalogue, &'static str> {
    static CATALOGUE: OnceLock<Result<Catalogue, String>> = OnceLock::new();
    CATALOGUE
        .get_or_init(|| parse(SOURCE))
        .as_ref()
        .map_err(String::as_str)
}

/// The candidate closest to `word` when it is one edit away (an insertion, a deletion, a
/// substitution or two letters swapped) or differs only in case: a misspelling, not a new
/// word. `get`/`set` pairs are not misspellings of each other: Architect names actions in
/// such pairs (`getParticipantData`, `setParticipantData`), so an unknown `getX` next to a
/// known `setX` is more likely a real action than a typo.
pub(crate) fn near<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            return None;
        }
        if get_set_pair(word, c) {
            continue;
        }
        let d = if c.eq_ignore_ascii_case(word) {
            0
        } else {
            strsim::osa_distance(word, c)
        };
        if d <= 1 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn get_set_pair(a: &str, b: &str) -> bool {
    let rest = |w: &'_ str| {
        w.strip_prefix("get")
            .or_else(|| w.strip_prefix("set"))
            .map(str::to_string)
    };
    a != b && rest(a).is_some() && rest(a) == rest(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> &'static Catalogue {
        match get() {
            Ok(c) => c,
            Err(e) => panic!("catalogue.yaml does not parse: {e}"),
        }
    }

    #[test]
    fn every_entry_names_where_it_was_learned() {
        let c = cat();
        let known = |id: &String| c.sources.contains_key(id) || id.starts_with('+');
        let mut learned: Vec<(&String, &Vec<String>)> = Vec::new();
        learned.extend(c.flow_types.iter().map(|(k, v)| (k, &v.learned)));
        learned.extend(c.containers.iter().map(|(k, v)| (k, &v.learned)));
        learned.extend(c.settings.iter().map(|(k, v)| (k, &v.learned)));
        learned.extend(c.actions.iter().map(|(k, v)| (k, &v.learned)));
        for (name, ids) in learned {
            assert!(!ids.is_empty(), "{name} says nowhere it was learned");
            for id in ids {
                assert!(known(id), "{name} cites unknown source {id}");
            }
        }
    }

    #[test]
    fn required_fields_are_known_fields_and_supported_types_are_all_there() {
        let c = cat();
        for (name, a) in &c.actions {
            for r in &a.required {
                assert!(
                    a.fields.as_ref().is_some_and(|f| f.contains_key(r)),
                    "{name}.{r}"
                );
            }
        }
        for t in [
            "commonModule",
            "inboundCall",
            "inqueueCall",
            "botFlow",
            "inboundChat",
            "inboundEmail",
            "inboundShortMessage",
            "inqueueEmail",
            "inqueueShortMessage",
            "workflow",
        ] {
            assert!(c.flow_types.contains_key(t), "{t}");
        }
    }

    #[test]
    fn no_two_known_actions_are_one_edit_apart() {
        // Otherwise a real action could be reported as a misspelling of another.
        let names: Vec<&str> = cat().actions.keys().map(String::as_str).collect();
        for n in &names {
            let others = names.iter().copied().filter(|o| o != n);
            assert_eq!(near(n, others), None, "{n}");
        }
    }

    #[test]
    fn near_accepts_one_edit_or_a_case_change_only() {
        let c = ["transferToAcd", "callData", "inqueueCall"];
        assert_eq!(near("transferToAdc", c), Some("transferToAcd"));
        assert_eq!(near("transferToAc", c), Some("transferToAcd"));
        assert_eq!(near("inQueueCall", c), Some("inqueueCall"));
        assert_eq!(near("callDataSecure", c), None);
        assert_eq!(near("callData", c), None);
        let c = ["setParticipantData", "setConversationData"];
        assert_eq!(near("getConversationData", c), None);
        assert_eq!(near("setConversatonData", c), Some("setConversationData"));
    }
}

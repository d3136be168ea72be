//! Flows as code: the manifest that `plan`, `apply`, `verify -f` and `destroy` read.
//!
//! ```yaml
//! substitutions:            # optional; also --var k=v and FLOWCTL_VAR_k
//!   region_queue: General Support
//! modules:
//!   - name: Shared Greeting Module
//!     greeting: Hello, this is a shared greeting.     # built-in template
//!   - name: Business Hours
//!     file: flows/business-hours.yaml                 # the user's own Architect YAML
//! flows:
//!   - name: Inbound Sales Flow
//!     modules: [Shared Greeting Module]               # built-in template: call these, then queue
//!     queue: "{{region_queue}}"
//!   - name: Inbound Support Flow
//!     file: flows/support.yaml
//! ```
//!
//! Loading is offline and reports every problem at once (like a compiler), so `plan` and
//! `apply` exit 2 before any request: malformed YAML (line and column), unknown keys (with a
//! suggestion), duplicate names, names over 200 characters, cycles between modules and
//! unreplaced placeholders. A `{{key}}` takes its value from `--var`, then the environment
//! variable `FLOWCTL_VAR_key` (only under that prefix, as Terraform's `TF_VAR_`, so
//! `{{HOME}}` or `{{GENESYS_CLIENT_SECRET}}` never read the environment), then the chosen
//! profile's `substitutions`, then `substitutions`. A value that is the OAuth client secret
//! is refused whatever its name, in every command. `Manifest::substitutions` says where
//! each value came from (`plan` prints it).

use crate::error::{Error, Result};
use crate::flow::{self, FlowDocument, ParentTemplate, SharedTemplate};
use crate::models::FlowType;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use yaml_serde::Value;

const TOP_KEYS: &[&str] = &["substitutions", "profiles", "modules", "flows"];
const PROFILE_KEYS: &[&str] = &["substitutions"];
const MODULE_KEYS: &[&str] = &[
    "name",
    "file",
    "substitutions",
    "greeting",
    "description",
    "division",
    "language",
];
const FLOW_KEYS: &[&str] = &[
    "name",
    "file",
    "substitutions",
    "modules",
    "queue",
    "description",
    "division",
    "language",
];

/// A loaded, checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub(crate) path: PathBuf,
    /// Common modules, in dependency order (a module after the modules it calls).
    pub(crate) modules: Vec<Item>,
    /// The other flows, in manifest order except that a flow comes after the bot flows it
    /// calls (and, where that makes no cycle, the flows it transfers to).
    pub(crate) flows: Vec<Item>,
    /// Every placeholder filled, with its value and where the value came from.
    pub(crate) substitutions: Vec<Substitution>,
    /// Modules and flows together, each after every item it names that Architect resolves
    /// when it publishes (modules it calls, bot flows, in-queue flows; transfer targets
    /// where that makes no cycle). A module that names an in-queue flow comes after it.
    pub(crate) ordered: Vec<Item>,
}

/// One placeholder's value and its source: `--var`, `FLOWCTL_VAR_key`, an entry's own
/// `modules[i].substitutions` / `flows[i].substitutions`, `profiles.NAME.substitutions` or
/// `substitutions`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Substitution {
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) source: String,
}

/// Environment variables fill `{{key}}` only as `FLOWCTL_VAR_key`.
pub(crate) const ENV_VAR_PREFIX: &str = "FLOWCTL_VAR_";

/// Where a secret may live; a substitution with the same value is refused.
const SECRET_VARIABLES: &[&str] = &[
    crate::cli::env::CLIENT_SECRET,
    crate::cli::env::CXAC_CLIENT_SECRET,
];

/// One flow of the manifest, rendered.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) doc: FlowDocument,
    /// Division name: the file's own, else the entry's `division`, else `Home`.
    pub(crate) division: String,
    /// Whether the manifest names the division (the file's own, or the entry's): only a
    /// named division moves an existing flow; otherwise it stays where it is.
    pub(crate) division_named: bool,
    /// Where it was declared: `modules[0]`, `flows[3] (flows/support.yaml)`.
    pub(crate) origin: String,
}

impl Item {
    /// The division is the file's own, else the entry's `division`, else `Home`.
    /// `template`: the built-in template, whose YAML always holds a division (named only
    /// by the entry's `division`).
    fn new(
        doc: FlowDocument,
        entry_division: Option<String>,
        origin: String,
        template: bool,
    ) -> Item {
        let division_named = entry_division.is_some() || (!template && doc.division.is_some());
        let division = doc
            .division
            .clone()
            .or(entry_division)
            .unwrap_or_else(|| flow::DEFAULT_DIVISION.into());
        Item {
            doc,
            division,
            division_named,
            origin,
        }
    }
}

impl Manifest {
    /// Every item in an order in which each comes after what it calls and names: modules
    /// first, except a module that names an in-queue flow, which comes after that flow.
    pub(crate) fn items(&self) -> impl Iterator<Item = &Item> {
        self.ordered.iter()
    }

    /// Names of the manifest's modules.
    pub(crate) fn module_names(&self) -> BTreeSet<&str> {
        self.modules.iter().map(|m| m.doc.name.as_str()).collect()
    }

    /// Modules called by some item but not declared in the manifest: they must already be
    /// published in the org.
    pub(crate) fn external_modules(&self) -> BTreeMap<String, Vec<String>> {
        let own = self.module_names();
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in self.items() {
            for m in &item.doc.modules {
                if !own.contains(m.as_str()) {
                    out.entry(m.clone())
                        .or_default()
                        .push(item.doc.name.clone());
                }
            }
        }
        out
    }
}

/// A flowctl manifest: the common modules and the flows that call them, deployed by
/// `flowctl plan/apply/verify/destroy -f FILE`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "flowctl manifest")]
pub(crate) struct RawManifest {
    /// Values for `{{key}}` placeholders. `--var key=value` and environment variables win.
    #[serde(default)]
    substitutions: BTreeMap<String, ScalarString>,
    /// Per-profile substitutions (queue and division names differ between orgs), chosen with
    /// `--profile NAME` or `FLOWCTL_PROFILE`; they win over `substitutions`.
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
    /// Common modules (shared flows). Published before the flows that call them.
    #[serde(default)]
    modules: Vec<RawModule>,
    /// Flows that call modules: the built-in inbound call flow, or your own Architect YAML.
    #[serde(default)]
    flows: Vec<RawFlow>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RawProfile {
    /// Values for `{{key}}` placeholders in this profile.
    #[serde(default)]
    substitutions: BTreeMap<String, ScalarString>,
}

/// A common module: the built-in greeting (`name` + `greeting`) or your own file.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RawModule {
    /// Flow name (1-200 characters). With `file`, it must match the name in the file.
    name: Option<String>,
    /// Your own Architect YAML (a `commonModule`), relative to the manifest.
    file: Option<PathBuf>,
    /// Values for this entry's `{{key}}` placeholders alone (as each `genesyscloud_flow`
    /// resource's `substitutions`). They win over the profile's and the manifest's; `--var`
    /// and `FLOWCTL_VAR_key` win over them. A value may itself use `{{key}}`, filled by
    /// `--var`, `FLOWCTL_VAR_key`, the profile and `substitutions`.
    #[serde(default)]
    substitutions: BTreeMap<String, ScalarString>,
    /// Text-to-speech greeting of the built-in module.
    greeting: Option<String>,
    /// Flow description.
    description: Option<String>,
    /// Division name (default `Home`).
    division: Option<String>,
    /// Language (default `en-us`).
    language: Option<String>,
}

/// A flow: the built-in inbound call flow (`name` + `modules` + `queue`) or your own file.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RawFlow {
    /// Flow name (1-200 characters). With `file`, it must match the name in the file.
    name: Option<String>,
    /// Your own Architect YAML (any flow type but `commonModule`), relative to the manifest.
    file: Option<PathBuf>,
    /// Values for this entry's `{{key}}` placeholders alone (as each `genesyscloud_flow`
    /// resource's `substitutions`). They win over the profile's and the manifest's; `--var`
    /// and `FLOWCTL_VAR_key` win over them. A value may itself use `{{key}}`, filled by
    /// `--var`, `FLOWCTL_VAR_key`, the profile and `substitutions`.
    #[serde(default)]
    substitutions: BTreeMap<String, ScalarString>,
    /// Modules the built-in flow calls, in order, before it queues the caller.
    modules: Option<Vec<String>>,
    /// Queue the built-in flow transfers the caller to.
    queue: Option<String>,
    /// Flow description.
    description: Option<String>,
    /// Division name (default `Home`).
    division: Option<String>,
    /// Language (default `en-us`).
    language: Option<String>,
}

/// A substitution value: YAML numbers and booleans are accepted as their text.
#[derive(Debug, Clone)]
struct ScalarString(String);

impl JsonSchema for ScalarString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// The manifest's JSON Schema, generated from the types above (so it cannot drift).
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(RawManifest)).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            "https://github.com/flowctl/flowctl/schema/manifest.schema.json".into(),
        );
    }
    schema
}

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ScalarString(s)),
            Value::Number(n) => Ok(ScalarString(n.to_string())),
            Value::Bool(b) => Ok(ScalarString(b.to_string())),
            _ => Err(serde::de::Error::custom(
                "a substitution must be a string, number or boolean",
            )),
        }
    }
}

/// The process environment (then `.env` in the working directory), for `FLOWCTL_VAR_*`
/// placeholders and for recognising the client secret.
pub(crate) fn process_env(key: &str) -> Option<String> {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| {
            use crate::config::EnvSource;
            crate::config::ProcessEnv::load(Path::new("."))
                .ok()
                .and_then(|e| e.get(key))
        })
}

/// Values for the placeholders of a user's Architect file outside a manifest (`lint`,
/// `create-shared --file`), by the manifest's rules: `--var`, then `FLOWCTL_VAR_key`; a
/// value that is the client secret is refused (the message names the placeholder only).
pub(crate) fn file_vars(
    text: &str,
    vars: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let cli: BTreeMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let secrets: Vec<String> = SECRET_VARIABLES
        .iter()
        .filter_map(|k| env(k))
        .filter(|v| !v.trim().is_empty())
        .collect();
    let mut out = BTreeMap::new();
    for key in placeholders(text) {
        let value = cli
            .get(key.as_str())
            .map(|v| v.to_string())
            .or_else(|| env(&format!("{ENV_VAR_PREFIX}{key}")));
        let Some(value) = value else { continue };
        if SECRET_VARIABLES.contains(&key.as_str())
            || secrets
                .iter()
                .any(|s| value == *s || (s.len() >= 8 && value.contains(s.as_str())))
        {
            return Err(format!(
                "{{{{{key}}}}} would be filled with the OAuth client secret; flowctl never puts the secret into a flow"
            ));
        }
        out.insert(key, value);
    }
    Ok(out)
}

/// Reads and checks a manifest. Every problem is reported at once as one input error
/// (exit 2); nothing touches the network.
pub(crate) fn load(
    path: &Path,
    vars: &[(String, String)],
    profile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Manifest> {
    let text = crate::files::read_text(path, "the manifest").map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, path, vars, profile, env).map_err(|problems| {
        Error::input(
            format!(
                "{} has {} problem{}:\n  {}",
                path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.join("\n  ")
            ),
            Some("fix them and run again; nothing was sent to Genesys Cloud".to_string()),
        )
    })
}

/// Parses manifest text. `path` names the file in messages and anchors relative `file:`s.
pub fn parse(
    text: &str,
    path: &Path,
    vars: &[(String, String)],
    profile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Manifest, Vec<String>> {
    let shown = path.display().to_string();
    let text = flow::read::strip_bom(text);
    if let Some((line, column)) = flow::read::too_deep(text) {
        return Err(vec![format!(
            "{shown}:{line}:{column}: malformed YAML: brackets nest deeper than {} levels",
            flow::read::MAX_NESTING
        )]);
    }
    let value: Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let at = e
                .location()
                .map(|l| format!("{shown}:{}:{}", l.line(), l.column()))
                .unwrap_or_else(|| shown.clone());
            return Err(vec![format!("{at}: malformed YAML: {e}")]);
        }
    };
    let mut problems = unquoted_placeholders(text, &shown);
    if let Some((tag, line)) = flow::read::first_tag_in(text) {
        problems.push(format!(
            "{shown}:{line}: YAML tag `{tag}` is not part of a manifest; remove it"
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let value = match value {
        Value::Null => Value::Mapping(Default::default()),
        v @ Value::Mapping(_) => v,
        _ => {
            return Err(vec![format!(
                "{shown}: the manifest must be a mapping with `modules` and `flows`"
            )])
        }
    };
    check_keys(&value, text, &shown, &mut problems);
    let raw: RawManifest = match yaml_serde::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            problems.push(format!("{shown}: {e}"));
            return Err(problems);
        }
    };
    if raw.modules.is_empty() && raw.flows.is_empty() {
        problems.push(format!("{shown}: declares no modules and no flows"));
    }

    let mut layers: Vec<(String, BTreeMap<String, String>)> =
        vec![("--var".to_string(), vars.iter().cloned().collect())];
    if let Some(name) = profile {
        match raw.profiles.get(name) {
            Some(p) => layers.push((
                format!("profiles.{name}.substitutions"),
                p.substitutions
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
            )),
            // A manifest without profiles serves every profile with its base substitutions.
            None if raw.profiles.is_empty() => {}
            None => problems.push(format!(
                "{shown}: profile '{name}' has no entry under `profiles` (it has: {})",
                raw.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
    layers.push((
        "substitutions".to_string(),
        raw.substitutions
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect(),
    ));
    let secrets: Vec<String> = SECRET_VARIABLES
        .iter()
        .filter_map(|k| env(k))
        .filter(|v| !v.trim().is_empty())
        .collect();
    let used: std::cell::RefCell<Vec<Substitution>> = Default::default();
    let refused: std::cell::RefCell<Vec<String>> = Default::default();
    let unresolved: std::cell::RefCell<Vec<String>> = Default::default();
    // `--var`, then `FLOWCTL_VAR_key`: they win over everything the manifest says.
    let top = |key: &str| -> Option<(String, String)> {
        let env_name = format!("{ENV_VAR_PREFIX}{key}");
        layers[..1]
            .iter()
            .find_map(|(src, m)| m.get(key).map(|v| (v.clone(), src.clone())))
            .or_else(|| env(&env_name).map(|v| (v, env_name.clone())))
    };
    // The profile, then `substitutions`.
    let lower = |key: &str| -> Option<(String, String)> {
        layers[1..]
            .iter()
            .find_map(|(src, m)| m.get(key).map(|v| (v.clone(), src.clone())))
    };
    let record = |key: &str, value: &str, source: &str| {
        let mut u = used.borrow_mut();
        if !u
            .iter()
            .any(|s| s.key == key && s.value == value && s.source == source)
        {
            u.push(Substitution {
                key: key.to_string(),
                value: value.to_string(),
                source: source.to_string(),
            });
        }
    };
    let lookup = |key: &str, entry: Option<&Entry>| -> Option<String> {
        let found = top(key)
            .or_else(|| {
                // An entry's own value, its placeholders filled by the rules above it.
                let (source, raw) = entry.and_then(|e| e.values.get(key).map(|v| (e, v)))?;
                let (value, missing) = substitute(raw, &|k: &str| {
                    let (v, src) = top(k).or_else(|| lower(k))?;
                    record(k, &v, &src);
                    Some(v)
                });
                for k in missing {
                    unresolved.borrow_mut().push(format!(
                        "{}: {{{{{key}}}}} uses {{{{{k}}}}}, which no --var, {ENV_VAR_PREFIX}{k}, profile or `substitutions` entry sets",
                        source.source
                    ));
                }
                Some((value, source.source.clone()))
            })
            .or_else(|| lower(key));
        let (value, source) = found?;
        if SECRET_VARIABLES.contains(&key)
            || secrets
                .iter()
                .any(|s| value == *s || (s.len() >= 8 && value.contains(s.as_str())))
        {
            let mut r = refused.borrow_mut();
            if !r.iter().any(|k| k == key) {
                r.push(key.to_string());
            }
            return None;
        }
        record(key, &value, &source);
        Some(value)
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut ctx = Ctx {
        shown: &shown,
        base,
        lookup: &lookup,
        entry: None,
        problems: &mut problems,
    };

    let mut modules = Vec::new();
    for (i, m) in raw.modules.iter().enumerate() {
        ctx.entry = Entry::new(format!("modules[{i}].substitutions"), &m.substitutions);
        if let Some(item) = ctx.module(i, m) {
            modules.push(item);
        }
    }
    let mut flows = Vec::new();
    for (i, f) in raw.flows.iter().enumerate() {
        ctx.entry = Entry::new(format!("flows[{i}].substitutions"), &f.substitutions);
        if let Some(item) = ctx.flow(i, f) {
            flows.push(item);
        }
    }

    // Duplicate names (per flow type, as Genesys keeps them unique; case-insensitively,
    // to be safe).
    let mut seen: HashMap<(FlowType, String), &str> = HashMap::new();
    for item in modules.iter().chain(flows.iter()) {
        let key = (item.doc.flow_type, item.doc.name.to_lowercase());
        if let Some(first) = seen.insert(key, &item.origin) {
            problems.push(format!(
                "{shown}: {}: duplicate name '{}' ({} already declares it)",
                item.origin, item.doc.name, first
            ));
        }
    }
    for item in modules.iter().chain(flows.iter()) {
        if item.doc.modules.contains(&item.doc.name) && item.doc.flow_type == FlowType::CommonModule
        {
            problems.push(format!(
                "{shown}: {}: module '{}' calls itself",
                item.origin, item.doc.name
            ));
        }
    }
    // Flows that call bot flows (or transfer to flows) of the manifest come after them, so
    // nobody writes `depends_on`. Transfers may go both ways between existing flows; when
    // they form a cycle only the bot-flow calls order the flows.
    let bot_calls = |i: &Item| -> Vec<String> {
        i.doc
            .flow_callees()
            .filter(|(_, t)| t.is_some())
            .map(|(n, _)| n.to_string())
            .collect()
    };
    let all_calls =
        |i: &Item| -> Vec<String> { i.doc.flow_callees().map(|(n, _)| n.to_string()).collect() };
    let flows = match order_by_calls(flows.clone(), all_calls) {
        Ok(f) => f,
        Err(_) => match order_by_calls(flows, bot_calls) {
            Ok(f) => f,
            Err(cycle) => {
                problems.push(format!(
                    "{shown}: flows name each other in a cycle (bot flows or in-queue flows), so Architect could publish none of them first: {}",
                    cycle.join(" → ")
                ));
                Vec::new()
            }
        },
    };
    let modules = match order_by_calls(modules, |m: &Item| m.doc.modules.clone()) {
        Ok(m) => m,
        Err(cycle) => {
            problems.push(format!(
                "{shown}: modules call each other in a cycle: {}",
                cycle.join(" → ")
            ));
            Vec::new()
        }
    };
    // Modules and flows together: a module naming an in-queue flow publishes after it.
    let everything: Vec<Item> = modules.iter().chain(flows.iter()).cloned().collect();
    let names_all = |i: &Item| -> Vec<String> {
        let mut v = i.doc.modules.clone();
        v.extend(i.doc.flow_callees().map(|(n, _)| n.to_string()));
        v
    };
    let names_typed = |i: &Item| -> Vec<String> {
        let mut v = i.doc.modules.clone();
        v.extend(
            i.doc
                .flow_callees()
                .filter(|(_, t)| t.is_some())
                .map(|(n, _)| n.to_string()),
        );
        v
    };
    let ordered = match order_by_calls(everything.clone(), names_all) {
        Ok(o) => o,
        Err(_) => match order_by_calls(everything, names_typed) {
            Ok(o) => o,
            Err(cycle) => {
                if problems.is_empty() {
                    problems.push(format!(
                        "{shown}: flows name each other in a cycle, so Architect could publish none of them first: {}",
                        cycle.join(" → ")
                    ));
                }
                Vec::new()
            }
        },
    };
    problems.extend(
        unresolved
            .into_inner()
            .into_iter()
            .map(|p| format!("{shown}: {p}"))
            .collect::<BTreeSet<_>>(),
    );
    for key in refused.into_inner() {
        problems.push(format!(
            "{shown}: {{{{{key}}}}} would be filled with the OAuth client secret; flowctl never puts the secret into a flow"
        ));
    }
    if problems.is_empty() {
        Ok(Manifest {
            path: path.to_path_buf(),
            modules,
            flows,
            substitutions: used.into_inner(),
            ordered,
        })
    } else {
        Err(problems)
    }
}

/// One entry's own `substitutions`, and how `plan` names their source.
struct Entry {
    source: String,
    values: BTreeMap<String, String>,
}

impl Entry {
    fn new(source: String, values: &BTreeMap<String, ScalarString>) -> Option<Entry> {
        (!values.is_empty()).then(|| Entry {
            source,
            values: values
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
        })
    }
}

struct Ctx<'a> {
    shown: &'a str,
    base: &'a Path,
    lookup: &'a dyn Fn(&str, Option<&Entry>) -> Option<String>,
    /// The entry being read, whose own `substitutions` win over the manifest's.
    entry: Option<Entry>,
    problems: &'a mut Vec<String>,
}

impl Ctx<'_> {
    fn problem(&mut self, origin: &str, message: impl AsRef<str>) {
        self.problems
            .push(format!("{}: {origin}: {}", self.shown, message.as_ref()));
    }

    /// Replaces placeholders in a manifest value; an unreplaced one is a problem.
    fn subst(&mut self, origin: &str, field: &str, value: &str) -> String {
        let lookup = |k: &str| (self.lookup)(k, self.entry.as_ref());
        let (out, missing) = substitute(value, &lookup);
        for key in missing {
            self.problem(origin, format!("`{field}` uses {{{{{key}}}}}, which no --var, {ENV_VAR_PREFIX}{key} or `substitutions` entry sets"));
        }
        out
    }

    /// The one name rule ([`flow::graph::name_problem`]), recorded against `origin`.
    fn name(&mut self, origin: &str, name: &str) -> bool {
        let Some(problem) = flow::graph::name_problem(name) else {
            return true;
        };
        let shown: String = if name.chars().count() > 40 {
            name.chars().take(40).chain(['…']).collect()
        } else {
            name.to_string()
        };
        let rest = problem.strip_prefix("name").unwrap_or(&problem);
        self.problem(origin, format!("name {shown:?}{rest}"));
        false
    }

    /// A rendered template, or its problems recorded against `origin`.
    fn rendered(
        &mut self,
        origin: &str,
        r: std::result::Result<FlowDocument, flow::FlowError>,
    ) -> Option<FlowDocument> {
        match r {
            Ok(doc) => Some(doc),
            Err(e) => {
                for line in e.to_string().lines() {
                    self.problem(origin, line);
                }
                None
            }
        }
    }

    /// Reads a user's Architect YAML with the manifest's substitutions.
    fn file(
        &mut self,
        origin: &str,
        file: &Path,
        expected_name: Option<&str>,
    ) -> Option<FlowDocument> {
        let full = self.base.join(file);
        let text = match crate::files::read_text(&full, "the flow file") {
            Ok(t) => t,
            Err(e) => {
                self.problem(origin, format!("cannot read {}: {e}", full.display()));
                return None;
            }
        };
        let vars: BTreeMap<String, String> = placeholders(&text)
            .into_iter()
            .filter_map(|k| (self.lookup)(&k, self.entry.as_ref()).map(|v| (k, v)))
            .collect();
        match flow::read_architect_yaml(&text, &vars, &full.display().to_string()) {
            Ok(doc) => {
                if let Some(name) = expected_name {
                    if name != doc.name {
                        self.problem(
                            origin,
                            format!(
                                "`name` '{name}' differs from the name '{}' in {}",
                                doc.name,
                                file.display()
                            ),
                        );
                        return None;
                    }
                }
                if !self.name(origin, &doc.name.clone()) {
                    return None;
                }
                Some(doc)
            }
            Err(e) => {
                for line in e.to_string().lines() {
                    self.problem(origin, line);
                }
                None
            }
        }
    }

    fn module(&mut self, i: usize, m: &RawModule) -> Option<Item> {
        let mut origin = format!("modules[{i}]");
        if let Some(name) = &m.name {
            origin = format!("{origin} '{name}'");
        }
        let name = m.name.as_deref().map(|n| self.subst(&origin, "name", n));
        let division = m
            .division
            .as_deref()
            .map(|d| self.subst(&origin, "division", d));
        let doc = match (&m.file, &m.greeting) {
            (Some(_), Some(_)) => {
                self.problem(&origin, "give either `file` or `greeting`, not both");
                return None;
            }
            (Some(file), None) => {
                let doc = self.file(&origin, file, name.as_deref())?;
                if doc.flow_type != FlowType::CommonModule {
                    self.problem(
                        &origin,
                        format!(
                            "{} is a {}, but `modules` takes common modules (move it to `flows`)",
                            file.display(),
                            doc.flow_type.yaml_key().unwrap_or(doc.flow_type.as_wire())
                        ),
                    );
                    return None;
                }
                doc
            }
            (None, greeting) => {
                let Some(name) = name else {
                    self.problem(&origin, "needs `name` (with `greeting`) or `file`");
                    return None;
                };
                if !self.name(&origin, &name) {
                    return None;
                }
                let Some(greeting) = greeting else {
                    self.problem(&origin, "needs `greeting` (the built-in module) or `file` (your own Architect YAML)");
                    return None;
                };
                let greeting = self.subst(&origin, "greeting", greeting);
                let description = m
                    .description
                    .as_deref()
                    .map(|d| self.subst(&origin, "description", d));
                let t = SharedTemplate {
                    name,
                    description,
                    division: division
                        .clone()
                        .unwrap_or_else(|| flow::DEFAULT_DIVISION.into()),
                    language: m
                        .language
                        .clone()
                        .unwrap_or_else(|| flow::DEFAULT_LANGUAGE.into()),
                    greeting,
                };
                self.rendered(&origin, flow::render_shared(&t))?
            }
        };
        Some(Item::new(doc, division, origin, m.file.is_none()))
    }

    fn flow(&mut self, i: usize, f: &RawFlow) -> Option<Item> {
        let mut origin = format!("flows[{i}]");
        if let Some(name) = &f.name {
            origin = format!("{origin} '{name}'");
        }
        let name = f.name.as_deref().map(|n| self.subst(&origin, "name", n));
        let division = f
            .division
            .as_deref()
            .map(|d| self.subst(&origin, "division", d));
        let doc = match &f.file {
            Some(file) => {
                if f.modules.is_some() || f.queue.is_some() {
                    self.problem(&origin, "`modules` and `queue` are for the built-in template; with `file`, the file says what it calls");
                    return None;
                }
                let doc = self.file(&origin, file, name.as_deref())?;
                if doc.flow_type == FlowType::CommonModule {
                    self.problem(
                        &origin,
                        format!(
                            "{} is a commonModule: declare it under `modules`",
                            file.display()
                        ),
                    );
                    return None;
                }
                doc
            }
            None => {
                let Some(name) = name else {
                    self.problem(
                        &origin,
                        "needs `name` (with `modules` and `queue`) or `file`",
                    );
                    return None;
                };
                if !self.name(&origin, &name) {
                    return None;
                }
                let Some(queue) = &f.queue else {
                    self.problem(
                        &origin,
                        "needs `queue` (the built-in flow transfers the caller to it) or `file`",
                    );
                    return None;
                };
                let queue = self.subst(&origin, "queue", queue);
                let modules: Vec<String> = f
                    .modules
                    .iter()
                    .flatten()
                    .map(|m| self.subst(&origin, "modules", m))
                    .collect();
                let description = f
                    .description
                    .as_deref()
                    .map(|d| self.subst(&origin, "description", d));
                let t = ParentTemplate {
                    name,
                    description,
                    division: division
                        .clone()
                        .unwrap_or_else(|| flow::DEFAULT_DIVISION.into()),
                    language: f
                        .language
                        .clone()
                        .unwrap_or_else(|| flow::DEFAULT_LANGUAGE.into()),
                    modules,
                    queue,
                };
                self.rendered(&origin, flow::render_parent(&t))?
            }
        };
        Some(Item::new(doc, division, origin, f.file.is_none()))
    }
}

/// Unknown keys anywhere in the manifest, each with its line and a suggestion.
fn check_keys(value: &Value, text: &str, shown: &str, problems: &mut Vec<String>) {
    let Value::Mapping(top) = value else { return };
    let mut unknown = |key: &str, allowed: &[&str], place: &str| {
        let line = key_line(text, key)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        let suggestion = allowed
            .iter()
            .map(|a| (strsim::jaro_winkler(key, a), a))
            .filter(|(s, _)| *s > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, a)| format!(" (did you mean `{a}`?)"))
            .unwrap_or_else(|| format!(" (expected one of: {})", allowed.join(", ")));
        problems.push(format!(
            "{shown}{line}: unknown key `{key}` in {place}{suggestion}"
        ));
    };
    for (k, v) in top {
        let Some(k) = k.as_str() else { continue };
        if !TOP_KEYS.contains(&k) {
            unknown(k, TOP_KEYS, "the manifest");
            continue;
        }
        if k == "profiles" {
            let Value::Mapping(profiles) = v else {
                continue;
            };
            for (name, p) in profiles {
                let Value::Mapping(p) = p else { continue };
                for key in p.keys().filter_map(Value::as_str) {
                    if !PROFILE_KEYS.contains(&key) {
                        unknown(
                            key,
                            PROFILE_KEYS,
                            &format!("profiles.{}", name.as_str().unwrap_or("?")),
                        );
                    }
                }
            }
            continue;
        }
        let allowed = match k {
            "modules" => MODULE_KEYS,
            "flows" => FLOW_KEYS,
            _ => continue,
        };
        let Value::Sequence(entries) = v else {
            continue;
        };
        for (i, entry) in entries.iter().enumerate() {
            let Value::Mapping(m) = entry else { continue };
            for key in m.keys().filter_map(Value::as_str) {
                if !allowed.contains(&key) {
                    unknown(key, allowed, &format!("{k}[{i}]"));
                }
            }
        }
    }
}

/// Placeholders written unquoted where a value starts (`queue: {{q}}`, `- {{m}}`): YAML
/// reads `{{` as a mapping, so each is reported with its line and the quoted form.
fn unquoted_placeholders(text: &str, shown: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        let mut before = String::new();
        while let Some((head, tail)) = rest.split_once("{{") {
            before.push_str(head);
            let lead = before.trim_end();
            if lead.contains(['#', '"', '\'']) {
                // A comment, or (most likely) inside a quoted string.
                break;
            }
            let spaced = lead.len() < before.len();
            let marker = |m: char| {
                lead.strip_suffix(m)
                    .is_some_and(|l| l.is_empty() || l.ends_with(char::is_whitespace))
            };
            let at_value_start = lead.is_empty()
                || (lead.ends_with(':') && spaced)
                || marker('-')
                || marker('?')
                || lead.ends_with('[')
                || lead.ends_with(',');
            if at_value_start {
                let inner = tail.split_once("}}").map(|(k, _)| k.trim()).unwrap_or("");
                problems.push(format!(
                    "{shown}:{}: the placeholder {{{{{inner}}}}} must be quoted (\"{{{{{inner}}}}}\"): unquoted, YAML reads `{{` as a mapping",
                    i + 1
                ));
                break;
            }
            before.push_str("{{");
            rest = tail;
        }
    }
    problems
}

/// The first line (1-based) whose content starts with `key:` (after an optional `- `).
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("- ").unwrap_or(l).trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| i + 1)
}

/// The keys of every `{{ key }}` placeholder in `text`, in order, unique.
pub fn placeholders(text: &str) -> Vec<String> {
    flow::placeholder::keys(text)
}

/// Replaces `{{ key }}` from `lookup`; returns the text and the keys left unreplaced.
pub(crate) fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let r = flow::placeholder::replace(text, lookup);
    let missing = r.missing_keys();
    (r.text, missing)
}

/// Orders items so each comes after the items it calls (by name, from `calls`), or returns
/// a cycle.
fn order_by_calls(
    modules: Vec<Item>,
    calls: impl Fn(&Item) -> Vec<String>,
) -> std::result::Result<Vec<Item>, Vec<String>> {
    let callees: Vec<Vec<String>> = modules.iter().map(&calls).collect();
    let index: HashMap<String, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (m.doc.name.clone(), i))
        .collect();
    // 0 = new, 1 = on the current path, 2 = done
    let mut mark = vec![0u8; modules.len()];
    let mut order = Vec::with_capacity(modules.len());
    #[allow(clippy::too_many_arguments)]
    fn visit(
        i: usize,
        modules: &[Item],
        callees: &[Vec<String>],
        index: &HashMap<String, usize>,
        mark: &mut [u8],
        path: &mut Vec<usize>,
        order: &mut Vec<usize>,
    ) -> std::result::Result<(), Vec<String>> {
        match mark[i] {
            2 => return Ok(()),
            1 => {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..]
                    .iter()
                    .map(|&p| modules[p].doc.name.clone())
                    .collect();
                cycle.push(modules[i].doc.name.clone());
                return Err(cycle);
            }
            _ => {}
        }
        mark[i] = 1;
        path.push(i);
        for callee in &callees[i] {
            if let Some(&j) = index.get(callee) {
                if j != i {
                    visit(j, modules, callees, index, mark, path, order)?;
                }
            }
        }
        path.pop();
        mark[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..modules.len() {
        visit(
            i,
            &modules,
            &callees,
            &index,
            &mut mark,
            &mut Vec::new(),
            &mut order,
        )?;
    }
    let mut slots: Vec<Option<Item>> = modules.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitute_reports_every_missing_key_once() {
        let lookup = |k: &str| (k == "a").then(|| "A".to_string());
        let (out, missing) = substitute("{{a}}-{{ b }}-{{b}}-{{c}}", &lookup);
        assert_eq!(out, "A-{{ b }}-{{b}}-{{c}}");
        assert_eq!(missing, vec!["b", "c"]);
    }

    #[test]
    fn placeholders_are_found_with_spaces() {
        assert_eq!(placeholders("x {{ a }} {{b}} {{a}}"), vec!["a", "b"]);
    }

    fn module_file(dir: &Path, file: &str, extra: &str) {
        let text = format!(
            "commonModule:\n  name: \"{{{{common_module_name}}}}\"\n  division: Home\n  startUpTaskActions:\n{extra}    - endTask:\n        name: Done\n"
        );
        std::fs::write(dir.join(file), text).expect("write");
    }

    fn load_in(
        dir: &Path,
        manifest: &str,
        vars: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> std::result::Result<Manifest, Vec<String>> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(
            manifest,
            &dir.join("flows.yaml"),
            &vars,
            Some("prod"),
            &|k| env.get(k).cloned(),
        )
    }

    #[test]
    fn each_entry_fills_the_same_placeholder_with_its_own_value() {
        let dir = tempfile::tempdir().expect("dir");
        module_file(dir.path(), "a.yaml", "");
        module_file(dir.path(), "b.yaml", "");
        module_file(dir.path(), "c.yaml", "");
        let text = "substitutions:\n  common_module_name: Base\n  env: dev\nprofiles:\n  prod:\n    substitutions:\n      common_module_name: Profile\n      env: prod\nmodules:\n  - file: a.yaml\n    substitutions:\n      common_module_name: \"First_{{env}}\"\n  - file: b.yaml\n    substitutions:\n      common_module_name: Second\n  - file: c.yaml\n";
        let m = load_in(dir.path(), text, &[], &[]).expect("loads");
        let names: BTreeSet<&str> = m.items().map(|i| i.doc.name.as_str()).collect();
        assert_eq!(names, BTreeSet::from(["First_prod", "Second", "Profile"]));
        let sources: Vec<(&str, &str, &str)> = m
            .substitutions
            .iter()
            .map(|s| (s.key.as_str(), s.value.as_str(), s.source.as_str()))
            .collect();
        for want in [
            ("env", "prod", "profiles.prod.substitutions"),
            (
                "common_module_name",
                "First_prod",
                "modules[0].substitutions",
            ),
            ("common_module_name", "Second", "modules[1].substitutions"),
            (
                "common_module_name",
                "Profile",
                "profiles.prod.substitutions",
            ),
        ] {
            assert!(sources.contains(&want), "{want:?} not in {sources:?}");
        }
        // --var and FLOWCTL_VAR_ still win over an entry's value.
        let m = load_in(dir.path(), text, &[("env", "ci")], &[]).expect("loads");
        assert!(m.items().any(|i| i.doc.name == "First_ci"));
        // (so three files named by one environment value collide)
        let e = load_in(
            dir.path(),
            text,
            &[],
            &[("FLOWCTL_VAR_common_module_name", "Env")],
        )
        .expect_err("three modules named Env");
        assert!(
            e.iter().any(|p| p.contains("duplicate name 'Env'")),
            "{e:?}"
        );
    }

    #[test]
    fn an_entry_value_that_is_the_secret_or_uses_an_unset_key_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        module_file(dir.path(), "a.yaml", "");
        let secret = "s3cr3t-client-secret-value";
        let text = format!(
            "modules:\n  - file: a.yaml\n    substitutions:\n      common_module_name: {secret}\n"
        );
        let e = load_in(dir.path(), &text, &[], &[("GENESYS_CLIENT_SECRET", secret)])
            .expect_err("refused");
        assert!(
            e.iter().any(|p| p
                .contains("{{common_module_name}} would be filled with the OAuth client secret")),
            "{e:?}"
        );
        assert!(!e.join("\n").contains(secret), "{e:?}");
        let text = "modules:\n  - file: a.yaml\n    substitutions:\n      common_module_name: \"M_{{nowhere}}\"\n";
        let e = load_in(dir.path(), text, &[], &[]).expect_err("refused");
        assert!(
            e.iter()
                .any(|p| p
                    .contains("modules[0].substitutions: {{common_module_name}} uses {{nowhere}}")),
            "{e:?}"
        );
    }

    #[test]
    fn an_entry_value_that_changes_the_files_structure_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        module_file(dir.path(), "a.yaml", "");
        let text = "modules:\n  - file: a.yaml\n    substitutions:\n      common_module_name: \"X\\\"\\n  variables: []\\n  y: \\\"\"\n";
        let e = load_in(dir.path(), text, &[], &[]).expect_err("refused");
        assert!(e.join("\n").contains("common_module_name"), "{e:?}");
    }

    #[test]
    fn a_module_naming_an_in_queue_flow_comes_after_it() {
        let dir = tempfile::tempdir().expect("dir");
        module_file(
            dir.path(),
            "m.yaml",
            "    - transferToAcd:\n        name: To pool\n        targetQueue:\n          lit:\n            name: Pool\n        overrideInQueueFlow:\n          name: Pool Waiting\n",
        );
        std::fs::write(
            dir.path().join("q.yaml"),
            "inqueueCall:\n  name: Pool Waiting\n  startUpTaskActions:\n    - transferToAcd:\n        name: Escalate\n        targetQueue:\n          lit:\n            name: Pool\n        overrideInQueueFlow:\n          name: Last Resort\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("r.yaml"),
            "inqueueCall:\n  name: Last Resort\n  startUpTaskActions:\n    - disconnect:\n        name: Bye\n",
        )
        .expect("write");
        let text = "modules:\n  - file: m.yaml\n    substitutions:\n      common_module_name: Router\nflows:\n  - file: q.yaml\n  - file: r.yaml\n";
        let m = load_in(dir.path(), text, &[], &[]).expect("loads");
        let order: Vec<&str> = m.items().map(|i| i.doc.name.as_str()).collect();
        assert_eq!(order, ["Last Resort", "Pool Waiting", "Router"]);
    }

    #[test]
    fn key_line_finds_list_items_and_nested_keys() {
        let text = "flows:\n  - name: X\n    modlues: [A]\n";
        assert_eq!(key_line(text, "modlues"), Some(3));
        assert_eq!(key_line(text, "name"), Some(2));
        assert_eq!(key_line(text, "absent"), None);
    }
}

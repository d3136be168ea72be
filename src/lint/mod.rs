//! Architect-aware lint: checks Architect YAML offline against a catalogue of the
//! vocabulary learned from real, public exports (`catalogue.yaml`), and reports every problem
//! at once with its line, column, rule and, for a misspelling, the word meant.
//!
//! The first rule is no false alarm on a real export: what the catalogue does not know is a
//! note, and only a near miss of a known word (one edit, or a case change) is an error.
//! Errors are things Architect itself would refuse: an unknown flow type, a misspelt action or
//! field, a missing required field, a value in the wrong shape, a duplicate `refId`, a
//! reference into the file that resolves nowhere, an input a called module does not declare.

pub mod catalogue;
pub(crate) mod expr;
pub(crate) mod node;
pub(crate) mod placeholders;

use crate::error::{Error, Result};
use catalogue::{near, Catalogue, FieldKind};
use node::{Kind, Node};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// How bad a problem is: errors fail lint (exit 2) and stop plan/apply; warnings do not.
/// A note says what lint could not judge (a word not in the catalogue): never a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// What lint cannot know (a word or an expression's function newer than the
    /// catalogue): listed by [`Linted::notes`], never a warning.
    Note,
}

/// One problem, where it is and what rule found it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    pub severity: Severity,
    pub rule: &'static str,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl Diagnostic {
    /// `file:line:col: error[rule]: message (did you mean `x`?)`
    pub(crate) fn render(&self, file: &str) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let hint = self
            .suggestion
            .as_ref()
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        format!(
            "{file}:{}:{}: {sev}[{}]: {}{hint}",
            self.line, self.column, self.rule, self.message
        )
    }
}

/// What a flow references outside itself: each must exist (or be published) in the org.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct References {
    pub(crate) modules: BTreeSet<String>,
    pub(crate) bot_flows: BTreeSet<String>,
    /// `overrideInQueueFlow` of a queue transfer.
    pub(crate) in_queue_flows: BTreeSet<String>,
    pub(crate) queues: BTreeSet<String>,
    pub(crate) schedule_groups: BTreeSet<String>,
    pub(crate) data_tables: BTreeSet<String>,
    /// `category/action`.
    pub(crate) data_actions: BTreeSet<String>,
    pub(crate) prompts: BTreeSet<String>,
}

impl References {
    /// `modules [A], queues [Q]`, naming only the kinds present.
    pub(crate) fn summary(&self) -> String {
        let kinds: [(&str, &BTreeSet<String>); 8] = [
            ("modules", &self.modules),
            ("bot flows", &self.bot_flows),
            ("in-queue flows", &self.in_queue_flows),
            ("queues", &self.queues),
            ("schedule groups", &self.schedule_groups),
            ("data tables", &self.data_tables),
            ("data actions", &self.data_actions),
            ("prompts", &self.prompts),
        ];
        let parts: Vec<String> = kinds
            .iter()
            .filter(|(_, s)| !s.is_empty())
            .map(|(k, s)| format!("{k} [{}]", s.iter().cloned().collect::<Vec<_>>().join(", ")))
            .collect();
        if parts.is_empty() {
            "no references".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A `callCommonModule` and the inputs it passes, with where each is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModuleCall {
    pub(crate) module: String,
    pub(crate) inputs: Vec<(String, usize, usize)>,
}

/// A flow that a flow calls by name (`callCommonModule`, `callBotFlow`, ...), and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// `common module`, `bot flow`.
    pub(crate) kind: &'static str,
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// The result of linting one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Linted {
    pub flow_type: Option<String>,
    pub name: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub(crate) references: References,
    /// For a common module: the names of its input variables (`isInput: true`).
    pub(crate) module_inputs: Option<BTreeSet<String>>,
    pub(crate) calls: Vec<ModuleCall>,
    pub(crate) targets: Vec<Target>,
}

impl Linted {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    pub fn notes(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Note)
    }

    pub fn ok(&self) -> bool {
        self.errors().next().is_none()
    }
}

/// Deepest block nesting walked; deeper parts are skipped with a warning (no stack overflow).
const MAX_DEPTH: usize = 200;
/// Largest file a `ref:` may point at.
const MAX_REF_FILE: u64 = 16 * 1024 * 1024;

/// Lints substituted Architect YAML. `base` is the directory `ref:` file paths are relative
/// to (`None`: such references are not followed, and a warning says so).
pub fn lint_yaml(text: &str, base: Option<&Path>) -> Linted {
    match catalogue::get() {
        Ok(cat) => lint_yaml_with(text, base, cat),
        Err(e) => {
            let mut out = Linted::default();
            out.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                rule: "catalogue",
                line: 1,
                column: 1,
                message: format!(
                    "flowctl's own catalogue cannot be read ({e}); please report this"
                ),
                suggestion: None,
            });
            out
        }
    }
}

/// [`lint_yaml`] against another catalogue (tests, or measuring a catalogue built from fewer
/// exports).
pub fn lint_yaml_with(text: &str, base: Option<&Path>, cat: &Catalogue) -> Linted {
    let mut out = Linted::default();
    let err = |rule, line, column, message: String| Diagnostic {
        severity: Severity::Error,
        rule,
        line,
        column,
        message,
        suggestion: None,
    };
    if let Some((line, column)) = crate::flow::read::too_deep(text) {
        out.diagnostics.push(err(
            "yaml-syntax",
            line,
            column,
            format!(
                "malformed YAML: brackets nest deeper than {} levels",
                crate::flow::read::MAX_NESTING
            ),
        ));
        return out;
    }
    // Architect YAML has no tags, and the YAML reader would drop one silently.
    if let Some((tag, line)) = crate::flow::read::first_tag_in(text) {
        out.diagnostics.push(err(
            "yaml-tag",
            line,
            1,
            format!("YAML tag `{tag}` on line {line} is not Architect YAML; remove it (flowctl never drops a tag silently)"),
        ));
        return out;
    }
    // yaml_serde decides what parses, as everywhere else in flowctl.
    let value: yaml_serde::Value = match yaml_serde::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            out.diagnostics.push(err(
                "yaml-syntax",
                line,
                column,
                format!("malformed YAML: {e}"),
            ));
            return out;
        }
    };
    let root = match node::parse(text) {
        Ok(Some(root)) => root,
        // The position parser disagrees: check anyway, without exact positions.
        _ => node::from_value(&value, 1),
    };
    let mut ctx = Ctx {
        cat,
        base,
        out: &mut out,
        flow_key: String::new(),
        body: None,
    };
    ctx.flow(&root);
    expr::check_file(&root, &mut out.diagnostics);
    out.diagnostics.sort_by_key(|d| (d.line, d.column));
    out
}

/// The kind of flow a call of `kind` names, from a flow type's YAML key.
fn target_kind(flow_key: &str) -> Option<&'static str> {
    match flow_key {
        "commonModule" => Some("common module"),
        "botFlow" => Some("bot flow"),
        "digitalBot" => Some("digital bot flow"),
        _ => None,
    }
}

/// Whether `wanted` looks like a misspelling of `defined`: one edit or a case change (as
/// everywhere in lint), or two edits in a name of ten characters or more.
fn near_name<'a>(wanted: &str, defined: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let defined: Vec<&str> = defined.into_iter().collect();
    near(wanted, defined.iter().copied()).or_else(|| {
        defined
            .iter()
            .copied()
            .filter(|d| {
                wanted.chars().count() >= 10
                    && strsim::osa_distance(&d.to_lowercase(), &wanted.to_lowercase()) <= 2
            })
            .min_by_key(|d| strsim::osa_distance(d, wanted))
    })
}

/// Checks the files against each other (a manifest, or the files given to one `lint`):
/// every `callCommonModule` input against the inputs the module declares, and every called
/// module or bot flow that none of the files defines but that is a near miss of one they do.
/// A name close to nothing defined is not judged: it may well exist in the org.
pub(crate) fn cross_check(files: &mut [Linted]) {
    let mut defined: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for f in files.iter() {
        let kind = f.flow_type.as_deref().and_then(target_kind);
        if let (Some(kind), Some(name)) = (kind, &f.name) {
            defined.entry(kind).or_default().insert(name.clone());
        }
    }
    for f in files.iter_mut() {
        let mut found = Vec::new();
        for t in &f.targets {
            let Some(names) = defined.get(t.kind) else {
                continue;
            };
            if names.contains(&t.name) {
                continue;
            }
            if let Some(s) = near_name(&t.name, names.iter().map(String::as_str)) {
                found.push(Diagnostic {
                    severity: Severity::Error,
                    rule: "unknown-target",
                    line: t.line,
                    column: t.column,
                    message: format!(
                        "{} '{}' is none of the files linted with it, and one of them is '{s}'",
                        t.kind, t.name
                    ),
                    suggestion: Some(s.to_string()),
                });
            }
        }
        f.diagnostics.extend(found);
    }
    let mut declared: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    for f in files.iter() {
        if let (Some(name), Some(inputs)) = (&f.name, &f.module_inputs) {
            // Two modules of one name: which one is called is not known, so neither is judged.
            declared
                .entry(name.clone())
                .and_modify(|e| *e = None)
                .or_insert_with(|| Some(inputs.clone()));
        }
    }
    for f in files.iter_mut() {
        let mut found = Vec::new();
        for call in &f.calls {
            let Some(Some(inputs)) = declared.get(&call.module) else {
                continue;
            };
            for (input, line, column) in &call.inputs {
                if inputs.contains(input) {
                    continue;
                }
                let listed: Vec<&str> = inputs.iter().map(String::as_str).collect();
                found.push(Diagnostic {
                    severity: Severity::Error,
                    rule: "undeclared-module-input",
                    line: *line,
                    column: *column,
                    message: format!(
                        "common module '{}' declares no input `{input}` (its inputs: {})",
                        call.module,
                        if listed.is_empty() {
                            "none".to_string()
                        } else {
                            listed.join(", ")
                        }
                    ),
                    suggestion: near(input, listed.iter().copied()).map(str::to_string),
                });
            }
        }
        f.diagnostics.extend(found);
        f.diagnostics.sort_by_key(|d| (d.line, d.column));
    }
}

/// Lints every flow of a loaded manifest (files and built-in templates, substitutions
/// applied). Warnings are logged; any error refuses with exit 2 before any request.
pub(crate) fn check_manifest_files(manifest: &crate::manifest::Manifest) -> Result<()> {
    let reports = lint_manifest(manifest);
    let mut errors = Vec::new();
    for f in &reports {
        for w in f.linted.warnings() {
            tracing::warn!("{} ({})", w.render(&f.file), f.origin);
        }
        errors.extend(
            f.linted
                .errors()
                .map(|e| format!("{} ({})", e.render(&f.file), f.origin)),
        );
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::input(
        format!(
            "{} problem{} in the manifest's flows:\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n  ")
        ),
        Some(format!(
            "fix them (`flowctl lint -f {}` lists them) and run again; nothing was sent to Genesys Cloud",
            manifest.path.display()
        )),
    ))
}

/// Each manifest item's label and its lint. A flow read from a file is labelled with the
/// file's path (so `path:line:column` points into it); a built-in template with the
/// manifest and the entry (`flows.yaml: flows[1] 'Name' (built-in template)`).
pub(crate) fn lint_manifest(manifest: &crate::manifest::Manifest) -> Vec<ManifestFlow> {
    let dir = manifest
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // `modules[i].file` / `flows[i].file` from the manifest itself: the loaded items keep
    // only their origin (`flows[0] 'Name'`).
    let raw: yaml_serde::Value = std::fs::read_to_string(&manifest.path)
        .ok()
        .and_then(|t| yaml_serde::from_str(&t).ok())
        .unwrap_or_default();
    let file_of = |origin: &str| -> Option<PathBuf> {
        let (list, rest) = origin.split_once('[')?;
        let (index, _) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        let file = raw.get(list)?.get(index)?.get("file")?.as_str()?;
        Some(dir.join(file))
    };
    let mut labels = Vec::new();
    let mut reports = Vec::new();
    for item in manifest.items() {
        let (label, base) = match file_of(&item.origin) {
            Some(path) => (
                path.display().to_string(),
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
            ),
            None => (
                format!("{} (built-in template)", manifest.path.display()),
                dir.clone(),
            ),
        };
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        labels.push((label, item.origin.clone()));
        reports.push(lint_yaml(&item.doc.yaml, Some(&base)));
    }
    cross_check(&mut reports);
    labels
        .into_iter()
        .zip(reports)
        .map(|((file, origin), linted)| ManifestFlow {
            file,
            origin,
            linted,
        })
        .collect()
}

/// One flow of a manifest, linted.
#[derive(Debug, Clone)]
pub(crate) struct ManifestFlow {
    /// The file it was read from, or the manifest for a built-in template.
    pub(crate) file: String,
    /// The manifest entry: `flows[0] 'Name'`.
    pub(crate) origin: String,
    pub(crate) linted: Linted,
}

struct Ctx<'a, 'o> {
    cat: &'a Catalogue,
    base: Option<&'a Path>,
    out: &'o mut Linted,
    flow_key: String,
    body: Option<&'a Node>,
}

impl<'a> Ctx<'a, '_> {
    fn push(
        &mut self,
        severity: Severity,
        rule: &'static str,
        n: &Node,
        message: String,
        suggestion: Option<&str>,
    ) {
        self.out.diagnostics.push(Diagnostic {
            severity,
            rule,
            line: n.line,
            column: n.column,
            message,
            suggestion: suggestion.map(str::to_string),
        });
    }

    fn error(&mut self, rule: &'static str, n: &Node, message: String) {
        self.push(Severity::Error, rule, n, message, None);
    }

    fn warn(&mut self, rule: &'static str, n: &Node, message: String) {
        self.push(Severity::Warning, rule, n, message, None);
    }

    fn note(&mut self, rule: &'static str, n: &Node, message: String) {
        self.push(Severity::Note, rule, n, message, None);
    }

    /// An unknown word: an error with the known word when it is a near miss, else a note
    /// (unknown is not wrong: the catalogue is learned from a sample of real exports).
    fn unknown<'c>(
        &mut self,
        rule: &'static str,
        n: &Node,
        word: &str,
        what: &str,
        known: impl IntoIterator<Item = &'c str>,
    ) {
        match near(word, known) {
            Some(s) => self.push(
                Severity::Error,
                rule,
                n,
                format!("unknown {what} `{word}`"),
                Some(s),
            ),
            None => self.push(
                Severity::Note,
                rule,
                n,
                format!(
                    "{what} `{word}` is not in flowctl's catalogue (it may still be valid; see README, Lint)"
                ),
                None,
            ),
        }
    }

    fn flow(&mut self, root: &'a Node) {
        if !root.is_map() {
            self.error(
                "flow-shape",
                root,
                "an Architect flow file is a mapping with one key, the flow type (e.g. `inboundCall:`)".into(),
            );
            return;
        }
        let entries = root.entries();
        if entries.len() != 1 {
            self.error(
                "flow-shape",
                root,
                format!(
                    "expected exactly one top-level key (the flow type), found {}; a manifest is linted with `flowctl lint -f FILE`",
                    entries.len()
                ),
            );
        }
        let Some((key, body)) = entries.first() else {
            return;
        };
        let Some(flow_key) = key.as_str() else {
            self.error(
                "flow-shape",
                key,
                "the flow type must be a plain key".into(),
            );
            return;
        };
        self.flow_key = flow_key.to_string();
        let cat = self.cat;
        let entry = cat.flow_types.get(flow_key);
        if entry.is_none() {
            let learned = cat.flow_types.keys().map(String::as_str);
            if let Some(s) = near(flow_key, learned) {
                self.push(
                    Severity::Error,
                    "unknown-flow-type",
                    key,
                    format!("unknown flow type `{flow_key}` (flow types are case-sensitive)"),
                    Some(s),
                );
            } else if cat.unlearned_flow_types.iter().any(|t| t == flow_key)
                || crate::models::FlowType::parse_any(flow_key).is_some()
            {
                // A flow type the API has (its wire name, in any case) but the catalogue
                // has no export of: unknown is not wrong.
                self.note(
                    "unlearned-flow-type",
                    key,
                    format!("flowctl's catalogue has no export of a `{flow_key}` flow: only the generic checks ran"),
                );
            } else {
                let all: Vec<&str> = cat.flow_types.keys().map(String::as_str).collect();
                self.error(
                    "unknown-flow-type",
                    key,
                    // Quoted only when it is a word: a file that is no Architect YAML
                    // at all (a password file given by mistake) must not land in a CI log.
                    match crate::flow::read::shown_key(flow_key) {
                        Some(k) => format!(
                            "unknown flow type `{k}`; expected one of: {}",
                            all.join(", ")
                        ),
                        None => format!(
                            "the top-level key is not a flow type (not shown: it is no word); expected one of: {}",
                            all.join(", ")
                        ),
                    },
                );
                return;
            }
        }
        self.out.flow_type = Some(flow_key.to_string());
        if !body.is_map() {
            self.error(
                "flow-shape",
                body,
                format!("`{flow_key}` must be a mapping with the flow's settings"),
            );
            return;
        }
        self.body = Some(body);
        match body.get("name").and_then(Node::as_str) {
            Some(name) if !name.trim().is_empty() => {
                self.out.name = Some(name.to_string());
                if let Some(m) = crate::flow::graph::name_problem(name) {
                    let n = body.get("name").unwrap_or(body);
                    self.error("flow-name", n, format!("flow {m}"));
                }
            }
            _ => self.error(
                "missing-field",
                key,
                format!("`{flow_key}.name` is missing or not text"),
            ),
        }
        for (k, v) in body.entries() {
            let Some(name) = k.as_str() else { continue };
            let known = entry.is_some_and(|e| e.keys.iter().any(|x| x == name))
                || cat.common_keys.iter().any(|x| x == name);
            if !known && entry.is_some() {
                let words = entry
                    .map(|e| e.keys.iter())
                    .into_iter()
                    .flatten()
                    .chain(cat.common_keys.iter())
                    .map(String::as_str);
                self.unknown(
                    "unknown-flow-key",
                    k,
                    name,
                    &format!("`{flow_key}` setting"),
                    words,
                );
            }
            if name.starts_with("settings") {
                self.settings(name, v);
            }
            match name {
                "startUpTaskActions" => self.actions(v, 0),
                "variables" if flow_key == "commonModule" => self.module_inputs(v),
                "startUpRef" => self.internal_ref(v, "startUpRef", None),
                _ => {
                    if let Some(item) = container_item(v) {
                        self.container(name, item, v);
                    } else if name != "settingsActionDefaults" {
                        self.descend(v, 1);
                    }
                }
            }
        }
        let has_start_lists = ["tasks", "menus", "states", "bots"]
            .iter()
            .any(|l| body.get(l).is_some());
        if has_start_lists
            && body.get("startUpRef").is_none()
            && body.get("startUpTaskActions").is_none()
        {
            self.error(
                "missing-start",
                key,
                "`startUpRef` is missing: say which task, menu, state or bot the flow starts in"
                    .into(),
            );
        }
        if flow_key == "commonModule" {
            if let Some(name) = self.out.name.clone() {
                if self.out.references.modules.contains(&name) {
                    self.error(
                        "module-calls-itself",
                        key,
                        format!("module '{name}' calls itself"),
                    );
                }
            }
        }
    }

    /// The keys of a flow-level `settings*` block (and of `errorHandling` in
    /// `settingsErrorHandling`): a near miss of a known key is an error, any other unknown
    /// key a note. `settingsActionDefaults` is keyed by action names.
    fn settings(&mut self, block: &str, v: &Node) {
        let cat = self.cat;
        let check =
            |ctx: &mut Self, what: &str, v: &Node, known: &mut dyn Iterator<Item = &str>| {
                let known: Vec<&str> = known.collect();
                for (k, _) in v.entries() {
                    let Some(key) = k.as_str() else { continue };
                    if !known.contains(&key) {
                        ctx.unknown("unknown-setting", k, key, what, known.iter().copied());
                    }
                }
            };
        if block == "settingsActionDefaults" {
            let what = "`settingsActionDefaults` action";
            check(self, what, v, &mut cat.actions.keys().map(String::as_str));
            return;
        }
        let Some(entry) = cat.settings.get(block) else {
            return;
        };
        check(
            self,
            &format!("`{block}` key"),
            v,
            &mut entry.keys.iter().map(String::as_str),
        );
        if let (Some(eh), Some(known)) = (v.get("errorHandling"), cat.settings.get("errorHandling"))
        {
            let what = format!("`{block}.errorHandling` key");
            check(self, &what, eh, &mut known.keys.iter().map(String::as_str));
        }
    }

    /// `tasks: [- task: {...}]` and the like: item keys, duplicate `refId`s, the actions.
    fn container(&mut self, list: &str, item_key: &str, v: &'a Node) {
        let cat = self.cat;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for item in v.items() {
            let Some((_, _, body)) = item.single() else {
                continue;
            };
            for (k, val) in body.entries() {
                let Some(name) = k.as_str() else { continue };
                if let Some(c) = cat.containers.get(item_key) {
                    if !c.keys.iter().any(|x| x == name) {
                        let words = c.keys.iter().map(String::as_str);
                        self.unknown(
                            "unknown-field",
                            k,
                            name,
                            &format!("`{item_key}` key"),
                            words,
                        );
                    }
                }
                match name {
                    "actions" => self.actions(val, 0),
                    "choices" => self.actions(val, 0),
                    "refId" => {
                        if let Some(id) = val.as_str() {
                            if let Some(first) = seen.insert(id.to_string(), val.line) {
                                self.error(
                                    "duplicate-refid",
                                    val,
                                    format!("refId '{id}' is used twice in `{list}` (first on line {first})"),
                                );
                            }
                        }
                    }
                    "defaultChildMenuRef" => self.internal_ref(val, name, Some(body)),
                    _ => self.descend(val, 1),
                }
            }
        }
    }

    /// A list of actions (`actions:`, `startUpTaskActions:`, a menu's `choices:`).
    fn actions(&mut self, v: &'a Node, depth: usize) {
        if depth > MAX_DEPTH {
            self.warn(
                "too-deep",
                v,
                format!("actions nest deeper than {MAX_DEPTH} levels: not checked further"),
            );
            return;
        }
        let cat = self.cat;
        for item in v.items() {
            let Some((k, name, body)) = item.single() else {
                if item.is_map() || matches!(item.kind, Kind::Scalar(_)) {
                    self.error(
                        "action-shape",
                        item,
                        "each action is a mapping with one key, the action's type (e.g. `- playAudio:`)".into(),
                    );
                }
                continue;
            };
            if name == "ref" {
                self.external_ref(body);
                continue;
            }
            let Some(entry) = cat.actions.get(name) else {
                self.unknown(
                    "unknown-action",
                    k,
                    name,
                    "action",
                    cat.actions.keys().map(String::as_str),
                );
                self.descend(body, depth + 1);
                continue;
            };
            if let Some(fields) = &entry.fields {
                let has_ref = body.get("ref").is_some();
                for (fk, fv) in body.entries() {
                    let Some(field) = fk.as_str() else { continue };
                    match fields.get(field) {
                        Some(kind) => self.shape(name, field, *kind, fv),
                        None if field == "ref" => {}
                        None => self.unknown(
                            "unknown-field",
                            fk,
                            field,
                            &format!("`{name}` field"),
                            fields.keys().map(String::as_str),
                        ),
                    }
                }
                if !has_ref && body.is_map() {
                    for r in &entry.required {
                        if body.get(r).is_none() {
                            self.error("missing-field", k, format!("`{name}` needs `{r}`"));
                        }
                    }
                }
            }
            self.references(name, body);
            self.descend(body, depth + 1);
        }
    }

    /// A `value`/`audio` field must be a mapping holding one of its wrappers.
    fn shape(&mut self, action: &str, field: &str, kind: FieldKind, v: &Node) {
        let wrappers = self.cat.wrappers(kind);
        if wrappers.is_empty() {
            return;
        }
        let list = wrappers.join("`, `");
        match &v.kind {
            Kind::Map(entries) => {
                let keys: Vec<(&Node, &str)> =
                    entries.iter().filter_map(|(k, _)| Some((k, k.as_str()?))).collect();
                if keys.iter().any(|(_, k)| wrappers.iter().any(|w| w == k)) {
                    return;
                }
                let near_miss = keys
                    .iter()
                    .find_map(|(n, k)| Some((*n, *k, near(k, wrappers.iter().map(String::as_str))?)));
                match near_miss {
                    Some((n, k, s)) => self.push(
                        Severity::Error,
                        "value-shape",
                        n,
                        format!("`{action}.{field}` takes `{list}`, not `{k}`"),
                        Some(s),
                    ),
                    None => self.note(
                        "value-shape",
                        v,
                        format!("`{action}.{field}` is usually one of `{list}`; this shape is not in the catalogue"),
                    ),
                }
            }
            Kind::Scalar(s) => self.error(
                "value-shape",
                v,
                format!(
                    "`{action}.{field}` is a bare value '{s}': Architect wants it wrapped, e.g. `{field}: {{ lit: {s} }}` or `exp:` ({list})"
                ),
            ),
            // A list is not a typo: some fields take one (`acdSkills`), so it is only a note.
            Kind::Seq(_) => self.note(
                "value-shape",
                v,
                format!("`{action}.{field}` is usually one of `{list}`, not a list; this shape is not in the catalogue"),
            ),
            Kind::Alias => {}
        }
    }

    /// Walks any value for nested action lists, in-file references, `ref:`s and prompts.
    fn descend(&mut self, v: &'a Node, depth: usize) {
        if depth > MAX_DEPTH {
            self.warn(
                "too-deep",
                v,
                format!("the file nests deeper than {MAX_DEPTH} levels: not checked further"),
            );
            return;
        }
        match &v.kind {
            Kind::Map(entries) => {
                for (k, child) in entries {
                    match k.as_str() {
                        Some("actions") if matches!(child.kind, Kind::Seq(_)) => {
                            self.actions(child, depth + 1)
                        }
                        Some(r @ ("targetTaskRef" | "targetMenuRef" | "defaultChildMenuRef")) => {
                            self.internal_ref(child, r, Some(v))
                        }
                        Some("ref") if child.as_str().is_some() => self.external_ref(child),
                        _ => self.descend(child, depth + 1),
                    }
                }
            }
            Kind::Seq(items) => {
                for i in items {
                    self.descend(i, depth + 1);
                }
            }
            Kind::Scalar(s) => prompts(s, &mut self.out.references.prompts),
            Kind::Alias => {}
        }
    }

    /// `/inboundCall/tasks/task[refId]` or `./menus/menu[refId]` must name an item of this file.
    /// A `./` path is looked up in `scope` (the enclosing menu or action) first, then in the
    /// flow: real exports use both (`defaultChildMenuRef: ./choices/menuJumpToTask[..]`).
    fn internal_ref(&mut self, v: &Node, field: &str, scope: Option<&Node>) {
        let Some(r) = v.as_str() else {
            self.error(
                "unresolved-ref",
                v,
                format!(
                    "`{field}` must be a path like `/{}/tasks/task[refId]`",
                    self.flow_key
                ),
            );
            return;
        };
        let key = self.flow_key.clone();
        let relative = r.starts_with("./");
        let rest = r
            .strip_prefix(&format!("/{key}/"))
            .or_else(|| r.strip_prefix("./"));
        let parsed = rest.and_then(|rest| {
            let (list, tail) = rest.split_once('/')?;
            let (item, id) = tail.split_once('[')?;
            Some((list, item, id.strip_suffix(']')?))
        });
        let Some((list, item, wanted)) = parsed else {
            self.error(
                "unresolved-ref",
                v,
                format!("`{field}` '{r}' is not a path like `/{key}/tasks/task[refId]` or `./menus/menu[refId]`"),
            );
            return;
        };
        let scopes = [scope.filter(|_| relative), self.body];
        let ids: Vec<&str> = scopes
            .into_iter()
            .flatten()
            .filter_map(|b| b.get(list))
            .flat_map(Node::items)
            .filter_map(|e| e.get(item)?.get("refId")?.as_str())
            .collect();
        if ids.contains(&wanted) {
            return;
        }
        let close = ids
            .iter()
            .copied()
            .filter(|id| strsim::osa_distance(id, wanted) <= 2)
            .min_by_key(|id| strsim::osa_distance(id, wanted));
        self.push(
            Severity::Error,
            "unresolved-ref",
            v,
            format!("`{field}` '{r}' resolves to no {item} in `{list}` with refId '{wanted}'"),
            close.map(|c| format!("{item}[{c}]")).as_deref(),
        );
    }

    /// `ref: file.yaml#/actions/playAudio[refId]`: a reusable piece in another file.
    fn external_ref(&mut self, v: &Node) {
        let Some(r) = v.as_str() else { return };
        let Some(base) = self.base else {
            self.warn(
                "unchecked-ref",
                v,
                format!("`ref` '{r}' was not followed: the file's directory is unknown"),
            );
            return;
        };
        let (file, fragment) = r.split_once('#').unwrap_or((r, ""));
        let path = base.join(file);
        let text = match std::fs::metadata(&path) {
            Ok(m) if m.len() > MAX_REF_FILE => {
                self.error(
                    "unresolved-ref",
                    v,
                    format!("`ref` '{r}': {} is too large", path.display()),
                );
                return;
            }
            Ok(_) => std::fs::read_to_string(&path),
            Err(e) => Err(e),
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                self.error(
                    "unresolved-ref",
                    v,
                    format!("`ref` '{r}': cannot read {}: {e}", path.display()),
                );
                return;
            }
        };
        if fragment.is_empty() {
            return;
        }
        // `/actions/inputAudio[audio_open_1]` (the shape of the public examples; unverified
        // beyond them: a fragment of another shape is not judged).
        let parsed = fragment.strip_prefix('/').and_then(|f| {
            let (list, tail) = f.split_once('/')?;
            let (item, id) = tail.split_once('[')?;
            Some((
                list.to_string(),
                item.to_string(),
                id.strip_suffix(']')?.to_string(),
            ))
        });
        let Some((list, item, id)) = parsed else {
            self.warn(
                "unchecked-ref",
                v,
                format!("`ref` '{r}': the part after `#` was not checked"),
            );
            return;
        };
        if crate::flow::read::too_deep(&text).is_some() {
            self.error(
                "unresolved-ref",
                v,
                format!("`ref` '{r}': {} nests too deep", path.display()),
            );
            return;
        }
        let found = match yaml_serde::from_str::<yaml_serde::Value>(&text) {
            Ok(doc) => doc
                .get(list.as_str())
                .and_then(yaml_serde::Value::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get(item.as_str())?.get("refId")?.as_str())
                .any(|x| x == id),
            Err(e) => {
                self.error(
                    "unresolved-ref",
                    v,
                    format!("`ref` '{r}': {} is not valid YAML: {e}", path.display()),
                );
                return;
            }
        };
        if !found {
            self.error(
                "unresolved-ref",
                v,
                format!(
                    "`ref` '{r}': {} has no `{item}` with refId '{id}' under `{list}`",
                    path.display()
                ),
            );
        }
    }

    /// A common module's `variables`: which are inputs.
    fn module_inputs(&mut self, v: &'a Node) {
        let mut inputs = BTreeSet::new();
        for item in v.items() {
            let Some((_, _, var)) = item.single() else {
                continue;
            };
            let is_input = var.get("isInput").and_then(Node::as_str) == Some("true");
            if let (true, Some(name)) = (is_input, var.get("name").and_then(Node::as_str)) {
                inputs.insert(name.to_string());
            }
        }
        self.out.module_inputs = Some(inputs);
        self.descend(v, 1);
    }

    /// What an action references outside the flow.
    fn references(&mut self, action: &str, body: &Node) {
        let lit_name = |n: Option<&Node>| {
            n.and_then(|q| q.get("lit"))
                .and_then(|l| l.get("name"))
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        let keys = |n: Option<&Node>| -> Vec<(String, Node)> {
            n.map(Node::entries)
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
                .collect()
        };
        let called = |field: &str, kind: &'static str| -> Vec<Target> {
            body.get(field)
                .map(Node::entries)
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, _)| {
                    Some(Target {
                        kind,
                        name: k.as_str()?.to_string(),
                        line: k.line,
                        column: k.column,
                    })
                })
                .collect()
        };
        match action {
            "callCommonModule" => self
                .out
                .targets
                .extend(called("commonModule", "common module")),
            "callBotFlow" => self.out.targets.extend(called("botFlow", "bot flow")),
            // The field's name is unverified (no export of this action was read here).
            "callDigitalBotFlow" => self.out.targets.extend(
                called("digitalBotFlow", "digital bot flow")
                    .into_iter()
                    .chain(called("botFlow", "digital bot flow")),
            ),
            _ => {}
        }
        let refs = &mut self.out.references;
        match action {
            "callCommonModule" => {
                for (module, target) in keys(body.get("commonModule")) {
                    let mut inputs = Vec::new();
                    for (_, version) in target.entries() {
                        for (k, _) in version.get("inputs").map(Node::entries).unwrap_or_default() {
                            if let Some(i) = k.as_str() {
                                inputs.push((i.to_string(), k.line, k.column));
                            }
                        }
                    }
                    refs.modules.insert(module.clone());
                    self.out.calls.push(ModuleCall { module, inputs });
                }
            }
            "callBotFlow" => refs
                .bot_flows
                .extend(keys(body.get("botFlow")).into_iter().map(|(k, _)| k)),
            "transferToAcd" | "menuTransferToAcd" => {
                refs.queues.extend(lit_name(body.get("targetQueue")));
                let in_queue = body.get("overrideInQueueFlow");
                refs.in_queue_flows.extend(
                    in_queue
                        .and_then(|f| f.get("name"))
                        .and_then(Node::as_str)
                        .map(str::to_string)
                        .or_else(|| lit_name(in_queue)),
                );
            }
            "evaluateScheduleGroup" => refs
                .schedule_groups
                .extend(lit_name(body.get("scheduleGroup"))),
            "dataTableLookup" => refs
                .data_tables
                .extend(keys(body.get("dataTable")).into_iter().map(|(k, _)| k)),
            "callData" => {
                for (category, c) in keys(body.get("category")) {
                    for (a, _) in c.get("dataAction").map(Node::entries).unwrap_or_default() {
                        if let Some(a) = a.as_str() {
                            refs.data_actions.insert(format!("{category}/{a}"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// The item key of a container list (`tasks: [- task: ...]`): `task`, `menu`, `state`, `bot`.
fn container_item(v: &Node) -> Option<&str> {
    let first = v.items().first()?.single()?.1;
    ["task", "menu", "state", "bot"]
        .into_iter()
        .find(|k| *k == first)
}

/// `Prompt.X`, `PromptSystem.x`, `PromptUser.x` named in a scalar (an expression or a value).
fn prompts(s: &str, out: &mut BTreeSet<String>) {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    // Split into runs of word characters; a prompt is a whole run.
    for word in s.split(|c: char| !is_word(c)) {
        let word = word.trim_end_matches('.');
        let Some((head, rest)) = word.split_once('.') else {
            continue;
        };
        if matches!(head, "Prompt" | "PromptSystem" | "PromptUser") && !rest.is_empty() {
            out.insert(word.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_found_in_expressions_and_values() {
        let mut p = BTreeSet::new();
        prompts(
            "ToAudio(Prompt.Welcome_1), PromptSystem.on_hold_music",
            &mut p,
        );
        prompts("NotAPrompt.x Prompt. PromptX.y", &mut p);
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        assert_eq!(p, ["Prompt.Welcome_1", "PromptSystem.on_hold_music"]);
    }
}

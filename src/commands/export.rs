//! `flowctl export`: bring flows that already run in an org under a manifest.
//!
//! It selects published flows (`--name/--type`, `--callers-of MODULE` through dependency
//! tracking, `--all-modules`), adds every module they call (so the manifest is complete),
//! reads their published content through batched export jobs, and writes each as an
//! Architect YAML file plus `DIR/flowctl.yaml` listing them, modules first. A `plan` of
//! that manifest against the same org is all `unchanged` (the drift check compares the
//! content), and an `apply` of it to another org recreates them.
//!
//! File names are derived, never taken as given: ASCII letters and digits of the name,
//! lower case, at most 48 characters, plus 8 hex digits of a hash of the type and the
//! exact name, so two names never share a file, on any OS. Nothing is overwritten without
//! `--force`: every target is checked before the first file is written.

use super::publish::kind;
use super::Session;
use crate::cli::{ExportArgs, GlobalArgs, SubstituteKind};
use crate::client::export::ExportTarget;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::compare::without_marker;
use crate::models::{Flow, FlowType};
use crate::output::Printer;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;
use yaml_serde::{Mapping, Value};

/// The manifest's file name inside `--out`.
pub(crate) const MANIFEST_FILE: &str = "flowctl.yaml";
/// The folder of the flow files inside `--out`.
const FLOWS_DIR: &str = "flows";
const EXPORT_TIMEOUT: Duration = Duration::from_secs(300);

/// One flow written.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Written {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    /// Relative to `--out`.
    pub(crate) file: String,
}

pub(crate) async fn run(args: &ExportArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let pairs = selection(args)?;
    let session = Session::connect(global).await?;
    let result = export(&session.client, args, &pairs).await;
    session.close().await;
    let (written, warnings) = result?;
    let manifest = args.out.join(MANIFEST_FILE);
    out.json(&serde_json::json!({
        "manifest": manifest.display().to_string(),
        "flows": written,
        "warnings": warnings,
    }));
    for w in &written {
        out.line(format!(
            "  exported {:<17} {}  -> {}",
            crate::output::type_name(w.flow_type),
            w.name,
            w.file
        ));
    }
    for w in &warnings {
        out.line(format!("warning: {w}"));
    }
    out.line(format!(
        "export: {} flow(s) and {} written; check with: flowctl plan -f {}",
        written.len(),
        manifest.display(),
        manifest.display()
    ));
    Ok(())
}

/// `--name` with `--type`: one type for every name, one per name, or none (any type).
fn selection(args: &ExportArgs) -> Result<Vec<(String, Option<FlowType>)>> {
    if args.names.is_empty() && args.callers_of.is_empty() && !args.all_modules {
        return Err(Error::input(
            "nothing to export",
            Some(
                "choose flows with --name NAME [--type TYPE], --callers-of MODULE or --all-modules"
                    .to_string(),
            ),
        ));
    }
    match (args.names.len(), args.types.len()) {
        (_, 0) => Ok(args.names.iter().map(|n| (n.clone(), None)).collect()),
        (_, 1) => Ok(args
            .names
            .iter()
            .map(|n| (n.clone(), args.types.first().copied()))
            .collect()),
        (n, t) if n == t => Ok(args
            .names
            .iter()
            .cloned()
            .zip(args.types.iter().copied().map(Some))
            .collect()),
        (n, t) => Err(Error::input(
            format!("{t} --type for {n} --name"),
            Some("give one --type for all names, or one per --name in the same order".to_string()),
        )),
    }
}

async fn export(
    client: &Client,
    args: &ExportArgs,
    pairs: &[(String, Option<FlowType>)],
) -> Result<(Vec<Written>, Vec<String>)> {
    // No `type=`: every type, as the Terraform provider lists (a `type=businessprocess`
    // is in neither the SDK's `get_flows` type enum nor `Flow.type`).
    let all = client.list_flows(&[]).await?;
    let by_id: HashMap<&str, &Flow> = all.iter().map(|f| (f.id.as_str(), f)).collect();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut chosen: BTreeMap<String, &Flow> = BTreeMap::new();

    for (name, t) in pairs {
        let found = super::resolve::named(&all, name, *t);
        match found.as_slice() {
            [f] => {
                chosen.insert(f.id.clone(), f);
            }
            [] => problems.push(format!(
                "no flow named '{name}'{} in the org",
                t.map(|t| format!(" of type {}", t.as_query()))
                    .unwrap_or_default()
            )),
            several => problems.push(format!(
                "'{name}' names {} flows ({}); add --type",
                several.len(),
                several
                    .iter()
                    .map(|f| f.flow_type.as_query())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    for module in &args.callers_of {
        let Some(m) = super::resolve::named_module(&all, module) else {
            problems.push(format!("no common module named '{module}' in the org"));
            continue;
        };
        chosen.insert(m.id.clone(), m);
        let index = client.dependency_build_status().await?;
        if !index.is_operational() {
            warnings.push(format!(
                "the dependency index is {}, so the callers of '{module}' may be incomplete; run export again when it is OPERATIONAL",
                index.status
            ));
        }
        let callers = client
            .consuming_resources(
                &m.id,
                FlowType::CommonModule
                    .object_type()
                    .unwrap_or("COMMONMODULEFLOW"),
                Some("published"),
            )
            .await?;
        for c in callers {
            match by_id.get(c.id.as_str()) {
                Some(f) => {
                    chosen.insert(f.id.clone(), f);
                }
                None => warnings.push(format!(
                    "dependency tracking lists '{}' ({}) as a caller of '{module}', but it is not in the org's flow listing; skipped",
                    c.name.as_deref().unwrap_or(&c.id),
                    c.object_type.as_deref().unwrap_or("flow")
                )),
            }
        }
    }
    if args.all_modules {
        for f in all.iter().filter(|f| f.flow_type == FlowType::CommonModule) {
            chosen.insert(f.id.clone(), f);
        }
    }
    if !problems.is_empty() {
        return Err(Error::input(
            format!("cannot export:\n  {}", problems.join("\n  ")),
            Some("nothing was written; names are exact and case-sensitive".to_string()),
        ));
    }

    // Read the content, then add the modules it calls until nothing is missing.
    let mut yaml: BTreeMap<String, String> = BTreeMap::new();
    let mut pending: Vec<&Flow> = chosen.values().copied().collect();
    let mut seen: BTreeSet<String> = chosen.keys().cloned().collect();
    while !pending.is_empty() {
        let mut targets = Vec::new();
        for f in pending.drain(..) {
            match ExportTarget::published(f) {
                Some(t) => targets.push(t),
                None => warnings.push(format!(
                    "{} '{}' was never published; skipped",
                    kind(f.flow_type),
                    f.name
                )),
            }
        }
        if targets.is_empty() {
            break;
        }
        let exported = client
            .export_flows(&targets, EXPORT_TIMEOUT)
            .await
            .map_err(|e| Error::from(e).context("exporting the flows"))?;
        if !exported.failures.is_empty() {
            return Err(Error::rejected(
                format!(
                    "the export job failed; nothing was written:\n  {}",
                    exported.failures.join("\n  ")
                ),
                Some("run again; if a flow was deleted meanwhile, leave it out".to_string()),
            ));
        }
        for t in &targets {
            let Some(text) = exported.yaml.get(&t.id) else {
                return Err(Error::rejected(
                    format!(
                        "the export job did not return {} '{}'; nothing was written",
                        kind(t.flow_type),
                        t.name
                    ),
                    Some("run again".to_string()),
                ));
            };
            let facts = crate::flow::read::facts(text, &t.name).map_err(|e| {
                Error::rejected(
                    format!(
                        "the export of {} '{}' cannot be read: {e}",
                        kind(t.flow_type),
                        t.name
                    ),
                    Some("nothing was written; export the other flows without it".to_string()),
                )
            })?;
            for module in facts.modules {
                match super::resolve::named_module(&all, &module) {
                    Some(m) if seen.insert(m.id.clone()) => pending.push(m),
                    Some(_) => {}
                    None => warnings.push(format!(
                        "'{}' calls the module '{module}', which is not in the org",
                        t.name
                    )),
                }
            }
            yaml.insert(t.id.clone(), text.clone());
        }
    }

    // Files, placeholders, the manifest.
    let mut substitutions: BTreeMap<String, String> = BTreeMap::new();
    let mut files: Vec<(Written, String, Vec<String>)> = Vec::new();
    for (id, text) in &yaml {
        let Some(f) = by_id.get(id.as_str()) else {
            continue;
        };
        let (text, calls) = adopt(text, &args.substitute, &mut substitutions, &mut warnings)
            .map_err(|e| {
                Error::rejected(format!("{} '{}': {e}", kind(f.flow_type), f.name), None)
            })?;
        files.push((
            Written {
                name: f.name.clone(),
                flow_type: f.flow_type,
                file: format!("{FLOWS_DIR}/{}", file_name(f.flow_type, &f.name)),
            },
            text,
            calls,
        ));
    }
    let order = modules_first(&files);
    let manifest = manifest_text(&order, &files, &substitutions)?;
    write_all(&args.out, &order, &files, &manifest, args.force)?;
    Ok((
        order.iter().map(|&i| files[i].0.clone()).collect(),
        warnings,
    ))
}

/// The exported YAML made a manifest file: flowctl's marker out of the description,
/// org-specific names turned into placeholders when asked. Returns the text and the
/// modules it calls.
fn adopt(
    text: &str,
    substitute: &[SubstituteKind],
    substitutions: &mut BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> std::result::Result<(String, Vec<String>), String> {
    let facts = crate::flow::read::facts(text, "the export").map_err(|e| e.to_string())?;
    let mut value: Value =
        yaml_serde::from_str(text).map_err(|e| format!("the export is not YAML: {e}"))?;
    let Some(body) = value
        .as_mapping_mut()
        .and_then(|top| top.iter_mut().next())
        .and_then(|(_, body)| body.as_mapping_mut())
    else {
        return Err("the export is not an Architect flow".into());
    };
    if let Some(d) = body.get("description").and_then(Value::as_str) {
        let d = without_marker(d);
        if d.is_empty() {
            body.shift_remove("description");
        } else {
            body.insert("description".into(), Value::String(d));
        }
    }
    if substitute.contains(&SubstituteKind::Division) {
        if let Some(d) = body
            .get("division")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            if let Some(p) = placeholder("division", &d, substitutions, warnings) {
                body.insert("division".into(), Value::String(p));
            }
        }
    }
    if substitute.contains(&SubstituteKind::Queue) {
        queue_placeholders(body, substitutions, warnings);
    }
    let text = yaml_serde::to_string(&value).map_err(|e| e.to_string())?;
    Ok((text, facts.modules))
}

/// Every literal `transferToAcd` queue name becomes a placeholder.
fn queue_placeholders(
    body: &mut Mapping,
    substitutions: &mut BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) {
    let mut stack: Vec<&mut Value> = body.values_mut().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Mapping(m) => {
                let name = m
                    .get_mut("transferToAcd")
                    .and_then(|t| t.get_mut("targetQueue"))
                    .and_then(|q| q.get_mut("lit"))
                    .and_then(|l| l.get_mut("name"));
                if let Some(Value::String(q)) = name {
                    if let Some(p) = placeholder("queue", q, substitutions, warnings) {
                        *q = p;
                    }
                }
                stack.extend(m.values_mut());
            }
            Value::Sequence(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// `{{queue_general_support}}` for `General Support`, its value recorded. A value that
/// text substitution could not put back safely (quotes, braces, line breaks, a leading
/// or trailing space) stays as it is, with a warning.
fn placeholder(
    prefix: &str,
    value: &str,
    substitutions: &mut BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    if value.is_empty()
        || value.trim() != value
        || value.contains(['\'', '"', '{', '}', '\n', '\r', '\\', '#'])
    {
        warnings.push(format!(
            "the {prefix} '{value}' was left as it is: its characters do not survive text substitution"
        ));
        return None;
    }
    if let Some((k, _)) = substitutions
        .iter()
        .find(|(k, v)| k.starts_with(prefix) && v.as_str() == value)
    {
        return Some(format!("{{{{{k}}}}}"));
    }
    let base = format!("{prefix}_{}", slug(value, 40));
    let mut key = base.clone();
    let mut n = 2;
    while substitutions.contains_key(&key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    substitutions.insert(key.clone(), value.to_string());
    Some(format!("{{{{{key}}}}}"))
}

/// Lower-case ASCII letters and digits, other runs as one `_`, at most `max` characters;
/// `flow` when nothing is left.
fn slug(name: &str, max: usize) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
        if out.len() >= max {
            break;
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "flow".into()
    } else {
        out
    }
}

/// `commonmodule-shared_greeting_module-1a2b3c4d.yaml`: safe on every OS (no separators,
/// no reserved names, no case clashes), unique per type and exact name.
pub fn file_name(flow_type: FlowType, name: &str) -> String {
    let hash = crate::digest::sha256_hex(format!("{}\n{name}", flow_type.as_wire()), 4);
    format!("{}-{}-{hash}.yaml", flow_type.as_query(), slug(name, 48))
}

/// Indexes of `files`: modules first, each after the modules it calls, then the rest.
fn modules_first(files: &[(Written, String, Vec<String>)]) -> Vec<usize> {
    let modules: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].0.flow_type == FlowType::CommonModule)
        .collect();
    let mut order: Vec<usize> = Vec::new();
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let module_names: BTreeSet<&str> = modules.iter().map(|&i| files[i].0.name.as_str()).collect();
    // Repeatedly place the modules whose module calls are all placed; a cycle (which
    // Architect would refuse anyway) ends the loop with the rest in listing order.
    loop {
        let before = order.len();
        for &i in &modules {
            let name = files[i].0.name.as_str();
            if placed.contains(name) {
                continue;
            }
            let ready = files[i].2.iter().all(|m| {
                m == name || !module_names.contains(m.as_str()) || placed.contains(m.as_str())
            });
            if ready {
                placed.insert(name);
                order.push(i);
            }
        }
        if order.len() == before {
            break;
        }
    }
    for &i in &modules {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    order.extend((0..files.len()).filter(|&i| files[i].0.flow_type != FlowType::CommonModule));
    order
}

#[derive(Serialize)]
struct ManifestOut<'a> {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    substitutions: &'a BTreeMap<String, String>,
    modules: Vec<Entry<'a>>,
    flows: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    name: &'a str,
    file: &'a str,
}

fn manifest_text(
    order: &[usize],
    files: &[(Written, String, Vec<String>)],
    substitutions: &BTreeMap<String, String>,
) -> Result<String> {
    let entry = |i: usize| Entry {
        name: &files[i].0.name,
        file: &files[i].0.file,
    };
    let m = ManifestOut {
        substitutions,
        modules: order
            .iter()
            .copied()
            .filter(|&i| files[i].0.flow_type == FlowType::CommonModule)
            .map(entry)
            .collect(),
        flows: order
            .iter()
            .copied()
            .filter(|&i| files[i].0.flow_type != FlowType::CommonModule)
            .map(entry)
            .collect(),
    };
    let body = yaml_serde::to_string(&m)
        .map_err(|e| Error::input(format!("cannot write the manifest: {e}"), None))?;
    Ok(format!(
        "# Written by `flowctl export`. Check it with `flowctl plan -f {MANIFEST_FILE}`:\n# against the org it came from, every flow is unchanged.\n{body}"
    ))
}

/// Writes every file, after checking that none exists (unless `force`).
fn write_all(
    out: &Path,
    order: &[usize],
    files: &[(Written, String, Vec<String>)],
    manifest: &str,
    force: bool,
) -> Result<()> {
    let mut targets: Vec<(PathBuf, &str)> = order
        .iter()
        .map(|&i| (out.join(&files[i].0.file), files[i].1.as_str()))
        .collect();
    targets.push((out.join(MANIFEST_FILE), manifest));
    if !force {
        let existing: Vec<String> = targets
            .iter()
            .filter(|(p, _)| p.exists())
            .map(|(p, _)| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(Error::input(
                format!(
                    "{} file(s) already exist:\n  {}",
                    existing.len(),
                    existing.join("\n  ")
                ),
                Some(
                    "nothing was written; choose another --out or pass --force to overwrite"
                        .to_string(),
                ),
            ));
        }
    }
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Io { path, source }
    };
    let flows = out.join(FLOWS_DIR);
    std::fs::create_dir_all(&flows).map_err(io(&flows))?;
    for (path, text) in targets {
        let mut open = std::fs::OpenOptions::new();
        open.write(true);
        if force {
            open.create(true).truncate(true);
        } else {
            open.create_new(true);
        }
        let mut file = open.open(&path).map_err(io(&path))?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct_whatever_the_flow_name() {
        let long = "é".repeat(200);
        let names = [
            "Shared Greeting Module",
            "a/b\\c:d*e?f\"g<h>i|j",
            "../../etc/passwd",
            "CON",
            "名前だけ",
            long.as_str(),
            "'quoted' \"name\"",
            "shared greeting module",
        ];
        let mut seen = BTreeSet::new();
        for n in names {
            let f = file_name(FlowType::InboundCall, n);
            assert!(f.len() <= 80, "{f}");
            assert!(
                f.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c)),
                "{f}"
            );
            assert!(f.starts_with("inboundcall-") && f.ends_with(".yaml"), "{f}");
            assert!(!f.contains(".."), "{f}");
            assert!(seen.insert(f), "two names share a file");
        }
        assert_ne!(
            file_name(FlowType::InboundCall, "X"),
            file_name(FlowType::CommonModule, "X")
        );
    }

    #[test]
    fn modules_come_first_each_after_the_modules_it_calls() {
        let w = |name: &str, t: FlowType, calls: &[&str]| {
            (
                Written {
                    name: name.into(),
                    flow_type: t,
                    file: String::new(),
                },
                String::new(),
                calls.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            )
        };
        let files = vec![
            w("Caller", FlowType::InboundCall, &["Outer"]),
            w("Outer", FlowType::CommonModule, &["Inner"]),
            w("Inner", FlowType::CommonModule, &[]),
        ];
        let names: Vec<&str> = modules_first(&files)
            .into_iter()
            .map(|i| files[i].0.name.as_str())
            .collect();
        assert_eq!(names, ["Inner", "Outer", "Caller"]);
    }

    #[test]
    fn placeholders_are_named_from_the_value_and_reused() {
        let mut subs = BTreeMap::new();
        let mut warnings = Vec::new();
        let p = placeholder("queue", "General Support", &mut subs, &mut warnings);
        assert_eq!(p.as_deref(), Some("{{queue_general_support}}"));
        let again = placeholder("queue", "General Support", &mut subs, &mut warnings);
        assert_eq!(again, p);
        let other = placeholder("queue", "general-support", &mut subs, &mut warnings);
        assert_eq!(other.as_deref(), Some("{{queue_general_support_2}}"));
        assert_eq!(placeholder("queue", "It's", &mut subs, &mut warnings), None);
        assert_eq!(warnings.len(), 1);
        assert_eq!(subs.len(), 2);
    }
}

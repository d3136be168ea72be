//! `flowctl plan` and the planner that `apply` runs first.
//!
//! The planner reads the org once per flow type (paged), checks what the manifest needs
//! from the org (modules it does not declare, queues, divisions) before anything changes,
//! and decides each flow's action:
//!
//! | action | when |
//! |---|---|
//! | `create` | no flow of that name and type exists |
//! | `update` | it exists but its published content differs (or it was never published) |
//! | `republish` | its content is unchanged, but a module it calls changes in this apply, or was published after it (Genesys copies a module into a caller only when the caller publishes) |
//! | `unchanged` | published with exactly this content: no job runs |
//!
//! **Drift** (on unless `--no-drift`): the content marker in the description is only the
//! cheap first check, because a flow edited in Architect's UI keeps it. `drift` reads
//! what the org publishes through export jobs (many flows per job) and compares it by
//! content: a flow changed in the org is `update`, and a flow whose marker is missing
//! (adopted with `flowctl export`) but whose content matches is `unchanged`. A flow whose
//! published version this OAuth client made with the marker's content is not exported
//! (nothing else has published it since) unless `--full-drift`.

use super::publish::{
    compare_exported, division_today, export_for_drift, is_stale, is_up_to_date, kind,
    published_by_us,
};
use super::{resolve, Session};
use crate::cli::{GlobalArgs, PlanArgs};
use crate::client::export::ExportTarget;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::compare::Comparison;
use crate::flow::FlowDocument;
use crate::manifest::{Item, Manifest};
use crate::models::{Division, Flow, FlowType};
use crate::output::Printer;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PlanAction {
    Create,
    Update,
    Republish,
    Unchanged,
}

impl PlanAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PlanAction::Create => "create",
            PlanAction::Update => "update",
            PlanAction::Republish => "republish",
            PlanAction::Unchanged => "unchanged",
        }
    }
}

/// One flow's planned action.
#[derive(Debug, Clone)]
pub struct Step {
    pub(crate) item: Item,
    pub action: PlanAction,
    pub(crate) reason: String,
    pub(crate) existing: Option<Flow>,
    /// Indexes of the steps (manifest modules) this one calls: they go first.
    pub(crate) deps: Vec<usize>,
    /// How the org's published content differs from the manifest's (drift check only).
    pub(crate) diff: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    /// Callers outside the manifest that will run an old copy of a changed module.
    pub(crate) warnings: Vec<String>,
    pub(crate) divisions: HashMap<String, Division>,
}

/// The JSON record of one action: `{"name","type","action","reason"}`.
#[derive(Debug, Serialize)]
pub(crate) struct ActionRecord<'a> {
    pub(crate) name: &'a str,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    pub(crate) action: PlanAction,
    pub(crate) reason: &'a str,
    /// How the org's content differs (a flow changed in the org; drift check only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) diff: Option<&'a str>,
}

impl Plan {
    pub(crate) fn records(&self) -> Vec<ActionRecord<'_>> {
        self.steps
            .iter()
            .map(|s| ActionRecord {
                name: &s.item.doc.name,
                flow_type: s.item.doc.flow_type,
                action: s.action,
                reason: &s.reason,
                diff: s.diff.as_deref(),
            })
            .collect()
    }

    pub(crate) fn count(&self, action: PlanAction) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }
}

pub(crate) async fn run(args: &PlanArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let manifest = args.manifest.load(global)?;
    crate::lint::check_manifest_files(&manifest)?;
    let session = Session::connect(global).await?;
    let options = PlanOptions {
        drift: !args.no_drift,
        full_drift: args.full_drift,
        new_flows: &args.new_flows,
    };
    let plan = make_plan_with(&session.client, &manifest, options).await;
    session.close().await;
    let plan = plan?;
    out.json(&serde_json::json!({ "actions": plan.records(), "warnings": plan.warnings, "substitutions": manifest.substitutions }));
    if out.format == crate::cli::OutputFormat::Markdown {
        // The table is the whole output: a CI job summary takes stdout, and the same plan
        // again on stderr would only double the log.
        out.raw(&markdown(&plan, &manifest.path.display().to_string()));
        return Ok(());
    }
    print_plan(&plan, out);
    print_substitutions(&manifest.substitutions, out);
    if args.diff || global.verbose > 0 {
        print_diffs(&plan, out);
    }
    Ok(())
}

/// `plan --diff`: how each drifted flow differs from the manifest.
pub(crate) fn print_diffs(plan: &Plan, out: Printer) {
    for s in &plan.steps {
        if let Some(diff) = &s.diff {
            out.line(format!(
                "--- {} '{}': published in the org vs the manifest",
                kind(s.item.doc.flow_type),
                s.item.doc.name
            ));
            out.line(diff.trim_end());
        }
    }
}

/// `--output markdown`: a table for a CI job summary.
pub(crate) fn markdown(plan: &Plan, manifest: &str) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut md = format!(
        "### flowctl plan: `{}`\n\n{} to create, {} to update, {} to republish, {} unchanged\n\n| action | type | flow | why |\n|---|---|---|---|\n",
        cell(manifest),
        plan.count(PlanAction::Create),
        plan.count(PlanAction::Update),
        plan.count(PlanAction::Republish),
        plan.count(PlanAction::Unchanged)
    );
    for s in &plan.steps {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            s.action.as_str(),
            crate::output::type_name(s.item.doc.flow_type),
            cell(&s.item.doc.name),
            cell(&s.reason)
        ));
    }
    for w in &plan.warnings {
        md.push_str(&format!("\n> **warning:** {}\n", cell(w)));
    }
    md
}

/// Each placeholder's value and where it came from (`--var`, `FLOWCTL_VAR_key`, a profile,
/// `substitutions`).
fn print_substitutions(subs: &[crate::manifest::Substitution], out: Printer) {
    for s in subs {
        out.line(format!(
            "substitution: {{{{{}}}}} = {:?} (from {})",
            s.key, s.value, s.source
        ));
    }
}

pub(crate) fn print_plan(plan: &Plan, out: Printer) {
    for s in &plan.steps {
        out.line(format!(
            "  {:<10} {:<17} {}  ({})",
            s.action.as_str(),
            crate::output::type_name(s.item.doc.flow_type),
            s.item.doc.name,
            s.reason
        ));
    }
    out.line(format!(
        "plan: {} to create, {} to update, {} to republish, {} unchanged",
        plan.count(PlanAction::Create),
        plan.count(PlanAction::Update),
        plan.count(PlanAction::Republish),
        plan.count(PlanAction::Unchanged)
    ));
    for w in &plan.warnings {
        out.line(format!("warning: {w}"));
    }
}

/// The org's flows of every type the manifest uses (and common modules), by type and name:
/// one paged listing, not a lookup per flow.
pub(crate) async fn org_flows(
    client: &Client,
    manifest: &Manifest,
) -> Result<HashMap<(FlowType, String), Flow>> {
    // Bot flows the manifest's flows call are read too: they must be published first.
    let called = manifest
        .items()
        .flat_map(|i| i.doc.flow_callees())
        .filter_map(|(_, t)| t);
    let types: BTreeSet<FlowType> = manifest
        .items()
        .map(|i| i.doc.flow_type)
        .chain([FlowType::CommonModule])
        .chain(called)
        .collect();
    let types: Vec<FlowType> = types.into_iter().collect();
    Ok(client
        .list_flows(&types)
        .await?
        .into_iter()
        .map(|f| ((f.flow_type, f.name.clone()), f))
        .collect())
}

/// How the planner reads the org.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanOptions<'a> {
    /// Compare the published content (export jobs), not only the description's marker.
    pub(crate) drift: bool,
    /// Export every flow, also those last published by this OAuth client with the content
    /// their marker names (`--full-drift`).
    pub(crate) full_drift: bool,
    /// Names the user said are new flows (`--new-flow`), though close to existing ones.
    pub(crate) new_flows: &'a [String],
}

impl Default for PlanOptions<'_> {
    fn default() -> Self {
        PlanOptions {
            drift: true,
            full_drift: false,
            new_flows: &[],
        }
    }
}

/// What the manifest's flows reference besides modules and queues, and neither the
/// manifest nor the org has: bot flows (published), flows they transfer to, schedule
/// groups, data tables, data actions and user prompts. Each problem names the flow, the
/// action and the missing thing, with close names. Lists each kind once, only if used.
async fn missing_references(
    client: &Client,
    manifest: &Manifest,
    existing: &HashMap<(FlowType, String), Flow>,
) -> Result<Vec<String>> {
    use crate::flow::RefKind;
    let mut problems = Vec::new();
    let mut listed: HashMap<RefKind, Vec<String>> = HashMap::new();
    let mut transfer_targets: HashMap<String, bool> = HashMap::new();
    for item in manifest.items() {
        for r in &item.doc.references {
            let (found, candidates): (bool, Vec<String>) = match r.kind {
                RefKind::BotFlow | RefKind::DigitalBotFlow | RefKind::InQueueFlow => {
                    let t = r.kind.flow_type();
                    let in_manifest = manifest
                        .items()
                        .any(|i| i.doc.name == r.name && Some(i.doc.flow_type) == t);
                    let in_org = t.is_some_and(|t| {
                        existing
                            .get(&(t, r.name.clone()))
                            .is_some_and(|f| f.published_version.is_some())
                    });
                    let names = existing
                        .keys()
                        .filter(|(ft, _)| Some(*ft) == t)
                        .map(|(_, n)| n.clone())
                        .chain(
                            manifest
                                .items()
                                .filter(|i| Some(i.doc.flow_type) == t)
                                .map(|i| i.doc.name.clone()),
                        )
                        .collect();
                    (in_manifest || in_org, names)
                }
                RefKind::Flow => {
                    let in_manifest = manifest.items().any(|i| i.doc.name == r.name);
                    let found = if in_manifest {
                        true
                    } else if let Some(&known) = transfer_targets.get(&r.name) {
                        known
                    } else {
                        let known = client
                            .find_flows_any_type(&r.name)
                            .await?
                            .iter()
                            .any(|f| f.published_version.is_some());
                        transfer_targets.insert(r.name.clone(), known);
                        known
                    };
                    let names = manifest.items().map(|i| i.doc.name.clone()).collect();
                    (found, names)
                }
                kind => {
                    let names = match listed.get(&kind) {
                        Some(n) => n.clone(),
                        None => {
                            let n: Vec<String> = client
                                .list_referenced(kind)
                                .await?
                                .into_iter()
                                .filter_map(|e| e.name)
                                .collect();
                            listed.insert(kind, n.clone());
                            n
                        }
                    };
                    (names.contains(&r.name), names)
                }
            };
            if found {
                continue;
            }
            let near = resolve::near_names(&r.name, candidates.iter().map(String::as_str));
            let suggestion = if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", resolve::quoted_list(&near))
            };
            let state = if r.kind.is_flow() {
                "is neither in the manifest nor published in the org"
            } else {
                "does not exist in the org"
            };
            problems.push(format!(
                "{} '{}' ({}), action '{}': {} '{}' {state}{suggestion}",
                kind(item.doc.flow_type),
                item.doc.name,
                item.origin,
                r.action,
                r.kind.noun(),
                r.name
            ));
        }
    }
    Ok(problems)
}

/// Reads the org and decides every step. Anything the manifest needs from the org that is
/// missing is an input error (exit 2) listing every problem, before any change.
pub(crate) async fn make_plan_with(
    client: &Client,
    manifest: &Manifest,
    options: PlanOptions<'_>,
) -> Result<Plan> {
    // The client secret is refused when the manifest loads; the token is known only now.
    for sub in &manifest.substitutions {
        if client.is_access_token(&sub.value).await {
            return Err(Error::input(
                format!(
                    "{}: the value of {{{{{}}}}} (from {}) is the OAuth access token; a token never goes into a flow",
                    manifest.path.display(),
                    sub.key,
                    sub.source
                ),
                Some("set that placeholder to the value the flow needs; nothing was sent".into()),
            ));
        }
    }
    let existing = org_flows(client, manifest).await?;

    let mut problems = Vec::new();
    let own = manifest.module_names();
    for (module, callers) in manifest.external_modules() {
        match existing.get(&(FlowType::CommonModule, module.clone())) {
            Some(f) if f.published_version.is_some() => {}
            Some(_) => problems.push(format!(
                "module '{module}' (called by {}) exists in the org but was never published; add it to the manifest or publish it",
                callers.join(", ")
            )),
            None => problems.push(format!(
                "module '{module}' (called by {}) is neither in the manifest nor in the org",
                callers.join(", ")
            )),
        }
    }
    let queues: BTreeSet<&String> = manifest.items().flat_map(|i| i.doc.queues.iter()).collect();
    for q in queues {
        if let Err(e) = resolve::queue(client, q).await {
            match e {
                Error::Input { message, hint } => problems.push(format!(
                    "{message}{}",
                    hint.map(|h| format!(" ({h})")).unwrap_or_default()
                )),
                other => return Err(other),
            }
        }
    }
    problems.extend(missing_references(client, manifest, &existing).await?);
    // A flow whose division the manifest does not name stays where it is.
    let adjusted: Vec<Item> = manifest
        .items()
        .map(|i| stay_in_division(i, &existing))
        .collect();
    problems.extend(near_miss_problems(
        manifest,
        &adjusted,
        &existing,
        options.new_flows,
    ));
    let mut divisions = HashMap::new();
    let names: BTreeSet<&String> = adjusted.iter().map(|i| &i.division).collect();
    let mut all_divisions: Option<Vec<String>> = None;
    for d in names {
        match client.find_division(d).await? {
            Some(div) => {
                divisions.insert(d.clone(), div);
            }
            None => {
                if all_divisions.is_none() {
                    // Only the suggestion depends on this listing (the listing without
                    // `name` is unverified, see `resolve::division`).
                    let all: Vec<Division> = client
                        .get_all(&["api", "v2", "authorization", "divisions"], &[])
                        .await
                        .unwrap_or_default();
                    all_divisions = Some(all.into_iter().map(|d| d.name).collect());
                }
                let near =
                    resolve::near_names(d, all_divisions.iter().flatten().map(String::as_str));
                let suggestion = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", resolve::quoted_list(&near))
                };
                problems.push(format!("division '{d}' does not exist{suggestion}"))
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::input(
            format!(
                "{} needs what the org does not have:\n  {}",
                manifest.path.display(),
                problems.join("\n  ")
            ),
            Some("nothing was changed; fix the manifest or the org and run again".into()),
        ));
    }

    let items: Vec<&Item> = adjusted.iter().collect();
    let drifts = if options.drift {
        drift(client, &items, &existing, options.full_drift).await?
    } else {
        HashMap::new()
    };
    // Step indices of the manifest's modules (steps follow `items`).
    let index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .filter(|(_, m)| m.doc.flow_type == FlowType::CommonModule)
        .map(|(i, m)| (m.doc.name.as_str(), i))
        .collect();
    let mut changing: HashSet<&str> = HashSet::new();
    let mut steps = Vec::with_capacity(items.len());
    for item in &items {
        let doc = &item.doc;
        let found = existing.get(&(doc.flow_type, doc.name.clone())).cloned();
        let changed_callee = doc.modules.iter().find(|m| changing.contains(m.as_str()));
        let stale_against = doc.modules.iter().find(|m| {
            let module = existing.get(&(FlowType::CommonModule, (*m).clone()));
            let at = module
                .and_then(|f| f.published_version.as_ref())
                .and_then(|v| v.date_published.as_deref());
            found.as_ref().is_some_and(|f| is_stale(f, at))
        });
        let comparison = drifts.get(&(doc.flow_type, doc.name.clone()));
        let change = found
            .as_ref()
            .and_then(|f| content_change(f, doc, comparison));
        let moving = found
            .as_ref()
            .filter(|_| item.division_named)
            .and_then(division_today)
            .filter(|today| *today != item.division)
            .map(|today| format!("moves it from division '{today}' to '{}'", item.division));
        let change = match (change, &moving) {
            (Some(c), Some(m)) => Some(format!("{c}; {m}")),
            (None, Some(m)) => Some(m.clone()),
            (c, None) => c,
        };
        let (action, reason) = match &found {
            None => (PlanAction::Create, "new".to_string()),
            Some(f) if f.published_version.is_none() => (
                PlanAction::Update,
                "exists but was never published".to_string(),
            ),
            Some(_) if change.is_some() => (PlanAction::Update, change.clone().unwrap_or_default()),
            Some(_) => match (changed_callee, stale_against) {
                (Some(m), _) => (
                    PlanAction::Republish,
                    format!("module '{m}' changes in this apply"),
                ),
                (None, Some(m)) => (
                    PlanAction::Republish,
                    format!("published before module '{m}' last was, so it runs an old copy"),
                ),
                (None, None) => (
                    PlanAction::Unchanged,
                    "published content matches".to_string(),
                ),
            },
        };
        if doc.flow_type == FlowType::CommonModule && action != PlanAction::Unchanged {
            changing.insert(doc.name.as_str());
        }
        // What must publish first: the manifest's modules it calls, and the manifest's flows
        // it calls (bot flows) or transfers to (the manifest orders those before it).
        let mut deps: Vec<usize> = doc
            .modules
            .iter()
            .filter(|m| own.contains(m.as_str()) && **m != doc.name)
            .filter_map(|m| index.get(m.as_str()).copied())
            .collect();
        let here = steps.len();
        deps.extend(doc.flow_callees().filter_map(|(name, t)| {
            items[..here]
                .iter()
                .position(|i| i.doc.name == name && t.is_none_or(|t| t == i.doc.flow_type))
        }));
        steps.push(Step {
            item: (*item).clone(),
            action,
            reason,
            existing: found,
            deps,
            diff: comparison.filter(|c| !c.same).map(|c| c.diff.clone()),
        });
    }

    // Callers outside the manifest keep the old copy of a changed module.
    let in_manifest: HashSet<&str> = items.iter().map(|i| i.doc.name.as_str()).collect();
    let mut warnings = Vec::new();
    for step in &steps {
        let (Some(module), true) = (&step.existing, step.action != PlanAction::Unchanged) else {
            continue;
        };
        if step.item.doc.flow_type != FlowType::CommonModule {
            continue;
        }
        let (consumers, warning) = super::publish::callers_or_warning(
            client.module_callers(&module.id).await.map_err(Error::from),
            &module.name,
        )?;
        warnings.extend(warning);
        for c in consumers {
            let name = c.name.clone().unwrap_or_else(|| c.id.clone());
            if !in_manifest.contains(name.as_str()) {
                warnings.push(format!(
                    "'{name}' ({}) calls {} '{}' but is not in this manifest: it keeps the old copy until it is republished",
                    c.object_type.as_deref().unwrap_or("flow"),
                    kind(FlowType::CommonModule),
                    module.name
                ));
            }
        }
    }
    Ok(Plan {
        steps,
        warnings,
        divisions,
    })
}

/// `item` as it will be published: a flow whose division the manifest does not name, and
/// that exists in another division than the default, stays there (its document is
/// rendered for that division, so its content marker is the one published there).
fn stay_in_division(item: &Item, existing: &HashMap<(FlowType, String), Flow>) -> Item {
    let mut item = item.clone();
    if item.division_named {
        return item;
    }
    let today = existing
        .get(&(item.doc.flow_type, item.doc.name.clone()))
        .and_then(division_today);
    if let Some(today) = today.filter(|t| *t != item.division) {
        item.doc = item.doc.in_division(&today);
        item.division = today;
    }
    item
}

/// A new flow of the manifest whose name is a near miss of a flow of its type in the org
/// (and not itself in the manifest) is refused unless `--new-flow NAME` says it is new: a
/// typo would fork the flow, and its callers would keep the old one.
fn near_miss_problems(
    manifest: &Manifest,
    items: &[Item],
    existing: &HashMap<(FlowType, String), Flow>,
    new_flows: &[String],
) -> Vec<String> {
    let declared: HashSet<&str> = manifest.items().map(|i| i.doc.name.as_str()).collect();
    let mut problems = Vec::new();
    for item in items {
        let doc = &item.doc;
        if existing.contains_key(&(doc.flow_type, doc.name.clone()))
            || new_flows.contains(&doc.name)
        {
            continue;
        }
        let others = existing
            .keys()
            .filter(|(t, n)| *t == doc.flow_type && !declared.contains(n.as_str()))
            .map(|(_, n)| n.as_str());
        let near = resolve::near_misses(&doc.name, others);
        if near.is_empty() {
            continue;
        }
        problems.push(format!(
            "{} '{}' ({}) is new, but {} {} close to it in the org (did you mean {}?); if it really is a new flow, pass --new-flow {}",
            kind(doc.flow_type),
            doc.name,
            item.origin,
            resolve::quoted_list(&near),
            if near.len() == 1 { "is" } else { "are" },
            resolve::quoted_list(&near),
            super::verify::shell_word(&doc.name)
        ));
    }
    problems
}

/// Why a published flow's content is not what the manifest says, or `None` when it is.
/// Without a drift comparison the marker decides; with one, the content does.
fn content_change(f: &Flow, doc: &FlowDocument, drift: Option<&Comparison>) -> Option<String> {
    let marker = is_up_to_date(f, doc);
    match drift {
        None if marker => None,
        None => Some("content changed".into()),
        Some(c) if c.same => None,
        Some(_) if marker => Some("changed in the org since flowctl published it".into()),
        Some(_) => Some("content changed".into()),
    }
}

/// The drift check: exports the published version of every manifest flow that exists in
/// the org, in a few batched export jobs, and compares each with what flowctl would
/// publish. A flow whose export is missing from the job's answer compares as changed,
/// the safe reading: republishing converges, trusting an unread flow would not.
///
/// Unless `full`, a flow whose published version this OAuth client made, with the content
/// its marker names, is not exported (see [`published_by_us`]): any edit in the UI or by
/// another tool publishes a new version made by someone else, which is exported.
pub(crate) async fn drift(
    client: &Client,
    items: &[&Item],
    existing: &HashMap<(FlowType, String), Flow>,
    full: bool,
) -> Result<HashMap<(FlowType, String), Comparison>> {
    let targets: Vec<(&Item, ExportTarget)> = items
        .iter()
        .filter_map(|item| {
            let f = existing.get(&(item.doc.flow_type, item.doc.name.clone()))?;
            if !full && published_by_us(f, &item.doc, client.client_id()) {
                return None;
            }
            Some((*item, ExportTarget::published(f)?))
        })
        .collect();
    if targets.is_empty() {
        return Ok(HashMap::new());
    }
    let list: Vec<ExportTarget> = targets.iter().map(|(_, t)| t.clone()).collect();
    let exported = export_for_drift(client, &list, &format!("{} flow(s)", list.len())).await?;
    let mut out = HashMap::new();
    for (item, target) in targets {
        let doc = &item.doc;
        let comparison = compare_exported(doc, exported.get(&target.id));
        if !comparison.same {
            tracing::info!(flow = %doc.name, "drift:\n{}", comparison.diff);
        }
        out.insert((doc.flow_type, doc.name.clone()), comparison);
    }
    Ok(out)
}

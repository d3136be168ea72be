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

use super::publish::{is_stale, is_up_to_date, kind};
use super::{resolve, Session};
use crate::cli::{GlobalArgs, PlanArgs};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manifest::{Item, Manifest};
use crate::models::{Division, Flow, FlowType};
use crate::output::Printer;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanAction {
    Create,
    Update,
    Republish,
    Unchanged,
}

impl PlanAction {
    pub fn as_str(self) -> &'static str {
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
    pub item: Item,
    pub action: PlanAction,
    pub reason: String,
    pub existing: Option<Flow>,
    /// Indexes of the steps (manifest modules) this one calls: they go first.
    pub deps: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Callers outside the manifest that will run an old copy of a changed module.
    pub warnings: Vec<String>,
    pub divisions: HashMap<String, Division>,
}

/// The JSON record of one action: `{"name","type","action","reason"}`.
#[derive(Debug, Serialize)]
pub struct ActionRecord<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub flow_type: FlowType,
    pub action: PlanAction,
    pub reason: &'a str,
}

impl Plan {
    pub fn records(&self) -> Vec<ActionRecord<'_>> {
        self.steps
            .iter()
            .map(|s| ActionRecord {
                name: &s.item.doc.name,
                flow_type: s.item.doc.flow_type,
                action: s.action,
                reason: &s.reason,
            })
            .collect()
    }

    pub fn count(&self, action: PlanAction) -> usize {
        self.steps.iter().filter(|s| s.action == action).count()
    }
}

pub async fn run(args: &PlanArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let manifest = args.manifest.load(global)?;
    let session = Session::connect(global).await?;
    let plan = make_plan(&session.client, &manifest).await;
    session.close().await;
    let plan = plan?;
    out.json(&serde_json::json!({ "actions": plan.records(), "warnings": plan.warnings }));
    if out.format == crate::cli::OutputFormat::Markdown {
        out.raw(&markdown(&plan, &manifest.path.display().to_string()));
    }
    print_plan(&plan, out);
    Ok(())
}

/// `--output markdown`: a table for a CI job summary.
pub fn markdown(plan: &Plan, manifest: &str) -> String {
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

pub fn print_plan(plan: &Plan, out: Printer) {
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
pub async fn org_flows(
    client: &Client,
    manifest: &Manifest,
) -> Result<HashMap<(FlowType, String), Flow>> {
    let types: BTreeSet<FlowType> = manifest
        .items()
        .map(|i| i.doc.flow_type)
        .chain([FlowType::CommonModule])
        .collect();
    let types: Vec<FlowType> = types.into_iter().collect();
    Ok(client
        .list_flows(&types)
        .await?
        .into_iter()
        .map(|f| ((f.flow_type, f.name.clone()), f))
        .collect())
}

/// Reads the org and decides every step. Anything the manifest needs from the org that is
/// missing is an input error (exit 2) listing every problem, before any change.
pub async fn make_plan(client: &Client, manifest: &Manifest) -> Result<Plan> {
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
    let mut divisions = HashMap::new();
    let names: BTreeSet<&String> = manifest.items().map(|i| &i.division).collect();
    for d in names {
        match client.find_division(d).await? {
            Some(div) => {
                divisions.insert(d.clone(), div);
            }
            None => problems.push(format!("division '{d}' does not exist")),
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

    let items: Vec<&Item> = manifest.items().collect();
    let index: HashMap<&str, usize> = manifest
        .modules
        .iter()
        .enumerate()
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
        let (action, reason) = match &found {
            None => (PlanAction::Create, "new".to_string()),
            Some(f) if f.published_version.is_none() => (
                PlanAction::Update,
                "exists but was never published".to_string(),
            ),
            Some(f) if !is_up_to_date(f, doc) => {
                (PlanAction::Update, "content changed".to_string())
            }
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
        let deps = doc
            .modules
            .iter()
            .filter(|m| own.contains(m.as_str()) && **m != doc.name)
            .filter_map(|m| index.get(m.as_str()).copied())
            .collect();
        steps.push(Step {
            item: (*item).clone(),
            action,
            reason,
            existing: found,
            deps,
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
        let consumers = client
            .consuming_resources(
                &module.id,
                &FlowType::CommonModule.object_type(),
                Some("published"),
            )
            .await?;
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

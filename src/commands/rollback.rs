//! `flowctl rollback NAME|ID [--to V]`: publish an earlier version's content again, as a
//! new version, and bring every caller of a module with it.
//!
//! Genesys copies a common module into each caller when the caller publishes, so undoing a
//! module change takes two steps: publish the module's old content again, then republish
//! every caller so that each copies it. This command:
//!
//! 1. exports version V (the export job's `flow.version`) and the published version, and
//!    compares them by meaning (the drift check's comparison). The same: nothing to publish;
//! 2. for a common module (or a bot flow), finds the callers by dependency tracking, and
//!    the callers of every caller that is itself a module (its callers copy it in turn),
//!    and exports their published content in one batch;
//! 3. prints the plan, then acts only with `--yes` or a typed confirmation on a terminal
//!    (off a terminal without `--yes` it stops, exit 2, having changed nothing);
//! 4. publishes V's content as a **new** version carrying flowctl's marker (history is never
//!    rewritten), then each caller's own published content again, in parallel under the
//!    pacer, each after what it calls (an outer module before its callers), through the
//!    executor `apply` uses: the same locks, job-failure handling and one version per
//!    flow, even for a flow that calls the module both directly and through another. A
//!    caller locked by someone else fails alone, naming the holder (and the callers of a
//!    locked outer module are skipped);
//! 5. verifies the flow and its callers as `verify` does, and prints a summary.
//!
//! A caller that still runs an older copy than the module's published version (a rollback
//! that failed half way) is republished too, so running the same rollback again finishes it.

use super::plan::{print_plan, Plan, PlanAction, Step};
use super::publish::{
    caller_rows, cascades, document_of_export, export_version, kind, no_such_version, version_key,
    versions, PublishOptions,
};
use super::steps::{execute, read_back, Outcome, StepResult};
use super::Session;
use crate::cli::{GlobalArgs, OutputFormat, RollbackArgs};
use crate::client::export::ExportTarget;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::changes::Change;
use crate::flow::FlowDocument;
use crate::manifest::Item;
use crate::models::{Division, Flow, FlowType, FlowVersion};
use crate::output::Printer;
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::time::Duration;

/// What `--output json` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    id: String,
    name: String,
    #[serde(rename = "type")]
    flow_type: FlowType,
    /// The version whose content is restored.
    to: String,
    /// The version that was published before.
    from: String,
    /// Nothing to do: the content is already published and no caller is stale.
    noop: bool,
    dry_run: bool,
    /// How the published content changes back (by place).
    changes: Vec<Change>,
    /// One per flow: the flow itself (unless its content is already V's), then its callers.
    results: Vec<StepResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<crate::output::verify::Report>,
}

pub(crate) async fn run(args: &RollbackArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let session = Session::connect(global).await?;
    let result = rollback(&session.client, args, global, out).await;
    session.close().await;
    let summary = result?;
    out.json(&summary);
    finish(&summary, out)
}

/// The plan, made before anything changes.
struct Prepared {
    flow: Flow,
    from: String,
    to: String,
    changes: Vec<Change>,
    plan: Plan,
    /// Per step: the common modules among the rollback's flows that it calls (for verify).
    calls: Vec<Vec<String>>,
}

async fn rollback(
    client: &Client,
    args: &RollbackArgs,
    global: &GlobalArgs,
    out: Printer,
) -> Result<Summary> {
    let prepared = prepare(client, args).await?;
    let Prepared {
        flow,
        from,
        to,
        changes,
        plan,
        calls,
    } = prepared;
    let mut summary = Summary {
        id: flow.id.clone(),
        name: flow.name.clone(),
        flow_type: flow.flow_type,
        to: to.clone(),
        from: from.clone(),
        noop: plan.steps.is_empty(),
        dry_run: args.dry_run,
        changes,
        results: Vec::new(),
        verification: None,
    };
    let what = format!("{} '{}'", kind(flow.flow_type), flow.name);
    if summary.noop {
        out.line(format!(
            "rollback: nothing to do: version {to}'s content is what {what} publishes now (version {from}), and no caller runs an older copy"
        ));
        return Ok(summary);
    }
    let restores = plan
        .steps
        .first()
        .is_some_and(|s| s.existing.as_ref().is_some_and(|f| f.id == flow.id));
    print_intent(&summary, restores, &what, out);
    print_plan(&plan, out);
    if args.dry_run {
        out.line("rollback: --dry-run: nothing changed");
        return Ok(summary);
    }
    confirm(args.yes, &flow.name).await?;
    let options = PublishOptions {
        job_timeout: Duration::from_secs(args.job_timeout),
        read_back: false,
        // Every step is forced: the plan has read the content already.
        drift: false,
    };
    let mut results = execute(client, &plan.steps, &plan.divisions, None, options, out).await;
    read_back(client, &plan.steps, &mut results).await;
    summary.results = results;
    summary.verification =
        Some(verify(client, &flow, &summary.results, &calls, args, global).await?);
    Ok(summary)
}

/// Looks everything up and reads every content the plan needs; changes nothing.
async fn prepare(client: &Client, args: &RollbackArgs) -> Result<Prepared> {
    let flow = super::resolve::any_flow(client, &args.flow.flow, args.flow.flow_type).await?;
    let what = format!("{} '{}'", kind(flow.flow_type), flow.name);
    let all = versions(client, &flow).await?;
    let Some(current) = flow.published_version.as_ref().map(|v| v.id.clone()) else {
        return Err(Error::input(
            format!("{what} has never been published: there is nothing to roll back"),
            None,
        ));
    };
    let to = match &args.to {
        Some(v) => super::diff::normal(v),
        None => all
            .iter()
            .find(|v| version_key(&v.id) < version_key(&current))
            .map(|v| v.id.clone())
            .ok_or_else(|| {
                Error::input(
                    format!("{what} has no version before {current} to roll back to"),
                    Some(format!(
                        "`flowctl history {}` lists its versions",
                        super::verify::shell_word(&flow.name)
                    )),
                )
            })?,
    };
    if !all.iter().any(|v| v.id == to) {
        return Err(no_such_version(&flow, &to, &all));
    }
    // The versions' content and the callers' content are read at the same time: each is
    // an export job, and a job's wait is most of a rollback's plan.
    let contents = async {
        if to == current {
            let y = export_version(client, &flow, &to).await?;
            Ok::<_, Error>((y.clone(), y))
        } else {
            futures::try_join!(
                export_version(client, &flow, &to),
                export_version(client, &flow, &current)
            )
        }
    };
    // The divisions the flows are in today are looked up while the export jobs run: they
    // are where the flows publish again, whatever the content says.
    let cascade = async {
        if !cascades(flow.flow_type) {
            let known = divisions(client, [&flow], HashMap::new()).await?;
            return Ok::<_, Error>((Vec::new(), known));
        }
        let nodes = cascade(client, &flow, &all).await?;
        let flows: Vec<Flow> = nodes.iter().map(|n| n.flow.clone()).collect();
        let (docs, known) = futures::try_join!(
            caller_documents(client, &flows, &what),
            divisions(client, std::iter::once(&flow).chain(&flows), HashMap::new())
        )?;
        Ok((nodes.into_iter().zip(docs).collect::<Vec<_>>(), known))
    };
    let ((target, published), (cascade, known)) = futures::try_join!(contents, cascade)?;
    let same = crate::flow::compare::compare(&target, &published)
        .map(|c| c.same)
        .unwrap_or(false);
    let changes = if same {
        Vec::new()
    } else {
        crate::flow::changes::changes(&published, &target).unwrap_or_default()
    };
    let doc = document_of_export(&target, &format!("version {to} of {what}"))?;
    if doc.name != flow.name || doc.flow_type != flow.flow_type {
        // Architect publishes by name and type: the old name would make another flow.
        return Err(Error::input(
            format!(
                "version {to} of {what} names the flow '{}' ({}); it was renamed since, and publishing it would make another flow",
                doc.name,
                kind(doc.flow_type)
            ),
            Some("export that version, set its name to the current one, and publish it with `flowctl create-shared --file` (or apply)".into()),
        ));
    }

    // The callers, and theirs when a caller is itself a module: all of them when the flow
    // is republished; when its content is already V's, those still on an older copy of
    // what they call (a rollback that stopped half way), and what calls them.
    let (cascade, mut docs): (Vec<Node>, Vec<Option<FlowDocument>>) =
        cascade.into_iter().map(|(n, d)| (n, Some(d))).unzip();
    let chosen = chosen(&cascade, !same);

    let mut steps = Vec::new();
    let mut calls: Vec<Vec<String>> = Vec::new();
    if !same {
        steps.push(step(
            doc,
            &flow,
            PlanAction::Update,
            format!("restore the content of version {to}; published now: {current}"),
            Vec::new(),
        ));
        calls.push(Vec::new());
    }
    // cascade index -> step index
    let mut at: HashMap<usize, usize> = HashMap::new();
    for &i in &chosen {
        let node = &cascade[i];
        let Some(doc) = docs[i].take() else { continue };
        let deps: Vec<usize> = node
            .callees
            .iter()
            .filter_map(|c| match c {
                None => (!same).then_some(0),
                Some(j) => at.get(j).copied(),
            })
            .collect();
        let callee = |c: &Option<usize>| match c {
            None => (flow.flow_type, flow.name.clone()),
            Some(j) => (cascade[*j].flow.flow_type, cascade[*j].flow.name.clone()),
        };
        let reason = match node.callees.iter().find(|c| match c {
            None => !same,
            Some(j) => at.contains_key(j),
        }) {
            Some(None) => format!("copy the restored {}", kind(flow.flow_type)),
            Some(c) => {
                let (t, name) = callee(c);
                format!("copy {} '{name}', republished before it", kind(t))
            }
            None => "it runs an older copy of what it calls".to_string(),
        };
        at.insert(i, steps.len());
        steps.push(step(doc, &node.flow, PlanAction::Republish, reason, deps));
        calls.push(
            node.callees
                .iter()
                .map(callee)
                .filter(|(t, _)| *t == FlowType::CommonModule)
                .map(|(_, name)| name)
                .collect(),
        );
    }
    // A flow whose division has no name today publishes into the one its content names.
    let mut divisions = known;
    for s in &steps {
        if let Entry::Vacant(e) = divisions.entry(s.item.division.clone()) {
            let d = super::resolve::division(client, e.key()).await?;
            e.insert(d);
        }
    }
    Ok(Prepared {
        flow,
        from: current,
        to,
        changes,
        plan: Plan {
            steps,
            warnings: Vec::new(),
            divisions,
        },
        calls,
    })
}

/// A flow the rollback may republish: a caller of the flow rolled back, or of such a
/// caller that is itself a module (or bot flow), and so on.
struct Node {
    flow: Flow,
    /// What it calls among the flows of the rollback: `None` is the flow rolled back,
    /// `Some(i)` the node `i`.
    callees: Vec<Option<usize>>,
    /// It runs an older copy of one of them than that one's published version.
    stale: bool,
}

/// Every flow that calls `root`, directly or through modules that call it, from dependency
/// tracking: a module's callers copy the module when they publish, so republishing a
/// module that calls `root` means republishing its callers too.
async fn cascade(client: &Client, root: &Flow, root_versions: &[FlowVersion]) -> Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut frontier: Vec<(Option<usize>, Flow, Vec<FlowVersion>)> =
        vec![(None, root.clone(), root_versions.to_vec())];
    while let Some((callee, flow, flow_versions)) = frontier.pop() {
        let found = super::publish::callers(client, &flow).await?;
        let rows = caller_rows(&flow, &flow_versions, &found);
        for (row, caller) in rows.into_iter().zip(found) {
            if caller.id == root.id {
                continue;
            }
            let i = match index.get(&caller.id) {
                Some(&i) => i,
                None => {
                    index.insert(caller.id.clone(), nodes.len());
                    if cascades(caller.flow_type) {
                        let v = versions(client, &caller).await?;
                        frontier.push((Some(nodes.len()), caller.clone(), v));
                    }
                    nodes.push(Node {
                        flow: caller,
                        callees: Vec::new(),
                        stale: false,
                    });
                    nodes.len() - 1
                }
            };
            if !nodes[i].callees.contains(&callee) {
                nodes[i].callees.push(callee);
            }
            nodes[i].stale |= row.stale;
        }
    }
    Ok(nodes)
}

/// The nodes to republish, in an order where every node comes after what it calls: those
/// that call a republished flow (the root when `root_republished`), and the stale ones.
fn chosen(nodes: &[Node], root_republished: bool) -> Vec<usize> {
    let n = nodes.len();
    let mut republish: Vec<bool> = nodes.iter().map(|x| x.stale).collect();
    // Depth: 1 + the deepest callee (the root is 0). Both settle within n passes; a cycle
    // (which Architect does not allow) stops there too.
    let mut depth = vec![1usize; n];
    for _ in 0..n {
        let mut changed = false;
        for i in 0..n {
            let calls_republished = nodes[i].callees.iter().any(|c| match c {
                None => root_republished,
                Some(j) => republish[*j],
            });
            if calls_republished && !republish[i] {
                republish[i] = true;
                changed = true;
            }
            let d = 1 + nodes[i]
                .callees
                .iter()
                .map(|c| c.map_or(0, |j| depth[j]))
                .max()
                .unwrap_or(0);
            if d != depth[i] && d <= n {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out: Vec<usize> = (0..n).filter(|&i| republish[i]).collect();
    out.sort_by(|&a, &b| {
        depth[a]
            .cmp(&depth[b])
            .then_with(|| nodes[a].flow.name.cmp(&nodes[b].flow.name))
    });
    out
}

/// Each caller's published content, from one batch of export jobs, as a document to
/// publish again unchanged. A failed export stops here, before anything changed (exit 4).
async fn caller_documents(
    client: &Client,
    callers: &[Flow],
    what: &str,
) -> Result<Vec<FlowDocument>> {
    if callers.is_empty() {
        return Ok(Vec::new());
    }
    let targets: Vec<ExportTarget> = callers.iter().filter_map(ExportTarget::published).collect();
    let exported = client
        .export_flows(&targets, Duration::from_secs(300))
        .await
        .map_err(|e| Error::from(e).context(format!("exporting the callers of {what}")))?;
    if !exported.failures.is_empty() {
        return Err(Error::rejected(
            format!(
                "the export job for the callers of {what} failed (nothing was changed):\n  {}",
                exported.failures.join("\n  ")
            ),
            Some("run the rollback again".into()),
        ));
    }
    callers
        .iter()
        .map(|c| {
            let text = exported.yaml.get(&c.id).ok_or_else(|| {
                Error::rejected(
                    format!(
                        "the export job returned no content for {} '{}' (nothing was changed)",
                        kind(c.flow_type),
                        c.name
                    ),
                    Some("run the rollback again".into()),
                )
            })?;
            document_of_export(
                text,
                &format!(
                    "the published version of {} '{}'",
                    kind(c.flow_type),
                    c.name
                ),
            )
        })
        .collect()
}

/// One flow to publish, as `apply`'s executor takes it.
fn step(
    doc: FlowDocument,
    existing: &Flow,
    action: PlanAction,
    reason: String,
    deps: Vec<usize>,
) -> Step {
    // The division the flow is in today: a rollback restores content and never moves a
    // flow, even when the old version's export names the division it had then.
    let division = existing
        .division
        .as_ref()
        .and_then(|d| d.name.clone())
        .or_else(|| doc.division.clone())
        .unwrap_or_else(|| crate::flow::DEFAULT_DIVISION.into());
    Step {
        item: Item {
            doc: doc.in_division(&division),
            division,
            division_named: false,
            origin: format!("flow {}", existing.id),
        },
        action,
        reason,
        existing: Some(existing.clone()),
        deps,
        diff: None,
    }
}

/// The divisions `flows` are in today, by name, added to `known` (one lookup per new name).
async fn divisions<'a>(
    client: &Client,
    flows: impl IntoIterator<Item = &'a Flow>,
    mut known: HashMap<String, Division>,
) -> Result<HashMap<String, Division>> {
    for f in flows {
        let Some(name) = f.division.as_ref().and_then(|d| d.name.clone()) else {
            continue;
        };
        if let Entry::Vacant(e) = known.entry(name) {
            let d = super::resolve::division(client, e.key()).await?;
            e.insert(d);
        }
    }
    Ok(known)
}

/// What the rollback restores, and how the content changes back, before the plan.
fn print_intent(summary: &Summary, restores: bool, what: &str, out: Printer) {
    if !restores {
        out.line(format!(
            "rollback {what}: its content is already version {}'s; republishing the callers that still run an older copy",
            summary.to
        ));
    } else {
        out.line(format!(
            "rollback {what}: publish the content of version {} again as a new version (published now: {})",
            summary.to, summary.from
        ));
    }
    for c in &summary.changes {
        out.line(match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!("  ~ {}: {o:?} → {n:?}", c.place),
            (None, Some(n)) => format!("  + {}: {n:?}", c.place),
            (Some(o), None) => format!("  - {}: was {o:?}", c.place),
            (None, None) => format!("  ~ {}", c.place),
        });
    }
}

/// `--yes`, or the flow's name typed on a terminal. Off a terminal without `--yes`, an
/// input error: nothing has changed.
async fn confirm(yes: bool, name: &str) -> Result<()> {
    use std::io::IsTerminal;
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::input(
            "rollback needs --yes when it cannot ask on a terminal; nothing was changed",
            Some("read the plan above (or run with --dry-run), then run again with --yes".into()),
        ));
    }
    eprint!(
        "Type the flow's name ({}) to roll it back: ",
        crate::output::sanitize(name, crate::output::MAX_LINE)
    );
    let line = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        std::io::stdin().read_line(&mut s).map(|_| s)
    })
    .await
    .map_err(|e| Error::input(format!("reading the confirmation: {e}"), None))?
    .map_err(|source| Error::Io {
        path: "stdin".into(),
        source,
    })?;
    if line.trim() == name {
        Ok(())
    } else {
        Err(Error::input(
            "the name typed does not match; nothing was changed",
            Some("run again and type the flow's exact name, or pass --yes".into()),
        ))
    }
}

/// Verifies the flow and the callers that published, as `verify` does: each caller's
/// published version must call the module's newest version (and none be stale).
async fn verify(
    client: &Client,
    flow: &Flow,
    results: &[StepResult],
    calls: &[Vec<String>],
    args: &RollbackArgs,
    global: &GlobalArgs,
) -> Result<crate::output::verify::Report> {
    use super::verify::ParentSpec;
    use super::verify::{org_flags, FixStyle, Spec};
    let mut parents: Vec<ParentSpec> = results
        .iter()
        .zip(calls)
        .filter(|(r, _)| r.outcome == Outcome::Published && r.id.as_deref() != Some(&flow.id))
        .map(|(r, modules)| ParentSpec {
            parent: r.name.clone(),
            flow_type: r.flow_type,
            modules: modules.clone(),
            queues: Vec::new(),
            others: Vec::new(),
        })
        .collect();
    if parents.is_empty() {
        // No caller: the flow itself must be published.
        parents.push(ParentSpec {
            parent: flow.name.clone(),
            flow_type: flow.flow_type,
            modules: Vec::new(),
            queues: Vec::new(),
            others: Vec::new(),
        });
    }
    let spec = Spec {
        parents,
        wait: Duration::from_secs(args.wait),
        fix: FixStyle::Commands {
            queue: None,
            global: Vec::new(),
        },
    }
    .with_org_flags(org_flags(global));
    super::verify::verify(client, &spec).await
}

/// The summary lines and the exit code: 4 when a flow failed or was skipped, 1 when
/// verification found problems, else 0.
fn finish(s: &Summary, out: Printer) -> Result<()> {
    if s.noop || s.dry_run {
        return Ok(());
    }
    let count = |o| s.results.iter().filter(|r| r.outcome == o).count();
    let (published, failed, skipped) = (
        count(Outcome::Published),
        count(Outcome::Failed),
        count(Outcome::Skipped),
    );
    if let Some(report) = &s.verification {
        if out.format == OutputFormat::Text {
            crate::output::verify::print_report(report, out);
        }
    }
    let restored = s
        .results
        .iter()
        .find(|r| r.id.as_deref() == Some(&s.id) && r.outcome == Outcome::Published)
        .and_then(|r| r.version.clone());
    out.line(format!(
        "rollback: '{}' {}; {} caller(s) republished, {failed} failed, {skipped} skipped",
        s.name,
        match &restored {
            Some(v) => format!("restored to version {}'s content as version {v}", s.to),
            None => format!("already had version {}'s content", s.to),
        },
        published.saturating_sub(usize::from(restored.is_some())),
    ));
    for r in s
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Skipped))
    {
        out.line(format!(
            "  FAILED {} '{}': {}",
            kind(r.flow_type),
            r.name,
            r.error.as_deref().unwrap_or("")
        ));
    }
    if failed + skipped > 0 {
        let to = s.from.clone();
        return Err(Error::rejected(
            format!("the rollback of '{}' is partial: {failed} flow(s) failed and {skipped} were skipped (see above)", s.name),
            Some(match restored {
                Some(v) => format!(
                    "fix the failures, then run `flowctl rollback {} --to {v}`: it republishes only the callers still on an older copy",
                    super::verify::shell_word(&s.name)
                ),
                None => format!(
                    "fix the failures and run the same rollback again (the published version is still {to})"
                ),
            }),
        ));
    }
    match &s.verification {
        Some(report) if !report.ok => Err(Error::VerificationFailed {
            failed: report.failed,
            unknown: report.unknown,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, callees: Vec<Option<usize>>, stale: bool) -> Node {
        let flow: Flow = serde_json::from_value(
            serde_json::json!({"id": format!("id-{name}"), "name": name, "type": "INBOUNDCALL"}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Node {
            flow,
            callees,
            stale,
        }
    }

    fn names(nodes: &[Node], chosen: &[usize]) -> Vec<String> {
        chosen.iter().map(|&i| nodes[i].flow.name.clone()).collect()
    }

    #[test]
    fn every_flow_comes_after_what_it_calls_and_once() {
        // root <- Outer <- Deep; "Both" calls root and Outer; "Direct" calls root.
        let nodes = vec![
            node("Deep", vec![Some(2)], false),
            node("Both", vec![None, Some(2)], false),
            node("Outer", vec![None], false),
            node("Direct", vec![None], false),
        ];
        assert_eq!(
            names(&nodes, &chosen(&nodes, true)),
            vec!["Direct", "Outer", "Both", "Deep"]
        );
    }

    #[test]
    fn with_the_root_already_restored_only_the_stale_and_what_calls_them_republish() {
        let nodes = vec![
            node("Outer", vec![None], true),
            node("Via Outer", vec![Some(0)], false),
            node("Direct", vec![None], false),
        ];
        assert_eq!(
            names(&nodes, &chosen(&nodes, false)),
            vec!["Outer", "Via Outer"]
        );
        let fresh: Vec<Node> = nodes
            .into_iter()
            .map(|n| Node { stale: false, ..n })
            .collect();
        assert!(chosen(&fresh, false).is_empty());
    }

    #[test]
    fn a_cycle_ends() {
        let nodes = vec![
            node("A", vec![None, Some(1)], false),
            node("B", vec![Some(0)], false),
        ];
        assert_eq!(chosen(&nodes, true).len(), 2);
    }
}

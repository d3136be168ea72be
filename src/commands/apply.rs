//! `flowctl apply`: publish a manifest.
//!
//! The plan comes first (and its online checks: nothing changes if the org lacks a module,
//! queue or division). Then every step that is not `unchanged` runs as soon as the modules
//! it calls are done, as many at once as the rate budget allows (or at most `--parallel`);
//! the client's one token and one pacer keep the whole run within the rate limit. A failed step does not stop independent ones;
//! the callers of a failed module are skipped with the reason. Publishing is idempotent
//! (flows are found by name before anything is created), so a run killed half way is
//! finished by running it again.

use super::plan::{make_plan_with, print_plan, PlanAction, PlanOptions, Step};
use super::publish::{kind, publish_known, Freshness, PublishOptions};
use super::Session;
use crate::cli::{ApplyArgs, GlobalArgs, OutputFormat};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manifest;
use crate::models::FlowType;
use crate::output::Printer;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Outcome {
    Published,
    Unchanged,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepResult {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    pub(crate) action: PlanAction,
    pub(crate) reason: String,
    pub(crate) outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

pub(crate) async fn run(args: &ApplyArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let manifest = args.manifest.load(global)?;
    crate::lint::check_manifest_files(&manifest)?;
    let session = Session::connect(global).await?;
    // One change to this org at a time from this machine: a second run waits here, then
    // reads the org afresh.
    let _lock = match session.client.lock_org("apply").await {
        Ok(lock) => lock,
        Err(e) => {
            session.close().await;
            return Err(e.into());
        }
    };
    let result = apply(&session.client, &manifest, args, out).await;
    session.close().await;
    let (results, warnings) = result?;
    let count = |o| results.iter().filter(|r| r.outcome == o).count();
    let (failed, skipped) = (count(Outcome::Failed), count(Outcome::Skipped));
    out.json(&serde_json::json!({ "results": results, "warnings": warnings }));
    out.line(format!(
        "apply: {} published, {} unchanged, {failed} failed, {skipped} skipped",
        count(Outcome::Published),
        count(Outcome::Unchanged)
    ));
    if failed + skipped > 0 {
        return Err(Error::rejected(
            format!("{failed} flow(s) failed and {skipped} were skipped (see above)"),
            Some(
                "fix the failures and run apply again: what is already published stays unchanged"
                    .into(),
            ),
        ));
    }
    Ok(())
}

/// Plans, then runs the steps. Returns one result per manifest flow, and the plan's
/// warnings.
pub(crate) async fn apply(
    client: &Client,
    manifest: &manifest::Manifest,
    args: &ApplyArgs,
    out: Printer,
) -> Result<(Vec<StepResult>, Vec<String>)> {
    let plan = make_plan_with(
        client,
        manifest,
        PlanOptions {
            drift: !args.no_drift,
            full_drift: args.full_drift,
            new_flows: &args.new_flows,
        },
    )
    .await?;
    print_plan(&plan, out);
    let options = PublishOptions {
        job_timeout: Duration::from_secs(args.job_timeout),
        // Read back once, below, for all flows: one listing instead of a GET per flow.
        read_back: false,
        // The plan has checked drift already.
        drift: false,
    };
    let mut results = execute(
        client,
        &plan.steps,
        &plan.divisions,
        args.parallel.map(usize::from),
        options,
        out,
    )
    .await;
    read_back(client, &plan.steps, &mut results).await;
    Ok((results, plan.warnings))
}

/// Confirms every published flow in one paged listing of their types (a flow missing from
/// it, as a listing can lag a write, is read by id with the read-after-write wait), and
/// fills in the published versions. A flow that shows no published version is failed.
pub(crate) async fn read_back(client: &Client, steps: &[Step], results: &mut [StepResult]) {
    let published: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].outcome == Outcome::Published)
        .collect();
    if published.is_empty() {
        return;
    }
    let types: std::collections::BTreeSet<FlowType> =
        published.iter().map(|&i| results[i].flow_type).collect();
    let types: Vec<FlowType> = types.into_iter().collect();
    let listed: std::collections::HashMap<String, crate::models::Flow> = match client
        .list_flows(&types)
        .await
    {
        Ok(flows) => flows.into_iter().map(|f| (f.id.clone(), f)).collect(),
        Err(e) => {
            tracing::warn!("reading the published flows back in one listing failed ({e}); reading them one by one");
            Default::default()
        }
    };
    for i in published {
        let Some(id) = results[i].id.clone() else {
            continue;
        };
        let flow = match listed.get(&id) {
            Some(f) => Some(f.clone()),
            None => client.get_flow_after_write(&id).await.ok().flatten(),
        };
        let doc = &steps[i].item.doc;
        let what = format!("{} '{}'", kind(doc.flow_type), doc.name);
        let confirmed = match flow {
            Some(f) => super::publish::confirm(&f, doc, &what, super::publish::Action::Updated),
            None => Err(Error::rejected(
                format!("{what} ({id}) could not be read after it was published"),
                None,
            )),
        };
        match confirmed {
            Ok(p) => results[i].version = Some(p.version),
            Err(e) => {
                results[i].outcome = Outcome::Failed;
                results[i].error = Some(e.to_string());
            }
        }
    }
}

#[derive(Debug, Clone)]
enum State {
    Pending,
    Running,
    Done(StepResult),
}

/// Runs the steps as a dependency graph, at most `parallel` at once (by default, as many as
/// the client's rate budget allows: [`Client::auto_parallel`]).
pub(crate) async fn execute(
    client: &Client,
    steps: &[Step],
    divisions: &std::collections::HashMap<String, crate::models::Division>,
    parallel: Option<usize>,
    options: PublishOptions,
    out: Printer,
) -> Vec<StepResult> {
    let total = steps.len();
    // The live line (a terminal only): indicatif cuts it to the terminal's width, and the
    // per-flow lines and log lines are printed around it, so neither tears the other.
    let bar = crate::progress::counter(total, out.format == OutputFormat::Text && !out.quiet);
    let mut state: Vec<State> = vec![State::Pending; total];
    let mut running = FuturesUnordered::new();
    let mut finished = 0usize;
    loop {
        // Once per pass, not per waiting step.
        let cap = parallel.unwrap_or_else(|| client.auto_parallel());
        // Start what is ready; skip what depends on a failure. Modules come before their
        // callers in `steps`, so one pass in order settles chains of skips.
        for i in 0..total {
            if !matches!(state[i], State::Pending) {
                continue;
            }
            let step = &steps[i];
            let blocked = step.deps.iter().find_map(|&d| match &state[d] {
                State::Done(r) if matches!(r.outcome, Outcome::Failed | Outcome::Skipped) => {
                    Some(r.name.clone())
                }
                _ => None,
            });
            if let Some(module) = blocked {
                let r = result(
                    step,
                    Outcome::Skipped,
                    None,
                    None,
                    Some(format!("skipped: module '{module}' did not publish")),
                );
                finished += 1;
                report(&r, finished, total, out);
                state[i] = State::Done(r);
                continue;
            }
            if step.action == PlanAction::Unchanged {
                let existing = step.existing.as_ref();
                let r = result(
                    step,
                    Outcome::Unchanged,
                    existing.map(|f| f.id.clone()),
                    existing
                        .and_then(|f| f.published_version.as_ref())
                        .map(|v| v.id.clone()),
                    None,
                );
                finished += 1;
                state[i] = State::Done(r);
                continue;
            }
            let ready = step
                .deps
                .iter()
                .all(|&d| matches!(state[d], State::Done(_)));
            if ready && running.len() < cap {
                state[i] = State::Running;
                let division = divisions.get(&step.item.division).cloned();
                running.push(async move {
                    let freshness = Freshness {
                        modules_published_at: None,
                        // An update found by the drift check has the right marker: force it.
                        force: matches!(step.action, PlanAction::Republish | PlanAction::Update),
                    };
                    let r = match division {
                        Some(div) => {
                            publish_known(
                                client,
                                &step.item.doc,
                                &div,
                                step.existing.clone(),
                                &freshness,
                                options,
                            )
                            .await
                        }
                        None => Err(Error::input(
                            format!("division '{}' was not resolved", step.item.division),
                            None,
                        )),
                    };
                    (i, r)
                });
            }
        }
        if !bar.is_hidden() {
            let names: Vec<&str> = state
                .iter()
                .zip(steps)
                .filter(|(s, _)| matches!(s, State::Running))
                .map(|(_, st)| st.item.doc.name.as_str())
                .collect();
            bar.set_position(finished as u64);
            bar.set_message(format!("publishing: {}", names.join(", ")));
        }
        let Some((i, r)) = running.next().await else {
            break;
        };
        let step = &steps[i];
        let r = match r {
            Ok(p) => result(step, Outcome::Published, Some(p.id), Some(p.version), None),
            Err(e) => {
                let mut message = e.to_string();
                if let Some(h) = e.hint() {
                    message.push_str(&format!(" (hint: {h})"));
                }
                result(step, Outcome::Failed, None, None, Some(message))
            }
        };
        finished += 1;
        bar.set_position(finished as u64);
        report(&r, finished, total, out);
        state[i] = State::Done(r);
    }
    bar.finish_and_clear();
    state
        .into_iter()
        .zip(steps)
        .map(|(s, step)| match s {
            State::Done(r) => r,
            // Unreachable in practice: every step ends Done. Report rather than panic.
            _ => result(step, Outcome::Skipped, None, None, Some("not run".into())),
        })
        .collect()
}

fn result(
    step: &Step,
    outcome: Outcome,
    id: Option<String>,
    version: Option<String>,
    error: Option<String>,
) -> StepResult {
    StepResult {
        name: step.item.doc.name.clone(),
        flow_type: step.item.doc.flow_type,
        action: step.action,
        reason: step.reason.clone(),
        outcome,
        id,
        version,
        error,
    }
}

/// A plain progress line per finished step (stderr; quiet for JSON).
fn report(r: &StepResult, finished: usize, total: usize, out: Printer) {
    let what = format!("{} '{}'", kind(r.flow_type), r.name);
    let line = match r.outcome {
        Outcome::Published => format!(
            "[{finished}/{total}] {} {what}: published ({})",
            r.action.as_str(),
            r.reason
        ),
        Outcome::Failed => format!(
            "[{finished}/{total}] FAILED {what}: {}",
            r.error.as_deref().unwrap_or("")
        ),
        Outcome::Skipped => format!(
            "[{finished}/{total}] SKIPPED {what}: {}",
            r.error.as_deref().unwrap_or("")
        ),
        Outcome::Unchanged => return,
    };
    out.progress(line);
}

//! `flowctl apply`: publish a manifest.
//!
//! The plan comes first (and its online checks: nothing changes if the org lacks a module,
//! queue or division). Then every step that is not `unchanged` runs as soon as the modules
//! it calls are done, as many at once as the rate budget allows (or at most `--parallel`);
//! the client's one token and one pacer keep the whole run within the rate limit. A failed step does not stop independent ones;
//! the callers of a failed module are skipped with the reason. Publishing is idempotent
//! (flows are found by name before anything is created), so a run killed half way is
//! finished by running it again.

use super::plan::{make_plan_with, print_plan, PlanOptions};
use super::publish::PublishOptions;
use super::steps::{execute, read_back, Outcome, StepResult};
use super::Session;
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manifest;
use crate::output::Printer;
use std::time::Duration;

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

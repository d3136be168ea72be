//! `flowctl verify`: is every parent flow published, and does its published version really
//! call the shared flow (and transfer to the queue), according to dependency tracking?
//!
//! Each link is checked from both sides: the parent's `consumedresources` and the module's
//! (or queue's) `consumingresources`. The dependency index lags a publish, so missing links
//! are retried until `--wait` runs out; if the index is not `OPERATIONAL` by then, or an
//! entity is `stateUnknown`, the check is *unknown*, never a pass. A parent published
//! before the module's latest publish is *stale*: it still runs the old copy.

mod checks;
mod links;
mod paths;
mod spec;

pub(crate) use crate::output::verify::print_report;
pub(crate) use checks::verify;
pub(crate) use spec::{org_flags, shell_word, FixStyle, ParentSpec, Spec};

use super::Session;
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::error::{Error, Result};
use crate::output::Printer;

pub(crate) async fn run(args: &VerifyArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    if let (true, Some(path)) = (args.paths, &args.file) {
        // Offline: the manifest's own YAML, no org.
        return paths::run(path, args, global, out);
    }
    let spec = match &args.file {
        Some(path) => {
            let manifest = crate::commands::load_manifest(path, &args.vars, global)?;
            let mut spec = Spec::from_manifest(&manifest, args.wait);
            if let FixStyle::Manifest { vars, .. } = &mut spec.fix {
                for (k, v) in &args.vars {
                    vars.push("--var".into());
                    vars.push(format!("{k}={v}"));
                }
            }
            spec
        }
        // Checked before connecting; the callers come from the org below.
        None => Spec::from_args(args, &args.parents)?,
    };
    let session = Session::connect(global).await?;
    let spec = if args.file.is_none() && args.parents.is_empty() {
        match every_caller(&session, args).await {
            Ok(s) => s,
            Err(e) => {
                session.close().await;
                return Err(e);
            }
        }
    } else {
        spec
    };
    let spec = spec.with_org_flags(org_flags(global));
    let result = verify(&session.client, &spec).await;
    session.close().await;
    report(&result?, out)
}

/// Prints a verify report, and makes what failed or is unknown the command's error (exit 1).
pub(crate) fn report(report: &crate::output::verify::Report, out: Printer) -> Result<()> {
    print_report(report, out);
    if report.ok {
        Ok(())
    } else {
        Err(Error::VerificationFailed {
            failed: report.failed,
            unknown: report.unknown,
        })
    }
}

/// `verify --shared X` without `--parent`: every published caller of the module that
/// dependency tracking knows (of any flow type), each checked as a `--parent` would be.
async fn every_caller(session: &Session, args: &VerifyArgs) -> Result<Spec> {
    let shared = args.shared.clone().unwrap_or_default();
    let module = super::resolve::published_module(&session.client, &shared).await?;
    let callers = session.client.module_callers(&module.id).await?;
    let mut parents: Vec<(String, crate::models::FlowType)> = callers
        .iter()
        .filter_map(|c| {
            let t = crate::models::FlowType::from_object_type(c.object_type.as_deref()?)?;
            // The name is what the report shows; the id when dependency tracking gives none.
            Some((c.name.clone().unwrap_or_else(|| c.id.clone()), t))
        })
        .collect();
    parents.sort();
    parents.dedup();
    if parents.is_empty() {
        return Err(Error::input(
            format!(
                "dependency tracking knows no published flow that calls common module '{}'",
                module.name
            ),
            Some("name the callers with --parent (the index can lag a publish by a minute or more; --wait waits for it only with --parent)".into()),
        ));
    }
    tracing::warn!(
        "verifying the {} published caller(s) of common module '{}' that dependency tracking knows: {}",
        parents.len(),
        module.name,
        parents
            .iter()
            .map(|(n, _)| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let names: Vec<String> = parents.iter().map(|(n, _)| n.clone()).collect();
    let mut spec = Spec::from_args(args, &names)?;
    for (p, (_, t)) in spec.parents.iter_mut().zip(&parents) {
        p.flow_type = *t;
    }
    Ok(spec)
}

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
pub(crate) use spec::{org_flags, shell_word, FixStyle, Spec};

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
        None => Spec::from_args(args)?,
    };
    let spec = spec.with_org_flags(org_flags(global));
    let session = Session::connect(global).await?;
    let result = verify(&session.client, &spec).await;
    session.close().await;
    let report = result?;
    print_report(&report, out);
    if report.ok {
        Ok(())
    } else {
        Err(Error::VerificationFailed {
            failed: report.failed,
            unknown: report.unknown,
        })
    }
}

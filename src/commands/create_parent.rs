//! `flowctl create-parent`: inbound call flows that call the shared flow, then queue the
//! caller. The module, the queue and the division are resolved before anything is created;
//! several `--name`s are published concurrently.

use super::create_shared::{options, print_dry_run, print_published};
use super::publish::{kind, publish, Freshness, Published};
use super::{resolve, Session};
use crate::cli::{CreateParentArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::flow::{self, FlowDocument, ParentTemplate};
use crate::output::Printer;
use futures::stream::{self, StreamExt};

/// How many flows publish at once; the client's pacer keeps them within the rate limit.
const CONCURRENCY: usize = 8;

pub async fn run(args: &CreateParentArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    check_unique(&args.names)?;
    if args.publish.dry_run {
        // Offline: the names given are used as they are (no lookup of ids).
        let docs = documents(args, &args.shared, &args.queue)?;
        print_dry_run(&docs, &args.division, out);
        return Ok(());
    }
    let session = Session::connect(global).await?;
    let result = create(&session, args, out).await;
    session.close().await;
    let (published, failures) = result?;
    print_published(&published, out, args.names.len() > 1);
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.into_iter().next().expect("one failure")),
        n => {
            for f in &failures {
                out.error(f);
            }
            let status = failures[0].exit_status();
            Err(match status {
                crate::ExitStatus::Network => failures.into_iter().next().expect("failures"),
                _ => Error::rejected(
                    format!(
                        "{n} of {} parent flows failed (see above)",
                        args.names.len()
                    ),
                    None,
                ),
            })
        }
    }
}

fn check_unique(names: &[String]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for n in names {
        if !seen.insert(n) {
            return Err(Error::input(format!("--name '{n}' is given twice"), None));
        }
    }
    Ok(())
}

fn documents(args: &CreateParentArgs, module: &str, queue: &str) -> Result<Vec<FlowDocument>> {
    args.names
        .iter()
        .map(|name| {
            flow::render_parent(&ParentTemplate {
                name: name.clone(),
                description: args.description.clone(),
                division: args.division.clone(),
                language: args.language.clone(),
                modules: vec![module.to_string()],
                queue: queue.to_string(),
            })
            .map_err(Error::from)
        })
        .collect()
}

/// Resolves everything first, then publishes every flow. Returns what was published and
/// the failures of individual flows (the others still publish).
pub(crate) async fn create(
    session: &Session,
    args: &CreateParentArgs,
    out: Printer,
) -> Result<(Vec<Published>, Vec<Error>)> {
    let client = &session.client;
    let module = resolve::published_module(client, &args.shared).await?;
    let queue = resolve::queue(client, &args.queue).await?;
    let division = resolve::division(client, &args.division).await?;
    let docs = documents(args, &module.name, &queue.name)?;

    let opts = options(&args.publish);
    let freshness = Freshness {
        modules_published_at: module
            .published_version
            .as_ref()
            .and_then(|v| v.date_published.clone()),
        force: false,
    };
    let results: Vec<Result<Published>> = stream::iter(docs.iter())
        .map(|doc| {
            out.progress(format!(
                "publishing {} '{}' ...",
                kind(doc.flow_type),
                doc.name
            ));
            publish(client, doc, &division, &freshness, opts)
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut published = Vec::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(p) => published.push(p),
            Err(e) => failures.push(e),
        }
    }
    Ok((published, failures))
}

//! `flowctl create-parent`: inbound call flows that call the shared flow, then queue the
//! caller. The module, the queue and the division are resolved before anything is created;
//! several `--name`s are published concurrently.

use super::create_shared::{division_or_home, options, print_dry_run, print_published};
use super::publish::{
    division_move, find_existing, kind, publish_found, target_division, Freshness, Published,
};
use super::{resolve, Session};
use crate::cli::{CreateParentArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::flow::{self, FlowDocument, ParentTemplate};
use crate::models::{Division, EntityRef, FlowType};
use crate::output::Printer;
use futures::stream::{self, StreamExt};

/// How many flows publish at once; the client's pacer keeps them within the rate limit.
const CONCURRENCY: usize = 8;

pub(crate) async fn run(args: &CreateParentArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    check_unique(&args.names)?;
    if args.publish.dry_run {
        // Offline: the names given are used as they are (no lookup of ids).
        let docs = documents(args, &args.shared, &args.queue)?;
        print_dry_run(&docs, division_or_home(&args.division), out);
        return Ok(());
    }
    let session = Session::connect(global).await?;
    // One change to this org at a time from this machine: a second run waits here, then
    // reads the org afresh.
    let _lock = match session.client.lock_org("create-parent").await {
        Ok(lock) => lock,
        Err(e) => {
            session.close().await;
            return Err(e.into());
        }
    };
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
        .map(|name| document(args, name, division_or_home(&args.division), module, queue))
        .collect()
}

fn document(
    args: &CreateParentArgs,
    name: &str,
    division: &str,
    module: &str,
    queue: &str,
) -> Result<FlowDocument> {
    flow::render_parent(&ParentTemplate {
        name: name.to_string(),
        description: args.description.clone(),
        division: division.to_string(),
        language: args.language.clone(),
        modules: vec![module.to_string()],
        queue: queue.to_string(),
    })
    .map_err(Error::from)
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
    if let Some(named) = &args.division {
        resolve::division(client, named).await?;
    }
    // Each flow as it is today: a new name that is a near miss of an existing flow is
    // refused (unless --new-flow), and without --division an existing flow stays in its
    // division. All of it before anything is published.
    let mut planned = Vec::with_capacity(args.names.len());
    let mut divisions: std::collections::HashMap<String, Division> = Default::default();
    let mut all_flows: Option<Vec<String>> = None;
    for name in &args.names {
        let probe = document(
            args,
            name,
            division_or_home(&args.division),
            &module.name,
            &queue.name,
        )?;
        let existing = find_existing(client, &probe).await?;
        if existing.is_none() && !args.publish.new_flow {
            if all_flows.is_none() {
                all_flows = Some(
                    client
                        .list_flows(&[FlowType::InboundCall])
                        .await?
                        .into_iter()
                        .map(|f| f.name)
                        .collect(),
                );
            }
            let others = all_flows
                .iter()
                .flatten()
                .filter(|n| !args.names.contains(n));
            let near = resolve::near_misses(name, others.map(String::as_str));
            if !near.is_empty() {
                return Err(resolve::near_miss_error(
                    name,
                    FlowType::InboundCall,
                    &near,
                    "--new-flow",
                ));
            }
        }
        let target = target_division(args.division.as_deref(), existing.as_ref());
        if args.division.is_some() {
            if let Some(moving) = division_move(existing.as_ref(), &target) {
                tracing::warn!("this {moving}, as named");
            }
        }
        if !divisions.contains_key(&target) {
            let d = match existing.as_ref().and_then(|f| f.division.as_ref()) {
                Some(EntityRef {
                    id: Some(id),
                    name: Some(n),
                    ..
                }) if *n == target => Division {
                    id: id.clone(),
                    name: n.clone(),
                    description: None,
                    home_division: None,
                    self_uri: None,
                },
                _ => resolve::division(client, &target).await?,
            };
            divisions.insert(target.clone(), d);
        }
        let doc = document(args, name, &target, &module.name, &queue.name)?;
        planned.push((doc, existing, target));
    }

    let opts = options(&args.publish);
    let freshness = Freshness {
        modules_published_at: module
            .published_version
            .as_ref()
            .and_then(|v| v.date_published.clone()),
        force: false,
    };
    let results: Vec<Result<Published>> = stream::iter(planned)
        .map(|(doc, existing, target)| {
            out.progress(format!(
                "publishing {} '{}' ...",
                kind(doc.flow_type),
                doc.name
            ));
            let division = divisions.get(&target).cloned();
            let freshness = &freshness;
            async move {
                let Some(division) = division else {
                    return Err(Error::input(
                        format!("division '{target}' was not resolved"),
                        None,
                    ));
                };
                publish_found(client, &doc, &division, existing, freshness, opts).await
            }
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

//! `flowctl demo`: the tutorial's whole scenario on an embedded emulator, through the same
//! code paths as the real commands: create the shared flow, two parent flows that call it
//! and queue the caller, verify them, and draw what calls what (read back from the org).

use super::graph::{Graph, NodeKind};
use super::{create_parent, create_shared, verify, Session};
use crate::cli::{CreateParentArgs, CreateSharedArgs, OutputFormat, PublishArgs, VerifyArgs};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::error::{Error, Result};
use crate::models::FlowType;
use crate::output::Printer;
use std::time::Duration;

pub(crate) const SHARED: &str = "Shared Greeting Module";
pub(crate) const PARENTS: [&str; 2] = ["Inbound Sales Flow", "Inbound Support Flow"];
pub(crate) const QUEUE: &str = "General Support";

pub(crate) async fn run(out: Printer) -> Result<()> {
    // Realistic enough to show the waiting: jobs take a moment and the dependency index
    // lags each publish, as on a real org.
    let emulator = Emulator::start(EmulatorConfig {
        job_time: Duration::from_millis(400),
        index_lag: Duration::from_millis(800),
        ..EmulatorConfig::default()
    })
    .await?;
    out.progress(format!(
        "embedded Genesys Cloud emulator at {}",
        emulator.base_url()
    ));
    let session = Session::for_emulator(emulator).await?;
    let result = scenario(&session, out).await;
    session.close().await;
    result
}

async fn scenario(session: &Session, out: Printer) -> Result<()> {
    let text = Printer::new(OutputFormat::Text, out.quiet);
    let publish = PublishArgs {
        dry_run: false,
        job_timeout: 60,
        no_drift: false,
        new_flow: false,
    };

    out.line(format!("\n1. flowctl create-shared --name \"{SHARED}\""));
    let shared_args = CreateSharedArgs {
        name: Some(SHARED.to_string()),
        description: Some("Greets every caller; called by every inbound flow".into()),
        greeting: "Hello, thank you for calling. This greeting comes from a shared flow.".into(),
        division: None,
        language: crate::flow::DEFAULT_LANGUAGE.into(),
        file: None,
        vars: Vec::new(),
        publish: publish.clone(),
    };
    let doc = create_shared::document(&shared_args)?;
    let module = create_shared::create(session, &doc, None, &publish, text).await?;
    create_shared::print_published(&[module], text, false);

    out.line(format!(
        "\n2. flowctl create-parent --name \"{}\" --name \"{}\" --shared \"{SHARED}\" --queue \"{QUEUE}\"",
        PARENTS[0], PARENTS[1]
    ));
    let parent_args = CreateParentArgs {
        names: PARENTS.iter().map(|s| s.to_string()).collect(),
        shared: SHARED.into(),
        queue: QUEUE.into(),
        description: Some("Greets with the shared flow, then queues the caller".into()),
        division: None,
        language: crate::flow::DEFAULT_LANGUAGE.into(),
        publish,
    };
    let (parents, failures) = create_parent::create(session, &parent_args, text).await?;
    create_shared::print_published(&parents, text, true);
    if let Some(first) = failures.into_iter().next() {
        return Err(first);
    }

    out.line(format!(
        "\n3. flowctl verify --shared \"{SHARED}\" --parent \"{}\" --parent \"{}\" --queue \"{QUEUE}\"",
        PARENTS[0], PARENTS[1]
    ));
    let verify_args = VerifyArgs {
        shared: Some(SHARED.into()),
        parents: PARENTS.iter().map(|s| s.to_string()).collect(),
        queue: Some(QUEUE.into()),
        wait: 30,
        file: None,
        vars: Vec::new(),
        paths: false,
        scenarios: Vec::new(),
    };
    let report = verify::verify(
        &session.client,
        &verify::Spec::from_args(&verify_args, &verify_args.parents)?,
    )
    .await?;
    verify::print_report(&report, text);
    if !report.ok {
        return Err(Error::VerificationFailed {
            failed: report.failed,
            unknown: report.unknown,
        });
    }

    out.line("\n4. What calls what, read back from the org's dependency tracking:\n");
    out.line(picture(session).await?);
    out.line("\n5. flowctl test: one call walked offline through the same flows (no org needed)");
    scenario_run(&doc, &parent_args, out)?;
    out.line(
        "\nTry the commands one by one on a local emulated org (kept in .flowctl/):\n  \
         cargo run --release -- --emulator create-shared --name \"My Module\"",
    );
    Ok(())
}

/// One scenario, walked through the module and the first parent flow as published: the
/// caller hears the shared greeting and is queued.
fn scenario_run(
    module: &crate::flow::FlowDocument,
    parent_args: &CreateParentArgs,
    out: Printer,
) -> Result<()> {
    let parent = crate::flow::render_parent(&crate::flow::ParentTemplate {
        name: PARENTS[0].into(),
        description: parent_args.description.clone(),
        division: parent_args
            .division
            .clone()
            .unwrap_or_else(|| crate::flow::DEFAULT_DIVISION.into()),
        language: parent_args.language.clone(),
        modules: vec![SHARED.into()],
        queue: QUEUE.into(),
    })?;
    let mut lib = crate::walk::engine::Library::default();
    lib.add(&module.yaml, SHARED)?;
    lib.add(&parent.yaml, PARENTS[0])?;
    let text = format!(
        "scenarios:\n  - name: a caller hears the shared greeting, then waits for an agent\n    flow: {}\n    expect:\n      calls: [{SHARED}]\n      transfer: {{queue: {QUEUE}}}\n      says: [\"shared flow\"]\n",
        PARENTS[0]
    );
    let scenarios =
        crate::walk::scenario::parse(&text, "demo scenarios").map_err(|m| Error::input(m, None))?;
    let results = super::test::run_scenarios(&lib, &scenarios)?;
    super::test::print(&results, Printer::new(OutputFormat::Text, out.quiet));
    if results
        .iter()
        .any(|r| r.status != crate::walk::scenario::Status::Pass)
    {
        return Err(Error::VerificationFailed {
            failed: 1,
            unknown: 0,
        });
    }
    Ok(())
}

/// A tree of module → callers → queues, from dependency tracking: the same drawing as
/// `flowctl graph --format tree`.
async fn picture(session: &Session) -> Result<String> {
    let client = &session.client;
    let mut graph = Graph::default();
    for m in client.list_flows(&[FlowType::CommonModule]).await? {
        let module = graph.node(NodeKind::Module, &m.name);
        let callers = client.module_callers(&m.id).await?;
        for c in callers {
            let caller = graph.node(NodeKind::Flow, c.name.as_deref().unwrap_or(&c.id));
            graph.edge(caller, module);
            let version = c.version.clone().unwrap_or_default();
            for q in client
                .consumed_resources(
                    &c.id,
                    &version,
                    FlowType::InboundCall.object_type().unwrap_or_default(),
                    &["QUEUE"],
                )
                .await?
            {
                let queue = graph.node(NodeKind::Queue, q.name.as_deref().unwrap_or(&q.id));
                graph.edge(caller, queue);
            }
        }
    }
    Ok(graph.tree())
}

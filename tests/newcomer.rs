//! A newcomer's first hour (issue 18): every hint runs as printed, no wait is silent,
//! lookups help, output speaks with one voice, and the README's examples run as written.

mod common;

use common::Org;
use flowctl::emulator::{EmulatorConfig, Seed};
use flowctl::models::FlowType;
use std::time::Duration;

const QUEUE: &str = "General Support";

fn flow(org: &Org, name: &str, t: FlowType) -> Option<flowctl::models::Flow> {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name && f.flow_type == t)
}

fn seeded(divisions: &[&str]) -> EmulatorConfig {
    EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        seed: Some(Seed {
            divisions: divisions.iter().map(|d| d.to_string()).collect(),
            ..Seed::default()
        }),
        ..EmulatorConfig::default()
    }
}

/// The `fix:` lines of a text report, split into words as a shell would.
fn fixes(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fix: "))
        .filter(|l| l.starts_with("flowctl "))
        .map(|l| shlex::split(l).unwrap_or_else(|| panic!("not shell words: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_fix_runs_as_printed_keeping_the_queue_and_the_division() {
    let org = Org::with(seeded(&["Ventes"])).await;
    let module = "Ventes d'été \"VIP\"";
    let parent = "Entrée $HOME `VIP`";
    let r = org.flowctl(&["create-shared", "--name", module]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            parent,
            "--shared",
            module,
            "--queue",
            "Sales",
            "--division",
            "Ventes",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    // A new module version makes the parent stale.
    let r = org
        .flowctl(&["create-shared", "--name", module, "--greeting", "Bonjour"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");

    // verify is not told the queue: the fix must carry the one the parent uses.
    let r = org
        .flowctl(&["verify", "--shared", module, "--parent", parent])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let fix = fixes(&r.stdout).into_iter().next().expect("a fix line");
    assert_eq!(fix[0], "flowctl", "{r:?}");
    assert!(!fix.iter().any(|w| w == "QUEUE"), "{fix:?}");
    let words: Vec<&str> = fix.iter().skip(1).map(String::as_str).collect();
    assert!(
        words
            .windows(2)
            .any(|w| w == ["--name", parent] || w == ["--shared", module]),
        "{fix:?}"
    );

    let r = org.flowctl(&words).await;
    assert_eq!(r.code, 0, "the printed fix {fix:?} failed: {r:?}");
    let r = org
        .flowctl(&["verify", "--shared", module, "--parent", parent])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let p = flow(&org, parent, FlowType::InboundCall).expect("parent");
    assert_eq!(
        p.division.and_then(|d| d.name).as_deref(),
        Some("Ventes"),
        "the fix moved the flow out of its division"
    );
    let r = org
        .flowctl(&[
            "verify", "--shared", module, "--parent", parent, "--queue", "Sales",
        ])
        .await;
    assert_eq!(r.code, 0, "the fix changed the queue: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_for_a_missing_parent_names_the_queue_it_needs_instead_of_a_placeholder() {
    let org = Org::new().await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greeting Module",
            "--parent",
            "Nowhere",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("\"QUEUE\""), "{r:?}");
    assert!(
        r.stdout
            .contains("--queue NAME (the queue it should transfer to"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_says_what_it_waits_for_while_the_index_lags() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        index_lag: Duration::from_millis(2500),
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greeting Module",
            "--parent",
            "Inbound Sales Flow",
            "--wait",
            "30",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("waiting for the dependency index to show every link (up to 30 s)"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_architect_job_is_announced_on_stderr() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(2500),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("waiting for Architect job"), "{r:?}");
    assert!(r.stderr.contains("(up to 300 s)"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_keeps_waits_silent() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(1500),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["-q", "create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("waiting for"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_wait_is_announced_on_stderr() {
    let org = Org::new().await;
    org.emulator
        .script_faults(vec![flowctl::emulator::Fault::Status429 { retry_after: 3 }]);
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("waiting for"), "{r:?}");
    assert!(r.stderr.contains("rate limit"), "{r:?}");
}

async fn module_and_parent(org: &Org) {
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

async fn create_parent_calling(org: &Org, shared: &str) -> common::Run {
    org.flowctl(&[
        "create-parent",
        "--name",
        "New Flow",
        "--shared",
        shared,
        "--queue",
        QUEUE,
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_module_gets_close_names_and_no_hint_to_create_the_typo() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let r = create_parent_calling(&org, "Shared Greting Module").await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("did you mean 'Shared Greeting Module'?"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("create-shared"), "{r:?}");
    assert!(flow(&org, "New Flow", FlowType::InboundCall).is_none());

    // verify words it the same way.
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greting Module",
            "--parent",
            "Inbound Sales Flow",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("did you mean 'Shared Greeting Module'?"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("create-shared"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_of_another_type_is_named_as_such() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let r = create_parent_calling(&org, "Inbound Sales Flow").await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("'Inbound Sales Flow' is an inbound call flow, not a common module"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("does not exist"), "{r:?}");

    let id = flow(&org, "Inbound Sales Flow", FlowType::InboundCall)
        .expect("parent")
        .id;
    let r = create_parent_calling(&org, &id).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("is an inbound call flow, not a common module"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_is_never_offered_as_a_name_to_create() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let r = create_parent_calling(&org, id).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!("no flow has the id {id}")),
        "{r:?}"
    );
    assert!(!r.stderr.contains("create-shared"), "{r:?}");

    let r = org
        .flowctl(&["verify", "--shared", id, "--parent", "Inbound Sales Flow"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("create-shared"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_module_name_is_offered_to_be_created() {
    let org = Org::new().await;
    let r = create_parent_calling(&org, "Billing Hours").await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("publish it first: flowctl create-shared --name 'Billing Hours'"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_a_module_names_its_stale_callers_and_the_commands_that_republish_them() {
    let org = Org::with(seeded(&["Ventes"])).await;
    let module = "Shared Greeting Module";
    assert_eq!(
        org.flowctl(&["create-shared", "--name", module]).await.code,
        0
    );
    for (name, queue, division) in [
        ("Inbound Sales Flow", QUEUE, "Home"),
        ("Inbound Support Flow", QUEUE, "Home"),
        ("Ventes Entrée", "Sales", "Ventes"),
    ] {
        let r = org
            .flowctl(&[
                "create-parent",
                "--name",
                name,
                "--shared",
                module,
                "--queue",
                queue,
                "--division",
                division,
            ])
            .await;
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = org
        .flowctl(&["create-shared", "--name", module, "--greeting", "New words"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    for name in [
        "Inbound Sales Flow",
        "Inbound Support Flow",
        "Ventes Entrée",
    ] {
        assert!(
            r.stdout.contains(&format!("inbound call flow '{name}'")),
            "{r:?}"
        );
    }
    let commands: Vec<Vec<String>> = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("republish: "))
        .map(|l| shlex::split(l).unwrap_or_else(|| panic!("not shell words: {l}")))
        .collect();
    assert_eq!(commands.len(), 2, "one per queue and division: {r:?}");
    for c in &commands {
        let words: Vec<&str> = c.iter().skip(1).map(String::as_str).collect();
        let run = org.flowctl(&words).await;
        assert_eq!(run.code, 0, "{c:?}: {run:?}");
    }
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            module,
            "--parent",
            "Inbound Sales Flow",
            "--parent",
            "Inbound Support Flow",
            "--parent",
            "Ventes Entrée",
        ])
        .await;
    assert_eq!(r.code, 0, "still stale after the printed commands: {r:?}");
    let ventes = flow(&org, "Ventes Entrée", FlowType::InboundCall).expect("flow");
    assert_eq!(
        ventes.division.and_then(|d| d.name).as_deref(),
        Some("Ventes")
    );

    // JSON carries the same.
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-shared",
            "--name",
            module,
            "--greeting",
            "Newer",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let json = r.json();
    assert_eq!(
        json["staleCallers"].as_array().map(Vec::len),
        Some(3),
        "{json:#}"
    );
    assert_eq!(
        json["republish"].as_array().map(Vec::len),
        Some(2),
        "{json:#}"
    );
}

//! An operator's safety, as a careless operator meets it: a re-run never moves a flow to
//! another division, a typo never forks a module, two applies at once publish once, a token
//! cache others can read is not used, a file's content never lands in an error, and the
//! small frictions (did-you-mean, type names, markdown plan, verify without --parent).

mod common;

use common::{Org, Run};
use flowctl::emulator::{EmulatorConfig, Seed};
use flowctl::models::FlowType;
use std::time::Duration;

const MODULE: &str = "Shared Greeting Module";
const QUEUE: &str = "General Support";

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

fn flow(org: &Org, name: &str, t: FlowType) -> flowctl::models::Flow {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name && f.flow_type == t)
        .unwrap_or_else(|| panic!("no {t:?} '{name}'"))
}

fn division_of(org: &Org, name: &str, t: FlowType) -> String {
    flow(org, name, t)
        .division
        .and_then(|d| d.name)
        .unwrap_or_default()
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "{r:?}");
}

// 1. Divisions: a re-run never moves a flow silently.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_without_division_keeps_the_parent_where_it_is() {
    let org = Org::with(seeded(&["Sales Division"])).await;
    ok(&org.flowctl(&["create-shared", "--name", MODULE]).await);
    let parent = "Inbound Sales Flow";
    let first = [
        "create-parent",
        "--name",
        parent,
        "--shared",
        MODULE,
        "--queue",
        QUEUE,
    ];
    let mut with_division = first.to_vec();
    with_division.extend(["--division", "Sales Division"]);
    ok(&org.flowctl(&with_division).await);
    assert_eq!(
        division_of(&org, parent, FlowType::InboundCall),
        "Sales Division"
    );
    let id = flow(&org, parent, FlowType::InboundCall).id;
    let versions = org.emulator.flow_versions(&id).len();

    // A hand-typed re-run without --division: the flow stays, and nothing is published.
    let r = org.flowctl(&first).await;
    ok(&r);
    assert_eq!(
        division_of(&org, parent, FlowType::InboundCall),
        "Sales Division",
        "{r:?}"
    );
    assert!(r.stdout.contains("unchanged"), "{r:?}");
    assert_eq!(org.emulator.flow_versions(&id).len(), versions, "{r:?}");

    // Naming another division moves it, and says so.
    let mut home = first.to_vec();
    home.extend(["--division", "Home"]);
    let r = org.flowctl(&home).await;
    ok(&r);
    assert_eq!(division_of(&org, parent, FlowType::InboundCall), "Home");
    assert!(
        r.stderr.contains(
            "moves inbound call flow 'Inbound Sales Flow' from division 'Sales Division' to 'Home'"
        ),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_rerun_without_division_keeps_its_division() {
    let org = Org::with(seeded(&["Sales Division"])).await;
    ok(&org
        .flowctl(&[
            "create-shared",
            "--name",
            MODULE,
            "--division",
            "Sales Division",
        ])
        .await);
    let r = org
        .flowctl(&["create-shared", "--name", MODULE, "--greeting", "Hi there."])
        .await;
    ok(&r);
    assert!(r.stdout.contains("updated"), "{r:?}");
    assert_eq!(
        division_of(&org, MODULE, FlowType::CommonModule),
        "Sales Division",
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_without_division_keeps_each_flow_where_it_is() {
    let org = Org::with(seeded(&["Sales Division"])).await;
    ok(&org
        .flowctl(&[
            "create-shared",
            "--name",
            MODULE,
            "--division",
            "Sales Division",
        ])
        .await);
    std::fs::write(
        org.path().join("flows.yaml"),
        format!("modules:\n  - name: {MODULE}\n    greeting: Hello, thank you for calling.\n"),
    )
    .expect("write");
    let r = org
        .flowctl(&["plan", "-f", "flows.yaml", "--output", "json"])
        .await;
    ok(&r);
    assert_eq!(r.plan_actions()[0].1, "unchanged", "{r:?}");
    let r = org.flowctl(&["apply", "-f", "flows.yaml"]).await;
    ok(&r);
    assert_eq!(
        division_of(&org, MODULE, FlowType::CommonModule),
        "Sales Division",
        "{r:?}"
    );
    // A division named in the manifest that differs moves it, and the plan says so.
    std::fs::write(
        org.path().join("flows.yaml"),
        format!("modules:\n  - name: {MODULE}\n    division: Home\n    greeting: Hello, thank you for calling.\n"),
    )
    .expect("write");
    let r = org
        .flowctl(&["plan", "-f", "flows.yaml", "--output", "json"])
        .await;
    ok(&r);
    let (_, action, reason) = r.plan_actions()[0].clone();
    assert_eq!(action, "update", "{r:?}");
    assert!(
        reason.contains("moves it from division 'Sales Division' to 'Home'"),
        "{r:?}"
    );
}

// 2. Near-miss names: a typo never forks a module.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_miss_module_name_is_refused_with_the_close_name() {
    let org = Org::new().await;
    ok(&org.flowctl(&["create-shared", "--name", MODULE]).await);
    for typo in ["Shared greeting Module", "Shared Greting Module"] {
        let r = org.flowctl(&["create-shared", "--name", typo]).await;
        assert_eq!(r.code, 2, "{typo}: {r:?}");
        assert!(r.stderr.contains(&format!("'{MODULE}'")), "{r:?}");
        assert!(r.stderr.contains("--new-flow"), "{r:?}");
    }
    let modules = org
        .emulator
        .flows()
        .into_iter()
        .filter(|f| f.flow_type == FlowType::CommonModule)
        .count();
    assert_eq!(modules, 1, "no second module was created");
    // Saying so creates it.
    let r = org
        .flowctl(&[
            "create-shared",
            "--name",
            "Shared Greting Module",
            "--new-flow",
        ])
        .await;
    ok(&r);
    assert!(r.stdout.contains("created"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_miss_parent_or_manifest_name_is_refused_too() {
    let org = Org::new().await;
    ok(&org.flowctl(&["create-shared", "--name", MODULE]).await);
    let parent = |name: &'static str| {
        vec![
            "create-parent",
            "--name",
            name,
            "--shared",
            MODULE,
            "--queue",
            QUEUE,
        ]
    };
    ok(&org.flowctl(&parent("Inbound Sales Flow")).await);
    let r = org.flowctl(&parent("inbound sales flow")).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("'Inbound Sales Flow'"), "{r:?}");

    std::fs::write(
        org.path().join("flows.yaml"),
        "modules:\n  - name: Shared Greeting Modul\n    greeting: Hi.\n",
    )
    .expect("write");
    let r = org.flowctl(&["apply", "-f", "flows.yaml"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&format!("'{MODULE}'")), "{r:?}");
    let r = org
        .flowctl(&[
            "apply",
            "-f",
            "flows.yaml",
            "--new-flow",
            "Shared Greeting Modul",
        ])
        .await;
    ok(&r);
}

// 3. One apply per org at a time.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_applies_at_once_publish_each_flow_once() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(300),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let mut manifest = format!("modules:\n  - name: {MODULE}\n    greeting: Hello.\nflows:\n");
    for i in 0..4 {
        manifest.push_str(&format!(
            "  - name: Caller {i}\n    modules: [{MODULE}]\n    queue: {QUEUE}\n"
        ));
    }
    std::fs::write(org.path().join("flows.yaml"), manifest).expect("write");
    let (a, b) = tokio::join!(
        org.flowctl(&["apply", "-f", "flows.yaml"]),
        org.flowctl(&["apply", "-f", "flows.yaml"])
    );
    ok(&a);
    ok(&b);
    for f in org.emulator.flows() {
        assert_eq!(
            org.emulator.flow_versions(&f.id).len(),
            1,
            "'{}' was published more than once:\n{a:?}\n{b:?}",
            f.name
        );
    }
    let waited = format!("{}{}", a.stderr, b.stderr);
    assert!(
        waited.contains("waiting for another flowctl"),
        "one of them said it waited: {a:?}\n{b:?}"
    );
}

// 4. A token cache others can read is not used.

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_cache_others_can_read_is_not_used_and_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let org = Org::new().await;
    ok(&org.flowctl(&["whoami"]).await);
    let dir = org.path().join("cache").join("flowctl");
    let cache = std::fs::read_dir(&dir)
        .expect("cache dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("token-"))
        })
        .expect("a token cache");
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let tokens = |org: &Org| {
        org.emulator
            .requests()
            .iter()
            .filter(|(_, p, _)| p.starts_with("/oauth/token"))
            .count()
    };
    let before = tokens(&org);
    let r = org.flowctl(&["whoami"]).await;
    ok(&r);
    assert!(
        r.stderr.contains("readable by other users"),
        "a warning: {r:?}"
    );
    assert_eq!(tokens(&org), before + 1, "a new token was fetched");
    if let Ok(meta) = std::fs::metadata(&cache) {
        assert_eq!(meta.permissions().mode() & 0o077, 0, "rewritten 0600");
    }
}

// 7. No file contents in errors.

#[tokio::test]
async fn a_file_that_is_not_architect_yaml_is_named_not_quoted() {
    let dir = tempfile::tempdir().expect("dir");
    let secret = "root:$6$saltsalt$c2VjcmV0aGFzaA:19000:0:99999:7:::";
    std::fs::write(dir.path().join("shadow.yaml"), format!("{secret}\n")).expect("write");
    std::fs::write(
        dir.path().join("flows.yaml"),
        "modules:\n  - file: shadow.yaml\n",
    )
    .expect("write");
    for args in [
        vec!["create-shared", "--file", "shadow.yaml", "--dry-run"],
        vec!["lint", "shadow.yaml"],
        vec!["lint", "-f", "flows.yaml"],
    ] {
        let r = common::run_in(dir.path(), &args, Vec::new()).await;
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains("shadow.yaml"), "{args:?}: {r:?}");
        assert!(
            !all.contains("$6$") && !all.contains("c2VjcmV0aGFzaA") && !all.contains("root"),
            "{args:?}: the file's content was echoed: {r:?}"
        );
    }
}

// 9. Small frictions.

#[tokio::test]
async fn an_unknown_region_gets_the_close_name() {
    let dir = tempfile::tempdir().expect("dir");
    let r = common::run_in(
        dir.path(),
        &["whoami"],
        vec![
            ("GENESYS_REGION".into(), "eu-west1".into()),
            ("GENESYS_CLIENT_ID".into(), "id".into()),
            ("GENESYS_CLIENT_SECRET".into(), "secret".into()),
        ],
    )
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("did you mean 'eu-west-1'"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_division_in_a_manifest_gets_the_close_name() {
    let org = Org::with(seeded(&["Sales Division"])).await;
    std::fs::write(
        org.path().join("flows.yaml"),
        format!("modules:\n  - name: {MODULE}\n    division: Sales Divison\n    greeting: Hi.\n"),
    )
    .expect("write");
    let r = org.flowctl(&["plan", "-f", "flows.yaml"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("did you mean 'Sales Division'"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_text_names_types_in_words() {
    let org = Org::new().await;
    ok(&org.flowctl(&["create-shared", "--name", MODULE]).await);
    let r = org
        .flowctl(&["export", "--name", MODULE, "--out", "adopted"])
        .await;
    ok(&r);
    assert!(!r.stdout.contains("COMMONMODULE"), "{r:?}");
    assert!(r.stdout.contains("common module"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_markdown_prints_only_the_markdown() {
    let org = Org::new().await;
    std::fs::write(
        org.path().join("flows.yaml"),
        format!("modules:\n  - name: {MODULE}\n    greeting: Hi.\n"),
    )
    .expect("write");
    let r = org
        .flowctl(&["plan", "-f", "flows.yaml", "--output", "markdown"])
        .await;
    ok(&r);
    assert!(r.stdout.contains("| action |"), "{r:?}");
    assert!(!r.stderr.contains("plan: 1 to create"), "{r:?}");
    assert!(!r.stdout.contains("plan: 1 to create"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_without_parent_checks_every_known_caller() {
    let org = Org::new().await;
    ok(&org.flowctl(&["create-shared", "--name", MODULE]).await);
    ok(&org
        .flowctl(&[
            "create-parent",
            "--name",
            "Caller A",
            "--name",
            "Caller B",
            "--shared",
            MODULE,
            "--queue",
            QUEUE,
        ])
        .await);
    let r = org
        .flowctl(&["verify", "--shared", MODULE, "--output", "json"])
        .await;
    ok(&r);
    let text = r.stdout.clone();
    assert!(
        text.contains("Caller A") && text.contains("Caller B"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("2 published caller(s)"),
        "says how many: {r:?}"
    );
}

//! `flowctl import terraform` on fixture configurations in the CX-as-Code provider's
//! documented shapes, and the imported manifest applied to the emulator.

mod common;

use common::Org;
use flowctl::models::FlowType;
use std::path::{Path, PathBuf};

const REPO: &str = "contact-center";

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terraform")
        .join(name)
}

/// Copies a fixture configuration into the test's directory (the import writes there).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read fixture") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn repo(org: &Org, name: &str) -> String {
    let dir = org.path().join(name);
    copy_tree(&fixture_dir(name), &dir);
    dir.to_str().expect("utf-8").to_string()
}

fn with_queues(org: &Org) {
    org.emulator.add_queue("DEV One To One");
    org.emulator.add_queue("DEV Pool Attention");
}

fn jobs(org: &Org) -> usize {
    org.emulator
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v2/flows/jobs")
        .count()
}

fn published_at(org: &Org, name: &str) -> i64 {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name)
        .and_then(|f| f.published_version)
        .and_then(|v| v.date_created)
        .unwrap_or_else(|| panic!("'{name}' is not published"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_repository_applies_ten_flows_once_in_an_order_architect_accepts() {
    let org = Org::new().await;
    with_queues(&org);
    let dir = repo(&org, REPO);
    let out = format!("{dir}/flowctl.yaml");
    let r = org
        .flowctl(&["import", "terraform", &dir, "--out", &out])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    for expected in [
        "wrote",
        "3 modules, 7 flows",
        "resource genesyscloud_routing_queue 'DEV One To One'  (modules/routing-bundle/queues.tf:1)",
        "data genesyscloud_auth_division 'Home'  (main.tf:11)",
        "left out 7 depends_on",
        "modules/routing-bundle/flows.tf:87: file_content_hash:",
        "next: flowctl plan -f",
    ] {
        assert!(r.stdout.contains(expected), "'{expected}' not in:\n{}", r.stdout);
    }
    let manifest = std::fs::read_to_string(&out).expect("manifest written");
    // Three files fill {{common_module_name}}, each with its own value.
    for name in [
        "common_module_name: RoutingModule_dev",
        "common_module_name: OneToOneModule_dev",
        "common_module_name: PoolAttentionModule_dev",
        "file: modules/routing-bundle/commonmodules/RoutingModule.yaml",
    ] {
        assert!(manifest.contains(name), "'{name}' not in:\n{manifest}");
    }
    assert!(
        !manifest
            .lines()
            .any(|l| !l.starts_with('#') && l.contains("depends_on")),
        "{manifest}"
    );

    // lint -f reads each file with its entry's substitutions.
    let r = org.flowctl(&["lint", "-f", &out]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "commonModule 'OneToOneModule_dev': in-queue flows [Q1 Sales Wait], queues [DEV One To One]"
        ),
        "{}",
        r.stdout
    );

    let r = org.flowctl(&["apply", "-f", &out]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let flows = org.emulator.flows();
    assert_eq!(flows.len(), 10, "{flows:#?}");
    assert!(
        flows
            .iter()
            .all(|f| f.published_version.as_ref().is_some_and(|v| v.id == "1.0")),
        "one version each: {flows:#?}"
    );
    assert_eq!(jobs(&org), 10, "one job per flow, every one succeeded");
    // Architect resolves these names at publish: each named flow went first.
    for (first, then) in [
        ("Q2 Sales Wait", "Q1 Sales Wait"),
        ("Q2 Service Wait", "Q1 Service Wait"),
        ("Q1 Sales Wait", "OneToOneModule_dev"),
        ("Q2 Sales Wait", "PoolAttentionModule_dev"),
        ("OneToOneModule_dev", "RoutingModule_dev"),
        ("RoutingModule_dev", "Main Line"),
        ("IntentBot_dev", "Main Line"),
    ] {
        assert!(
            published_at(&org, first) <= published_at(&org, then),
            "'{first}' must publish before '{then}'"
        );
    }
    let kinds = |t: FlowType| flows.iter().filter(|f| f.flow_type == t).count();
    assert_eq!(kinds(FlowType::InQueueCall), 4);
    assert_eq!(kinds(FlowType::CommonModule), 3);
    assert_eq!(kinds(FlowType::Bot), 1);

    // verify -f: every flow, and each module naming an in-queue flow, through dependency
    // tracking.
    let r = org
        .flowctl(&["--output", "json", "verify", "-f", &out, "--wait", "5"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let checks = r.json()["checks"].as_array().cloned().unwrap_or_default();
    for expected in [
        "parent 'OneToOneModule_dev' uses in-queue flow 'Q1 Sales Wait'",
        "parent 'Q1 Service Wait' uses in-queue flow 'Q2 Service Wait'",
        "parent 'Main Line' uses bot flow 'IntentBot_dev'",
    ] {
        assert!(
            checks.iter().any(|c| c["status"] == "pass"
                && format!(
                    "{} {}",
                    c["subject"].as_str().unwrap_or(""),
                    c["check"].as_str().unwrap_or("")
                ) == expected),
            "'{expected}' did not pass: {checks:#?}"
        );
    }

    let r = org.flowctl(&["--output", "json", "plan", "-f", &out]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let actions = r.plan_actions();
    assert_eq!(actions.len(), 10);
    assert!(
        actions.iter().all(|(_, a, _)| a == "unchanged"),
        "{actions:?}"
    );
    // Each value's source includes the entry it came from.
    let subs = r.json()["substitutions"].clone();
    assert!(
        subs.as_array()
            .is_some_and(|s| s.iter().any(|x| x["key"] == "common_module_name"
                && x["value"] == "OneToOneModule_dev"
                && x["source"] == "modules[1].substitutions")),
        "{subs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_flows_another_tool_published_registers_no_job() {
    let org = Org::new().await;
    with_queues(&org);
    let dir = repo(&org, REPO);
    let out = format!("{dir}/flowctl.yaml");
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "import",
            "terraform",
            &dir,
            "--out",
            &out,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    // Terraform's publish: each file with its substitutions, no flowctl marker, by another
    // OAuth client, in whatever order Architect accepts.
    let json = r.json();
    let mut pending: Vec<String> = ["modules", "flows"]
        .iter()
        .flat_map(|k| json[*k].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let mut text =
                std::fs::read_to_string(e["file"].as_str().expect("file")).expect("flow file");
            for (k, v) in e["substitutions"].as_object().expect("map") {
                text = text.replace(&format!("{{{{{k}}}}}"), v.as_str().expect("string"));
            }
            text
        })
        .collect();
    assert_eq!(pending.len(), 10);
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|yaml| {
            org.emulator
                .publish_as_client(yaml, "terraform-provider-client")
                .is_err()
        });
        assert!(pending.len() < before, "Architect refused: {pending:?}");
    }
    let before = jobs(&org);
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &out])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(jobs(&org), before, "no job registered: {r:?}");
    let results = r.json()["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 10);
    assert!(
        results.iter().all(|x| x["outcome"] == "unchanged"),
        "{results:?}"
    );
}

#[tokio::test]
async fn variables_come_from_var_var_files_tfvars_and_the_environment_in_terraforms_order() {
    let org = Org::new().await;
    let dir = repo(&org, REPO);
    let out = format!("{dir}/out/flowctl.yaml");
    // TF_VAR_ ranks below terraform.tfvars, so it does not win here.
    let r = org
        .flowctl_env(
            &["import", "terraform", &dir, "--out", &out],
            &[("TF_VAR_TF_ENV", "env")],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("RoutingModule_dev"), "{text}");
    assert!(text.contains("file: ../modules/routing-bundle/"), "{text}");
    // Without terraform.tfvars the environment gives the value.
    std::fs::remove_file(format!("{dir}/terraform.tfvars")).expect("rm");
    let r = org
        .flowctl_env(
            &["import", "terraform", &dir, "--out", &out, "--force"],
            &[("TF_VAR_TF_ENV", "env")],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::read_to_string(&out)
        .expect("written")
        .contains("RoutingModule_env"));
    // A var-file wins over the environment, and --var over the var-file.
    std::fs::write(format!("{dir}/prod.tfvars"), "TF_ENV = \"prod\"\n").expect("write");
    let var_file = format!("{dir}/prod.tfvars");
    let r = org
        .flowctl_env(
            &[
                "import",
                "terraform",
                &dir,
                "--out",
                &out,
                "--force",
                "--var-file",
                &var_file,
            ],
            &[("TF_VAR_TF_ENV", "env")],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.contains("RoutingModule_prod"), "{text}");
    assert!(text.contains("queue_name: PROD Pool Attention"), "{text}");
    let r = org
        .flowctl(&[
            "import",
            "terraform",
            &dir,
            "--out",
            &out,
            "--force",
            "--var-file",
            &var_file,
            "--var",
            "TF_ENV=test",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::read_to_string(&out)
        .expect("written")
        .contains("RoutingModule_test"));
    // No value at all: reported with the variable's line, and the manifest says so.
    std::fs::remove_file(&var_file).expect("rm");
    let r = org
        .flowctl(&["import", "terraform", &dir, "--out", &out, "--force"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "main.tf:1: var.TF_ENV: variable 'TF_ENV' has no value: give it with --var TF_ENV=..."
        ),
        "{}",
        r.stdout
    );
    // An existing manifest is not overwritten without --force.
    let r = org
        .flowctl(&["import", "terraform", &dir, "--out", &out])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already exists"), "{r:?}");
}

#[tokio::test]
async fn what_cannot_be_translated_is_reported_with_its_file_line_and_construct() {
    let org = Org::new().await;
    let dir = repo(&org, "untranslatable");
    let out = format!("{dir}/flowctl.yaml");
    let r = org
        .flowctl(&[
            "import",
            "terraform",
            &dir,
            "--out",
            &out,
            "--var",
            "env=qa",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    for expected in [
        "main.tf:14: local.checksum: local 'checksum' cannot be evaluated: function md5() is not translated",
        "main.tf:15: local.from_file: local 'from_file' cannot be evaluated",
        "main.tf:20: file_content_hash: genesyscloud_flow.greeting: not translated",
        "main.tf:21: local.checksum: genesyscloud_flow.greeting: substitution 'build' cannot be evaluated",
        "main.tf:28: for_each: genesyscloud_flow.per_region uses `for_each`",
        "main.tf:33: count: genesyscloud_flow.copies uses `count`",
        "main.tf:38: module source: module.shared: source 'git::https://example.com/flows.git//modules/shared' is not a local directory",
        "main.tf:43: resource null_resource: resource null_resource.notify is not a Genesys Cloud resource",
        "resource genesyscloud_architect_schedulegroups 'ACME_QA Hours'  (main.tf:46)",
        "resource genesyscloud_integration_action 'Customer Lookup'  (main.tf:50)",
    ] {
        assert!(r.stdout.contains(expected), "'{expected}' not in:\n{}", r.stdout);
    }
    let manifest = std::fs::read_to_string(&out).expect("written");
    // What was translated is there; what was not is listed in the manifest too.
    assert!(
        manifest.contains("module_name: ACME_QA_Greeting"),
        "{manifest}"
    );
    assert!(manifest.contains("queue: General Support"), "{manifest}");
    assert!(manifest.contains("# Not translated:"), "{manifest}");
    assert!(manifest.contains("main.tf:28: for_each"), "{manifest}");
    // The unfilled placeholder is what the first plan would refuse: said now.
    assert!(
        r.stdout.contains("the manifest does not load yet") && r.stdout.contains("{{build}}"),
        "{}",
        r.stdout
    );
}

#[tokio::test]
async fn a_directory_without_flows_writes_nothing_and_exits_2() {
    let org = Org::new().await;
    let dir = org.path().join("empty");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    let out = dir.join("flowctl.yaml");
    let r = org
        .flowctl(&[
            "import",
            "terraform",
            dir.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no genesyscloud_flow resource"), "{r:?}");
    assert!(!out.exists());
}

#[tokio::test]
async fn a_value_holding_the_client_secret_is_never_written() {
    let org = Org::new().await;
    let dir = repo(&org, REPO);
    let out = format!("{dir}/flowctl.yaml");
    let secret = flowctl::emulator::DEFAULT_CLIENT_SECRET;
    let var = format!("TF_ENV={secret}");
    let r = org
        .flowctl(&["import", "terraform", &dir, "--out", &out, "--var", &var])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("module.routing.genesyscloud_flow.routing_module (modules/routing-bundle/flows.tf:2): substitution 'common_module_name'"),
        "{r:?}"
    );
    assert!(
        !r.stderr.contains(secret) && !r.stdout.contains(secret),
        "{r:?}"
    );
    assert!(!Path::new(&out).exists());
}

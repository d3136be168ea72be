//! Flows as code end to end: plan, apply, verify -f, destroy, graph on the emulator.

mod common;

use common::Org;
use flowctl::emulator::EmulatorConfig;
use flowctl::models::FlowType;
use std::collections::HashMap;
use std::time::Duration;

fn manifest_with_callers(n: usize, greeting: &str) -> String {
    let mut s = format!(
        "substitutions:\n  region_queue: General Support\nmodules:\n  - name: Shared Greeting Module\n    greeting: {greeting}\nflows:\n"
    );
    for i in 0..n {
        s.push_str(&format!(
            "  - name: Caller {i:02}\n    modules: [Shared Greeting Module]\n    queue: \"{{{{region_queue}}}}\"\n"
        ));
    }
    s
}

fn write(org: &Org, name: &str, text: &str) -> String {
    let path = org.path().join(name);
    std::fs::write(&path, text).expect("write manifest");
    path.to_str().expect("utf-8").to_string()
}

/// name -> (number of flows with that name, published version)
fn census(org: &Org) -> HashMap<String, (usize, Option<String>)> {
    let mut out: HashMap<String, (usize, Option<String>)> = HashMap::new();
    for f in org.emulator.flows() {
        let e = out.entry(f.name.clone()).or_insert((0, None));
        e.0 += 1;
        e.1 = f.published_version.map(|v| v.id);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_callers_apply_then_nothing_then_cascade_on_module_change() {
    let org = Org::new().await;
    let path = write(
        &org,
        "flows.yaml",
        &manifest_with_callers(20, "Hello from the module"),
    );

    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let c = census(&org);
    assert_eq!(c.len(), 21, "{c:?}");
    assert!(
        c.values()
            .all(|(n, v)| *n == 1 && v.as_deref() == Some("1.0")),
        "{c:?}"
    );

    // A second apply publishes nothing.
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let results = r.json()["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), 21);
    assert!(
        results.iter().all(|x| x["outcome"] == "unchanged"),
        "{results:?}"
    );
    assert!(census(&org)
        .values()
        .all(|(_, v)| v.as_deref() == Some("1.0")));

    // A changed module: plan says why every caller republishes.
    let path = write(
        &org,
        "flows.yaml",
        &manifest_with_callers(20, "A new greeting"),
    );
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let actions = r.json()["actions"].as_array().expect("actions").clone();
    let module = actions
        .iter()
        .find(|a| a["type"] == "COMMONMODULE")
        .expect("module action");
    assert_eq!(module["action"], "update");
    assert_eq!(module["reason"], "content changed");
    let callers: Vec<_> = actions
        .iter()
        .filter(|a| a["type"] == "INBOUNDCALL")
        .collect();
    assert_eq!(callers.len(), 20);
    for a in callers {
        assert_eq!(a["action"], "republish", "{a}");
        assert!(
            a["reason"]
                .as_str()
                .unwrap_or("")
                .contains("Shared Greeting Module"),
            "{a}"
        );
    }

    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let c = census(&org);
    assert!(
        c.values()
            .all(|(n, v)| *n == 1 && v.as_deref() == Some("2.0")),
        "{c:?}"
    );

    let r = org.flowctl(&["verify", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_flow_fails_alone_and_names_its_holder() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &manifest_with_callers(3, "Hello"));
    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);
    assert!(org
        .emulator
        .lock_flow("Caller 01", FlowType::InboundCall, "Jane Architect"));

    let path = write(&org, "flows.yaml", &manifest_with_callers(3, "Changed"));
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &path])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    let results = r.json()["results"].as_array().expect("results").clone();
    let by_name = |n: &str| {
        results
            .iter()
            .find(|x| x["name"] == n)
            .expect("result")
            .clone()
    };
    assert_eq!(by_name("Caller 01")["outcome"], "failed");
    assert!(by_name("Caller 01")["error"]
        .as_str()
        .unwrap_or("")
        .contains("Jane Architect"));
    assert_eq!(by_name("Caller 00")["outcome"], "published");
    assert_eq!(by_name("Caller 02")["outcome"], "published");
    assert_eq!(by_name("Shared Greeting Module")["outcome"], "published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_file_using_a_missing_queue_is_caught_by_the_plan() {
    let org = Org::new().await;
    let module = include_str!("fixtures/flows/queue_missing_module.yaml");
    write(&org, "broken.yaml", module);
    let manifest = "modules:\n  - file: broken.yaml\nflows:\n  - name: Needs Broken\n    modules: [Broken Module]\n    queue: Sales\n  - name: Independent\n    modules: []\n    queue: Sales\n";
    let path = write(&org, "flows.yaml", manifest);
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &path])
        .await;
    // The module's queue is checked offline-first by the plan: nothing is published.
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("No Such Queue Anywhere"), "{r:?}");
    assert!(org.emulator.flows().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_a_failed_module_are_skipped_with_the_reason() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &manifest_with_callers(2, "Hello"));
    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);
    assert!(org.emulator.lock_flow(
        "Shared Greeting Module",
        FlowType::CommonModule,
        "Jane Architect"
    ));
    let path = write(&org, "flows.yaml", &manifest_with_callers(2, "Changed"));
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &path])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    let results = r.json()["results"].as_array().expect("results").clone();
    for x in &results {
        if x["type"] == "COMMONMODULE" {
            assert_eq!(x["outcome"], "failed", "{x}");
        } else {
            assert_eq!(x["outcome"], "skipped", "{x}");
            assert!(
                x["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Shared Greeting Module"),
                "{x}"
            );
        }
    }
    assert!(
        census(&org)
            .values()
            .all(|(_, v)| v.as_deref() == Some("1.0")),
        "nothing republished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_apply_converges_on_rerun_without_duplicates() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(300),
        ..EmulatorConfig::default()
    })
    .await;
    let path = write(&org, "flows.yaml", &manifest_with_callers(10, "Hello"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowctl"))
        .args(["--no-token-cache", "apply", "-f", &path, "--parallel", "2"])
        .current_dir(org.path())
        .env_clear()
        .env("HOME", org.path())
        .env("GENESYS_API_BASE_URL", org.emulator.base_url())
        .env("GENESYS_CLIENT_ID", flowctl::emulator::DEFAULT_CLIENT_ID)
        .env(
            "GENESYS_CLIENT_SECRET",
            flowctl::emulator::DEFAULT_CLIENT_SECRET,
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn apply");
    // Kill it once some, but not all, flows exist.
    let mut some = false;
    for _ in 0..400 {
        let published = org
            .emulator
            .flows()
            .iter()
            .filter(|f| f.published_version.is_some())
            .count();
        if published >= 2 {
            some = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(some, "apply published something before it was killed");
    assert!(
        census(&org).len() < 11 || census(&org).values().any(|(_, v)| v.is_none()),
        "killed before the end"
    );

    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let c = census(&org);
    assert_eq!(c.len(), 11, "{c:?}");
    assert!(
        c.values().all(|(n, v)| *n == 1 && v.is_some()),
        "no duplicate, nothing lost: {c:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_deletes_callers_then_modules_and_leaves_nothing() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &manifest_with_callers(3, "Hello"));
    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);

    let r = org.flowctl(&["destroy", "-f", &path]).await;
    assert_eq!(r.code, 2, "without --yes nothing is deleted: {r:?}");
    assert!(r.stderr.contains("--yes"), "{r:?}");
    assert_eq!(org.emulator.flows().len(), 4);

    let r = org.flowctl(&["destroy", "-f", &path, "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        org.emulator.flows().is_empty(),
        "{:?}",
        org.emulator.flows()
    );
    // Again: everything is already gone, which is fine.
    let r = org.flowctl(&["destroy", "-f", &path, "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_refuses_a_module_used_outside_the_manifest() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &manifest_with_callers(1, "Hello"));
    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Outsider",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            "Sales",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org.flowctl(&["destroy", "-f", &path, "--yes"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("Outsider"), "{r:?}");
    assert_eq!(org.emulator.flows().len(), 3, "nothing deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_offline_check_exits_2_without_a_request() {
    let org = Org::new().await;
    write(&org, "own.yaml", "inboundCall:\n  name: \"{{flow_name}}\"\n  startUpRef: ./tasks/task[a]\n  tasks:\n    - task:\n        name: A\n        refId: a\n        actions:\n          - disconnect:\n              name: Bye\n");
    let long = "x".repeat(201);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "malformed YAML",
            "modules:\n  - name: [unclosed\n".into(),
            "bad.yaml:3:1: malformed YAML",
        ),
        (
            "unknown key",
            "flows:\n  - name: A\n    modlues: [M]\n    queue: Sales\n".into(),
            "did you mean `modules`",
        ),
        (
            "duplicate names",
            "flows:\n  - name: A\n    queue: Sales\n  - name: A\n    queue: Sales\n".into(),
            "duplicate name 'A'",
        ),
        (
            "name over 200",
            format!("flows:\n  - name: {long}\n    queue: Sales\n"),
            "at most 200",
        ),
        (
            "module cycle",
            "modules:\n  - file: a.yaml\n  - file: b.yaml\n".into(),
            "cycle",
        ),
        (
            "unreplaced placeholder",
            "flows:\n  - name: A\n    queue: \"{{nowhere}}\"\n".into(),
            "nowhere",
        ),
        (
            "placeholder in a file",
            "flows:\n  - file: own.yaml\n".into(),
            "flow_name",
        ),
    ];
    write(&org, "a.yaml", "commonModule:\n  name: A\n  startUpTaskActions:\n    - callCommonModule:\n        name: call b\n        commonModule:\n          B:\n            ver_latestPublished:\n              inputs: {}\n    - endTask:\n        name: done\n");
    write(&org, "b.yaml", "commonModule:\n  name: B\n  startUpTaskActions:\n    - callCommonModule:\n        name: call a\n        commonModule:\n          A:\n            ver_latestPublished:\n              inputs: {}\n    - endTask:\n        name: done\n");
    for (what, text, expect) in cases {
        let path = write(&org, "bad.yaml", &text);
        for cmd in ["plan", "apply"] {
            let r = org.flowctl(&[cmd, "-f", &path]).await;
            assert_eq!(r.code, 2, "{what} ({cmd}): {r:?}");
            assert!(
                r.stderr.contains(expect),
                "{what} ({cmd}): expected '{expect}' in {r:?}"
            );
        }
    }
    assert_eq!(
        org.emulator.request_count(),
        0,
        "offline checks sent requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_neither_in_the_manifest_nor_in_the_org_exits_2_before_publishing() {
    let org = Org::new().await;
    let path = write(
        &org,
        "flows.yaml",
        "modules:\n  - name: Mine\n    greeting: Hi\nflows:\n  - name: A\n    modules: [Mine, Somewhere Else]\n    queue: Sales\n",
    );
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("'Somewhere Else'"), "{r:?}");
    assert!(org.emulator.flows().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_draws_the_manifest_and_the_org() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &manifest_with_callers(2, "Hello"));
    let r = org.flowctl(&["graph", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("flowchart LR"), "{r:?}");
    assert!(r.stdout.contains("[[\"Shared Greeting Module\"]]"), "{r:?}");
    assert!(r.stdout.contains("[(\"General Support\")]"), "{r:?}");
    assert_eq!(r.stdout.matches("-->").count(), 4, "{r:?}");

    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);
    let r = org
        .flowctl(&["graph", "-f", &path, "--from-org", "--format", "dot"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("digraph flows"), "{r:?}");
    assert_eq!(r.stdout.matches("->").count(), 4, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifying_many_callers_reads_paged_listings_not_one_request_per_caller() {
    let org = Org::new().await;
    let mut text = manifest_with_callers(24, "Hello");
    text.push_str("  - name: Caller 24\n    modules: [Other Module]\n    queue: Sales\n");
    text = text.replace("modules:\n  - name: Shared Greeting Module\n    greeting: Hello\n", "modules:\n  - name: Shared Greeting Module\n    greeting: Hello\n  - name: Other Module\n    greeting: Hi\n");
    let path = write(&org, "flows.yaml", &text);
    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);

    let before = org.emulator.request_count();
    let r = org.flowctl(&["verify", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let used = org.emulator.request_count() - before;
    assert!(
        used < 15,
        "verify -f of 25 callers used {used} API requests"
    );

    let mut args = vec![
        "--output",
        "json",
        "verify",
        "--shared",
        "Shared Greeting Module",
        "--queue",
        "General Support",
        "--wait",
        "0",
    ];
    let names: Vec<String> = (0..25).map(|i| format!("Caller {i:02}")).collect();
    for n in &names {
        args.push("--parent");
        args.push(n);
    }
    let before = org.emulator.request_count();
    let r = org.flowctl(&args).await;
    let used = org.emulator.request_count() - before;
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["subject"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        failed,
        vec!["parent 'Caller 24'", "parent 'Caller 24'"],
        "module and queue links: {report:#}"
    );
    assert!(used < 20, "verify of 25 parents used {used} API requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_world_shaped_files_publish_once_substituted_and_their_queues_exist() {
    let org = Org::new().await;
    for f in [
        "routing_module.yaml",
        "routing_example.yaml",
        "menu_minimal.yaml",
    ] {
        let text =
            std::fs::read_to_string(format!("tests/fixtures/architect/{f}")).expect("fixture");
        write(&org, f, &text);
    }
    let manifest = "substitutions:
  division: Home
  routing_module: Routing Module
  priority_module: Priority Greeting
  flow_name: Routing Example
modules:
  - file: routing_module.yaml
  - name: Priority Greeting
    greeting: Thank you for being a priority customer.
flows:
  - file: routing_example.yaml
";
    let path = write(&org, "flows.yaml", manifest);
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&["--output", "json", "verify", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let checks = r.json()["checks"].as_array().expect("checks").clone();
    for wanted in [
        "calls common module 'Routing Module'",
        "calls common module 'Priority Greeting'",
        "transfers to queue 'Billing'",
        "transfers to queue 'General Support'",
    ] {
        assert!(
            checks
                .iter()
                .any(|c| c["check"] == wanted && c["status"] == "pass"),
            "{wanted}: {checks:#?}"
        );
    }
    // The terraform-style menu flow, with its placeholders given as --var.
    let menu = "flows:\n  - file: menu_minimal.yaml\n";
    let path = write(&org, "menu.yaml", menu);
    let vars = [
        "--var",
        "flow_name=Menu Flow",
        "--var",
        "description=Menu",
        "--var",
        "default_language=en-us",
        "--var",
        "greeting=Hello",
        "--var",
        "menu_disconnect_name=Goodbye",
    ];
    let mut args = vec!["apply", "-f", &path];
    args.extend_from_slice(&vars);
    let r = org.flowctl(&args).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(org
        .emulator
        .flows()
        .iter()
        .any(|f| f.name == "Menu Flow" && f.published_version.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholders_read_the_environment_only_under_flowctl_var_and_never_the_secret() {
    let org = Org::new().await;
    let m = |placeholder: &str| {
        format!(
            "modules:\n  - name: Greeter\n    greeting: \"{{{{{placeholder}}}}}\"\nflows:\n  - name: Caller\n    modules: [Greeter]\n    queue: Sales\n"
        )
    };
    let secret = flowctl::emulator::DEFAULT_CLIENT_SECRET;
    for placeholder in ["GENESYS_CLIENT_SECRET", "HOME"] {
        let path = write(&org, "env.yaml", &m(placeholder));
        for cmd in ["plan", "apply"] {
            let r = org.flowctl(&[cmd, "-f", &path]).await;
            assert_eq!(r.code, 2, "{placeholder} ({cmd}): {r:?}");
            assert!(
                r.stderr.contains(&format!("FLOWCTL_VAR_{placeholder}")),
                "{r:?}"
            );
            assert!(!r.stderr.contains(secret) && !r.stdout.contains(secret));
        }
    }
    // The secret under any name, from any source, is refused.
    let path = write(&org, "env.yaml", &m("greeting"));
    for (args, env) in [
        (
            vec!["plan", "-f", &path],
            vec![("FLOWCTL_VAR_greeting", secret)],
        ),
        (
            vec!["apply", "-f", &path, "--var", &format!("greeting={secret}")],
            vec![],
        ),
    ] {
        let r = org.flowctl_env(&args, &env).await;
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("client secret"), "{r:?}");
        assert!(
            !r.stderr.contains(secret) && !r.stdout.contains(secret),
            "{r:?}"
        );
    }
    assert_eq!(
        org.emulator.request_count(),
        0,
        "refused before any request"
    );
    assert!(org.emulator.flows().is_empty());

    // Under the prefix it works, and plan says where each value came from.
    let r = org
        .flowctl_env(
            &["plan", "-f", &path],
            &[("FLOWCTL_VAR_greeting", "Hello there")],
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("{{greeting}} = \"Hello there\" (from FLOWCTL_VAR_greeting)"),
        "{r:?}"
    );
    let r = org
        .flowctl_env(
            &["plan", "-f", &path, "--var", "greeting=Hi"],
            &[("FLOWCTL_VAR_greeting", "Hello there")],
        )
        .await;
    assert!(
        r.stdout.contains("{{greeting}} = \"Hi\" (from --var)"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_var_that_changes_a_files_structure_is_refused_in_every_command() {
    let org = Org::new().await;
    write(&org, "own.yaml", "commonModule:\n  name: Own Module\n  description: \"{{d}}\"\n  startUpTaskActions:\n    - endTask:\n        name: done\n");
    let path = write(&org, "inject.yaml", "modules:\n  - file: own.yaml\n");
    let evil = "x\"\n  variables:\n    - stringVariable:\n        name: Flow.evil\n        initialValue:\n          lit: \"1";
    let var = format!("d={evil}");
    for args in [
        vec!["apply", "-f", &path, "--var", &var],
        vec!["plan", "-f", &path, "--var", &var],
        vec!["create-shared", "--file", "own.yaml", "--var", &var],
        vec!["lint", "own.yaml", "--var", &var],
    ] {
        let r = org.flowctl(&args).await;
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let seen = format!("{}{}", r.stdout, r.stderr);
        assert!(
            seen.contains("'d'") && seen.contains("own.yaml") && seen.contains("structure"),
            "{args:?}: {r:?}"
        );
    }
    assert!(org.emulator.flows().is_empty(), "nothing was published");
    // A value with quotes and colons that stays inside its string is fine.
    let r = org
        .flowctl(&["apply", "-f", &path, "--var", "d=Say \\\"hi\\\": [ok]"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boms_unquoted_placeholders_tags_and_padded_names_get_clear_answers() {
    let org = Org::new().await;
    let path = write(
        &org,
        "bom.yaml",
        "\u{feff}flows:\n  - name: A\n    queue: Sales\n",
    );
    let r = org.flowctl(&["plan", "-f", &path]).await;
    assert_eq!(r.code, 0, "a BOM is allowed: {r:?}");
    let requests = org.emulator.request_count();
    let cases: Vec<(&str, &str, &str)> = vec![
        (
            "unquoted placeholder",
            "substitutions:\n  q: Sales\nflows:\n  - name: A\n    queue: {{q}}\n",
            ":5: the placeholder {{q}} must be quoted",
        ),
        (
            "YAML tag",
            "flows:\n  - name: A\n    queue: !evil Sales\n",
            ":3: YAML tag `!evil`",
        ),
        (
            "binary tag",
            "flows:\n  - name: !!binary QQ==\n    queue: Sales\n",
            "`!!binary`",
        ),
        (
            "trailing whitespace in a name",
            "flows:\n  - name: \"Mod A \"\n    queue: Sales\n  - name: Mod A\n    queue: Sales\n",
            "\"Mod A \" starts or ends with whitespace",
        ),
    ];
    for (what, text, expect) in cases {
        let path = write(&org, "bad.yaml", text);
        let r = org.flowctl(&["plan", "-f", &path]).await;
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(
            r.stderr.contains(expect),
            "{what}: expected '{expect}' in {r:?}"
        );
    }
    assert_eq!(
        org.emulator.request_count(),
        requests,
        "no request for bad input"
    );
    // A user's Architect file with a BOM or a tag.
    write(&org, "bom-module.yaml", "\u{feff}commonModule:\n  name: Bom Module\n  startUpTaskActions:\n    - endTask:\n        name: done\n");
    let r = org.flowctl(&["lint", "bom-module.yaml"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    write(
        &org,
        "tag-module.yaml",
        "commonModule:\n  name: Tag Module\n  description: !evil x\n",
    );
    let r = org.flowctl(&["lint", "tag-module.yaml"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("`!evil`"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_and_create_shared_fill_placeholders_by_the_manifests_rules() {
    let org = Org::new().await;
    write(&org, "g.yaml", "commonModule:\n  name: \"{{n}}\"\n  startUpTaskActions:\n    - endTask:\n        name: done\n");
    let secret = flowctl::emulator::DEFAULT_CLIENT_SECRET;
    for args in [
        vec!["lint", "g.yaml"],
        vec!["create-shared", "--file", "g.yaml", "--dry-run"],
    ] {
        let r = org
            .flowctl_env(&args, &[("FLOWCTL_VAR_n", "From Env")])
            .await;
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        let r = org.flowctl_env(&args, &[("FLOWCTL_VAR_n", secret)]).await;
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let seen = format!("{}{}", r.stdout, r.stderr);
        assert!(
            seen.contains("client secret") && !seen.contains(secret),
            "{args:?}: {r:?}"
        );
        let r = org.flowctl_env(&args, &[("n", "Bare Name")]).await;
        assert_eq!(
            r.code, 2,
            "a bare variable is not a placeholder value: {r:?}"
        );
    }
    assert_eq!(org.emulator.request_count(), 0);
}

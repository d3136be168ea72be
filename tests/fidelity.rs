//! Publishing exactly as the real tool chain does (the Terraform provider, the SDKs, real
//! exports): job-created flows, our own locks, real YAML keys, every reference a flow makes,
//! and the retries the provider relies on. End to end against the emulator.

mod common;

use common::Org;
use flowctl::emulator::{EmulatorConfig, ResourceKind, DEFAULT_CLIENT_ID};
use flowctl::models::FlowType;
use std::time::Duration;

fn write(org: &Org, name: &str, text: &str) -> String {
    let path = org.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_string()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/architect/{name}")).expect("fixture")
}

fn callers(n: usize) -> String {
    let mut s =
        String::from("modules:\n  - name: Shared Greeting Module\n    greeting: Hello\nflows:\n");
    for i in 0..n {
        s.push_str(&format!(
            "  - name: Caller {i:02}\n    modules: [Shared Greeting Module]\n    queue: General Support\n"
        ));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_of_thirty_callers_posts_no_flow_and_costs_at_most_three_requests_per_flow() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &callers(30));
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let log = org.emulator.requests();
    let posts = log
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v2/flows")
        .count();
    assert_eq!(posts, 0, "flows are created by their jobs, never by POST");
    let api = log
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v2"))
        .count();
    let per_flow = api as f64 / 31.0;
    eprintln!("{api} API requests for 31 new flows ({per_flow:.2} per flow)");
    assert!(
        per_flow <= 3.0,
        "{api} API requests for 31 new flows ({per_flow:.2} per flow)"
    );
    let flows = org.emulator.flows();
    assert_eq!(flows.len(), 31);
    assert!(flows.iter().all(|f| f.published_version.is_some()));
    // The results carry the versions read back in one listing.
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let results = r.json()["results"].as_array().cloned().unwrap_or_default();
    assert!(results.iter().all(|x| x["outcome"] == "unchanged"));
}

#[tokio::test]
async fn new_flows_come_out_created_in_the_division_the_yaml_names() {
    let org = Org::new().await;
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-shared",
            "--name",
            "Shared Greeting Module",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "created");
    assert_eq!(r.json()["version"], "1.0");
    let flow = &org.emulator.flows()[0];
    assert_eq!(
        flow.division.as_ref().and_then(|d| d.name.as_deref()),
        Some("Home")
    );
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-shared",
            "--name",
            "Shared Greeting Module",
            "--greeting",
            "Changed",
        ])
        .await;
    assert_eq!(r.json()["action"], "updated", "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_locked_by_our_own_client_republishes_and_one_locked_by_another_fails_alone() {
    let org = Org::new().await;
    let path = write(&org, "flows.yaml", &callers(2));
    assert_eq!(org.flowctl(&["apply", "-f", &path]).await.code, 0);
    // A run of ours that died mid-checkout, and another team's integration.
    assert!(org.emulator.lock_flow_by_client(
        "Caller 00",
        FlowType::InboundCall,
        DEFAULT_CLIENT_ID
    ));
    assert!(org.emulator.lock_flow_by_client(
        "Caller 01",
        FlowType::InboundCall,
        "other-team-client"
    ));
    let changed = callers(2).replace("greeting: Hello", "greeting: Hello again");
    std::fs::write(&path, changed).expect("write");
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stdout.contains("other-team-client") || r.stderr.contains("other-team-client"),
        "the holder is named: {r:?}"
    );
    let versions = |name: &str| {
        let f = org
            .emulator
            .flows()
            .into_iter()
            .find(|f| f.name == name)
            .expect("flow");
        org.emulator.flow_versions(&f.id).len()
    };
    assert_eq!(versions("Shared Greeting Module"), 2);
    assert_eq!(versions("Caller 00"), 2, "our own lock does not block");
    assert_eq!(versions("Caller 01"), 1, "someone else's lock does");
    let ours = org
        .emulator
        .flows()
        .into_iter()
        .find(|f| f.name == "Caller 00")
        .expect("flow");
    assert!(ours.locked_client.is_none(), "publishing checks it in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_listed_before_the_bot_flow_it_calls_publishes_after_it() {
    let org = Org::new().await;
    org.emulator
        .add_resource(ResourceKind::ScheduleGroup, "Business Hours");
    org.emulator
        .add_resource(ResourceKind::DataTable, "VIP Callers");
    write(&org, "order-line.yaml", &fixture("calls_bot_flow.yaml"));
    write(&org, "bot.yaml", &fixture("bot_flow.yaml"));
    let path = write(
        &org,
        "flows.yaml",
        "substitutions:\n  hours: Business Hours\nflows:\n  - file: order-line.yaml\n  - file: bot.yaml\n",
    );
    let r = org.flowctl(&["plan", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let bot_at = r.stdout.find("Order Status Bot").expect("bot in plan");
    let caller_at = r.stdout.find("Order Line").expect("caller in plan");
    assert!(
        bot_at < caller_at,
        "the plan orders the bot flow first:\n{}",
        r.stdout
    );
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let flows = org.emulator.flows();
    let bot = flows
        .iter()
        .find(|f| f.flow_type == FlowType::Bot)
        .expect("bot flow");
    let caller = flows
        .iter()
        .find(|f| f.name == "Order Line")
        .expect("caller");
    let at = |f: &flowctl::models::Flow| {
        f.published_version
            .as_ref()
            .and_then(|v| v.date_created)
            .unwrap_or_default()
    };
    assert!(at(bot) <= at(caller), "bot flow published first");
    let r = org.flowctl(&["graph", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("Business Hours (schedule group)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("VIP Callers (data table)"),
        "{}",
        r.stdout
    );
    let r = org.flowctl(&["graph", "-f", &path, "--from-org"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("Business Hours (schedule group)"),
        "{}",
        r.stdout
    );
    // verify -f checks every reference through dependency tracking, both directions.
    let r = org
        .flowctl(&["--output", "json", "verify", "-f", &path, "--wait", "5"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let passed = r.passed_checks();
    for expected in [
        "parent 'Order Line' uses schedule group 'Business Hours'",
        "parent 'Order Line' uses bot flow 'Order Status Bot'",
        "parent 'Order Line' uses data table 'VIP Callers'",
        "parent 'Order Line' transfers to queue 'Sales'",
    ] {
        assert!(
            passed.iter().any(|p| p == expected),
            "'{expected}' not in {passed:#?}"
        );
    }
}

#[tokio::test]
async fn verify_of_a_manifest_fails_on_a_reference_the_org_lacks() {
    let org = Org::new().await;
    org.emulator
        .add_resource(ResourceKind::ScheduleGroup, "Business Hours");
    write(&org, "order-line.yaml", &fixture("calls_bot_flow.yaml"));
    write(&org, "bot.yaml", &fixture("bot_flow.yaml"));
    let path = write(
        &org,
        "flows.yaml",
        "substitutions:\n  hours: Business Hours\nflows:\n  - file: order-line.yaml\n  - file: bot.yaml\n",
    );
    let r = org.flowctl(&["verify", "-f", &path, "--wait", "1"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("data table 'VIP Callers'"), "{r:?}");
}

#[tokio::test]
async fn plan_names_the_flow_the_action_and_the_missing_thing_with_a_suggestion() {
    let org = Org::new().await;
    org.emulator
        .add_resource(ResourceKind::ScheduleGroup, "Business Hours");
    write(&org, "order-line.yaml", &fixture("calls_bot_flow.yaml"));
    let path = write(
        &org,
        "flows.yaml",
        "substitutions:\n  hours: Busines Hours\nflows:\n  - file: order-line.yaml\n",
    );
    let before = org.emulator.request_count();
    let r = org.flowctl(&["plan", "-f", &path]).await;
    assert_eq!(r.code, 2, "{r:?}");
    for expected in [
        "inbound call flow 'Order Line'",
        "action 'Open?': schedule group 'Busines Hours' does not exist in the org (did you mean 'Business Hours'?)",
        "action 'Ask the order bot': bot flow 'Order Status Bot' is neither in the manifest nor published in the org",
        "action 'Look up the caller': data table 'VIP Callers' does not exist in the org",
    ] {
        assert!(r.stderr.contains(expected), "missing '{expected}' in:\n{}", r.stderr);
    }
    assert!(org.emulator.flows().is_empty());
    // Only reads were made.
    let writes = org
        .emulator
        .requests()
        .into_iter()
        .skip(before as usize)
        .filter(|(m, p, _)| m != "GET" && p.starts_with("/api/v2"))
        .count();
    assert_eq!(writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_that_404_after_a_publish_and_a_first_delete_409_do_not_fail_apply_or_destroy() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        read_lag: Duration::from_millis(1500),
        delete_conflicts: 1,
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(
        r.code, 0,
        "create-shared reads the flow back through the lag: {r:?}"
    );
    let path = write(&org, "flows.yaml", &callers(3));
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org.flowctl(&["destroy", "-f", &path, "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        org.emulator.flows().is_empty(),
        "{:?}",
        org.emulator.flows()
    );
    let conflicts = org
        .emulator
        .requests()
        .into_iter()
        .filter(|(m, _, s)| m == "DELETE" && *s == 409)
        .count();
    assert_eq!(conflicts, 1, "the emulator's transient 409 was answered");
}

#[tokio::test]
async fn a_job_failing_for_a_new_flow_leaves_no_flow_behind() {
    let org = Org::new().await;
    let module = "commonModule:\n  name: Lookup Module\n  division: Home\n  startUpTaskActions:\n    - dataTableLookup:\n        name: Find\n        dataTable:\n          No Such Table:\n            foundOutputs: {}\n    - endTask:\n        name: Done\n";
    let file = write(&org, "module.yaml", module);
    let r = org
        .flowctl(&["create-shared", "--name", "Lookup Module", "--file", &file])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains("No Such Table"),
        "the job's message, whole: {r:?}"
    );
    assert!(r.stderr.contains("was removed"), "{r:?}");
    assert!(
        org.emulator.flows().is_empty(),
        "the flow the job made is gone: {:?}",
        org.emulator.flows()
    );
}

#[tokio::test]
async fn lint_and_apply_accept_real_shaped_bot_flow_and_inqueue_call_files() {
    let org = Org::new().await;
    let bot = write(&org, "bot.yaml", &fixture("bot_flow.yaml"));
    let inqueue = write(&org, "inqueue.yaml", &fixture("inqueue_call.yaml"));
    let r = org.flowctl(&["lint", &bot, &inqueue]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let path = write(
        &org,
        "flows.yaml",
        "flows:\n  - file: bot.yaml\n  - file: inqueue.yaml\n",
    );
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let types: Vec<FlowType> = org.emulator.flows().iter().map(|f| f.flow_type).collect();
    assert!(types.contains(&FlowType::Bot) && types.contains(&FlowType::InQueueCall));
}

#[tokio::test]
async fn flow_type_keys_are_read_case_sensitively_with_the_real_spelling_suggested() {
    let org = Org::new().await;
    let wrong = fixture("inqueue_call.yaml").replace("inqueueCall:", "inQueueCall:");
    let file = write(&org, "wrong.yaml", &wrong);
    let r = org.flowctl(&["lint", &file]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("did you mean `inqueueCall`?")
            || r.stderr.contains("did you mean `inqueueCall`?"),
        "{r:?}"
    );
    let bot = fixture("bot_flow.yaml").replace("botFlow:", "bot:");
    let file = write(&org, "bot.yaml", &bot);
    let r = org.flowctl(&["lint", &file]).await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_applies_at_once_both_succeed_with_no_duplicate() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(200),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let path = write(&org, "flows.yaml", &callers(5));
    let args = ["apply", "-f", path.as_str()];
    let (a, b) = tokio::join!(org.flowctl(&args), org.flowctl(&args));
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(b.code, 0, "{b:?}");
    let flows = org.emulator.flows();
    let mut names: Vec<&str> = flows.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), flows.len(), "no duplicate: {names:?}");
    assert_eq!(flows.len(), 6);
    let r = org.flowctl(&["plan", "-f", &path]).await;
    assert!(r.stdout.contains("6 unchanged"), "converged: {r:?}");
}

/// kill -9 in the middle of Architect jobs, then an immediate re-run: the re-run waits for
/// the killed run's jobs (noted in the journal beside the token cache) instead of
/// publishing the same flows again, so no flow gets an extra version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_right_after_kill_9_waits_for_the_killed_runs_jobs() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(1500),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let path = write(&org, "flows.yaml", &callers(3));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowctl"))
        .args(["apply", "-f", &path])
        .current_dir(org.path())
        .env_clear()
        .env("HOME", org.path())
        .env("XDG_CACHE_HOME", org.path().join("cache"))
        .env("GENESYS_API_BASE_URL", org.emulator.base_url())
        .env("GENESYS_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env(
            "GENESYS_CLIENT_SECRET",
            flowctl::emulator::DEFAULT_CLIENT_SECRET,
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn apply");
    // Kill it (SIGKILL) once the module's job has its content, long before it ends.
    let mut uploaded = false;
    for _ in 0..400 {
        if org
            .emulator
            .requests()
            .iter()
            .any(|(m, p, s)| m == "PUT" && p.starts_with("/uploads/") && *s == 200)
        {
            uploaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(uploaded, "the killed run uploaded a job");
    assert!(
        org.emulator.flows().is_empty(),
        "killed before its job finished"
    );
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("earlier run left in flight"),
        "says what it waits for: {r:?}"
    );
    for f in org.emulator.flows() {
        assert_eq!(
            org.emulator.flow_versions(&f.id).len(),
            1,
            "'{}' was published twice",
            f.name
        );
    }
    assert_eq!(org.emulator.flows().len(), 4);
}

/// Whatever the variable is called, the access token never fills a placeholder.
#[tokio::test]
async fn the_access_token_is_refused_as_a_placeholder_value() {
    let org = Org::new().await;
    assert_eq!(org.flowctl(&["whoami"]).await.code, 0);
    let cache = org.path().join("cache").join("flowctl");
    let file = std::fs::read_dir(&cache)
        .expect("token cache")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_file())
        .expect("cache file");
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("json");
    let token = cached["access_token"].as_str().expect("token").to_string();
    let path = write(
        &org,
        "flows.yaml",
        "modules:\n  - name: Leaky Module\n    greeting: \"{{greeting}}\"\n",
    );
    let r = org
        .flowctl_env(&["apply", "-f", &path], &[("FLOWCTL_VAR_greeting", &token)])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("access token"), "{r:?}");
    assert!(!r.stderr.contains(&token) && !r.stdout.contains(&token));
    assert!(org.emulator.flows().is_empty(), "nothing was published");
}

//! `flowctl test` and `flowctl verify --paths`: offline call scenarios walked through real
//! flows (a template caller, IVRs in the shape of Genesys' blueprints, modules entered and
//! returned from), path enumeration and coverage. No org, no credentials.

mod common;

use flowctl::walk::engine::{Library, Outcome};
use flowctl::walk::paths;
use flowctl::walk::scenario;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/walk")
        .join(name)
        .display()
        .to_string()
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

/// Runs flowctl with no credentials at all, in a temp dir.
async fn flowctl(args: &[&str]) -> common::Run {
    let dir = tempfile::tempdir().expect("temp dir");
    common::run_in(dir.path(), args, Vec::new()).await
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

#[tokio::test]
async fn true_scenarios_pass_offline_with_no_credentials_and_print_the_trace() {
    let r = flowctl(&[
        "test",
        "-f",
        &fixture("flows.yaml"),
        "--scenarios",
        &fixture("scenarios.yaml"),
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("test: 9 scenario(s) passed, 0 failed, 0 unknown"),
        "{r:?}"
    );
    // The trace, step by step: the module is entered and the call comes back.
    assert!(
        r.stdout.contains("enters module 'Shared Greeting Module'"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("back from module 'Opening Hours'"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("no choice for 5: the menu plays again"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("=> transferred to queue 'Sample Pensions queue' by 'Pensions'"),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_wrong_expectation_exits_1_and_names_where_the_call_really_went() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = write(
        dir.path(),
        "wrong.yaml",
        "scenarios:\n  - name: press 1 for savings\n    flow: Sample Savings IVR\n    given: {digits: \"1\"}\n    expect:\n      transfer: {queue: Sample Savings queue}\n",
    );
    let r = flowctl(&["test", &fixture("savings_ivr.yaml"), "--scenarios", &s]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("expected a transfer to queue 'Sample Savings queue', but the call transferred to queue 'Sample Pensions queue' by 'Pensions'"),
        "{r:?}"
    );
    assert!(r.stdout.contains("FAIL"), "{r:?}");
}

#[tokio::test]
async fn decisions_and_switches_evaluate_architect_expressions_across_modules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let architect = |f: &str| repo(&format!("tests/fixtures/architect/{f}"));
    let s = write(
        dir.path(),
        "s.yaml",
        "scenarios:\n  - name: a Gold caller gets the priority route\n    flow: Routing\n    expect:\n      calls: [Routing Module, Priority Greeting]\n      transfer: {queue: Billing}\n",
    );
    let r = flowctl(&[
        "test",
        &architect("routing_example.yaml"),
        &architect("routing_module.yaml"),
        "--var",
        "flow_name=Routing",
        "--var",
        "routing_module=Routing Module",
        "--var",
        "priority_module=Priority Greeting",
        "--var",
        "division=Home",
        "--scenarios",
        &s,
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    // The module's switch evaluated `Common.customer_tier == "Gold"` with the caller's
    // input, and its output came back to the caller's switch.
    assert!(r.stdout.contains("Common.route = \"Priority\""), "{r:?}");
    assert!(
        r.stdout
            .contains("[Routing] switch 'Which route?': takes case 1"),
        "{r:?}"
    );
}

#[tokio::test]
async fn junit_carries_one_testcase_per_scenario() {
    let r = flowctl(&[
        "--output",
        "junit",
        "test",
        "-f",
        &fixture("flows.yaml"),
        "--scenarios",
        &fixture("scenarios.yaml"),
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let doc = roxmltree::Document::parse(&r.stdout).expect("JUnit XML");
    let cases: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            (
                n.attribute("classname").unwrap_or_default().to_string(),
                n.attribute("name").unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(cases.len(), 9, "{cases:?}");
    assert!(cases.contains(&("Sample Savings IVR".into(), "press 9 to hang up".into())));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
}

#[tokio::test]
async fn json_gives_each_scenario_its_status_end_and_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = write(
        dir.path(),
        "s.yaml",
        "scenarios:\n  - name: ok\n    flow: Sample Savings IVR\n    given: {digits: \"9\"}\n    expect: {disconnect: true}\n  - name: no digits\n    flow: Sample Savings IVR\n    expect: {disconnect: true}\n",
    );
    let r = flowctl(&[
        "--output",
        "json",
        "test",
        &fixture("savings_ivr.yaml"),
        "--scenarios",
        &s,
    ])
    .await;
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["passed"], 1);
    assert_eq!(j["failed"], 1);
    assert_eq!(j["scenarios"][0]["end"], "disconnect");
    assert_eq!(j["scenarios"][1]["end"], "noInput");
    assert!(j["scenarios"][1]["problems"][0]
        .as_str()
        .unwrap_or_default()
        .contains("waits for a digit at menu 'Main Menu'"));
    assert!(j["scenarios"][0]["trace"]
        .as_array()
        .is_some_and(|t| t.len() >= 3));
}

#[tokio::test]
async fn a_bad_scenario_file_exits_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = write(
        dir.path(),
        "bad.yaml",
        "scenarios:\n  - name: a\n    flow: Sample Savings IVR\n    expect: {disconnect: true}\n  - name: b\n    flow: Sample Savings IVR\n    given: {schedules: {Hours: shut}}\n    expect: {disconnect: true}\n",
    );
    let r = flowctl(&["test", &fixture("savings_ivr.yaml"), "--scenarios", &s]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("bad.yaml:7:"), "{r:?}");
    let s = write(
        dir.path(),
        "noflow.yaml",
        "scenarios:\n  - name: a\n    flow: Sample Savings IVR\n    expect: {disconnect: true}\n  - name: b\n    flow: Savings IVR\n    expect: {disconnect: true}\n",
    );
    let r = flowctl(&["test", &fixture("savings_ivr.yaml"), "--scenarios", &s]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("noflow.yaml:5: scenario 'b': no flow named 'Savings IVR'"),
        "{r:?}"
    );
}

#[tokio::test]
async fn what_the_walk_cannot_decide_is_unknown_naming_it_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = write(
        dir.path(),
        "s.yaml",
        "scenarios:\n  - name: no schedule given\n    flow: Branch Line\n    expect: {disconnect: true}\n",
    );
    let r = flowctl(&[
        "test",
        &fixture("branch_line.yaml"),
        &fixture("hours_module.yaml"),
        "--scenarios",
        &s,
    ])
    .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("UNKNOWN"), "{r:?}");
    assert!(
        r.stdout
            .contains("schedule group 'Branch Hours' (action 'Open?') has no result"),
        "{r:?}"
    );
    // The greeting module is not among the files: called, not entered.
    assert!(
        r.stdout.contains("not among the flows given: not entered"),
        "{r:?}"
    );
}

#[tokio::test]
async fn the_example_scenarios_pass_against_the_example_manifest() {
    let r = flowctl(&[
        "test",
        "-f",
        &repo("examples/flows.yaml"),
        "--scenarios",
        &repo("examples/scenarios/calls.yaml"),
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("0 failed, 0 unknown"), "{r:?}");
}

#[tokio::test]
async fn verify_paths_checks_every_path_offline_and_reports_coverage() {
    let r = flowctl(&[
        "verify",
        "-f",
        &repo("examples/flows.yaml"),
        "--paths",
        "--scenarios",
        &repo("examples/scenarios/calls.yaml"),
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("every path calls module 'Shared Greeting Module'"),
        "{r:?}"
    );
    assert!(r.stdout.contains("path coverage"), "{r:?}");
    // A module called on one branch only: the paths that miss it are named.
    let r = flowctl(&["verify", "-f", &fixture("flows.yaml"), "--paths"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("flow 'Branch Line': every path calls module 'Opening Hours'"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("end the call without calling it, e.g."),
        "{r:?}"
    );
}

#[tokio::test]
async fn verify_paths_finds_a_queue_the_manifest_does_not_name_and_unreachable_actions() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "ivr.yaml",
        include_str!("fixtures/flows/odd_ivr.yaml"),
    );
    let m = write(
        dir.path(),
        "flows.yaml",
        "modules:\n  - name: Greeting\n    greeting: Hi\nflows:\n  - file: ivr.yaml\n",
    );
    let r = flowctl(&["--output", "json", "verify", "-f", &m, "--paths"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    let checks = j["checks"].as_array().expect("checks");
    let find = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name && c["subject"] == "flow 'Odd IVR'")
            .unwrap_or_else(|| panic!("{name} in {j}"))
    };
    assert_eq!(
        find("every transfer goes to a manifest queue")["status"],
        "unknown"
    );
    let dead = find("no unreachable actions");
    assert_eq!(dead["status"], "fail", "{dead}");
    assert!(dead["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("playAudio 'Never heard'"));
}

fn library(files: &[&str]) -> Library {
    let mut lib = Library::default();
    for f in files {
        let text = std::fs::read_to_string(fixture(f)).expect("read");
        lib.add(&text, f).expect("flow");
    }
    lib
}

#[test]
fn path_enumeration_is_bounded_and_cuts_loops() {
    let lib = library(&["branch_line.yaml", "hours_module.yaml"]);
    let flow = lib.find("Branch Line", None).expect("flow");
    let all = paths::enumerate(&lib, flow, paths::MAX_PATHS);
    assert!(!all.truncated);
    assert!(all.paths.len() > 10, "{}", all.paths.len());
    assert!(all.loops_cut >= 1, "the account loop is cut");
    let keys: std::collections::HashSet<String> = all.paths.iter().map(paths::key).collect();
    assert_eq!(keys.len(), all.paths.len(), "each path is enumerated once");
    let few = paths::enumerate(&lib, flow, 3);
    assert!(few.truncated);
    assert_eq!(few.paths.len(), 3);
    // A jump back to a task already on the path is cut and counted.
    let mut lib = Library::default();
    lib.add(
        "inboundCall:\n  name: Loopy\n  startUpRef: \"/inboundCall/tasks/task[A]\"\n  tasks:\n    - task:\n        name: A\n        refId: A\n        actions:\n          - jumpToTask:\n              name: Again\n              targetTaskRef: \"/inboundCall/tasks/task[A]\"\n",
        "loopy",
    )
    .expect("flow");
    let set = paths::enumerate(&lib, 0, 10);
    assert_eq!(set.paths.len(), 1);
    assert_eq!(set.loops_cut, 1);
    assert!(matches!(set.paths[0].outcome, Outcome::Cut(_)));
}

#[test]
fn coverage_counts_the_paths_the_scenarios_walk() {
    let lib = library(&["savings_ivr.yaml"]);
    let set = paths::enumerate(&lib, 0, paths::MAX_PATHS);
    assert_eq!(set.paths.len(), 3, "three menu choices");
    let text = "scenarios:\n  - name: one\n    flow: Sample Savings IVR\n    given: {digits: \"1\"}\n    expect: {disconnect: false}\n  - name: nine\n    flow: Sample Savings IVR\n    given: {digits: \"59\"}\n    expect: {disconnect: true}\n";
    let s = scenario::parse(text, "s.yaml").expect("scenarios");
    let walks: Vec<_> = s.iter().map(|s| scenario::check(&lib, 0, s).walk).collect();
    let refs: Vec<_> = walks.iter().collect();
    assert_eq!(paths::coverage(&set, &refs), 2);
    assert_eq!(paths::coverage(&set, &refs[..1]), 1);
}

/// Every Architect file among the test fixtures, with its path.
fn all_fixture_flows() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "tests/fixtures/architect",
        "tests/fixtures/lint",
        "tests/fixtures/walk",
    ] {
        for e in std::fs::read_dir(repo(dir)).expect("dir").flatten() {
            let p = e.path();
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            if p.extension().is_some_and(|x| x == "yaml")
                && !text.contains("\nscenarios:")
                && !text.contains("\nflows:")
            {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn every_fixture_flow_walks_from_its_start_and_names_what_it_cannot_follow() {
    let files = all_fixture_flows();
    assert!(files.len() >= 15, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        let mut lib = Library::default();
        let shown = f.display().to_string();
        let Ok(i) = lib.add(&text, &shown) else {
            continue;
        };
        let set = paths::enumerate(&lib, i, 2_000);
        assert!(!set.paths.is_empty(), "{shown}");
        for w in &set.paths {
            if let Outcome::Unknown(why) = &w.outcome {
                // What it cannot follow is named: an action by its kind, or an expression.
                assert!(why.contains('`') || why.contains('\''), "{shown}: {why}");
            }
        }
        let empty = scenario::parse(
            &format!(
                "scenarios:\n  - name: x\n    flow: \"{}\"\n    expect: {{disconnect: true}}\n",
                lib.flows[i].name.replace('"', "\\\"")
            ),
            "s.yaml",
        )
        .expect("scenario");
        let r = scenario::check(&lib, i, &empty[0]);
        assert!(
            !r.walk.steps.is_empty() || !matches!(r.walk.outcome, Outcome::Transfer { .. }),
            "{shown}"
        );
    }
}

#[test]
fn an_action_the_walk_does_not_know_makes_the_scenario_unknown_with_its_name() {
    let mut lib = Library::default();
    lib.add(include_str!("fixtures/flows/unknown_action.yaml"), "odd")
        .expect("flow");
    let s = scenario::parse(
        "scenarios:\n  - name: x\n    flow: Odd\n    expect: {disconnect: true}\n",
        "s.yaml",
    )
    .expect("scenario");
    let r = scenario::check(&lib, 0, &s[0]);
    assert_eq!(r.status, scenario::Status::Unknown);
    assert!(
        r.problems[0]
            .contains("action `frobnicate` 'Mystery': it is not an Architect action flowctl knows"),
        "{:?}",
        r.problems
    );
}

#[test]
fn the_published_scenario_schema_is_the_generated_one_and_accepts_the_examples() {
    let generated = scenario::json_schema();
    let path = repo("schema/scenarios.schema.json");
    if std::env::var_os("FLOWCTL_WRITE_SCHEMA").is_some() {
        let text = serde_json::to_string_pretty(&generated).expect("json") + "\n";
        std::fs::write(&path, text).expect("write schema");
    }
    let published: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).expect("JSON");
    assert_eq!(
        published, generated,
        "schema/scenarios.schema.json is stale: run `FLOWCTL_WRITE_SCHEMA=1 cargo test --test scenarios`"
    );
    let validator = jsonschema::validator_for(&generated).expect("valid schema");
    for f in [
        fixture("scenarios.yaml"),
        repo("examples/scenarios/calls.yaml"),
    ] {
        let v: yaml_serde::Value =
            yaml_serde::from_str(&std::fs::read_to_string(&f).expect("read")).expect("yaml");
        let doc = serde_json::to_value(v).expect("json");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{f}: {errors:?}");
    }
    let bad =
        serde_json::json!({"scenarios": [{"name": "a", "flow": "F", "expect": {}, "givne": {}}]});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn a_bot_flow_call_a_data_table_row_and_a_data_action_timeout_are_followed() {
    let text = std::fs::read_to_string(repo("tests/fixtures/architect/calls_bot_flow.yaml"))
        .expect("read");
    let vars = [("hours".to_string(), "Order Hours".to_string())].into();
    let text = flowctl::flow::read::substitute(&text, &vars, "calls_bot_flow.yaml").expect("vars");
    let mut lib = library(&["branch_line.yaml", "hours_module.yaml"]);
    let order_line = lib.add(&text, "calls_bot_flow.yaml").expect("flow");
    let s = scenario::parse(
        include_str!("fixtures/walk_scenarios/bot_vip_closed_slow.yaml"),
        "s.yaml",
    )
    .expect("scenarios");
    for sc in &s {
        let flow = lib.find(&sc.flow, None).expect("flow");
        let r = scenario::check(&lib, flow, sc);
        assert_eq!(
            r.status,
            scenario::Status::Pass,
            "{}: {:?}",
            sc.name,
            r.problems
        );
    }
    let r = scenario::check(&lib, order_line, &s[0]);
    assert!(r
        .walk
        .steps
        .iter()
        .any(|st| st.action == "callBotFlow" && st.detail.contains("not walked")));
}

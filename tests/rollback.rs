//! history, diff and rollback on the emulator: a module published twice (its three callers
//! republished each time) is rolled back with one command, and its callers come with it.

mod common;

use common::{Org, Run};
use flowctl::models::{Flow, FlowType};

const MANIFEST: &str = "modules:\n  - name: Greeting\n    greeting: Hello from the module\nflows:\n  - name: Caller A\n    modules: [Greeting]\n    queue: General Support\n  - name: Caller B\n    modules: [Greeting]\n    queue: General Support\n  - name: Caller C\n    modules: [Greeting]\n    queue: General Support\n  - name: Bystander\n    modules: [Other]\n    queue: Sales\n  - name: Other\n    type: commonmodule\n";

const OTHER: &str = "commonModule:\n  name: Other\n  division: Home\n  startUpTaskActions:\n  - endTask:\n      name: Done\n";

/// A module at version 2.0 (a typo), its callers A, B and C republished with each
/// version, and a bystander flow that calls another module.
async fn published_twice() -> Org {
    published_twice_on(Org::new().await).await
}

/// An emulator that answers in the other readings of what no source settles (versions
/// oldest first, no `createdBy` for an OAuth client's publish, dependency rows without a
/// `version`, every export a zip named after the flow).
async fn other_readings() -> Org {
    Org::with(flowctl::emulator::EmulatorConfig {
        job_time: std::time::Duration::from_millis(20),
        rate_limit: 100_000,
        alternate_readings: true,
        ..flowctl::emulator::EmulatorConfig::default()
    })
    .await
}

async fn published_twice_on(org: Org) -> Org {
    org.emulator
        .publish_as_client(OTHER, flowctl::emulator::DEFAULT_CLIENT_ID)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let manifest = MANIFEST.replace("  - name: Other\n    type: commonmodule\n", "");
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, &manifest).expect("write");
    let p = path.to_str().expect("utf-8");
    let r = org.flowctl(&["apply", "-f", p]).await;
    assert_eq!(r.code, 0, "{r:?}");
    std::fs::write(
        &path,
        manifest.replace("Hello from the module", "Helo from teh module"),
    )
    .expect("write");
    let r = org.flowctl(&["apply", "-f", p]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(versions(&org, "Greeting"), vec!["1.0", "2.0"]);
    assert_eq!(versions(&org, "Caller A"), vec!["1.0", "2.0"]);
    org
}

fn flow(org: &Org, name: &str) -> Flow {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no flow '{name}'"))
}

fn versions(org: &Org, name: &str) -> Vec<String> {
    org.emulator
        .flow_versions(&flow(org, name).id)
        .into_iter()
        .map(|v| v.id)
        .collect()
}

/// Every flow's version count, by name.
fn counts(org: &Org) -> Vec<(String, usize)> {
    org.emulator
        .flows()
        .into_iter()
        .map(|f| {
            let n = org.emulator.flow_versions(&f.id).len();
            (f.name, n)
        })
        .collect()
}

fn jobs(org: &Org) -> usize {
    org.emulator
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v2/flows/jobs")
        .count()
}

/// The version of `module` that `caller`'s published version consumes.
fn consumed_version(org: &Org, caller: &str, module: &str) -> Option<String> {
    let id = flow(org, module).id;
    org.emulator
        .published_consumes(&flow(org, caller).id)
        .into_iter()
        .find(|d| d.id == id)
        .and_then(|d| d.version)
}

fn same_meaning(a: &str, b: &str) -> bool {
    flowctl::flow::compare::compare(a, b)
        .unwrap_or_else(|e| panic!("{e}"))
        .same
}

async fn rollback(org: &Org, args: &[&str]) -> Run {
    let mut all = vec!["rollback"];
    all.extend_from_slice(args);
    org.flowctl(&all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_and_its_three_callers_are_rolled_back_with_one_command() {
    module_and_callers_rolled_back(published_twice().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_rollback_holds_on_a_server_with_the_other_readings() {
    let org = published_twice_on(other_readings().await).await;
    // History reads the same from it: newest first, every caller on 2.0, none stale.
    let h = org
        .flowctl(&["--output", "json", "history", "Greeting"])
        .await;
    assert_eq!(h.code, 0, "{h:?}");
    let json = h.json();
    let ids: Vec<&str> = json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(ids, vec!["2.0", "1.0"]);
    assert_eq!(
        json["versions"][0]["publishedByUser"],
        serde_json::Value::Null
    );
    assert!(
        json["versions"][0]["publishedByClient"].is_string(),
        "{json}"
    );
    assert_eq!(json["versions"][0]["flowctlMarker"], true, "{json}");
    assert_eq!(
        json["versions"][0]["callers"],
        serde_json::json!(["Caller A", "Caller B", "Caller C"])
    );
    let d = org.flowctl(&["diff", "Greeting"]).await;
    assert_eq!(d.code, 1, "{d:?}");
    assert!(d.stdout.contains("1 change(s)"), "{d:?}");
    module_and_callers_rolled_back(org).await;
}

/// An emulator as imprecise as the real service may be: each Architect job spends requests
/// of the token's small window (and fails with Archy's exit code 107 when it runs out), the
/// reset header is rounded down, dependency tracking and reads lag a publish.
async fn imprecise() -> Org {
    Org::with(flowctl::emulator::EmulatorConfig {
        job_time: std::time::Duration::from_millis(50),
        rate_limit: 50,
        rate_window: std::time::Duration::from_secs(1),
        job_requests: 4,
        reset_rounds_down: true,
        index_lag: std::time::Duration::from_millis(400),
        read_lag: std::time::Duration::from_millis(150),
        ..flowctl::emulator::EmulatorConfig::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_rollback_holds_on_a_server_whose_jobs_spend_the_window_and_whose_reads_lag() {
    let org = published_twice_on(imprecise().await).await;
    module_and_callers_rolled_back(org).await;
}

async fn module_and_callers_rolled_back(org: Org) {
    let before = counts(&org);
    let r = org
        .flowctl(&["--output", "json", "rollback", "Greeting", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let json = r.json();
    assert_eq!(json["to"], "1.0");
    assert_eq!(json["from"], "2.0");
    assert_eq!(json["verification"]["ok"], true, "{r:?}");

    // A new version with the old content, in meaning; history is not rewritten.
    let module = flow(&org, "Greeting");
    assert_eq!(versions(&org, "Greeting"), vec!["1.0", "2.0", "3.0"]);
    let v1 = org.emulator.version_yaml(&module.id, "1.0").expect("1.0");
    let v3 = org.emulator.published_yaml(&module.id).expect("3.0");
    assert!(same_meaning(&v1, &v3), "3.0 is not 1.0:\n{v3}");
    assert!(!same_meaning(
        &v1,
        &org.emulator.version_yaml(&module.id, "2.0").expect("2.0")
    ));
    // ... carrying flowctl's marker of this content.
    assert!(
        module
            .description
            .as_deref()
            .and_then(flowctl::flow::content_marker)
            .is_some(),
        "{module:?}"
    );

    // Each caller: exactly one new version, which consumes the module's newest version.
    for caller in ["Caller A", "Caller B", "Caller C"] {
        assert_eq!(
            versions(&org, caller),
            vec!["1.0", "2.0", "3.0"],
            "{caller}"
        );
        assert_eq!(
            consumed_version(&org, caller, "Greeting").as_deref(),
            Some("3.0"),
            "{caller}"
        );
    }
    // No other flow gets a version.
    let after = counts(&org);
    for ((name, n), (_, m)) in before.iter().zip(&after) {
        let expected = if ["Greeting", "Caller A", "Caller B", "Caller C"].contains(&name.as_str())
        {
            n + 1
        } else {
            *n
        };
        assert_eq!(*m, expected, "{name}");
    }

    // verify agrees, from dependency tracking.
    let v = org
        .flowctl(&[
            "verify", "--shared", "Greeting", "--parent", "Caller A", "--parent", "Caller B",
            "--parent", "Caller C",
        ])
        .await;
    assert_eq!(v.code, 0, "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_names_every_version_and_which_callers_run_it() {
    let org = published_twice().await;
    // A third version published without its callers: they now run 2.0, a stale copy.
    let module = flow(&org, "Greeting");
    let yaml = org.emulator.published_yaml(&module.id).expect("published");
    org.emulator
        .publish_as_ui_user(&yaml.replace("Helo from teh module", "Hi"))
        .unwrap_or_else(|e| panic!("{e:?}"));

    let r = org
        .flowctl(&["--output", "json", "history", "Greeting"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let json = r.json();
    let rows = json["versions"].as_array().expect("versions");
    let ids: Vec<&str> = rows.iter().filter_map(|v| v["version"].as_str()).collect();
    assert_eq!(ids, vec!["3.0", "2.0", "1.0"], "newest first");
    assert_eq!(rows[0]["current"], true);
    assert_eq!(rows[0]["publishedByUser"], "Jane Architect (UI)");
    assert!(
        rows[1]["publishedByClient"]
            .as_str()
            .is_some_and(|c| c.contains(flowctl::emulator::DEFAULT_CLIENT_ID)),
        "{json}"
    );
    assert!(rows[0]["datePublished"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));
    // The UI edit kept the description, so even 3.0 carries the (old) marker: what the
    // history reports is the content's, version by version.
    assert_eq!(rows[2]["flowctlMarker"], true);
    assert_eq!(
        rows[1]["callers"],
        serde_json::json!(["Caller A", "Caller B", "Caller C"])
    );
    assert_eq!(rows[0]["callers"], serde_json::json!([]));
    let callers = json["callers"].as_array().expect("callers");
    assert_eq!(callers.len(), 3, "the bystander is no caller");
    assert!(callers
        .iter()
        .all(|c| c["stale"] == true && c["runs"] == "2.0"));

    let text = org.flowctl(&["history", "Greeting"]).await;
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout
            .contains("runs in inbound call flow 'Caller B' (stale)"),
        "{text:?}"
    );
    let md = org
        .flowctl(&["--output", "markdown", "history", "Greeting"])
        .await;
    assert!(md.stdout.contains("| 2.0 |"), "{md:?}");
    assert!(md.stdout.contains("Caller A (stale)"), "{md:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_the_change_between_two_versions_by_place_and_exits_1() {
    let org = published_twice().await;
    let r = org.flowctl(&["diff", "Greeting"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("'Greeting' 1.0 → 2.0: 1 change(s)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "playAudio 'Play Shared Greeting' › audio.tts: \"Hello from the module\" → \"Helo from teh module\""
        ),
        "{r:?}"
    );
    assert!(r.stderr.trim().is_empty(), "exit 1 is the answer: {r:?}");

    let j = org
        .flowctl(&[
            "--output", "json", "diff", "Greeting", "--from", "2", "--to", "1",
        ])
        .await;
    assert_eq!(j.code, 1, "{j:?}");
    let json = j.json();
    assert_eq!(json["same"], false);
    assert_eq!(json["changes"][0]["old"], "Helo from teh module");
    assert_eq!(json["changes"][0]["new"], "Hello from the module");

    let md = org
        .flowctl(&["--output", "markdown", "diff", "Greeting"])
        .await;
    assert_eq!(md.code, 1, "{md:?}");
    assert!(md.stdout.contains("| place | old | new |"), "{md:?}");

    // A caller's 1.0 and 2.0 are the same flow: only the module it copies changed.
    let same = org.flowctl(&["diff", "Caller A"]).await;
    assert_eq!(same.code, 0, "{same:?}");
    assert!(same.stdout.contains("the same in meaning"), "{same:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_compares_the_published_version_with_a_local_file() {
    let org = published_twice().await;
    let module = flow(&org, "Greeting");
    let v1 = org.emulator.version_yaml(&module.id, "1.0").expect("1.0");
    let path = org.path().join("greeting.yaml");
    // The file as a user keeps it: a placeholder, no marker.
    let file: String = v1
        .replace("Hello from the module", "{{greeting}}")
        .lines()
        .filter(|l| !l.trim_start().starts_with("description:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, file).expect("write");
    let p = path.to_str().expect("utf-8");
    let r = org
        .flowctl(&[
            "diff",
            "Greeting",
            "--file",
            p,
            "--var",
            "greeting=Helo from teh module",
        ])
        .await;
    assert_eq!(r.code, 0, "the published 2.0 is this file: {r:?}");
    let r = org
        .flowctl(&["diff", "Greeting", "--file", p, "--var", "greeting=Hello"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("\"Helo from teh module\" → \"Hello\""),
        "{r:?}"
    );
    let r = org.flowctl(&["diff", "Greeting", "--file", p]).await;
    assert_eq!(r.code, 2, "an unreplaced placeholder is bad input: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_yes_off_a_terminal_nothing_changes_and_it_exits_2() {
    let org = published_twice().await;
    let before = counts(&org);
    let jobs_before = jobs(&org);
    let r = rollback(&org, &["Greeting"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("republish  inbound call flow Caller B"),
        "plan first: {r:?}"
    );
    assert!(r.stderr.contains("needs --yes"), "{r:?}");
    assert!(r.stderr.contains("nothing was changed"), "{r:?}");
    assert_eq!(counts(&org), before);
    assert_eq!(jobs(&org), jobs_before, "no Architect job");

    let dry = rollback(&org, &["Greeting", "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("nothing changed"), "{dry:?}");
    assert_eq!(counts(&org), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_does_not_exist_exits_2_naming_those_that_do() {
    let org = published_twice().await;
    let before = counts(&org);
    for cmd in [
        vec!["rollback", "Greeting", "--to", "7.0", "--yes"],
        vec!["diff", "Greeting", "--from", "7"],
    ] {
        let r = org.flowctl(&cmd).await;
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr
                .contains("has no version 7.0; its versions are 2.0, 1.0"),
            "{r:?}"
        );
    }
    assert_eq!(counts(&org), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_to_the_published_content_is_a_no_op_and_says_so() {
    let org = published_twice().await;
    let before = counts(&org);
    let jobs_before = jobs(&org);
    let r = rollback(&org, &["Greeting", "--to", "2.0", "--yes"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("nothing to do"), "{r:?}");
    assert_eq!(counts(&org), before);
    assert_eq!(jobs(&org), jobs_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_without_callers_gets_one_new_version_and_nothing_else_does() {
    let org = published_twice().await;
    // Caller A's 1.0 and 2.0 differ only in the module copy: change its content for real.
    let a = flow(&org, "Caller A");
    let yaml = org.emulator.published_yaml(&a.id).expect("published");
    org.emulator
        .publish_as_ui_user(&yaml.replace("name: General Support", "name: Sales"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let before = counts(&org);
    let r = org
        .flowctl(&["--output", "json", "rollback", "Caller A", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["to"], "2.0");
    assert_eq!(r.json()["results"].as_array().map(Vec::len), Some(1));
    let v4 = org.emulator.published_yaml(&a.id).expect("published");
    assert!(v4.contains("name: General Support"), "{v4}");
    for ((name, n), (_, m)) in before.iter().zip(counts(&org)) {
        assert_eq!(m, n + usize::from(name == "Caller A"), "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_locked_by_someone_else_fails_alone_and_running_again_finishes() {
    let org = published_twice().await;
    assert!(org
        .emulator
        .lock_flow("Caller B", FlowType::InboundCall, "Jane Doe"));
    let r = rollback(&org, &["Greeting", "--yes"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stdout.contains("locked by user 'Jane Doe'"), "{r:?}");
    assert!(r.stderr.contains("partial"), "{r:?}");
    assert!(r.stderr.contains("--to 3.0"), "the hint finishes it: {r:?}");
    assert_eq!(versions(&org, "Greeting").len(), 3);
    assert_eq!(versions(&org, "Caller A").len(), 3);
    assert_eq!(versions(&org, "Caller C").len(), 3);
    assert_eq!(versions(&org, "Caller B").len(), 2, "the locked caller");

    // Once the lock is gone, the same rollback to the restored version republishes only
    // the caller still on the old copy.
    assert!(org.emulator.unlock_flow("Caller B", FlowType::InboundCall));
    let again = rollback(&org, &["Greeting", "--to", "3.0", "--yes"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        versions(&org, "Greeting").len(),
        3,
        "the module is not published again"
    );
    assert_eq!(versions(&org, "Caller A").len(), 3);
    assert_eq!(versions(&org, "Caller B").len(), 3);
    assert_eq!(
        consumed_version(&org, "Caller B", "Greeting").as_deref(),
        Some("3.0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_in_two_types_asks_for_type() {
    let org = published_twice().await;
    org.emulator
        .publish_as_client(
            "inboundCall:\n  name: Greeting\n  division: Home\n  startUpRef: /inboundCall/tasks/task[t]\n  tasks:\n  - task:\n      name: T\n      refId: t\n      actions:\n      - disconnect:\n          name: Bye\n",
            flowctl::emulator::DEFAULT_CLIENT_ID,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    let r = org.flowctl(&["history", "Greeting"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--type"), "{r:?}");
    let r = org
        .flowctl(&["history", "Greeting", "--type", "commonmodule"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_incident_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let section = readme
        .split("## When a module change goes wrong")
        .nth(1)
        .expect("the README section");
    let script = section
        .split("```sh\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("its shell example");
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_flowctl"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let script = script.to_string();
    let home = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&home)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", &home)
            .env("TMPDIR", &home)
            .env("FLOWCTL_NO_TOKEN_CACHE", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("bash runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("'Greeting' restored to version 1.0's content as version 3.0; 2 caller(s) republished, 0 failed"),
        "{stdout}\n{stderr}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with("verify: 10 checks passed, 0 failed, 0 unknown"),
        "{stdout}\n{stderr}"
    );
}

const INNER: &str = "commonModule:\n  name: Inner\n  division: Home\n  startUpTaskActions:\n  - playAudio:\n      name: Say it\n      audio:\n        tts: Inner speaks\n  - endTask:\n      name: Back\n";

fn calling(key: &str, name: &str, modules: &[&str]) -> String {
    // The actions, indented by `pad`.
    let actions = |pad: &str| -> String {
        let mut out: String = modules
            .iter()
            .map(|m| {
                format!("{pad}- callCommonModule:\n{pad}    name: Run {m}\n{pad}    commonModule:\n{pad}      {m}:\n{pad}        ver_latestPublished:\n{pad}          inputs: {{}}\n")
            })
            .collect();
        out.push_str(&match key {
            "commonModule" => format!("{pad}- endTask:\n{pad}    name: Back\n"),
            _ => format!("{pad}- disconnect:\n{pad}    name: Bye\n"),
        });
        out
    };
    match key {
        "commonModule" => format!(
            "commonModule:\n  name: {name}\n  division: Home\n  startUpTaskActions:\n{}",
            actions("  ")
        ),
        _ => format!(
            "inboundCall:\n  name: {name}\n  division: Home\n  startUpRef: /inboundCall/tasks/task[t]\n  tasks:\n  - task:\n      name: T\n      refId: t\n      actions:\n{}",
            actions("      ")
        ),
    }
}

/// Inner at 2.0, called by the module Outer and by 'Both'; Outer called by 'Via Outer 1',
/// 'Via Outer 2' and 'Both'; each republished, in order, with each version of Inner. And a
/// flow that calls none of them.
async fn nested_published_twice() -> Org {
    let org = Org::new().await;
    let publish = |yaml: &str| {
        org.emulator
            .publish_as_client(yaml, flowctl::emulator::DEFAULT_CLIENT_ID)
            .unwrap_or_else(|e| panic!("{e:?}\n{yaml}"));
    };
    publish(&calling("inboundCall", "Alone", &[]));
    for tts in ["Inner speaks", "Inner sepaks"] {
        publish(&INNER.replace("Inner speaks", tts));
        publish(&calling("commonModule", "Outer", &["Inner"]));
        publish(&calling("inboundCall", "Via Outer 1", &["Outer"]));
        publish(&calling("inboundCall", "Via Outer 2", &["Outer"]));
        publish(&calling("inboundCall", "Both", &["Inner", "Outer"]));
    }
    org
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_module_rollback_republishes_the_outer_module_then_its_callers_once_each() {
    let org = nested_published_twice().await;
    assert_eq!(
        consumed_version(&org, "Both", "Outer").as_deref(),
        Some("2.0")
    );
    let before = counts(&org);
    let r = org
        .flowctl(&["--output", "json", "rollback", "Inner", "--yes"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let json = r.json();
    assert_eq!(json["verification"]["ok"], true, "{r:?}");
    // Dependency order: Inner, then Outer, then the flows that call Outer.
    let order: Vec<&str> = json["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        order,
        vec!["Inner", "Outer", "Both", "Via Outer 1", "Via Outer 2"]
    );

    let inner = flow(&org, "Inner");
    let v1 = org.emulator.version_yaml(&inner.id, "1.0").expect("1.0");
    let v3 = org.emulator.published_yaml(&inner.id).expect("3.0");
    assert!(same_meaning(&v1, &v3), "{v3}");
    // Each flow of the chain: exactly one new version, copying the newest of what it calls.
    assert_eq!(
        consumed_version(&org, "Outer", "Inner").as_deref(),
        Some("3.0")
    );
    for caller in ["Via Outer 1", "Via Outer 2", "Both"] {
        assert_eq!(
            consumed_version(&org, caller, "Outer").as_deref(),
            Some("3.0"),
            "{caller}"
        );
    }
    assert_eq!(
        consumed_version(&org, "Both", "Inner").as_deref(),
        Some("3.0")
    );
    for ((name, n), (_, m)) in before.iter().zip(counts(&org)) {
        assert_eq!(m, n + usize::from(name != "Alone"), "{name}");
    }
    // Each caller published after what it calls.
    let published_at = |name: &str| {
        flow(&org, name)
            .published_version
            .and_then(|v| v.date_published)
            .expect("published")
    };
    assert!(published_at("Outer") > published_at("Inner"));
    for caller in ["Via Outer 1", "Via Outer 2", "Both"] {
        assert!(published_at(caller) > published_at("Outer"), "{caller}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_rollback_stopped_by_a_lock_on_the_outer_module_skips_its_callers_and_finishes_later(
) {
    let org = nested_published_twice().await;
    assert!(org
        .emulator
        .lock_flow("Outer", FlowType::CommonModule, "Jane Doe"));
    let r = rollback(&org, &["Inner", "--yes"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stdout.contains("locked by user 'Jane Doe'"), "{r:?}");
    assert_eq!(versions(&org, "Inner").len(), 3);
    assert_eq!(versions(&org, "Outer").len(), 2, "locked");
    assert_eq!(
        versions(&org, "Via Outer 1").len(),
        2,
        "skipped: Outer did not publish"
    );
    assert_eq!(
        versions(&org, "Both").len(),
        2,
        "skipped: Outer did not publish"
    );

    assert!(org.emulator.unlock_flow("Outer", FlowType::CommonModule));
    let again = rollback(&org, &["Inner", "--to", "3.0", "--yes"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    for (name, n) in [
        ("Inner", 3),
        ("Outer", 3),
        ("Via Outer 1", 3),
        ("Via Outer 2", 3),
        ("Both", 3),
        ("Alone", 1),
    ] {
        assert_eq!(versions(&org, name).len(), n, "{name}");
    }
    assert_eq!(
        consumed_version(&org, "Via Outer 2", "Outer").as_deref(),
        Some("3.0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_diff_read_a_flow_without_callers_and_a_locked_one() {
    let org = published_twice().await;
    // Reading never needs a lock: a caller checked out in the UI still reads.
    assert!(org
        .emulator
        .lock_flow("Caller A", FlowType::InboundCall, "Jane Doe"));
    let jobs_before = jobs(&org);

    let h = org
        .flowctl(&["--output", "json", "history", "Caller A"])
        .await;
    assert_eq!(h.code, 0, "{h:?}");
    let json = h.json();
    let ids: Vec<&str> = json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(ids, vec!["2.0", "1.0"]);
    assert_eq!(
        json["callers"],
        serde_json::json!([]),
        "nobody calls a caller"
    );
    assert!(json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .all(|v| v["callers"] == serde_json::json!([])));

    // The module's history still names the locked caller.
    let h = org
        .flowctl(&["--output", "json", "history", "Greeting"])
        .await;
    assert_eq!(h.code, 0, "{h:?}");
    assert_eq!(
        h.json()["versions"][0]["callers"],
        serde_json::json!(["Caller A", "Caller B", "Caller C"])
    );

    // A version against itself: nothing to show, exit 0.
    let d = org
        .flowctl(&["diff", "Greeting", "--from", "2", "--to", "2.0"])
        .await;
    assert_eq!(d.code, 0, "{d:?}");
    assert!(d.stdout.contains("the same in meaning"), "{d:?}");
    let d = org.flowctl(&["diff", "Caller A", "--to", "9"]).await;
    assert_eq!(d.code, 2, "{d:?}");
    assert!(
        d.stderr
            .contains("has no version 9.0; its versions are 2.0, 1.0"),
        "{d:?}"
    );
    assert_eq!(jobs(&org), jobs_before, "reading publishes nothing");
    assert_eq!(versions(&org, "Caller A").len(), 2);
}

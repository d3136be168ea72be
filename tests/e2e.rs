//! End to end: the real binary against an in-process emulator, one org per test.

mod common;

use common::Org;
use flowctl::emulator::EmulatorConfig;
use flowctl::models::FlowType;
use std::time::Duration;

const SHARED: &str = "Shared Greeting Module";
const QUEUE: &str = "General Support";

async fn create_shared(org: &Org, extra: &[&str]) -> common::Run {
    let mut args = vec!["--output", "json", "create-shared", "--name", SHARED];
    args.extend_from_slice(extra);
    org.flowctl(&args).await
}

async fn create_parents(org: &Org, names: &[&str]) -> common::Run {
    let mut args = vec![
        "--output",
        "json",
        "create-parent",
        "--shared",
        SHARED,
        "--queue",
        QUEUE,
    ];
    for n in names {
        args.push("--name");
        args.push(n);
    }
    org.flowctl(&args).await
}

fn flow(org: &Org, name: &str, t: FlowType) -> Option<flowctl::models::Flow> {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name && f.flow_type == t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_scenario_publishes_module_and_two_parents_and_verifies() {
    let org = Org::new().await;
    let r = create_shared(&org, &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let shared = r.json();
    assert_eq!(shared["action"], "created");
    assert_eq!(shared["type"], "COMMONMODULE");
    assert_eq!(shared["version"], "1.0");

    let r = create_parents(&org, &["Inbound Sales Flow", "Inbound Support Flow"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let parents = r.json();
    let parents = parents.as_array().expect("an array for several names");
    assert_eq!(parents.len(), 2);
    for p in parents {
        assert_eq!(p["action"], "created");
        assert_eq!(p["type"], "INBOUNDCALL");
    }

    // What Architect published really calls the module and queues the caller.
    let sales = flow(&org, "Inbound Sales Flow", FlowType::InboundCall).expect("sales flow");
    let yaml = org
        .emulator
        .published_yaml(&sales.id)
        .expect("published content");
    assert!(yaml.contains("callCommonModule"), "{yaml}");
    assert!(yaml.contains(SHARED) && yaml.contains(QUEUE), "{yaml}");

    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            SHARED,
            "--parent",
            "Inbound Sales Flow",
            "--parent",
            "Inbound Support Flow",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("PASS"), "{r:?}");
    assert!(!r.stdout.contains("FAIL"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_with_same_content_publishes_nothing_and_changed_content_updates() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    let r = create_shared(&org, &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "unchanged");
    let module = flow(&org, SHARED, FlowType::CommonModule).expect("module");
    assert_eq!(
        org.emulator.flow_versions(&module.id).len(),
        1,
        "no second version"
    );

    let r = create_shared(&org, &["--greeting", "A brand new greeting"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["action"], "updated");
    assert_eq!(j["version"], "2.0");

    assert_eq!(create_parents(&org, &["Inbound Sales Flow"]).await.code, 0);
    let r = create_parents(&org, &["Inbound Sales Flow"]).await;
    assert_eq!(r.json()["action"], "unchanged", "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_and_queue_can_be_given_by_id() {
    let org = Org::new().await;
    let module_id = create_shared(&org, &[]).await.json()["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-parent",
            "--name",
            "By Id Flow",
            "--shared",
            &module_id,
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let parent_id = r.json()["id"].as_str().expect("id").to_string();
    let r = org
        .flowctl(&["verify", "--shared", &module_id, "--parent", &parent_id])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_queue_exits_2_suggests_near_names_and_creates_nothing() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            SHARED,
            "--queue",
            "General Suport",
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("queue 'General Suport' does not exist"),
        "{r:?}"
    );
    assert!(r.stderr.contains("did you mean 'General Support'"), "{r:?}");
    assert!(flow(&org, "Inbound Sales Flow", FlowType::InboundCall).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_module_exits_2_telling_to_run_create_shared_first() {
    let org = Org::new().await;
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            "No Such Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("'No Such Module' does not exist"),
        "{r:?}"
    );
    assert!(r.stderr.contains("flowctl create-shared"), "{r:?}");
    assert!(org.emulator.flows().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_exit_3_naming_the_login_host() {
    let org = Org::new().await;
    let r = org
        .flowctl_env(
            &["create-shared", "--name", SHARED],
            &[("GENESYS_CLIENT_SECRET", "wrong-secret")],
        )
        .await;
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("invalid_client"), "{r:?}");
    assert!(r.stderr.contains(&org.emulator.base_url()), "{r:?}");
    assert!(!r.stderr.contains("wrong-secret"), "{r:?}");
    assert!(org.emulator.flows().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_flow_exits_4_naming_the_holder() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert!(org
        .emulator
        .lock_flow(SHARED, FlowType::CommonModule, "Jane Architect"));
    let r = create_shared(&org, &["--greeting", "Changed while locked"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains("locked by user 'Jane Architect'"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failed_parent_is_reported_on_lines_a_server_name_cannot_forge() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    let names = ["Inbound Sales Flow", "Inbound Support Flow"];
    assert_eq!(create_parents(&org, &names).await.code, 0);
    // The lock holder's name comes from the server: here it carries a forged line.
    let holder = "Jane\nflowctl: all parents published";
    for n in names {
        assert!(org.emulator.lock_flow(n, FlowType::InboundCall, holder));
    }
    let mut args = vec![
        "create-parent",
        "--shared",
        SHARED,
        "--queue",
        QUEUE,
        "--description",
        "Changed while locked",
    ];
    for n in names {
        args.extend(["--name", n]);
    }
    let r = org.flowctl(&args).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("2 of 2 parent flows failed"), "{r:?}");
    assert_eq!(
        r.stderr.matches("flowctl: error: ").count(),
        3,
        "one line per parent and the summary: {r:?}"
    );
    assert!(
        !r.stderr
            .lines()
            .any(|l| l.starts_with("flowctl: all parents published")),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_leaves_no_empty_flow_and_prints_its_messages() {
    let org = Org::new().await;
    let file = org.path().join("calls-missing.yaml");
    std::fs::write(
        &file,
        include_str!("fixtures/flows/calls_missing_module.yaml"),
    )
    .expect("write fixture");
    let r = org
        .flowctl(&[
            "create-shared",
            "--file",
            file.to_str().expect("utf-8 path"),
        ])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("Architect job"), "{r:?}");
    assert!(
        r.stderr.contains("Missing Module"),
        "the job's message is printed whole: {r:?}"
    );
    assert!(r.stderr.contains("was removed"), "{r:?}");
    assert!(
        flow(&org, "Broken Module", FlowType::CommonModule).is_none(),
        "no empty flow is left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fails_for_a_missing_parent_and_a_parent_calling_another_module() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert_eq!(
        org.flowctl(&["create-shared", "--name", "Other Module"])
            .await
            .code,
        0
    );
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Calls Other",
            "--shared",
            "Other Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");

    let r = org
        .flowctl(&[
            "--output",
            "json",
            "verify",
            "--shared",
            SHARED,
            "--parent",
            "Calls Other",
            "--parent",
            "Never Created",
            "--wait",
            "1",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    assert_eq!(report["ok"], false);
    let checks = report["checks"].as_array().expect("checks");
    let status_of = |subject: &str, check: &str| {
        checks
            .iter()
            .find(|c| {
                c["subject"] == subject && c["check"].as_str().unwrap_or("").starts_with(check)
            })
            .map(|c| c["status"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        status_of("parent 'Never Created'", "exists").as_deref(),
        Some("fail"),
        "{report:#}"
    );
    assert_eq!(
        status_of("parent 'Calls Other'", "calls common module").as_deref(),
        Some("fail"),
        "{report:#}"
    );
    assert_eq!(
        status_of("parent 'Calls Other'", "published").as_deref(),
        Some("pass"),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_stale_parent_and_create_parent_fixes_it() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert_eq!(create_parents(&org, &["Inbound Sales Flow"]).await.code, 0);
    assert_eq!(
        create_shared(&org, &["--greeting", "New words"]).await.code,
        0
    );

    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            SHARED,
            "--parent",
            "Inbound Sales Flow",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("stale"), "{r:?}");
    assert!(
        r.stdout
            .contains("fix: flowctl create-parent --name 'Inbound Sales Flow'"),
        "{r:?}"
    );

    // The parent's own content is unchanged, but it runs an old copy: it is republished.
    let r = create_parents(&org, &["Inbound Sales Flow"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "updated", "{r:?}");
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            SHARED,
            "--parent",
            "Inbound Sales Flow",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_waits_for_a_lagging_dependency_index() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        index_lag: Duration::from_millis(1500),
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert_eq!(create_parents(&org, &["Inbound Sales Flow"]).await.code, 0);
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            SHARED,
            "--parent",
            "Inbound Sales Flow",
            "--queue",
            QUEUE,
            "--wait",
            "30",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_says_unknown_not_pass_while_the_index_rebuilds() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert_eq!(create_parents(&org, &["Inbound Sales Flow"]).await.code, 0);
    org.emulator.set_index_lag(Duration::from_secs(3600));
    assert_eq!(
        org.flowctl(&["create-shared", "--name", "Second Module"])
            .await
            .code,
        0
    );
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Late Flow",
            "--shared",
            "Second Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    org.emulator.set_build_status("BUILDINPROGRESS");
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Second Module",
            "--parent",
            "Late Flow",
            "--wait",
            "0",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("UNKNOWN"), "{r:?}");
    assert!(r.stdout.contains("BUILDINPROGRESS"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_json_and_junit_outputs_parse_and_agree() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert_eq!(create_parents(&org, &["Inbound Sales Flow"]).await.code, 0);
    let args = [
        "verify",
        "--shared",
        SHARED,
        "--parent",
        "Inbound Sales Flow",
        "--parent",
        "Missing Flow",
        "--wait",
        "0",
    ];

    let mut json_args = vec!["--output", "json"];
    json_args.extend_from_slice(&args);
    let r = org.flowctl(&json_args).await;
    assert_eq!(r.code, 1, "{r:?}");
    let report = r.json();
    let checks = report["checks"].as_array().expect("checks").len();

    let mut junit_args = vec!["--output", "junit"];
    junit_args.extend_from_slice(&args);
    let r = org.flowctl(&junit_args).await;
    assert_eq!(r.code, 1, "{r:?}");
    let doc = roxmltree::Document::parse(&r.stdout).expect("JUnit XML parses");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), checks);
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(
        failures as u64,
        report["failed"].as_u64().unwrap_or(0) + report["unknown"].as_u64().unwrap_or(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_and_token_never_appear_in_output_at_the_most_verbose_level() {
    const SECRET: &str = "Sup3r-Secret-Value-9f8e7d";
    let org = Org::with(flowctl::emulator::EmulatorConfig {
        client_secret: SECRET.into(),
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        ..flowctl::emulator::EmulatorConfig::default()
    })
    .await;
    let env = [("GENESYS_CLIENT_SECRET", SECRET)];
    let manifest = org.path().join("flows.yaml");
    std::fs::write(&manifest, "modules:\n  - name: M\n    greeting: Hi\nflows:\n  - name: F\n    modules: [M]\n    queue: Sales\n")
        .expect("manifest");
    let m = manifest.to_str().expect("utf-8");
    let commands: Vec<Vec<&str>> = vec![
        vec!["-vvv", "create-shared", "--name", SHARED],
        vec![
            "-vvv",
            "create-parent",
            "--name",
            "P",
            "--shared",
            SHARED,
            "--queue",
            QUEUE,
        ],
        vec![
            "-vvv", "verify", "--shared", SHARED, "--parent", "P", "--wait", "0",
        ],
        vec![
            "-vvv", "verify", "--shared", SHARED, "--parent", "Nope", "--wait", "0",
        ],
        vec!["-vvv", "plan", "-f", m],
        vec!["-vvv", "apply", "-f", m],
        vec!["-vvv", "verify", "-f", m],
        vec!["-vvv", "graph", "-f", m, "--from-org"],
        vec!["-vvv", "whoami"],
        vec!["-vvv", "destroy", "-f", m, "--yes"],
        vec!["-vvv", "--no-token-cache", "whoami"],
    ];
    let mut runs = Vec::new();
    for args in &commands {
        let r = org.flowctl_env(args, &env).await;
        assert_ne!(r.code, 101, "{args:?} panicked: {r:?}");
        runs.push((args.clone(), r));
    }
    // A wrong secret must not be echoed either.
    let wrong = org
        .flowctl_env(
            &["-vvv", "--no-token-cache", "whoami"],
            &[("GENESYS_CLIENT_SECRET", "Wrong-Secret-0a1b2c")],
        )
        .await;
    assert_eq!(wrong.code, 3);
    assert!(
        !wrong.stderr.contains("Wrong-Secret-0a1b2c")
            && !wrong.stdout.contains("Wrong-Secret-0a1b2c")
    );

    // The token is in the 0600 cache and nowhere else.
    let cache = org.path().join("cache").join("flowctl");
    // (Beside it, the job journal is a directory of its own, and the run lock a file.)
    let cached = std::fs::read_dir(&cache)
        .expect("token cache dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("token-"))
        })
        .expect("a cache file");
    let text = std::fs::read_to_string(&cached).expect("cache");
    let token: serde_json::Value = serde_json::from_str(&text).expect("cache is JSON");
    let token = token["access_token"]
        .as_str()
        .expect("access_token in cache")
        .to_string();
    assert!(!text.contains(SECRET), "the cache never holds the secret");
    for (args, run) in &runs {
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(SECRET), "secret leaked by {args:?}: {run:?}");
            assert!(!text.contains(&token), "token leaked by {args:?}: {run:?}");
        }
    }
    // No other file the runs left behind holds either.
    let mut stack = vec![org.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p != cached {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(SECRET) && !text.contains(&token),
                    "{} holds a secret",
                    p.display()
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_fetched_once_and_reused_by_the_next_process() {
    let org = Org::new().await;
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    assert_eq!(create_shared(&org, &[]).await.code, 0);
    let token_posts = org
        .emulator
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p.starts_with("/oauth/token"))
        .count();
    assert_eq!(token_posts, 1);
}

//! `overrideInQueueFlow`: the in-queue flow a queue transfer names is published first,
//! checked before anything changes, drawn by `graph`, verified by `verify -f`, and
//! Architect (the emulator's) refuses a flow naming one that is not published.

mod common;

use common::Org;

const MODULE: &str = r#"commonModule:
  name: Pool Router
  division: Home
  startUpTaskActions:
    - transferToAcd:
        name: To the pool
        targetQueue:
          lit:
            name: Pool
        overrideInQueueFlow:
          name: "{{wait_flow}}"
    - endTask:
        name: Done
"#;

fn in_queue(name: &str, next: Option<&str>) -> String {
    let transfer = next
        .map(|n| {
            format!(
                "    - transferToAcd:\n        name: Escalate\n        targetQueue:\n          lit:\n            name: Pool\n        overrideInQueueFlow:\n          name: {n}\n"
            )
        })
        .unwrap_or_default();
    format!(
        "inqueueCall:\n  name: {name}\n  division: Home\n  settingsInQueueCall:\n    holdMusic:\n      lit:\n        name: PromptSystem.on_hold_music\n  startUpTaskActions:\n    - playAudio:\n        name: Thanks\n        audio:\n          tts: Thanks for waiting\n{transfer}    - disconnect:\n        name: Bye\n"
    )
}

fn setup(org: &Org, wait_flow: &str) -> String {
    org.emulator.add_queue("Pool");
    let w = |name: &str, text: &str| std::fs::write(org.path().join(name), text).expect("write");
    w("router.yaml", MODULE);
    w(
        "first-wait.yaml",
        &in_queue("First Wait", Some("Last Wait")),
    );
    w("last-wait.yaml", &in_queue("Last Wait", None));
    let path = org.path().join("flows.yaml");
    std::fs::write(
        &path,
        format!(
            "modules:\n  - file: router.yaml\n    substitutions:\n      wait_flow: {wait_flow}\nflows:\n  - file: first-wait.yaml\n  - file: last-wait.yaml\n"
        ),
    )
    .expect("write");
    path.to_str().expect("utf-8").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_queue_flows_publish_before_what_names_them_and_are_drawn_and_verified() {
    let org = Org::new().await;
    let path = setup(&org, "First Wait");
    let r = org.flowctl(&["plan", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let at = |name: &str| {
        r.stdout
            .find(name)
            .unwrap_or_else(|| panic!("{name}: {r:?}"))
    };
    assert!(at("Last Wait") < at("First Wait"), "{}", r.stdout);
    assert!(at("First Wait") < at("Pool Router"), "{}", r.stdout);

    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(org.emulator.flows().len(), 3);

    let r = org
        .flowctl(&["graph", "-f", &path, "--format", "mermaid"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let edges: Vec<&str> = r.stdout.lines().filter(|l| l.contains("-->")).collect();
    assert!(
        edges.len() >= 4,
        "router→queue, router→first, first→last, first→queue: {}",
        r.stdout
    );
    let r = org
        .flowctl(&["--output", "json", "graph", "-f", &path, "--from-org"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("First Wait") && r.stdout.contains("Last Wait"),
        "{}",
        r.stdout
    );

    let r = org
        .flowctl(&["--output", "json", "verify", "-f", &path, "--wait", "5"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let passed = r.passed_checks();
    // What a flow names, and what a module names, both ways.
    for expected in [
        "in-queue flow 'Last Wait' exists",
        "in-queue flow 'First Wait' exists",
        "parent 'First Wait' uses in-queue flow 'Last Wait'",
        "parent 'Pool Router' uses in-queue flow 'First Wait'",
    ] {
        assert!(
            passed.iter().any(|p| p == expected),
            "'{expected}' not in {passed:#?}"
        );
    }
    assert!(
        passed
            .iter()
            .any(|p| p.contains("uses in-queue flow 'Last Wait'")),
        "{passed:#?}"
    );
}

#[tokio::test]
async fn a_missing_in_queue_flow_exits_2_before_any_change_with_a_suggestion() {
    let org = Org::new().await;
    let path = setup(&org, "First Wiat");
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("common module 'Pool Router'")
            && r.stderr.contains("action 'To the pool': in-queue flow 'First Wiat' is neither in the manifest nor published in the org (did you mean 'First Wait'?)"),
        "{}",
        r.stderr
    );
    assert!(org.emulator.flows().is_empty(), "nothing published");
}

#[tokio::test]
async fn architect_refuses_a_flow_naming_an_in_queue_flow_that_is_not_published() {
    let org = Org::new().await;
    org.emulator.add_queue("Pool");
    let errors = org
        .emulator
        .publish_as_client(&MODULE.replace("{{wait_flow}}", "Nowhere Wait"), "someone")
        .expect_err("refused");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("the in-queue flow 'Nowhere Wait' could not be found")),
        "{errors:?}"
    );
    // Published first, the same module goes through.
    org.emulator
        .publish_as_client(&in_queue("Nowhere Wait", None), "someone")
        .expect("in-queue flow");
    org.emulator
        .publish_as_client(&MODULE.replace("{{wait_flow}}", "Nowhere Wait"), "someone")
        .expect("now accepted");
}

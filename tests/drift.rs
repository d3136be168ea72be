//! Drift: a flow edited and published in Architect's UI (its description, and so flowctl's
//! marker, left alone) is found by reading the published content back through export
//! jobs, and only that flow is republished.

mod common;

use common::Org;

const MANIFEST: &str = include_str!("fixtures/manifests/three_callers.yaml");

async fn applied() -> (Org, String) {
    let org = Org::new().await;
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, MANIFEST).expect("write manifest");
    let path = path.to_str().expect("utf-8").to_string();
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    (org, path)
}

fn flow(org: &Org, name: &str) -> flowctl::models::Flow {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no flow '{name}'"))
}

/// Edits a flow's published YAML as a UI user would and publishes it; the description
/// (with flowctl's marker) stays as it was.
fn edit_in_ui(org: &Org, name: &str, from: &str, to: &str) {
    let f = flow(org, name);
    let yaml = org.emulator.published_yaml(&f.id).expect("published");
    assert!(yaml.contains(from), "{yaml}");
    org.emulator
        .publish_as_ui_user(&yaml.replace(from, to))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        flow(org, name).description,
        f.description,
        "description kept"
    );
}

fn count(org: &Org, method: &str, path: &str) -> usize {
    org.emulator
        .requests()
        .iter()
        .filter(|(m, p, _)| m == method && p == path)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_edited_in_the_ui_is_an_update_and_apply_republishes_only_it_with_one_job() {
    let (org, path) = applied().await;
    edit_in_ui(&org, "Caller B", "name: General Support", "name: Sales");

    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let a = r.plan_actions();
    let json = r.json();
    let diff = json["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "Caller B"))
        .and_then(|x| x["diff"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(diff.contains("+") && diff.contains("name: Sales"), "{diff}");
    for (name, action, reason) in &a {
        if name == "Caller B" {
            assert_eq!(action, "update", "{a:?}");
            assert_eq!(reason, "changed in the org since flowctl published it");
        } else {
            assert_eq!(action, "unchanged", "{a:?}");
        }
    }

    let jobs_before = count(&org, "POST", "/api/v2/flows/jobs");
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(count(&org, "POST", "/api/v2/flows/jobs") - jobs_before, 1);
    let published: Vec<String> = r.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|x| x["outcome"] == "published")
        .map(|x| x["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(published, ["Caller B"]);
    let b = flow(&org, "Caller B");
    let yaml = org.emulator.published_yaml(&b.id).expect("published");
    assert!(
        yaml.contains("name: General Support"),
        "the manifest's content is back"
    );
    for name in ["Shared Greeting Module", "Caller A", "Caller C"] {
        let v = flow(&org, name).published_version.map(|v| v.id);
        assert_eq!(v.as_deref(), Some("1.0"), "{name} was not republished");
    }

    // Converged: the next plan is all unchanged.
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path])
        .await;
    assert!(
        r.plan_actions().iter().all(|(_, a, _)| a == "unchanged"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_diff_shows_what_changed_in_the_org() {
    let (org, path) = applied().await;
    edit_in_ui(&org, "Caller A", "name: General Support", "name: Billing");
    let r = org.flowctl(&["plan", "-f", &path, "--diff"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("update"), "{r:?}");
    assert!(r.stdout.contains("inbound call flow 'Caller A'"), "{r:?}");
    let minus = r
        .stdout
        .lines()
        .any(|l| l.starts_with('-') && l.trim_end().ends_with("name: General Support"));
    let plus = r
        .stdout
        .lines()
        .any(|l| l.starts_with('+') && l.trim_end().ends_with("name: Billing"));
    assert!(minus && plus, "{r:?}");
    assert!(
        !r.stdout.contains("settingsActionDefaults"),
        "defaults are not drift: {r:?}"
    );

    // -v shows the same diff: on plan's output, and in apply's log.
    let r = org.flowctl(&["-v", "plan", "-f", &path]).await;
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with('+') && l.ends_with("name: Billing")),
        "{r:?}"
    );
    let r = org.flowctl(&["-v", "apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("name: Billing"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_edited_in_the_ui_is_updated_and_its_callers_republished() {
    let (org, path) = applied().await;
    edit_in_ui(
        &org,
        "Shared Greeting Module",
        "Hello from the module",
        "Hello from the UI",
    );
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path])
        .await;
    let a = r.plan_actions();
    assert!(
        a.iter()
            .any(|(n, act, _)| n == "Shared Greeting Module" && act == "update"),
        "{a:?}"
    );
    assert!(
        a.iter()
            .filter(|(n, _, _)| n.starts_with("Caller"))
            .all(|(_, act, _)| act == "republish"),
        "{a:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_drift_trusts_the_marker_and_sends_no_export_job() {
    let (org, path) = applied().await;
    edit_in_ui(&org, "Caller C", "name: General Support", "name: Sales");
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path, "--no-drift"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.plan_actions().iter().all(|(_, a, _)| a == "unchanged"),
        "{r:?}"
    );
    assert_eq!(count(&org, "POST", "/api/v2/flows/export/jobs"), 0);
    assert_eq!(org.emulator.export_job_count(), 0);

    // And apply --no-drift publishes nothing.
    let jobs = count(&org, "POST", "/api/v2/flows/jobs");
    let r = org.flowctl(&["apply", "-f", &path, "--no-drift"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(count(&org, "POST", "/api/v2/flows/jobs"), jobs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_flowctl_published_last_are_not_exported_but_a_ui_edit_is() {
    let (org, path) = applied().await;
    let before = count(&org, "POST", "/api/v2/flows/export/jobs");
    let (r, with_drift) = api_requests_of(&org, &["--output", "json", "plan", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.plan_actions().iter().all(|(_, a, _)| a == "unchanged"),
        "{r:?}"
    );
    // Every flow's published version was made by this OAuth client with the content its
    // marker names: the drift check costs not one request more than a plan without it.
    assert_eq!(count(&org, "POST", "/api/v2/flows/export/jobs"), before);
    let (r, without) = api_requests_of(&org, &["plan", "-f", &path, "--no-drift"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(with_drift, without);

    // A UI edit makes a version by someone else: that flow alone is exported.
    edit_in_ui(&org, "Caller C", "name: General Support", "name: Sales");
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path])
        .await;
    assert_eq!(count(&org, "POST", "/api/v2/flows/export/jobs") - before, 1);
    let c = r
        .plan_actions()
        .into_iter()
        .find(|(n, _, _)| n == "Caller C")
        .expect("Caller C");
    assert_eq!(c.1, "update", "{r:?}");
}

/// Runs flowctl and counts the API requests (under `/api/v2`) it sent.
async fn api_requests_of(org: &Org, args: &[&str]) -> (common::Run, usize) {
    let api = |org: &Org| {
        org.emulator
            .requests()
            .iter()
            .filter(|(_, p, _)| p.starts_with("/api/v2/"))
            .count()
    };
    let before = api(org);
    let r = org.flowctl(args).await;
    (r, api(org) - before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_drift_batches_every_flow_into_one_export_job() {
    let (org, path) = applied().await;
    let before = count(&org, "POST", "/api/v2/flows/export/jobs");
    let r = org.flowctl(&["plan", "-f", &path, "--full-drift"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(count(&org, "POST", "/api/v2/flows/export/jobs") - before, 1);
    // The four flows came back as a zip (several flows), not one request each.
    let downloads = org
        .emulator
        .requests()
        .iter()
        .filter(|(m, p, s)| m == "GET" && p.starts_with("/exports/") && *s == 200)
        .count();
    assert_eq!(downloads, 1 + before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_drift_finds_what_another_tool_published_with_the_same_client() {
    let (org, path) = applied().await;
    // Another tool, with flowctl's OAuth client, publishes changed content and keeps the
    // description (and so the marker): only --full-drift can see it.
    let f = flow(&org, "Caller A");
    let yaml = org.emulator.published_yaml(&f.id).expect("published");
    let changed = yaml.replace("name: General Support", "name: Sales");
    assert_ne!(changed, yaml);
    org.emulator
        .publish_as_client(&changed, flowctl::emulator::DEFAULT_CLIENT_ID)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(flow(&org, "Caller A").description, f.description);

    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path])
        .await;
    assert!(
        r.plan_actions().iter().all(|(_, a, _)| a == "unchanged"),
        "the default check trusts this client's own versions: {r:?}"
    );
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path, "--full-drift"])
        .await;
    let a = r.plan_actions();
    assert!(
        a.iter()
            .any(|(n, act, _)| n == "Caller A" && act == "update"),
        "{a:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_export_job_stops_the_plan_with_its_message_and_exit_4() {
    let (org, path) = applied().await;
    // Only a flow someone else published is exported.
    edit_in_ui(&org, "Caller A", "name: General Support", "name: Sales");
    // The flow is gone between the listing and the export: Architect's job fails.
    let id = flow(&org, "Caller A").id;
    org.emulator
        .fail_next_export(&format!("could not find the flow with id {id}"));
    let r = org.flowctl(&["plan", "-f", &path]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.stderr.contains("could not find the flow with id"),
        "{r:?}"
    );
    assert!(r.stderr.contains("--no-drift"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_shared_republishes_a_module_edited_in_the_ui_and_only_then() {
    let (org, _path) = applied().await;
    let args = [
        "--output",
        "json",
        "create-shared",
        "--name",
        "Shared Greeting Module",
        "--greeting",
        "Hello from the module",
    ];
    let action = |r: &common::Run| r.json()["action"].as_str().unwrap_or_default().to_string();

    // Published last by this client with this content: unchanged, and no export.
    let r = org.flowctl(&args).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(action(&r), "unchanged", "{r:?}");
    assert_eq!(org.emulator.export_job_count(), 0);

    edit_in_ui(
        &org,
        "Shared Greeting Module",
        "Hello from the module",
        "Hello from the UI",
    );
    // --no-drift trusts the marker, which the UI edit kept.
    let mut no_drift = args.to_vec();
    no_drift.push("--no-drift");
    let r = org.flowctl(&no_drift).await;
    assert_eq!(action(&r), "unchanged", "{r:?}");
    assert_eq!(org.emulator.export_job_count(), 0);

    // By default the edit is found and undone, with one export job.
    let r = org.flowctl(&args).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(action(&r), "updated", "{r:?}");
    assert!(
        r.stderr
            .contains("changed in the org since flowctl published it"),
        "{r:?}"
    );
    assert_eq!(org.emulator.export_job_count(), 1);
    let m = flow(&org, "Shared Greeting Module");
    let yaml = org.emulator.published_yaml(&m.id).expect("published");
    assert!(yaml.contains("Hello from the module"), "{yaml}");
}

fn drift_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/drift")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn an_export_that_respells_but_keeps_the_meaning_is_not_drift() {
    let published = drift_fixture("ivr_published.yaml");
    let exported = drift_fixture("ivr_exported.yaml");
    let c =
        flowctl::flow::compare::compare(&published, &exported).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.same, "{}", c.diff);
    // Each real change in the org is still found.
    for (from, to) in [
        ("name: \"Sales\"", "name: \"Billing\""),
        ("digit_9", "digit_8"),
        ("\"no\":\n", "\"maybe\":\n"),
        (
            "        -   task:",
            "        -   task:\n                variables: [x]",
        ),
    ] {
        assert!(exported.contains(from), "{from}");
        let changed = exported.replacen(from, to, 1);
        let c =
            flowctl::flow::compare::compare(&published, &changed).unwrap_or_else(|e| panic!("{e}"));
        assert!(!c.same, "{from} -> {to}");
    }
    // A file that names its division: another one in the org is drift.
    let named = published.replacen(
        "  startUpRef:",
        "  division: Sales Division\n  startUpRef:",
        1,
    );
    let c = flowctl::flow::compare::compare(&named, &exported).unwrap_or_else(|e| panic!("{e}"));
    assert!(!c.same);
    assert!(c.diff.contains("division"), "{}", c.diff);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reapplying_files_one_without_a_division_registers_no_job() {
    let org = Org::new().await;
    let ivr = drift_fixture("ivr_published.yaml");
    assert!(!ivr.contains("division:"));
    std::fs::write(org.path().join("ivr.yaml"), &ivr).expect("write");
    std::fs::write(
        org.path().join("hours.yaml"),
        "commonModule:\n  name: Drift Hours\n  division: Home\n  startUpTaskActions:\n    - playAudio:\n        name: Hours\n        audio:\n          tts: \"We are open 9 to 5.\"\n    - endTask:\n        name: Done\n",
    )
    .expect("write");
    let path = org.path().join("flows.yaml");
    std::fs::write(
        &path,
        "modules:\n  - file: hours.yaml\nflows:\n  - file: ivr.yaml\n",
    )
    .expect("write manifest");
    let path = path.to_str().expect("utf-8").to_string();
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let jobs = count(&org, "POST", "/api/v2/flows/jobs");

    // Every flow read back and compared: the division the export adds is no change.
    let exports = org.emulator.export_job_count();
    let r = org.flowctl(&["apply", "-f", &path, "--full-drift"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        org.emulator.export_job_count() > exports,
        "the flows were read back"
    );
    assert_eq!(count(&org, "POST", "/api/v2/flows/jobs"), jobs, "{r:?}");

    // The same content published again by a UI user: exported, compared, still no job.
    let f = flow(&org, "Drift Blueprint IVR");
    let yaml = org.emulator.published_yaml(&f.id).expect("published");
    org.emulator
        .publish_as_ui_user(&yaml)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let jobs = count(&org, "POST", "/api/v2/flows/jobs");
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(count(&org, "POST", "/api/v2/flows/jobs"), jobs, "{r:?}");

    // A real edit in the UI is still found and undone, with one job.
    edit_in_ui(&org, "Drift Blueprint IVR", "digit_9", "digit_8");
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(count(&org, "POST", "/api/v2/flows/jobs"), jobs + 1, "{r:?}");
}

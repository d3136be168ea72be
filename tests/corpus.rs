//! The corpus: our own fixtures (tests/fixtures/lint, in the shape of real public exports)
//! of every flow type lint's catalogue has learned go the whole way a user's files go: lint,
//! publish through the emulator's Architect (`apply`), Architect's export, and a re-plan
//! that reads every published flow back (`--full-drift`). Nothing may be lost or misread on
//! the way: the export parses, its strings stay strings, and the plan finds nothing to do.

mod common;

use common::Org;
use flowctl::emulator::ResourceKind;
use std::collections::BTreeSet;
use std::path::Path;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

/// The fixtures, modules and bot flows first (what the others call).
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(fixtures())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let text = std::fs::read_to_string(e.path()).ok()?;
            name.ends_with(".yaml").then_some((name, text))
        })
        .collect();
    files.sort_by_key(|(n, _)| (!n.starts_with("common_module"), n.clone()));
    files
}

fn flow_key(text: &str) -> String {
    let v: yaml_serde::Value = yaml_serde::from_str(text).unwrap_or_default();
    v.as_mapping()
        .and_then(|m| m.keys().next())
        .and_then(|k| k.as_str())
        .unwrap_or_default()
        .to_string()
}

/// A plain (unquoted) `yes`, `no`, `on` or `off`, which a YAML 1.1 reader takes for a
/// boolean: as a key (`yes:`) or as a value (`: no`, `- on`).
fn plain_yaml11_boolean(text: &str) -> Option<&str> {
    let words = ["yes", "no", "on", "off", "y", "n"];
    text.lines().find(|l| {
        let t = l.trim().trim_start_matches("- ");
        let key = t.split(':').next().unwrap_or_default();
        let value = t
            .split_once(": ")
            .map(|(_, v)| v.trim())
            .unwrap_or_default();
        words.iter().any(|w| {
            (t.contains(':') && key.eq_ignore_ascii_case(w))
                || value.eq_ignore_ascii_case(w)
                || t.eq_ignore_ascii_case(w)
        })
    })
}

#[test]
fn the_corpus_has_a_fixture_of_every_flow_type_lint_has_learned() {
    let cat = flowctl::lint::catalogue::get().unwrap_or_else(|e| panic!("{e}"));
    let learned: BTreeSet<&str> = cat.flow_types.keys().map(String::as_str).collect();
    let have: BTreeSet<String> = corpus().iter().map(|(_, t)| flow_key(t)).collect();
    let have: BTreeSet<&str> = have.iter().map(String::as_str).collect();
    assert_eq!(have, learned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_lints_publishes_exports_and_plans_unchanged() {
    let org = Org::new().await;
    // What the fixtures reference outside themselves.
    org.emulator
        .add_resource(ResourceKind::ScheduleGroup, "Example Opening Hours");
    for action in [
        "Lookup by ANI",
        "Get order status",
        "Get conversation summary",
    ] {
        org.emulator.add_resource(ResourceKind::DataAction, action);
    }
    org.emulator
        .add_resource(ResourceKind::DataTable, "Example Segments");
    let files = corpus();
    let mut manifest = String::from("modules:\n");
    let mut flows = String::from("flows:\n");
    for (name, text) in &files {
        std::fs::write(org.path().join(name), text).unwrap_or_else(|e| panic!("{e}"));
        let entry = format!("  - file: {name}\n");
        if flow_key(text) == "commonModule" {
            manifest.push_str(&entry);
        } else {
            flows.push_str(&entry);
        }
    }
    manifest.push_str(&flows);
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, &manifest).unwrap_or_else(|e| panic!("{e}"));
    let path = path.to_str().unwrap_or_default().to_string();

    // 1. Lint: no error, no warning, and no note but the expression notes of what lint
    // cannot know (a function newer than Architect's catalogue, a built-in such as Call.Ani).
    let r = org
        .flowctl(&["--output", "json", "lint", "-f", &path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    for report in r.json().as_array().cloned().unwrap_or_default() {
        let others: Vec<&serde_json::Value> = report["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| !(d["rule"] == "expression-note" && d["severity"] == "note"))
            .collect();
        assert!(others.is_empty(), "{report}");
    }

    // 2. Publish every flow through the emulator's Architect.
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let published = org.emulator.flows();
    assert_eq!(published.len(), files.len(), "{published:#?}");

    // 3. Architect's export of each: it parses, names the division, keeps strings strings
    //    and compares equal to the file.
    for f in &published {
        let yaml = org.emulator.published_yaml(&f.id).unwrap_or_default();
        let exported = flowctl::emulator::as_architect_exports(
            &yaml,
            f.flow_type,
            f.division.as_ref().and_then(|d| d.name.as_deref()),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let v: yaml_serde::Value = yaml_serde::from_str(&exported)
            .unwrap_or_else(|e| panic!("{}: the export does not parse: {e}\n{exported}", f.name));
        assert!(v.as_mapping().is_some_and(|m| m.len() == 1), "{exported}");
        assert_eq!(
            plain_yaml11_boolean(&exported),
            None,
            "{}:\n{exported}",
            f.name
        );
        let c = flowctl::flow::compare::compare(&yaml, &exported).unwrap_or_else(|e| panic!("{e}"));
        assert!(c.same, "{}: {}", f.name, c.diff);
    }

    // 4. Re-plan, reading every flow back through export jobs: nothing to do.
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", &path, "--full-drift"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let actions = r.plan_actions();
    assert_eq!(actions.len(), files.len(), "{r:?}");
    assert!(
        actions.iter().all(|(_, a, _)| a == "unchanged"),
        "{actions:?}"
    );
    assert!(org.emulator.export_job_count() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_in_lints_catalogue_publishes_through_the_emulator() {
    let cat = flowctl::lint::catalogue::get().unwrap_or_else(|e| panic!("{e}"));
    let org = Org::new().await;
    let mut yaml = String::from("commonModule:\n  name: Every Action\n  startUpTaskActions:\n");
    // `ref` points at a reusable piece in another file: not an action of its own.
    let actions: Vec<&String> = cat.actions.keys().filter(|a| *a != "ref").collect();
    assert!(actions.len() > 80, "{}", actions.len());
    for a in &actions {
        yaml.push_str(&format!("    - {a}:\n        name: Step {a}\n"));
    }
    let id = org
        .emulator
        .publish_as_client(&yaml, "corpus-test")
        .unwrap_or_else(|e| panic!("{e:#?}"));
    let published = org.emulator.published_yaml(&id).unwrap_or_default();
    let exported = flowctl::emulator::as_architect_exports(
        &published,
        flowctl::models::FlowType::CommonModule,
        Some("Home"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for a in &actions {
        assert!(
            exported.contains(&format!("- {a}:")),
            "{a} lost:\n{exported}"
        );
    }
    // A name no catalogue has still fails, as Architect's job would.
    let bad = yaml.replace("- wait:", "- waitt:");
    let e = org
        .emulator
        .publish_as_client(&bad, "corpus-test")
        .err()
        .unwrap_or_default();
    assert!(e.iter().any(|m| m.contains("'waitt'")), "{e:?}");
}

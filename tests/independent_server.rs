//! history, diff and rollback against a second server of the Genesys API written apart
//! from flowctl's emulator (tests/support/genesys.rs), which answers where the API leaves
//! room the other way: a rollback must not depend on how the emulator happens to answer.

mod common;
#[path = "support/genesys.rs"]
mod genesys;

use genesys::{Genesys, Publisher};

const GREETING: &str = "commonModule:
  name: Greeting
  description: The greeting every line plays
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      none: true
  startUpTaskActions:
  - playAudio:
      name: Say hello
      audio:
        tts: Hello from the module
  - endTask:
      name: Back to the caller
";

const OTHER: &str = "commonModule:
  name: Other
  division: Home
  startUpTaskActions:
  - endTask:
      name: Done
";

fn caller(name: &str, module: &str) -> String {
    format!(
        "inboundCall:
  name: {name}
  division: Home
  startUpRef: /inboundCall/tasks/task[main_1]
  defaultLanguage: en-us
  supportedLanguages:
    en-us:
      defaultLanguageSkill:
        noValue: true
  tasks:
  - task:
      name: Main
      refId: main_1
      actions:
      - callCommonModule:
          name: Run {module}
          commonModule:
            {module}:
              ver_latestPublished:
                inputs: {{}}
      - disconnect:
          name: Bye
"
    )
}

const UI_USER: &str = "0f00aa11-2222-3333-4444-555566667777";

const CALLERS: [&str; 3] = ["Line A", "Line B", "Line C"];

/// Greeting at 2.0 (a typo), its three callers republished with each version, and a
/// bystander that calls another module.
async fn published_twice() -> Genesys {
    let g = Genesys::start().await;
    let ui = || Publisher::User(UI_USER.into());
    g.publish(OTHER, ui());
    g.publish(&caller("Bystander", "Other"), ui());
    // 1.0 from the release pipeline, 2.0 (the typo) from someone in the Architect UI.
    for (text, by) in [
        (
            "Hello from the module",
            Publisher::Client(genesys::CLIENT_ID.into()),
        ),
        ("Helo from teh module", ui()),
    ] {
        g.publish(&GREETING.replace("Hello from the module", text), by);
        for c in CALLERS {
            g.publish(
                &caller(c, "Greeting"),
                Publisher::Client(genesys::CLIENT_ID.into()),
            );
        }
    }
    g
}

async fn flowctl(g: &Genesys, dir: &std::path::Path, args: &[&str]) -> common::Run {
    common::run_in(
        dir,
        args,
        vec![
            ("GENESYS_API_BASE_URL".into(), g.base.clone()),
            ("GENESYS_CLIENT_ID".into(), genesys::CLIENT_ID.into()),
            (
                "GENESYS_CLIENT_SECRET".into(),
                genesys::CLIENT_SECRET.into(),
            ),
        ],
    )
    .await
}

fn counts(g: &Genesys) -> Vec<(String, usize)> {
    g.flows()
        .into_iter()
        .map(|f| (f.name, f.versions.len()))
        .collect()
}

fn same_meaning(a: &str, b: &str) -> bool {
    flowctl::flow::compare::compare(a, b)
        .unwrap_or_else(|e| panic!("{e}"))
        .same
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_and_its_callers_roll_back_on_an_independent_server() {
    let g = published_twice().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();

    let h = flowctl(&g, dir, &["--output", "json", "history", "Greeting"]).await;
    assert_eq!(h.code, 0, "{h:?}");
    let json = h.json();
    let ids: Vec<&str> = json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(ids, vec!["2.0", "1.0"], "{json}");
    // A user known by id only is named by it; the client by its name.
    assert_eq!(json["versions"][0]["publishedByUser"], UI_USER, "{json}");
    assert_eq!(
        json["versions"][1]["publishedByClient"], "Release pipeline",
        "{json}"
    );
    assert_eq!(
        json["versions"][0]["callers"],
        serde_json::json!(CALLERS),
        "{json}"
    );
    assert_eq!(
        json["versions"][1]["callers"],
        serde_json::json!([]),
        "{json}"
    );

    let d = flowctl(&g, dir, &["diff", "Greeting"]).await;
    assert_eq!(d.code, 1, "{d:?}");
    assert!(
        d.stdout
            .contains("\"Hello from the module\" → \"Helo from teh module\""),
        "{d:?}"
    );

    let before = counts(&g);
    let r = flowctl(
        &g,
        dir,
        &["--output", "json", "rollback", "Greeting", "--yes"],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let json = r.json();
    assert_eq!(json["to"], "1.0", "{json}");
    assert_eq!(json["verification"]["ok"], true, "{r:?}");

    // The module's newest version is 1.0's content in meaning, as a new version.
    let module = g.flow("Greeting");
    assert_eq!(module.versions.len(), 3);
    assert!(
        same_meaning(&module.versions[0].yaml, &module.versions[2].yaml),
        "{}",
        module.versions[2].yaml
    );
    // Each caller: exactly one new version, which copied the module's newest version.
    for c in CALLERS {
        let f = g.flow(c);
        assert_eq!(f.versions.len(), 3, "{c}");
        assert_eq!(
            f.versions[2].consumes,
            vec![(module.id.clone(), "3.0".to_string())],
            "{c}"
        );
    }
    // No other flow gets a version.
    for ((name, n), (_, m)) in before.iter().zip(counts(&g)) {
        let changed = name == "Greeting" || CALLERS.contains(&name.as_str());
        assert_eq!(m, n + usize::from(changed), "{name}");
    }
    let mut args = vec!["verify", "--shared", "Greeting"];
    for c in CALLERS {
        args.extend(["--parent", c]);
    }
    let v = flowctl(&g, dir, &args).await;
    assert_eq!(v.code, 0, "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_caller_fails_alone_on_an_independent_server() {
    let g = published_twice().await;
    g.lock_flow("Line B", "Jane Doe");
    let dir = tempfile::tempdir().expect("temp dir");
    let r = flowctl(&g, dir.path(), &["rollback", "Greeting", "--yes"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stdout.contains("Jane Doe"), "the holder is named: {r:?}");
    assert_eq!(g.flow("Greeting").versions.len(), 3);
    assert_eq!(g.flow("Line A").versions.len(), 3);
    assert_eq!(g.flow("Line C").versions.len(), 3);
    assert_eq!(g.flow("Line B").versions.len(), 2, "the locked caller");
    assert_eq!(g.flow("Bystander").versions.len(), 1);
}

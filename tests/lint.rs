//! `flowctl lint`: real-shaped exports of every flow type lint clean; one-word
//! mistakes fail with the word, its line and the word meant; manifests are linted whole;
//! plan refuses a broken flow before any request; the emulator's Architect fails such a job.

mod common;

use common::{run_in, Org};
use flowctl::lint::{lint_yaml, Linted, Severity};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const ALL: [&str; 13] = [
    "bot_flow_orders.yaml",
    "common_module_greeting.yaml",
    "inbound_call_ivr.yaml",
    "inbound_chat.yaml",
    "inbound_email.yaml",
    "inbound_message.yaml",
    "inqueue_email.yaml",
    "inqueue_hold.yaml",
    "inqueue_message.yaml",
    "outbound_call.yaml",
    "survey_invite.yaml",
    "workflow_summary.yaml",
    "workitem_claims.yaml",
];

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle} not in text"))
}

fn only_error(l: &Linted) -> &flowctl::lint::Diagnostic {
    let errors: Vec<_> = l.errors().collect();
    assert_eq!(errors.len(), 1, "{:#?}", l.diagnostics);
    errors[0]
}

/// A diagnostic other than the true note that an expression function is newer than
/// Architect's expression catalogue (`MakeCommunication` in the bot and chat fixtures).
fn news(ds: &[flowctl::lint::Diagnostic]) -> Vec<&flowctl::lint::Diagnostic> {
    ds.iter()
        .filter(|d| {
            !(d.rule == "expression-note"
                && d.message
                    .contains("is not in the catalogue of Architect Scripting SDK"))
        })
        .collect()
}

#[test]
fn real_shaped_exports_of_every_flow_type_lint_clean_without_a_warning() {
    let mut types = BTreeSet::new();
    for name in ALL {
        let l = lint_yaml(&fixture(name), Some(&fixtures()));
        assert!(
            news(&l.diagnostics).is_empty(),
            "{name}: {:#?}",
            l.diagnostics
        );
        types.insert(l.flow_type.clone().unwrap_or_default());
    }
    let expected: BTreeSet<String> = [
        "botFlow",
        "commonModule",
        "inboundCall",
        "inboundChat",
        "inboundEmail",
        "inboundShortMessage",
        "inqueueCall",
        "inqueueEmail",
        "inqueueShortMessage",
        "outboundCall",
        "surveyInvite",
        "workflow",
        "workitem",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(types, expected);
}

/// Every action name used in `v`'s action lists.
fn action_names(v: &yaml_serde::Value, out: &mut BTreeSet<String>) {
    use yaml_serde::Value;
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let list = matches!(
                    k.as_str(),
                    Some("actions" | "startUpTaskActions" | "choices")
                );
                if let (true, Value::Sequence(items)) = (list, child) {
                    for i in items {
                        if let Some(Value::String(name)) =
                            i.as_mapping().and_then(|m| m.keys().next())
                        {
                            out.insert(name.clone());
                        }
                    }
                }
                action_names(child, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|x| action_names(x, out)),
        _ => {}
    }
}

#[test]
fn a_flow_the_catalogue_has_never_seen_gets_notes_but_no_error_and_no_warning() {
    // As if each fixture were the first export of its kind: the catalogue without its flow
    // type and without any action it uses. Unknown is not wrong.
    let source = include_str!("../src/lint/catalogue.yaml");
    for name in ALL {
        let text = fixture(name);
        let value: yaml_serde::Value = yaml_serde::from_str(&text).unwrap_or_default();
        let mut used = BTreeSet::new();
        action_names(&value, &mut used);
        let mut cat = flowctl::lint::catalogue::parse(source).unwrap_or_else(|e| panic!("{e}"));
        let flow_type = value
            .as_mapping()
            .and_then(|m| m.keys().next())
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string();
        // Still a flow type flowctl knows exists (a top-level key nobody knows is an error).
        cat.flow_types.remove(&flow_type);
        cat.unlearned_flow_types.push(flow_type);
        cat.actions.retain(|a, _| !used.contains(a));
        let l = flowctl::lint::lint_yaml_with(&text, None, &cat);
        assert!(l.ok(), "{name}: {:#?}", l.errors().collect::<Vec<_>>());
        assert_eq!(l.warnings().count(), 0, "{name}: {:#?}", l.diagnostics);
        assert!(l.notes().any(|w| w.rule == "unlearned-flow-type"), "{name}");
        assert!(l.notes().any(|w| w.rule == "unknown-action"), "{name}");
    }
}

#[test]
fn the_older_fixtures_of_the_project_lint_clean_too() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/architect");
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        // Their placeholders stand for names: give each its own name.
        let vars: BTreeMap<String, String> = flowctl::manifest::placeholders(&text)
            .into_iter()
            .map(|k| (k.clone(), k))
            .collect();
        let r = flowctl::commands::lint::lint_text(&text, &vars, "f.yaml");
        assert!(
            r.ok && r.warnings.is_empty()
                && r.notes
                    .iter()
                    .all(|n| n.contains("is not in the catalogue of Architect Scripting SDK")),
            "{:?}: {r:#?}",
            entry.path()
        );
    }
}

#[test]
fn a_misspelt_action_fails_with_the_word_its_line_and_the_right_word() {
    let text = fixture("inbound_call_ivr.yaml").replacen(
        "- transferToAcd:\n                                  name: VIP queue",
        "- transferToAdc:\n                                  name: VIP queue",
        1,
    );
    let l = lint_yaml(&text, None);
    let e = only_error(&l);
    assert_eq!(e.rule, "unknown-action");
    assert_eq!(e.line, line_of(&text, "transferToAdc"));
    assert_eq!(e.column, 33);
    assert!(e.message.contains("`transferToAdc`"), "{e:?}");
    assert_eq!(e.suggestion.as_deref(), Some("transferToAcd"));
}

#[test]
fn a_misspelt_field_fails_with_the_field_meant() {
    let text = fixture("inbound_message.yaml").replacen("targetQueue:", "targetQeue:", 1);
    let l = lint_yaml(&text, None);
    let errors: Vec<_> = l.errors().collect();
    // The misspelling, and the required field it leaves missing.
    assert_eq!(errors.len(), 2, "{:#?}", l.diagnostics);
    let e = errors
        .iter()
        .find(|d| d.rule == "unknown-field")
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert_eq!(e.line, line_of(&text, "targetQeue"));
    assert_eq!(e.suggestion.as_deref(), Some("targetQueue"));
    assert!(errors
        .iter()
        .any(|d| d.rule == "missing-field" && d.message.contains("`targetQueue`")));
}

#[test]
fn a_misspelt_flow_setting_fails_with_the_setting_meant() {
    let text =
        fixture("inqueue_hold.yaml").replacen("settingsInQueueCall:", "settingsInQueueCal:", 1);
    let l = lint_yaml(&text, None);
    let e = only_error(&l);
    assert_eq!(
        (e.rule, e.line),
        ("unknown-flow-key", line_of(&text, "settingsInQueueCal:"))
    );
    assert_eq!(e.suggestion.as_deref(), Some("settingsInQueueCall"));
}

#[test]
fn what_the_catalogue_does_not_know_is_a_note_not_an_error_or_a_warning() {
    let text = fixture("workflow_summary.yaml")
        .replacen("- wait:", "- brandNewArchitectAction:", 1)
        .replacen(
            "  division: Home",
            "  division: Home\n  settingsSomethingNew: {}",
            1,
        );
    let l = lint_yaml(&text, None);
    assert!(l.ok(), "{:#?}", l.diagnostics);
    assert_eq!(l.warnings().count(), 0, "{:#?}", l.diagnostics);
    let rules: Vec<&str> = l.notes().map(|w| w.rule).collect();
    assert_eq!(rules, ["unknown-flow-key", "unknown-action"]);
}

#[test]
fn flow_types_are_case_sensitive_and_unknown_ones_are_errors() {
    let l = lint_yaml("inQueueCall:\n  name: Q\n", None);
    let e = only_error(&l);
    assert_eq!((e.rule, e.line, e.column), ("unknown-flow-type", 1, 1));
    assert_eq!(e.suggestion.as_deref(), Some("inqueueCall"));

    let l = lint_yaml("callFlow:\n  name: Q\n", None);
    assert!(only_error(&l).message.contains("inboundCall"), "{l:?}");

    // A real flow type of which no export was sampled: generic checks, and a note.
    let l = lint_yaml("voicemail:\n  name: V\n", None);
    assert!(l.ok(), "{l:?}");
    assert_eq!(l.warnings().count(), 0, "{l:?}");
    assert_eq!(
        l.notes().map(|w| w.rule).collect::<Vec<_>>(),
        ["unlearned-flow-type"]
    );
}

const SMALL: &str = include_str!("fixtures/flows/small_menu.yaml");

#[test]
fn the_small_flow_the_rule_tests_start_from_is_clean() {
    let l = lint_yaml(SMALL, None);
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
}

#[test]
fn a_value_in_the_wrong_shape_is_an_error() {
    let text = SMALL.replace("priority:\n                lit: 0", "priority: 0");
    let l = lint_yaml(&text, None);
    let e = only_error(&l);
    assert_eq!(
        (e.rule, e.line),
        ("value-shape", line_of(&text, "priority: 0"))
    );
    assert!(e.message.contains("lit"), "{e:?}");

    let text = SMALL.replace(
        "priority:\n                lit: 0",
        "priority:\n                lti: 0",
    );
    let e = only_error(&lint_yaml(&text, None)).clone();
    assert_eq!(
        (e.rule, e.suggestion.as_deref()),
        ("value-shape", Some("lit"))
    );
}

#[test]
fn a_missing_required_field_is_an_error() {
    let text = SMALL.replace(
        "              targetQueue:\n                lit:\n                  name: Sales\n",
        "",
    );
    let l = lint_yaml(&text, None);
    let e = only_error(&l);
    assert_eq!(e.rule, "missing-field");
    assert_eq!(e.line, line_of(&text, "- transferToAcd:"));
    assert!(
        e.message.contains("`transferToAcd` needs `targetQueue`"),
        "{e:?}"
    );
}

#[test]
fn a_duplicate_ref_id_is_an_error() {
    let text = SMALL.replace("refId: Other_30", "refId: Main_10");
    let e = only_error(&lint_yaml(&text, None)).clone();
    assert_eq!(e.rule, "duplicate-refid");
    assert_eq!(e.line, line_of(&text, "name: Other") + 1);
}

#[test]
fn start_jump_and_call_targets_must_resolve() {
    for (from, to) in [
        (
            "\"/inboundCall/tasks/task[Main_10]\"",
            "\"/inboundCall/tasks/task[Main_11]\"",
        ),
        ("menu[Menu_20]\"", "menu[Menu_21]\""),
        ("\"./tasks/task[Main_10]\"", "\"./tasks/task[Main_1]\""),
    ] {
        let text = SMALL.replacen(from, to, 1);
        let l = lint_yaml(&text, None);
        let e = only_error(&l);
        assert_eq!(e.rule, "unresolved-ref", "{from}");
        assert_eq!(e.line, line_of(&text, to), "{from}");
        assert!(e.suggestion.is_some(), "a near refId is suggested: {e:?}");
    }
}

#[test]
fn a_ref_to_another_file_must_resolve() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.path().join("references")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("references/audio.yaml"),
        "actions:\n  - playAudio:\n      refId: thanks\n      name: Thanks\n      audio:\n        tts: Thank you.\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let flow = |target: &str| {
        fixture("common_module_greeting.yaml").replacen(
            "    - endTask:",
            &format!(
                "    - ref: ./references/audio.yaml#/actions/playAudio[{target}]\n    - endTask:"
            ),
            1,
        )
    };
    let l = lint_yaml(&flow("thanks"), Some(dir.path()));
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    let text = flow("thank");
    let l = lint_yaml(&text, Some(dir.path()));
    let e = only_error(&l);
    assert_eq!(
        (e.rule, e.line),
        ("unresolved-ref", line_of(&text, "- ref:"))
    );
    assert!(e.message.contains("refId 'thank'"), "{e:?}");
    std::fs::remove_file(dir.path().join("references/audio.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let l = lint_yaml(&flow("thanks"), Some(dir.path()));
    assert!(only_error(&l).message.contains("cannot read"), "{l:?}");
}

#[test]
fn a_module_called_with_an_input_it_does_not_declare_is_an_error_when_it_is_linted_too() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let module = dir.path().join("module.yaml");
    let caller = dir.path().join("caller.yaml");
    std::fs::write(&module, fixture("common_module_greeting.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let text =
        fixture("inbound_call_ivr.yaml").replace("Common.callerLanguage:", "Common.callerLanguag:");
    std::fs::write(&caller, &text).unwrap_or_else(|e| panic!("{e}"));
    let vars = BTreeMap::new();
    // Alone, the caller cannot be judged: the module is not known.
    let alone = flowctl::commands::lint::lint_files(&[caller.as_path()], &vars);
    assert!(alone[0].ok, "{alone:#?}");
    let both = flowctl::commands::lint::lint_files(&[module.as_path(), caller.as_path()], &vars);
    assert!(both[0].ok, "{both:#?}");
    let e: Vec<_> = both[1]
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(e.len(), 1, "{both:#?}");
    assert_eq!(e[0].rule, "undeclared-module-input");
    assert_eq!(e[0].line, line_of(&text, "Common.callerLanguag:"));
    assert_eq!(e[0].suggestion.as_deref(), Some("Common.callerLanguage"));
}

#[test]
fn an_unreplaced_placeholder_is_an_error_at_its_line() {
    let text = SMALL.replace("name: Sales", "name: \"{{queue}}\"");
    let r = flowctl::commands::lint::lint_text(&text, &BTreeMap::new(), "f.yaml");
    assert!(!r.ok);
    let d: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.rule == "placeholder")
        .collect();
    assert_eq!(d.len(), 1, "{r:#?}");
    assert_eq!(d[0].line, line_of(&text, "{{queue}}"));
    assert!(d[0].message.contains("--var queue=VALUE"), "{r:#?}");
    let vars = BTreeMap::from([("queue".to_string(), "Sales".to_string())]);
    assert!(flowctl::commands::lint::lint_text(&text, &vars, "f.yaml").ok);
}

#[tokio::test]
async fn the_cli_prints_references_in_the_ok_line_and_in_json() {
    let dir = fixtures();
    let r = run_in(
        &dir,
        &["lint", "inbound_call_ivr.yaml", "inbound_message.yaml"],
        vec![],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(
        "ok: inbound_call_ivr.yaml: inboundCall 'Lint Example IVR': modules [Lint Example Greeting], queues [Billing, General Support, Sales], schedule groups [Example Opening Hours], data actions [Example CRM/Lookup by ANI], prompts [PromptSystem.closed]"
    ), "{r:?}");
    assert!(
        r.stdout.contains("bot flows [Lint Example Order Bot]"),
        "{r:?}"
    );

    let r = run_in(
        &dir,
        &["--output", "json", "lint", "inbound_call_ivr.yaml"],
        vec![],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j[0]["ok"], true);
    assert_eq!(j[0]["flowType"], "inboundCall");
    assert_eq!(
        j[0]["references"]["queues"],
        serde_json::json!(["Billing", "General Support", "Sales"])
    );
    assert_eq!(
        j[0]["references"]["dataActions"],
        serde_json::json!(["Example CRM/Lookup by ANI"])
    );
    assert_eq!(j[0]["diagnostics"], serde_json::json!([]));
}

#[tokio::test]
async fn the_cli_fails_a_misspelling_with_file_line_column_rule_and_suggestion() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = SMALL.replace("- jumpToMenu:", "- jumpToMenus:");
    std::fs::write(dir.path().join("f.yaml"), &text).unwrap_or_else(|e| panic!("{e}"));
    let r = run_in(dir.path(), &["lint", "f.yaml"], vec![]).await;
    assert_eq!(r.code, 2, "{r:?}");
    let line = line_of(&text, "jumpToMenus");
    assert!(
        r.stdout.contains(&format!(
            "f.yaml:{line}:13: error[unknown-action]: unknown action `jumpToMenus` (did you mean `jumpToMenu`?)"
        )),
        "{r:?}"
    );
    let r = run_in(dir.path(), &["--output", "json", "lint", "f.yaml"], vec![]).await;
    let j = r.json();
    assert_eq!(j[0]["ok"], false);
    assert_eq!(
        j[0]["diagnostics"][0],
        serde_json::json!({"severity": "error", "rule": "unknown-action", "line": line, "column": 13,
            "message": "unknown action `jumpToMenus`", "suggestion": "jumpToMenu"})
    );
}

/// A manifest with a file module, a template module, a file flow and a template flow.
fn manifest_dir(ivr: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let w = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap_or_else(|e| panic!("{e}"))
    };
    w("greeting.yaml", &fixture("common_module_greeting.yaml"));
    w("ivr.yaml", ivr);
    w(
        "flows.yaml",
        "modules:\n  - name: Lint Example Greeting\n    file: greeting.yaml\n  - name: Template Module\n    greeting: Hello there.\nflows:\n  - name: Lint Example IVR\n    file: ivr.yaml\n  - name: Template Flow\n    modules: [Template Module]\n    queue: Sales\n",
    );
    dir
}

#[tokio::test]
async fn lint_dash_f_lints_every_file_and_template_of_a_manifest() {
    let dir = manifest_dir(&fixture("inbound_call_ivr.yaml"));
    let r = run_in(dir.path(), &["lint", "-f", "flows.yaml"], vec![]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("ok: ")).count(),
        4,
        "{r:?}"
    );
    assert!(r.stdout.contains("'Template Flow'"), "{r:?}");

    let bad = fixture("inbound_call_ivr.yaml").replacen("- loop:", "- lop:", 1);
    let dir = manifest_dir(&bad);
    let r = run_in(dir.path(), &["lint", "-f", "flows.yaml"], vec![]).await;
    assert_eq!(r.code, 2, "{r:?}");
    let line = line_of(&bad, "- lop:");
    assert!(
        r.stdout
            .contains("problems: ivr.yaml (flows[0] 'Lint Example IVR')"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains(&format!("  ivr.yaml:{line}:13: error[unknown-action]")),
        "{r:?}"
    );
    assert!(r.stdout.contains("(did you mean `loop`?)"), "{r:?}");
}

#[tokio::test]
async fn a_manifest_of_every_flow_type_lints_clean() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut manifest = String::from("modules:\n  - name: Lint Example Greeting\n    file: common_module_greeting.yaml\nflows:\n");
    for name in ALL.iter().filter(|n| !n.starts_with("common_module")) {
        let text = fixture(name);
        std::fs::write(dir.path().join(name), &text).unwrap_or_else(|e| panic!("{e}"));
        let flow = lint_yaml(&text, None).name.unwrap_or_default();
        manifest.push_str(&format!("  - name: {flow}\n    file: {name}\n"));
    }
    std::fs::write(
        dir.path().join("common_module_greeting.yaml"),
        fixture("common_module_greeting.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("m.yaml"), manifest).unwrap_or_else(|e| panic!("{e}"));
    let r = run_in(
        dir.path(),
        &["--output", "json", "lint", "-f", "m.yaml"],
        vec![],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    let reports = j.as_array().cloned().unwrap_or_default();
    assert_eq!(reports.len(), ALL.len(), "{r:?}");
    for report in &reports {
        assert_eq!(report["ok"], true, "{report}");
        let news: Vec<_> = report["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                !(d["rule"] == "expression-note"
                    && d["message"].as_str().is_some_and(|m| {
                        m.contains("is not in the catalogue of Architect Scripting SDK")
                    }))
            })
            .collect();
        assert!(news.is_empty(), "{report}");
    }
    let types: BTreeSet<&str> = reports
        .iter()
        .filter_map(|r| r["flowType"].as_str())
        .collect();
    assert_eq!(types.len(), ALL.len(), "{types:?}");
}

#[tokio::test]
async fn plan_and_apply_refuse_a_flow_with_a_lint_error_before_any_request() {
    let org = Org::new().await;
    let bad = fixture("inbound_call_ivr.yaml").replacen("- loop:", "- lop:", 1);
    let dir = manifest_dir(&bad);
    for f in ["greeting.yaml", "ivr.yaml", "flows.yaml"] {
        std::fs::copy(dir.path().join(f), org.path().join(f)).unwrap_or_else(|e| panic!("{e}"));
    }
    for cmd in ["plan", "apply"] {
        let r = org.flowctl(&[cmd, "-f", "flows.yaml"]).await;
        assert_eq!(r.code, 2, "{cmd}: {r:?}");
        assert!(r.stderr.contains("unknown action `lop`"), "{cmd}: {r:?}");
        assert!(
            r.stderr.contains("flowctl lint -f flows.yaml"),
            "{cmd}: {r:?}"
        );
    }
    assert_eq!(org.emulator.request_count(), 0);
}

#[tokio::test]
async fn the_emulators_architect_fails_a_job_with_an_unknown_action() {
    let org = Org::new().await;
    let module =
        fixture("common_module_greeting.yaml").replacen("- updateData:", "- updateDat:", 1);
    std::fs::write(org.path().join("m.yaml"), &module).unwrap_or_else(|e| panic!("{e}"));
    let r = org.flowctl(&["create-shared", "--file", "m.yaml"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    // The line is of the YAML flowctl uploaded (its description marker moves lines).
    assert!(
        r.stderr.contains("unknown action type 'updateDat' (line "),
        "{r:?}"
    );
    assert!(org
        .emulator
        .flows()
        .iter()
        .all(|f| f.name != "Lint Example Greeting"));

    let r = org.flowctl(&["create-shared", "--file", "m.yaml"]).await;
    assert_eq!(r.code, 4, "the same file fails again: {r:?}");
    std::fs::write(
        org.path().join("m.yaml"),
        fixture("common_module_greeting.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = org.flowctl(&["create-shared", "--file", "m.yaml"]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

/// Re-orders every mapping of `v` by `seed` (YAML mappings are unordered: same content).
fn shuffle(v: &yaml_serde::Value, seed: &mut u64) -> yaml_serde::Value {
    use yaml_serde::Value;
    match v {
        Value::Mapping(m) => {
            let mut entries: Vec<(Value, Value)> = m
                .iter()
                .map(|(k, v)| (k.clone(), shuffle(v, seed)))
                .collect();
            for i in (1..entries.len()).rev() {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = (*seed >> 33) as usize % (i + 1);
                entries.swap(i, j);
            }
            Value::Mapping(entries.into_iter().collect())
        }
        Value::Sequence(s) => Value::Sequence(s.iter().map(|x| shuffle(x, seed)).collect()),
        other => other.clone(),
    }
}

fn yamlish() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "inboundCall",
        "commonModule",
        "botFlow",
        "name",
        "tasks",
        "task",
        "actions",
        "refId",
        "startUpRef",
        "menus",
        "menu",
        "choices",
        "transferToAcd",
        "targetQueue",
        "lit",
        "exp",
        "callCommonModule",
        "commonModule",
        "inputs",
        "ref",
        "targetTaskRef",
        "variables",
        "isInput",
        "x",
        "- ",
        "{",
        "}",
        "[",
        "]",
        ":",
        "\n",
        "\n  ",
        "\n    - ",
        "'",
        "\"",
        "&a",
        "*a",
        "#",
        "./tasks/task[",
        "Prompt.",
        "|",
        ">",
        "?",
        "!!str",
        "---",
        "\t",
    ]);
    prop::collection::vec(word, 0..80).prop_map(|w| w.join(""))
}

/// Arbitrary YAML documents built from Architect's words, so that the checks go deep.
fn yaml_tree() -> impl Strategy<Value = yaml_serde::Value> {
    use yaml_serde::Value;
    let key = prop::sample::select(vec![
        "inboundCall",
        "botFlow",
        "commonModule",
        "name",
        "tasks",
        "task",
        "actions",
        "refId",
        "startUpRef",
        "startUpTaskActions",
        "menus",
        "menu",
        "choices",
        "states",
        "state",
        "transferToAcd",
        "targetQueue",
        "lit",
        "exp",
        "noValue",
        "callCommonModule",
        "inputs",
        "ref",
        "targetTaskRef",
        "targetMenuRef",
        "variables",
        "isInput",
        "priority",
        "loop",
        "callData",
        "category",
        "dataAction",
        "playAudio",
        "audio",
        "tts",
        "zz",
    ])
    .prop_map(|k| Value::String(k.to_string()));
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        "[a-zA-Z/._\\[\\] ]{0,12}".prop_map(Value::String),
        key.clone(),
        Just(Value::Null),
    ];
    leaf.prop_recursive(8, 200, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Sequence),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kv| Value::Mapping(kv.into_iter().collect())),
        ]
    })
}

proptest! {

    #[test]
    fn lint_never_panics_on_any_text(text in "\\PC{0,400}") {
        let l = lint_yaml(&text, None);
        prop_assert_eq!(l.ok(), l.errors().next().is_none());
    }

    #[test]
    fn lint_never_panics_on_yaml_shaped_text(text in yamlish()) {
        let _ = lint_yaml(&text, Some(Path::new("/nonexistent")));
    }

    #[test]
    fn lint_never_panics_on_any_yaml_document(v in yaml_tree()) {
        let text = yaml_serde::to_string(&v).unwrap_or_default();
        let l = lint_yaml(&text, Some(Path::new("/nonexistent")));
        // Every diagnostic points inside the file.
        let lines = text.lines().count().max(1);
        for d in &l.diagnostics {
            prop_assert!(d.line >= 1 && d.line <= lines + 1, "{d:?}\n{text}");
        }
    }

    #[test]
    fn a_clean_file_stays_clean_after_a_change_of_layout(
        which in 0..ALL.len(),
        mut seed in any::<u64>(),
        layout in 0..3u8,
        indent in 1usize..9,
    ) {
        let text = fixture(ALL[which]);
        let value: yaml_serde::Value = yaml_serde::from_str(&text).unwrap_or_default();
        let shuffled = shuffle(&value, &mut seed);
        let relaid = match layout {
            // yaml_serde's own block layout: sequences unindented, keys re-ordered.
            0 => yaml_serde::to_string(&shuffled).unwrap_or_default(),
            // JSON is YAML in flow style: every line and column changes.
            1 => serde_json::to_string(&shuffled).unwrap_or_default(),
            // Pretty JSON, indented by 1 to 8 spaces.
            _ => {
                use serde::Serialize;
                let pad = " ".repeat(indent);
                let mut buf = Vec::new();
                let fmt = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
                let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
                shuffled.serialize(&mut ser).unwrap_or_default();
                String::from_utf8(buf).unwrap_or_default()
            }
        };
        let l = lint_yaml(&relaid, None);
        prop_assert!(news(&l.diagnostics).is_empty(), "{}\n{:#?}", relaid, l.diagnostics);
    }
}

/// The words real exports use that an earlier catalogue warned about: every one is known now.
#[test]
fn words_of_real_exports_lint_without_a_warning_or_a_note() {
    // An in-queue flow that declares start-up task variables (`Task.loop`).
    let inqueue = fixture("inqueue_hold.yaml").replacen(
        "  startUpTaskActions:",
        "  startUpTaskVariables:\n    - integerVariable:\n        name: Task.loop\n        initialValue:\n          lit: 0\n  startUpTaskActions:",
        1,
    );
    // A menu whose `defaultChildMenuRef` points at a `menuDisconnect` by its refId.
    let menu = SMALL
        .replace(
            "          - menuDisconnect:\n              name: Bye\n",
            "          - menuDisconnect:\n              name: Bye\n              refId: Bye_1\n",
        )
        .replace(
            "        audio:\n          tts: Press 1.\n",
            "        audio:\n          tts: Press 1.\n        defaultChildMenuRef: ./choices/menuDisconnect[Bye_1]\n",
        );
    // Actions real exports use: a digital menu, a call to a digital bot flow, and the
    // data lookups the emulator used to refuse.
    let actions = fixture("inbound_message.yaml").replacen(
        "          - callBotFlow:",
        "          - digitalMenu:\n              name: Choose\n          - callDigitalBotFlow:\n              name: Digital bot\n          - getConversationData:\n              name: Read\n          - getExternalContact:\n              name: Contact\n          - callBotFlow:",
        1,
    );
    for (what, text) in [
        ("inqueue", &inqueue),
        ("menu", &menu),
        ("actions", &actions),
    ] {
        assert_ne!(text.as_str(), fixture("inbound_message.yaml").as_str());
        let l = lint_yaml(text, None);
        assert!(l.diagnostics.is_empty(), "{what}: {:#?}", l.diagnostics);
    }
}

/// Realistic one-word mistakes, each caught as an error naming the word and the word meant.
#[test]
fn ten_realistic_mistakes_are_each_caught_with_the_right_word() {
    let cases: [(&str, &str, &str, &str, &str); 10] = [
        (
            "inqueue_hold.yaml",
            "    holdMusic:",
            "    holdmusic:",
            "unknown-setting",
            "holdMusic",
        ),
        (
            "inbound_call_ivr.yaml",
            "      disconnect:\n        none: true",
            "      disconect:\n        none: true",
            "unknown-setting",
            "disconnect",
        ),
        (
            "workflow_summary.yaml",
            "      endWorkflow:\n",
            "      endWorkFlow:\n",
            "unknown-setting",
            "endWorkflow",
        ),
        (
            "inqueue_hold.yaml",
            "settingsInQueueCall:",
            "settingsInQueueCal:",
            "unknown-flow-key",
            "settingsInQueueCall",
        ),
        (
            "inbound_message.yaml",
            "- transferToAcd:",
            "- transferToAdc:",
            "unknown-action",
            "transferToAcd",
        ),
        (
            "inbound_call_ivr.yaml",
            "targetQueue:",
            "TargetQueue:",
            "unknown-field",
            "targetQueue",
        ),
        (
            "inbound_call_ivr.yaml",
            "    playAudioOnSilence:",
            "    playAudioOnSilense:",
            "unknown-setting",
            "playAudioOnSilence",
        ),
        (
            "inbound_call_ivr.yaml",
            "    asrEnabledOnFlow:",
            "    asrEnabledOnflow:",
            "unknown-setting",
            "asrEnabledOnFlow",
        ),
        (
            "workflow_summary.yaml",
            "- endWorkflow:",
            "- endWorkflw:",
            "unknown-action",
            "endWorkflow",
        ),
        (
            "inqueue_email.yaml",
            "      - endState:",
            "      - endstate:",
            "unknown-action",
            "endState",
        ),
    ];
    for (file, from, to, rule, meant) in cases {
        let original = fixture(file);
        assert!(original.contains(from), "{file} has no {from:?}");
        let text = original.replacen(from, to, 1);
        let l = lint_yaml(&text, Some(&fixtures()));
        let wrong = to
            .trim()
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or_default();
        let hit = l
            .errors()
            .find(|e| e.rule == rule && e.suggestion.as_deref() == Some(meant))
            .unwrap_or_else(|| panic!("{file}: {to:?} not caught as {rule}: {:#?}", l.diagnostics));
        assert_eq!(
            hit.line,
            line_of(&text, to.lines().next().unwrap_or(to)),
            "{file} {to:?}"
        );
        assert!(hit.message.contains(wrong), "{file}: {hit:?}");
    }
}

#[test]
fn settings_keys_far_from_any_known_one_are_notes() {
    let text = fixture("inqueue_hold.yaml").replacen(
        "    holdMusic:",
        "    queuePositionAnnouncements: {}\n    holdMusic:",
        1,
    );
    let l = lint_yaml(&text, None);
    assert!(l.ok() && l.warnings().count() == 0, "{:#?}", l.diagnostics);
    let n: Vec<_> = l.notes().collect();
    assert_eq!(n.len(), 1, "{n:#?}");
    assert_eq!(
        (n[0].rule, n[0].line),
        (
            "unknown-setting",
            line_of(&text, "queuePositionAnnouncements")
        )
    );
}

#[test]
fn a_call_to_a_misspelt_module_or_bot_flow_is_caught_when_the_target_is_linted_too() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let module = dir.path().join("module.yaml");
    let bot = dir.path().join("bot.yaml");
    let ivr = dir.path().join("ivr.yaml");
    let messaging = dir.path().join("messaging.yaml");
    std::fs::write(&module, fixture("common_module_greeting.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&bot, fixture("bot_flow_orders.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let ivr_text = fixture("inbound_call_ivr.yaml").replacen(
        "Lint Example Greeting:",
        "Lint Example Greting:",
        1,
    );
    let msg_text = fixture("inbound_message.yaml").replacen(
        "Lint Example Order Bot:",
        "Lint Example Order Bots:",
        1,
    );
    assert_ne!(ivr_text, fixture("inbound_call_ivr.yaml"));
    assert_ne!(msg_text, fixture("inbound_message.yaml"));
    std::fs::write(&ivr, &ivr_text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&messaging, &msg_text).unwrap_or_else(|e| panic!("{e}"));
    let vars = BTreeMap::new();
    // Alone, a name may well be a flow of the org: not judged.
    let alone = flowctl::commands::lint::lint_files(&[ivr.as_path(), messaging.as_path()], &vars);
    assert!(alone.iter().all(|r| r.ok), "{alone:#?}");
    let all = flowctl::commands::lint::lint_files(
        &[
            module.as_path(),
            bot.as_path(),
            ivr.as_path(),
            messaging.as_path(),
        ],
        &vars,
    );
    assert!(all[0].ok && all[1].ok, "{all:#?}");
    for (r, text, wrong, meant) in [
        (
            &all[2],
            &ivr_text,
            "Lint Example Greting",
            "Lint Example Greeting",
        ),
        (
            &all[3],
            &msg_text,
            "Lint Example Order Bots",
            "Lint Example Order Bot",
        ),
    ] {
        let e: Vec<_> = r
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert_eq!(e.len(), 1, "{r:#?}");
        assert_eq!(e[0].rule, "unknown-target");
        assert_eq!(e[0].line, line_of(text, &format!("{wrong}:")));
        assert!(e[0].message.contains(wrong), "{e:?}");
        assert_eq!(e[0].suggestion.as_deref(), Some(meant));
    }
    // A name close to nothing linted is not judged either.
    let other = ivr_text.replacen("Lint Example Greting:", "Billing Module:", 1);
    std::fs::write(&ivr, &other).unwrap_or_else(|e| panic!("{e}"));
    let r = flowctl::commands::lint::lint_files(&[module.as_path(), ivr.as_path()], &vars);
    assert!(r.iter().all(|r| r.ok), "{r:#?}");
}

#[test]
fn a_placeholder_in_a_comment_is_no_error_and_a_real_one_is_found_at_its_column() {
    let text = format!(
        "# Fill in {{{{queue}}}} and {{{{division}}}} from the manifest.\n{}",
        SMALL
            .replace("name: Sales", "name: Sales # was {{old_queue}}")
            .replace(
                "  name: Small\n",
                "  name: Small\n  description: \"For {{team}}\"\n",
            )
    );
    let r = flowctl::commands::lint::lint_text(&text, &BTreeMap::new(), "f.yaml");
    let d: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.rule == "placeholder")
        .collect();
    assert_eq!(d.len(), 1, "{r:#?}");
    assert!(d[0].message.contains("{{team}}"), "{d:?}");
    assert_eq!((d[0].line, d[0].column), (line_of(&text, "{{team}}"), 21));
    let vars = BTreeMap::from([("team".to_string(), "Sales".to_string())]);
    let r = flowctl::commands::lint::lint_text(&text, &vars, "f.yaml");
    assert!(r.ok && r.diagnostics.is_empty(), "{r:#?}");
}

#[tokio::test]
async fn the_readmes_lint_example_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    let section = readme.split("\n## Lint\n").nth(1).unwrap_or_default();
    let line = section
        .lines()
        .find(|l| l.starts_with("flowctl lint flows/"))
        .unwrap_or_else(|| panic!("no lint example in the README's Lint section"));
    let command = line.split(" #").next().unwrap_or_default();
    let mut args: Vec<String> = Vec::new();
    for word in command.split_whitespace().skip(1) {
        if word.contains('*') {
            // The shell's glob, in its sorted order.
            let (dir, pattern) = word.rsplit_once('/').unwrap_or((".", word));
            let suffix = pattern.trim_start_matches('*');
            let mut files: Vec<String> = std::fs::read_dir(root.join("examples").join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(suffix))
                .map(|n| format!("{dir}/{n}"))
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{word} matches nothing");
            args.extend(files);
        } else {
            args.push(word.to_string());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(&root.join("examples"), &args, vec![]).await;
    assert_eq!(r.code, 0, "`{command}` in examples/: {r:?}");
    assert!(!r.stdout.contains("warning"), "{r:?}");
}

#[tokio::test]
async fn control_characters_in_a_file_name_or_an_expression_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // What lint prints back (the file's name, a name in it): an escape sequence in it must
    // not reach the terminal raw, where it could clear the screen or forge a line.
    let file = "evil\u{1b}[2J\rok: forged.yaml";
    let text = SMALL.replace("- jumpToMenu:", "- jumpToMenus:");
    std::fs::write(dir.path().join(file), &text).unwrap_or_else(|e| panic!("{e}"));
    let r = run_in(dir.path(), &["lint", file], vec![]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("unknown action `jumpToMenus`"), "{r:?}");
    assert!(!r.stdout.contains('\u{1b}'), "{r:?}");
    assert!(!r.stdout.contains('\r'), "{r:?}");
    assert!(r.stdout.contains("evil\\u{1b}[2J"), "{r:?}");
    let r = run_in(dir.path(), &["expr", "1 + \u{1b}[2J"], vec![]).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("unexpected character `\\u{1b}`"), "{r:?}");
    assert!(!r.stderr.contains('\u{1b}'), "{r:?}");
}

//! `flowctl expr` run as a user runs it: the built binary, its output and exit codes.

mod common;

use common::run_in;
use std::path::{Path, PathBuf};

async fn flowctl(args: &[&str]) -> common::Run {
    let dir = tempfile::tempdir().expect("temp dir");
    run_in(dir.path(), args, Vec::new()).await
}

#[tokio::test]
async fn prints_the_value_in_architect_literal_form_with_its_type() {
    let r = flowctl(&["expr", "Substring(\"Hello\", 2, 3)"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "\"llo\"  (String)");
    let r = flowctl(&["expr", "Round(3.225, 2)", "--output", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["display"], "3.23");
    assert_eq!(j["type"], "Decimal");
    assert_eq!(j["ok"], true);
    assert_eq!(j["expression"], "Round(3.225, 2)");
    assert_eq!(j["problems"].as_array().map(|a| a.len()), Some(0));
    let r = flowctl(&["expr", "ToString(NOT_SET)"]).await;
    assert_eq!(r.stdout.trim(), "NOT_SET  (String)", "{r:?}");
}

#[tokio::test]
async fn variables_are_declared_and_set_and_match_in_any_case() {
    let r = flowctl(&[
        "expr",
        "If(flow.VIP, \"VIP\", \"Standard\")",
        "--declare",
        "Flow.vip:Boolean",
        "--set",
        "Flow.vip=true",
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "\"VIP\"  (String)");
    // A value's type declares an undeclared variable.
    let r = flowctl(&[
        "expr",
        "Right(Call.Ani, 4)",
        "--set",
        "Call.Ani=\"tel:+15551234567\"",
    ])
    .await;
    assert_eq!(r.stdout.trim(), "\"4567\"  (String)", "{r:?}");
}

#[tokio::test]
async fn an_error_exits_1_with_its_column_and_did_you_mean() {
    let r = flowctl(&["expr", "Lenght(\"abc\")", "--output", "json"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["problems"][0]["severity"], "error");
    assert_eq!(j["problems"][0]["column"], 1);
    assert_eq!(j["problems"][0]["suggestion"], "Length");
    let r = flowctl(&["expr", "1 + \"a\""]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("error at column 3"), "{r:?}");
    // `not` is not Architect's; `!` is.
    assert_eq!(flowctl(&["expr", "not true"]).await.code, 1);
    assert_eq!(
        flowctl(&["expr", "!true"]).await.stdout.trim(),
        "false  (Boolean)"
    );
    // A bare NOT_SET needs a cast, unless the place it is used gives the type.
    assert_eq!(flowctl(&["expr", "NOT_SET"]).await.code, 1);
    assert_eq!(
        flowctl(&["expr", "NOT_SET", "--expect", "String"])
            .await
            .code,
        0
    );
}

#[tokio::test]
async fn unsupported_and_runtime_errors_exit_1_naming_the_cause() {
    let r = flowctl(&["expr", "FindQueue(\"Sales\")", "--output", "json"]).await;
    assert_eq!(r.code, 1, "{r:?}");
    let msg = r.json()["problems"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(msg.starts_with("unsupported: FindQueue"), "{msg}");
    let r = flowctl(&["expr", "ToInt(\"abc\")"]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("runtime error"), "{r:?}");
    // --check type-checks without evaluating.
    let r = flowctl(&["expr", "--check", "FindQueue(\"Sales\")"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "ok: Queue");
}

#[tokio::test]
async fn implicit_cast_to_the_expected_type_is_a_note() {
    let r = flowctl(&["expr", "5", "--expect", "Boolean", "--output", "json"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["display"], "true");
    assert_eq!(j["problems"][0]["severity"], "note");
    assert!(j["problems"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("ToBool"));
    assert_eq!(
        flowctl(&["expr", "\"q\"", "--expect", "Queue"]).await.code,
        1
    );
}

#[tokio::test]
async fn usage_errors_exit_2() {
    assert_eq!(flowctl(&["expr", "1", "--declare", "vip"]).await.code, 2);
    assert_eq!(
        flowctl(&["expr", "1", "--declare", "Flow.x:Nonsense"])
            .await
            .code,
        2
    );
    assert_eq!(
        flowctl(&["expr", "1", "--set", "Flow.x=abc def"])
            .await
            .code,
        2
    );
    assert_eq!(
        flowctl(&["expr", "1", "--expect", "Nonsense"]).await.code,
        2
    );
    assert_eq!(
        flowctl(&["expr", "1", "--flow", "missing.yaml"]).await.code,
        2
    );
    assert_eq!(
        flowctl(&[
            "expr",
            "Flow.x",
            "--declare",
            "Flow.x:Integer",
            "--set",
            "Flow.x=\"a\""
        ])
        .await
        .code,
        2
    );
}

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures/architect", "tests/fixtures/lint"] {
        let d = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(&d).expect("fixtures") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every `exp:` value of a fixture (each fixture is a real export or written in its shape).
fn expressions(text: &str) -> Vec<String> {
    let v: yaml_serde::Value = yaml_serde::from_str(text).expect("fixture parses");
    let mut out = Vec::new();
    fn walk(v: &yaml_serde::Value, out: &mut Vec<String>) {
        match v {
            yaml_serde::Value::Mapping(m) => {
                for (k, v) in m {
                    if k.as_str() == Some("exp") {
                        if let Some(s) = v.as_str() {
                            out.push(s.to_string());
                        }
                    }
                    walk(v, out);
                }
            }
            yaml_serde::Value::Sequence(s) => s.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&v, &mut out);
    out
}

#[tokio::test]
async fn fixture_expressions_check_clean_with_their_flow() {
    let mut n = 0;
    for f in fixtures() {
        let text = std::fs::read_to_string(&f).expect("read");
        let file = f.display().to_string();
        for e in expressions(&text) {
            let r = flowctl(&["expr", "--check", "--flow", &file, &e, "--expect", "Any"]).await;
            // Variables of scopes a flow declares must be declared in it; any other
            // problem is an error flowctl would wrongly report.
            assert_eq!(r.code, 0, "{file}: {e}: {r:?}");
            n += 1;
        }
    }
    assert!(n >= 40, "only {n} fixture expressions");
}

#[tokio::test]
async fn expressions_architect_rejects_are_errors() {
    // (expression, did-you-mean) — each one Architect's parser refuses too (the oracle
    // check in CI compares them with Architect's own).
    let cases: [(&str, Option<&str>); 12] = [
        ("Substrng(\"Hello\", 1, 2)", Some("Substring")),
        ("Lenght(\"abc\")", Some("Length")),
        ("ToStrng(5)", Some("ToString")),
        ("IsNotSetOrEmty(\"a\")", Some("IsNotSetOrEmpty")),
        ("Substring(\"Hello\", 2)", None),
        ("If(true, 1)", None),
        ("(1 + 2", None),
        ("Left(\"abc\", 1))", None),
        ("1 + \"a\"", None),
        ("MakeList(1, 2.5)", None),
        ("Round(3, 1)", None),
        ("\"abc", None),
    ];
    for (e, near) in cases {
        let r = flowctl(&["expr", "--check", e, "--output", "json"]).await;
        assert_eq!(r.code, 1, "{e}: {r:?}");
        let j = r.json();
        assert_eq!(j["problems"][0]["severity"], "error", "{e}");
        if let Some(n) = near {
            assert_eq!(j["problems"][0]["suggestion"], n, "{e}");
        }
    }
}

//! What makes flowctl fit its users' tools: the manifest schema, completions, the man page
//! and the example CI pipelines.

use clap::{CommandFactory, Parser};
use flowctl::cli::Cli;
use std::path::Path;

fn yaml_to_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read");
    let v: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(v).expect("YAML to JSON")
}

#[test]
fn the_published_schema_is_the_generated_one() {
    let published: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("schema/manifest.schema.json").expect("schema file"),
    )
    .expect("JSON");
    assert_eq!(
        published,
        flowctl::manifest::json_schema(),
        "schema/manifest.schema.json is stale: run `cargo run -- schema > schema/manifest.schema.json`"
    );
}

#[test]
fn the_schema_accepts_every_example_manifest_and_rejects_an_unknown_key() {
    let validator =
        jsonschema::validator_for(&flowctl::manifest::json_schema()).expect("valid schema");
    let mut seen = 0;
    for entry in std::fs::read_dir("examples")
        .expect("examples dir")
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let doc = yaml_to_json(&path);
            let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 1, "no example manifest found");
    let bad = serde_json::json!({ "flows": [{ "name": "A", "queue": "Sales", "modlues": ["M"] }] });
    assert!(!validator.is_valid(&bad));
    let bad_top = serde_json::json!({ "flow": [] });
    assert!(!validator.is_valid(&bad_top));
}

#[test]
fn completions_generate_for_every_shell() {
    use clap_complete::Shell;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "flowctl", &mut buf);
        let text = String::from_utf8(buf).expect("utf-8");
        assert!(text.contains("create-parent"), "{shell:?}");
    }
}

#[test]
fn the_man_page_renders_from_the_clap_definitions() {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .expect("render");
    let text = String::from_utf8(buf).expect("utf-8");
    assert!(
        text.starts_with(".ie") || text.contains(".TH flowctl"),
        "{}",
        &text[..200.min(text.len())]
    );
}

/// Every `flowctl ...` command line in the example pipelines, up to a redirect or pipe.
fn flowctl_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches("- ")
            .trim_start_matches("run: ")
            .trim_start_matches("script: ");
        let line = line.trim();
        if !line.starts_with("flowctl ") {
            continue;
        }
        let cut = line.find(['>', '|']).unwrap_or(line.len());
        let words = shlex::split(&line[..cut]).unwrap_or_else(|| panic!("cannot split: {line}"));
        out.push(words);
    }
    out
}

#[test]
fn example_pipelines_are_valid_yaml_and_call_only_real_commands_and_flags() {
    let mut commands = 0;
    for name in ["github-actions.yml", "gitlab-ci.yml", "azure-pipelines.yml"] {
        let path = Path::new("examples/ci").join(name);
        let text = std::fs::read_to_string(&path).expect("pipeline");
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let found = flowctl_commands(&text);
        assert!(found.len() >= 3, "{name}: {found:?}");
        for words in found {
            if let Err(e) = Cli::try_parse_from(&words) {
                panic!("{name}: `{}` does not parse: {e}", words.join(" "));
            }
            commands += 1;
        }
    }
    assert!(commands >= 9);
}

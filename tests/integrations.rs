//! What makes flowctl fit its users' tools: the manifest schema, completions, the man page
//! and the example CI pipelines.

use clap::{CommandFactory, Parser};
use flowctl::cli::Cli;
use std::path::Path;

fn yaml_to_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read");
    let v: yaml_serde::Value =
        yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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

/// `flowctl man` (what a user installs as the man page): `flowctl(1)` with the exit codes,
/// then one page per subcommand, nested ones included, each naming every option that
/// subcommand takes.
#[test]
fn the_man_page_has_a_page_per_subcommand_with_its_options_and_the_exit_codes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flowctl"))
        .arg("man")
        .env_clear()
        .output()
        .expect("run flowctl man");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // roff escapes '-' as '\-'.
    let roff = |s: &str| s.replace('-', "\\-");
    let pages: Vec<(&str, &str)> = text
        .split("\n.TH ")
        .filter_map(|p| p.strip_prefix(".TH ").or(Some(p)))
        .filter_map(|p| p.split_once(' '))
        .collect();
    let page = |name: &str| {
        pages
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, body)| *body)
            .unwrap_or_else(|| panic!("no page '{name}' in flowctl man"))
    };
    let top = page("flowctl");
    for line in flowctl::exit::EXIT_CODES_HELP.lines().skip(1) {
        let (code, meaning) = line.trim().split_once("  ").expect("code and meaning");
        assert!(
            top.contains(code) && top.contains(&roff(meaning.trim())),
            "flowctl(1) lacks exit code {code}: {meaning}"
        );
    }
    fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<(String, Vec<String>)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{path}-{}", sub.get_name());
            let longs = sub
                .get_arguments()
                .filter(|a| !a.is_global_set())
                .filter_map(|a| a.get_long().map(str::to_string))
                .collect();
            found.push((name.clone(), longs));
            walk(sub, &name, found);
        }
    }
    let mut subcommands = Vec::new();
    walk(&Cli::command(), "flowctl", &mut subcommands);
    assert!(subcommands.len() >= 10, "{subcommands:?}");
    for (name, longs) in &subcommands {
        let body = page(name);
        for long in longs {
            assert!(
                body.contains(&format!("\\fB\\-\\-{}\\fR", roff(long))),
                "the page {name} does not name --{long}"
            );
        }
    }
    let plan = page("flowctl-plan");
    assert!(plan.contains(&roff("--full-drift")), "{plan}");
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
    for name in [
        "github-actions.yml",
        "gitlab-ci.yml",
        "azure-pipelines.yml",
        "rollback-on-failed-verify.yml",
    ] {
        let path = Path::new("examples/ci").join(name);
        let text = std::fs::read_to_string(&path).expect("pipeline");
        yaml_serde::from_str::<yaml_serde::Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
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

//! `flowctl test`: offline call scenarios. Each scenario is walked through the flows of a
//! manifest (or of the files given) by [`crate::walk`], with no org and no credentials,
//! and checked against what it expects. Exit 0 when every scenario passes, 1 when one
//! fails or is unknown, 2 for a bad scenario file (named with its line).

use crate::cli::{GlobalArgs, TestArgs};
use crate::error::{Error, Result};
use crate::output::{xml_escape, OutputFormat, Printer};
use crate::walk::engine::{Library, Outcome};
use crate::walk::scenario::{self, Scenario, ScenarioResult, Status};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub(crate) async fn run(args: &TestArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let lib = match &args.manifest {
        Some(path) => {
            library_of_manifest(&crate::commands::load_manifest(path, &args.vars, global)?)?
        }
        None => library_of_files(&args.files, &args.vars)?,
    };
    let scenarios = load_scenarios(&args.scenarios)?;
    let results = run_scenarios(&lib, &scenarios)?;
    print(&results, out);
    let failed = results.iter().filter(|r| r.status == Status::Fail).count();
    let unknown = results
        .iter()
        .filter(|r| r.status == Status::Unknown)
        .count();
    if failed + unknown > 0 {
        return Err(Error::VerificationFailed { failed, unknown });
    }
    Ok(())
}

/// Every flow of a manifest (modules first), substitutions applied.
pub(crate) fn library_of_manifest(manifest: &crate::manifest::Manifest) -> Result<Library> {
    let mut lib = Library::default();
    for item in manifest.items() {
        lib.add(&item.doc.yaml, &item.origin)?;
    }
    Ok(lib)
}

/// The flows of Architect YAML files, placeholders filled from `--var` and
/// `FLOWCTL_VAR_key` as everywhere else.
pub(crate) fn library_of_files(files: &[PathBuf], vars: &[(String, String)]) -> Result<Library> {
    let mut lib = Library::default();
    for path in files {
        let shown = path.display().to_string();
        let text = crate::files::read_text(path, "the flow file").map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        let values = crate::manifest::file_vars(&text, vars, &crate::manifest::process_env)
            .map_err(|m| Error::input(format!("{shown}: {m}"), None))?;
        let text = crate::flow::read::substitute(&text, &values, &shown)?;
        lib.add(&text, &shown)?;
    }
    Ok(lib)
}

/// Reads and checks scenario files (exit 2 on a problem, naming the file and line).
pub(crate) fn load_scenarios(files: &[PathBuf]) -> Result<Vec<Scenario>> {
    let mut all = Vec::new();
    for path in files {
        all.extend(load_scenario_file(path)?);
    }
    Ok(all)
}

fn load_scenario_file(path: &Path) -> Result<Vec<Scenario>> {
    let shown = path.display().to_string();
    let text = crate::files::read_text(path, "the scenario file").map_err(|source| Error::Io {
        path: shown.clone(),
        source,
    })?;
    scenario::parse(&text, &shown).map_err(|m| {
        Error::input(
            m,
            Some("fix the scenario file (its schema is schema/scenarios.schema.json)".into()),
        )
    })
}

/// Walks each scenario; a scenario naming a flow the library lacks is a bad file (exit 2).
pub(crate) fn run_scenarios(lib: &Library, scenarios: &[Scenario]) -> Result<Vec<ScenarioResult>> {
    let mut missing = Vec::new();
    let mut results = Vec::new();
    for s in scenarios {
        match lib.find(&s.flow, None) {
            Some(i) => results.push(scenario::check(lib, i, s)),
            None => missing.push(format!(
                "{}:{}: scenario '{}': no flow named '{}' (flows: {})",
                s.file,
                s.line,
                s.name,
                s.flow,
                lib.flows
                    .iter()
                    .map(|f| format!("'{}'", f.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    if !missing.is_empty() {
        return Err(Error::input(
            missing.join("\n"),
            Some("name a flow of the manifest or of the files given".into()),
        ));
    }
    Ok(results)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    ok: bool,
    passed: usize,
    failed: usize,
    unknown: usize,
    scenarios: Vec<JsonScenario<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonScenario<'a> {
    name: &'a str,
    flow: &'a str,
    file: &'a str,
    line: usize,
    status: Status,
    problems: &'a [String],
    /// `transfer`, `disconnect`, `endOfFlow`, `noInput` or `unknown`.
    end: &'static str,
    /// Where the call went, in words.
    outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer: Option<serde_json::Value>,
    calls: &'a [String],
    says: &'a [String],
    trace: &'a [crate::walk::engine::Step],
}

fn end_kind(o: &Outcome) -> &'static str {
    match o {
        Outcome::Transfer { .. } => "transfer",
        Outcome::Disconnect { .. } => "disconnect",
        Outcome::EndOfFlow => "endOfFlow",
        Outcome::NoInput { .. } => "noInput",
        Outcome::Unknown(_) | Outcome::Cut(_) => "unknown",
    }
}

pub(crate) fn print(results: &[ScenarioResult], out: Printer) {
    let count = |s| results.iter().filter(|r| r.status == s).count();
    let (passed, failed, unknown) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Unknown),
    );
    match out.format {
        OutputFormat::Json => out.json(&JsonReport {
            ok: failed + unknown == 0,
            passed,
            failed,
            unknown,
            scenarios: results
                .iter()
                .map(|r| JsonScenario {
                    name: &r.scenario.name,
                    flow: &r.scenario.flow,
                    file: &r.scenario.file,
                    line: r.scenario.line,
                    status: r.status,
                    problems: &r.problems,
                    end: end_kind(&r.walk.outcome),
                    outcome: r.walk.outcome.describe(),
                    transfer: match &r.walk.outcome {
                        Outcome::Transfer { kind, target, .. } => {
                            Some(serde_json::json!({ *kind: target }))
                        }
                        _ => None,
                    },
                    calls: &r.walk.calls,
                    says: &r.walk.says,
                    trace: &r.walk.steps,
                })
                .collect(),
        }),
        OutputFormat::Junit => out.raw(&junit(results, failed + unknown)),
        OutputFormat::Text | OutputFormat::Markdown => {
            let colour = crate::output::colour_stdout();
            for r in results {
                let tag = crate::output::status_tag(
                    match r.status {
                        Status::Pass => "PASS",
                        Status::Fail => "FAIL",
                        Status::Unknown => "UNKNOWN",
                    },
                    colour,
                );
                out.tagged_line(
                    &tag,
                    format!(
                        "{} (flow '{}', {}:{})",
                        r.scenario.name, r.scenario.flow, r.scenario.file, r.scenario.line
                    ),
                );
                for line in trace_lines(r) {
                    out.line(format!("        {line}"));
                }
                for p in &r.problems {
                    out.line(format!("        {p}"));
                }
            }
            out.line(format!(
                "test: {passed} scenario(s) passed, {failed} failed, {unknown} unknown"
            ));
        }
    }
}

/// The trace, step by step, then where the call went.
fn trace_lines(r: &ScenarioResult) -> Vec<String> {
    let mut lines: Vec<String> = r
        .walk
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let indent = "  ".repeat(s.depth);
            let name = if s.name.is_empty() {
                String::new()
            } else {
                format!(" '{}'", s.name)
            };
            let detail = if s.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", s.detail)
            };
            format!(
                "{:>3}. {indent}[{}] {}{name}{detail}",
                i + 1,
                s.flow,
                s.action
            )
        })
        .collect();
    lines.push(format!("  => {}", r.walk.outcome.describe()));
    lines
}

/// JUnit XML: one testcase per scenario, named after it, in a class named after its flow.
fn junit(results: &[ScenarioResult], failures: usize) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"flowctl test\" tests=\"{n}\" failures=\"{failures}\">\n  <testsuite name=\"flowctl test\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        n = results.len()
    ));
    for r in results {
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&r.scenario.flow),
            xml_escape(&r.scenario.name)
        ));
        if r.status == Status::Pass {
            xml.push_str("/>\n");
            continue;
        }
        let kind = if r.status == Status::Fail {
            "fail"
        } else {
            "unknown"
        };
        let message = r.problems.first().cloned().unwrap_or_default();
        let mut body = r.problems.join("\n");
        body.push_str("\n\n");
        body.push_str(&trace_lines(r).join("\n"));
        xml.push_str(&format!(
            ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>\n",
            xml_escape(&message),
            xml_escape(&body)
        ));
    }
    xml.push_str("  </testsuite>\n</testsuites>");
    xml
}

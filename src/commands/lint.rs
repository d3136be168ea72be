//! `flowctl lint`: check users' Architect YAML offline and list every problem of every file.

use crate::cli::{LintArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::flow::read;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub file: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub modules: Vec<String>,
    pub queues: Vec<String>,
    pub problems: Vec<String>,
}

/// Checks one file's text.
pub fn lint_text(text: &str, vars: &BTreeMap<String, String>, file: &str) -> FileReport {
    let mut report = FileReport {
        file: file.to_string(),
        ok: false,
        flow_type: None,
        name: None,
        modules: Vec::new(),
        queues: Vec::new(),
        problems: Vec::new(),
    };
    let text = match read::substitute(text, vars, file) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(e.to_string());
            // Keep reading with the placeholders in place, to find the other problems too.
            text.to_string()
        }
    };
    match read::facts(&text, file) {
        Ok(f) => {
            report.problems.extend(read::lint_problems(&f));
            report.flow_type = f.flow_type.yaml_key().map(str::to_string);
            report.name = Some(f.name);
            report.modules = f.modules;
            report.queues = f.queues;
        }
        Err(e) => report.problems.push(e.to_string()),
    }
    report.ok = report.problems.is_empty();
    report
}

pub async fn run(args: &LintArgs, output: OutputFormat) -> Result<()> {
    let vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
    let mut reports = Vec::new();
    for path in &args.files {
        let file = path.display().to_string();
        let report = match crate::files::read_text(path, "the flow file") {
            Ok(text) => lint_text(&text, &vars, &file),
            Err(e) => FileReport {
                file: file.clone(),
                ok: false,
                flow_type: None,
                name: None,
                modules: Vec::new(),
                queues: Vec::new(),
                problems: vec![format!("cannot read {file}: {e}")],
            },
        };
        reports.push(report);
    }
    if output == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    } else {
        for r in &reports {
            if r.ok {
                println!(
                    "ok: {}: {} '{}' calls modules [{}], queues [{}]",
                    r.file,
                    r.flow_type.as_deref().unwrap_or("?"),
                    r.name.as_deref().unwrap_or("?"),
                    r.modules.join(", "),
                    r.queues.join(", ")
                );
            } else {
                println!("problems: {}", r.file);
                for p in &r.problems {
                    println!("  {}", p.replace('\n', "\n  "));
                }
            }
        }
    }
    let bad = reports.iter().filter(|r| !r.ok).count();
    if bad > 0 {
        return Err(Error::input(
            format!(
                "{bad} of {} file(s) have problems (listed above)",
                reports.len()
            ),
            None,
        ));
    }
    Ok(())
}

//! `flowctl lint`: check Architect YAML offline against the catalogue (`crate::lint`) and list
//! every problem of every file, or of every flow a manifest names (`-f MANIFEST`).

use crate::cli::{GlobalArgs, LintArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::flow::read;
use crate::flow::FlowError;
use crate::lint::{self, Diagnostic, Linted, References, Severity};
use crate::output::Printer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One file's result, as `--output json` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub(crate) file: String,
    /// The manifest entry, with `lint -f`: `flows[0] 'Name'`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) origin: Option<String>,
    /// No errors (warnings allowed).
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) flow_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub(crate) references: References,
    /// Every error and warning, by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The errors, rendered `file:line:col: error[rule]: message`.
    pub problems: Vec<String>,
    /// The warnings, rendered the same way.
    pub warnings: Vec<String>,
    /// The notes (what the catalogue does not know, which may well be valid).
    pub notes: Vec<String>,
}

impl FileReport {
    fn new(file: &str, linted: Linted, mut problems: Vec<String>) -> FileReport {
        problems.extend(linted.errors().map(|d| d.render(file)));
        let warnings = linted.warnings().map(|d| d.render(file)).collect();
        let notes = linted.notes().map(|d| d.render(file)).collect();
        FileReport {
            file: file.to_string(),
            origin: None,
            ok: problems.is_empty(),
            flow_type: linted.flow_type,
            name: linted.name,
            references: linted.references,
            diagnostics: linted.diagnostics,
            problems,
            warnings,
            notes,
        }
    }
}

/// Substitutes `{{key}}`s (reporting each one left) and lints the text.
fn substituted(
    text: &str,
    vars: &BTreeMap<String, String>,
    file: &str,
    base: Option<&Path>,
) -> (Linted, Vec<String>) {
    let mut problems = Vec::new();
    let mut unreplaced = Vec::new();
    // A `{{key}}` in a comment is no placeholder: Architect never reads comments.
    let text = &lint::placeholders::without_comment_placeholders(text);
    let text = match read::substitute(text, vars, file) {
        Ok(t) => t,
        Err(FlowError::Placeholders { missing, .. }) => {
            for (key, line) in missing {
                let column = lint::placeholders::column(text, line, &key);
                unreplaced.push(Diagnostic {
                    severity: Severity::Error,
                    rule: "placeholder",
                    line,
                    column,
                    message: format!(
                        "unreplaced placeholder `{{{{{key}}}}}`: pass --var {key}=VALUE"
                    ),
                    suggestion: None,
                });
            }
            // Keep checking with the placeholders in place, to find the other problems too.
            text.to_string()
        }
        Err(e) => {
            problems.push(e.to_string());
            text.to_string()
        }
    };
    let mut linted = lint::lint_yaml(&text, base);
    linted.diagnostics.extend(unreplaced);
    linted.diagnostics.sort_by_key(|d| (d.line, d.column));
    (linted, problems)
}

/// Checks one file's text (`ref:`s are not followed: no directory is known).
pub fn lint_text(text: &str, vars: &BTreeMap<String, String>, file: &str) -> FileReport {
    let (linted, problems) = substituted(text, vars, file, None);
    FileReport::new(file, linted, problems)
}

/// Lints files together, so that calls between them are checked (module inputs).
pub fn lint_files(paths: &[&Path], vars: &BTreeMap<String, String>) -> Vec<FileReport> {
    lint_files_with(paths, |_| Ok(vars.clone()))
}

/// [`lint_files`] with each file's substitutions from `vars_for(text)` (an `Err` is a
/// problem of that file, which is then linted with its placeholders in place).
pub(crate) fn lint_files_with(
    paths: &[&Path],
    vars_for: impl Fn(&str) -> std::result::Result<BTreeMap<String, String>, String>,
) -> Vec<FileReport> {
    let mut names = Vec::new();
    let mut linted = Vec::new();
    let mut extra = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match crate::files::read_text(path, "the flow file") {
            Ok(text) => {
                let base = path.parent().map(|p| {
                    if p.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        p
                    }
                });
                let (vars, refused) = match vars_for(&text) {
                    Ok(v) => (v, None),
                    Err(problem) => (BTreeMap::new(), Some(format!("{file}: {problem}"))),
                };
                let (l, mut p) = substituted(&text, &vars, &file, base);
                if let Some(r) = refused {
                    p.insert(0, r);
                }
                linted.push(l);
                extra.push(p);
            }
            Err(e) => {
                linted.push(Linted::default());
                extra.push(vec![format!("{file}: cannot read the file: {e}")]);
            }
        }
        names.push(file);
    }
    lint::cross_check(&mut linted);
    names
        .iter()
        .zip(linted)
        .zip(extra)
        .map(|((n, l), p)| FileReport::new(n, l, p))
        .collect()
}

pub(crate) async fn run(args: &LintArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let reports = match &args.manifest {
        Some(path) => {
            let manifest = crate::commands::load_manifest(path, &args.vars, global)?;
            lint::lint_manifest(&manifest)
                .into_iter()
                .map(|f| FileReport {
                    origin: Some(f.origin),
                    ..FileReport::new(&f.file, f.linted, Vec::new())
                })
                .collect()
        }
        None => {
            let paths: Vec<&Path> = args.files.iter().map(|p| p.as_path()).collect();
            // The manifest's rules: --var, then FLOWCTL_VAR_key, never the secret.
            lint_files_with(&paths, |text| {
                crate::manifest::file_vars(text, &args.vars, &crate::manifest::process_env)
            })
        }
    };
    print(&reports, out);
    let bad = reports.iter().filter(|r| !r.ok).count();
    if bad > 0 {
        return Err(Error::input(
            format!(
                "{bad} of {} file(s) have problems (listed above)",
                reports.len()
            ),
            Some("fix the errors; warnings alone do not fail lint".into()),
        ));
    }
    Ok(())
}

fn print(reports: &[FileReport], out: Printer) {
    if out.format == OutputFormat::Json {
        out.json(&reports);
        return;
    }
    for r in reports {
        let shown = match &r.origin {
            Some(o) => format!("{} ({o})", r.file),
            None => r.file.clone(),
        };
        if r.ok {
            let warned = match r.warnings.len() {
                0 => String::new(),
                1 => " (1 warning)".into(),
                n => format!(" ({n} warnings)"),
            };
            out.line(format!(
                "ok: {shown}: {} '{}'{warned}: {}",
                r.flow_type.as_deref().unwrap_or("?"),
                r.name.as_deref().unwrap_or("?"),
                r.references.summary()
            ));
        } else {
            out.line(format!("problems: {shown}"));
            for p in &r.problems {
                out.raw(&format!("  {}", p.replace('\n', "\n  ")));
            }
        }
        for w in r.warnings.iter().chain(&r.notes) {
            out.line(format!("  {w}"));
        }
    }
}

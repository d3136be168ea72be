//! `flowctl expr EXPR`: parse, type-check and evaluate one Architect expression offline, as
//! Architect reads it, and print its value in Architect's literal form with its type, or
//! every problem with its column.

use crate::cli::{ExprArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::expr::{self, catalogue, Context, Declarations, Outcome, Severity, Type, Value};
use crate::output::Printer;
use serde::Serialize;

#[derive(Debug, Serialize)]
struct ProblemOut {
    severity: Severity,
    message: String,
    /// 1-based, in characters; absent for a problem of the whole expression.
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    expression: String,
    ok: bool,
    #[serde(rename = "type")]
    ty: Option<String>,
    value: Option<serde_json::Value>,
    display: Option<String>,
    problems: Vec<ProblemOut>,
}

fn bad(message: String, hint: &str) -> Error {
    Error::input(message, Some(hint.to_string()))
}

fn parse_type(text: &str, what: &str) -> Result<Type> {
    catalogue().parse_type(text).ok_or_else(|| {
        bad(
            format!("{what}: unknown type '{text}'"),
            "use an Architect type such as String, Integer, Decimal, Boolean, DateTime, Duration, Currency, Queue, User, ACD Skill, or 'String Collection'",
        )
    })
}

/// The declarations and values the flags give.
fn inputs(args: &ExprArgs) -> Result<(Declarations, Context)> {
    let mut decls = Declarations::default();
    if let Some(path) = &args.flow {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let root = match crate::lint::node::parse(&text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                return Err(bad(
                    format!("{}: the file is empty", path.display()),
                    "give an Architect YAML flow file",
                ))
            }
            Err((msg, line, col)) => {
                return Err(bad(
                    format!("{}:{line}:{col}: malformed YAML: {msg}", path.display()),
                    "fix the YAML (flowctl lint shows every problem)",
                ))
            }
        };
        let found = crate::lint::expr::declarations(&root);
        decls = found;
        decls.undeclared = expr::Undeclared::ErrorForFlowScopes;
    }
    for d in &args.declare {
        let Some((name, ty)) = d.split_once(':') else {
            return Err(bad(
                format!("--declare {d}: expected NAME:TYPE"),
                "for example --declare Flow.vip:Boolean",
            ));
        };
        if !name.contains('.') {
            return Err(bad(
                format!("--declare {d}: a variable name has a scope, as in Flow.{name}"),
                "for example --declare Flow.vip:Boolean",
            ));
        }
        decls.declare(name.trim(), parse_type(ty, &format!("--declare {d}"))?);
    }
    let mut cx = Context {
        now_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_millis()).ok()),
        ..Context::default()
    };
    for s in &args.set {
        let Some((name, text)) = s.split_once('=') else {
            return Err(bad(
                format!("--set {s}: expected NAME=VALUE"),
                "for example --set Flow.vip=true or --set 'Flow.name=\"Ann\"'",
            ));
        };
        let name = name.trim();
        let (mut value, vty) = expr::constant(text).map_err(|m| {
            bad(
                format!("--set {s}: the value is not an Architect literal: {m}"),
                "write the value as Architect does: \"text\" in double quotes, 5, 2.5, true, NOT_SET, MakeDateTime(2024, 1, 31, 9, 0, 0)",
            )
        })?;
        match decls.get(name) {
            Some(t) if t == vty || value.is_not_set() || t.is_unknown() => {}
            Some(t) if t == Type::one("dec") && vty == Type::one("int") => {
                if let Value::Int(n) = value {
                    value = Value::Dec(expr::value::Dec::new(n as f64));
                }
            }
            Some(t) => {
                return Err(bad(
                    format!("--set {s}: {name} is declared {t} but the value is {vty}"),
                    "give a value of the declared type",
                ))
            }
            None if value.is_not_set() => {
                return Err(bad(
                    format!("--set {s}: NOT_SET has no type, and {name} is not declared"),
                    "declare it too, as in --declare NAME:TYPE",
                ))
            }
            None => decls.declare(name, vty),
        }
        cx.set(name, value);
    }
    Ok((decls, cx))
}

pub(crate) fn run(args: &ExprArgs, out: Printer) -> Result<()> {
    let output = out.format;
    let (decls, cx) = inputs(args)?;
    let expect = match &args.expect {
        Some(t) => Some(parse_type(t, "--expect")?),
        None => None,
    };
    let src = args.expression.as_str();
    let checked = expr::check(src, &decls, expect);
    let mut problems: Vec<ProblemOut> = checked
        .problems
        .iter()
        .map(|p| ProblemOut {
            severity: p.severity,
            message: p.message.clone(),
            column: Some(expr::syntax::column(src, p.at)),
            suggestion: p.suggestion.clone(),
        })
        .collect();
    let mut report = Report {
        expression: src.to_string(),
        ok: checked.ok(),
        ty: checked.ty.filter(|_| checked.ok()).map(|t| t.name()),
        value: None,
        display: None,
        problems: Vec::new(),
    };
    if report.ok && !args.check {
        if let Some(tree) = &checked.tree {
            match expr::evaluate_tree(tree, &cx) {
                Outcome::Value { value, ty } => {
                    report.value = Some(value.to_json());
                    report.display = Some(value.display(ty));
                }
                Outcome::Unsupported(what) => {
                    report.ok = false;
                    problems.push(ProblemOut {
                        severity: Severity::Error,
                        message: format!("unsupported: {what} (flowctl does not evaluate it; --check type-checks only)"),
                        column: None,
                        suggestion: None,
                    });
                }
                Outcome::Error(m) => {
                    report.ok = false;
                    problems.push(ProblemOut {
                        severity: Severity::Error,
                        message: format!("runtime error: {m}"),
                        column: None,
                        suggestion: None,
                    });
                }
            }
        }
    }
    report.problems = problems;
    if output == OutputFormat::Json {
        out.json(&report);
    } else {
        print_text(&report, out);
    }
    if report.ok {
        Ok(())
    } else {
        Err(Error::VerificationFailed {
            failed: report
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count(),
            unknown: 0,
        }
        .context("the expression is not OK (listed above)"))
    }
}

fn print_text(r: &Report, out: Printer) {
    if let (Some(d), Some(t)) = (&r.display, &r.ty) {
        out.line(format!("{d}  ({t})"));
    } else if let (true, Some(t)) = (r.ok, &r.ty) {
        out.line(format!("ok: {t}"));
    }
    for p in &r.problems {
        let sev = match p.severity {
            Severity::Error => "error",
            Severity::Note => "note",
        };
        let at = p
            .column
            .map(|c| format!(" at column {c}"))
            .unwrap_or_default();
        let hint = p
            .suggestion
            .as_ref()
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let line = format!("{sev}{at}: {}{hint}", p.message);
        if p.severity == Severity::Error {
            out.diagnostic(line);
        } else {
            out.line(line);
        }
    }
}

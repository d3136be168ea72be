//! `flowctl diff NAME|ID`: what changed between two published versions of a flow (by
//! default the one before the published one, and the published one), or between the
//! published version and a local file (`--file`).
//!
//! Whether they differ is decided by the drift check's comparison of meaning
//! ([`crate::flow::compare`]), so Architect's re-serialization and defaults are never a
//! change; the changes are then listed by place ([`crate::flow::changes`]). Exit 0 when
//! the same, 1 when they differ, 2 on a usage error, like `git diff --exit-code`.

use super::publish::{export_version, kind, no_such_version, version_key, versions};
use super::Session;
use crate::cli::{DiffArgs, GlobalArgs, OutputFormat};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::changes::{changes, Change};
use crate::models::{Flow, FlowVersion};
use crate::output::Printer;
use serde::Serialize;

/// What `--output json` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FlowDiff {
    pub(crate) id: String,
    pub(crate) name: String,
    /// The older side: a version id.
    pub(crate) from: String,
    /// The newer side: a version id, or the file.
    pub(crate) to: String,
    pub(crate) same: bool,
    pub(crate) changes: Vec<Change>,
    /// The comparison's unified diff of the canonical forms, when they differ.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) diff: String,
}

pub(crate) async fn run(args: &DiffArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    // The file is read before any request: a bad file changes nothing and costs nothing.
    let file = match &args.file {
        Some(path) => Some(read_file(path, &args.vars)?),
        None => None,
    };
    let session = Session::connect(global).await?;
    let result = diff(&session.client, args, file).await;
    session.close().await;
    let d = result?;
    print(&d, out);
    if d.same {
        return Ok(());
    }
    Err(Error::Differs {
        message: format!(
            "'{}' {} and {} differ ({} change(s))",
            d.name,
            d.from,
            d.to,
            d.changes.len()
        ),
    })
}

/// The file's YAML as flowctl would publish it, and its name for messages.
fn read_file(path: &std::path::Path, vars: &[(String, String)]) -> Result<(String, String)> {
    let shown = path.display().to_string();
    let text = crate::files::read_text(path, "flow file").map_err(|source| Error::Io {
        path: shown.clone(),
        source,
    })?;
    let vars = vars.iter().cloned().collect();
    let doc = crate::flow::read_architect_yaml(&text, &vars, &shown)?;
    Ok((doc.publish_yaml(), shown))
}

async fn diff(
    client: &Client,
    args: &DiffArgs,
    file: Option<(String, String)>,
) -> Result<FlowDiff> {
    let flow = super::resolve::any_flow(client, &args.flow.flow, args.flow.flow_type).await?;
    let all = versions(client, &flow).await?;
    let to = pick(&flow, &all, args.to.as_deref())?;
    if let Some((yaml, shown)) = file {
        let published = export_version(client, &flow, &to.id).await?;
        return compared(&flow, &to.id, &published, &shown, &yaml);
    }
    let from = match &args.from {
        Some(v) => pick(&flow, &all, Some(v))?,
        None => all
            .iter()
            .find(|v| version_key(&v.id) < version_key(&to.id))
            .cloned()
            .ok_or_else(|| {
                Error::input(
                    format!(
                        "{} '{}' has no version before {} to compare with",
                        kind(flow.flow_type),
                        flow.name,
                        to.id
                    ),
                    Some("pass --from and --to, or --file to compare with a local file".into()),
                )
            })?,
    };
    let (old, new) = futures::try_join!(
        export_version(client, &flow, &from.id),
        export_version(client, &flow, &to.id)
    )?;
    compared(&flow, &from.id, &old, &to.id, &new)
}

/// The version `wanted`, or the published one when `None`.
fn pick(flow: &Flow, all: &[FlowVersion], wanted: Option<&str>) -> Result<FlowVersion> {
    let wanted = match wanted {
        Some(v) => normal(v),
        None => match &flow.published_version {
            Some(v) => v.id.clone(),
            None => return Err(no_such_version(flow, "(published)", all)),
        },
    };
    all.iter()
        .find(|v| v.id == wanted)
        .cloned()
        .ok_or_else(|| no_such_version(flow, &wanted, all))
}

/// `3` is version `3.0`, as Architect names versions.
pub(crate) fn normal(v: &str) -> String {
    if !v.contains('.') && v.parse::<u64>().is_ok() {
        format!("{v}.0")
    } else {
        v.to_string()
    }
}

/// Compares `old` with `new` by meaning, and lists the changes when they differ.
fn compared(flow: &Flow, from: &str, old: &str, to: &str, new: &str) -> Result<FlowDiff> {
    let c = crate::flow::compare::compare(new, old).map_err(|e| {
        Error::rejected(
            format!("'{}' {from} and {to} could not be compared: {e}", flow.name),
            None,
        )
    })?;
    let list = if c.same {
        Vec::new()
    } else {
        changes(old, new).unwrap_or_default()
    };
    Ok(FlowDiff {
        id: flow.id.clone(),
        name: flow.name.clone(),
        from: from.to_string(),
        to: to.to_string(),
        same: c.same,
        changes: list,
        diff: c.diff,
    })
}

/// Text, Markdown or JSON, as `--output` asks.
pub(crate) fn print(d: &FlowDiff, out: Printer) {
    match out.format {
        OutputFormat::Json => out.json(d),
        OutputFormat::Markdown => out.raw(&markdown(d)),
        _ => {
            for line in text_lines(d) {
                out.line(line);
            }
        }
    }
}

/// The text form: a heading line, then one line per change.
pub(crate) fn text_lines(d: &FlowDiff) -> Vec<String> {
    if d.same {
        return vec![format!(
            "'{}' {} and {}: the same in meaning",
            d.name, d.from, d.to
        )];
    }
    let mut lines = vec![format!(
        "'{}' {} → {}: {} change(s)",
        d.name,
        d.from,
        d.to,
        d.changes.len()
    )];
    for c in &d.changes {
        lines.push(match (&c.old, &c.new) {
            (Some(o), Some(n)) => format!("  ~ {}: {o:?} → {n:?}", c.place),
            (None, Some(n)) => format!("  + {}: {n:?}", c.place),
            (Some(o), None) => format!("  - {}: was {o:?}", c.place),
            (None, None) => format!("  ~ {}", c.place),
        });
    }
    if d.changes.is_empty() {
        // The comparison saw a difference the place list cannot name: show its diff.
        lines.extend(d.diff.lines().map(|l| format!("  {l}")));
    }
    lines
}

fn markdown(d: &FlowDiff) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut md = format!(
        "### flowctl diff: `{}` {} → {}\n\n",
        cell(&d.name),
        cell(&d.from),
        cell(&d.to)
    );
    if d.same {
        md.push_str("The same in meaning.\n");
        return md;
    }
    md.push_str("| place | old | new |\n|---|---|---|\n");
    for c in &d.changes {
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&c.place),
            c.old.as_deref().map(cell).unwrap_or_default(),
            c.new.as_deref().map(cell).unwrap_or_default()
        ));
    }
    if d.changes.is_empty() {
        md.push_str(&format!("\n```diff\n{}```\n", d.diff));
    }
    md
}

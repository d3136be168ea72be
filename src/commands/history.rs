//! `flowctl history NAME|ID`: a flow's published versions, newest first, with when and by
//! whom each was published, whether its content carries flowctl's marker, and, for a
//! common module (or a bot flow), which callers run which version.
//!
//! Genesys copies a module into a caller when the caller publishes, so a caller runs the
//! newest module version published at or before its own published version. A caller on an
//! older version than the module's published one is *stale*: it still runs the old copy.
//! The version's content is read through export jobs (`flow.version`), one per version,
//! four at a time; `--limit` bounds how many.

use super::publish::{caller_rows, callers, export_version, kind, versions, CallerRow};
use super::Session;
use crate::cli::{GlobalArgs, HistoryArgs, OutputFormat};
use crate::error::Result;
use crate::models::{Flow, FlowType, FlowVersion};
use crate::output::Printer;
use serde::Serialize;

/// One version as `--output json` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionRow {
    pub(crate) version: String,
    pub(crate) date_published: Option<String>,
    /// The user who published it, when the version names one.
    pub(crate) published_by_user: Option<String>,
    /// The OAuth client that published it, when the version names one.
    pub(crate) published_by_client: Option<String>,
    /// The version's content carries flowctl's marker (`None`: its export failed).
    pub(crate) flowctl_marker: Option<bool>,
    pub(crate) current: bool,
    /// Callers whose published version runs this version (modules and bot flows only).
    pub(crate) callers: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct History {
    id: String,
    name: String,
    #[serde(rename = "type")]
    flow_type: FlowType,
    published_version: Option<String>,
    versions: Vec<VersionRow>,
    callers: Vec<CallerRow>,
}

pub(crate) async fn run(args: &HistoryArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let session = Session::connect(global).await?;
    let result = history(&session.client, args).await;
    session.close().await;
    let h = result?;
    match out.format {
        OutputFormat::Json => out.json(&h),
        OutputFormat::Markdown => out.raw(&markdown(&h)),
        _ => print_text(&h, out),
    }
    Ok(())
}

async fn history(client: &crate::client::Client, args: &HistoryArgs) -> Result<History> {
    use futures::stream::{self, StreamExt};
    let flow = super::resolve::any_flow(client, &args.flow.flow, args.flow.flow_type).await?;
    let all = versions(client, &flow).await?;
    let shown: Vec<FlowVersion> = all.iter().take(usize::from(args.limit)).cloned().collect();
    let markers: Vec<Option<bool>> = stream::iter(shown.iter())
        .map(|v| marker_of(client, &flow, &v.id))
        .buffered(4)
        .collect()
        .await;
    let callers = caller_rows(&flow, &all, &callers(client, &flow).await?);
    let current = flow.published_version.as_ref().map(|v| v.id.clone());
    let rows = shown
        .iter()
        .zip(markers)
        .map(|(v, marker)| VersionRow {
            version: v.id.clone(),
            date_published: v.date_published.clone(),
            published_by_user: v.created_by.as_ref().map(name_of),
            published_by_client: v.created_by_client.as_ref().map(name_of),
            flowctl_marker: marker,
            current: current.as_deref() == Some(v.id.as_str()),
            callers: callers
                .iter()
                .filter(|c| c.runs.as_deref() == Some(v.id.as_str()))
                .map(|c| c.name.clone())
                .collect(),
        })
        .collect();
    Ok(History {
        id: flow.id.clone(),
        name: flow.name.clone(),
        flow_type: flow.flow_type,
        published_version: current,
        versions: rows,
        callers,
    })
}

/// Whether version `v`'s content carries flowctl's marker; `None` when it cannot be read
/// (the history is still worth showing).
async fn marker_of(client: &crate::client::Client, flow: &Flow, v: &str) -> Option<bool> {
    match export_version(client, flow, v).await {
        Ok(yaml) => Some(
            crate::flow::read::facts(&yaml, "export")
                .ok()
                .and_then(|f| f.description)
                .and_then(|d| crate::flow::content_marker(&d))
                .is_some(),
        ),
        Err(e) => {
            tracing::warn!("reading version {v} of '{}': {e}", flow.name);
            None
        }
    }
}

/// A user's or client's name, else its id.
fn name_of(e: &crate::models::EntityRef) -> String {
    e.name
        .clone()
        .or_else(|| e.id.clone())
        .unwrap_or_else(|| "unknown".into())
}

fn by(row: &VersionRow) -> String {
    match (&row.published_by_user, &row.published_by_client) {
        (Some(u), Some(c)) => format!("{u} (client {c})"),
        (Some(u), None) => u.clone(),
        (None, Some(c)) => format!("client {c}"),
        (None, None) => "unknown".into(),
    }
}

fn marker(row: &VersionRow) -> &'static str {
    match row.flowctl_marker {
        Some(true) => "flowctl",
        Some(false) => "not flowctl",
        None => "unread",
    }
}

fn print_text(h: &History, out: Printer) {
    out.line(format!(
        "{} '{}' ({}): {} version(s) shown, published: {}",
        kind(h.flow_type),
        h.name,
        h.id,
        h.versions.len(),
        h.published_version.as_deref().unwrap_or("none")
    ));
    for v in &h.versions {
        out.line(format!(
            "  {:<6} {:<24} {:<11} {}{}",
            v.version,
            v.date_published.as_deref().unwrap_or("-"),
            marker(v),
            by(v),
            if v.current { "  [published]" } else { "" }
        ));
        for c in h
            .callers
            .iter()
            .filter(|c| c.runs.as_deref() == Some(&v.version))
        {
            out.line(format!(
                "           runs in {} '{}'{}",
                kind(c.flow_type),
                c.name,
                if c.stale { " (stale)" } else { "" }
            ));
        }
    }
    for c in h.callers.iter().filter(|c| c.runs.is_none()) {
        out.line(format!(
            "  caller {} '{}' runs a version older than those shown (stale)",
            kind(c.flow_type),
            c.name
        ));
    }
}

fn markdown(h: &History) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut md = format!(
        "### flowctl history: {} `{}`\n\n| version | published | by | content | callers running it |\n|---|---|---|---|---|\n",
        kind(h.flow_type),
        cell(&h.name)
    );
    for v in &h.versions {
        let callers: Vec<String> = h
            .callers
            .iter()
            .filter(|c| c.runs.as_deref() == Some(&v.version))
            .map(|c| format!("{}{}", cell(&c.name), if c.stale { " (stale)" } else { "" }))
            .collect();
        md.push_str(&format!(
            "| {}{} | {} | {} | {} | {} |\n",
            cell(&v.version),
            if v.current { " (published)" } else { "" },
            cell(v.date_published.as_deref().unwrap_or("-")),
            cell(&by(v)),
            marker(v),
            callers.join(", ")
        ));
    }
    md
}

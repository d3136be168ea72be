//! `flowctl destroy`: delete a manifest's flows, callers before modules.
//!
//! Without `--yes` it only lists what it would delete (offline). A module that a flow
//! outside the manifest still uses is not deleted, and nothing else is either, unless
//! `--force`. A flow already gone (404/410) counts as deleted.

use super::publish::kind;
use super::Session;
use crate::cli::{DestroyArgs, GlobalArgs};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::manifest::{self, Manifest};
use crate::models::{Flow, FlowType};
use crate::output::Printer;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Serialize)]
pub(crate) struct Deleted {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    /// `deleted`, `absent` or `failed`.
    pub(crate) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

pub(crate) async fn run(args: &DestroyArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let manifest = args.manifest.load(global)?;
    if !args.yes {
        let names: Vec<String> = order(&manifest)
            .iter()
            .map(|(t, n)| format!("{} '{n}'", kind(*t)))
            .collect();
        return Err(Error::input(
            format!(
                "destroy deletes {} flow(s) of {}: {}",
                names.len(),
                manifest.path.display(),
                names.join(", ")
            ),
            Some("run again with --yes to delete them".into()),
        ));
    }
    let session = Session::connect(global).await?;
    // One change to this org at a time from this machine: a second run waits here, then
    // reads the org afresh.
    let _lock = match session.client.lock_org("destroy").await {
        Ok(lock) => lock,
        Err(e) => {
            session.close().await;
            return Err(e.into());
        }
    };
    let result = destroy(&session.client, &manifest, args.force).await;
    session.close().await;
    let deleted = result?;
    out.json(&deleted);
    for d in &deleted {
        let what = format!("{} '{}'", kind(d.flow_type), d.name);
        match d.status {
            "deleted" => out.line(format!("deleted  {what}")),
            "absent" => out.line(format!("absent   {what} (nothing to delete)")),
            _ => out.line(format!(
                "FAILED   {what}: {}",
                d.error.as_deref().unwrap_or("")
            )),
        }
    }
    let failed = deleted.iter().filter(|d| d.status == "failed").count();
    if failed > 0 {
        return Err(Error::rejected(
            format!("{failed} flow(s) could not be deleted"),
            None,
        ));
    }
    Ok(())
}

/// The publish order reversed: each flow before what it names (callers before modules, a
/// module before the in-queue flow it names).
fn order(manifest: &Manifest) -> Vec<(FlowType, String)> {
    manifest
        .ordered
        .iter()
        .rev()
        .map(|i| (i.doc.flow_type, i.doc.name.clone()))
        .collect()
}

pub(crate) async fn destroy(
    client: &Client,
    manifest: &Manifest,
    force: bool,
) -> Result<Vec<Deleted>> {
    let existing = super::plan::org_flows(client, manifest).await?;
    let ours: HashSet<&str> = existing
        .iter()
        .filter(|((t, n), _)| {
            manifest
                .items()
                .any(|i| i.doc.flow_type == *t && i.doc.name == *n)
        })
        .map(|(_, f)| f.id.as_str())
        .collect();

    // Refuse before deleting anything if an outside flow still uses a module.
    let mut users = Vec::new();
    for m in &manifest.modules {
        let Some(flow) = existing.get(&(FlowType::CommonModule, m.doc.name.clone())) else {
            continue;
        };
        let consumers = client
            .consuming_resources(
                &flow.id,
                FlowType::CommonModule.object_type().unwrap_or_default(),
                None,
            )
            .await?;
        for c in consumers
            .into_iter()
            .filter(|c| !ours.contains(c.id.as_str()))
        {
            users.push(format!(
                "module '{}' is used by '{}' ({}), which is not in this manifest",
                m.doc.name,
                c.name.unwrap_or(c.id),
                c.object_type.unwrap_or_default()
            ));
        }
    }
    if !users.is_empty() && !force {
        return Err(Error::input(
            format!("nothing was deleted:\n  {}", users.join("\n  ")),
            Some("remove those calls first, or pass --force to try anyway (Genesys refuses to delete a module that a published flow uses)".into()),
        ));
    }

    let mut deleted = Vec::new();
    // Callers first, concurrently; then modules one by one, callers before callees.
    let callers: Vec<&manifest::Item> = manifest.flows.iter().collect();
    let results: Vec<Deleted> = stream::iter(callers)
        .map(|item| delete_one(client, &existing, item.doc.flow_type, &item.doc.name))
        .buffered(8)
        .collect()
        .await;
    deleted.extend(results);
    for m in manifest.modules.iter().rev() {
        deleted.push(delete_one(client, &existing, m.doc.flow_type, &m.doc.name).await);
    }
    Ok(deleted)
}

async fn delete_one(
    client: &Client,
    existing: &HashMap<(FlowType, String), Flow>,
    flow_type: FlowType,
    name: &str,
) -> Deleted {
    let mut d = Deleted {
        name: name.to_string(),
        flow_type,
        status: "absent",
        id: None,
        error: None,
    };
    let Some(flow) = existing.get(&(flow_type, name.to_string())) else {
        return d;
    };
    d.id = Some(flow.id.clone());
    match client.delete_flow(&flow.id).await {
        Ok(()) => d.status = "deleted",
        Err(e) => {
            d.status = "failed";
            d.error = Some(e.to_string());
        }
    }
    d
}

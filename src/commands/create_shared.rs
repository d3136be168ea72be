//! `flowctl create-shared`: create or update the shared flow (a common module) and publish it.

use super::publish::{publish, Freshness, PublishOptions, Published};
use super::{resolve, Session};
use crate::cli::{CreateSharedArgs, GlobalArgs, PublishArgs};
use crate::error::{Error, Result};
use crate::flow::{self, FlowDocument, SharedTemplate};
use crate::models::{EntityRef, FlowCreate, FlowType};
use crate::output::Printer;
use std::collections::BTreeMap;
use std::time::Duration;

pub async fn run(args: &CreateSharedArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let doc = document(args)?;
    if args.publish.dry_run {
        print_dry_run(&[doc], &args.division, out);
        return Ok(());
    }
    let session = Session::connect(global).await?;
    let result = create(&session, &doc, &args.division, &args.publish, out).await;
    session.close().await;
    let published = result?;
    print_published(std::slice::from_ref(&published), out, false);
    Ok(())
}

/// The module to publish: the built-in greeting, or the user's own YAML (`--file`).
pub fn document(args: &CreateSharedArgs) -> Result<FlowDocument> {
    let doc = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            let vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
            let doc = flow::read_architect_yaml(&text, &vars, &path.display().to_string())?;
            if let Some(name) = &args.name {
                if name != &doc.name {
                    return Err(Error::input(
                        format!("--name '{name}' differs from the name '{}' in {}", doc.name, path.display()),
                        Some("drop --name, or change the name in the file (Architect finds flows by the name in the YAML)".into()),
                    ));
                }
            }
            doc
        }
        None => {
            let Some(name) = args.name.clone() else {
                return Err(Error::input(
                    "create-shared needs --name (or --file with your own Architect YAML)",
                    Some(
                        "e.g. flowctl create-shared --name \"Shared Greeting Module\"".to_string(),
                    ),
                ));
            };
            flow::render_shared(&SharedTemplate {
                name,
                description: args.description.clone(),
                division: args.division.clone(),
                language: args.language.clone(),
                greeting: args.greeting.clone(),
            })?
        }
    };
    if doc.flow_type != FlowType::CommonModule {
        return Err(Error::input(
            format!(
                "'{}' is {}, but create-shared publishes a common module",
                doc.name,
                crate::output::a_type_name(doc.flow_type)
            ),
            Some("use a file whose top-level key is commonModule".into()),
        ));
    }
    Ok(doc)
}

/// Resolves the division, then publishes. Used by the demo as well.
pub async fn create(
    session: &Session,
    doc: &FlowDocument,
    division: &str,
    publish_args: &PublishArgs,
    out: Printer,
) -> Result<Published> {
    let division_name = doc.division.as_deref().unwrap_or(division);
    let division = resolve::division(&session.client, division_name).await?;
    out.progress(format!("publishing common module '{}' ...", doc.name));
    publish(
        &session.client,
        doc,
        &division,
        &Freshness::default(),
        options(publish_args),
    )
    .await
}

pub fn options(args: &PublishArgs) -> PublishOptions {
    PublishOptions {
        job_timeout: Duration::from_secs(args.job_timeout),
        ..PublishOptions::default()
    }
}

/// `--dry-run`: the YAML to be published and the `POST /api/v2/flows` body, per flow.
pub fn print_dry_run(docs: &[FlowDocument], division: &str, out: Printer) {
    let records: Vec<serde_json::Value> = docs
        .iter()
        .map(|doc| {
            let body = FlowCreate {
                name: doc.name.clone(),
                description: doc.description.clone(),
                flow_type: doc.flow_type,
                division: Some(EntityRef {
                    id: None,
                    name: Some(doc.division.clone().unwrap_or_else(|| division.to_string())),
                    self_uri: None,
                }),
            };
            serde_json::json!({
                "name": doc.name,
                "type": doc.flow_type,
                "contentHash": doc.content_hash(),
                "createBody": body,
                "yaml": doc.publish_yaml(),
            })
        })
        .collect();
    out.json(&if records.len() == 1 {
        records[0].clone()
    } else {
        serde_json::Value::Array(records.clone())
    });
    for (doc, record) in docs.iter().zip(&records) {
        out.line(format!(
            "# dry run: {} '{}' (nothing is sent)",
            crate::output::type_name(doc.flow_type),
            doc.name
        ));
        out.line("# POST /api/v2/flows (only if no flow of this name and type exists; the division id is looked up by name)");
        out.line(serde_json::to_string_pretty(&record["createBody"]).unwrap_or_default());
        out.line("# Architect YAML uploaded through POST /api/v2/flows/jobs:");
        out.line(doc.publish_yaml());
    }
}

/// Text: one line per flow; JSON: one object, or an array when `as_array`.
pub fn print_published(items: &[Published], out: Printer, as_array: bool) {
    if as_array {
        out.json(&items);
    } else if let Some(one) = items.first() {
        out.json(one);
    }
    for p in items {
        let detail = match p.action {
            super::publish::Action::Unchanged => "already published with this content".to_string(),
            _ => format!("published version {}", p.version),
        };
        out.line(format!(
            "{:<9} {} '{}' ({}) {detail}",
            p.action.as_str(),
            crate::output::type_name(p.flow_type),
            p.name,
            p.id
        ));
    }
}

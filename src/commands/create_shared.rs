//! `flowctl create-shared`: create or update the shared flow (a common module) and publish it.

use super::publish::{
    division_move, find_existing, publish_found, target_division, Action, Freshness,
    PublishOptions, Published,
};
use super::{resolve, Session};
use crate::cli::{CreateSharedArgs, GlobalArgs, PublishArgs};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::{self, FlowDocument, SharedTemplate};
use crate::models::FlowType;
use crate::output::Printer;
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) async fn run(args: &CreateSharedArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let doc = document(args)?;
    if args.publish.dry_run {
        print_dry_run(&[doc], division_or_home(&args.division), out);
        return Ok(());
    }
    let session = Session::connect(global).await?;
    // One change to this org at a time from this machine: a second run waits here, then
    // reads the org afresh.
    let _lock = match session.client.lock_org("create-shared").await {
        Ok(lock) => lock,
        Err(e) => {
            session.close().await;
            return Err(e.into());
        }
    };
    let result = create(
        &session,
        &doc,
        named_division(args, &doc),
        &args.publish,
        out,
    )
    .await;
    let published = match result {
        Ok(p) => p,
        Err(e) => {
            session.close().await;
            return Err(e);
        }
    };
    // A new version makes every caller stale: Genesys copies a module into a caller only
    // when the caller is published (docs/genesys-api.md#flows), so they still run the old copy.
    let stale = match published.action {
        Action::Updated => stale_callers(&session.client, &published).await,
        _ => Ok(Vec::new()),
    };
    session.close().await;
    let (stale, warning) = super::publish::callers_or_warning(stale, &published.name)?;
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    if out.format == crate::cli::OutputFormat::Json {
        let mut json = serde_json::to_value(&published).unwrap_or_default();
        if let Some(obj) = json.as_object_mut() {
            obj.insert(
                "staleCallers".into(),
                serde_json::to_value(&stale).unwrap_or_default(),
            );
            obj.insert(
                "republish".into(),
                serde_json::to_value(republish_commands(&stale, &published.name, global))
                    .unwrap_or_default(),
            );
        }
        out.json(&json);
    } else {
        print_published(std::slice::from_ref(&published), out, false);
        print_stale(&stale, &published.name, global, out);
    }
    Ok(())
}

/// A published flow that calls the module and so still runs its previous copy.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct StaleCaller {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) flow_type: FlowType,
    /// The one queue its published version transfers to, when there is exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) division: Option<String>,
    /// flowctl published it, and it calls only this module and one queue: the shape
    /// `create-parent` publishes.
    #[serde(skip)]
    pub(crate) parent_shaped: bool,
}

/// The module's callers, from dependency tracking (their published versions).
pub(crate) async fn stale_callers(client: &Client, module: &Published) -> Result<Vec<StaleCaller>> {
    let consumers = client.module_callers(&module.id).await?;
    if consumers.is_empty() {
        return Ok(Vec::new());
    }
    let mut stale = Vec::new();
    for c in consumers {
        // One documented `GET /api/v2/flows/{id}` per caller (docs/genesys-api.md#flows): callers are
        // few, and a listing of every type is not documented.
        let Some(flow) = client.get_flow(&c.id).await? else {
            continue;
        };
        let version = c.version.clone().unwrap_or_default();
        let used = client
            .consumed_resources(
                &c.id,
                &version,
                flow.flow_type.object_type().unwrap_or_default(),
                &["COMMONMODULEFLOW", "QUEUE"],
            )
            .await?;
        let queues: Vec<String> = used
            .iter()
            .filter(|d| d.object_type.as_deref() == Some("QUEUE"))
            .filter_map(|d| d.name.clone())
            .collect();
        let modules = used
            .iter()
            .filter(|d| d.object_type.as_deref() != Some("QUEUE"))
            .count();
        let queue = match queues.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        stale.push(StaleCaller {
            id: c.id.clone(),
            name: flow.name.clone(),
            flow_type: flow.flow_type,
            // Only a flow flowctl published (its content marker) with create-parent's
            // shape; anything else would lose its own content to the template.
            parent_shaped: flow.flow_type == FlowType::InboundCall
                && queue.is_some()
                && modules <= 1
                && flow
                    .description
                    .as_deref()
                    .and_then(flow::content_marker)
                    .is_some(),
            queue,
            division: flow.division.as_ref().and_then(|d| d.name.clone()),
        });
    }
    stale.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stale)
}

/// The commands that republish the stale callers: one `create-parent` per queue and
/// division for flows of the shape it publishes; the others were published some other
/// way (a manifest's own YAML), which `apply -f` republishes.
pub(crate) fn republish_commands(
    stale: &[StaleCaller],
    module: &str,
    global: &GlobalArgs,
) -> Vec<String> {
    let mut groups: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    let mut others = false;
    for s in stale {
        match (&s.queue, s.parent_shaped) {
            (Some(q), true) => groups
                .entry((
                    q.clone(),
                    s.division.clone().unwrap_or_else(|| "Home".into()),
                ))
                .or_default()
                .push(&s.name),
            _ => others = true,
        }
    }
    let flags = super::verify::org_flags(global);
    let word = |w: &str| super::verify::shell_word(w);
    let mut commands: Vec<String> = groups
        .into_iter()
        .map(|((queue, division), names)| {
            let mut words = vec!["flowctl".to_string()];
            words.extend(flags.iter().map(|f| word(f)));
            words.push("create-parent".into());
            for n in names {
                words.push("--name".into());
                words.push(word(n));
            }
            words.extend([
                "--shared".into(),
                word(module),
                "--queue".into(),
                word(&queue),
                "--division".into(),
                word(&division),
            ]);
            words.join(" ")
        })
        .collect();
    if others {
        commands.push(
            "flowctl apply -f MANIFEST (the manifest that publishes the other callers)".into(),
        );
    }
    commands
}

fn print_stale(stale: &[StaleCaller], module: &str, global: &GlobalArgs, out: Printer) {
    if stale.is_empty() {
        return;
    }
    out.line(format!(
        "stale: {} flow(s) call common module '{module}' and run its previous version until they are republished:",
        stale.len()
    ));
    for s in stale {
        out.line(format!(
            "  {} '{}' ({})",
            crate::output::type_name(s.flow_type),
            s.name,
            s.id
        ));
    }
    for c in republish_commands(stale, module, global) {
        out.line(format!("  republish: {c}"));
    }
}

/// The module to publish: the built-in greeting, or the user's own YAML (`--file`).
pub(crate) fn document(args: &CreateSharedArgs) -> Result<FlowDocument> {
    let doc = match &args.file {
        Some(path) => {
            let text =
                crate::files::read_text(path, "the flow file").map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            // The manifest's rules: --var, then FLOWCTL_VAR_key, never the secret.
            let vars: BTreeMap<String, String> =
                crate::manifest::file_vars(&text, &args.vars, &crate::manifest::process_env)
                    .map_err(|m| {
                        Error::input(
                            format!("{}: {m}", path.display()),
                            Some("pass the value with --var key=value; nothing was sent".into()),
                        )
                    })?;
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
                division: division_or_home(&args.division).to_string(),
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

/// The division the user named: a file's own `division:` (with `--file`), else
/// `--division`. The built-in template always renders one, but only `--division` names it.
pub(crate) fn named_division<'a>(
    args: &'a CreateSharedArgs,
    doc: &'a FlowDocument,
) -> Option<&'a str> {
    match &args.file {
        Some(_) => doc.division.as_deref(),
        None => args.division.as_deref(),
    }
}

/// The division named, or Home (for a dry run and a new flow's rendering).
pub(crate) fn division_or_home(named: &Option<String>) -> &str {
    named.as_deref().unwrap_or(crate::flow::DEFAULT_DIVISION)
}

/// Looks the module up, chooses its division (the one named, by `--division` or the file;
/// else the one it is in today, so a re-run never moves it; else Home), refuses a new name
/// that is a near miss of an existing module unless `--new-flow`, resolves the division,
/// then publishes. Used by the demo as well.
pub(crate) async fn create(
    session: &Session,
    doc: &FlowDocument,
    division: Option<&str>,
    publish_args: &PublishArgs,
    out: Printer,
) -> Result<Published> {
    let client = &session.client;
    let existing = find_existing(client, doc).await?;
    if existing.is_none() && !publish_args.new_flow {
        resolve::refuse_near_miss(client, &doc.name, doc.flow_type, "--new-flow").await?;
    }
    let named = division;
    let target = target_division(named, existing.as_ref());
    if named.is_some() {
        if let Some(moving) = division_move(existing.as_ref(), &target) {
            tracing::warn!("this {moving}, as named");
        }
    }
    let doc = doc.in_division(&target);
    let division = resolve::division(client, &target).await?;
    out.progress(format!("publishing common module '{}' ...", doc.name));
    publish_found(
        client,
        &doc,
        &division,
        existing,
        &Freshness::default(),
        options(publish_args),
    )
    .await
}

pub(crate) fn options(args: &PublishArgs) -> PublishOptions {
    PublishOptions {
        job_timeout: Duration::from_secs(args.job_timeout),
        drift: !args.no_drift,
        ..PublishOptions::default()
    }
}

/// `--dry-run`: the YAML the Architect job would get, per flow. There is no create
/// request: the job creates the flow when none of its name and type exists.
pub(crate) fn print_dry_run(docs: &[FlowDocument], division: &str, out: Printer) {
    let records: Vec<serde_json::Value> = docs
        .iter()
        .map(|doc| {
            serde_json::json!({
                "name": doc.name,
                "type": doc.flow_type,
                "division": doc.division.clone().unwrap_or_else(|| division.to_string()),
                "contentHash": doc.content_hash(),
                "yaml": doc.publish_yaml_in(division),
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
        out.line("# Architect YAML uploaded through POST /api/v2/flows/jobs; the job finds the flow by name and type, or creates it:");
        out.line(record["yaml"].as_str().unwrap_or_default());
    }
}

/// Text: one line per flow; JSON: one object, or an array when `as_array`.
pub(crate) fn print_published(items: &[Published], out: Printer, as_array: bool) {
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

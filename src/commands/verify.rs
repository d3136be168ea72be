//! `flowctl verify`: is every parent flow published, and does its published version really
//! call the shared flow (and transfer to the queue), according to dependency tracking?
//!
//! Each link is checked from both sides: the parent's `consumedresources` and the module's
//! (or queue's) `consumingresources`. The dependency index lags a publish, so missing links
//! are retried until `--wait` runs out; if the index is not `OPERATIONAL` by then, or an
//! entity is `stateUnknown`, the check is *unknown*, never a pass. A parent published
//! before the module's latest publish is *stale*: it still runs the old copy.

use super::publish::is_stale;
use super::resolve::{self, is_uuid, Absent};
use super::Session;
use crate::cli::{GlobalArgs, OutputFormat, VerifyArgs};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::flow::{RefKind, Reference};
use crate::models::{Dependency, Flow, FlowType, Queue};
use crate::output::{xml_escape, Printer};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Unknown,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What is checked: `shared flow 'X'`, `parent 'Y'`, `queue 'Z'`.
    pub subject: String,
    /// The property: `exists`, `published`, `calls the shared flow`, ...
    pub check: String,
    pub status: CheckStatus,
    pub detail: String,
    /// The command or step that fixes a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub ok: bool,
    pub passed: usize,
    pub failed: usize,
    pub unknown: usize,
    pub checks: Vec<Check>,
}

impl Report {
    fn from_checks(checks: Vec<Check>) -> Report {
        let count = |s| checks.iter().filter(|c| c.status == s).count();
        let (passed, failed, unknown) = (
            count(CheckStatus::Pass),
            count(CheckStatus::Fail),
            count(CheckStatus::Unknown),
        );
        Report {
            ok: failed == 0 && unknown == 0,
            passed,
            failed,
            unknown,
            checks,
        }
    }
}

fn check(
    subject: &str,
    name: &str,
    status: CheckStatus,
    detail: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        subject: subject.to_string(),
        check: name.to_string(),
        status,
        detail: detail.into(),
        fix,
    }
}

pub async fn run(args: &VerifyArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let spec = match &args.file {
        Some(path) => {
            let manifest = crate::manifest::load(
                path,
                &args.vars,
                global.profile.as_deref(),
                &crate::manifest::process_env,
            )?;
            let mut spec = Spec::from_manifest(&manifest, args.wait);
            if let FixStyle::Manifest { vars, .. } = &mut spec.fix {
                for (k, v) in &args.vars {
                    vars.push("--var".into());
                    vars.push(format!("{k}={v}"));
                }
            }
            spec
        }
        None => Spec::from_args(args)?,
    };
    let spec = spec.with_org_flags(org_flags(global));
    let session = Session::connect(global).await?;
    let result = verify(&session.client, &spec).await;
    session.close().await;
    let report = result?;
    print_report(&report, out);
    if report.ok {
        Ok(())
    } else {
        Err(Error::VerificationFailed {
            failed: report.failed,
            unknown: report.unknown,
        })
    }
}

/// What to verify: parents, each with the modules it must call and the queues it must
/// transfer to. `verify --shared --parent` and `verify -f manifest` both become one.
#[derive(Debug, Clone)]
pub struct Spec {
    pub parents: Vec<ParentSpec>,
    pub wait: Duration,
    pub fix: FixStyle,
}

#[derive(Debug, Clone)]
pub struct ParentSpec {
    /// Name or id, as the user wrote it.
    pub parent: String,
    /// What the parent must be: an inbound call flow for `--parent`, the file's type with
    /// `-f`.
    pub flow_type: FlowType,
    pub modules: Vec<String>,
    pub queues: Vec<String>,
    /// Bot flows, flows transferred to, schedule groups, data tables, data actions and
    /// user prompts the parent's published version must consume.
    pub others: Vec<Reference>,
}

/// How the report words the command that fixes a failure. Every command is shell-quoted
/// (`shlex`), so it runs as printed, and carries the global flags that chose the org.
#[derive(Debug, Clone)]
pub enum FixStyle {
    /// `flowctl create-shared ...` / `flowctl create-parent ...`
    Commands {
        queue: Option<String>,
        /// Global flags that chose the org (`--emulator`, `--profile NAME`).
        global: Vec<String>,
    },
    /// `flowctl apply -f FILE [--var k=v ...]`
    Manifest {
        path: String,
        global: Vec<String>,
        /// The `--var k=v` words verify was given, which the manifest needs again.
        vars: Vec<String>,
    },
}

/// What the org says about a parent, so that its fix keeps it as it is: the queue its
/// published version transfers to and its division.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub queue: Option<String>,
    pub division: Option<String>,
    /// The flow is not of the shape `create-parent` publishes (it calls other modules too,
    /// or flowctl never published it), so `create-parent` would replace its content.
    pub own_content: bool,
}

/// One shell word, quoted only when it needs to be.
pub fn shell_word(s: &str) -> String {
    match shlex::try_quote(s) {
        Ok(q) => q.into_owned(),
        // Only a NUL byte cannot be quoted; no flow or queue name holds one.
        Err(_) => format!("{s:?}"),
    }
}

fn command(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The global flags of `global` that choose the org, for the fix commands to carry.
pub fn org_flags(global: &GlobalArgs) -> Vec<String> {
    let mut flags = Vec::new();
    if global.emulator {
        flags.push("--emulator".to_string());
    }
    if let Some(p) = &global.profile {
        flags.push("--profile".to_string());
        flags.push(p.clone());
    }
    flags
}

impl FixStyle {
    fn head<'a>(global: &'a [String], words: &mut Vec<&'a str>) {
        words.push("flowctl");
        words.extend(global.iter().map(String::as_str));
    }

    fn module(&self, module: &str, division: Option<&str>) -> String {
        let mut words = Vec::new();
        match self {
            FixStyle::Commands { global, .. } => {
                Self::head(global, &mut words);
                words.extend(["create-shared", "--name", module]);
                if let Some(d) = division {
                    words.extend(["--division", d]);
                }
            }
            FixStyle::Manifest { path, global, vars } => {
                Self::head(global, &mut words);
                words.extend(["apply", "-f", path]);
                words.extend(vars.iter().map(String::as_str));
            }
        }
        command(&words)
    }

    fn parent(&self, parent: &str, modules: &[String], known: &Known) -> String {
        let mut words = Vec::new();
        match self {
            FixStyle::Commands { .. } if known.own_content => {
                return format!(
                    "republish '{parent}' the way it was made (in Architect, or with the manifest that publishes it: `flowctl apply -f MANIFEST`); `create-parent` would replace its content with the built-in template"
                );
            }
            FixStyle::Commands { queue, global } => {
                Self::head(global, &mut words);
                words.extend(["create-parent", "--name", parent]);
                if let Some(m) = modules.first() {
                    words.extend(["--shared", m]);
                }
                let Some(queue) = queue.as_deref().or(known.queue.as_deref()) else {
                    // Nothing says which queue: name the missing piece rather than print a
                    // command that would fail or guess.
                    return format!(
                        "{} --queue NAME (the queue it should transfer to: verify was given no --queue and the org shows none)",
                        command(&words)
                    );
                };
                words.extend(["--queue", queue]);
                if let Some(d) = known.division.as_deref() {
                    words.extend(["--division", d]);
                }
            }
            FixStyle::Manifest { path, global, vars } => {
                Self::head(global, &mut words);
                words.extend(["apply", "-f", path]);
                words.extend(vars.iter().map(String::as_str));
            }
        }
        command(&words)
    }
}

impl Spec {
    pub fn from_args(args: &VerifyArgs) -> Result<Spec> {
        let Some(shared) = args.shared.clone() else {
            return Err(Error::input(
                "verify needs --shared and --parent, or -f MANIFEST",
                None,
            ));
        };
        if args.parents.is_empty() {
            return Err(Error::input(
                "verify needs at least one --parent (or -f MANIFEST)",
                None,
            ));
        }
        Ok(Spec {
            parents: args
                .parents
                .iter()
                .map(|p| ParentSpec {
                    parent: p.clone(),
                    flow_type: FlowType::InboundCall,
                    modules: vec![shared.clone()],
                    queues: args.queue.iter().cloned().collect(),
                    others: Vec::new(),
                })
                .collect(),
            wait: Duration::from_secs(args.wait),
            fix: FixStyle::Commands {
                queue: args.queue.clone(),
                global: Vec::new(),
            },
        })
    }

    /// Every flow of the manifest that calls modules or transfers to queues.
    pub fn from_manifest(manifest: &crate::manifest::Manifest, wait: u64) -> Spec {
        Spec {
            parents: manifest
                .flows
                .iter()
                .map(|item| ParentSpec {
                    parent: item.doc.name.clone(),
                    flow_type: item.doc.flow_type,
                    modules: item.doc.modules.clone(),
                    queues: item.doc.queues.clone(),
                    others: item.doc.references.clone(),
                })
                .collect(),
            wait: Duration::from_secs(wait),
            fix: FixStyle::Manifest {
                path: manifest.path.display().to_string(),
                global: Vec::new(),
                vars: Vec::new(),
            },
        }
    }

    /// The fixes carry these global flags (`--emulator`, `--profile NAME`).
    pub fn with_org_flags(mut self, flags: Vec<String>) -> Spec {
        match &mut self.fix {
            FixStyle::Commands { global, .. } | FixStyle::Manifest { global, .. } => {
                *global = flags
            }
        }
        self
    }
}

/// Above this many parents, verify reads listings instead of asking about each parent.
const MANY: usize = 20;

/// A parent as found in the org.
struct Parent<'a> {
    spec: &'a ParentSpec,
    subject: String,
    flow: Flow,
    version: String,
}

/// Unique values in first-seen order.
fn unique<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

/// The org's flows, read once and only when something is missing, to say why.
struct Everything<'c> {
    client: &'c Client,
    flows: Option<Vec<Flow>>,
}

impl Everything<'_> {
    async fn absent(&mut self, name_or_id: &str, wanted: FlowType) -> Result<Absent> {
        if is_uuid(name_or_id) {
            return Ok(Absent::Id);
        }
        if self.flows.is_none() {
            // Every type, for suggestions (unverified without `type`; see resolve::absent):
            // a failure only makes the hint less helpful.
            let all = self.client.list_flows(&[]).await.unwrap_or_else(|e| {
                tracing::debug!("listing flows of every type for a suggestion failed: {e}");
                Vec::new()
            });
            self.flows = Some(all);
        }
        Ok(resolve::absent_among(
            name_or_id,
            wanted,
            self.flows.as_deref().unwrap_or_default(),
        ))
    }
}

/// The detail and the fix of an `exists` failure: a command to create the flow only when
/// the name is new, never for a typo or an id.
fn missing(
    absent: &Absent,
    name: &str,
    wanted: FlowType,
    create: String,
) -> (String, Option<String>) {
    let detail = absent.message(name, wanted);
    let fix = match absent {
        Absent::New => create,
        other => other.hint(wanted, &create),
    };
    (detail, Some(fix))
}

pub async fn verify(client: &Client, spec: &Spec) -> Result<Report> {
    let mut checks = Vec::new();
    let mut everything = Everything {
        client,
        flows: None,
    };

    // Each module once.
    let mut modules: HashMap<String, Flow> = HashMap::new();
    for name in unique(spec.parents.iter().flat_map(|p| p.modules.iter())) {
        let subject = format!("common module '{name}'");
        let found = lookup(client, &name, FlowType::CommonModule).await?;
        let fix = |n: &str, d: Option<&str>| Some(spec.fix.module(n, d));
        let kind = Kind {
            flow_type: FlowType::CommonModule,
            article: "a",
            noun: "common module",
        };
        let absent = match found {
            Lookup::Missing => {
                let a = everything.absent(&name, FlowType::CommonModule).await?;
                missing(
                    &a,
                    &name,
                    FlowType::CommonModule,
                    spec.fix.module(&name, None),
                )
            }
            _ => (String::new(), None),
        };
        if let Some(f) = presence(&mut checks, &subject, found, kind, absent, |f| {
            fix(&f.name, division_name(f))
        }) {
            modules.insert(name, f);
        }
    }

    // Each queue once.
    let mut queues: HashMap<String, Queue> = HashMap::new();
    for name in unique(spec.parents.iter().flat_map(|p| p.queues.iter())) {
        let subject = format!("queue '{name}'");
        match resolve::queue(client, &name).await {
            Ok(queue) => {
                checks.push(check(
                    &subject,
                    "exists",
                    CheckStatus::Pass,
                    queue.id.clone(),
                    None,
                ));
                queues.insert(name, queue);
            }
            Err(e @ Error::Input { .. }) => {
                let fix = e.hint();
                checks.push(check(
                    &subject,
                    "exists",
                    CheckStatus::Fail,
                    e.to_string(),
                    fix,
                ));
            }
            Err(e) => return Err(e),
        }
    }

    // Everything else the parents reference, each once.
    let others = resolve_others(client, spec, &mut checks).await?;

    // The parents, looked up concurrently.
    // Many parents: one paged listing instead of a search per parent.
    let parent_types: Vec<FlowType> = {
        let set: std::collections::BTreeSet<FlowType> =
            spec.parents.iter().map(|p| p.flow_type).collect();
        set.into_iter().collect()
    };
    let listed: Option<HashMap<(FlowType, String), Flow>> = if spec.parents.len() > MANY {
        Some(
            client
                .list_flows(&parent_types)
                .await?
                .into_iter()
                .map(|f| ((f.flow_type, f.name.clone()), f))
                .collect(),
        )
    } else {
        None
    };
    let lookups: Vec<(&ParentSpec, Result<Lookup>)> = stream::iter(spec.parents.iter())
        .map(|p| {
            let listed = listed.as_ref();
            async move {
                let found = match listed {
                    Some(by_name) if !is_uuid(&p.parent) => {
                        Ok(match by_name.get(&(p.flow_type, p.parent.clone())) {
                            Some(f) => Lookup::Found(f.clone()),
                            None => Lookup::Missing,
                        })
                    }
                    _ => lookup(client, &p.parent, p.flow_type).await,
                };
                (p, found)
            }
        })
        .buffered(8)
        .collect()
        .await;
    let mut parents = Vec::new();
    for (p, found) in lookups {
        let subject = format!("parent '{}'", p.parent);
        let found = found?;
        let absent = match found {
            Lookup::Missing => {
                let a = everything.absent(&p.parent, p.flow_type).await?;
                let create = spec.fix.parent(&p.parent, &p.modules, &Known::default());
                missing(&a, &p.parent, p.flow_type, create)
            }
            _ => (String::new(), None),
        };
        let kind = match p.flow_type {
            FlowType::InboundCall => Kind {
                flow_type: FlowType::InboundCall,
                article: "an",
                noun: "inbound call flow",
            },
            other => Kind {
                flow_type: other,
                article: "a",
                noun: "flow of that type",
            },
        };
        let fix_unpublished = |f: &Flow| {
            Some(spec.fix.parent(
                &p.parent,
                &p.modules,
                &Known {
                    queue: None,
                    division: division_name(f).map(str::to_string),
                    own_content: false,
                },
            ))
        };
        if let Some(f) = presence(&mut checks, &subject, found, kind, absent, fix_unpublished) {
            let version = f
                .published_version
                .as_ref()
                .map(|v| v.id.clone())
                .unwrap_or_default();
            parents.push(Parent {
                spec: p,
                subject,
                flow: f,
                version,
            });
        }
    }

    let found = Found {
        modules: &modules,
        queues: &queues,
        others: &others,
    };
    checks.extend(links(client, found, &parents, spec).await?);
    Ok(Report::from_checks(checks))
}

fn division_name(f: &Flow) -> Option<&str> {
    f.division.as_ref().and_then(|d| d.name.as_deref())
}

/// A referenced thing found in the org: its id, dependency-tracking type and report label.
#[derive(Debug, Clone)]
struct Other {
    id: String,
    object_type: String,
    label: String,
}

/// Looks up each reference of the parents once (a listing per resource kind, a search per
/// flow), with an `exists` check each. References whose kind dependency tracking cannot
/// show are left out.
async fn resolve_others(
    client: &Client,
    spec: &Spec,
    checks: &mut Vec<Check>,
) -> Result<HashMap<(RefKind, String), Other>> {
    let mut out = HashMap::new();
    let mut listings: HashMap<RefKind, Vec<crate::models::EntityRef>> = HashMap::new();
    let wanted: std::collections::BTreeSet<(RefKind, String)> = spec
        .parents
        .iter()
        .flat_map(|p| p.others.iter().map(|r| (r.kind, r.name.clone())))
        .collect();
    for (kind, name) in wanted {
        let subject = format!("{} '{name}'", kind.noun());
        let found: Option<Other> = if kind.is_flow() {
            let flows = match kind.flow_type() {
                Some(t) => client.find_flows_by_name(&name, t).await?,
                None => client.find_flows_any_type(&name).await?,
            };
            flows
                .into_iter()
                .find(|f| f.published_version.is_some())
                .and_then(|f| {
                    Some(Other {
                        object_type: f.flow_type.object_type()?.to_string(),
                        id: f.id,
                        label: format!("uses {} '{name}'", kind.noun()),
                    })
                })
        } else {
            let list = match listings.get(&kind) {
                Some(l) => l,
                None => {
                    let l = client.list_referenced(kind).await?;
                    listings.entry(kind).or_insert(l)
                }
            };
            list.iter()
                .find(|e| e.name.as_deref() == Some(name.as_str()))
                .and_then(|e| {
                    Some(Other {
                        id: e.id.clone()?,
                        object_type: kind.resource_type()?.to_string(),
                        label: format!("uses {} '{name}'", kind.noun()),
                    })
                })
        };
        match found {
            Some(o) => {
                checks.push(check(
                    &subject,
                    "exists",
                    CheckStatus::Pass,
                    o.id.clone(),
                    None,
                ));
                out.insert((kind, name), o);
            }
            None => checks.push(check(
                &subject,
                "exists",
                CheckStatus::Fail,
                if kind.is_flow() {
                    format!("no published {} with this name", kind.noun())
                } else {
                    format!("no {} with this name in the org", kind.noun())
                },
                None,
            )),
        }
    }
    Ok(out)
}

/// What the parents' links point at, as found in the org.
#[derive(Clone, Copy)]
struct Found<'a> {
    modules: &'a HashMap<String, Flow>,
    queues: &'a HashMap<String, Queue>,
    others: &'a HashMap<(RefKind, String), Other>,
}

/// The consumers of every link target, by target and then by consuming flow id.
#[derive(Default)]
struct Consumers {
    modules: HashMap<String, HashMap<String, Dependency>>,
    queues: HashMap<String, HashMap<String, Dependency>>,
    others: HashMap<(RefKind, String), HashMap<String, Dependency>>,
}

/// The kind of flow a check expects, as the report words it.
#[derive(Clone, Copy)]
struct Kind {
    flow_type: FlowType,
    article: &'static str,
    noun: &'static str,
}

/// The `exists`, `is a ...` and `published` checks of one looked-up flow; returns the flow
/// when it exists, has the expected type and is published.
fn presence(
    checks: &mut Vec<Check>,
    subject: &str,
    found: Lookup,
    kind: Kind,
    (missing_detail, fix_missing): (String, Option<String>),
    fix_unpublished: impl FnOnce(&Flow) -> Option<String>,
) -> Option<Flow> {
    let Kind {
        flow_type,
        article,
        noun,
    } = kind;
    match found {
        Lookup::Missing => {
            checks.push(check(
                subject,
                "exists",
                CheckStatus::Fail,
                missing_detail,
                fix_missing,
            ));
            None
        }
        Lookup::WrongType(f) => {
            checks.push(check(
                subject,
                &format!("is {article} {noun}"),
                CheckStatus::Fail,
                format!(
                    "'{}' is {}, not {article} {noun}",
                    f.name,
                    crate::output::a_type_name(f.flow_type),
                ),
                None,
            ));
            None
        }
        Lookup::Found(f) => {
            checks.push(check(
                subject,
                "exists",
                CheckStatus::Pass,
                format!("{} {}", crate::output::type_name(flow_type), f.id),
                None,
            ));
            match &f.published_version {
                Some(v) => {
                    checks.push(check(
                        subject,
                        "published",
                        CheckStatus::Pass,
                        format!("version {}", v.id),
                        None,
                    ));
                    Some(f)
                }
                None => {
                    let fix = fix_unpublished(&f);
                    checks.push(check(
                        subject,
                        "published",
                        CheckStatus::Fail,
                        "never published",
                        fix,
                    ));
                    None
                }
            }
        }
    }
}

enum Lookup {
    Missing,
    WrongType(Flow),
    Found(Flow),
}

async fn lookup(client: &Client, name_or_id: &str, flow_type: FlowType) -> Result<Lookup> {
    if is_uuid(name_or_id) {
        return Ok(match client.get_flow(name_or_id).await? {
            None => Lookup::Missing,
            Some(f) if f.flow_type != flow_type => Lookup::WrongType(f),
            Some(f) => Lookup::Found(f),
        });
    }
    Ok(
        match client
            .find_flows_by_name(name_or_id, flow_type)
            .await?
            .into_iter()
            .next()
        {
            Some(f) => Lookup::Found(f),
            None => Lookup::Missing,
        },
    )
}

/// What dependency tracking says about one link, from both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Both sides show it.
    Both,
    /// Neither side shows it.
    Neither,
    /// Only one side shows it (the index is mid-update, or inconsistent).
    OneSide,
    /// An entity is marked `stateUnknown`.
    StateUnknown,
}

fn link(
    consumed: &[Dependency],
    target_id: &str,
    consumers: &HashMap<String, Dependency>,
    parent_id: &str,
) -> Link {
    let forward = consumed.iter().find(|d| d.id == target_id);
    let backward = consumers.get(parent_id);
    if forward.is_some_and(|d| d.state_unknown == Some(true))
        || backward.is_some_and(|d| d.state_unknown == Some(true))
    {
        return Link::StateUnknown;
    }
    match (forward.is_some(), backward.is_some()) {
        (true, true) => Link::Both,
        (false, false) => Link::Neither,
        _ => Link::OneSide,
    }
}

/// One link to check: a parent and a module or queue it must reference.
struct Target<'a> {
    id: &'a str,
    label: String,
    /// The target's consumers, by flow id (from `consumingresources`).
    consumers: &'a HashMap<String, Dependency>,
}

/// The link checks, waiting up to `spec.wait` for the dependency index to catch up. The
/// consumers of each module and queue are read with one paged query each; each parent's
/// consumed resources with one query, asked again only while its links are missing.
async fn links(
    client: &Client,
    found: Found<'_>,
    parents: &[Parent<'_>],
    spec: &Spec,
) -> Result<Vec<Check>> {
    let Found {
        modules, queues, ..
    } = found;
    // What a parent's published version is asked to have consumed: every kind of
    // reference, and the flows it may transfer to.
    let consumed_types = [
        crate::flow::REFERENCE_TYPES,
        crate::flow::TRANSFER_TARGET_TYPES,
    ]
    .concat();
    let consumed_types = consumed_types.as_slice();
    // Checked, and at most a day (as `--wait` allows): `Instant + u64::MAX s` panics.
    let now = Instant::now();
    let deadline = now
        .checked_add(spec.wait.min(Duration::from_secs(86_400)))
        .unwrap_or(now);
    let mut delay = Duration::from_millis(250);
    // parent id -> links in the order of its spec (modules, then queues)
    let mut state: HashMap<String, Vec<Link>> = HashMap::new();
    // parent id -> the queues its published version transfers to (for its fix command)
    let mut queues_used: HashMap<String, Vec<String>> = HashMap::new();
    // parent id -> how many common modules its published version calls
    let mut modules_used: HashMap<String, usize> = HashMap::new();
    let settled =
        |links: Option<&Vec<Link>>| links.is_some_and(|l| l.iter().all(|x| *x == Link::Both));
    let mut build_status;
    let _waiting = crate::progress::waiting("the dependency index to show every link", spec.wait);
    let mut consumers: Consumers;
    loop {
        build_status = client.dependency_build_status().await?.status;
        consumers = Consumers::default();
        for (name, m) in modules {
            let c = client.module_callers(&m.id).await?;
            consumers.modules.insert(
                name.clone(),
                c.into_iter().map(|d| (d.id.clone(), d)).collect(),
            );
        }
        for (name, q) in queues {
            let c = client
                .consuming_resources(&q.id, "QUEUE", Some("published"))
                .await?;
            consumers.queues.insert(
                name.clone(),
                c.into_iter().map(|d| (d.id.clone(), d)).collect(),
            );
        }
        for (key, o) in found.others {
            let c = client
                .consuming_resources(&o.id, &o.object_type, Some("published"))
                .await?;
            consumers.others.insert(
                key.clone(),
                c.into_iter().map(|d| (d.id.clone(), d)).collect(),
            );
        }
        // With many parents, one whose published version every target's (paged) consumer
        // list already shows passes without a query of its own; the others are asked from
        // their side too, to tell "one side only" from "neither".
        let mut pending: Vec<&Parent> = Vec::new();
        let unsettled: Vec<&Parent> = parents
            .iter()
            .filter(|p| !settled(state.get(&p.flow.id)))
            .collect();
        for p in unsettled {
            let targets = targets(p, found, &consumers);
            let seen_by_all = targets.iter().all(|t| {
                t.as_ref().is_some_and(|t| {
                    t.consumers.get(&p.flow.id).is_some_and(|d| {
                        d.version.as_deref() == Some(p.version.as_str())
                            && d.state_unknown != Some(true)
                    })
                })
            });
            if parents.len() > MANY && seen_by_all {
                state.insert(p.flow.id.clone(), vec![Link::Both; targets.len()]);
            } else {
                pending.push(p);
            }
        }
        let consumed: Vec<(&Parent, Result<Vec<Dependency>>)> = stream::iter(pending)
            .map(|p| async move {
                let r = client
                    .consumed_resources(
                        &p.flow.id,
                        &p.version,
                        p.flow.flow_type.object_type().unwrap_or_default(),
                        consumed_types,
                    )
                    .await
                    .map_err(Error::from);
                (p, r)
            })
            .buffered(8)
            .collect()
            .await;
        for (p, deps) in consumed {
            let deps = deps?;
            modules_used.insert(
                p.flow.id.clone(),
                deps.iter()
                    .filter(|d| d.object_type.as_deref() == Some("COMMONMODULEFLOW"))
                    .count(),
            );
            queues_used.insert(
                p.flow.id.clone(),
                deps.iter()
                    .filter(|d| d.object_type.as_deref() == Some("QUEUE"))
                    .filter_map(|d| d.name.clone())
                    .collect(),
            );
            let links = targets(p, found, &consumers)
                .iter()
                .map(|t| match t {
                    Some(t) => link(&deps, t.id, t.consumers, &p.flow.id),
                    None => Link::Neither,
                })
                .collect();
            state.insert(p.flow.id.clone(), links);
        }
        let all_settled = parents.iter().all(|p| settled(state.get(&p.flow.id)));
        if (all_settled && build_status == "OPERATIONAL") || Instant::now() >= deadline {
            break;
        }
        tracing::info!(build_status, "waiting for the dependency index");
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(delay.min(left)).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }

    let operational = build_status == "OPERATIONAL";
    let mut checks = Vec::new();
    for p in parents {
        // The one queue the parent transfers to today; several (or none) leave it open.
        let queue = match queues_used.get(&p.flow.id).map(Vec::as_slice) {
            Some([one]) => Some(one.clone()),
            _ => None,
        };
        let flowctl_made = p
            .flow
            .description
            .as_deref()
            .and_then(crate::flow::content_marker)
            .is_some();
        let known = Known {
            queue,
            division: division_name(&p.flow).map(str::to_string),
            own_content: !flowctl_made || modules_used.get(&p.flow.id).is_some_and(|n| *n > 1),
        };
        let fix = spec.fix.parent(&p.spec.parent, &p.spec.modules, &known);
        let links = state.get(&p.flow.id).cloned().unwrap_or_default();
        let targets = targets(p, found, &consumers);
        for (i, target) in targets.iter().enumerate() {
            // A module or queue that does not exist already failed on its own line.
            let Some(target) = target else { continue };
            let l = links.get(i).copied().unwrap_or(Link::Neither);
            checks.push(link_check(
                &p.subject,
                &target.label,
                l,
                operational,
                &build_status,
                &p.version,
                spec.wait,
                &fix,
            ));
        }
        for name in &p.spec.modules {
            let Some(module) = modules.get(name) else {
                continue;
            };
            let module_published_at = module
                .published_version
                .as_ref()
                .and_then(|v| v.date_published.clone());
            let check_name = format!("up to date with common module '{}'", module.name);
            if is_stale(&p.flow, module_published_at.as_deref()) {
                checks.push(check(&p.subject, &check_name, CheckStatus::Fail,
                    format!(
                        "stale: version {} was published before the common module's latest publish ({}), so it still runs the old copy",
                        p.version,
                        module_published_at.as_deref().unwrap_or("?")
                    ),
                    Some(fix.clone())));
            } else {
                checks.push(check(
                    &p.subject,
                    &check_name,
                    CheckStatus::Pass,
                    "published after the common module's latest publish",
                    None,
                ));
            }
        }
    }
    Ok(checks)
}

/// The parent's links in spec order: its modules, then its queues (`None` where the module
/// or queue itself was not found).
fn targets<'a>(
    p: &Parent<'_>,
    found: Found<'a>,
    consumers: &'a Consumers,
) -> Vec<Option<Target<'a>>> {
    let mods = p.spec.modules.iter().map(|name| {
        found
            .modules
            .get(name)
            .zip(consumers.modules.get(name))
            .map(|(m, c)| Target {
                id: &m.id,
                label: format!("calls common module '{}'", m.name),
                consumers: c,
            })
    });
    let qs = p.spec.queues.iter().map(|name| {
        found
            .queues
            .get(name)
            .zip(consumers.queues.get(name))
            .map(|(q, c)| Target {
                id: &q.id,
                label: format!("transfers to queue '{}'", q.name),
                consumers: c,
            })
    });
    let others = p.spec.others.iter().map(|r| {
        let key = (r.kind, r.name.clone());
        found
            .others
            .get(&key)
            .zip(consumers.others.get(&key))
            .map(|(o, c)| Target {
                id: &o.id,
                label: o.label.clone(),
                consumers: c,
            })
    });
    mods.chain(qs).chain(others).collect()
}

#[allow(clippy::too_many_arguments)]
fn link_check(
    subject: &str,
    name: &str,
    link: Link,
    operational: bool,
    build_status: &str,
    version: &str,
    wait: Duration,
    fix: &str,
) -> Check {
    let unknown_fix = Some(format!(
        "run verify again later, or raise --wait (now {} s)",
        wait.as_secs()
    ));
    match link {
        Link::Both => check(
            subject,
            name,
            CheckStatus::Pass,
            format!("version {version} (both directions of dependency tracking)"),
            None,
        ),
        Link::StateUnknown => check(
            subject,
            name,
            CheckStatus::Unknown,
            "dependency tracking marks the entity stateUnknown",
            unknown_fix,
        ),
        _ if !operational => check(
            subject,
            name,
            CheckStatus::Unknown,
            format!("the dependency index is {build_status}, so a missing link proves nothing yet"),
            unknown_fix,
        ),
        Link::OneSide => check(
            subject,
            name,
            CheckStatus::Unknown,
            "dependency tracking shows the link from one side only",
            unknown_fix,
        ),
        Link::Neither => check(
            subject,
            name,
            CheckStatus::Fail,
            format!("published version {version} does not reference it"),
            Some(fix.to_string()),
        ),
    }
}

pub fn print_report(report: &Report, out: Printer) {
    match out.format {
        OutputFormat::Json => out.json(report),
        OutputFormat::Junit => out.raw(&junit(report)),
        OutputFormat::Text | OutputFormat::Markdown => {
            let colour = crate::output::colour_stdout();
            for c in &report.checks {
                let tag = crate::output::status_tag(
                    match c.status {
                        CheckStatus::Pass => "PASS",
                        CheckStatus::Fail => "FAIL",
                        CheckStatus::Unknown => "UNKNOWN",
                    },
                    colour,
                );
                out.tagged_line(&tag, format!("{}: {}: {}", c.subject, c.check, c.detail));
                if let (Some(fix), false) = (&c.fix, c.status == CheckStatus::Pass) {
                    out.line(format!("        fix: {fix}"));
                }
            }
            out.line(format!(
                "verify: {} checks passed, {} failed, {} unknown",
                report.passed, report.failed, report.unknown
            ));
        }
    }
}

/// JUnit XML: one testcase per check; a failed or unknown check is a `<failure>` whose
/// `type` says which, so CI shows both as red (flowctl exits 1 for both).
pub fn junit(report: &Report) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report.failed + report.unknown;
    xml.push_str(&format!(
        "<testsuites name=\"flowctl verify\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"flowctl verify\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        report.checks.len(),
        report.checks.len()
    ));
    for c in &report.checks {
        xml.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&c.subject),
            xml_escape(&c.check)
        ));
        match c.status {
            CheckStatus::Pass => xml.push_str("/>\n"),
            status => {
                let kind = if status == CheckStatus::Fail {
                    "fail"
                } else {
                    "unknown"
                };
                let mut body = c.detail.clone();
                if let Some(fix) = &c.fix {
                    body.push_str(&format!("\nfix: {fix}"));
                }
                xml.push_str(&format!(
                    ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(&c.detail),
                    xml_escape(&body)
                ));
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_not_a_pass() {
        let r = Report::from_checks(vec![
            check("a", "x", CheckStatus::Pass, "", None),
            check("b", "y", CheckStatus::Unknown, "", None),
        ]);
        assert!(!r.ok);
        assert_eq!((r.passed, r.failed, r.unknown), (1, 0, 1));
    }

    #[test]
    fn junit_marks_failures_and_unknowns_and_escapes() {
        let r = Report::from_checks(vec![
            check("parent 'A&B'", "exists", CheckStatus::Pass, "", None),
            check(
                "parent 'C'",
                "calls <x>",
                CheckStatus::Fail,
                "missing",
                Some("flowctl create-parent".into()),
            ),
            check("parent 'D'", "calls", CheckStatus::Unknown, "index", None),
        ]);
        let xml = junit(&r);
        assert!(xml.contains("classname=\"parent &apos;A&amp;B&apos;\""));
        assert!(xml.contains("name=\"calls &lt;x&gt;\""));
        assert!(xml.contains("<failure type=\"fail\" message=\"missing\">missing\nfix: flowctl create-parent</failure>"));
        assert!(xml.contains("<failure type=\"unknown\""));
        assert!(xml.contains("tests=\"3\" failures=\"2\""));
    }

    #[test]
    fn a_link_seen_from_one_side_only_is_not_both() {
        let dep = |id: &str| Dependency {
            id: id.into(),
            name: None,
            version: None,
            object_type: None,
            deleted: None,
            updated: None,
            state_unknown: None,
            self_uri: None,
        };
        let consumers: HashMap<String, Dependency> = [("p".to_string(), dep("p"))].into();
        assert_eq!(link(&[dep("m")], "m", &consumers, "p"), Link::Both);
        assert_eq!(link(&[], "m", &consumers, "p"), Link::OneSide);
        assert_eq!(link(&[], "m", &HashMap::new(), "p"), Link::Neither);
        let mut unknown = dep("m");
        unknown.state_unknown = Some(true);
        assert_eq!(link(&[unknown], "m", &consumers, "p"), Link::StateUnknown);
    }
}

//! The checks: each module, queue, referenced object and parent looked up once, with
//! its `exists`, `is a ...` and `published` checks; then the links (see `links`).

use super::links::links;
use super::spec::{Known, ParentSpec, Spec};
use crate::client::Client;
use crate::commands::resolve::{self, is_uuid, Absent, Lookup};
use crate::error::{Error, Result};
use crate::flow::RefKind;
use crate::models::{Flow, FlowType, Queue};
use crate::output::verify::{check, Check, CheckStatus, Report};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;

/// Above this many parents, verify reads listings instead of asking about each parent.
pub(super) const MANY: usize = 20;

/// A parent as found in the org.
pub(super) struct Parent<'a> {
    pub(super) spec: &'a ParentSpec,
    pub(super) subject: String,
    pub(super) flow: Flow,
    pub(super) version: String,
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

pub(crate) async fn verify(client: &Client, spec: &Spec) -> Result<Report> {
    let mut checks = Vec::new();
    let mut everything = Everything {
        client,
        flows: None,
    };

    // Each module once.
    let mut modules: HashMap<String, Flow> = HashMap::new();
    for name in unique(spec.parents.iter().flat_map(|p| p.modules.iter())) {
        let subject = format!("common module '{name}'");
        let found = resolve::lookup(client, &name, FlowType::CommonModule).await?;
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
                    _ => resolve::lookup(client, &p.parent, p.flow_type).await,
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

pub(super) fn division_name(f: &Flow) -> Option<&str> {
    f.division.as_ref().and_then(|d| d.name.as_deref())
}

/// A referenced thing found in the org: its id, dependency-tracking type and report label.
#[derive(Debug, Clone)]
pub(super) struct Other {
    pub(super) id: String,
    pub(super) object_type: String,
    pub(super) label: String,
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
pub(super) struct Found<'a> {
    pub(super) modules: &'a HashMap<String, Flow>,
    pub(super) queues: &'a HashMap<String, Queue>,
    pub(super) others: &'a HashMap<(RefKind, String), Other>,
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

//! Reading the links: what each parent's published version consumes and what consumes
//! each module, queue or other object (dependency tracking, from both sides), waited for
//! until the index catches up, and the link checks made of them.

use super::checks::{division_name, Found, Parent, MANY};
use super::spec::{Known, Spec};
use crate::client::Client;
use crate::commands::publish::is_stale;
use crate::error::{Error, Result};
use crate::flow::RefKind;
use crate::models::Dependency;
use crate::output::verify::{check, Check, CheckStatus};
use futures::stream::{self, StreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The consumers of every link target, by target and then by consuming flow id.
#[derive(Default)]
pub(super) struct Consumers {
    modules: HashMap<String, HashMap<String, Dependency>>,
    queues: HashMap<String, HashMap<String, Dependency>>,
    others: HashMap<(RefKind, String), HashMap<String, Dependency>>,
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
pub(super) async fn links(
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
        target(found.modules, &consumers.modules, name, |m| {
            (&m.id, format!("calls common module '{}'", m.name))
        })
    });
    let qs = p.spec.queues.iter().map(|name| {
        target(found.queues, &consumers.queues, name, |q| {
            (&q.id, format!("transfers to queue '{}'", q.name))
        })
    });
    let others = p.spec.others.iter().map(|r| {
        let key = (r.kind, r.name.clone());
        target(found.others, &consumers.others, &key, |o| {
            (&o.id, o.label.clone())
        })
    });
    mods.chain(qs).chain(others).collect()
}

/// The link to `key`, when both the thing itself and its consumers were found; `id_label`
/// gives its id and how the report names the link.
fn target<'a, K: Eq + std::hash::Hash, V>(
    found: &'a HashMap<K, V>,
    consumers: &'a HashMap<K, HashMap<String, Dependency>>,
    key: &K,
    id_label: impl FnOnce(&'a V) -> (&'a str, String),
) -> Option<Target<'a>> {
    let (thing, consumers) = found.get(key).zip(consumers.get(key))?;
    let (id, label) = id_label(thing);
    Some(Target {
        id,
        label,
        consumers,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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

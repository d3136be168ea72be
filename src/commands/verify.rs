//! `flowctl verify`: is every parent flow published, and does its published version really
//! call the shared flow (and transfer to the queue), according to dependency tracking?
//!
//! Each link is checked from both sides: the parent's `consumedresources` and the module's
//! (or queue's) `consumingresources`. The dependency index lags a publish, so missing links
//! are retried until `--wait` runs out; if the index is not `OPERATIONAL` by then, or an
//! entity is `stateUnknown`, the check is *unknown*, never a pass. A parent published
//! before the module's latest publish is *stale*: it still runs the old copy.

use super::publish::is_stale;
use super::resolve::{self, is_uuid};
use super::Session;
use crate::cli::{GlobalArgs, OutputFormat, VerifyArgs};
use crate::client::Client;
use crate::error::{Error, Result};
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
    let session = Session::connect(global).await?;
    let result = verify(&session.client, args).await;
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

/// A parent as found in the org, with the checks already made on it.
struct Parent {
    label: String,
    flow: Flow,
    version: String,
}

pub async fn verify(client: &Client, args: &VerifyArgs) -> Result<Report> {
    let mut checks = Vec::new();

    // The module.
    let module_subject = format!("shared flow '{}'", args.shared);
    let module = lookup(client, &args.shared, FlowType::CommonModule).await?;
    let module = match module {
        Lookup::Missing => {
            checks.push(check(
                &module_subject,
                "exists",
                CheckStatus::Fail,
                "no common module with this name or id",
                Some(format!("flowctl create-shared --name \"{}\"", args.shared)),
            ));
            None
        }
        Lookup::WrongType(f) => {
            checks.push(check(
                &module_subject,
                "is a common module",
                CheckStatus::Fail,
                format!("'{}' is a {}, not a COMMONMODULE", f.name, f.flow_type),
                None,
            ));
            None
        }
        Lookup::Found(f) => {
            checks.push(check(
                &module_subject,
                "exists",
                CheckStatus::Pass,
                format!("COMMONMODULE {}", f.id),
                None,
            ));
            match &f.published_version {
                Some(v) => {
                    checks.push(check(
                        &module_subject,
                        "published",
                        CheckStatus::Pass,
                        format!("version {}", v.id),
                        None,
                    ));
                    Some(f)
                }
                None => {
                    checks.push(check(
                        &module_subject,
                        "published",
                        CheckStatus::Fail,
                        "never published",
                        Some(format!("flowctl create-shared --name \"{}\"", f.name)),
                    ));
                    None
                }
            }
        }
    };

    // The queue.
    let queue: Option<Queue> = match &args.queue {
        None => None,
        Some(q) => {
            let subject = format!("queue '{q}'");
            match resolve::queue(client, q).await {
                Ok(queue) => {
                    checks.push(check(
                        &subject,
                        "exists",
                        CheckStatus::Pass,
                        queue.id.clone(),
                        None,
                    ));
                    Some(queue)
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
                    None
                }
                Err(e) => return Err(e),
            }
        }
    };

    // The parents, looked up concurrently.
    let lookups: Vec<(String, Result<Lookup>)> = stream::iter(args.parents.iter())
        .map(|p| async move { (p.clone(), lookup(client, p, FlowType::InboundCall).await) })
        .buffered(8)
        .collect()
        .await;
    let mut parents = Vec::new();
    for (label, found) in lookups {
        let subject = format!("parent '{label}'");
        match found? {
            Lookup::Missing => checks.push(check(
                &subject,
                "exists",
                CheckStatus::Fail,
                "no inbound call flow with this name or id",
                Some(fix_command(&label, args)),
            )),
            Lookup::WrongType(f) => checks.push(check(
                &subject,
                "is an inbound call flow",
                CheckStatus::Fail,
                format!("'{}' is a {}, not an INBOUNDCALL", f.name, f.flow_type),
                None,
            )),
            Lookup::Found(f) => {
                checks.push(check(
                    &subject,
                    "exists",
                    CheckStatus::Pass,
                    format!("INBOUNDCALL {}", f.id),
                    None,
                ));
                match f.published_version.clone() {
                    None => checks.push(check(
                        &subject,
                        "published",
                        CheckStatus::Fail,
                        "never published",
                        Some(fix_command(&f.name, args)),
                    )),
                    Some(v) => {
                        checks.push(check(
                            &subject,
                            "published",
                            CheckStatus::Pass,
                            format!("version {}", v.id),
                            None,
                        ));
                        parents.push(Parent {
                            label,
                            flow: f,
                            version: v.id,
                        });
                    }
                }
            }
        }
    }

    if let Some(module) = &module {
        checks.extend(links(client, module, queue.as_ref(), &parents, args).await?);
    }
    Ok(Report::from_checks(checks))
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

fn fix_command(parent: &str, args: &VerifyArgs) -> String {
    format!(
        "flowctl create-parent --name \"{parent}\" --shared \"{}\" --queue \"{}\"",
        args.shared,
        args.queue.as_deref().unwrap_or("QUEUE")
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

/// The link checks, waiting up to `--wait` for the dependency index to catch up.
async fn links(
    client: &Client,
    module: &Flow,
    queue: Option<&Queue>,
    parents: &[Parent],
    args: &VerifyArgs,
) -> Result<Vec<Check>> {
    let module_object = FlowType::CommonModule.object_type();
    let parent_object = FlowType::InboundCall.object_type();
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    let mut delay = Duration::from_millis(250);
    // parent id -> (module link, queue link)
    let mut state: HashMap<String, (Link, Option<Link>)> = HashMap::new();
    let mut build_status;
    loop {
        build_status = client.dependency_build_status().await?.status;
        let module_consumers: HashMap<String, Dependency> = client
            .consuming_resources(&module.id, &module_object, Some("published"))
            .await?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        let queue_consumers: Option<HashMap<String, Dependency>> = match queue {
            Some(q) => Some(
                client
                    .consuming_resources(&q.id, "QUEUE", Some("published"))
                    .await?
                    .into_iter()
                    .map(|d| (d.id.clone(), d))
                    .collect(),
            ),
            None => None,
        };
        // Only the parents not yet settled are asked again.
        let pending: Vec<&Parent> = parents
            .iter()
            .filter(|p| {
                !matches!(
                    state.get(&p.flow.id),
                    Some((Link::Both, None | Some(Link::Both)))
                )
            })
            .collect();
        let consumed: Vec<(String, Result<Vec<Dependency>>)> = stream::iter(pending)
            .map(|p| {
                let parent_object = parent_object.clone();
                async move {
                    let r = client
                        .consumed_resources(
                            &p.flow.id,
                            &p.version,
                            &parent_object,
                            &["COMMONMODULEFLOW", "QUEUE"],
                        )
                        .await
                        .map_err(Error::from);
                    (p.flow.id.clone(), r)
                }
            })
            .buffered(8)
            .collect()
            .await;
        for (id, deps) in consumed {
            let deps = deps?;
            let m = link(&deps, &module.id, &module_consumers, &id);
            let q = match (queue, &queue_consumers) {
                (Some(q), Some(qc)) => Some(link(&deps, &q.id, qc, &id)),
                _ => None,
            };
            state.insert(id, (m, q));
        }
        let settled = parents.iter().all(|p| {
            matches!(
                state.get(&p.flow.id),
                Some((Link::Both, None | Some(Link::Both)))
            )
        });
        if (settled && build_status == "OPERATIONAL") || Instant::now() >= deadline {
            break;
        }
        tracing::info!(build_status, "waiting for the dependency index");
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(delay.min(left)).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }

    let operational = build_status == "OPERATIONAL";
    let module_published_at = module
        .published_version
        .as_ref()
        .and_then(|v| v.date_published.clone());
    let mut checks = Vec::new();
    for p in parents {
        let subject = format!("parent '{}'", p.label);
        let (m, q) = state
            .get(&p.flow.id)
            .copied()
            .unwrap_or((Link::Neither, None));
        checks.push(link_check(
            &subject,
            &format!("calls shared flow '{}'", module.name),
            m,
            operational,
            &build_status,
            p,
            args,
        ));
        if let (Some(q), Some(queue)) = (q, queue) {
            checks.push(link_check(
                &subject,
                &format!("transfers to queue '{}'", queue.name),
                q,
                operational,
                &build_status,
                p,
                args,
            ));
        }
        if m == Link::Both {
            if is_stale(&p.flow, module_published_at.as_deref()) {
                checks.push(check(&subject, "up to date with the shared flow", CheckStatus::Fail,
                    format!(
                        "stale: version {} was published before the shared flow's latest publish ({}), so it still runs the old copy",
                        p.version,
                        module_published_at.as_deref().unwrap_or("?")
                    ),
                    Some(fix_command(&p.flow.name, args))));
            } else {
                checks.push(check(
                    &subject,
                    "up to date with the shared flow",
                    CheckStatus::Pass,
                    "published after the shared flow's latest publish",
                    None,
                ));
            }
        }
    }
    Ok(checks)
}

fn link_check(
    subject: &str,
    name: &str,
    link: Link,
    operational: bool,
    build_status: &str,
    p: &Parent,
    args: &VerifyArgs,
) -> Check {
    let unknown_fix = Some(format!(
        "run verify again later, or raise --wait (now {} s)",
        args.wait
    ));
    match link {
        Link::Both => check(
            subject,
            name,
            CheckStatus::Pass,
            format!(
                "version {} (both directions of dependency tracking)",
                p.version
            ),
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
            format!("published version {} does not reference it", p.version),
            Some(fix_command(&p.flow.name, args)),
        ),
    }
}

pub fn print_report(report: &Report, out: Printer) {
    match out.format {
        OutputFormat::Json => out.json(report),
        OutputFormat::Junit => out.raw(&junit(report)),
        OutputFormat::Text => {
            for c in &report.checks {
                let tag = match c.status {
                    CheckStatus::Pass => "PASS   ",
                    CheckStatus::Fail => "FAIL   ",
                    CheckStatus::Unknown => "UNKNOWN",
                };
                out.line(format!("{tag} {}: {}: {}", c.subject, c.check, c.detail));
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

//! `flowctl verify -f MANIFEST --paths`: every path of each flow, offline. Where `verify`
//! proves that a flow *references* a module and a queue, this proves that calls *reach*
//! them: each path that ends the call (a transfer or a disconnect) has called the
//! manifest's modules the flow uses, each transfer goes to a queue the manifest names, and
//! no action is unreachable. With `--scenarios`, it says how many paths the scenarios walk.

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::error::Result;
use crate::models::FlowType;
use crate::output::verify::{check, CheckStatus, Report};
use crate::output::Printer;
use crate::walk::engine::Outcome;
use crate::walk::paths::{self, PathSet, MAX_PATHS};
use std::collections::BTreeSet;
use std::path::Path;

pub(super) fn run(path: &Path, args: &VerifyArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let manifest = crate::commands::load_manifest(path, &args.vars, global)?;
    let lib = crate::commands::test::library_of_manifest(&manifest)?;
    let scenarios = crate::commands::test::load_scenarios(&args.scenarios)?;
    let results = crate::commands::test::run_scenarios(&lib, &scenarios)?;
    let modules: BTreeSet<String> = manifest
        .module_names()
        .iter()
        .map(|m| m.to_string())
        .collect();
    let queues: BTreeSet<String> = manifest
        .items()
        .flat_map(|i| i.doc.queues.iter().cloned())
        .collect();
    let mut checks = Vec::new();
    let mut sets: Vec<(usize, PathSet)> = Vec::new();
    for item in manifest
        .items()
        .filter(|i| i.doc.flow_type != FlowType::CommonModule)
    {
        let Some(flow) = lib.find(&item.doc.name, Some(item.doc.flow_type)) else {
            continue;
        };
        let subject = format!("flow '{}'", item.doc.name);
        let set = paths::enumerate(&lib, flow, MAX_PATHS);
        let ending: Vec<_> = set
            .paths
            .iter()
            .filter(|w| paths::ends_the_call(w))
            .collect();
        let unknown: Vec<_> = set
            .paths
            .iter()
            .filter(|w| matches!(w.outcome, Outcome::Unknown(_)))
            .collect();
        let mut detail = format!(
            "{} path(s), {} ending in a transfer or disconnect, {} loop(s) cut",
            set.paths.len(),
            ending.len(),
            set.loops_cut
        );
        if let Some(u) = unknown.first() {
            detail.push_str(&format!(
                "; {} path(s) the walk cannot follow, first: {}",
                unknown.len(),
                u.outcome.describe()
            ));
        }
        let status = if set.truncated {
            detail.push_str(&format!(
                "; more than {MAX_PATHS} paths: only the first {MAX_PATHS} were checked"
            ));
            CheckStatus::Unknown
        } else if unknown.is_empty() {
            CheckStatus::Pass
        } else {
            CheckStatus::Unknown
        };
        checks.push(check(&subject, "paths", status, detail, None));

        for module in item.doc.modules.iter().filter(|m| modules.contains(*m)) {
            let missing: Vec<_> = ending
                .iter()
                .filter(|w| !w.calls.iter().any(|c| c.eq_ignore_ascii_case(module)))
                .collect();
            let (status, detail) = match missing.first() {
                None => (
                    CheckStatus::Pass,
                    format!(
                        "each of the {} path(s) that end the call calls it first",
                        ending.len()
                    ),
                ),
                Some(w) => (
                    CheckStatus::Fail,
                    format!(
                        "{} of {} path(s) end the call without calling it, e.g. {}",
                        missing.len(),
                        ending.len(),
                        paths::describe(&lib, w)
                    ),
                ),
            };
            checks.push(check(
                &subject,
                &format!("every path calls module '{module}'"),
                status,
                detail,
                None,
            ));
        }

        let mut bad = Vec::new();
        let mut dynamic = Vec::new();
        for w in &ending {
            if let Outcome::Transfer {
                kind: "queue",
                target,
                expression,
                ..
            } = &w.outcome
            {
                if target.is_empty() {
                    dynamic.push(expression.clone().unwrap_or_default());
                } else if !queues.iter().any(|q| q.eq_ignore_ascii_case(target)) {
                    bad.push((target.clone(), paths::describe(&lib, w)));
                }
            }
        }
        let (status, detail) = if let Some((q, how)) = bad.first() {
            (
                CheckStatus::Fail,
                format!("queue '{q}' is not a queue the manifest names: {how}"),
            )
        } else if let Some(e) = dynamic.first() {
            (
                CheckStatus::Unknown,
                format!("a transfer's queue is chosen at run time by `{e}`: not checkable offline"),
            )
        } else {
            (
                CheckStatus::Pass,
                format!(
                    "queues named: {}",
                    queues.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        };
        checks.push(check(
            &subject,
            "every transfer goes to a manifest queue",
            status,
            detail,
            None,
        ));
        sets.push((flow, set));
    }

    // Unreachable actions: of each flow, over the paths of every caller (a module's
    // actions are reached through the flows that call it).
    let all: Vec<&PathSet> = sets.iter().map(|(_, s)| s).collect();
    let any_unknown = all.iter().any(|s| {
        s.truncated
            || s.paths
                .iter()
                .any(|w| matches!(w.outcome, Outcome::Unknown(_)))
    });
    for (i, flow) in lib.flows.iter().enumerate() {
        let called = sets.iter().any(|(f, _)| *f == i)
            || all.iter().any(|s| {
                s.paths
                    .iter()
                    .any(|w| w.calls.iter().any(|c| c.eq_ignore_ascii_case(&flow.name)))
            });
        if !called {
            continue;
        }
        let dead = paths::unreachable(&lib, i, &all);
        let subject = format!("flow '{}'", flow.name);
        let (status, detail) = if dead.is_empty() {
            (
                CheckStatus::Pass,
                "every action is on some path".to_string(),
            )
        } else {
            let names: Vec<String> = dead
                .iter()
                .map(|d| {
                    let a = &lib.actions[*d];
                    format!("{} '{}' ({})", a.kind, a.name, a.place)
                })
                .collect();
            let status = if any_unknown {
                CheckStatus::Unknown
            } else {
                CheckStatus::Fail
            };
            (
                status,
                format!("{} unreachable action(s): {}", dead.len(), names.join(", ")),
            )
        };
        checks.push(check(
            &subject,
            "no unreachable actions",
            status,
            detail,
            None,
        ));
    }

    if !args.scenarios.is_empty() {
        for (flow, set) in &sets {
            let walked: Vec<_> = results
                .iter()
                .filter(|r| lib.find(&r.scenario.flow, None) == Some(*flow))
                .map(|r| &r.walk)
                .collect();
            let covered = paths::coverage(set, &walked);
            let total = set.paths.len();
            let percent = if total == 0 {
                0.0
            } else {
                covered as f64 * 100.0 / total as f64
            };
            checks.push(check(
                &format!("flow '{}'", lib.flows[*flow].name),
                "path coverage",
                CheckStatus::Pass,
                format!(
                    "{covered} of {total} path(s) walked by {} scenario(s) ({percent:.0}%)",
                    walked.len()
                ),
                None,
            ));
        }
    }
    super::report(&Report::from_checks(checks), out)
}

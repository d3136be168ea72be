//! Every path of a flow, bounded: the walk is run again with a different script of
//! choices for each path (a depth-first search over the branch points), so paths follow
//! exactly the rules scenario walks follow. A path that comes back to a task or menu it
//! already visited is cut there, and a loop's body runs once; both are counted.

use super::engine::{walk_script, Library, Outcome, Walk};
use std::collections::HashSet;

/// At most this many paths per flow are enumerated.
pub const MAX_PATHS: usize = 10_000;

/// The paths of one flow.
#[derive(Debug)]
pub struct PathSet {
    pub paths: Vec<Walk>,
    /// More paths exist than `max`: only the first `max` are here.
    pub truncated: bool,
    /// Loops cut and loop bodies run once, over all paths.
    pub loops_cut: usize,
}

/// Enumerates the paths of flow `flow`, at most `max`.
pub fn enumerate(lib: &Library, flow: usize, max: usize) -> PathSet {
    let mut paths = Vec::new();
    let mut loops_cut = 0;
    let mut truncated = false;
    let mut stack: Vec<Vec<usize>> = vec![Vec::new()];
    while let Some(script) = stack.pop() {
        if paths.len() >= max {
            truncated = true;
            break;
        }
        let (walk, options) = walk_script(lib, flow, script.clone());
        // The choices taken: the script's, then the first option at every later point.
        let taken: Vec<usize> = (0..options.len())
            .map(|i| {
                script
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .min(options[i].saturating_sub(1))
            })
            .collect();
        let mut alternatives = Vec::new();
        for pos in script.len()..options.len() {
            for alt in 1..options[pos] {
                let mut s = taken[..pos].to_vec();
                s.push(alt);
                alternatives.push(s);
            }
        }
        // Depth first, in the order the flow lists its options.
        stack.extend(alternatives.into_iter().rev());
        loops_cut += walk.loops_cut;
        paths.push(walk);
    }
    PathSet {
        paths,
        truncated,
        loops_cut,
    }
}

/// A path's identity: the branches it took.
pub fn key(walk: &Walk) -> String {
    walk.decisions.join("|")
}

/// How many of `set`'s paths the `walked` scenarios took.
pub fn coverage(set: &PathSet, walked: &[&Walk]) -> usize {
    let keys: HashSet<String> = walked.iter().map(|w| key(w)).collect();
    set.paths.iter().filter(|p| keys.contains(&key(p))).count()
}

/// A path in words: each branch taken, then where the call ends.
pub(crate) fn describe(lib: &Library, walk: &Walk) -> String {
    let mut parts: Vec<String> = walk
        .decisions
        .iter()
        .map(|d| {
            let (at, label) = d.rsplit_once(':').unwrap_or((d.as_str(), ""));
            let at = match at.parse::<usize>().ok().and_then(|i| lib.actions.get(i)) {
                Some(a) if !a.name.is_empty() => format!("'{}'", a.name),
                Some(a) => a.kind.clone(),
                None => at.to_string(),
            };
            format!("{at}: {label}")
        })
        .collect();
    parts.push(walk.outcome.describe());
    parts.join(" → ")
}

/// Ids of the actions of flow `flow` that no path runs (a hang-up kept after a transfer
/// aside: see [`super::engine::ActionInfo::after_transfer`]).
pub(crate) fn unreachable(lib: &Library, flow: usize, sets: &[&PathSet]) -> Vec<usize> {
    let seen: HashSet<usize> = sets
        .iter()
        .flat_map(|s| s.paths.iter())
        .flat_map(|w| w.visited.iter().copied())
        .collect();
    (0..lib.actions.len())
        .filter(|i| {
            let a = &lib.actions[*i];
            a.flow == flow && !a.after_transfer && !seen.contains(i)
        })
        .collect()
}

/// True when a path ends in a transfer or a disconnect (not cut, not unknown).
pub(crate) fn ends_the_call(walk: &Walk) -> bool {
    matches!(
        walk.outcome,
        Outcome::Transfer { .. } | Outcome::Disconnect { .. }
    )
}

//! The typed flow graph: the tutorial's nodes (Start, Play, Call shared flow, Queue, Hangup)
//! joined by `default` and `error` edges, and its validation, which reports every problem
//! at once with node ids, as a compiler does.

use crate::models::FlowType;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Longest name Genesys Cloud accepts for a flow.
pub(crate) const MAX_NAME: usize = 200;

/// What a Play node says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Prompt {
    /// Text-to-speech.
    Tts(String),
    /// A user prompt (media) by name, e.g. `WelcomeMessage`.
    Media(String),
}

/// A node of the flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum NodeKind {
    /// Where the flow begins.
    Start,
    /// Plays a prompt.
    Play { prompt: Prompt },
    /// Calls a shared flow (common module) and continues when it returns.
    CallModule { module: String },
    /// Transfers the caller to an ACD queue.
    Queue { queue: String },
    /// Ends the call (in a module: returns to the caller).
    Hangup,
}

impl NodeKind {
    /// Nodes after which nothing runs.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self, NodeKind::Hangup)
    }

    /// Nodes that can fail, and so may have an `error` edge.
    pub(crate) fn can_fail(&self) -> bool {
        matches!(self, NodeKind::CallModule { .. } | NodeKind::Queue { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// Unique within the graph; used in messages.
    pub id: String,
    /// The action's name in Architect.
    pub name: String,
    #[serde(flatten)]
    pub kind: NodeKind,
    /// The next node on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The next node when this one fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Node {
    pub fn new(id: &str, name: &str, kind: NodeKind) -> Node {
        Node {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            default: None,
            error: None,
        }
    }

    pub fn then(mut self, next: &str) -> Node {
        self.default = Some(next.to_string());
        self
    }

    pub fn on_error(mut self, next: &str) -> Node {
        self.error = Some(next.to_string());
        self
    }
}

/// A whole flow: its settings and its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowGraph {
    pub flow_type: FlowType,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub division: String,
    pub language: String,
    /// Id of the Start node.
    pub start: String,
    pub nodes: Vec<Node>,
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The node at fault, if the problem is about one.
    pub node: Option<String>,
    /// Short rule name, stable for tests and scripts.
    pub rule: &'static str,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(n) => write!(f, "node '{n}': {} [{}]", self.message, self.rule),
            None => write!(f, "{} [{}]", self.message, self.rule),
        }
    }
}

/// Checks a name as Genesys Cloud takes it: 1-200 characters, no control characters, and
/// no `{{`, which Architect reads as an unreplaced placeholder.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if name.trim().is_empty() {
        Some("name is empty".into())
    } else if len > MAX_NAME {
        Some(format!(
            "name is {len} characters; at most {MAX_NAME} are allowed"
        ))
    } else if name.trim() != name {
        // `Mod A` and `Mod A ` would be two flows in Genesys Cloud.
        Some("name starts or ends with whitespace".into())
    } else if name.chars().any(char::is_control) {
        Some("name contains a control character (such as a newline or tab)".into())
    } else if name.contains("{{") {
        Some("name contains `{{`, which Architect reads as an unreplaced placeholder".into())
    } else {
        None
    }
}

impl FlowGraph {
    pub(crate) fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Nodes by id, for linear-time walks (the first of duplicate ids wins).
    pub(crate) fn index(&self) -> HashMap<&str, &Node> {
        let mut index = HashMap::with_capacity(self.nodes.len());
        for n in &self.nodes {
            index.entry(n.id.as_str()).or_insert(n);
        }
        index
    }

    /// Every problem at once; empty when the graph is valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut p = |node: Option<&str>, rule: &'static str, message: String| {
            problems.push(Problem {
                node: node.map(str::to_string),
                rule,
                message,
            })
        };
        if let Some(m) = name_problem(&self.name) {
            p(None, "flow-name", format!("flow {m}"));
        }
        let mut ids = HashSet::new();
        for n in &self.nodes {
            if !ids.insert(n.id.as_str()) {
                p(
                    Some(&n.id),
                    "unique-ids",
                    "another node has the same id".into(),
                );
            }
        }
        let starts: Vec<&Node> = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Start)
            .collect();
        match starts.as_slice() {
            [] => p(None, "one-start", "the flow has no Start node".into()),
            [only] if only.id != self.start => p(
                Some(&only.id),
                "one-start",
                format!(
                    "this is the Start node, but the flow starts at '{}'",
                    self.start
                ),
            ),
            [_] => {}
            many => {
                for n in many {
                    p(
                        Some(&n.id),
                        "one-start",
                        format!("one of {} Start nodes; a flow has exactly one", many.len()),
                    )
                }
            }
        }
        let index = self.index();
        if !index.contains_key(self.start.as_str()) {
            p(
                None,
                "one-start",
                format!("the flow starts at '{}', which is not a node", self.start),
            );
        }
        for n in &self.nodes {
            if let Some(m) = name_problem(&n.name) {
                p(Some(&n.id), "node-name", m);
            }
            for (edge, target) in [("default", &n.default), ("error", &n.error)] {
                if let Some(t) = target {
                    if !index.contains_key(t.as_str()) {
                        p(
                            Some(&n.id),
                            "edge-target",
                            format!("{edge} edge goes to '{t}', which is not a node"),
                        );
                    }
                    if t == &self.start {
                        p(
                            Some(&n.id),
                            "edge-target",
                            format!("{edge} edge goes back to the Start node"),
                        );
                    }
                }
            }
            if !n.kind.is_terminal() && n.default.is_none() {
                p(
                    Some(&n.id),
                    "default-edge",
                    "needs a default edge (only Hangup ends a flow)".into(),
                );
            }
            if n.kind.is_terminal() && n.default.is_some() {
                p(
                    Some(&n.id),
                    "default-edge",
                    "Hangup ends the flow, so it cannot have a default edge".into(),
                );
            }
            if n.error.is_some() && !n.kind.can_fail() {
                p(
                    Some(&n.id),
                    "error-edge",
                    "only call-module and queue nodes can fail, so only they take an error edge"
                        .into(),
                );
            }
            match &n.kind {
                NodeKind::Play {
                    prompt: Prompt::Tts(t) | Prompt::Media(t),
                } if t.trim().is_empty() => p(Some(&n.id), "prompt", "the prompt is empty".into()),
                NodeKind::Play {
                    prompt: Prompt::Media(m),
                } if !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => p(
                    Some(&n.id),
                    "prompt",
                    format!("media prompt '{m}' must be a prompt name (letters, digits, _)"),
                ),
                NodeKind::CallModule { module } => {
                    if let Some(m) = name_problem(module) {
                        p(Some(&n.id), "module-name", format!("module {m}"));
                    }
                    if self.flow_type == crate::models::FlowType::CommonModule
                        && *module == self.name
                    {
                        p(
                            Some(&n.id),
                            "no-self-call",
                            format!("module '{module}' calls itself"),
                        );
                    }
                }
                NodeKind::Queue { queue } => {
                    if let Some(m) = name_problem(queue) {
                        p(Some(&n.id), "queue-name", format!("queue {m}"));
                    }
                }
                _ => {}
            }
        }
        // Reachability and cycles, over both kinds of edges.
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack = vec![self.start.as_str()];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(n) = index.get(id) {
                stack.extend(n.default.iter().chain(n.error.iter()).map(String::as_str));
            }
        }
        for n in &self.nodes {
            if !seen.contains(n.id.as_str()) {
                p(
                    Some(&n.id),
                    "reachable",
                    "no path from the Start node reaches it".into(),
                );
            }
        }
        if let Some(cycle) = find_cycle(&index) {
            p(
                Some(&cycle[0]),
                "no-cycles",
                format!("the flow loops: {}", cycle.join(" → ")),
            );
        }
        problems
    }
}

/// The first cycle found, as node ids with the first repeated at the end.
fn find_cycle(index: &HashMap<&str, &Node>) -> Option<Vec<String>> {
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 on path, 2 done
    let mut ids: Vec<&str> = index.keys().copied().collect();
    ids.sort_unstable();
    for root in ids {
        if state.contains_key(root) {
            continue;
        }
        // Iterative DFS: (node, next child index)
        let mut path: Vec<(&str, usize)> = vec![(root, 0)];
        state.insert(root, 1);
        while let Some((id, child)) = path.last_mut() {
            let node = index.get(id);
            let next = node.and_then(|n| [&n.default, &n.error].into_iter().flatten().nth(*child));
            *child += 1;
            match next {
                Some(t) => match state.get(t.as_str()) {
                    Some(1) => {
                        let from = path.iter().position(|(p, _)| *p == t.as_str()).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            path[from..].iter().map(|(p, _)| p.to_string()).collect();
                        cycle.push(t.clone());
                        return Some(cycle);
                    }
                    Some(_) => {}
                    None if index.contains_key(t.as_str()) => {
                        let t = index
                            .get_key_value(t.as_str())
                            .map(|(k, _)| *k)
                            .unwrap_or_default();
                        state.insert(t, 1);
                        path.push((t, 0));
                    }
                    None => {}
                },
                None => {
                    let (done, _) = path.pop().unwrap_or_default();
                    state.insert(done, 2);
                }
            }
        }
    }
    None
}

//! The typed flow model: nodes joined by `default` and `error` edges ([`graph`]), validated
//! offline like a compiler (every problem at once), rendered to Architect YAML
//! ([`render`]); and the reader of users' own Architect YAML ([`read`]): substitutions,
//! flow type and name, the modules it calls and the queues it transfers to.

pub(crate) mod changes;
pub mod compare;
pub(crate) mod graph;
pub(crate) mod placeholder;
pub mod read;
pub(crate) mod render;

pub use graph::{FlowGraph, Node, NodeKind, Problem, Prompt};

use crate::models::FlowType;
use std::collections::BTreeMap;

/// A flow ready to publish: its Architect YAML plus what flowctl needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDocument {
    pub flow_type: FlowType,
    pub name: String,
    pub description: Option<String>,
    /// Division name, if the YAML names one.
    pub division: Option<String>,
    /// The Architect YAML to upload, placeholders already replaced.
    pub yaml: String,
    /// Names of the common modules it calls (sorted, unique).
    pub modules: Vec<String>,
    /// Names of the queues it transfers to (sorted, unique).
    pub queues: Vec<String>,
    /// Everything else the flow references by name: bot flows, flows it transfers to,
    /// schedule groups, data tables, data actions, user prompts (sorted, unique).
    pub(crate) references: Vec<Reference>,
}

impl FlowDocument {
    /// Names of the flows this one needs published first: the bot flows it calls and the
    /// flows it transfers to, with the flow type where the YAML says it.
    pub(crate) fn flow_callees(&self) -> impl Iterator<Item = (&str, Option<FlowType>)> {
        self.references
            .iter()
            .filter(|r| r.kind.is_flow())
            .map(|r| (r.name.as_str(), r.kind.flow_type()))
    }
}

pub(crate) use crate::architect_refs::RefKind;

/// The dependency-tracking resource types of what a flow can use (the SDK's enum names):
/// modules, queues, bot flows and the resources of [`RefKind`].
pub(crate) const REFERENCE_TYPES: &[&str] = &[
    "COMMONMODULEFLOW",
    "QUEUE",
    "BOTFLOW",
    "DIGITALBOTFLOW",
    "SCHEDULEGROUP",
    "DATATABLE",
    "DATAACTION",
    "USERPROMPT",
];

/// The flow types a `transferToFlow` target usually has, as dependency-tracking types.
pub(crate) const TRANSFER_TARGET_TYPES: &[&str] =
    &["INBOUNDCALLFLOW", "INQUEUECALLFLOW", "SECURECALLFLOW"];

/// One named thing a flow uses, and the action that uses it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Reference {
    pub(crate) kind: RefKind,
    pub(crate) name: String,
    /// The action's `name` (or its kind, for an unnamed action).
    pub(crate) action: String,
}

const MARKER_PREFIX: &str = "[flowctl:sha256=";

/// The division a flow goes in when nothing names one: Genesys Cloud's default division.
pub(crate) const DEFAULT_DIVISION: &str = "Home";
/// The language of the built-in templates when nothing names one.
pub(crate) const DEFAULT_LANGUAGE: &str = "en-us";

impl FlowDocument {
    /// Hex SHA-256 of `yaml`: stable because rendering is deterministic.
    pub fn content_hash(&self) -> String {
        crate::digest::sha256_hex(&self.yaml, 32)
    }

    /// The description published with the content marker appended.
    pub(crate) fn marked_description(&self) -> String {
        let marker = format!("{MARKER_PREFIX}{}]", &self.content_hash()[..16]);
        match self
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(d) => format!("{d} {marker}"),
            None => marker,
        }
    }

    /// The YAML to upload: `yaml` with the content marker in the flow's description, so a
    /// later run can tell that the published content is exactly this.
    pub fn publish_yaml(&self) -> String {
        read::with_description(&self.yaml, &self.marked_description())
            .unwrap_or_else(|| self.yaml.clone())
    }

    /// This document in another division: a YAML that names a division (a built-in
    /// template's) gets `division` in its place, so the content marker is that of the
    /// flow rendered there; a YAML without one gets it at publish time
    /// ([`FlowDocument::publish_yaml_in`]) and is unchanged.
    pub(crate) fn in_division(&self, division: &str) -> FlowDocument {
        let mut doc = self.clone();
        if self.division.as_deref().is_some_and(|d| d != division) {
            if let Some(yaml) = read::replace_key(&self.yaml, "division", division) {
                doc.yaml = yaml;
                doc.division = Some(division.to_string());
            }
        }
        doc
    }

    /// [`FlowDocument::publish_yaml`] for a publish into `division`: the job creates a new
    /// flow in the division its YAML names, so a file that names none gets `division:`
    /// (a file's own `division:` is kept).
    pub(crate) fn publish_yaml_in(&self, division: &str) -> String {
        let yaml = self.publish_yaml();
        if self.division.is_some() {
            return yaml;
        }
        read::with_key(&yaml, "division", division, "description").unwrap_or(yaml)
    }
}

/// Reads the content marker (16 hex digits) back from a flow's description.
pub fn content_marker(description: &str) -> Option<String> {
    let start = description.rfind(MARKER_PREFIX)? + MARKER_PREFIX.len();
    let rest = &description[start..];
    let end = rest.find(']')?;
    let hash = &rest[..end];
    (hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| hash.to_string())
}

/// Parameters of the built-in shared greeting module (Start → Play greeting → return).
#[derive(Debug, Clone)]
pub struct SharedTemplate {
    pub name: String,
    pub description: Option<String>,
    pub division: String,
    pub language: String,
    pub greeting: String,
}

/// Parameters of the built-in parent flow (Start → call module(s) → queue → hang up;
/// on error, hang up).
#[derive(Debug, Clone)]
pub struct ParentTemplate {
    pub name: String,
    pub description: Option<String>,
    pub division: String,
    pub language: String,
    pub modules: Vec<String>,
    pub queue: String,
}

impl SharedTemplate {
    pub(crate) fn graph(&self) -> FlowGraph {
        FlowGraph {
            flow_type: FlowType::CommonModule,
            name: self.name.clone(),
            description: self.description.clone(),
            division: self.division.clone(),
            language: self.language.clone(),
            start: "start".into(),
            nodes: vec![
                Node::new("start", "Start", NodeKind::Start).then("greeting"),
                Node::new(
                    "greeting",
                    "Play Shared Greeting",
                    NodeKind::Play {
                        prompt: Prompt::Tts(self.greeting.clone()),
                    },
                )
                .then("return"),
                Node::new("return", "Return to caller", NodeKind::Hangup),
            ],
        }
    }
}

impl ParentTemplate {
    pub(crate) fn graph(&self) -> FlowGraph {
        let mut nodes = vec![Node::new("start", "Start", NodeKind::Start)];
        let mut previous = 0;
        for (i, module) in self.modules.iter().enumerate() {
            let id = format!("call_{}", i + 1);
            nodes[previous].default = Some(id.clone());
            let name = if self.modules.len() == 1 {
                "Invoke Shared Flow".to_string()
            } else {
                format!("Invoke Shared Flow {}", i + 1)
            };
            nodes.push(
                Node::new(
                    &id,
                    &name,
                    NodeKind::CallModule {
                        module: module.clone(),
                    },
                )
                .on_error("error_hangup"),
            );
            previous = nodes.len() - 1;
        }
        nodes[previous].default = Some("queue".into());
        nodes.push(
            Node::new(
                "queue",
                "Queue to Agent",
                NodeKind::Queue {
                    queue: self.queue.clone(),
                },
            )
            .then("hangup")
            .on_error("error_hangup"),
        );
        nodes.push(Node::new("hangup", "End Parent Flow", NodeKind::Hangup));
        nodes.push(Node::new("error_hangup", "Handle Error", NodeKind::Hangup));
        FlowGraph {
            flow_type: FlowType::InboundCall,
            name: self.name.clone(),
            description: self.description.clone(),
            division: self.division.clone(),
            language: self.language.clone(),
            start: "start".into(),
            nodes,
        }
    }
}

/// Validates and renders any graph into a document.
pub fn render_graph(graph: &FlowGraph) -> Result<FlowDocument, FlowError> {
    let problems = graph.validate();
    if !problems.is_empty() {
        return Err(FlowError::Invalid {
            flow: graph.name.clone(),
            problems,
        });
    }
    let yaml = render::render(graph).map_err(|problems| FlowError::Invalid {
        flow: graph.name.clone(),
        problems,
    })?;
    let mut modules: Vec<String> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::CallModule { module } => Some(module.clone()),
            _ => None,
        })
        .collect();
    modules.sort();
    modules.dedup();
    let mut queues: Vec<String> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Queue { queue } => Some(queue.clone()),
            _ => None,
        })
        .collect();
    queues.sort();
    queues.dedup();
    Ok(FlowDocument {
        flow_type: graph.flow_type,
        name: graph.name.clone(),
        description: graph.description.clone(),
        division: Some(graph.division.clone()),
        yaml,
        modules,
        queues,
        references: media_prompts(graph),
    })
}

/// Builds, validates and renders the shared greeting module.
/// The user prompts a graph plays (`Prompt.Name`), as references the org must have.
fn media_prompts(graph: &FlowGraph) -> Vec<Reference> {
    let mut refs: Vec<Reference> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Play {
                prompt: Prompt::Media(name),
            } => Some(Reference {
                kind: RefKind::UserPrompt,
                name: name.clone(),
                action: n.name.clone(),
            }),
            _ => None,
        })
        .collect();
    refs.sort();
    refs.dedup();
    refs
}

pub fn render_shared(t: &SharedTemplate) -> Result<FlowDocument, FlowError> {
    render_graph(&t.graph())
}

/// Builds, validates and renders a parent flow.
pub fn render_parent(t: &ParentTemplate) -> Result<FlowDocument, FlowError> {
    render_graph(&t.graph())
}

/// Reads a user's Architect YAML: replaces `{{key}}` placeholders from `vars`, then
/// extracts flow type, name, description, division, modules and queues. `source` names the
/// file in messages.
pub fn read_architect_yaml(
    text: &str,
    vars: &BTreeMap<String, String>,
    source: &str,
) -> Result<FlowDocument, FlowError> {
    let text = read::substitute(text, vars, source)?;
    let f = read::facts(&text, source)?;
    Ok(FlowDocument {
        flow_type: f.flow_type,
        name: f.name,
        description: f.description,
        division: f.division,
        yaml: text,
        modules: f.modules,
        queues: f.queues,
        references: f.references,
    })
}

/// Every problem found, each naming where it is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FlowError {
    /// The typed graph breaks one or more rules.
    #[error("flow '{flow}' is not valid:\n  {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        flow: String,
        problems: Vec<Problem>,
    },
    /// `{{key}}` placeholders that no substitution replaced.
    #[error("{file}: unreplaced placeholder{}: {}", if .missing.len() == 1 { "" } else { "s" }, .missing.iter().map(|(k, l)| format!("{{{{{k}}}}} (line {l})")).collect::<Vec<_>>().join(", "))]
    Placeholders {
        file: String,
        missing: Vec<(String, usize)>,
    },
    /// The file is not YAML.
    #[error("{file}{}: malformed YAML: {message}", match (.line, .column) { (Some(l), Some(c)) => format!(":{l}:{c}"), _ => String::new() })]
    Yaml {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// YAML, but not an Architect flow.
    #[error("{file}: {message}")]
    Shape { file: String, message: String },
    /// Lint problems in a user's file.
    #[error("{file}:\n  {}", .problems.join("\n  "))]
    Lint { file: String, problems: Vec<String> },
}

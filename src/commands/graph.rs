//! `flowctl graph`: modules, flows and queues as Mermaid or DOT, from the manifest, or
//! (`--from-org`) from what the org's dependency tracking says the published versions use.

use super::Session;
use crate::cli::{GlobalArgs, GraphArgs, GraphFormat, OutputFormat};
use crate::client::Client;
use crate::error::Result;
use crate::flow::RefKind;
use crate::manifest::Manifest;
use crate::models::FlowType;
use crate::output::Printer;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Module,
    Flow,
    Queue,
    /// A schedule group, data table, data action or user prompt.
    Resource(RefKind),
}

/// The graph node for a dependency-tracking object type.
fn kind_of_object(object_type: Option<&str>) -> NodeKind {
    match object_type {
        Some("QUEUE") => NodeKind::Queue,
        Some("COMMONMODULEFLOW") | None => NodeKind::Module,
        Some("SCHEDULEGROUP") => NodeKind::Resource(RefKind::ScheduleGroup),
        Some("DATATABLE") => NodeKind::Resource(RefKind::DataTable),
        Some("DATAACTION") => NodeKind::Resource(RefKind::DataAction),
        Some("USERPROMPT") => NodeKind::Resource(RefKind::UserPrompt),
        Some(_) => NodeKind::Flow,
    }
}

/// Nodes keyed by (kind, name); edges from caller to callee.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Graph {
    pub(crate) nodes: BTreeMap<(NodeKind, String), usize>,
    pub(crate) edges: Vec<(usize, usize)>,
}

impl Graph {
    pub(crate) fn node(&mut self, kind: NodeKind, name: &str) -> usize {
        let next = self.nodes.len();
        *self.nodes.entry((kind, name.to_string())).or_insert(next)
    }

    pub(crate) fn edge(&mut self, from: usize, to: usize) {
        if !self.edges.contains(&(from, to)) {
            self.edges.push((from, to));
        }
    }

    /// What the manifest declares.
    pub(crate) fn from_manifest(manifest: &Manifest) -> Graph {
        let mut g = Graph::default();
        for item in manifest.items() {
            let kind = if item.doc.flow_type == FlowType::CommonModule {
                NodeKind::Module
            } else {
                NodeKind::Flow
            };
            let me = g.node(kind, &item.doc.name);
            for m in &item.doc.modules {
                let to = g.node(NodeKind::Module, m);
                g.edge(me, to);
            }
            for q in &item.doc.queues {
                let to = g.node(NodeKind::Queue, q);
                g.edge(me, to);
            }
            for r in &item.doc.references {
                let kind = if r.kind.is_flow() {
                    NodeKind::Flow
                } else {
                    NodeKind::Resource(r.kind)
                };
                let to = g.node(kind, &r.name);
                g.edge(me, to);
            }
        }
        g
    }

    /// What the published versions of the manifest's flows consume.
    pub(crate) async fn from_org(client: &Client, manifest: &Manifest) -> Result<Graph> {
        let mut g = Graph::default();
        for item in manifest.items() {
            let Some(flow) = client
                .find_flows_by_name(&item.doc.name, item.doc.flow_type)
                .await?
                .into_iter()
                .next()
            else {
                continue;
            };
            let kind = if flow.flow_type == FlowType::CommonModule {
                NodeKind::Module
            } else {
                NodeKind::Flow
            };
            let me = g.node(kind, &flow.name);
            let Some(version) = flow.published_version.as_ref() else {
                continue;
            };
            let consumed = client
                .consumed_resources(
                    &flow.id,
                    &version.id,
                    flow.flow_type.object_type().unwrap_or_default(),
                    &[
                        crate::flow::REFERENCE_TYPES,
                        crate::flow::TRANSFER_TARGET_TYPES,
                    ]
                    .concat(),
                )
                .await?;
            for d in consumed {
                let kind = kind_of_object(d.object_type.as_deref());
                let to = g.node(kind, d.name.as_deref().unwrap_or(&d.id));
                g.edge(me, to);
            }
        }
        Ok(g)
    }

    fn names(&self) -> Vec<(&NodeKind, &str)> {
        let mut v: Vec<(usize, &NodeKind, &str)> = self
            .nodes
            .iter()
            .map(|((k, n), i)| (*i, k, n.as_str()))
            .collect();
        v.sort_by_key(|x| x.0);
        v.into_iter().map(|(_, k, n)| (k, n)).collect()
    }

    pub(crate) fn mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        for (i, (kind, name)) in self.names().into_iter().enumerate() {
            let label = name.replace('"', "#quot;");
            let shape = match kind {
                NodeKind::Module => format!("[[\"{label}\"]]"),
                NodeKind::Flow => format!("[\"{label}\"]"),
                NodeKind::Queue => format!("[(\"{label}\")]"),
                NodeKind::Resource(r) => format!("{{{{\"{label} ({})\"}}}}", r.noun()),
            };
            s.push_str(&format!("  n{i}{shape}\n"));
        }
        for (a, b) in &self.edges {
            s.push_str(&format!("  n{a} --> n{b}\n"));
        }
        s
    }

    /// The text tree `demo` draws: each module, the flows that call it, and what those
    /// flows transfer to; then flows that call no module.
    pub(crate) fn tree(&self) -> String {
        let names = self.names();
        let label = |i: usize| -> String {
            match names.get(i) {
                Some((kind, name)) => format!("[{}] {name}", kind_word(**kind)),
                None => String::new(),
            }
        };
        let callees = |i: usize, kind: NodeKind| -> Vec<usize> {
            let mut v: Vec<usize> = self
                .edges
                .iter()
                .filter(|(a, b)| *a == i && names.get(*b).is_some_and(|(k, _)| **k == kind))
                .map(|(_, b)| *b)
                .collect();
            v.sort_by_key(|b| names.get(*b).map(|(_, n)| *n));
            v
        };
        let callers = |i: usize| -> Vec<usize> {
            let mut v: Vec<usize> = self
                .edges
                .iter()
                .filter(|(_, b)| *b == i)
                .map(|(a, _)| *a)
                .collect();
            v.sort_by_key(|a| names.get(*a).map(|(_, n)| *n));
            v
        };
        // What a flow transfers to or uses besides modules: queues, then other resources.
        let queues_of = |i: usize| -> String {
            let mut used: Vec<usize> = self
                .edges
                .iter()
                .filter(|(a, b)| {
                    *a == i
                        && names.get(*b).is_some_and(|(k, _)| {
                            matches!(**k, NodeKind::Queue | NodeKind::Resource(_))
                        })
                })
                .map(|(_, b)| *b)
                .collect();
            used.sort_by_key(|b| names.get(*b).map(|(k, n)| (**k, *n)));
            if used.is_empty() {
                String::new()
            } else {
                let labels: Vec<String> = used.into_iter().map(label).collect();
                format!("  ──▶  {}", labels.join(", "))
            }
        };
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|i| names.get(*i).map(|(_, n)| *n));
        let mut lines = Vec::new();
        for &m in &order {
            if names.get(m).is_none_or(|(k, _)| **k != NodeKind::Module) {
                continue;
            }
            lines.push(format!("{}{}", label(m), queues_of(m)));
            let cs = callers(m);
            for (n, c) in cs.iter().enumerate() {
                let branch = if n + 1 == cs.len() {
                    "└──"
                } else {
                    "├──"
                };
                lines.push(format!("  {branch} {}{}", label(*c), queues_of(*c)));
            }
        }
        for &f in &order {
            let is_flow = names.get(f).is_some_and(|(k, _)| **k == NodeKind::Flow);
            if is_flow && callees(f, NodeKind::Module).is_empty() {
                lines.push(format!("{}{}", label(f), queues_of(f)));
            }
        }
        lines.join("\n")
    }

    /// `{"nodes":[{"id","kind","name"}],"edges":[{"from","to"}]}`.
    pub(crate) fn json(&self) -> serde_json::Value {
        let nodes: Vec<serde_json::Value> = self
            .names()
            .into_iter()
            .enumerate()
            .map(|(i, (kind, name))| {
                serde_json::json!({
                    "id": format!("n{i}"),
                    "kind": match kind {
                        NodeKind::Module => "commonModule",
                        NodeKind::Flow => "flow",
                        NodeKind::Queue => "queue",
                        NodeKind::Resource(r) => r.noun(),
                    },
                    "name": name,
                })
            })
            .collect();
        let edges: Vec<serde_json::Value> = self
            .edges
            .iter()
            .map(|(a, b)| serde_json::json!({"from": format!("n{a}"), "to": format!("n{b}")}))
            .collect();
        serde_json::json!({ "nodes": nodes, "edges": edges })
    }

    pub(crate) fn dot(&self) -> String {
        let mut s = String::from("digraph flows {\n  rankdir=LR;\n");
        for (i, (kind, name)) in self.names().into_iter().enumerate() {
            let label = name.replace('\\', "\\\\").replace('"', "\\\"");
            let (shape, label) = match kind {
                NodeKind::Module => ("box3d", label),
                NodeKind::Flow => ("box", label),
                NodeKind::Queue => ("cylinder", label),
                NodeKind::Resource(r) => ("hexagon", format!("{label} ({})", r.noun())),
            };
            s.push_str(&format!("  n{i} [label=\"{label}\", shape={shape}];\n"));
        }
        for (a, b) in &self.edges {
            s.push_str(&format!("  n{a} -> n{b};\n"));
        }
        s.push_str("}\n");
        s
    }
}

/// The words of [`crate::output::type_name`] for a node.
fn kind_word(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Module => crate::output::type_name(FlowType::CommonModule),
        NodeKind::Flow => crate::output::type_name(FlowType::InboundCall),
        NodeKind::Queue => "queue",
        NodeKind::Resource(r) => r.noun(),
    }
}

pub(crate) async fn run(args: &GraphArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    let manifest = args.manifest.load(global)?;
    let graph = if args.from_org {
        let session = Session::connect(global).await?;
        let g = Graph::from_org(&session.client, &manifest).await;
        session.close().await;
        g?
    } else {
        Graph::from_manifest(&manifest)
    };
    if global.output == OutputFormat::Json {
        out.json(&graph.json());
        return Ok(());
    }
    out.raw(
        match args.format {
            GraphFormat::Mermaid => graph.mermaid(),
            GraphFormat::Dot => graph.dot(),
            GraphFormat::Tree => graph.tree(),
        }
        .trim_end(),
    );
    Ok(())
}

//! Rendering a validated [`FlowGraph`] to Architect YAML.
//!
//! The YAML is built as a value tree and serialized, never templated as text, so quotes,
//! colons, `#`, leading dashes, newlines and unicode in names and prompts are escaped by
//! the serializer. Keys keep insertion order, so the output (and its hash) is stable.
//!
//! Mapping: Call shared flow → `callCommonModule` (the module by name, latest published
//! version); Queue → `transferToAcd` (its error edge becomes `outputs.failure.actions`);
//! Hangup → `disconnect` in a flow, `endTask` in a module; an error edge of a call-module
//! node becomes the flow's error handling, which must then be a hang-up.

use super::graph::{FlowGraph, Node, NodeKind, Problem, Prompt};
use crate::models::FlowType;
use yaml_serde::{Mapping, Value};

type Index<'a> = std::collections::HashMap<&'a str, &'a Node>;

/// The task every rendered inbound flow starts in.
pub(crate) const START_REF_ID: &str = "Start_10";

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(Value::String(k.to_string()), v);
    }
    Value::Mapping(m)
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn no_value() -> Value {
    map([("noValue", Value::Bool(true))])
}

/// Renders the graph; call [`FlowGraph::validate`] first (problems found here are about
/// shapes Architect cannot express).
pub(crate) fn render(graph: &FlowGraph) -> Result<String, Vec<Problem>> {
    let Some(key) = graph.flow_type.yaml_key() else {
        return Err(vec![Problem {
            node: None,
            rule: "flow-type",
            message: format!(
                "flowctl does not know Architect's YAML key for {} flows",
                graph.flow_type
            ),
        }]);
    };
    let mut problems = Vec::new();
    let index = graph.index();
    let actions = chain(graph, &index, &graph.start, &mut problems);
    let error_handling = flow_error_handling(graph, &index, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut body = Mapping::new();
    let mut put = |k: &str, v: Value| {
        body.insert(s(k), v);
    };
    put("name", s(&graph.name));
    if let Some(d) = graph.description.as_deref().filter(|d| !d.is_empty()) {
        put("description", s(d));
    }
    put("division", s(&graph.division));
    match graph.flow_type {
        FlowType::CommonModule => {
            put("defaultLanguage", s(&graph.language));
            put(
                "supportedLanguages",
                map([(graph.language.as_str(), map([("none", Value::Bool(true))]))]),
            );
            put(
                "settingsCommonModule",
                map([(
                    "compatibleFlowTypes",
                    Value::Sequence(vec![map([("flowType", s("inboundcall"))])]),
                )]),
            );
            put("startUpTaskActions", Value::Sequence(actions));
        }
        _ => {
            put(
                "startUpRef",
                s(&format!("/{key}/tasks/task[{START_REF_ID}]")),
            );
            put("defaultLanguage", s(&graph.language));
            put(
                "supportedLanguages",
                map([(
                    graph.language.as_str(),
                    map([("defaultLanguageSkill", no_value())]),
                )]),
            );
            put(
                "settingsErrorHandling",
                map([("errorHandling", error_handling)]),
            );
            put(
                "tasks",
                Value::Sequence(vec![map([(
                    "task",
                    map([
                        ("name", s(&start_name(graph))),
                        ("refId", s(START_REF_ID)),
                        ("actions", Value::Sequence(actions)),
                    ]),
                )])]),
            );
        }
    }
    let doc = map([(key, Value::Mapping(body))]);
    yaml_serde::to_string(&doc).map_err(|e| {
        vec![Problem {
            node: None,
            rule: "render",
            message: format!("cannot serialize the flow: {e}"),
        }]
    })
}

fn start_name(graph: &FlowGraph) -> String {
    graph
        .node(&graph.start)
        .map(|n| n.name.clone())
        .unwrap_or_else(|| "Start".to_string())
}

/// The actions from `from` along default edges (the Start node renders as nothing).
fn chain(graph: &FlowGraph, index: &Index, from: &str, problems: &mut Vec<Problem>) -> Vec<Value> {
    let mut actions = Vec::new();
    let mut next = Some(from.to_string());
    // Validation rules out cycles; the bound keeps a bad graph from looping here anyway.
    let mut steps = 0;
    while let Some(id) = next.take() {
        steps += 1;
        let Some(node) = index.get(id.as_str()) else {
            break;
        };
        if steps > graph.nodes.len() {
            break;
        }
        if let Some(a) = action(graph, index, node, problems) {
            actions.push(a);
        }
        next = node.default.clone();
    }
    actions
}

fn action(
    graph: &FlowGraph,
    index: &Index,
    node: &Node,
    problems: &mut Vec<Problem>,
) -> Option<Value> {
    Some(match &node.kind {
        NodeKind::Start => return None,
        NodeKind::Play { prompt } => {
            let audio = match prompt {
                Prompt::Tts(text) => map([("tts", s(text))]),
                Prompt::Media(name) => map([("exp", s(&format!("ToAudio(Prompt.{name})")))]),
            };
            map([(
                "playAudio",
                map([("name", s(&node.name)), ("audio", audio)]),
            )])
        }
        NodeKind::CallModule { module } => map([(
            "callCommonModule",
            map([
                ("name", s(&node.name)),
                (
                    "commonModule",
                    map([(
                        module.as_str(),
                        map([(
                            "ver_latestPublished",
                            map([("inputs", Value::Mapping(Mapping::new()))]),
                        )]),
                    )]),
                ),
            ]),
        )]),
        NodeKind::Queue { queue } => {
            let mut transfer = Mapping::new();
            transfer.insert(s("name"), s(&node.name));
            transfer.insert(s("targetQueue"), map([("lit", map([("name", s(queue))]))]));
            transfer.insert(s("priority"), map([("lit", Value::Number(0.into()))]));
            transfer.insert(s("preferredAgents"), no_value());
            transfer.insert(s("languageSkill"), no_value());
            transfer.insert(
                s("failureOutputs"),
                map([("errorType", no_value()), ("errorMessage", no_value())]),
            );
            if let Some(err) = &node.error {
                let failure = chain(graph, index, err, problems);
                transfer.insert(
                    s("outputs"),
                    map([("failure", map([("actions", Value::Sequence(failure))]))]),
                );
            }
            map([("transferToAcd", Value::Mapping(transfer))])
        }
        NodeKind::Hangup => match graph.flow_type {
            FlowType::CommonModule => map([("endTask", map([("name", s(&node.name))]))]),
            _ => map([("disconnect", map([("name", s(&node.name))]))]),
        },
    })
}

/// `settingsErrorHandling.errorHandling`: Architect handles a failed module call at the
/// flow level, so a call-module node's error edge must lead straight to a Hangup.
fn flow_error_handling(graph: &FlowGraph, index: &Index, problems: &mut Vec<Problem>) -> Value {
    for n in &graph.nodes {
        if let (NodeKind::CallModule { .. }, Some(err)) = (&n.kind, &n.error) {
            match index.get(err.as_str()).map(|t| &t.kind) {
                Some(NodeKind::Hangup) | None => {}
                Some(_) => problems.push(Problem {
                    node: Some(n.id.clone()),
                    rule: "error-edge",
                    message: "a failed module call is handled by the flow's error handling, so its error edge must go straight to a Hangup".into(),
                }),
            }
        }
    }
    map([("disconnect", map([("none", Value::Bool(true))]))])
}

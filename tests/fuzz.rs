//! Property-based fuzzing, bounded so it runs in CI: the manifest parser, the reader of
//! users' Architect YAML and graph validation never panic, whatever they are given, and
//! always either accept or explain.
//!
//! More cases locally: `PROPTEST_CASES=20000 cargo test --test fuzz`.

use flowctl::flow::{self, FlowGraph, Node, NodeKind, Prompt};
use flowctl::models::FlowType;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// YAML-ish text: a grammar of keys, indentation and scalars that reaches deep into the
/// parsers, mixed with arbitrary unicode.
fn yamlish() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("modules"),
        Just("flows"),
        Just("substitutions"),
        Just("profiles"),
        Just("name"),
        Just("file"),
        Just("greeting"),
        Just("queue"),
        Just("inboundCall"),
        Just("commonModule"),
        Just("callCommonModule"),
        Just("transferToAcd"),
        Just("targetQueue"),
        Just("lit"),
        Just("tasks"),
        Just("task"),
        Just("refId"),
        Just("startUpRef"),
        Just("actions"),
        Just("x"),
    ];
    let scalar = prop_oneof![
        Just("".to_string()),
        Just("[a, b]".to_string()),
        Just("{{v}}".to_string()),
        Just("- y".to_string()),
        Just("\"q\"".to_string()),
        Just("./tasks/task[a]".to_string()),
        "\\PC{0,12}",
    ];
    let line = (0usize..4, any::<bool>(), key, scalar).prop_map(|(indent, dash, k, v)| {
        format!(
            "{}{}{k}: {v}",
            "  ".repeat(indent),
            if dash { "- " } else { "" }
        )
    });
    prop_oneof![
        3 => prop::collection::vec(line, 0..25).prop_map(|l| l.join("\n")),
        1 => "\\PC{0,300}",
    ]
}

fn no_env(_: &str) -> Option<String> {
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn the_manifest_parser_never_panics(text in yamlish()) {
        let result = flowctl::manifest::parse(&text, Path::new("fuzz.yaml"), &[], None, &no_env);
        if let Err(problems) = result {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| p.contains("fuzz.yaml")), "{problems:?}");
        }
    }

    #[test]
    fn reading_architect_yaml_never_panics(text in yamlish()) {
        let vars = BTreeMap::from([("v".to_string(), "value".to_string())]);
        match flow::read_architect_yaml(&text, &vars, "fuzz.yaml") {
            Ok(doc) => {
                // What was read, once marked for publishing, reads back the same.
                let again = flow::read_architect_yaml(&doc.publish_yaml(), &BTreeMap::new(), "fuzz.yaml");
                prop_assert!(again.is_ok(), "{:?}", again.err());
                let again = again.expect("checked");
                prop_assert_eq!(&again.name, &doc.name);
                prop_assert_eq!(again.flow_type, doc.flow_type);
                prop_assert_eq!(&again.modules, &doc.modules);
                prop_assert_eq!(&again.queues, &doc.queues);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.yaml")),
        }
        let report = flowctl::commands::lint::lint_text(&text, &vars, "fuzz.yaml");
        prop_assert_eq!(report.ok, report.problems.is_empty());
    }

    #[test]
    fn graph_validation_never_panics_and_valid_graphs_render(
        nodes in prop::collection::vec((0u8..5, 0usize..12, 0usize..12, any::<bool>(), any::<bool>(), "\\PC{0,8}"), 0..12),
        start in 0usize..12,
    ) {
        let id = |i: usize| format!("n{i}");
        let graph = FlowGraph {
            flow_type: FlowType::InboundCall,
            name: "Fuzz".into(),
            description: None,
            division: "Home".into(),
            language: "en-us".into(),
            start: id(start),
            nodes: nodes
                .iter()
                .enumerate()
                .map(|(i, (kind, d, e, has_d, has_e, text))| {
                    let kind = match kind {
                        0 => NodeKind::Start,
                        1 => NodeKind::Play { prompt: Prompt::Tts(text.clone()) },
                        2 => NodeKind::CallModule { module: format!("M{text}") },
                        3 => NodeKind::Queue { queue: format!("Q{text}") },
                        _ => NodeKind::Hangup,
                    };
                    Node {
                        id: id(i),
                        name: format!("Node {i}"),
                        kind,
                        default: has_d.then(|| id(*d)),
                        error: has_e.then(|| id(*e)),
                    }
                })
                .collect(),
        };
        let problems = graph.validate();
        if problems.is_empty() {
            let doc = flow::render_graph(&graph);
            prop_assert!(doc.is_ok(), "a valid graph renders: {:?}", doc.err());
        } else {
            prop_assert!(flow::render_graph(&graph).is_err());
        }
    }
}

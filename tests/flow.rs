//! The typed flow model: validation rules, rendering (snapshots), escaping, and reading
//! users' Architect YAML.

use flowctl::flow::{
    self, content_marker, render_graph, FlowError, FlowGraph, Node, NodeKind, ParentTemplate,
    Prompt, SharedTemplate,
};
use flowctl::models::FlowType;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn shared() -> SharedTemplate {
    SharedTemplate {
        name: "Shared Greeting Module".into(),
        description: Some("Reusable greeting".into()),
        division: "Home".into(),
        language: "en-us".into(),
        greeting: "Hello, this is a shared greeting.".into(),
    }
}

fn parent() -> ParentTemplate {
    ParentTemplate {
        name: "Inbound Sales Flow".into(),
        description: None,
        division: "Home".into(),
        language: "en-us".into(),
        modules: vec!["Shared Greeting Module".into()],
        queue: "General Support".into(),
    }
}

#[test]
fn shared_template_renders_as_a_common_module() {
    let doc = flow::render_shared(&shared()).expect("valid");
    insta::assert_snapshot!("shared_template", doc.yaml);
    assert_eq!(doc.flow_type, FlowType::CommonModule);
    assert!(doc.modules.is_empty() && doc.queues.is_empty());
}

#[test]
fn parent_template_renders_call_module_queue_and_hangup() {
    let doc = flow::render_parent(&parent()).expect("valid");
    insta::assert_snapshot!("parent_template", doc.yaml);
    assert_eq!(doc.modules, vec!["Shared Greeting Module"]);
    assert_eq!(doc.queues, vec!["General Support"]);
}

#[test]
fn rendering_is_deterministic() {
    let a = flow::render_parent(&parent()).expect("valid");
    let b = flow::render_parent(&parent()).expect("valid");
    assert_eq!(a.yaml, b.yaml);
    assert_eq!(a.content_hash(), b.content_hash());
    assert_eq!(a.content_hash().len(), 64);
}

#[test]
fn the_content_marker_round_trips_through_the_description() {
    let doc = flow::render_shared(&shared()).expect("valid");
    let published = doc.publish_yaml();
    let read =
        flow::read_architect_yaml(&published, &BTreeMap::new(), "published").expect("readable");
    let description = read.description.expect("description");
    assert!(
        description.starts_with("Reusable greeting [flowctl:sha256="),
        "{description}"
    );
    assert_eq!(
        content_marker(&description).as_deref(),
        Some(&doc.content_hash()[..16])
    );
    assert_eq!(content_marker("no marker here"), None);
    assert_eq!(content_marker("[flowctl:sha256=nothex!!nothex!!]"), None);
}

fn graph(nodes: Vec<Node>) -> FlowGraph {
    FlowGraph {
        flow_type: FlowType::InboundCall,
        name: "Test Flow".into(),
        description: None,
        division: "Home".into(),
        language: "en-us".into(),
        start: "start".into(),
        nodes,
    }
}

fn rules(g: &FlowGraph) -> Vec<&'static str> {
    g.validate().into_iter().map(|p| p.rule).collect()
}

fn start() -> Node {
    Node::new("start", "Start", NodeKind::Start)
}
fn hangup(id: &str) -> Node {
    Node::new(id, "Bye", NodeKind::Hangup)
}
fn play(id: &str, text: &str) -> Node {
    Node::new(
        id,
        "Play",
        NodeKind::Play {
            prompt: Prompt::Tts(text.into()),
        },
    )
}

#[test]
fn a_valid_graph_has_no_problems() {
    assert!(rules(&graph(vec![
        start().then("p"),
        play("p", "hi").then("end"),
        hangup("end")
    ]))
    .is_empty());
}

#[test]
fn rule_exactly_one_start() {
    assert!(rules(&graph(vec![hangup("start")])).contains(&"one-start"));
    let two = graph(vec![
        start().then("end"),
        Node::new("s2", "Start 2", NodeKind::Start).then("end"),
        hangup("end"),
    ]);
    assert!(rules(&two).contains(&"one-start"));
}

#[test]
fn rule_every_edge_target_exists() {
    let g = graph(vec![start().then("missing")]);
    let problems = g.validate();
    assert!(problems.iter().any(|p| p.rule == "edge-target"
        && p.node.as_deref() == Some("start")
        && p.message.contains("missing")));
}

#[test]
fn rule_no_unreachable_nodes() {
    let g = graph(vec![start().then("end"), hangup("end"), hangup("orphan")]);
    let problems = g.validate();
    assert!(problems
        .iter()
        .any(|p| p.rule == "reachable" && p.node.as_deref() == Some("orphan")));
}

#[test]
fn rule_no_cycles() {
    let g = graph(vec![
        start().then("a"),
        play("a", "x").then("b"),
        play("b", "y").then("a"),
    ]);
    let problems = g.validate();
    let cycle = problems
        .iter()
        .find(|p| p.rule == "no-cycles")
        .expect("a cycle");
    assert!(
        cycle.message.contains("a → b → a") || cycle.message.contains("b → a → b"),
        "{}",
        cycle.message
    );
}

#[test]
fn rule_every_non_terminal_node_has_a_default_edge() {
    let g = graph(vec![start().then("p"), play("p", "hi")]);
    assert!(g
        .validate()
        .iter()
        .any(|p| p.rule == "default-edge" && p.node.as_deref() == Some("p")));
}

#[test]
fn rule_error_edges_only_where_a_node_can_fail() {
    let g = graph(vec![
        start().then("p"),
        play("p", "hi").then("end").on_error("end"),
        hangup("end"),
    ]);
    assert!(g
        .validate()
        .iter()
        .any(|p| p.rule == "error-edge" && p.node.as_deref() == Some("p")));
    let ok = graph(vec![
        start().then("q"),
        Node::new(
            "q",
            "Queue",
            NodeKind::Queue {
                queue: "Sales".into(),
            },
        )
        .then("end")
        .on_error("end"),
        hangup("end"),
    ]);
    assert!(ok.validate().is_empty());
}

#[test]
fn rule_a_module_never_calls_itself() {
    let mut g = graph(vec![
        start().then("c"),
        Node::new(
            "c",
            "Call",
            NodeKind::CallModule {
                module: "Test Flow".into(),
            },
        )
        .then("end"),
        hangup("end"),
    ]);
    g.flow_type = FlowType::CommonModule;
    assert!(rules(&g).contains(&"no-self-call"));
}

#[test]
fn rule_names_are_1_to_200_characters_without_control_characters() {
    let mut g = graph(vec![start().then("end"), hangup("end")]);
    g.name = "x".repeat(201);
    assert!(rules(&g).contains(&"flow-name"));
    g.name = String::new();
    assert!(rules(&g).contains(&"flow-name"));
    g.name = "tab\there".into();
    assert!(rules(&g).contains(&"flow-name"));
    g.name = "x".repeat(200);
    assert!(rules(&g).is_empty());
    let bad_node = graph(vec![
        start().then("end"),
        Node::new("end", "line\nbreak", NodeKind::Hangup),
    ]);
    assert!(rules(&bad_node).contains(&"node-name"));
}

#[test]
fn rule_prompts_are_not_empty() {
    let g = graph(vec![
        start().then("p"),
        play("p", "  ").then("end"),
        hangup("end"),
    ]);
    assert!(rules(&g).contains(&"prompt"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let g = graph(vec![
        start().then("nowhere"),
        play("p", "").on_error("x"),
        hangup("orphan"),
    ]);
    let err = render_graph(&g).expect_err("invalid");
    let text = err.to_string();
    for rule in [
        "edge-target",
        "prompt",
        "error-edge",
        "default-edge",
        "reachable",
    ] {
        assert!(text.contains(rule), "{rule} missing from:\n{text}");
    }
}

#[test]
fn media_prompts_render_as_audio_expressions() {
    let g = graph(vec![
        start().then("p"),
        Node::new(
            "p",
            "Welcome",
            NodeKind::Play {
                prompt: Prompt::Media("WelcomeMessage".into()),
            },
        )
        .then("end"),
        hangup("end"),
    ]);
    let doc = render_graph(&g).expect("valid");
    assert!(
        doc.yaml.contains("exp: ToAudio(Prompt.WelcomeMessage)"),
        "{}",
        doc.yaml
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn names_and_prompts_survive_render_then_parse(
        name in "[^\\p{Cc}]{1,60}".prop_filter("no placeholder, not blank, no outer whitespace", |s| !s.contains("{{") && !s.trim().is_empty() && s.trim() == s),
        prompt in "\\PC{1,80}".prop_filter("not blank", |s| !s.trim().is_empty()),
    ) {
        let t = SharedTemplate { name: name.clone(), description: None, division: "Home".into(), language: "en-us".into(), greeting: prompt.clone() };
        let doc = flow::render_shared(&t).expect("valid");
        let v: yaml_serde::Value = yaml_serde::from_str(&doc.yaml).expect("parses");
        let body = &v["commonModule"];
        prop_assert_eq!(body["name"].as_str(), Some(name.as_str()));
        prop_assert_eq!(body["startUpTaskActions"][0]["playAudio"]["audio"]["tts"].as_str(), Some(prompt.as_str()));
        let read = flow::read_architect_yaml(&doc.publish_yaml(), &BTreeMap::new(), "x").expect("reads back");
        prop_assert_eq!(read.name, name);
    }
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("tests/fixtures/architect/{name}")).expect("fixture")
}

#[test]
fn a_module_file_in_the_real_world_shape_reads_after_substitution() {
    let doc = flow::read_architect_yaml(
        &fixture("routing_module.yaml"),
        &vars(&[("routing_module", "Routing Module"), ("division", "Home")]),
        "routing_module.yaml",
    )
    .expect("reads");
    assert_eq!(doc.flow_type, FlowType::CommonModule);
    assert_eq!(doc.name, "Routing Module");
    assert_eq!(doc.division.as_deref(), Some("Home"));
    assert!(doc.modules.is_empty());
}

#[test]
fn nested_module_calls_and_queues_are_all_found() {
    let doc = flow::read_architect_yaml(
        &fixture("routing_example.yaml"),
        &vars(&[
            ("flow_name", "Routing Example"),
            ("division", "Home"),
            ("routing_module", "Routing Module"),
            ("priority_module", "Priority Greeting"),
        ]),
        "routing_example.yaml",
    )
    .expect("reads");
    assert_eq!(doc.flow_type, FlowType::InboundCall);
    assert_eq!(doc.modules, vec!["Priority Greeting", "Routing Module"]);
    assert_eq!(doc.queues, vec!["Billing", "General Support"]);
}

/// flowctl's YAML crate reads the YAML 1.2 core schema: an unquoted `017`, `1_000` or `No`
/// is text, not a number or a boolean, so the name and description a user wrote are the
/// ones published (a crate reading them the YAML 1.1 way would change or refuse them).
#[test]
fn unquoted_names_that_look_like_numbers_or_booleans_keep_their_spelling() {
    for (name, description) in [("017", "yes"), ("1_000", "on"), ("No", "off")] {
        let text = format!(
            "commonModule:\n  name: {name}\n  description: {description}\n  startUpTaskActions:\n    - endTask:\n        name: done\n"
        );
        let doc = flow::read_architect_yaml(&text, &BTreeMap::new(), "m.yaml")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.name, name);
        assert_eq!(doc.description.as_deref(), Some(description));
    }
}

#[test]
fn an_unreplaced_placeholder_is_named_with_its_line() {
    let err = flow::read_architect_yaml(
        &fixture("menu_minimal.yaml"),
        &vars(&[("flow_name", "X")]),
        "menu_minimal.yaml",
    )
    .expect_err("placeholders left");
    let text = err.to_string();
    assert!(matches!(err, FlowError::Placeholders { .. }));
    assert!(text.contains("{{description}} (line 5)"), "{text}");
    assert!(text.contains("{{menu_disconnect_name}}"), "{text}");
    assert!(!text.contains("{{flow_name}}"), "{text}");
}

#[test]
fn malformed_yaml_reports_line_and_column() {
    let err = flow::read_architect_yaml(
        "inboundCall:\n  name: [oops\n",
        &BTreeMap::new(),
        "bad.yaml",
    )
    .expect_err("bad");
    let text = err.to_string();
    assert!(text.starts_with("bad.yaml:"), "{text}");
    assert!(
        matches!(
            err,
            FlowError::Yaml {
                line: Some(_),
                column: Some(_),
                ..
            }
        ),
        "{text}"
    );
}

#[test]
fn lint_finds_modules_queues_and_a_resolvable_menu_start() {
    let text = fixture("menu_minimal.yaml");
    let v = vars(&[
        ("flow_name", "Menu Flow"),
        ("description", "d"),
        ("default_language", "en-us"),
        ("greeting", "hi"),
        ("menu_disconnect_name", "Bye"),
    ]);
    let report = flowctl::commands::lint::lint_text(&text, &v, "menu_minimal.yaml");
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.name.as_deref(), Some("Menu Flow"));

    let broken = text.replace("menu[mainMenu]", "menu[elsewhere]");
    let report = flowctl::commands::lint::lint_text(&broken, &v, "menu_minimal.yaml");
    assert!(!report.ok);
    assert!(
        report.problems.iter().any(|p| p.contains("elsewhere")),
        "{:?}",
        report.problems
    );
}

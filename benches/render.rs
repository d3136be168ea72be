//! `cargo bench --bench render`: validating and rendering a flow of N nodes stays linear
//! (and a 1,000-node flow well under 10 ms). The flow alternates Play and Queue nodes,
//! each queue's error edge going to one shared Hangup, so every rule and both edge kinds
//! are exercised.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flowctl::flow::{render_graph, FlowGraph, Node, NodeKind, Prompt};
use flowctl::models::FlowType;

fn graph(n: usize) -> FlowGraph {
    let mut nodes = vec![Node::new("start", "Start", NodeKind::Start).then("n1")];
    for i in 1..=n {
        let next = if i == n {
            "end".to_string()
        } else {
            format!("n{}", i + 1)
        };
        let node = if i % 2 == 0 {
            Node::new(
                &format!("n{i}"),
                &format!("Queue {i}"),
                NodeKind::Queue {
                    queue: format!("Queue {i}"),
                },
            )
            .on_error("failed")
        } else {
            Node::new(
                &format!("n{i}"),
                &format!("Say {i}"),
                NodeKind::Play {
                    prompt: Prompt::Tts(format!("Prompt number {i}: \"quoted\" # and more")),
                },
            )
        };
        nodes.push(node.then(&next));
    }
    nodes.push(Node::new("end", "End", NodeKind::Hangup));
    nodes.push(Node::new("failed", "Failed", NodeKind::Hangup));
    FlowGraph {
        flow_type: FlowType::InboundCall,
        name: "Benchmark Flow".into(),
        description: None,
        division: "Home".into(),
        language: "en-us".into(),
        start: "start".into(),
        nodes,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate+render");
    for n in [100usize, 1_000, 10_000] {
        let g = graph(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &g, |b, g| {
            b.iter(|| render_graph(g).expect("valid"));
        });
    }
    group.finish();
    let g = graph(1_000);
    c.bench_function("validate only, 1000 nodes", |b| {
        b.iter(|| assert!(g.validate().is_empty()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

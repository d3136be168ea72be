//! `cargo bench --bench walk`: 1,000 call scenarios walked over a 1,000-action flow, so
//! `flowctl test` is never the slow step of a CI job. The flow mixes what real IVRs do:
//! played audio, assignments, decisions with a branch each, schedule-group checks and a
//! data action, ending in a transfer; the scenarios differ in their givens.

use criterion::{criterion_group, criterion_main, Criterion};
use flowctl::walk::engine::Library;
use flowctl::walk::scenario;
use std::fmt::Write;

/// An inbound call flow whose one task has `n` actions at the top level.
fn flow(n: usize) -> String {
    let mut y = String::from(
        "inboundCall:\n  name: Big\n  startUpRef: \"/inboundCall/tasks/task[T]\"\n  variables:\n    - booleanVariable:\n        name: Flow.vip\n        initialValue:\n          lit: false\n  tasks:\n    - task:\n        name: T\n        refId: T\n        actions:\n",
    );
    for i in 0..n - 1 {
        let a = match i % 5 {
            0 => format!("          - playAudio:\n              name: Say {i}\n              audio:\n                tts: Message number {i}\n"),
            1 => format!("          - updateData:\n              name: Set {i}\n              statements:\n                - string:\n                    variable: Flow.s{i}\n                    value:\n                      lit: v{i}\n"),
            2 => format!("          - decision:\n              name: Check {i}\n              condition:\n                var: Flow.vip\n              outputs:\n                \"yes\":\n                  actions:\n                    - playAudio:\n                        name: VIP {i}\n                        audio:\n                          tts: Hello VIP {i}\n"),
            3 => format!("          - evaluateScheduleGroup:\n              name: Hours {i}\n              scheduleGroup:\n                lit:\n                  name: Hours\n              outputs:\n                closed:\n                  actions:\n                    - disconnect:\n                        name: Closed {i}\n"),
            _ => format!("          - callData:\n              name: Lookup {i}\n              category:\n                CRM:\n                  dataAction:\n                    Get:\n                      successOutputs:\n                        vip:\n                          var: Flow.vip\n              outputs:\n                failure:\n                  actions:\n                    - playAudio:\n                        name: Failed {i}\n                        audio:\n                          tts: Lookup failed\n"),
        };
        y.push_str(&a);
    }
    y.push_str("          - transferToAcd:\n              name: Queue\n              targetQueue:\n                lit:\n                  name: Sales\n");
    y
}

fn scenarios(n: usize) -> String {
    let mut y = String::from("scenarios:\n");
    for i in 0..n {
        let (vip, lookup) = match i % 3 {
            0 => ("true", "{outputs: {vip: true}}"),
            1 => ("false", "{outputs: {vip: false}}"),
            _ => ("false", "failure"),
        };
        let _ = write!(
            y,
            "  - name: call {i}\n    flow: Big\n    given:\n      schedules: {{Hours: open}}\n      dataActions: {{CRM/Get: {lookup}}}\n      variables: {{Flow.vip: {vip}}}\n    expect:\n      transfer: {{queue: Sales}}\n"
        );
    }
    y
}

fn bench(c: &mut Criterion) {
    let mut lib = Library::default();
    let text = flow(1_000);
    lib.add(&text, "big.yaml").expect("flow");
    let all = scenario::parse(&scenarios(1_000), "s.yaml").expect("scenarios");
    // Every scenario must pass, or the benchmark measures an early stop.
    for s in &all {
        let r = scenario::check(&lib, 0, s);
        assert_eq!(r.status, scenario::Status::Pass, "{:?}", r.problems);
    }
    let mut group = c.benchmark_group("walk");
    group.sample_size(10);
    group.bench_function("1000 scenarios x 1000 actions", |b| {
        b.iter(|| {
            for s in &all {
                std::hint::black_box(scenario::check(&lib, 0, s));
            }
        })
    });
    group.bench_function("parse 1000 scenarios + load the flow", |b| {
        b.iter(|| {
            let mut lib = Library::default();
            lib.add(&text, "big.yaml").expect("flow");
            std::hint::black_box(scenario::parse(&scenarios(1_000), "s.yaml").expect("parse"))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

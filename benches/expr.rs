//! `cargo bench --bench expr`: parsing and type-checking 100,000 Architect expressions
//! (ten shapes from real flows, with varying literals) must take well under a second.

use criterion::{criterion_group, criterion_main, Criterion};
use flowctl::expr::{self, Declarations, Type};

fn expressions(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 10 {
            0 => format!("If(Flow.routing_channel == \"Channel{i}\", true, false)"),
            1 => format!("Left(Flow.accountNumber, {}) == \"9\"", i % 7),
            2 => format!(
                "Append(ToAudioBlank({i}), ToAudioTTS(\"Welcome {i}\"), ToAudioBlank(1000))"
            ),
            3 => format!("IsNotSetOrEmpty(Flow.topics[{}])", i % 5),
            4 => format!("Flow.round > {i} and Count(Flow.topics) < {}", i + 3),
            5 => format!("Right(ToString(Flow.ani), 9) == \"{i:09}\""),
            6 => format!("Round({i}.225, 2) * 3 + Sum({i}, 5, -8)"),
            7 => format!("FindString(\"Hello {i}\", \"l\", 2, true) >= 0 ? \"yes\" : \"no\""),
            8 => format!(
                "AddDays(MakeDateTime(2024, 1, {}, 9, 0, 0), {i})",
                i % 28 + 1
            ),
            _ => format!("Substring(Upper(Trim(\"  abc{i}  \")), 1, 3) != \"BC\""),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut d = Declarations::default();
    d.declare("Flow.routing_channel", Type::one("str"));
    d.declare("Flow.accountNumber", Type::one("str"));
    d.declare("Flow.topics", Type::coll("str"));
    d.declare("Flow.round", Type::one("int"));
    d.declare("Flow.ani", Type::one("str"));
    let exprs = expressions(100_000);
    let mut group = c.benchmark_group("expr");
    group.sample_size(10);
    group.bench_function("parse_and_check_100000", |b| {
        b.iter(|| {
            let mut errors = 0;
            for e in &exprs {
                if !expr::check(e, &d, None).ok() {
                    errors += 1;
                }
            }
            assert_eq!(errors, 0);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

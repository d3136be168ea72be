//! Every example of Architect's catalogue whose documented output is a literal value runs
//! through flowctl's evaluator: at least 90% give the documented value, none a wrong one,
//! the rest say "unsupported".

use flowctl::expr::{self, catalogue, Context, Declarations, Outcome};

/// A documented output that is a literal value (not prose, not tied to a language).
fn is_literal(out: &str) -> bool {
    let s = out.trim();
    (s.len() >= 2 && s.starts_with('"') && s.ends_with('"'))
        || s == "true"
        || s == "false"
        || s == "NOT_SET"
        || s.strip_prefix('-')
            .unwrap_or(s)
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
            && s.chars().any(|c| c.is_ascii_digit())
}

#[test]
fn catalogue_examples_give_the_documented_values() {
    let mut pass = 0;
    let mut unsupported = Vec::new();
    let mut wrong = Vec::new();
    let mut total = 0;
    for f in &catalogue().data.functions {
        for o in &f.overloads {
            for ex in &o.examples {
                if !is_literal(&ex.output) {
                    continue;
                }
                total += 1;
                let done = expr::evaluate(
                    &ex.input,
                    &Declarations::default(),
                    &Context::default(),
                    None,
                );
                match done.outcome {
                    Some(Outcome::Value { value, ty }) => {
                        let got = value.display(ty);
                        if got == ex.output.trim() {
                            pass += 1;
                        } else {
                            wrong.push(format!("{} => {got} (documented {})", ex.input, ex.output));
                        }
                    }
                    Some(Outcome::Unsupported(what)) => {
                        unsupported.push(format!("{} ({what})", ex.input))
                    }
                    Some(Outcome::Error(m)) => wrong.push(format!(
                        "{} => runtime error {m} (documented {})",
                        ex.input, ex.output
                    )),
                    None => wrong.push(format!(
                        "{} => check failed: {:?} (documented {})",
                        ex.input, done.checked.problems, ex.output
                    )),
                }
            }
        }
    }
    println!("catalogue examples with a literal output: {total}; documented value {pass}; unsupported {}; wrong {}", unsupported.len(), wrong.len());
    for u in &unsupported {
        println!("  unsupported: {u}");
    }
    assert!(wrong.is_empty(), "wrong values:\n{}", wrong.join("\n"));
    assert!(total >= 560, "only {total} literal examples found");
    assert!(
        pass * 10 >= total * 9,
        "only {pass} of {total} give the documented value"
    );
}

#[test]
fn make_date_time_takes_three_or_six_arguments() {
    for (src, want) in [
        (
            "MakeDateTime(2024, 2, 29)",
            "ToDateTime(\"2024-02-29T00:00:00Z\")",
        ),
        (
            "MakeDateTime(2024, 2, 29, 23, 59, 1)",
            "ToDateTime(\"2024-02-29T23:59:01Z\")",
        ),
        (
            "AddMonths(MakeDateTime(2024, 1, 31), 1) == MakeDateTime(2024, 2, 29)",
            "true",
        ),
    ] {
        let done = expr::evaluate(src, &Declarations::default(), &Context::default(), None);
        match done.outcome {
            Some(Outcome::Value { value, ty }) => assert_eq!(value.display(ty), want, "{src}"),
            other => panic!("{src}: {other:?} {:?}", done.checked.problems),
        }
    }
    let done = expr::evaluate(
        "MakeDateTime(2023, 2, 29)",
        &Declarations::default(),
        &Context::default(),
        None,
    );
    assert!(
        matches!(done.outcome, Some(Outcome::Error(_))),
        "{:?}",
        done.outcome
    );
}

//! Property tests of the expression module: the parser never panics, and the evaluator
//! agrees with plain arithmetic and string slicing over generated inputs.

use flowctl::expr::{self, syntax, Context, Declarations, Outcome, Value};
use proptest::prelude::*;

fn value_of(src: &str) -> Option<Value> {
    match expr::evaluate(src, &Declarations::default(), &Context::default(), None).outcome {
        Some(Outcome::Value { value, .. }) => Some(value),
        _ => None,
    }
}

fn lit(s: &str) -> String {
    expr::value::quote(s)
}

proptest! {
    #[test]
    fn the_parser_never_panics(s in "\\PC{0,60}") {
        let _ = syntax::parse(&s);
        let _ = expr::check(&s, &Declarations::default(), None);
    }

    #[test]
    fn the_parser_never_panics_on_expression_like_text(s in "[A-Za-z(),.\\[\\]\"!&|+*/%^<>=? :0-9-]{0,40}") {
        let _ = expr::evaluate(&s, &Declarations::default(), &Context::default(), None);
    }

    #[test]
    fn integer_arithmetic_matches_rust(a in -100_000i64..100_000, b in -100_000i64..100_000) {
        prop_assert_eq!(value_of(&format!("{a} + {b}")), Some(Value::Int(a + b)));
        prop_assert_eq!(value_of(&format!("{a} - {b}")), Some(Value::Int(a - b)));
        prop_assert_eq!(value_of(&format!("{a} * {b}")), Some(Value::Int(a * b)));
        prop_assert_eq!(value_of(&format!("{a} < {b}")), Some(Value::Bool(a < b)));
        prop_assert_eq!(value_of(&format!("{a} == {b}")), Some(Value::Bool(a == b)));
        prop_assert_eq!(value_of(&format!("{a} & {b}")), Some(Value::Int(a & b)));
    }

    #[test]
    fn precedence_is_multiplication_before_addition(a in 0i64..1000, b in 0i64..1000, c in 0i64..1000) {
        prop_assert_eq!(value_of(&format!("{a} + {b} * {c}")), Some(Value::Int(a + b * c)));
        prop_assert_eq!(value_of(&format!("({a} + {b}) * {c}")), Some(Value::Int((a + b) * c)));
    }

    #[test]
    fn string_functions_match_char_slicing(s in "\\PC{0,20}", n in 0i64..25, m in 0i64..25) {
        let chars: Vec<char> = s.chars().collect();
        let k = (n as usize).min(chars.len());
        let left: String = chars[..k].iter().collect();
        let right: String = chars[chars.len() - k..].iter().collect();
        prop_assert_eq!(value_of(&format!("Left({}, {n})", lit(&s))), Some(Value::Str(left)));
        prop_assert_eq!(value_of(&format!("Right({}, {n})", lit(&s))), Some(Value::Str(right)));
        let end = (k + m as usize).min(chars.len());
        let sub: String = chars[k..end].iter().collect();
        prop_assert_eq!(value_of(&format!("Substring({}, {n}, {m})", lit(&s))), Some(Value::Str(sub)));
        prop_assert_eq!(value_of(&format!("Length({})", lit(&s))), Some(Value::Int(chars.len() as i64)));
    }

    #[test]
    fn a_displayed_value_reads_back_as_the_same_value(s in "\\PC{0,20}", n in -1_000_000i64..1_000_000, b: bool) {
        for src in [lit(&s), n.to_string(), b.to_string(), format!("MakeList({n}, {n})"), format!("MakeDuration(0, 0, 0, {})", n.abs())] {
            let done = expr::evaluate(&src, &Declarations::default(), &Context::default(), None);
            let Some(Outcome::Value { value, ty }) = done.outcome else { panic!("{src}") };
            let shown = value.display(ty);
            prop_assert_eq!(value_of(&shown), Some(value), "{} shown as {}", src, shown);
        }
    }

    #[test]
    fn variable_names_match_in_any_case(name in "[a-z][a-z0-9_]{0,10}", v in -1000i64..1000, upper: bool) {
        let mut d = Declarations::default();
        d.declare(&format!("Flow.{name}"), expr::Type::one("int"));
        let mut cx = Context::default();
        cx.set(&format!("Flow.{name}"), Value::Int(v));
        let written = if upper { format!("FLOW.{}", name.to_uppercase()) } else { format!("flow.{name}") };
        let done = expr::evaluate(&format!("{written} + 1"), &d, &cx, None);
        prop_assert_eq!(done.outcome, Some(Outcome::Value { value: Value::Int(v + 1), ty: expr::Type::one("int") }));
    }
}

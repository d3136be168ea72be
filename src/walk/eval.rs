//! The one place the walk evaluates an Architect expression. Everything the walk decides
//! from an `exp:` (a decision's condition, a switch case, an assignment, a dynamic
//! transfer target) comes through [`eval_expression`], which hands it to [`crate::expr`]
//! (Architect's grammar, type check and evaluator). An expression that cannot be
//! evaluated (a function flowctl does not compute, a type error, a runtime error, a
//! variable whose value the walk cannot know) is an `Err` naming it: the scenario becomes
//! unknown, never a guess.

use super::value::{Val, Vars};
use crate::expr::{self, Context, Declarations, Outcome, Type, Undeclared, Value};

/// Why an expression has no value in the walk: the message names the expression.
pub(crate) type Unevaluated = String;

/// Evaluates `expression` with the variables of `scopes` (the flow's, then the call's).
pub(crate) fn eval_expression(expression: &str, scopes: &[&Vars]) -> Result<Val, Unevaluated> {
    let shown = one_line(expression);
    let lower = expression.to_ascii_lowercase();
    // Undeclared names type-check as "unknown" (matching anything), as lint's do.
    let mut decls = Declarations::new(Undeclared::Note);
    let mut cx = Context::default();
    for vars in scopes {
        for (name, value) in vars.iter() {
            let v = match value {
                Val::Unknown(why) => {
                    if mentions(&lower, &name.to_ascii_lowercase()) {
                        return Err(format!("expression `{shown}` reads {name}: {why}"));
                    }
                    continue;
                }
                Val::NotSet => Value::NotSet,
                Val::Bool(b) => Value::Bool(*b),
                Val::Int(i) => Value::Int(*i),
                Val::Dec(d) => Value::Dec(expr::value::Dec::new(*d)),
                Val::Str(s) => Value::Str(s.clone()),
            };
            let ty = match value {
                Val::Bool(_) => Some(Type::one("bln")),
                Val::Int(_) => Some(Type::one("int")),
                Val::Dec(_) => Some(Type::one("dec")),
                Val::Str(_) => Some(Type::one("str")),
                _ => None,
            };
            if let Some(ty) = ty {
                decls.declare(name, ty);
            }
            cx.set(name, v);
        }
    }
    let done = expr::evaluate(expression, &decls, &cx, None);
    match done.outcome {
        Some(Outcome::Value { value, ty }) => match value {
            Value::NotSet => Ok(Val::NotSet),
            Value::Bool(b) => Ok(Val::Bool(b)),
            Value::Int(i) => Ok(Val::Int(i)),
            Value::Dec(d) => Ok(Val::Dec(d.v)),
            Value::Str(s) => Ok(Val::Str(s)),
            other => Err(format!(
                "expression `{shown}` gives {} ({}), which the walk does not hold in a variable",
                other.display(ty),
                ty.name()
            )),
        },
        Some(Outcome::Unsupported(f)) => {
            Err(format!("expression `{shown}`: flowctl cannot evaluate {f}"))
        }
        Some(Outcome::Error(m)) => Err(format!(
            "expression `{shown}` fails at run time ({m}); Architect would take the flow's error handling"
        )),
        None => {
            let why = done
                .checked
                .problems
                .iter()
                .find(|p| p.severity == expr::Severity::Error)
                .map(|p| p.message.clone())
                .unwrap_or_else(|| "it does not type-check".into());
            Err(format!("expression `{shown}`: {why}"))
        }
    }
}

/// True when `expression` (lower case) names variable `name` (lower case) as a whole word.
fn mentions(expression: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut rest = expression;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        if !before.is_some_and(ident) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return true;
        }
        rest = &rest[at + name.len()..];
    }
    false
}

/// A condition (decision, switch case): a Boolean, or a text Architect casts to one
/// (`"true"`, `"false"`). `NOT_SET` or any other value is a runtime error in Architect;
/// the walk reports it as unknown.
pub(crate) fn eval_condition(expression: &str, scopes: &[&Vars]) -> Result<bool, Unevaluated> {
    match eval_expression(expression, scopes)? {
        Val::Bool(b) => Ok(b),
        Val::Str(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Val::Str(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(format!(
            "condition `{}` is {}, not a Boolean",
            one_line(expression),
            other.display()
        )),
    }
}

/// An expression on one line, for messages (real exports split long ones over lines).
pub(crate) fn one_line(expression: &str) -> String {
    expression.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The string literals of an expression, in order (`ToAudioTTS("Hello")` → `Hello`): what
/// an audio expression says, for `expect.says`. Not an evaluation: only the quoted text.
pub(crate) fn string_literals(expression: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expression.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next() {
                None => return out,
                Some('\\') => {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                }
                Some('"') => break,
                Some(x) => s.push(x),
            }
        }
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Val)]) -> Vars {
        let mut v = Vars::default();
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    #[test]
    fn expressions_are_evaluated_with_the_walks_variables() {
        let flow = vars(&[
            ("Flow.route", Val::Str("Priority".into())),
            ("Flow.n", Val::Int(3)),
        ]);
        let call = vars(&[("Call.Ani", Val::Str("tel:+15551234567".into()))]);
        assert_eq!(
            eval_condition("Flow.route == \"Priority\" and Flow.n > 2", &[&flow, &call]),
            Ok(true)
        );
        assert_eq!(
            eval_expression("Right(Call.Ani, 4)", &[&flow, &call]),
            Ok(Val::Str("4567".into()))
        );
        assert_eq!(eval_condition("!(flow.N == 3)", &[&flow]), Ok(false));
    }

    #[test]
    fn what_cannot_be_evaluated_is_an_error_naming_the_expression() {
        let flow = vars(&[("Flow.vip", Val::Unknown("an output of bot flow 'B'".into()))]);
        let e = eval_condition("Flow.vip == true", &[&flow]).expect_err("unknown input");
        assert!(
            e.contains("`Flow.vip == true` reads Flow.vip: an output of bot flow 'B'"),
            "{e}"
        );
        let e = eval_expression("FindQueue(\"Sales\")", &[]).expect_err("unsupported");
        assert!(e.contains("`FindQueue(\"Sales\")`"), "{e}");
        let e = eval_condition("Lenght(\"x\") > 0", &[]).expect_err("misspelt");
        assert!(e.contains("Lenght"), "{e}");
        let e = eval_condition("\"text\"", &[]).expect_err("not a Boolean");
        assert!(e.contains("not a Boolean"), "{e}");
        // Flow.vipCode is not Flow.vip.
        let flow = vars(&[
            ("Flow.vip", Val::Unknown("x".into())),
            ("Flow.vipCode", Val::Int(1)),
        ]);
        assert_eq!(eval_condition("Flow.vipCode == 1", &[&flow]), Ok(true));
    }

    #[test]
    fn string_literals_unescape_quotes() {
        assert_eq!(
            string_literals(r#"Append(ToAudioTTS("Say \"hi\""), ToAudioTTS("bye"))"#),
            ["Say \"hi\"", "bye"]
        );
        assert!(string_literals("ToAudioBlank(100)").is_empty());
    }
}

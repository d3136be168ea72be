//! The one place the walk evaluates an Architect expression. Everything the walk decides
//! from an `exp:` (a decision's condition, a switch case, an assignment, a dynamic
//! transfer target) comes through [`eval_expression`], so the expression engine is wired
//! in one place. An expression that cannot be evaluated is an `Err` naming it: the scenario
//! becomes unknown, never a guess.

use super::value::Val;

/// Why an expression has no value in the walk: the message names the expression.
pub(crate) type Unevaluated = String;

/// Evaluates `expression` with variables from `lookup` (case-insensitive names; `None` for
/// a variable the flow does not have).
pub(crate) fn eval_expression(
    expression: &str,
    lookup: &dyn Fn(&str) -> Option<Val>,
) -> Result<Val, Unevaluated> {
    let _ = lookup;
    Err(format!(
        "expression `{}`: expression evaluation not available",
        one_line(expression)
    ))
}

/// A condition (decision, switch case): a Boolean, or a text Architect casts to one
/// (`"true"`, `"false"`). `NOT_SET` or any other value is a runtime error in Architect;
/// the walk reports it as unknown.
pub(crate) fn eval_condition(
    expression: &str,
    lookup: &dyn Fn(&str) -> Option<Val>,
) -> Result<bool, Unevaluated> {
    match eval_expression(expression, lookup)? {
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

    #[test]
    fn string_literals_unescape_quotes() {
        assert_eq!(
            string_literals(r#"Append(ToAudioTTS("Say \"hi\""), ToAudioTTS("bye"))"#),
            ["Say \"hi\"", "bye"]
        );
        assert!(string_literals("ToAudioBlank(100)").is_empty());
    }
}

//! Expressions in Architect YAML: every `exp:` value is parsed and type-checked with
//! [`crate::expr`] against the variables the file declares, and reported at its line and
//! column in the file. Architect's own rule decides what is an error: a misspelt function
//! (with the function meant), a wrong argument, an unbalanced parenthesis. What lint cannot
//! know is a note, never a warning: a function newer than the catalogue (`MakeCommunication`)
//! or a variable declared somewhere lint does not see (`Call.Ani`, a module's caller).

use super::node::Node;
use super::{Diagnostic, Severity};
use crate::expr::{self, catalogue, Declarations, Type, Undeclared};

/// The variables a flow declares (`- stringVariable: {name: Flow.x}` anywhere in the file,
/// in flow, task and state `variables:`), with their types.
pub(crate) fn declarations(root: &Node) -> Declarations {
    let mut d = Declarations::new(Undeclared::Note);
    collect(root, &mut d, 0);
    d
}

/// The type a YAML variable kind names: `stringVariable` → String,
/// `integerCollectionVariable` → Integer Collection; unknown kinds → unknown.
pub(crate) fn variable_type(kind: &str) -> Type {
    let base = kind.strip_suffix("Variable").unwrap_or(kind);
    let (base, coll) = match base.strip_suffix("Collection") {
        Some(b) => (b, true),
        None => (base, false),
    };
    match catalogue().parse_type(base) {
        Some(t) => Type::new(t.code, coll),
        None => Type::new("unk", coll),
    }
}

fn collect(n: &Node, d: &mut Declarations, depth: usize) {
    if depth > 200 {
        return;
    }
    for (k, v) in n.entries() {
        if let Some(kind) = k.as_str().filter(|k| k.ends_with("Variable")) {
            if let Some(name) = v.get("name").and_then(|x| x.as_str()) {
                if name.contains('.') {
                    d.declare(name, variable_type(kind));
                }
            }
        }
        collect(v, d, depth + 1);
    }
    for item in n.items() {
        collect(item, d, depth + 1);
    }
}

/// Checks every expression under `root`: errors and notes (severity `Note`) go to `out`.
pub(crate) fn check_file(root: &Node, out: &mut Vec<Diagnostic>) {
    let decls = declarations(root);
    walk(root, &decls, out, 0);
}

fn walk(n: &Node, decls: &Declarations, out: &mut Vec<Diagnostic>, depth: usize) {
    if depth > 200 {
        return;
    }
    for (k, v) in n.entries() {
        if k.as_str() == Some("exp") {
            if let Some(text) = v.as_str() {
                check_one(text, v, decls, out);
                continue;
            }
        }
        walk(v, decls, out, depth + 1);
    }
    for item in n.items() {
        walk(item, decls, out, depth + 1);
    }
}

/// One expression. The place it is used decides its type in Architect; lint does not know
/// every place's type, so the result type is not checked (a bare `NOT_SET` is fine where a
/// type is expected, as it always is in a flow).
fn check_one(text: &str, node: &Node, decls: &Declarations, out: &mut Vec<Diagnostic>) {
    if text.trim().is_empty() {
        return;
    }
    let checked = expr::check(text, decls, Some(Type::unknown()));
    for p in checked.problems {
        let (l, c) = expr::syntax::line_col(text, p.at);
        // Positions are exact for a plain one-line scalar; in a quoted or block scalar they
        // point at the expression's line, and the column counts within the expression.
        let (line, column) = if l == 1 {
            (node.line, node.column + c - 1)
        } else {
            (node.line + l - 1, c)
        };
        let (severity, rule) = match p.severity {
            expr::Severity::Error if p.suggestion.is_some() => {
                (Severity::Error, "expression-function")
            }
            expr::Severity::Error => (Severity::Error, "expression"),
            expr::Severity::Note => (Severity::Note, "expression-note"),
        };
        out.push(Diagnostic {
            severity,
            rule,
            line,
            column,
            message: format!("in `{}`: {}", crate::output::sanitize(text, 80), p.message),
            suggestion: p.suggestion,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(yaml: &str) -> Vec<Diagnostic> {
        let root = super::super::node::parse(yaml)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("yaml"));
        let mut out = Vec::new();
        check_file(&root, &mut out);
        out
    }

    #[test]
    fn declared_variables_type_check_and_misspellings_are_errors() {
        let yaml = "inboundCall:\n  variables:\n    - stringVariable:\n        name: Flow.route\n  x:\n    exp: Lenght(Flow.route) > 2\n  y:\n    exp: Length(Flow.route) > 2\n";
        let d = lint(yaml);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(d[0].suggestion.as_deref(), Some("Length"));
        assert_eq!((d[0].line, d[0].column), (6, 10));
    }

    #[test]
    fn new_functions_and_unseen_variables_are_notes() {
        let d = lint("botFlow:\n  a:\n    exp: MakeCommunication(\"Hi\")\n  b:\n    exp: Flow.fromOtherFile\n");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|x| x.severity == Severity::Note));
    }

    #[test]
    fn architects_own_variables_get_no_note() {
        let d =
            lint("inboundCall:\n  a:\n    exp: Call.Ani\n  b:\n    exp: Flow.StartDateTimeUtc\n");
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn variable_kinds_map_to_types() {
        assert_eq!(variable_type("stringVariable"), Type::one("str"));
        assert_eq!(
            variable_type("integerCollectionVariable"),
            Type::coll("int")
        );
        assert_eq!(variable_type("dateTimeVariable"), Type::one("dtm"));
        assert!(variable_type("weirdVariable").is_unknown());
    }
}

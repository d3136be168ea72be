//! Architect's expression language: one grammar, Genesys' own function catalogue, a type
//! check and an evaluator, shared by `lint`, `flowctl expr` and the offline call walk.
//!
//! Pure: no I/O. Declarations (variables and their types) and values come in as arguments.
//!
//! ```
//! use flowctl::expr::{self, Context, Declarations, Outcome};
//! let done = expr::evaluate("Substring(\"Hello\", 2, 3)", &Declarations::default(), &Context::default(), None);
//! match done.outcome {
//!     Some(Outcome::Value { value, ty }) => assert_eq!(value.display(ty), "\"llo\""),
//!     other => panic!("{other:?}"),
//! }
//! ```

pub mod catalogue;
pub mod check;
pub(crate) mod eval;
pub mod syntax;
pub mod value;

pub use catalogue::{catalogue, Type};
pub use check::{check, Checked, Declarations, Problem, Severity, Typed, Undeclared};
pub use eval::{Context, Stop};
pub use value::Value;

/// What evaluating a checked expression gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Value {
        value: Value,
        ty: Type,
    },
    /// flowctl does not compute this; the text names the function.
    Unsupported(String),
    /// Architect would fail at run time.
    Error(String),
}

/// A check and, when it passed, the evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub checked: Checked,
    /// `None` when the type check found an error.
    pub outcome: Option<Outcome>,
}

/// Evaluates an expression tree that passed the check (check once, evaluate many times).
pub(crate) fn evaluate_tree(tree: &Typed, cx: &Context) -> Outcome {
    match eval::eval(tree, cx) {
        Ok(value) => Outcome::Value { value, ty: tree.ty },
        Err(Stop::Unsupported(f)) => Outcome::Unsupported(f),
        Err(Stop::Runtime(m)) => Outcome::Error(m),
    }
}

/// Checks `src` and, when it passes, evaluates it.
pub fn evaluate(src: &str, decls: &Declarations, cx: &Context, expect: Option<Type>) -> Evaluation {
    let checked = check::check(src, decls, expect);
    let outcome = match (&checked.tree, checked.ok()) {
        (Some(tree), true) => Some(evaluate_tree(tree, cx)),
        _ => None,
    };
    Evaluation { checked, outcome }
}

/// Evaluates a constant expression (no variables), as `--set NAME=VALUE` values are written:
/// its value and type, or a message.
pub(crate) fn constant(src: &str) -> Result<(Value, Type), String> {
    let done = evaluate(src, &Declarations::default(), &Context::default(), None);
    match done.outcome {
        Some(Outcome::Value { value, ty }) => Ok((value, ty)),
        Some(Outcome::Unsupported(f)) => Err(format!("flowctl cannot evaluate {f}")),
        Some(Outcome::Error(m)) => Err(m),
        None => Err(done
            .checked
            .problems
            .iter()
            .find(|p| p.severity == Severity::Error)
            .map(|p| p.message.clone())
            .unwrap_or_else(|| "not a valid expression".into())),
    }
}

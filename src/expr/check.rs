//! The type check, as Architect's expression parser does it: overload resolution over the
//! catalogue, the same-type rules of `If`, `MakeList` and the comparisons, property access
//! on the catalogue's types, and the implicit cast of the result to the type the expression
//! is used as (`5` where a Boolean is expected becomes `ToBool(5)`).

use super::catalogue::{catalogue, Function, Overload, Param, Type};
use super::syntax::{self, Expr, ExprKind, Span};
use super::value::Value;
use serde::Serialize;
use std::collections::HashMap;

/// How bad a problem is. `Note`s never fail anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Note,
}

/// One problem in an expression, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub(crate) severity: Severity,
    pub message: String,
    #[serde(skip)]
    pub(crate) at: usize,
    /// The function meant, for a misspelt one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) suggestion: Option<String>,
}

/// What an undeclared variable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeclared {
    /// An error for a lower-case name in the scopes a flow declares itself (`Flow.vip`,
    /// `Task.`, `State.`, `Common.`), a note for built-in ones (`Call.Ani`,
    /// `Flow.HoldPrompt`): what `flowctl expr` does.
    ErrorForFlowScopes,
    /// Always a note: lint cannot see every declaration (outputs bound by other files).
    Note,
}

/// The variables an expression may read and their types. Names match in any case, as in
/// Architect.
#[derive(Debug, Clone)]
pub struct Declarations {
    vars: HashMap<String, (String, Type)>,
    pub(crate) undeclared: Undeclared,
}

impl Default for Declarations {
    fn default() -> Self {
        Declarations {
            vars: HashMap::new(),
            undeclared: Undeclared::ErrorForFlowScopes,
        }
    }
}

impl Declarations {
    pub(crate) fn new(undeclared: Undeclared) -> Self {
        Declarations {
            vars: HashMap::new(),
            undeclared,
        }
    }
    pub fn declare(&mut self, name: &str, ty: Type) {
        self.vars
            .insert(name.to_ascii_lowercase(), (name.to_string(), ty));
    }
    pub(crate) fn get(&self, name: &str) -> Option<Type> {
        self.vars.get(&name.to_ascii_lowercase()).map(|(_, t)| *t)
    }
}

/// Scopes whose variables the flow itself declares.
const FLOW_SCOPES: [&str; 4] = ["flow", "task", "state", "common"];

/// A type-checked node, ready for evaluation.
#[derive(Debug, Clone)]
pub struct Typed {
    pub(crate) ty: Type,
    pub(crate) span: Span,
    pub(crate) node: Node,
}

#[derive(Debug, Clone)]
pub enum Node {
    Lit(Value),
    /// A variable (name as declared, or as written) and the properties read from it.
    Var(String, Vec<String>),
    Prop(Box<Typed>, String),
    Index(Box<Typed>, Box<Typed>),
    /// A catalogue function (its canonical name) or operator (its identifier: `add`, `ter`).
    Call(&'static str, Vec<Typed>),
    /// Something the evaluator cannot compute: a function missing from the catalogue, or a
    /// placeholder.
    Opaque(String),
}

/// The result of checking one expression.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The type, when the expression has no error.
    pub(crate) ty: Option<Type>,
    pub problems: Vec<Problem>,
    pub(crate) tree: Option<Typed>,
}

impl Checked {
    pub fn ok(&self) -> bool {
        !self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

struct Cx<'a> {
    src: &'a str,
    decls: &'a Declarations,
    problems: Vec<Problem>,
}

/// An error that stops the check of the expression (as Architect stops at its first).
struct Stop;

/// Parses and type-checks `src`. With `expect`, the result must convert to that type.
pub fn check(src: &str, decls: &Declarations, expect: Option<Type>) -> Checked {
    let ast = match syntax::parse(src) {
        Ok(a) => a,
        Err(e) => {
            return Checked {
                ty: None,
                problems: vec![Problem {
                    severity: Severity::Error,
                    message: e.message,
                    at: e.at,
                    suggestion: None,
                }],
                tree: None,
            }
        }
    };
    check_ast(src, &ast, decls, expect)
}

/// Type-checks a parsed expression (`src` is its text, for positions in messages).
pub(crate) fn check_ast(
    src: &str,
    ast: &Expr,
    decls: &Declarations,
    expect: Option<Type>,
) -> Checked {
    let mut cx = Cx {
        src,
        decls,
        problems: Vec::new(),
    };
    let typed = match cx.expr(ast) {
        Ok(t) => t,
        Err(Stop) => {
            return Checked {
                ty: None,
                problems: cx.problems,
                tree: None,
            }
        }
    };
    match cx.finish(typed, expect) {
        Ok(t) => Checked {
            ty: Some(t.ty),
            problems: cx.problems,
            tree: Some(t),
        },
        Err(Stop) => Checked {
            ty: None,
            problems: cx.problems,
            tree: None,
        },
    }
}

fn is_num(t: Type) -> bool {
    !t.collection && (t.is("int") || t.is("dec"))
}

impl Cx<'_> {
    fn col(&self, at: usize) -> usize {
        syntax::column(self.src, at)
    }

    fn error(&mut self, at: usize, message: String) -> Stop {
        self.problems.push(Problem {
            severity: Severity::Error,
            message,
            at,
            suggestion: None,
        });
        Stop
    }

    fn note(&mut self, at: usize, message: String) {
        self.problems.push(Problem {
            severity: Severity::Note,
            message,
            at,
            suggestion: None,
        });
    }

    fn finish(&mut self, t: Typed, expect: Option<Type>) -> Result<Typed, Stop> {
        let Some(want) = expect else {
            if t.ty.is_not_set() {
                return Err(self.error(
                    t.span.start,
                    "the result of this expression cannot be resolved to a data type: wrap it in a cast, as in ToString(NOT_SET)".into(),
                ));
            }
            return Ok(t);
        };
        if t.ty == want || t.ty.is_unknown() || want.is_unknown() {
            return Ok(t);
        }
        if t.ty.is_not_set() && !want.collection {
            return Ok(Typed { ty: want, ..t });
        }
        if want.is("any") && want.collection == t.ty.collection {
            return Ok(t);
        }
        if !want.collection {
            if let Some(cast) = default_cast(t.ty, want) {
                self.note(
                    t.span.start,
                    format!(
                        "using '{cast}' to convert the expression from {} to {}",
                        t.ty, want
                    ),
                );
                let span = t.span;
                return Ok(Typed {
                    ty: want,
                    span,
                    node: Node::Call(cast, vec![t]),
                });
            }
        }
        let hint = if want.collection && !t.ty.collection && t.ty.code == want.code {
            ": wrap it in MakeList(...) to make a collection"
        } else {
            ""
        };
        Err(self.error(
            t.span.start,
            format!(
                "cannot convert the expression from type {} to the required type {}{hint}",
                t.ty, want
            ),
        ))
    }

    fn expr(&mut self, e: &Expr) -> Result<Typed, Stop> {
        let lit = |v: Value, code: &str| Typed {
            ty: Type::one(code),
            span: e.span,
            node: Node::Lit(v),
        };
        Ok(match &e.kind {
            ExprKind::Str(s) => lit(Value::Str(s.clone()), "str"),
            ExprKind::Int(n) => lit(Value::Int(*n), "int"),
            ExprKind::Dec(d) => match Value::parse_decimal(d) {
                Some(v) => lit(v, "dec"),
                None => {
                    return Err(self.error(
                        e.span.start,
                        format!("the decimal {d} has too much precision"),
                    ))
                }
            },
            ExprKind::Bool(b) => lit(Value::Bool(*b), "bln"),
            ExprKind::NotSet => Typed {
                ty: Type::not_set(),
                span: e.span,
                node: Node::Lit(Value::NotSet),
            },
            ExprKind::Placeholder(p) => Typed {
                ty: Type::unknown(),
                span: e.span,
                node: Node::Opaque(format!("{{{{{p}}}}}")),
            },
            ExprKind::Path(segs) => self.path(segs, e.span)?,
            ExprKind::Prop(inner, name) => {
                let t = self.expr(inner)?;
                let ty = self.property(t.ty, name, e.span)?;
                Typed {
                    ty,
                    span: e.span,
                    node: Node::Prop(Box::new(t), name.clone()),
                }
            }
            ExprKind::Index(target, idx) => {
                let t = self.expr(target)?;
                let i = self.expr(idx)?;
                let ty = if t.ty.is_unknown() {
                    Type::unknown()
                } else if t.ty.collection && (i.ty == Type::one("int") || i.ty.is_unknown()) {
                    t.ty.element()
                } else if !t.ty.collection && i.ty == Type::one("str") {
                    match &i.node {
                        Node::Lit(Value::Str(p)) => self.property(t.ty, p, e.span)?,
                        _ => Type::unknown(),
                    }
                } else {
                    return Err(self.error(
                        idx.span.start.saturating_sub(1),
                        format!(
                            "'[' at position {} : There is no implementation that accepts parameters of {} and {}.",
                            self.col(idx.span.start.saturating_sub(1)),
                            i.ty,
                            t.ty
                        ),
                    ));
                };
                Typed {
                    ty,
                    span: e.span,
                    node: Node::Index(Box::new(t), Box::new(i)),
                }
            }
            ExprKind::Call {
                name,
                name_span,
                args,
            } => self.call(name, *name_span, args, e.span)?,
            ExprKind::Unary(op, inner) => {
                let t = self.expr(inner)?;
                self.operator(
                    op.catalogue_id(),
                    op.symbol(),
                    e.span.start,
                    vec![t],
                    e.span,
                )?
            }
            ExprKind::Binary(op, l, r) => {
                let lt = self.expr(l)?;
                let rt = self.expr(r)?;
                let at = op_position(self.src, l.span.end, op.symbol());
                self.operator(op.catalogue_id(), op.symbol(), at, vec![lt, rt], e.span)?
            }
            ExprKind::Ternary(c, a, b) => {
                let ct = self.expr(c)?;
                let at = op_position(self.src, c.span.end, "?");
                let at_ = self.expr(a)?;
                let bt = self.expr(b)?;
                self.operator("ter", "?", at, vec![ct, at_, bt], e.span)?
            }
        })
    }

    fn path(&mut self, segs: &[String], span: Span) -> Result<Typed, Stop> {
        if segs.len() < 2 {
            let name = segs.first().cloned().unwrap_or_default();
            if catalogue().function(&name).is_some() {
                return Err(self.error(
                    span.start,
                    format!(
                        "'{name}' at position {} is a function: call it with parentheses, as in {name}(...)",
                        self.col(span.start)
                    ),
                ));
            }
            return Err(self.error(
                span.start,
                format!(
                    "'{name}' at position {} is not a valid function or variable reference",
                    self.col(span.start)
                ),
            ));
        }
        let var = format!("{}.{}", segs[0], segs[1]);
        let mut ty = match self.decls.get(&var) {
            Some(t) => t,
            None => {
                // Architect's built-in variables in these scopes are PascalCase
                // (`Flow.HoldPrompt`, `Flow.StartDateTimeUtc`); an undeclared lower-case name
                // is taken as the flow's own. Unverified as a rule: the safe side is a note.
                let flow_scope = FLOW_SCOPES.contains(&segs[0].to_ascii_lowercase().as_str())
                    && segs[1].starts_with(|c: char| c.is_lowercase());
                if flow_scope && self.decls.undeclared == Undeclared::ErrorForFlowScopes {
                    return Err(self.error(
                        span.start,
                        format!(
                            "the variable '{var}' at position {} is not declared (declare it with --declare {var}:TYPE or --flow FILE)",
                            self.col(span.start)
                        ),
                    ));
                }
                // In lint, Architect's own variables (`Call.Ani`, `Session.`, a PascalCase
                // `Flow.StartDateTimeUtc`) are no news worth a note on every real file; a
                // flow-scope name it cannot see declared (another file's output) is.
                if flow_scope || self.decls.undeclared == Undeclared::ErrorForFlowScopes {
                    self.note(
                        span.start,
                        format!(
                            "the variable '{var}' is not declared here, so its type is not checked"
                        ),
                    );
                }
                Type::unknown()
            }
        };
        for p in &segs[2..] {
            ty = self.property(ty, p, span)?;
        }
        Ok(Typed {
            ty,
            span,
            node: Node::Var(var, segs[2..].to_vec()),
        })
    }

    fn property(&mut self, ty: Type, name: &str, span: Span) -> Result<Type, Stop> {
        if ty.is_unknown() || ty.is("any") || ty.is("acp") {
            return Ok(Type::unknown());
        }
        let info = catalogue().type_info(ty.code);
        let found = (!ty.collection).then_some(info).flatten().and_then(|i| {
            i.properties
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
        });
        match found {
            Some(p) => Ok(Type::new(catalogue().code(&p.ty), p.collection)),
            None => Err(self.error(
                span.start,
                format!(
                    "{ty} has no property '{name}' (position {})",
                    self.col(span.start)
                ),
            )),
        }
    }

    fn call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
    ) -> Result<Typed, Stop> {
        let mut typed = Vec::with_capacity(args.len());
        for a in args {
            typed.push(self.expr(a)?);
        }
        let Some(f) = catalogue().function(name) else {
            if let Some(near) = near_function(name) {
                self.problems.push(Problem {
                    severity: Severity::Error,
                    message: format!(
                        "'{name}' at position {} is not a function Architect knows",
                        self.col(name_span.start)
                    ),
                    at: name_span.start,
                    suggestion: Some(near.to_string()),
                });
                return Err(Stop);
            }
            self.note(
                name_span.start,
                format!(
                    "'{name}' is not in the catalogue of Architect Scripting SDK {}: its arguments and result are not checked",
                    catalogue().data.version
                ),
            );
            return Ok(Typed {
                ty: Type::unknown(),
                span,
                node: Node::Opaque(name.to_string()),
            });
        };
        self.resolve(f, &f.name, name_span.start, typed, span)
    }

    fn operator(
        &mut self,
        id: &str,
        symbol: &str,
        at: usize,
        args: Vec<Typed>,
        span: Span,
    ) -> Result<Typed, Stop> {
        let Some(f) = catalogue().operator(id) else {
            return Err(self.error(at, format!("the operator {symbol} is not in the catalogue")));
        };
        self.resolve(f, symbol, at, args, span)
    }

    fn resolve(
        &mut self,
        f: &'static Function,
        shown: &str,
        at: usize,
        args: Vec<Typed>,
        span: Span,
    ) -> Result<Typed, Stop> {
        let tys: Vec<Type> = args.iter().map(|a| a.ty).collect();
        let mut best: Option<(u32, &Overload)> = None;
        for o in &f.overloads {
            if let Some(cost) = overload_cost(o, &tys) {
                if best.is_none_or(|(c, _)| cost < c) {
                    best = Some((cost, o));
                }
            }
        }
        let pos = self.col(at);
        let Some((_, o)) = best else {
            let what = match tys.len() {
                0 => "There is no implementation that takes zero parameters.".to_string(),
                1 => format!(
                    "There is no implementation that accepts a parameter of type {}.",
                    tys[0]
                ),
                _ => format!(
                    "There is no implementation that accepts parameters of {}.",
                    list(&tys)
                ),
            };
            return Err(self.error(at, format!("'{shown}' at position {pos} : {what}")));
        };
        let known: Vec<Type> = tys
            .iter()
            .copied()
            .filter(|t| !t.is_not_set() && !t.is_unknown())
            .collect();
        let resolver = o.resolver.as_deref().unwrap_or("");
        let mut ty = Type::new(catalogue().code(&o.returns.ty), o.returns.collection);
        match resolver {
            "If" => {
                let (a, b) = (tys[1], tys[2]);
                if !a.is_not_set()
                    && !b.is_not_set()
                    && !a.is_unknown()
                    && !b.is_unknown()
                    && a != b
                {
                    return Err(self.error(
                        at,
                        format!(
                            "'{shown}' at position {pos} : The second and third arguments must be the same type: the second is {a} and the third is {b}."
                        ),
                    ));
                }
                ty = if a.is_unknown() { b } else { a };
            }
            "CollectionBrackets" | "GetAt" => {
                let c = if resolver == "GetAt" { tys[0] } else { tys[1] };
                ty = if c.is_unknown() { c } else { c.element() };
            }
            "SameType" | "n-SameTypeParmNotSetToString" | "Find" => {
                let pool: Vec<Type> = if resolver == "Find" {
                    known.iter().map(|t| t.element()).collect()
                } else if tys.first().is_some_and(|t| t.is("bln") && !t.collection)
                    && o.params.first().is_some_and(|p| p.ty == "bln")
                    && o.params.len() > 1
                {
                    known.iter().skip(1).copied().collect()
                } else {
                    known.clone()
                };
                if let Some(w) = pool.windows(2).find(|w| !same_kind(w[0], w[1])) {
                    return Err(self.error(
                        at,
                        format!(
                            "'{shown}' at position {pos} : There is no implementation that accepts parameters of {} and {}.",
                            w[0], w[1]
                        ),
                    ));
                }
            }
            "n-SameType" | "n-SameTypeRetColl" => {
                if known.is_empty() && !tys.iter().any(|t| t.is_unknown()) {
                    return Err(self.error(
                        at,
                        format!("'{shown}' at position {pos} : Needs to have at least one parameter that is not the value NOT_SET."),
                    ));
                }
                if let Some(w) = known.windows(2).find(|w| w[0] != w[1]) {
                    return Err(self.error(
                        at,
                        format!(
                            "'{shown}' at position {pos} : Must be passed arguments of the same type: {} and {}.",
                            w[0], w[1]
                        ),
                    ));
                }
                if resolver == "n-SameTypeRetColl" {
                    ty = known
                        .first()
                        .map(|t| Type::new(t.code, true))
                        .unwrap_or(Type::new("unk", true));
                }
            }
            "EmptyList" => {
                ty = match known.first() {
                    Some(t) => Type::new(t.code, true),
                    None if tys.iter().any(|t| t.is_unknown()) => Type::new("unk", true),
                    None => {
                        return Err(self.error(
                            at,
                            format!("'{shown}' at position {pos} : Needs to have at least one parameter that is not the value NOT_SET."),
                        ))
                    }
                };
            }
            _ => {}
        }
        if ty.is("any") {
            ty = Type::new("unk", ty.collection);
        }
        if tys.iter().any(|t| t.is_unknown())
            && o.returns.ty == "any"
            && !matches!(resolver, "If" | "n-SameTypeRetColl" | "EmptyList")
        {
            ty = Type::unknown();
        }
        Ok(Typed {
            ty,
            span,
            node: Node::Call(canonical(f), args),
        })
    }
}

fn canonical(f: &'static Function) -> &'static str {
    f.name.as_str()
}

/// Where an operator's symbol is, searching from the end of its left operand.
fn op_position(src: &str, from: usize, symbol: &str) -> usize {
    let rest = src.get(from..).unwrap_or("");
    let lower = rest.to_ascii_lowercase();
    lower.find(symbol).map(|i| from + i).unwrap_or(from)
}

fn list(tys: &[Type]) -> String {
    let names: Vec<String> = tys.iter().map(|t| t.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// Integer and Decimal compare with each other; NOT_SET and unknown match anything.
fn same_kind(a: Type, b: Type) -> bool {
    a == b
        || (is_num(a) && is_num(b))
        || (a.collection && b.collection && is_num(a.element()) && is_num(b.element()))
}

/// How well arguments fit an overload: `None` when they do not, lower is better.
fn overload_cost(o: &Overload, args: &[Type]) -> Option<u32> {
    let n = o.params.len();
    let repeat = o.params.last().is_some_and(|p| p.repeatable);
    if (repeat && args.len() < n) || (!repeat && args.len() != n) {
        return None;
    }
    let mut cost = 0;
    for (i, a) in args.iter().enumerate() {
        let p = &o.params[i.min(n.saturating_sub(1))];
        cost += param_cost(*a, p)?;
    }
    Some(cost)
}

fn param_cost(a: Type, p: &Param) -> Option<u32> {
    if a.is_unknown() {
        return Some(3);
    }
    if a.is_not_set() {
        return if p.ty == "nts" {
            Some(0)
        } else if p.allow_not_set {
            Some(2)
        } else {
            None
        };
    }
    if p.ty == "nts" || a.collection != p.collection {
        return None;
    }
    if p.ty == a.code {
        Some(0)
    } else if p.ty == "any"
        || (p.ty == "acp" && a.code.starts_with("cpx_"))
        || (p.ty == "apa" && (a.is("aud") || a.is("pmt")))
    {
        Some(1)
    } else {
        None
    }
}

/// The cast Architect adds where a value of type `from` is used as `to`: the `To…`
/// function returning `to` that takes `from`.
fn default_cast(from: Type, to: Type) -> Option<&'static str> {
    let mut best: Option<(u32, &'static str)> = None;
    for f in &catalogue().data.functions {
        if f.kind == "operator" || !f.name.starts_with("To") {
            continue;
        }
        for o in &f.overloads {
            if o.disallow_as_default_cast
                || o.returns.ty != to.code
                || o.returns.collection
                || o.params.len() != 1
            {
                continue;
            }
            if let Some(c) = param_cost(from, &o.params[0]) {
                if best.is_none_or(|(b, _)| c < b) {
                    best = Some((c, f.name.as_str()));
                }
            }
        }
    }
    best.map(|(_, n)| n)
}

/// A catalogue function one or two edits from `name` (a misspelling), if any.
pub(crate) fn near_function(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let limit = if name.len() >= 6 { 2 } else { 1 };
    catalogue()
        .data
        .functions
        .iter()
        .filter(|f| f.kind != "operator")
        .map(|f| {
            (
                strsim::osa_distance(&lower, &f.name.to_ascii_lowercase()),
                f.name.as_str(),
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Result<String, String> {
        let c = check(src, &Declarations::default(), None);
        match c.ty {
            Some(t) if c.ok() => Ok(t.name()),
            _ => Err(c
                .problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }

    #[test]
    fn overloads_resolve_as_architect_does() {
        assert_eq!(ty("Substring(\"Hello\", 2, 3)").as_deref(), Ok("String"));
        assert_eq!(ty("2 + 3").as_deref(), Ok("Integer"));
        assert_eq!(ty("2 + 3.5").as_deref(), Ok("Decimal"));
        assert_eq!(ty("MakeList(1, 2)[0]").as_deref(), Ok("Integer"));
        assert_eq!(
            ty("MakeList(NOT_SET, false)").as_deref(),
            Ok("Boolean Collection")
        );
        assert_eq!(ty("toString(1)").as_deref(), Ok("String"));
        assert_eq!(ty("1 == 1.0").as_deref(), Ok("Boolean"));
        assert_eq!(ty("ToString(NOT_SET)").as_deref(), Ok("String"));
        assert_eq!(
            ty("MakeEmailAddress(\"a@b.c\").name").as_deref(),
            Ok("String")
        );
    }

    #[test]
    fn refusals_match_architect() {
        let e = ty("Substring(\"Hello\", 2)").unwrap_err();
        assert!(
            e.contains("no implementation that accepts parameters of String and Integer"),
            "{e}"
        );
        assert!(
            ty("Round(3, 1)").is_err(),
            "no Integer overload of Round with places"
        );
        assert!(ty("If(true, 1, 2.5)").unwrap_err().contains("same type"));
        assert!(ty("MakeList(1, 2.5)").unwrap_err().contains("same type"));
        assert!(ty("Sum(NOT_SET, NOT_SET)")
            .unwrap_err()
            .contains("not the value NOT_SET"));
        assert!(ty("Left(NOT_SET, 2)").is_err());
        assert!(ty("NOT_SET").unwrap_err().contains("cast"));
        assert!(ty("If(5, 1, 2)").is_err(), "no implicit cast inside a call");
        assert!(ty("1 + \"a\"").is_err());
        assert!(ty("Count(1)").is_err());
    }

    #[test]
    fn misspelt_function_gets_did_you_mean_and_new_function_a_note() {
        let c = check("Substrng(\"a\", 1, 1)", &Declarations::default(), None);
        assert!(!c.ok());
        assert_eq!(c.problems[0].suggestion.as_deref(), Some("Substring"));
        let c = check("MakeCommunication(\"x\")", &Declarations::default(), None);
        assert!(c.ok(), "{:?}", c.problems);
        assert_eq!(c.problems[0].severity, Severity::Note);
        assert!(c.problems[0].message.contains("not in the catalogue"));
    }

    #[test]
    fn variables_match_in_any_case_and_undeclared_ones_depend_on_scope() {
        let mut d = Declarations::default();
        d.declare("Flow.Vip", Type::one("bln"));
        let c = check("If(flow.VIP, 1, 2)", &d, None);
        assert!(c.ok(), "{:?}", c.problems);
        assert!(!check("Flow.other", &d, None).ok());
        let c = check("Call.Ani", &d, None);
        assert!(c.ok());
        assert_eq!(c.problems[0].severity, Severity::Note);
        let lenient = Declarations::new(Undeclared::Note);
        assert!(check("Length(Flow.x) > 2", &lenient, None).ok());
    }

    #[test]
    fn implicit_casts_apply_to_the_result_only() {
        let d = Declarations::default();
        let c = check("5", &d, Some(Type::one("bln")));
        assert!(c.ok());
        assert!(c.problems[0].message.contains("ToBool"));
        assert!(check("NOT_SET", &d, Some(Type::one("bln"))).ok());
        assert!(!check("MakeList(true)", &d, Some(Type::one("bln"))).ok());
        let c = check("true", &d, Some(Type::coll("bln")));
        assert!(c.problems[0].message.contains("MakeList"));
    }
}

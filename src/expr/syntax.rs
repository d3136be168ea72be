//! Lexer and parser of Architect's expression language, with byte spans on every node.
//!
//! The grammar follows the ANTLR parser inside Genesys' Architect Scripting SDK 0.0.18
//! (rules `ternary_if_then > log_op_or > log_op_and > bitwise_or > bitwise_and > equ_op >
//! comp_op > add_sub_expr > mul_div_mod_expr > pow_expr > not_bitnot_expr > neg_expr`):
//! negation is `!` (there is no `not`), `and`/`or` are keywords in any case, `true`, `false`
//! and `NOT_SET` are literals only as written, a unary `-` applies to a primary only (so
//! `- - 1` is refused), `^` groups to the right, and `c ? a : b` chains to the left.

use std::fmt;

/// A half-open byte range in the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end.max(self.end),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    BitOr,
    BitAnd,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl BinOp {
    /// The catalogue's identifier of the operator.
    pub(crate) fn catalogue_id(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::BitOr => "bitOr",
            BinOp::BitAnd => "bitAnd",
            BinOp::Eq => "equ",
            BinOp::Ne => "neq",
            BinOp::Lt => "lt",
            BinOp::Le => "lte",
            BinOp::Gt => "gt",
            BinOp::Ge => "gte",
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
            BinOp::Pow => "pow",
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::BitOr => "|",
            BinOp::BitAnd => "&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    BitNot,
    Neg,
}

impl UnOp {
    pub(crate) fn catalogue_id(self) -> &'static str {
        match self {
            UnOp::Not => "not",
            UnOp::BitNot => "bitNot",
            UnOp::Neg => "neg",
        }
    }
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            UnOp::Not => "!",
            UnOp::BitNot => "~",
            UnOp::Neg => "-",
        }
    }
}

/// One node of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub(crate) kind: ExprKind,
    pub(crate) span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Str(String),
    Int(i64),
    /// A decimal literal, kept as written (`2.50`).
    Dec(String),
    Bool(bool),
    NotSet,
    /// `{{name}}`: a placeholder substituted before Architect sees the expression.
    Placeholder(String),
    /// A dotted name (`Flow.vip`, `Call.Ani`, `Flow.customer.name`), segments as written.
    Path(Vec<String>),
    /// `value.name` after something that is not a plain name (`MakeList(1)[0].x`).
    Prop(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// A syntax error: what is wrong and where (byte offset).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub(crate) message: String,
    pub(crate) at: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Int(i64),
    Dec(String),
    Ident(String),
    Placeholder(String),
    True,
    False,
    NotSet,
    And,
    Or,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Question,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Bang,
    Tilde,
    Amp,
    Pipe,
    Eof,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Str(_) => "a string".into(),
        Tok::Int(_) | Tok::Dec(_) => "a number".into(),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Eof => "the end of the expression".into(),
        other => format!("`{}`", tok_text(other)),
    }
}

fn tok_text(t: &Tok) -> &'static str {
    match t {
        Tok::True => "true",
        Tok::False => "false",
        Tok::NotSet => "NOT_SET",
        Tok::And => "and",
        Tok::Or => "or",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::Comma => ",",
        Tok::Dot => ".",
        Tok::Question => "?",
        Tok::Colon => ":",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        Tok::Caret => "^",
        Tok::EqEq => "==",
        Tok::NotEq => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Bang => "!",
        Tok::Tilde => "~",
        Tok::Amp => "&",
        Tok::Pipe => "|",
        _ => "?",
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, SyntaxError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            b'"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(ch) = src[i..].chars().next() else {
                        return Err(SyntaxError {
                            message: "missing end quote for the string".into(),
                            at: start,
                        });
                    };
                    i += ch.len_utf8();
                    match ch {
                        '"' => break,
                        '\\' => {
                            let Some(e) = src[i..].chars().next() else {
                                return Err(SyntaxError {
                                    message: "missing end quote for the string".into(),
                                    at: start,
                                });
                            };
                            i += e.len_utf8();
                            match e {
                                'n' => s.push('\n'),
                                't' => s.push('\t'),
                                'r' => s.push('\r'),
                                '"' | '\\' => s.push(e),
                                other => {
                                    s.push('\\');
                                    s.push(other)
                                }
                            }
                        }
                        other => s.push(other),
                    }
                }
                Tok::Str(s)
            }
            b'0'..=b'9' => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    Tok::Dec(src[start..i].to_string())
                } else {
                    let text = &src[start..i];
                    match text.parse::<i64>() {
                        Ok(n) => Tok::Int(n),
                        Err(_) => {
                            return Err(SyntaxError {
                                message: format!("the integer {text} is too large"),
                                at: start,
                            })
                        }
                    }
                }
            }
            b'{' if b.get(i + 1) == Some(&b'{') => {
                let Some(end) = src[i + 2..].find("}}") else {
                    return Err(SyntaxError {
                        message: "missing `}}` for the placeholder".into(),
                        at: start,
                    });
                };
                let name = src[i + 2..i + 2 + end].trim().to_string();
                i += end + 4;
                Tok::Placeholder(name)
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() {
                    let ch = src[i..].chars().next().unwrap_or(' ');
                    if ch.is_alphanumeric() || ch == '_' || ch == '$' {
                        i += ch.len_utf8();
                    } else {
                        break;
                    }
                }
                let word = &src[start..i];
                if word.is_empty() {
                    return Err(SyntaxError {
                        message: "unexpected character".into(),
                        at: start,
                    });
                }
                match word {
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "NOT_SET" => Tok::NotSet,
                    w if w.eq_ignore_ascii_case("and") => Tok::And,
                    w if w.eq_ignore_ascii_case("or") => Tok::Or,
                    w => Tok::Ident(w.to_string()),
                }
            }
            _ => {
                let two = src.get(i..i + 2).unwrap_or("");
                let (t, n) = match two {
                    "==" => (Tok::EqEq, 2),
                    "!=" => (Tok::NotEq, 2),
                    "<=" => (Tok::Le, 2),
                    ">=" => (Tok::Ge, 2),
                    _ => {
                        let t = match c {
                            b'(' => Tok::LParen,
                            b')' => Tok::RParen,
                            b'[' => Tok::LBracket,
                            b']' => Tok::RBracket,
                            b',' => Tok::Comma,
                            b'.' => Tok::Dot,
                            b'?' => Tok::Question,
                            b':' => Tok::Colon,
                            b'+' => Tok::Plus,
                            b'-' => Tok::Minus,
                            b'*' => Tok::Star,
                            b'/' => Tok::Slash,
                            b'%' => Tok::Percent,
                            b'^' => Tok::Caret,
                            b'<' => Tok::Lt,
                            b'>' => Tok::Gt,
                            b'!' => Tok::Bang,
                            b'~' => Tok::Tilde,
                            b'&' => Tok::Amp,
                            b'|' => Tok::Pipe,
                            _ => {
                                let ch = src[i..].chars().next().unwrap_or('?');
                                return Err(SyntaxError {
                                    message: format!("unexpected character `{ch}`"),
                                    at: start,
                                });
                            }
                        };
                        (t, 1)
                    }
                };
                i += n;
                t
            }
        };
        out.push((tok, Span { start, end: i }));
    }
    out.push((
        Tok::Eof,
        Span {
            start: src.len(),
            end: src.len(),
        },
    ));
    Ok(out)
}

/// How deep expressions may nest before the parser refuses them (Architect limits its
/// call stack too; this bound keeps a hostile expression from exhausting ours).
const MAX_DEPTH: usize = 200;

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    depth: usize,
}

/// Parses one expression (which may span lines).
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    if matches!(p.peek(), Tok::Eof) {
        return Err(SyntaxError {
            message: "the expression is empty".into(),
            at: 0,
        });
    }
    let e = p.ternary()?;
    match p.peek() {
        Tok::Eof => Ok(e),
        Tok::RParen => Err(p.err("there is no `(` for this `)`")),
        Tok::RBracket => Err(p.err("there is no `[` for this `]`")),
        t => {
            let d = describe(t);
            Err(p.err(&format!("unexpected {d} after a complete expression")))
        }
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn span(&self) -> Span {
        self.toks[self.pos].1
    }
    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn err(&self, msg: &str) -> SyntaxError {
        SyntaxError {
            message: msg.to_string(),
            at: self.span().start,
        }
    }
    fn expect(&mut self, t: Tok, open: Option<Span>) -> Result<Span, SyntaxError> {
        if *self.peek() == t {
            return Ok(self.bump().1);
        }
        let what = tok_text(&t);
        match open {
            Some(o) => Err(SyntaxError {
                message: format!(
                    "missing `{what}` for the `{}` at column {}: found {}",
                    if what == ")" { "(" } else { "[" },
                    o.start + 1,
                    describe(self.peek())
                ),
                at: self.span().start,
            }),
            None => Err(self.err(&format!(
                "expected `{what}`, found {}",
                describe(self.peek())
            ))),
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("the expression nests too deeply"));
        }
        Ok(())
    }

    fn ternary(&mut self) -> Result<Expr, SyntaxError> {
        self.enter()?;
        let mut cond = self.binary(0)?;
        while matches!(self.peek(), Tok::Question) {
            self.bump();
            let a = self.binary(0)?;
            self.expect(Tok::Colon, None)?;
            let b = self.binary(0)?;
            let span = cond.span.to(b.span);
            cond = Expr {
                kind: ExprKind::Ternary(Box::new(cond), Box::new(a), Box::new(b)),
                span,
            };
        }
        self.depth -= 1;
        Ok(cond)
    }

    fn binop_at(&self, level: usize) -> Option<BinOp> {
        let t = self.peek();
        let op = match (level, t) {
            (0, Tok::Or) => BinOp::Or,
            (1, Tok::And) => BinOp::And,
            (2, Tok::Pipe) => BinOp::BitOr,
            (3, Tok::Amp) => BinOp::BitAnd,
            (4, Tok::EqEq) => BinOp::Eq,
            (4, Tok::NotEq) => BinOp::Ne,
            (5, Tok::Lt) => BinOp::Lt,
            (5, Tok::Le) => BinOp::Le,
            (5, Tok::Gt) => BinOp::Gt,
            (5, Tok::Ge) => BinOp::Ge,
            (6, Tok::Plus) => BinOp::Add,
            (6, Tok::Minus) => BinOp::Sub,
            (7, Tok::Star) => BinOp::Mul,
            (7, Tok::Slash) => BinOp::Div,
            (7, Tok::Percent) => BinOp::Mod,
            _ => return None,
        };
        Some(op)
    }

    fn binary(&mut self, level: usize) -> Result<Expr, SyntaxError> {
        if level == 8 {
            return self.pow();
        }
        let mut lhs = self.binary(level + 1)?;
        while let Some(op) = self.binop_at(level) {
            self.bump();
            let rhs = self.binary(level + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
        Ok(lhs)
    }

    fn pow(&mut self) -> Result<Expr, SyntaxError> {
        self.enter()?;
        let base = self.unary()?;
        let out = if matches!(self.peek(), Tok::Caret) {
            self.bump();
            let exp = self.pow()?;
            let span = base.span.to(exp.span);
            Expr {
                kind: ExprKind::Binary(BinOp::Pow, Box::new(base), Box::new(exp)),
                span,
            }
        } else {
            base
        };
        self.depth -= 1;
        Ok(out)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        let op = match self.peek() {
            Tok::Bang => UnOp::Not,
            Tok::Tilde => UnOp::BitNot,
            _ => return self.neg(),
        };
        self.enter()?;
        let (_, s) = self.bump();
        let inner = self.unary()?;
        self.depth -= 1;
        let span = s.to(inner.span);
        Ok(Expr {
            kind: ExprKind::Unary(op, Box::new(inner)),
            span,
        })
    }

    fn neg(&mut self) -> Result<Expr, SyntaxError> {
        if !matches!(self.peek(), Tok::Minus) {
            return self.postfix();
        }
        let (_, s) = self.bump();
        if matches!(self.peek(), Tok::Minus) {
            return Err(self.err("a `-` cannot follow a `-`: put the inner one in parentheses"));
        }
        let inner = self.postfix()?;
        let span = s.to(inner.span);
        // `-5` and `-2.5` are literals, as Architect folds them.
        let kind = match inner.kind {
            ExprKind::Int(n) if !inner_was_paren(&self.toks, s) => ExprKind::Int(-n),
            ExprKind::Dec(ref d) if !inner_was_paren(&self.toks, s) => {
                ExprKind::Dec(format!("-{d}"))
            }
            _ => ExprKind::Unary(UnOp::Neg, Box::new(inner)),
        };
        Ok(Expr { kind, span })
    }

    fn postfix(&mut self) -> Result<Expr, SyntaxError> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Tok::LBracket => {
                    let (_, open) = self.bump();
                    let idx = self.ternary()?;
                    let close = self.expect(Tok::RBracket, Some(open))?;
                    let span = e.span.to(close);
                    e = Expr {
                        kind: ExprKind::Index(Box::new(e), Box::new(idx)),
                        span,
                    };
                }
                Tok::Dot => {
                    self.bump();
                    let (name, s) = match self.bump() {
                        (Tok::Ident(n), s) => (n, s),
                        (Tok::True, s) => ("true".into(), s),
                        (Tok::False, s) => ("false".into(), s),
                        (Tok::And, s) => ("and".into(), s),
                        (Tok::Or, s) => ("or".into(), s),
                        (Tok::NotSet, s) => ("NOT_SET".into(), s),
                        (t, s) => {
                            return Err(SyntaxError {
                                message: format!(
                                    "expected a property name after `.`, found {}",
                                    describe(&t)
                                ),
                                at: s.start,
                            })
                        }
                    };
                    let span = e.span.to(s);
                    e = match e.kind {
                        ExprKind::Path(mut segs) => {
                            segs.push(name);
                            Expr {
                                kind: ExprKind::Path(segs),
                                span,
                            }
                        }
                        other => Expr {
                            kind: ExprKind::Prop(
                                Box::new(Expr {
                                    kind: other,
                                    span: e.span,
                                }),
                                name,
                            ),
                            span,
                        },
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let (t, s) = self.bump();
        let kind = match t {
            Tok::Str(v) => ExprKind::Str(v),
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Dec(d) => ExprKind::Dec(d),
            Tok::True => ExprKind::Bool(true),
            Tok::False => ExprKind::Bool(false),
            Tok::NotSet => ExprKind::NotSet,
            Tok::Placeholder(p) => ExprKind::Placeholder(p),
            Tok::LParen => {
                self.enter()?;
                let inner = self.ternary()?;
                let close = self.expect(Tok::RParen, Some(s))?;
                self.depth -= 1;
                return Ok(Expr {
                    kind: inner.kind,
                    span: s.to(close),
                });
            }
            Tok::Ident(name) => {
                if matches!(self.peek(), Tok::LParen) {
                    let (_, open) = self.bump();
                    self.enter()?;
                    let mut args = Vec::new();
                    if !matches!(self.peek(), Tok::RParen) {
                        loop {
                            args.push(self.ternary()?);
                            if matches!(self.peek(), Tok::Comma) {
                                self.bump();
                                continue;
                            }
                            break;
                        }
                    }
                    let close = self.expect(Tok::RParen, Some(open))?;
                    self.depth -= 1;
                    return Ok(Expr {
                        kind: ExprKind::Call {
                            name,
                            name_span: s,
                            args,
                        },
                        span: s.to(close),
                    });
                }
                ExprKind::Path(vec![name])
            }
            Tok::Eof => {
                return Err(SyntaxError {
                    message: "the expression ends where a value was expected".into(),
                    at: s.start,
                })
            }
            other => {
                return Err(SyntaxError {
                    message: format!("expected a value, found {}", describe(&other)),
                    at: s.start,
                })
            }
        };
        Ok(Expr { kind, span: s })
    }
}

/// Whether the token after the `-` at `minus` is a `(`: `-(3)` stays an operation.
fn inner_was_paren(toks: &[(Tok, Span)], minus: Span) -> bool {
    toks.iter()
        .position(|(_, s)| *s == minus)
        .and_then(|i| toks.get(i + 1))
        .is_some_and(|(t, _)| *t == Tok::LParen)
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let before = src.get(..at).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// 1-based column in characters of a byte offset counted over the whole text (Architect's
/// "position").
pub(crate) fn column(src: &str, at: usize) -> usize {
    src.get(..at.min(src.len()))
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn precedence_follows_architect() {
        // `*` binds tighter than `+`, comparison looser than arithmetic, and looser than both.
        let e = p("1 + 2 * 3 == 7 and true");
        let ExprKind::Binary(BinOp::And, l, _) = e.kind else {
            panic!("{e:?}")
        };
        let ExprKind::Binary(BinOp::Eq, l, _) = l.kind else {
            panic!()
        };
        let ExprKind::Binary(BinOp::Add, _, r) = l.kind else {
            panic!()
        };
        assert!(matches!(r.kind, ExprKind::Binary(BinOp::Mul, _, _)));
        // `^` groups to the right.
        let e = p("2 ^ 3 ^ 2");
        let ExprKind::Binary(BinOp::Pow, _, r) = e.kind else {
            panic!()
        };
        assert!(matches!(r.kind, ExprKind::Binary(BinOp::Pow, _, _)));
    }

    #[test]
    fn keywords_and_negation() {
        assert!(matches!(
            p("true AND false").kind,
            ExprKind::Binary(BinOp::And, _, _)
        ));
        assert!(matches!(
            p("true Or false").kind,
            ExprKind::Binary(BinOp::Or, _, _)
        ));
        assert!(matches!(p("!true").kind, ExprKind::Unary(UnOp::Not, _)));
        assert!(
            parse("not true").is_err(),
            "`not` is no operator in Architect"
        );
        assert!(parse("- - 1").is_err());
        assert_eq!(p("-5").kind, ExprKind::Int(-5));
        assert!(matches!(p("-(5)").kind, ExprKind::Unary(UnOp::Neg, _)));
        assert_eq!(p("TRUE").kind, ExprKind::Path(vec!["TRUE".into()]));
    }

    #[test]
    fn paths_calls_indexes_and_strings() {
        assert_eq!(
            p("Flow.customer.name").kind,
            ExprKind::Path(vec!["Flow".into(), "customer".into(), "name".into()])
        );
        let e = p("MakeList(1, 2)[0]");
        assert!(matches!(e.kind, ExprKind::Index(_, _)));
        assert_eq!(p(r#""a\"b\\c""#).kind, ExprKind::Str("a\"b\\c".into()));
        assert_eq!(p("{{ x }}").kind, ExprKind::Placeholder("x".into()));
        let e = p("If(\n  true,\n  1,\n  2)");
        assert!(matches!(e.kind, ExprKind::Call { ref args, .. } if args.len() == 3));
    }

    #[test]
    fn errors_say_where() {
        let e = parse("(1 + 2").unwrap_err();
        assert!(e.message.contains("missing `)`"), "{e}");
        assert_eq!(parse("1 )").unwrap_err().at, 2);
        assert!(parse("\"abc").is_err());
        assert!(parse("").is_err());
        assert_eq!(line_col("a\nbc", 3), (2, 2));
    }
}

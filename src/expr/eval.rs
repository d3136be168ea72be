//! Evaluation of a type-checked expression. Pure: variables' values come in as arguments.
//! What the evaluator does not implement, or what the catalogue does not document (most
//! functions given a NOT_SET argument), stops with `Unsupported` naming the function:
//! never a guess.

use super::catalogue::Type;
use super::check::{Node, Typed};
use super::value::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

/// Why evaluation stopped without a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// flowctl cannot compute this: the text names the function (or placeholder).
    Unsupported(String),
    /// Architect would fail at run time (`ToInt("abc")`, an index past the end).
    Runtime(String),
}

/// What an evaluation may read.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Variables' values by lower-case name; a variable without one is NOT_SET.
    pub(crate) values: HashMap<String, Value>,
    /// The current time for `GetCurrentDateTimeUtc()` (milliseconds since the epoch);
    /// without it that function is unsupported.
    pub(crate) now_ms: Option<i64>,
}

impl Context {
    pub fn set(&mut self, name: &str, v: Value) {
        self.values.insert(name.to_ascii_lowercase(), v);
    }
}

type R = Result<Value, Stop>;

fn unsupported(what: impl Into<String>) -> Stop {
    Stop::Unsupported(what.into())
}
fn runtime(what: impl Into<String>) -> Stop {
    Stop::Runtime(what.into())
}

/// Functions whose handling of a NOT_SET argument the catalogue documents; any other
/// function given NOT_SET is unsupported.
const NOT_SET_OK: &[&str] = &[
    "Append",
    "Sum",
    "Average",
    "Compare",
    "IsSet",
    "IsNotSetOrEmpty",
    "AreEqual",
    "equ",
    "neq",
    "ToString",
    "ToInt",
    "ToDecimal",
    "ToBool",
    "ToDateTime",
    "ToDuration",
    "ToCurrency",
    "ToSkill",
    "ToUser",
    "ToQueue",
    "ToGroup",
    "ToPhoneNumber",
    "ToWrapupCode",
    "ToLanguageSkill",
    "MakeList",
    "MakeEmptyList",
    "MakeCurrency",
    "Replace",
    "DetectLanguage",
    "If",
    "ter",
    "FindFirst",
    "Find",
    "Count",
    "GetAt",
    "bkt",
];

pub(crate) fn eval(t: &Typed, cx: &Context) -> R {
    match &t.node {
        Node::Lit(v) => Ok(v.clone()),
        Node::Opaque(name) => Err(unsupported(name.clone())),
        Node::Var(name, props) => {
            let mut v = cx
                .values
                .get(&name.to_ascii_lowercase())
                .cloned()
                .unwrap_or(Value::NotSet);
            for p in props {
                v = property(v, p)?;
            }
            Ok(v)
        }
        Node::Prop(inner, p) => property(eval(inner, cx)?, p),
        Node::Index(target, idx) => {
            let tv = eval(target, cx)?;
            let iv = eval(idx, cx)?;
            index(tv, iv)
        }
        Node::Call(name, args) => call(name, args, t.ty, cx),
    }
}

fn property(v: Value, p: &str) -> R {
    match (&v, p.to_ascii_lowercase().as_str()) {
        (Value::Currency { amount, .. }, "amount") => {
            Ok(amount.map(Value::Dec).unwrap_or(Value::NotSet))
        }
        (Value::Currency { code, .. }, "code") => {
            Ok(code.clone().map(Value::Str).unwrap_or(Value::NotSet))
        }
        (Value::Record(props), key) => props
            .get(key)
            .cloned()
            .ok_or_else(|| unsupported(format!("the property '{p}'"))),
        _ => Err(unsupported(format!("the property '{p}'"))),
    }
}

fn index(target: Value, idx: Value) -> R {
    match (target, idx) {
        (Value::List(items), Value::Int(i)) => {
            if i < 0 || i as usize >= items.len() {
                Err(runtime(format!(
                    "the index {i} is outside the collection of {} items",
                    items.len()
                )))
            } else {
                Ok(items[i as usize].clone())
            }
        }
        (v @ (Value::Currency { .. } | Value::Record(_)), Value::Str(p)) => property(v, &p),
        _ => Err(unsupported("[ ] with a NOT_SET value")),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Dec(d) => Some(d.v),
        _ => None,
    }
}

fn string(v: &Value) -> Option<&str> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn dec(v: f64) -> R {
    if v.is_finite() {
        Ok(Value::Dec(Dec::new(v)))
    } else {
        Err(runtime("the result is not a finite number"))
    }
}

fn overflow(f: &str) -> Stop {
    runtime(format!("{f}: the Integer result is out of range"))
}

fn call(name: &'static str, args: &[Typed], ty: Type, cx: &Context) -> R {
    // Lazy operators first.
    match name {
        "ter" | "If" => {
            let c = eval(&args[0], cx)?;
            return match c {
                Value::Bool(true) => eval(&args[1], cx),
                Value::Bool(false) => eval(&args[2], cx),
                _ => Err(unsupported(format!("{name} with a NOT_SET condition"))),
            };
        }
        "and" | "or" => {
            let a = eval(&args[0], cx)?;
            let Some(a) = boolean(&a) else {
                return Err(unsupported(format!("{name} with NOT_SET")));
            };
            if (name == "and" && !a) || (name == "or" && a) {
                return Ok(Value::Bool(a));
            }
            let b = eval(&args[1], cx)?;
            return boolean(&b)
                .map(Value::Bool)
                .ok_or_else(|| unsupported(format!("{name} with NOT_SET")));
        }
        _ => {}
    }
    let mut v = Vec::with_capacity(args.len());
    for a in args {
        v.push(eval(a, cx)?);
    }
    if v.iter().any(Value::is_not_set) && !NOT_SET_OK.contains(&name) {
        return Err(unsupported(format!("{name} with a NOT_SET argument")));
    }
    let arg_ty = |i: usize| args.get(i).map(|a| a.ty).unwrap_or_else(Type::unknown);
    match name {
        "add" | "sub" | "mul" | "div" | "mod" | "pow" => arith(name, &v[0], &v[1]),
        "neg" => match &v[0] {
            Value::Int(n) => n.checked_neg().map(Value::Int).ok_or_else(|| overflow("-")),
            Value::Dec(d) => Ok(Value::Dec(Dec {
                v: -d.v,
                scale: d.scale,
            })),
            Value::Duration(ms) => Ok(Value::Duration(-ms)),
            _ => Err(unsupported("- on this type")),
        },
        "not" => Ok(Value::Bool(!boolean(&v[0]).unwrap_or(false))),
        "bitNot" => Ok(Value::Int(!int(&v[0]).unwrap_or(0))),
        "bitAnd" | "bitOr" => match (int(&v[0]), int(&v[1])) {
            (Some(a), Some(b)) => Ok(Value::Int(if name == "bitAnd" { a & b } else { a | b })),
            _ => Err(unsupported(name)),
        },
        "equ" | "neq" | "AreEqual" => {
            let (ignore_case, vals) = if name == "AreEqual"
                && args.len() > 2
                && arg_ty(0) == Type::one("bln")
                && arg_ty(1) != Type::one("bln")
            {
                (boolean(&v[0]).unwrap_or(false), &v[1..])
            } else {
                (false, &v[..])
            };
            let all = vals.windows(2).all(|w| equal(&w[0], &w[1], ignore_case));
            Ok(Value::Bool(if name == "neq" { !all } else { all }))
        }
        "gt" | "gte" | "lt" | "lte" => {
            let o = order(&v[0], &v[1])?;
            Ok(Value::Bool(match name {
                "gt" => o == Ordering::Greater,
                "gte" => o != Ordering::Less,
                "lt" => o == Ordering::Less,
                _ => o != Ordering::Greater,
            }))
        }
        "bkt" => index(v[1].clone(), v[0].clone()),
        "GetAt" => index(v[0].clone(), v[1].clone()),
        "Ceiling" | "Floor" => match &v[0] {
            Value::Int(n) => Ok(Value::Int(*n)),
            Value::Dec(d) => dec(if name == "Ceiling" {
                d.v.ceil()
            } else {
                d.v.floor()
            }),
            _ => Err(unsupported(format!("{name} of a Currency"))),
        },
        "Round" => match (&v[0], v.get(1)) {
            (Value::Dec(d), None) => dec(round_half_away(d.v, 0)),
            (Value::Dec(d), Some(Value::Int(p))) if (0..=15).contains(p) => {
                dec(round_half_away(d.v, *p as i32))
            }
            _ => Err(unsupported("Round of this type")),
        },
        "Sum" | "Average" => sum_avg(name, &v, ty),
        "Append" => {
            let mut s = String::new();
            for x in &v {
                if let Value::Str(p) = x {
                    s.push_str(p);
                }
            }
            Ok(Value::Str(s))
        }
        "Left" | "Right" => {
            let (s, n) = (string(&v[0]).unwrap_or(""), int(&v[1]).unwrap_or(0));
            if n < 0 {
                return Err(runtime(format!("{name}: the length {n} is negative")));
            }
            let chars: Vec<char> = s.chars().collect();
            let n = (n as usize).min(chars.len());
            Ok(Value::Str(if name == "Left" {
                chars[..n].iter().collect()
            } else {
                chars[chars.len() - n..].iter().collect()
            }))
        }
        "Substring" => {
            let s: Vec<char> = string(&v[0]).unwrap_or("").chars().collect();
            let (start, len) = (int(&v[1]).unwrap_or(0), int(&v[2]).unwrap_or(0));
            if start < 0 || len < 0 {
                return Err(runtime(
                    "Substring: the start and the length must not be negative",
                ));
            }
            let a = (start as usize).min(s.len());
            let b = a.saturating_add(len as usize).min(s.len());
            Ok(Value::Str(s[a..b].iter().collect()))
        }
        "Length" => Ok(Value::Int(
            string(&v[0]).unwrap_or("").chars().count() as i64
        )),
        "Lower" => Ok(Value::Str(string(&v[0]).unwrap_or("").to_lowercase())),
        "Upper" => Ok(Value::Str(string(&v[0]).unwrap_or("").to_uppercase())),
        "Trim" => Ok(Value::Str(
            string(&v[0]).unwrap_or("").trim_matches(WS).to_string(),
        )),
        "LTrim" => Ok(Value::Str(
            string(&v[0])
                .unwrap_or("")
                .trim_start_matches(WS)
                .to_string(),
        )),
        "RTrim" => Ok(Value::Str(
            string(&v[0]).unwrap_or("").trim_end_matches(WS).to_string(),
        )),
        "Reverse" => Ok(Value::Str(
            string(&v[0]).unwrap_or("").chars().rev().collect(),
        )),
        "Replace" => {
            let Some(s) = string(&v[0]) else {
                return Err(unsupported("Replace of a NOT_SET String"));
            };
            let Some(find) = string(&v[1]) else {
                return Err(unsupported("Replace of a NOT_SET search"));
            };
            let with = string(&v[2]).unwrap_or("");
            Ok(Value::Str(if find.is_empty() {
                s.to_string()
            } else {
                s.replace(find, with)
            }))
        }
        "Contains" => {
            let (s, sub) = (string(&v[0]).unwrap_or(""), string(&v[1]).unwrap_or(""));
            let ic = v.get(2).and_then(boolean).unwrap_or(false);
            Ok(Value::Bool(if ic {
                s.to_lowercase().contains(&sub.to_lowercase())
            } else {
                s.contains(sub)
            }))
        }
        "FindString" => find_string(&v),
        "Compare" => {
            let ic = v.get(2).and_then(boolean).unwrap_or(false);
            let o = match (&v[0], &v[1]) {
                (Value::NotSet, Value::NotSet) => Ordering::Equal,
                (Value::NotSet, _) => Ordering::Less,
                (_, Value::NotSet) => Ordering::Greater,
                (Value::Str(a), Value::Str(b)) => compare_text(a, b, ic),
                _ => return Err(unsupported("Compare")),
            };
            Ok(Value::Int(o as i64))
        }
        "Split" => {
            let (s, sep) = (string(&v[0]).unwrap_or(""), string(&v[1]).unwrap_or(""));
            if sep.is_empty() {
                return Err(unsupported("Split with an empty separator"));
            }
            Ok(Value::List(
                s.split(sep).map(|p| Value::Str(p.to_string())).collect(),
            ))
        }
        "Year" | "Month" | "Day" | "Hour" | "Minute" | "Second" | "DayOfWeek" | "WeekNum" => {
            let Value::DateTime(ms) = v[0] else {
                return Err(unsupported(name));
            };
            Ok(Value::Int(date_part(name, ms)))
        }
        "MakeDateTime" => make_datetime(&v),
        "MakeDuration" => {
            let n: Vec<i64> = v.iter().map(|x| int(x).unwrap_or(0)).collect();
            let ms = n[0] as i128 * DAY_MS as i128
                + n[1] as i128 * 3_600_000
                + n[2] as i128 * 60_000
                + n[3] as i128 * 1000
                + n.get(4).copied().unwrap_or(0) as i128;
            i64::try_from(ms)
                .map(Value::Duration)
                .map_err(|_| runtime("MakeDuration: the Duration is out of range"))
        }
        "AddDays" | "AddHours" | "AddMinutes" | "AddSeconds" => {
            let (Value::DateTime(t), Some(n)) = (&v[0], int(&v[1])) else {
                return Err(unsupported(name));
            };
            let unit = match name {
                "AddDays" => DAY_MS,
                "AddHours" => 3_600_000,
                "AddMinutes" => 60_000,
                _ => 1000,
            };
            n.checked_mul(unit)
                .and_then(|d| t.checked_add(d))
                .map(Value::DateTime)
                .ok_or_else(|| runtime(format!("{name}: the DateTime is out of range")))
        }
        "AddMonths" | "AddYears" => {
            let (Value::DateTime(t), Some(n)) = (&v[0], int(&v[1])) else {
                return Err(unsupported(name));
            };
            let months = if name == "AddYears" {
                n.checked_mul(12)
            } else {
                Some(n)
            };
            add_months(*t, months)
                .ok_or_else(|| runtime(format!("{name}: the DateTime is out of range")))
        }
        "AddDuration" => match (&v[0], &v[1]) {
            (Value::DateTime(t), Value::Duration(d)) => t
                .checked_add(*d)
                .map(Value::DateTime)
                .ok_or_else(|| runtime("AddDuration: the DateTime is out of range")),
            _ => Err(unsupported(name)),
        },
        "IsSet" => Ok(Value::Bool(!v[0].is_not_set())),
        "IsNotSetOrEmpty" => Ok(Value::Bool(match &v[0] {
            Value::NotSet => true,
            Value::Str(s) => s.is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Currency { amount, .. } => amount.is_none(),
            _ => false,
        })),
        "Count" => match &v[0] {
            Value::List(l) => Ok(Value::Int(l.len() as i64)),
            _ => Err(unsupported("Count of a NOT_SET collection")),
        },
        "FindFirst" | "Find" => {
            let Value::List(l) = &v[0] else {
                return Err(unsupported(format!("{name} in a NOT_SET collection")));
            };
            let hits: Vec<i64> = l
                .iter()
                .enumerate()
                .filter(|(_, x)| equal(x, &v[1], false))
                .map(|(i, _)| i as i64)
                .collect();
            Ok(if name == "Find" {
                Value::List(hits.into_iter().map(Value::Int).collect())
            } else {
                Value::Int(hits.first().copied().unwrap_or(-1))
            })
        }
        // The catalogue documents these casts of NOT_SET ("A NOT_SET User"); the values
        // themselves need the org, so anything else is unsupported.
        "ToSkill" | "ToUser" | "ToQueue" | "ToGroup" | "ToWrapupCode" | "ToLanguageSkill"
        | "ToPhoneNumber"
            if v[0].is_not_set() =>
        {
            Ok(Value::NotSet)
        }
        "MakeList" => Ok(Value::List(v)),
        "MakeEmptyList" => Ok(Value::List(Vec::new())),
        "ToBool" => to_bool(&v[0]),
        "ToInt" => to_int(&v[0]),
        "ToDecimal" => to_decimal(&v[0]),
        "ToString" => to_string(&v, arg_ty(0)),
        "ToDateTime" => match &v[0] {
            Value::NotSet => Ok(Value::NotSet),
            Value::DateTime(t) => Ok(Value::DateTime(*t)),
            Value::Str(s) => parse_datetime(s)
                .map(Value::DateTime)
                .ok_or_else(|| unsupported(format!("ToDateTime of {}", quote(s)))),
            _ => Err(unsupported("ToDateTime of this type")),
        },
        "ToDuration" => match &v[0] {
            Value::NotSet => Ok(Value::NotSet),
            Value::Duration(d) => Ok(Value::Duration(*d)),
            Value::Int(ms) => Ok(Value::Duration(*ms)),
            Value::Str(s) => parse_duration(s)
                .map(Value::Duration)
                .ok_or_else(|| unsupported(format!("ToDuration of {}", quote(s)))),
            _ => Err(unsupported("ToDuration of this type")),
        },
        "MakeCurrency" => {
            let amount = match &v[0] {
                Value::NotSet => None,
                Value::Int(n) => Some(Dec::new(*n as f64)),
                Value::Dec(d) => Some(*d),
                _ => return Err(unsupported("MakeCurrency")),
            };
            let code = string(&v[1]).map(str::to_string);
            Ok(Value::Currency { amount, code })
        }
        "ToCurrency" => match &v[0] {
            Value::NotSet => Ok(Value::NotSet),
            c @ Value::Currency { .. } => Ok(c.clone()),
            Value::Str(s) => {
                let (a, c) = s.split_once('|').unwrap_or((s.as_str(), ""));
                let Some(Value::Dec(d)) = Value::parse_decimal(a.trim()) else {
                    return Err(unsupported(format!("ToCurrency of {}", quote(s))));
                };
                Ok(Value::Currency {
                    amount: Some(d),
                    code: (!c.is_empty()).then(|| c.to_string()),
                })
            }
            _ => Err(unsupported("ToCurrency of this type")),
        },
        "GetCurrencySymbol" => {
            let code = match &v[0] {
                Value::Str(s) => Some(s.as_str()),
                Value::Currency { code, .. } => code.as_deref(),
                _ => None,
            };
            // Only the symbols the catalogue's examples show; others would be a guess.
            match code {
                Some("USD") => Ok(Value::Str("$".into())),
                Some("EUR") => Ok(Value::Str("€".into())),
                other => Err(unsupported(format!(
                    "GetCurrencySymbol of {}",
                    other.unwrap_or("NOT_SET")
                ))),
            }
        }
        "EmailAddressDomainPart" | "EmailAddressLocalPart" => {
            let s = string(&v[0]).unwrap_or("");
            let Some((local, domain)) = s.rsplit_once('@') else {
                return Err(unsupported(format!("{name} of an address without @")));
            };
            Ok(Value::Str(
                if name == "EmailAddressDomainPart" {
                    domain
                } else {
                    local
                }
                .to_string(),
            ))
        }
        "MakeEmailAddress" => {
            let mut props = BTreeMap::new();
            props.insert("id".to_string(), v[0].clone());
            props.insert(
                "name".to_string(),
                v.get(1).cloned().unwrap_or(Value::NotSet),
            );
            Ok(Value::Record(props))
        }
        "DetectLanguage" => {
            let blank = string(&v[0]).is_none_or(|s| s.trim().is_empty());
            if blank {
                Ok(v[1].clone())
            } else {
                Err(unsupported("DetectLanguage of text"))
            }
        }
        "GetCurrentDateTimeUtc" => cx
            .now_ms
            .map(Value::DateTime)
            .ok_or_else(|| unsupported("GetCurrentDateTimeUtc (no clock given)")),
        other => Err(unsupported(other)),
    }
}

const WS: &[char] = &[' ', '\t', '\r', '\n'];

fn arith(op: &str, a: &Value, b: &Value) -> R {
    use Value::*;
    let sym = match op {
        "add" => "+",
        "sub" => "-",
        "mul" => "*",
        "div" => "/",
        "mod" => "%",
        _ => "^",
    };
    match (a, b) {
        (Int(x), Int(y)) => match op {
            "add" => x.checked_add(*y).map(Int).ok_or_else(|| overflow(sym)),
            "sub" => x.checked_sub(*y).map(Int).ok_or_else(|| overflow(sym)),
            "mul" => x.checked_mul(*y).map(Int).ok_or_else(|| overflow(sym)),
            "mod" if *y == 0 => Err(runtime("% by zero")),
            "mod" => x.checked_rem(*y).map(Int).ok_or_else(|| overflow(sym)),
            "div" if *y == 0 => Err(runtime("division by zero")),
            "div" => dec(*x as f64 / *y as f64),
            _ => dec((*x as f64).powf(*y as f64)),
        },
        (Int(_) | Dec(_), Int(_) | Dec(_)) => {
            let (x, y) = (num(a).unwrap_or(0.0), num(b).unwrap_or(0.0));
            match op {
                "add" => dec(x + y),
                "sub" => dec(x - y),
                "mul" => dec(x * y),
                "div" | "mod" if y == 0.0 => Err(runtime("division by zero")),
                "div" => dec(x / y),
                "mod" => dec(x % y),
                _ => dec(x.powf(y)),
            }
        }
        (Str(x), Str(y)) if op == "add" => Ok(Str(format!("{x}{y}"))),
        (DateTime(t), Duration(d)) if op == "add" || op == "sub" => {
            let d = if op == "add" { *d } else { -*d };
            t.checked_add(d)
                .map(DateTime)
                .ok_or_else(|| runtime("the DateTime is out of range"))
        }
        (Duration(d), DateTime(t)) if op == "add" => t
            .checked_add(*d)
            .map(DateTime)
            .ok_or_else(|| runtime("the DateTime is out of range")),
        (Duration(x), Duration(y)) if op == "add" || op == "sub" => {
            let r = if op == "add" {
                x.checked_add(*y)
            } else {
                x.checked_sub(*y)
            };
            r.map(Duration)
                .ok_or_else(|| runtime("the Duration is out of range"))
        }
        (DateTime(x), DateTime(y)) if op == "sub" => x
            .checked_sub(*y)
            .map(Duration)
            .ok_or_else(|| runtime("the Duration is out of range")),
        _ => Err(unsupported(format!("{sym} on these types"))),
    }
}

fn sum_avg(name: &str, v: &[Value], ty: Type) -> R {
    let items: Vec<&Value> = if v.len() == 1 {
        match &v[0] {
            Value::List(l) => l.iter().collect(),
            other => vec![other],
        }
    } else {
        v.iter().collect()
    };
    let set: Vec<&Value> = items.into_iter().filter(|x| !x.is_not_set()).collect();
    if set
        .iter()
        .any(|x| !matches!(x, Value::Int(_) | Value::Dec(_)))
    {
        return Err(unsupported(format!("{name} of this type")));
    }
    if name == "Average" {
        if set.is_empty() {
            return dec(0.0);
        }
        let total: f64 = set.iter().filter_map(|x| num(x)).sum();
        return dec(total / set.len() as f64);
    }
    if ty.is("int") {
        let mut total: i64 = 0;
        for x in set {
            total = total
                .checked_add(int(x).unwrap_or(0))
                .ok_or_else(|| overflow("Sum"))?;
        }
        Ok(Value::Int(total))
    } else {
        dec(set.iter().filter_map(|x| num(x)).sum())
    }
}

fn find_string(v: &[Value]) -> R {
    let s: Vec<char> = string(&v[0]).unwrap_or("").chars().collect();
    let sub_s = string(&v[1]).unwrap_or("");
    let (mut occurrence, mut ic) = (1i64, false);
    for x in &v[2..] {
        match x {
            Value::Int(n) => occurrence = *n,
            Value::Bool(b) => ic = *b,
            _ => {}
        }
    }
    if occurrence < 1 {
        return Err(unsupported("FindString with an occurrence below 1"));
    }
    let fold = |c: &char| -> String {
        if ic {
            c.to_lowercase().collect()
        } else {
            c.to_string()
        }
    };
    let hay: Vec<String> = s.iter().map(fold).collect();
    let needle: Vec<String> = sub_s.chars().map(|c| fold(&c)).collect();
    if needle.is_empty() {
        return Ok(Value::Int(0));
    }
    let mut seen = 0;
    for i in 0..hay.len() {
        if i + needle.len() <= hay.len() && hay[i..i + needle.len()] == needle[..] {
            seen += 1;
            if seen == occurrence {
                return Ok(Value::Int(i as i64));
            }
        }
    }
    Ok(Value::Int(-1))
}

/// Culture-style text order: letters compare regardless of case first, and on a tie a
/// lower-case letter sorts before its upper case (`Compare("hello", "Hello")` is -1).
fn compare_text(a: &str, b: &str, ignore_case: bool) -> Ordering {
    let o = a.to_lowercase().cmp(&b.to_lowercase());
    if o != Ordering::Equal || ignore_case {
        return o;
    }
    for (x, y) in a.chars().zip(b.chars()) {
        if x != y {
            return if x.is_lowercase() {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
    }
    a.len().cmp(&b.len())
}

fn order(a: &Value, b: &Value) -> Result<Ordering, Stop> {
    use Value::*;
    let o = match (a, b) {
        (Int(_) | Dec(_), Int(_) | Dec(_)) => num(a)
            .unwrap_or(0.0)
            .partial_cmp(&num(b).unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Str(x), Str(y)) => compare_text(x, y, false),
        (DateTime(x), DateTime(y)) | (Duration(x), Duration(y)) => x.cmp(y),
        (
            Currency {
                amount: Some(x),
                code: cx,
            },
            Currency {
                amount: Some(y),
                code: cy,
            },
        ) => {
            if cx != cy {
                return Err(runtime("comparing Currency values of different codes"));
            }
            x.v.partial_cmp(&y.v).unwrap_or(Ordering::Equal)
        }
        _ => return Err(unsupported("comparison of these values")),
    };
    Ok(o)
}

fn equal(a: &Value, b: &Value, ignore_case: bool) -> bool {
    use Value::*;
    match (a, b) {
        (Int(_) | Dec(_), Int(_) | Dec(_)) => num(a) == num(b),
        (Str(x), Str(y)) if ignore_case => x.to_lowercase() == y.to_lowercase(),
        (List(x), List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q, ignore_case))
        }
        (
            Currency {
                amount: ax,
                code: cx,
            },
            Currency {
                amount: ay,
                code: cy,
            },
        ) => ax.map(|d| d.v) == ay.map(|d| d.v) && cx == cy,
        _ => a == b,
    }
}

fn date_part(name: &str, ms: i64) -> i64 {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday; Architect numbers Sunday 1.
    let dow = (days + 4).rem_euclid(7) + 1;
    match name {
        "Year" => y,
        "Month" => m,
        "Day" => d,
        "Hour" => rem / 3_600_000,
        "Minute" => rem / 60_000 % 60,
        "Second" => rem / 1000 % 60,
        "DayOfWeek" => dow,
        _ => {
            // Week 1 holds 1 January and weeks start on Sunday (the catalogue's examples:
            // 2009-12-31 is week 53).
            let jan1 = days_from_civil(y, 1, 1);
            let jan1_dow = (jan1 + 4).rem_euclid(7);
            (days - jan1 + jan1_dow) / 7 + 1
        }
    }
}

/// Adds calendar months, keeping the time of day; a day past the new month's end becomes its
/// last day (31 January + 1 month = 29 February 2024). Unverified: the catalogue shows no
/// month-end example; this is what .NET's and Java's AddMonths do.
fn add_months(t: i64, months: Option<i64>) -> Option<Value> {
    let months = months?;
    let days = t.div_euclid(DAY_MS);
    let rem = t.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let total = y.checked_mul(12)?.checked_add(m - 1)?.checked_add(months)?;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    if !(1..=9999).contains(&ny) {
        return None;
    }
    let nd = d.min(days_in_month(ny, nm));
    Some(Value::DateTime(days_from_civil(ny, nm, nd) * DAY_MS + rem))
}

fn make_datetime(v: &[Value]) -> R {
    // MakeDateTime(year, month, day) and MakeDateTime(year, month, day, hour, minute, second).
    let n: Vec<i64> = (0..6)
        .map(|i| v.get(i).and_then(int).unwrap_or(0))
        .collect();
    let (y, mo, d, h, mi, s) = (n[0], n[1], n[2], n[3], n[4], n[5]);
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || !(0..24).contains(&h)
        || !(0..60).contains(&mi)
        || !(0..60).contains(&s)
    {
        return Err(runtime(format!(
            "MakeDateTime({y}, {mo}, {d}, {h}, {mi}, {s}) is not a valid date and time"
        )));
    }
    Ok(Value::DateTime(
        days_from_civil(y, mo, d) * DAY_MS + h * 3_600_000 + mi * 60_000 + s * 1000,
    ))
}

fn to_bool(v: &Value) -> R {
    match v {
        Value::NotSet => Ok(Value::NotSet),
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::Int(n) => Ok(Value::Bool(*n != 0)),
        Value::Dec(d) => Ok(Value::Bool(d.v != 0.0)),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" => Ok(Value::Bool(true)),
            "false" | "f" | "0" => Ok(Value::Bool(false)),
            _ => Err(runtime(format!("ToBool cannot convert {}", quote(s)))),
        },
        _ => Err(unsupported("ToBool of this type")),
    }
}

fn to_int(v: &Value) -> R {
    match v {
        Value::NotSet => Ok(Value::NotSet),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Int(n) => Ok(Value::Int(*n)),
        Value::Dec(d) if d.v.abs() < 9.2e18 => Ok(Value::Int(d.v.trunc() as i64)),
        Value::Dec(_) => Err(runtime("ToInt: the Decimal is out of the Integer range")),
        Value::Duration(ms) => Ok(Value::Int(*ms)),
        // Unverified: a blank string gives NOT_SET, as the catalogue documents for ToDecimal.
        Value::Str(s) if s.trim().is_empty() => Ok(Value::NotSet),
        Value::Str(s) => s
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| runtime(format!("ToInt cannot convert {}", quote(s)))),
        _ => Err(unsupported("ToInt of this type")),
    }
}

fn to_decimal(v: &Value) -> R {
    match v {
        Value::NotSet => Ok(Value::NotSet),
        Value::Bool(b) => dec(if *b { 1.0 } else { 0.0 }),
        Value::Int(n) => dec(*n as f64),
        Value::Dec(d) => Ok(Value::Dec(*d)),
        Value::Currency {
            amount: Some(a), ..
        } => Ok(Value::Dec(Dec {
            v: a.v,
            scale: a.scale.max(2),
        })),
        Value::Currency { amount: None, .. } => Ok(Value::NotSet),
        Value::Str(s) if s.trim().is_empty() => Ok(Value::NotSet),
        Value::Str(s) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && !s.contains(['e', 'E']) => dec(f),
            _ => Err(runtime(format!("ToDecimal cannot convert {}", quote(s)))),
        },
        _ => Err(unsupported("ToDecimal of this type")),
    }
}

fn text_of(v: &Value, places: Option<i64>) -> Result<String, Stop> {
    Ok(match v {
        Value::NotSet => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Dec(d) => match places {
            Some(p) => fixed(d.v, p as usize),
            None => fmt_dec(*d),
        },
        Value::Str(s) => s.clone(),
        Value::DateTime(ms) => fmt_datetime(*ms),
        Value::Duration(ms) => fmt_duration(*ms),
        Value::Currency { amount, code } => format!(
            "{}|{}",
            amount
                .map(|a| match places {
                    Some(p) => fixed(a.v, p as usize),
                    None => fmt_amount_default(a),
                })
                .unwrap_or_default(),
            code.as_deref().unwrap_or("")
        ),
        _ => return Err(unsupported("ToString of this type")),
    })
}

fn to_string(v: &[Value], first: Type) -> R {
    let places = |x: Option<&Value>| -> Result<Option<i64>, Stop> {
        match x.and_then(int) {
            Some(p) if !(0..=15).contains(&p) => Err(runtime(format!(
                "ToString: {p} decimal places is out of range"
            ))),
            p => Ok(p),
        }
    };
    match &v[0] {
        Value::NotSet if !first.collection => Ok(Value::NotSet),
        Value::List(items) => {
            let (sep, p) = match v.get(1) {
                Some(Value::Str(s)) => (s.clone(), places(v.get(2))?),
                Some(Value::Int(_)) => ("\n".to_string(), places(v.get(1))?),
                _ => ("\n".to_string(), None),
            };
            let parts = items
                .iter()
                .map(|x| text_of(x, p))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Str(parts.join(&sep)))
        }
        Value::NotSet => Err(unsupported("ToString of a NOT_SET collection")),
        x @ (Value::Bool(_)
        | Value::Int(_)
        | Value::Dec(_)
        | Value::Str(_)
        | Value::DateTime(_)
        | Value::Duration(_)
        | Value::Currency { .. }) => Ok(Value::Str(text_of(x, places(v.get(1))?)?)),
        _ => Err(unsupported("ToString of this type")),
    }
}

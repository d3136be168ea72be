//! Runtime values and their literal form, as the catalogue's examples write them
//! (`"llo"`, `3.23`, `3.0`, `true`, `NOT_SET`).

use super::catalogue::Type;
use std::collections::BTreeMap;

/// A Decimal. Arithmetic is binary floating point shown to ten places, which gives the
/// documented results of every catalogue example; `scale` keeps the places a literal or a
/// Currency amount was written with (`2.00`), 0 for a computed value (shown shortest, at
/// least one place: `3.0`). Unverified beyond the examples: Architect's own precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dec {
    pub(crate) v: f64,
    pub(crate) scale: u8,
}

impl Dec {
    pub(crate) fn new(v: f64) -> Dec {
        Dec { v, scale: 0 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    NotSet,
    Bool(bool),
    Int(i64),
    Dec(Dec),
    Str(String),
    /// Milliseconds since 1970-01-01T00:00:00Z.
    DateTime(i64),
    /// Milliseconds.
    Duration(i64),
    Currency {
        amount: Option<Dec>,
        code: Option<String>,
    },
    List(Vec<Value>),
    /// A complex value (an email address): its properties by lower-case name.
    Record(BTreeMap<String, Value>),
}

impl Value {
    /// A decimal literal as written (`2.50`); `None` when it has more than 15 places.
    pub(crate) fn parse_decimal(text: &str) -> Option<Value> {
        let places = text.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
        if places > 15 {
            return None;
        }
        let v: f64 = text.parse().ok()?;
        Some(Value::Dec(Dec {
            v,
            scale: places as u8,
        }))
    }

    pub(crate) fn is_not_set(&self) -> bool {
        matches!(self, Value::NotSet)
    }

    /// The literal form: an Architect expression that gives this value.
    pub fn display(&self, ty: Type) -> String {
        match self {
            Value::NotSet => "NOT_SET".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Dec(d) => fmt_dec(*d),
            Value::Str(s) => quote(s),
            Value::DateTime(ms) => format!("ToDateTime({})", quote(&fmt_datetime(*ms))),
            Value::Duration(ms) => format!("ToDuration({})", quote(&fmt_duration(*ms))),
            Value::Currency { amount, code } => format!(
                "MakeCurrency({}, {})",
                amount
                    .map(fmt_amount_default)
                    .unwrap_or_else(|| "ToDecimal(NOT_SET)".into()),
                code.as_deref()
                    .map(quote)
                    .unwrap_or_else(|| "ToString(NOT_SET)".into())
            ),
            Value::List(items) if items.is_empty() => {
                let el = ty.element();
                format!("MakeEmptyList({})", cast_of_not_set(el))
            }
            Value::List(items) => {
                let el = ty.element();
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::NotSet => cast_of_not_set(el),
                        v => v.display(el),
                    })
                    .collect();
                format!("MakeList({})", parts.join(", "))
            }
            Value::Record(props) => {
                let parts: Vec<String> = props
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.display(Type::unknown())))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }

    /// The value as JSON for `--output json`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::NotSet => serde_json::Value::Null,
            Value::Bool(b) => json!(b),
            Value::Int(n) => json!(n),
            Value::Dec(d) => fmt_dec(*d)
                .parse::<f64>()
                .map(|f| json!(f))
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => json!(s),
            Value::DateTime(ms) => json!(fmt_datetime(*ms)),
            Value::Duration(ms) => json!(fmt_duration(*ms)),
            Value::Currency { amount, code } => json!({
                "amount": amount.map(|a| a.v),
                "code": code,
            }),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(|v| v.to_json()).collect())
            }
            Value::Record(props) => serde_json::Value::Object(
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn cast_of_not_set(t: Type) -> String {
    let f = match t.code {
        "str" => "ToString",
        "int" => "ToInt",
        "dec" => "ToDecimal",
        "bln" => "ToBool",
        "dtm" => "ToDateTime",
        "dur" => "ToDuration",
        "cur" => "ToCurrency",
        "skl" => "ToSkill",
        "usr" => "ToUser",
        "que" => "ToQueue",
        "grp" => "ToGroup",
        "phn" => "ToPhoneNumber",
        "wrc" => "ToWrapupCode",
        _ => return "NOT_SET".into(),
    };
    format!("{f}(NOT_SET)")
}

/// A string literal with Architect's escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Decimal as Architect shows it: its scale when it has one, else shortest with at
/// least one place (`3.0`, `6.1`, `5.25`).
pub(crate) fn fmt_dec(d: Dec) -> String {
    if d.scale > 0 {
        return fixed(d.v, d.scale as usize);
    }
    let s = format!("{:.10}", d.v);
    let s = s.trim_end_matches('0');
    let s = if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    };
    if s == "-0.0" {
        "0.0".into()
    } else {
        s
    }
}

/// Rounds half away from zero to `places` (Architect: `Round(3.225, 2)` is `3.23`).
pub(crate) fn round_half_away(v: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    // Decimal literals are not exact in binary: nudge by far less than one unit of the
    // last place shown so that 3.225 rounds as the decimal it was written as.
    let x = v.abs() * m;
    let r = (x + 0.5 + 1e-9 * x.max(1.0)).floor();
    v.signum() * r / m
}

/// `v` with exactly `places` places, rounded half away from zero.
pub(crate) fn fixed(v: f64, places: usize) -> String {
    let r = round_half_away(v, places as i32);
    let s = format!("{r:.places$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// A Currency amount on its own: two places at least (`10.00`).
pub(crate) fn fmt_amount_default(d: Dec) -> String {
    fixed(d.v, (d.scale as usize).max(2))
}

// Civil-date arithmetic (proleptic Gregorian, UTC), after Howard Hinnant's algorithms.

pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    next - days_from_civil(y, m, 1)
}

pub(crate) const DAY_MS: i64 = 86_400_000;

/// `2009-01-10T06:30:00Z` (with `.mmm` when there are milliseconds).
pub(crate) fn fmt_datetime(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }
}

/// ISO 8601 duration as Architect writes it: `PT1H`, `-P9DT18H29M59.544S`.
pub(crate) fn fmt_duration(ms: i64) -> String {
    let neg = ms < 0;
    let a = ms.unsigned_abs();
    let (d, h, m, s, milli) = (
        a / 86_400_000,
        a / 3_600_000 % 24,
        a / 60_000 % 60,
        a / 1000 % 60,
        a % 1000,
    );
    let mut out = String::from(if neg { "-P" } else { "P" });
    if d > 0 {
        out.push_str(&format!("{d}D"));
    }
    if h > 0 || m > 0 || s > 0 || milli > 0 || d == 0 {
        out.push('T');
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if milli > 0 {
            let frac = format!("{milli:03}");
            out.push_str(&format!("{s}.{}S", frac.trim_end_matches('0')));
        } else if s > 0 || (h == 0 && m == 0) {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
pub(crate) fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || !s.ends_with('Z')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let milli = if b[19] == b'.' {
        let f = s.get(20..s.len() - 1)?;
        if f.is_empty() || f.len() > 3 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        format!("{f:0<3}").parse::<i64>().ok()?
    } else if b.len() == 20 {
        0
    } else {
        return None;
    };
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * DAY_MS + h * 3_600_000 + mi * 60_000 + se * 1000 + milli)
}

/// Parses an ISO 8601 duration of days, hours, minutes and seconds (`-P1DT3H`, `PT1.5S`).
pub(crate) fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut ms: i64 = 0;
    if !date.is_empty() {
        let days = date.strip_suffix('D')?.parse::<i64>().ok()?;
        ms = days.checked_mul(DAY_MS)?;
    }
    if let Some(t) = time {
        if t.is_empty() {
            return None;
        }
        let mut num = String::new();
        for c in t.chars() {
            match c {
                '0'..='9' | '.' => num.push(c),
                'H' | 'M' | 'S' => {
                    let unit = match c {
                        'H' => 3_600_000.0,
                        'M' => 60_000.0,
                        _ => 1000.0,
                    };
                    let v: f64 = num.parse().ok()?;
                    ms = ms.checked_add((v * unit).round() as i64)?;
                    num.clear();
                }
                _ => return None,
            }
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(if neg { -ms } else { ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_show_as_architect_writes_them() {
        assert_eq!(fmt_dec(Dec::new(2.2 + 3.9)), "6.1");
        assert_eq!(fmt_dec(Dec::new(3.0)), "3.0");
        assert_eq!(fmt_dec(Dec::new(-0.0)), "0.0");
        assert_eq!(fmt_dec(Dec { v: 2.0, scale: 2 }), "2.00");
        assert_eq!(fixed(3.225, 2), "3.23");
        assert_eq!(fixed(-3.614, 2), "-3.61");
        assert_eq!(round_half_away(-3.6, 0), -4.0);
    }

    #[test]
    fn dates_and_durations_round_trip() {
        let t = days_from_civil(2009, 1, 10) * DAY_MS + 6 * 3_600_000 + 30 * 60_000;
        assert_eq!(fmt_datetime(t), "2009-01-10T06:30:00Z");
        assert_eq!(parse_datetime("2009-01-10T06:30:00Z"), Some(t));
        assert_eq!(civil_from_days(days_from_civil(2000, 2, 29)), (2000, 2, 29));
        assert_eq!(fmt_duration(3_600_000), "PT1H");
        assert_eq!(parse_duration("-P1DT3H"), Some(-(DAY_MS + 3 * 3_600_000)));
        assert_eq!(
            fmt_duration(parse_duration("PT1.5S").unwrap_or(0)),
            "PT1.5S"
        );
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
    }
}

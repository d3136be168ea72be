//! Call scenarios: the file `flowctl test --scenarios` reads, and the check of one walk
//! against what a scenario expects.
//!
//! ```yaml
//! scenarios:
//!   - name: press 1 for 401K
//!     flow: SimpleFinancialIvr
//!     given:
//!       digits: "1"
//!       schedules: {Business Hours: closed}
//!       dataActions: {"Lookups/Get Customer": {outputs: {vip: true}}, "Lookups/Score": failure}
//!       dataTables: {VIP Callers: notFound}
//!       variables: {Call.Ani: "tel:+15551234567"}
//!     expect:
//!       calls: [Shared Greeting Module]
//!       transfer: {queue: Simple Financial 401K queue}   # or: disconnect: true
//!       says: ["401K specialist"]
//! ```

use super::engine::{walk_scenario, Library, Outcome, Walk};
use super::value::Val;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use yaml_serde::Value;

/// A scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "flowctl call scenarios")]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    /// The simulated calls, each walked from its flow's start.
    scenarios: Vec<RawScenario>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    /// What the call tests; a JUnit testcase is named after it.
    name: String,
    /// The flow the call starts in: a flow of the manifest, or of the files given, by name.
    flow: String,
    /// What the caller does and what the org answers.
    #[serde(default)]
    given: RawGiven,
    /// Where the call must end, and what it must do on the way.
    expect: RawExpect,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawGiven {
    /// DTMF the caller enters, in order, across menus and inputs (`0-9`, `*`, `#`; `#` ends
    /// a collected input).
    digits: Option<Digits>,
    /// What each schedule group evaluation returns, by schedule group name.
    #[serde(default)]
    schedules: BTreeMap<String, ScheduleResult>,
    /// What each data action returns, by `Category/Action` or `Action`: its outputs, or
    /// `failure` or `timeout`.
    #[serde(default)]
    data_actions: BTreeMap<String, RawData>,
    /// What each data table lookup returns, by table name: the row's columns, or
    /// `notFound` or `failure`.
    #[serde(default)]
    data_tables: BTreeMap<String, RawData>,
    /// Values of variables at the start (`Call.Ani`, `Flow.vip`, ...).
    #[serde(default)]
    variables: BTreeMap<String, Scalar>,
}

/// A schedule group's result.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum ScheduleResult {
    Open,
    Closed,
    Holiday,
    Emergency,
}

/// A data action's or data table's result.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawData {
    Word(DataWord),
    Outputs(RawOutputs),
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
enum DataWord {
    Success,
    Failure,
    Timeout,
    NotFound,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct RawOutputs {
    /// Output values by output (or column) name.
    #[serde(default)]
    outputs: BTreeMap<String, Scalar>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    /// Modules, bot flows and flows called, in order (all of them).
    calls: Option<Vec<String>>,
    /// The transfer that ends the call.
    transfer: Option<RawTransfer>,
    /// `true`: the call ends in a disconnect.
    disconnect: Option<bool>,
    /// Fragments of what is played or spoken (case-insensitive), each somewhere.
    #[serde(default)]
    says: Vec<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    queue: Option<String>,
    voicemail: Option<String>,
    number: Option<String>,
    user: Option<String>,
    group: Option<String>,
    flow: Option<String>,
}

/// A YAML scalar (string, number, boolean or null).
#[derive(Debug, Clone)]
struct Scalar(Val);

impl JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "number", "boolean", "null"] })
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Val::from_yaml(&Value::deserialize(d)?)
            .map(Scalar)
            .ok_or_else(|| serde::de::Error::custom("expected a string, number, boolean or null"))
    }
}

/// DTMF digits, written as text or a number.
#[derive(Debug, Clone)]
struct Digits(String);

impl JsonSchema for Digits {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Digits".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "integer"], "pattern": "^[0-9*# ]*$" })
    }
}

impl<'de> Deserialize<'de> for Digits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = match Value::deserialize(d)? {
            Value::String(s) => s,
            Value::Number(n) if n.is_u64() => n.to_string(),
            _ => {
                return Err(serde::de::Error::custom(
                    "digits are text such as \"1\" or \"12#\"",
                ))
            }
        };
        match text
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, '*' | '#' | ' ')))
        {
            Some(bad) => Err(serde::de::Error::custom(format!(
                "`{bad}` is not a DTMF digit (0-9, *, #)"
            ))),
            None => Ok(Digits(text)),
        }
    }
}

/// The scenario file's JSON Schema, generated from the types above (so it cannot drift).
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(ScenarioFile)).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            "https://github.com/flowctl/flowctl/schema/scenarios.schema.json".into(),
        );
    }
    schema
}

/// What a scenario gives the walk.
#[derive(Debug, Clone, Default)]
pub(crate) struct Given {
    pub(crate) digits: VecDeque<char>,
    /// Schedule group (lower case) → `open`, `closed`, `holiday` or `emergency`.
    pub(crate) schedules: HashMap<String, String>,
    /// `category/action` or `action` (lower case) → result.
    pub(crate) data_actions: HashMap<String, DataResult>,
    pub(crate) data_tables: HashMap<String, DataResult>,
    pub(crate) variables: Vec<(String, Val)>,
}

/// A data action's or data table's result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DataResult {
    Success(Vec<(String, Val)>),
    Failure,
    Timeout,
    NotFound,
}

impl DataResult {
    /// The output it follows: `success` (or `found`), `failure`, `timeout`, `notFound`.
    pub(crate) fn label(&self, success: &'static str) -> &'static str {
        match self {
            DataResult::Success(_) => success,
            DataResult::Failure => "failure",
            DataResult::Timeout => "timeout",
            DataResult::NotFound => "notFound",
        }
    }
}

fn data(raw: RawData) -> DataResult {
    match raw {
        RawData::Word(DataWord::Success) => DataResult::Success(Vec::new()),
        RawData::Word(DataWord::Failure) => DataResult::Failure,
        RawData::Word(DataWord::Timeout) => DataResult::Timeout,
        RawData::Word(DataWord::NotFound) => DataResult::NotFound,
        RawData::Outputs(o) => {
            DataResult::Success(o.outputs.into_iter().map(|(k, v)| (k, v.0)).collect())
        }
    }
}

/// One scenario, checked for shape.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub flow: String,
    /// The scenario file and the line its entry starts on.
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) given: Given,
    pub(crate) expect: Expect,
}

/// What a scenario expects.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expect {
    pub(crate) calls: Option<Vec<String>>,
    /// (`queue`, `Sales`)
    pub(crate) transfer: Option<(&'static str, String)>,
    pub(crate) disconnect: Option<bool>,
    pub(crate) says: Vec<String>,
}

/// Parses a scenario file; an error is `file:line: message` (exit 2).
pub fn parse(text: &str, file: &str) -> Result<Vec<Scenario>, String> {
    let text = crate::flow::read::strip_bom(text);
    if let Some((line, column)) = crate::flow::read::too_deep(text) {
        return Err(format!("{file}:{line}:{column}: brackets nest too deep"));
    }
    let raw: ScenarioFile = yaml_serde::from_str(text).map_err(|e| match e.location() {
        Some(l) => format!("{file}:{}:{}: {e}", l.line(), l.column()),
        None => format!("{file}: {e}"),
    })?;
    let lines = entry_lines(text);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in raw.scenarios.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let at = format!("{file}:{line}: scenario '{}'", s.name);
        let t = s.expect.transfer.unwrap_or_default();
        let kinds: Vec<(&'static str, String)> = [
            ("queue", t.queue),
            ("voicemail", t.voicemail),
            ("number", t.number),
            ("user", t.user),
            ("group", t.group),
            ("flow", t.flow),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        if kinds.len() > 1 {
            problems.push(format!("{at}: `expect.transfer` names more than one target; give one of queue, voicemail, number, user, group, flow"));
        }
        let transfer = kinds.into_iter().next();
        if transfer.is_some() && s.expect.disconnect == Some(true) {
            problems.push(format!(
                "{at}: a call cannot end in both a transfer and a disconnect"
            ));
        }
        let expect = Expect {
            calls: s.expect.calls,
            transfer,
            disconnect: s.expect.disconnect,
            says: s.expect.says,
        };
        if expect.calls.is_none()
            && expect.transfer.is_none()
            && expect.disconnect.is_none()
            && expect.says.is_empty()
        {
            problems.push(format!(
                "{at}: `expect` checks nothing; give calls, transfer, disconnect or says"
            ));
        }
        if out.iter().any(|o: &Scenario| o.name == s.name) {
            problems.push(format!("{at}: another scenario has this name"));
        }
        let g = s.given;
        let lower = |m: BTreeMap<String, RawData>| -> HashMap<String, DataResult> {
            m.into_iter()
                .map(|(k, v)| (k.to_lowercase(), data(v)))
                .collect()
        };
        let given = Given {
            digits: g
                .digits
                .map(|d| d.0.chars().filter(|c| *c != ' ').collect())
                .unwrap_or_default(),
            schedules: g
                .schedules
                .into_iter()
                .map(|(k, v)| {
                    let r = match v {
                        ScheduleResult::Open => "open",
                        ScheduleResult::Closed => "closed",
                        ScheduleResult::Holiday => "holiday",
                        ScheduleResult::Emergency => "emergency",
                    };
                    (k.to_lowercase(), r.to_string())
                })
                .collect(),
            data_actions: lower(g.data_actions),
            data_tables: lower(g.data_tables),
            variables: g.variables.into_iter().map(|(k, v)| (k, v.0)).collect(),
        };
        out.push(Scenario {
            name: s.name,
            flow: s.flow,
            file: file.to_string(),
            line,
            given,
            expect,
        });
    }
    if out.is_empty() && problems.is_empty() {
        problems.push(format!("{file}: `scenarios` is empty"));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems.join("\n"))
    }
}

/// The line each item of the top-level `scenarios:` list starts on (block style).
fn entry_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut inside = false;
    let mut indent: Option<usize> = None;
    for (i, l) in text.lines().enumerate() {
        let trimmed = l.trim_start();
        let ind = l.len() - trimmed.len();
        if !inside {
            inside = ind == 0 && trimmed.starts_with("scenarios:");
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if ind == 0 && !trimmed.starts_with('-') {
            break;
        }
        if trimmed.starts_with("- ") || trimmed == "-" {
            if indent.is_none() {
                indent = Some(ind);
            }
            if indent == Some(ind) {
                lines.push(i + 1);
            }
        }
    }
    lines
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Unknown,
}

/// One scenario walked and checked.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub(crate) scenario: Scenario,
    pub status: Status,
    /// Why it failed or is unknown, one line each.
    pub problems: Vec<String>,
    pub walk: Walk,
}

/// Walks `scenario` (its flow must be in `lib`: the caller checks) and compares.
pub fn check(lib: &Library, flow: usize, scenario: &Scenario) -> ScenarioResult {
    let walk = walk_scenario(lib, flow, scenario.given.clone());
    let mut problems = Vec::new();
    let status = if let Outcome::Unknown(why) = &walk.outcome {
        problems.push(why.clone());
        Status::Unknown
    } else {
        let e = &scenario.expect;
        let went = walk.outcome.describe();
        if let Some((kind, target)) = &e.transfer {
            let ok = matches!(&walk.outcome, Outcome::Transfer { kind: k, target: t, .. } if k == kind && t.eq_ignore_ascii_case(target));
            if !ok {
                problems.push(format!(
                    "expected a transfer to {kind} '{target}', but the call {went}"
                ));
            }
        }
        if let Some(d) = e.disconnect {
            let is = matches!(walk.outcome, Outcome::Disconnect { .. });
            if d != is {
                let want = if d { "a disconnect" } else { "no disconnect" };
                problems.push(format!("expected {want}, but the call {went}"));
            }
        }
        if let Some(calls) = &e.calls {
            let same = calls.len() == walk.calls.len()
                && calls
                    .iter()
                    .zip(&walk.calls)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b));
            if !same {
                problems.push(format!(
                    "expected calls [{}], but the call made [{}]",
                    calls.join(", "),
                    walk.calls.join(", ")
                ));
            }
        }
        for fragment in &e.says {
            let f = fragment.to_lowercase();
            if !walk.says.iter().any(|s| s.to_lowercase().contains(&f)) {
                problems.push(format!(
                    "nothing played contains \"{fragment}\" (played: {})",
                    if walk.says.is_empty() {
                        "nothing".to_string()
                    } else {
                        walk.says
                            .iter()
                            .map(|s| format!("\"{s}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ));
            }
        }
        if problems.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        }
    };
    ScenarioResult {
        scenario: scenario.clone(),
        status,
        problems,
        walk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_scenario_is_named_with_its_line() {
        let text = "scenarios:\n  - name: a\n    flow: F\n    expect: {disconnect: true}\n  - name: b\n    flow: F\n    expect: {}\n";
        let err = parse(text, "s.yaml").expect_err("checks nothing");
        assert!(err.starts_with("s.yaml:5: scenario 'b'"), "{err}");
        let err = parse(
            "scenarios:\n  - name: a\n    flow: F\n    expct: {}\n",
            "s.yaml",
        )
        .expect_err("unknown key");
        assert!(
            err.starts_with("s.yaml:4:5:") && err.contains("expct"),
            "{err}"
        );
        let err = parse(
            "scenarios:\n  - name: a\n    flow: F\n    given: {digits: \"1x\"}\n    expect: {disconnect: true}\n",
            "s.yaml",
        )
        .expect_err("bad digit");
        assert!(err.contains("`x` is not a DTMF digit"), "{err}");
    }

    #[test]
    fn givens_are_read_in_every_spelling() {
        let text = "scenarios:\n  - name: a\n    flow: F\n    given:\n      digits: 12\n      schedules: {Hours: closed}\n      dataActions: {\"C/Get\": {outputs: {vip: true}}, Score: failure}\n      dataTables: {T: notFound}\n      variables: {Call.Ani: \"tel:+1\"}\n    expect: {transfer: {queue: Sales}, calls: [M], says: [hi]}\n";
        let s = parse(text, "s.yaml").expect("parses");
        let g = &s[0].given;
        assert_eq!(g.digits.iter().collect::<String>(), "12");
        assert_eq!(g.schedules["hours"], "closed");
        assert_eq!(
            g.data_actions["c/get"],
            DataResult::Success(vec![("vip".into(), Val::Bool(true))])
        );
        assert_eq!(g.data_actions["score"], DataResult::Failure);
        assert_eq!(g.data_tables["t"], DataResult::NotFound);
        assert_eq!(s[0].expect.transfer, Some(("queue", "Sales".into())));
    }
}

//! The values a simulated call holds in its variables, and the variables themselves.

use std::collections::HashMap;
use yaml_serde::Value;

/// One variable's value during a walk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// Architect's `NOT_SET`.
    NotSet,
    Bool(bool),
    Int(i64),
    Dec(f64),
    Str(String),
    /// A value the walk cannot know (an action it does not model wrote it): any expression
    /// that reads it makes the scenario unknown, with this reason.
    Unknown(String),
}

impl Val {
    /// A YAML scalar as a value: `null` is `NOT_SET`; collections are not values.
    pub(crate) fn from_yaml(v: &Value) -> Option<Val> {
        Some(match v {
            Value::Null => Val::NotSet,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => Val::Dec(n.as_f64()?),
            },
            Value::String(s) => Val::Str(s.clone()),
            _ => return None,
        })
    }

    /// Architect's literal form: `"text"`, `3`, `true`, `NOT_SET`.
    pub(crate) fn display(&self) -> String {
        match self {
            Val::NotSet => "NOT_SET".into(),
            Val::Bool(b) => b.to_string(),
            Val::Int(i) => i.to_string(),
            Val::Dec(d) => format!("{d:?}"),
            Val::Str(s) => format!("{s:?}"),
            Val::Unknown(why) => format!("<unknown: {why}>"),
        }
    }
}

/// Variables by name. Architect matches variable names regardless of case.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    values: HashMap<String, (String, Val)>,
}

impl Vars {
    pub(crate) fn get(&self, name: &str) -> Option<&Val> {
        self.values.get(&name.to_lowercase()).map(|(_, v)| v)
    }

    pub(crate) fn set(&mut self, name: &str, value: Val) {
        self.values
            .insert(name.to_lowercase(), (name.to_string(), value));
    }

    /// Every variable, with its name as first written.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Val)> {
        self.values.values().map(|(n, v)| (n.as_str(), v))
    }
}

//! Architect's catalogue of expression functions, operators and types, generated from the
//! Architect Scripting SDK by `scripts/expr-catalogue.sh` into `catalogue.json` (see its
//! `notice` for the package, version and MIT licence) and compiled into the binary.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::LazyLock;

#[derive(Debug, Deserialize)]
pub struct Catalogue {
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) package: String,
    pub(crate) version: String,
    pub(crate) types: BTreeMap<String, TypeInfo>,
    pub functions: Vec<Function>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TypeInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) collection: bool,
    #[serde(default)]
    pub(crate) properties: Vec<Property>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Property {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    #[serde(default)]
    pub(crate) collection: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    pub(crate) name: String,
    pub(crate) kind: String,
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) symbol: Option<String>,
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) category: Option<String>,
    pub overloads: Vec<Overload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overload {
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) id: String,
    pub(crate) returns: TypeRef,
    pub(crate) params: Vec<Param>,
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) feature_toggle: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) needs_server_info: bool,
    #[serde(default)]
    pub(crate) disallow_as_default_cast: bool,
    pub(crate) resolver: Option<String>,
    #[serde(default)]
    pub examples: Vec<Example>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TypeRef {
    #[serde(rename = "type")]
    pub(crate) ty: String,
    #[serde(default)]
    pub(crate) collection: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Param {
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    #[serde(default)]
    pub(crate) collection: bool,
    #[serde(default)]
    pub(crate) repeatable: bool,
    #[serde(default)]
    pub(crate) allow_not_set: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Example {
    pub input: String,
    pub output: String,
    /// Set when the catalogue gave the output as a string-table key (resolved to English).
    #[allow(dead_code)] // read from the catalogue file (its shape); no check uses it
    pub(crate) output_key: Option<String>,
}

/// The catalogue with its look-up tables.
pub struct Index {
    pub data: Catalogue,
    functions: HashMap<String, usize>,
    operators: HashMap<String, usize>,
    /// Interned type codes: every code the data uses, so [`Type`] can be `Copy`.
    codes: Vec<&'static str>,
}

static JSON: &str = include_str!("catalogue.json");

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    // The file is generated and checked in; a test parses it, so this cannot fail at run time.
    #[allow(clippy::expect_used)]
    let data: Catalogue = serde_json::from_str(JSON).expect("src/expr/catalogue.json parses");
    let mut functions = HashMap::new();
    let mut operators = HashMap::new();
    let mut codes: Vec<&'static str> = Vec::new();
    let mut intern = |c: &str| {
        if codes.iter().all(|k| *k != c) {
            codes.push(Box::leak(c.to_string().into_boxed_str()));
        }
    };
    for c in ["nts", "any", "unk", "acp", "apa"] {
        intern(c);
    }
    for (code, t) in &data.types {
        intern(code);
        for p in &t.properties {
            intern(&p.ty);
        }
    }
    for (i, f) in data.functions.iter().enumerate() {
        if f.kind == "operator" {
            operators.insert(f.name.clone(), i);
        } else {
            functions.insert(f.name.to_ascii_lowercase(), i);
        }
        for o in &f.overloads {
            intern(&o.returns.ty);
            for p in &o.params {
                intern(&p.ty);
            }
        }
    }
    Index {
        data,
        functions,
        operators,
        codes,
    }
});

/// The compiled-in catalogue.
pub fn catalogue() -> &'static Index {
    &INDEX
}

impl Index {
    /// A function by name, in any case (Architect matches function names regardless of case).
    pub(crate) fn function(&self, name: &str) -> Option<&Function> {
        self.functions
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.data.functions[i])
    }

    /// An operator by the catalogue's identifier (`add`, `equ`, `bkt`).
    pub(crate) fn operator(&self, id: &str) -> Option<&Function> {
        self.operators.get(id).map(|&i| &self.data.functions[i])
    }

    #[cfg(test)]
    pub(crate) fn function_names(&self) -> impl Iterator<Item = &str> {
        self.data
            .functions
            .iter()
            .filter(|f| f.kind != "operator")
            .map(|f| f.name.as_str())
    }

    /// The interned form of a type code (`str`, `int`, `cpx_email_address`).
    pub(crate) fn code(&self, c: &str) -> &'static str {
        self.codes
            .iter()
            .find(|k| **k == c)
            .copied()
            .unwrap_or("unk")
    }

    pub(crate) fn type_info(&self, code: &str) -> Option<&TypeInfo> {
        self.data.types.get(code)
    }

    /// A type from how a person or a YAML file writes it: `String`, `integer`,
    /// `String Collection`, `string[]`, `ACD Skill`, or a catalogue code (`str`).
    pub(crate) fn parse_type(&self, text: &str) -> Option<Type> {
        let t = text.trim();
        let (base, coll) = if let Some(b) = t.strip_suffix("[]") {
            (b.trim(), true)
        } else if let Some(b) = strip_suffix_ci(t, "collection") {
            (b.trim(), true)
        } else {
            (t, false)
        };
        let squash = |s: &str| {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase()
        };
        let want = squash(base);
        let alias = match want.as_str() {
            "int" | "integer" | "long" => "int",
            "bool" | "boolean" => "bln",
            "string" | "str" => "str",
            "decimal" | "dec" => "dec",
            "datetime" => "dtm",
            "duration" => "dur",
            "currency" => "cur",
            "user" => "usr",
            "acdskill" | "skill" => "skl",
            "queue" => "que",
            "phonenumber" => "phn",
            "group" => "grp",
            "wrapupcode" => "wrc",
            "languageskill" => "lac",
            "audio" => "aud",
            "prompt" => "pmt",
            _ => "",
        };
        if !alias.is_empty() {
            return Some(Type::new(self.code(alias), coll));
        }
        for (code, info) in &self.data.types {
            if squash(code) == want || squash(&info.name) == want || squash(&info.id) == want {
                return Some(Type::new(self.code(code), coll));
            }
        }
        None
    }
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let n = s.len().checked_sub(suffix.len())?;
    if s.is_char_boundary(n) && s[n..].eq_ignore_ascii_case(suffix) {
        Some(&s[..n])
    } else {
        None
    }
}

/// A type of Architect's expression language: a catalogue code and whether it is a
/// collection. `nts` is the type of a bare `NOT_SET`; `unk` is a type lint cannot know
/// (an undeclared variable), which matches anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type {
    pub(crate) code: &'static str,
    pub(crate) collection: bool,
}

impl Type {
    pub(crate) const fn new(code: &'static str, collection: bool) -> Type {
        Type { code, collection }
    }
    pub fn one(code: &str) -> Type {
        Type::new(catalogue().code(code), false)
    }
    pub fn coll(code: &str) -> Type {
        Type::new(catalogue().code(code), true)
    }
    pub(crate) fn not_set() -> Type {
        Type::one("nts")
    }
    pub(crate) fn unknown() -> Type {
        Type::one("unk")
    }
    pub(crate) fn is(&self, code: &str) -> bool {
        self.code == code
    }
    pub(crate) fn is_not_set(&self) -> bool {
        self.code == "nts"
    }
    pub(crate) fn is_unknown(&self) -> bool {
        self.code == "unk"
    }
    pub(crate) fn element(&self) -> Type {
        Type::new(self.code, false)
    }
    /// Architect's display name: `String`, `Integer Collection`, `NOT_SET`.
    pub(crate) fn name(&self) -> String {
        let base = match self.code {
            "nts" => "NOT_SET".to_string(),
            "unk" => "unknown".to_string(),
            "any" => "Any".to_string(),
            c => catalogue()
                .type_info(c)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| c.to_string()),
        };
        if self.collection {
            format!("{base} Collection")
        } else {
            base
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_loads_with_the_whole_catalogue() {
        let c = catalogue();
        assert_eq!(c.data.version, "0.0.18");
        assert_eq!(c.function_names().count(), 96);
        let ops = c
            .data
            .functions
            .iter()
            .filter(|f| f.kind == "operator")
            .count();
        assert_eq!(ops, 22);
        assert!(c.function("substring").is_some());
        assert!(c.function("MakeCommunication").is_none());
        assert!(c.operator("equ").is_some());
    }

    #[test]
    fn types_parse_as_people_write_them() {
        let c = catalogue();
        assert_eq!(c.parse_type("String"), Some(Type::one("str")));
        assert_eq!(c.parse_type("integer collection"), Some(Type::coll("int")));
        assert_eq!(c.parse_type("Boolean[]"), Some(Type::coll("bln")));
        assert_eq!(c.parse_type("ACD Skill"), Some(Type::one("skl")));
        assert_eq!(c.parse_type("Nonsense"), None);
        assert_eq!(Type::coll("int").name(), "Integer Collection");
    }
}

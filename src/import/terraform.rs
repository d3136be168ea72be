//! `flowctl import terraform`: a CX-as-Code Terraform configuration as a flowctl manifest.
//!
//! The CX-as-Code provider deploys one Architect YAML file per `genesyscloud_flow` resource
//! (`filepath`, and a `substitutions` map that fills the file's `{{key}}` placeholders; see
//! the provider's `docs/resources/flow.md`). This module reads the configuration as
//! Terraform would, as far as that can be done without Terraform: module calls with a
//! local `source` are followed (`${path.module}` is the module's directory), variables take
//! their values from module arguments, `--var`, `.tfvars` files, `TF_VAR_` environment
//! variables and defaults (Terraform's order), and string templates are evaluated by
//! `hcl-rs`. Each flow file becomes a manifest entry with its own `substitutions`.
//!
//! Nothing is dropped silently: whatever cannot be translated (`count`/`for_each`, a
//! function other than the plain string ones, a `local` that cannot be evaluated,
//! `file_content_hash`, a remote module) is reported with its file and line. `depends_on`
//! is left out on purpose: flowctl derives the publish order from the flows themselves.
//! Resources flowctl does not manage (queues, divisions, schedule groups, data actions,
//! ...) are listed as things that must exist in the org.

use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::Span;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Module calls nest at most this deep (a module calling itself would never end).
const MAX_DEPTH: usize = 16;

/// A lookup in the environment.
type EnvLookup = dyn Fn(&str) -> Option<String>;

/// What the import was given besides the directory.
pub(crate) struct Inputs<'a> {
    /// `--var k=v`, in order (a later one wins).
    pub(crate) vars: &'a [(String, String)],
    /// `--var-file F`, in order (a later one wins).
    pub(crate) var_files: &'a [PathBuf],
    /// The environment, for `TF_VAR_name`.
    pub(crate) env: &'a EnvLookup,
}

/// A place in the configuration: a file (as given, under the root directory) and a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Location {
    pub(crate) file: String,
    pub(crate) line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One `genesyscloud_flow` resource, translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FlowEntry {
    /// `module.routing.genesyscloud_flow.first`
    pub(crate) address: String,
    /// The Architect YAML file, as a path from the working directory.
    pub(crate) file: PathBuf,
    /// The file's top-level key (`commonModule`, `inqueueCall`, ...).
    pub(crate) top_key: String,
    pub(crate) substitutions: BTreeMap<String, String>,
    pub(crate) at: Location,
}

/// Something the import did not translate, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Untranslated {
    pub(crate) at: Location,
    /// The construct: `count`, `for_each`, `function filesha256()`, `local.x`, ...
    pub(crate) construct: String,
    pub(crate) message: String,
}

/// A resource or data source flowctl does not manage: it must exist in the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Unmanaged {
    /// The Terraform type: `genesyscloud_routing_queue`.
    pub(crate) kind: String,
    /// Its `name` attribute, when it could be evaluated.
    pub(crate) name: Option<String>,
    /// `resource` or `data`.
    pub(crate) block: String,
    pub(crate) at: Location,
}

/// The whole import.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Imported {
    pub(crate) flows: Vec<FlowEntry>,
    pub(crate) untranslated: Vec<Untranslated>,
    pub(crate) unmanaged: Vec<Unmanaged>,
    /// How many `depends_on` were left out (flowctl orders the publish itself).
    pub(crate) depends_on_dropped: usize,
}

/// Reads the configuration rooted at `root`. Errors only when the directory itself cannot
/// be read; everything else is in [`Imported::untranslated`].
pub(crate) fn import(root: &Path, inputs: &Inputs<'_>) -> std::io::Result<Imported> {
    let mut out = Imported::default();
    std::fs::read_dir(root)?;
    let vars = root_variables(root, inputs, &mut out);
    let mut walker = Walker { root, out };
    walker.module(Path::new("."), "", vars, 0);
    Ok(walker.out)
}

/// The root module's variable values other than defaults: `terraform.tfvars`,
/// `*.auto.tfvars` (alphabetical), then `--var-file`s, then `--var`s. `TF_VAR_` values and
/// defaults come later, per declared variable (they rank below all of these).
fn root_variables<'a>(root: &Path, inputs: &Inputs<'a>, out: &mut Imported) -> Caller<'a> {
    let mut files: Vec<PathBuf> = Vec::new();
    let default = root.join("terraform.tfvars");
    if default.is_file() {
        files.push(default);
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".auto.tfvars"))
        .collect();
    auto.sort();
    files.extend(auto);
    files.extend(inputs.var_files.iter().cloned());
    let mut values: Map<String, Value> = Map::new();
    for file in files {
        let shown = file.display().to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                out.untranslated.push(Untranslated {
                    at: Location {
                        file: shown,
                        line: 1,
                    },
                    construct: "var-file".into(),
                    message: format!("cannot read it: {e}"),
                });
                continue;
            }
        };
        let body = match hcl::edit::parser::parse_body(&text) {
            Ok(b) => b,
            Err(e) => {
                out.untranslated.push(Untranslated {
                    at: Location {
                        file: shown,
                        line: e.location().line(),
                    },
                    construct: "var-file".into(),
                    message: format!("not valid HCL: {}", e.message()),
                });
                continue;
            }
        };
        let ctx = Context::new();
        for s in body.iter() {
            let Structure::Attribute(a) = s else { continue };
            let expr: hcl::Expression = a.value.clone().into();
            match expr.evaluate(&ctx) {
                Ok(v) => {
                    values.insert(a.key.as_str().to_string(), v);
                }
                Err(e) => out.untranslated.push(Untranslated {
                    at: Location {
                        file: shown.clone(),
                        line: line_of(&text, a.span()),
                    },
                    construct: a.key.as_str().to_string(),
                    message: format!("cannot evaluate: {e}"),
                }),
            }
        }
    }
    for (k, v) in inputs.vars {
        values.insert(k.clone(), Value::String(v.clone()));
    }
    Caller {
        values,
        env: Some(inputs.env),
    }
}

/// The values a module is called with.
struct Caller<'a> {
    values: Map<String, Value>,
    /// For the root module: `TF_VAR_name` (it ranks above defaults, below everything else).
    env: Option<&'a EnvLookup>,
}

struct Walker<'r> {
    root: &'r Path,
    out: Imported,
}

/// One parsed `.tf` file.
struct TfFile {
    shown: String,
    text: String,
    body: Body,
}

impl Walker<'_> {
    fn untranslated(
        &mut self,
        at: Location,
        construct: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.out.untranslated.push(Untranslated {
            at,
            construct: construct.into(),
            message: message.into(),
        });
    }

    /// Reads the module in `dir` (relative to the root), called as `prefix` (`module.x.`).
    fn module(&mut self, dir: &Path, prefix: &str, caller: Caller<'_>, depth: usize) {
        let files = self.read_module(dir);
        // Variables.
        let mut vars: Map<String, Value> = Map::new();
        let mut ctx = base_context(dir);
        for f in &files {
            for b in blocks(&f.body, "variable") {
                let Some(name) = b.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                let at = Location {
                    file: f.shown.clone(),
                    line: line_of(&f.text, b.span()),
                };
                let value = caller
                    .values
                    .get(&name)
                    .cloned()
                    .or_else(|| {
                        caller
                            .env
                            .and_then(|env| env(&format!("TF_VAR_{name}")))
                            .map(Value::String)
                    })
                    .or_else(|| {
                        attribute(&b.body, "default").and_then(|(_, e)| e.evaluate(&ctx).ok())
                    });
                match value {
                    Some(v) => {
                        vars.insert(name, v);
                    }
                    None => self.untranslated(
                        at,
                        format!("var.{name}"),
                        if caller.env.is_some() {
                            format!("variable '{name}' has no value: give it with --var {name}=..., a .tfvars file or TF_VAR_{name}")
                        } else {
                            format!("variable '{name}' has no value: the module call gives none and it has no default")
                        },
                    ),
                }
            }
        }
        ctx.declare_var("var", Value::Object(vars));

        // Data sources and the other resources: their literal attributes, so that
        // `data.genesyscloud_auth_division.home.name` or `genesyscloud_routing_queue.q.name`
        // evaluate; each is listed as something that must exist in the org. Read once
        // before the locals and once after (either may use the other).
        self.resources(&files, &mut ctx, false);
        // Locals, in as many passes as they need (a local may use another).
        let mut pending: Vec<(String, hcl::Expression, Location)> = Vec::new();
        for f in &files {
            for b in blocks(&f.body, "locals") {
                for s in b.body.iter() {
                    if let Structure::Attribute(a) = s {
                        pending.push((
                            a.key.as_str().to_string(),
                            a.value.clone().into(),
                            Location {
                                file: f.shown.clone(),
                                line: line_of(&f.text, a.span()),
                            },
                        ));
                    }
                }
            }
        }
        let mut locals: Map<String, Value> = Map::new();
        loop {
            ctx.declare_var("local", Value::Object(locals.clone()));
            let before = pending.len();
            pending.retain(|(name, e, _)| match e.evaluate(&ctx) {
                Ok(v) => {
                    locals.insert(name.clone(), v);
                    false
                }
                Err(_) => true,
            });
            if pending.len() == before {
                break;
            }
        }
        ctx.declare_var("local", Value::Object(locals));
        for (name, e, at) in pending {
            let why = e.evaluate(&ctx).err().map(|e| why(&e)).unwrap_or_default();
            self.untranslated(
                at,
                format!("local.{name}"),
                format!("local '{name}' cannot be evaluated: {why}"),
            );
        }

        self.resources(&files, &mut ctx, true);

        // The flows.
        for f in &files {
            for b in blocks(&f.body, "resource") {
                let Some([t, n]) = labels(b) else { continue };
                if t != "genesyscloud_flow" {
                    continue;
                }
                self.flow(f, b, &format!("{prefix}{t}.{n}"), &ctx);
            }
        }

        // Module calls.
        for f in &files {
            for b in blocks(&f.body, "module") {
                let Some(name) = b.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                let at = Location {
                    file: f.shown.clone(),
                    line: line_of(&f.text, b.span()),
                };
                let address = format!("{prefix}module.{name}");
                let mut skip = false;
                for meta in ["count", "for_each"] {
                    if attribute(&b.body, meta).is_some() {
                        self.untranslated(at.clone(), meta, format!("{address} uses `{meta}`: flowctl cannot tell how many copies Terraform would make; its flows are not imported"));
                        skip = true;
                    }
                }
                let source = attribute(&b.body, "source").and_then(|(_, e)| e.evaluate(&ctx).ok());
                let source = source.as_ref().and_then(Value::as_str).map(str::to_string);
                let local = source
                    .as_deref()
                    .filter(|s| s.starts_with("./") || s.starts_with("../"));
                let Some(source) = local else {
                    self.untranslated(
                        at,
                        "module source",
                        format!(
                            "{address}: source {} is not a local directory; registry and git modules are not fetched",
                            source.map(|s| format!("'{s}'")).unwrap_or_else(|| "(none)".into())
                        ),
                    );
                    continue;
                };
                if skip {
                    continue;
                }
                if depth >= MAX_DEPTH {
                    self.untranslated(
                        at,
                        "module",
                        format!("{address}: modules nest deeper than {MAX_DEPTH}"),
                    );
                    continue;
                }
                let mut values = Map::new();
                for s in b.body.iter() {
                    let Structure::Attribute(a) = s else { continue };
                    let key = a.key.as_str();
                    if matches!(
                        key,
                        "source" | "version" | "providers" | "depends_on" | "count" | "for_each"
                    ) {
                        if key == "depends_on" {
                            self.out.depends_on_dropped += 1;
                        }
                        continue;
                    }
                    let e: hcl::Expression = a.value.clone().into();
                    match e.evaluate(&ctx) {
                        Ok(v) => {
                            values.insert(key.to_string(), v);
                        }
                        Err(err) => self.untranslated(
                            Location {
                                file: f.shown.clone(),
                                line: line_of(&f.text, a.span()),
                            },
                            construct(&err, key),
                            format!(
                                "{address}: argument '{key}' cannot be evaluated: {}",
                                why(&err)
                            ),
                        ),
                    }
                }
                let child = normalize(&dir.join(source));
                self.module(
                    &child,
                    &format!("{address}."),
                    Caller { values, env: None },
                    depth + 1,
                );
            }
        }
    }

    /// Declares `data` and each resource type in `ctx` with the attributes that evaluate;
    /// with `record`, lists them (and reports what is not translated).
    fn resources(&mut self, files: &[TfFile], ctx: &mut Context<'_>, record: bool) {
        let mut data: Map<String, Value> = Map::new();
        let mut resources: Map<String, Value> = Map::new();
        for f in files {
            for s in f.body.iter() {
                let Structure::Block(b) = s else { continue };
                let kind = b.ident.as_str();
                if kind != "data" && kind != "resource" {
                    continue;
                }
                let Some([t, n]) = labels(b) else { continue };
                if kind == "resource" && t == "genesyscloud_flow" {
                    continue;
                }
                let mut attrs: Map<String, Value> = Map::new();
                for s in b.body.iter() {
                    if let Structure::Attribute(a) = s {
                        let e: hcl::Expression = a.value.clone().into();
                        if let Ok(v) = e.evaluate(ctx) {
                            attrs.insert(a.key.as_str().to_string(), v);
                        }
                    }
                }
                let name = attrs
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let at = Location {
                    file: f.shown.clone(),
                    line: line_of(&f.text, b.span()),
                };
                if record && kind == "resource" {
                    for meta in ["count", "for_each"] {
                        if attribute(&b.body, meta).is_some() {
                            self.untranslated(
                                at.clone(),
                                meta,
                                format!("resource {t}.{n} uses `{meta}`; it is listed once, by its block"),
                            );
                        }
                    }
                }
                if record && t.starts_with("genesyscloud_") {
                    self.out.unmanaged.push(Unmanaged {
                        kind: t.clone(),
                        name,
                        block: kind.to_string(),
                        at,
                    });
                } else if record {
                    self.untranslated(
                        at,
                        format!("{kind} {t}"),
                        format!("{kind} {t}.{n} is not a Genesys Cloud resource; flowctl leaves it to Terraform"),
                    );
                }
                let target = if kind == "data" {
                    &mut data
                } else {
                    &mut resources
                };
                if let Value::Object(m) = target
                    .entry(t.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    m.insert(n.clone(), Value::Object(attrs));
                }
            }
        }
        ctx.declare_var("data", Value::Object(data));
        for (t, v) in resources {
            ctx.declare_var(t, v);
        }
    }

    /// Every `.tf` file of a module, parsed (a file that does not parse is reported).
    fn read_module(&mut self, dir: &Path) -> Vec<TfFile> {
        let full = self.root.join(dir);
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&full) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "tf"))
                .collect(),
            Err(e) => {
                self.untranslated(
                    Location {
                        file: full.display().to_string(),
                        line: 1,
                    },
                    "module",
                    format!("cannot read the module's directory: {e}"),
                );
                return Vec::new();
            }
        };
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let shown = normalize(&dir.join(path.file_name().unwrap_or_default()))
                .display()
                .to_string();
            let text = match crate::files::read_text(&path, "the Terraform file") {
                Ok(t) => t,
                Err(e) => {
                    self.untranslated(
                        Location {
                            file: shown,
                            line: 1,
                        },
                        "file",
                        format!("cannot read it: {e}"),
                    );
                    continue;
                }
            };
            match hcl::edit::parser::parse_body(&text) {
                Ok(body) => files.push(TfFile { shown, text, body }),
                Err(e) => self.untranslated(
                    Location {
                        file: shown,
                        line: e.location().line(),
                    },
                    "file",
                    format!("not valid HCL: {}", e.message()),
                ),
            }
        }
        files
    }

    /// One `genesyscloud_flow` resource.
    fn flow(&mut self, f: &TfFile, b: &Block, address: &str, ctx: &Context<'_>) {
        let at = Location {
            file: f.shown.clone(),
            line: line_of(&f.text, b.span()),
        };
        let mut skip = false;
        for meta in ["count", "for_each"] {
            if attribute(&b.body, meta).is_some() {
                self.untranslated(at.clone(), meta, format!("{address} uses `{meta}`: flowctl cannot tell how many flows Terraform would make; it is not imported"));
                skip = true;
            }
        }
        if skip {
            return;
        }
        let mut file: Option<PathBuf> = None;
        let mut substitutions = BTreeMap::new();
        for s in b.body.iter() {
            let at = Location {
                file: f.shown.clone(),
                line: line_of(&f.text, s.span()),
            };
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    let e: hcl::Expression = a.value.clone().into();
                    match key {
                        "filepath" => match e.evaluate(ctx) {
                            Ok(Value::String(p)) if p.contains("://") => self.untranslated(at, "filepath", format!("{address}: '{p}' is not a local file (S3 files are not fetched)")),
                            Ok(Value::String(p)) => file = Some(normalize(Path::new(&p))),
                            Ok(other) => self.untranslated(at, "filepath", format!("{address}: filepath is {other}, not a string")),
                            Err(err) => self.untranslated(at, construct(&err, "filepath"), format!("{address}: filepath cannot be evaluated: {}", why(&err))),
                        },
                        "substitutions" => self.substitutions(f, &e, address, at, ctx, &mut substitutions),
                        "depends_on" => self.out.depends_on_dropped += 1,
                        "file_content_hash" | "update_trigger_hash" => self.untranslated(at, key.to_string(), format!("{address}: not translated; flowctl needs none: its content marker and drift check decide what to publish")),
                        "name" | "type" => self.untranslated(at, key.to_string(), format!("{address}: not translated; the provider uses `{key}` for exports only, and the file itself says the flow's {key}")),
                        "force_unlock" => self.untranslated(at, "force_unlock", format!("{address}: not translated; flowctl releases only locks its own OAuth client holds, and a flow locked by someone else fails alone, naming the holder")),
                        other => self.untranslated(at, other.to_string(), format!("{address}: attribute '{other}' is not translated")),
                    }
                }
                Structure::Block(inner) => {
                    let k = inner.ident.as_str();
                    if k != "lifecycle" {
                        self.untranslated(
                            at,
                            k.to_string(),
                            format!("{address}: block '{k}' is not translated"),
                        );
                    }
                }
            }
        }
        let Some(file) = file else {
            if !self
                .out
                .untranslated
                .iter()
                .any(|u| u.message.starts_with(&format!("{address}: filepath")))
            {
                self.untranslated(at, "filepath", format!("{address} has no filepath"));
            }
            return;
        };
        let full = self.root.join(&file);
        let top_key = match std::fs::read_to_string(&full) {
            Ok(text) => top_key(&text),
            Err(e) => {
                self.untranslated(
                    at,
                    "filepath",
                    format!("{address}: cannot read {}: {e}", full.display()),
                );
                return;
            }
        };
        let Some(top_key) = top_key else {
            self.untranslated(
                at,
                "filepath",
                format!(
                    "{address}: {} has no top-level flow key (such as commonModule or inboundCall)",
                    full.display()
                ),
            );
            return;
        };
        self.out.flows.push(FlowEntry {
            address: address.to_string(),
            file: full,
            top_key,
            substitutions,
            at,
        });
    }

    /// A `substitutions` map, entry by entry, so that one value that cannot be evaluated is
    /// reported alone.
    fn substitutions(
        &mut self,
        f: &TfFile,
        e: &hcl::Expression,
        address: &str,
        at: Location,
        ctx: &Context<'_>,
        out: &mut BTreeMap<String, String>,
    ) {
        let entries: Vec<(String, Result<Value, hcl::eval::Error>)> = match e {
            hcl::Expression::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        hcl::ObjectKey::Identifier(i) => i.to_string(),
                        hcl::ObjectKey::Expression(x) => match x.evaluate(ctx) {
                            Ok(Value::String(s)) => s,
                            _ => format!("{x}"),
                        },
                        _ => String::new(),
                    };
                    (key, v.evaluate(ctx))
                })
                .collect(),
            other => match other.evaluate(ctx) {
                Ok(Value::Object(m)) => m.into_iter().map(|(k, v)| (k, Ok(v))).collect(),
                Ok(v) => {
                    self.untranslated(
                        at,
                        "substitutions",
                        format!("{address}: substitutions is {v}, not a map"),
                    );
                    return;
                }
                Err(err) => {
                    self.untranslated(
                        at,
                        construct(&err, "substitutions"),
                        format!(
                            "{address}: substitutions cannot be evaluated: {}",
                            why(&err)
                        ),
                    );
                    return;
                }
            },
        };
        let _ = f;
        for (key, value) in entries {
            match value {
                Ok(Value::String(s)) => {
                    out.insert(key, s);
                }
                Ok(v @ (Value::Number(_) | Value::Bool(_))) => {
                    out.insert(key, v.to_string());
                }
                Ok(v) => self.untranslated(
                    at.clone(),
                    format!("substitutions.{key}"),
                    format!("{address}: substitution '{key}' is {v}, not a string"),
                ),
                Err(err) => self.untranslated(
                    at.clone(),
                    construct(&err, &format!("substitutions.{key}")),
                    format!(
                        "{address}: substitution '{key}' cannot be evaluated: {}",
                        why(&err)
                    ),
                ),
            }
        }
    }
}

/// The evaluation context of a module: `path.module` (its directory, from the root, as
/// Terraform gives it), `path.root`, `path.cwd`, and the plain string functions.
fn base_context(dir: &Path) -> Context<'static> {
    let mut ctx = Context::new();
    let module = dir.display().to_string();
    let mut path = Map::new();
    path.insert("module".to_string(), Value::String(module));
    path.insert("root".to_string(), Value::String(".".into()));
    path.insert("cwd".to_string(), Value::String(".".into()));
    ctx.declare_var("path", Value::Object(path));
    let s = || ParamType::String;
    ctx.declare_func("lower", FuncDef::builder().param(s()).build(lower));
    ctx.declare_func("upper", FuncDef::builder().param(s()).build(upper));
    ctx.declare_func("trimspace", FuncDef::builder().param(s()).build(trimspace));
    ctx.declare_func(
        "replace",
        FuncDef::builder().params([s(), s(), s()]).build(replace),
    );
    ctx.declare_func(
        "join",
        FuncDef::builder()
            .param(s())
            .param(ParamType::array_of(ParamType::Any))
            .build(join),
    );
    ctx.declare_func(
        "format",
        FuncDef::builder()
            .param(s())
            .variadic_param(ParamType::Any)
            .build(format),
    );
    ctx
}

fn arg_str(args: &FuncArgs, i: usize) -> Result<&str, String> {
    args.get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("argument {i} must be a string"))
}

fn lower(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(arg_str(&args, 0)?.to_lowercase()))
}

fn upper(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(arg_str(&args, 0)?.to_uppercase()))
}

fn trimspace(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::String(arg_str(&args, 0)?.trim().to_string()))
}

/// `replace(s, old, new)` with a plain `old` (a `/regex/` is Terraform's other form: refused).
fn replace(args: FuncArgs) -> Result<Value, String> {
    let old = arg_str(&args, 1)?;
    if old.len() > 1 && old.starts_with('/') && old.ends_with('/') {
        return Err("replace() with a regular expression is not translated".into());
    }
    Ok(Value::String(
        arg_str(&args, 0)?.replace(old, arg_str(&args, 2)?),
    ))
}

fn join(args: FuncArgs) -> Result<Value, String> {
    let sep = arg_str(&args, 0)?;
    let items = args
        .get(1)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let parts: Vec<String> = items
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    Ok(Value::String(parts.join(sep)))
}

/// `format` with `%s`, `%d` and `%%` only.
fn format(args: FuncArgs) -> Result<Value, String> {
    let spec = arg_str(&args, 0)?;
    let mut rest = args.iter().skip(1);
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('s') | Some('d') | Some('v') => match rest.next() {
                Some(Value::String(s)) => out.push_str(s),
                Some(v) => out.push_str(&v.to_string()),
                None => return Err("format() has fewer arguments than verbs".into()),
            },
            other => {
                return Err(format!(
                    "format() verb %{} is not translated",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        }
    }
    Ok(Value::String(out))
}

/// What an evaluation error is about, for the report: the function or variable at fault.
fn construct(err: &hcl::eval::Error, fallback: &str) -> String {
    match err.kind() {
        hcl::eval::ErrorKind::UndefinedFunc(f) => format!("function {f}()"),
        hcl::eval::ErrorKind::FuncCall(f, _) => format!("function {f}()"),
        hcl::eval::ErrorKind::UndefinedVar(v) => v.to_string(),
        _ => match err.expr() {
            Some(e @ hcl::Expression::Traversal(_)) => format!("{e}"),
            _ => fallback.to_string(),
        },
    }
}

/// The first error, worded for a person.
fn why(err: &hcl::eval::Error) -> String {
    match err.kind() {
        hcl::eval::ErrorKind::UndefinedFunc(f) => format!(
            "function {f}() is not translated (only lower, upper, trimspace, replace, join and format are)"
        ),
        hcl::eval::ErrorKind::NoSuchKey(k) => format!("`{k}` is not known here"),
        other => other.to_string(),
    }
}

/// Blocks of one kind.
fn blocks<'b>(body: &'b Body, ident: &'b str) -> impl Iterator<Item = &'b Block> + 'b {
    body.iter().filter_map(move |s| match s {
        Structure::Block(b) if b.ident.as_str() == ident => Some(b),
        _ => None,
    })
}

/// Exactly two labels (`resource "type" "name"`).
fn labels(b: &Block) -> Option<[String; 2]> {
    match b.labels.as_slice() {
        [t, n] => Some([t.as_str().to_string(), n.as_str().to_string()]),
        _ => None,
    }
}

/// An attribute of a body, as an `hcl-rs` expression.
fn attribute(body: &Body, key: &str) -> Option<(String, hcl::Expression)> {
    body.iter().find_map(|s| match s {
        Structure::Attribute(a) if a.key.as_str() == key => {
            Some((key.to_string(), a.value.clone().into()))
        }
        _ => None,
    })
}

/// The 1-based line where a span starts.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
    let start = span.map(|s| s.start).unwrap_or(0).min(text.len());
    text.as_bytes()[..start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `a/./b/../c` as `a/c`, without touching the file system (`..` past the start is kept).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// The first top-level key of an Architect YAML file (`commonModule:`), read as text: the
/// file may hold unquoted `{{placeholders}}` that only parse once substituted.
pub(crate) fn top_key(text: &str) -> Option<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .find(|l| {
            !l.trim().is_empty()
                && !l.starts_with('#')
                && !l.starts_with(char::is_whitespace)
                && l.trim() != "---"
        })
        .and_then(|l| l.split_once(':'))
        .map(|(k, _)| k.trim().trim_matches(['"', '\'']).to_string())
        .filter(|k| !k.is_empty())
}

/// `to` as a path relative to the directory `from` (both from the same base).
pub(crate) fn relative(to: &Path, from: &Path) -> PathBuf {
    let to = normalize(to);
    let from = normalize(from);
    let a: Vec<Component<'_>> = to.components().collect();
    let b: Vec<Component<'_>> = from
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let a: Vec<Component<'_>> = a.into_iter().filter(|c| *c != Component::CurDir).collect();
    if a.first()
        .is_some_and(|c| matches!(c, Component::RootDir | Component::Prefix(_)))
        != b.first()
            .is_some_and(|c| matches!(c, Component::RootDir | Component::Prefix(_)))
    {
        return to;
    }
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if b[common..].contains(&Component::ParentDir) {
        return to;
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_and_relate() {
        assert_eq!(
            normalize(Path::new("./a/./b/../c.yaml")),
            PathBuf::from("a/c.yaml")
        );
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(
            relative(Path::new("infra/modules/r/a.yaml"), Path::new("infra")),
            PathBuf::from("modules/r/a.yaml")
        );
        assert_eq!(
            relative(Path::new("infra/modules/r/a.yaml"), Path::new("out")),
            PathBuf::from("../infra/modules/r/a.yaml")
        );
    }

    #[test]
    fn the_top_key_is_read_past_comments_and_placeholders() {
        assert_eq!(
            top_key("# a comment\n\ncommonModule:\n  name: {{x}}\n").as_deref(),
            Some("commonModule")
        );
        assert_eq!(top_key("  indented: x\n"), None);
    }

    #[test]
    fn format_and_replace_take_plain_forms_only() {
        let ctx = base_context(Path::new("."));
        let eval = |s: &str| -> Result<Value, String> {
            let body = hcl::parse(&format!("x = {s}\n")).map_err(|e| e.to_string())?;
            let a = body.attributes().next().ok_or("no attribute")?;
            a.expr().evaluate(&ctx).map_err(|e| why(&e))
        };
        assert_eq!(
            eval("format(\"%s_%d\", \"a\", 3)"),
            Ok(Value::String("a_3".into()))
        );
        assert_eq!(
            eval("replace(\"a-b\", \"-\", \"_\")"),
            Ok(Value::String("a_b".into()))
        );
        assert!(eval("replace(\"a-b\", \"/-/\", \"_\")").is_err());
        assert!(eval("filesha256(\"x\")")
            .err()
            .is_some_and(|e| e.contains("filesha256() is not translated")));
        assert_eq!(
            eval("\"${lower(\"A\")}_${path.module}\""),
            Ok(Value::String("a_.".into()))
        );
    }
}

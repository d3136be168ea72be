//! The top-level modules of `src/` form layers, drawn in the README's design notes and in
//! `lib.rs`: a module imports only modules of the layers below its own. This test reads every
//! file of `src/` with `syn`, so a module depends on another when its code names it: in a
//! `use` tree (`use crate::{commands as _c};`, `use super::config`), in a path
//! (`crate::output::Printer`), or inside a macro's or an attribute's tokens. Comments, doc
//! comments and string literals are not code, and `//` inside a string is only a string.
//!
//! Code under `#[cfg(test)]` is left out: a unit test may check one module against another
//! (the emulator's export against flowctl's drift comparison) without the shipped library
//! depending on it.
//!
//! The layers checked (`LAYERS`) are compared with the README's drawing, so the two cannot
//! drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::visit::Visit;

/// The layers, bottom first. A module may import only modules of lower layers; modules on one
/// line do not import each other. Every top-level module of `src/` must be listed; names not
/// (yet) in `src/` are the places agreed for modules on their way in.
const LAYERS: &[(&[&str], &str)] = &[
    (
        &["models", "exit", "files", "yaml_guard", "digest"],
        "leaves",
    ),
    (
        &["architect_refs", "expr", "progress"],
        "Architect YAML's targets (on models only); Architect expressions (pure); waits",
    ),
    (
        &["emulator"],
        "the offline Genesys Cloud: shares only the wire and file formats",
    ),
    (
        &["flow", "output"],
        "flow model and YAML; rendering and escaping",
    ),
    (&["cli"], "flags"),
    (&["config"], "flags and environment → settings"),
    (&["client"], "the Platform API"),
    (&["error"], "the top-level error: every exit code and hint"),
    (&["manifest"], "flows as code"),
    (&["lint"], "Architect-aware checks"),
    (
        &["import", "walk"],
        "importers that write a manifest; the offline call through a flow",
    ),
    (&["commands"], "one module per subcommand"),
];

/// Narrower rules than the layer order: a module may import only these.
const ONLY: &[(&str, &[&str], &str)] = &[
    (
        "architect_refs",
        &["models"],
        "how Architect YAML names targets builds on the wire models alone",
    ),
    (
        "emulator",
        &["models", "yaml_guard", "architect_refs"],
        "the emulator is an independent oracle: it shares only the wire and file formats",
    ),
];

/// Modules a module must not import, though the layer order would allow it.
const NEVER: &[(&str, &[&str], &str)] = &[
    (
        "import",
        &["client", "emulator"],
        "an importer writes a manifest from files: it knows no server",
    ),
    (
        "walk",
        &["client", "emulator"],
        "the offline call knows no server",
    ),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src/`: `commands/verify/mod.rs` is `commands::verify`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_string();
        if stem != "mod" && stem != "lib" && stem != "main" {
            parts.push(stem);
        }
    }
    parts
}

/// Every top-level module a file's code names (its own included), `*` for a glob of the crate
/// root.
fn named_modules(source: &str, module: &[String]) -> BTreeSet<String> {
    let file = syn::parse_file(source).unwrap_or_else(|e| panic!("{module:?}: {e}"));
    let mut names = Names {
        module: module.to_vec(),
        found: BTreeSet::new(),
    };
    names.visit_file(&file);
    names.found
}

struct Names {
    /// Where the code being read sits, from the crate root.
    module: Vec<String>,
    found: BTreeSet<String>,
}

impl Names {
    /// Resolves a path that starts at `crate`, `super` or `self` and notes the top-level
    /// module it lands in. `glob` is a `*` at its end.
    fn note(&mut self, segments: &[String], glob: bool) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut at = match first.as_str() {
            "crate" => Vec::new(),
            "super" | "self" => self.module.clone(),
            _ => return,
        };
        let mut rest = segments.iter().peekable();
        if first == "crate" {
            rest.next();
        }
        while let Some(s) = rest.peek() {
            match s.as_str() {
                "super" => {
                    at.pop();
                }
                "self" => {}
                _ => break,
            }
            rest.next();
        }
        at.extend(rest.cloned());
        match at.first() {
            Some(top) => {
                self.found.insert(top.clone());
            }
            None if glob => {
                self.found.insert("*".to_string());
            }
            None => {}
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.note(prefix, false);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.note(prefix, false);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.note(prefix, true),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// Paths written inside tokens syn leaves unparsed (macro calls, attribute arguments):
    /// `crate :: a :: b` and `super :: x` runs.
    fn tokens(&mut self, tokens: TokenStream) {
        let mut flat = Vec::new();
        flatten(tokens, &mut flat);
        let mut i = 0;
        while i < flat.len() {
            let starts = matches!(&flat[i], Tok::Ident(s) if s == "crate" || s == "super" || s == "self")
                && (i == 0 || flat[i - 1] != Tok::Colon2);
            if !starts {
                i += 1;
                continue;
            }
            let mut segments = Vec::new();
            let mut glob = false;
            while let Some(Tok::Ident(s)) = flat.get(i) {
                segments.push(s.clone());
                if flat.get(i + 1) != Some(&Tok::Colon2) {
                    i += 1;
                    break;
                }
                if flat.get(i + 2) == Some(&Tok::Star) {
                    glob = true;
                }
                i += 2;
            }
            self.note(&segments, glob);
        }
    }
}

#[derive(PartialEq, Debug)]
enum Tok {
    Ident(String),
    Colon2,
    Star,
    Other,
}

fn flatten(tokens: TokenStream, out: &mut Vec<Tok>) {
    let mut iter = tokens.into_iter().peekable();
    while let Some(t) = iter.next() {
        match t {
            TokenTree::Ident(i) => out.push(Tok::Ident(i.to_string())),
            TokenTree::Punct(p) if p.as_char() == ':' => {
                if matches!(iter.peek(), Some(TokenTree::Punct(q)) if q.as_char() == ':') {
                    iter.next();
                    out.push(Tok::Colon2);
                } else {
                    out.push(Tok::Other);
                }
            }
            TokenTree::Punct(p) if p.as_char() == '*' => out.push(Tok::Star),
            TokenTree::Group(g) => {
                out.push(Tok::Other);
                if g.delimiter() == Delimiter::None {
                    flatten(g.stream(), out);
                } else {
                    flatten(g.stream(), out);
                    out.push(Tok::Other);
                }
            }
            _ => out.push(Tok::Other),
        }
    }
}

fn cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !cfg_test(item_attrs(item)) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !cfg_test(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_field(&mut self, f: &'ast syn::Field) {
        if !cfg_test(&f.attrs) {
            syn::visit::visit_field(self, f);
        }
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        let skip = match s {
            syn::Stmt::Local(l) => cfg_test(&l.attrs),
            syn::Stmt::Macro(m) => cfg_test(&m.attrs),
            _ => false,
        };
        if !skip {
            syn::visit::visit_stmt(self, s);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.module.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if p.leading_colon.is_none() {
            self.note(&segments, false);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }

    fn visit_meta_list(&mut self, m: &'ast syn::MetaList) {
        self.tokens(m.tokens.clone());
        syn::visit::visit_meta_list(self, m);
    }
}

/// The top-level modules of `src/` and what each imports (itself left out), read once.
fn graph() -> Graph {
    static REAL: std::sync::OnceLock<Graph> = std::sync::OnceLock::new();
    REAL.get_or_init(|| read_graph(Path::new("src"))).clone()
}

fn read_graph(src: &Path) -> Graph {
    let mut deps: Graph = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in &files {
        let rel = file.strip_prefix(src).expect("under src");
        let module = module_path(rel);
        if let [top] = module.as_slice() {
            deps.entry(top.clone()).or_default();
        }
    }
    let tops: BTreeSet<String> = deps.keys().cloned().collect();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let module = module_path(rel);
        let Some(own) = module.first().cloned() else {
            continue; // lib.rs and main.rs wire the modules together
        };
        let text = std::fs::read_to_string(&file).expect("read");
        add(&mut deps, &tops, &own, named_modules(&text, &module));
    }
    deps
}

fn add(deps: &mut Graph, tops: &BTreeSet<String>, own: &str, named: BTreeSet<String>) {
    let entry = deps.entry(own.to_string()).or_default();
    for n in named {
        if n == "*" {
            entry.extend(tops.iter().filter(|t| *t != own).cloned());
        } else if n != own && tops.contains(&n) {
            entry.insert(n);
        }
    }
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(ms, _)| ms.contains(&module))
}

/// Every way the graph goes against the drawing, as sentences; empty when it follows it.
fn problems(deps: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = cycle(deps) {
        out.push(format!("import cycle: {}", c.join(" -> ")));
    }
    for (module, uses) in deps {
        let Some(own) = layer_of(module) else {
            out.push(format!(
                "`{module}` is in no layer: add it to LAYERS here, and to the README's and lib.rs's drawing"
            ));
            continue;
        };
        for used in uses {
            match layer_of(used) {
                Some(l) if l < own => {}
                Some(l) => out.push(format!(
                    "`{module}` ({}) imports `{used}` ({}), which is not below it",
                    LAYERS[own].1, LAYERS[l].1
                )),
                None => {} // reported as in no layer
            }
        }
        for (who, allowed, why) in ONLY {
            if who == module {
                for used in uses.iter().filter(|u| !allowed.contains(&u.as_str())) {
                    out.push(format!("`{module}` imports `{used}`: {why}"));
                }
            }
        }
        for (who, banned, why) in NEVER {
            if who == module {
                for used in uses.iter().filter(|u| banned.contains(&u.as_str())) {
                    out.push(format!("`{module}` imports `{used}`: {why}"));
                }
            }
        }
    }
    out
}

fn cycle(deps: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        deps: &Graph,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in deps.get(n).into_iter().flatten() {
            match state.get(d) {
                Some(1) => {
                    let from = path.iter().position(|p| p == d).unwrap_or(0);
                    let mut c = path[from..].to_vec();
                    c.push(d.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(d, deps, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in deps.keys() {
        if !state.contains_key(n) {
            if let Some(c) = visit(n, deps, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn shown(deps: &Graph) -> String {
    deps.iter()
        .map(|(k, v)| {
            format!(
                "{k} -> {}",
                v.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_modules_of_src_follow_the_layers_the_readme_draws() {
    let deps = graph();
    let found = problems(&deps);
    assert!(
        found.is_empty(),
        "{}\n\nthe graph:\n{}",
        found.join("\n"),
        shown(&deps)
    );
}

/// The layers the README's design notes draw, bottom first: the code block after
/// "**Layers.**", one layer per line (top first there), its modules before the description;
/// a line of names ending in a comma goes on on the next line.
fn readme_layers(readme: &str) -> Vec<BTreeSet<String>> {
    let block: Vec<&str> = readme
        .split_once("**Layers.**")
        .and_then(|(_, after)| after.split_once("```"))
        .and_then(|(_, after)| after.split_once("```"))
        .map(|(block, _)| block.lines().collect())
        .expect("the README's design notes draw the layers in a code block after **Layers.**");
    let mut layers: Vec<BTreeSet<String>> = Vec::new();
    let mut going_on = false;
    for line in block {
        let names = line.trim_start();
        // A description's second line starts far in: no names.
        if names.is_empty() || line.len() - names.len() > 4 {
            continue;
        }
        let names = names.split("  ").next().unwrap_or_default().trim();
        let set: BTreeSet<String> = names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect();
        match layers.last_mut() {
            Some(last) if going_on => last.extend(set),
            _ => layers.push(set),
        }
        going_on = names.ends_with(',');
    }
    layers.reverse();
    layers
}

#[test]
fn the_layers_checked_are_the_layers_the_readme_draws() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let checked: Vec<BTreeSet<String>> = LAYERS
        .iter()
        .map(|(names, _)| names.iter().map(|n| n.to_string()).collect())
        .collect();
    assert_eq!(readme_layers(&readme), checked);
}

#[test]
fn a_readme_drawing_that_differs_is_told_apart() {
    let drawn = "**Layers.** In order:

  ```
  commands            top
  flow, output,       two
  cli                 lines
                      and more words
  models              leaves
  ```
";
    let layers = |l: &[&[&str]]| -> Vec<BTreeSet<String>> {
        l.iter()
            .map(|names| names.iter().map(|n| n.to_string()).collect())
            .collect()
    };
    let want = layers(&[&["models"], &["flow", "output", "cli"], &["commands"]]);
    assert_eq!(readme_layers(drawn), want);
    let swapped = drawn
        .replace("commands ", "TEMP     ")
        .replace("models   ", "commands ")
        .replace("TEMP     ", "models   ");
    assert_eq!(
        readme_layers(&swapped),
        layers(&[&["commands"], &["flow", "output", "cli"], &["models"]])
    );
}

/// The real graph with one more file's code added to `module` (a file path under `src/`).
fn graph_with(module: &str, code: &str) -> Graph {
    let mut deps = graph();
    let tops: BTreeSet<String> = deps.keys().cloned().collect();
    let path = module_path(Path::new(module));
    let own = path.first().cloned().expect("a module");
    add(&mut deps, &tops, &own, named_modules(code, &path));
    deps
}

#[test]
fn a_circle_through_a_renamed_use_in_a_group_is_found() {
    let deps = graph_with("config/mod.rs", "use crate::{commands as _c};");
    let found = problems(&deps);
    assert!(
        found.iter().any(|p| p.starts_with("import cycle:")),
        "{found:?}"
    );
    assert!(
        found.iter().any(
            |p| p.starts_with("`config` (flags and environment → settings) imports `commands`")
        ),
        "{found:?}"
    );
}

#[test]
fn an_underscore_import_is_an_import() {
    let deps = graph_with("config/mod.rs", "use crate::{commands as _};");
    assert!(deps["config"].contains("commands"), "{}", shown(&deps));
}

#[test]
fn an_order_break_without_a_circle_is_found() {
    // `models` is a leaf; `progress` imports nothing that imports `models` back.
    let deps = graph_with("models.rs", "fn f() { crate::progress::set_quiet(true); }");
    assert_eq!(cycle(&deps), None, "{}", shown(&deps));
    assert_eq!(
        problems(&deps),
        vec!["`models` (leaves) imports `progress` (Architect YAML's targets (on models only); Architect expressions (pure); waits), which is not below it".to_string()]
    );
}

#[test]
fn the_emulator_may_not_share_flowctls_flow_model() {
    let deps = graph_with("emulator/export.rs", "use super::super::flow::compare;");
    let found = problems(&deps);
    assert!(
        found.contains(
            &"`emulator` imports `flow`: the emulator is an independent oracle: it shares only the wire and file formats"
                .to_string()
        ),
        "{found:?}"
    );
}

#[test]
fn a_module_in_no_layer_is_named() {
    let mut deps = graph();
    deps.insert("newcomer".to_string(), BTreeSet::new());
    assert!(
        problems(&deps)
            .iter()
            .any(|p| p.starts_with("`newcomer` is in no layer")),
        "{:?}",
        problems(&deps)
    );
}

#[test]
fn names_in_strings_and_comments_are_not_imports_and_code_after_them_is() {
    let code = r#"
        // crate::commands::run()
        /// crate::lint is documented here
        fn f() -> &'static str {
            let url = "http://example.com // crate::client"; crate::output::escape(url);
            "crate::manifest"
        }
    "#;
    let found = named_modules(code, &["config".to_string()]);
    assert_eq!(
        found,
        BTreeSet::from(["output".to_string()]),
        "only the call after the string is code"
    );
}

#[test]
fn every_way_of_naming_a_module_is_read() {
    let code = r#"
        use super::super::client::Client;
        use crate::{self as root, error::{self, Error}};
        pub(in crate::flow) struct S;
        #[arg(default_value = crate::emulator::DEFAULT_CLIENT_ID)]
        struct T;
        fn f() { tracing::info!("{}", crate::progress::x()); let _: crate::models::Flow; }
        fn g() -> impl super::super::manifest::Thing {}
        #[cfg(test)]
        mod tests { use crate::lint::*; }
    "#;
    let found = named_modules(code, &["commands".to_string(), "verify".to_string()]);
    assert_eq!(
        found,
        ["client", "emulator", "error", "flow", "manifest", "models", "progress"]
            .into_iter()
            .map(String::from)
            .collect::<BTreeSet<_>>()
    );
}

#[test]
fn a_glob_of_the_crate_root_imports_everything() {
    let found = named_modules("use crate::*;", &["models".to_string()]);
    assert_eq!(found, BTreeSet::from(["*".to_string()]));
    let deps = graph_with("models.rs", "use crate::*;");
    assert!(deps["models"].contains("commands"), "{}", shown(&deps));
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut deps = BTreeMap::new();
    deps.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    deps.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        cycle(&deps),
        Some(vec!["a".to_string(), "b".to_string(), "a".to_string()])
    );
}

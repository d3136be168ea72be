//! The top-level modules of `src/` form layers: no module imports one that imports it back
//! (directly or through others). A module depends on another when its code (comments
//! aside) names `crate::other`. The README's design notes draw the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src").flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new("src");
    let tops: BTreeSet<String> = std::fs::read_dir(src)
        .expect("src")
        .flatten()
        .map(|e| {
            e.file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .filter(|n| n != "main" && n != "lib")
        .collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> =
        tops.iter().map(|t| (t.clone(), BTreeSet::new())).collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    for file in files {
        let rel = file.strip_prefix(src).expect("under src");
        let first = rel
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        let Some(own) = deps.get_mut(&first) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read");
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let name: String = rest[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name != first && tops.contains(&name) {
                    own.insert(name.clone());
                }
                rest = &rest[at + 7..];
            }
        }
    }
    deps
}

fn cycle(deps: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
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

#[test]
fn no_top_level_module_imports_one_that_imports_it_back() {
    let deps = graph();
    let shown: Vec<String> = deps
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} -> {}",
                v.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    if let Some(c) = cycle(&deps) {
        panic!("cycle: {}\n{}", c.join(" -> "), shown.join("\n"));
    }
    // The leaves stay leaves.
    for leaf in ["models", "exit", "files", "yaml_guard"] {
        assert!(deps[leaf].is_empty(), "{leaf} imports {:?}", deps[leaf]);
    }
    // How Architect YAML names targets builds on the wire models alone.
    assert!(
        deps["architect_refs"].iter().all(|d| d == "models"),
        "architect_refs imports {:?}",
        deps["architect_refs"]
    );
    // The emulator is an independent oracle: it shares only the wire models, the YAML
    // guard and how Architect YAML names a target with flowctl.
    let emulator: Vec<&String> = deps["emulator"].iter().collect();
    assert!(
        deps["emulator"]
            .iter()
            .all(|d| ["models", "yaml_guard", "architect_refs", "flow"].contains(&d.as_str())),
        "the emulator imports {emulator:?}"
    );
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

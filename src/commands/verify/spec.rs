//! What to verify (parents, the modules, queues and other things each must use) and how
//! a failure's fix is worded (flags, or the manifest).

use crate::cli::{GlobalArgs, VerifyArgs};
use crate::error::{Error, Result};
use crate::flow::Reference;
use crate::models::FlowType;
use std::time::Duration;

/// What to verify: parents, each with the modules it must call and the queues it must
/// transfer to. `verify --shared --parent` and `verify -f manifest` both become one.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) parents: Vec<ParentSpec>,
    pub(crate) wait: Duration,
    pub(crate) fix: FixStyle,
}

#[derive(Debug, Clone)]
pub(crate) struct ParentSpec {
    /// Name or id, as the user wrote it.
    pub(crate) parent: String,
    /// What the parent must be: an inbound call flow for `--parent`, the file's type with
    /// `-f`.
    pub(crate) flow_type: FlowType,
    pub(crate) modules: Vec<String>,
    pub(crate) queues: Vec<String>,
    /// Bot flows, flows transferred to, schedule groups, data tables, data actions and
    /// user prompts the parent's published version must consume.
    pub(crate) others: Vec<Reference>,
}

/// How the report words the command that fixes a failure. Every command is shell-quoted
/// (`shlex`), so it runs as printed, and carries the global flags that chose the org.
#[derive(Debug, Clone)]
pub(crate) enum FixStyle {
    /// `flowctl create-shared ...` / `flowctl create-parent ...`
    Commands {
        queue: Option<String>,
        /// Global flags that chose the org (`--emulator`, `--profile NAME`).
        global: Vec<String>,
    },
    /// `flowctl apply -f FILE [--var k=v ...]`
    Manifest {
        path: String,
        global: Vec<String>,
        /// The `--var k=v` words verify was given, which the manifest needs again.
        vars: Vec<String>,
    },
}

/// What the org says about a parent, so that its fix keeps it as it is: the queue its
/// published version transfers to and its division.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    pub(crate) queue: Option<String>,
    pub(crate) division: Option<String>,
    /// The flow is not of the shape `create-parent` publishes (it calls other modules too,
    /// or flowctl never published it), so `create-parent` would replace its content.
    pub(crate) own_content: bool,
}

/// One shell word, quoted only when it needs to be.
pub(crate) fn shell_word(s: &str) -> String {
    match shlex::try_quote(s) {
        Ok(q) => q.into_owned(),
        // Only a NUL byte cannot be quoted; no flow or queue name holds one.
        Err(_) => format!("{s:?}"),
    }
}

fn command(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The global flags of `global` that choose the org, for the fix commands to carry.
pub(crate) fn org_flags(global: &GlobalArgs) -> Vec<String> {
    let mut flags = Vec::new();
    if global.emulator {
        flags.push("--emulator".to_string());
    }
    if let Some(p) = &global.profile {
        flags.push("--profile".to_string());
        flags.push(p.clone());
    }
    flags
}

impl FixStyle {
    fn head<'a>(global: &'a [String], words: &mut Vec<&'a str>) {
        words.push("flowctl");
        words.extend(global.iter().map(String::as_str));
    }

    /// `flowctl [org flags] apply -f PATH [--var k=v...]`: the fix of anything a manifest
    /// makes.
    fn apply<'a>(
        path: &'a str,
        global: &'a [String],
        vars: &'a [String],
        words: &mut Vec<&'a str>,
    ) {
        Self::head(global, words);
        words.extend(["apply", "-f", path]);
        words.extend(vars.iter().map(String::as_str));
    }

    pub(super) fn module(&self, module: &str, division: Option<&str>) -> String {
        let mut words = Vec::new();
        match self {
            FixStyle::Commands { global, .. } => {
                Self::head(global, &mut words);
                words.extend(["create-shared", "--name", module]);
                if let Some(d) = division {
                    words.extend(["--division", d]);
                }
            }
            FixStyle::Manifest { path, global, vars } => {
                Self::apply(path, global, vars, &mut words)
            }
        }
        command(&words)
    }

    pub(super) fn parent(&self, parent: &str, modules: &[String], known: &Known) -> String {
        let mut words = Vec::new();
        match self {
            FixStyle::Commands { .. } if known.own_content => {
                return format!(
                    "republish '{parent}' the way it was made (in Architect, or with the manifest that publishes it: `flowctl apply -f MANIFEST`); `create-parent` would replace its content with the built-in template"
                );
            }
            FixStyle::Commands { queue, global } => {
                Self::head(global, &mut words);
                words.extend(["create-parent", "--name", parent]);
                if let Some(m) = modules.first() {
                    words.extend(["--shared", m]);
                }
                let Some(queue) = queue.as_deref().or(known.queue.as_deref()) else {
                    // Nothing says which queue: name the missing piece rather than print a
                    // command that would fail or guess.
                    return format!(
                        "{} --queue NAME (the queue it should transfer to: verify was given no --queue and the org shows none)",
                        command(&words)
                    );
                };
                words.extend(["--queue", queue]);
                if let Some(d) = known.division.as_deref() {
                    words.extend(["--division", d]);
                }
            }
            FixStyle::Manifest { path, global, vars } => {
                Self::apply(path, global, vars, &mut words)
            }
        }
        command(&words)
    }
}

impl Spec {
    /// `--shared` with `parents` (the `--parent`s, or every caller dependency tracking
    /// knows when none is given).
    pub(crate) fn from_args(args: &VerifyArgs, parents: &[String]) -> Result<Spec> {
        let Some(shared) = args.shared.clone() else {
            return Err(Error::input(
                "verify needs --shared (with --parent, or alone for every caller), or -f MANIFEST",
                None,
            ));
        };
        Ok(Spec {
            parents: parents
                .iter()
                .map(|p| ParentSpec {
                    parent: p.clone(),
                    flow_type: FlowType::InboundCall,
                    modules: vec![shared.clone()],
                    queues: args.queue.iter().cloned().collect(),
                    others: Vec::new(),
                })
                .collect(),
            wait: Duration::from_secs(args.wait),
            fix: FixStyle::Commands {
                queue: args.queue.clone(),
                global: Vec::new(),
            },
        })
    }

    /// Every flow of the manifest that calls modules or transfers to queues, and every
    /// module that names a flow Architect resolves at publish (an in-queue flow, a bot
    /// flow): what it names is checked through dependency tracking too.
    pub(crate) fn from_manifest(manifest: &crate::manifest::Manifest, wait: u64) -> Spec {
        let names_a_flow = |item: &&crate::manifest::Item| {
            item.doc.flow_type != FlowType::CommonModule
                || item.doc.references.iter().any(|r| r.kind.is_flow())
        };
        Spec {
            parents: manifest
                .items()
                .filter(names_a_flow)
                .map(|item| ParentSpec {
                    parent: item.doc.name.clone(),
                    flow_type: item.doc.flow_type,
                    modules: item.doc.modules.clone(),
                    queues: item.doc.queues.clone(),
                    others: item.doc.references.clone(),
                })
                .collect(),
            wait: Duration::from_secs(wait),
            fix: FixStyle::Manifest {
                path: manifest.path.display().to_string(),
                global: Vec::new(),
                vars: Vec::new(),
            },
        }
    }

    /// The fixes carry these global flags (`--emulator`, `--profile NAME`).
    pub(crate) fn with_org_flags(mut self, flags: Vec<String>) -> Spec {
        match &mut self.fix {
            FixStyle::Commands { global, .. } | FixStyle::Manifest { global, .. } => {
                *global = flags
            }
        }
        self
    }
}

//! A newcomer's first hour: every hint runs as printed, no wait is silent,
//! lookups help, output speaks with one voice, and the README's examples run as written.

mod common;

use common::Org;
use flowctl::emulator::{EmulatorConfig, Seed};
use flowctl::models::FlowType;
use std::time::Duration;

const QUEUE: &str = "General Support";

fn flow(org: &Org, name: &str, t: FlowType) -> Option<flowctl::models::Flow> {
    org.emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name && f.flow_type == t)
}

fn seeded(divisions: &[&str]) -> EmulatorConfig {
    EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        seed: Some(Seed {
            divisions: divisions.iter().map(|d| d.to_string()).collect(),
            ..Seed::default()
        }),
        ..EmulatorConfig::default()
    }
}

/// The `fix:` lines of a text report, split into words as a shell would.
fn fixes(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fix: "))
        .filter(|l| l.starts_with("flowctl "))
        .map(|l| shlex::split(l).unwrap_or_else(|| panic!("not shell words: {l}")))
        .collect()
}

/// Runs one printed command line through bash, with this build's flowctl first on PATH.
async fn in_bash(org: &Org, line: &str) -> common::Run {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_flowctl"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-c", line])
        .current_dir(org.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", org.path())
        .env("XDG_CACHE_HOME", org.path().join("cache"))
        .env("GENESYS_API_BASE_URL", org.emulator.base_url())
        .env("GENESYS_CLIENT_ID", flowctl::emulator::DEFAULT_CLIENT_ID)
        .env(
            "GENESYS_CLIENT_SECRET",
            flowctl::emulator::DEFAULT_CLIENT_SECRET,
        )
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("bash runs"))
        .await
        .expect("join");
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_fix_runs_as_printed_keeping_the_queue_and_the_division() {
    let org = Org::with(seeded(&["Ventes"])).await;
    let module = "Ventes d'été \"VIP\"";
    let parent = "Entrée $HOME `VIP`";
    let r = org.flowctl(&["create-shared", "--name", module]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            parent,
            "--shared",
            module,
            "--queue",
            "Sales",
            "--division",
            "Ventes",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    // A new module version makes the parent stale.
    let r = org
        .flowctl(&["create-shared", "--name", module, "--greeting", "Bonjour"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");

    // verify is not told the queue: the fix must carry the one the parent uses.
    let r = org
        .flowctl(&["verify", "--shared", module, "--parent", parent])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    let fix = fixes(&r.stdout).into_iter().next().expect("a fix line");
    assert_eq!(fix[0], "flowctl", "{r:?}");
    assert!(!fix.iter().any(|w| w == "QUEUE"), "{fix:?}");
    let words: Vec<&str> = fix.iter().skip(1).map(String::as_str).collect();
    assert!(
        words
            .windows(2)
            .any(|w| w == ["--name", parent] || w == ["--shared", module]),
        "{fix:?}"
    );

    // Run the line itself through bash, as a user pasting it would.
    let line = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fix: "))
        .find(|l| l.starts_with("flowctl "))
        .expect("a fix line")
        .to_string();
    let r = in_bash(&org, &line).await;
    assert_eq!(r.code, 0, "the printed fix {line} failed: {r:?}");
    let r = org
        .flowctl(&["verify", "--shared", module, "--parent", parent])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let p = flow(&org, parent, FlowType::InboundCall).expect("parent");
    assert_eq!(
        p.division.and_then(|d| d.name).as_deref(),
        Some("Ventes"),
        "the fix moved the flow out of its division"
    );
    let r = org
        .flowctl(&[
            "verify", "--shared", module, "--parent", parent, "--queue", "Sales",
        ])
        .await;
    assert_eq!(r.code, 0, "the fix changed the queue: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_for_a_missing_parent_names_the_queue_it_needs_instead_of_a_placeholder() {
    let org = Org::new().await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greeting Module",
            "--parent",
            "Nowhere",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("\"QUEUE\""), "{r:?}");
    assert!(
        r.stdout
            .contains("--queue NAME (the queue it should transfer to"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_says_what_it_waits_for_while_the_index_lags() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        index_lag: Duration::from_millis(2500),
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greeting Module",
            "--parent",
            "Inbound Sales Flow",
            "--wait",
            "30",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("waiting for the dependency index to show every link (up to 30 s)"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_architect_job_is_announced_on_stderr() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(2500),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("waiting for Architect job"), "{r:?}");
    assert!(r.stderr.contains("up to 960 s"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_keeps_waits_silent() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(1500),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["-q", "create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("waiting for"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_wait_is_announced_on_stderr() {
    // As imprecise as the real service may be: jobs spend 5 requests of the window, the
    // reset is rounded down.
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        job_requests: 5,
        reset_rounds_down: true,
        ..EmulatorConfig::default()
    })
    .await;
    org.emulator
        .script_faults(vec![flowctl::emulator::Fault::Status429 { retry_after: 3 }]);
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let said = r.stderr.to_lowercase();
    assert!(said.contains("waiting"), "{r:?}");
    assert!(said.contains("rate limit") || said.contains("429"), "{r:?}");
}

async fn module_and_parent(org: &Org) {
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
}

async fn create_parent_calling(org: &Org, shared: &str) -> common::Run {
    org.flowctl(&[
        "create-parent",
        "--name",
        "New Flow",
        "--shared",
        shared,
        "--queue",
        QUEUE,
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_module_gets_close_names_and_no_hint_to_create_the_typo() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let r = create_parent_calling(&org, "Shared Greting Module").await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("did you mean 'Shared Greeting Module'?"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("create-shared"), "{r:?}");
    assert!(flow(&org, "New Flow", FlowType::InboundCall).is_none());

    // verify words it the same way.
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greting Module",
            "--parent",
            "Inbound Sales Flow",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("did you mean 'Shared Greeting Module'?"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("create-shared"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_of_another_type_is_named_as_such() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let r = create_parent_calling(&org, "Inbound Sales Flow").await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("'Inbound Sales Flow' is an inbound call flow, not a common module"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("does not exist"), "{r:?}");

    let id = flow(&org, "Inbound Sales Flow", FlowType::InboundCall)
        .expect("parent")
        .id;
    let r = create_parent_calling(&org, &id).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("is an inbound call flow, not a common module"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_is_never_offered_as_a_name_to_create() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let r = create_parent_calling(&org, id).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!("no flow has the id {id}")),
        "{r:?}"
    );
    assert!(!r.stderr.contains("create-shared"), "{r:?}");

    let r = org
        .flowctl(&["verify", "--shared", id, "--parent", "Inbound Sales Flow"])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!r.stdout.contains("create-shared"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_module_name_is_offered_to_be_created() {
    let org = Org::new().await;
    let r = create_parent_calling(&org, "Billing Hours").await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("publish it first: flowctl create-shared --name 'Billing Hours'"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_a_module_names_its_stale_callers_and_the_commands_that_republish_them() {
    let org = Org::with(seeded(&["Ventes"])).await;
    let module = "Shared Greeting Module";
    assert_eq!(
        org.flowctl(&["create-shared", "--name", module]).await.code,
        0
    );
    for (name, queue, division) in [
        ("Inbound Sales Flow", QUEUE, "Home"),
        ("Inbound Support Flow", QUEUE, "Home"),
        ("Ventes Entrée", "Sales", "Ventes"),
    ] {
        let r = org
            .flowctl(&[
                "create-parent",
                "--name",
                name,
                "--shared",
                module,
                "--queue",
                queue,
                "--division",
                division,
            ])
            .await;
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = org
        .flowctl(&["create-shared", "--name", module, "--greeting", "New words"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    for name in [
        "Inbound Sales Flow",
        "Inbound Support Flow",
        "Ventes Entrée",
    ] {
        assert!(
            r.stdout.contains(&format!("inbound call flow '{name}'")),
            "{r:?}"
        );
    }
    let commands: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("republish: "))
        .collect();
    assert_eq!(commands.len(), 2, "one per queue and division: {r:?}");
    for c in &commands {
        let run = in_bash(&org, c).await;
        assert_eq!(run.code, 0, "{c}: {run:?}");
    }
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            module,
            "--parent",
            "Inbound Sales Flow",
            "--parent",
            "Inbound Support Flow",
            "--parent",
            "Ventes Entrée",
        ])
        .await;
    assert_eq!(r.code, 0, "still stale after the printed commands: {r:?}");
    let ventes = flow(&org, "Ventes Entrée", FlowType::InboundCall).expect("flow");
    assert_eq!(
        ventes.division.and_then(|d| d.name).as_deref(),
        Some("Ventes")
    );

    // JSON carries the same.
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-shared",
            "--name",
            module,
            "--greeting",
            "Newer",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let json = r.json();
    assert_eq!(
        json["staleCallers"].as_array().map(Vec::len),
        Some(3),
        "{json:#}"
    );
    assert_eq!(
        json["republish"].as_array().map(Vec::len),
        Some(2),
        "{json:#}"
    );
}

// The README's examples (item 8): each is a file under examples/, the README holds an
// identical copy, and each runs as written against an emulator.

const EXAMPLES: [&str; 7] = [
    "examples/quickstart.sh",
    "examples/try-emulator.sh",
    "examples/against-your-org.sh",
    "examples/flows.yaml",
    "examples/config.toml",
    "examples/emulator-serve.sh",
    "examples/import-terraform.sh",
];

/// The code block under each `<!-- example: PATH ... -->` marker of the README.
fn readme_examples() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix("<!-- example: ") else {
            continue;
        };
        let path = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            lines.get(i + 1).is_some_and(|l| l.starts_with("```")),
            "the marker of {path} is not followed by a code block"
        );
        let body: Vec<&str> = lines
            .iter()
            .skip(i + 2)
            .take_while(|l| !l.starts_with("```"))
            .copied()
            .collect();
        found.push((path, format!("{}\n", body.join("\n"))));
    }
    found
}

#[test]
fn the_readme_holds_an_identical_copy_of_every_example() {
    let found = readme_examples();
    for path in EXAMPLES {
        let (_, copy) = found
            .iter()
            .find(|(p, _)| p == path)
            .unwrap_or_else(|| panic!("the README does not show {path}"));
        let file = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(
            copy, &file,
            "the README's copy of {path} differs from the file"
        );
    }
    assert_eq!(
        found.len(),
        EXAMPLES.len(),
        "an example the test does not run"
    );
}

#[test]
fn the_readme_has_no_placeholder_owner_and_one_commands_table() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    assert!(!readme.contains("OWNER"), "a placeholder URL");
    let start = readme
        .find("| command | what it does |")
        .expect("commands table");
    let table: Vec<&str> = readme[start..]
        .lines()
        .take_while(|l| l.starts_with('|'))
        .collect();
    for sub in ["create-shared", "plan -f", "apply -f", "graph -f", "whoami"] {
        assert!(
            table.iter().any(|l| l.contains(&format!("`{sub}"))),
            "`{sub}` is not in the one commands table"
        );
    }
    assert!(!readme.contains("the musl build has no system dependencies"));
}

/// One command of a README shell example, if it runs flowctl: its environment
/// prefix, its arguments, and the file its stdout is redirected to.
#[derive(Debug)]
struct Step {
    env: Vec<(String, String)>,
    args: Vec<String>,
    stdout_to: Option<String>,
}

/// The commands of a shell example: continued lines joined, comments dropped, split into
/// words as a shell would. Lines that do not run flowctl (`cp`, `cargo install`,
/// `cargo test`) are left out.
fn flowctl_steps(script: &str) -> Vec<Step> {
    let joined = script.replace("\\\n", " ");
    let mut steps = Vec::new();
    for line in joined.lines() {
        let words = shlex::split(line).unwrap_or_else(|| panic!("not shell words: {line}"));
        let words: Vec<String> = words
            .into_iter()
            .take_while(|w| !w.starts_with('#'))
            .collect();
        let mut env = Vec::new();
        let mut rest = words.as_slice();
        while let Some((first, tail)) = rest.split_first() {
            match first.split_once('=') {
                Some((k, v)) if k.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                    env.push((k.to_string(), v.to_string()));
                    rest = tail;
                }
                _ => break,
            }
        }
        let args = match rest {
            [cargo, run, release, dashes, args @ ..]
                if cargo == "cargo" && run == "run" && release == "--release" && dashes == "--" =>
            {
                args
            }
            [flowctl, args @ ..] if flowctl == "flowctl" => args,
            _ => continue,
        };
        let (args, stdout_to) = match args.iter().position(|a| a == ">") {
            Some(i) => (&args[..i], args.get(i + 1).cloned()),
            None => (args, None),
        };
        steps.push(Step {
            env,
            args: args.to_vec(),
            stdout_to,
        });
    }
    steps
}

/// A fresh working directory holding a copy of `examples/`, as in a clone.
fn clone_dir() -> tempfile::TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            let path = entry.path();
            let target = to.join(entry.file_name());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    copy(
        std::path::Path::new("examples"),
        &dir.path().join("examples"),
    );
    dir
}

async fn run_steps(dir: &std::path::Path, steps: &[Step], base: &[(String, String)]) {
    assert!(!steps.is_empty(), "no flowctl command in the example");
    for step in steps {
        let mut vars = base.to_vec();
        vars.extend(step.env.iter().cloned());
        let args: Vec<&str> = step.args.iter().map(String::as_str).collect();
        let r = common::run_in(dir, &args, vars).await;
        assert_eq!(r.code, 0, "{step:?}: {r:?}");
        if let Some(file) = &step.stdout_to {
            std::fs::write(dir.join(file), &r.stdout).expect("write");
        }
    }
}

fn example(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_and_the_emulator_walkthrough_run_as_written() {
    let dir = clone_dir();
    let steps = flowctl_steps(&example("examples/quickstart.sh"));
    assert_eq!(
        steps.len(),
        1,
        "demo (cargo test is the suite itself): {steps:?}"
    );
    run_steps(dir.path(), &steps, &[]).await;
    let steps = flowctl_steps(&example("examples/try-emulator.sh"));
    assert_eq!(steps.len(), 3, "{steps:?}");
    run_steps(dir.path(), &steps, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_against_your_org_example_runs_against_an_emulated_org() {
    let org = Org::new().await;
    let dir = clone_dir();
    let base = vec![
        ("GENESYS_API_BASE_URL".to_string(), org.emulator.base_url()),
        (
            "GENESYS_CLIENT_ID".to_string(),
            flowctl::emulator::DEFAULT_CLIENT_ID.to_string(),
        ),
        (
            "GENESYS_CLIENT_SECRET".to_string(),
            flowctl::emulator::DEFAULT_CLIENT_SECRET.to_string(),
        ),
    ];
    let steps = flowctl_steps(&example("examples/against-your-org.sh"));
    assert_eq!(steps.len(), 3, "{steps:?}");
    run_steps(dir.path(), &steps, &base).await;
    let xml = std::fs::read_to_string(dir.path().join("verify.xml")).expect("verify.xml");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML");
    assert!(doc.descendants().any(|n| n.has_tag_name("testcase")));
    assert!(!xml.contains("<failure"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cx_as_code_example_imports_then_applies_against_an_emulated_org() {
    let org = Org::new().await;
    let dir = clone_dir();
    let base = vec![
        ("GENESYS_API_BASE_URL".to_string(), org.emulator.base_url()),
        (
            "GENESYS_CLIENT_ID".to_string(),
            flowctl::emulator::DEFAULT_CLIENT_ID.to_string(),
        ),
        (
            "GENESYS_CLIENT_SECRET".to_string(),
            flowctl::emulator::DEFAULT_CLIENT_SECRET.to_string(),
        ),
    ];
    let steps = flowctl_steps(&example("examples/import-terraform.sh"));
    assert_eq!(steps.len(), 4, "{steps:?}");
    run_steps(dir.path(), &steps, &base).await;
    let mut names: Vec<String> = org.emulator.flows().into_iter().map(|f| f.name).collect();
    names.sort();
    assert_eq!(
        names,
        ["Support Line", "Support Routing dev", "Support Waiting"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_example_plans_applies_and_verifies_on_the_emulator() {
    let dir = clone_dir();
    let d = dir.path();
    let f = "examples/flows.yaml";
    for args in [
        vec!["--emulator", "plan", "-f", f],
        vec!["--emulator", "apply", "-f", f],
        vec!["--emulator", "verify", "-f", f],
        vec!["--emulator", "--profile", "dev", "plan", "-f", f],
        vec!["graph", "-f", f, "--format", "tree"],
    ] {
        let r = common::run_in(d, &args, Vec::new()).await;
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    let r = common::run_in(
        d,
        &["--emulator", "--output", "json", "plan", "-f", f],
        Vec::new(),
    )
    .await;
    let plan = r.json();
    let actions: Vec<&str> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(actions, ["unchanged"; 4], "{plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profiles_example_is_a_valid_config() {
    let dir = clone_dir();
    let config = dir.path().join("config").join("flowctl");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::copy("examples/config.toml", config.join("config.toml")).expect("copy");
    let vars = vec![(
        "XDG_CONFIG_HOME".to_string(),
        dir.path().join("config").display().to_string(),
    )];
    let r = common::run_in(dir.path(), &["profiles"], vars).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("dev") && r.stdout.contains("prod"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_serve_example_serves_an_org_that_flowctl_reaches() {
    use std::io::BufRead;
    let dir = clone_dir();
    let steps = flowctl_steps(&example("examples/emulator-serve.sh"));
    assert_eq!(steps.len(), 2, "{steps:?}");
    // Tests never bind a fixed port: the example's 8787 becomes a free one.
    let serve: Vec<String> = steps[0]
        .args
        .iter()
        .map(|a| a.replace("127.0.0.1:8787", "127.0.0.1:0"))
        .collect();
    assert_eq!(
        serve.get(..2),
        Some(&["emulator".to_string(), "serve".to_string()][..])
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowctl"))
        .args(&serve)
        .current_dir(dir.path())
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("emulator serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        line.trim().to_string()
    })
    .await
    .expect("join");
    assert!(url.starts_with("http://127.0.0.1:"), "first line: {url:?}");
    let env: Vec<(String, String)> = steps[1]
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.replace("http://127.0.0.1:8787", &url)))
        .collect();
    let args: Vec<&str> = steps[1].args.iter().map(String::as_str).collect();
    let r = common::run_in(dir.path(), &args, env).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        dir.path().join("org.json").exists(),
        "--state org.json was not written"
    );
}

// One voice in output (item 9).

async fn offline(args: &[&str]) -> common::Run {
    let dir = clone_dir();
    common::run_in(dir.path(), args, Vec::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_draws_the_demos_tree_and_gives_json_when_asked() {
    let r = offline(&["graph", "-f", "examples/flows.yaml", "--format", "tree"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "[common module] Shared Greeting Module\n  ├── [inbound call flow] Inbound Sales Flow  ──▶  [queue] Sales"
        ),
        "{r:?}"
    );
    let r = offline(&["--output", "json", "graph", "-f", "examples/flows.yaml"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let g = r.json();
    assert_eq!(g["nodes"].as_array().map(Vec::len), Some(6), "{g:#}");
    assert!(g["edges"].as_array().is_some_and(|e| e.len() == 5), "{g:#}");

    let demo = offline(&["demo"]).await;
    assert_eq!(demo.code, 0, "{demo:?}");
    assert!(
        demo.stdout.contains(
            "[common module] Shared Greeting Module\n  ├── [inbound call flow] Inbound Sales Flow  ──▶  [queue] General Support"
        ),
        "{demo:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_give_json_refuses_it_in_json() {
    for args in [
        vec!["--output", "json", "demo"],
        vec!["--output", "json", "man"],
    ] {
        let r = offline(&args).await;
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let e = r.json();
        assert_eq!(e["error"]["exitCode"], 2, "{e:#}");
        assert!(
            e["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("--output json")),
            "{e:#}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_output_json_errors_are_json_on_stdout() {
    let org = Org::new().await;
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-parent",
            "--name",
            "A",
            "--shared",
            "Nothing Here",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    let e = r.json();
    assert_eq!(e["error"]["exitCode"], 2, "{e:#}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'Nothing Here' does not exist")),
        "{e:#}"
    );
    assert!(e["error"]["hint"].as_str().is_some(), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_says_common_module_and_inbound_call_flow_and_json_keeps_the_wire_type() {
    let org = Org::new().await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("common module 'Shared Greeting Module'"),
        "{r:?}"
    );
    let r = org
        .flowctl(&[
            "create-parent",
            "--name",
            "Inbound Sales Flow",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            QUEUE,
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("inbound call flow 'Inbound Sales Flow'"),
        "{r:?}"
    );
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            "Shared Greeting Module",
            "--parent",
            "Inbound Sales Flow",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    for text in [&r.stdout, &r.stderr] {
        assert!(
            !text.contains("COMMONMODULE") && !text.contains("INBOUNDCALL"),
            "{r:?}"
        );
        assert!(!text.contains("shared flow '"), "{r:?}");
    }
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-shared",
            "--name",
            "Shared Greeting Module",
        ])
        .await;
    assert_eq!(r.json()["type"], "COMMONMODULE", "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subcommands_help_lists_its_own_options_before_the_global_ones() {
    use clap::CommandFactory;
    let cmd = flowctl::cli::Cli::command();
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for sub in &subs {
        let r = offline(&[sub.as_str(), "--help"]).await;
        assert_eq!(r.code, 0, "{sub}: {r:?}");
        let global = r
            .stdout
            .find("Global options:")
            .unwrap_or_else(|| panic!("{sub}: no Global options heading:\n{}", r.stdout));
        let own = r.stdout.find("Options:").unwrap_or(global);
        assert!(own < global, "{sub}: own options after the global ones");
        assert!(
            !r.stdout[..global].contains("--region"),
            "{sub}: a global option among its own"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_man_page_documents_every_subcommand() {
    use clap::CommandFactory;
    let r = offline(&["man"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let cmd = flowctl::cli::Cli::command();
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        assert!(
            r.stdout.contains(&format!(".TH flowctl-{name} 1")),
            "no page for {name}"
        );
        for arg in sub.get_arguments().filter_map(|a| a.get_long()) {
            assert!(
                r.stdout
                    .contains(&format!("\\-\\-{}", arg.replace('-', "\\-"))),
                "{name} --{arg} is not documented"
            );
        }
    }
    assert!(r.stdout.contains(".TH flowctl-emulator-serve 1"));
}

/// Runs flowctl on `org` with stdout on a terminal (util-linux `script`). Without `script`
/// the test fails and says so, rather than passing without having run.
async fn on_a_terminal(org: &Org, args: &[&str], extra: &[(&str, &str)]) -> String {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_script,
        "this test needs util-linux `script` to give flowctl a terminal: install util-linux (Debian: bsdutils)"
    );
    let mut words = vec![env!("CARGO_BIN_EXE_flowctl")];
    words.extend_from_slice(args);
    let line = words
        .iter()
        .map(|w| shlex::try_quote(w).expect("quotable").into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", line.as_str(), "/dev/null"])
        .current_dir(org.path())
        .env_clear()
        .env("HOME", org.path())
        .env("XDG_CACHE_HOME", org.path().join("cache"))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("GENESYS_API_BASE_URL", org.emulator.base_url())
        .env("GENESYS_CLIENT_ID", flowctl::emulator::DEFAULT_CLIENT_ID)
        .env(
            "GENESYS_CLIENT_SECRET",
            flowctl::emulator::DEFAULT_CLIENT_SECRET,
        )
        .stdin(std::process::Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("script runs"))
        .await
        .expect("join");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_colours_its_verdicts_on_a_terminal_but_never_with_no_color() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let args = [
        "verify",
        "--shared",
        "Shared Greeting Module",
        "--parent",
        "Inbound Sales Flow",
        "--parent",
        "Missing Flow",
    ];
    let coloured = on_a_terminal(&org, &args, &[]).await;
    assert!(coloured.contains("\u{1b}[32mPASS"), "{coloured:?}");
    assert!(coloured.contains("\u{1b}[31"), "{coloured:?}");
    let plain = on_a_terminal(&org, &args, &[("NO_COLOR", "1")]).await;
    assert!(plain.contains("PASS"), "{plain:?}");
    assert!(!plain.contains("\u{1b}["), "{plain:?}");
    // Off a terminal, never.
    let r = org.flowctl(&args).await;
    assert!(!r.stdout.contains('\u{1b}'), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applys_live_line_fits_the_terminal_and_is_absent_off_one() {
    let org = Org::new().await;
    let long = format!("Inbound {}", "Very Long Name ".repeat(10));
    let flows: String = (0..3)
        .map(|i| {
            format!(
                "  - name: {long}{i}\n    modules: [Shared Greeting Module]\n    queue: Sales\n"
            )
        })
        .collect();
    let manifest =
        format!("modules:\n  - name: Shared Greeting Module\n    greeting: Hello\nflows:\n{flows}");
    std::fs::write(org.path().join("long.yaml"), manifest).expect("manifest");
    let screen = on_a_terminal(&org, &["apply", "-f", "long.yaml"], &[]).await;
    let live: Vec<String> = screen
        .split(['\r', '\n'])
        .map(|s| s.replace("\u{1b}[2K", ""))
        .filter(|s| s.contains("] publishing:"))
        .collect();
    assert!(!live.is_empty(), "no live line on a terminal: {screen:?}");
    for l in &live {
        // `script` gives a terminal of 80 columns when it has none to copy.
        assert!(l.trim_end().chars().count() <= 80, "wraps: {l:?}");
    }
    assert!(screen.contains("apply: 4 published"), "{screen:?}");

    // Off a terminal (CI logs): the per-flow lines only.
    let other = std::fs::read_to_string(org.path().join("long.yaml"))
        .expect("manifest")
        .replace("Inbound Very", "Other Very");
    std::fs::write(org.path().join("other.yaml"), other).expect("manifest");
    let r = org.flowctl(&["apply", "-f", "other.yaml"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("[4/4] create inbound call flow 'Other Very"),
        "{r:?}"
    );
    assert!(!r.stderr.contains("publishing:"), "{r:?}");
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\r'),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_of_a_manifest_prints_an_apply_that_runs_with_the_same_vars() {
    let dir = clone_dir();
    let d = dir.path();
    let f = "examples/flows.yaml";
    let verify = [
        "--emulator",
        "verify",
        "-f",
        f,
        "--var",
        "support_queue=Billing",
    ];
    let r = common::run_in(d, &verify, Vec::new()).await;
    assert_eq!(r.code, 1, "{r:?}");
    let fix = fixes(&r.stdout).into_iter().next().expect("a fix");
    assert_eq!(
        fix,
        [
            "flowctl",
            "--emulator",
            "apply",
            "-f",
            f,
            "--var",
            "support_queue=Billing"
        ],
        "{r:?}"
    );
    let words: Vec<&str> = fix.iter().skip(1).map(String::as_str).collect();
    let r = common::run_in(d, &words, Vec::new()).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = common::run_in(d, &verify, Vec::new()).await;
    assert_eq!(r.code, 0, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fix_never_replaces_a_flows_own_content_with_the_template() {
    let dir = clone_dir();
    let d = dir.path();
    let f = "examples/flows.yaml";
    let r = common::run_in(d, &["--emulator", "apply", "-f", f], Vec::new()).await;
    assert_eq!(r.code, 0, "{r:?}");
    let module = "Shared Greeting Module";
    let r = common::run_in(
        d,
        &[
            "--emulator",
            "create-shared",
            "--name",
            module,
            "--greeting",
            "New",
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    // The support flow is the manifest's own YAML (two modules): only apply republishes it.
    assert!(
        r.stdout.contains("republish: flowctl apply -f MANIFEST"),
        "{r:?}"
    );
    assert!(
        !r.stdout
            .contains("create-parent --name 'Inbound Support Flow'"),
        "{r:?}"
    );
    let r = common::run_in(
        d,
        &[
            "--emulator",
            "verify",
            "--shared",
            module,
            "--parent",
            "Inbound Support Flow",
            "--parent",
            "Inbound Sales Flow",
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("fix: republish 'Inbound Support Flow' the way it was made"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "fix: flowctl --emulator create-parent --name 'Inbound Sales Flow' --shared 'Shared Greeting Module' --queue Sales --division Home"
        ),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_lags_a_publish_is_announced_on_stderr() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        read_lag: Duration::from_millis(2500),
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&["create-shared", "--name", "Shared Greeting Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("to be readable after its publish (up to 15 s)"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_line_is_json_on_stdout_when_json_is_asked_for() {
    let r = offline(&["--output", "json", "verify", "--bogus"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    let e = r.json();
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'--bogus'")),
        "{e:#}"
    );
    let r = offline(&["verify", "--bogus"]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_division_gets_close_names() {
    let org = Org::with(seeded(&["Sales Division"])).await;
    let r = org
        .flowctl(&[
            "create-shared",
            "--name",
            "Shared Greeting Module",
            "--division",
            "Sales Divison",
        ])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("did you mean 'Sales Division'?"), "{r:?}");
    assert!(org.emulator.flows().is_empty());
}

/// One name-or-id lookup serves every command: verify, given the id of a flow of another
/// type, says what the flow is, as create-parent does (and never that it does not exist).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_an_id_of_another_type_as_such() {
    let org = Org::new().await;
    module_and_parent(&org).await;
    let id = flow(&org, "Inbound Sales Flow", FlowType::InboundCall)
        .expect("parent")
        .id;
    let r = org
        .flowctl(&[
            "verify",
            "--shared",
            &id,
            "--parent",
            "Inbound Sales Flow",
            "--wait",
            "0",
        ])
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "is a common module: 'Inbound Sales Flow' is an inbound call flow, not a common module"
        ),
        "{r:?}"
    );
    assert!(!r.stdout.contains("does not exist"), "{r:?}");
}

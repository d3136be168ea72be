//! The bad-input corpus: every case a user (or a hostile server) can cause gets a clear
//! message naming the offending thing and a documented exit code. Nothing panics (exit 101)
//! or hangs (a guard kills a stuck run and fails the case).

mod common;

use common::Org;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Case {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    files: Vec<(&'static str, String)>,
    code: i32,
    stderr_has: Vec<String>,
}

fn case(name: &'static str, args: &[&str], code: i32, stderr_has: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        files: Vec::new(),
        code,
        stderr_has: stderr_has.iter().map(|s| s.to_string()).collect(),
    }
}

impl Case {
    fn env(mut self, k: &str, v: &str) -> Case {
        self.env.push((k.into(), v.into()));
        self
    }
    fn file(mut self, name: &'static str, text: &str) -> Case {
        self.files.push((name, text.into()));
        self
    }
}

/// Runs flowctl with a hang guard; returns (exit code, stdout, stderr).
fn run(dir: &Path, c: &Case) -> (i32, String, String) {
    for (name, text) in &c.files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write fixture");
    }
    let out_path = dir.join(format!("{}.out", c.name.replace(' ', "_")));
    let err_path = dir.join(format!("{}.err", c.name.replace(' ', "_")));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowctl"));
    cmd.args(&c.args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("out"))
        .stderr(std::fs::File::create(&err_path).expect("err"));
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn flowctl");
    let guard = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if guard.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("case '{}' hung", c.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(out_path).unwrap_or_default(),
        std::fs::read_to_string(err_path).unwrap_or_default(),
    )
}

fn check_all(dir: &Path, cases: Vec<Case>) -> usize {
    let mut failures = Vec::new();
    let n = cases.len();
    for c in cases {
        let (code, stdout, stderr) = run(dir, &c);
        let mut why = Vec::new();
        if code == 101 || stderr.contains("panicked") {
            why.push("panicked".to_string());
        }
        if code != c.code {
            why.push(format!("exit {code}, expected {}", c.code));
        }
        // What the user reads: the report on stdout (lint) and the error on stderr.
        let seen = format!("{stdout}\n{stderr}");
        for s in &c.stderr_has {
            if !seen.contains(s.as_str()) {
                why.push(format!("output lacks '{s}'"));
            }
        }
        if !why.is_empty() {
            failures.push(format!(
                "{}: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                c.name,
                why.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    n
}

const ID: &str = "GENESYS_CLIENT_ID";
const SECRET: &str = "GENESYS_CLIENT_SECRET";

#[test]
fn offline_inputs_flags_files_and_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ok_module =
        "commonModule:\n  name: Fine\n  startUpTaskActions:\n    - endTask:\n        name: done\n";
    let cases = vec![
        // flags
        case("unknown subcommand", &["deploy"], 2, &["deploy"]),
        case("var without equals", &["lint", "x.yaml", "--var", "novalue"], 2, &["novalue"]),
        case("parallel zero", &["apply", "-f", "m.yaml", "--parallel", "0"], 2, &["--parallel"]),
        case("junit for create", &["--output", "junit", "create-shared", "--name", "X", "--dry-run"], 2, &["junit"]),
        case("create-parent twice the same name", &["create-parent", "--name", "A", "--name", "A", "--shared", "M", "--queue", "Q", "--dry-run"], 2, &["'A'"]),
        case("create-shared without name", &["create-shared", "--dry-run"], 2, &["--name"]),
        case("name over 200 characters", &["create-shared", "--name", &"n".repeat(201), "--dry-run"], 2, &["200"]),
        case("empty greeting", &["create-shared", "--name", "X", "--greeting", "", "--dry-run"], 2, &["prompt"]),
        // users' Architect YAML
        case("file does not exist", &["create-shared", "--file", "missing.yaml", "--dry-run"], 2, &["missing.yaml"]),
        case("unreplaced placeholder", &["create-shared", "--file", "ph.yaml", "--dry-run"], 2, &["who"])
            .file("ph.yaml", "commonModule:\n  name: \"{{who}}\"\n  startUpTaskActions:\n    - endTask:\n        name: done\n"),
        case("malformed flow YAML", &["lint", "bad.yaml"], 2, &["bad.yaml"]).file("bad.yaml", "commonModule:\n  name: [oops\n"),
        case("unknown flow type", &["lint", "t.yaml"], 2, &["callFlow"]).file("t.yaml", "callFlow:\n  name: X\n"),
        case("startUpRef that resolves nowhere", &["lint", "s.yaml"], 2, &["nowhere"])
            .file("s.yaml", "inboundCall:\n  name: S\n  startUpRef: /inboundCall/tasks/task[nowhere]\n  tasks:\n    - task:\n        name: T\n        refId: here\n        actions:\n          - disconnect:\n              name: bye\n"),
        case("inbound flow given to create-shared", &["create-shared", "--file", "in.yaml", "--dry-run"], 2, &["commonModule"])
            .file("in.yaml", "inboundCall:\n  name: In\n  startUpRef: ./tasks/task[t]\n  tasks:\n    - task:\n        name: T\n        refId: t\n        actions:\n          - disconnect:\n              name: bye\n"),
        case("--name differs from the file", &["create-shared", "--file", "ok.yaml", "--name", "Other", "--dry-run"], 2, &["Other", "Fine"])
            .file("ok.yaml", ok_module),
        // manifests
        case("manifest not found", &["plan", "-f", "nope.yaml"], 2, &["nope.yaml"]),
        case("manifest is a list", &["plan", "-f", "list.yaml"], 2, &["mapping"]).file("list.yaml", "- a\n- b\n"),
        case("manifest flow without queue", &["plan", "-f", "nq.yaml"], 2, &["queue"]).file("nq.yaml", "flows:\n  - name: A\n"),
        case("manifest module with file and greeting", &["plan", "-f", "both.yaml"], 2, &["not both"])
            .file("both.yaml", "modules:\n  - name: Fine\n    file: ok.yaml\n    greeting: hi\n"),
        case("manifest unknown profile", &["--profile", "mars", "plan", "-f", "p.yaml"], 2, &["mars"])
            .file("p.yaml", "profiles:\n  dev:\n    substitutions: {q: Sales}\nflows:\n  - name: A\n    queue: \"{{q}}\"\n"),
        case("manifest empty", &["plan", "-f", "empty.yaml"], 2, &["no modules"]).file("empty.yaml", ""),
        case("destroy without --yes", &["destroy", "-f", "d.yaml"], 2, &["--yes"]).file("d.yaml", "flows:\n  - name: A\n    queue: Sales\n"),
        // configuration and .env
        case("missing credentials", &["create-shared", "--name", "X"], 2, &[ID]).env("GENESYS_REGION", "eu-west-1"),
        case("unknown region", &["create-shared", "--name", "X"], 2, &["mars-1", "eu-west-1"])
            .env("GENESYS_REGION", "mars-1").env(ID, "i").env(SECRET, "s"),
        case("insecure remote base URL", &["create-shared", "--name", "X"], 2, &["http://api.example.com"])
            .env("GENESYS_API_BASE_URL", "http://api.example.com").env(ID, "i").env(SECRET, "s"),
        case("not a URL", &["create-shared", "--name", "X", "--api-base-url", "::nonsense::"], 2, &["::nonsense::"])
            .env(ID, "i").env(SECRET, "s"),
        case("secret file missing", &["create-shared", "--name", "X", "--client-secret-file", "nosuch.secret"], 2, &["nosuch.secret"])
            .env("GENESYS_REGION", "eu-west-1").env(ID, "i"),
        case("malformed .env", &["create-shared", "--name", "X"], 2, &[".env"]).file(".env", "GENESYS_REGION=eu-west-1\nthis line is not an assignment\n"),
        // A hostile file that would stall the YAML scanner for about a minute.
        case("flow YAML nested 100,000 deep", &["lint", "deep.yaml"], 2, &["deep.yaml:1:", "nest deeper than 256"])
            .file("deep.yaml", &format!("commonModule: {}{}", "[".repeat(100_000), "]".repeat(100_000))),
        case("manifest nested 100,000 deep", &["plan", "-f", "deep-manifest.yaml"], 2, &["deep-manifest.yaml:1:", "nest deeper than 256"])
            .file("deep-manifest.yaml", &format!("flows: {}{}", "[".repeat(100_000), "]".repeat(100_000))),
    ];
    let n = check_all(dir.path(), cases);
    assert!(n >= 28);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_token_cache_is_ignored_with_a_warning() {
    let org = Org::new().await;
    let cache = org.path().join("cache").join("flowctl");
    std::fs::create_dir_all(&cache).expect("mkdir");
    // Any file the cache might read: corrupt them all.
    let r = org.flowctl(&["create-shared", "--name", "M"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    // (The job journal is a directory beside the token file.)
    for entry in std::fs::read_dir(&cache).expect("cache").flatten() {
        if entry.path().is_file() {
            std::fs::write(entry.path(), "{not json").expect("corrupt");
        }
    }
    let r = org.flowctl(&["create-shared", "--name", "M"]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.to_lowercase().contains("cache"),
        "a warning names the cache: {r:?}"
    );
}

/// A server that hands out tokens, then answers the API with `api`.
async fn hostile(api: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "tok-hostile", "token_type": "bearer", "expires_in": 86399
        })))
        .mount(&server)
        .await;
    Mock::given(path_regex("^/api/v2/.*"))
        .respond_with(api)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_server_answers_get_clear_errors() {
    let big = format!(
        "{{\"entities\": [{}]}}",
        vec!["{\"id\":\"x\"}"; 200_000].join(",")
    );
    let answers: Vec<(&str, ResponseTemplate, i32, &[&str])> = vec![
        ("non-JSON 501", ResponseTemplate::new(501).set_body_string("<html>oops</html>"), 4, &["501"]),
        ("wrong types", ResponseTemplate::new(200).set_body_json(serde_json::json!({"entities": "nope"})), 4, &["unexpected answer from GET /api/v2/"]),
        ("truncated JSON", ResponseTemplate::new(200).set_body_string("{\"entities\": [{\"id\": \"a\", \"na"), 4, &["unexpected answer from GET /api/v2/"]),
        ("huge answer of wrong shape", ResponseTemplate::new(200).set_body_string(big), 4, &["unexpected answer from GET /api/v2/"]),
        ("403 missing permissions", ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "message": "You are missing the following permission(s): architect:flow:view", "code": "missing.permissions", "status": 403, "contextId": "ctx-403"
        })), 3, &["architect:flow:view", "ctx-403"]),
        ("401 every time", ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "message": "Invalid login credentials.", "code": "bad.credentials", "status": 401
        })), 3, &["401"]),
        ("404 with empty body", ResponseTemplate::new(404), 4, &["404"]),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cases = Vec::new();
    let mut servers = Vec::new();
    for (name, answer, code, has) in answers {
        let server = hostile(answer).await;
        let c = case(
            name,
            &["--no-token-cache", "create-shared", "--name", "M"],
            code,
            has,
        )
        .env("GENESYS_API_BASE_URL", &server.uri())
        .env(ID, "i")
        .env(SECRET, "s");
        cases.push(c);
        servers.push(server);
    }
    let dir_path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || check_all(&dir_path, cases))
        .await
        .expect("join");
    drop(servers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_retry_after_is_survived() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "tok", "token_type": "bearer", "expires_in": 86399
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/me"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "soon, maybe"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "org-1", "name": "Hostile Org"})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let c = case(
        "garbage Retry-After",
        &["--no-token-cache", "whoami"],
        0,
        &[],
    )
    .env("GENESYS_API_BASE_URL", &server.uri())
    .env(ID, "i")
    .env(SECRET, "s");
    let d = dir.path().to_path_buf();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || run(&d, &c))
        .await
        .expect("join");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Hostile Org"));
}

/// Inputs that got past the checks before: a `'` inside a plain
/// scalar that hid the brackets after it, values that inject YAML, tags, BOMs, padded
/// names, `.env.example` copied as is, a secret given where a path belongs.
#[test]
fn inputs_that_slipped_through_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases = vec![
        case("apostrophe then 100,000 brackets in a flow file", &["lint", "apos.yaml"], 2, &["apos.yaml:3:", "nest deeper than 256"])
            .file("apos.yaml", &format!("commonModule:\n  name: it's fine\n  x: {deep}\n")),
        case("apostrophe then 100,000 brackets in a manifest", &["plan", "-f", "apos-manifest.yaml"], 2, &["apos-manifest.yaml:3:", "nest deeper than 256"])
            .file("apos-manifest.yaml", &format!("flows:\n  - name: it's fine\n    queue: {deep}\n")),
        case("a --var that injects keys", &["lint", "inj.yaml", "--var", "d=x\"\n  variables: [1]\n  y: \"z"], 2, &["'d'", "inj.yaml", "structure"])
            .file("inj.yaml", "commonModule:\n  name: Inj\n  description: \"{{d}}\"\n  startUpTaskActions:\n    - endTask:\n        name: done\n"),
        case("a YAML tag in a flow file", &["lint", "tag.yaml"], 2, &["`!evil`", "line 3"])
            .file("tag.yaml", "commonModule:\n  name: Tag\n  description: !evil x\n"),
        case("a BOM before a flow file", &["lint", "bom.yaml"], 0, &["Bom"])
            .file("bom.yaml", "\u{feff}commonModule:\n  name: Bom\n  startUpTaskActions:\n    - endTask:\n        name: done\n"),
        case("unquoted placeholder in a manifest", &["plan", "-f", "unq.yaml"], 2, &["unq.yaml:2:", "must be quoted"])
            .file("unq.yaml", "flows:\n  - name: {{n}}\n    queue: Sales\n"),
        case("a name with trailing whitespace", &["plan", "-f", "pad.yaml"], 2, &["whitespace"])
            .file("pad.yaml", "flows:\n  - name: \"Mod A \"\n    queue: Sales\n"),
        case("the secret as a manifest placeholder", &["plan", "-f", "sec.yaml"], 2, &["FLOWCTL_VAR_GENESYS_CLIENT_SECRET"])
            .file("sec.yaml", "modules:\n  - name: M\n    greeting: \"{{GENESYS_CLIENT_SECRET}}\"\n")
            .env(SECRET, "a-real-secret-value"),
        case(".env copied from .env.example", &["create-shared", "--name", "X"], 2, &["placeholder", ".env.example"])
            .file(".env", include_str!("../.env.example")),
        case("the secret where its file belongs", &["create-shared", "--name", "X", "--client-secret-file", "Zk3s9QvX2pL7"], 2, &["does not exist", "shell history"])
            .env("GENESYS_REGION", "eu-west-1").env(ID, "i"),
    ];
    let n = check_all(dir.path(), cases);
    // Nothing the user gave as a secret is echoed.
    for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".out") || name.ends_with(".err") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            assert!(
                !text.contains("Zk3s9QvX2pL7") && !text.contains("a-real-secret-value"),
                "{name}: {text}"
            );
        }
    }
    assert_eq!(n, 10);
}

//! Architect jobs spend their token's rate-limit window: what flowctl does about it, end to
//! end against the emulator playing the real service's imprecisions (jobs spending K
//! requests of the window, `inin-ratelimit-reset` rounded down), and against a mock server
//! for the answers the emulator never gives (a job status or flow type flowctl does not
//! know).

mod common;

use common::Org;
use flowctl::emulator::{EmulatorConfig, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use std::io::BufRead;
use std::time::Duration;

/// An emulator as imprecise as the real service may be: each job spends 3 requests of its
/// token's window, the reset is rounded down, and the window is small and short.
fn imprecise(rate_limit: u32, window_s: u64) -> EmulatorConfig {
    EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit,
        rate_window: Duration::from_secs(window_s),
        job_requests: 3,
        reset_rounds_down: true,
        ..EmulatorConfig::default()
    }
}

fn modules(names: &[&str], greeting: &str) -> String {
    let mut s = String::from("modules:\n");
    for n in names {
        s.push_str(&format!("  - name: {n}\n    greeting: {greeting}\n"));
    }
    s
}

fn write(org: &Org, name: &str, text: &str) -> String {
    let path = org.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_string()
}

/// How many times `method path` was answered with `status`.
fn answered(org: &Org, method: &str, path: &str, status: u16) -> usize {
    org.emulator
        .requests()
        .iter()
        .filter(|(m, p, s)| m == method && p == path && *s == status)
        .count()
}

fn jobs_registered(org: &Org) -> usize {
    answered(org, "POST", "/api/v2/flows/jobs", 200)
}

fn refused(org: &Org) -> usize {
    org.emulator
        .requests()
        .iter()
        .filter(|(_, _, s)| *s == 429)
        .count()
}

fn versions(org: &Org, name: &str) -> usize {
    let flow = org
        .emulator
        .flows()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no flow '{name}'"));
    org.emulator.flow_versions(&flow.id).len()
}

// The pacer against the imprecise emulator.

/// Applies a module and `callers` callers of it against `config`, and checks what a user
/// relies on: exit 0, every flow published with one version, no job killed by the rate
/// limit (each registered once, none rerun) and no request refused. `what` names the case.
async fn applies_each_flow_once_without_a_kill_or_a_429(
    config: EmulatorConfig,
    callers: usize,
    what: &str,
) {
    let org = Org::with(config).await;
    let mut manifest = modules(&["Budget Module"], "Hello");
    manifest.push_str("flows:\n");
    for i in 0..callers {
        manifest.push_str(&format!(
            "  - name: Budget Caller {i}\n    modules: [Budget Module]\n    queue: Sales\n"
        ));
    }
    let path = write(&org, "flows.yaml", &manifest);
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{what}: {r:?}");
    assert_eq!(org.emulator.flows().len(), callers + 1, "{what}");
    for f in org.emulator.flows() {
        assert_eq!(versions(&org, &f.name), 1, "{what}: {}", f.name);
    }
    assert_eq!(
        jobs_registered(&org),
        callers + 1,
        "{what}: no job was killed: {r:?}"
    );
    assert_eq!(refused(&org), 0, "{what}: {:?}", org.emulator.requests());
    assert!(
        !r.stderr.contains("killed by the rate limit"),
        "{what}: {}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_against_jobs_that_spend_a_small_window_rounded_down_publishes_once_without_a_429() {
    // 30 requests per 3 s; every job spends 3 of them. A module and six callers need about
    // 45 requests: two windows or more.
    applies_each_flow_once_without_a_kill_or_a_429(imprecise(30, 3), 6, "20 ms jobs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_spend_as_they_start_or_as_they_end_are_never_killed_by_a_late_start() {
    // 1 s jobs, so that the module's polls (from 250 ms) see how long its spend stays
    // unseen: about 0.6 s as it ends, nothing as it starts. Against the first, callers that
    // no longer fit a window start in its last half second and spend in the next; against
    // the second, none does. 30 requests per 3 s, 3 spent per job: a module and twelve
    // callers need about 70 requests, three windows. Either way no job is killed and no
    // request refused. (Jobs that spend as they end also spend in a window after its last
    // answer, unseen: counted as jobs that spent nothing, the spend per job shrank to 0
    // and three of these jobs were killed.)
    for at_start in [false, true] {
        let config = EmulatorConfig {
            job_time: Duration::from_secs(1),
            job_spends_at_start: at_start,
            ..imprecise(30, 3)
        };
        let what = format!("1 s jobs spending as they start: {at_start}");
        applies_each_flow_once_without_a_kill_or_a_429(config, 12, &what).await;
    }
}

// Publish jobs killed by the rate limit.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reruns_are_bounded_and_each_says_why_on_stderr() {
    let org = Org::with(imprecise(1000, 1)).await;
    org.emulator.script_faults(vec![Fault::JobRateLimited; 4]);
    let path = write(&org, "flows.yaml", &modules(&["Unlucky Module"], "Hello"));
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 4, "{r:?}");
    for n in 1..=3 {
        assert!(
            r.stderr
                .contains("for common module 'Unlucky Module' was killed by the rate limit")
                && r.stderr.contains(&format!("({n} of 3)")),
            "rerun {n}: {r:?}"
        );
    }
    assert!(!r.stderr.contains("(4 of 3)"), "{r:?}");
    assert_eq!(jobs_registered(&org), 4, "the first run and three reruns");
    assert!(
        r.stderr.contains("could not find the flow with id"),
        "the last failure is reported: {r:?}"
    );
    assert!(org.emulator.flows().is_empty(), "nothing left half-created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_job_that_published_after_all_is_not_run_again() {
    let org = Org::with(imprecise(1000, 1)).await;
    org.emulator
        .script_faults(vec![Fault::JobRateLimitedAfterPublishing]);
    let path = write(&org, "flows.yaml", &modules(&["Lucky Module"], "Hello"));
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("published after all"), "{r:?}");
    assert_eq!(jobs_registered(&org), 1, "not run again");
    assert_eq!(versions(&org, "Lucky Module"), 1, "no second version");
}

/// Runs flowctl in `org`, and once its stderr says a job was killed by the rate limit, runs
/// `meanwhile` (while flowctl waits for the window to reset). Returns the exit code and
/// stderr.
fn run_and_meanwhile(org: &Org, args: &[&str], meanwhile: impl FnOnce()) -> (i32, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowctl"))
        .args(args)
        .current_dir(org.path())
        .env_clear()
        .env("HOME", org.path())
        .env("XDG_CACHE_HOME", org.path().join("cache"))
        .env("GENESYS_API_BASE_URL", org.emulator.base_url())
        .env("GENESYS_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("GENESYS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("flowctl runs");
    let stderr = child.stderr.take().expect("stderr");
    let mut said = String::new();
    let mut meanwhile = Some(meanwhile);
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.expect("stderr line");
        if line.contains("killed by the rate limit") {
            if let Some(f) = meanwhile.take() {
                f();
            }
        }
        said.push_str(&line);
        said.push('\n');
    }
    let code = child.wait().expect("exit").code().unwrap_or(-1);
    (code, said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_someone_else_published_while_its_killed_job_waited_is_not_published_again() {
    let org = Org::with(imprecise(1000, 2)).await;
    org.emulator.script_faults(vec![Fault::JobRateLimited]);
    let path = write(&org, "flows.yaml", &modules(&["Contested Module"], "Hello"));
    let ui_yaml = "commonModule:\n  name: Contested Module\n  division: Home\n  defaultLanguage: en-us\n  supportedLanguages:\n    en-us:\n      none: true\n  startUpTaskActions:\n    - endTask:\n        name: Done\n";
    let (code, stderr) = tokio::task::block_in_place(|| {
        run_and_meanwhile(&org, &["apply", "-f", &path], || {
            org.emulator
                .publish_as_ui_user(ui_yaml)
                .expect("the UI publishes");
        })
    });
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("published by someone else"), "{stderr}");
    assert_eq!(jobs_registered(&org), 1, "not run again: {stderr}");
    assert_eq!(
        versions(&org, "Contested Module"),
        1,
        "only the UI's version: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_failure_that_is_not_the_rate_limits_is_reported_not_retried() {
    let org = Org::with(imprecise(1000, 1)).await;
    let module = "commonModule:\n  name: Broken Module\n  division: Home\n  defaultLanguage: en-us\n  supportedLanguages:\n    en-us:\n      none: true\n  startUpTaskActions:\n    - endTaks:\n        name: Done\n";
    std::fs::write(org.path().join("m.yaml"), module).expect("write");
    let r = org.flowctl(&["create-shared", "--file", "m.yaml"]).await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("endTaks"), "the failure is named: {r:?}");
    assert!(!r.stderr.contains("killed by the rate limit"), "{r:?}");
    assert_eq!(jobs_registered(&org), 1, "not retried: {r:?}");
}

// Export jobs.

async fn published_modules(org: &Org, names: &[&str]) {
    let path = write(org, "modules.yaml", &modules(names, "Hello"));
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
}

fn out(org: &Org) -> String {
    org.path().join("out").to_str().expect("utf-8").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_jobs_killed_by_the_rate_limit_run_again_up_to_five_attempts() {
    let org = Org::with(imprecise(1000, 1)).await;
    published_modules(&org, &["Exported Module"]).await;

    org.emulator.kill_next_exports(2);
    let r = org
        .flowctl(&["export", "--all-modules", "--out", &out(&org)])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("(attempt 2 of 5)") && r.stderr.contains("(attempt 3 of 5)"),
        "{r:?}"
    );
    assert_eq!(org.emulator.export_job_count(), 3);

    // Five killed: the fifth attempt is the last, and its failure is reported.
    org.emulator.kill_next_exports(5);
    let r = org
        .flowctl(&["export", "--all-modules", "--out", &out(&org)])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("(attempt 5 of 5)"), "{r:?}");
    assert!(!r.stderr.contains("(attempt 6 of 5)"), "{r:?}");
    assert!(
        r.stderr.contains("could not find the flow with id"),
        "{r:?}"
    );
    assert_eq!(org.emulator.export_job_count(), 3 + 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_export_chunk_is_split_down_to_the_one_flow_that_fails() {
    let org = Org::with(imprecise(1000, 1)).await;
    let names = ["Split A", "Split B", "Split C", "Split D"];
    published_modules(&org, &names).await;
    let bad = org
        .emulator
        .flows()
        .into_iter()
        .find(|f| f.name == "Split C")
        .expect("Split C");
    org.emulator
        .fail_exports_of(&bad.id, "Archy cannot export the flow 'Split C'");
    let r = org
        .flowctl(&["export", "--all-modules", "--out", &out(&org)])
        .await;
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(
        r.stderr
            .matches("Archy cannot export the flow 'Split C'")
            .count(),
        1,
        "one failure, of the one flow: {r:?}"
    );
    assert!(!r.stderr.contains("killed by the rate limit"), "{r:?}");
    // Four flows fail together; the half without C exports in one job, the half with C
    // is split into one job per flow.
    let requests = org.emulator.export_requests();
    let sizes: Vec<usize> = requests.iter().map(|q| q.flows.len()).collect();
    assert_eq!(sizes.len(), 5, "{sizes:?}");
    assert_eq!(sizes[0], 4, "{sizes:?}");
    let mut rest = sizes[1..].to_vec();
    rest.sort_unstable();
    assert_eq!(rest, vec![1, 1, 2, 2], "{sizes:?}");
    let alone: Vec<&str> = requests
        .iter()
        .filter(|q| q.flows.len() == 1)
        .filter_map(|q| q.flows[0].flow.id.as_deref())
        .collect();
    assert!(alone.contains(&bad.id.as_str()), "{alone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_names_each_flow_by_id_and_its_published_version() {
    let org = Org::with(imprecise(1000, 1)).await;
    published_modules(&org, &["Versioned Module"]).await;
    // A second version, so the version sent is not the only one there is.
    let path = write(
        &org,
        "modules.yaml",
        &modules(&["Versioned Module"], "Hello again"),
    );
    let r = org.flowctl(&["apply", "-f", &path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let flow = org.emulator.flows().into_iter().next().expect("the module");
    assert_eq!(org.emulator.flow_versions(&flow.id).len(), 2);

    // (The apply's drift check exported the module too, before its second version.)
    let before = org.emulator.export_requests().len();
    let r = org
        .flowctl(&["export", "--all-modules", "--out", &out(&org)])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let requests = org.emulator.export_requests();
    let refs: Vec<_> = requests[before..]
        .iter()
        .flat_map(|q| q.flows.iter().map(|d| d.flow.clone()))
        .collect();
    assert!(!refs.is_empty());
    for f in refs {
        assert_eq!(f.id.as_deref(), Some(flow.id.as_str()));
        assert_eq!(f.version.as_deref(), Some("2.0"), "the published version");
    }
}

// What the emulator never answers: a mock server.

mod mock {
    use flowctl::client::{Client, ClientError};
    use flowctl::config::Config;
    use flowctl::models::{FlowType, JobStatus};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    async fn server() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "the-access-token", "token_type": "bearer", "expires_in": 86399
            })))
            .mount(&server)
            .await;
        server
    }

    fn client(server: &MockServer) -> Client {
        Client::new(&Config::for_emulator(
            &server.uri(),
            "client-id",
            "client-secret",
            None,
        ))
        .expect("client")
    }

    /// A job's status: `statuses` in turn, the last one from then on.
    struct Statuses(Vec<&'static str>, AtomicUsize);

    impl Respond for Statuses {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let n = self.1.fetch_add(1, Ordering::SeqCst);
            let status = self.0[n.min(self.0.len() - 1)];
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "job-1", "status": status}))
        }
    }

    /// Everything logged while `f` runs, at debug and above.
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn capture() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || Captured(writer.clone()))
            .finish();
        (tracing::subscriber::set_default(subscriber), buf)
    }

    fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8_lossy(&buf.lock().expect("lock")).into_owned()
    }

    #[tokio::test]
    async fn an_unknown_job_status_keeps_waiting_to_the_timeout_and_is_named() {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/flows/jobs/job-1"))
            .respond_with(Statuses(vec!["Frobnicating"], AtomicUsize::new(0)))
            .mount(&server)
            .await;
        let err = client(&server)
            .wait_for_job("job-1", Duration::from_secs(1))
            .await
            .expect_err("never finished");
        assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("'Frobnicating'"), "{err}");
        let polls = server.received_requests().await.unwrap_or_default();
        assert!(
            polls
                .iter()
                .filter(|r| r.url.path() == "/api/v2/flows/jobs/job-1")
                .count()
                >= 2,
            "kept polling"
        );
    }

    #[tokio::test]
    async fn a_job_whose_unknown_status_turns_to_success_is_waited_for() {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/flows/jobs/job-1"))
            .respond_with(Statuses(
                vec!["Frobnicating", "Frobnicating", "Success"],
                AtomicUsize::new(0),
            ))
            .mount(&server)
            .await;
        let (_guard, logged) = capture();
        let job = client(&server)
            .wait_for_job("job-1", Duration::from_secs(30))
            .await
            .expect("finished");
        assert_eq!(job.status, JobStatus::Success);
        let said = text(&logged);
        assert_eq!(
            said.matches("reports status 'Frobnicating', which flowctl does not know")
                .count(),
            1,
            "named once: {said}"
        );
    }

    #[tokio::test]
    async fn a_listing_row_of_an_unknown_flow_type_is_skipped_with_a_debug_line() {
        let server = server().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/flows"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "entities": [
                    {"id": "f-1", "name": "From The Future", "type": "holographiccall"},
                    {"id": "f-2", "name": "Known Flow", "type": "INBOUNDCALL"}
                ],
                "pageSize": 25, "pageNumber": 1, "total": 2, "pageCount": 1
            })))
            .mount(&server)
            .await;
        let (_guard, logged) = capture();
        let flows = client(&server).list_flows(&[]).await.expect("the page");
        let names: Vec<(&str, FlowType)> = flows
            .iter()
            .map(|f| (f.name.as_str(), f.flow_type))
            .collect();
        assert_eq!(names, vec![("Known Flow", FlowType::InboundCall)]);
        let said = text(&logged);
        assert!(
            said.contains("DEBUG")
                && said.contains("skipped a flow listing row of type 'holographiccall'"),
            "{said}"
        );
    }
}

//! The fault suite: flowctl against an emulator that misbehaves on purpose. Run with
//! `--nocapture` to see the figures the README quotes.

mod common;

use common::Org;
use flowctl::emulator::{EmulatorConfig, Fault, FaultConfig};
use std::collections::HashMap;
use std::time::Duration;

fn manifest(callers: usize, greeting: &str) -> String {
    let mut s = format!("modules:\n  - name: Faulty Module\n    greeting: {greeting}\nflows:\n");
    for i in 0..callers {
        s.push_str(&format!(
            "  - name: Faulty Caller {i:02}\n    modules: [Faulty Module]\n    queue: Sales\n"
        ));
    }
    s
}

/// The random faults' seed: `FAULT_SEED=N` replays a failed run's faults (the n-th API
/// request meets the same fault), otherwise a fresh one. It is printed, so a failing run
/// shows it.
fn fault_seed() -> u64 {
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("random faults seeded with {seed}: replay with FAULT_SEED={seed}");
    seed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_under_twenty_percent_faulty_requests_publishes_every_flow_once() {
    let seed = fault_seed();
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_limit: 100_000,
        faults: FaultConfig {
            rate_429: 0.07,
            rate_503: 0.07,
            rate_drop: 0.06,
            seed: Some(seed),
        },
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(org.emulator.fault_seed(), seed);
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, manifest(10, "Hello")).expect("manifest");
    let path = path.to_str().expect("utf-8");

    let r = org.flowctl(&["apply", "-f", path]).await;
    assert_eq!(r.code, 0, "FAULT_SEED={seed}: {r:?}");

    let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
    for f in org.emulator.flows() {
        by_name
            .entry(f.name.clone())
            .or_default()
            .push(f.id.clone());
    }
    assert_eq!(by_name.len(), 11, "{by_name:?}");
    let mut extra_versions = 0;
    for (name, ids) in &by_name {
        assert_eq!(ids.len(), 1, "'{name}' exists {} times", ids.len());
        let versions = org.emulator.flow_versions(&ids[0]).len();
        assert!(
            (1..=2).contains(&versions),
            "'{name}' has {versions} versions"
        );
        extra_versions += versions - 1;
    }
    let log = org.emulator.requests();
    let api: Vec<_> = log
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v2"))
        .collect();
    let count = |s: u16| api.iter().filter(|(_, _, x)| *x == s).count();
    eprintln!(
        "fault suite: {} API requests, {} answered 429, {} answered 503, {} dropped; \
         11 of 11 flows published once each, {extra_versions} extra versions",
        api.len(),
        count(429),
        count(503),
        count(0)
    );
    assert!(
        count(429) + count(503) + count(0) > 0,
        "faults were injected"
    );

    // And the next apply publishes nothing, faults or not.
    let r = org
        .flowctl(&["--output", "json", "apply", "-f", path])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let results = r.json()["results"].as_array().expect("results").clone();
    assert!(
        results.iter().all(|x| x["outcome"] == "unchanged"),
        "{results:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_run_is_replaced_once() {
    let org = Org::new().await;
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, manifest(3, "Hello")).expect("manifest");
    let path = path.to_str().expect("utf-8");
    assert_eq!(org.flowctl(&["apply", "-f", path]).await.code, 0);
    // The cached token is now expired early (revoked): the next run gets a 401, fetches a
    // new token once and goes on.
    org.emulator.expire_tokens();
    std::fs::write(org.path().join("flows.yaml"), manifest(3, "Changed")).expect("manifest");
    let r = org.flowctl(&["apply", "-f", path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let token_posts = org
        .emulator
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/oauth/token")
        .count();
    assert_eq!(
        token_posts, 2,
        "one token for the first run, one replacement"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_are_waited_for() {
    // The same command against a prompt org, for the requests it takes.
    let quick = Org::new().await;
    let r = quick
        .flowctl(&["create-shared", "--name", "Slow Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let org = Org::new().await;
    org.emulator.script_faults(vec![
        Fault::Delay(Duration::from_millis(800)),
        Fault::Delay(Duration::from_millis(800)),
    ]);
    let r = org
        .flowctl(&["create-shared", "--name", "Slow Module"])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    // Waited for, not given up on and sent again: the same requests as without delays.
    assert_eq!(
        org.emulator.request_count(),
        quick.emulator.request_count(),
        "slow answers made flowctl send again: {:?}",
        org.emulator.requests()
    );
    assert_eq!(org.emulator.flows().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_longer_than_three_minutes_exits_5_and_creates_nothing() {
    let org = Org::new().await;
    // As the Go SDK does, flowctl does not wait out a Retry-After over 180 s.
    org.emulator
        .script_faults(vec![Fault::Status429 { retry_after: 600 }]);
    let r = org
        .flowctl(&["create-shared", "--name", "Never Module"])
        .await;
    assert_eq!(r.code, 5, "{r:?}");
    assert!(
        r.stderr.contains("429") && r.stderr.contains("[600] seconds"),
        "{r:?}"
    );
    assert!(org.emulator.flows().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_slower_than_the_timeout_is_not_raced_and_the_next_run_converges() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(2500),
        rate_limit: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let r = org
        .flowctl(&[
            "create-shared",
            "--name",
            "Slow Job Module",
            "--job-timeout",
            "1",
        ])
        .await;
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.stderr.contains("still running"), "{r:?}");
    // The job goes on and publishes; the flow was not deleted under it.
    let mut published = false;
    for _ in 0..100 {
        if org
            .emulator
            .flows()
            .iter()
            .any(|f| f.name == "Slow Job Module" && f.published_version.is_some())
        {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published, "{:?}", org.emulator.flows());
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "create-shared",
            "--name",
            "Slow Job Module",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "unchanged");
    assert_eq!(org.emulator.flows().len(), 1);
}

/// A publish job that the rate limit killed inside Architect ("could not find the flow with
/// id", exit code 107) is run again once the window has reset, after re-reading the flow:
/// the run exits 0 with one version, and says why on stderr. The emulator is as imprecise
/// as the real service may be: jobs spend 5 requests of the window, the reset is rounded
/// down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_job_killed_by_the_rate_limit_is_run_again_and_publishes_once() {
    let org = Org::with(EmulatorConfig {
        job_time: Duration::from_millis(20),
        rate_window: Duration::from_secs(2),
        job_requests: 5,
        reset_rounds_down: true,
        ..EmulatorConfig::default()
    })
    .await;
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, manifest(0, "Hello")).expect("manifest");
    let path = path.to_str().expect("utf-8");
    org.emulator.script_faults(vec![Fault::JobRateLimited]);
    let r = org.flowctl(&["apply", "-f", path]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("was killed by the rate limit") && r.stderr.contains("(1 of 3)"),
        "{r:?}"
    );
    let flows = org.emulator.flows();
    assert_eq!(flows.len(), 1);
    assert_eq!(org.emulator.flow_versions(&flows[0].id).len(), 1);
}

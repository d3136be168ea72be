//! `cargo bench --bench drift`: what the drift check adds to `plan`.
//!
//! One module and N callers (default 300; `BENCH_SIZES=30,300`) are published in the
//! emulator directly, with flowctl's content markers, in two orgs: one as an apply leaves
//! them (published by flowctl's own OAuth client), one where every flow was last
//! published by someone else (a UI user: the worst case, e.g. an org just adopted with
//! `flowctl export`). Settings of `benches/apply.rs`: 65 ms per request, 2 s jobs (export
//! jobs too), 300 requests per 60 s. Then the release binary runs `plan --no-drift` and
//! `plan` on a fresh token each, and the bench prints API requests and wall time of both,
//! and the difference. An apply of the same manifest from scratch costs about 2.1 requests
//! per flow (BENCHMARKS.md), so the drift check is also shown against that.

mod common;

use common::{api_requests, emulator_config, flowctl, publish_module_and_callers};
use flowctl::emulator::{Emulator, DEFAULT_CLIENT_ID};
use std::time::Duration;

fn manifest(n: usize) -> String {
    let mut s = String::from(
        "modules:\n  - name: Bench Module\n    greeting: Hello from the benchmark\nflows:\n",
    );
    for i in 0..n {
        s.push_str(&format!("  - name: Bench Caller {i:03}\n    modules: [Bench Module]\n    queue: General Support\n"));
    }
    s
}

/// Publishes what an apply of `manifest(n)` would, straight into the emulator: by
/// flowctl's own OAuth client, or (`by_ui`) by a UI user.
fn seed(emulator: &Emulator, n: usize, by_ui: bool) {
    publish_module_and_callers(n, "Hello from the benchmark", |yaml| {
        if by_ui {
            emulator.publish_as_ui_user(yaml)
        } else {
            emulator.publish_as_client(yaml, DEFAULT_CLIENT_ID)
        }
    });
}

/// Runs `flowctl plan` with `extra` args; returns (API requests, wall time).
async fn plan(emulator: &Emulator, dir: &std::path::Path, extra: &[&str]) -> (usize, Duration) {
    let before = api_requests(emulator);
    let path = dir.join("flows.yaml");
    let path = path.to_str().expect("utf-8 path");
    let mut args = vec!["--output", "json", "plan", "-f", path];
    args.extend_from_slice(extra);
    let (out, wall) = flowctl(emulator, dir, &args).await;
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let unchanged = json["actions"]
        .as_array()
        .map(|a| a.iter().all(|x| x["action"] == "unchanged"))
        .unwrap_or(false);
    assert!(unchanged, "every flow is unchanged");
    (api_requests(emulator) - before, wall)
}

fn main() {
    let sizes = common::sizes("300");
    let rt = common::runtime();
    println!("| callers | last published by | plan --no-drift: requests | wall | plan (drift): requests | wall | extra requests | vs plan | vs an apply from scratch (~2.1/flow) |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for (n, by_ui) in sizes.iter().flat_map(|&n| [(n, false), (n, true)]) {
        rt.block_on(async {
            let emulator = Emulator::start(emulator_config()).await.expect("emulator");
            seed(&emulator, n, by_ui);
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join("flows.yaml"), manifest(n)).expect("manifest");
            let (plain, plain_wall) = plan(&emulator, dir.path(), &["--no-drift"]).await;
            let (drift, drift_wall) = plan(&emulator, dir.path(), &[]).await;
            let extra = drift.saturating_sub(plain);
            let apply = 2.1 * (n + 1) as f64;
            let by = if by_ui { "a UI user" } else { "flowctl (this client)" };
            println!(
                "| {n} | {by} | {plain} | {:.1} s | {drift} | {:.1} s | {extra} | +{:.0}% | +{:.1}% |",
                plain_wall.as_secs_f64(),
                drift_wall.as_secs_f64(),
                100.0 * extra as f64 / plain.max(1) as f64,
                100.0 * extra as f64 / apply,
            );
            emulator.shutdown().await;
        });
    }
}

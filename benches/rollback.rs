//! `cargo bench --bench rollback`: rolling back a common module with N callers (default
//! 100; `BENCH_SIZES=30,100`), wall time against the floor of its requests.
//!
//! The module and its callers are published straight into the emulator twice, as two
//! applies leave them (module 1.0 then 2.0, every caller republished after each). Then the
//! release binary runs `rollback "Bench Module" --yes` on a fresh token. Settings of
//! `benches/apply.rs`: 65 ms per request, 2 s jobs (export jobs too), 300 requests per 60 s.
//!
//! `BENCH_LOG=FILE` runs flowctl with `-vv` and writes its log (a timestamped line per
//! request) to FILE, to see where the time above the floor goes.
//!
//! The floor is max(the job chain, the rate limit's windows): the chain is three job
//! times (the exports of the versions and of the callers run at once, then the module's
//! publish, then the callers' publishes, all at once); the windows are ⌊(requests − 1) ÷
//! 300⌋ × 60 s for the API requests the run made (a fixed window lets its first 300
//! through at once).

mod common;

use common::{api_requests, emulator_config, flowctl, publish_module_and_callers};
use common::{JOB, LIMIT, WINDOW};
use flowctl::emulator::{Emulator, DEFAULT_CLIENT_ID};
use std::time::Duration;

/// Module `greeting`, then every caller, as an apply by flowctl's client publishes them.
fn publish_all(emulator: &Emulator, n: usize, greeting: &str) {
    publish_module_and_callers(n, greeting, |yaml| {
        emulator.publish_as_client(yaml, DEFAULT_CLIENT_ID)
    });
}

fn main() {
    let sizes = common::sizes("100");
    let rt = common::runtime();
    println!("| callers | wall | floor | wall/floor | API requests | jobs | export jobs | 429s | new versions |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        rt.block_on(async {
            let emulator = Emulator::start(emulator_config()).await.expect("emulator");
            publish_all(&emulator, n, "Hello from the benchmark");
            // Apart in time: a caller runs the module version published before it.
            tokio::time::sleep(Duration::from_millis(20)).await;
            publish_all(&emulator, n, "Helo from teh benchmark");
            let versions = |e: &Emulator| -> usize {
                e.flows().iter().map(|f| e.flow_versions(&f.id).len()).sum()
            };
            let before_versions = versions(&emulator);
            let before = emulator.requests().len();
            let dir = tempfile::tempdir().expect("temp dir");
            let log_to = std::env::var("BENCH_LOG").ok();
            let mut args = vec!["--output", "json", "rollback", "Bench Module", "--yes"];
            if log_to.is_some() {
                args.insert(0, "-vv");
            }
            let (out, wall) = flowctl(&emulator, dir.path(), &args).await;
            if let Some(path) = log_to {
                std::fs::write(&path, &out.stderr).expect("write BENCH_LOG");
            }
            assert!(
                out.status.success(),
                "rollback failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let log = emulator.requests();
            let run = &log[before..];
            let api = run.iter().filter(|(_, p, _)| p.starts_with("/api/v2")).count();
            let jobs = run
                .iter()
                .filter(|(m, p, _)| m == "POST" && p == "/api/v2/flows/jobs")
                .count();
            let exports = run
                .iter()
                .filter(|(m, p, _)| m == "POST" && p == "/api/v2/flows/export/jobs")
                .count();
            let throttled = run.iter().filter(|(_, _, s)| *s == 429).count();
            let windows = (api.saturating_sub(1) / LIMIT) as u32;
            let floor = (JOB * 3).max(WINDOW * windows);
            println!(
                "| {n} | {:.1} s | {:.1} s | {:.2} | {api} | {jobs} | {exports} | {throttled} | {} |",
                wall.as_secs_f64(),
                floor.as_secs_f64(),
                wall.as_secs_f64() / floor.as_secs_f64(),
                versions(&emulator) - before_versions,
            );
            let _ = api_requests(&emulator);
            emulator.shutdown().await;
        });
    }
}

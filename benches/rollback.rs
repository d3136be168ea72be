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

use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use flowctl::flow::{render_parent, render_shared, ParentTemplate, SharedTemplate};
use std::time::{Duration, Instant};

const JOB: Duration = Duration::from_secs(2);
const LIMIT: usize = 300;
const WINDOW: Duration = Duration::from_secs(60);

fn emulator_config() -> EmulatorConfig {
    EmulatorConfig {
        latency: Duration::from_millis(65),
        job_time: JOB,
        rate_limit: LIMIT as u32,
        rate_window: WINDOW,
        ..EmulatorConfig::default()
    }
}

/// Module `greeting`, then every caller, as an apply by flowctl's client publishes them.
fn publish_all(emulator: &Emulator, n: usize, greeting: &str) {
    let module = render_shared(&SharedTemplate {
        name: "Bench Module".into(),
        description: None,
        division: "Home".into(),
        language: "en-us".into(),
        greeting: greeting.into(),
    })
    .expect("module");
    emulator
        .publish_as_client(&module.publish_yaml(), DEFAULT_CLIENT_ID)
        .expect("module");
    for i in 0..n {
        let doc = render_parent(&ParentTemplate {
            name: format!("Bench Caller {i:03}"),
            description: None,
            division: "Home".into(),
            language: "en-us".into(),
            modules: vec!["Bench Module".into()],
            queue: "General Support".into(),
        })
        .expect("caller");
        emulator
            .publish_as_client(&doc.publish_yaml(), DEFAULT_CLIENT_ID)
            .expect("caller");
    }
}

fn api_requests(emulator: &Emulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v2"))
        .count()
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
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
            let bin = env!("CARGO_BIN_EXE_flowctl");
            let base = emulator.base_url();
            let home = dir.path().to_path_buf();
            let log_to = std::env::var("BENCH_LOG").ok();
            let mut args = vec!["--no-token-cache", "--output", "json", "rollback", "Bench Module", "--yes"];
            if log_to.is_some() {
                args.insert(0, "-vv");
            }
            let start = Instant::now();
            let out = tokio::task::spawn_blocking(move || {
                std::process::Command::new(bin)
                    .args(&args)
                    .current_dir(&home)
                    .env_clear()
                    .env("HOME", &home)
                    .env("GENESYS_API_BASE_URL", base)
                    .env("GENESYS_CLIENT_ID", DEFAULT_CLIENT_ID)
                    .env("GENESYS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
                    .output()
                    .expect("run flowctl")
            })
            .await
            .expect("join");
            let wall = start.elapsed();
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

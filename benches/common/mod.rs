//! What the drift and rollback benches share: the emulator's settings of `benches/apply.rs`
//! (65 ms per request, 2 s jobs, export jobs too, 300 requests per 60 s), a module and its
//! callers published straight into it, the API requests it served, and one run of the
//! release binary against it on a fresh token.

use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use flowctl::flow::{render_parent, render_shared, ParentTemplate, SharedTemplate};
use std::path::Path;
use std::time::{Duration, Instant};

pub const JOB: Duration = Duration::from_secs(2);
pub const LIMIT: usize = 300;
pub const WINDOW: Duration = Duration::from_secs(60);

pub fn emulator_config() -> EmulatorConfig {
    EmulatorConfig {
        latency: Duration::from_millis(65),
        job_time: JOB,
        rate_limit: LIMIT as u32,
        rate_window: WINDOW,
        ..EmulatorConfig::default()
    }
}

/// "Bench Module" with `greeting`, then `n` callers ("Bench Caller 000", ...) that call it
/// and queue to General Support, each handed to `publish` as an apply would publish it.
pub fn publish_module_and_callers(
    n: usize,
    greeting: &str,
    publish: impl Fn(&str) -> Result<String, Vec<String>>,
) {
    let module = render_shared(&SharedTemplate {
        name: "Bench Module".into(),
        description: None,
        division: "Home".into(),
        language: "en-us".into(),
        greeting: greeting.into(),
    })
    .expect("module");
    publish(&module.publish_yaml()).expect("seed module");
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
        publish(&doc.publish_yaml()).expect("seed caller");
    }
}

/// How many API requests (`/api/v2/...`) the emulator has served.
pub fn api_requests(emulator: &Emulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v2"))
        .count()
}

/// Runs the flowctl binary with `args` in `dir` (also its HOME) against `emulator`, with
/// no token cache; returns its output and wall time.
pub async fn flowctl(
    emulator: &Emulator,
    dir: &Path,
    args: &[&str],
) -> (std::process::Output, Duration) {
    let bin = env!("CARGO_BIN_EXE_flowctl");
    let base = emulator.base_url();
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let start = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .arg("--no-token-cache")
            .args(&args)
            .current_dir(&dir)
            .env_clear()
            .env("HOME", &dir)
            .env("GENESYS_API_BASE_URL", base)
            .env("GENESYS_CLIENT_ID", DEFAULT_CLIENT_ID)
            .env("GENESYS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
            .output()
            .expect("run flowctl")
    })
    .await
    .expect("join");
    (out, start.elapsed())
}

/// The sizes to run: `BENCH_SIZES` (comma-separated), else `default`.
pub fn sizes(default: &str) -> Vec<usize> {
    std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

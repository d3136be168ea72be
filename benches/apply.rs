//! `cargo bench --bench apply`: how close `flowctl apply` gets to the floor the API allows.
//!
//! For one module and N callers (N = 10, 30, 100, 300; override with `BENCH_SIZES=10,30`),
//! the release binary applies a manifest against the emulator with realistic settings: 65 ms
//! per request (the middle of 30-100 ms), 2 s Architect jobs, 300 requests per 60 s per
//! token. It prints wall time, the floor (max(two job times, API requests ÷ rate)), their
//! ratio, API requests per flow, 429s and peak memory. Then the same work is done one flow
//! at a time with a 15 s poll, as CX-as-Code and the CI/CD blueprint do: measured for
//! N <= `BENCH_BASELINE_MAX` (default 30), and modelled above it, since one flow at a time
//! takes 15 s per flow (75 minutes for 300).

use flowctl::client::Client;
use flowctl::config::Config;
use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use flowctl::flow::{render_parent, render_shared, ParentTemplate, SharedTemplate};
use flowctl::models::JobStatus;
use std::time::{Duration, Instant};

const LATENCY: Duration = Duration::from_millis(65);
const JOB: Duration = Duration::from_secs(2);
const RATE: u32 = 300;
const WINDOW: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_secs(15);

fn emulator_config() -> EmulatorConfig {
    EmulatorConfig {
        latency: LATENCY,
        job_time: JOB,
        rate_limit: RATE,
        rate_window: WINDOW,
        ..EmulatorConfig::default()
    }
}

fn manifest(n: usize) -> String {
    let mut s = String::from(
        "modules:\n  - name: Bench Module\n    greeting: Hello from the benchmark\nflows:\n",
    );
    for i in 0..n {
        s.push_str(&format!("  - name: Bench Caller {i:03}\n    modules: [Bench Module]\n    queue: General Support\n"));
    }
    s
}

/// Peak resident set of all waited-for children, in MiB.
fn children_peak_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc == 0 {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        f64::NAN
    }
}

struct Row {
    n: usize,
    wall: Duration,
    floor: Duration,
    strict: Duration,
    api_requests: usize,
    throttled: usize,
    peak_mib: f64,
    baseline: Option<(Duration, bool)>,
}

async fn flowctl_apply(n: usize) -> Row {
    let emulator = Emulator::start(emulator_config()).await.expect("emulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flows.yaml");
    std::fs::write(&path, manifest(n)).expect("manifest");
    let bin = env!("CARGO_BIN_EXE_flowctl");
    let base = emulator.base_url();
    let start = Instant::now();
    let status = tokio::task::spawn_blocking({
        let path = path.clone();
        let dir = dir.path().to_path_buf();
        move || {
            std::process::Command::new(bin)
                .args(["-q", "--no-token-cache", "apply", "-f"])
                .arg(&path)
                .args([
                    "--parallel",
                    &std::env::var("BENCH_PARALLEL").unwrap_or_else(|_| "8".into()),
                ])
                .stdout(std::process::Stdio::null())
                .current_dir(&dir)
                .env_clear()
                .env("HOME", &dir)
                .env("GENESYS_API_BASE_URL", base)
                .env("GENESYS_CLIENT_ID", DEFAULT_CLIENT_ID)
                .env("GENESYS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
                .status()
                .expect("run flowctl")
        }
    })
    .await
    .expect("join");
    let wall = start.elapsed();
    assert!(status.success(), "apply of {n} callers failed");
    let requests = emulator.requests();
    let api: Vec<_> = requests
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v2"))
        .collect();
    let throttled = api.iter().filter(|(_, _, s)| *s == 429).count();
    // The floor: max(two job times, requests ÷ rate). A fixed window also lets the
    // first `RATE` requests through at once, so the strict floor counts only the windows
    // that must pass: max(two job times, ⌊(requests − 1) ÷ rate⌋ windows).
    let by_rate = WINDOW.mul_f64(api.len() as f64 / RATE as f64);
    let floor = by_rate.max(JOB * 2);
    let strict = (WINDOW * ((api.len().saturating_sub(1)) as u32 / RATE)).max(JOB * 2);
    emulator.shutdown().await;
    Row {
        n,
        wall,
        floor,
        strict,
        api_requests: api.len(),
        throttled,
        peak_mib: children_peak_mib(),
        baseline: None,
    }
}

/// Today's tools: one flow at a time, run its job (which creates the flow), poll every 15 s.
async fn one_at_a_time(n: usize) -> Duration {
    let emulator = Emulator::start(emulator_config()).await.expect("emulator");
    let config = Config::for_emulator(
        &emulator.base_url(),
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        None,
    );
    let client = Client::new(&config).expect("client");
    let mut docs = vec![render_shared(&SharedTemplate {
        name: "Bench Module".into(),
        description: None,
        division: "Home".into(),
        language: "en-us".into(),
        greeting: "Hello from the benchmark".into(),
    })
    .expect("module")];
    for i in 0..n {
        docs.push(
            render_parent(&ParentTemplate {
                name: format!("Bench Caller {i:03}"),
                description: None,
                division: "Home".into(),
                language: "en-us".into(),
                modules: vec!["Bench Module".into()],
                queue: "General Support".into(),
            })
            .expect("caller"),
        );
    }
    let start = Instant::now();
    for doc in docs {
        let job = client.register_job().await.expect("job");
        client
            .upload_job_content(&job, &doc.publish_yaml())
            .await
            .expect("upload");
        loop {
            tokio::time::sleep(POLL).await;
            let state = client.get_job(&job.id).await.expect("poll");
            if state.status == JobStatus::Success {
                break;
            }
            assert!(
                state.status != JobStatus::Failure,
                "baseline job failed: {:?}",
                state.messages
            );
        }
    }
    let wall = start.elapsed();
    emulator.shutdown().await;
    wall
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10,30,100,300".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let baseline_max: usize = std::env::var("BENCH_BASELINE_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for &n in &sizes {
        eprintln!("apply: 1 module + {n} callers ...");
        let mut row = rt.block_on(flowctl_apply(n));
        if n <= baseline_max {
            eprintln!("one flow at a time, 15 s poll: 1 module + {n} callers ...");
            row.baseline = Some((rt.block_on(one_at_a_time(n)), true));
        } else {
            // Each flow waits for at least one 15 s poll; requests are few and unthrottled.
            row.baseline = Some((POLL * (n as u32 + 1), false));
        }
        rows.push(row);
    }
    println!(
        "settings: {} ms per request, {} s jobs, {RATE} requests per {} s per token",
        LATENCY.as_millis(),
        JOB.as_secs(),
        WINDOW.as_secs()
    );
    println!();
    println!("| callers | wall | floor | wall/floor | strict floor | wall/strict | API requests per flow | 429s | peak memory | one at a time, 15 s poll | speed-up |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let flows = (r.n + 1) as f64;
        let (base, measured) = r.baseline.unwrap_or((Duration::ZERO, false));
        println!(
            "| {} | {:.1} s | {:.1} s | {:.2} | {:.1} s | {:.2} | {:.2} | {} ({:.2}%) | {:.1} MiB | {:.0} s{} | {:.1}x |",
            r.n,
            r.wall.as_secs_f64(),
            r.floor.as_secs_f64(),
            r.wall.as_secs_f64() / r.floor.as_secs_f64(),
            r.strict.as_secs_f64(),
            r.wall.as_secs_f64() / r.strict.as_secs_f64(),
            r.api_requests as f64 / flows,
            r.throttled,
            100.0 * r.throttled as f64 / r.api_requests.max(1) as f64,
            r.peak_mib,
            base.as_secs_f64(),
            if measured { "" } else { " (modelled)" },
            base.as_secs_f64() / r.wall.as_secs_f64(),
        );
    }
}

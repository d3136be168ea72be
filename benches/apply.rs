//! `cargo bench --bench apply`: how close `flowctl apply` gets to the floor the API allows
//! (one module and many callers, paced by the rate limit and Architect's job time).
//!
//! One run prints one table. For one module and N callers (N = 30, 300, 1,000; override with
//! `BENCH_SIZES=30,300`) the release binary applies a manifest against the emulator with
//! 30 ms per request, 2 s Architect jobs and 300 requests per 60 s per token; then once more
//! for `BENCH_SMALL` callers (default 60; `0` skips it) against a small window of 60
//! requests per 10 s. Each run reports, side by side:
//!
//! - **new flowctl**: this crate's binary, default settings, no flags;
//! - **today's flowctl**: the binary named by `BENCH_OLD_FLOWCTL` (e.g. 695d14a built in its
//!   own worktree), default settings of that version; skipped when the variable is unset
//!   (`BENCH_NEW=0` skips the new one, to run today's alone);
//! - **one at a time, 15 s poll**: what today's tools do (run one flow's job, poll every
//!   15 s, then the next flow). Measured for N <= `BENCH_BASELINE_MAX` (default 30) and
//!   modelled above it as 15 s per flow, since every flow waits at least one poll. The
//!   measured baseline runs alongside the flowctl runs on its own emulator and token (it
//!   sleeps almost all the time); `BENCH_BASELINE_CONCURRENT=0` runs it on its own first.
//!
//! The emulator plays the real service's imprecisions, both on by default: each Architect
//! job spends K requests of its token's window and fails with the rate-limited messages
//! when the window is spent (`BENCH_K`, a comma list, default `5`; one set of rows per K),
//! and `inin-ratelimit-reset` is rounded down (`BENCH_ROUND_DOWN=0` rounds it up). A job
//! spends its K as it ends; `BENCH_JOB_SPENDS=start` (or `end,start` for both sets of
//! rows) spends it as it starts (when a real job spends is not published).
//!
//! Columns: wall time; the floor, max(two job times, ⌊(requests − 1) ÷ allowed⌋ windows) for
//! the API requests that run made plus K for every job it ran (a fixed window lets its
//! first `allowed` requests through at once); wall ÷ floor; jobs run and how many of them
//! the rate limit killed (each rerun); whether every flow has exactly one version; API requests (`/api/v2`, so not the token or the presigned
//! upload) per flow; 429 share; the flowctl process's peak resident set (`wait4` of that
//! child). `BENCH_DETAIL=1` also prints each run's requests by kind. Timing stays here,
//! never in a test.

use flowctl::client::Client;
use flowctl::config::Config;
use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use flowctl::flow::{render_parent, render_shared, ParentTemplate, SharedTemplate};
use flowctl::models::JobStatus;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LATENCY: Duration = Duration::from_millis(30);
const JOB: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_secs(15);

/// A rate limit: `allowed` API requests per `window` per token.
#[derive(Clone, Copy)]
struct Limit {
    allowed: u32,
    window: Duration,
}

const NORMAL: Limit = Limit {
    allowed: 300,
    window: Duration::from_secs(60),
};
const SMALL: Limit = Limit {
    allowed: 60,
    window: Duration::from_secs(10),
};

impl Limit {
    fn label(self) -> String {
        format!("{} per {} s", self.allowed, self.window.as_secs())
    }

    /// max(two job times, the windows that must pass before `requests` have all been sent).
    fn floor(self, requests: usize) -> Duration {
        let windows =
            u32::try_from(requests.saturating_sub(1) / self.allowed as usize).unwrap_or(u32::MAX);
        (self.window * windows).max(JOB * 2)
    }
}

/// How imprecise the emulator is, as the real service may be.
#[derive(Clone, Copy)]
struct Imprecision {
    /// Requests each job spends of its token's window.
    k: u32,
    round_down: bool,
    /// Each job spends its K as it starts (its upload) rather than as it ends.
    at_start: bool,
}

fn emulator_config(limit: Limit, imp: Imprecision) -> EmulatorConfig {
    EmulatorConfig {
        latency: LATENCY,
        job_time: JOB,
        rate_limit: limit.allowed,
        rate_window: limit.window,
        job_requests: imp.k,
        reset_rounds_down: imp.round_down,
        job_spends_at_start: imp.at_start,
        ..EmulatorConfig::default()
    }
}

fn manifest(n: usize) -> String {
    let mut s = String::from(
        "modules:\n  - name: Bench Module\n    greeting: Hello from the benchmark\nflows:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "  - name: Bench Caller {i:04}\n    modules: [Bench Module]\n    queue: General Support\n"
        ));
    }
    s
}

/// What one flowctl process did.
struct Run {
    wall: Duration,
    /// Exit code; `None` when killed by a signal.
    code: Option<i32>,
    peak_mib: f64,
    api_requests: usize,
    throttled: usize,
    /// Architect publish jobs registered (reruns included).
    jobs: usize,
    /// Flows in the org, and whether each has exactly one version.
    published: usize,
    one_version_each: bool,
    by_kind: BTreeMap<String, usize>,
    stderr_tail: String,
}

/// Runs `bin apply -f manifest` and waits for it with `wait4`, so the peak resident set is
/// this child's alone (`RUSAGE_CHILDREN` would keep the largest of all earlier runs).
// The child is reaped by `wait4`, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run_child(bin: &Path, base: &str, dir: &Path, manifest: &Path) -> (Duration, Option<i32>, f64) {
    let stderr = std::fs::File::create(dir.join("stderr.txt")).expect("stderr file");
    let start = Instant::now();
    let child = std::process::Command::new(bin)
        .args(["-q", "apply", "-f"])
        .arg(manifest)
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .env("GENESYS_API_BASE_URL", base)
        .env("GENESYS_CLIENT_ID", DEFAULT_CLIENT_ID)
        .env("GENESYS_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
        .spawn()
        .expect("run flowctl");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status: libc::c_int = 0;
    // SAFETY: both structs are ours; the child is reaped here rather than by `Child::wait`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // Linux reports ru_maxrss in KiB.
    (wall, code, usage.ru_maxrss as f64 / 1024.0)
}

/// `GET /api/v2/flows/0a1b…/versions` → `GET /api/v2/flows/{id}/versions`.
fn kind(method: &str, path: &str) -> String {
    let shape: Vec<&str> = path
        .split('/')
        .map(|seg| {
            if seg.len() >= 16 && seg.chars().any(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", shape.join("/"))
}

async fn apply(bin: PathBuf, n: usize, limit: Limit, imp: Imprecision) -> Run {
    let emulator = Emulator::start(emulator_config(limit, imp))
        .await
        .expect("emulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flows.yaml");
    std::fs::write(&path, manifest(n)).expect("manifest");
    let base = emulator.base_url();
    let (wall, code, peak_mib) = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || run_child(&bin, &base, &dir, &path)
    })
    .await
    .expect("join");
    let requests = emulator.requests();
    let api: Vec<_> = requests
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v2"))
        .collect();
    let mut by_kind = BTreeMap::new();
    for (m, p, s) in &api {
        let k = if *s == 429 {
            format!("{} (429)", kind(m, p))
        } else {
            kind(m, p)
        };
        *by_kind.entry(k).or_insert(0) += 1;
    }
    let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap_or_default();
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    let jobs = api
        .iter()
        .filter(|(m, p, s)| m == "POST" && p == "/api/v2/flows/jobs" && *s == 200)
        .count();
    let flows = emulator.flows();
    let one_version_each = flows
        .iter()
        .all(|f| emulator.flow_versions(&f.id).len() == 1);
    emulator.shutdown().await;
    Run {
        wall,
        code,
        peak_mib,
        api_requests: api.len(),
        throttled: api.iter().filter(|(_, _, s)| *s == 429).count(),
        jobs,
        published: flows.len(),
        one_version_each,
        by_kind,
        stderr_tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    }
}

/// Today's tools: one flow at a time, run its job (which creates the flow), poll every 15 s.
async fn one_at_a_time(n: usize, limit: Limit) -> Duration {
    // Today's tools meet no imprecision here: one job at a time never spends a window.
    let exact = Imprecision {
        k: 0,
        round_down: false,
        at_start: false,
    };
    let emulator = Emulator::start(emulator_config(limit, exact))
        .await
        .expect("emulator");
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
                name: format!("Bench Caller {i:04}"),
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

struct Scenario {
    n: usize,
    limit: Limit,
    imp: Imprecision,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn row(s: &Scenario, tool: &str, run: &Run, one_at_a_time: Option<Duration>) -> String {
    let flows = (s.n + 1) as f64;
    let floor = s
        .limit
        .floor(run.api_requests + s.imp.k as usize * run.jobs);
    let killed = run.jobs.saturating_sub(s.n + 1);
    let outcome = match run.code {
        Some(0) => String::new(),
        Some(c) => format!(" (failed, exit {c})"),
        None => " (killed)".to_string(),
    };
    let speedup = one_at_a_time
        .map(|b| format!("{:.0}x", b.as_secs_f64() / run.wall.as_secs_f64()))
        .unwrap_or_default();
    format!(
        "| {} | {} | {}{} | {} | {}{} | {} | {} | {:.2} | {} ({} killed, {:.1}%) | {} flows, {} | {} | {:.2} | {} ({:.2}%) | {:.1} MiB | {} |",
        s.n,
        s.limit.label(),
        s.imp.k,
        match (s.imp.k, s.imp.at_start) {
            (0, _) => "",
            (_, true) => " at start",
            (_, false) => " at end",
        },
        if s.imp.round_down { "down" } else { "up" },
        tool,
        outcome,
        secs(run.wall),
        secs(floor),
        run.wall.as_secs_f64() / floor.as_secs_f64(),
        run.jobs,
        killed,
        100.0 * killed as f64 / run.jobs.max(1) as f64,
        run.published,
        if run.one_version_each { "one version each" } else { "SOME WITH MORE" },
        run.api_requests,
        run.api_requests as f64 / flows,
        run.throttled,
        100.0 * run.throttled as f64 / run.api_requests.max(1) as f64,
        run.peak_mib,
        speedup,
    )
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "30,300,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    let small = env_usize("BENCH_SMALL", 60);
    let baseline_max = env_usize("BENCH_BASELINE_MAX", 30);
    let concurrent = std::env::var("BENCH_BASELINE_CONCURRENT").map_or(true, |v| v != "0");
    let detail = std::env::var("BENCH_DETAIL").is_ok_and(|v| v == "1");
    let new_bin = PathBuf::from(env!("CARGO_BIN_EXE_flowctl"));
    let run_new = std::env::var("BENCH_NEW").map_or(true, |v| v != "0");
    let old_bin = std::env::var_os("BENCH_OLD_FLOWCTL").map(PathBuf::from);
    if let Some(old) = &old_bin {
        assert!(
            old.is_file(),
            "BENCH_OLD_FLOWCTL={} is not a file",
            old.display()
        );
    }

    let ks: Vec<u32> = std::env::var("BENCH_K")
        .unwrap_or_else(|_| "5".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let round_down = std::env::var("BENCH_ROUND_DOWN").map_or(true, |v| v != "0");
    let spends: Vec<bool> = std::env::var("BENCH_JOB_SPENDS")
        .unwrap_or_else(|_| "end".into())
        .split(',')
        .map(|s| s.trim() == "start")
        .collect();
    let mut scenarios: Vec<Scenario> = Vec::new();
    for (&k, &at_start) in ks.iter().flat_map(|k| spends.iter().map(move |a| (k, a))) {
        let imp = Imprecision {
            k,
            round_down,
            at_start,
        };
        if small > 0 {
            scenarios.push(Scenario {
                n: small,
                limit: SMALL,
                imp,
            });
        }
        scenarios.extend(sizes.iter().map(|&n| Scenario {
            n,
            limit: NORMAL,
            imp,
        }));
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // The measured baselines: sleep-bound, so they can run beside the flowctl runs.
    let measured: Vec<(usize, usize)> = scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| s.n <= baseline_max)
        .map(|(i, s)| (i, s.n))
        .collect();
    let baseline_task = {
        let limits: Vec<Limit> = measured.iter().map(|&(i, _)| scenarios[i].limit).collect();
        let measured = measured.clone();
        let task = async move {
            let mut out = BTreeMap::new();
            for (&(i, n), limit) in measured.iter().zip(limits) {
                eprintln!("one flow at a time, 15 s poll: 1 module + {n} callers ...");
                let wall = one_at_a_time(n, limit).await;
                eprintln!("  one at a time, {n} callers: {}", secs(wall));
                out.insert(i, wall);
            }
            out
        };
        if concurrent {
            Some(rt.spawn(task))
        } else {
            let done = rt.block_on(task);
            Some(rt.spawn(async move { done }))
        }
    };

    let mut runs: Vec<Vec<(&str, Run)>> = Vec::new();
    for s in &scenarios {
        let mut these = Vec::new();
        let mut tools: Vec<(&str, PathBuf)> = Vec::new();
        if run_new {
            tools.push(("new flowctl", new_bin.clone()));
        }
        if let Some(old) = &old_bin {
            tools.push(("today's flowctl", old.clone()));
        }
        for (tool, bin) in tools {
            eprintln!(
                "{tool}: 1 module + {} callers, {}, K = {} ...",
                s.n,
                s.limit.label(),
                s.imp.k
            );
            let run = rt.block_on(apply(bin, s.n, s.limit, s.imp));
            eprintln!("  {}", row(s, tool, &run, None));
            if run.code != Some(0) {
                eprintln!("  stderr: {}", run.stderr_tail);
            }
            these.push((tool, run));
        }
        runs.push(these);
    }
    let baselines = baseline_task
        .map(|t| rt.block_on(t).expect("baseline task"))
        .unwrap_or_default();

    println!(
        "settings: {} ms per request, {} s jobs; 1 module + N callers; default settings, no flags",
        LATENCY.as_millis(),
        JOB.as_secs(),
    );
    println!();
    println!("| callers | rate limit | K | reset rounded | tool | wall | floor | wall/floor | jobs (killed) | published | API requests | per flow | 429s | peak memory | one at a time ÷ wall |");
    println!("|---:|---|---:|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    for (i, (s, these)) in scenarios.iter().zip(&runs).enumerate() {
        let (base, label) = match baselines.get(&i) {
            Some(&wall) => (wall, "measured"),
            None => (POLL * (s.n as u32 + 1), "modelled"),
        };
        for (tool, run) in these {
            println!("{}", row(s, tool, run, Some(base)));
        }
        println!(
            "| {} | {} | | | one at a time, 15 s poll | {} ({label}) | | | | | | | | | |",
            s.n,
            s.limit.label(),
            secs(base),
        );
    }
    if detail {
        for (s, these) in scenarios.iter().zip(&runs) {
            for (tool, run) in these {
                println!();
                println!(
                    "{tool}, {} callers, {}: requests by kind",
                    s.n,
                    s.limit.label()
                );
                for (k, c) in &run.by_kind {
                    println!("  {c:6}  {k}");
                }
            }
        }
    }
}

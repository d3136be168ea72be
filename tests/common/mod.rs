//! Shared harness for the end-to-end tests: one emulator per test on 127.0.0.1:0, the real
//! `flowctl` binary run in its own temp dir with a cleared environment.
#![allow(dead_code)]

use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use std::path::{Path, PathBuf};
use std::process::Output;

pub struct Org {
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// `plan --output json`'s actions as (name, action, reason).
    pub fn plan_actions(&self) -> Vec<(String, String, String)> {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        self.json()["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|a| (text(&a["name"]), text(&a["action"]), text(&a["reason"])))
            .collect()
    }

    /// `verify --output json`'s passed checks, each as "subject check".
    pub fn passed_checks(&self) -> Vec<String> {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        self.json()["checks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c["status"] == "pass")
            .map(|c| format!("{} {}", text(&c["subject"]), text(&c["check"])))
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Org {
    pub async fn new() -> Org {
        Org::with(EmulatorConfig {
            job_time: std::time::Duration::from_millis(20),
            // Tests share a cached token across runs; the rate limit has its own tests.
            rate_limit: 100_000,
            ..EmulatorConfig::default()
        })
        .await
    }

    pub async fn with(config: EmulatorConfig) -> Org {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        Org {
            emulator,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs flowctl against this org with the emulator's credentials.
    pub async fn flowctl(&self, args: &[&str]) -> Run {
        self.flowctl_env(args, &[]).await
    }

    /// Runs flowctl with extra environment variables (which override the defaults).
    pub async fn flowctl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut vars: Vec<(String, String)> = vec![
            ("GENESYS_API_BASE_URL".into(), self.emulator.base_url()),
            ("GENESYS_CLIENT_ID".into(), DEFAULT_CLIENT_ID.into()),
            ("GENESYS_CLIENT_SECRET".into(), DEFAULT_CLIENT_SECRET.into()),
        ];
        for (k, v) in env {
            vars.retain(|(key, _)| key != k);
            vars.push((k.to_string(), v.to_string()));
        }
        run_in(self.path(), args, vars).await
    }
}

/// Runs the flowctl binary in `dir` with exactly `vars` (plus HOME and XDG_CACHE_HOME in
/// `dir`, so no test touches the user's token cache).
pub async fn run_in(dir: &Path, args: &[&str], vars: Vec<(String, String)>) -> Run {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_flowctl"));
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let output: Output = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(&args)
            .current_dir(&dir)
            .env_clear()
            .env("HOME", &dir)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(std::process::Stdio::null());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().expect("flowctl runs")
    })
    .await
    .expect("join");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

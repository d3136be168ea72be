//! The emulator as a server people run, fed hostile input: text that would cut a
//! character in two, names with control characters, a `--state` file shared by several
//! processes, kill -9, half-open connections.

use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};
use std::time::Duration;

async fn token(http: &reqwest::Client, base: &str) -> String {
    let v: Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// register → upload → wait for the job to end; the finished job.
async fn publish(http: &reqwest::Client, base: &str, token: &str, yaml: &str) -> Value {
    let job: Value = http
        .post(format!("{base}/api/v2/flows/jobs"))
        .bearer_auth(token)
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("job json");
    let mut put = http
        .put(job["presignedUrl"].as_str().expect("url"))
        .body(yaml.to_string());
    for (k, v) in job["headers"].as_object().expect("headers") {
        put = put.header(k.as_str(), v.as_str().expect("header"));
    }
    assert_eq!(put.send().await.expect("upload").status().as_u16(), 200);
    let id = job["id"].as_str().expect("id");
    for _ in 0..500 {
        let j: Value = http
            .get(format!("{base}/api/v2/flows/jobs/{id}?expand=messages"))
            .bearer_auth(token)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("poll json");
        if j["status"] == "Success" || j["status"] == "Failure" {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job never finished");
}

fn fast() -> EmulatorConfig {
    EmulatorConfig {
        job_time: Duration::from_millis(5),
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn an_unclosed_placeholder_before_multibyte_text_fails_the_job_instead_of_hanging_it() {
    let emu = Emulator::start(fast()).await.expect("start");
    let http = reqwest::Client::new();
    let t = token(&http, &emu.base_url()).await;
    for yaml in [
        format!(
            "commonModule:\n  name: M\n  description: \"{{{{ {}\"\n",
            "é".repeat(40)
        ),
        format!(
            "commonModule:\n  name: M\n  description: \"{{{{{}}}}}\"\n",
            "日本".repeat(30)
        ),
    ] {
        let job = publish(&http, &emu.base_url(), &t, &yaml).await;
        assert_eq!(job["status"], "Failure", "{job}");
        let text = job["messages"][0]["text"].as_str().unwrap_or_default();
        assert!(
            text.contains("unreplaced substitution placeholder"),
            "{text}"
        );
    }
    assert!(emu.flows().is_empty());
}

#[tokio::test]
async fn names_with_control_characters_or_outer_whitespace_are_refused_like_flowctl_does() {
    let emu = Emulator::start(fast()).await.expect("start");
    let http = reqwest::Client::new();
    let base = emu.base_url();
    let t = token(&http, &base).await;
    for name in ["Mod\u{0}A", "Mod A ", " Mod A", "Mod\tA"] {
        let resp = http
            .post(format!("{base}/api/v2/flows"))
            .bearer_auth(&t)
            .json(&json!({"name": name, "type": "COMMONMODULE"}))
            .send()
            .await
            .expect("create");
        assert_eq!(resp.status().as_u16(), 400, "{name:?}");
        let yaml = format!(
            "commonModule:\n  name: {}\n  startUpTaskActions:\n    - endTask:\n        name: back\n",
            serde_json::to_string(name).expect("quoted")
        );
        let job = publish(&http, &base, &t, &yaml).await;
        assert_eq!(job["status"], "Failure", "{name:?}: {job}");
    }
    assert!(emu.flows().is_empty());
    let resp = http
        .post(format!("{base}/api/v2/flows"))
        .bearer_auth(&t)
        .json(&json!({"name": "Mod A", "type": "COMMONMODULE"}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status().as_u16(), 200, "a clean name is accepted");
}

fn flowctl() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_flowctl"))
}

/// The flow names in a state file.
fn names_in(state: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(state).expect("state file");
    let v: Value = serde_json::from_str(&text).expect("state JSON");
    let mut names: Vec<String> = v["flows"]
        .as_object()
        .expect("flows")
        .values()
        .filter_map(|r| r["flow"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn concurrent_emulator_runs_on_one_local_org_keep_each_others_flows() {
    let dir = tempfile::tempdir().expect("dir");
    let mut expected = Vec::new();
    for round in 0..2 {
        let children: Vec<_> = (0..4)
            .map(|i| {
                let name = format!("Module {round}-{i}");
                expected.push(name.clone());
                flowctl()
                    .args(["--emulator", "create-shared", "--name", &name])
                    .current_dir(dir.path())
                    .env_clear()
                    .env("HOME", dir.path())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    expected.sort();
    assert_eq!(names_in(&dir.path().join(".flowctl/org.json")), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_emulators_sharing_a_state_file_see_each_others_changes() {
    let dir = tempfile::tempdir().expect("dir");
    let config = || EmulatorConfig {
        state_file: Some(dir.path().join("org.json")),
        ..fast()
    };
    let a = Emulator::start(config()).await.expect("a");
    let b = Emulator::start(config()).await.expect("b");
    let http = reqwest::Client::new();
    let module = |n: &str| {
        format!("commonModule:\n  name: {n}\n  startUpTaskActions:\n    - endTask:\n        name: back\n")
    };
    let ta = token(&http, &a.base_url()).await;
    let tb = token(&http, &b.base_url()).await;
    for i in 0..3 {
        let job = publish(&http, &a.base_url(), &ta, &module(&format!("From A {i}"))).await;
        assert_eq!(job["status"], "Success", "{job}");
        let job = publish(&http, &b.base_url(), &tb, &module(&format!("From B {i}"))).await;
        assert_eq!(job["status"], "Success", "{job}");
    }
    let names = |e: &Emulator| {
        let mut n: Vec<String> = e.flows().into_iter().map(|f| f.name).collect();
        n.sort();
        n
    };
    let all: Vec<String> = (0..3)
        .flat_map(|i| [format!("From A {i}"), format!("From B {i}")])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names(&a), all);
    assert_eq!(names(&b), all);
    a.shutdown().await;
    b.shutdown().await;
    assert_eq!(names_in(&dir.path().join("org.json")), all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_creates_with_a_state_file_is_all_saved() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("org.json");
    let emu = Emulator::start(EmulatorConfig {
        state_file: Some(state.clone()),
        ..fast()
    })
    .await
    .expect("start");
    let http = reqwest::Client::new();
    let base = emu.base_url();
    let t = token(&http, &base).await;
    let creates = (0..300).map(|i| {
        let (http, base, t) = (http.clone(), base.clone(), t.clone());
        async move {
            http.post(format!("{base}/api/v2/flows"))
                .bearer_auth(&t)
                .json(&json!({"name": format!("Flow {i:03}"), "type": "INBOUNDCALL"}))
                .send()
                .await
                .expect("create")
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(creates).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    emu.shutdown().await;
    assert_eq!(names_in(&state).len(), 300);
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "org.json" && n != "org.json.lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Starts `flowctl emulator serve` and returns it with its base URL.
fn serve(args: &[&str], dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = flowctl()
        .args([
            "emulator",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--job-ms",
            "1",
        ])
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    (child, line.trim().to_string())
}

/// `emulator serve --faults` tells the seed of its random faults, and `--fault-seed`
/// replays them: the same requests meet the same answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_random_faults_tell_their_seed_and_replay_with_it() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("dir");
    let serve_faulty = |seed: &str| {
        let mut child = flowctl()
            .args(["emulator", "serve", "--addr", "127.0.0.1:0"])
            .args(["--faults", "503=0.5", "--fault-seed", seed])
            .current_dir(dir.path())
            .env_clear()
            .env("HOME", dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut base = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut base)
            .expect("first line");
        let mut told = String::new();
        let mut err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        while !told.contains("seeded") {
            told.clear();
            if err.read_line(&mut told).unwrap_or(0) == 0 {
                break;
            }
        }
        (child, base.trim().to_string(), told)
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (mut child, base, told) = serve_faulty("7");
        assert!(
            told.contains("random faults seeded with 7") && told.contains("--fault-seed 7"),
            "{told}"
        );
        let http = reqwest::Client::new();
        let mut codes = Vec::new();
        for _ in 0..20 {
            let code = http
                .get(format!("{base}/api/v2/organizations/me"))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            codes.push(code);
        }
        let _ = child.kill();
        let _ = child.wait();
        seen.push(codes);
    }
    assert!(
        seen[0].contains(&503) && seen[0].iter().any(|c| *c != 503),
        "{seen:?}"
    );
    assert_eq!(seen[0], seen[1], "the same seed, the same faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_a_restart_leaves_no_temp_file_and_keeps_the_org() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, base) = serve(&["--state", "org.json"], dir.path());
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let http = reqwest::Client::new();
    let t = token(&http, &base).await;
    let creates = (0..200).map(|i| {
        let (http, base, t) = (http.clone(), base.clone(), t.clone());
        async move {
            let _ = http
                .post(format!("{base}/api/v2/flows"))
                .bearer_auth(&t)
                .json(&json!({"name": format!("Flow {i:03}"), "type": "INBOUNDCALL"}))
                .send()
                .await;
        }
    });
    let burst = tokio::spawn(futures::future::join_all(creates));
    tokio::time::sleep(Duration::from_millis(50)).await;
    child.kill().expect("kill -9");
    let _ = child.wait();
    let _ = burst.await;
    let (mut again, base2) = serve(&["--state", "org.json"], dir.path());
    assert!(
        base2.starts_with("http://"),
        "the restart reads the state file"
    );
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let _ = again.kill();
    let _ = again.wait();
    assert!(
        files
            .iter()
            .all(|f| f == "org.json" || f == "org.json.lock"),
        "{files:?}"
    );
}

#[test]
fn a_state_file_that_is_not_a_bounded_regular_file_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .expect("create")
        .set_len(300 << 20)
        .expect("sparse file");
    for (state, expected) in [
        ("/dev/zero", "not a regular file"),
        (big.to_str().expect("utf-8"), "larger than 256 MiB"),
    ] {
        let out = flowctl()
            .args([
                "emulator",
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--state",
                state,
            ])
            .env_clear()
            .env("HOME", dir.path())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{state}: {stderr}");
        assert!(stderr.contains(expected), "{state}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = Emulator::start(EmulatorConfig {
        header_read_timeout: Duration::from_millis(200),
        max_connections: 4,
        ..fast()
    })
    .await
    .expect("start");
    let addr = emu.base_url().trim_start_matches("http://").to_string();
    // More half-open connections than may be served at once.
    let mut idle = Vec::new();
    for i in 0..8 {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        if i % 2 == 0 {
            s.write_all(b"GET /api/v2/flows HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("partial head");
        }
        idle.push(s);
    }
    for (i, mut s) in idle.into_iter().enumerate() {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "connection {i} was never closed");
    }
    // The emulator still answers.
    let http = reqwest::Client::new();
    let t = token(&http, &emu.base_url()).await;
    assert!(!t.is_empty());
}

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
            .json(&json!({"name": name, "type": "commonmodule"}))
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
}

//! The emulator on its own, over HTTP as any client sees it: auth, the job runner's
//! failures and successes, locks, paging, the rate limit, deletes, uploads, persistence.

use flowctl::emulator::{
    Emulator, EmulatorConfig, Fault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
};
use serde_json::Value;
use std::time::Duration;

struct Api {
    emu: Emulator,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn new(config: EmulatorConfig) -> Api {
        let emu = Emulator::start(config).await.expect("start");
        let http = reqwest::Client::new();
        let token = http
            .post(format!("{}/oauth/token", emu.base_url()))
            .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .expect("token")
            .json::<Value>()
            .await
            .expect("json")["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        Api { emu, http, token }
    }

    async fn fast() -> Api {
        Api::new(EmulatorConfig {
            job_time: Duration::from_millis(10),
            ..EmulatorConfig::default()
        })
        .await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.emu.base_url()))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, v) = self.call(reqwest::Method::GET, path, None).await;
        (s, v)
    }

    /// register → upload → wait; returns the finished job.
    async fn publish(&self, yaml: &str) -> Value {
        let id = self.start_job(yaml).await;
        self.wait_job(&id).await
    }

    /// register → upload: the job runs; returns its id.
    async fn start_job(&self, yaml: &str) -> String {
        let (_, _, job) = self
            .call(reqwest::Method::POST, "/api/v2/flows/jobs", None)
            .await;
        let mut put = self
            .http
            .put(job["presignedUrl"].as_str().expect("url"))
            .body(yaml.to_string());
        for (k, v) in job["headers"].as_object().expect("headers") {
            put = put.header(k.as_str(), v.as_str().expect("header"));
        }
        assert_eq!(put.send().await.expect("upload").status().as_u16(), 200);
        job["id"].as_str().expect("id").to_string()
    }

    /// Polls the job until it is Success or Failure.
    async fn wait_job(&self, id: &str) -> Value {
        for _ in 0..500 {
            let (_, j) = self
                .get(&format!("/api/v2/flows/jobs/{id}?expand=messages"))
                .await;
            if j["status"] == "Success" || j["status"] == "Failure" {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job never finished");
    }
}

fn module(name: &str) -> String {
    format!("commonModule:\n  name: {name}\n  startUpTaskActions:\n    - endTask:\n        name: back\n")
}

fn caller(name: &str, module: &str, queue: &str) -> String {
    format!(
        "inboundCall:\n  name: {name}\n  startUpRef: /inboundCall/tasks/task[t1]\n  tasks:\n    - task:\n        name: T\n        refId: t1\n        actions:\n          - callCommonModule:\n              name: call\n              commonModule:\n                {module}:\n                  ver_latestPublished:\n                    inputs: {{}}\n          - transferToAcd:\n              name: queue\n              targetQueue:\n                lit:\n                  name: {queue}\n          - disconnect:\n              name: bye\n"
    )
}

fn messages(job: &Value) -> String {
    job["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|x| x["text"].as_str().unwrap_or(""))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn requests_without_a_valid_bearer_get_401_bad_credentials() {
    let api = Api::fast().await;
    let resp = api
        .http
        .get(format!("{}/api/v2/flows", api.emu.base_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["code"], "bad.credentials");
    assert!(body["contextId"].as_str().is_some());
    api.emu.expire_tokens();
    let (status, v) = api.get("/api/v2/flows").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("credentials.expired"))
    );
}

#[tokio::test]
async fn bad_client_credentials_get_invalid_client() {
    let api = Api::fast().await;
    let resp = api
        .http
        .post(format!("{}/oauth/token", api.emu.base_url()))
        .basic_auth(DEFAULT_CLIENT_ID, Some("wrong"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn the_job_runner_publishes_versions_and_records_what_they_consume() {
    let api = Api::fast().await;
    let m = api.publish(&module("Greeting")).await;
    assert_eq!(m["status"], "Success", "{}", messages(&m));
    let c = api.publish(&caller("Sales", "Greeting", "Sales")).await;
    assert_eq!(c["status"], "Success", "{}", messages(&c));
    let id = c["flow"]["id"].as_str().expect("flow id");
    let again = api.publish(&caller("Sales", "Greeting", "Sales")).await;
    assert_eq!(
        again["flow"]["id"].as_str(),
        Some(id),
        "found by name and type, not created again"
    );
    let (_, flow) = api.get(&format!("/api/v2/flows/{id}")).await;
    assert_eq!(flow["publishedVersion"]["id"], "2.0");
    let (_, deps) = api
        .get(&format!("/api/v2/architect/dependencytracking/consumedresources?id={id}&version=2.0&objectType=INBOUNDCALLFLOW&resourceType=COMMONMODULEFLOW&resourceType=QUEUE"))
        .await;
    let mut got: Vec<(String, String)> = deps["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap_or("").into(),
                d["name"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("COMMONMODULEFLOW".to_string(), "Greeting".to_string()),
            ("QUEUE".to_string(), "Sales".to_string())
        ]
    );
}

#[tokio::test]
async fn the_job_runner_fails_like_architect_does() {
    let api = Api::fast().await;
    let cases = [
        (
            "commonModule:\n  name: \"{{module_name}}\"\n",
            "{{module_name}}",
        ),
        ("commonModule:\n  name: [broken\n", "YAML"),
        ("callFlow:\n  name: X\n", "callFlow"),
        (
            &caller("A", "Never Published", "Sales") as &str,
            "Never Published",
        ),
        (
            &caller("B", "Nope", "Sales").replace("Nope", "Greeting"),
            "Greeting",
        ),
        (&caller("C", "Greeting", "No Such Queue"), "No Such Queue"),
        (
            &caller("D", "Greeting", "Sales").replace("task[t1]", "task[elsewhere]"),
            "elsewhere",
        ),
        ("inboundCall:\n  name: E\n  division: Mars\n", "Mars"),
    ];
    for (yaml, expected) in cases {
        let job = api.publish(yaml).await;
        assert_eq!(job["status"], "Failure", "{yaml}");
        let text = messages(&job);
        assert!(text.contains(expected), "'{expected}' not in: {text}");
        assert!(job["messages"][0]["type"] == "Error");
    }
    // (unverified) The emulator's reading: a job that fails validation of a new flow leaves
    // that flow created but unpublished, and names it, so clients must clean up.
    for f in api.emu.flows() {
        assert!(f.published_version.is_none(), "{} was published", f.name);
    }
}

#[tokio::test]
async fn a_flow_locked_by_a_user_is_refused_with_architects_lock_message() {
    let api = Api::fast().await;
    assert_eq!(api.publish(&module("Greeting")).await["status"], "Success");
    assert!(api.emu.lock_flow(
        "Greeting",
        flowctl::models::FlowType::CommonModule,
        "Jane Doe"
    ));
    let job = api.publish(&module("Greeting")).await;
    assert_eq!(job["status"], "Failure");
    assert!(
        messages(&job).contains("is locked by another entity"),
        "{}",
        messages(&job)
    );
    let id = api.emu.flows()[0].id.clone();
    let (_, flow) = api.get(&format!("/api/v2/flows/{id}")).await;
    assert_eq!(flow["lockedUser"]["name"], "Jane Doe");
}

#[tokio::test]
async fn a_scripted_rate_limit_inside_a_job_reads_as_could_not_find_the_flow() {
    let api = Api::fast().await;
    api.emu.script_faults(vec![Fault::JobRateLimited]);
    let job = api.publish(&module("Greeting")).await;
    assert_eq!(job["status"], "Failure");
    assert!(messages(&job).contains("could not find the flow with id"));
}

#[tokio::test]
async fn listings_page_and_filter_names_as_substrings() {
    let api = Api::fast().await;
    for i in 0..60 {
        let (s, _, _) = api
            .call(
                reqwest::Method::POST,
                "/api/v2/flows",
                Some(serde_json::json!({"name": format!("Flow {i:02}"), "type": "INBOUNDCALL"})),
            )
            .await;
        assert_eq!(s, 200);
    }
    let (_, p1) = api
        .get("/api/v2/flows?type=inboundcall&pageSize=25&pageNumber=1")
        .await;
    assert_eq!(
        (p1["total"].as_u64(), p1["pageCount"].as_u64()),
        (Some(60), Some(3))
    );
    assert!(p1["nextUri"].as_str().is_some());
    let (_, p3) = api
        .get("/api/v2/flows?type=inboundcall&pageSize=25&pageNumber=3")
        .await;
    assert_eq!(p3["entities"].as_array().map(Vec::len), Some(10));
    assert!(p3["nextUri"].is_null());
    let (_, named) = api
        .get("/api/v2/flows?type=inboundcall&name=flow%201")
        .await;
    assert_eq!(
        named["total"].as_u64(),
        Some(10),
        "Flow 10..19, case-insensitive"
    );
    let (s, v) = api.get("/api/v2/flows?type=INBOUNDCALL").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("invalid.value")),
        "types are lower case in queries"
    );
    let (s, _, dup) = api
        .call(
            reqwest::Method::POST,
            "/api/v2/flows",
            Some(serde_json::json!({"name": "flow 00", "type": "INBOUNDCALL"})),
        )
        .await;
    assert_eq!(s, 400, "{dup}");
    let (s, _, bad) = api
        .call(
            reqwest::Method::POST,
            "/api/v2/flows",
            Some(serde_json::json!({"name": "X", "type": "CALL"})),
        )
        .await;
    assert_eq!(
        (s, bad["code"].as_str()),
        (400, Some("bad.request")),
        "CALL is not a flow type"
    );
}

#[tokio::test]
async fn past_the_rate_limit_comes_429_with_retry_after_and_the_headers() {
    for down in [false, true] {
        past_the_rate_limit(down).await;
    }
}

async fn past_the_rate_limit(reset_rounds_down: bool) {
    let api = Api::new(EmulatorConfig {
        rate_limit: 5,
        reset_rounds_down,
        ..EmulatorConfig::default()
    })
    .await;
    for i in 1..=5 {
        let (s, h, _) = api
            .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(h["inin-ratelimit-allowed"], "5");
        assert_eq!(h["inin-ratelimit-count"], i.to_string().as_str());
        assert!(h.contains_key("inin-ratelimit-reset") && h.contains_key("inin-correlation-id"));
    }
    let (s, h, body) = api
        .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
        .await;
    assert_eq!(s, 429);
    assert_eq!(body["code"], "too.many.requests");
    let retry: u64 = h["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("integer seconds");
    assert!((1..=60).contains(&retry));
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains(&format!("[{retry}] seconds")));
}

#[tokio::test]
async fn a_module_that_a_published_flow_uses_cannot_be_deleted() {
    let api = Api::fast().await;
    let m = api.publish(&module("Greeting")).await;
    api.publish(&caller("Sales", "Greeting", "Sales")).await;
    let id = m["flow"]["id"].as_str().expect("id");
    let (s, _, body) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v2/flows/{id}"),
            None,
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("Sales"));
    let sales = api
        .emu
        .flows()
        .into_iter()
        .find(|f| f.name == "Sales")
        .expect("sales");
    let (s, _, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v2/flows/{}", sales.id),
            None,
        )
        .await;
    assert!(s < 300);
    let (s, _, _) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v2/flows/{id}"),
            None,
        )
        .await;
    assert!(s < 300);
    assert_eq!(api.get(&format!("/api/v2/flows/{id}")).await.0, 404);
}

#[tokio::test]
async fn the_presigned_upload_needs_its_headers_and_refuses_authorization() {
    let api = Api::fast().await;
    let (_, _, job) = api
        .call(reqwest::Method::POST, "/api/v2/flows/jobs", None)
        .await;
    let url = job["presignedUrl"].as_str().expect("url");
    let headers = job["headers"].as_object().expect("headers").clone();
    let bare = api
        .http
        .put(url)
        .body(module("X"))
        .send()
        .await
        .expect("send");
    assert_eq!(bare.status().as_u16(), 403, "missing headers");
    let mut with_auth = api.http.put(url).body(module("X")).bearer_auth(&api.token);
    for (k, v) in &headers {
        with_auth = with_auth.header(k.as_str(), v.as_str().expect("str"));
    }
    let resp = with_auth.send().await.expect("send");
    assert_eq!(
        resp.status().as_u16(),
        400,
        "Authorization on a presigned URL"
    );
    assert!(resp.text().await.unwrap_or_default().contains("<Error>"));
}

#[tokio::test]
async fn a_state_file_keeps_the_org_across_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("org.json");
    let config = EmulatorConfig {
        job_time: Duration::from_millis(10),
        state_file: Some(file.clone()),
        ..EmulatorConfig::default()
    };
    let api = Api::new(config.clone()).await;
    assert_eq!(api.publish(&module("Kept")).await["status"], "Success");
    api.emu.shutdown().await;
    let again = Emulator::start(config).await.expect("restart");
    let flows = again.flows();
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].name, "Kept");
    assert_eq!(
        flows[0].published_version.as_ref().map(|v| v.id.as_str()),
        Some("1.0")
    );
}

#[tokio::test]
async fn scripted_faults_hit_the_next_requests_in_order() {
    let api = Api::fast().await;
    api.emu
        .script_faults(vec![Fault::Status503, Fault::Status429 { retry_after: 2 }]);
    assert_eq!(api.get("/api/v2/organizations/me").await.0, 503);
    let (s, h, _) = api
        .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
        .await;
    assert_eq!((s, h["retry-after"].to_str().ok()), (429, Some("2")));
    assert_eq!(api.get("/api/v2/organizations/me").await.0, 200);
    api.emu.script_faults(vec![Fault::Drop]);
    let dropped = api
        .http
        .get(format!("{}/api/v2/organizations/me", api.emu.base_url()))
        .bearer_auth(&api.token)
        .send()
        .await;
    let broken = match dropped {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken, "a dropped connection gives no complete answer");
}

#[tokio::test]
async fn unknown_routes_and_bad_bodies_get_the_error_shape() {
    let api = Api::fast().await;
    let (s, v) = api.get("/api/v2/nothing/here").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not.found")));
    let resp = api
        .http
        .post(format!("{}/api/v2/flows", api.emu.base_url()))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["status"], 400);
    assert!(body["contextId"].is_string());
}

#[tokio::test]
async fn the_job_runner_publishes_everything_the_renderer_produces() {
    use flowctl::flow::{
        render_graph, render_parent, render_shared, FlowGraph, Node, NodeKind, ParentTemplate,
        Prompt, SharedTemplate,
    };
    use flowctl::models::FlowType;
    let api = Api::fast().await;
    let shared = |name: &str, greeting: &str| SharedTemplate {
        name: name.into(),
        description: Some("d: \"quoted\" # not a comment".into()),
        division: "Home".into(),
        language: "en-us".into(),
        greeting: greeting.into(),
    };
    let mut docs = vec![
        render_shared(&shared("Module A", "Hello")).expect("valid"),
        render_shared(&shared(
            "- Módulo: \"B\" #2",
            "¡Hola! {x}: it's 'quoted' - ok\u{2764}",
        ))
        .expect("valid"),
        render_parent(&ParentTemplate {
            name: "Calls both".into(),
            description: None,
            division: "Home".into(),
            language: "en-us".into(),
            modules: vec!["Module A".into(), "- Módulo: \"B\" #2".into()],
            queue: "Billing".into(),
        })
        .expect("valid"),
    ];
    let g = FlowGraph {
        flow_type: FlowType::InboundCall,
        name: "Media and errors".into(),
        description: None,
        division: "Home".into(),
        language: "es-us".into(),
        start: "s".into(),
        nodes: vec![
            Node::new("s", "Start", NodeKind::Start).then("p"),
            Node::new(
                "p",
                "Welcome",
                NodeKind::Play {
                    prompt: Prompt::Media("WelcomePrompt".into()),
                },
            )
            .then("c"),
            Node::new(
                "c",
                "Module",
                NodeKind::CallModule {
                    module: "Module A".into(),
                },
            )
            .then("q")
            .on_error("bye"),
            Node::new(
                "q",
                "Queue",
                NodeKind::Queue {
                    queue: "Sales".into(),
                },
            )
            .then("bye")
            .on_error("sorry"),
            Node::new(
                "sorry",
                "Sorry",
                NodeKind::Play {
                    prompt: Prompt::Tts("Sorry".into()),
                },
            )
            .then("bye"),
            Node::new("bye", "Bye", NodeKind::Hangup),
        ],
    };
    docs.push(render_graph(&g).expect("valid"));
    api.emu
        .add_resource(flowctl::emulator::ResourceKind::Prompt, "WelcomePrompt");
    for doc in &docs {
        let job = api.publish(&doc.publish_yaml()).await;
        assert_eq!(
            job["status"],
            "Success",
            "{}: {}\n{}",
            doc.name,
            messages(&job),
            doc.publish_yaml()
        );
    }
    let names: Vec<String> = api.emu.flows().into_iter().map(|f| f.name).collect();
    for doc in &docs {
        assert!(
            names.contains(&doc.name),
            "{} missing from {names:?}",
            doc.name
        );
    }
}

#[tokio::test]
async fn each_job_spends_its_requests_in_its_tokens_rate_limit_window() {
    let api = Api::new(EmulatorConfig {
        job_time: Duration::from_millis(10),
        job_requests: 5,
        ..EmulatorConfig::default()
    })
    .await;
    let job = api.publish(&module("Greeting")).await;
    assert_eq!(job["status"], "Success", "{}", messages(&job));
    let (_, h, _) = api
        .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
        .await;
    let count: u64 = h["inin-ratelimit-count"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number");
    assert_eq!(
        count,
        api.emu.request_count() + 5,
        "the server's count is the client's requests plus the job's 5"
    );
}

/// The `inin-ratelimit-count` of an answer.
fn count_of(h: &reqwest::header::HeaderMap) -> u64 {
    h["inin-ratelimit-count"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number")
}

#[tokio::test]
async fn a_publish_job_spends_as_it_ends_by_default_and_as_it_starts_on_request() {
    for at_start in [false, true] {
        let api = Api::new(EmulatorConfig {
            job_time: Duration::from_secs(1),
            job_requests: 5,
            job_spends_at_start: at_start,
            ..EmulatorConfig::default()
        })
        .await;
        let id = api.start_job(&module("Greeting")).await;
        let path = format!("/api/v2/flows/jobs/{id}");
        let (_, h, job) = api.call(reqwest::Method::GET, &path, None).await;
        assert_eq!(job["status"], "Started", "still running");
        let spent = if at_start { 5 } else { 0 };
        assert_eq!(
            count_of(&h),
            api.emu.request_count() + spent,
            "while it runs, spends at start: {at_start}"
        );
        let job = api.wait_job(&id).await;
        assert_eq!(job["status"], "Success", "{}", messages(&job));
        let (_, h, _) = api
            .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
            .await;
        assert_eq!(
            count_of(&h),
            api.emu.request_count() + 5,
            "once it ended, spends at start: {at_start}"
        );
    }
}

#[tokio::test]
async fn a_job_that_finds_its_window_spent_fails_with_the_rate_limited_messages() {
    let api = Api::new(EmulatorConfig {
        job_time: Duration::ZERO,
        job_requests: 5,
        rate_limit: 10,
        rate_window: Duration::from_secs(2),
        ..EmulatorConfig::default()
    })
    .await;
    // 5 requests, then the registration: 4 left, fewer than the job needs.
    for _ in 0..5 {
        let (s, _, _) = api
            .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
            .await;
        assert_eq!(s, 200);
    }
    let job = api.publish(&module("Greeting")).await;
    assert_eq!(job["status"], "Failure");
    let text = messages(&job);
    assert!(text.contains("could not find the flow with id '"), "{text}");
    assert!(
        text.contains("setting the Archy exit code to 107") && text.contains("exit code: 107"),
        "{text}"
    );
    assert!(
        api.emu.flows().is_empty(),
        "the killed job published nothing"
    );
    assert!(
        api.emu.requests().iter().any(|(_, _, s)| *s == 429),
        "the job spent the rest of the window, so the client's next poll was refused"
    );
}

#[tokio::test]
async fn the_reset_header_is_rounded_up_by_default_and_down_on_request() {
    for (down, expected) in [(false, "10"), (true, "9")] {
        let api = Api::new(EmulatorConfig {
            rate_limit: 60,
            rate_window: Duration::from_secs(10),
            reset_rounds_down: down,
            ..EmulatorConfig::default()
        })
        .await;
        let (_, h, _) = api
            .call(reqwest::Method::GET, "/api/v2/organizations/me", None)
            .await;
        assert_eq!(h["inin-ratelimit-reset"], expected, "rounds down: {down}");
    }
}

//! Property-based fuzzing, bounded so it runs in CI: the manifest parser, the reader of
//! users' Architect YAML and graph validation never panic, whatever they are given, and
//! always either accept or explain.
//!
//! The API client is driven the same way with arbitrary server answers (headers, bodies,
//! whole raw HTTP answers from a server of its own).
//!
//! More cases locally: `PROPTEST_CASES=20000 HOSTILE_CASES=2000 cargo test --test fuzz`.

use flowctl::flow::{self, FlowGraph, Node, NodeKind, Prompt};
use flowctl::models::FlowType;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// YAML-ish text: a grammar of keys, indentation and scalars that reaches deep into the
/// parsers, mixed with arbitrary unicode.
fn yamlish() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("modules"),
        Just("flows"),
        Just("substitutions"),
        Just("profiles"),
        Just("name"),
        Just("file"),
        Just("greeting"),
        Just("queue"),
        Just("inboundCall"),
        Just("commonModule"),
        Just("callCommonModule"),
        Just("transferToAcd"),
        Just("targetQueue"),
        Just("lit"),
        Just("tasks"),
        Just("task"),
        Just("refId"),
        Just("startUpRef"),
        Just("actions"),
        Just("x"),
    ];
    let scalar = prop_oneof![
        Just("".to_string()),
        Just("[a, b]".to_string()),
        Just("{{v}}".to_string()),
        Just("- y".to_string()),
        Just("\"q\"".to_string()),
        Just("./tasks/task[a]".to_string()),
        "\\PC{0,12}",
    ];
    let line = (0usize..4, any::<bool>(), key, scalar).prop_map(|(indent, dash, k, v)| {
        format!(
            "{}{}{k}: {v}",
            "  ".repeat(indent),
            if dash { "- " } else { "" }
        )
    });
    prop_oneof![
        3 => prop::collection::vec(line, 0..25).prop_map(|l| l.join("\n")),
        1 => "\\PC{0,300}",
    ]
}

fn no_env(_: &str) -> Option<String> {
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn the_manifest_parser_never_panics(text in yamlish()) {
        let result = flowctl::manifest::parse(&text, Path::new("fuzz.yaml"), &[], None, &no_env);
        if let Err(problems) = result {
            prop_assert!(!problems.is_empty());
            prop_assert!(problems.iter().all(|p| p.contains("fuzz.yaml")), "{problems:?}");
        }
    }

    #[test]
    fn reading_architect_yaml_never_panics(text in yamlish()) {
        let vars = BTreeMap::from([("v".to_string(), "value".to_string())]);
        match flow::read_architect_yaml(&text, &vars, "fuzz.yaml") {
            Ok(doc) => {
                // What was read, once marked for publishing, reads back the same.
                let again = flow::read_architect_yaml(&doc.publish_yaml(), &BTreeMap::new(), "fuzz.yaml");
                prop_assert!(again.is_ok(), "{:?}", again.err());
                let again = again.expect("checked");
                prop_assert_eq!(&again.name, &doc.name);
                prop_assert_eq!(again.flow_type, doc.flow_type);
                prop_assert_eq!(&again.modules, &doc.modules);
                prop_assert_eq!(&again.queues, &doc.queues);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.yaml")),
        }
        let report = flowctl::commands::lint::lint_text(&text, &vars, "fuzz.yaml");
        prop_assert_eq!(report.ok, report.problems.is_empty());
    }

    #[test]
    fn graph_validation_never_panics_and_valid_graphs_render(
        nodes in prop::collection::vec((0u8..5, 0usize..12, 0usize..12, any::<bool>(), any::<bool>(), "\\PC{0,8}"), 0..12),
        start in 0usize..12,
    ) {
        let id = |i: usize| format!("n{i}");
        let graph = FlowGraph {
            flow_type: FlowType::InboundCall,
            name: "Fuzz".into(),
            description: None,
            division: "Home".into(),
            language: "en-us".into(),
            start: id(start),
            nodes: nodes
                .iter()
                .enumerate()
                .map(|(i, (kind, d, e, has_d, has_e, text))| {
                    let kind = match kind {
                        0 => NodeKind::Start,
                        1 => NodeKind::Play { prompt: Prompt::Tts(text.clone()) },
                        2 => NodeKind::CallModule { module: format!("M{text}") },
                        3 => NodeKind::Queue { queue: format!("Q{text}") },
                        _ => NodeKind::Hangup,
                    };
                    Node {
                        id: id(i),
                        name: format!("Node {i}"),
                        kind,
                        default: has_d.then(|| id(*d)),
                        error: has_e.then(|| id(*e)),
                    }
                })
                .collect(),
        };
        let problems = graph.validate();
        if problems.is_empty() {
            let doc = flow::render_graph(&graph);
            prop_assert!(doc.is_ok(), "a valid graph renders: {:?}", doc.err());
        } else {
            prop_assert!(flow::render_graph(&graph).is_err());
        }
    }
}

// The client against arbitrary server answers: header and body parsing never panic, every
// value comes out bounded, and every failure maps to a documented exit code.

/// Header values a hostile server sends: numbers of every size and sign, dates, garbage.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-1".to_string()),
        Just("3.5".to_string()),
        Just("1e30".to_string()),
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string()),
        Just("http://u:p@127.0.0.1:1/x?token=t".to_string()),
        "[0-9]{1,30}",
        "\\PC{0,40}",
    ]
}

/// Bodies: JSON of the documented shapes, of wrong types, truncated, or not JSON at all.
fn body() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just("null".to_string()),
        Just("-1".to_string()),
        Just("1e400".to_string()),
        Just("18446744073709551616".to_string()),
        Just("\"\\u001b[2J\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        "\"\\PC{0,20}\"".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
    ];
    let key = prop_oneof![
        Just("entities"),
        Just("pageCount"),
        Just("id"),
        Just("name"),
        Just("status"),
        Just("message"),
        Just("code"),
        Just("contextId"),
        Just("access_token"),
        Just("expires_in"),
        Just("presignedUrl"),
    ];
    prop_oneof![
        3 => prop::collection::vec((key, scalar), 0..6).prop_map(|kv| {
            let fields: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{{}}}", fields.join(", "))
        }),
        1 => "\\PC{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn answer_headers_parse_into_bounded_values(
        retry_after in header_value(),
        allowed in header_value(),
        count in header_value(),
        reset in header_value(),
        other in header_value(),
    ) {
        use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("retry-after", &retry_after),
            ("inin-ratelimit-allowed", &allowed),
            ("inin-ratelimit-count", &count),
            ("inin-ratelimit-reset", &reset),
            ("inin-correlation-id", &other),
            ("location", &other),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let answer = flowctl::client::Answer::read(&headers);
        if let Some(wait) = answer.retry_after {
            prop_assert!(wait >= flowctl::client::retry::MIN_RETRY_AFTER);
        }
        for text in answer.correlation_id.iter().chain(answer.location.iter()) {
            prop_assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        if let Some(loc) = &answer.location {
            prop_assert!(!loc.contains("token=t") && !loc.contains("u:p@"), "{loc}");
        }
        // The policy decides on any of it without overflow.
        let policy = flowctl::client::retry::RetryPolicy::default();
        let _ = policy.decide(1, answer.retry_after, std::time::Duration::MAX, 0.5);
    }

    #[test]
    fn token_answers_and_printed_text_are_bounded(text in body(), max in 0usize..300) {
        if let Ok((token, _)) = flowctl::client::parse_token_answer(text.as_bytes()) {
            prop_assert!(!token.trim().is_empty());
        }
        let shown = flowctl::output::sanitize(&text, max);
        prop_assert!(!shown.chars().any(char::is_control), "{shown:?}");
        prop_assert!(shown.chars().count() <= max * 10 + 80, "{}", shown.len());
    }
}

/// One hostile answer, as raw bytes: a status line, headers and a body (Content-Length
/// right, wrong or missing).
fn raw_answer() -> impl Strategy<Value = Vec<u8>> {
    let status = prop_oneof![
        Just(200u16),
        Just(204),
        Just(301),
        Just(302),
        Just(400),
        Just(401),
        Just(404),
        Just(429),
        Just(500),
        Just(503),
        100u16..1000,
    ];
    let name = prop_oneof![
        Just("Retry-After"),
        Just("inin-ratelimit-allowed"),
        Just("inin-ratelimit-count"),
        Just("inin-ratelimit-reset"),
        Just("inin-correlation-id"),
        Just("Location"),
        Just("Content-Type"),
        Just("Content-Length"),
    ];
    let header = (name, header_value()).prop_map(|(n, v)| format!("{n}: {v}\r\n"));
    (
        status,
        prop::collection::vec(header, 0..5),
        body(),
        any::<bool>(),
    )
        .prop_map(|(status, headers, body, length)| {
            let mut head = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
            if length {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            for h in headers {
                head.push_str(&h);
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(body.as_bytes());
            bytes
        })
}

/// A server whose token endpoint works and whose every API answer is `answer`.
async fn serve_once(answer: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let reply = if buf.starts_with(b"POST /oauth/token") {
                    let body = r#"{"access_token":"t","expires_in":86399}"#;
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .into_bytes()
                } else {
                    answer
                };
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    url
}

proptest! {
    // Each case starts a server and a client: fewer cases, still bounded for CI.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("HOSTILE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn the_client_survives_any_server_answer(answer in raw_answer()) {
        use flowctl::client::{retry::RetryPolicy, Client, Timeouts};
        use std::time::Duration;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let codes = rt.block_on(async move {
            let url = serve_once(answer).await;
            let config = flowctl::config::Config::for_emulator(&url, "id", "secret", None);
            let client = Client::with_settings(
                &config,
                Timeouts {
                    connect: Duration::from_secs(2),
                    // A Content-Length longer than the body leaves the client waiting.
                    read: Duration::from_millis(300),
                    total: Duration::from_secs(1),
                },
                RetryPolicy {
                    max_attempts: 2,
                    max_elapsed: Duration::from_secs(2),
                    base: Duration::from_millis(1),
                    cap: Duration::from_millis(5),
                    // Every Retry-After (at least 1 s) is then refused as too long: no sleeps.
                    max_retry_after: Duration::from_millis(500),
                },
            )
            .expect("client");
            let mut codes = Vec::new();
            if let Err(e) = client.organization().await {
                codes.push(flowctl::Error::from(e).exit_status() as i32);
            }
            if let Err(e) = client.list_flows(&[FlowType::CommonModule]).await {
                codes.push(flowctl::Error::from(e).exit_status() as i32);
            }
            if let Err(e) = client.get_job("job-1").await {
                codes.push(flowctl::Error::from(e).exit_status() as i32);
            }
            codes
        });
        prop_assert!(codes.iter().all(|c| [3, 4, 5].contains(c)), "{codes:?}");
    }
}

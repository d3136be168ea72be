//! The hostile-server corpus, beside `bad_input.rs`: a small server of our own on
//! 127.0.0.1:0 that answers the way no Genesys service does (absurd `Retry-After` and
//! `inin-ratelimit-*`, endless bodies, non-JSON and wrong-typed JSON, unsafe presigned URLs,
//! redirects, silence, jobs that never end, escape sequences). Each case: no panic, the
//! documented exit code, a message naming what the server did, nothing sent where it
//! should not be.

mod common;

use flowctl::client::retry::RetryPolicy;
use flowctl::client::{Client, ClientError, Timeouts};
use flowctl::config::Config;
use flowctl::error::ExitStatus;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ID: &str = "hostile-client";
const SECRET: &str = "hostile-secret-value-42";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    /// Path and query.
    target: String,
}

/// What the server does with a request.
enum Reply {
    /// These bytes, then close.
    Raw(Vec<u8>),
    /// This head, then `a` bytes until the client hangs up.
    Endless(String),
    /// Accept, read the request, never answer.
    Silent,
    /// This head, then one byte every 100 ms, forever.
    Trickle(String),
    /// This reply after a pause (to make two clients overlap).
    Later(Duration, Box<Reply>),
}

type Handler = Arc<dyn Fn(&Req) -> Option<Reply> + Send + Sync>;

struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Req>>>,
}

/// An answer with a body and `Content-Length`, closing the connection.
fn http(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut head = format!(
        "HTTP/1.1 {status} Hostile\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Reply::Raw(bytes)
}

fn json(status: u16, headers: &[(&str, &str)], body: serde_json::Value) -> Reply {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(headers);
    http(status, &h, &body.to_string())
}

fn token() -> Reply {
    json(
        200,
        &[],
        serde_json::json!({"access_token": "hostile-token", "token_type": "bearer", "expires_in": 86399}),
    )
}

fn org() -> Reply {
    json(200, &[], serde_json::json!({"id": "org-1", "name": "Org"}))
}

impl Hostile {
    /// Serves `handler`; requests it leaves (`None`) get a token at `/oauth/token` and a 404
    /// elsewhere.
    async fn start(handler: impl Fn(&Req) -> Option<Reply> + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let log = log.clone();
                tokio::spawn(async move { serve(stream, handler, log).await });
            }
        });
        Hostile { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn config(&self) -> Config {
        Config::for_emulator(&self.url(), ID, SECRET, None)
    }

    /// How many requests had a target starting with `prefix`.
    fn hits(&self, prefix: &str) -> usize {
        self.seen
            .lock()
            .map(|s| s.iter().filter(|r| r.target.starts_with(prefix)).count())
            .unwrap_or(0)
    }

    /// Runs the flowctl binary against this server (no token cache unless `env` sets one).
    async fn flowctl(&self, args: &[&str], env: &[(&str, &str)]) -> common::Run {
        let dir = tempfile::tempdir().expect("dir");
        self.flowctl_in(dir.path(), args, env).await
    }

    async fn flowctl_in(
        &self,
        dir: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> common::Run {
        let mut vars: Vec<(String, String)> = vec![
            ("GENESYS_API_BASE_URL".into(), self.url()),
            ("GENESYS_CLIENT_ID".into(), ID.into()),
            ("GENESYS_CLIENT_SECRET".into(), SECRET.into()),
            ("FLOWCTL_NO_TOKEN_CACHE".into(), "true".into()),
        ];
        for (k, v) in env {
            vars.retain(|(key, _)| key != k);
            vars.push((k.to_string(), v.to_string()));
        }
        let run = common::run_in(dir, args, vars).await;
        assert_ne!(run.code, 101, "flowctl panicked: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            !run.stderr.contains(SECRET),
            "the secret leaked: {}",
            run.stderr
        );
        run
    }
}

async fn serve(mut stream: TcpStream, handler: Handler, log: Arc<Mutex<Vec<Req>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut first = head.lines().next().unwrap_or_default().split(' ');
    let req = Req {
        method: first.next().unwrap_or_default().to_string(),
        target: first.next().unwrap_or_default().to_string(),
    };
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    if let Ok(mut l) = log.lock() {
        l.push(req.clone());
    }
    let reply = handler(&req).unwrap_or_else(|| {
        if req.target.starts_with("/oauth/token") {
            token()
        } else {
            json(
                404,
                &[],
                serde_json::json!({"message": "not here", "code": "not.found"}),
            )
        }
    });
    send(&mut stream, reply).await;
}

async fn send(stream: &mut TcpStream, reply: Reply) {
    let mut reply = reply;
    while let Reply::Later(pause, inner) = reply {
        tokio::time::sleep(pause).await;
        reply = *inner;
    }
    match reply {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Endless(head) => {
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'a'; 64 * 1024];
            while stream.write_all(&block).await.is_ok() {}
        }
        Reply::Silent => {
            // Hold the connection until the client gives up.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        Reply::Trickle(head) => {
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stream.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        Reply::Later(..) => {}
    }
}

fn exit(e: &ClientError) -> ExitStatus {
    flowctl::error::client_exit_status(e)
}

/// A client that gives up quickly, for servers that never answer.
fn impatient(server: &Hostile) -> Client {
    Client::with_settings(
        &server.config(),
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_millis(500),
            total: Duration::from_secs(2),
        },
        RetryPolicy {
            max_attempts: 2,
            max_elapsed: Duration::from_secs(5),
            base: Duration::from_millis(10),
            cap: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(180),
        },
    )
    .expect("client")
}

// Absurd numbers

#[tokio::test]
async fn a_429_asking_for_u64_max_seconds_gives_up_with_exit_5_and_says_so() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            json(
                429,
                &[("Retry-After", "18446744073709551615")],
                serde_json::json!({"message": "slow down", "code": "too.many.requests"}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("asked to wait 18446744073709551615 s (Retry-After on a 429)"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("/api/v2/organizations/me"), 1, "never retried");
}

#[tokio::test]
async fn a_503_asking_for_an_hour_gives_up_with_exit_5_and_says_so() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            json(
                503,
                &[("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")],
                serde_json::json!({"message": "maintenance", "code": "service.unavailable"}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("(Retry-After)"), "{}", run.stderr);
    assert!(run.stderr.contains("maintenance"), "{}", run.stderr);
    assert_eq!(server.hits("/api/v2/organizations/me"), 1, "never retried");
}

#[tokio::test]
async fn a_token_429_with_an_absurd_retry_after_gives_up_with_exit_5() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/oauth/token").then(|| {
            json(
                429,
                &[("Retry-After", "99999999999999999999999")],
                serde_json::json!({"error": "invalid_request", "error_description": "rate limit exceeded"}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("(Retry-After)"), "{}", run.stderr);
}

#[tokio::test]
async fn negative_and_non_numeric_retry_after_fall_back_to_backoff() {
    for value in ["-5", "soon", "1e3", ""] {
        let count = Arc::new(Mutex::new(0u32));
        let c = count.clone();
        let value = value.to_string();
        let server = Hostile::start(move |r| {
            if !r.target.starts_with("/api/v2/organizations/me") {
                return None;
            }
            let mut n = c.lock().expect("count");
            *n += 1;
            Some(if *n == 1 {
                json(
                    429,
                    &[("Retry-After", value.as_str())],
                    serde_json::json!({"message": "slow down", "code": "too.many.requests"}),
                )
            } else {
                org()
            })
        })
        .await;
        let client = Client::new(&server.config()).expect("client");
        client.organization().await.expect("retried and answered");
        assert_eq!(server.hits("/api/v2/organizations/me"), 2);
    }
}

#[tokio::test]
async fn a_spent_window_with_an_absurd_reset_is_refused_with_exit_5_not_slept() {
    for reset in ["18446744073709551615", "3600"] {
        let reset = reset.to_string();
        let server = Hostile::start(move |r| {
            r.target.starts_with("/api/v2/organizations/me").then(|| {
                json(
                    200,
                    &[
                        ("inin-ratelimit-allowed", "300"),
                        ("inin-ratelimit-count", "300"),
                        ("inin-ratelimit-reset", reset.as_str()),
                    ],
                    serde_json::json!({"id": "org-1", "name": "Org"}),
                )
            })
        })
        .await;
        let client = Client::new(&server.config()).expect("client");
        client
            .organization()
            .await
            .expect("the first answer is fine");
        let err = client.organization().await.expect_err("the next must wait");
        assert_eq!(exit(&err), ExitStatus::Network);
        let text = err.to_string();
        assert!(
            text.contains("inin-ratelimit-reset") && text.contains("more than the 60 s"),
            "{text}"
        );
        assert_eq!(server.hits("/api/v2/organizations/me"), 1, "nothing sent");
    }
}

#[tokio::test]
async fn a_spent_window_is_waited_for_and_said_on_stderr() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/").then(|| {
            json(
                200,
                &[
                    ("inin-ratelimit-allowed", "300"),
                    ("inin-ratelimit-count", "300"),
                    ("inin-ratelimit-reset", "3"),
                ],
                serde_json::json!({"entities": [], "pageCount": 1}),
            )
        })
    })
    .await;
    let run = server
        .flowctl(
            &[
                "verify",
                "--shared",
                "M",
                "--parent",
                "Some Flow",
                "--wait",
                "0",
            ],
            &[],
        )
        .await;
    assert!(
        run.stderr
            .contains("for the rate limit (1 request held): this rate-limit window is spent (inin-ratelimit-reset)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn garbage_rate_limit_headers_are_ignored() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            json(
                200,
                &[
                    ("inin-ratelimit-allowed", "lots"),
                    ("inin-ratelimit-count", "-1"),
                    ("inin-ratelimit-reset", "99999999999999999999999999"),
                ],
                serde_json::json!({"id": "org-1", "name": "Org"}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("org-1"));
}

#[tokio::test]
async fn a_token_that_never_expires_is_cached_for_at_most_48_hours() {
    let server =
        Hostile::start(|r| {
            r.target.starts_with("/oauth/token").then(|| {
            json(
                200,
                &[],
                serde_json::json!({"access_token": "t", "expires_in": 18446744073709551615u64}),
            )
        })
        .or_else(|| r.target.starts_with("/api/v2/organizations/me").then(org))
        })
        .await;
    let dir = tempfile::tempdir().expect("dir");
    let run = server
        .flowctl_in(
            dir.path(),
            &["whoami"],
            &[("FLOWCTL_NO_TOKEN_CACHE", "false")],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cached = walk(dir.path())
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a cache file");
    let cache: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cached).expect("read")).expect("json");
    let until = cache["use_until"].as_u64().expect("use_until");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert!(until <= now + 48 * 3600, "{until} vs {now}");
}

#[tokio::test]
async fn a_token_answer_with_a_negative_lifetime_is_refused_by_name() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/oauth/token").then(|| {
            json(
                200,
                &[],
                serde_json::json!({"access_token": "t", "expires_in": -1}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("expires_in"), "{}", run.stderr);
}

#[tokio::test]
async fn verify_refuses_an_absurd_wait_as_bad_input() {
    // With credentials and a server, so the run would reach the wait (an `Instant`
    // overflow, exit 101, before the flag had a range).
    let server = Hostile::start(|_| None).await;
    let run = server
        .flowctl(
            &[
                "verify",
                "--wait",
                "18446744073709551615",
                "--shared",
                "M",
                "--parent",
                "X",
            ],
            &[],
        )
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--wait") && run.stderr.contains("is not in 0..=86400"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("/"), 0, "refused before anything is sent");
}

#[tokio::test]
async fn numeric_flags_have_ranges() {
    let dir = tempfile::tempdir().expect("dir");
    for (args, flag) in [
        (
            vec!["apply", "--job-timeout", "18446744073709551615"],
            "--job-timeout",
        ),
        (vec!["apply", "--job-timeout", "0"], "--job-timeout"),
        (
            vec![
                "emulator",
                "serve",
                "--token-lifetime",
                "18446744073709551615",
            ],
            "--token-lifetime",
        ),
        (
            vec!["emulator", "serve", "--latency-ms", "18446744073709551615"],
            "--latency-ms",
        ),
        (
            vec!["emulator", "serve", "--job-ms", "18446744073709551615"],
            "--job-ms",
        ),
    ] {
        let run = common::run_in(dir.path(), &args, Vec::new()).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(flag) && run.stderr.contains("is not in"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

// Bounded bodies

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_limit_with_exit_4() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            Reply::Endless(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                    .into(),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("larger than 32 MiB"), "{}", run.stderr);
}

#[tokio::test]
async fn a_declared_huge_body_is_not_read_at_all() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            Reply::Raw(
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{"
                    .to_vec(),
            )
        })
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client.organization().await.expect_err("refused");
    assert_eq!(exit(&err), ExitStatus::Rejected);
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
}

#[tokio::test]
async fn a_listing_of_endless_big_pages_is_cut_in_total() {
    // Each page is under the per-body limit, but the pages never end.
    let page = serde_json::json!({
        "entities": [{"id": "x".repeat(5 << 20), "name": "M", "type": "COMMONMODULE"}],
        "pageCount": 1000,
    })
    .to_string();
    let server = Hostile::start(move |r| {
        r.target
            .starts_with("/api/v2/flows?")
            .then(|| http(200, &[], &page))
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client
        .list_flows(&[flowctl::models::FlowType::CommonModule])
        .await
        .expect_err("cut");
    assert_eq!(exit(&err), ExitStatus::Rejected);
    assert!(
        err.to_string().contains("listing is larger than 64 MiB"),
        "{err}"
    );
    assert!(
        server.hits("/api/v2/flows?") < 20,
        "{}",
        server.hits("/api/v2/flows?")
    );
}

#[tokio::test]
async fn endless_error_and_token_bodies_are_cut_too() {
    let server = Hostile::start(|r| {
        r.target
            .starts_with("/api/v2/organizations/me")
            .then(|| Reply::Endless("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n".into()))
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("error body is larger than 1 MiB"),
        "{}",
        run.stderr
    );

    let server = Hostile::start(|r| {
        r.target
            .starts_with("/oauth/token")
            .then(|| Reply::Endless("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".into()))
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("larger than 1 MiB"), "{}", run.stderr);
}

#[tokio::test]
async fn non_json_and_wrong_typed_answers_are_exit_4_naming_the_endpoint() {
    for body in [
        "<html>hello</html>",
        r#"{"id": 5, "name": []}"#,
        "[]",
        "null",
    ] {
        let body = body.to_string();
        let server = Hostile::start(move |r| {
            r.target
                .starts_with("/api/v2/organizations/me")
                .then(|| http(200, &[], &body))
        })
        .await;
        let run = server.flowctl(&["whoami"], &[]).await;
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert!(
            run.stderr
                .contains("unexpected answer from GET /api/v2/organizations/me"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_exit_4_and_not_retried() {
    for raw in [
        &b"HTTP/1.1 200 OK\r\nBad\x1bHeader: x\r\n\r\n{}"[..],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 99999 Nope\r\n\r\n",
    ] {
        let raw = raw.to_vec();
        let server = Hostile::start(move |r| {
            r.target
                .starts_with("/api/v2/organizations/me")
                .then(|| Reply::Raw(raw.clone()))
        })
        .await;
        let run = server.flowctl(&["whoami"], &[]).await;
        assert_eq!(run.code, 4, "{}", run.stderr);
        assert!(run.stderr.contains("not valid HTTP"), "{}", run.stderr);
        assert_eq!(server.hits("/api/v2/organizations/me"), 1, "not retried");
    }
}

// Listings that lie

#[tokio::test]
async fn a_listing_without_entities_is_an_error_not_an_empty_org() {
    let server = Hostile::start(|r| {
        (r.target.starts_with("/api/v2/flows?")
            || r.target.starts_with("/api/v2/architect/dependencytracking"))
        .then(|| json(200, &[], serde_json::json!({"total": 3, "pageCount": 1})))
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client
        .list_flows(&[flowctl::models::FlowType::CommonModule])
        .await
        .expect_err("no entities");
    assert_eq!(exit(&err), ExitStatus::Rejected);
    assert!(err.to_string().contains("entities"), "{err}");
    let err = client
        .consuming_resources("m-1", "COMMONMODULEFLOW", Some("published"))
        .await
        .expect_err("no entities");
    assert_eq!(exit(&err), ExitStatus::Rejected);
    // `entities: null` lies the same way.
    let server = Hostile::start(|r| {
        r.target
            .starts_with("/api/v2/flows?")
            .then(|| json(200, &[], serde_json::json!({"entities": null})))
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client
        .list_flows(&[flowctl::models::FlowType::CommonModule])
        .await
        .expect_err("null entities");
    assert_eq!(exit(&err), ExitStatus::Rejected);
}

// Hosts nobody chose

async fn upload_to(presigned: &str) -> (Hostile, ClientError) {
    let presigned = presigned.to_string();
    let server = Hostile::start(move |r| {
        (r.method == "POST" && r.target == "/api/v2/flows/jobs").then(|| {
            json(
                200,
                &[],
                serde_json::json!({"id": "job-1", "presignedUrl": presigned, "headers": {}}),
            )
        })
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client
        .run_job("commonModule:\n  name: X\n", Duration::from_secs(5))
        .await
        .expect_err("refused");
    (server, err)
}

#[tokio::test]
async fn a_presigned_url_over_plain_http_off_loopback_or_another_scheme_is_refused() {
    for url in [
        "http://uploads.example.test/bucket/key?X-Amz-Signature=sig",
        "ftp://127.0.0.1/upload",
        "file:///etc/passwd",
        "https://user:pw@uploads.example.test/key",
        "not a url",
    ] {
        let (server, err) = upload_to(url).await;
        // The URL came from Genesys' answer, not from the user: exit 4, as the README's
        // hostile-server table says, whichever command meets it.
        assert_eq!(exit(&err), ExitStatus::Rejected, "{url}: {err}");
        let text = err.to_string();
        assert!(text.contains("refusing the presigned upload URL"), "{text}");
        assert!(
            !text.contains("X-Amz-Signature") && !text.contains("pw@"),
            "{text}"
        );
        assert_eq!(
            server.hits("/api/v2/flows/jobs/"),
            0,
            "no poll after a refusal"
        );
    }
}

#[tokio::test]
async fn upload_headers_that_are_not_http_headers_are_refused_before_the_upload() {
    let server = Hostile::start(|r| {
        if r.method == "POST" && r.target == "/api/v2/flows/jobs" {
            let url = "http://127.0.0.1:9/upload".to_string();
            return Some(json(
                200,
                &[],
                serde_json::json!({"id": "job-1", "presignedUrl": url, "headers": {"Bad\nName": "x"}}),
            ));
        }
        None
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client
        .run_job("commonModule:\n  name: X\n", Duration::from_secs(5))
        .await
        .expect_err("refused");
    assert_eq!(exit(&err), ExitStatus::Rejected);
    assert!(
        err.to_string().contains("is not a valid HTTP header"),
        "{err}"
    );
    assert!(!err.to_string().contains('\n'), "{err}");
}

#[tokio::test]
async fn credentials_in_the_base_url_are_refused_with_exit_2_and_never_printed() {
    let server = Hostile::start(|_| None).await;
    let url = format!("http://admin:hunter2@{}", server.addr);
    let run = server
        .flowctl(&["whoami"], &[("GENESYS_API_BASE_URL", url.as_str())])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("user info"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    assert_eq!(server.hits("/"), 0, "nothing sent");
    // The library refuses it too.
    let config = Config::for_emulator(&url, ID, SECRET, None);
    let err = Client::new(&config).err().expect("refused");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed_and_its_secrets_are_not_printed() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            http(
                302,
                &[(
                    "Location",
                    "http://thief:pw@127.0.0.1:9/stolen?token=abc#frag",
                )],
                "",
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("redirected to http://127.0.0.1:9/stolen"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("token=abc") && !run.stderr.contains("pw@"),
        "{}",
        run.stderr
    );
}

// Silence and jobs that never end

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_times_out_with_exit_5() {
    let server = Hostile::start(|r| {
        r.target
            .starts_with("/api/v2/organizations/me")
            .then_some(Reply::Silent)
    })
    .await;
    let err = impatient(&server)
        .organization()
        .await
        .expect_err("timed out");
    assert_eq!(exit(&err), ExitStatus::Network);
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn a_body_trickled_forever_times_out_with_exit_5() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            Reply::Trickle(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"
                    .into(),
            )
        })
    })
    .await;
    let err = impatient(&server)
        .organization()
        .await
        .expect_err("timed out");
    assert_eq!(exit(&err), ExitStatus::Network);
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn a_long_retry_after_is_said_on_stderr_then_waited() {
    let count = Arc::new(Mutex::new(0u32));
    let c = count.clone();
    let server = Hostile::start(move |r| {
        if !r.target.starts_with("/api/v2/organizations/me") {
            return None;
        }
        let mut n = c.lock().expect("count");
        *n += 1;
        Some(if *n == 1 {
            json(
                429,
                &[("Retry-After", "2")],
                serde_json::json!({"message": "slow down", "code": "too.many.requests"}),
            )
        } else {
            org()
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("waiting 2 s before sending GET /api/v2/organizations/me again"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits("/api/v2/organizations/me"), 2);
}

/// Waits 500 ms for publish job `id`, which the server always says is in `status`: the
/// error (a timeout) and how many polls the server saw.
async fn job_stuck_at(id: &'static str, status: &'static str) -> (ClientError, usize) {
    let server = Hostile::start(move |r| {
        r.target
            .starts_with(&format!("/api/v2/flows/jobs/{id}"))
            .then(|| json(200, &[], serde_json::json!({"id": id, "status": status})))
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let err = client
        .wait_for_job(id, Duration::from_millis(500))
        .await
        .expect_err("never ends");
    (err, server.hits(&format!("/api/v2/flows/jobs/{id}")))
}

#[tokio::test]
async fn a_job_that_never_ends_times_out_with_exit_5_naming_the_job() {
    let (err, _) = job_stuck_at("job-9", "Started").await;
    assert_eq!(exit(&err), ExitStatus::Network);
    assert!(
        err.to_string()
            .contains("Architect job job-9 (last status 'Started')"),
        "{err}"
    );
}

#[tokio::test]
async fn a_job_status_flowctl_does_not_know_is_waited_on_and_named_at_the_timeout() {
    // An unknown status is not finished: waited on, polled again.
    let (err, polls) = job_stuck_at("job-7", "Queued").await;
    assert_eq!(exit(&err), ExitStatus::Network);
    assert!(
        err.to_string()
            .contains("Architect job job-7 (last status 'Queued')"),
        "{err}"
    );
    assert!(polls >= 2);
}

#[tokio::test]
async fn an_export_job_with_a_status_flowctl_does_not_know_times_out_naming_it() {
    let server = Hostile::start(|r| {
        if r.method == "POST" && r.target == "/api/v2/flows/export/jobs" {
            return Some(json(200, &[], serde_json::json!({"id": "exp-3"})));
        }
        r.target
            .starts_with("/api/v2/flows/export/jobs/exp-3")
            .then(|| {
                json(
                    200,
                    &[],
                    serde_json::json!({"id": "exp-3", "status": "Queued"}),
                )
            })
    })
    .await;
    let client = Client::new(&server.config()).expect("client");
    let target = flowctl::client::export::ExportTarget {
        id: "f-1".into(),
        name: "Main Menu".into(),
        flow_type: flowctl::models::FlowType::InboundCall,
        version: Some("2.0".into()),
    };
    let err = client
        .export_flows(&[target], Duration::from_millis(800))
        .await
        .expect_err("an unknown status is not finished");
    assert_eq!(exit(&err), ExitStatus::Network);
    assert!(
        err.to_string()
            .contains("export job exp-3 (last status Queued)"),
        "{err}"
    );
}

// Server text on the terminal

#[tokio::test]
async fn escape_sequences_in_a_server_message_never_reach_the_terminal() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            json(
                400,
                // (hyper itself refuses control characters in header values)
                &[("inin-correlation-id", "c-1")],
                serde_json::json!({
                    "message": "boom\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nflowctl: all good, 0 errors",
                    "code": "bad.request\u{1b}[0m",
                }),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    assert!(!run.stderr.contains('\u{7}') && !run.stderr.contains('\r'));
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.starts_with("flowctl: all good")),
        "{:?}",
        run.stderr
    );
    assert!(run.stderr.contains("\\u{1b}[2J"), "{:?}", run.stderr);
}

#[tokio::test]
async fn a_huge_server_message_is_cut_and_says_how_long_it_was() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            json(
                400,
                &[],
                serde_json::json!({"message": "x".repeat(100_000), "code": "bad.request"}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("(cut: 100000 characters in all, 2000 shown)"),
        "{}",
        run.stderr.len()
    );
    assert!(run.stderr.len() < 10_000, "{}", run.stderr.len());
}

#[tokio::test]
async fn control_characters_in_names_are_escaped_in_output() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            json(
                200,
                &[],
                serde_json::json!({"id": "org-1", "name": "Evil\u{1b}]0;title\u{7}\nforged: line"}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("forged")),
        "{:?}",
        run.stdout
    );
}

// One token for two processes

#[tokio::test]
async fn two_processes_sharing_a_cache_fetch_one_token() {
    let server = Hostile::start(|r| {
        r.target
            .starts_with("/oauth/token")
            .then(|| Reply::Later(Duration::from_millis(700), Box::new(token())))
            .or_else(|| r.target.starts_with("/api/v2/organizations/me").then(org))
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let env = [("FLOWCTL_NO_TOKEN_CACHE", "false")];
    let (a, b) = tokio::join!(
        server.flowctl_in(dir.path(), &["whoami"], &env),
        server.flowctl_in(dir.path(), &["whoami"], &env)
    );
    assert_eq!((a.code, b.code), (0, 0), "{}\n{}", a.stderr, b.stderr);
    assert_eq!(server.hits("/oauth/token"), 1, "one token for both runs");
}

// Files that are not files

#[tokio::test]
async fn devices_and_fifos_are_refused_quickly_naming_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("secret.fifo");
    #[cfg(unix)]
    {
        let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }
    let server = Hostile::start(|_| None).await;
    let fifo = fifo.to_string_lossy().to_string();
    for args in [
        vec!["whoami", "--client-secret-file", "/dev/zero"],
        vec!["whoami", "--client-secret-file", fifo.as_str()],
        vec!["lint", "/dev/zero"],
        vec!["create-shared", "--file", "/dev/zero", "--dry-run"],
        vec!["plan", "-f", "/dev/zero"],
        vec!["plan", "-f", fifo.as_str()],
    ] {
        let run = server.flowctl_in(dir.path(), &args, &[]).await;
        assert_ne!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a regular file")
                || run.stdout.contains("is not a regular file"),
            "{args:?}: {}{}",
            run.stdout,
            run.stderr
        );
    }
    // A `.env` that is a device.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(".env")).expect("link");
        let run = server.flowctl_in(dir.path(), &["whoami"], &[]).await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(".env is not a regular file"),
            "{}",
            run.stderr
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

// An operator's safety: a malformed token, one deadline per request, a refused connection

#[tokio::test]
async fn a_token_with_a_line_break_is_exit_3_at_once_not_retried() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/oauth/token").then(|| {
            json(
                200,
                &[],
                serde_json::json!({"access_token": "abc\r\nX-Injected: 1", "token_type": "bearer", "expires_in": 86399}),
            )
        })
    })
    .await;
    let run = server.flowctl(&["whoami"], &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("access_token"), "{}", run.stderr);
    assert!(!run.stderr.contains("X-Injected"), "{}", run.stderr);
    assert_eq!(server.hits("/oauth/token"), 1, "not retried");
    assert_eq!(server.hits("/api/v2"), 0, "nothing sent with it");
}

#[tokio::test]
async fn a_refused_presigned_url_is_exit_4_from_the_command_line_too() {
    let server = Hostile::start(|r| {
        if r.method == "POST" && r.target == "/api/v2/flows/jobs" {
            return Some(json(
                200,
                &[],
                serde_json::json!({"id": "job-1", "presignedUrl": "http://uploads.example.test/k?X-Amz-Signature=s", "headers": {}}),
            ));
        }
        if r.target.starts_with("/api/v2/authorization/divisions") {
            return Some(json(200, &[], serde_json::json!({"entities": [{"id": "d1", "name": "Home"}], "pageCount": 1})));
        }
        if r.target.starts_with("/api/v2/flows") {
            return Some(json(200, &[], serde_json::json!({"entities": [], "pageCount": 1})));
        }
        None
    })
    .await;
    let run = server
        .flowctl(&["create-shared", "--name", "X", "--no-drift"], &[])
        .await;
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("refusing the presigned upload URL"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_request_has_one_deadline_across_its_attempts() {
    let server = Hostile::start(|r| {
        r.target.starts_with("/api/v2/organizations/me").then(|| {
            Reply::Trickle(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"
                    .into(),
            )
        })
    })
    .await;
    // Each attempt alone could take a minute; the request as a whole gets one second.
    let mut config = server.config();
    config.request_deadline = Duration::from_secs(1);
    let client = Client::with_settings(
        &config,
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(30),
            total: Duration::from_secs(60),
        },
        RetryPolicy::default(),
    )
    .expect("client");
    let err = client.organization().await.expect_err("deadline");
    assert_eq!(exit(&err), ExitStatus::Network);
    let text = err.to_string();
    assert!(text.contains("deadline of 1 s"), "{text}");
    assert!(text.contains("FLOWCTL_REQUEST_TIMEOUT"), "{text}");
}

#[tokio::test]
async fn the_request_deadline_is_settable_and_checked() {
    let server = Hostile::start(|_| None).await;
    let run = server
        .flowctl(&["whoami"], &[("FLOWCTL_REQUEST_TIMEOUT", "0")])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("FLOWCTL_REQUEST_TIMEOUT"),
        "{}",
        run.stderr
    );
    let run = server
        .flowctl(&["whoami"], &[("FLOWCTL_REQUEST_TIMEOUT", "soon")])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[tokio::test]
async fn a_host_that_refuses_connections_fails_after_three_tries() {
    // A port nobody listens on: bind, note it, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dir = tempfile::tempdir().expect("dir");
    let run = common::run_in(
        dir.path(),
        &["whoami"],
        vec![
            (
                "GENESYS_API_BASE_URL".into(),
                format!("http://127.0.0.1:{port}"),
            ),
            ("GENESYS_CLIENT_ID".into(), ID.into()),
            ("GENESYS_CLIENT_SECRET".into(), SECRET.into()),
            ("FLOWCTL_NO_TOKEN_CACHE".into(), "1".into()),
        ],
    )
    .await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("gave up after 3 attempts"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
}

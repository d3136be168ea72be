//! The API client against a mock server: auth, the token cache, retries, pagination,
//! uploads and error mapping.

use flowctl::client::{Client, ClientError};
use flowctl::config::Config;
use flowctl::models::JobRegistration;
use std::collections::BTreeMap;
use wiremock::matchers::{body_string, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SECRET: &str = "client-secret-value-123";

fn config(server: &MockServer, cache: Option<&std::path::Path>) -> Config {
    Config::for_emulator(
        &server.uri(),
        "client-id",
        SECRET,
        cache.map(|p| p.to_path_buf()),
    )
}

async fn token_mock(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("grant_type=client_credentials"))
        // base64("client-id:client-secret-value-123")
        .and(header(
            "authorization",
            "Basic Y2xpZW50LWlkOmNsaWVudC1zZWNyZXQtdmFsdWUtMTIz",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "the-access-token", "token_type": "bearer", "expires_in": 86399
        })))
        .expect(expect)
        .mount(server)
        .await;
}

fn org() -> serde_json::Value {
    serde_json::json!({"id": "org-1", "name": "Org"})
}

#[tokio::test]
async fn the_token_is_fetched_once_and_reused_by_a_second_client_through_the_cache() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/organizations/me"))
        .and(header("authorization", "Bearer the-access-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(org()))
        .expect(2)
        .mount(&server)
        .await;
    let cache = tempfile::tempdir().expect("dir");
    let first = Client::new(&config(&server, Some(cache.path()))).expect("client");
    first.organization().await.expect("first");
    // A second process: a new client with an empty memory, the same cache.
    let second = Client::new(&config(&server, Some(cache.path()))).expect("client");
    second.organization().await.expect("second");

    let files: Vec<_> = std::fs::read_dir(cache.path())
        .expect("cache")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).expect("read");
    assert!(!text.contains(SECRET), "the cache never holds the secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = files[0].metadata().expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test]
async fn a_corrupt_cache_is_tolerated_and_rewritten() {
    let server = MockServer::start().await;
    token_mock(&server, 2).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(org()))
        .mount(&server)
        .await;
    let cache = tempfile::tempdir().expect("dir");
    Client::new(&config(&server, Some(cache.path())))
        .expect("client")
        .organization()
        .await
        .expect("ok");
    let file = std::fs::read_dir(cache.path())
        .expect("dir")
        .flatten()
        .next()
        .expect("file")
        .path();
    std::fs::write(&file, "{corrupt").expect("corrupt");
    Client::new(&config(&server, Some(cache.path())))
        .expect("client")
        .organization()
        .await
        .expect("still ok");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_ok(),
        "rewritten: {text}"
    );
}

/// Answers with each template in turn, then the last one forever.
struct Sequence(std::sync::Mutex<Vec<ResponseTemplate>>);

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut v = self.0.lock().expect("lock");
        if v.len() > 1 {
            v.remove(0)
        } else {
            v[0].clone()
        }
    }
}

fn seq(items: Vec<ResponseTemplate>) -> Sequence {
    Sequence(std::sync::Mutex::new(items))
}

/// Answers like [`Sequence`] and notes when each request arrived.
struct Timed(
    Sequence,
    std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
);

impl Respond for Timed {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        self.1.lock().expect("lock").push(std::time::Instant::now());
        self.0.respond(r)
    }
}

#[tokio::test]
async fn a_429_then_200_waits_for_retry_after_and_succeeds() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(Timed(
            seq(vec![
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(serde_json::json!({"message": "Rate limit exceeded the maximum. Retry the request in [1] seconds", "code": "too.many.requests", "status": 429})),
                ResponseTemplate::new(200).set_body_json(org()),
            ]),
            arrivals.clone(),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    assert_eq!(client.organization().await.expect("ok").name, "Org");
    // The retry came after the second the server asked for, not before.
    let at = arrivals.lock().expect("lock").clone();
    assert_eq!(at.len(), 2);
    assert!(
        at[1].duration_since(at[0]) >= std::time::Duration::from_secs(1),
        "retried after {:?}, before the Retry-After of 1 s",
        at[1].duration_since(at[0])
    );
}

#[tokio::test]
async fn a_503_is_retried() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(seq(vec![
            ResponseTemplate::new(503),
            ResponseTemplate::new(200).set_body_json(org()),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    client.organization().await.expect("retried to success");
}

#[tokio::test]
async fn a_400_is_not_retried_and_keeps_code_and_context_id() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "message": "The request could not be understood", "code": "bad.request", "status": 400, "contextId": "ctx-1234"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let err = client.organization().await.expect_err("400");
    let ClientError::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (api.status, api.code.as_str(), api.context_id.as_deref()),
        (400, "bad.request", Some("ctx-1234"))
    );
    assert!(err.to_string().contains("ctx-1234"));
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_a_second_401_is_an_auth_failure() {
    let server = MockServer::start().await;
    token_mock(&server, 2).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(seq(vec![
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"message": "expired", "code": "credentials.expired", "status": 401})),
            ResponseTemplate::new(200).set_body_json(org()),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    client.organization().await.expect("refreshed");

    let server = MockServer::start().await;
    token_mock(&server, 2).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"message": "no", "code": "bad.credentials", "status": 401}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let err = client.organization().await.expect_err("401 twice");
    assert_eq!(
        flowctl::Error::from(err).exit_status(),
        flowctl::ExitStatus::AuthFailed
    );
}

#[tokio::test]
async fn bad_credentials_name_the_login_url() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let err = client.authenticate().await.expect_err("bad");
    let text = err.to_string();
    assert!(
        text.contains("invalid_client") && text.contains(&server.uri()),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    assert_eq!(
        flowctl::Error::from(err).exit_status(),
        flowctl::ExitStatus::AuthFailed
    );
}

#[tokio::test]
async fn an_upload_whose_answer_was_lost_is_not_sent_again_when_the_job_has_its_content() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(method("PUT"))
        .and(path("/upload/job-1"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/flows/jobs/job-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "job-1", "status": "Started"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let job = JobRegistration {
        id: "job-1".into(),
        presigned_url: format!("{}/upload/job-1?X-Amz-Signature=s", server.uri()),
        headers: Default::default(),
        self_uri: None,
    };
    client
        .upload_job_content(&job, "commonModule: {}")
        .await
        .expect("the job already has its content");
}

#[tokio::test]
async fn a_500_is_retried_like_502_to_504() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "o", "name": "Org"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    assert_eq!(client.organization().await.expect("retried").name, "Org");
}

#[tokio::test]
async fn a_delete_answering_409_is_retried_until_it_succeeds() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/flows/f-1"))
        .respond_with(ResponseTemplate::new(409).set_body_json(serde_json::json!({
            "message": "busy", "code": "general.conflict", "status": 409
        })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/flows/f-1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    client
        .delete_flow("f-1")
        .await
        .expect("deleted after the conflict passed");
}

#[tokio::test]
async fn a_read_right_after_a_write_waits_out_a_404() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/flows/f-1"))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/flows/f-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "f-1", "name": "My Flow", "type": "INBOUNDCALL"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let flow = client.get_flow_after_write("f-1").await.expect("read");
    assert_eq!(flow.map(|f| f.name).as_deref(), Some("My Flow"));
    // A plain read takes the 404 as "absent" at once.
    Mock::given(method("GET"))
        .and(path("/api/v2/flows/f-2"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    assert!(client.get_flow("f-2").await.expect("answer").is_none());
}

#[tokio::test]
async fn paging_reads_every_page_and_filters_exact_names() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    for page in 1..=3 {
        let entities: Vec<_> = (0..if page < 3 { 100 } else { 7 })
            .map(|i| serde_json::json!({"id": format!("q{page}-{i}"), "name": format!("Queue {page}-{i}")}))
            .collect();
        Mock::given(path("/api/v2/routing/queues"))
            .and(query_param("pageNumber", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "entities": entities, "pageSize": 100, "pageNumber": page, "total": 207, "pageCount": 3
            })))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = Client::new(&config(&server, None)).expect("client");
    assert_eq!(client.list_queues().await.expect("all").len(), 207);
}

#[tokio::test]
async fn the_upload_sends_the_presigned_headers_and_no_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/upload/job-1"))
        .and(header("x-amz-server-side-encryption", "AES256"))
        .and(body_string("commonModule: {}"))
        .respond_with(|req: &Request| {
            if req.headers.get("authorization").is_some() {
                ResponseTemplate::new(400)
            } else {
                ResponseTemplate::new(200)
            }
        })
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let job = JobRegistration {
        id: "job-1".into(),
        presigned_url: format!("{}/upload/job-1?X-Amz-Signature=abc", server.uri()),
        headers: BTreeMap::from([(
            "x-amz-server-side-encryption".to_string(),
            "AES256".to_string(),
        )]),
        self_uri: None,
    };
    client
        .upload_job_content(&job, "commonModule: {}")
        .await
        .expect("uploaded");
}

#[tokio::test]
async fn non_json_error_bodies_and_garbage_retry_after_do_not_panic() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(
            // 501: not retried (500 is, as the SDKs do), so the body is what comes back.
            ResponseTemplate::new(501)
                .set_body_string("<html>upstream exploded</html>")
                .insert_header("Retry-After", "later"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&config(&server, None)).expect("client");
    let err = client.organization().await.expect_err("501");
    assert!(err.to_string().contains("upstream exploded"), "{err}");
}

#[tokio::test]
async fn every_api_request_carries_the_bearer_token() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(path("/api/v2/organizations/me"))
        .and(header_exists("authorization"))
        .and(header("authorization", "Bearer the-access-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(org()))
        .expect(1)
        .mount(&server)
        .await;
    Client::new(&config(&server, None))
        .expect("client")
        .organization()
        .await
        .expect("ok");
}

/// A client that gives up after 3 sends, 1 ms apart.
fn quick_to_give_up(server: &MockServer) -> Client {
    Client::with_settings(
        &config(server, None),
        flowctl::client::Timeouts::default(),
        flowctl::client::retry::RetryPolicy {
            max_attempts: 3,
            max_elapsed: std::time::Duration::from_secs(60),
            base: std::time::Duration::from_millis(1),
            cap: std::time::Duration::from_millis(1),
            max_retry_after: std::time::Duration::from_secs(180),
        },
    )
    .expect("client")
}

/// `{what}: gave up after 3 attempts over T s: {last}`, with T a number of seconds.
fn assert_gave_up_after_3(text: &str, what: &str, last: &str) {
    let Some(rest) = text.strip_prefix(&format!("{what}: gave up after 3 attempts over ")) else {
        panic!("{text}")
    };
    let (secs, said) = rest.split_once(" s: ").unwrap_or_default();
    assert!(secs.parse::<f64>().is_ok(), "{text}");
    assert!(said.starts_with(last), "{text}");
}

#[tokio::test]
async fn an_api_503_every_time_gives_up_naming_the_request_the_attempts_and_the_time() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(path("/api/v2/organizations/me"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let err = quick_to_give_up(&server)
        .organization()
        .await
        .expect_err("503 every time");
    assert_gave_up_after_3(
        &err.to_string(),
        "GET /api/v2/organizations/me",
        "503: Service Unavailable",
    );
    let err = flowctl::Error::from(err);
    assert_eq!(err.exit_status(), flowctl::ExitStatus::Network);
    assert!(err.hint().is_some_and(|h| h.contains("check the network")));
}

#[tokio::test]
async fn a_login_service_answering_503_every_time_gives_up_and_stays_an_auth_failure() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let err = quick_to_give_up(&server)
        .authenticate()
        .await
        .expect_err("503 every time");
    let text = err.to_string();
    assert_gave_up_after_3(
        &text,
        &format!("POST {}/oauth/token", server.uri()),
        "authentication failed",
    );
    assert!(!text.contains(SECRET), "{text}");
    let err = flowctl::Error::from(err);
    assert_eq!(err.exit_status(), flowctl::ExitStatus::AuthFailed);
    assert!(err.hint().is_some_and(|h| h.contains("GENESYS_CLIENT_ID")));
}

#[tokio::test]
async fn an_upload_refused_with_503_every_time_gives_up_without_showing_the_signature() {
    let server = MockServer::start().await;
    token_mock(&server, 1).await;
    Mock::given(method("PUT"))
        .and(path("/upload/job-1"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    // Between tries the job is read: still Registered, so the upload is sent again.
    Mock::given(method("GET"))
        .and(path("/api/v2/flows/jobs/job-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "job-1", "status": "Registered"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let job = JobRegistration {
        id: "job-1".into(),
        presigned_url: format!("{}/upload/job-1?X-Amz-Signature=s", server.uri()),
        headers: Default::default(),
        self_uri: None,
    };
    let err = quick_to_give_up(&server)
        .upload_job_content(&job, "commonModule: {}")
        .await
        .expect_err("503 every time");
    let text = err.to_string();
    assert_gave_up_after_3(&text, &format!("PUT {}/upload/job-1", server.uri()), "503");
    assert!(!text.contains("X-Amz-Signature"), "{text}");
    assert_eq!(
        flowctl::Error::from(err).exit_status(),
        flowctl::ExitStatus::Network
    );
}

//! The Genesys Cloud Platform API client.
//!
//! Every request goes through [`Client::send`]: it waits for the shared pacer, attaches the
//! token, maps any non-2xx answer to [`ApiError`] (status, code, message, contextId,
//! correlation id), refreshes the token once on a 401, and retries what the official SDKs
//! retry (see [`retry`]). Typed verbs live in [`verbs`].

mod auth;
mod error;
mod journal;
mod pacer;
mod polling;
pub mod retry;
mod verbs;

pub use error::{ApiError, ClientError};

use crate::config::Config;
use crate::models::{EntityListing, ErrorBody};
use auth::Auth;
use pacer::Pacer;
use reqwest::Method;
use retry::{parse_retry_after, Decision, RetryPolicy};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

pub type ClientResult<T> = Result<T, ClientError>;

/// Most pages read from one listing, against a runaway server.
const MAX_PAGES: u32 = 1000;
/// The largest page the flow and queue listings serve.
const PAGE_SIZE: u32 = 100;

/// A cheap-to-clone handle: clones share one token, one pacer and one connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    client_id: String,
    api_base: Url,
    auth: Auth,
    pacer: Pacer,
    policy: RetryPolicy,
    jobs: polling::JobClock,
    /// Jobs in flight, beside the token cache (none without one).
    journal: Option<journal::Journal>,
}

/// Whether a request may be sent again after an ambiguous failure (connection dropped,
/// 5xx): reads and uploads may; a create may not (it is looked up first instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    Safe,
    /// For a request that must not be sent twice. Since flows are no longer pre-created
    /// (the Architect job creates them), no verb needs it; kept so the next one can.
    #[allow(dead_code)]
    OnlyAfter429,
}

impl Client {
    /// Builds a client; does not contact the network.
    pub fn new(config: &Config) -> ClientResult<Client> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("flowctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .https_only(false)
            .build()
            .map_err(|e| ClientError::Network {
                method: "-".into(),
                url: config.api_base.to_string(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                client_id: config.client_id.clone(),
                api_base: config.api_base.clone(),
                auth: Auth::new(
                    config.login_base.clone(),
                    config.client_id.clone(),
                    config.client_secret.clone(),
                    config.token_cache_dir.as_deref(),
                ),
                pacer: Pacer::default(),
                jobs: polling::JobClock::default(),
                journal: config.token_cache_dir.as_deref().map(|dir| {
                    journal::Journal::new(dir, config.api_base.as_str(), &config.client_id)
                }),
                policy: RetryPolicy::default(),
            }),
        })
    }

    /// Fetches (or loads from the cache) a token now, so auth errors surface first.
    pub async fn authenticate(&self) -> ClientResult<()> {
        self.inner
            .auth
            .token(&self.inner.http, &self.inner.policy)
            .await
            .map(|_| ())
    }

    /// `/api/v2/...` from path segments, each percent-encoded.
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.inner.api_base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            for s in segments {
                path.push(s);
            }
        }
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        url
    }

    /// Sends one API request through the one path: pacing, token, retries, error mapping.
    /// Returns the body of a 2xx answer.
    pub(crate) async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        resend: Resend,
    ) -> ClientResult<bytes_body::Body> {
        let inner = &*self.inner;
        let url = self.url(segments, query);
        let path = url.path().to_string();
        let start = Instant::now();
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            inner.pacer.wait().await;
            let token = inner.auth.token(&inner.http, &inner.policy).await?;
            let mut req = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let (err, retry_after) = match req.send().await {
                Err(e) => (
                    ClientError::Network {
                        method: method.to_string(),
                        url: format!("{}{}", url.origin().ascii_serialization(), path),
                        message: auth::describe(&e),
                    },
                    None,
                ),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                    };
                    let number =
                        |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
                    inner.pacer.observe(
                        number("inin-ratelimit-allowed"),
                        number("inin-ratelimit-count"),
                        number("inin-ratelimit-reset"),
                    );
                    let correlation_id = header("inin-correlation-id");
                    let retry_after = parse_retry_after(header("retry-after").as_deref());
                    let read = resp.bytes().await;
                    tracing::debug!(
                        method = %method,
                        path = %path,
                        status,
                        attempt,
                        correlation_id = correlation_id.as_deref().unwrap_or(""),
                        "api request"
                    );
                    match read {
                        Err(e) => (
                            ClientError::Network {
                                method: method.to_string(),
                                url: path.clone(),
                                message: auth::describe(&e),
                            },
                            None,
                        ),
                        Ok(bytes) if (200..300).contains(&status) => {
                            return Ok(bytes_body::Body {
                                method: method.to_string(),
                                path,
                                bytes: bytes.to_vec(),
                            })
                        }
                        Ok(bytes) => {
                            if status == 401 && !refreshed {
                                // The token was revoked or expired early: drop it, fetch a
                                // new one once, and send again once.
                                refreshed = true;
                                attempt -= 1;
                                inner.auth.invalidate(&token).await;
                                continue;
                            }
                            if status == 429 {
                                inner
                                    .pacer
                                    .block(retry_after.unwrap_or(Duration::from_secs(1)));
                            }
                            (
                                api_error(
                                    &method,
                                    &path,
                                    status,
                                    &bytes,
                                    correlation_id,
                                    retry_after,
                                ),
                                retry_after,
                            )
                        }
                    }
                }
            };
            let is_429 = err.status() == Some(429);
            let retryable = err.is_retryable() && (resend == Resend::Safe || is_429);
            match inner.policy.decide(
                attempt,
                retryable,
                retry_after,
                start.elapsed(),
                rand::random::<f64>(),
            ) {
                Decision::RetryAfter(wait) => {
                    tracing::info!(method = %method, path = %path, attempt, wait_ms = wait.as_millis() as u64, "retrying: {err}");
                    let why = if is_429 {
                        "a rate limit (429)"
                    } else {
                        "a failed attempt"
                    };
                    crate::progress::sleep(
                        format!("{method} {path} to be retried after {why}"),
                        wait,
                    )
                    .await;
                }
                Decision::GiveUp if retryable && attempt > 1 => {
                    return Err(ClientError::RetriesExhausted {
                        method: method.to_string(),
                        path,
                        attempts: attempt,
                        elapsed: start.elapsed(),
                        last: Box::new(err),
                    })
                }
                Decision::GiveUp => return Err(err),
            }
        }
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> ClientResult<T> {
        self.send(Method::GET, segments, query, None, Resend::Safe)
            .await?
            .json()
    }

    /// Reads every page of a listing (`pageNumber` 1..`pageCount`).
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> ClientResult<Vec<T>> {
        let mut all = Vec::new();
        let mut page = 1u32;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("pageSize", PAGE_SIZE.to_string()));
            q.push(("pageNumber", page.to_string()));
            let listing: EntityListing<T> = self.get(segments, &q).await?;
            let count = listing.entities.len();
            all.extend(listing.entities);
            let last = listing.page_count.unwrap_or(page);
            if count == 0 || page >= last || page >= MAX_PAGES {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// The OAuth client id this client authenticates as: a flow locked by it is ours.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The HTTP client, for presigned uploads (which must not carry the token).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn policy(&self) -> RetryPolicy {
        self.inner.policy
    }

    pub(crate) fn job_clock(&self) -> &polling::JobClock {
        &self.inner.jobs
    }

    pub(crate) fn journal(&self) -> Option<&journal::Journal> {
        self.inner.journal.as_ref()
    }
}

/// Maps a non-2xx answer to [`ApiError`], tolerating bodies that are not the Genesys shape.
fn api_error(
    method: &Method,
    path: &str,
    status: u16,
    bytes: &[u8],
    correlation_id: Option<String>,
    retry_after: Option<Duration>,
) -> ClientError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(bytes).ok();
    let (code, message, context_id) = match &parsed {
        Some(b) if !b.message.is_empty() || !b.code.is_empty() => (
            b.code.clone(),
            if b.message.is_empty() {
                b.code.clone()
            } else {
                b.message.clone()
            },
            b.context_id.clone(),
        ),
        _ => (
            String::new(),
            format!(
                "{} ({})",
                reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("error"),
                auth::excerpt(bytes)
            ),
            None,
        ),
    };
    ClientError::from(ApiError {
        method: method.to_string(),
        path: path.to_string(),
        status,
        code,
        message,
        context_id,
        correlation_id,
        retry_after: retry_after.map(|d| d.as_secs()),
        body: parsed,
    })
}

/// A 2xx body, decoded on demand with errors that name the endpoint.
pub(crate) mod bytes_body {
    use super::{ClientError, ClientResult};
    use serde::de::DeserializeOwned;

    pub struct Body {
        pub method: String,
        pub path: String,
        pub bytes: Vec<u8>,
    }

    impl Body {
        pub fn json<T: DeserializeOwned>(&self) -> ClientResult<T> {
            let bytes: &[u8] = if self.bytes.iter().all(u8::is_ascii_whitespace) {
                b"null"
            } else {
                &self.bytes
            };
            serde_json::from_slice(bytes).map_err(|e| ClientError::Decode {
                method: self.method.clone(),
                path: self.path.clone(),
                message: format!(
                    "{e} (body starts: {})",
                    super::auth::excerpt(&self.bytes[..self.bytes.len().min(120)])
                ),
            })
        }
    }
}

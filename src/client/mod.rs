//! The Genesys Cloud Platform API client.
//!
//! Every request goes through `Client::send`: it waits for the shared pacer, attaches the
//! token, maps any non-2xx answer to [`ApiError`] (status, code, message, contextId,
//! correlation id), refreshes the token once on a 401, and retries what the official SDKs
//! retry (see [`retry`]). Typed verbs live in `verbs`.
//!
//! Nothing a server sends is trusted: headers become bounded numbers ([`Answer`]), bodies
//! are read up to [`MAX_BODY`] / [`MAX_SMALL_BODY`], a stalled answer times out
//! ([`Timeouts`]), redirects are reported and not followed, listings must carry `entities`,
//! every URL (the presigned upload URL too) is https or loopback without user info
//! ([`check_url`]), and text quoted in errors is escaped and cut
//! ([`crate::output::sanitize`]). `tests/hostile.rs` and `tests/fuzz.rs` hold the cases.

pub(crate) use crate::output::shown_url;

mod auth;
mod error;
pub mod export;
mod journal;
mod pacer;
mod polling;
mod private_file;
pub mod retry;
mod run_lock;
mod verbs;

pub use auth::parse_token_answer;
pub use error::{ApiError, ClientError};

use crate::config::Config;
use crate::models::ErrorBody;
use crate::output::{sanitize, MAX_MESSAGE};
use auth::Auth;
pub(crate) use pacer::RateHeaders;
use pacer::{Pacer, MAX_RESET};
use reqwest::Method;
use retry::{parse_retry_after, Failure, RetryPolicy, Schedule, Step, Verdict};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use url::Url;
pub(crate) use verbs::killed_by_rate_limit;

pub(crate) type ClientResult<T> = Result<T, ClientError>;

/// Most pages read from one listing, against a runaway server.
const MAX_PAGES: u32 = 1000;
/// The largest page the flow and queue listings serve.
const PAGE_SIZE: u32 = 100;

/// The most read of a 2xx answer: far above any real one (a page of 100 flows is about
/// 100 KB). A longer body is not read on: the answer is refused.
pub(crate) const MAX_BODY: usize = 32 << 20;
/// The most read of all the pages of one listing together (1000 pages of 32 MiB would
/// otherwise be 32 GB).
pub(crate) const MAX_LISTING: usize = 64 << 20;
/// The most read of an error body or a token answer (real ones are a few hundred bytes).
pub(crate) const MAX_SMALL_BODY: usize = 1 << 20;

/// Timeouts of every request: to connect, between two reads of the answer (a server that
/// accepts and never answers, or trickles a body), and for the whole exchange.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

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
    /// The most one request may take across its attempts ([`Config::request_deadline`]).
    deadline: Duration,
    /// The most one exchange (one attempt) may take ([`Timeouts::total`]).
    exchange_limit: Duration,
    /// The lock of changes to this org by this client, beside the token cache.
    run_lock: Option<std::path::PathBuf>,
}

/// One request as every attempt sends it.
#[derive(Clone, Copy)]
struct Outgoing<'a> {
    method: &'a Method,
    url: &'a Url,
    body: Option<&'a serde_json::Value>,
    resend: Resend,
}

/// What the attempts of one request share.
struct RequestState {
    /// The token is refreshed once per request, not once per try.
    refreshed: AtomicBool,
    spent: std::sync::Mutex<Spent>,
}

/// What one request has spent of its deadline: its exchanges with the server and the
/// backoff waits after their failures. Waits for the rate limit (the pacer, a 429's
/// `Retry-After`) are the org's, shared by every request, and are not counted.
struct Spent {
    start: tokio::time::Instant,
    spent: Duration,
    /// When the last attempt ended, and whether it ended in a 429.
    last: Option<(tokio::time::Instant, bool)>,
}

impl Spent {
    fn new() -> Spent {
        Spent {
            start: tokio::time::Instant::now(),
            spent: Duration::ZERO,
            last: None,
        }
    }
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
        Client::with_timeouts(config, Timeouts::default())
    }

    /// [`Client::new`] with other timeouts (tests of servers that never answer).
    pub(crate) fn with_timeouts(config: &Config, timeouts: Timeouts) -> ClientResult<Client> {
        Client::with_settings(config, timeouts, RetryPolicy::default())
    }

    /// [`Client::new`] with other timeouts and retry policy (tests).
    pub fn with_settings(
        config: &Config,
        timeouts: Timeouts,
        policy: RetryPolicy,
    ) -> ClientResult<Client> {
        check_url("API base URL", &config.api_base)?;
        check_url("login base URL", &config.login_base)?;
        let deadline = config.request_deadline.max(Duration::from_millis(1));
        // No backoff is started that would end past the request's deadline.
        let policy = RetryPolicy {
            max_elapsed: policy.max_elapsed.min(deadline),
            ..policy
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("flowctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .timeout(timeouts.total)
            .https_only(false)
            // Genesys answers directly (unverified: no source shows it redirecting); a
            // redirect is shown as the error it is, never followed to a host nobody chose.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Network {
                method: "-".into(),
                url: config.api_base.to_string(),
                message: format!("cannot build the HTTP client: {e}"),
                connect: false,
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
                policy,
                deadline,
                exchange_limit: timeouts.total,
                run_lock: config.token_cache_dir.as_deref().map(|dir| {
                    run_lock::lock_path(dir, config.api_base.as_str(), &config.client_id)
                }),
            }),
        })
    }

    /// Takes the lock on changing this org with this OAuth client from this machine
    /// (`command` names the run in the next one's message), waiting while another run
    /// holds it. `None` without a token cache. A wait past an hour is exit 5.
    pub(crate) async fn lock_org(&self, command: &str) -> ClientResult<Option<run_lock::RunLock>> {
        let Some(path) = &self.inner.run_lock else {
            return Ok(None);
        };
        let who = format!(
            "{} with OAuth client {}",
            shown_url(self.inner.api_base.as_str()),
            self.inner.client_id
        );
        run_lock::acquire(path, command, &who, run_lock::LOCK_WAIT)
            .await
            .map_err(|message| ClientError::Timeout {
                what: message,
                after: run_lock::LOCK_WAIT,
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
        let url = self.url(segments, query);
        let path = url.path().to_string();
        let what = format!("{method} {path}");
        let waiting_for = format!("{what} to be sent again");
        let state = RequestState {
            refreshed: AtomicBool::new(false),
            spent: std::sync::Mutex::new(Spent::new()),
        };
        let task = retry::Task {
            what: &what,
            waiting_for: &waiting_for,
        };
        retry::run(Schedule::Backoff(self.inner.policy), task, |attempt| {
            let outgoing = Outgoing {
                method: &method,
                url: &url,
                body,
                resend,
            };
            self.send_once(outgoing, attempt, &state)
        })
        .await
        .map_err(|g| g.into_client_error(method.as_str(), &path))
    }

    /// The error of a request whose deadline ran out.
    fn past_deadline(&self, what: &str) -> ClientError {
        ClientError::Timeout {
            what: format!(
                "{what} (the deadline of {} s for one request across its attempts; {} sets it)",
                self.inner.deadline.as_secs(),
                crate::cli::env::REQUEST_TIMEOUT
            ),
            after: self.inner.deadline,
        }
    }

    /// One try of [`Client::send`] (with the one token refresh a 401 gets): the answer, or
    /// whether its failure is worth another try.
    async fn send_once(
        &self,
        outgoing: Outgoing<'_>,
        attempt: u32,
        state: &RequestState,
    ) -> Step<bytes_body::Body, ClientError> {
        let Outgoing { method, url, .. } = outgoing;
        let step = self.send_attempt(outgoing, attempt, state).await;
        let Ok(mut s) = state.spent.lock() else {
            return step;
        };
        let now = tokio::time::Instant::now();
        let was_429 = matches!(&step, Step::Retry { err, .. } if err.status() == Some(429));
        s.last = Some((now, was_429));
        match step {
            Step::Retry { .. } if s.spent >= self.inner.deadline => {
                Step::Fail(self.past_deadline(&format!("{method} {}", url.path())))
            }
            other => other,
        }
    }

    /// One attempt of [`Client::send_once`], within what is left of the request's deadline.
    async fn send_attempt(
        &self,
        outgoing: Outgoing<'_>,
        attempt: u32,
        state: &RequestState,
    ) -> Step<bytes_body::Body, ClientError> {
        let Outgoing {
            method,
            url,
            body,
            resend,
        } = outgoing;
        let (refreshed, spent) = (&state.refreshed, &state.spent);
        let inner = &*self.inner;
        let path = url.path().to_string();
        // The backoff after the last failure counts; a wait for the rate limit does not.
        if let Ok(mut s) = spent.lock() {
            if let Some((ended, false)) = s.last.take() {
                let gap = tokio::time::Instant::now().duration_since(ended);
                s.spent = s.spent.saturating_add(gap);
            }
        }
        loop {
            let token = match inner.auth.token(&inner.http, &inner.policy).await {
                Ok(t) => t,
                Err(e) => return Step::Fail(e),
            };
            // The slot is reserved before the request goes, and freed by its answer.
            if let Err(too_long) = inner.pacer.wait().await {
                return Step::Fail(ClientError::AbsurdWait {
                    method: method.to_string(),
                    path,
                    header: "inin-ratelimit-reset with the window spent",
                    asked_secs: too_long.asked.as_secs(),
                    cap_secs: MAX_RESET.as_secs(),
                    said: None,
                });
            }
            let left = spent
                .lock()
                .map(|s| inner.deadline.saturating_sub(s.spent))
                .unwrap_or(inner.deadline);
            if left.is_zero() {
                inner.pacer.no_answer();
                return Step::Fail(self.past_deadline(&format!("{method} {path}")));
            }
            let mut req = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                // From connecting to the body's last byte: the whole exchange, at most
                // what is left of the request's deadline.
                .timeout(left.min(inner.exchange_limit));
            if let Some(b) = body {
                req = req.json(b);
            }
            let exchange = tokio::time::Instant::now();
            let sent = req.send().await;
            let count = |spent: &std::sync::Mutex<Spent>| {
                if let Ok(mut s) = spent.lock() {
                    s.spent = s.spent.saturating_add(exchange.elapsed());
                }
            };
            let sent = match sent {
                Ok(resp) => Ok(resp),
                Err(e) => {
                    count(spent);
                    Err(e)
                }
            };
            let (err, failure) = match sent {
                Err(e) => {
                    inner.pacer.no_answer();
                    if is_malformed(&e) {
                        // Not a dropped connection: the server sent something that is
                        // not HTTP.
                        let message = format!(
                            "the server's answer is not valid HTTP ({})",
                            auth::describe(&e)
                        );
                        let err = ClientError::Decode {
                            method: method.to_string(),
                            path: path.clone(),
                            message,
                        };
                        (err, Failure::Malformed)
                    } else {
                        let err = ClientError::Network {
                            method: method.to_string(),
                            url: format!("{}{}", url.origin().ascii_serialization(), path),
                            message: auth::describe(&e),
                            connect: e.is_connect(),
                        };
                        let connect = e.is_connect();
                        (err, Failure::Network { connect })
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let answer = Answer::read(&headers);
                    inner.pacer.observe(exchange, answer.rate);
                    let limit = if (200..300).contains(&status) {
                        MAX_BODY
                    } else {
                        MAX_SMALL_BODY
                    };
                    let read = read_bounded(resp, limit).await;
                    count(spent);
                    tracing::debug!(
                        method = %method,
                        path = %path,
                        status,
                        attempt,
                        correlation_id = answer.correlation_id.as_deref().unwrap_or(""),
                        "api request"
                    );
                    match read {
                        Err(e) => (
                            ClientError::Network {
                                method: method.to_string(),
                                url: path.clone(),
                                message: auth::describe(&e),
                                connect: false,
                            },
                            Failure::BodyCut,
                        ),
                        Ok(bounded) if (200..300).contains(&status) => {
                            if bounded.truncated {
                                return Step::Fail(ClientError::Decode {
                                    method: method.to_string(),
                                    path,
                                    message: format!(
                                        "the answer is larger than {} MiB, far more than any real answer; flowctl read no further",
                                        MAX_BODY >> 20
                                    ),
                                });
                            }
                            return Step::Done(bytes_body::Body {
                                method: method.to_string(),
                                path,
                                bytes: bounded.bytes,
                            });
                        }
                        Ok(bounded) => (
                            api_error(method, &path, status, &bounded, &answer),
                            Failure::Status {
                                status,
                                retry_after: answer.retry_after,
                            },
                        ),
                    }
                }
            };
            let verdict = inner.policy.api_failure(
                failure,
                attempt,
                resend == Resend::Safe,
                refreshed.load(Ordering::Relaxed),
            );
            return match verdict {
                Verdict::RefreshToken => {
                    // The token was revoked or expired early: drop it, fetch a new one
                    // once, and send again once (the same try).
                    refreshed.store(true, Ordering::Relaxed);
                    inner.auth.invalidate(&token).await;
                    continue;
                }
                Verdict::Retry {
                    retry_after,
                    hold_all,
                } => {
                    if let Some(hold) = hold_all {
                        inner.pacer.block(hold);
                    }
                    Step::Retry { err, retry_after }
                }
                // Refused before the pacer holds every request for it.
                Verdict::AbsurdWait { asked, header } => Step::Fail(ClientError::AbsurdWait {
                    method: method.to_string(),
                    path,
                    header,
                    asked_secs: asked.as_secs(),
                    cap_secs: inner.policy.max_retry_after.as_secs(),
                    said: Some(err.to_string()),
                }),
                Verdict::ConnectGaveUp => {
                    let start = spent.lock().map(|s| s.start).ok();
                    let now = tokio::time::Instant::now();
                    Step::Fail(ClientError::RetriesExhausted {
                        method: method.to_string(),
                        path,
                        attempts: attempt,
                        elapsed: start.map_or(Duration::ZERO, |s| now.duration_since(s)),
                        last: Box::new(err),
                    })
                }
                Verdict::Fail => Step::Fail(err),
            };
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
        let mut read = 0usize;
        loop {
            let mut q: Vec<(&str, String)> = query.to_vec();
            q.push(("pageSize", PAGE_SIZE.to_string()));
            q.push(("pageNumber", page.to_string()));
            // `entities` is required: an answer without it is not "nothing there" (plan
            // would create what exists, destroy would skip the in-use check).
            let body = self
                .send(Method::GET, segments, &q, None, Resend::Safe)
                .await?;
            read = read.saturating_add(body.bytes.len());
            if read > MAX_LISTING {
                return Err(ClientError::Decode {
                    method: body.method,
                    path: body.path,
                    message: format!(
                        "the listing is larger than {} MiB over {page} pages, far more than any real org; flowctl read no further",
                        MAX_LISTING >> 20
                    ),
                });
            }
            let listing: Page<T> = body.json()?;
            let count = listing.entities.len();
            all.extend(listing.entities);
            let last = listing.page_count.unwrap_or(page);
            if count == 0 || page >= last || page >= MAX_PAGES {
                return Ok(all);
            }
            page = page.saturating_add(1);
        }
    }

    /// The OAuth client id this client authenticates as: a flow locked by it is ours.
    pub(crate) fn client_id(&self) -> &str {
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

    /// How many flows to publish at once when the user set no cap: half the rate limit's
    /// window (from the API's headers; 8 until an answer said it), and a quarter of that
    /// while Architect jobs are slowing down and the pacer is not what holds them back.
    /// Whether Architect limits concurrent jobs per org is unverified (docs/genesys-api.md#still-unverified).
    pub(crate) fn auto_parallel(&self) -> usize {
        let base = self
            .inner
            .pacer
            .allowed()
            .map(|a| usize::try_from(a / 2).unwrap_or(usize::MAX).max(8))
            .unwrap_or(8);
        let slowing = self.inner.jobs.slowing()
            && !self.inner.pacer.throttled_within(Duration::from_secs(10));
        if slowing {
            (base / 4).max(4)
        } else {
            base
        }
    }

    /// True when `value` is this client's access token (a placeholder must never carry it
    /// into a flow).
    pub(crate) async fn is_access_token(&self, value: &str) -> bool {
        self.inner.auth.is_current_token(value).await
    }

    /// True when some request waited for the rate limit within `recent`.
    pub(crate) fn paced_within(&self, recent: Duration) -> bool {
        self.inner
            .pacer
            .throttled_within(recent.saturating_add(Duration::from_millis(50)))
    }

    pub(crate) fn journal(&self) -> Option<&journal::Journal> {
        self.inner.journal.as_ref()
    }
}

/// A page of a listing as the API documents it (`entities` required, unlike the model's
/// lenient serde default).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    entities: Vec<T>,
    #[serde(default)]
    page_count: Option<u32>,
}

/// What an answer's headers say, parsed into bounded values (pure: fuzzed in
/// `tests/fuzz.rs`).
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// `Retry-After`, at least 1 s, saturated when absurd (see [`retry::parse_retry_after`]).
    pub retry_after: Option<Duration>,
    pub(crate) rate: Option<RateHeaders>,
    /// `inin-correlation-id`, printable and short.
    pub correlation_id: Option<String>,
    /// `Location` of a redirect, without user info or query.
    pub location: Option<String>,
}

impl Answer {
    pub fn read(headers: &reqwest::header::HeaderMap) -> Answer {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Answer {
            retry_after: parse_retry_after(header("retry-after")),
            rate: RateHeaders::parse(
                header("inin-ratelimit-allowed"),
                header("inin-ratelimit-count"),
                header("inin-ratelimit-reset"),
            ),
            correlation_id: header("inin-correlation-id").map(|v| sanitize(v, 100)),
            location: header("location").map(shown_url),
        }
    }
}

/// At most `limit` bytes of a body; `truncated` when there was more (the rest is not read).
pub(crate) struct Bounded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) truncated: bool,
}

/// Reads a body chunk by chunk, stopping past `limit` (an endless body never grows
/// flowctl); a declared `Content-Length` over the limit is not read at all.
pub(crate) async fn read_bounded(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Bounded, reqwest::Error> {
    if resp
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
    {
        return Ok(Bounded {
            bytes: Vec::new(),
            truncated: true,
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(chunk.get(..room).unwrap_or_default());
            return Ok(Bounded {
                bytes,
                truncated: true,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bounded {
        bytes,
        truncated: false,
    })
}

/// Whether a failed exchange was a malformed answer (bad status line, header or framing)
/// rather than a connection that dropped or timed out.
pub(crate) fn is_malformed(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return h.is_parse() || h.is_parse_status();
        }
        source = s.source();
    }
    false
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The rule for every URL flowctl sends to, the presigned upload URL included: https, or
/// plain http only to loopback (the emulator), and never credentials in the URL (they
/// would be sent as a second `Authorization` and echoed in errors).
pub(crate) fn check_url(what: &'static str, url: &Url) -> ClientResult<()> {
    let refuse = |reason: &str| ClientError::UnsafeUrl {
        what,
        url: shown_url(url.as_str()),
        reason: reason.to_string(),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "it holds user info (user:password@); flowctl never sends credentials in a URL",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => {
            return Err(refuse(
                "plain http is only allowed to loopback (127.0.0.1, ::1, localhost)",
            ))
        }
        other => {
            return Err(refuse(&format!(
                "scheme '{}' is not https",
                sanitize(other, 20)
            )))
        }
    }
    if url.host().is_none() {
        return Err(refuse("it has no host"));
    }
    Ok(())
}

/// The presigned upload URL of a job registration, held to [`check_url`].
pub(crate) fn upload_url(text: &str) -> ClientResult<Url> {
    storage_url(text, "presigned upload URL")
}

/// A storage URL the API handed out (an upload's, an export's download), held to the same
/// rule as every URL flowctl sends to: https, or http to loopback; no user info.
pub(crate) fn storage_url(text: &str, what: &'static str) -> ClientResult<Url> {
    let url = Url::parse(text.trim()).map_err(|e| ClientError::UnsafeStorageUrl {
        what,
        url: shown_url(text),
        reason: format!("it is not a URL ({e})"),
    })?;
    // The server handed it out: its refusal is the server's fault (exit 4), not the user's.
    check_url(what, &url).map_err(|e| match e {
        ClientError::UnsafeUrl { what, url, reason } => {
            ClientError::UnsafeStorageUrl { what, url, reason }
        }
        other => other,
    })?;
    Ok(url)
}

/// A storage request (a presigned upload or download) that was refused, as an API error:
/// its status and the start of its (bounded) body, the URL shown without its query.
pub(crate) async fn storage_refusal(
    method: &str,
    shown: &str,
    what: &str,
    resp: reqwest::Response,
) -> ClientError {
    let status = resp.status().as_u16();
    let body = read_bounded(resp, MAX_SMALL_BODY)
        .await
        .map(|b| b.bytes)
        .unwrap_or_default();
    ClientError::from(ApiError {
        method: method.into(),
        path: shown.to_string(),
        status,
        code: String::new(),
        message: format!("{what} was refused: {}", auth::excerpt(&body)),
        context_id: None,
        correlation_id: None,
        retry_after: None,
        body: None,
    })
}

/// A storage request (a presigned upload or download) whose answer never came.
pub(crate) fn storage_network(method: &str, shown: &str, e: &reqwest::Error) -> ClientError {
    ClientError::Network {
        method: method.into(),
        url: shown.to_string(),
        message: auth::describe(e),
        connect: e.is_connect(),
    }
}

/// Maps a non-2xx answer to [`ApiError`], tolerating bodies that are not the Genesys shape.
/// Everything quoted from the server is made printable and cut (see
/// [`crate::output::sanitize`]).
fn api_error(
    method: &Method,
    path: &str,
    status: u16,
    body: &Bounded,
    answer: &Answer,
) -> ClientError {
    let bytes = &body.bytes;
    let parsed: Option<ErrorBody> = if body.truncated {
        None
    } else {
        serde_json::from_slice(bytes).ok()
    };
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    let (code, message, context_id) = match &parsed {
        Some(b) if !b.message.is_empty() || !b.code.is_empty() => (
            sanitize(&b.code, 100),
            sanitize(
                if b.message.is_empty() {
                    &b.code
                } else {
                    &b.message
                },
                MAX_MESSAGE,
            ),
            b.context_id.as_deref().map(|c| sanitize(c, 100)),
        ),
        _ if (300..400).contains(&status) => (
            String::new(),
            format!(
                "{reason}: the server redirected to {}; flowctl follows no redirects (check the base URL)",
                answer.location.as_deref().unwrap_or("(no Location)")
            ),
            None,
        ),
        _ if body.truncated => (
            String::new(),
            format!(
                "{reason} (the error body is larger than {} MiB; not read)",
                MAX_SMALL_BODY >> 20
            ),
            None,
        ),
        _ => (
            String::new(),
            format!("{reason} ({})", auth::excerpt(bytes)),
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
        correlation_id: answer.correlation_id.clone(),
        retry_after: answer.retry_after.map(|d| d.as_secs()),
        body: parsed,
    })
}

/// A 2xx body, decoded on demand with errors that name the endpoint.
pub(crate) mod bytes_body {
    use super::{ClientError, ClientResult};
    use serde::de::DeserializeOwned;

    pub(crate) struct Body {
        pub(crate) method: String,
        pub(crate) path: String,
        pub(crate) bytes: Vec<u8>,
    }

    impl Body {
        pub(crate) fn json<T: DeserializeOwned>(&self) -> ClientResult<T> {
            let bytes: &[u8] = if self.bytes.iter().all(u8::is_ascii_whitespace) {
                b"null"
            } else {
                &self.bytes
            };
            serde_json::from_slice(bytes).map_err(|e| ClientError::Decode {
                method: self.method.clone(),
                path: self.path.clone(),
                message: format!(
                    "{} (body starts: {})",
                    crate::output::sanitize(&e.to_string(), 300),
                    super::auth::excerpt(self.bytes.get(..120).unwrap_or(&self.bytes))
                ),
            })
        }
    }
}

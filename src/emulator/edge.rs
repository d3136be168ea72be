//! The middleware that plays Genesys' edge: the request log, latency, faults (scripted
//! and random), bearer auth and the per-token rate limit with its `inin-*` headers; and
//! the OAuth token endpoint that hands out the bearer tokens; and the connection bounds
//! (header-read timeout, most connections at once).

use super::http::{error, lock, ok, param};
use super::state::Fault;
use super::Shared;
use crate::models::*;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::time::{Duration, Instant};

pub(super) async fn edge(AxState(shared): AxState<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let api = path.starts_with("/api/v2/");
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    let mut response = if api {
        api_edge(&shared, req, next).await
    } else {
        next.run(req).await
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("inin-correlation-id", v);
    }
    // A dropped connection is logged as status 0: the client never saw an answer.
    let status = if response.headers().contains_key("x-emulator-fault") {
        0
    } else {
        response.status().as_u16()
    };
    response.headers_mut().remove("x-emulator-fault");
    lock(&shared).log.push((method, path, status));
    response
}

pub(super) async fn api_edge(shared: &Shared, req: Request, next: Next) -> Response {
    // Faults first: they stand for the network and the edge, before auth.
    let fault = {
        let mut s = lock(shared);
        // A scripted job fault waits at the front for the next job registration; it does
        // not hold back the other faults.
        match s.scripted.front() {
            Some(f) if f.is_job_fault() => s.random.next(),
            None => s.random.next(),
            Some(_) => s.scripted.pop_front(),
        }
    };
    match fault {
        Some(Fault::Status429 { retry_after }) => return too_many(retry_after),
        Some(Fault::Status503) => {
            return error(
                503,
                "service.unavailable",
                "The service is currently unavailable",
            )
        }
        Some(Fault::Drop) => return dropped(),
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::JobRateLimited | Fault::JobRateLimitedAfterPublishing) | None => {}
    }

    // Bearer auth.
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_string);
    let Some(token) = token else {
        return error(401, "bad.credentials", "Invalid login credentials.");
    };
    let (allowed, count, reset) = {
        let mut s = lock(shared);
        match s.tokens.get(&token) {
            None => return error(401, "bad.credentials", "Invalid login credentials."),
            Some(exp) if *exp <= Instant::now() => {
                return error(401, "credentials.expired", "The access token has expired.")
            }
            Some(_) => {}
        }
        let window = shared.config.rate_window;
        let now = Instant::now();
        let entry = s.windows.entry(token).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        let reset = window.saturating_sub(now.duration_since(entry.0));
        let reset_secs = whole_seconds(reset, shared.config.reset_rounds_down);
        if entry.1 >= shared.config.rate_limit {
            let mut r = too_many(reset_secs.max(1));
            rate_headers(
                r.headers_mut(),
                shared.config.rate_limit,
                entry.1,
                reset_secs,
            );
            return r;
        }
        entry.1 += 1;
        (shared.config.rate_limit, entry.1, entry.0)
    };
    let mut response = next.run(req).await;
    // The reset as of the answer, which leaves a moment after the window's start.
    let left = shared.config.rate_window.saturating_sub(reset.elapsed());
    let reset = whole_seconds(left, shared.config.reset_rounds_down);
    rate_headers(response.headers_mut(), allowed, count, reset);
    response
}

/// `inin-ratelimit-reset` in whole seconds, rounded up (the default) or down.
fn whole_seconds(d: Duration, down: bool) -> u64 {
    if down {
        d.as_secs()
    } else {
        d.as_secs_f64().ceil() as u64
    }
}

/// The bearer token of a request, if it has one.
pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_string)
}

/// Charges an Architect job's own requests (`job_requests`) to its token's window, as the
/// real job's Archy session spends the caller's rate limit. False when the window had fewer
/// left: the session ran out (what it had left is spent) and the job fails.
pub(super) fn charge_job(
    config: &super::EmulatorConfig,
    s: &mut super::state::State,
    token: Option<&str>,
) -> bool {
    let (Some(token), k) = (token, config.job_requests) else {
        return true;
    };
    if k == 0 {
        return true;
    }
    let now = Instant::now();
    let entry = s.windows.entry(token.to_string()).or_insert((now, 0));
    if now.duration_since(entry.0) >= config.rate_window {
        *entry = (now, 0);
    }
    let left = config.rate_limit.saturating_sub(entry.1);
    if left < k {
        entry.1 = config.rate_limit;
        return false;
    }
    entry.1 += k;
    true
}

fn rate_headers(h: &mut HeaderMap, allowed: u32, count: u32, reset: u64) {
    for (k, v) in [
        ("inin-ratelimit-allowed", allowed as u64),
        ("inin-ratelimit-count", count as u64),
        ("inin-ratelimit-reset", reset),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
            h.insert(k, v);
        }
    }
}

fn too_many(retry_after: u64) -> Response {
    let mut r = error(
        429,
        "too.many.requests",
        format!("Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"),
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// A connection that breaks before the answer is complete.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("x-emulator-fault", "drop")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| error(503, "service.unavailable", "dropped"))
}

pub(super) async fn token(
    AxState(shared): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let invalid_client = || {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"
            })),
        )
            .into_response()
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if param(&form, "grant_type") != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": "unsupported_grant_type", "description": "grant_type must be client_credentials", "error_description": "grant_type must be client_credentials"})),
        )
            .into_response();
    }
    let creds = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = creds.as_deref().and_then(|c| c.split_once(':')) else {
        return invalid_client();
    };
    if id != shared.config.client_id || secret != shared.config.client_secret {
        return invalid_client();
    }
    let access_token = format!("emu-{}", uuid::Uuid::new_v4().simple());
    let lifetime = shared.config.token_lifetime;
    lock(&shared)
        .tokens
        .insert(access_token.clone(), Instant::now() + lifetime);
    ok(&TokenResponse {
        access_token,
        token_type: "bearer".into(),
        expires_in: lifetime.as_secs(),
    })
}

/// Serves HTTP/1.1 until `stop`: each connection must send its request head within the
/// header-read timeout, and at most `max` connections are served at once (the rest wait in
/// the listen backlog instead of taking descriptors). On stop, requests under way get a
/// few seconds to finish.
pub(super) async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    (header_timeout, max): (Duration, usize),
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            _ = &mut stop => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted.
                    tracing::debug!("emulator: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

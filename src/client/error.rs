//! The client's typed errors. Any non-2xx answer from `/api/v2` becomes [`ApiError`];
//! [`ClientError::is_retryable`] is the retry decision's input. The errors say what went
//! wrong; which exit code that is, the top-level error decides
//! ([`crate::error::Error::exit_status`]).

use crate::models::ErrorBody;
use std::time::Duration;

/// A non-2xx answer from the Platform API, with the fields support asks for.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {path} failed with {status} {code}: {message}{}", context_suffix(.context_id, .correlation_id))]
pub struct ApiError {
    pub(crate) method: String,
    pub(crate) path: String,
    pub status: u16,
    /// `code` of the error body (`not.found`, `too.many.requests`, ...); empty if the body
    /// was not the Genesys error shape.
    pub code: String,
    pub(crate) message: String,
    pub context_id: Option<String>,
    /// The `inin-correlation-id` header.
    pub(crate) correlation_id: Option<String>,
    /// Seconds from `Retry-After`, when present and valid.
    pub(crate) retry_after: Option<u64>,
    /// The whole parsed body, when it was the Genesys error shape.
    pub(crate) body: Option<ErrorBody>,
}

fn context_suffix(context_id: &Option<String>, correlation_id: &Option<String>) -> String {
    match (context_id, correlation_id) {
        (Some(c), _) => format!(" (contextId {c})"),
        (None, Some(c)) => format!(" (correlation id {c})"),
        (None, None) => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API answered with a non-2xx status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The login service refused the client credentials.
    #[error("authentication failed at {login_url}: {error}: {description}")]
    Auth {
        login_url: String,
        error: String,
        description: String,
    },
    /// The request could not be sent or its answer not received.
    #[error("network error on {method} {url}: {message}")]
    Network {
        method: String,
        url: String,
        message: String,
        /// The connection was never made (refused, unreachable, no handshake).
        connect: bool,
    },
    /// Retries ran out (attempts, total time, or a settle window) on a failure worth
    /// retrying; `path` may be a whole URL (the login service, a storage URL).
    #[error("{method} {path}: gave up after {attempts} attempts over {:.1} s: {}", .elapsed.as_secs_f64(), last.said())]
    RetriesExhausted {
        method: String,
        path: String,
        attempts: u32,
        elapsed: Duration,
        last: Box<ClientError>,
    },
    /// Waiting for something (an Architect job) took longer than allowed.
    #[error("timed out after {after:.0?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// A 2xx answer whose body is not what the API documents.
    #[error("unexpected answer from {method} {path}: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    /// The server asked for a wait no Genesys service asks for (a `Retry-After` over the
    /// 180 s cap, an `inin-ratelimit-reset` past the 60 s window): given up, not slept.
    #[error("gave up on {method} {path}: the server asked to wait {asked_secs} s ({header}), more than the {cap_secs} s flowctl waits{}", said.as_deref().map(|s| format!("; it said: {s}")).unwrap_or_default())]
    AbsurdWait {
        method: String,
        path: String,
        header: &'static str,
        asked_secs: u64,
        cap_secs: u64,
        /// The answer's own error, already made printable (a 429's message).
        said: Option<String>,
    },
    /// A URL flowctl will not send to (plain http off loopback, user info in it, a scheme
    /// other than https); nothing was sent.
    #[error("refusing the {what} {url}: {reason}")]
    UnsafeUrl {
        what: &'static str,
        /// Without user info or query (a presigned URL's query is a credential).
        url: String,
        reason: String,
    },
    /// A storage URL from Genesys' own answer (a presigned upload, an export's download)
    /// that flowctl will not send to, for the reasons of [`ClientError::UnsafeUrl`]. Not the
    /// user's input: the server is at fault (exit 4), whichever command meets it.
    #[error("refusing the {what} {url}: {reason}")]
    UnsafeStorageUrl {
        what: &'static str,
        url: String,
        reason: String,
    },
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> Self {
        ClientError::Api(Box::new(e))
    }
}

impl ClientError {
    /// What the official SDKs retry: connection errors and the statuses of
    /// [`super::retry::retryable_status`].
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            ClientError::Network { .. } => true,
            ClientError::Api(e) => super::retry::retryable_status(e.status),
            _ => false,
        }
    }

    /// What the failure said, without the request it was (a give-up names that once):
    /// `503 service.unavailable: ...`, `network error: ...`.
    fn said(&self) -> String {
        match self {
            ClientError::Api(e) => {
                let code = if e.code.is_empty() {
                    String::new()
                } else {
                    format!(" {}", e.code)
                };
                format!(
                    "{}{code}: {}{}",
                    e.status,
                    e.message,
                    context_suffix(&e.context_id, &e.correlation_id)
                )
            }
            ClientError::Network { message, .. } => format!("network error: {message}"),
            other => other.to_string(),
        }
    }

    /// The HTTP status, for API errors.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api(e) => Some(e.status),
            ClientError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            ClientError::Auth { .. } => Some(
                "check GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET and that GENESYS_REGION is the org's region \
                 (a wrong region also fails as invalid_client)"
                    .to_string(),
            ),
            ClientError::Api(e) if e.status == 403 => Some(
                "give the OAuth client a role with the Architect permissions named above".to_string(),
            ),
            ClientError::Api(e) if e.status == 401 => {
                Some("the token was refused; run again with --no-token-cache".to_string())
            }
            // The last failure's own hint (a login refusal's), else the network's.
            ClientError::RetriesExhausted { last, .. } => last.hint().or_else(|| {
                last.is_retryable()
                    .then(|| "check the network and the API base URL, then run again".to_string())
            }),
            ClientError::Network { .. } => {
                Some("check the network and the API base URL, then run again".to_string())
            }
            ClientError::AbsurdWait { .. } => Some(
                "run again later; if it persists, check that the API base URL is a Genesys Cloud region"
                    .to_string(),
            ),
            ClientError::UnsafeStorageUrl { .. } => Some(
                "nothing was sent to it; the API handed out a URL flowctl never sends to (https, or http to loopback only, without user info): run again, and if it persists check the API base URL is a Genesys Cloud region"
                    .to_string(),
            ),
            ClientError::UnsafeUrl { .. } => Some(
                "use an https URL (plain http only to 127.0.0.1 or localhost) without user:password@; credentials go in GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

//! OAuth client credentials, exactly as Genesys Cloud wants them, and the token cache.
//!
//! `POST {login}/oauth/token` with `Authorization: Basic base64(id:secret)` and the form body
//! `grant_type=client_credentials` (no scopes: the client's roles decide). One token is
//! shared by every request of the process (one fetch even when many requests ask at once)
//! and, through a cache file, by the next processes, until shortly before it expires.
//!
//! The cache file sits under the cache directory, is named by a hash of login host and
//! client id, has mode 0600, is written atomically (temp file + rename) and never holds the
//! secret. A corrupt or unreadable cache is ignored with a warning. Processes sharing the
//! cache take an exclusive lock on its directory before fetching, so two runs started
//! together fetch one token. `expires_in` is checked and clamped to 48 h.

use super::retry::{
    parse_retry_after, run, Failure, RetryPolicy, Schedule, Settle, Step, Task, Verdict,
};
use super::ClientError;
use crate::models::OAuthError;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use url::Url;

/// A token and when to stop using it.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) access_token: SecretString,
    /// Epoch seconds after which the token is not used (refresh point, before expiry).
    pub(crate) use_until: u64,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"(redacted)")
            .field("use_until", &self.use_until)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    access_token: String,
    use_until: u64,
    login_host: String,
    client_id: String,
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The longest token lifetime Genesys gives (5 min to 48 h, docs/genesys-api.md#oauth-client-credentials):
/// a longer `expires_in` is taken as this.
pub(crate) const MAX_LIFETIME: u64 = 48 * 3600;

/// Refresh at 90% of the lifetime, and at least 60 s before expiry. `expires_in` is clamped
/// to [`MAX_LIFETIME`]; the arithmetic saturates.
pub(crate) fn use_until(now: u64, expires_in: u64) -> u64 {
    let expires_in = expires_in.min(MAX_LIFETIME);
    let by_share = now.saturating_add(expires_in * 9 / 10);
    let by_margin = now.saturating_add(expires_in).saturating_sub(60);
    by_share.min(by_margin).max(now)
}

/// The token answer, checked: an access token and a whole, non-negative `expires_in`.
/// Anything else is described (never quoting the token).
pub fn parse_token_answer(body: &[u8]) -> Result<(String, u64), String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        // Never quoted: a token answer in another shape may still hold the token.
        .map_err(|_| "the answer is not JSON".to_string())?;
    let token = match value.get("access_token") {
        // A token goes into an `Authorization` header: a line break or another control
        // character would make every request fail as if the network had (it cannot be
        // sent), so it is refused here, at once, as the login service's fault.
        Some(serde_json::Value::String(t)) if !t.trim().is_empty() && !usable_token(t) => {
            return Err(
                "its access_token holds a line break or another character an HTTP header cannot carry".into(),
            )
        }
        Some(serde_json::Value::String(t)) if !t.trim().is_empty() => t.clone(),
        Some(_) => return Err("its access_token is empty or not a string".into()),
        None => return Err("it has no access_token".into()),
    };
    let expires_in = match value.get("expires_in") {
        Some(serde_json::Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(v), _) => v,
            // Larger than u64 (1e30): clamped below like any long lifetime.
            (None, Some(f)) if f > 0.0 => u64::MAX,
            _ => {
                return Err(format!(
                    "its expires_in ({}) is negative or not whole seconds",
                    crate::output::sanitize(&n.to_string(), 40)
                ))
            }
        },
        Some(_) => return Err("its expires_in is not a number".into()),
        None => return Err("it has no expires_in".into()),
    };
    Ok((token, expires_in))
}

/// True when `token` can go into an `Authorization: Bearer` header: visible ASCII only
/// (RFC 6750's token68 is narrower still; Genesys tokens are base64url-like).
fn usable_token(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_graphic())
}

/// How long a process waits for another one fetching a token into the shared cache: up
/// to 30 s, trying the lock every 50 ms.
const LOCK_WAIT: Settle = Settle {
    window: std::time::Duration::from_secs(30),
    first: std::time::Duration::from_millis(50),
    cap: std::time::Duration::from_millis(50),
};

pub(crate) struct Auth {
    login_base: Url,
    client_id: String,
    secret: SecretString,
    cache_path: Option<PathBuf>,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl Auth {
    pub(crate) fn new(
        login_base: Url,
        client_id: String,
        secret: SecretString,
        cache_dir: Option<&Path>,
    ) -> Auth {
        let cache_path = cache_dir.map(|dir| {
            let key = format!(
                "{}|{}",
                login_base.host_str().unwrap_or(""),
                login_base.port_or_known_default().unwrap_or(0)
            );
            let name = crate::digest::sha256_hex(format!("{key}|{client_id}"), 8);
            dir.join(format!("token-{name}.json"))
        });
        Auth {
            login_base,
            client_id,
            secret,
            cache_path,
            token: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) fn token_url(&self) -> String {
        self.login_base
            .join("oauth/token")
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{}oauth/token", self.login_base))
    }

    /// True when `value` is the access token in use (for refusing it as a placeholder's
    /// value). Compares only with the token already in memory.
    pub(crate) async fn is_current_token(&self, value: &str) -> bool {
        let guard = self.token.lock().await;
        guard
            .as_ref()
            .is_some_and(|t| !value.is_empty() && t.access_token.expose_secret() == value)
    }

    /// A valid token: from memory, the cache, or a fetch (one at a time).
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        policy: &RetryPolicy,
    ) -> Result<SecretString, ClientError> {
        let mut guard = self.token.lock().await;
        let now = now_epoch();
        if let Some(t) = guard.as_ref().filter(|t| t.use_until > now) {
            return Ok(t.access_token.clone());
        }
        if let Some(t) = self.read_cache().filter(|t| t.use_until > now) {
            tracing::debug!("using the cached token");
            let token = t.access_token.clone();
            *guard = Some(t);
            return Ok(token);
        }
        // Another process sharing the cache may be fetching right now: hold the cache's
        // lock while reading it again and fetching, so two runs get one token.
        let _lock = self.lock_cache().await;
        if let Some(t) = self.read_cache().filter(|t| t.use_until > now_epoch()) {
            tracing::debug!("using the token another process just cached");
            let token = t.access_token.clone();
            *guard = Some(t);
            return Ok(token);
        }
        let t = self.fetch(http, policy).await?;
        self.write_cache(&t);
        let token = t.access_token.clone();
        *guard = Some(t);
        Ok(token)
    }

    /// Drops `used` (after a 401) from memory and the cache, unless a newer one replaced it.
    pub(crate) async fn invalidate(&self, used: &SecretString) {
        let mut guard = self.token.lock().await;
        if guard
            .as_ref()
            .is_some_and(|t| t.access_token.expose_secret() == used.expose_secret())
        {
            *guard = None;
            if let Some(p) = &self.cache_path {
                let _ = std::fs::remove_file(p);
            }
        }
    }

    /// An exclusive lock on the cache directory (the cache file itself is replaced by
    /// rename, so it cannot hold a lock), waited for at most [`LOCK_WAIT`]: a stuck holder
    /// costs one extra token, never a hang. `None` without a cache, or where directories
    /// cannot be locked.
    async fn lock_cache(&self) -> Option<std::fs::File> {
        let dir = self.cache_path.as_ref()?.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        let file = std::fs::File::open(dir).ok()?;
        let task = Task {
            what: "locking the token cache",
            waiting_for: "another flowctl fetching a token into the shared cache",
        };
        let locked = run(Schedule::Settle(LOCK_WAIT), task, |_| async {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => Step::Done(()),
                Err(fs4::TryLockError::WouldBlock) => Step::retry("held by another process"),
                Err(_) => Step::Fail("cannot be locked here"),
            }
        })
        .await;
        match locked {
            Ok(()) => Some(file),
            Err(g) => {
                tracing::debug!("not locking the token cache {}: {}", dir.display(), g.last);
                None
            }
        }
    }

    fn read_cache(&self) -> Option<Token> {
        let path = self.cache_path.as_ref()?;
        if let Some(why) = untrusted_cache(path) {
            // A token others could read may be someone else's by now, and a file another
            // user owns may be theirs to plant: neither is used. It is removed (a new
            // token is cached 0600 in its place), or left if it cannot be.
            let done = match std::fs::remove_file(path) {
                Ok(()) => "removed it; a new token is cached with mode 0600",
                Err(_) => "could not remove it; remove it by hand",
            };
            tracing::warn!(
                "not using the token cache {}: {why}; {done}",
                path.display()
            );
            return None;
        }
        let text = match crate::files::read_text(path, "the token cache") {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("ignoring the token cache {}: {e}", path.display());
                return None;
            }
        };
        match serde_json::from_str::<CacheFile>(&text) {
            Ok(c) if c.client_id == self.client_id && !usable_token(&c.access_token) => {
                tracing::warn!(
                    "ignoring the token cache {}: its token cannot be sent in a header; a new token will replace it",
                    path.display()
                );
                None
            }
            Ok(c) if c.client_id == self.client_id => Some(Token {
                access_token: SecretString::from(c.access_token),
                use_until: c.use_until,
            }),
            Ok(_) => None,
            Err(_) => {
                tracing::warn!(
                    "ignoring the token cache {}: it is corrupt; a new token will replace it",
                    path.display()
                );
                None
            }
        }
    }

    fn write_cache(&self, t: &Token) {
        let Some(path) = &self.cache_path else { return };
        if let Err(e) = write_private(path, t, &self.login_base, &self.client_id) {
            tracing::warn!("cannot write the token cache {}: {e}", path.display());
        }
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        policy: &RetryPolicy,
    ) -> Result<Token, ClientError> {
        let url = self.token_url();
        let what = format!("POST {url}");
        let task = Task {
            what: &what,
            waiting_for: "a retry of the token request",
        };
        let start = tokio::time::Instant::now();
        let url_ref = url.as_str();
        let fetched = run(Schedule::Backoff(*policy), task, |attempt| {
            self.fetch_once(http, policy, url_ref, attempt, start)
        });
        // The token request has the deadline of one request too (the policy's `max_elapsed`
        // is that deadline, see `Client::with_settings`).
        match tokio::time::timeout(policy.max_elapsed, fetched).await {
            Ok(r) => r.map_err(|g| g.into_client_error("POST", &url)),
            Err(_) => Err(ClientError::Timeout {
                what: format!(
                    "{what} (the deadline of {} s for one request across its attempts; {} sets it)",
                    policy.max_elapsed.as_secs(),
                    crate::cli::env::REQUEST_TIMEOUT
                ),
                after: policy.max_elapsed,
            }),
        }
    }

    /// One token request (try `attempt` of those begun at `start`): the token, or whether
    /// its failure is worth another try ([`RetryPolicy::token_failure`]).
    async fn fetch_once(
        &self,
        http: &reqwest::Client,
        policy: &RetryPolicy,
        url: &str,
        attempt: u32,
        start: tokio::time::Instant,
    ) -> Step<Token, ClientError> {
        let url = url.to_string();
        let sent = http
            .post(&url)
            .basic_auth(&self.client_id, Some(self.secret.expose_secret()))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body("grant_type=client_credentials")
            .send()
            .await;
        let (err, failure, said_rate_limit) = match sent {
            Err(e) => (
                ClientError::Network {
                    method: "POST".into(),
                    url: url.clone(),
                    message: describe(&e),
                    connect: e.is_connect(),
                },
                Failure::Network {
                    connect: e.is_connect(),
                },
                false,
            ),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = parse_retry_after(
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                );
                let body = match super::read_bounded(resp, super::MAX_SMALL_BODY).await {
                    Ok(b) if b.truncated => {
                        return Step::Fail(ClientError::Auth {
                            login_url: url,
                            error: format!("HTTP {status}"),
                            description: format!(
                                "the login service's answer is larger than {} MiB (a token answer is a few hundred bytes); not read",
                                super::MAX_SMALL_BODY >> 20
                            ),
                        })
                    }
                    Ok(b) => b.bytes,
                    Err(e) => {
                        let err = ClientError::Network {
                            method: "POST".into(),
                            url: url.clone(),
                            message: describe(&e),
                            connect: false,
                        };
                        return Self::act(policy, err, Failure::BodyCut, attempt, false, start, url);
                    }
                };
                if (200..300).contains(&status) {
                    return match parse_token_answer(&body) {
                        Ok((token, expires_in)) => {
                            tracing::debug!(expires_in, "fetched a client-credentials token");
                            Step::Done(Token {
                                access_token: SecretString::from(token),
                                use_until: use_until(now_epoch(), expires_in),
                            })
                        }
                        Err(why) => Step::Fail(ClientError::Auth {
                            login_url: url,
                            error: format!("HTTP {status}"),
                            description: format!(
                                "the login service answered without a usable token: {why}"
                            ),
                        }),
                    };
                }
                let parsed: OAuthError = serde_json::from_slice(&body).unwrap_or_default();
                let description = parsed
                    .error_description
                    .or(parsed.description)
                    .map(|d| crate::output::sanitize(&d, crate::output::MAX_MESSAGE))
                    .unwrap_or_else(|| excerpt(&body));
                let said_rate_limit = description.to_lowercase().contains("rate limit");
                let err = ClientError::Auth {
                    login_url: url.clone(),
                    error: if parsed.error.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        crate::output::sanitize(&parsed.error, 100)
                    },
                    description,
                };
                let failure = Failure::Status {
                    status,
                    retry_after,
                };
                (err, failure, said_rate_limit)
            }
        };
        Self::act(policy, err, failure, attempt, said_rate_limit, start, url)
    }

    /// The step a failed token request comes to, as [`RetryPolicy::token_failure`] decides.
    fn act(
        policy: &RetryPolicy,
        err: ClientError,
        failure: Failure,
        attempt: u32,
        said_rate_limit: bool,
        start: tokio::time::Instant,
        url: String,
    ) -> Step<Token, ClientError> {
        match policy.token_failure(failure, attempt, said_rate_limit) {
            Verdict::Retry { retry_after, .. } => Step::Retry { err, retry_after },
            Verdict::AbsurdWait { asked, header } => Step::Fail(ClientError::AbsurdWait {
                method: "POST".into(),
                path: url,
                header,
                asked_secs: asked.as_secs(),
                cap_secs: policy.max_retry_after.as_secs(),
                said: Some(err.to_string()),
            }),
            // A login host flowctl cannot connect to: a few tries, not eight.
            Verdict::ConnectGaveUp => Step::Fail(ClientError::RetriesExhausted {
                method: "POST".into(),
                path: url,
                attempts: attempt,
                elapsed: start.elapsed(),
                last: Box::new(err),
            }),
            Verdict::RefreshToken | Verdict::Fail => Step::Fail(err),
        }
    }
}

/// Why the cache file at `path` must not be used, if it must not: readable or writable by
/// group or others, or owned by another user than this process's.
fn untrusted_cache(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path).ok()?;
        cache_trust(
            meta.mode(),
            meta.uid(),
            current_uid(),
            meta.file_type().is_symlink(),
        )
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The decision of [`untrusted_cache`], pure: `mode` and `owner` of the file, `me` the
/// effective user id.
#[cfg(unix)]
fn cache_trust(mode: u32, owner: u32, me: u32, symlink: bool) -> Option<String> {
    if symlink {
        return Some("it is a symbolic link".into());
    }
    if owner != me {
        return Some(format!(
            "it is owned by another user (uid {owner}, this is uid {me})"
        ));
    }
    if mode & 0o077 != 0 {
        return Some(format!(
            "it is readable by other users (mode {:o}, where 0600 is required)",
            mode & 0o777
        ));
    }
    None
}

/// This process's effective user id.
#[cfg(unix)]
fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail (POSIX).
    unsafe { libc::geteuid() }
}

/// Writes the cache atomically with mode 0600 (the directory 0700).
fn write_private(path: &Path, t: &Token, login: &Url, client_id: &str) -> std::io::Result<()> {
    let body = CacheFile {
        access_token: t.access_token.expose_secret().to_string(),
        use_until: t.use_until,
        login_host: login.host_str().unwrap_or_default().to_string(),
        client_id: client_id.to_string(),
    };
    super::private_file::write_private_json(path, &body)
}

/// A short, printable piece of a body for messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .take(200)
        .collect();
    if text.trim().is_empty() {
        "(empty body)".into()
    } else {
        text
    }
}

/// A reqwest error without its URL query (which never holds secrets, but stays short).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        assert_eq!(use_until(1000, 86400), 1000 + 77760);
        assert_eq!(use_until(1000, 300), 1000 + 240);
        assert_eq!(use_until(1000, 30), 1000);
    }

    #[test]
    fn an_absurd_lifetime_is_clamped_to_48_hours_without_overflow() {
        let at = use_until(1000, u64::MAX);
        assert_eq!(at, use_until(1000, MAX_LIFETIME));
        assert!(at <= 1000 + MAX_LIFETIME);
        assert_eq!(use_until(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn token_answers_of_the_wrong_shape_are_described_not_trusted() {
        assert_eq!(
            parse_token_answer(br#"{"access_token":"t","expires_in":18446744073709551615}"#),
            Ok(("t".to_string(), u64::MAX))
        );
        assert_eq!(
            parse_token_answer(br#"{"access_token":"t","expires_in":1e30}"#),
            Ok(("t".to_string(), u64::MAX))
        );
        for bad in [
            &br#"{"access_token":"t\r\nX-Injected: 1","expires_in":60}"#[..],
            br#"{"access_token":"t\u0000","expires_in":60}"#,
            br#"{"access_token":"t","expires_in":-5}"#,
            br#"{"access_token":"t","expires_in":"soon"}"#,
            br#"{"access_token":"t"}"#,
            br#"{"access_token":7,"expires_in":60}"#,
            br#"[1,2]"#,
            b"<html>",
        ] {
            let e = parse_token_answer(bad).expect_err("refused");
            assert!(!e.contains("\"t\""), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_only_its_owner_can_read_is_trusted_and_no_other() {
        assert_eq!(cache_trust(0o100600, 1000, 1000, false), None);
        assert_eq!(cache_trust(0o100400, 1000, 1000, false), None);
        for mode in [0o100644, 0o100640, 0o100604, 0o100620, 0o100666] {
            let why = cache_trust(mode, 1000, 1000, false).expect("refused");
            assert!(why.contains("readable by other users"), "{mode:o}: {why}");
        }
        let why = cache_trust(0o100600, 0, 1000, false).expect("refused");
        assert!(why.contains("owned by another user"), "{why}");
        assert!(cache_trust(0o100600, 1000, 0, false).is_some());
        assert!(cache_trust(0o120777, 1000, 1000, true).is_some());
    }

    #[test]
    fn token_debug_is_redacted() {
        let t = Token {
            access_token: SecretString::from("very-secret-token".to_string()),
            use_until: 1,
        };
        assert!(!format!("{t:?}").contains("very-secret-token"));
    }
}

//! When to retry, as pure functions, and the one runner that acts on them (`run`). What a
//! failed try calls for ([`RetryPolicy::api_failure`], [`RetryPolicy::token_failure`]:
//! the statuses, the token refresh, an absurd `Retry-After`, a host that refuses
//! connections), and how long to wait before the next ([`RetryPolicy::decide`],
//! [`settle`]). The client only acts on the [`Verdict`]. The runner: every retrying loop of the client (API requests, the
//! token request and its cache lock, storage uploads and downloads, the settle windows)
//! hands it one try at a time; it sleeps, counts tries and time on tokio's clock, and gives
//! up as "{what}: gave up after N attempts over T s: {last}".
//!
//! Retried: what the official SDKs retry (docs/genesys-api.md#rate-limits-and-retries): connection errors, 429, and
//! 500/502/503/504 (the Go SDK and the Terraform provider retry 500 too). Two answers are
//! retried only where the Terraform provider retries them, for a bounded time
//! ([`settle`]): a 404 on a read right after a write (eventual consistency), and a 409 on
//! a `DELETE`. Anything else (400, a 404 elsewhere, ...) is an answer, not an accident.
//!
//! | failure | wait |
//! |---|---|
//! | 429 with a valid `Retry-After` (seconds or HTTP date) | exactly that, at least 1 s (give up when it exceeds 180 s, as the Go SDK does) |
//! | 429 without one (or garbage), 502/503/504, connection error | exponential backoff with full jitter: `rand(0, min(cap, base·2^(n-1)))` |
//!
//! Bounded both ways: at most `max_attempts` sends, and no retry that would end past
//! `max_elapsed` since the first send. Jitter spreads parallel clients apart.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub max_elapsed: Duration,
    pub base: Duration,
    pub cap: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(300),
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// The wait before sending a retryable failure again: `attempt` is how many sends were
    /// made (1 after the first); `jitter` is in [0, 1].
    pub fn decide(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let wait = match retry_after {
            Some(d) if d > self.max_retry_after => return Decision::GiveUp,
            Some(d) => d,
            None => {
                let exp = self
                    .base
                    .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
                let jitter = if jitter.is_finite() {
                    jitter.clamp(0.0, 1.0)
                } else {
                    1.0
                };
                exp.min(self.cap).mul_f64(jitter)
            }
        };
        if elapsed.saturating_add(wait) > self.max_elapsed {
            return Decision::GiveUp;
        }
        Decision::RetryAfter(wait)
    }
}

/// The statuses retried: what the official SDKs retry, 429 and 502/503/504, and 500 as the
/// Go SDK and the Terraform provider retry it (docs/genesys-api.md#rate-limits-and-retries).
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// A host that cannot be connected to (refused, unreachable, no answer to the handshake)
/// is tried this many times in all, not the policy's eight: a host that refuses
/// connections fails within seconds, not half a minute.
pub(crate) const CONNECT_ATTEMPTS: u32 = 3;

/// How one try of a request failed, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer: `connect` when no connection was made at all (refused, unreachable),
    /// else one that dropped or timed out.
    Network { connect: bool },
    /// The answer's head came but its body broke off.
    BodyCut,
    /// What came back is not HTTP (a bad status line, header or framing).
    Malformed,
    /// An answer that is not 2xx, with its `Retry-After` ([`parse_retry_after`]).
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
}

/// What a failed try calls for. The callers act on it; they decide nothing themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Fetch a new token and send again at once, in the same try.
    RefreshToken,
    /// Send again, after `retry_after` when the server said one, else after the backoff.
    /// `hold_all`: every request of the org waits this long first (a 429's rate limit).
    Retry {
        retry_after: Option<Duration>,
        hold_all: Option<Duration>,
    },
    /// The server asked for a wait past [`RetryPolicy::max_retry_after`]: refused at once,
    /// never slept. `header` names what asked for it.
    AbsurdWait {
        asked: Duration,
        header: &'static str,
    },
    /// The host could not be connected to [`CONNECT_ATTEMPTS`] times: give up, telling the
    /// attempts.
    ConnectGaveUp,
    /// The failure is the answer.
    Fail,
}

impl Verdict {
    /// A retry after the server's wait, if any, holding nobody else.
    fn retry(retry_after: Option<Duration>) -> Verdict {
        Verdict::Retry {
            retry_after,
            hold_all: None,
        }
    }

    /// A network failure on try `attempt`, where sending again is allowed.
    fn network(connect: bool, attempt: u32) -> Verdict {
        if connect && attempt >= CONNECT_ATTEMPTS {
            Verdict::ConnectGaveUp
        } else {
            Verdict::retry(None)
        }
    }
}

impl RetryPolicy {
    /// An API request's failed try `attempt`. `resend_safe`: sending the request again
    /// cannot do a thing twice (a read, an upload; not a create). `refreshed`: the token
    /// was already refreshed for this request (once per request, not once per try).
    ///
    /// | failure | verdict |
    /// |---|---|
    /// | 401, first time | refresh the token and send again |
    /// | `Retry-After` past the cap on a 429 or 502/503/504 | refuse the wait |
    /// | 429 | retry (even a create: nothing was done), every request held for the `Retry-After` (1 s without one) |
    /// | 500/502/503/504, dropped connection, cut body | retry if `resend_safe` |
    /// | no connection, [`CONNECT_ATTEMPTS`] times | give up |
    /// | anything else (400, 404, not HTTP, ...) | fail |
    pub(crate) fn api_failure(
        &self,
        failure: Failure,
        attempt: u32,
        resend_safe: bool,
        refreshed: bool,
    ) -> Verdict {
        match failure {
            Failure::Malformed => Verdict::Fail,
            Failure::Network { connect } if resend_safe => Verdict::network(connect, attempt),
            Failure::BodyCut if resend_safe => Verdict::retry(None),
            Failure::Network { .. } | Failure::BodyCut => Verdict::Fail,
            Failure::Status { status: 401, .. } if !refreshed => Verdict::RefreshToken,
            Failure::Status {
                status,
                retry_after,
            } => {
                let asked = match status {
                    429 => Some(retry_after.unwrap_or(MIN_RETRY_AFTER)),
                    502..=504 => retry_after,
                    _ => None,
                };
                if let Some(asked) = asked.filter(|a| *a > self.max_retry_after) {
                    let header = if status == 429 {
                        "Retry-After on a 429"
                    } else {
                        "Retry-After"
                    };
                    return Verdict::AbsurdWait { asked, header };
                }
                if status == 429 {
                    Verdict::Retry {
                        retry_after,
                        hold_all: asked,
                    }
                } else if retryable_status(status) && resend_safe {
                    Verdict::retry(retry_after)
                } else {
                    Verdict::Fail
                }
            }
        }
    }

    /// A token request's failed try `attempt`. `said_rate_limit`: the login service's
    /// description speaks of a rate limit, whatever its status.
    ///
    /// | failure | verdict |
    /// |---|---|
    /// | 429 or a rate limit said, 502/503/504, with a `Retry-After` past the cap | refuse the wait |
    /// | 429 or a rate limit said, 502/503/504 | retry |
    /// | dropped connection, an answer that is not HTTP | retry |
    /// | no connection, [`CONNECT_ATTEMPTS`] times | give up |
    /// | anything else (a refusal, a cut body) | fail |
    pub(crate) fn token_failure(
        &self,
        failure: Failure,
        attempt: u32,
        said_rate_limit: bool,
    ) -> Verdict {
        match failure {
            Failure::Network { connect } => Verdict::network(connect, attempt),
            // The login request does not tell a garbled answer from a dropped one.
            Failure::Malformed => Verdict::retry(None),
            Failure::BodyCut => Verdict::Fail,
            Failure::Status {
                status,
                retry_after,
            } => {
                if !(said_rate_limit || matches!(status, 429 | 502..=504)) {
                    return Verdict::Fail;
                }
                match retry_after.filter(|a| *a > self.max_retry_after) {
                    Some(asked) => Verdict::AbsurdWait {
                        asked,
                        header: "Retry-After",
                    },
                    None => Verdict::retry(retry_after),
                }
            }
        }
    }
}

/// A storage request's failure (a presigned upload or download) as a retry step: tried
/// again when the SDKs would retry it (a connection error, [`retryable_status`]), with
/// the schedule's own wait (storage's `Retry-After` is not read).
pub(crate) fn storage_step<T>(err: super::ClientError) -> Step<T, super::ClientError> {
    if err.is_retryable() {
        Step::retry(err)
    } else {
        Step::Fail(err)
    }
}

/// The shortest wait a `Retry-After` gets: the header counts whole seconds, and a server
/// that says `0` to every retry would otherwise be hammered (8 sends in a third of a second).
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// `Retry-After` (RFC 9110 §10.2.3): whole seconds, as Genesys sends them, or an HTTP date.
/// A value below [`MIN_RETRY_AFTER`] counts as that; a number too large for any clock
/// saturates (and is then refused by [`RetryPolicy::decide`]'s 180 s cap, never slept);
/// anything else (garbage, a negative number) is ignored and the backoff applies.
pub(crate) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    parse_retry_after_at(value, std::time::SystemTime::now())
}

/// [`parse_retry_after`] with the clock given, for tests.
pub(crate) fn parse_retry_after_at(
    value: Option<&str>,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let v = value?.trim();
    let wait = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: seconds. Too many digits for a u64 is still a (huge) number.
        Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(v).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.max(MIN_RETRY_AFTER))
}

/// How long the answers the Terraform provider waits out are waited out here: a 404 on a
/// read just after a write (`WithRetriesForRead`) and a 409 on `DELETE` (30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settle {
    /// The whole time to keep trying.
    pub(crate) window: Duration,
    /// The first wait; each next one doubles, up to `cap`.
    pub(crate) first: Duration,
    pub(crate) cap: Duration,
}

/// A 404 right after a publish or create.
pub(crate) const READ_AFTER_WRITE: Settle = Settle {
    window: Duration::from_secs(15),
    first: Duration::from_millis(250),
    cap: Duration::from_secs(2),
};

/// A 409 on `DELETE`: "about 30 s", as the Terraform provider waits.
pub(crate) const DELETE_CONFLICT: Settle = Settle {
    window: Duration::from_secs(30),
    first: Duration::from_secs(1),
    cap: Duration::from_secs(5),
};

/// The wait before try `attempt + 1` (after `attempt` tries, `elapsed` in), or `None` when
/// the window is spent.
pub(crate) fn settle(s: Settle, attempt: u32, elapsed: Duration) -> Option<Duration> {
    let wait = s
        .first
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
        .min(s.cap);
    (elapsed.saturating_add(wait) <= s.window).then_some(wait)
}

/// How the runner waits between tries: the policy's backoff (and `Retry-After`), or a
/// settle window ([`settle`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Schedule {
    Backoff(RetryPolicy),
    Settle(Settle),
}

/// What one try came to.
#[derive(Debug)]
pub enum Step<T, E> {
    /// Success: the runner returns it.
    Done(T),
    /// A failure worth another try, after the schedule's wait (or the server's
    /// `Retry-After`, for a backoff).
    Retry {
        err: E,
        retry_after: Option<Duration>,
    },
    /// A failure that is the answer: returned at once.
    Fail(E),
}

impl<T, E> Step<T, E> {
    /// A failure retried after the schedule's own wait.
    pub(crate) fn retry(err: E) -> Self {
        Step::Retry {
            err,
            retry_after: None,
        }
    }
}

/// The runner stopped without success: after how many tries and how long, and why.
#[derive(Debug)]
pub(crate) struct GaveUp<E> {
    pub(crate) attempts: u32,
    pub(crate) elapsed: Duration,
    /// The last try's failure.
    pub(crate) last: E,
    /// True when the last failure was retryable and the schedule ran out (attempts, total
    /// time, a settle window, a `Retry-After` past the cap); false for a [`Step::Fail`].
    pub(crate) exhausted: bool,
}

impl<E> GaveUp<E> {
    /// Whether this is worth telling as "gave up after N attempts": retries were made and
    /// ran out. A failure on the first try (or one that is not retryable) is told as itself.
    pub(crate) fn retried(&self) -> bool {
        self.exhausted && self.attempts > 1
    }
}

impl GaveUp<super::ClientError> {
    /// As the client's error: `{method} {path}: gave up after N attempts over T s: {last}`
    /// when retries ran out, else the last failure as it is.
    pub(crate) fn into_client_error(self, method: &str, path: &str) -> super::ClientError {
        if self.retried() {
            super::ClientError::RetriesExhausted {
                method: method.to_string(),
                path: path.to_string(),
                attempts: self.attempts,
                elapsed: self.elapsed,
                last: Box::new(self.last),
            }
        } else {
            self.last
        }
    }
}

/// What the runner is retrying, for its log lines and the progress shown while it waits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Task<'a> {
    /// The request, as in "waiting 2 s before sending {what} again" (`GET /api/v2/...`).
    pub(crate) what: &'a str,
    /// What a wait is for, as in "waiting for {waiting_for}" (progress on stderr).
    pub(crate) waiting_for: &'a str,
}

/// Runs `attempt` (given the try's number, from 1) until it is done, fails for good, or
/// `schedule` runs out, sleeping in between: exactly `Retry-After` when the server said
/// one, else the policy's backoff with full jitter, or the settle window's doubling wait.
/// Counts tries and time on tokio's clock, so tests run it on a paused one.
pub(crate) async fn run<T, E, F, Fut>(
    schedule: Schedule,
    task: Task<'_>,
    attempt: F,
) -> Result<T, GaveUp<E>>
where
    E: std::fmt::Display,
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Step<T, E>>,
{
    run_with(schedule, task, rand::random::<f64>, attempt).await
}

/// [`run`] with the jitter given (tests).
pub(crate) async fn run_with<T, E, F, Fut>(
    schedule: Schedule,
    task: Task<'_>,
    mut jitter: impl FnMut() -> f64,
    mut attempt: F,
) -> Result<T, GaveUp<E>>
where
    E: std::fmt::Display,
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Step<T, E>>,
{
    let start = tokio::time::Instant::now();
    let mut tries: u32 = 0;
    // A settle window is shown once, for its whole length.
    let mut _settling = None;
    loop {
        tries = tries.saturating_add(1);
        let (err, retry_after) = match attempt(tries).await {
            Step::Done(t) => return Ok(t),
            Step::Fail(last) => {
                return Err(GaveUp {
                    attempts: tries,
                    elapsed: start.elapsed(),
                    last,
                    exhausted: false,
                })
            }
            Step::Retry { err, retry_after } => (err, retry_after),
        };
        let elapsed = start.elapsed();
        let wait = match schedule {
            Schedule::Backoff(policy) => {
                match policy.decide(tries, retry_after, elapsed, jitter()) {
                    Decision::RetryAfter(wait) => Some(wait),
                    Decision::GiveUp => None,
                }
            }
            Schedule::Settle(s) => settle(s, tries, elapsed),
        };
        let Some(wait) = wait else {
            return Err(GaveUp {
                attempts: tries,
                elapsed,
                last: err,
                exhausted: true,
            });
        };
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        match schedule {
            Schedule::Backoff(_) => {
                let told = wait >= Duration::from_secs(2);
                if told {
                    // Said on stderr by default: a silent wait looks like a hang.
                    tracing::warn!(
                        "waiting {} s before sending {} again: {}",
                        wait.as_secs(),
                        task.what,
                        crate::output::sanitize(&err.to_string(), 300)
                    );
                }
                tracing::info!(
                    what = task.what,
                    attempt = tries,
                    wait_ms,
                    "retrying: {err}"
                );
                // Then a spinner on a terminal, or a reminder every few seconds.
                crate::progress::sleep_told(task.waiting_for, wait, told).await;
            }
            Schedule::Settle(s) => {
                tracing::debug!(
                    what = task.what,
                    attempt = tries,
                    wait_ms,
                    "not settled yet; trying again: {err}"
                );
                _settling.get_or_insert_with(|| {
                    crate::progress::waiting(task.waiting_for.to_string(), s.window)
                });
                tokio::time::sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        max_elapsed: Duration::from_secs(120),
        base: Duration::from_millis(500),
        cap: Duration::from_secs(30),
        max_retry_after: Duration::from_secs(180),
    };

    #[test]
    fn settling_doubles_up_to_the_cap_and_stops_at_the_window() {
        assert_eq!(
            settle(DELETE_CONFLICT, 1, Duration::ZERO),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            settle(DELETE_CONFLICT, 3, Duration::from_secs(3)),
            Some(Duration::from_secs(4))
        );
        assert_eq!(
            settle(DELETE_CONFLICT, 9, Duration::from_secs(10)),
            Some(Duration::from_secs(5))
        );
        assert_eq!(settle(DELETE_CONFLICT, 9, Duration::from_secs(26)), None);
        assert_eq!(
            settle(READ_AFTER_WRITE, 1, Duration::ZERO),
            Some(Duration::from_millis(250))
        );
        assert_eq!(settle(READ_AFTER_WRITE, 40, Duration::from_secs(14)), None);
    }

    #[test]
    fn a_429_waits_exactly_retry_after() {
        assert_eq!(
            P.decide(1, Some(Duration::from_secs(7)), Duration::ZERO, 0.3),
            Decision::RetryAfter(Duration::from_secs(7))
        );
    }

    #[test]
    fn a_retry_after_over_180_seconds_gives_up() {
        assert_eq!(
            P.decide(1, Some(Duration::from_secs(181)), Duration::ZERO, 0.5),
            Decision::GiveUp
        );
    }

    #[test]
    fn backoff_doubles_with_full_jitter_up_to_the_cap() {
        let at = |n| P.decide(n, None, Duration::ZERO, 1.0);
        assert_eq!(at(1), Decision::RetryAfter(Duration::from_millis(500)));
        assert_eq!(at(2), Decision::RetryAfter(Duration::from_secs(1)));
        assert_eq!(at(4), Decision::RetryAfter(Duration::from_secs(4)));
        let big = RetryPolicy {
            max_attempts: 50,
            ..P
        };
        assert_eq!(
            big.decide(20, None, Duration::ZERO, 1.0),
            Decision::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(
            P.decide(3, None, Duration::ZERO, 0.0),
            Decision::RetryAfter(Duration::ZERO)
        );
        assert_eq!(
            P.decide(3, None, Duration::ZERO, 0.5),
            Decision::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        assert_eq!(P.decide(5, None, Duration::ZERO, 1.0), Decision::GiveUp);
        assert_eq!(
            P.decide(
                1,
                Some(Duration::from_secs(10)),
                Duration::from_secs(115),
                1.0
            ),
            Decision::GiveUp
        );
    }

    fn status(status: u16, retry_after: Option<u64>) -> Failure {
        Failure::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    fn again(retry_after: Option<u64>) -> Verdict {
        Verdict::Retry {
            retry_after: retry_after.map(Duration::from_secs),
            hold_all: None,
        }
    }

    #[test]
    fn an_api_request_retries_what_the_sdks_retry_and_only_when_resending_is_safe() {
        for code in [500, 502, 503, 504] {
            assert_eq!(
                P.api_failure(status(code, None), 1, true, false),
                again(None)
            );
            assert_eq!(
                P.api_failure(status(code, None), 1, false, false),
                Verdict::Fail
            );
        }
        for code in [400, 403, 404, 409, 501] {
            assert_eq!(
                P.api_failure(status(code, Some(2)), 1, true, false),
                Verdict::Fail
            );
        }
        let dropped = Failure::Network { connect: false };
        assert_eq!(P.api_failure(dropped, 7, true, false), again(None));
        assert_eq!(P.api_failure(dropped, 1, false, false), Verdict::Fail);
        assert_eq!(P.api_failure(Failure::BodyCut, 1, true, false), again(None));
        assert_eq!(
            P.api_failure(Failure::BodyCut, 1, false, false),
            Verdict::Fail
        );
        assert_eq!(
            P.api_failure(Failure::Malformed, 1, true, false),
            Verdict::Fail
        );
    }

    #[test]
    fn a_429_is_retried_even_for_a_create_holding_every_request_for_its_wait() {
        for safe in [true, false] {
            assert_eq!(
                P.api_failure(status(429, Some(7)), 1, safe, false),
                Verdict::Retry {
                    retry_after: Some(Duration::from_secs(7)),
                    hold_all: Some(Duration::from_secs(7)),
                }
            );
        }
        // Without a Retry-After: held the shortest wait, retried after the backoff.
        assert_eq!(
            P.api_failure(status(429, None), 1, true, false),
            Verdict::Retry {
                retry_after: None,
                hold_all: Some(MIN_RETRY_AFTER),
            }
        );
    }

    #[test]
    fn an_absurd_retry_after_is_refused_naming_the_header() {
        assert_eq!(
            P.api_failure(status(429, Some(181)), 1, true, false),
            Verdict::AbsurdWait {
                asked: Duration::from_secs(181),
                header: "Retry-After on a 429",
            }
        );
        // On a 503 even where it would not be resent.
        assert_eq!(
            P.api_failure(status(503, Some(3600)), 1, false, false),
            Verdict::AbsurdWait {
                asked: Duration::from_secs(3600),
                header: "Retry-After",
            }
        );
        // A 500's Retry-After is left to the schedule (which gives up on it).
        assert_eq!(
            P.api_failure(status(500, Some(3600)), 1, true, false),
            again(Some(3600))
        );
        assert_eq!(
            P.token_failure(status(503, Some(181)), 1, false),
            Verdict::AbsurdWait {
                asked: Duration::from_secs(181),
                header: "Retry-After",
            }
        );
    }

    #[test]
    fn a_401_refreshes_the_token_once_per_request() {
        assert_eq!(
            P.api_failure(status(401, None), 1, false, false),
            Verdict::RefreshToken
        );
        assert_eq!(
            P.api_failure(status(401, None), 1, true, true),
            Verdict::Fail
        );
    }

    #[test]
    fn a_host_that_refuses_connections_is_tried_three_times() {
        let refused = Failure::Network { connect: true };
        for attempt in 1..CONNECT_ATTEMPTS {
            assert_eq!(P.api_failure(refused, attempt, true, false), again(None));
            assert_eq!(P.token_failure(refused, attempt, false), again(None));
        }
        assert_eq!(
            P.api_failure(refused, CONNECT_ATTEMPTS, true, false),
            Verdict::ConnectGaveUp
        );
        assert_eq!(
            P.token_failure(refused, CONNECT_ATTEMPTS, false),
            Verdict::ConnectGaveUp
        );
        // A create is not resent at all.
        assert_eq!(P.api_failure(refused, 1, false, false), Verdict::Fail);
    }

    /// The largest wait allowed is waited, not refused (mutation testing found no test at
    /// the boundaries): a `Retry-After` of exactly `max_retry_after`, and a retry whose wait
    /// ends exactly at `max_elapsed`.
    #[test]
    fn the_longest_allowed_wait_is_waited_at_each_boundary() {
        let longest = P.max_retry_after;
        let patient = RetryPolicy {
            max_elapsed: Duration::from_secs(300),
            ..P
        };
        assert_eq!(
            patient.decide(1, Some(longest), Duration::ZERO, 1.0),
            Decision::RetryAfter(longest)
        );
        let wait = Duration::from_secs(7);
        assert_eq!(
            P.decide(1, Some(wait), P.max_elapsed - wait, 1.0),
            Decision::RetryAfter(wait)
        );
        assert_eq!(
            P.decide(
                1,
                Some(wait),
                P.max_elapsed - wait + Duration::from_millis(1),
                1.0
            ),
            Decision::GiveUp
        );
        assert_eq!(
            P.api_failure(status(429, Some(180)), 1, true, false),
            Verdict::Retry {
                retry_after: Some(longest),
                hold_all: Some(longest),
            }
        );
        assert_eq!(
            P.token_failure(status(503, Some(180)), 1, false),
            again(Some(180))
        );
    }

    #[test]
    fn the_token_request_retries_rate_limits_and_gateway_errors_only() {
        for code in [429, 502, 503, 504] {
            assert_eq!(
                P.token_failure(status(code, Some(2)), 1, false),
                again(Some(2))
            );
        }
        // A rate limit said in the description, whatever the status.
        assert_eq!(P.token_failure(status(400, None), 1, true), again(None));
        for code in [400, 401, 500] {
            assert_eq!(P.token_failure(status(code, None), 1, false), Verdict::Fail);
        }
        assert_eq!(P.token_failure(Failure::BodyCut, 1, true), Verdict::Fail);
        assert_eq!(
            P.token_failure(Failure::Network { connect: false }, 5, false),
            again(None)
        );
    }

    #[test]
    fn a_storage_request_is_retried_on_what_the_sdks_retry() {
        use crate::client::{ApiError, ClientError};
        let refused = |status| {
            ClientError::from(ApiError {
                method: "PUT".into(),
                path: "https://storage.example/upload".into(),
                status,
                code: String::new(),
                message: "the upload was refused".into(),
                context_id: None,
                correlation_id: None,
                retry_after: None,
                body: None,
            })
        };
        let retried = |err| {
            matches!(
                storage_step::<()>(err),
                Step::Retry {
                    retry_after: None,
                    ..
                }
            )
        };
        assert!(retried(refused(503)));
        assert!(retried(refused(500)));
        assert!(!retried(refused(403)));
        assert!(retried(ClientError::Network {
            method: "PUT".into(),
            url: "https://storage.example/upload".into(),
            message: "connection reset".into(),
            connect: false,
        }));
    }

    #[test]
    fn the_retried_statuses_are_the_sdks_and_500() {
        let retried: Vec<u16> = (100..600).filter(|s| retryable_status(*s)).collect();
        assert_eq!(retried, [429, 500, 502, 503, 504]);
    }

    #[test]
    fn retry_after_parses_seconds_and_ignores_garbage() {
        assert_eq!(parse_retry_after(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(Some(" 12 ")),
            Some(Duration::from_secs(12))
        );
        assert_eq!(parse_retry_after(Some("soon")), None);
        assert_eq!(parse_retry_after(Some("-4")), None);
        assert_eq!(parse_retry_after(Some("")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn a_zero_retry_after_waits_one_second_not_zero() {
        assert_eq!(parse_retry_after(Some("0")), Some(MIN_RETRY_AFTER));
    }

    #[test]
    fn an_http_date_retry_after_waits_until_that_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("date");
        assert_eq!(
            parse_retry_after_at(Some("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        // A date already past: the shortest wait.
        assert_eq!(
            parse_retry_after_at(Some("Wed, 21 Oct 2015 07:00:00 GMT"), now),
            Some(MIN_RETRY_AFTER)
        );
    }

    #[test]
    fn an_absurd_retry_after_is_a_huge_wait_that_the_policy_refuses() {
        for v in ["18446744073709551615", "99999999999999999999999999"] {
            let d = parse_retry_after(Some(v)).expect("a number");
            assert_eq!(d, Duration::from_secs(u64::MAX));
            assert_eq!(P.decide(1, Some(d), Duration::ZERO, 0.5), Decision::GiveUp);
        }
    }

    #[test]
    fn decide_never_overflows_on_any_input() {
        let big = Duration::MAX;
        assert_eq!(P.decide(1, None, big, 1.0), Decision::GiveUp);
        assert_eq!(
            P.decide(u32::MAX - 1, None, Duration::ZERO, 1.0),
            Decision::GiveUp
        );
        let many = RetryPolicy {
            max_attempts: u32::MAX,
            ..P
        };
        assert!(matches!(
            many.decide(u32::MAX - 1, None, Duration::ZERO, 1.0),
            Decision::RetryAfter(_)
        ));
    }

    /// The runner on tokio's paused clock: each try's time since the start, and the result.
    mod runner {
        use super::super::*;
        use crate::client::{ApiError, ClientError};
        use std::cell::RefCell;
        use tokio::time::Instant;

        const TASK: Task<'static> = Task {
            what: "GET /api/v2/flows/abc",
            waiting_for: "a test",
        };

        fn unavailable() -> ClientError {
            ClientError::from(ApiError {
                method: "GET".into(),
                path: "/api/v2/flows/abc".into(),
                status: 503,
                code: String::new(),
                message: "Service Unavailable".into(),
                context_id: None,
                correlation_id: None,
                retry_after: None,
                body: None,
            })
        }

        /// Runs `schedule` with full jitter (the longest backoff) over `steps` (the last
        /// one repeats), returning when each try started and what the runner returned.
        async fn drive(
            schedule: Schedule,
            steps: Vec<fn() -> Step<&'static str, ClientError>>,
        ) -> (Vec<Duration>, Result<&'static str, GaveUp<ClientError>>) {
            let start = Instant::now();
            let tries = RefCell::new(Vec::new());
            let result = run_with(
                schedule,
                TASK,
                || 1.0,
                |n| {
                    tries.borrow_mut().push(start.elapsed());
                    let i = usize::try_from(n).unwrap_or(usize::MAX).saturating_sub(1);
                    let step = steps
                        .get(i)
                        .or(steps.last())
                        .map_or(Step::Done("no steps"), |f| f());
                    async move { step }
                },
            )
            .await;
            (tries.into_inner(), result)
        }

        fn secs(s: &[f64]) -> Vec<Duration> {
            s.iter().map(|&x| Duration::from_secs_f64(x)).collect()
        }

        /// Drives `schedule` with a retryable 503 every time, to its give-up.
        async fn given_up(schedule: Schedule) -> (Vec<Duration>, GaveUp<ClientError>) {
            let (tries, result) = drive(schedule, vec![|| Step::retry(unavailable())]).await;
            match result {
                Ok(_) => panic!("a 503 every time succeeded"),
                Err(g) => (tries, g),
            }
        }

        /// The tries started at `at` (seconds) and the last one's answer was returned.
        fn succeeded(
            (tries, result): (Vec<Duration>, Result<&str, GaveUp<ClientError>>),
            at: &[f64],
            answer: &str,
        ) {
            assert_eq!(tries, secs(at));
            assert_eq!(result.ok(), Some(answer));
        }

        #[tokio::test(start_paused = true)]
        async fn a_retry_after_is_waited_exactly_then_the_answer_returned() {
            succeeded(
                drive(
                    Schedule::Backoff(RetryPolicy::default()),
                    vec![
                        || Step::Retry {
                            err: unavailable(),
                            retry_after: Some(Duration::from_secs(7)),
                        },
                        || Step::Done("ok"),
                    ],
                )
                .await,
                &[0.0, 7.0],
                "ok",
            );
        }

        #[tokio::test(start_paused = true)]
        async fn backoff_doubles_per_policy_between_tries() {
            let again = || Step::retry(unavailable());
            let steps: Vec<fn() -> Step<&'static str, ClientError>> =
                vec![again, again, again, || Step::Done("ok")];
            // Waits of 0.5 s, 1 s, 2 s: base 500 ms doubling, full jitter at its top.
            succeeded(
                drive(Schedule::Backoff(RetryPolicy::default()), steps).await,
                &[0.0, 0.5, 1.5, 3.5],
                "ok",
            );
        }

        #[tokio::test(start_paused = true)]
        async fn the_attempt_limit_ends_it_and_the_give_up_names_attempts_and_time() {
            let policy = RetryPolicy {
                max_attempts: 5,
                ..RetryPolicy::default()
            };
            let (tries, g) = given_up(Schedule::Backoff(policy)).await;
            assert_eq!(tries.len(), 5);
            assert!(g.exhausted);
            assert_eq!(g.elapsed, Duration::from_millis(7500));
            let err = g.into_client_error("GET", "/api/v2/flows/abc");
            assert_eq!(
                err.to_string(),
                "GET /api/v2/flows/abc: gave up after 5 attempts over 7.5 s: 503: Service Unavailable"
            );
        }

        #[tokio::test(start_paused = true)]
        async fn the_total_time_ends_it_before_a_wait_would_pass_it() {
            let policy = RetryPolicy {
                max_elapsed: Duration::from_secs(10),
                ..RetryPolicy::default()
            };
            let (tries, result) = drive(
                Schedule::Backoff(policy),
                vec![|| Step::Retry {
                    err: unavailable(),
                    retry_after: Some(Duration::from_secs(4)),
                }],
            )
            .await;
            // 0, 4, 8; a third wait would end at 12 s.
            assert_eq!(tries, secs(&[0.0, 4.0, 8.0]));
            assert!(result.is_err_and(|g| g.exhausted && g.attempts == 3));
        }

        #[tokio::test(start_paused = true)]
        async fn a_404_after_a_write_is_waited_out_for_15_seconds_then_given_up() {
            let (tries, g) = given_up(Schedule::Settle(READ_AFTER_WRITE)).await;
            // 0.25, 0.5, 1, then 2 s each while the next try still starts within 15 s.
            assert_eq!(
                tries,
                secs(&[0.0, 0.25, 0.75, 1.75, 3.75, 5.75, 7.75, 9.75, 11.75, 13.75])
            );
            assert!(g.exhausted && g.elapsed <= READ_AFTER_WRITE.window);
        }

        #[tokio::test(start_paused = true)]
        async fn a_409_on_delete_is_waited_out_for_30_seconds_and_ends_when_it_clears() {
            let (tries, g) = given_up(Schedule::Settle(DELETE_CONFLICT)).await;
            assert_eq!(tries, secs(&[0.0, 1.0, 3.0, 7.0, 12.0, 17.0, 22.0, 27.0]));
            assert_eq!(
                g.into_client_error("DELETE", "/api/v2/flows/abc").to_string(),
                "DELETE /api/v2/flows/abc: gave up after 8 attempts over 27.0 s: 503: Service Unavailable"
            );
            succeeded(
                drive(
                    Schedule::Settle(DELETE_CONFLICT),
                    vec![|| Step::retry(unavailable()), || Step::Done("deleted")],
                )
                .await,
                &[0.0, 1.0],
                "deleted",
            );
        }

        #[tokio::test(start_paused = true)]
        async fn a_failure_that_is_not_retryable_returns_at_once_after_one_attempt() {
            let (tries, result) = drive(
                Schedule::Backoff(RetryPolicy::default()),
                vec![|| Step::Fail(unavailable())],
            )
            .await;
            assert_eq!(tries, secs(&[0.0]));
            let Err(g) = result else { panic!("failed") };
            assert_eq!((g.attempts, g.exhausted), (1, false));
            assert_eq!(g.elapsed, Duration::ZERO);
            // Told as itself, not as a give-up.
            assert!(g
                .into_client_error("GET", "/api/v2/flows/abc")
                .to_string()
                .starts_with("GET /api/v2/flows/abc failed with 503"));
        }

        #[tokio::test(start_paused = true)]
        async fn a_retry_after_past_the_cap_gives_up_on_the_first_try_as_itself() {
            let (tries, result) = drive(
                Schedule::Backoff(RetryPolicy::default()),
                vec![|| Step::Retry {
                    err: unavailable(),
                    retry_after: Some(Duration::from_secs(181)),
                }],
            )
            .await;
            assert_eq!(tries.len(), 1);
            let Err(g) = result else { panic!("gave up") };
            assert!(g.exhausted && !g.retried());
            assert!(matches!(
                g.into_client_error("GET", "/x"),
                ClientError::Api(_)
            ));
        }
    }
}

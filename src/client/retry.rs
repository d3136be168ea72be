//! When to retry, as a pure function the caller acts on (it does the sleeping).
//!
//! Retried: what the official SDKs retry (genesys-api.md): connection errors, 429, and
//! 502/503/504. Nothing else: 400, 404, 409 and the like are answers, not accidents.
//!
//! | failure | wait |
//! |---|---|
//! | 429 with a valid `Retry-After` | exactly that (give up when it exceeds 180 s, as the Go SDK does) |
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
    /// `attempt` is how many sends were made (1 after the first); `jitter` is in [0, 1].
    pub fn decide(
        &self,
        attempt: u32,
        retryable: bool,
        retry_after: Option<Duration>,
        elapsed: Duration,
        jitter: f64,
    ) -> Decision {
        if !retryable || attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let wait = match retry_after {
            Some(d) if d > self.max_retry_after => return Decision::GiveUp,
            Some(d) => d,
            None => {
                let exp = self
                    .base
                    .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
                exp.min(self.cap).mul_f64(jitter.clamp(0.0, 1.0))
            }
        };
        if elapsed + wait > self.max_elapsed {
            return Decision::GiveUp;
        }
        Decision::RetryAfter(wait)
    }
}

/// `Retry-After` as Genesys sends it: whole seconds. Anything else (an HTTP date, garbage,
/// a negative number) is ignored and the backoff applies.
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let v = value?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
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
    fn a_429_waits_exactly_retry_after() {
        assert_eq!(
            P.decide(1, true, Some(Duration::from_secs(7)), Duration::ZERO, 0.3),
            Decision::RetryAfter(Duration::from_secs(7))
        );
    }

    #[test]
    fn a_retry_after_over_180_seconds_gives_up() {
        assert_eq!(
            P.decide(1, true, Some(Duration::from_secs(181)), Duration::ZERO, 0.5),
            Decision::GiveUp
        );
    }

    #[test]
    fn backoff_doubles_with_full_jitter_up_to_the_cap() {
        let at = |n| P.decide(n, true, None, Duration::ZERO, 1.0);
        assert_eq!(at(1), Decision::RetryAfter(Duration::from_millis(500)));
        assert_eq!(at(2), Decision::RetryAfter(Duration::from_secs(1)));
        assert_eq!(at(4), Decision::RetryAfter(Duration::from_secs(4)));
        let big = RetryPolicy {
            max_attempts: 50,
            ..P
        };
        assert_eq!(
            big.decide(20, true, None, Duration::ZERO, 1.0),
            Decision::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(
            P.decide(3, true, None, Duration::ZERO, 0.0),
            Decision::RetryAfter(Duration::ZERO)
        );
        assert_eq!(
            P.decide(3, true, None, Duration::ZERO, 0.5),
            Decision::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        assert_eq!(
            P.decide(5, true, None, Duration::ZERO, 1.0),
            Decision::GiveUp
        );
        assert_eq!(
            P.decide(
                1,
                true,
                Some(Duration::from_secs(10)),
                Duration::from_secs(115),
                1.0
            ),
            Decision::GiveUp
        );
    }

    #[test]
    fn what_is_not_retryable_is_never_retried() {
        assert_eq!(
            P.decide(1, false, Some(Duration::from_secs(1)), Duration::ZERO, 1.0),
            Decision::GiveUp
        );
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
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(None), None);
    }
}

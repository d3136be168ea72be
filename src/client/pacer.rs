//! One pacer per client, shared by every request, so parallel work stays within the rate
//! limit instead of spraying 429s.
//!
//! Every answer carries `inin-ratelimit-allowed`, `-count` and `-reset` (seconds until the
//! window resets). The window's allowance is used at full speed; only its last few requests
//! (enough headroom for the requests already in flight) are spread evenly over the time to
//! its reset, so the next window starts with no 429 spent. After a 429, every request waits
//! for `Retry-After`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When this many requests or fewer are left in the window, they are spread out: more than
/// flowctl ever has in flight at once.
const HEADROOM: u64 = 16;

/// The longest a rate-limit window lasts: Genesys counts requests per 60 s (genesys-api.md,
/// "300 requests per 60 s"), so `inin-ratelimit-reset` is at most 60. A longer reset with the
/// window spent is not slept: the request gives up (exit 5) and says what the server sent.
pub const MAX_RESET: Duration = Duration::from_secs(60);

/// Waits shorter than this are not worth a line on stderr.
const TELL_AFTER: Duration = Duration::from_secs(2);

/// The `inin-ratelimit-*` headers of one answer, parsed into bounded numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    pub allowed: u64,
    pub count: u64,
    /// As sent (saturated at `u64::MAX` seconds); the 60 s cap applies where it is used.
    pub reset: Duration,
}

/// A header that must be a non-negative integer: digits only (after trimming); too many
/// digits saturates. Anything else is `None` and the answer's rate headers are ignored.
fn count_header(value: Option<&str>) -> Option<u64> {
    let v = value?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<u64>().unwrap_or(u64::MAX))
}

impl RateHeaders {
    /// All three headers, or nothing (a partial or garbled set teaches nothing).
    pub fn parse(
        allowed: Option<&str>,
        count: Option<&str>,
        reset: Option<&str>,
    ) -> Option<RateHeaders> {
        Some(RateHeaders {
            allowed: count_header(allowed)?,
            count: count_header(count)?,
            reset: Duration::from_secs(count_header(reset)?),
        })
    }
}

/// Why the pacer refused to wait: the server asked for more than is sane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// The wait the server's `inin-ratelimit-reset` asked for.
    pub asked: Duration,
}

#[derive(Debug)]
pub struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// No request before this (a 429's Retry-After).
    blocked_until: Option<Instant>,
    /// The earliest time for the next request.
    next_slot: Instant,
    /// Gap between requests while the window runs low.
    spacing: Duration,
    /// When the current window resets (from `inin-ratelimit-reset`, at most [`MAX_RESET`]).
    reset_at: Option<Instant>,
    /// The window is spent or low and its reset is past [`MAX_RESET`]: what was asked.
    absurd: Option<Duration>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            state: Mutex::new(State {
                blocked_until: None,
                next_slot: Instant::now(),
                spacing: Duration::ZERO,
                reset_at: None,
                absurd: None,
            }),
        }
    }
}

/// Why a request waits, for the line on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    RetryAfter,
    Window,
}

/// Reserves the next slot at `now` and returns how long to wait for it.
fn reserve(s: &mut State, now: Instant) -> Result<(Duration, Reason), TooLong> {
    if let Some(asked) = s.absurd {
        return Err(TooLong { asked });
    }
    let mut at = s.next_slot.max(now);
    let mut spacing = s.spacing;
    if let Some(reset) = s.reset_at.filter(|r| at >= *r) {
        // By then the window has reset: wait no longer than that, and the new window
        // starts with room, so no more spreading until new headers say so.
        at = reset.max(now);
        spacing = Duration::ZERO;
        s.spacing = Duration::ZERO;
        s.reset_at = None;
    }
    let mut reason = Reason::Window;
    if let Some(b) = s.blocked_until.filter(|b| *b > at) {
        at = b;
        reason = Reason::RetryAfter;
    }
    s.next_slot = at.checked_add(spacing).unwrap_or(at);
    Ok((at.saturating_duration_since(now), reason))
}

/// The pure part: how far apart to send, given the headers.
pub fn spacing(allowed: u64, count: u64, reset: Duration) -> Duration {
    if allowed == 0 {
        return Duration::ZERO;
    }
    let remaining = allowed.saturating_sub(count);
    if remaining > HEADROOM.min(allowed / 4) {
        return Duration::ZERO;
    }
    // Leave one request of slack for the request that observed these headers' siblings.
    // `remaining` is at most HEADROOM here, so the cast is exact.
    reset
        / u32::try_from(remaining)
            .unwrap_or(u32::MAX)
            .saturating_add(1)
}

impl Pacer {
    /// Waits for this request's slot; refuses (without waiting) when the server's window
    /// reset is past [`MAX_RESET`] and the window is spent.
    pub async fn wait(&self) -> Result<(), TooLong> {
        let (wait, reason) = match self.state.lock() {
            Ok(mut s) => reserve(&mut s, Instant::now())?,
            Err(_) => return Ok(()),
        };
        if wait >= TELL_AFTER {
            // Said on stderr (warn is shown by default): a silent minute looks like a hang.
            let why = match reason {
                Reason::RetryAfter => "the API answered 429 Too Many Requests with Retry-After",
                Reason::Window => "this rate-limit window is spent (inin-ratelimit-reset)",
            };
            tracing::warn!("waiting {} s for the rate limit: {why}", wait.as_secs());
        } else if !wait.is_zero() {
            tracing::debug!(
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "pacing for the rate limit"
            );
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Learns from an answer's `inin-ratelimit-*` headers.
    pub fn observe(&self, headers: Option<RateHeaders>) {
        let Some(h) = headers else {
            return;
        };
        if let Ok(mut s) = self.state.lock() {
            let now = Instant::now();
            let low = spacing(h.allowed, h.count, Duration::from_secs(1)) > Duration::ZERO;
            s.absurd = (low && h.reset > MAX_RESET).then_some(h.reset);
            let reset = h.reset.min(MAX_RESET);
            s.spacing = spacing(h.allowed, h.count, reset);
            s.reset_at = now.checked_add(reset);
        }
    }

    /// After a 429: hold every request until `retry_after` has passed (the caller refuses
    /// waits over the policy's cap before this; the bound here only keeps the clock sane).
    pub fn block(&self, retry_after: Duration) {
        if let Ok(mut s) = self.state.lock() {
            let now = Instant::now();
            let until = now
                .checked_add(retry_after.min(Duration::from_secs(3600)))
                .unwrap_or(now);
            s.blocked_until = Some(s.blocked_until.map_or(until, |b| b.max(until)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_spacing_while_the_window_has_room() {
        assert_eq!(spacing(300, 10, Duration::from_secs(50)), Duration::ZERO);
        assert_eq!(spacing(300, 280, Duration::from_secs(50)), Duration::ZERO);
        assert!(spacing(300, 290, Duration::from_secs(50)) > Duration::ZERO);
    }

    #[test]
    fn the_rest_of_a_low_window_is_spread_until_its_reset() {
        // 300 allowed, 290 used, 10 s to reset: 10 left → 11 slots over 10 s.
        let s = spacing(300, 290, Duration::from_secs(10));
        assert!(
            s > Duration::from_millis(900) && s < Duration::from_secs(1),
            "{s:?}"
        );
        // Exhausted: wait out the reset.
        assert_eq!(
            spacing(300, 300, Duration::from_secs(4)),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn reserved_slots_never_reach_past_the_windows_reset() {
        let now = Instant::now();
        let mut s = State {
            blocked_until: None,
            next_slot: now,
            // 5 left with 1 s to the reset.
            spacing: spacing(300, 295, Duration::from_secs(1)),
            reset_at: Some(now + Duration::from_secs(1)),
            absurd: None,
        };
        // 20 requests queue at once: the spread ones wait less than the reset, the rest
        // wait for the reset exactly, none longer.
        let waits: Vec<Duration> = (0..20)
            .filter_map(|_| reserve(&mut s, now).ok().map(|(w, _)| w))
            .collect();
        assert!(
            waits.iter().all(|w| *w <= Duration::from_secs(1)),
            "{waits:?}"
        );
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(waits[19], Duration::from_secs(1));
    }

    #[test]
    fn missing_or_zero_allowance_never_blocks() {
        assert_eq!(spacing(0, 0, Duration::from_secs(60)), Duration::ZERO);
    }

    #[test]
    fn rate_headers_are_bounded_numbers_or_ignored() {
        let h = RateHeaders::parse(Some("300"), Some(" 12 "), Some("18446744073709551615"));
        assert_eq!(h.map(|h| h.reset), Some(Duration::from_secs(u64::MAX)));
        let huge = RateHeaders::parse(Some("9".repeat(40).as_str()), Some("1"), Some("5"));
        assert_eq!(huge.map(|h| h.allowed), Some(u64::MAX));
        assert_eq!(RateHeaders::parse(Some("300"), Some("-1"), Some("5")), None);
        assert_eq!(RateHeaders::parse(Some("abc"), Some("1"), Some("5")), None);
        assert_eq!(RateHeaders::parse(Some("300"), None, Some("5")), None);
        assert_eq!(RateHeaders::parse(Some("3.5"), Some("1"), Some("5")), None);
    }

    #[tokio::test]
    async fn a_spent_window_with_an_absurd_reset_is_refused_not_slept() {
        let pacer = Pacer::default();
        pacer.observe(RateHeaders::parse(
            Some("300"),
            Some("300"),
            Some("18446744073709551615"),
        ));
        assert_eq!(
            pacer.wait().await,
            Err(TooLong {
                asked: Duration::from_secs(u64::MAX)
            })
        );
        // Sane headers again: requests go on.
        pacer.observe(RateHeaders::parse(Some("300"), Some("1"), Some("30")));
        assert_eq!(pacer.wait().await, Ok(()));
    }

    #[tokio::test]
    async fn an_absurd_reset_with_room_left_changes_nothing() {
        let pacer = Pacer::default();
        pacer.observe(RateHeaders::parse(Some("300"), Some("3"), Some("3600")));
        assert_eq!(pacer.wait().await, Ok(()));
    }

    #[test]
    fn an_absurd_block_never_overflows_the_clock() {
        let pacer = Pacer::default();
        pacer.block(Duration::MAX);
        pacer.block(Duration::from_secs(u64::MAX));
    }
}

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
    /// When the current window resets (from `inin-ratelimit-reset`).
    reset_at: Option<Instant>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            state: Mutex::new(State {
                blocked_until: None,
                next_slot: Instant::now(),
                spacing: Duration::ZERO,
                reset_at: None,
            }),
        }
    }
}

/// Reserves the next slot at `now` and returns how long to wait for it.
fn reserve(s: &mut State, now: Instant) -> Duration {
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
    if let Some(b) = s.blocked_until {
        at = at.max(b);
    }
    s.next_slot = at + spacing;
    at.saturating_duration_since(now)
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
    reset / (remaining as u32).saturating_add(1).max(1)
}

impl Pacer {
    /// Waits for this request's slot.
    pub async fn wait(&self) {
        let wait = match self.state.lock() {
            Ok(mut s) => reserve(&mut s, Instant::now()),
            Err(_) => return,
        };
        if !wait.is_zero() {
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "pacing for the rate limit"
            );
            crate::progress::sleep("a slot under the API rate limit", wait).await;
        }
    }

    /// Learns from an answer's `inin-ratelimit-*` headers.
    pub fn observe(&self, allowed: Option<u64>, count: Option<u64>, reset: Option<u64>) {
        let (Some(allowed), Some(count), Some(reset)) = (allowed, count, reset) else {
            return;
        };
        if let Ok(mut s) = self.state.lock() {
            s.spacing = spacing(allowed, count, Duration::from_secs(reset));
            s.reset_at = Some(Instant::now() + Duration::from_secs(reset));
        }
    }

    /// After a 429: hold every request until `retry_after` has passed.
    pub fn block(&self, retry_after: Duration) {
        if let Ok(mut s) = self.state.lock() {
            let until = Instant::now() + retry_after;
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
        };
        // 20 requests queue at once: the spread ones wait less than the reset, the rest
        // wait for the reset exactly, none longer.
        let waits: Vec<Duration> = (0..20).map(|_| reserve(&mut s, now)).collect();
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
}

//! One pacer per client, shared by every request of a run, so that parallel work stays
//! within the rate limit without ever finding it by a 429.
//!
//! Genesys counts requests per token in fixed windows and says so on every answer:
//! `inin-ratelimit-allowed` (the window's allowance), `-count` (used so far) and `-reset`
//! (whole seconds until the window resets). Nothing is assumed (not 300, not 60 s): until
//! the first answer only one request is in flight, and from then on the pacer knows the
//! window.
//!
//! Every request **reserves its slot before it is sent**, so requests in flight are counted
//! before their answers come back, and the window cannot be overshot however many tasks
//! share the client. Answers correct the count upwards (another process on the same token
//! shows up in `count`) and pin the window's end (the earliest `now + reset` seen in the
//! window; if the server rounds `reset` down instead of up, the first surprise 429 adds a
//! second of guard). A window is spent at full speed, then the pacer waits for its reset:
//! the fastest a fixed window allows. A 429 is a correction: it marks the window spent and
//! holds every request for `Retry-After`.
//!
//! [`Window::reserve`] and [`Window::observe`] are the pure logic, tested with a fixed
//! clock; [`Pacer`] wraps them in a mutex and sleeps.

use std::sync::Mutex;
use std::time::Duration;
// tokio's clock, so the pacer can be tested with a paused clock.
use tokio::time::Instant;

/// A window's end is taken as the earliest `answer time + reset`; if that proves early (a
/// 429 while the pacer believed there was room), this guard is added from then on.
const SURPRISE_GUARD: Duration = Duration::from_secs(1);
/// An answer whose window ends this much later than the current one's starts a new window.
const NEW_WINDOW_JUMP: Duration = Duration::from_millis(1500);
/// How often a waiting request looks again when only an answer can free a slot.
const RECHECK: Duration = Duration::from_millis(20);

/// The longest a rate-limit window lasts: Genesys counts requests per 60 s
/// (docs/genesys-api.md#rate-limits-and-retries), so `inin-ratelimit-reset` is at most 60. A longer reset with the
/// window spent is not slept: the request gives up (exit 5) and says what the server sent.
pub const MAX_RESET: Duration = Duration::from_secs(60);

/// Waits shorter than this are not worth a line on stderr.
const TELL_AFTER: Duration = Duration::from_secs(2);

/// The longest a 429's `Retry-After` can hold the pacer (the client refuses more than its
/// policy's cap before it gets here; this only keeps the clock sane).
const MAX_BLOCK: Duration = Duration::from_secs(3600);

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

/// What the pacer knows of the server's rate-limit window.
#[derive(Debug, Clone)]
pub struct Window {
    /// Requests allowed per window, once an answer said so.
    allowed: Option<u64>,
    /// Requests counted in the current window: reserved by us (answered or in flight), or
    /// the server's count if higher.
    used: u64,
    /// When the current window ends, once an answer in it said so.
    ends: Option<Instant>,
    /// Requests reserved and not yet answered.
    in_flight: u64,
    /// No request before this (a 429's `Retry-After`).
    blocked_until: Option<Instant>,
    /// Extra time added to every window end (see [`SURPRISE_GUARD`]).
    guard: Duration,
    /// The window is spent and the server's reset was past [`MAX_RESET`]: what it asked.
    absurd: Option<Duration>,
}

/// What a request should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Go now; the slot is reserved.
    Go,
    /// Try again at this time (the window's reset, or a `Retry-After`).
    At(Instant),
    /// Try again when an answer has come back (the window is unknown or spent and its end
    /// is not known yet).
    AfterAnswer,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            allowed: None,
            used: 0,
            ends: None,
            in_flight: 0,
            blocked_until: None,
            guard: Duration::ZERO,
            absurd: None,
        }
    }
}

impl Window {
    /// Reserves a slot at `now`, or says when to try again; refuses when the window is
    /// spent and the server said it resets later than any window lasts.
    pub fn reserve(&mut self, now: Instant) -> Result<Slot, TooLong> {
        if let Some(asked) = self.absurd {
            return Err(TooLong { asked });
        }
        if let Some(b) = self.blocked_until {
            if now < b {
                return Ok(Slot::At(b));
            }
            self.blocked_until = None;
        }
        if let Some(end) = self.ends {
            if now >= end + self.guard {
                // The window has reset. Requests still in flight may land in the new one,
                // so they count there; its end is learned from its first answer.
                self.used = self.in_flight;
                self.ends = None;
            }
        }
        let Some(allowed) = self.allowed else {
            // Nothing known yet: one request at a time until an answer tells the window.
            if self.in_flight == 0 {
                self.in_flight += 1;
                return Ok(Slot::Go);
            }
            return Ok(Slot::AfterAnswer);
        };
        if self.used < allowed {
            self.used += 1;
            self.in_flight += 1;
            return Ok(Slot::Go);
        }
        Ok(match self.ends {
            Some(end) => Slot::At(end + self.guard),
            None => Slot::AfterAnswer,
        })
    }

    /// An answer came back at `now`, with the rate-limit headers if it had them (a
    /// dropped connection has none). Frees its in-flight slot and learns the window.
    pub fn observe(&mut self, now: Instant, headers: Option<RateHeaders>) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let Some(RateHeaders {
            allowed,
            count,
            reset,
        }) = headers
        else {
            return;
        };
        if allowed == 0 {
            return;
        }
        // A reset past any window's length is absurd: with the window spent it is refused
        // (not slept), otherwise it only says nothing about the window's end.
        let spent = count >= allowed;
        let was_absurd = self.absurd.is_some();
        self.absurd = (spent && reset > MAX_RESET).then_some(reset);
        let Some(end) = now.checked_add(reset.min(MAX_RESET)) else {
            return;
        };
        self.allowed = Some(allowed);
        // Answers arrive out of order, so a lower count inside a window is an older answer,
        // never a reset: only an answer whose window ends later (or one after an absurd
        // reset, whose end was never real) starts a new window.
        match self.ends {
            Some(current) if end <= current + NEW_WINDOW_JUMP && !was_absurd => {
                // The same window: its end is the earliest estimate, its use the highest.
                self.ends = Some(current.min(end));
                self.used = self.used.max(count);
            }
            Some(_) => {
                // A new window before the pacer saw the old one end: start over from the
                // server's count (and what is still in flight, which may land in it).
                self.ends = Some(end);
                self.used = count.saturating_add(self.in_flight);
            }
            None => {
                // The first answer in a window the pacer rolled into (or the first ever):
                // what it reserved since counts too.
                self.ends = Some(end);
                self.used = self.used.max(count.saturating_add(self.in_flight));
            }
        }
    }

    /// A 429 at `now`: the window is spent whatever the pacer believed, and every request
    /// waits `retry_after` (exactly that: then a new window opens). If the pacer believed there was room, its idea of the window's
    /// end was early: from now on a guard is added to it.
    pub fn throttled(&mut self, now: Instant, retry_after: Duration) {
        if let Some(allowed) = self.allowed {
            if self.used < allowed || self.ends.is_none() {
                self.guard = SURPRISE_GUARD;
            }
            self.used = allowed;
        }
        let until = now.checked_add(retry_after.min(MAX_BLOCK)).unwrap_or(now);
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        // The server's word beats the pacer's estimate: the window is spent until the
        // Retry-After has passed, and no longer (a 429 that is not the window's, such as a
        // burst limit, must not hold everyone for the rest of a 60 s window).
        // (The guard is for estimated ends; a Retry-After is exact, so it is taken off.)
        self.ends = self
            .blocked_until
            .map(|b| b.checked_sub(self.guard).unwrap_or(b));
    }
}

#[derive(Debug, Default)]
pub struct Pacer {
    window: Mutex<Window>,
    /// When a request last had to wait for the window (for "is the pacer the bottleneck").
    last_wait: Mutex<Option<Instant>>,
}

impl Pacer {
    /// Waits for this request's slot and reserves it. Every call that returns `Ok` must be
    /// followed by [`Pacer::observe`] (or [`Pacer::no_answer`]) when the request ends. A
    /// spent window whose reset is past [`MAX_RESET`] is refused at once.
    pub async fn wait(&self) -> Result<(), TooLong> {
        let start = Instant::now();
        let mut told = false;
        let mut _waiting = None;
        loop {
            let now = Instant::now();
            let (slot, blocked) = match self.window.lock() {
                Ok(mut w) => {
                    let blocked = w.blocked_until.is_some_and(|b| b > now);
                    (w.reserve(now)?, blocked)
                }
                Err(_) => return Ok(()),
            };
            let wait = match slot {
                Slot::Go => {
                    let waited = start.elapsed();
                    if waited > RECHECK {
                        tracing::debug!(
                            wait_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                            "paced for the rate limit"
                        );
                        if let Ok(mut l) = self.last_wait.lock() {
                            *l = Some(Instant::now());
                        }
                    }
                    return Ok(());
                }
                Slot::At(t) => t
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
                Slot::AfterAnswer => RECHECK,
            };
            if wait >= TELL_AFTER && !told {
                // Said on stderr (warn is shown by default): a silent minute looks like a hang.
                told = true;
                let why = if blocked {
                    "the API answered 429 Too Many Requests with Retry-After"
                } else {
                    "this rate-limit window is spent (inin-ratelimit-reset)"
                };
                tracing::warn!("waiting {} s for the rate limit: {why}", wait.as_secs());
                // Then a spinner on a terminal, or a reminder every few seconds.
                _waiting = Some(crate::progress::waiting_told(
                    "the rate limit".to_string(),
                    wait,
                ));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Learns from an answer's `inin-ratelimit-*` headers and frees its slot.
    pub fn observe(&self, headers: Option<RateHeaders>) {
        if let Ok(mut w) = self.window.lock() {
            w.observe(Instant::now(), headers);
        }
    }

    /// The request ended with no answer (a dropped connection, a timeout): frees its slot.
    pub fn no_answer(&self) {
        if let Ok(mut w) = self.window.lock() {
            w.observe(Instant::now(), None);
        }
    }

    /// After a 429: hold every request until `retry_after` has passed.
    pub fn block(&self, retry_after: Duration) {
        if let Ok(mut w) = self.window.lock() {
            w.throttled(Instant::now(), retry_after);
        }
    }

    /// The window's allowance, once an answer said it.
    pub fn allowed(&self) -> Option<u64> {
        self.window.lock().ok().and_then(|w| w.allowed)
    }

    /// True when a request waited for the window within `recent`.
    pub fn throttled_within(&self, recent: Duration) -> bool {
        self.last_wait
            .lock()
            .ok()
            .and_then(|l| *l)
            .is_some_and(|at| at.elapsed() < recent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(allowed: u64, count: u64, reset_s: u64) -> Option<RateHeaders> {
        Some(RateHeaders {
            allowed,
            count,
            reset: Duration::from_secs(reset_s),
        })
    }

    fn go(w: &mut Window, now: Instant) -> Slot {
        w.reserve(now).expect("not refused")
    }

    #[test]
    fn until_the_first_answer_only_one_request_is_in_flight() {
        let now = Instant::now();
        let mut w = Window::default();
        assert_eq!(go(&mut w, now), Slot::Go);
        assert_eq!(go(&mut w, now), Slot::AfterAnswer);
        w.observe(now, headers(60, 1, 10));
        assert_eq!(go(&mut w, now), Slot::Go);
    }

    #[test]
    fn requests_in_flight_are_counted_so_the_window_is_never_overshot() {
        let now = Instant::now();
        let mut w = Window::default();
        assert_eq!(go(&mut w, now), Slot::Go);
        w.observe(now, headers(10, 1, 10));
        // Nine more may go at once, before any answer; the tenth waits for the reset.
        for _ in 0..9 {
            assert_eq!(go(&mut w, now), Slot::Go);
        }
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(10)));
        // After the reset the new window opens without waiting for headers.
        let later = now + Duration::from_secs(10);
        for _ in 0..9 {
            w.observe(later, headers(10, 9, 0));
        }
        assert_eq!(go(&mut w, later), Slot::Go);
    }

    #[test]
    fn another_process_on_the_token_shows_in_count_and_is_respected() {
        let now = Instant::now();
        let mut w = Window::default();
        assert_eq!(go(&mut w, now), Slot::Go);
        // We sent one; the server counted 8 (someone else sent 7).
        w.observe(now, headers(10, 8, 30));
        assert_eq!(go(&mut w, now), Slot::Go);
        assert_eq!(go(&mut w, now), Slot::Go);
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(30)));
    }

    #[test]
    fn the_window_end_is_the_earliest_estimate_and_a_new_window_is_recognised() {
        let now = Instant::now();
        let mut w = Window::default();
        go(&mut w, now);
        w.observe(now, headers(100, 1, 10));
        go(&mut w, now);
        w.observe(now + Duration::from_millis(300), headers(100, 2, 10));
        assert_eq!(w.ends, Some(now + Duration::from_secs(10)));
        // After the reset: an answer whose end jumps a whole window ahead starts anew.
        let next = now + Duration::from_secs(11);
        go(&mut w, next);
        w.observe(next, headers(100, 1, 60));
        assert_eq!(w.ends, Some(next + Duration::from_secs(60)));
        assert_eq!(w.used, 1);
    }

    #[test]
    fn a_429_spends_the_window_holds_everyone_and_adds_a_guard_when_it_surprised() {
        let now = Instant::now();
        let mut w = Window::default();
        go(&mut w, now);
        w.observe(now, headers(50, 1, 5));
        go(&mut w, now);
        w.throttled(now, Duration::from_secs(7));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(7)));
        assert_eq!(w.guard, SURPRISE_GUARD);
        let after = now + Duration::from_secs(8) + SURPRISE_GUARD;
        assert_eq!(go(&mut w, after), Slot::Go);
    }

    #[test]
    fn answers_out_of_order_never_lower_the_count_inside_a_window() {
        let now = Instant::now();
        let mut w = Window::default();
        assert_eq!(go(&mut w, now), Slot::Go);
        w.observe(now, headers(5, 1, 10));
        for _ in 0..3 {
            assert_eq!(go(&mut w, now), Slot::Go);
        }
        // The server counted them 2, 3, 4; the answers come back 4, 3, 2.
        for count in [4, 3, 2] {
            w.observe(now, headers(5, count, 10));
        }
        // One request is left in the window, not three.
        assert_eq!(go(&mut w, now), Slot::Go);
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(10)));
    }

    #[test]
    fn a_429_holds_for_retry_after_exactly_not_for_the_rest_of_the_window() {
        let now = Instant::now();
        let mut w = Window::default();
        go(&mut w, now);
        w.observe(now, headers(300, 1, 50));
        go(&mut w, now);
        w.observe(now, None);
        w.throttled(now, Duration::from_secs(1));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(1)));
        assert_eq!(go(&mut w, now + Duration::from_secs(1)), Slot::Go);
    }

    #[test]
    fn absurd_headers_do_not_panic() {
        let now = Instant::now();
        let mut w = Window::default();
        go(&mut w, now);
        w.observe(now, headers(u64::MAX, u64::MAX, u64::MAX));
        assert!(
            w.reserve(now).is_err(),
            "a spent window resetting in 584 billion years"
        );
        w.observe(now, headers(0, 0, 0));
        w.throttled(now, Duration::from_secs(u64::MAX));
        let _ = w.reserve(now);
    }

    #[tokio::test(start_paused = true)]
    async fn many_concurrent_tasks_never_send_more_than_a_small_window_allows() {
        use std::sync::Arc;
        // A server allowing 5 requests per 2 s window, answering after 50 ms; 40 tasks.
        let pacer = Arc::new(Pacer::default());
        let start = Instant::now();
        let sent = Arc::new(Mutex::new(Vec::<Duration>::new()));
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let pacer = pacer.clone();
            let sent = sent.clone();
            tasks.push(tokio::spawn(async move {
                pacer.wait().await.expect("sane window");
                let at = start.elapsed();
                sent.lock().expect("lock").push(at);
                tokio::time::sleep(Duration::from_millis(50)).await;
                let window = at.as_millis() / 2000;
                let count = sent
                    .lock()
                    .expect("lock")
                    .iter()
                    .filter(|t| t.as_millis() / 2000 == window)
                    .count() as u64;
                let reset = 2 - (at.as_millis() % 2000) as u64 / 1000;
                pacer.observe(headers(5, count, reset));
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let sent = sent.lock().expect("lock").clone();
        assert_eq!(sent.len(), 40);
        let mut per_window = std::collections::BTreeMap::new();
        for t in &sent {
            *per_window.entry(t.as_millis() / 2000).or_insert(0u32) += 1;
        }
        assert!(
            per_window.values().all(|n| *n <= 5),
            "a window was overshot: {per_window:?}"
        );
        // And it ran at the floor: 40 requests / 5 per window = 8 windows.
        assert!(per_window.len() <= 9, "{per_window:?}");
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
        // Sane headers again (a new window): requests go on.
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

//! How long to wait between polls of an Architect job.
//!
//! Jobs usually take seconds, and all jobs of one run take about as long as each other. So
//! the client remembers how long this run's jobs took (a moving average), sleeps about that
//! long before the first poll, then polls quickly (100 ms, ×1.5, at most 2 s) until the job
//! ends. The first jobs of a run, with nothing learned yet, start polling at 100 ms. Few
//! polls matter: each is a request against the 300-a-minute rate limit.

use std::sync::Mutex;
use std::time::Duration;

const FIRST: Duration = Duration::from_millis(100);
const CAP: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct JobClock {
    estimate: Mutex<Option<Duration>>,
}

impl JobClock {
    /// The wait before the first poll: 90% of the learned job time, or 100 ms.
    pub fn first_wait(&self) -> Duration {
        match self.estimate.lock().ok().and_then(|e| *e) {
            Some(e) => e.mul_f64(0.9).max(FIRST),
            None => FIRST,
        }
    }

    /// Learns from a finished job (weight 1/4 to the newest).
    pub fn record(&self, took: Duration) {
        if let Ok(mut e) = self.estimate.lock() {
            *e = Some(match *e {
                Some(old) => old.saturating_mul(3).saturating_add(took) / 4,
                None => took,
            });
        }
    }
}

/// The wait after a poll that found the job still running.
pub fn next_wait(previous: Duration) -> Duration {
    previous.mul_f64(1.5).clamp(FIRST, CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_poll_waits_for_about_as_long_as_earlier_jobs_took() {
        let clock = JobClock::default();
        assert_eq!(clock.first_wait(), Duration::from_millis(100));
        clock.record(Duration::from_secs(2));
        assert_eq!(clock.first_wait(), Duration::from_millis(1800));
        clock.record(Duration::from_secs(6));
        assert_eq!(clock.first_wait(), Duration::from_millis(2700));
        clock.record(Duration::from_millis(10));
        assert!(clock.first_wait() >= Duration::from_millis(100));
    }

    #[test]
    fn later_polls_back_off_to_two_seconds() {
        assert_eq!(
            next_wait(Duration::from_millis(100)),
            Duration::from_millis(150)
        );
        assert_eq!(next_wait(Duration::from_secs(5)), Duration::from_secs(2));
        assert_eq!(next_wait(Duration::ZERO), Duration::from_millis(100));
    }
}

//! How long to wait between polls of an Architect job.
//!
//! Jobs usually take seconds, and all jobs of one run take about as long as each other. So
//! the client remembers how long this run's jobs took (a moving average) and polls first
//! when a job is likely done: after that long. If it is not done yet, it polls again soon
//! (a tenth of the estimate, at least 100 ms), then backs off (×1.5, at most 2 s). The
//! first job of a run, with nothing learned yet, polls from 250 ms. Few polls matter: each
//! is a request against the rate limit. The clock also notices jobs slowing down (the
//! latest took over three times the fastest), which `apply` answers by publishing fewer
//! flows at once.

use std::sync::Mutex;
use std::time::Duration;

const FIRST: Duration = Duration::from_millis(100);
/// The first poll of a run's first job, with nothing learned.
const UNKNOWN: Duration = Duration::from_millis(250);
const CAP: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct JobClock {
    state: Mutex<Learned>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Learned {
    estimate: Option<Duration>,
    fastest: Option<Duration>,
    latest: Option<Duration>,
}

impl JobClock {
    /// The wait before the first poll: the learned job time, or 250 ms.
    pub fn first_wait(&self) -> Duration {
        match self.learned().estimate {
            Some(e) => e.max(FIRST),
            None => UNKNOWN,
        }
    }

    /// The wait after a first poll that found the job still running.
    pub fn second_wait(&self) -> Duration {
        match self.learned().estimate {
            Some(e) => (e / 10).clamp(FIRST, CAP),
            None => UNKNOWN.mul_f64(1.5),
        }
    }

    /// Learns from a finished job (weight 1/4 to the newest).
    pub fn record(&self, took: Duration) {
        if let Ok(mut l) = self.state.lock() {
            l.estimate = Some(match l.estimate {
                Some(old) => old.saturating_mul(3).saturating_add(took) / 4,
                None => took,
            });
            l.fastest = Some(l.fastest.map_or(took, |f| f.min(took)));
            l.latest = Some(took);
        }
    }

    /// True when the latest job took more than three times the fastest (and over a second):
    /// Architect may be slowing under the load.
    pub fn slowing(&self) -> bool {
        let l = self.learned();
        matches!((l.fastest, l.latest), (Some(f), Some(t)) if t > f.saturating_mul(3) && t > Duration::from_secs(1))
    }

    fn learned(&self) -> Learned {
        self.state.lock().map(|l| *l).unwrap_or_default()
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
    fn the_first_poll_waits_for_as_long_as_earlier_jobs_took() {
        let clock = JobClock::default();
        assert_eq!(clock.first_wait(), Duration::from_millis(250));
        clock.record(Duration::from_secs(2));
        assert_eq!(clock.first_wait(), Duration::from_secs(2));
        assert_eq!(clock.second_wait(), Duration::from_millis(200));
        clock.record(Duration::from_secs(6));
        assert_eq!(clock.first_wait(), Duration::from_secs(3));
        clock.record(Duration::from_millis(10));
        assert!(clock.first_wait() >= Duration::from_millis(100));
    }

    #[test]
    fn jobs_taking_three_times_the_fastest_are_slowing() {
        let clock = JobClock::default();
        clock.record(Duration::from_secs(2));
        clock.record(Duration::from_millis(2100));
        assert!(!clock.slowing());
        clock.record(Duration::from_secs(7));
        assert!(clock.slowing());
        clock.record(Duration::from_secs(2));
        assert!(!clock.slowing());
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

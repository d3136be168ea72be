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
//!
//! Both kinds of job (publish jobs, export jobs) are polled by one loop,
//! [`Client::poll_job`]: a status flowctl does not know is "not finished" and is named
//! once; the timeout names the last status.

use super::{Client, ClientError, ClientResult};
use crate::models::JobStatus;
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

const FIRST: Duration = Duration::from_millis(100);
/// The first poll of a run's first job, with nothing learned.
const UNKNOWN: Duration = Duration::from_millis(250);
const CAP: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub(crate) struct JobClock {
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
    pub(crate) fn first_wait(&self) -> Duration {
        match self.learned().estimate {
            Some(e) => e.max(FIRST),
            None => UNKNOWN,
        }
    }

    /// The wait after a first poll that found the job still running.
    pub(crate) fn second_wait(&self) -> Duration {
        match self.learned().estimate {
            Some(e) => (e / 10).clamp(FIRST, CAP),
            None => UNKNOWN.mul_f64(1.5),
        }
    }

    /// Learns from a finished job (weight 1/4 to the newest).
    pub(crate) fn record(&self, took: Duration) {
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
    pub(crate) fn slowing(&self) -> bool {
        let l = self.learned();
        matches!((l.fastest, l.latest), (Some(f), Some(t)) if t > f.saturating_mul(3) && t > Duration::from_secs(1))
    }

    fn learned(&self) -> Learned {
        self.state.lock().map(|l| *l).unwrap_or_default()
    }
}

/// The wait after a poll that found the job still running.
pub(crate) fn next_wait(previous: Duration) -> Duration {
    previous.mul_f64(1.5).clamp(FIRST, CAP)
}

/// How one kind of job is polled.
pub(crate) struct JobPoll<'a> {
    /// The job's API path, as `["api", "v2", "flows", "jobs", id]`.
    pub(crate) segments: &'a [&'a str],
    /// The job as told: "Architect job {id}", "export job {id}".
    pub(crate) what: String,
    pub(crate) timeout: Duration,
    /// The shortest wait before the first poll (which is otherwise the [`JobClock`]'s).
    pub(crate) min_first: Duration,
    /// Whether this kind's times are the ones the [`JobClock`] learns: its job's time
    /// teaches the clock, and the wait after a first poll that found it running is the
    /// clock's ([`JobClock::second_wait`]). Else every later wait backs off ([`next_wait`]).
    pub(crate) learn: bool,
    /// Whether the timeout quotes the last status (`'Started'`), as publish jobs tell it;
    /// export jobs tell it bare.
    pub(crate) quote_status: bool,
}

/// What a job state answer needs for polling: its status.
pub(crate) trait JobState: DeserializeOwned {
    fn status(&self) -> JobStatus;
}

impl JobState for crate::models::ArchitectJob {
    fn status(&self) -> JobStatus {
        self.status
    }
}

impl JobState for crate::models::ExportJobState {
    fn status(&self) -> JobStatus {
        self.status
    }
}

impl Client {
    /// `GET {segments}?expand=messages`: a job's state, and its status as the server spelled
    /// it (escaped and cut), which names a status flowctl does not know.
    pub(crate) async fn get_job_state<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> ClientResult<(T, String)> {
        let body = self
            .send(
                Method::GET,
                segments,
                &[("expand", "messages".to_string())],
                None,
                super::Resend::Safe,
            )
            .await?;
        let raw: serde_json::Value = body.json()?;
        let status = super::verbs::status_text(&raw);
        Ok((body.json()?, status))
    }

    /// Polls a job until it is Success or Failure (returned as is) or `how.timeout` passes.
    /// A status flowctl does not know counts as still running, and is told once. A finished
    /// job's time is learned (when `how.learn`) unless its last poll was held back by the
    /// rate limit: such a wait says nothing about the job.
    pub(crate) async fn poll_job<T: JobState>(&self, how: JobPoll<'_>) -> ClientResult<T> {
        let start = Instant::now();
        let mut delay = self.job_clock().first_wait().max(how.min_first);
        let mut first = true;
        let mut told_unknown = false;
        loop {
            let left = how.timeout.saturating_sub(start.elapsed());
            tokio::time::sleep(delay.min(left)).await;
            let asked = Instant::now();
            let (job, said): (T, String) = self.get_job_state(how.segments).await?;
            if job.status() == JobStatus::Unknown && !told_unknown {
                told_unknown = true;
                tracing::info!(
                    "{} reports status '{said}', which flowctl does not know: waiting on as for a job still running",
                    how.what
                );
            }
            if job.status().is_finished() {
                if how.learn && !self.paced_within(asked.elapsed()) {
                    self.job_clock().record(start.elapsed());
                }
                return Ok(job);
            }
            if how.timeout.saturating_sub(start.elapsed()).is_zero() {
                let last = if how.quote_status {
                    format!("'{said}'")
                } else {
                    said
                };
                return Err(ClientError::Timeout {
                    what: format!("{} (last status {last})", how.what),
                    after: how.timeout,
                });
            }
            // After the first wait, poll soon again, then back off.
            delay = if first && how.learn {
                self.job_clock().second_wait()
            } else {
                next_wait(delay)
            };
            first = false;
        }
    }
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

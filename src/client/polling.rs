//! How long to wait between polls of an Architect job.
//!
//! Jobs usually take seconds, and all jobs of one run take about as long as each other. So
//! the client remembers how long this run's jobs took (a moving average) and polls first
//! when a job is likely done: after that long. If it is not done yet, it polls again soon
//! (a twentieth of the estimate, at least 100 ms), then backs off (×1.5, at most 2 s). The
//! first job of a run, with nothing learned yet, polls from 250 ms. Few polls matter: each
//! is a request against the rate limit.
//!
//! A job's time is learned as the moment the poll that saw it finished was sent (the
//! answer's latency is not the job's), and a job already finished at its first poll may
//! have ended any time before: it is learned as a step (that twentieth) shorter. So the
//! estimate moves down while first polls find jobs finished and up when they find them
//! running, and settles within a step of the real job time: a job is noticed about a
//! step after it ends, at about one and a half polls per job. The clock also notices jobs slowing down (the
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
    /// The wait before the first poll: the learned job time, or 250 ms. With `room` (the
    /// rate-limit window can carry a second poll of every job in flight) at the learned
    /// time; without, a step later, so that the first poll nearly always finds the job
    /// finished (and, learned a step shorter, leaves the estimate where it was: a second
    /// poll, which the window may not have room for, comes only when jobs grow longer).
    pub(crate) fn first_wait(&self, room: bool) -> Duration {
        match self.learned().estimate {
            Some(e) if room => e.max(FIRST),
            Some(e) => e.saturating_add(step(e)).max(FIRST),
            None => UNKNOWN,
        }
    }

    /// The wait after a first poll that found the job still running.
    pub(crate) fn second_wait(&self) -> Duration {
        match self.learned().estimate {
            Some(e) => step(e),
            None => UNKNOWN.mul_f64(1.5),
        }
    }

    /// Learns from a finished job (weight 1/4 to the newest): `took` is from the job's
    /// start to the sending of the poll that saw it finished; `at_first_poll` when that was
    /// the job's first poll, so the job may have ended earlier: it is learned a step
    /// shorter (never below 100 ms).
    pub(crate) fn record(&self, took: Duration, at_first_poll: bool) {
        if let Ok(mut l) = self.state.lock() {
            let took = if at_first_poll {
                took.saturating_sub(step(took)).max(FIRST)
            } else {
                took
            };
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

/// A twentieth of a job time, between 100 ms and 2 s: how soon a job found running at its
/// expected end is polled again, and how much shorter a job found finished at once is
/// learned.
fn step(job_time: Duration) -> Duration {
    (job_time / 20).clamp(FIRST, CAP)
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
        let room = self.inner.pacer.room_for_polls();
        let mut delay = self.job_clock().first_wait(room).max(how.min_first);
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
                    self.job_clock().record(asked.duration_since(start), first);
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
        assert_eq!(clock.first_wait(true), Duration::from_millis(250));
        clock.record(Duration::from_secs(2), false);
        assert_eq!(clock.first_wait(true), Duration::from_secs(2));
        assert_eq!(clock.second_wait(), Duration::from_millis(100));
        clock.record(Duration::from_secs(6), false);
        assert_eq!(clock.first_wait(true), Duration::from_secs(3));
        clock.record(Duration::from_millis(10), false);
        assert!(clock.first_wait(true) >= Duration::from_millis(100));
    }

    #[test]
    fn a_job_finished_at_its_first_poll_is_learned_a_step_shorter() {
        let clock = JobClock::default();
        clock.record(Duration::from_secs(2), true);
        assert_eq!(clock.first_wait(true), Duration::from_millis(1900));
        let clock = JobClock::default();
        clock.record(Duration::from_secs(2), false);
        clock.record(Duration::from_secs(2), true);
        assert_eq!(clock.first_wait(true), Duration::from_millis(1975));
        // A step never takes a job below the shortest wait.
        let clock = JobClock::default();
        clock.record(Duration::from_millis(150), true);
        assert_eq!(clock.first_wait(true), Duration::from_millis(100));
    }

    /// Runs `jobs` jobs of `job` each, one after another, polled as `Client::poll_job`
    /// polls a publish job (times counted from the job's start, the poll's latency left
    /// out: the clock learns the poll's send time). Returns how late each job was noticed
    /// and how many polls each took.
    fn run(clock: &JobClock, job: Duration, jobs: usize, room: bool) -> Vec<(Duration, u32)> {
        (0..jobs)
            .map(|_| {
                let mut delay = clock.first_wait(room);
                let mut at = delay;
                let mut polls = 1;
                let mut first = true;
                while at < job {
                    delay = if first {
                        clock.second_wait()
                    } else {
                        next_wait(delay)
                    };
                    first = false;
                    at += delay;
                    polls += 1;
                }
                clock.record(at, polls == 1);
                (at - job, polls)
            })
            .collect()
    }

    #[test]
    fn polls_settle_within_a_step_of_the_job_time_at_few_polls_per_job() {
        let job = Duration::from_secs(2);
        // Taught too long (a job noticed late) and too short (a fast first job).
        // With room in the window: about one job in two polled twice, none noticed more
        // than a step late, from an estimate too long or too short. Without room: one poll
        // a job once settled, noticed at most a step and a half late, from too short (too
        // long stays, as it costs no request).
        for (room, taught, most_polls, most_late) in [
            (true, Duration::from_millis(2400), 48, 100),
            (true, Duration::from_millis(800), 48, 100),
            (false, Duration::from_millis(800), 30, 150),
        ] {
            let clock = JobClock::default();
            clock.record(taught, false);
            let settled = run(&clock, job, 100, room).split_off(70);
            let late = settled.iter().map(|(l, _)| *l).max().unwrap_or_default();
            let polls: u32 = settled.iter().map(|(_, p)| p).sum();
            assert!(
                late <= Duration::from_millis(most_late),
                "room {room}, taught {taught:?}: a job was noticed {late:?} after it ended"
            );
            assert!(
                polls <= most_polls,
                "room {room}, taught {taught:?}: {polls} polls for 30 jobs"
            );
            let e = clock.first_wait(true);
            assert!(
                e >= Duration::from_millis(1800) && e <= Duration::from_millis(2100),
                "room {room}, taught {taught:?}: settled at {e:?}"
            );
        }
    }

    #[test]
    fn jobs_taking_three_times_the_fastest_are_slowing() {
        let clock = JobClock::default();
        clock.record(Duration::from_secs(2), false);
        clock.record(Duration::from_millis(2100), false);
        assert!(!clock.slowing());
        clock.record(Duration::from_secs(7), false);
        assert!(clock.slowing());
        clock.record(Duration::from_secs(2), false);
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

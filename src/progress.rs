//! Progress on standard error: no wait longer than about a second is silent.
//!
//! `waiting` returns a guard for one wait (the dependency index, an Architect job, a rate
//! limit). Once the wait has lasted `FIRST_NOTICE`, it says what it waits for and for how
//! long at most: on a terminal as an `indicatif` spinner, otherwise (CI logs) as a plain
//! line, repeated every `EVERY`. Dropping the guard ends it.
//!
//! Everything else flowctl writes to stderr (log lines, progress lines) goes through
//! [`eprintln()`] or `StderrWriter`, which suspend the live bars while they write, so a log
//! line never lands in the middle of a spinner. With `--quiet` nothing
//! is drawn.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A wait shorter than this says nothing.
pub(crate) const FIRST_NOTICE: Duration = Duration::from_secs(1);
/// Off a terminal, a wait repeats its line this often.
pub(crate) const EVERY: Duration = Duration::from_secs(5);

static QUIET: AtomicBool = AtomicBool::new(false);
/// Live counters drawn now: on a terminal, a job's wait is already on their line.
static COUNTERS: AtomicUsize = AtomicUsize::new(0);
static BARS: OnceLock<MultiProgress> = OnceLock::new();
/// Tasks the rate limit holds now: while any is held, a job's wait is the rate limit's and
/// its own line says nothing (the rate limit's line does).
static RATE_HELD: AtomicUsize = AtomicUsize::new(0);
/// Architect jobs waited for now, and when a line last told them (off a terminal, one line
/// tells them all).
static JOBS_WAITING: AtomicUsize = AtomicUsize::new(0);
static JOBS_TOLD: Mutex<Option<Instant>> = Mutex::new(None);

/// How many tasks the rate limit holds now (the pacer keeps this up to date).
pub(crate) fn set_rate_held(n: usize) {
    RATE_HELD.store(n, Ordering::Relaxed);
}

fn rate_held() -> bool {
    RATE_HELD.load(Ordering::Relaxed) > 0
}

/// Whether this job wait's line is the one that tells all job waits now: not while the
/// rate limit holds requests (then it is the rate limit's wait, told by its own line), and
/// once per `every` for all jobs together.
fn tell_jobs(now: Instant, every: Duration) -> bool {
    tell_jobs_with(rate_held(), &JOBS_TOLD, now, every)
}

/// [`tell_jobs`] over its state: whether the rate limit holds requests now, and when a job
/// wait was last told.
fn tell_jobs_with(
    rate_held: bool,
    told: &Mutex<Option<Instant>>,
    now: Instant,
    every: Duration,
) -> bool {
    if rate_held {
        return false;
    }
    let Ok(mut told) = told.lock() else {
        return true;
    };
    if told.is_some_and(|t| now.saturating_duration_since(t) < every) {
        return false;
    }
    *told = Some(now);
    true
}

/// The line of a job wait: `WHAT`, or `N Architect jobs` when more are waited for.
fn jobs_what(what: &str) -> String {
    match JOBS_WAITING.load(Ordering::Relaxed) {
        0 | 1 => what.to_string(),
        n => format!("{n} Architect jobs"),
    }
}

/// `--quiet`: no waits, spinners or bars are shown.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The one set of live bars on stderr (hidden by indicatif when stderr is not a terminal).
fn bars() -> &'static MultiProgress {
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

fn live() -> bool {
    !quiet() && std::io::stderr().is_terminal()
}

/// Writes one line on stderr, around any live bar.
pub(crate) fn eprintln(line: &str) {
    bars().suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    });
}

/// The writer for tracing's log lines: stderr, around any live bar.
pub(crate) struct StderrWriter;

impl Write for StderrWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        bars().suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// For `tracing_subscriber::fmt().with_writer(progress::stderr_writer)`.
pub(crate) fn stderr_writer() -> StderrWriter {
    StderrWriter
}

/// One wait in progress; dropping it ends its spinner or its lines.
#[must_use = "the wait is announced only while the guard lives"]
pub(crate) struct Waiting {
    task: Option<tokio::task::JoinHandle<()>>,
    bar: Arc<Mutex<Option<ProgressBar>>>,
    /// A job wait, counted in [`JOBS_WAITING`].
    job: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.job {
            JOBS_WAITING.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Ok(mut bar) = self.bar.lock() {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// The first announcement of a wait: `waiting for WHAT (up to N s)`.
pub(crate) fn announcement(what: &str, up_to: Duration) -> String {
    format!("waiting for {what} (up to {})", seconds(up_to))
}

/// A later line of a wait, off a terminal: `still waiting for WHAT: N s so far, up to M s`.
pub(crate) fn reminder(what: &str, so_far: Duration, up_to: Duration) -> String {
    format!(
        "still waiting for {what}: {} so far, up to {}",
        seconds(so_far),
        seconds(up_to)
    )
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 && d.subsec_millis() != 0 {
        format!("{s:.1} s")
    } else {
        format!("{} s", d.as_secs())
    }
}

/// Announces `what` once the wait passes [`FIRST_NOTICE`]; `up_to` is the longest it may
/// take. Needs a tokio runtime; without one (or with `--quiet`) it stays silent.
pub(crate) fn waiting(what: impl Into<String>, up_to: Duration) -> Waiting {
    announce(what.into(), up_to, false)
}

/// [`waiting`] for an Architect job: on a terminal, no spinner of its own while a live
/// counter (apply's) already shows what is publishing.
pub(crate) fn waiting_for_job(what: impl Into<String>, up_to: Duration) -> Waiting {
    JOBS_WAITING.fetch_add(1, Ordering::Relaxed);
    let mut w = announce(what.into(), up_to, true);
    w.job = true;
    w
}

/// [`waiting`] for a wait a log line has already announced: off a terminal, only the
/// reminders every [`EVERY`] follow; on a terminal, the spinner.
pub(crate) fn waiting_told(what: String, up_to: Duration) -> Waiting {
    announce_with(what, up_to, false, true)
}

/// Sleeps for `wait` as [`sleep`] does; `told` when a log line already said so.
pub(crate) async fn sleep_told(what: impl Into<String>, wait: Duration, told: bool) {
    let _guard = announce_with(what.into(), wait, false, told);
    tokio::time::sleep(wait).await;
}

fn announce(what: String, up_to: Duration, under_counter: bool) -> Waiting {
    announce_with(what, up_to, under_counter, false)
}

fn announce_with(what: String, up_to: Duration, under_counter: bool, told: bool) -> Waiting {
    let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::new(Mutex::new(None));
    if quiet() || up_to < FIRST_NOTICE {
        return Waiting {
            task: None,
            bar,
            job: false,
        };
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Waiting {
            task: None,
            bar,
            job: false,
        };
    };
    let slot = bar.clone();
    let task = runtime.spawn(async move {
        let start = Instant::now();
        tokio::time::sleep(FIRST_NOTICE).await;
        if live() {
            if under_counter && COUNTERS.load(Ordering::Relaxed) > 0 {
                return;
            }
            let spinner = bars().add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {wide_msg} {elapsed}") {
                spinner.set_style(style);
            }
            spinner.set_message(announcement(&what, up_to));
            spinner.enable_steady_tick(Duration::from_millis(120));
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(spinner);
            }
            return;
        }
        if under_counter {
            // Job waits: one line for all of them, and none while the rate limit holds.
            loop {
                if tell_jobs(Instant::now(), EVERY) {
                    eprintln(&format!(
                        "flowctl: {}",
                        reminder(&jobs_what(&what), start.elapsed(), up_to)
                    ));
                }
                tokio::time::sleep(EVERY).await;
            }
        }
        if !told {
            eprintln(&format!("flowctl: {}", announcement(&what, up_to)));
        }
        loop {
            tokio::time::sleep(EVERY).await;
            eprintln(&format!(
                "flowctl: {}",
                reminder(&what, start.elapsed(), up_to)
            ));
        }
    });
    Waiting {
        task: Some(task),
        bar,
        job: false,
    }
}

/// The live `[done/total] publishing: names` line of `apply`: drawn only on a terminal
/// (and not with `--quiet`), cut to the terminal's width so long names never wrap.
pub(crate) fn counter(total: usize, shown: bool) -> Counter {
    if !shown || !live() {
        return Counter {
            bar: ProgressBar::hidden(),
            counted: false,
        };
    }
    let bar = bars().add(ProgressBar::new(total as u64));
    if let Ok(style) = ProgressStyle::with_template("[{pos}/{len}] {wide_msg}") {
        bar.set_style(style);
    }
    COUNTERS.fetch_add(1, Ordering::Relaxed);
    Counter { bar, counted: true }
}

/// A live counter; use it as the [`ProgressBar`] it holds.
pub(crate) struct Counter {
    bar: ProgressBar,
    counted: bool,
}

impl std::ops::Deref for Counter {
    type Target = ProgressBar;
    fn deref(&self) -> &ProgressBar {
        &self.bar
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if self.counted {
            COUNTERS.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_wait_is_told_once_for_all_jobs_and_never_while_the_rate_limit_holds() {
        let told = Mutex::new(None);
        let t0 = Instant::now();
        let every = Duration::from_secs(5);
        // The rate limit holds the run: its own line tells the wait, not the job's.
        assert!(!tell_jobs_with(true, &told, t0, every));
        // Free again: the first job wait is told...
        assert!(tell_jobs_with(false, &told, t0, every));
        // ...and the other jobs waiting within the same 5 s are not told again.
        assert!(!tell_jobs_with(
            false,
            &told,
            t0 + Duration::from_secs(4),
            every
        ));
        assert!(tell_jobs_with(false, &told, t0 + every, every));
        // Held again later: silent, even when a reminder is due.
        assert!(!tell_jobs_with(
            true,
            &told,
            t0 + Duration::from_secs(20),
            every
        ));
    }

    #[test]
    fn a_wait_says_what_it_waits_for_and_for_how_long_at_most() {
        assert_eq!(
            announcement("the dependency index", Duration::from_secs(30)),
            "waiting for the dependency index (up to 30 s)"
        );
        assert_eq!(
            reminder(
                "Architect job 42",
                Duration::from_millis(5_200),
                Duration::from_secs(300)
            ),
            "still waiting for Architect job 42: 5.2 s so far, up to 300 s"
        );
    }
}

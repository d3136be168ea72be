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
//! window). A window is spent at full speed, then the pacer waits for its reset: the
//! fastest a fixed window allows. A 429 is a correction: it marks the window spent and
//! holds every request for `Retry-After`.
//!
//! `reset` is whole seconds, and nothing says which way it is rounded. At a stated reset
//! one request (the probe) goes alone, and the new window opens only when an answer shows
//! it did. The first probe also tells the rounding: answered from the old window, the
//! server rounds down, and from then on every window is taken to end a second after its
//! stated end. Until that first probe one request of each window is kept spare, so the
//! probe of a spent window is answered from the old window rather than refused.
//!
//! Architect jobs run on the same token and spend its window (see [`Window::admit_job`]):
//! each job in flight holds what it has not yet been seen to spend, plus its last poll.
//! When a job run alone has shown how long after its start its spend stays unseen (its
//! quiet time), a job started within that time of a window's end is carried by the next
//! window, where it spends, with only its registration in this one (a job the rate limit
//! kills, or a 429, ends that for the run).
//!
//! [`Window::reserve`] and [`Window::observe`] are the pure logic, tested with a fixed
//! clock; [`Pacer`] wraps them in a mutex and sleeps.

use std::sync::Mutex;
use std::time::Duration;
// tokio's clock, so the pacer can be tested with a paused clock.
use tokio::time::Instant;

/// A window's end is taken as the earliest `answer time + reset`; if that proves early (a
/// probe at the stated reset answered from the old window, or a 429 while the pacer
/// believed there was room), this guard is added from then on. A server that rounds
/// `reset` down ends every window less than a second after `answer time + reset`, so with
/// the guard the probe always lands in the new window.
const SURPRISE_GUARD: Duration = Duration::from_secs(1);
/// An answer whose window ends this much later than the current one's starts a new window.
const NEW_WINDOW_JUMP: Duration = Duration::from_millis(1500);
/// How often a waiting request looks again when only an answer can free a slot.
const RECHECK: Duration = Duration::from_millis(20);
/// How often a job waiting to start looks again while other jobs are in flight.
const JOB_RECHECK: Duration = Duration::from_millis(50);
/// How often a task waiting for a window's end looks again (answers may have moved the end
/// earlier since it began to wait).
const REESTIMATE: Duration = Duration::from_millis(250);

/// The longest a rate-limit window lasts: Genesys counts requests per 60 s
/// (docs/genesys-api.md#rate-limits-and-retries), so `inin-ratelimit-reset` is at most 60. A longer reset with the
/// window spent is not slept: the request gives up (exit 5) and says what the server sent.
pub(crate) const MAX_RESET: Duration = Duration::from_secs(60);

/// How far past [`MAX_RESET`] a stated reset may be and still be a window's end: the header
/// is whole seconds, and Genesys' own blog post "Genesys Cloud SDK Configuration and
/// Logging" shows a real answer with `inin-ratelimit-reset: 61` (see
/// docs/genesys-api.md#rate-limits-and-retries). Refusing that would end a run that only
/// had to wait a second.
const RESET_ROUNDING: Duration = Duration::from_secs(2);

/// Waits shorter than this are not worth a line on stderr.
const TELL_AFTER: Duration = Duration::from_secs(2);

/// The longest a 429's `Retry-After` can hold the pacer (the client refuses more than its
/// policy's cap before it gets here; this only keeps the clock sane).
const MAX_BLOCK: Duration = Duration::from_secs(3600);

/// The `inin-ratelimit-*` headers of one answer, parsed into bounded numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub(crate) allowed: u64,
    pub(crate) count: u64,
    /// As sent (saturated at `u64::MAX` seconds); the 60 s cap applies where it is used.
    pub(crate) reset: Duration,
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
    pub(crate) fn parse(
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
pub(crate) struct TooLong {
    /// The wait the server's `inin-ratelimit-reset` asked for.
    pub(crate) asked: Duration,
}

/// Requests one Architect job is assumed to spend of its token's window until a job's spend
/// has been measured. (unverified) No source says how many requests a job's Archy session
/// makes. A publish session has to find the flow, read what it references, save, check in
/// and publish; 10 covers that for a flow with a few references. Over-assuming only holds a
/// few jobs back until the first job has finished (`apply` publishes the modules first, so
/// their jobs teach the spend before the callers start); under-assuming gets jobs killed
/// by the rate limit, which are then rerun.
pub(crate) const ASSUMED_JOB_SPEND: u64 = 10;

/// Of a job's learned quiet time (see [`Window::quiet`]), the part trusted when a job is
/// started so late in a window that it would spend only in the next: three quarters, so
/// that a job starting a little sooner after its registration than the one measured still
/// spends after the window's end.
const QUIET_TRUSTED: (u32, u32) = (3, 4);

/// How soon a probe is repeated when its answer still shows the old window.
const PROBE_AGAIN: Duration = Duration::from_millis(100);

/// What the pacer knows of the server's rate-limit window.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// Requests allowed per window, once an answer said so.
    allowed: Option<u64>,
    /// Requests counted in the current window: reserved by us (answered or in flight), or
    /// the server's count if higher (which includes what jobs spent).
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
    /// The stated end of the last window passed: one request at a time goes until an
    /// answer shows the new window opened. Holds that last window's end.
    probing: Option<Instant>,
    /// flowctl's own requests reserved in the current window.
    own: u64,
    /// The most the server's count exceeded `own` in the current window: what Architect
    /// jobs (or anything else on the token) spent.
    excess: u64,
    /// Architect jobs started and not yet seen finished.
    jobs: u64,
    /// Jobs seen finished in the current window.
    finished: u64,
    /// The excess and the finished jobs of the windows that have closed: the spend is the
    /// run's average, so a job that spends in one window and is seen finished in the next
    /// evens out.
    past_excess: u64,
    past_finished: u64,
    /// Windows opened so far (a rerun waits for a later one).
    generation: u64,
    /// Requests still in flight from before the probing began (they may be slow; the
    /// probe does not wait for them).
    stragglers: u64,
    /// What the jobs in flight are taken to spend and have not yet been seen to spend (the
    /// count's excess has not risen by it yet). Only this is kept free for them: a job
    /// whose spend already shows in the count (its window counted it) holds nothing more
    /// than the poll that will see it ended.
    unlanded: u64,
    /// A probe has shown whether the stated reset is early: its answer came from the old
    /// window (the server rounds `reset` down: the guard is set) or from the new one. Until
    /// then one request of every window is kept spare, so that a probe sent at the stated
    /// reset of a spent window is answered from the old window instead of refused.
    rounding_known: bool,
    /// Jobs admitted whose registration has not been answered yet: it is kept free for
    /// them (once sent it is also in `used`, for the moment it is in flight).
    registering: u64,
    /// What the jobs in flight were assumed to spend when they started (so that
    /// `assumed_in_flight - unlanded` is what they have been seen to spend).
    assumed_in_flight: u64,
    /// When the last probe was sent.
    probe_sent: Option<Instant>,
    /// How long after its registration a job's spend has been seen not to land: the least
    /// such time of the jobs that ran alone (see [`Lone`]). `None` until one has, and for
    /// good once a late start proved it wrong (see [`Window::refute_quiet`]).
    quiet: Option<Duration>,
    /// A late start was proved wrong: the quiet time is not learned again in this run.
    quiet_refuted: bool,
    /// The one job in flight, watched for its quiet time.
    lone: Option<Lone>,
    /// Jobs in flight when a window closed, and in flight still: their spend may have
    /// landed in it after the last answer from it, unseen (see [`Window::job_done`]).
    spanned: u64,
    /// flowctl's own requests and the excess of the window whose stated end passed, while
    /// probing (its answers still come, see [`Window::learn_old_excess`]).
    old_own: u64,
    old_excess: u64,
    /// Jobs in flight started late in this window (see [`Window::quiet`]), and what they are
    /// taken to spend: the next window carries those and their polls, not this one.
    late_jobs: u64,
    late_spend: u64,
}

/// The only job in flight, from its registration's answer: until an answer shows the
/// count's excess risen, every answer sent later shows that the job had not spent yet.
#[derive(Debug, Clone, Copy)]
struct Lone {
    registered: Instant,
    /// The run's excess when it was registered.
    excess: u64,
    /// The latest send, after its registration, of an answer that showed no new excess.
    quiet: Duration,
}

/// What a request should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Go now; the slot is reserved.
    Go,
    /// Try again at this time (the window's reset, or a `Retry-After`).
    At(Instant),
    /// Try again when an answer has come back (the window is unknown or spent and its end
    /// is not known yet).
    AfterAnswer,
}

/// What a job asking to start should do now (see [`Window::admit_job`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Start; `late` when the next window carries its spend and poll.
    Go {
        late: bool,
    },
    Wait(Slot),
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
            probing: None,
            own: 0,
            excess: 0,
            jobs: 0,
            finished: 0,
            past_excess: 0,
            past_finished: 0,
            generation: 0,
            stragglers: 0,
            unlanded: 0,
            rounding_known: false,
            registering: 0,
            assumed_in_flight: 0,
            probe_sent: None,
            quiet: None,
            quiet_refuted: false,
            lone: None,
            late_jobs: 0,
            late_spend: 0,
            old_own: 0,
            old_excess: 0,
            spanned: 0,
        }
    }
}

impl Window {
    /// What one job is taken to spend: the excess of the run's windows over flowctl's own
    /// requests, less what jobs still in flight have been seen to spend, per job seen
    /// finished; [`ASSUMED_JOB_SPEND`] until a job finished. (A job's spend shows in the
    /// count before its poll sees it ended: counted against the finished jobs alone, the
    /// spend of many jobs about to end would read as one job's.)
    pub(crate) fn job_spend(&self) -> u64 {
        let finished = self.past_finished.saturating_add(self.finished);
        if finished == 0 {
            return ASSUMED_JOB_SPEND;
        }
        let landed_in_flight = self.assumed_in_flight.saturating_sub(self.unlanded);
        self.past_excess
            .saturating_add(self.excess)
            .saturating_sub(landed_in_flight)
            .div_ceil(finished)
    }

    /// Requests kept free in this window from flowctl's own: what the jobs in flight have
    /// not yet been seen to spend (the server counts it, not the pacer), and, until a probe
    /// has shown which way the server rounds `reset`, one spare for that probe. (The jobs'
    /// own registrations and polls are requests: kept free here they would hold
    /// themselves back. A job's admission counts them instead.)
    fn headroom(&self, allowed: u64) -> u64 {
        // Jobs started late hold their spend in the next window, not this one.
        let unlanded = self
            .unlanded
            .saturating_sub(self.late_spend)
            .min(self.jobs_here().saturating_mul(self.job_spend()));
        let spare = u64::from(!self.rounding_known);
        // Never all of it: some request must still go (the jobs' polls among them).
        unlanded
            .saturating_add(spare)
            .min(allowed.saturating_sub(1))
    }

    /// What the window already carries when a job asks to start: what is counted, the
    /// headroom, and the requests the jobs in flight will still make (the registration of
    /// each just admitted, the poll of each that sees it ended).
    fn committed(&self, allowed: u64) -> u64 {
        self.used
            .saturating_add(self.headroom(allowed))
            .saturating_add(self.jobs_here())
            .saturating_add(self.registering)
    }

    /// The jobs in flight whose spend and last poll this window carries: all but those
    /// started late in it.
    fn jobs_here(&self) -> u64 {
        self.jobs.saturating_sub(self.late_jobs)
    }

    /// The run's excess so far: what jobs (or anything else on the token) spent.
    fn run_excess(&self) -> u64 {
        self.past_excess.saturating_add(self.excess)
    }

    /// The count's excess over flowctl's own requests rose to `excess` in this window: the
    /// rise is spend of jobs in flight that has now landed.
    fn learn_excess(&mut self, excess: u64) {
        if excess > self.excess {
            self.unlanded = self.unlanded.saturating_sub(excess - self.excess);
            self.excess = excess;
        }
    }

    /// An answer from the window whose stated end passed, counting `count`: jobs' spend
    /// still lands there until it really ends, and joins the run's (lost, the jobs that
    /// spent it would be seen ended with nothing spent, and the spend per job would shrink
    /// towards zero).
    fn learn_old_excess(&mut self, count: u64) {
        let excess = count.saturating_sub(self.old_own);
        if excess > self.old_excess {
            let rise = excess - self.old_excess;
            self.past_excess = self.past_excess.saturating_add(rise);
            self.unlanded = self.unlanded.saturating_sub(rise);
            self.old_excess = excess;
        }
    }

    /// The stated end (plus guard) passed: learn from the window that ended, then probe.
    fn roll(&mut self, end: Instant) {
        self.old_own = self.own;
        self.old_excess = self.excess;
        self.close();
        self.probing = Some(end);
        self.stragglers = self.in_flight;
        self.ends = None;
        // Requests still in flight may land in the new window, so they count there.
        self.used = self.in_flight;
        self.own = self.in_flight;
    }

    /// A window closed: its excess and finished jobs join the run's.
    fn close(&mut self) {
        self.past_excess = self.past_excess.saturating_add(self.excess);
        self.past_finished = self.past_finished.saturating_add(self.finished);
        self.excess = 0;
        self.finished = 0;
        // The jobs started late in it are this new window's like any other.
        self.late_jobs = 0;
        self.late_spend = 0;
        self.spanned = self.jobs;
    }

    /// Opens a new window whose first answer (at `end`, with `count`) came back.
    fn open(&mut self, end: Instant, count: u64) {
        if self.probing.take().is_none() {
            // A new window the pacer had not seen the old one end of.
            self.close();
            self.own = self.in_flight;
        }
        self.generation += 1;
        self.ends = Some(end);
        self.used = count.saturating_add(self.in_flight);
        self.excess = 0;
        self.learn_excess(count.saturating_sub(self.own));
    }

    /// Reserves a slot at `now`, or says when to try again; refuses when the window is
    /// spent and the server said it resets later than any window lasts.
    pub(crate) fn reserve(&mut self, now: Instant) -> Result<Slot, TooLong> {
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
                self.roll(end);
            }
        }
        let Some(allowed) = self.allowed else {
            // Nothing known yet: one request at a time until an answer tells the window.
            if self.in_flight == 0 {
                self.take();
                return Ok(Slot::Go);
            }
            return Ok(Slot::AfterAnswer);
        };
        if self.probing.is_some() {
            // The stated reset is whole seconds, rounded one way or the other: one request
            // goes first, alone, and the window opens when its answer shows it did.
            if self.in_flight <= self.stragglers {
                self.take();
                self.probe_sent = Some(now);
                return Ok(Slot::Go);
            }
            return Ok(Slot::AfterAnswer);
        }
        if self.used.saturating_add(self.headroom(allowed)) < allowed {
            self.take();
            return Ok(Slot::Go);
        }
        Ok(match self.ends {
            Some(end) => Slot::At(end + self.guard),
            None => Slot::AfterAnswer,
        })
    }

    fn take(&mut self) {
        self.used += 1;
        self.own += 1;
        self.in_flight += 1;
    }

    /// Admits an Architect job at `now` when the window can carry its spend (plus its
    /// registration and the poll that sees it end) besides the headroom of the jobs
    /// already in flight; otherwise says when to ask again. One job always goes when none
    /// is in flight and the window is fresh, so a spend larger than the window still makes
    /// progress.
    ///
    /// A job that does not fit may still start late in the window, once a job that ran
    /// alone has shown its quiet time (see [`Window::quiet`]): then the next window carries
    /// its spend and its poll, and this one only its registration.
    pub(crate) fn admit_job(&mut self, now: Instant) -> Slot {
        let late = match self.admission(now) {
            Admission::Go { late } => late,
            Admission::Wait(slot) => return slot,
        };
        let spend = self.job_spend();
        self.jobs += 1;
        self.registering += 1;
        self.unlanded = self.unlanded.saturating_add(spend);
        self.assumed_in_flight = self.assumed_in_flight.saturating_add(spend);
        if late {
            self.late_jobs += 1;
            self.late_spend = self.late_spend.saturating_add(spend);
        }
        // Another job in flight: a rise in the count can no longer be told to be the lone
        // job's.
        self.lone = None;
        Slot::Go
    }

    /// When a job that does not fit this window may start late in it, carried by the next
    /// (see [`Window::quiet`]), if it may at all: the window's latest end (its stated end
    /// with the guard, or with a whole second while the rounding is unknown) less the
    /// trusted part of the quiet time.
    fn late_from(&self) -> Option<Instant> {
        let quiet = self.quiet?;
        let end = self.ends?;
        if self.probing.is_some() {
            return None;
        }
        let (num, den) = QUIET_TRUSTED;
        let trusted = quiet * num / den;
        (end + self.surely_ended()).checked_sub(trusted)
    }

    /// Whether a job may start at `now` late in the window (see [`Window::late_from`]):
    /// this window can carry its registration, and the next the spend and polls of all
    /// the jobs started late, with half of it left for everything else.
    fn fits_late(&self, now: Instant, allowed: u64, carried: u64) -> bool {
        let Some(from) = self.late_from() else {
            return false;
        };
        let spend = self.job_spend();
        let next = self
            .late_spend
            .saturating_add(spend)
            .saturating_add(self.late_jobs)
            .saturating_add(1);
        now >= from && carried < allowed && next <= allowed / 2
    }

    /// Whether a job may start now (see [`Window::admit_job`]).
    fn admission(&mut self, now: Instant) -> Admission {
        let here = Admission::Go { late: false };
        if let Some(b) = self.blocked_until.filter(|b| now < *b) {
            return Admission::Wait(Slot::At(b));
        }
        if let Some(end) = self.ends {
            if now >= end + self.guard {
                self.roll(end);
            }
        }
        let Some(allowed) = self.allowed else {
            // The window is unknown: one job at a time.
            if self.jobs == 0 {
                return here;
            }
            return Admission::Wait(Slot::AfterAnswer);
        };
        if self.probing.is_some() {
            if self.in_flight > self.stragglers || self.registering > 0 {
                // A probe is out (or a job about to send one): its answer tells.
                return Admission::Wait(Slot::AfterAnswer);
            }
            // No probe is out, and the jobs in flight may not poll for a while: this job's
            // registration probes. (Its spend must not land in the old window: the job
            // starts only once that has surely ended, see `start_after`.)
            return here;
        }
        // Its spend, its registration and the poll that sees it ended.
        let need = self.job_spend().saturating_add(2);
        let carried = self.committed(allowed);
        let fits = carried.saturating_add(need) <= allowed;
        let alone = self.jobs == 0 && need >= allowed && self.used <= 1;
        if fits || alone {
            return here;
        }
        if self.fits_late(now, allowed, carried) {
            return Admission::Go { late: true };
        }
        let Some(end) = self.ends else {
            return Admission::Wait(Slot::AfterAnswer);
        };
        // Ask again at the window's end, or when a job may start late in it.
        let at = match self.late_from() {
            Some(from) if from > now => from.min(end + self.guard),
            _ => end + self.guard,
        };
        Admission::Wait(Slot::At(at))
    }

    /// When a job registered at `now` may start, if not at once: while the pacer probes
    /// (its registration may have been the probe, answered from the old window), only
    /// once the old window has surely ended, so that its spend lands in the new one. That
    /// is its stated end with the guard once the rounding is known, else a second after.
    pub(crate) fn start_after(&self, now: Instant) -> Option<Instant> {
        let last_end = self.probing?;
        Some(last_end + self.surely_ended()).filter(|at| *at > now)
    }

    /// How long after its stated end a window has surely ended: the guard once a probe
    /// has shown the rounding, else a whole second.
    fn surely_ended(&self) -> Duration {
        if self.rounding_known {
            self.guard
        } else {
            SURPRISE_GUARD
        }
    }

    /// An admitted job's registration was answered (or failed): the count holds it now.
    pub(crate) fn job_registered(&mut self, now: Instant) {
        self.registering = self.registering.saturating_sub(1);
        if self.jobs == 1 && self.registering == 0 && !self.quiet_refuted {
            // The only job in flight: watched for how long its spend stays unseen.
            self.lone = Some(Lone {
                registered: now,
                excess: self.run_excess(),
                quiet: Duration::ZERO,
            });
        }
    }

    /// Learns from an answer to a request sent at `sent` (after [`Window::observe`] took
    /// its count) how long the lone job's spend stays unseen: an answer sent after its
    /// registration that shows no new excess lengthens its quiet time; the first that shows
    /// one ends it, and the run's quiet time is the least of those seen.
    fn watch_lone(&mut self, sent: Instant) {
        let Some(mut lone) = self.lone else {
            return;
        };
        // (An answer sent before its registration shows no quiet time: the duration
        // saturates at zero.)
        if self.run_excess() > lone.excess {
            self.learn_quiet(lone.quiet);
            self.lone = None;
        } else {
            lone.quiet = lone.quiet.max(sent.duration_since(lone.registered));
            self.lone = Some(lone);
        }
    }

    fn learn_quiet(&mut self, quiet: Duration) {
        if !self.quiet_refuted {
            self.quiet = Some(self.quiet.map_or(quiet, |q| q.min(quiet)));
        }
    }

    /// A job the rate limit killed (or a 429 while jobs started late were in flight): a
    /// job may have spent sooner than its quiet time, so no job starts late again in
    /// this run.
    pub(crate) fn refute_quiet(&mut self) {
        self.quiet = None;
        self.quiet_refuted = true;
        self.lone = None;
    }

    /// An admitted job ended: `ran` when it ran (it spent its requests), not when it failed
    /// before it started (its registration or upload failed).
    pub(crate) fn job_done(&mut self, ran: bool) {
        // Jobs end in about the order they started: if any job in flight was so when a
        // window closed, this is one of them.
        let spanned = self.spanned > 0;
        self.spanned = self.spanned.saturating_sub(1);
        // Nothing the jobs in flight spent has shown in the count, though jobs spend and
        // this one was in flight when a window closed: its spend landed there after the
        // last answer from it, unseen. It teaches nothing of the spend.
        let seen = self.assumed_in_flight.saturating_sub(self.unlanded);
        let unseen = ran && spanned && seen == 0 && self.run_excess() > 0;
        // Which job ended cannot be told: it takes its share of what the jobs in flight
        // were assumed to spend.
        if let Some(assumed) = self.assumed_in_flight.checked_div(self.jobs) {
            self.assumed_in_flight -= assumed;
            if !ran || unseen {
                // It never started, so it spent nothing (or what it spent went unseen):
                // what it was assumed to spend will not land.
                self.unlanded = self.unlanded.saturating_sub(assumed);
            }
        }
        self.jobs = self.jobs.saturating_sub(1);
        self.spanned = self.spanned.min(self.jobs);
        if ran && !unseen {
            self.finished += 1;
            // It spent all it will spend before it was seen ended. What is still to land is
            // the other jobs', at most what they are taken to spend. (Its share is not
            // taken by average: the jobs that end are the ones whose spend has landed, and
            // the average would take from jobs that have not spent yet.)
            let spend = self.job_spend();
            self.unlanded = self.unlanded.min(self.jobs.saturating_mul(spend));
        }
        if self.jobs == 0 {
            self.assumed_in_flight = 0;
            self.unlanded = 0;
        }
        // Which job ended cannot be told: the late ones keep no more than is left.
        self.late_jobs = self.late_jobs.min(self.jobs);
        self.late_spend = self.late_spend.min(self.unlanded);
        if let Some(lone) = self.lone.take().filter(|_| ran && !spanned) {
            // It ran to its end within one window with no excess seen (it spent nothing):
            // quiet all along.
            self.learn_quiet(lone.quiet);
        }
    }

    /// An answer to a request sent at `sent` came back at `now`, with the rate-limit headers
    /// if it had them (a dropped connection has none). Frees its in-flight slot, learns the
    /// window, and watches the lone job (see [`Window::watch_lone`]).
    pub(crate) fn observe_sent(
        &mut self,
        now: Instant,
        sent: Instant,
        headers: Option<RateHeaders>,
    ) {
        self.observe(now, headers);
        if headers.is_some() {
            self.watch_lone(sent);
        }
    }

    /// An answer came back at `now` (see [`Window::observe_sent`]).
    pub(crate) fn observe(&mut self, now: Instant, headers: Option<RateHeaders>) {
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
        let longest = MAX_RESET + RESET_ROUNDING;
        self.absurd = (spent && reset > longest).then_some(reset);
        let Some(end) = now.checked_add(reset.min(longest)) else {
            return;
        };
        self.allowed = Some(allowed);
        if let Some(last_end) = self.probing {
            // The probe's own answer for certain: nothing else was in flight.
            let the_probes = self.stragglers == 0 && self.in_flight == 0;
            // Whose answer this is cannot be told: taken as a straggler's.
            self.stragglers = self.stragglers.min(self.in_flight);
            // Only an answer whose window ends well after the last one shows the new
            // window; anything else is the old window still (an answer that was in flight,
            // or a probe sent before the real reset), and the next probe follows shortly.
            if end > last_end + NEW_WINDOW_JUMP || was_absurd {
                let at_the_stated_end = self
                    .probe_sent
                    .is_some_and(|t| t < last_end + SURPRISE_GUARD / 2);
                if the_probes && at_the_stated_end {
                    // Sent at the stated reset and answered from the new window: the
                    // stated reset is not early. (A probe sent a second late tells
                    // nothing.)
                    self.rounding_known = true;
                }
                self.open(end, count);
                return;
            }
            // Still the old window. A probe's answer from it was one of its requests.
            if the_probes {
                self.old_own += 1;
            }
            self.learn_old_excess(count);
            if self.in_flight <= self.stragglers {
                let mut next = now + PROBE_AGAIN;
                if the_probes && self.guard.is_zero() {
                    // Sent at the stated reset and answered from the old window: the server
                    // rounds `reset` down, so every window really ends up to a second after
                    // its stated end. The next probe goes a second after this one's.
                    self.guard = SURPRISE_GUARD;
                    next = next.max(last_end + SURPRISE_GUARD);
                }
                if the_probes {
                    self.rounding_known = true;
                }
                self.blocked_until = Some(next);
            }
            return;
        }
        // Answers arrive out of order, so a lower count inside a window is an older answer,
        // never a reset: only an answer whose window ends later (or one after an absurd
        // reset, whose end was never real) starts a new window.
        match self.ends {
            Some(current) if end <= current + NEW_WINDOW_JUMP && !was_absurd => {
                // The same window: its end is the earliest estimate, its use the highest.
                self.ends = Some(current.min(end));
                self.used = self.used.max(count);
                self.learn_excess(count.saturating_sub(self.own));
            }
            Some(_) => self.open(end, count),
            None => {
                // The first answer ever: what was reserved since counts too.
                self.generation += 1;
                self.ends = Some(end);
                self.used = self.used.max(count.saturating_add(self.in_flight));
                self.learn_excess(count.saturating_sub(self.own));
            }
        }
    }

    /// A 429 at `now`: the window is spent whatever the pacer believed, and every request
    /// waits `retry_after` (exactly that: then a probe looks for the new window). If the
    /// pacer believed there was room, or that the window had ended, its idea of the
    /// window's end was early: from now on a guard is added to it.
    pub(crate) fn throttled(&mut self, now: Instant, retry_after: Duration) {
        if self.late_jobs > 0 {
            // A job started late may have spent in this window after all.
            self.refute_quiet();
        }
        if let Some(allowed) = self.allowed {
            if self.used < allowed || self.ends.is_none() || self.probing.is_some() {
                self.guard = SURPRISE_GUARD;
                self.rounding_known = true;
            }
            self.used = allowed;
        }
        let until = now.checked_add(retry_after.min(MAX_BLOCK)).unwrap_or(now);
        self.blocked_until = Some(self.blocked_until.map_or(until, |b| b.max(until)));
        if self.probing.is_some() {
            // Still the old window: the next probe goes after the Retry-After.
            return;
        }
        // The server's word beats the pacer's estimate: the window is spent until the
        // Retry-After has passed, and no longer (a 429 that is not the window's, such as a
        // burst limit, must not hold everyone for the rest of a 60 s window).
        // (The guard is for estimated ends; a Retry-After is exact, so it is taken off.)
        self.ends = self
            .blocked_until
            .map(|b| b.checked_sub(self.guard).unwrap_or(b));
    }

    /// Whether the window can carry a second poll of every job in flight besides all it
    /// already carries (see [`Window::committed`]): then polling a job soon after its
    /// expected end costs nothing that holds anything back. False while the window is
    /// unknown or a probe looks for the next one.
    pub(crate) fn room_for_polls(&self) -> bool {
        match self.allowed {
            Some(allowed) if self.probing.is_none() => {
                self.committed(allowed).saturating_add(self.jobs) <= allowed
            }
            _ => false,
        }
    }

    /// When the current window is taken to end (its stated end plus the guard), if known.
    pub(crate) fn next_window_at(&self) -> Option<Instant> {
        self.ends.map(|e| e + self.guard)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Pacer {
    window: Mutex<Window>,
    /// When a request last had to wait for the window (for "is the pacer the bottleneck").
    last_wait: Mutex<Option<Instant>>,
    /// Who waits for the rate limit now, so that one line tells them all.
    held: Mutex<Held>,
}

/// The tasks the rate limit holds now, and the wait already told on stderr.
#[derive(Debug, Default)]
struct Held {
    requests: usize,
    jobs: usize,
    /// The time the told wait ends: a task waiting for that same time says nothing more.
    told_until: Option<Instant>,
}

/// Why the pacer holds a request, for its line on stderr.
fn reason(blocked: bool) -> &'static str {
    if blocked {
        "the API answered 429 Too Many Requests with Retry-After"
    } else {
        "this rate-limit window is spent (inin-ratelimit-reset)"
    }
}

/// The one line for everything one wait holds: "waiting 7 s for the rate limit (30
/// requests held): ...".
fn held_line(wait: Duration, requests: usize, jobs: usize, why: &str) -> String {
    let mut what = Vec::new();
    if requests > 0 {
        what.push(format!(
            "{requests} request{} held",
            if requests == 1 { "" } else { "s" }
        ));
    }
    if jobs > 0 {
        what.push(format!(
            "{jobs} Architect job{} waiting to start",
            if jobs == 1 { "" } else { "s" }
        ));
    }
    format!(
        "waiting {} s for the rate limit ({}): {why}",
        wait.as_secs(),
        what.join(", ")
    )
}

/// A task counted as held by the rate limit while it lives.
struct HeldGuard<'a> {
    pacer: &'a Pacer,
    job: bool,
}

impl Drop for HeldGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut h) = self.pacer.held.lock() {
            if self.job {
                h.jobs = h.jobs.saturating_sub(1);
            } else {
                h.requests = h.requests.saturating_sub(1);
            }
            crate::progress::set_rate_held(h.requests + h.jobs);
        }
    }
}

/// An admitted Architect job; [`JobSlot::registered`] once its registration was answered,
/// [`JobSlot::ran`] once the job ran (its spend is then learned from the window); dropping
/// it frees the job's headroom.
pub(crate) struct JobSlot<'a> {
    pacer: &'a Pacer,
    registered: bool,
    ran: bool,
}

impl JobSlot<'_> {
    /// The job's registration was answered: from now on the window's count holds it, so
    /// the headroom no longer does. Returns when the job may start (its content be
    /// uploaded): at once, unless the registration went as the probe at a stated reset
    /// and the window may not have ended yet, so that the job's spend lands in the new
    /// window (see [`Window::start_after`]).
    pub async fn registered(&mut self) {
        self.mark_registered();
        let at = self
            .pacer
            .window
            .lock()
            .ok()
            .and_then(|w| w.start_after(Instant::now()));
        if let Some(at) = at {
            tokio::time::sleep_until(at).await;
        }
    }

    fn mark_registered(&mut self) {
        if !self.registered {
            self.registered = true;
            if let Ok(mut w) = self.pacer.window.lock() {
                w.job_registered(Instant::now());
            }
        }
    }

    /// The job ran to its end (success or failure): it spent its requests.
    pub(crate) fn ran(&mut self) {
        self.ran = true;
    }
}

impl Drop for JobSlot<'_> {
    fn drop(&mut self) {
        self.mark_registered();
        if let Ok(mut w) = self.pacer.window.lock() {
            w.job_done(self.ran);
        }
    }
}

impl Pacer {
    /// Waits for this request's slot and reserves it. Every call that returns `Ok` must be
    /// followed by [`Pacer::observe`] (or [`Pacer::no_answer`]) when the request ends. A
    /// spent window whose reset is past [`MAX_RESET`] is refused at once.
    pub(crate) async fn wait(&self) -> Result<(), TooLong> {
        let start = Instant::now();
        let mut held = None;
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
                    self.went(start);
                    return Ok(());
                }
                Slot::At(t) => t
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
                Slot::AfterAnswer => RECHECK,
            };
            // The window's end estimate only moves earlier as answers come in: look again
            // now and then rather than sleep to an end that has since been corrected.
            let until = now + wait.min(REESTIMATE);
            self.hold(&mut held, &mut _waiting, false, wait, blocked)
                .await;
            tokio::time::sleep_until(until).await;
        }
    }

    /// Waits until the window can carry one more Architect job besides the ones in flight
    /// (see [`Window::admit_job`]), and admits it.
    pub(crate) async fn admit_job(&self) -> JobSlot<'_> {
        let mut held = None;
        let mut _waiting = None;
        loop {
            let now = Instant::now();
            let (slot, blocked, may_change) = match self.window.lock() {
                Ok(mut w) => {
                    let blocked = w.blocked_until.is_some_and(|b| b > now);
                    let slot = w.admit_job(now);
                    if slot == Slot::Go {
                        tracing::debug!(
                            used = w.used,
                            jobs = w.jobs,
                            late = w.late_jobs,
                            unlanded = w.unlanded,
                            spend = w.job_spend(),
                            quiet_ms = w.quiet.map(|q| q.as_millis()),
                            "Architect job admitted"
                        );
                    }
                    (slot, blocked, w.jobs > 0 && !blocked)
                }
                Err(_) => (Slot::Go, false, false),
            };
            let wait = match slot {
                Slot::Go => {
                    return JobSlot {
                        pacer: self,
                        registered: false,
                        ran: false,
                    }
                }
                Slot::At(t) => t
                    .saturating_duration_since(now)
                    .max(Duration::from_millis(1)),
                Slot::AfterAnswer => RECHECK,
            };
            // With jobs in flight the window's room changes before its end (a registration
            // answered is no longer held twice, a job seen ended frees its poll, a learned
            // spend is smaller): look again soon, so the window's room is not left unused.
            let until = now + wait.min(if may_change { JOB_RECHECK } else { REESTIMATE });
            self.hold(&mut held, &mut _waiting, true, wait, blocked)
                .await;
            tokio::time::sleep_until(until).await;
        }
    }

    /// Counts this task as held and, if no line has told this wait yet, tells it: after a
    /// short beat (so the tasks held with it are counted), one line for all of them.
    async fn hold<'a>(
        &'a self,
        held: &mut Option<HeldGuard<'a>>,
        waiting: &mut Option<crate::progress::Waiting>,
        job: bool,
        wait: Duration,
        blocked: bool,
    ) {
        if wait < TELL_AFTER {
            return;
        }
        let until = Instant::now() + wait;
        let tell = match self.held.lock() {
            Ok(mut h) => {
                if held.is_none() {
                    if job {
                        h.jobs += 1;
                    } else {
                        h.requests += 1;
                    }
                    crate::progress::set_rate_held(h.requests + h.jobs);
                    *held = Some(HeldGuard { pacer: self, job });
                }
                // Waits ending within a second of the told one are the same wait.
                let same = h.told_until.is_some_and(|t| {
                    t.max(until).saturating_duration_since(t.min(until)) < TELL_AFTER / 2
                });
                if !same {
                    h.told_until = Some(until);
                }
                !same
            }
            Err(_) => false,
        };
        if !tell {
            return;
        }
        // Let the tasks held by the same window join the count.
        tokio::time::sleep(RECHECK).await;
        let (requests, jobs) = self
            .held
            .lock()
            .map(|h| (h.requests, h.jobs))
            .unwrap_or((1, 0));
        // Said on stderr (warn is shown by default): a silent minute looks like a hang.
        tracing::warn!("{}", held_line(wait, requests, jobs, reason(blocked)));
        // Then a spinner on a terminal, or a reminder every few seconds.
        *waiting = Some(crate::progress::waiting_told(
            "the rate limit".to_string(),
            wait,
        ));
    }

    /// A request got its slot after `start`: a wait worth noting is remembered.
    fn went(&self, start: Instant) {
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
    }

    /// Learns from the `inin-ratelimit-*` headers of the answer to a request sent at `sent`,
    /// and frees its slot.
    pub(crate) fn observe(&self, sent: Instant, headers: Option<RateHeaders>) {
        if let Ok(mut w) = self.window.lock() {
            w.observe_sent(Instant::now(), sent, headers);
        }
    }

    /// A job the rate limit killed: no job starts late again in this run (see
    /// [`Window::refute_quiet`]).
    pub(crate) fn job_killed(&self) {
        if let Ok(mut w) = self.window.lock() {
            w.refute_quiet();
        }
    }

    /// The request ended with no answer (a dropped connection, a timeout): frees its slot.
    pub(crate) fn no_answer(&self) {
        if let Ok(mut w) = self.window.lock() {
            w.observe(Instant::now(), None);
        }
    }

    /// After a 429: hold every request until `retry_after` has passed.
    pub(crate) fn block(&self, retry_after: Duration) {
        if let Ok(mut w) = self.window.lock() {
            w.throttled(Instant::now(), retry_after);
        }
    }

    /// Whether the window has room for a second poll of every job in flight (see
    /// [`Window::room_for_polls`]).
    pub(crate) fn room_for_polls(&self) -> bool {
        self.window.lock().is_ok_and(|w| w.room_for_polls())
    }

    /// The window's allowance, once an answer said it.
    pub(crate) fn allowed(&self) -> Option<u64> {
        self.window.lock().ok().and_then(|w| w.allowed)
    }

    /// Waits until the window current now has reset (its stated end plus guard), so that
    /// what is sent next lands in a new window. Returns at once when no end is known.
    pub(crate) async fn wait_for_reset(&self) {
        let at = self.window.lock().ok().and_then(|w| w.next_window_at());
        if let Some(at) = at {
            tokio::time::sleep_until(at).await;
        }
    }

    /// True when a request waited for the window within `recent`.
    pub(crate) fn throttled_within(&self, recent: Duration) -> bool {
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

    /// A request sent at `now` and answered with `seen`.
    fn answered(w: &mut Window, now: Instant, seen: Option<RateHeaders>) {
        go(w, now);
        w.observe(now, seen);
    }

    /// How many jobs start at `now`, each sending its registration, until the window is full.
    fn jobs_admitted(w: &mut Window, now: Instant) -> usize {
        let mut admitted = 0;
        while w.admit_job(now) == Slot::Go {
            assert_eq!(go(w, now), Slot::Go, "its registration");
            w.job_registered(now);
            admitted += 1;
        }
        admitted
    }

    /// A window whose server a probe showed to state its reset on time (rounded up): no
    /// request is kept spare for the probe.
    fn known() -> Window {
        Window {
            rounding_known: true,
            ..Window::default()
        }
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
        let mut w = known();
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
        let mut w = known();
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
        answered(&mut w, now, headers(100, 1, 10));
        go(&mut w, now);
        w.observe(now + Duration::from_millis(300), headers(100, 2, 10));
        assert_eq!(w.ends, Some(now + Duration::from_secs(10)));
        // After the reset: an answer whose end jumps a whole window ahead starts anew.
        let next = now + Duration::from_secs(11);
        answered(&mut w, next, headers(100, 1, 60));
        assert_eq!(w.ends, Some(next + Duration::from_secs(60)));
        assert_eq!(w.used, 1);
    }

    #[test]
    fn a_429_spends_the_window_holds_everyone_and_adds_a_guard_when_it_surprised() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(50, 1, 5));
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
        let mut w = known();
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
        answered(&mut w, now, headers(300, 1, 50));
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
        answered(&mut w, now, headers(u64::MAX, u64::MAX, u64::MAX));
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
                pacer.observe(Instant::now(), headers(5, count, reset));
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
        pacer.observe(
            Instant::now(),
            RateHeaders::parse(Some("300"), Some("300"), Some("18446744073709551615")),
        );
        assert_eq!(
            pacer.wait().await,
            Err(TooLong {
                asked: Duration::from_secs(u64::MAX)
            })
        );
        // Sane headers again (a new window): requests go on.
        pacer.observe(
            Instant::now(),
            RateHeaders::parse(Some("300"), Some("1"), Some("30")),
        );
        assert_eq!(pacer.wait().await, Ok(()));
    }

    #[tokio::test]
    async fn an_absurd_reset_with_room_left_changes_nothing() {
        let pacer = Pacer::default();
        pacer.observe(
            Instant::now(),
            RateHeaders::parse(Some("300"), Some("3"), Some("3600")),
        );
        assert_eq!(pacer.wait().await, Ok(()));
    }

    #[test]
    fn an_absurd_block_never_overflows_the_clock() {
        let pacer = Pacer::default();
        pacer.block(Duration::MAX);
        pacer.block(Duration::from_secs(u64::MAX));
    }

    // What mutation testing found unpinned, and the probe and job budget.

    #[test]
    fn a_spent_window_resetting_in_exactly_60_s_is_waited_not_refused() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(300, 300, 60));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(60)));
    }

    #[test]
    fn a_spent_window_resetting_in_61_s_as_a_real_org_said_is_waited_and_63_is_refused() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(180, 180, 61));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(61)));
        let mut w = Window::default();
        answered(&mut w, now, headers(180, 180, 63));
        assert_eq!(w.absurd, Some(Duration::from_secs(63)));
    }

    #[test]
    fn a_429_before_any_rate_headers_holds_the_next_request() {
        let now = Instant::now();
        let mut w = Window::default();
        assert_eq!(go(&mut w, now), Slot::Go);
        w.observe(now, None);
        w.throttled(now, Duration::from_secs(5));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(5)));
        assert_eq!(go(&mut w, now + Duration::from_secs(5)), Slot::Go);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_seen_by_one_request_holds_the_others_for_its_retry_after() {
        let pacer = Pacer::default();
        pacer.block(Duration::from_secs(5));
        let start = Instant::now();
        pacer.wait().await.expect("sane");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }

    #[test]
    fn requests_in_flight_at_a_window_rollover_count_against_the_new_window() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(10, 1, 10));
        for _ in 0..9 {
            assert_eq!(go(&mut w, now), Slot::Go);
        }
        // Four answered, five still in flight when the window ends.
        for c in 2..6 {
            w.observe(now, headers(10, c, 10));
        }
        let next = now + Duration::from_secs(10);
        assert_eq!(go(&mut w, next), Slot::Go, "the probe");
        w.observe(next, headers(10, 1, 10));
        // 1 (the probe) + 5 in flight: four more fit, not nine.
        for _ in 0..4 {
            assert_eq!(go(&mut w, next), Slot::Go);
        }
        assert_eq!(go(&mut w, next), Slot::At(next + Duration::from_secs(10)));
    }

    #[test]
    fn an_answer_whose_window_ends_much_later_opens_a_new_window_at_once() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(3, 3, 10));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(10)));
        // Another process's reset: an answer says a window ending 20 s later, count 1.
        let later = now + Duration::from_secs(2);
        w.observe(later, headers(3, 1, 18));
        assert_eq!(go(&mut w, later), Slot::Go);
        assert_eq!(go(&mut w, later), Slot::Go);
        assert_eq!(go(&mut w, later), Slot::At(later + Duration::from_secs(18)));
    }

    #[test]
    fn after_an_absurd_reset_a_sane_answer_lets_requests_go_at_once() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(300, 300, 100_000));
        assert!(w.reserve(now).is_err());
        w.observe(now, headers(300, 1, 30));
        assert_eq!(go(&mut w, now), Slot::Go);
        assert_eq!(go(&mut w, now), Slot::Go);
    }

    #[test]
    fn until_a_probe_shows_the_rounding_one_request_of_each_window_is_kept_spare() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(10, 1, 10));
        for _ in 0..8 {
            assert_eq!(go(&mut w, now), Slot::Go);
        }
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(10)));
    }

    #[test]
    fn at_a_stated_reset_one_probe_goes_and_an_answer_from_the_old_window_means_it_rounds_down() {
        let now = Instant::now();
        let mut w = Window::default();
        go(&mut w, now);
        // Four of five used: the fifth is the probe's spare.
        w.observe(now, headers(5, 4, 10));
        assert_eq!(go(&mut w, now), Slot::At(now + Duration::from_secs(10)));
        let end = now + Duration::from_secs(10);
        assert_eq!(go(&mut w, end), Slot::Go, "one probe");
        assert_eq!(
            go(&mut w, end),
            Slot::AfterAnswer,
            "the rest wait for its answer"
        );
        // Its answer is still the old window (counted in it, reset 0): the server rounds
        // reset down, so the window really ends within a second of its stated end. No
        // burst, and the next probe goes a second after the stated end, not sooner.
        w.observe(end, headers(5, 5, 0));
        assert_eq!(w.guard, SURPRISE_GUARD);
        let again = end + SURPRISE_GUARD;
        assert_eq!(go(&mut w, end + PROBE_AGAIN), Slot::At(again));
        assert_eq!(go(&mut w, again), Slot::Go);
        assert_eq!(go(&mut w, again), Slot::AfterAnswer);
        // This one shows the new window: count 1, ending 10 s on. No spare any more.
        w.observe(again, headers(5, 1, 10));
        for _ in 0..4 {
            assert_eq!(go(&mut w, again), Slot::Go);
        }
        // And this window too is taken to end a second after its stated end.
        assert_eq!(
            go(&mut w, again),
            Slot::At(again + Duration::from_secs(10) + SURPRISE_GUARD)
        );
    }

    #[test]
    fn a_probe_answered_from_the_new_window_shows_the_reset_is_not_early_and_frees_the_spare() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(5, 4, 10));
        let end = now + Duration::from_secs(10);
        assert_eq!(go(&mut w, end), Slot::Go, "the probe");
        w.observe(end, headers(5, 1, 10));
        assert_eq!(w.guard, Duration::ZERO);
        for _ in 0..4 {
            assert_eq!(go(&mut w, end), Slot::Go);
        }
        assert_eq!(go(&mut w, end), Slot::At(end + Duration::from_secs(10)));
    }

    #[test]
    fn a_probe_still_answered_from_the_old_window_after_the_guard_is_repeated_shortly() {
        let now = Instant::now();
        let mut w = known();
        w.guard = SURPRISE_GUARD;
        answered(&mut w, now, headers(5, 4, 10));
        let end = now + Duration::from_secs(10) + SURPRISE_GUARD;
        assert_eq!(go(&mut w, end), Slot::Go, "the probe");
        w.observe(end, headers(5, 5, 0));
        assert_eq!(go(&mut w, end), Slot::At(end + PROBE_AGAIN));
        assert_eq!(w.guard, SURPRISE_GUARD, "the guard does not grow");
    }

    #[test]
    fn a_probe_refused_with_429_holds_for_retry_after_and_adds_the_guard() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(5, 5, 10));
        let end = now + Duration::from_secs(10);
        assert_eq!(go(&mut w, end), Slot::Go);
        w.observe(end, headers(5, 5, 0));
        w.throttled(end, Duration::from_secs(1));
        assert_eq!(w.guard, SURPRISE_GUARD);
        let after = end + Duration::from_secs(1);
        assert_eq!(go(&mut w, end), Slot::At(after));
        assert_eq!(go(&mut w, after), Slot::Go, "the next probe");
        assert_eq!(go(&mut w, after), Slot::AfterAnswer);
    }

    #[test]
    fn with_the_guard_a_request_between_the_stated_end_and_the_guard_still_waits() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(50, 1, 5));
        go(&mut w, now);
        // A 429 with room believed left: the ends were early.
        w.observe(now, headers(50, 2, 5));
        w.throttled(now, Duration::from_secs(2));
        assert_eq!(w.guard, SURPRISE_GUARD);
        let t = now + Duration::from_secs(2);
        assert_eq!(go(&mut w, t), Slot::Go, "the Retry-After is exact");
        w.observe(t, headers(50, 2, 5));
        for _ in 0..48 {
            assert_eq!(go(&mut w, t), Slot::Go);
        }
        let end = t + Duration::from_secs(5);
        let guarded = end + SURPRISE_GUARD;
        assert_eq!(go(&mut w, end), Slot::At(guarded));
        assert_eq!(
            go(&mut w, end + Duration::from_millis(500)),
            Slot::At(guarded)
        );
        assert_eq!(go(&mut w, guarded), Slot::Go);
    }

    #[test]
    fn a_429_on_a_window_already_believed_spent_adds_no_guard() {
        let now = Instant::now();
        let mut w = Window::default();
        answered(&mut w, now, headers(2, 2, 5));
        w.throttled(now, Duration::from_secs(5));
        assert_eq!(w.guard, Duration::ZERO);
    }

    #[test]
    fn jobs_are_admitted_while_the_window_can_carry_their_assumed_spend() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(60, 1, 10));
        // 10 assumed per job, plus its registration and the poll that sees it end: 59 left
        // carries four.
        for _ in 0..4 {
            assert_eq!(w.admit_job(now), Slot::Go);
        }
        assert_eq!(w.admit_job(now), Slot::At(now + Duration::from_secs(10)));
        // Requests keep the jobs' spend free: 60 - 1 - 4 × 10 = 19 go (the jobs' four
        // registrations and four polls among them).
        let mut went = 0;
        while go(&mut w, now) == Slot::Go {
            went += 1;
        }
        assert_eq!(went, 19);
    }

    #[test]
    fn a_second_poll_of_each_job_is_allowed_only_while_the_window_carries_them_all() {
        let now = Instant::now();
        // An unknown window has no room to spare.
        assert!(!Window::default().room_for_polls());
        let mut w = known();
        answered(&mut w, now, headers(60, 1, 10));
        assert!(w.room_for_polls());
        // Four jobs at 10 assumed each, a registration and a poll: 1 + 4 × 12 = 49 carried,
        // and a second poll of each: 53 of 60.
        for _ in 0..4 {
            assert_eq!(w.admit_job(now), Slot::Go);
        }
        assert!(w.room_for_polls());
        // Seven more requests fill it to 60 exactly; the eighth leaves no room.
        for _ in 0..7 {
            assert_eq!(go(&mut w, now), Slot::Go);
        }
        assert!(w.room_for_polls());
        assert_eq!(go(&mut w, now), Slot::Go);
        assert!(!w.room_for_polls());
    }

    #[test]
    fn a_jobs_spend_is_learned_from_the_count_beyond_flowctls_own_requests() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(60, 1, 10));
        assert_eq!(w.admit_job(now), Slot::Go);
        assert_eq!(go(&mut w, now), Slot::Go); // its registration
        w.observe(now, headers(60, 2, 10));
        w.job_registered(now);
        assert_eq!(go(&mut w, now), Slot::Go); // the poll that finds it done
                                               // The job spent 5: the server counts 3 of ours and its 5.
        w.observe(now, headers(60, 8, 10));
        w.job_done(true);
        assert_eq!(w.job_spend(), 5);
        // A job that never ran (its registration failed) teaches nothing.
        assert_eq!(w.admit_job(now), Slot::Go);
        w.job_registered(now);
        w.job_done(false);
        assert_eq!(w.job_spend(), 5);
        // Now 7 more jobs fit, each with its spend, registration and poll: (60 - 8) / 7.
        assert_eq!(jobs_admitted(&mut w, now), 7);
    }

    #[test]
    fn a_job_whose_spend_shows_in_the_count_holds_only_its_poll_even_in_the_next_window() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(60, 1, 10));
        // One job teaches the spend: 5.
        assert_eq!(w.admit_job(now), Slot::Go);
        answered(&mut w, now, headers(60, 2, 10));
        w.job_registered(now);
        answered(&mut w, now, headers(60, 8, 10));
        w.job_done(true);
        assert_eq!(w.job_spend(), 5);
        // Four more start; their registrations are answered.
        for c in 9..13 {
            assert_eq!(w.admit_job(now), Slot::Go);
            answered(&mut w, now, headers(60, c, 10));
            w.job_registered(now);
        }
        assert_eq!(w.unlanded, 20);
        // Their spend lands: an answer shows the count 20 past flowctl's 13 requests.
        answered(&mut w, now, headers(60, 33, 10));
        assert_eq!(w.unlanded, 0, "the count holds it now");
        // The window ends before their polls; a new one opens.
        let next = now + Duration::from_secs(10);
        assert_eq!(go(&mut w, next), Slot::Go, "the probe");
        w.observe(next, headers(60, 1, 10));
        // The four hold only their polls here: (60 - 1 - 4) / 7 = 7 jobs start. Held again
        // for their spend (20), only 5 would.
        assert_eq!(jobs_admitted(&mut w, next), 7);
    }

    #[test]
    fn a_job_spend_of_zero_is_learned_and_leaves_the_window_to_requests() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(60, 1, 10));
        assert_eq!(w.admit_job(now), Slot::Go);
        answered(&mut w, now, headers(60, 2, 10));
        w.job_registered(now);
        w.job_done(true);
        assert_eq!(w.job_spend(), 0);
        assert_eq!(w.admit_job(now), Slot::Go);
        go(&mut w, now);
        w.job_registered(now);
        let mut went = 0;
        while go(&mut w, now) == Slot::Go {
            went += 1;
        }
        assert_eq!(
            went, 57,
            "60 - 3 sent: nothing kept for a job that spends nothing"
        );
    }

    #[test]
    fn a_job_that_spends_in_one_window_and_ends_in_the_next_evens_out() {
        let now = Instant::now();
        let mut w = known();
        answered(&mut w, now, headers(100, 1, 10));
        w.admit_job(now);
        go(&mut w, now);
        // The job spent 5 in this window, and is seen finished only in the next.
        w.observe(now, headers(100, 7, 10));
        assert_eq!(w.job_spend(), ASSUMED_JOB_SPEND, "no job finished yet");
        let next = now + Duration::from_secs(10);
        assert_eq!(go(&mut w, next), Slot::Go);
        w.observe(next, headers(100, 1, 10));
        w.job_done(true);
        assert_eq!(w.job_spend(), 5, "the excess of the window before counts");
        // Two more jobs in this window, spending 5 each: still 5.
        w.admit_job(next);
        w.admit_job(next);
        go(&mut w, next);
        answered(&mut w, next, headers(100, 13, 10));
        w.job_done(true);
        w.job_done(true);
        assert_eq!(w.job_spend(), 5);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A request sent at `at` and answered at once, the server counting `count`.
    fn polled(w: &mut Window, at: Instant, count: u64, reset_s: u64) {
        assert_eq!(go(w, at), Slot::Go);
        w.observe_sent(at, at, headers(60, count, reset_s));
    }

    /// 60 per 10 s, a server stating its reset on time: one job runs alone from `t0`,
    /// polled at 0.5 s and 1.2 s with no spend in the count, then seen ended at 2 s with
    /// its spend of 5. Returns the window at 2 s with 10 counted (5 of flowctl's).
    fn after_a_lone_job_quiet_for(t0: Instant, first_spend_seen_ms: u64) -> Window {
        let mut w = known();
        polled(&mut w, t0, 1, 10);
        assert_eq!(w.admit_job(t0), Slot::Go);
        polled(&mut w, t0, 2, 10); // its registration
        w.job_registered(t0);
        let mut count = 2;
        // The reset each states, rounded up: the window ends at 10 s.
        for (at, reset) in [(500, 10), (1200, 9), (2000, 8)] {
            count += 1;
            let spent = if at >= first_spend_seen_ms { 5 } else { 0 };
            polled(&mut w, t0 + ms(at), count + spent, reset);
        }
        w.job_done(true);
        assert_eq!(w.job_spend(), 5);
        w
    }

    #[test]
    fn a_lone_jobs_quiet_time_is_the_last_answer_before_its_spend_showed() {
        let t0 = Instant::now();
        let w = after_a_lone_job_quiet_for(t0, 2000);
        assert_eq!(w.quiet, Some(ms(1200)));
        let w = after_a_lone_job_quiet_for(t0, 1200);
        assert_eq!(w.quiet, Some(ms(500)));
        let w = after_a_lone_job_quiet_for(t0, 500);
        assert_eq!(
            w.quiet,
            Some(Duration::ZERO),
            "its spend showed at the first answer"
        );
    }

    #[test]
    fn a_job_alongside_another_teaches_no_quiet_time() {
        let t0 = Instant::now();
        let mut w = known();
        polled(&mut w, t0, 1, 10);
        assert_eq!(w.admit_job(t0), Slot::Go);
        polled(&mut w, t0, 2, 10);
        w.job_registered(t0);
        // A second job starts: a rise in the count could be either's.
        assert_eq!(w.admit_job(t0), Slot::Go);
        polled(&mut w, t0, 3, 10);
        w.job_registered(t0);
        polled(&mut w, t0 + ms(1000), 4, 9);
        polled(&mut w, t0 + ms(2000), 15, 8);
        w.job_done(true);
        w.job_done(true);
        assert_eq!(w.quiet, None);
    }

    /// The window of [`after_a_lone_job_quiet_for`] (quiet 1.2 s: 0.9 s trusted, so late
    /// starts from 9.1 s) with 45 more requests sent: 55 of 60 counted, so no job fits
    /// (each needs 7).
    fn nearly_full(t0: Instant, first_spend_seen_ms: u64) -> Window {
        let mut w = after_a_lone_job_quiet_for(t0, first_spend_seen_ms);
        for count in 11..=55 {
            polled(&mut w, t0 + ms(2000), count, 8);
        }
        w
    }

    /// How many jobs start at `at`, each registration answered at once (the count rising
    /// from `count`), until none may.
    fn jobs_registered(w: &mut Window, at: Instant, mut count: u64, reset_s: u64) -> usize {
        let mut admitted = 0;
        while w.admit_job(at) == Slot::Go {
            count += 1;
            polled(w, at, count, reset_s);
            w.job_registered(at);
            admitted += 1;
        }
        admitted
    }

    #[test]
    fn a_job_that_does_not_fit_starts_late_in_the_window_and_spends_in_the_next() {
        let t0 = Instant::now();
        let mut w = nearly_full(t0, 2000);
        let end = t0 + Duration::from_secs(10);
        assert_eq!(w.admit_job(t0 + ms(2000)), Slot::At(end - ms(900)));
        assert_eq!(w.admit_job(t0 + ms(9000)), Slot::At(end - ms(900)));
        // From 9.1 s: each needs only its registration here, and the next window carries
        // its spend and poll (6), up to half of it: five start, filling this one to 60.
        let late = t0 + ms(9100);
        assert_eq!(jobs_registered(&mut w, late, 55, 1), 5);
        assert_eq!(go(&mut w, late), Slot::At(end), "this window is full");
        // The next window: the probe, then the five late jobs' 25 and their 5 polls are
        // held, so (60 - 1 - 30) / 7 = 4 jobs start.
        assert_eq!(go(&mut w, end), Slot::Go);
        w.observe_sent(end, end, headers(60, 1, 10));
        assert_eq!(jobs_admitted(&mut w, end), 4);
    }

    #[test]
    fn jobs_started_late_take_at_most_half_of_the_next_window() {
        let t0 = Instant::now();
        let mut w = after_a_lone_job_quiet_for(t0, 2000);
        // 54 counted: no job fits (7), and the six slots left could register six late
        // ones, but the next window would carry 36 of theirs: five start, and a slot is
        // left here for anything else.
        for count in 11..=54 {
            polled(&mut w, t0 + ms(2000), count, 8);
        }
        let late = t0 + ms(9100);
        assert_eq!(jobs_registered(&mut w, late, 54, 1), 5);
        // The next job asks again at the window's end (not at the late starts' opening,
        // which has passed).
        assert_eq!(w.admit_job(late), Slot::At(t0 + Duration::from_secs(10)));
        assert_eq!(go(&mut w, late), Slot::Go);
    }

    #[test]
    fn a_job_starts_late_only_while_this_window_can_still_take_its_registration() {
        let t0 = Instant::now();
        let mut w = after_a_lone_job_quiet_for(t0, 2000);
        for count in 11..=58 {
            polled(&mut w, t0 + ms(2000), count, 8);
        }
        // 58 of 60: two registrations fit, and the next window could carry more.
        assert_eq!(jobs_registered(&mut w, t0 + ms(9100), 58, 1), 2);
    }

    #[test]
    fn a_job_asking_to_start_within_a_429s_retry_after_waits_for_it() {
        let t0 = Instant::now();
        let mut w = known();
        polled(&mut w, t0, 60, 2);
        // At the stated reset the probe is refused: 3 s more.
        let end = t0 + Duration::from_secs(2);
        assert_eq!(go(&mut w, end), Slot::Go);
        w.observe(end, headers(60, 60, 0));
        w.throttled(end, Duration::from_secs(3));
        let after = end + Duration::from_secs(3);
        assert_eq!(w.admit_job(end + ms(1000)), Slot::At(after));
        // Then its registration is the next probe.
        assert_eq!(w.admit_job(after), Slot::Go);
    }

    #[test]
    fn at_a_stated_reset_one_job_or_one_request_probes_and_the_rest_wait_for_its_answer() {
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(2);
        // A job's registration is the probe: a second job waits, as does a request.
        let mut w = known();
        polled(&mut w, t0, 60, 2);
        assert_eq!(w.admit_job(end), Slot::Go);
        assert_eq!(w.admit_job(end), Slot::AfterAnswer);
        // A request is the probe: a job waits for its answer.
        let mut w = known();
        polled(&mut w, t0, 60, 2);
        assert_eq!(go(&mut w, end), Slot::Go);
        assert_eq!(w.admit_job(end), Slot::AfterAnswer);
    }

    #[test]
    fn a_job_larger_than_the_window_goes_alone_at_a_fresh_window() {
        let t0 = Instant::now();
        // 5 per window, and a job is assumed to spend 10 until one has been seen.
        let mut w = known();
        answered(&mut w, t0, headers(5, 1, 10));
        assert_eq!(w.admit_job(t0), Slot::Go, "alone, at a fresh window");
        assert_eq!(
            w.admit_job(t0),
            Slot::At(t0 + Duration::from_secs(10)),
            "not beside another"
        );
        // Two requests into a window: not fresh, so it waits for the next.
        let mut w = known();
        answered(&mut w, t0, headers(5, 1, 10));
        answered(&mut w, t0, headers(5, 2, 10));
        assert_eq!(w.admit_job(t0), Slot::At(t0 + Duration::from_secs(10)));
    }

    #[test]
    fn a_job_that_ran_within_one_window_and_spent_nothing_lowers_the_spend() {
        let t0 = Instant::now();
        let mut w = after_a_lone_job_quiet_for(t0, 2000);
        assert_eq!(w.admit_job(t0 + ms(2000)), Slot::Go);
        polled(&mut w, t0 + ms(2000), 11, 8);
        w.job_registered(t0 + ms(2000));
        polled(&mut w, t0 + ms(4000), 12, 6);
        w.job_done(true);
        // Its poll's count, in the window it ran in, holds all it spent: nothing.
        assert_eq!(w.job_spend(), 3, "(5 + 0) / 2, rounded up");
    }

    /// 60 per 10 s: one job runs alone from `t0`, polled at 0.5 s and 1.2 s with nothing
    /// spent, its registration answered at `t0`.
    fn a_lone_job_spending_nothing(t0: Instant) -> Window {
        let mut w = known();
        polled(&mut w, t0, 1, 10);
        assert_eq!(w.admit_job(t0), Slot::Go);
        polled(&mut w, t0, 2, 10);
        w.job_registered(t0);
        polled(&mut w, t0 + ms(500), 3, 10);
        polled(&mut w, t0 + ms(1200), 4, 9);
        w
    }

    #[test]
    fn a_lone_job_that_spent_nothing_shows_its_quiet_time_only_if_it_ran_within_one_window() {
        let t0 = Instant::now();
        let mut w = a_lone_job_spending_nothing(t0);
        polled(&mut w, t0 + ms(2000), 5, 8);
        w.job_done(true);
        assert_eq!(w.quiet, Some(ms(2000)));
        assert_eq!(w.job_spend(), 0);
        // Seen ended only in the next window: what it spent may have gone unseen.
        let mut w = a_lone_job_spending_nothing(t0);
        let next = t0 + Duration::from_secs(10);
        polled(&mut w, next, 1, 10);
        polled(&mut w, next, 2, 10);
        w.job_done(true);
        assert_eq!(w.quiet, None);
        // A job that never ran shows nothing.
        let mut w = a_lone_job_spending_nothing(t0);
        w.job_done(false);
        assert_eq!(w.quiet, None);
    }

    #[test]
    fn jobs_that_spend_nothing_teach_it_even_when_seen_ended_in_the_next_window() {
        let t0 = Instant::now();
        let mut w = a_lone_job_spending_nothing(t0);
        let next = t0 + Duration::from_secs(10);
        polled(&mut w, next, 1, 10);
        polled(&mut w, next, 2, 10);
        w.job_done(true);
        // Nothing was ever spent on this token beyond flowctl's own requests.
        assert_eq!(w.job_spend(), 0);
    }

    #[test]
    fn a_job_whose_spend_went_unseen_holds_nothing_once_ended() {
        let t0 = Instant::now();
        let mut w = two_jobs_running(t0);
        // A third starts.
        assert_eq!(w.admit_job(t0 + ms(2000)), Slot::Go);
        polled(&mut w, t0 + ms(2000), 13, 8);
        w.job_registered(t0 + ms(2000));
        // Their spend lands unseen at the window's end; the new window opens and the first
        // is seen ended.
        let end = t0 + Duration::from_secs(10);
        polled(&mut w, end, 1, 10);
        polled(&mut w, end, 2, 10);
        w.job_done(true);
        // The other two hold 10 and their polls: (60 - 2 - 10 - 2) / 7 = 6 start. Had the
        // ended one kept its 5, 5 would.
        assert_eq!(jobs_registered(&mut w, end, 2, 10), 6);
    }

    #[test]
    fn a_job_whose_spend_shows_at_once_never_starts_late() {
        let t0 = Instant::now();
        let mut w = nearly_full(t0, 500);
        let end = t0 + Duration::from_secs(10);
        assert_eq!(w.admit_job(t0 + ms(9900)), Slot::At(end));
    }

    #[test]
    fn while_the_rounding_is_unknown_a_late_start_allows_for_a_window_a_second_longer() {
        let t0 = Instant::now();
        let mut w = nearly_full(t0, 2000);
        w.rounding_known = false;
        let end = t0 + Duration::from_secs(10);
        // Its latest end is 11 s, so late starts would be from 10.1 s: past the stated end,
        // where the window is probed instead.
        assert_eq!(w.admit_job(t0 + ms(9900)), Slot::At(end));
        w.rounding_known = true;
        w.guard = SURPRISE_GUARD;
        assert_eq!(w.admit_job(t0 + ms(9900)), Slot::At(end + ms(100)));
        // With no late starts, it asks again when the window has surely ended.
        let mut refuted = w.clone();
        refuted.refute_quiet();
        assert_eq!(
            refuted.admit_job(t0 + ms(9900)),
            Slot::At(end + SURPRISE_GUARD)
        );
        assert_eq!(w.admit_job(t0 + ms(10_100)), Slot::Go);
    }

    #[test]
    fn a_killed_job_ends_late_starts_for_the_run() {
        let t0 = Instant::now();
        let mut w = nearly_full(t0, 2000);
        w.refute_quiet();
        let end = t0 + Duration::from_secs(10);
        assert_eq!(w.admit_job(t0 + ms(9500)), Slot::At(end));
        // A later lone job, quiet again, teaches nothing.
        let mut w = after_a_lone_job_quiet_for(t0, 2000);
        w.refute_quiet();
        assert_eq!(w.admit_job(t0 + ms(2000)), Slot::Go);
        polled(&mut w, t0 + ms(2000), 11, 8);
        w.job_registered(t0 + ms(2000));
        polled(&mut w, t0 + ms(3500), 12, 7);
        polled(&mut w, t0 + ms(4000), 18, 6);
        w.job_done(true);
        assert_eq!(w.quiet, None);
    }

    #[test]
    fn a_429_while_jobs_started_late_are_in_flight_ends_late_starts() {
        let t0 = Instant::now();
        let mut w = nearly_full(t0, 2000);
        assert_eq!(jobs_registered(&mut w, t0 + ms(9100), 55, 1), 5);
        w.throttled(t0 + ms(9500), Duration::from_secs(1));
        assert_eq!(w.quiet, None);
        // Without jobs started late, a 429 says nothing of the jobs' timing.
        let mut w = nearly_full(t0, 2000);
        w.throttled(t0 + ms(9500), Duration::from_secs(1));
        assert_eq!(w.quiet, Some(ms(1200)));
    }

    #[test]
    fn a_job_seen_ended_takes_none_of_the_spend_still_to_land() {
        let t0 = Instant::now();
        let mut w = after_a_lone_job_quiet_for(t0, 2000);
        let at = t0 + ms(2000);
        // Two jobs start (their registrations: 12 counted); the first spends its 5, is
        // seen ended (18 of flowctl's, 23 counted), and 25 more requests go: 48 counted.
        for count in [11, 12] {
            assert_eq!(w.admit_job(at), Slot::Go);
            polled(&mut w, at, count, 8);
            w.job_registered(at);
        }
        polled(&mut w, at, 13 + 5, 8);
        w.job_done(true);
        for count in 19..=48 {
            polled(&mut w, at, count, 8);
        }
        // The other job is still to spend 5: 48 counted, 5 held, its poll: 54, and no job
        // fits (7) before the late starts. Its share taken by average (5 / 2) from what is
        // still to land, one would have fitted (48 + 3 + 1 + 7 = 59).
        assert_eq!(w.admit_job(at), Slot::At(t0 + ms(9100)));
    }

    /// [`after_a_lone_job_quiet_for`] (spend 5, 10 counted at 2 s, the window ending at 10 s)
    /// and two more jobs started at 2 s, their registrations answered (12 counted).
    fn two_jobs_running(t0: Instant) -> Window {
        let mut w = after_a_lone_job_quiet_for(t0, 2000);
        for count in [11, 12] {
            assert_eq!(w.admit_job(t0 + ms(2000)), Slot::Go);
            polled(&mut w, t0 + ms(2000), count, 8);
            w.job_registered(t0 + ms(2000));
        }
        w
    }

    #[test]
    fn spend_that_landed_unseen_after_a_windows_last_answer_does_not_shrink_the_spend() {
        let t0 = Instant::now();
        let mut w = two_jobs_running(t0);
        let end = t0 + Duration::from_secs(10);
        // Their spend lands in this window after its last answer: the probe finds the new
        // window, and their polls see nothing of it.
        polled(&mut w, end, 1, 10);
        polled(&mut w, end, 2, 10);
        w.job_done(true);
        polled(&mut w, end, 3, 10);
        w.job_done(true);
        assert_eq!(w.job_spend(), 5, "not (5 + 0) / 3");
    }

    #[test]
    fn while_probing_an_answer_from_the_old_window_shows_the_spend_that_landed_there() {
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs(10);
        let admitted_after = |old_count: Option<u64>| {
            let mut w = two_jobs_running(t0);
            if let Some(count) = old_count {
                // The probe, answered from the old window: 12 + itself + what it shows.
                polled(&mut w, end, count, 0);
            }
            let next = end + Duration::from_secs(1);
            polled(&mut w, next, 1, 10);
            jobs_registered(&mut w, next, 1, 10)
        };
        // The two jobs' 10 showed in the old window: here they hold only their polls, so
        // (60 - 1 - 2) / 7 = 8 start. Unseen, they hold their spend too: (60 - 13) / 7.
        assert_eq!(admitted_after(Some(13 + 10)), 8);
        assert_eq!(admitted_after(Some(13)), 6);
        assert_eq!(admitted_after(None), 6);
    }

    /// A server with a fixed window that starts at its first request (as the emulator's),
    /// stating `reset` rounded down or up, whose Architect jobs spend `k` of the window when
    /// they end and fail when it has fewer left. For the paced runs below.
    struct Server {
        allowed: u64,
        window: Duration,
        down: bool,
        start: Option<Instant>,
        count: u64,
        /// Every request: when it arrived and whether it was let through.
        sent: Vec<(Instant, bool)>,
        /// Jobs that found the window spent.
        killed: usize,
    }

    type Shared = std::sync::Arc<Mutex<Server>>;

    impl Server {
        fn new(allowed: u64, window_s: u64, down: bool) -> Shared {
            std::sync::Arc::new(Mutex::new(Server {
                allowed,
                window: Duration::from_secs(window_s),
                down,
                start: None,
                count: 0,
                sent: Vec::new(),
                killed: 0,
            }))
        }

        fn roll(&mut self, now: Instant) -> Instant {
            let start = match self.start {
                Some(st) if now.duration_since(st) < self.window => st,
                _ => {
                    self.count = 0;
                    now
                }
            };
            self.start = Some(start);
            start
        }

        /// One request arriving now: let through or not, the count, the stated reset.
        fn request(&mut self, now: Instant) -> (bool, u64, u64) {
            let start = self.roll(now);
            let ok = self.count < self.allowed;
            if ok {
                self.count += 1;
            }
            self.sent.push((now, ok));
            let left = self.window.saturating_sub(now.duration_since(start));
            let reset = if self.down {
                left.as_secs()
            } else {
                left.as_secs_f64().ceil() as u64
            };
            (ok, self.count, reset)
        }

        /// A job ending now spends `k`, or is killed when fewer are left.
        fn spend(&mut self, now: Instant, k: u64) {
            self.roll(now);
            if self.allowed - self.count < k {
                self.count = self.allowed;
                self.killed += 1;
            } else {
                self.count += k;
            }
        }

        fn refused(&self) -> usize {
            self.sent.iter().filter(|(_, ok)| !ok).count()
        }

        fn span(&self) -> Duration {
            match (self.sent.first(), self.sent.last()) {
                (Some(a), Some(b)) => b.0.duration_since(a.0),
                _ => Duration::ZERO,
            }
        }
    }

    /// One request through `pacer` to `server`, 10 ms each way, sent again after a 429.
    async fn call(pacer: &Pacer, server: &Shared) {
        loop {
            pacer.wait().await.expect("sane");
            let sent = Instant::now();
            tokio::time::sleep(Duration::from_millis(10)).await;
            let (ok, count, reset) = server.lock().expect("lock").request(Instant::now());
            tokio::time::sleep(Duration::from_millis(10)).await;
            let allowed = server.lock().expect("lock").allowed;
            pacer.observe(sent, headers(allowed, count, reset));
            if ok {
                return;
            }
            pacer.block(Duration::from_secs(reset.max(1)));
        }
    }

    /// `n` tasks sending one request each at once.
    async fn requests(pacer: &std::sync::Arc<Pacer>, server: &Shared, n: usize) {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (pacer, server) = (pacer.clone(), server.clone());
            tasks.push(tokio::spawn(async move { call(&pacer, &server).await }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    }

    /// When a job spends its `k` requests: as it starts, or as it ends.
    #[derive(Clone, Copy, Debug)]
    enum Spends {
        AtStart,
        AtEnd,
    }

    /// One Architect job: admitted, registered, 2 s of running (spending `k` at its start
    /// or its end), polled every `poll` meanwhile if given, then the poll that sees it
    /// ended.
    async fn job(pacer: &Pacer, server: &Shared, k: u64, spends: Spends, poll: Option<Duration>) {
        let mut slot = pacer.admit_job().await;
        call(pacer, server).await;
        slot.registered().await;
        let start = Instant::now();
        if let Spends::AtStart = spends {
            server.lock().expect("lock").spend(start, k);
        }
        let end = start + Duration::from_secs(2);
        if let Some(every) = poll {
            while Instant::now() + every < end {
                tokio::time::sleep(every).await;
                call(pacer, server).await;
            }
        }
        tokio::time::sleep_until(end).await;
        if let Spends::AtEnd = spends {
            server.lock().expect("lock").spend(Instant::now(), k);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        call(pacer, server).await;
        slot.ran();
    }

    /// `n` Architect jobs started at once (see [`job`]), polled only once ended.
    async fn jobs(
        pacer: &std::sync::Arc<Pacer>,
        server: &Shared,
        n: usize,
        k: u64,
        spends: Spends,
    ) {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (pacer, server) = (pacer.clone(), server.clone());
            tasks.push(tokio::spawn(async move {
                job(&pacer, &server, k, spends, None).await;
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    }

    /// 79 tasks of one request each against 10 requests per 10 s (reset rounded `down` or
    /// up): none is refused, each is sent once; how long from the first send to the last.
    async fn seventy_nine_requests_none_refused(down: bool) -> Duration {
        let server = Server::new(10, 10, down);
        let pacer = std::sync::Arc::new(Pacer::default());
        requests(&pacer, &server, 79).await;
        let s = server.lock().expect("lock");
        assert_eq!(
            s.refused(),
            0,
            "{} of {} refused",
            s.refused(),
            s.sent.len()
        );
        assert_eq!(
            s.sent.len(),
            79,
            "each once: a probe that found the old window was answered from it"
        );
        s.span()
    }

    #[tokio::test(start_paused = true)]
    async fn against_a_server_rounding_reset_down_no_request_is_refused() {
        // 9 in the first window (one kept spare for the probe, which finds the server
        // rounding down), then 10 a window: 8 windows. Near the floor: 7 resets, each
        // found up to a second late.
        let span = seventy_nine_requests_none_refused(true).await;
        assert!(span < Duration::from_secs(78), "{span:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn against_a_server_rounding_reset_up_no_request_is_refused_and_no_time_is_lost() {
        // 7 resets, each met on time (the answers' latency aside).
        let span = seventy_nine_requests_none_refused(false).await;
        assert!(span < Duration::from_secs(71), "{span:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn jobs_spending_the_window_are_never_killed_and_run_near_the_floor() {
        for down in [true, false] {
            // 40 jobs of 7 requests each (registration, 5 spent, poll) at 60 per 10 s:
            // 280 requests, a floor of 4 resets (40 s).
            let server = Server::new(60, 10, down);
            let pacer = std::sync::Arc::new(Pacer::default());
            jobs(&pacer, &server, 40, 5, Spends::AtEnd).await;
            let s = server.lock().expect("lock");
            assert_eq!(s.killed, 0, "rounded down: {down}");
            assert_eq!(s.refused(), 0, "rounded down: {down}");
            assert!(
                s.span() < Duration::from_secs(52),
                "rounded down: {down}: {:?}",
                s.span()
            );
        }
    }

    /// One module job, polled every 400 ms (as a first job is, its time unknown), then 40
    /// callers' jobs at once, each spending 5 at `spends`, against 60 requests per 10 s
    /// with `reset` rounded down: none is killed, no request refused; how long from the
    /// first request to the last.
    async fn module_and_forty_callers(spends: Spends) -> Duration {
        let server = Server::new(60, 10, true);
        let pacer = std::sync::Arc::new(Pacer::default());
        job(&pacer, &server, 5, spends, Some(Duration::from_millis(400))).await;
        jobs(&pacer, &server, 40, 5, spends).await;
        let s = server.lock().expect("lock");
        assert_eq!(s.killed, 0, "{spends:?}");
        assert_eq!(s.refused(), 0, "{spends:?}");
        s.span()
    }

    #[tokio::test(start_paused = true)]
    async fn jobs_that_spend_as_they_end_start_late_in_a_window_and_the_run_takes_a_window_less() {
        // 41 jobs of 7 requests and the module's 4 polls: 291 requests, 5 windows at the
        // least (40 s). Each window's last slots, too few for a whole job (7), register
        // jobs whose spend and poll land in the next window: five windows, not six.
        let span = module_and_forty_callers(Spends::AtEnd).await;
        assert!(span < Duration::from_secs(45), "{span:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn jobs_that_spend_as_they_start_never_start_late_and_none_is_killed() {
        // The module's first poll shows its spend: no job starts late, so none can spend
        // in a window that had no room for it; whole jobs only, six windows.
        let span = module_and_forty_callers(Spends::AtStart).await;
        assert!(span > Duration::from_secs(50), "{span:?}");
    }

    #[test]
    fn the_wait_line_says_how_many_wait_and_why() {
        assert_eq!(
            held_line(Duration::from_secs(7), 30, 0, reason(false)),
            "waiting 7 s for the rate limit (30 requests held): this rate-limit window is spent (inin-ratelimit-reset)"
        );
        assert_eq!(
            held_line(Duration::from_secs(3), 1, 2, reason(true)),
            "waiting 3 s for the rate limit (1 request held, 2 Architect jobs waiting to start): the API answered 429 Too Many Requests with Retry-After"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_tells_its_allowance_and_whether_it_held_a_request_lately() {
        let pacer = Pacer::default();
        assert_eq!(pacer.allowed(), None);
        pacer.wait().await.expect("sane");
        pacer.observe(Instant::now(), headers(3, 3, 4));
        assert_eq!(pacer.allowed(), Some(3));
        assert!(!pacer.throttled_within(Duration::from_secs(60)));
        pacer.wait().await.expect("sane"); // the probe, after 4 s
        assert!(pacer.throttled_within(Duration::from_secs(1)));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!pacer.throttled_within(Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_the_reset_sleeps_until_the_windows_end() {
        let pacer = Pacer::default();
        pacer.wait().await.expect("sane");
        pacer.observe(Instant::now(), headers(10, 10, 6));
        let start = Instant::now();
        pacer.wait_for_reset().await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
    }
}

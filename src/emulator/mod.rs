//! The offline Genesys Cloud emulator (axum): OAuth client credentials, flows, Architect
//! jobs that read the YAML as Architect does, dependency tracking (with an optional index
//! lag), queues, divisions and the org, a per-token rate limit with the `inin-ratelimit-*`
//! headers, latency, and faults on demand.
//!
//! Tests start it in-process on `127.0.0.1:0` with [`Emulator::start`] and inspect or
//! steer it through the hooks below; `flowctl emulator serve` runs it for users' pipelines.

mod architect;
mod dependencies;
mod edge;
mod export;
mod flows;
mod http;
mod jobs;
mod org;
mod state;
mod vocabulary;

pub use export::{as_architect_exports, UI_CLIENT_ID};
pub use state::{Fault, FaultConfig, ResourceKind};

use crate::models::{Dependency, Flow, FlowType, FlowVersion};
use serde::Deserialize;
use state::{Org, State};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The client id the emulator accepts by default.
pub const DEFAULT_CLIENT_ID: &str = "flowctl-emulator";
/// The client secret the emulator accepts by default (not a secret: it guards a local toy).
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";

/// What can go wrong starting the emulator or reading its seed: its own type, since the
/// emulator depends on nothing of flowctl's but the wire models.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A file or an address could not be used.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A setting, the seed or the state file is wrong; `hint` is the next step.
    #[error("{message}")]
    Invalid {
        message: String,
        hint: Option<String>,
    },
}

impl EmulatorError {
    pub(crate) fn invalid(
        message: impl Into<String>,
        hint: impl Into<Option<String>>,
    ) -> EmulatorError {
        EmulatorError::Invalid {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub client_id: String,
    pub client_secret: String,
    pub token_lifetime: Duration,
    /// Added to every request.
    pub latency: Duration,
    /// How long an Architect job runs after its upload.
    pub job_time: Duration,
    /// Requests per token per `rate_window`.
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Requests each Architect job (publish or export) spends of its token's window, as
    /// the real Archy session does on the caller's token. A job that finds fewer left fails
    /// with the messages of a rate-limited job ("could not find the flow with id",
    /// "setting the Archy exit code to 107"). 0 (the default) charges nothing.
    pub job_requests: u32,
    /// Charge a publish job's `job_requests` when it starts (its upload) instead of when
    /// it ends. (unverified) When a real job's Archy session spends them is not published:
    /// the rate-limited job's message ("could not find the flow with id") suggests early
    /// in the session, so both are played.
    pub job_spends_at_start: bool,
    /// `inin-ratelimit-reset` (and a 429's `Retry-After`) rounded down to whole seconds
    /// instead of up: the real service does not say which way it rounds.
    pub reset_rounds_down: bool,
    /// How long after a publish dependency tracking shows its links.
    pub index_lag: Duration,
    /// How long after a job writes a flow `GET /api/v2/flows/{id}` still answers 404
    /// (eventual consistency; off by default).
    pub read_lag: Duration,
    /// How many DELETEs of a flow answer a transient 409 first (off by default).
    pub delete_conflicts: u32,
    pub faults: FaultConfig,
    /// Load the org from, and save its changes to, this file, shared with any other
    /// process that uses it (see `state::Persist`).
    pub state_file: Option<PathBuf>,
    pub seed: Option<Seed>,
    /// A connection that has not sent a whole request head by then is closed (half-open
    /// connections would otherwise hold a descriptor each for ever).
    pub header_read_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Answer in the other readings of what no source settles, so that a test can show
    /// flowctl does not depend on the emulator's choices: a flow's versions listed oldest
    /// first, a version an OAuth client published without a `createdBy` user, dependency
    /// rows without a `version`, and every export a zip whose files are named after the
    /// flow (not the `fileName` asked for).
    pub alternate_readings: bool,
}

/// How long a client may take to send a request's headers.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once by default.
pub(crate) const MAX_CONNECTIONS: usize = 512;

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            token_lifetime: Duration::from_secs(86399),
            latency: Duration::ZERO,
            job_time: Duration::from_millis(200),
            rate_limit: 300,
            rate_window: Duration::from_secs(60),
            job_requests: 0,
            job_spends_at_start: false,
            reset_rounds_down: false,
            index_lag: Duration::ZERO,
            read_lag: Duration::ZERO,
            delete_conflicts: 0,
            faults: FaultConfig::default(),
            state_file: None,
            seed: None,
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            alternate_readings: false,
        }
    }
}

/// `--seed FILE`: queues, divisions and flows that exist before anything runs.
///
/// ```json
/// {"divisions": ["Sales Division"],
///  "queues": [{"name": "VIP", "division": "Sales Division"}],
///  "flows": [{"name": "Legacy Flow", "type": "inboundcall", "lockedBy": "Jane Doe"}]}
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub divisions: Vec<String>,
    #[serde(default)]
    pub queues: Vec<SeedQueue>,
    #[serde(default)]
    pub flows: Vec<SeedFlow>,
    /// Names of schedule groups, data tables, data actions and user prompts.
    #[serde(default)]
    pub schedule_groups: Vec<String>,
    #[serde(default)]
    pub data_tables: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub prompts: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedQueue {
    pub(crate) name: String,
    pub(crate) division: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedFlow {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) flow_type: String,
    pub(crate) description: Option<String>,
    /// Locked by an Architect UI user of this name.
    pub(crate) locked_by: Option<String>,
    /// Locked by the OAuth client with this id (the emulator's own client id is "ours").
    pub(crate) locked_by_client: Option<String>,
}

impl Seed {
    pub(crate) fn load(path: &Path) -> Result<Seed, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text)
            .map_err(|e| EmulatorError::invalid(format!("seed file {}: {e}", path.display()), None))
    }

    fn apply(&self, org: &mut Org) -> Result<(), EmulatorError> {
        for d in &self.divisions {
            if !org.divisions.iter().any(|x| &x.name == d) {
                org.divisions.push(crate::models::Division {
                    id: uuid::Uuid::new_v4().to_string(),
                    name: d.clone(),
                    description: None,
                    home_division: Some(false),
                    self_uri: None,
                });
            }
        }
        for q in &self.queues {
            if !org.queues.iter().any(|x| x.name == q.name) {
                org.add_queue(&q.name, q.division.as_deref());
            }
        }
        for f in &self.flows {
            let t = FlowType::parse_any(&f.flow_type).ok_or_else(|| {
                EmulatorError::invalid(
                    format!("seed flow '{}': unknown type '{}'", f.name, f.flow_type),
                    None,
                )
            })?;
            let home = org
                .home()
                .cloned()
                .ok_or_else(|| EmulatorError::invalid("the org has no home division", None))?;
            let flow = org.create_flow(&f.name, f.description.clone(), t, &home);
            if let (Some(user), Some(r)) = (&f.locked_by, org.flows.get_mut(&flow.id)) {
                r.flow.locked_user = Some(user_ref(user));
            }
            if let (Some(client), Some(r)) = (&f.locked_by_client, org.flows.get_mut(&flow.id)) {
                r.flow.locked_client = Some(client_ref(client));
            }
        }
        for (kind, names) in [
            (ResourceKind::ScheduleGroup, &self.schedule_groups),
            (ResourceKind::DataTable, &self.data_tables),
            (ResourceKind::DataAction, &self.data_actions),
            (ResourceKind::Prompt, &self.prompts),
        ] {
            for n in names {
                org.resources.add(kind, n);
            }
        }
        Ok(())
    }
}

pub(crate) fn client_ref(id: &str) -> crate::models::EntityRef {
    crate::models::EntityRef {
        id: Some(id.to_string()),
        name: Some(format!("OAuth client {id}")),
        self_uri: None,
    }
}

fn user_ref(name: &str) -> crate::models::EntityRef {
    crate::models::EntityRef {
        id: Some(uuid::Uuid::new_v4().to_string()),
        name: Some(name.to_string()),
        self_uri: None,
    }
}

pub(crate) struct Inner {
    pub(crate) config: EmulatorConfig,
    pub(crate) base_url: String,
    pub(crate) state: Mutex<State>,
    /// A change not yet handed to the writer.
    dirty: std::sync::atomic::AtomicBool,
    /// Wakes the writer of the state file (see [`state::Persist`]).
    saver: Mutex<Option<std::sync::mpsc::Sender<()>>>,
    /// One write of the state file at a time in this process.
    writing: Mutex<()>,
}

pub(crate) type Shared = Arc<Inner>;

/// The state, locked; with a state file, also this process's hold on the file, taken (and
/// the org re-read if another process changed it) when the guard is made and let go when it
/// drops with nothing left to write.
pub(crate) struct StateGuard<'a> {
    guard: std::sync::MutexGuard<'a, State>,
    /// Set by [`Inner::save`]: a change the writer has not taken yet.
    dirty: &'a std::sync::atomic::AtomicBool,
}

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.dirty.load(std::sync::atomic::Ordering::SeqCst) {
            // Keep the file locked until the writer has saved this change.
            return;
        }
        if let Some(p) = self.guard.persist.as_mut() {
            p.release_if_clean();
        }
    }
}

impl Inner {
    /// Locks the state; with a state file, under the cross-process lock and fresh from the
    /// file.
    pub(crate) fn lock_state(&self) -> StateGuard<'_> {
        // A poisoned lock means a handler panicked; the state is still the best we have.
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let s = &mut *guard;
        if let Some(p) = s.persist.as_mut() {
            match p.acquire() {
                Err(e) => tracing::warn!("emulator: cannot lock {}: {e}", p.path.display()),
                // Held since before: no other process can have written.
                Ok(false) => {}
                Ok(true) => {
                    if let Some(org) = p.changed_org() {
                        s.org = org;
                    }
                }
            }
        }
        StateGuard {
            guard,
            dirty: &self.dirty,
        }
    }

    /// Records a change: the writer saves it soon, coalesced with the changes around it;
    /// this process keeps the file locked until then.
    pub(crate) fn save(&self, s: &State) {
        if s.persist.is_none() {
            return;
        }
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(tx) = self.saver.lock() {
            if let Some(tx) = tx.as_ref() {
                let _ = tx.send(());
            }
        }
    }

    /// Writes pending changes now (the writer thread, shutdown, drop).
    pub fn flush(&self) {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let (bytes, path) = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let s = &mut *s;
                let Some(p) = s.persist.as_mut() else { return };
                if self.dirty.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    p.dirty = true;
                }
                if !p.dirty {
                    p.release_if_clean();
                    return;
                }
                let bytes = match serde_json::to_vec(&s.org) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!("emulator: cannot serialize the org: {e}");
                        p.dirty = false;
                        p.release_if_clean();
                        return;
                    }
                };
                p.dirty = false;
                p.saving = true;
                (bytes, p.path.clone())
            };
            // Outside the state mutex: requests go on meanwhile and their changes go out
            // in the next round.
            let result = state::write_atomically(&path, &bytes);
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let Some(p) = s.persist.as_mut() else { return };
            p.saving = false;
            match result {
                Ok(()) => p.seen = state::Fingerprint::of(&path),
                Err(e) => tracing::warn!("emulator: cannot save {}: {e}", path.display()),
            }
            if !self.dirty.load(std::sync::atomic::Ordering::SeqCst) {
                p.release_if_clean();
                return;
            }
        }
    }
}

/// The writer of the state file: wakes on a change, drains the wake-ups that came
/// meanwhile, writes once.
fn spawn_saver(shared: &Shared) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    if let Ok(mut slot) = shared.saver.lock() {
        *slot = Some(tx);
    }
    let weak = Arc::downgrade(shared);
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            while rx.try_recv().is_ok() {}
            let Some(inner) = weak.upgrade() else { return };
            inner.flush();
        }
    });
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Starts on `127.0.0.1:0`.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        Emulator::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub(crate) async fn start_on(
        addr: SocketAddr,
        config: EmulatorConfig,
    ) -> Result<Emulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Io {
                path: format!("emulator address {addr}"),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| EmulatorError::Io {
            path: format!("emulator address {addr}"),
            source,
        })?;
        if let Some(path) = &config.state_file {
            if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
                return Err(EmulatorError::invalid(
                    format!("--state {} is not a regular file", path.display()),
                    Some("give the path of a JSON file the emulator may create and rewrite".into()),
                ));
            }
        }
        let mut persist = match &config.state_file {
            Some(path) => Some(
                state::Persist::open(path).map_err(|source| EmulatorError::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            ),
            None => None,
        };
        let mut org = None;
        if let Some(p) = persist.as_mut() {
            p.acquire().map_err(|source| EmulatorError::Io {
                path: p.path.display().to_string(),
                source,
            })?;
            p.remove_stale_temp();
            org = Org::load(&p.path).map_err(|e| {
                EmulatorError::invalid(e, Some("remove the file or pass another --state".into()))
            })?;
            p.seen = state::Fingerprint::of(&p.path);
        }
        let fresh = org.is_none();
        let mut org = org.take().unwrap_or_default();
        if let (true, Some(seed)) = (fresh, &config.seed) {
            seed.apply(&mut org)?;
        }
        let has_file = persist.is_some();
        let state = State {
            org,
            tokens: HashMap::new(),
            windows: HashMap::new(),
            jobs: HashMap::new(),
            exports: Default::default(),
            scripted: VecDeque::new(),
            random: state::RandomFaults::new(config.faults),
            index_lag: config.index_lag,
            log: Vec::new(),
            read_lag_from: HashMap::new(),
            delete_conflicts: config.delete_conflicts,
            persist,
        };
        let shared = Arc::new(Inner {
            base_url: format!("http://{local}"),
            config,
            state: Mutex::new(state),
            dirty: std::sync::atomic::AtomicBool::new(fresh && has_file),
            saver: Mutex::new(None),
            writing: Mutex::new(()),
        });
        if has_file {
            spawn_saver(&shared);
            // A new org is written at once (and the lock let go either way).
            shared.flush();
        }
        let app = http::router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let limits = (
            shared.config.header_read_timeout,
            shared.config.max_connections.max(1),
        );
        let task = tokio::spawn(edge::serve_connections(listener, app, rx, limits));
        Ok(Emulator {
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.shared.lock_state();
        f(&mut s)
    }

    /// Writes pending changes to the state file now.
    pub fn flush(&self) {
        self.shared.flush();
    }

    /// The org's flows, by name.
    pub fn flows(&self) -> Vec<Flow> {
        let mut flows: Vec<Flow> =
            self.with(|s| s.org.flows.values().map(|r| r.flow.clone()).collect());
        flows.sort_by(|a, b| a.name.cmp(&b.name));
        flows
    }

    /// A flow's published versions, oldest first.
    pub fn flow_versions(&self, id: &str) -> Vec<FlowVersion> {
        self.with(|s| {
            s.org
                .flows
                .get(id)
                .map(|r| r.versions.iter().map(|v| v.version.clone()).collect())
                .unwrap_or_default()
        })
    }

    /// The YAML of a flow's published version.
    pub fn published_yaml(&self, id: &str) -> Option<String> {
        self.with(|s| {
            s.org
                .flows
                .get(id)
                .and_then(|r| r.published())
                .map(|v| v.yaml.clone())
        })
    }

    /// The YAML of any version of a flow, as it was uploaded.
    pub fn version_yaml(&self, id: &str, version: &str) -> Option<String> {
        self.with(|s| {
            s.org
                .flows
                .get(id)
                .and_then(|r| r.versions.iter().find(|v| v.version.id == version))
                .map(|v| v.yaml.clone())
        })
    }

    /// What a flow's published version consumes (modules with the version each ran when
    /// it was published, queues, ...).
    pub fn published_consumes(&self, id: &str) -> Vec<Dependency> {
        self.with(|s| {
            s.org
                .flows
                .get(id)
                .and_then(|r| r.published())
                .map(|v| v.consumes.clone())
                .unwrap_or_default()
        })
    }

    /// Releases a flow's lock, as its holder checking it in would; false if there is no
    /// such flow.
    pub fn unlock_flow(&self, name: &str, flow_type: FlowType) -> bool {
        let shared = self.shared.clone();
        self.with(|s| {
            let id = s.org.find_flow(name, flow_type).map(|r| r.flow.id.clone());
            let Some(r) = id.and_then(|id| s.org.flows.get_mut(&id)) else {
                return false;
            };
            r.flow.locked_user = None;
            r.flow.locked_client = None;
            shared.save(s);
            true
        })
    }

    /// Locks a flow as an Architect UI user would; false if there is no such flow.
    pub fn lock_flow(&self, name: &str, flow_type: FlowType, user_name: &str) -> bool {
        let shared = self.shared.clone();
        self.with(|s| {
            let id = s.org.find_flow(name, flow_type).map(|r| r.flow.id.clone());
            let Some(r) = id.and_then(|id| s.org.flows.get_mut(&id)) else {
                return false;
            };
            r.flow.locked_user = Some(user_ref(user_name));
            shared.save(s);
            true
        })
    }

    /// Locks a flow as another process of an OAuth client would (a run that died in the
    /// middle of a checkout); false if there is no such flow.
    pub fn lock_flow_by_client(&self, name: &str, flow_type: FlowType, client_id: &str) -> bool {
        let shared = self.shared.clone();
        self.with(|s| {
            let id = s.org.find_flow(name, flow_type).map(|r| r.flow.id.clone());
            let Some(r) = id.and_then(|id| s.org.flows.get_mut(&id)) else {
                return false;
            };
            r.flow.locked_client = Some(client_ref(client_id));
            shared.save(s);
            true
        })
    }

    /// Adds a schedule group, data table, data action or user prompt; returns its id.
    pub fn add_resource(&self, kind: ResourceKind, name: &str) -> String {
        let shared = self.shared.clone();
        self.with(|s| {
            let id = s.org.resources.add(kind, name);
            shared.save(s);
            id
        })
    }

    /// The next `n` flow DELETEs answer a transient 409.
    pub fn set_delete_conflicts(&self, n: u32) {
        self.with(|s| s.delete_conflicts = n);
    }

    /// Adds a queue to the home division; returns its id.
    pub fn add_queue(&self, name: &str) -> String {
        let shared = self.shared.clone();
        self.with(|s| {
            let id = s.org.add_queue(name, None);
            shared.save(s);
            id
        })
    }

    /// Faults for the next API requests, in order.
    pub fn script_faults(&self, faults: Vec<Fault>) {
        self.with(|s| s.scripted.extend(faults));
    }

    /// Random fault rates (and their seed) from now on.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.with(|s| s.random = state::RandomFaults::new(faults));
    }

    /// The seed of the random faults' draws: pass it back as `FaultConfig::seed` (or
    /// `emulator serve --fault-seed`) to meet the same fault at the same request again.
    pub fn fault_seed(&self) -> u64 {
        self.with(|s| s.random.seed)
    }

    pub fn set_index_lag(&self, lag: Duration) {
        self.with(|s| s.index_lag = lag);
    }

    pub fn set_build_status(&self, status: &str) {
        self.with(|s| s.org.build_status = status.to_string());
    }

    /// Every token issued so far expires now.
    pub fn expire_tokens(&self) {
        self.with(|s| {
            let now = Instant::now();
            for exp in s.tokens.values_mut() {
                *exp = now;
            }
        });
    }

    /// Requests to `/api/v2` so far.
    pub fn request_count(&self) -> u64 {
        self.with(|s| {
            s.log
                .iter()
                .filter(|(_, p, _)| p.starts_with("/api/v2"))
                .count() as u64
        })
    }

    /// Every request so far: (method, path, status), including `/oauth/token` and uploads;
    /// status 0 is a dropped connection.
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        self.with(|s| s.log.clone())
    }

    /// Stops serving, then writes what is left to write.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.shared.flush();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.shared.flush();
    }
}

//! The emulated org: flows and their published versions (with what each version consumes),
//! queues, divisions, and the in-memory parts (tokens, rate windows, jobs, faults).
//! Persisted as JSON when a state file is set: see [`Persist`] for how several processes
//! share one file.

use crate::models::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The emulator's one rule for flow names, in Architect's words: 1-200 characters, no
/// control characters, no leading or trailing whitespace. The last two are as flowctl
/// refuses them (unverified for Genesys itself; the safe reading for a checker).
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        Some(format!(
            "The flow name '{}' must be 1-200 characters",
            name.chars().take(40).collect::<String>()
        ))
    } else if name.chars().any(char::is_control) || name.trim() != name {
        Some(format!(
            "The flow name {:?} must not contain control characters or leading or trailing whitespace",
            name.chars().take(40).collect::<String>()
        ))
    } else {
        None
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn iso(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// One published version and what it consumes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct VersionRecord {
    pub(crate) version: FlowVersion,
    pub(crate) yaml: String,
    pub(crate) consumes: Vec<Dependency>,
    /// Epoch ms from which dependency tracking shows this version's links.
    pub(crate) indexed_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FlowRecord {
    pub(crate) flow: Flow,
    pub(crate) versions: Vec<VersionRecord>,
}

impl FlowRecord {
    pub(crate) fn published(&self) -> Option<&VersionRecord> {
        let id = &self.flow.published_version.as_ref()?.id;
        self.versions.iter().find(|v| &v.version.id == id)
    }
}

/// The persisted part of the org.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Org {
    pub(crate) organization: Organization,
    pub(crate) divisions: Vec<Division>,
    pub(crate) queues: Vec<Queue>,
    pub(crate) flows: BTreeMap<String, FlowRecord>,
    pub(crate) build_status: String,
    /// Schedule groups, data tables, data actions and user prompts that flows reference.
    #[serde(default)]
    pub(crate) resources: Resources,
}

/// Things flows reference by name that flowctl never creates, only checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Resources {
    #[serde(default)]
    pub(crate) schedule_groups: Vec<EntityRef>,
    #[serde(default)]
    pub(crate) data_tables: Vec<EntityRef>,
    #[serde(default)]
    pub(crate) data_actions: Vec<EntityRef>,
    #[serde(default)]
    pub(crate) prompts: Vec<EntityRef>,
}

/// A kind of `Resources` entry, with its API path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    ScheduleGroup,
    DataTable,
    DataAction,
    Prompt,
}

impl ResourceKind {
    /// The listing path, as the Platform API has it.
    pub(crate) fn path(self) -> &'static str {
        match self {
            ResourceKind::ScheduleGroup => "/api/v2/architect/schedulegroups",
            ResourceKind::DataTable => "/api/v2/flows/datatables",
            ResourceKind::DataAction => "/api/v2/integrations/actions",
            ResourceKind::Prompt => "/api/v2/architect/prompts",
        }
    }
}

impl Resources {
    pub(crate) fn list(&self, kind: ResourceKind) -> &Vec<EntityRef> {
        match kind {
            ResourceKind::ScheduleGroup => &self.schedule_groups,
            ResourceKind::DataTable => &self.data_tables,
            ResourceKind::DataAction => &self.data_actions,
            ResourceKind::Prompt => &self.prompts,
        }
    }

    /// Adds `name` (once); returns its id.
    pub(crate) fn add(&mut self, kind: ResourceKind, name: &str) -> String {
        let list = match kind {
            ResourceKind::ScheduleGroup => &mut self.schedule_groups,
            ResourceKind::DataTable => &mut self.data_tables,
            ResourceKind::DataAction => &mut self.data_actions,
            ResourceKind::Prompt => &mut self.prompts,
        };
        if let Some(e) = list.iter().find(|e| e.name.as_deref() == Some(name)) {
            return e.id.clone().unwrap_or_default();
        }
        let id = uuid::Uuid::new_v4().to_string();
        list.push(EntityRef {
            id: Some(id.clone()),
            name: Some(name.to_string()),
            self_uri: Some(format!("{}/{id}", kind.path())),
        });
        id
    }
}

impl Default for Org {
    fn default() -> Self {
        let home = Division {
            id: uuid::Uuid::new_v4().to_string(),
            name: "Home".into(),
            description: Some("The default division".into()),
            home_division: Some(true),
            self_uri: None,
        };
        let mut org = Org {
            organization: Organization {
                id: uuid::Uuid::new_v4().to_string(),
                name: "flowctl emulated org".into(),
                third_party_org_name: Some("flowctl-emulator".into()),
                domain: Some("emulator.local".into()),
                state: Some("active".into()),
                self_uri: Some("/api/v2/organizations/me".into()),
            },
            divisions: vec![home],
            queues: Vec::new(),
            flows: BTreeMap::new(),
            build_status: "OPERATIONAL".into(),
            resources: Resources::default(),
        };
        for q in ["General Support", "Sales", "Billing"] {
            org.add_queue(q, None);
        }
        org
    }
}

impl Org {
    pub(crate) fn home(&self) -> Option<&Division> {
        self.divisions
            .iter()
            .find(|d| d.home_division == Some(true))
            .or(self.divisions.first())
    }

    pub(crate) fn division_ref(&self, d: &Division) -> EntityRef {
        EntityRef {
            id: Some(d.id.clone()),
            name: Some(d.name.clone()),
            self_uri: Some(format!("/api/v2/authorization/divisions/{}", d.id)),
        }
    }

    pub(crate) fn add_queue(&mut self, name: &str, division: Option<&str>) -> String {
        let div = division
            .and_then(|n| self.divisions.iter().find(|d| d.name == n))
            .or(self.home())
            .map(|d| self.division_ref(d));
        let id = uuid::Uuid::new_v4().to_string();
        self.queues.push(Queue {
            id: id.clone(),
            name: name.to_string(),
            division: div,
            description: None,
            member_count: Some(0),
            self_uri: Some(format!("/api/v2/routing/queues/{id}")),
        });
        id
    }

    pub(crate) fn find_flow(&self, name: &str, t: FlowType) -> Option<&FlowRecord> {
        self.flows
            .values()
            .find(|r| r.flow.name == name && r.flow.flow_type == t)
    }

    /// A new, unpublished flow.
    pub(crate) fn create_flow(
        &mut self,
        name: &str,
        description: Option<String>,
        t: FlowType,
        division: &Division,
    ) -> Flow {
        let id = uuid::Uuid::new_v4().to_string();
        let flow = Flow {
            id: id.clone(),
            name: name.to_string(),
            description,
            flow_type: t,
            division: Some(self.division_ref(division)),
            locked_user: None,
            locked_client: None,
            active: Some(false),
            system: Some(false),
            deleted: Some(false),
            published_version: None,
            saved_version: None,
            checked_in_version: None,
            published_by: None,
            current_operation: None,
            supported_languages: None,
            compatible_flow_types: None,
            self_uri: Some(format!("/api/v2/flows/{id}")),
        };
        self.flows.insert(
            id,
            FlowRecord {
                flow: flow.clone(),
                versions: Vec::new(),
            },
        );
        flow
    }

    /// Ids of the flows whose current published version consumes `id`.
    pub(crate) fn published_consumers(&self, id: &str) -> Vec<&FlowRecord> {
        self.flows
            .values()
            .filter(|r| {
                r.published()
                    .is_some_and(|v| v.consumes.iter().any(|d| d.id == id))
            })
            .collect()
    }

    /// Reads a state file: a regular file of at most [`MAX_STATE_BYTES`]; `None` if absent.
    pub(crate) fn load(path: &Path) -> Result<Option<Org>, String> {
        use std::io::Read;
        let shown = path.display();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{shown}: {e}")),
        };
        let meta = file.metadata().map_err(|e| format!("{shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{shown} is not a regular file"));
        }
        let mut bytes = Vec::new();
        file.take(MAX_STATE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{shown}: {e}"))?;
        if bytes.len() as u64 > MAX_STATE_BYTES {
            return Err(format!(
                "{shown} is larger than {} MiB, far more than an emulated org holds",
                MAX_STATE_BYTES >> 20
            ));
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{shown}: not an emulator state file: {e}"))
    }
}

/// The largest `--state` file read (the emulator refuses a bigger one rather than
/// filling memory).
pub(crate) const MAX_STATE_BYTES: u64 = 256 << 20;

/// `dir/.NAME.tmp` for `dir/NAME`.
pub(crate) fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    path.with_file_name(format!(".{name}.tmp"))
}

/// `dir/NAME.lock` for `dir/NAME`: the file the processes sharing a state file lock.
pub(crate) fn lock_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    path.with_file_name(format!("{name}.lock"))
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = temp_path(path);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// What identifies one version of the state file: every save renames a new file in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Fingerprint {
    pub(crate) fn of(path: &Path) -> Option<Fingerprint> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Fingerprint {
            len: m.len(),
            modified: m.modified().ok(),
            inode,
        })
    }
}

/// A state file shared by several processes (two `--emulator` runs, or `emulator serve`
/// beside them). Every access to the org holds an exclusive lock on `NAME.lock` and first
/// re-reads the file if another process replaced it since; a change keeps the lock until
/// it is written. Writes are coalesced: changes made while a write is under way go out
/// together in the next one, so a burst of creates is not one full rewrite each.
#[derive(Debug)]
pub(crate) struct Persist {
    pub(crate) path: std::path::PathBuf,
    lock: std::fs::File,
    /// This process holds the lock.
    pub(crate) held: bool,
    /// The file as this process last read or wrote it.
    pub(crate) seen: Option<Fingerprint>,
    /// Changes not written yet.
    pub(crate) dirty: bool,
    /// A write is under way (outside the state mutex).
    pub(crate) saving: bool,
}

impl Persist {
    pub(crate) fn open(path: &Path) -> std::io::Result<Persist> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))?;
        Ok(Persist {
            path: path.to_path_buf(),
            lock,
            held: false,
            seen: None,
            dirty: false,
            saving: false,
        })
    }

    /// Takes the cross-process lock (waiting for another process's write) unless held;
    /// true when it was taken now (so another process may have written since).
    pub(crate) fn acquire(&mut self) -> std::io::Result<bool> {
        if self.held {
            return Ok(false);
        }
        // fs4 rather than std's File::lock, which is newer than the MSRV.
        fs4::FileExt::lock(&self.lock)?;
        self.held = true;
        Ok(true)
    }

    /// Releases the lock when nothing is left to write.
    pub(crate) fn release_if_clean(&mut self) {
        if self.held && !self.dirty && !self.saving {
            let _ = fs4::FileExt::unlock(&self.lock);
            self.held = false;
        }
    }

    /// The file's org when another process replaced it since this one last saw it.
    pub(crate) fn changed_org(&mut self) -> Option<Org> {
        let now = Fingerprint::of(&self.path);
        if now.is_none() || now == self.seen {
            return None;
        }
        match Org::load(&self.path) {
            Ok(Some(org)) => {
                self.seen = now;
                Some(org)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("emulator: keeping the org in memory: {e}");
                None
            }
        }
    }

    /// Removes a temp file a killed process left (under the lock).
    pub(crate) fn remove_stale_temp(&self) {
        let _ = std::fs::remove_file(temp_path(&self.path));
    }
}

/// A fault to inject into the next API request (scripted) or at random.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with `Retry-After` seconds.
    Status429 { retry_after: u64 },
    /// 503 service.unavailable.
    Status503,
    /// The connection closes without a complete answer.
    Drop,
    /// The answer comes late.
    Delay(Duration),
    /// The next Architect job fails as a rate limit inside Architect does ("could not find
    /// the flow with id").
    JobRateLimited,
    /// The next Architect job publishes its flow, then fails with the rate limit's messages
    /// (its session ran out after the publish): the flow has a new version although the
    /// job says it failed.
    JobRateLimitedAfterPublishing,
}

impl Fault {
    /// A fault that waits at the front of the script for the next job registration.
    pub fn is_job_fault(&self) -> bool {
        matches!(
            self,
            Fault::JobRateLimited | Fault::JobRateLimitedAfterPublishing
        )
    }
}

/// Random fault rates, each in [0, 1], applied to every API request, and the seed of the
/// draws (`None`: a fresh one, which [`crate::emulator::Emulator::fault_seed`] tells, so a
/// failing run can be replayed: the n-th API request meets the same fault again).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultConfig {
    pub rate_429: f64,
    pub rate_503: f64,
    pub rate_drop: f64,
    pub seed: Option<u64>,
}

/// The random faults' rates and their seeded draws.
#[derive(Debug, Clone)]
pub(crate) struct RandomFaults {
    pub(crate) config: FaultConfig,
    /// The seed in use (the configured one, or the fresh one drawn at start).
    pub(crate) seed: u64,
    rng: rand::rngs::StdRng,
}

impl RandomFaults {
    pub(crate) fn new(config: FaultConfig) -> RandomFaults {
        use rand::SeedableRng;
        let seed = config.seed.unwrap_or_else(rand::random);
        RandomFaults {
            config,
            seed,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
        }
    }

    /// The fault of the next API request, if it draws one. One draw per request, whatever
    /// the rates, so a seed replays the same sequence.
    pub(crate) fn next(&mut self) -> Option<Fault> {
        use rand::Rng;
        let r = self.config;
        let x: f64 = self.rng.random();
        if x < r.rate_429 {
            Some(Fault::Status429 { retry_after: 1 })
        } else if x < r.rate_429 + r.rate_503 {
            Some(Fault::Status503)
        } else if x < r.rate_429 + r.rate_503 + r.rate_drop {
            Some(Fault::Drop)
        } else {
            None
        }
    }
}

impl FaultConfig {
    /// `429=0.1,503=0.05,drop=0.02`
    pub(crate) fn parse(spec: &str) -> Result<FaultConfig, String> {
        let mut f = FaultConfig::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not KIND=RATE"))?;
            let rate: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("'{v}' in '{part}' is not a number"))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("rate {rate} in '{part}' is not between 0 and 1"));
            }
            match k.trim() {
                "429" => f.rate_429 = rate,
                "503" => f.rate_503 = rate,
                "drop" => f.rate_drop = rate,
                other => {
                    return Err(format!(
                        "unknown fault '{other}' (expected 429, 503 or drop)"
                    ))
                }
            }
        }
        Ok(f)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) signature: String,
    pub(crate) status: JobStatus,
    pub(crate) flow: Option<EntityRef>,
    pub(crate) messages: Vec<JobMessage>,
    pub(crate) fail_as_rate_limit: bool,
    /// Publish, then fail with the rate limit's messages (see
    /// [`Fault::JobRateLimitedAfterPublishing`]).
    pub(crate) fail_after_publishing: bool,
    /// The bearer token that registered the job: its session runs on it, so the job's own
    /// requests count in that token's rate-limit window (see `EmulatorConfig::job_requests`).
    pub(crate) token: Option<String>,
}

/// Everything, behind one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) org: Org,
    pub(crate) tokens: HashMap<String, Instant>,
    /// token → (window start, count)
    pub(crate) windows: HashMap<String, (Instant, u32)>,
    pub(crate) jobs: HashMap<String, Job>,
    /// Export jobs (see `export.rs`).
    pub(crate) exports: super::export::Exports,
    pub(crate) scripted: VecDeque<Fault>,
    pub(crate) random: RandomFaults,
    pub(crate) index_lag: Duration,
    pub(crate) log: Vec<(String, String, u16)>,
    /// When each flow a job made or published was last written, for the optional read lag.
    pub(crate) read_lag_from: HashMap<String, Instant>,
    /// How many of the next DELETEs of a flow answer a transient 409.
    pub(crate) delete_conflicts: u32,
    /// The shared state file, when one is set.
    pub(crate) persist: Option<Persist>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(config: FaultConfig, n: usize) -> Vec<Option<Fault>> {
        let mut r = RandomFaults::new(config);
        (0..n).map(|_| r.next()).collect()
    }

    #[test]
    fn a_seed_replays_the_same_faults_at_the_same_requests() {
        let config = FaultConfig {
            rate_429: 0.2,
            rate_503: 0.2,
            rate_drop: 0.2,
            seed: Some(42),
        };
        let first = draws(config, 200);
        assert_eq!(first, draws(config, 200));
        assert!(first.iter().any(Option::is_some) && first.iter().any(Option::is_none));
        let other = draws(
            FaultConfig {
                seed: Some(43),
                ..config
            },
            200,
        );
        assert_ne!(first, other, "another seed, other faults");
    }

    #[test]
    fn without_a_seed_a_fresh_one_is_drawn_and_told() {
        let config = FaultConfig {
            rate_503: 0.5,
            ..FaultConfig::default()
        };
        let r = RandomFaults::new(config);
        let replay = draws(
            FaultConfig {
                seed: Some(r.seed),
                ..config
            },
            100,
        );
        let mut again = r.clone();
        let seen: Vec<_> = (0..100).map(|_| again.next()).collect();
        assert_eq!(seen, replay);
    }

    #[test]
    fn no_rates_no_faults() {
        assert!(draws(FaultConfig::default(), 500)
            .iter()
            .all(Option::is_none));
    }
}

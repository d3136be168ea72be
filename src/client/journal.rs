//! A journal of the Architect jobs this OAuth client has in flight, kept beside the token
//! cache, so that a run killed in the middle of a job (kill -9, a cancelled CI job) and run
//! again waits for that job instead of publishing the same flow a second time.
//!
//! One small file per job (`jobs-<hash of API host and client id>/<job id>.json`, mode
//! 0600 in a 0700 directory): written when the job is registered, removed when it is seen
//! finished. Separate files need no lock between processes. Nothing secret is in them.
//! Without a token cache (`--no-token-cache`) there is no journal.

use super::private_file::write_private_json;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Entries older than this are a dead run's leftovers: a job never runs this long.
const STALE: Duration = Duration::from_secs(3600);
/// A journal file is a few dozen bytes; anything larger is not ours.
const MAX_ENTRY: u64 = 4096;

/// One job in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) job: String,
    /// Seconds since the epoch when the job was registered.
    pub(crate) registered: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Journal {
    dir: PathBuf,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A job id is a UUID; anything else is not used as a file name.
fn safe_id(job: &str) -> bool {
    !job.is_empty() && job.len() <= 64 && job.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Journal {
    /// The journal of `client_id` against `api_base`, under the token cache directory.
    pub(crate) fn new(cache_dir: &Path, api_base: &str, client_id: &str) -> Journal {
        let key = crate::digest::sha256_hex(format!("{api_base}\n{client_id}"), 8);
        Journal {
            dir: cache_dir.join(format!("jobs-{key}")),
        }
    }

    /// Notes a job as in flight. A journal that cannot be written only costs the safety it
    /// gives, so it is a warning, never a failure.
    pub(crate) fn record(&self, job: &str) {
        if !safe_id(job) {
            return;
        }
        let entry = Entry {
            job: job.to_string(),
            registered: now(),
        };
        if let Err(e) = write_private_json(&self.dir.join(format!("{job}.json")), &entry) {
            tracing::warn!(
                "cannot note Architect job {job} in {}: {e}",
                self.dir.display()
            );
        }
    }

    /// The job is finished (or gone): forget it.
    pub(crate) fn done(&self, job: &str) {
        if safe_id(job) {
            let _ = std::fs::remove_file(self.dir.join(format!("{job}.json")));
        }
    }

    /// The jobs an earlier run left in flight, oldest first; stale and unreadable entries
    /// are removed.
    pub(crate) fn pending(&self) -> Vec<Entry> {
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in read.flatten() {
            let path = item.path();
            let regular = item.file_type().is_ok_and(|t| t.is_file());
            let small = item.metadata().is_ok_and(|m| m.len() <= MAX_ENTRY);
            let entry = (regular && small)
                .then(|| std::fs::read(&path).ok())
                .flatten()
                .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
                .filter(|e| safe_id(&e.job));
            match entry {
                Some(e) if now().saturating_sub(e.registered) < STALE.as_secs() => out.push(e),
                _ if path.extension().is_some_and(|x| x == "json") => {
                    let _ = std::fs::remove_file(&path);
                }
                _ => {}
            }
        }
        out.sort_by_key(|e| e.registered);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_job_is_pending_until_done_and_ids_stay_file_names() {
        let dir = tempfile::tempdir().expect("dir");
        let j = Journal::new(dir.path(), "https://api.example", "client");
        j.record("7f6c0a5e-1111-4222-8333-444455556666");
        j.record("../../etc/passwd");
        let pending = j.pending();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].job, "7f6c0a5e-1111-4222-8333-444455556666");
        j.done("7f6c0a5e-1111-4222-8333-444455556666");
        assert!(j.pending().is_empty());
        // Another client's journal is another directory.
        let other = Journal::new(dir.path(), "https://api.example", "other");
        other.record("a-b");
        assert!(j.pending().is_empty());
    }

    #[test]
    fn stale_and_garbage_entries_are_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let j = Journal::new(dir.path(), "https://api.example", "client");
        j.record("fresh");
        std::fs::write(j.dir.join("junk.json"), "not json").expect("write");
        let old = Entry {
            job: "old".into(),
            registered: now() - STALE.as_secs() - 1,
        };
        write_private_json(&j.dir.join("old.json"), &old).expect("write");
        let pending: Vec<String> = j.pending().into_iter().map(|e| e.job).collect();
        assert_eq!(pending, vec!["fresh"]);
        assert!(!j.dir.join("junk.json").exists() && !j.dir.join("old.json").exists());
    }

    #[cfg(unix)]
    #[test]
    fn entries_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let j = Journal::new(dir.path(), "https://api.example", "client");
        j.record("job-1");
        let mode = std::fs::metadata(j.dir.join("job-1.json"))
            .expect("entry")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

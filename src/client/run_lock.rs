//! One change to an org at a time from one machine: a lock file beside the token cache,
//! keyed by the API host and the OAuth client (a client belongs to one org), taken by
//! `apply`, `create-shared`, `create-parent` and `destroy` before they read the org. A
//! second run waits, saying for whom, then plans afresh, so two applies started together
//! publish each flow once.
//!
//! The lock is an advisory lock on `run-<hash>.lock` (mode 0600, in the cache's 0700
//! directory); the holder writes who it is (process id, command, since when) into it, for
//! the waiter's message. The operating system releases it when the holder exits, kill -9
//! included, so a dead run never blocks the next. Without a token cache
//! (`--no-token-cache`) there is no lock.

use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a run waits for another one changing the same org before it gives up.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(3600);
/// How often the lock is tried while another run holds it.
const POLL: Duration = Duration::from_millis(200);
/// The most read of a holder's note (it is one short line).
const MAX_NOTE: u64 = 1024;

/// The lock of one org and OAuth client, held until dropped.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: std::fs::File,
}

/// The lock file of `client_id` against `api_base`, under the token cache directory.
pub(crate) fn lock_path(cache_dir: &Path, api_base: &str, client_id: &str) -> PathBuf {
    let digest = Sha256::digest(format!("{api_base}\n{client_id}").as_bytes());
    let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    cache_dir.join(format!("run-{key}.lock"))
}

fn open(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Who holds the lock, from its note; made printable.
fn holder(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(MAX_NOTE).read_to_string(&mut text);
    let text = crate::output::sanitize(text.trim(), 200);
    if text.is_empty() {
        "another flowctl".into()
    } else {
        format!("another flowctl ({text})")
    }
}

/// Takes the lock at `path` for `command`, waiting up to `up_to` while another run holds
/// it. `who` names the org and client in the message. `Ok(None)` where the file cannot be
/// made or locked (a read-only cache, a file system without locks): the run goes on
/// unlocked, with a warning, as it did before there was a lock.
pub(crate) async fn acquire(
    path: &Path,
    command: &str,
    who: &str,
    up_to: Duration,
) -> Result<Option<RunLock>, String> {
    let mut file = match open(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(
                "cannot open the run lock {}: {e}; going on without it",
                path.display()
            );
            return Ok(None);
        }
    };
    let start = tokio::time::Instant::now();
    let mut announced = None;
    loop {
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => break,
            Err(fs4::TryLockError::WouldBlock) => {}
            Err(fs4::TryLockError::Error(e)) => {
                tracing::warn!(
                    "cannot lock {}: {e}; going on without the run lock",
                    path.display()
                );
                return Ok(None);
            }
        }
        if announced.is_none() {
            let by = holder(&mut file);
            tracing::warn!(
                "waiting for {by}, which is changing this org ({who}); this {command} reads the org afresh when it is done"
            );
            announced = Some(crate::progress::waiting_told(
                format!("{by} to finish changing this org"),
                up_to,
            ));
        }
        if start.elapsed() >= up_to {
            return Err(format!(
                "{} to finish changing this org ({who})",
                holder(&mut file)
            ));
        }
        tokio::time::sleep(POLL).await;
    }
    drop(announced);
    // Who holds it now, for the next run's message.
    let note = format!(
        "pid {}, `{command}`, since {}",
        std::process::id(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = file.write_all(note.as_bytes());
    let _ = file.flush();
    Ok(Some(RunLock { _file: file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("dir");
        let path = lock_path(dir.path(), "https://api.example/", "client");
        let first = acquire(&path, "apply", "org", LOCK_WAIT)
            .await
            .expect("first")
            .expect("locked");
        // Held: a second one gives up after its wait.
        let second = acquire(&path, "apply", "org", Duration::from_millis(300)).await;
        let why = second.expect_err("held");
        assert!(why.contains("pid"), "{why}");
        assert!(why.contains("`apply`"), "{why}");
        drop(first);
        let third = acquire(&path, "destroy", "org", Duration::from_millis(300)).await;
        assert!(matches!(third, Ok(Some(_))), "{third:?}");
    }

    #[test]
    fn the_lock_is_per_org_and_client() {
        let d = Path::new("/c");
        let a = lock_path(d, "https://api.a/", "x");
        assert_ne!(a, lock_path(d, "https://api.b/", "x"));
        assert_ne!(a, lock_path(d, "https://api.a/", "y"));
        assert_eq!(a, lock_path(d, "https://api.a/", "x"));
    }
}

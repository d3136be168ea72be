//! The one way flowctl reads a user's file (`-f`, a manifest's `file:`, `--file`,
//! `--client-secret-file`, `.env`, `config.toml`, the token cache): only a regular file, and
//! only up to `MAX_FILE`. A FIFO nobody writes would hang a CI run forever and
//! `/dev/zero` would grow flowctl until it aborts; both are refused before any read, with a
//! message that names the file and what it is.

use std::io::Read;
use std::path::Path;

/// Far above any real flow, manifest or secret (a large Architect export is a few MB).
pub(crate) const MAX_FILE: u64 = 32 << 20;

/// Reads `path` as UTF-8 text. `what` names it in errors ("the manifest", ".env").
/// Errors keep their `io::ErrorKind` (`NotFound` stays `NotFound`) so callers that treat a
/// missing file as "none" still can.
pub(crate) fn read_text(path: &Path, what: &str) -> std::io::Result<String> {
    read_text_limited(path, what, MAX_FILE)
}

/// [`read_text`] with another limit (tests).
pub(crate) fn read_text_limited(path: &Path, what: &str, limit: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let refuse = |kind: ErrorKind, why: String| Error::new(kind, format!("{what} {why}"));
    // Checked before opening: opening a FIFO for reading blocks until someone writes.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(refuse(
            ErrorKind::InvalidInput,
            format!(
                "is not a regular file (it is {}); flowctl reads only regular files",
                kind_of(&meta)
            ),
        ));
    }
    let file = std::fs::File::open(path)?;
    // Checked again on the open file, in case the path was swapped in between.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refuse(
            ErrorKind::InvalidInput,
            "is not a regular file; flowctl reads only regular files".to_string(),
        ));
    }
    let too_big = || {
        refuse(
            ErrorKind::InvalidData,
            format!(
                "is larger than {} MiB, far more than any real one",
                limit >> 20
            ),
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that grew while being read.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > limit) {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        refuse(
            ErrorKind::InvalidData,
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_before_any_read() {
        #[cfg(unix)]
        {
            let e = read_text(Path::new("/dev/zero"), "the manifest").expect_err("refused");
            assert!(
                e.to_string()
                    .contains("the manifest is not a regular file (it is a character device)"),
                "{e}"
            );
        }
        let dir = tempfile::tempdir().expect("dir");
        let e = read_text(dir.path(), ".env").expect_err("refused");
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_and_a_missing_one_stays_not_found() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.yaml");
        std::fs::write(&path, vec![b'a'; 3 << 20]).expect("write");
        let e = read_text_limited(&path, "flow file", 2 << 20).expect_err("refused");
        assert!(
            e.to_string().contains("flow file is larger than 2 MiB"),
            "{e}"
        );
        assert_eq!(
            read_text_limited(&path, "flow file", 4 << 20)
                .map(|t| t.len())
                .ok(),
            Some(3 << 20)
        );
        let e = read_text(&dir.path().join("none"), "x").expect_err("missing");
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }
}

//! The one way flowctl writes a file of its own that others must not read (the token cache,
//! the job journal): atomically, so a reader never sees half a file and a crash leaves the
//! old one, with mode 0600 in a directory made 0700.

use serde::Serialize;
use std::path::Path;

/// Writes `value` as JSON to `path` atomically with mode 0600, its directory 0700.
pub(crate) fn write_private_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    // tempfile creates the file with mode 0600 on unix; said again in case that changes.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut tmp, value)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_whole_json_readable_by_its_owner_alone() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub").join("f.json");
        write_private_json(&path, &serde_json::json!({"a": 1})).expect("first write");
        write_private_json(&path, &serde_json::json!({"a": 2})).expect("replacing write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, r#"{"a":2}"#);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
        let left: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("f.json")],
            "no temp file left"
        );
    }
}

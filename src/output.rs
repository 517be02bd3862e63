//! Atomic file output: write to a temporary file in the target directory,
//! then rename, so a failed run never leaves a half-written report.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("cannot write `{path}`: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Writes `bytes` to `path` atomically.
///
/// The bytes are already in memory, so they go straight to the file: a
/// buffer would only copy them (and a 1 MiB one per file cost a page fault
/// per 4 KiB when hundreds of small files were written).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic_all(&[(path, bytes)]).map(|_| ())
}

/// Writes a set of files that belong together (the three files of each
/// recommended policy): every file is written under a temporary name next
/// to it first, and only when all are written and on disk are they renamed
/// into place. A failure before that leaves every target as it was and no
/// temporary file behind.
pub fn write_atomic_all<P: AsRef<Path>, B: AsRef<[u8]>>(
    files: &[(P, B)],
) -> Result<Vec<PathBuf>, WriteError> {
    // Each file is closed once flushed (a `TempPath` still removes it if
    // the set fails): an account of 10,000 principals writes 30,000 files,
    // far more than a process may hold open.
    let mut staged_files = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let path = path.as_ref();
        let tmp = staged(path, bytes.as_ref())?;
        tmp.as_file().sync_all().map_err(|e| write_error(path, e))?;
        staged_files.push((path, tmp.into_temp_path()));
    }
    let mut written = Vec::with_capacity(staged_files.len());
    for (path, tmp) in staged_files {
        tmp.persist(path).map_err(|e| write_error(path, e.error))?;
        written.push(path.to_path_buf());
    }
    Ok(written)
}

fn write_error(path: &Path, source: std::io::Error) -> WriteError {
    WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// A temporary file next to `path` holding `bytes`, not yet flushed; it is
/// removed when dropped unless persisted.
fn staged(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, WriteError> {
    let mut tmp = temp_next_to(path).map_err(|e| write_error(path, e))?;
    tmp.as_file_mut()
        .write_all(bytes)
        .map_err(|e| write_error(path, e))?;
    Ok(tmp)
}

fn temp_next_to(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    tempfile::Builder::new()
        .prefix(".leastpriv-")
        .tempfile_in(dir)
}

/// Streams what `fill` writes to `path` atomically (buffered): the file
/// appears whole or not at all, also when `fill` fails half-way.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let err = |source| write_error(path, source);
    let mut tmp = temp_next_to(path).map_err(err)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        fill(&mut w).map_err(err)?;
        w.flush().map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_set_is_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.json"), "old").expect("seed");
        let files = [
            (dir.path().join("a.json"), &b"new a"[..]),
            (dir.path().join("b.tf"), &b"new b"[..]),
        ];
        let written = write_atomic_all(&files).expect("write");
        assert_eq!(written, vec![files[0].0.clone(), files[1].0.clone()]);
        assert_eq!(std::fs::read(&files[0].0).expect("a"), b"new a");
        assert_eq!(std::fs::read(&files[1].0).expect("b"), b"new b");
        assert_eq!(names(dir.path()), ["a.json", "b.tf"]);
    }

    /// The second file cannot be staged (its directory does not exist): the
    /// first target keeps its old content and no temporary file is left.
    #[test]
    fn a_set_that_fails_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.json"), "old").expect("seed");
        let missing = dir.path().join("missing/b.tf");
        let err = write_atomic_all(&[
            (dir.path().join("a.json"), &b"new a"[..]),
            (missing.clone(), &b"new b"[..]),
        ])
        .expect_err("the second file has no directory");
        assert_eq!(err.path, missing);
        assert_eq!(std::fs::read(dir.path().join("a.json")).expect("a"), b"old");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn an_empty_set_writes_nothing() {
        assert!(write_atomic_all::<PathBuf, Vec<u8>>(&[])
            .expect("nothing")
            .is_empty());
    }
}

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

/// What a set write did with one of its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Written,
    /// The file already held exactly these bytes and was left alone.
    Unchanged,
}

/// Writes a set of files that belong together (the three files of each
/// recommended policy): every file is written under a temporary name next
/// to it first, and only when all are written and on disk are they renamed
/// into place. A failure before that leaves every target as it was and no
/// temporary file behind.
///
/// A file that already holds exactly the new bytes is not rewritten: a
/// rerun changes only what changed (its modification time too, for `make`
/// and reviewers), and creating, flushing and renaming hundreds of files
/// was most of a rerun's time.
pub fn write_atomic_all<P: AsRef<Path> + Sync, B: AsRef<[u8]> + Sync>(
    files: &[(P, B)],
) -> Result<Vec<(PathBuf, Fate)>, WriteError> {
    // Flushing a file to disk waits on the device, not the CPU: several
    // writers overlap those waits (300 files: 120 ms on one thread). Chunks
    // keep the files' order, so the first failure in that order is the one
    // reported, whichever thread met it.
    let writers = files.len().div_ceil(FILES_PER_WRITER).clamp(1, MAX_WRITERS);
    let chunk = files.len().div_ceil(writers).max(1);
    let chunks: Vec<Result<Vec<_>, WriteError>> = if writers == 1 {
        // A report or a small set: no thread to start.
        vec![stage_all(files)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = files
                .chunks(chunk)
                .map(|c| scope.spawn(move || stage_all(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut staged_files = Vec::with_capacity(files.len());
    for c in chunks {
        staged_files.extend(c?);
    }
    let mut done = Vec::with_capacity(staged_files.len());
    for (path, tmp) in staged_files {
        let fate = match tmp {
            Some(tmp) => {
                tmp.persist(path).map_err(|e| write_error(path, e.error))?;
                Fate::Written
            }
            None => Fate::Unchanged,
        };
        done.push((path.to_path_buf(), fate));
    }
    Ok(done)
}

/// A set write starts another writer thread per this many files, up to
/// `MAX_WRITERS`.
const FILES_PER_WRITER: usize = 16;
const MAX_WRITERS: usize = 8;

/// Writes and flushes each file that does not already hold its bytes under
/// a temporary name; `None` for those left alone.
fn stage_all<P: AsRef<Path>, B: AsRef<[u8]>>(
    files: &[(P, B)],
) -> Result<Vec<(&Path, Option<tempfile::TempPath>)>, WriteError> {
    // Each file is closed once flushed (a `TempPath` still removes it if
    // the set fails): an account of 10,000 principals writes 30,000 files,
    // far more than a process may hold open.
    let mut out = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let (path, bytes) = (path.as_ref(), bytes.as_ref());
        if holds(path, bytes) {
            out.push((path, None));
            continue;
        }
        let tmp = staged(path, bytes)?;
        tmp.as_file().sync_all().map_err(|e| write_error(path, e))?;
        out.push((path, Some(tmp.into_temp_path())));
    }
    Ok(out)
}

/// Whether `path` is a regular file holding exactly `bytes` (any doubt,
/// such as an unreadable file, means no: it is then rewritten). Compared
/// a block at a time, so a large report costs no second copy in memory and
/// a changed one is usually told apart in its first block.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && m.len() == bytes.len() as u64 => {}
        _ => return false,
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut block = vec![0u8; 64 * 1024];
    let mut rest = bytes;
    loop {
        match f.read(&mut block) {
            Ok(0) => return rest.is_empty(),
            Ok(n) if n <= rest.len() && block[..n] == rest[..n] => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => return false,
        }
    }
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
        assert_eq!(
            written,
            vec![
                (files[0].0.clone(), Fate::Written),
                (files[1].0.clone(), Fate::Written)
            ]
        );
        assert_eq!(std::fs::read(&files[0].0).expect("a"), b"new a");
        assert_eq!(std::fs::read(&files[1].0).expect("b"), b"new b");
        assert_eq!(names(dir.path()), ["a.json", "b.tf"]);
    }

    /// A rerun rewrites only the files whose bytes changed, including one
    /// of the same length; the others keep their inode.
    #[test]
    fn unchanged_files_are_left_alone() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b, c) = (
            dir.path().join("a.json"),
            dir.path().join("b.tf"),
            dir.path().join("c.md"),
        );
        std::fs::write(&a, "same").expect("seed a");
        std::fs::write(&b, "old!").expect("seed b");
        let inode = |p: &Path| std::fs::metadata(p).expect("stat").ino();
        let (ino_a, ino_b) = (inode(&a), inode(&b));
        let got = write_atomic_all(&[(&a, "same"), (&b, "new!"), (&c, "new")]).expect("write");
        assert_eq!(
            got,
            vec![
                (a.clone(), Fate::Unchanged),
                (b.clone(), Fate::Written),
                (c.clone(), Fate::Written)
            ]
        );
        assert_eq!(inode(&a), ino_a);
        assert_ne!(inode(&b), ino_b);
        assert_eq!(std::fs::read(&b).expect("b"), b"new!");
        assert_eq!(std::fs::read(&c).expect("c"), b"new");
        // Larger than a comparison block: the same bytes, then a change in
        // the last byte only.
        let big_path = dir.path().join("big.json");
        let mut big = vec![b'x'; 200_000];
        std::fs::write(&big_path, &big).expect("seed big");
        let got = write_atomic_all(&[(&big_path, &big)]).expect("same big");
        assert_eq!(got[0].1, Fate::Unchanged);
        *big.last_mut().expect("last") = b'y';
        let got = write_atomic_all(&[(&big_path, &big)]).expect("changed big");
        assert_eq!(got[0].1, Fate::Written);
        assert_eq!(std::fs::read(&big_path).expect("big"), big);
        std::fs::remove_file(&big_path).expect("rm big");
        // A symbolic link is replaced by a file even when it points at the
        // same bytes: the set is made of files.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&a, &link).expect("symlink");
        let got = write_atomic_all(&[(&link, "same")]).expect("write");
        assert_eq!(got, vec![(link.clone(), Fate::Written)]);
        assert!(std::fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_file());
        assert_eq!(names(dir.path()), ["a.json", "b.tf", "c.md", "link.json"]);
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

    /// A set large enough for several writer threads: each file lands in
    /// order; when files in two threads' shares fail, the first in the
    /// set's order is the error, nothing is replaced and no temporary file
    /// is left anywhere.
    #[test]
    fn a_large_set_is_written_by_several_writers_as_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let n = FILES_PER_WRITER * 6 + 3;
        let files: Vec<(PathBuf, String)> = (0..n)
            .map(|i| (dir.path().join(format!("f{i:03}.json")), format!("new {i}")))
            .collect();
        let got = write_atomic_all(&files).expect("write");
        let want: Vec<(PathBuf, Fate)> = files
            .iter()
            .map(|(p, _)| (p.clone(), Fate::Written))
            .collect();
        assert_eq!(got, want);
        for (p, text) in &files {
            assert_eq!(std::fs::read_to_string(p).expect("read"), *text);
        }

        let mut again: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(p, t)| (p.clone(), format!("{t}, again")))
            .collect();
        let (early, late) = (FILES_PER_WRITER + 1, n - 2);
        again[early].0 = dir.path().join("missing/early.json");
        again[late].0 = dir.path().join("missing/late.json");
        let err = write_atomic_all(&again).expect_err("two files have no directory");
        assert_eq!(err.path, again[early].0);
        for (p, text) in &files {
            assert_eq!(std::fs::read_to_string(p).expect("read"), *text);
        }
        let expected: Vec<String> = files
            .iter()
            .map(|(p, _)| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(names(dir.path()), expected);
    }

    #[test]
    fn an_empty_set_writes_nothing() {
        assert!(write_atomic_all::<PathBuf, Vec<u8>>(&[])
            .expect("nothing")
            .is_empty());
    }
}

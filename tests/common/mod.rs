//! The one way the end-to-end tests run the `leastpriv` binary: a scrubbed
//! environment (no `AWS_*`, `CI`, `NO_COLOR`, `COLUMNS`), a fixed
//! `SOURCE_DATE_EPOCH`, and output with the repository and temp paths replaced
//! by `[REPO]` and `[TMP]` so that snapshots do not depend on the machine.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// 2026-11-01T00:00:00Z: the `generated_at` of every report.
pub const SOURCE_DATE_EPOCH: &str = "1793491200";

/// The repository root (where `Cargo.toml` and `fixtures/` are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file or directory under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests").join("fixtures").join(name)
}

/// Starts a `leastpriv` invocation, run from the repository root unless
/// [`Leastpriv::current_dir`] says otherwise.
pub fn leastpriv() -> Leastpriv {
    Leastpriv {
        args: Vec::new(),
        dir: repo(),
        env: Vec::new(),
        tmp: Vec::new(),
    }
}

pub struct Leastpriv {
    args: Vec<std::ffi::OsString>,
    dir: PathBuf,
    env: Vec<(String, String)>,
    tmp: Vec<PathBuf>,
}

impl Leastpriv {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = dir.as_ref().to_owned();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// A temp directory whose path is replaced by `[TMP]` in the output.
    pub fn tmp(mut self, dir: impl AsRef<Path>) -> Self {
        self.tmp.push(dir.as_ref().to_owned());
        self
    }

    pub fn run(self) -> Run {
        let mut cmd = Command::cargo_bin("leastpriv").expect("the leastpriv binary is built");
        for (key, _) in std::env::vars_os() {
            let scrub = key.to_str().is_some_and(|k| {
                k.starts_with("AWS_")
                    || matches!(k, "CI" | "NO_COLOR" | "COLUMNS" | "CLICOLOR_FORCE")
            });
            if scrub {
                cmd.env_remove(&key);
            }
        }
        cmd.env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.current_dir(&self.dir).args(&self.args);
        let out = cmd.output().expect("leastpriv runs");
        let scrubber = Scrubber::new(&self.tmp);
        Run {
            code: out.status.code(),
            stdout: scrubber.apply(&String::from_utf8_lossy(&out.stdout)),
            stderr: scrubber.apply(&String::from_utf8_lossy(&out.stderr)),
            raw_stdout: out.stdout,
        }
    }
}

/// The outcome of one run, with paths scrubbed in `stdout` and `stderr`.
#[derive(Debug)]
pub struct Run {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Unscrubbed standard output, for parsing JSON.
    pub raw_stdout: Vec<u8>,
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            truncate(&self.stdout),
            self.stderr
        );
        self
    }

    /// Standard output parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.raw_stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON: {e}\n--- stdout\n{}\n--- stderr\n{}",
                truncate(&self.stdout),
                self.stderr
            )
        })
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(4000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

struct Scrubber {
    /// Longest first, so that a temp dir inside the repo wins over the repo.
    replacements: Vec<(String, &'static str)>,
}

impl Scrubber {
    fn new(tmp: &[PathBuf]) -> Self {
        let mut replacements = Vec::new();
        let mut add = |p: &Path, with: &'static str| {
            for form in [Some(p.to_owned()), p.canonicalize().ok()]
                .into_iter()
                .flatten()
            {
                let s = form.to_string_lossy().trim_end_matches('/').to_owned();
                if !s.is_empty() && s != "/" {
                    replacements.push((s, with));
                }
            }
        };
        for t in tmp {
            add(t, "[TMP]");
        }
        add(&repo(), "[REPO]");
        add(&std::env::temp_dir(), "[TMP]");
        replacements.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        replacements.dedup();
        Scrubber { replacements }
    }

    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (from, to) in &self.replacements {
            out = out.replace(from.as_str(), to);
        }
        out
    }
}
pub mod moto;

/// The shared CloudTrail corpus (`../shared/corpus/cloudtrail`), or `None`
/// with a note when it is absent. Under `CI=true` an absent corpus is a
/// failure, not a skip: a test that skips did not run.
pub fn corpus_or_skip() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/cloudtrail");
    if dir.is_dir() {
        return Some(dir);
    }
    let note = format!("CloudTrail corpus not found at `{}`", dir.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{note}");
    }
    eprintln!("note: {note}; skipping");
    None
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

/// Copies the tree `from` into `to` (created as needed).
pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dst = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

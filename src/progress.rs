//! Progress reporting for long stages, without printing: the library calls a
//! `Progress` the binary supplies (indicatif bars there, nothing in tests).

use std::sync::Arc;

/// Receives progress of the audit's long stages.
pub trait Progress: Send + Sync {
    /// A stage starts with `total` units (files, principals).
    fn start(&self, stage: &str, total: u64);
    /// A stage starts that counts bytes (downloads).
    fn start_bytes(&self, stage: &str, total: u64) {
        self.start(stage, total);
    }
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The current stage is over.
    fn finish(&self);
}

/// An optional, shareable progress receiver.
#[derive(Clone, Default)]
pub struct ProgressHandle(Option<Arc<dyn Progress>>);

impl ProgressHandle {
    pub fn new(p: Arc<dyn Progress>) -> Self {
        ProgressHandle(Some(p))
    }

    pub fn start(&self, stage: &str, total: u64) {
        if let Some(p) = &self.0 {
            p.start(stage, total);
        }
    }

    pub fn start_bytes(&self, stage: &str, total: u64) {
        if let Some(p) = &self.0 {
            p.start_bytes(stage, total);
        }
    }

    pub fn advance(&self, n: u64) {
        if let Some(p) = &self.0 {
            p.advance(n);
        }
    }

    pub fn finish(&self) {
        if let Some(p) = &self.0 {
            p.finish();
        }
    }
}

impl std::fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressHandle(on)"
        } else {
            "ProgressHandle(off)"
        })
    }
}

/// Runs `f` and logs how long it took at debug level (`-vv`), with the
/// process's resident memory after it and its peak so far where the system
/// says (Linux), so that a slow or large run can be split into its stages
/// without a profiler.
pub fn timed<T>(stage: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    if log::log_enabled!(log::Level::Debug) {
        log::debug!(
            "stage {stage}: {:.1} ms{}",
            start.elapsed().as_secs_f64() * 1e3,
            memory()
        );
    }
    out
}

/// `, RSS N MB (peak M MB)` from `/proc/self/status`, or nothing.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let kb = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    match (kb("VmRSS:"), kb("VmHWM:")) {
        (Some(rss), Some(peak)) => format!(", RSS {} MB (peak {} MB)", rss / 1024, peak / 1024),
        _ => String::new(),
    }
}

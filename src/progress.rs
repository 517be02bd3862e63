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

/// Runs `f` and logs how long it took at debug level (`-vv`), so that a
/// slow run can be split into its stages without a profiler.
pub fn timed<T>(stage: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    log::debug!(
        "stage {stage}: {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    out
}

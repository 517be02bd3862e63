//! What the binary writes on standard error besides the error that ends it:
//! log lines (`-v`, `-q`) and progress bars (indicatif behind the library's
//! `Progress`, drawn when stderr is a terminal and `--quiet` is off).

use leastpriv::progress::{Progress, ProgressHandle};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Whether progress bars may be drawn: set once from `--quiet`.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets up logging on stderr (`-q` errors only, `-v` info, `-vv` debug) and
/// whether progress bars may be drawn.
pub fn init(quiet: bool, verbose: u8) {
    QUIET.store(quiet, Ordering::Relaxed);
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .format(|buf, record| {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            writeln!(buf, "{level}: {}", record.args())
        })
        .target(env_logger::Target::Stderr)
        .init();
}

/// Bars on stderr when it is a terminal and `--quiet` is off; indicatif
/// itself draws nothing when stderr is not a terminal.
pub fn progress() -> ProgressHandle {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return Default::default();
    }
    ProgressHandle::new(Arc::new(Bars::default()))
}

/// indicatif behind the library's `Progress`.
#[derive(Default)]
struct Bars {
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        // An unknown total (pages still to come) gets a counter, not a bar.
        let (bar, template) = if total == 0 {
            (
                indicatif::ProgressBar::new_spinner(),
                "{msg:>26} {spinner} {pos} ({per_sec})",
            )
        } else {
            (
                indicatif::ProgressBar::new(total),
                "{msg:>26} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
            )
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(stage.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn start_bytes(&self, stage: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg:>26} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(stage.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

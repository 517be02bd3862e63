//! `leastpriv pull`: a snapshot from a live account (read-only calls); the
//! pull itself is shared with `audit --live`.

use crate::cli::{parse_time, AwsArgs};
use crate::emit::emit;
use crate::progress::progress;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The snapshot directory to write (replaced atomically when the pull ends).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Events at or after this time (RFC 3339 or YYYY-MM-DD; default: 90 days ago).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Events at or before this time (RFC 3339 or YYYY-MM-DD, inclusive day; default: now).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Exit with 2 when part of the account could not be read (the snapshot
    /// is still written, with the gaps in its manifest).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

pub fn run(p: Args) -> Result<ExitCode> {
    let (since, until) = window(p.since.as_deref(), p.until.as_deref())?;
    let outcome = fetch(&p.aws, p.out, since, until)?;
    emit(&leastpriv::report::pull::summary(&outcome.pulled), None)?;
    if !outcome.failed.is_empty() {
        anyhow::bail!(
            "{} of {} account(s) could not be pulled: {}",
            outcome.failed.len(),
            outcome.failed.len() + outcome.pulled.len(),
            outcome
                .failed
                .iter()
                .map(|(role, why)| format!("{role}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let gaps: usize = outcome.pulled.iter().map(|s| s.manifest.gaps.len()).sum();
    if p.strict && gaps > 0 {
        anyhow::bail!(
            "--strict: {gaps} part(s) of the account could not be read (see the manifest)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `pull`'s window: the given ends, or the last 90 days (what LookupEvents
/// keeps, and a common review period).
pub fn window(since: Option<&str>, until: Option<&str>) -> Result<(i64, i64)> {
    let until = match until {
        Some(u) => parse_time(u, true).map_err(anyhow::Error::msg)?,
        None => chrono::Utc::now().timestamp(),
    };
    let since = match since {
        Some(s) => parse_time(s, false).map_err(anyhow::Error::msg)?,
        None => until - 90 * 86_400,
    };
    if since > until {
        anyhow::bail!("--since is after --until");
    }
    Ok((since, until))
}

/// Runs a pull on a tokio runtime; partial failures are warnings (they are
/// also in the snapshot's manifest and the audit's coverage).
pub fn fetch(
    aws: &AwsArgs,
    out: std::path::PathBuf,
    since: i64,
    until: i64,
) -> Result<leastpriv::pull::PullOutcome> {
    let opts = aws.pull_options(out, since, until, progress());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = rt.block_on(leastpriv::pull::run(&opts))?;
    for s in &outcome.pulled {
        for w in s.manifest.warnings(5) {
            log::warn!("{w}");
        }
    }
    Ok(outcome)
}

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
    #[command(flatten)]
    pub organization: OrganizationArgs,
}

/// `--organization`: every account of an AWS Organization in one snapshot.
#[derive(ClapArgs, Debug)]
#[command(next_help_heading = "Organization")]
pub struct OrganizationArgs {
    /// Pull every account of the organization (run from the management account or a
    /// delegated administrator): an organization snapshot, one account under OUT/accounts/ID.
    #[arg(long, requires = "role_name", conflicts_with = "assume_roles")]
    pub organization: bool,
    /// The role assumed in each account (the caller's own account is read with its own credentials).
    #[arg(long, value_name = "NAME", requires = "organization")]
    pub role_name: Option<String>,
    /// Only these accounts (repeat or comma-separate).
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        requires = "organization"
    )]
    pub accounts: Vec<String>,
    /// Only the accounts under these OUs or roots, at any depth (repeat or comma-separate).
    #[arg(
        long,
        value_name = "OU_ID",
        value_delimiter = ',',
        requires = "organization"
    )]
    pub ous: Vec<String>,
    /// Accounts pulled at a time.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub account_concurrency: usize,
}

impl OrganizationArgs {
    fn options(&self) -> Option<leastpriv::pull::OrganizationOptions> {
        self.organization
            .then(|| leastpriv::pull::OrganizationOptions {
                role_name: self.role_name.clone().unwrap_or_default(),
                accounts: self.accounts.clone(),
                ous: self.ous.clone(),
                account_concurrency: self.account_concurrency.max(1),
            })
    }
}

pub fn run(p: Args) -> Result<ExitCode> {
    let (since, until) = window(p.since.as_deref(), p.until.as_deref())?;
    let outcome = fetch(&p.aws, p.out, since, until, p.organization.options())?;
    let mut text = leastpriv::report::pull::summary(&outcome.pulled);
    if let Some(om) = &outcome.organization {
        text.push_str(&leastpriv::report::pull::organization_summary(om));
    }
    emit(&text, None)?;
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
    let gaps: usize = outcome
        .pulled
        .iter()
        .map(|s| s.manifest.gaps.len())
        .sum::<usize>()
        + outcome
            .organization
            .iter()
            .map(|o| o.gaps.iter().filter(|g| g.stage != "account").count())
            .sum::<usize>();
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
    organization: Option<leastpriv::pull::OrganizationOptions>,
) -> Result<leastpriv::pull::PullOutcome> {
    let mut opts = aws.pull_options(out, since, until, progress());
    opts.organization = organization;
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
    if let Some(om) = &outcome.organization {
        for g in om.gaps.iter().filter(|g| g.stage != "account") {
            log::warn!("organization: {} {}: {}", g.stage, g.target, g.message);
        }
    }
    Ok(outcome)
}

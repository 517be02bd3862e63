//! The command line: the subcommands, and the argument groups several of
//! them share (inputs, AWS, severities); each subcommand's own arguments,
//! among them `--format` with the formats it writes, are in its module.
//! CLI-only enums are converted to library types here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "leastpriv",
    version,
    about = "Least-privilege auditor for AWS: what each principal is granted, what it used, and what to remove",
    after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, configuration or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars and no warnings, only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

// Parsed once per run: boxing the large variants would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Audit a snapshot: granted vs used per principal and action, with findings.
    Audit(crate::audit::Args),
    /// Write a snapshot from a live account (read-only calls), for `audit` to read offline.
    Pull(crate::pull::Args),
    /// Show the embedded AWS action catalog, or look actions up.
    Catalog(crate::catalog::Args),
    /// Explain one principal: why each action is granted, and the evidence of use.
    Explain(crate::explain::Args),
    /// For every secret, parameter and key: who can read it, who did, who was refused.
    Secrets(crate::secrets::Args),
    /// For one resource: every principal allowed to act on it, why, and who did.
    WhoCan(crate::who_can::Args),
    /// For one identity (a person's user name or e-mail, a role, an agent):
    /// what it did, was refused and can do, across accounts, and the chains behind it.
    Who(crate::who::Args),
    /// List the rules of the registry (`--format markdown` writes docs/rules.md).
    Rules(crate::rules::Args),
    /// Write a right-sized policy, a Terraform file and a readable diff per principal.
    Recommend(crate::recommend::Args),
    /// Write alerting as code per principal: EventBridge rules and CloudWatch
    /// Logs metric filters with alarms, as Terraform and raw JSON patterns.
    Alerts(crate::alerts::Args),
    /// Compare two JSON reports: new and resolved findings, permission drift.
    Diff(crate::diff::Args),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Snapshot directory (iam.json, credential-report.csv, trails.json, cloudtrail/,
    /// organization.json, resource-policies.json, identity-center.json), or an
    /// organization snapshot (organization.json, accounts/ACCOUNT_ID/, cloudtrail/).
    pub snapshot: Option<PathBuf>,
    /// Authorization details file (overrides SNAPSHOT/iam.json).
    #[arg(long, value_name = "FILE")]
    pub iam: Option<PathBuf>,
    /// Decoded credential report CSV (overrides SNAPSHOT/credential-report.csv).
    #[arg(long, value_name = "FILE")]
    pub credential_report: Option<PathBuf>,
    /// Trails with event selectors (overrides SNAPSHOT/trails.json).
    #[arg(long, value_name = "FILE")]
    pub trails: Option<PathBuf>,
    /// CloudTrail files or directories (overrides SNAPSHOT/cloudtrail/).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub cloudtrail: Vec<PathBuf>,
    /// The organization with its SCPs and RCPs (overrides SNAPSHOT/organization.json).
    #[arg(long, value_name = "FILE")]
    pub organization: Option<PathBuf>,
    /// Resource policies and KMS keys (overrides SNAPSHOT/resource-policies.json).
    #[arg(long, value_name = "FILE")]
    pub resource_policies: Option<PathBuf>,
    /// IAM Identity Center's users, groups, permission sets and assignments
    /// (overrides SNAPSHOT/identity-center.json).
    #[arg(long, value_name = "FILE")]
    pub identity_center: Option<PathBuf>,
    /// With an organization snapshot: audit only this account (repeat for several).
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    pub accounts: Vec<String>,
    /// Directory of rule files replacing the shipped ones (classify.yaml, risk.yaml,
    /// guardrails.yaml, observability.yaml; cloudtrail*.yaml add to the shipped maps).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Configuration file (default: ./leastpriv.yaml when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit with 2 when an input file or record had to be skipped (default:
    /// skip it, name it on stderr and count it in the report's coverage).
    #[arg(long)]
    pub strict: bool,
    /// Only count events at or after this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only count events at or before this time (RFC 3339 or YYYY-MM-DD, inclusive day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Read the CloudTrail logs even when the snapshot's activity store
    /// (activity.parquet, written by `pull` or `--save-activity`) fits this run
    /// (an account without log files, pulled with `--athena`, is still read
    /// from its store).
    #[arg(long)]
    pub reread_logs: bool,
}

/// Where and as whom to call AWS (`pull`, `audit --live`).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "AWS")]
pub struct AwsArgs {
    /// Named profile of the shared AWS config (default: AWS_PROFILE or the default chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Regions to read trails and events in (repeat or comma-separate; default: the configured region).
    #[arg(long = "region", value_name = "REGION", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Endpoint for every AWS service (default: AWS_ENDPOINT_URL, or AWS's own).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Role to assume before pulling; repeat for several accounts (one snapshot each, in OUT/ACCOUNT_ID).
    #[arg(long = "assume-role", value_name = "ARN")]
    pub assume_roles: Vec<String>,
    /// Where events come from.
    #[arg(long, value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
    /// Read trail logs from this bucket instead of the trails' own (s3://BUCKET[/PREFIX]).
    #[arg(long, value_name = "S3_URL")]
    pub trail_bucket: Option<String>,
    /// Skip IAM Access Advisor (one job per principal).
    #[arg(long)]
    pub no_access_advisor: bool,
    /// Parallel downloads and Access Advisor jobs.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// Attempts per AWS call, including the first; throttling and 5xx are retried with backoff.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_attempts: u32,
    /// Region of the IAM Identity Center instance (default: try each --region in turn).
    #[arg(long, value_name = "REGION")]
    pub identity_center_region: Option<String>,
    /// GetAccountAuthorizationDetails page size (tests use small pages).
    #[arg(long, default_value_t = 1000, hide = true)]
    pub iam_page_size: i32,
    #[command(flatten)]
    pub athena: AthenaArgs,
}

/// Organization scale: aggregate the trail bucket in Amazon Athena.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Athena")]
pub struct AthenaArgs {
    /// Aggregate events in Amazon Athena over --trail-bucket (one query for
    /// every account of the pull) instead of downloading them.
    #[arg(long, requires = "trail_bucket")]
    pub athena: bool,
    /// Glue database for the CloudTrail table (created if missing).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "leastpriv",
        requires = "athena"
    )]
    pub athena_database: String,
    /// Table name (default: cloudtrail_ and a hash of its location and accounts).
    #[arg(long, value_name = "NAME", requires = "athena")]
    pub athena_table: Option<String>,
    /// Athena workgroup (default: the account's `primary`).
    #[arg(long, value_name = "NAME", requires = "athena")]
    pub athena_workgroup: Option<String>,
    /// Where Athena writes query results (s3://BUCKET/PREFIX/), unless the workgroup sets it.
    #[arg(long, value_name = "S3_URL", requires = "athena")]
    pub athena_output: Option<String>,
    /// Use an existing table: no CREATE DATABASE or CREATE TABLE (no Glue writes).
    #[arg(long, requires = "athena_table")]
    pub athena_no_ddl: bool,
    /// Give up on an Athena query after this many seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1800,
        requires = "athena"
    )]
    pub athena_timeout: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceArg {
    /// The trail's S3 bucket when readable, LookupEvents otherwise.
    Auto,
    /// Only the trail bucket.
    S3,
    /// Only LookupEvents (management events, 90 days).
    Lookup,
    /// No events: IAM and trails only.
    None,
}

impl AwsArgs {
    /// The library's options for a pull into `out` over `[since, until]`.
    pub fn pull_options(
        &self,
        out: PathBuf,
        since: i64,
        until: i64,
        progress: leastpriv::progress::ProgressHandle,
    ) -> leastpriv::pull::PullOptions {
        use leastpriv::pull::EventSource;
        leastpriv::pull::PullOptions {
            out,
            catalog: leastpriv::catalog::Catalog::embedded(),
            aws: leastpriv::pull::AwsOptions {
                profile: self.profile.clone(),
                regions: self.regions.clone(),
                endpoint_url: self.endpoint_url.clone(),
                assume_roles: self.assume_roles.clone(),
                max_attempts: self.max_attempts,
            },
            since,
            until,
            source: match self.source {
                SourceArg::Auto => EventSource::Auto,
                SourceArg::S3 => EventSource::S3,
                SourceArg::Lookup => EventSource::Lookup,
                SourceArg::None => EventSource::None,
            },
            trail_bucket: self.trail_bucket.clone(),
            access_advisor: !self.no_access_advisor,
            concurrency: self.concurrency.max(1),
            iam_page_size: self.iam_page_size.clamp(1, 1000),
            progress,
            now: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.parse().ok()),
            athena: self
                .athena
                .athena
                .then(|| leastpriv::pull::athena::AthenaOptions {
                    database: self.athena.athena_database.clone(),
                    table: self.athena.athena_table.clone(),
                    workgroup: self.athena.athena_workgroup.clone(),
                    output: self.athena.athena_output.clone(),
                    no_ddl: self.athena.athena_no_ddl,
                    timeout: std::time::Duration::from_secs(self.athena.athena_timeout.max(1)),
                }),
            identity_center_region: self.identity_center_region.clone(),
            organization: None,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for leastpriv::rules::Severity {
    fn from(s: SeverityArg) -> Self {
        use leastpriv::rules::Severity as S;
        match s {
            SeverityArg::Info => S::Info,
            SeverityArg::Low => S::Low,
            SeverityArg::Medium => S::Medium,
            SeverityArg::High => S::High,
            SeverityArg::Critical => S::Critical,
        }
    }
}

/// Parses `--since`/`--until`: RFC 3339, or a date (start of day; for
/// `until`, the end of that day).
pub fn parse_time(s: &str, end_of_day: bool) -> Result<i64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = if end_of_day {
            d.and_hms_opt(23, 59, 59)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        if let Some(t) = t {
            return Ok(t.and_utc().timestamp());
        }
    }
    Err(format!(
        "invalid time `{s}`: expected RFC 3339 (2026-10-01T00:00:00Z) or a date (2026-10-01)"
    ))
}

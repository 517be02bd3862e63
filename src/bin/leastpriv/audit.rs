//! `leastpriv audit`: granted vs used per principal and action, with
//! findings, in the format asked for; `--live` pulls first.

use crate::cli::{AwsArgs, InputArgs, SeverityArg};
use crate::emit::{emit, emit_bytes, emit_with};
use crate::input::audit;
use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};
use leastpriv::progress::timed;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Save the aggregated activity into the snapshot (activity.parquet and
    /// activity.json), so later audits of the same window need not re-read the logs.
    #[arg(long)]
    pub save_activity: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With `--format json`: the document to write. `v1` lists every unused
    /// and unobservable action by name; `v2` groups them by service (`"*"`
    /// for all of one), a fraction of the size for broad grants [default: v1].
    #[arg(long, value_enum, value_name = "VERSION")]
    pub json_schema: Option<JsonSchema>,
    /// Exit with 1 when a finding has at least this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Accepted findings (YAML: rule, principal, actions, justification, owner,
    /// expires); accepted findings stay in the report but do not fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Table width in columns (default: the terminal's, or 160).
    #[arg(long, value_name = "COLUMNS")]
    pub width: Option<u16>,
    /// Pull from the live account first, then audit (instead of a SNAPSHOT).
    #[arg(long, conflicts_with = "snapshot")]
    pub live: bool,
    /// With --live: keep the pulled snapshot in DIR (default: a temporary directory).
    #[arg(long, value_name = "DIR", requires = "live")]
    pub snapshot_dir: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The formats `audit` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    /// Markdown for reviews.
    Markdown,
    /// A self-contained HTML report.
    Html,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// One row per principal and action.
    Csv,
    /// The same rows as Parquet; needs `--output`.
    Parquet,
}

/// `leastpriv.audit/v1` or `/v2`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonSchema {
    V1,
    V2,
}

impl From<JsonSchema> for leastpriv::report::json::Schema {
    fn from(s: JsonSchema) -> Self {
        match s {
            JsonSchema::V1 => Self::V1,
            JsonSchema::V2 => Self::V2,
        }
    }
}

/// Names listed in a v1 report above which `--json-schema v2` is suggested:
/// about 30 MB of report text.
const V1_NAMES_NOTE: usize = 1_000_000;

/// A note on standard error when a v1 report (the default) lists more
/// action names than anyone reads: v2 writes the same sets by service.
fn suggest_v2(result: &leastpriv::audit::Audit) {
    let names: usize = result
        .principals
        .iter()
        // Unobservable actions are listed twice: alone and by reason.
        .map(|p| p.verdicts.unused().len() + 2 * p.verdicts.unobservable().len())
        .sum();
    if names > V1_NAMES_NOTE {
        log::warn!(
            "the report lists {names} unused and unobservable action names one by one; \
             `--json-schema v2` groups them by service (a fraction of the size, and \
             `leastpriv diff` reads both); `--json-schema v1` keeps this format without this note"
        );
    }
}

pub fn run(mut a: Args) -> Result<ExitCode> {
    let schema = match (a.json_schema, a.format) {
        (None, _) => leastpriv::report::json::Schema::V1,
        (Some(s), Format::Json) => s.into(),
        (Some(_), other) => anyhow::bail!(
            "`--json-schema` applies to `--format json`, not `--format {}`",
            format!("{other:?}").to_lowercase()
        ),
    };
    // Kept alive until the audit is done when --live pulls into a
    // temporary directory.
    let mut _live_dir = None;
    if a.live {
        if a.aws.assume_roles.len() > 1 {
            anyhow::bail!(
                "`audit --live` audits one account: pull several with `leastpriv pull --out DIR`, then audit each DIR/ACCOUNT_ID"
            );
        }
        let (since, until) =
            crate::pull::window(a.input.since.as_deref(), a.input.until.as_deref())?;
        let dir = match &a.snapshot_dir {
            Some(d) => d.clone(),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("leastpriv-live-")
                    .tempdir()?;
                let d = t.path().join("snapshot");
                _live_dir = Some(t);
                d
            }
        };
        let outcome = crate::pull::fetch(&a.aws, dir.clone(), since, until, None)?;
        log::info!(
            "{}",
            leastpriv::report::pull::summary(&outcome.pulled).trim_end()
        );
        a.input.snapshot = Some(dir);
        if a.input.since.is_none() {
            a.input.since = Some(
                chrono::DateTime::from_timestamp(since, 0)
                    .unwrap_or_default()
                    .to_rfc3339(),
            );
        }
    }
    let mut result = audit(&a.input, a.save_activity)?;
    if let Some(path) = &a.baseline {
        let b = leastpriv::baseline::Baseline::load(path)?;
        let today = chrono::DateTime::from_timestamp(result.generated_at, 0)
            .map(|d| d.date_naive())
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        result.apply_baseline(b, today);
        if let Some((b, applied)) = &result.baseline {
            for note in applied.notes(b, &result.findings) {
                // Acceptances are expected; expired, reopened and
                // unused entries need someone's attention.
                if note.starts_with("accepted:") {
                    log::info!("baseline: {note}");
                } else {
                    log::warn!("baseline: {note}");
                }
            }
        }
    }
    timed("write the report", || -> Result<()> {
        let text = match a.format {
            Format::Csv | Format::Parquet => {
                use leastpriv::report::frames;
                let parquet = a.format == Format::Parquet;
                if parquet && a.output.is_none() {
                    anyhow::bail!("`--format parquet` needs `--output FILE`");
                }
                let mut df = frames::principal_actions(&result)?;
                let bytes = if parquet {
                    frames::parquet(&mut df)?
                } else {
                    frames::csv(&mut df)?
                };
                emit_bytes(&bytes, a.output.as_deref()).context("writing the report")?;
                // An organization's per-account summary: a file of its own
                // beside the export (one table per file).
                if let Some(mut accounts) = frames::accounts(&result)? {
                    match a.output.as_deref() {
                        Some(out) => {
                            let path = frames::accounts_path(out);
                            let bytes = if parquet {
                                frames::parquet(&mut accounts)?
                            } else {
                                frames::csv(&mut accounts)?
                            };
                            emit_bytes(&bytes, Some(&path)).with_context(|| {
                                format!("writing the accounts summary `{}`", path.display())
                            })?;
                            log::info!("per-account summary: {}", path.display());
                        }
                        None => log::warn!(
                            "the per-account summary of an organization is written beside \
                             `--output FILE` (FILE.accounts.csv); standard output holds the \
                             principal × action rows only"
                        ),
                    }
                }
                String::new()
            }
            Format::Json => {
                if a.json_schema.is_none() {
                    suggest_v2(&result);
                }
                emit_with(a.output.as_deref(), |w| {
                    leastpriv::report::json::write(&result, schema, w)
                })
                .context("writing the report")?;
                String::new()
            }
            Format::Markdown => leastpriv::report::markdown::render(&result),
            Format::Html => leastpriv::report::html::render(&result),
            Format::Sarif => {
                // Read again only for SARIF, to place results at their
                // statements; unreadable now, the results stay at line 1.
                let iam = std::fs::read_to_string(&result.inputs.iam).ok();
                leastpriv::report::sarif::render(&result, iam.as_deref())
            }
            Format::Table => {
                let width = a.width.unwrap_or_else(|| {
                    if std::io::stdout().is_terminal() {
                        terminal_width().unwrap_or(160)
                    } else {
                        160
                    }
                });
                // Streamed: an organization's table is tens of megabytes.
                emit_with(a.output.as_deref(), |w| {
                    leastpriv::report::table::write(&result, width, w)
                })
                .context("writing the report")?;
                String::new()
            }
        };
        if !matches!(
            a.format,
            Format::Csv | Format::Parquet | Format::Json | Format::Table
        ) {
            emit(&text, a.output.as_deref()).context("writing the report")?;
        }
        Ok(())
    })?;
    let failing = a
        .fail_on
        .map(leastpriv::rules::Severity::from)
        .is_some_and(|min| result.active_findings().iter().any(|f| f.severity >= min));
    // The process ends here: freeing every principal's sets, lists and
    // findings one by one took 5% of a 10,000-principal audit (perf),
    // and the operating system reclaims the memory at once anyway.
    std::mem::forget(result);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

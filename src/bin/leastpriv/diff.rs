//! `leastpriv diff`: the drift between two reports or exports.

use crate::cli::SeverityArg;
use crate::emit::emit;
use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// The earlier `leastpriv audit --format json` report, or a `--format
    /// parquet|csv` export (permissions only: findings are then not compared).
    pub old: PathBuf,
    /// The later report or export.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit with 1 when a new or changed finding has at least this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
}

/// The formats `diff` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    Table,
    /// The `leastpriv.diff/v1` document.
    Json,
}

pub fn run(d: Args) -> Result<ExitCode> {
    let drift = leastpriv::drift::diff(&d.old, &d.new)?;
    let text = match d.format {
        Format::Json => leastpriv::drift::report::json::render(&drift),
        Format::Table => leastpriv::drift::report::text::render(&drift),
    };
    emit(&text, None)?;
    let failing = d
        .fail_on
        .map(leastpriv::rules::Severity::from)
        .is_some_and(|min| drift.worsened(min));
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

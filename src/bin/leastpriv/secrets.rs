//! `leastpriv secrets`: for every secret, parameter and key, who can read
//! it, who did, and who was refused.

use crate::cli::InputArgs;
use crate::emit::emit;
use crate::input::audit;
use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The formats `secrets` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Table,
    /// The `leastpriv.secrets/v1` document.
    Json,
}

pub fn run(sa: Args) -> Result<ExitCode> {
    let result = audit(&sa.input, false)?;
    let view = leastpriv::secrets::build(&result);
    let text = match sa.format {
        Format::Json => leastpriv::report::secrets::json(&view),
        Format::Table => leastpriv::report::secrets::table(&view),
    };
    emit(&text, sa.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

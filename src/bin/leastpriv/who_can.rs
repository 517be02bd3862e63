//! `leastpriv who-can`: for one resource, every principal allowed to act on
//! it (in this account or another), with the conditions and the deciding
//! statements, and who did it or was refused in the window.

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
    /// The resource's ARN (a secret, key, bucket, object, queue, role, ...).
    #[arg(long, value_name = "ARN")]
    pub resource: String,
    /// Actions (or patterns) to ask about; repeat for several. Default:
    /// every action that can name the resource.
    #[arg(long = "action", value_name = "ACTION")]
    pub actions: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The formats `who-can` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Table,
    /// The `leastpriv.who-can/v1` document.
    Json,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let result = audit(&a.input, false)?;
    let actions = leastpriv::who_can::resolve_actions(result.catalog, &a.actions, &a.resource)?;
    let view = leastpriv::who_can::build(&result, &a.resource, &actions)?;
    let text = match a.format {
        Format::Json => leastpriv::report::who_can::json(&view),
        Format::Table => leastpriv::report::who_can::table(&view),
    };
    emit(&text, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

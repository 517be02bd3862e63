//! `leastpriv catalog`: the embedded AWS action catalog, or a lookup in it.

use crate::emit::emit;
use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// An action or wildcard pattern to look up (e.g. `s3:Get*`, `*:PassRole`).
    pub pattern: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The formats `catalog` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text for people.
    Table,
    /// JSON for programs.
    Json,
}

pub fn run(c: Args) -> Result<ExitCode> {
    let cat = leastpriv::catalog::Catalog::embedded();
    let json = match c.format {
        Format::Json => true,
        Format::Table => false,
    };
    match c.pattern {
        None => emit(&leastpriv::report::catalog::summary(cat, json), None)?,
        Some(p) => {
            let (text, n) = leastpriv::report::catalog::lookup(cat, &p, json);
            emit(&text, None)?;
            if n == 0 {
                anyhow::bail!("no catalog action matches `{p}`");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `leastpriv rules`: the rule registry (`--format markdown` writes
//! docs/rules.md).

use crate::emit::emit;
use anyhow::Result;
use clap::Args as ClapArgs;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
}

pub fn run(r: Args) -> Result<ExitCode> {
    let text = match r.format {
        Format::Markdown => leastpriv::rules::docs_markdown(),
        Format::Table => leastpriv::rules::REGISTRY
            .iter()
            .map(|r| {
                let m = r.meta();
                format!(
                    "{:<32} {:<9} {}\n",
                    m.id,
                    m.default_severity.as_str(),
                    m.title
                )
            })
            .collect(),
    };
    emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

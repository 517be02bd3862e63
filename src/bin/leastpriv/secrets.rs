//! `leastpriv secrets`: for every secret, parameter and key, who can read
//! it, who did, and who was refused.

use crate::cli::{Format, InputArgs, OutputArgs};
use crate::emit::emit;
use crate::input::audit;
use anyhow::Result;
use clap::Args as ClapArgs;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(sa: Args) -> Result<ExitCode> {
    let result = audit(&sa.input, false)?;
    let view = leastpriv::secrets::build(&result);
    let text = match sa.out.format {
        Format::Json => leastpriv::report::secrets::json(&view),
        Format::Table => leastpriv::report::secrets::table(&view),
        other => {
            anyhow::bail!("`--format {other:?}` is not available for `secrets`: use table or json")
        }
    };
    emit(&text, sa.out.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

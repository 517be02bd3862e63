//! `leastpriv explain`: why one principal is granted each action, and the
//! evidence of use.

use crate::cli::InputArgs;
use crate::emit::emit;
use crate::input::inputs;
use anyhow::Result;
use clap::Args as ClapArgs;
use leastpriv::audit;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Principal name or ARN.
    #[arg(long, short)]
    pub principal: String,
    /// An action (or pattern) to explain; without it, a summary of the principal.
    #[arg(long, short)]
    pub action: Option<String>,
}

pub fn run(e: Args) -> Result<ExitCode> {
    let (paths, opts) = inputs(&e.input)?;
    let result = audit::run(&paths, &opts)?;
    let text = leastpriv::report::explain::render(&result, &e.principal, e.action.as_deref())?;
    emit(&text, None)?;
    Ok(ExitCode::SUCCESS)
}

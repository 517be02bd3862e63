//! `leastpriv completions SHELL`: a shell completion script.

use crate::cli::Cli;
use crate::emit::emit;
use anyhow::Result;
use std::process::ExitCode;

pub fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "leastpriv", &mut out);
    emit(&String::from_utf8_lossy(&out), None)?;
    Ok(ExitCode::SUCCESS)
}

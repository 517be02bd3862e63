//! `leastpriv man`: the man page (roff).

use crate::cli::Cli;
use crate::emit::emit;
use anyhow::Result;
use std::process::ExitCode;

pub fn run() -> Result<ExitCode> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    emit(&String::from_utf8_lossy(&out), None)?;
    Ok(ExitCode::SUCCESS)
}

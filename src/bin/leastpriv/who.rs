//! `leastpriv who SNAPSHOT IDENTITY`: one identity (a person's user name
//! or e-mail, a role, an agent) across the audited accounts: what it did,
//! was refused and can do, and the session chains behind it.

use crate::cli::InputArgs;
use crate::emit::emit;
use crate::input::audit_with;
use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Who: an Identity Center user name or e-mail, an IAM user or role
    /// (name or ARN), or a SAML/OIDC subject or source identity.
    // Optional for clap only (a required positional cannot follow the
    // optional SNAPSHOT): its absence is a usage error below.
    #[arg(value_name = "IDENTITY")]
    pub identity: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The formats `who` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Table,
    /// The `leastpriv.who/v1` document.
    Json,
}

pub fn run(mut a: Args) -> Result<ExitCode> {
    let Some(identity) = a.identity.clone() else {
        anyhow::bail!("`who` needs an IDENTITY: `leastpriv who SNAPSHOT IDENTITY`");
    };
    // The chains come from the log records: the activity store keeps none
    // (an account pulled with `--athena` has no log files, and its store's
    // `sessions.json` holds its chains).
    a.input.reread_logs = true;
    let (result, _) = audit_with(&a.input, |o| o.every_session = true)?;
    let view = leastpriv::who::who(&result, &identity)?;
    let text = match a.format {
        Format::Json => leastpriv::report::who::json(result.catalog, &view),
        Format::Table => leastpriv::report::who::table(result.catalog, &view),
    };
    emit(&text, a.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

//! The `leastpriv` binary: parse the command line, call the library, map the
//! outcome to an exit code (0 clean, 1 findings at or above `--fail-on`,
//! 2 usage, configuration or input error).
//!
//! A thin dispatcher: one module per subcommand, each with its clap
//! arguments and its `run`; `cli` holds the command line and the argument
//! groups several commands share. Only the binary prints and exits.
#![forbid(unsafe_code)]

mod alerts;
mod audit;
mod catalog;
mod cli;
mod completions;
mod diff;
mod emit;
mod explain;
mod input;
mod man;
mod progress;
mod pull;
mod recommend;
mod rules;
mod secrets;
mod who;
mod who_can;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

// Ingestion allocates per file and per record from two threads; glibc's
// allocator spent a third of the time in its own bookkeeping (perf).
// `--features system-allocator` keeps glibc's, which heap profilers
// (heaptrack, massif) can see.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Library errors already name their cause; print each cause once.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    progress::init(cli.quiet, cli.verbose);
    match cli.command {
        Command::Audit(a) => audit::run(a),
        Command::Pull(p) => pull::run(p),
        Command::Catalog(c) => catalog::run(c),
        Command::Explain(e) => explain::run(e),
        Command::Secrets(s) => secrets::run(s),
        Command::WhoCan(w) => who_can::run(w),
        Command::Who(w) => who::run(w),
        Command::Recommend(r) => recommend::run(r),
        Command::Alerts(a) => alerts::run(a),
        Command::Diff(d) => diff::run(d),
        Command::Completions { shell } => completions::run(shell),
        Command::Man => man::run(),
        Command::Rules(r) => rules::run(r),
    }
}

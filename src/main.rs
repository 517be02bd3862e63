//! The `leastpriv` binary: parse the command line, call the library, map the
//! outcome to an exit code (0 clean, 1 findings at or above `--fail-on`,
//! 2 usage, configuration or input error).

mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, Format};
use leastpriv::audit::{self, AuditOptions};
use leastpriv::catalog::Catalog;
use leastpriv::config::{RuleSet, Settings};
use leastpriv::ingest::snapshot::{Overrides, SnapshotPaths};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

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

fn emit(text: &str, output: Option<&std::path::Path>) -> Result<()> {
    match output {
        Some(p) => leastpriv::output::write_atomic(p, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            if let Err(e) = out.write_all(text.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

/// Settings from `--config`, or `./leastpriv.yaml` when present, and the rules.
fn rules(i: &cli::InputArgs) -> Result<(Settings, RuleSet)> {
    let default = std::path::Path::new("leastpriv.yaml");
    let settings = match (&i.config, default.exists()) {
        (Some(p), _) => Settings::load(p)?,
        (None, true) => Settings::load(default)?,
        (None, false) => Settings::default(),
    };
    let dir = i.rules.clone().or_else(|| settings.rules.clone());
    let rules = RuleSet::load(Catalog::embedded(), dir.as_deref(), &settings)?;
    Ok((settings, rules))
}

fn audit(i: &cli::InputArgs) -> Result<leastpriv::audit::Audit> {
    let (paths, opts) = inputs(i)?;
    let (settings, rules) = rules(i)?;
    let result = audit::run_with(Catalog::embedded(), &rules, &settings, &paths, &opts)?;
    for p in &result.problems {
        eprintln!("warning: skipped {p}");
    }
    Ok(result)
}

fn inputs(i: &cli::InputArgs) -> Result<(SnapshotPaths, AuditOptions)> {
    let paths = SnapshotPaths::resolve(
        i.snapshot.as_deref(),
        &Overrides {
            iam: i.iam.clone(),
            credential_report: i.credential_report.clone(),
            trails: i.trails.clone(),
            cloudtrail: i.cloudtrail.clone(),
        },
    )?;
    let since = i
        .since
        .as_deref()
        .map(|s| cli::parse_time(s, false))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let until = i
        .until
        .as_deref()
        .map(|s| cli::parse_time(s, true))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    Ok((
        paths,
        AuditOptions {
            since,
            until,
            now: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.parse().ok()),
        },
    ))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Audit(a) => {
            let result = audit(&a.input)?;
            let text = match a.out.format {
                Format::Json => leastpriv::report::json::render(&result),
                Format::Table => {
                    let width = a.width.unwrap_or_else(|| {
                        if std::io::stdout().is_terminal() {
                            terminal_width().unwrap_or(160)
                        } else {
                            160
                        }
                    });
                    leastpriv::report::table::render(&result, width)
                }
            };
            emit(&text, a.out.output.as_deref()).context("writing the report")?;
            let failing = a
                .fail_on
                .map(leastpriv::rules::Severity::from)
                .is_some_and(|min| result.findings.iter().any(|f| f.severity >= min));
            Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Catalog(c) => {
            let cat = leastpriv::catalog::Catalog::embedded();
            let json = c.format == Format::Json;
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
        Command::Explain(e) => {
            let (paths, opts) = inputs(&e.input)?;
            let result = audit::run(&paths, &opts)?;
            let text =
                leastpriv::report::explain::render(&result, &e.principal, e.action.as_deref())?;
            emit(&text, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Secrets(sa) => {
            let result = audit(&sa.input)?;
            let view = leastpriv::secrets::build(&result);
            let text = match sa.out.format {
                Format::Json => leastpriv::report::secrets::json(&view),
                Format::Table => leastpriv::report::secrets::table(&view),
            };
            emit(&text, sa.out.output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(r) => {
            let text = match r.format {
                cli::RulesFormat::Markdown => leastpriv::rules::docs_markdown(),
                cli::RulesFormat::Table => leastpriv::rules::REGISTRY
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
    }
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

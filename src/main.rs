//! The `leastpriv` binary: parse the command line, call the library, map the
//! outcome to an exit code (0 clean, 1 findings at or above `--fail-on`,
//! 2 usage, configuration or input error).
#![forbid(unsafe_code)]

mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, Format};
use leastpriv::audit::{self, AuditOptions};
use leastpriv::catalog::Catalog;
use leastpriv::config::Settings;
use leastpriv::ingest::snapshot::{Overrides, SnapshotPaths};
use leastpriv::progress::timed;
use leastpriv::rules::files::RuleFiles;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

// Ingestion allocates per file and per record from two threads; glibc's
// allocator spent a third of the time in its own bookkeeping (perf).
// `--features system-allocator` keeps glibc's, which heap profilers
// (heaptrack, massif) can see.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Names listed in a v1 report above which `--json-schema v2` is suggested:
/// about 30 MB of report text.
const V1_NAMES_NOTE: usize = 1_000_000;

/// A note on standard error when a v1 report (the default) lists more
/// action names than anyone reads: v2 writes the same sets by service.
fn suggest_v2(result: &leastpriv::audit::Audit) {
    let names: usize = result
        .principals
        .iter()
        // Unobservable actions are listed twice: alone and by reason.
        .map(|p| p.audit.unused().len() + 2 * p.audit.unobservable().len())
        .sum();
    if names > V1_NAMES_NOTE {
        log::warn!(
            "the report lists {names} unused and unobservable action names one by one; \
             `--json-schema v2` groups them by service (a fraction of the size, and \
             `leastpriv diff` reads both); `--json-schema v1` keeps this format without this note"
        );
    }
}

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
    emit_bytes(text.as_bytes(), output)
}

/// Streams a report to `output` (atomically) or standard output.
fn emit_with(
    output: Option<&std::path::Path>,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => leastpriv::output::write_atomic_with(p, fill)?,
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let r = fill(&mut out).and_then(|()| out.flush());
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            if let Err(e) = r {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

fn emit_bytes(bytes: &[u8], output: Option<&std::path::Path>) -> Result<()> {
    match output {
        Some(p) => leastpriv::output::write_atomic(p, bytes)?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            if let Err(e) = out.write_all(bytes) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(())
}

/// Settings from `--config`, or `./leastpriv.yaml` when present, and the rules.
fn rules(i: &cli::InputArgs) -> Result<(Settings, RuleFiles)> {
    let default = std::path::Path::new("leastpriv.yaml");
    let settings = match (&i.config, default.exists()) {
        (Some(p), _) => Settings::load(p)?,
        (None, true) => Settings::load(default)?,
        (None, false) => Settings::default(),
    };
    let dir = i.rules.clone().or_else(|| settings.rules.clone());
    let cat = timed("load catalog", Catalog::embedded);
    let rules = timed("load rules", || {
        RuleFiles::load(cat, dir.as_deref(), &settings)
    })?;
    Ok((settings, rules))
}

fn audit(i: &cli::InputArgs, save_activity: bool) -> Result<leastpriv::audit::Audit> {
    let (paths, mut opts) = inputs(i)?;
    opts.save_activity = save_activity;
    let (settings, rules) = rules(i)?;
    let result = audit::run_with(Catalog::embedded(), &rules, &settings, &paths, &opts)?;
    for p in &result.problems {
        log::warn!("skipped {p}");
    }
    if i.strict && !result.problems.is_empty() {
        anyhow::bail!(
            "--strict: {} input problem(s), the first: {}",
            result.problems.len(),
            result.problems[0]
        );
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
            progress: progress(),
            save_activity: false,
            reread_logs: i.reread_logs,
        },
    ))
}

/// Whether progress bars may be drawn: set once from `--quiet`.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Bars on stderr when it is a terminal and `--quiet` is off; indicatif
/// itself draws nothing when stderr is not a terminal.
fn progress() -> leastpriv::progress::ProgressHandle {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return Default::default();
    }
    leastpriv::progress::ProgressHandle::new(std::sync::Arc::new(Bars::default()))
}

/// indicatif behind the library's `Progress`.
#[derive(Default)]
struct Bars {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl leastpriv::progress::Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        // An unknown total (pages still to come) gets a counter, not a bar.
        let (bar, template) = if total == 0 {
            (
                indicatif::ProgressBar::new_spinner(),
                "{msg:>26} {spinner} {pos} ({per_sec})",
            )
        } else {
            (
                indicatif::ProgressBar::new(total),
                "{msg:>26} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
            )
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(stage.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn start_bytes(&self, stage: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg:>26} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(stage.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(bar) = b.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Info,
        (false, _) => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .format(|buf, record| {
            let level = match record.level() {
                log::Level::Error => "error",
                log::Level::Warn => "warning",
                log::Level::Info => "info",
                log::Level::Debug => "debug",
                log::Level::Trace => "trace",
            };
            writeln!(buf, "{level}: {}", record.args())
        })
        .target(env_logger::Target::Stderr)
        .init();
    match cli.command {
        Command::Pull(p) => {
            let (since, until) = pull_window(p.since.as_deref(), p.until.as_deref())?;
            let outcome = pull(&p.aws, p.out, since, until)?;
            emit(&leastpriv::report::pull::summary(&outcome.pulled), None)?;
            if !outcome.failed.is_empty() {
                anyhow::bail!(
                    "{} of {} account(s) could not be pulled: {}",
                    outcome.failed.len(),
                    outcome.failed.len() + outcome.pulled.len(),
                    outcome
                        .failed
                        .iter()
                        .map(|(role, why)| format!("{role}: {why}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
            let gaps: usize = outcome
                .pulled
                .iter()
                .map(|s| s.manifest.problems.len())
                .sum();
            if p.strict && gaps > 0 {
                anyhow::bail!(
                    "--strict: {gaps} part(s) of the account could not be read (see the manifest)"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(mut a) => {
            let schema = match (a.json_schema, a.out.format) {
                (None, _) => leastpriv::report::json::Schema::V1,
                (Some(s), Format::Json) => s.into(),
                (Some(_), other) => anyhow::bail!(
                    "`--json-schema` applies to `--format json`, not `--format {}`",
                    format!("{other:?}").to_lowercase()
                ),
            };
            // Kept alive until the audit is done when --live pulls into a
            // temporary directory.
            let mut _live_dir = None;
            if a.live {
                if a.aws.assume_roles.len() > 1 {
                    anyhow::bail!(
                        "`audit --live` audits one account: pull several with `leastpriv pull --out DIR`, then audit each DIR/ACCOUNT_ID"
                    );
                }
                let (since, until) =
                    pull_window(a.input.since.as_deref(), a.input.until.as_deref())?;
                let dir = match &a.snapshot_dir {
                    Some(d) => d.clone(),
                    None => {
                        let t = tempfile::Builder::new()
                            .prefix("leastpriv-live-")
                            .tempdir()?;
                        let d = t.path().join("snapshot");
                        _live_dir = Some(t);
                        d
                    }
                };
                let outcome = pull(&a.aws, dir.clone(), since, until)?;
                log::info!(
                    "{}",
                    leastpriv::report::pull::summary(&outcome.pulled).trim_end()
                );
                a.input.snapshot = Some(dir);
                if a.input.since.is_none() {
                    a.input.since = Some(
                        chrono::DateTime::from_timestamp(since, 0)
                            .unwrap_or_default()
                            .to_rfc3339(),
                    );
                }
            }
            let mut result = audit(&a.input, a.save_activity)?;
            if let Some(path) = &a.baseline {
                let b = leastpriv::baseline::Baseline::load(path)?;
                let today = chrono::DateTime::from_timestamp(result.generated_at, 0)
                    .map(|d| d.date_naive())
                    .unwrap_or_else(|| chrono::Utc::now().date_naive());
                result.apply_baseline(b, today);
                if let Some((b, applied)) = &result.baseline {
                    for note in applied.notes(b, &result.findings) {
                        // Acceptances are expected; expired, reopened and
                        // unused entries need someone's attention.
                        if note.starts_with("accepted:") {
                            log::info!("baseline: {note}");
                        } else {
                            log::warn!("baseline: {note}");
                        }
                    }
                }
            }
            timed("write the report", || -> Result<()> {
                let text = match a.out.format {
                    Format::Csv | Format::Parquet => {
                        use leastpriv::report::frames;
                        let parquet = a.out.format == Format::Parquet;
                        if parquet && a.out.output.is_none() {
                            anyhow::bail!("`--format parquet` needs `--output FILE`");
                        }
                        let mut df = frames::principal_actions(&result)?;
                        let bytes = if parquet {
                            frames::parquet(&mut df)?
                        } else {
                            frames::csv(&mut df)?
                        };
                        emit_bytes(&bytes, a.out.output.as_deref())
                            .context("writing the report")?;
                        String::new()
                    }
                    Format::Json => {
                        if a.json_schema.is_none() {
                            suggest_v2(&result);
                        }
                        emit_with(a.out.output.as_deref(), |w| {
                            leastpriv::report::json::write(&result, schema, w)
                        })
                        .context("writing the report")?;
                        String::new()
                    }
                    Format::Markdown => leastpriv::report::markdown::render(&result),
                    Format::Html => leastpriv::report::html::render(&result),
                    Format::Sarif => leastpriv::report::sarif::render(&result),
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
                if !matches!(a.out.format, Format::Csv | Format::Parquet | Format::Json) {
                    emit(&text, a.out.output.as_deref()).context("writing the report")?;
                }
                Ok(())
            })?;
            let failing = a
                .fail_on
                .map(leastpriv::rules::Severity::from)
                .is_some_and(|min| result.active_findings().iter().any(|f| f.severity >= min));
            // The process ends here: freeing every principal's sets, lists and
            // findings one by one took 5% of a 10,000-principal audit (perf),
            // and the operating system reclaims the memory at once anyway.
            std::mem::forget(result);
            Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Catalog(c) => {
            let cat = leastpriv::catalog::Catalog::embedded();
            let json = match c.format {
                Format::Json => true,
                Format::Table => false,
                other => anyhow::bail!(
                    "`--format {other:?}` is not available for `catalog`: use table or json"
                ),
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
        Command::Explain(e) => {
            let (paths, opts) = inputs(&e.input)?;
            let result = audit::run(&paths, &opts)?;
            let text =
                leastpriv::report::explain::render(&result, &e.principal, e.action.as_deref())?;
            emit(&text, None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Secrets(sa) => {
            let result = audit(&sa.input, false)?;
            let view = leastpriv::secrets::build(&result);
            let text = match sa.out.format {
                Format::Json => leastpriv::report::secrets::json(&view),
                Format::Table => leastpriv::report::secrets::table(&view),
                other => anyhow::bail!(
                    "`--format {other:?}` is not available for `secrets`: use table or json"
                ),
            };
            emit(&text, sa.out.output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Recommend(r) => {
            let result = audit(&r.input, false)?;
            let recs = timed("recommend", || leastpriv::recommend::recommend(&result));
            for rec in &recs {
                for w in &rec.warnings {
                    log::warn!("{}: {w}", rec.name);
                }
            }
            let Some(dir) = &r.out else {
                // clap requires `--out` without `--format`, and json is the
                // only format.
                timed("write recommendations", || {
                    emit_with(r.output.as_deref(), |out| {
                        leastpriv::report::recommendations::write(&result, &recs, out)
                    })
                })?;
                // As for `audit`: the process ends, and the memory goes with it.
                std::mem::forget((result, recs));
                return Ok(ExitCode::SUCCESS);
            };
            let files = timed("write recommendations", || {
                leastpriv::recommend::write_all(&recs, dir)
            })?;
            let unchanged = files
                .iter()
                .filter(|(_, f)| *f == leastpriv::output::Fate::Unchanged)
                .count();
            let mut text = format!(
                "{} recommendation(s), {} file(s) under {}: {} written, {unchanged} unchanged\n",
                recs.len(),
                files.len(),
                dir.display(),
                files.len() - unchanged,
            );
            for (p, fate) in &files {
                let note = match fate {
                    leastpriv::output::Fate::Written => "",
                    leastpriv::output::Fate::Unchanged => " (unchanged)",
                };
                text.push_str(&format!("  {}{note}\n", p.display()));
            }
            emit(&text, None)?;
            std::mem::forget((result, recs));
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff(d) => {
            let drift = leastpriv::drift::diff(&d.old, &d.new)?;
            let text = match d.format {
                Format::Json => leastpriv::drift::report::json::render(&drift),
                Format::Table => leastpriv::drift::report::text::render(&drift),
                other => anyhow::bail!(
                    "`--format {other:?}` is not available for `diff`: use table or json"
                ),
            };
            emit(&text, None)?;
            let failing = d
                .fail_on
                .map(leastpriv::rules::Severity::from)
                .is_some_and(|min| drift.worsened(min));
            Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "leastpriv", &mut out);
            emit(&String::from_utf8_lossy(&out), None)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            emit(&String::from_utf8_lossy(&out), None)?;
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

/// `pull`'s window: the given ends, or the last 90 days (what LookupEvents
/// keeps, and a common review period).
fn pull_window(since: Option<&str>, until: Option<&str>) -> Result<(i64, i64)> {
    let until = match until {
        Some(u) => cli::parse_time(u, true).map_err(anyhow::Error::msg)?,
        None => chrono::Utc::now().timestamp(),
    };
    let since = match since {
        Some(s) => cli::parse_time(s, false).map_err(anyhow::Error::msg)?,
        None => until - 90 * 86_400,
    };
    if since > until {
        anyhow::bail!("--since is after --until");
    }
    Ok((since, until))
}

/// Runs a pull on a tokio runtime; partial failures are warnings (they are
/// also in the snapshot's manifest and the audit's coverage).
fn pull(
    aws: &cli::AwsArgs,
    out: std::path::PathBuf,
    since: i64,
    until: i64,
) -> Result<leastpriv::pull::PullOutcome> {
    let opts = aws.pull_options(out, since, until, progress());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let outcome = rt.block_on(leastpriv::pull::run(&opts))?;
    for s in &outcome.pulled {
        for w in s.manifest.warnings(5) {
            log::warn!("{w}");
        }
    }
    Ok(outcome)
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

//! `leastpriv recommend`: a right-sized policy, a Terraform file and a
//! readable diff per principal, as files or as one JSON document.

use crate::cli::InputArgs;
use crate::emit::{emit, emit_with};
use crate::input::audit;
use anyhow::Result;
use clap::Args as ClapArgs;
use leastpriv::progress::timed;
use leastpriv::recommend::edited::Checked;
use leastpriv::recommend::Recommendation;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory to write role/, user/ and group/ recommendations into:
    /// `NAME.json`, `NAME.tf` and `NAME.diff.md` for each principal
    /// (an organization's under ACCOUNT/; permission sets under
    /// permission-set/NAME/).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present_any = ["format", "check"],
        conflicts_with = "format"
    )]
    pub out: Option<PathBuf>,
    /// Instead of files, every recommendation in one JSON document
    /// (`leastpriv.recommendations/v1`), on standard output or `--output`.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// With `--format`: write the document to FILE (atomically) instead of
    /// standard output.
    #[arg(long, short, value_name = "FILE", requires = "format")]
    pub output: Option<PathBuf>,
    /// Recommend even when no CloudTrail record of the window belongs to the
    /// audited account: every permission would look unused, and be removed.
    #[arg(long)]
    pub allow_empty_evidence: bool,
    /// Also recommend the roles of one name in several accounts together
    /// (StackSets, a shared module): one policy, the union of their use,
    /// under role-group/NAME/, with the differences per account.
    #[arg(long)]
    pub group_by_name: bool,
    /// Exit 1 when a recommendation fails its proof (a used call it would
    /// not allow, an action or resource today's policies do not grant, an
    /// added guardrail that denies a used call), naming which and why on
    /// standard error; 0 when every proof passes. Alone, writes nothing.
    #[arg(long)]
    pub check: bool,
    /// With `--check`: prove the policy files under DIR instead of the
    /// generated documents: the `NAME.json` files `--out DIR` wrote, as a
    /// reviewer edited them (the `.tf` and `.diff.md` are not read). Run
    /// with the snapshot and options that wrote DIR. Exit 1 when a file's
    /// policy fails its proof (each failure on standard error with the
    /// file, the action and the resource); 2 when a file cannot be proved:
    /// invalid JSON (line and column), a document IAM would refuse, a
    /// `.json` file no recommendation is written to. A recommendation
    /// without a file is a warning (its policies stay as they are; with
    /// `--strict`, an error). Writes nothing.
    #[arg(
        long,
        value_name = "DIR",
        requires = "check",
        conflicts_with_all = ["out", "format"]
    )]
    pub policies: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
}

pub fn run(r: Args) -> Result<ExitCode> {
    let result = audit(&r.input, false)?;
    if let (Err(gap), false) = (result.evidence_guard(), r.allow_empty_evidence) {
        anyhow::bail!("refusing to recommend: {gap}; `--allow-empty-evidence` recommends anyway");
    }
    let opts = leastpriv::recommend::Options {
        group_by_name: r.group_by_name,
    };
    let recs = timed("recommend", || {
        leastpriv::recommend::recommend_with(&result, &opts)
    });
    if let Some(dir) = &r.policies {
        // The generated documents' warnings are not about the files.
        let checked = timed("prove policy files", || {
            leastpriv::recommend::edited::check_dir(&result, &recs, &opts, dir)
        })?;
        let status = report_files(&recs, &checked, dir, r.input.strict)?;
        std::mem::forget((result, recs));
        return Ok(status);
    }
    for rec in &recs {
        for w in &rec.warnings {
            log::warn!("{}: {w}", rec.name);
        }
    }
    let failed = failed_proofs(&recs);
    let status = if r.check && failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    if r.check {
        report_failures(&recs);
    }
    let Some(dir) = &r.out else {
        if r.format.is_some() {
            // json is the only format.
            timed("write recommendations", || {
                emit_with(r.output.as_deref(), |out| {
                    leastpriv::report::recommendations::write(&result, &recs, out)
                })
            })?;
        } else {
            // `--check` alone: the verdict, nothing written.
            emit(&format!("{}\n", proof_summary(&recs)), None)?;
        }
        // As for `audit`: the process ends, and the memory goes with it.
        std::mem::forget((result, recs));
        return Ok(status);
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
    text.push_str(&proof_summary(&recs));
    text.push('\n');
    emit(&text, None)?;
    std::mem::forget((result, recs));
    Ok(status)
}

fn failed_proofs(recs: &[Recommendation]) -> usize {
    recs.iter()
        .filter(|r| r.proof.as_ref().is_some_and(|p| !p.passed))
        .count()
}

/// One line: how many proofs passed, failed, or could not be made.
fn proof_summary(recs: &[Recommendation]) -> String {
    let proved = recs.iter().filter(|r| r.proof.is_some()).count();
    let failed = failed_proofs(recs);
    let none = recs.len() - proved;
    let mut line = format!(
        "proof: {} of {} recommendation(s) passed",
        proved - failed,
        recs.len()
    );
    if failed > 0 {
        line.push_str(&format!(
            ", {failed} failed ({})",
            recs.iter()
                .filter(|r| r.proof.as_ref().is_some_and(|p| !p.passed))
                .map(|r| format!("{} `{}`", r.identity_type.as_str(), r.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if none > 0 {
        let units = recs
            .iter()
            .filter(|r| r.proof.is_none() && r.unit.is_some())
            .count();
        let why = match (units, none - units) {
            (_, 0) => "no role of the unit in the audit",
            (0, _) => "principal not in the audit",
            _ => "principals not in the audit",
        };
        line.push_str(&format!(", {none} without proof ({why})"));
    }
    line
}

/// `--check`: each failed proof on standard error, with its failures.
fn report_failures(recs: &[Recommendation]) {
    for r in recs {
        let Some(p) = r.proof.as_ref().filter(|p| !p.passed) else {
            continue;
        };
        eprintln!(
            "proof failed: {} `{}` ({}):",
            r.identity_type.as_str(),
            r.name,
            r.principal
        );
        for f in &p.failures {
            eprintln!(
                "  {} `{}`{}: {}",
                f.kind.as_str(),
                f.action,
                f.resource
                    .as_deref()
                    .map(|x| format!(" on `{x}`"))
                    .unwrap_or_default(),
                f.detail
            );
        }
    }
}

/// `--check --policies DIR`: what could not be proved and each failure on
/// standard error, the summary on standard output; the exit status (2 when
/// a file could not be proved, 1 when one failed its proof, else 0).
fn report_files(
    recs: &[Recommendation],
    checked: &Checked,
    dir: &Path,
    strict: bool,
) -> Result<ExitCode> {
    let rel = |p: &Path| p.strip_prefix(dir).unwrap_or(p).display().to_string();
    for e in &checked.errors {
        eprintln!("error: {e}");
    }
    let mut unproved = 0;
    for f in &checked.files {
        let r = &recs[f.rec];
        let what = match &r.unit {
            Some(u) => u.title(),
            None => format!("{} `{}`", r.identity_type.as_str(), r.name),
        };
        let Some(p) = &f.proof else {
            unproved += 1;
            log::warn!(
                "`{}`: not proved: {what} is not in the audit",
                f.path.display()
            );
            continue;
        };
        for x in p.failures.iter() {
            eprintln!(
                "proof failed: `{}` ({what}): {} `{}`{}: {}",
                f.path.display(),
                x.kind.as_str(),
                x.action,
                x.resource
                    .as_deref()
                    .map(|x| format!(" on `{x}`"))
                    .unwrap_or_default(),
                x.detail
            );
        }
    }
    let missing = &checked.missing;
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|(_, p)| format!("`{}`", rel(p)))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "{} recommendation(s) without a file under `{}`, not checked (their policies stay as they are today): {list}",
            missing.len(),
            dir.display()
        );
        if strict {
            eprintln!("error: --strict: {text}");
        } else {
            log::warn!("{text}");
        }
    }
    let failed: Vec<String> = checked
        .failed()
        .map(|f| format!("`{}`", rel(&f.path)))
        .collect();
    let proved = checked.files.len() - unproved;
    let mut line = format!(
        "proof: {} of {} policy file(s) under {} passed",
        proved - failed.len(),
        checked.files.len(),
        dir.display()
    );
    if !failed.is_empty() {
        line.push_str(&format!(
            ", {} failed ({})",
            failed.len(),
            failed.join(", ")
        ));
    }
    if unproved > 0 {
        line.push_str(&format!(
            ", {unproved} without proof (principal not in the audit)"
        ));
    }
    if !checked.errors.is_empty() {
        line.push_str(&format!(", {} could not be proved", checked.errors.len()));
    }
    if !missing.is_empty() {
        line.push_str(&format!(
            ", {} recommendation(s) without a file",
            missing.len()
        ));
    }
    emit(&format!("{line}\n"), None)?;
    if checked.files.is_empty() && checked.errors.is_empty() {
        anyhow::bail!(
            "no policy file under `{}`: `recommend --out {}` writes role/NAME.json, user/, group/, ACCOUNT/..., permission-set/NAME/, role-group/NAME/",
            dir.display(),
            dir.display()
        );
    }
    Ok(
        if !checked.errors.is_empty() || (strict && !missing.is_empty()) {
            ExitCode::from(2)
        } else if !failed.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

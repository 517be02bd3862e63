//! `leastpriv alerts`: EventBridge rules and CloudWatch Logs metric filters
//! with alarms per principal, as Terraform and raw JSON patterns, written as
//! one set.

use crate::cli::InputArgs;
use crate::emit::emit;
use crate::input::audit_and_rules;
use anyhow::Result;
use clap::Args as ClapArgs;
use leastpriv::progress::timed;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(ClapArgs, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory to write the alerts into: `variables.tf`, `README.md`, and
    /// `TYPE-NAME.tf` and `TYPE-NAME.json` per principal.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write the outside-policy alerts even when no CloudTrail record of the
    /// window belongs to the audited account: the recommended policies then
    /// allow nothing, and those alerts fire on every call. Without it, only
    /// the refused and guardrail alerts are written.
    #[arg(long)]
    pub allow_empty_evidence: bool,
}

pub fn run(a: Args) -> Result<ExitCode> {
    let (result, rules) = audit_and_rules(&a.input, false)?;
    // The guard of `recommend`: on no evidence, no outside-policy alert
    // (it would be made from a policy that allows nothing).
    let refusal = match (result.evidence_guard(), a.allow_empty_evidence) {
        (Err(gap), false) => Some(gap.to_string()),
        _ => None,
    };
    let recs = match refusal {
        Some(_) => Vec::new(),
        None => timed("recommend", || leastpriv::recommend::recommend(&result)),
    };
    let outside = match &refusal {
        Some(gap) => leastpriv::alerts::Outside::NoEvidence(gap),
        None => leastpriv::alerts::Outside::Policies(&recs),
    };
    let all = timed("alerts", || {
        leastpriv::alerts::alerts(&result, outside, &rules.guardrails, &rules.mapper)
    });
    let files = timed("write alerts", || {
        leastpriv::alerts::write_all(&all, &a.out)
    })?;
    let unchanged = files
        .iter()
        .filter(|(_, f)| *f == leastpriv::output::Fate::Unchanged)
        .count();
    let rules_n: usize = all.iter().map(|p| p.rules.len()).sum();
    let filters: usize = all.iter().map(|p| p.filters.len()).sum();
    let mut text = String::new();
    if let Some(gap) = &refusal {
        let msg = format!(
            "refusing to write outside-policy alerts: {gap}; `--allow-empty-evidence` writes them anyway"
        );
        log::warn!("{msg}");
        text.push_str(&format!(
            "{msg}\nwritten without evidence: the refused and guardrail alerts only (they need none)\n"
        ));
    }
    text.push_str(&format!(
        "alerts for {} principal(s): {rules_n} EventBridge rule(s), {filters} metric filter(s); {} file(s) under {}: {} written, {unchanged} unchanged\n",
        all.len(),
        files.len(),
        a.out.display(),
        files.len() - unchanged,
    ));
    if filters > leastpriv::alerts::FILTERS_PER_LOG_GROUP {
        text.push_str(&format!(
            "note: a log group takes at most {} metric filters: see README.md\n",
            leastpriv::alerts::FILTERS_PER_LOG_GROUP
        ));
    }
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

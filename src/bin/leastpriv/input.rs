//! What the commands that read a snapshot share: the settings, the rule
//! files, the inputs and the window from `InputArgs`, and the audit itself.

use crate::cli::{parse_time, InputArgs};
use crate::progress::progress;
use anyhow::Result;
use leastpriv::audit::{self, Audit, AuditOptions};
use leastpriv::catalog::Catalog;
use leastpriv::config::Settings;
use leastpriv::ingest::snapshot::{Overrides, SnapshotPaths};
use leastpriv::progress::timed;
use leastpriv::rules::files::RuleFiles;

/// Settings from `--config`, or `./leastpriv.yaml` when present, and the rules.
pub fn rules(i: &InputArgs) -> Result<(Settings, RuleFiles)> {
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

/// The audit of the inputs, with the configured settings and rules; input
/// problems are warnings, or with `--strict` an error.
pub fn audit(i: &InputArgs, save_activity: bool) -> Result<Audit> {
    audit_and_rules(i, save_activity).map(|(a, _)| a)
}

/// [`audit`], with the rule files it was made with (`alerts` reads the
/// guardrails and the CloudTrail mapping again).
pub fn audit_and_rules(i: &InputArgs, save_activity: bool) -> Result<(Audit, RuleFiles)> {
    audit_with(i, |o| o.save_activity = save_activity)
}

/// [`audit_and_rules`] with the options `adjust` sets (`who` keeps every
/// role session).
pub fn audit_with(
    i: &InputArgs,
    adjust: impl FnOnce(&mut AuditOptions),
) -> Result<(Audit, RuleFiles)> {
    let (paths, mut opts) = inputs(i)?;
    adjust(&mut opts);
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
    if let Some(w) = result.warnings().next() {
        if i.strict {
            anyhow::bail!("--strict: {}", w.text);
        }
        log::warn!("{}", w.text);
    }
    Ok((result, rules))
}

/// The input files and the audit's options (window, time, progress).
pub fn inputs(i: &InputArgs) -> Result<(SnapshotPaths, AuditOptions)> {
    let paths = SnapshotPaths::resolve(
        i.snapshot.as_deref(),
        &Overrides {
            iam: i.iam.clone(),
            credential_report: i.credential_report.clone(),
            trails: i.trails.clone(),
            cloudtrail: i.cloudtrail.clone(),
            organization: i.organization.clone(),
            resource_policies: i.resource_policies.clone(),
            identity_center: i.identity_center.clone(),
            accounts: i.accounts.clone(),
        },
    )?;
    let since = i
        .since
        .as_deref()
        .map(|s| parse_time(s, false))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let until = i
        .until
        .as_deref()
        .map(|s| parse_time(s, true))
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
            every_session: false,
        },
    ))
}

//! What the findings leave out on purpose, and why: AWS service-linked roles
//! (customers cannot edit them, so their findings are reported apart) and
//! the exclusions configured in `leastpriv.yaml` (`exclude:`). Baseline
//! acceptances are the baseline's (`baseline`); reports list all three.
//!
//! Applied once, by the audit, right after the rules; it only moves
//! findings out of the list, never changes one.

use crate::catalog::wildcard_match_case_sensitive;
use crate::config::Exclusion;
use crate::model::Principal;
use crate::rules::Finding;

/// The findings an audit set aside, and why.
#[derive(Clone, Debug, Default)]
pub struct Excluded {
    /// The account's AWS service-linked roles (ARNs, sorted).
    pub service_linked_roles: Vec<String>,
    /// The findings about them: reported apart, never counted for the exit status.
    pub service_linked: Vec<Finding>,
    /// Each configured exclusion with the findings it removed.
    pub configured: Vec<(Exclusion, Vec<Finding>)>,
}

/// A configured exclusion that cannot be right.
#[derive(Debug, thiserror::Error)]
pub enum ExclusionError {
    #[error("configuration `exclude[{index}]`: {message}")]
    Invalid { index: usize, message: String },
}

/// Checks the configured exclusions against the rule registry.
pub fn check(entries: &[Exclusion]) -> Result<(), ExclusionError> {
    for (index, e) in entries.iter().enumerate() {
        let bad = |message: String| ExclusionError::Invalid { index, message };
        if e.reason.trim().is_empty() {
            return Err(bad(
                "`reason` is empty: say why the principal is left out".into()
            ));
        }
        if e.principal.trim().is_empty() {
            return Err(bad("`principal` is empty".into()));
        }
        if let Some(r) = e.rules.iter().find(|r| crate::rules::rule(r).is_none()) {
            return Err(bad(format!(
                "`{r}` is not a rule id (see `leastpriv rules`)"
            )));
        }
    }
    Ok(())
}

/// Sets aside the findings about service-linked roles and those that a
/// configured exclusion covers; returns the findings that remain.
pub fn apply(
    principals: &[&Principal],
    entries: &[Exclusion],
    findings: Vec<Finding>,
) -> (Vec<Finding>, Excluded) {
    let mut service_linked_roles: Vec<String> = principals
        .iter()
        .filter(|p| p.is_service_linked())
        .map(|p| p.arn.clone())
        .collect();
    service_linked_roles.sort();
    let mut out = Excluded {
        service_linked_roles,
        service_linked: Vec::new(),
        configured: entries.iter().map(|e| (e.clone(), Vec::new())).collect(),
    };
    if out.service_linked_roles.is_empty() && entries.is_empty() {
        // Nothing to set aside: the list is not copied (70,000 findings at
        // 10,000 principals, at the audit's peak of memory).
        return (findings, out);
    }
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings {
        if out
            .service_linked_roles
            .binary_search_by(|r| r.as_str().cmp(&f.principal))
            .is_ok()
        {
            out.service_linked.push(f);
            continue;
        }
        // ARNs compare case-sensitively in IAM; the first entry that
        // matches takes the finding.
        let hit = out.configured.iter_mut().find(|(e, _)| {
            wildcard_match_case_sensitive(&e.principal, &f.principal)
                && (e.rules.is_empty() || e.rules.iter().any(|r| r == f.rule))
        });
        match hit {
            Some((_, taken)) => taken.push(f),
            None => kept.push(f),
        }
    }
    (kept, out)
}

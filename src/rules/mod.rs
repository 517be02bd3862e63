//! Findings: classification of principals and the rule registry.
//!
//! Every rule is a small type implementing `Rule`, registered once in
//! `REGISTRY`; ids are kebab-case and never reused. Findings are plain data;
//! renderers decide how to show them.

pub mod classify;
mod denied_attempts;
mod unused_permissions;
mod used_without_grant;

use crate::catalog::Catalog;
use crate::diff::PrincipalAudit;

/// How urgent a finding is. Ordered: `Critical` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// What a rule is, for the registry, `docs/rules.md` and SARIF.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub default_severity: Severity,
    pub rationale: &'static str,
    pub remediation: &'static str,
}

/// One finding, with the evidence that supports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// ARN of the principal the finding is about.
    pub principal: String,
    pub actions: Vec<String>,
    pub message: String,
    /// Facts from the inputs that support the finding (policies, records, counts).
    pub evidence: Vec<String>,
    pub remediation: String,
}

/// What rules may look at besides the principal itself.
pub struct RuleContext<'a> {
    pub catalog: &'a Catalog,
}

/// A check over one audited principal.
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, ctx: &RuleContext, p: &PrincipalAudit, out: &mut Vec<Finding>);
}

/// Every rule, in one explicit list.
pub static REGISTRY: &[&dyn Rule] = &[
    &unused_permissions::UnusedPermissions,
    &denied_attempts::DeniedAttempts,
    &used_without_grant::UsedWithoutGrant,
];

/// Runs every rule over every principal; most urgent first, then by principal.
pub fn evaluate(ctx: &RuleContext, audits: &[PrincipalAudit]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in audits {
        for r in REGISTRY {
            r.check(ctx, p, &mut out);
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.actions.len().cmp(&a.actions.len()))
            .then_with(|| a.principal.cmp(&b.principal))
            .then_with(|| a.rule.cmp(b.rule))
    });
    out
}

/// A rank of how much harm an action can do, from its access levels:
/// permissions management first, then writes, tagging, reads, lists.
pub fn action_weight(cat: &Catalog, id: crate::catalog::ActionId) -> u8 {
    use crate::catalog::AccessLevel::*;
    cat.action(id)
        .access_levels
        .iter()
        .map(|l| match l {
            PermissionsManagement => 5,
            Write => 3,
            Tagging => 2,
            Read => 2,
            List => 1,
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = REGISTRY.iter().map(|r| r.meta().id).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}

use super::{Finding, Rule, RuleContext, RuleMeta, Severity};
use crate::diff::PrincipalAudit;

pub struct DeniedAttempts;

static META: RuleMeta = RuleMeta {
    id: "denied-attempts",
    title: "Attempts that were refused",
    default_severity: Severity::Low,
    rationale: "A principal that tries actions it is not allowed is either misconfigured or probing. Both deserve a look, and a guardrail that held is worth knowing about.",
    remediation: "Check whether the workload needs the action (then grant it narrowly) or whether the attempt is suspicious (then investigate the sessions that made it).",
};

impl Rule for DeniedAttempts {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleContext, p: &PrincipalAudit, out: &mut Vec<Finding>) {
        if p.denied.is_empty() {
            return;
        }
        let cat = ctx.catalog;
        let total: u64 = p.denied.iter().map(|d| d.stats.count).sum();
        out.push(Finding {
            rule: META.id,
            severity: META.default_severity,
            principal: p.principal.arn.clone(),
            actions: p.denied.iter().map(|d| cat.full_name(d.action)).collect(),
            message: format!(
                "`{}` was refused {} time(s) on {} action(s)",
                p.principal.name,
                total,
                p.denied.len()
            ),
            evidence: p
                .denied
                .iter()
                .map(|d| {
                    format!(
                        "{}: {} attempt(s), last {}, error {}",
                        cat.full_name(d.action),
                        d.stats.count,
                        crate::report::time(d.stats.last),
                        d.stats
                            .error_codes
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect(),
            remediation: META.remediation.to_string(),
        });
    }
}

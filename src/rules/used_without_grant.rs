use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};

pub struct UsedWithoutGrant;

static META: RuleMeta = RuleMeta {
    id: "used-without-grant",
    title: "Actions used that the principal's own policies do not grant",
    default_severity: Severity::Info,
    rationale: "A successful call that no identity policy allows came through a resource policy (bucket, key or secret policy), or the policies changed during the window. Either way the principal's access is not fully described by its own policies.",
    remediation: "Find the resource policy that grants the access and review it, or re-run the audit on a snapshot taken at the end of the window.",
};

impl Rule for UsedWithoutGrant {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let p = s.verdicts;
        let ungranted: Vec<_> = p.used.iter().filter(|u| !u.granted).collect();
        if ungranted.is_empty() {
            return;
        }
        let cat = ctx.catalog;
        out.push(Finding {
            rule: META.id,
            severity: META.default_severity,
            score: 0.0,
            kind: s.kind,
            principal: p.principal.arn.clone(),
            actions: ungranted.iter().map(|u| u.action).collect(),
            message: format!(
                "`{}` used {} action(s) that its identity policies do not grant",
                p.principal.name,
                ungranted.len()
            ),
            evidence: ungranted
                .iter()
                .map(|u| {
                    let via = u.stats.via_suffix();
                    format!(
                        "{}: {} call(s){via}",
                        cat.full_name(u.action),
                        u.stats.count
                    )
                })
                .collect(),
            remediation: META.remediation.into(),
            fix: None,
        });
    }
}

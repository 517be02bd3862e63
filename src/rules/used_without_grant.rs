use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};

pub struct UsedWithoutGrant;

static META: RuleMeta = RuleMeta {
    id: "used-without-grant",
    title: "Actions used that the principal's own policies do not grant",
    default_severity: Severity::Info,
    rationale: "A successful call (or one that passed authorization and then failed) that no identity policy of the principal allows on the resource it named (its ARN, account and Region are matched against each statement's `Resource` and `NotResource`, the boundary and the Deny statements) came through a resource policy (bucket, key, table or secret policy), or the policies changed during the window. Either way the principal's access is not fully described by its own policies. A failure that only probably passed authorization never counts.",
    remediation: "Find the resource policy that grants the access and review it, or re-run the audit on a snapshot taken at the end of the window.",
};

impl Rule for UsedWithoutGrant {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let p = s.verdicts;
        // Uses whose grant decision, for the resources they named, is no or
        // partly (the verdict stage decides which).
        let ungranted: Vec<_> = p
            .used_without_grant()
            .map(|w| {
                let what = if w.failed {
                    "authorized call(s) that then failed"
                } else {
                    "call(s)"
                };
                (w.action, w.stats, w.grant, what)
            })
            .collect();
        if ungranted.is_empty() {
            return;
        }
        let cat = ctx.catalog;
        out.push(Finding {
            rule: META.id,
            severity: META.default_severity,
            score: 0.0,
            kind: s.kind,
            principal: p.principal.arn.as_str().into(),
            actions: ungranted.iter().map(|u| u.0).collect(),
            message: format!(
                "`{}` used {} action(s) that its identity policies do not grant",
                p.principal.name,
                ungranted.len()
            ),
            evidence: ungranted
                .iter()
                .map(|(id, stats, grant, what)| {
                    let via = stats.via_suffix();
                    let on = if grant.not_granted.is_empty() {
                        String::new()
                    } else {
                        format!(" on {}", grant.not_granted.join(", "))
                    };
                    format!("{}: {} {what}{on}{via}", cat.full_name(*id), stats.count)
                })
                .collect(),
            remediation: META.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};

/// How many unused actions a finding names; the report's per-principal
/// `unused` list has them all.
const MAX_ACTIONS: usize = 50;

pub struct UnusedPermissions;

static META: RuleMeta = RuleMeta {
    id: "unused-permissions",
    title: "Granted permissions that were never used",
    default_severity: Severity::Low,
    rationale: "Every permission a principal holds but does not use is risk without benefit: if the principal's credentials are stolen, or it is tricked into acting, the attacker gets all of it. Only actions the trails would have recorded are counted, so an unused verdict is evidence, not a guess.",
    remediation: "Remove the unused actions from the principal's policies (`leastpriv recommend` writes the right-sized policy).",
};

impl Rule for UnusedPermissions {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let p = s.verdicts;
        let unused = p.unused().len();
        if unused == 0 {
            return;
        }
        // The categories have their own rules; this one is the long tail,
        // so it stays low unless the tail is large.
        let severity = if unused >= 100 {
            Severity::Medium
        } else {
            Severity::Low
        };
        let ranked = ctx.risk.riskiest_in(p.unused(), MAX_ACTIONS);
        let n = p.counts();
        let used = n.used;
        out.push(Finding {
            rule: META.id,
            severity,
            score: unused as f64 / 1000.0,
            kind: s.kind,
            principal: p.principal.arn.as_str().into(),
            // The riskiest first, capped: the full list is the principal's `unused`.
            actions: ranked.into(),
            message: format!(
                "`{}` is granted {} actions and used {} in the window; {} granted actions that the trails would have recorded were never used",
                p.principal.name,
                p.granted_count(),
                used,
                unused
            ),
            evidence: vec![format!(
                "{} used, {} unused, {} unobservable, {} denied{}",
                used,
                unused,
                n.unobservable,
                n.denied,
                match (n.used_failed, n.attempted) {
                    (0, 0) => String::new(),
                    (f, a) => format!(", {f} used-failed, {a} attempted"),
                }
            )].into(),
            remediation: META.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

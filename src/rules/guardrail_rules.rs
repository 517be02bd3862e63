//! `missing-guardrail` and `guardrail-hit`.

use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::model::Effect;
use crate::model::Kind;
use crate::verdict::outside::OrgRefusal;
use crate::verdict::RefusedBy;
use std::sync::{Arc, Mutex, OnceLock};

/// The Deny statement for one action with no guardrail, built once per
/// action and shared: thousands of refused attempts at scale name the same
/// few actions.
fn explicit_deny(
    cat: &crate::catalog::Catalog,
    id: crate::catalog::ActionId,
) -> Arc<serde_json::Value> {
    static BUILT: OnceLock<Mutex<std::collections::HashMap<String, Arc<serde_json::Value>>>> =
        OnceLock::new();
    let name = cat.name(id);
    // A poisoned lock only means another rule panicked; the map is still valid.
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(st) = built.get(name) {
        return st.clone();
    }
    let st = Arc::new(serde_json::json!({
        "Effect": "Deny",
        "Action": [name],
        "Resource": "*",
        "Sid": "LeastprivExplicitDeny",
    }));
    built.insert(name.to_string(), st.clone());
    st
}

pub struct MissingGuardrail;

static MISSING: RuleMeta = RuleMeta {
    id: "missing-guardrail",
    title: "An expected explicit Deny is missing",
    default_severity: Severity::High,
    rationale: "Least privilege that rests on Allow statements alone breaks the day someone attaches a broader policy. Each kind of principal has actions it must never perform (`rules/guardrails.yaml`): agents never change IAM or mint credentials, workloads never get console passwords. The effective grant still includes such an action and no Deny or boundary stops it.",
    remediation: "Add the Deny statement given in the finding to the principal's policies or, better, to its permissions boundary or an SCP.",
};

impl Rule for MissingGuardrail {
    fn meta(&self) -> &RuleMeta {
        &MISSING
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let cat = ctx.catalog;
        for g in ctx.guardrails.for_kind(s.kind) {
            let mut hit = g.actions.clone();
            hit.intersect_with(&s.verdicts.grants.granted);
            let candidates: Vec<_> = hit
                .iter()
                .filter(|&id| g.reaches_outside(&s.breadth(cat, id).0))
                .filter(|&id| !closed_by_deny(s, g, id))
                .collect();
            // An SCP or RCP Deny that covers the principal is a guardrail too
            // (the usual place for one): those actions are closed, and the
            // finding names the policy.
            let mut by_org: Vec<(crate::catalog::ActionId, String)> = Vec::new();
            let open: Vec<_> = candidates
                .into_iter()
                .filter(
                    |&id| match ctx.org.and_then(|o| closed_by_org(o, cat, s, g, id)) {
                        Some(label) => {
                            by_org.push((id, label));
                            false
                        }
                        None => true,
                    },
                )
                .collect();
            if open.is_empty() {
                continue;
            }
            // Actions of the guardrail an SCP already blocks (so no longer
            // granted): named with the policy that blocks them.
            if let (Some(org), Some(og)) = (ctx.org, s.verdicts.grants.org.as_ref()) {
                if let crate::policy::organization::Applies::Yes(d) = &og.scp {
                    let mut blocked = g.actions.clone();
                    blocked.intersect_with(&s.verdicts.grants.blocked_by_org);
                    for id in blocked.iter() {
                        let label = d
                            .reasons(org, id)
                            .into_iter()
                            .find_map(|r| match r.what {
                                crate::policy::organization::OrgReasonKind::Statement {
                                    policy_id,
                                    policy_name,
                                    statement,
                                    effect: Effect::Deny,
                                    certain: true,
                                } => Some(format!(
                                    "SCP `{policy_name}` ({policy_id}), statement {statement}"
                                )),
                                _ => None,
                            })
                            .unwrap_or_else(|| "the organization's SCPs".to_string());
                        by_org.push((id, label));
                    }
                }
            }
            let severity = match s.kind {
                Kind::Agent => Severity::High,
                Kind::Npe => Severity::Medium,
                Kind::Human => Severity::Low,
            };
            let used = open.iter().filter(|id| s.verdict(**id).is_use()).count();
            let mut evidence: Vec<String> = open
                .iter()
                .take(8)
                .map(|&id| {
                    format!(
                        "{} granted on {}",
                        cat.full_name(id),
                        s.breadth(cat, id).0.join(", ")
                    )
                })
                .collect();
            if open.len() > 8 {
                evidence.push(format!("... and {} more", open.len() - 8));
            }
            if used > 0 {
                evidence.push(format!(
                    "{used} of them used in the window: check the workload before denying"
                ));
            }
            let mut labels: Vec<&String> = by_org.iter().map(|(_, l)| l).collect();
            labels.sort();
            labels.dedup();
            for l in labels {
                let closed: Vec<String> = by_org
                    .iter()
                    .filter(|(_, x)| x == l)
                    .map(|(id, _)| cat.full_name(*id))
                    .collect();
                evidence.push(format!("already denied by {l} for: {}", closed.join(", ")));
            }
            out.push(Finding {
                rule: MISSING.id,
                severity,
                score: ctx.risk.scoring.severity.high + open.len() as f64 / 1000.0,
                principal: s.arn().into(),
                kind: s.kind,
                actions: open.clone().into(),
                message: format!(
                    "{} `{}` lacks guardrail `{}` ({}): {} action(s) granted with no explicit Deny",
                    s.kind.as_str(),
                    s.name(),
                    g.id,
                    g.title,
                    open.len()
                ),
                evidence: evidence.into(),
                remediation: format!(
                    "Add this statement to the boundary or an identity policy of `{}`: {}",
                    s.name(),
                    g.deny_statement()
                )
                .into(),
                fix: Some(g.deny_statement()),
                grants: Vec::new(),
                techniques: Vec::new(),
            });
        }
    }
}

/// The SCP or RCP whose Deny closes the guardrail for `id` on this
/// principal: a Deny whose conditions are known to hold for it (or that has
/// none), on every resource or on all but the guardrail's exceptions. An
/// RCP holds for the resources of member accounts, the principal's own
/// among them.
fn closed_by_org(
    org: &crate::model::Organization,
    cat: &crate::catalog::Catalog,
    s: &Subject,
    g: &crate::rules::guardrails::Guardrail,
    id: crate::catalog::ActionId,
) -> Option<String> {
    use crate::policy::organization::Applies;
    let og = s.verdicts.grants.org.as_ref()?;
    let name = cat.full_name(id);
    for (applies, rcp) in [(&og.scp, false), (&og.rcp, true)] {
        let Applies::Yes(d) = applies else { continue };
        if rcp && crate::policy::organization::rcp_covers(&name, "*").is_err() {
            continue;
        }
        for deny in d.denies(id).into_iter().filter(|d| d.certain) {
            let policy = &org.policies[deny.policy];
            let Some(st) = policy.document.statements.get(deny.statement) else {
                continue;
            };
            if covers_guardrail(&st.resources, g) {
                return Some(format!("{}, statement {}", policy.label(), st.label()));
            }
        }
    }
    None
}

/// Whether a Deny's resource element covers what the guardrail denies.
fn covers_guardrail(
    resources: &crate::model::ResourceSpec,
    g: &crate::rules::guardrails::Guardrail,
) -> bool {
    use crate::model::ResourceSpec;
    use crate::policy::arn_match::pattern_covers;
    match resources {
        ResourceSpec::Resource(r) => r.iter().any(|p| p == "*"),
        ResourceSpec::NotResource(except) => {
            !g.resources_except.is_empty()
                && except
                    .iter()
                    .all(|x| g.resources_except.iter().any(|e| pattern_covers(e, x)))
        }
        ResourceSpec::None => true,
    }
}

/// Whether an unconditional Deny already closes the guardrail for `id`: a
/// Deny on every resource, or a `NotResource` Deny whose exceptions stay
/// within what the guardrail allows (the guardrail's own fix does).
fn closed_by_deny(
    s: &Subject,
    g: &crate::rules::guardrails::Guardrail,
    id: crate::catalog::ActionId,
) -> bool {
    use crate::model::ResourceSpec;
    use crate::policy::arn_match::pattern_covers;
    s.verdicts
        .grants
        .reasons(id)
        .filter(|c| c.effect == Effect::Deny && !c.conditional)
        .filter_map(|c| crate::policy::grants::statement(&s.verdicts.principal, c.at))
        .any(|st| match &st.resources {
            ResourceSpec::Resource(r) => r.iter().any(|p| p == "*"),
            ResourceSpec::NotResource(except) => {
                !g.resources_except.is_empty()
                    && except
                        .iter()
                        .all(|x| g.resources_except.iter().any(|e| pattern_covers(e, x)))
            }
            ResourceSpec::None => true,
        })
}

pub struct GuardrailHit;

static HIT: RuleMeta = RuleMeta {
    id: "guardrail-hit",
    title: "Attempted a denied or not-granted action",
    default_severity: Severity::Medium,
    rationale: "CloudTrail shows the principal tried an action and was refused. The guardrail held, but the attempt is either a misconfigured workload or a principal (or an agent's prompt) probing for more. One finding per principal and action, so CI can alert on new ones.",
    remediation: "Investigate the sessions that made the attempt. If the workload needs the action, grant it narrowly; if not, make the refusal explicit with the Deny statement given.",
};

impl Rule for GuardrailHit {
    fn meta(&self) -> &RuleMeta {
        &HIT
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let cat = ctx.catalog;
        let p = &s.verdicts.principal;
        for d in &s.verdicts.denied {
            let guard = ctx
                .guardrails
                .for_kind(s.kind)
                .find(|g| g.actions.contains(d.action));
            let category = ctx.risk.category(d.action);
            let severity = match (guard, category.map(|c| c.weight)) {
                (Some(_), _) => Severity::High,
                (None, Some(w)) if w >= 90.0 => Severity::Medium,
                _ => Severity::Low,
            };
            let mut evidence = vec![format!(
                "{} refused attempt(s) between {} and {}: {}",
                d.stats.count,
                crate::util::time(d.stats.first),
                crate::util::time(d.stats.last),
                d.stats
                    .error_codes
                    .iter()
                    .map(|(k, v)| format!("{k} ×{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )];
            if !d.stats.resources.is_empty() {
                evidence.push(format!(
                    "on {}",
                    d.stats.resources.iter().collect::<Vec<_>>().join(", ")
                ));
            }
            // Who refused, as the verdict decided it: an explicit Deny of
            // its own, or an SCP or RCP that refuses it, is the explicit
            // guardrail already; anything else gets one.
            let fix = match &d.refused_by {
                Some(RefusedBy::OwnDeny(at)) => {
                    evidence.push(format!(
                        "stopped by explicit Deny in {}",
                        crate::verdict::decide::statement_label(p, *at)
                    ));
                    None
                }
                Some(RefusedBy::Outside(o))
                    if matches!(o.org, Some(OrgRefusal::Blocked(_) | OrgRefusal::Refuses(_))) =>
                {
                    if let Some(r) = &o.org {
                        evidence.push(r.describe());
                    }
                    None
                }
                by => {
                    evidence.push(match by {
                        Some(RefusedBy::Boundary) => "stopped by the permissions boundary".to_string(),
                        Some(RefusedBy::NoGrant) | None => {
                            "not granted (implicit deny): no explicit guardrail".to_string()
                        }
                        Some(RefusedBy::NotResource(at)) => format!(
                            "not granted on the named resource (NotResource in {}): no explicit guardrail",
                            crate::verdict::decide::statement_label(p, *at)
                        ),
                        Some(c @ RefusedBy::ConditionUnmet(_)) => format!(
                            "refused by {}: no explicit guardrail",
                            c.describe(p)
                        ),
                        Some(other) => format!(
                            "granted by the principal's policies: refused by {}",
                            other.describe(p)
                        ),
                    });
                    Some(guard.map_or_else(|| explicit_deny(cat, d.action), |g| g.deny_statement()))
                }
            };
            if let Some(g) = guard {
                evidence.push(format!(
                    "the action is under guardrail `{}` for {}s",
                    g.id,
                    s.kind.as_str()
                ));
            }
            out.push(Finding {
                rule: HIT.id,
                severity,
                score: category.map_or(10.0, |c| c.weight) + d.stats.count as f64 / 1000.0,
                principal: s.arn().into(),
                kind: s.kind,
                actions: vec![d.action].into(),
                message: format!(
                    "{} `{}` attempted `{}` {} time(s) and was refused",
                    s.kind.as_str(),
                    s.name(),
                    cat.full_name(d.action),
                    d.stats.count
                ),
                evidence: evidence.into(),
                remediation: HIT.remediation.into(),
                fix,
                grants: Vec::new(),
                techniques: Vec::new(),
            });
        }
    }
}

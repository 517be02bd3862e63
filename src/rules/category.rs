//! One rule per risk category of `rules/risk.yaml`: what the principal can do
//! in that category, scored so that removable, broad grants to agents rise.

use super::{grant_scope, Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::catalog::ActionId;
use crate::verdict::Verdict;

/// A rule over the grants of one risk category.
pub struct CategoryRule {
    meta: RuleMeta,
    category: &'static str,
    verb: &'static str,
}

pub static SECRETS_ACCESS: CategoryRule = CategoryRule {
    meta: RuleMeta {
        id: "secrets-access",
        title: "Can read secrets",
        default_severity: Severity::High,
        rationale: "Secret values, SecureString parameters and decryption keys unlock everything else: a principal that can read them is as powerful as what they protect. Grants that are never used, reach every secret (`*`), or belong to an agent weigh most. `kms:Decrypt` made by Secrets Manager or SSM on the principal's behalf counts as the principal's use. Public material (certificates, a CA's signing request, public keys: `public_artifacts` in `rules/risk.yaml`) is not a secret.",
        remediation: "Keep only the secrets the principal read in the window, by ARN; remove unused secret access; for agents, add the `agent-secrets-outside-path` guardrail.",
    },
    category: "secrets-access",
    verb: "can read secrets",
};

pub static CREDENTIAL_MINTING: CategoryRule = CategoryRule {
    meta: RuleMeta {
        id: "credential-minting",
        title: "Can mint credentials",
        default_severity: Severity::High,
        rationale: "Creating access keys, login profiles, role sessions or service tokens produces credentials that outlive the policy that allowed them and that the audit of this principal no longer covers.",
        remediation: "Remove credential-minting actions that were not used; scope `sts:AssumeRole` to the role ARNs actually assumed; deny them explicitly for agents.",
    },
    category: "credential-minting",
    verb: "can mint credentials",
};

pub static PRIVILEGE_ESCALATION: CategoryRule = CategoryRule {
    meta: RuleMeta {
        id: "privilege-escalation",
        title: "Can escalate privileges",
        default_severity: Severity::High,
        rationale: "Changing policies, trust or boundaries, or passing a role to compute it creates (`iam:PassRole` with `lambda:CreateFunction`, `ec2:RunInstances`, ...), lets a principal act with more than it was given. The finding names each technique the principal holds (`rules/privesc-techniques.yaml`, with its public write-ups: Rhino Security Labs, pathfinding.cloud, ...) and the statements that grant it. Read-only actions (List, Read) never count; nor do grants that reach only AWS managed policies or service-linked roles, which customers cannot change, nor statements whose conditions can never be true again (a `DateLessThan` on `aws:CurrentTime` that has passed).",
        remediation: "Remove unused policy-changing actions; scope `iam:PassRole` to the role ARNs passed and add an `iam:PassedToService` condition.",
    },
    category: "privilege-escalation",
    verb: "can escalate privileges",
};

pub static DATA_EXFILTRATION: CategoryRule = CategoryRule {
    meta: RuleMeta {
        id: "data-exfiltration",
        title: "Can read or copy data in bulk",
        default_severity: Severity::Medium,
        rationale: "Object reads, table scans, snapshots and exports move data out; on `*` they reach every bucket or table of the account.",
        remediation: "Narrow data reads to the buckets, prefixes and tables used in the window.",
    },
    category: "data-exfiltration",
    verb: "can read or copy data",
};

pub static RESOURCE_EXPOSURE: CategoryRule = CategoryRule {
    meta: RuleMeta {
        id: "resource-exposure",
        title: "Can expose resources",
        default_severity: Severity::Medium,
        rationale: "Changing bucket, key, secret or function policies, sharing snapshots and opening security groups can make a resource public or reachable from other accounts.",
        remediation: "Remove resource-policy changes the principal did not make in the window; route such changes through reviewed infrastructure code.",
    },
    category: "resource-exposure",
    verb: "can expose resources",
};

impl Rule for CategoryRule {
    fn meta(&self) -> &RuleMeta {
        &self.meta
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let Some(cat_risk) = ctx.risk.category_by_id(self.category) else {
            return;
        };
        let cat = ctx.catalog;
        // Five rules per principal: copying each category's set to intersect
        // it was most of the rules' time at 10,000 principals.
        let granted = &s.verdicts.grants.granted;
        // Roles it can assume, one after another, up to one that can change
        // IAM policies or read secrets: escalation even with no such grant.
        let chain = (self.category == "privilege-escalation")
            .then(|| assume_chain(ctx, s))
            .flatten();
        if !cat_risk.actions.intersects(granted) {
            if let Some((lines, certain)) = chain {
                out.push(chain_finding(ctx, s, &self.meta, lines, certain));
            }
            return;
        }
        let escalation = self.category == "privilege-escalation";
        // Grants that can no longer be used (a closed time window) or, for
        // escalation, reach only what customers cannot change, do not count.
        let counted: Vec<ActionId> = cat_risk
            .actions
            .iter_and(granted)
            .filter(|&id| grant_scope::counts(ctx, s, id, escalation))
            .collect();
        if counted.is_empty() {
            if let Some((lines, certain)) = chain {
                out.push(chain_finding(ctx, s, &self.meta, lines, certain));
            }
            return;
        }
        let (exposure, exposure_why) = s.exposure(ctx.risk);
        let mut scored: Vec<(f64, ActionId, Verdict)> = counted
            .iter()
            .map(|&id| {
                let v = s.verdict(id);
                let breadth = s.breadth_only(cat, id);
                (
                    ctx.risk
                        .score(cat_risk.weight, &v, breadth, s.kind, exposure),
                    id,
                    v,
                )
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut score = scored[0].0;
        let mut evidence = Vec::new();
        // PassRole with compute creation is escalation even if each is narrow.
        if escalation {
            if let Some(pr) = ctx
                .risk
                .passrole
                .filter(|id| cat_risk.actions.contains(*id) && counted.contains(id))
            {
                // Only the compute actions whose service the PassRole
                // grants may pass a role to (`iam:PassedToService`), as
                // for the techniques below.
                let compute: Vec<ActionId> = ctx
                    .risk
                    .passrole_compute
                    .iter_and(granted)
                    .filter(|id| {
                        ctx.risk
                            .passrole_compute_services
                            .get(id)
                            .is_none_or(|svc| grant_scope::passes_to(ctx, s, pr, svc))
                    })
                    .collect();
                if !compute.is_empty() {
                    let (res, _) = s.breadth(cat, pr);
                    evidence.push(format!(
                        "iam:PassRole on {} together with {}: can run code as the passed role",
                        res.join(", "),
                        compute
                            .iter()
                            .take(4)
                            .map(|&id| cat.full_name(id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    score = score.max(ctx.risk.scoring.severity.high);
                }
            }
        }
        if let Some((lines, certain)) = chain {
            evidence.extend(lines);
            if certain {
                score = score.max(ctx.risk.scoring.severity.high);
            }
        }
        let mut techniques = Vec::new();
        if escalation {
            // Every action of a technique must be granted and in force, and
            // reach something customers can change.
            let held = |id: ActionId| granted.contains(id) && grant_scope::counts(ctx, s, id, true);
            techniques = ctx.techniques.held(held);
            // A technique that passes a role to a service the PassRole
            // grants exclude (`iam:PassedToService`) is not held.
            if let Some(pr) = ctx.risk.passrole {
                techniques.retain(|t| match &t.passed_to {
                    Some(svc) if t.all_of.contains(&pr) => grant_scope::passes_to(ctx, s, pr, svc),
                    _ => true,
                });
            }
            const SHOWN: usize = 3;
            for t in techniques.iter().take(SHOWN) {
                let actions: Vec<String> = t
                    .actions(held)
                    .iter()
                    .map(|&id| cat.full_name(id))
                    .collect();
                evidence.push(format!(
                    "technique `{}`: {} ({}; documented by {})",
                    t.id,
                    t.name,
                    actions.join(" + "),
                    t.cited(2)
                ));
            }
            if techniques.len() > SHOWN {
                evidence.push(format!(
                    "... and {} more techniques (all in --format json)",
                    techniques.len() - SHOWN
                ));
            }
        }
        let severity = ctx.risk.severity(score);
        let count = |f: fn(&Verdict) -> bool| scored.iter().filter(|x| f(&x.2)).count();
        for (sc, id, v) in scored.iter().take(12) {
            let (res, _) = s.breadth(cat, *id);
            let used = s.verdicts.used.iter().find(|u| u.action == *id);
            let what = match (v, used) {
                (Verdict::Used, Some(u)) => {
                    let via = u.stats.via_suffix().replacen(" via", ", via", 1);
                    format!(
                        "used {}×, last {}{via}",
                        u.stats.count,
                        crate::util::time(u.stats.last)
                    )
                }
                (Verdict::Unobservable(_), _) => "unobservable".to_string(),
                (Verdict::UsedFailed, _) => "used, failed after authorization".to_string(),
                (Verdict::Attempted, _) => "attempted, never successfully".to_string(),
                (Verdict::Denied(by), _) => {
                    format!("refused by {}", by.describe(&s.verdicts.principal))
                }
                _ => "never used".to_string(),
            };
            evidence.push(format!(
                "{} on {} ({what}; score {:.0})",
                cat.full_name(*id),
                res.join(", "),
                sc
            ));
        }
        if scored.len() > 12 {
            evidence.push(format!("... and {} more", scored.len() - 12));
        }
        evidence.extend(exposure_why);
        out.push(Finding {
            rule: self.meta.id,
            severity,
            score,
            principal: s.arn().into(),
            kind: s.kind,
            actions: scored.iter().map(|x| x.1).collect(),
            message: format!(
                "{} `{}` {}: {} action(s), {} used, {} never used, {} unobservable{}",
                s.kind.as_str(),
                s.name(),
                self.verb,
                scored.len(),
                count(|v| matches!(v, Verdict::Used)),
                count(|v| matches!(v, Verdict::Unused)),
                count(|v| matches!(v, Verdict::Unobservable(_))),
                match count(|v| {
                    matches!(
                        v,
                        Verdict::UsedFailed | Verdict::Attempted | Verdict::Denied(_)
                    )
                }) {
                    0 => String::new(),
                    n => format!(", {n} failed, attempted or refused"),
                }
            ),
            evidence: evidence.into(),
            remediation: self.meta.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques,
        });
    }
}

/// The shortest chain of role assumptions from the subject to a role that
/// can change IAM policies (else to one that reads secrets, when the subject
/// cannot itself): evidence lines, and whether every hop is certain.
fn assume_chain(ctx: &RuleContext, s: &Subject) -> Option<(Vec<String>, bool)> {
    use super::trust_rules::Power;
    let i = ctx.trust.index_of(s.arn())?;
    for power in [Power::Admin, Power::Secrets] {
        if let Some(c) = ctx.chains.of(i, power) {
            return Some((
                ctx.chains
                    .describe(ctx.catalog, ctx.trust, s.arn(), c, power),
                c.certain,
            ));
        }
    }
    None
}

/// A `privilege-escalation` finding made of a chain alone.
fn chain_finding(
    ctx: &RuleContext,
    s: &Subject,
    meta: &RuleMeta,
    lines: Vec<String>,
    certain: bool,
) -> Finding {
    let (exposure, why) = s.exposure(ctx.risk);
    let mut evidence = lines;
    evidence.extend(why);
    let base = if certain {
        ctx.risk.scoring.severity.high
    } else {
        ctx.risk.scoring.severity.high / 2.0
    };
    let score = base * exposure.max(1.0);
    Finding {
        rule: meta.id,
        severity: ctx.risk.severity(score),
        score,
        principal: s.arn().into(),
        kind: s.kind,
        actions: ctx.catalog.lookup("sts:AssumeRole").into_iter().collect(),
        message: format!(
            "{} `{}` can escalate privileges by assuming roles: {}",
            s.kind.as_str(),
            s.name(),
            evidence[0].trim_start_matches("assume-role chain: ")
        ),
        evidence: evidence.into(),
        remediation: "Remove the `sts:AssumeRole` grants or trust statements that form the chain, or take the power from the role at its end; a role that must stay reachable should require MFA or a narrower trust."
            .into(),
        fix: None,
        grants: Vec::new(),
        techniques: Vec::new(),
    }
}

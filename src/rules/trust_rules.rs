//! Trust: chains of role assumptions that reach administrative or
//! secret-reading power (evidence for `privilege-escalation`), and two rules
//! on trust policies themselves: another account trusted without an external
//! id or organization condition (`unguarded-cross-account-trust`), and a web
//! identity provider trusted without a pinned subject (`unsafe-oidc-trust`).

use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::catalog::{ActionId, Catalog};
use crate::model::{Condition, Effect, PrincipalElement, Statement};
use crate::policy::trust::{Chain, TrustGraph};

/// Actions that let a principal grant itself anything: changing IAM policies.
pub const ADMIN_ACTIONS: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
];

/// Actions that read secret values.
pub const SECRET_ACTIONS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
];

/// What a chain of assumptions reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Power {
    Admin,
    Secrets,
}

/// For every principal of the audit (by trust graph index), the shortest
/// chain to a role with administrative power and to one that reads secrets.
#[derive(Clone, Debug, Default)]
pub struct Chains {
    pub admin: Vec<Option<Chain>>,
    pub secrets: Vec<Option<Chain>>,
    /// Per principal, the power actions it holds (to name at a chain's end).
    powers: Vec<(Vec<ActionId>, Vec<ActionId>)>,
}

impl Chains {
    /// Computes the chains from the granted actions of each principal (in
    /// the graph's order).
    pub fn compute(
        cat: &Catalog,
        graph: &TrustGraph,
        granted: &[&crate::catalog::ActionSet],
    ) -> Chains {
        let ids = |names: &[&str]| -> Vec<ActionId> {
            names.iter().filter_map(|n| cat.lookup(n)).collect()
        };
        let (admin, secrets) = (ids(ADMIN_ACTIONS), ids(SECRET_ACTIONS));
        let powers: Vec<(Vec<ActionId>, Vec<ActionId>)> = granted
            .iter()
            .map(|g| {
                (
                    admin.iter().copied().filter(|id| g.contains(*id)).collect(),
                    secrets
                        .iter()
                        .copied()
                        .filter(|id| g.contains(*id))
                        .collect(),
                )
            })
            .collect();
        if graph.edges.is_empty() {
            return Chains {
                powers,
                ..Default::default()
            };
        }
        let admin_chains = graph.chains_to(&|i| !powers[i as usize].0.is_empty());
        let secret_chains = graph.chains_to(&|i| !powers[i as usize].1.is_empty());
        Chains {
            admin: admin_chains,
            secrets: secret_chains,
            powers,
        }
    }

    /// The chain from principal `i` to the given power, if any.
    pub fn of(&self, i: u32, power: Power) -> Option<&Chain> {
        let v = match power {
            Power::Admin => &self.admin,
            Power::Secrets => &self.secrets,
        };
        v.get(i as usize).and_then(Option::as_ref)
    }

    /// Evidence lines for a chain: the hops, and what the last role can do.
    pub fn describe(
        &self,
        cat: &Catalog,
        graph: &TrustGraph,
        from: &str,
        chain: &Chain,
        power: Power,
    ) -> Vec<String> {
        let name = |i: u32| {
            graph.arns[i as usize]
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        };
        let mut hops = vec![from.rsplit('/').next().unwrap_or(from).to_string()];
        hops.extend(chain.hops.iter().map(|&h| name(h)));
        let last = *chain.hops.last().unwrap_or(&0);
        let held = match power {
            Power::Admin => &self.powers[last as usize].0,
            Power::Secrets => &self.powers[last as usize].1,
        };
        let what = match power {
            Power::Admin => "can change IAM policies",
            Power::Secrets => "can read secrets",
        };
        vec![
            format!(
                "assume-role chain: {}{}",
                hops.join(" → "),
                if chain.certain {
                    ""
                } else {
                    " (some hops hold only under conditions)"
                }
            ),
            format!(
                "`{}` {what}: {}",
                graph.arns[last as usize],
                held.iter()
                    .take(4)
                    .map(|&id| cat.full_name(id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ]
    }
}

fn is_assume(st: &Statement, action: &str) -> bool {
    crate::policy::request::statement_matches(st, action, "*")
}

/// Whether a condition binds its key to given values (not negated, not
/// `IfExists`, not a set operator that holds when the key is absent).
fn binds(c: &Condition) -> bool {
    let op = c.operator.as_str();
    !op.contains("Not")
        && !op.ends_with("IfExists")
        && !op.starts_with("ForAllValues:")
        && op != "Null"
}

/// The AWS principals a trust statement names outside `own` account: other
/// accounts (ids or ARNs) and `*`.
fn foreign(st: &Statement, own: &str) -> Vec<String> {
    let mut out = Vec::new();
    match &st.principal {
        Some(PrincipalElement::Bare(s)) if s == "*" => out.push("*".to_string()),
        Some(PrincipalElement::ByKind(kinds)) => {
            for (k, names) in kinds {
                if k != "AWS" {
                    continue;
                }
                for n in names {
                    let acct = if n == "*" {
                        Some("*")
                    } else if n.chars().all(|c| c.is_ascii_digit()) {
                        Some(n.as_str())
                    } else {
                        n.split(':').nth(4)
                    };
                    if acct.is_some_and(|a| a != own) {
                        out.push(n.clone());
                    }
                }
            }
        }
        _ => {}
    }
    out
}

fn account_of(name: &str) -> &str {
    if name.chars().all(|c| c.is_ascii_digit()) {
        name
    } else {
        name.split(':').nth(4).unwrap_or(name)
    }
}

pub struct UnguardedCrossAccountTrust;

static CROSS: RuleMeta = RuleMeta {
    id: "unguarded-cross-account-trust",
    title: "A role trusts another account without an external id or organization condition",
    default_severity: Severity::High,
    rationale: "A trust policy that names another account (or everyone) lets that account's administrators decide who assumes the role. Without an `sts:ExternalId` condition a third party acting for several customers can be made to use this role for another of them (the confused deputy); without `aws:PrincipalOrgID` (or `aws:PrincipalOrgPaths`) nothing keeps the trust within the organization. Trusting `*` without a condition lets anyone assume the role. The severity is critical for `*`, high for an account outside the organization (or when the organization is not known), low for an account of the same organization.",
    remediation: "Add `\"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"...\"}}` for a third party, or `{\"StringEquals\": {\"aws:PrincipalOrgID\": \"o-...\"}}` for accounts of your organization; name the trusted role rather than the account root where you can.",
};

impl Rule for UnguardedCrossAccountTrust {
    fn meta(&self) -> &RuleMeta {
        &CROSS
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let p = &s.verdicts.principal;
        let Some(trust) = &p.trust_policy else {
            return;
        };
        let own = crate::model::resource::arn_account(&p.arn).unwrap_or("");
        let mut severity = None::<Severity>;
        let mut evidence = Vec::new();
        let mut fixed_org = None;
        for st in trust.statements.iter().filter(|st| {
            st.effect == Effect::Allow && !st.not_principal && is_assume(st, "sts:AssumeRole")
        }) {
            let names = foreign(st, own);
            if names.is_empty() {
                continue;
            }
            let guarded = st.conditions.iter().any(|c| {
                let k = c.key.to_ascii_lowercase();
                binds(c)
                    && (k == "sts:externalid"
                        || k == "aws:principalorgid"
                        || k == "aws:principalorgpaths"
                        || (names.iter().any(|n| n == "*")
                            && (k == "aws:principalaccount" || k == "aws:principalarn")))
            });
            if guarded {
                continue;
            }
            for n in &names {
                let acct = account_of(n);
                let (sev, why) = if n == "*" || acct == "*" {
                    (Severity::Critical, "everyone".to_string())
                } else {
                    match ctx.org {
                        Some(org) if org.contains(acct) => {
                            fixed_org = org.id.clone();
                            (
                                Severity::Low,
                                format!("account {acct}, of the same organization"),
                            )
                        }
                        Some(_) => (
                            Severity::High,
                            format!("account {acct}, outside the organization"),
                        ),
                        None => (Severity::High, format!("account {acct}")),
                    }
                };
                severity = Some(severity.map_or(sev, |s| s.max(sev)));
                evidence.push(format!(
                    "statement {} trusts `{n}` ({why}) with no sts:ExternalId or aws:PrincipalOrgID condition{}",
                    st.label(),
                    if st.conditions.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (conditions: {})",
                            st.conditions.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("; ")
                        )
                    }
                ));
            }
        }
        let Some(severity) = severity else { return };
        let condition = match &fixed_org {
            Some(o) => serde_json::json!({"StringEquals": {"aws:PrincipalOrgID": o}}),
            None => {
                serde_json::json!({"StringEquals": {"sts:ExternalId": "<external id agreed with the trusted party>"}})
            }
        };
        let cat = ctx.catalog;
        out.push(Finding {
            rule: CROSS.id,
            severity,
            score: ctx.risk.scoring.severity.high,
            principal: p.arn.as_str().into(),
            kind: s.kind,
            actions: cat.lookup("sts:AssumeRole").into_iter().collect(),
            message: format!(
                "role `{}` can be assumed from another account without an external id or organization condition",
                p.name
            ),
            evidence: evidence.into(),
            remediation: CROSS.remediation.into(),
            fix: Some(std::sync::Arc::new(serde_json::json!({"Condition": condition}))),
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

pub struct UnsafeOidcTrust;

static OIDC: RuleMeta = RuleMeta {
    id: "unsafe-oidc-trust",
    title: "A role trusts a web identity provider without pinning the subject",
    default_severity: Severity::Critical,
    rationale: "A role trusted by an OpenID Connect provider (GitHub Actions `token.actions.githubusercontent.com`, GitLab, Terraform Cloud, an EKS cluster, ...) can be assumed with any token that provider issues and the trust's conditions accept. The audience (`aud`) is shared by every customer of a CI service, so only the subject (`sub`: repository and branch, project, service account) says *whose* workload it is. Without a `sub` condition, or with a wildcard in it, other repositories, forks, branches or organizations can assume the role. Critical when the subject is unconstrained or its owner part is a wildcard (`repo:*`); high for every repository of one owner (`repo:org/*`) and for an EKS cluster without a service account pinned; medium for any branch or environment of one repository.",
    remediation: "Add `\"StringEquals\": {\"<provider>:sub\": \"repo:ORG/REPO:ref:refs/heads/main\"}` (or `:environment:prod`) and `\"<provider>:aud\": \"sts.amazonaws.com\"` to the trust statement; avoid `StringLike` with wildcards on `sub`.",
};

/// How far a `sub` value opens the trust: `None` when it pins a subject.
fn sub_breadth(host: &str, value: &str) -> Option<Severity> {
    if !value.contains('*') && !value.contains('?') {
        return None;
    }
    if value.trim_matches('*').is_empty() {
        return Some(Severity::Critical);
    }
    if host.starts_with("token.actions.githubusercontent.com") || host.contains("ghe.com") {
        // repo:OWNER/REPO:REF
        let rest = value.strip_prefix("repo:").unwrap_or(value);
        let (owner, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if owner.contains(['*', '?']) {
            return Some(Severity::Critical);
        }
        let repo = tail.split(':').next().unwrap_or("");
        if repo.contains(['*', '?']) {
            return Some(Severity::High);
        }
        return Some(Severity::Medium);
    }
    Some(Severity::Medium)
}

impl Rule for UnsafeOidcTrust {
    fn meta(&self) -> &RuleMeta {
        &OIDC
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let p = &s.verdicts.principal;
        let Some(trust) = &p.trust_policy else {
            return;
        };
        let mut severity = None::<Severity>;
        let mut evidence = Vec::new();
        let mut sub_key = String::new();
        for st in trust.statements.iter().filter(|st| {
            st.effect == Effect::Allow
                && !st.not_principal
                && is_assume(st, "sts:AssumeRoleWithWebIdentity")
        }) {
            let Some(PrincipalElement::ByKind(kinds)) = &st.principal else {
                continue;
            };
            for (k, names) in kinds {
                if k != "Federated" {
                    continue;
                }
                for provider in names {
                    let Some(host) = provider.split_once(":oidc-provider/").map(|(_, h)| h) else {
                        continue;
                    };
                    let key = format!("{}:sub", host.to_ascii_lowercase());
                    sub_key = format!("{host}:sub");
                    let subs: Vec<&Condition> = st
                        .conditions
                        .iter()
                        .filter(|c| c.key.to_ascii_lowercase() == key && binds(c))
                        .collect();
                    let (sev, why) = if subs.is_empty() {
                        let sev = if host.starts_with("oidc.eks.") {
                            Severity::High
                        } else {
                            Severity::Critical
                        };
                        (Some(sev), format!("no condition pins `{host}:sub`"))
                    } else {
                        // Every value must pin (the condition holds if any matches).
                        let worst =
                            subs.iter()
                                .flat_map(|c| {
                                    let like = c.operator.contains("Like");
                                    c.values.iter().map(move |v| {
                                        if like {
                                            sub_breadth(host, v)
                                        } else {
                                            None
                                        }
                                    })
                                })
                                .flatten()
                                .max();
                        let vals: Vec<String> = subs.iter().map(|c| c.to_string()).collect();
                        (
                            worst,
                            format!("`{host}:sub` is wildcarded: {}", vals.join("; ")),
                        )
                    };
                    if let Some(sev) = sev {
                        severity = Some(severity.map_or(sev, |s| s.max(sev)));
                        evidence.push(format!(
                            "statement {} trusts `{provider}`: {why}",
                            st.label()
                        ));
                    }
                }
            }
        }
        let Some(severity) = severity else { return };
        let cat = ctx.catalog;
        out.push(Finding {
            rule: OIDC.id,
            severity,
            score: ctx.risk.scoring.severity.high,
            principal: p.arn.as_str().into(),
            kind: s.kind,
            actions: cat.lookup("sts:AssumeRoleWithWebIdentity").into_iter().collect(),
            message: format!(
                "role `{}` can be assumed with web identity tokens whose subject is not pinned",
                p.name
            ),
            evidence: evidence.into(),
            remediation: OIDC.remediation.into(),
            fix: Some(std::sync::Arc::new(serde_json::json!({
                "Condition": {"StringEquals": {sub_key: "<the one subject that may assume the role>"}}
            }))),
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_subjects_by_breadth() {
        let gh = "token.actions.githubusercontent.com";
        assert_eq!(sub_breadth(gh, "repo:org/app:ref:refs/heads/main"), None);
        assert_eq!(sub_breadth(gh, "repo:org/app:*"), Some(Severity::Medium));
        assert_eq!(sub_breadth(gh, "repo:org/*"), Some(Severity::High));
        assert_eq!(sub_breadth(gh, "repo:*"), Some(Severity::Critical));
        assert_eq!(sub_breadth(gh, "*"), Some(Severity::Critical));
        assert_eq!(
            sub_breadth("gitlab.com", "project_path:g/*"),
            Some(Severity::Medium)
        );
    }
}

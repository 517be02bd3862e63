//! Agents as AWS runs them today (Bedrock Agents, Bedrock AgentCore
//! runtimes and gateways): `agent-role-shared`, `passrole-to-agentcore`,
//! `agent-calls-as-execution-role` and `agent-use-unobservable`.

use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::model::{Effect, Kind, Principal, ResourceSpec};
use crate::verdict::observability::Unobservable;
use std::collections::BTreeSet;

/// The service principal of AgentCore runtimes, gateways and memory.
pub const AGENTCORE: &str = "bedrock-agentcore.amazonaws.com";
const AGENT_SERVICES: &[&str] = &["bedrock.amazonaws.com", AGENTCORE];

/// Whether the role's trust policy lets `service` assume it.
pub fn trusted_by(p: &Principal, service: &str) -> bool {
    p.trust_policy.as_ref().is_some_and(|t| {
        super::classify::trusted_principals(t)
            .services
            .iter()
            .any(|s| s == service)
    })
}

// ------------------------------------------------------------------ shared

pub struct AgentRoleShared;

static SHARED: RuleMeta = RuleMeta {
    id: "agent-role-shared",
    title: "One role serves several agents",
    default_severity: Severity::Medium,
    rationale: "When several agents (Bedrock agents, AgentCore runtimes or gateways) run as one role, each holds the union of what all of them need, and CloudTrail shows one role for all: whatever one agent did, or a prompt made it do, cannot be told apart from the others in the trail. Evidence: the trust policy admits several agents (its `aws:SourceArn` condition lists several agent ARNs, or a wildcard over them), or the trail shows sessions started for several workload identities (`onBehalfOf` on the AssumeRole calls).",
    remediation: "Give each agent its own execution role, trusted only by that agent (`aws:SourceArn` set to the agent's ARN and `aws:SourceAccount` to the account), holding only what that agent uses (`leastpriv recommend`).",
};

/// The `aws:SourceArn` values of the trust statements that admit an agent service.
fn agent_source_arns(p: &Principal) -> Vec<String> {
    let Some(t) = &p.trust_policy else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    for st in t.statements.iter().filter(|s| s.effect == Effect::Allow) {
        let admits_agent = match &st.principal {
            Some(crate::model::PrincipalElement::ByKind(m)) => m.iter().any(|(k, v)| {
                k == "Service" && v.iter().any(|s| AGENT_SERVICES.contains(&s.as_str()))
            }),
            _ => false,
        };
        if !admits_agent {
            continue;
        }
        for c in &st.conditions {
            if c.key.eq_ignore_ascii_case("aws:SourceArn") {
                out.extend(c.values.iter().cloned());
            }
        }
    }
    out.into_iter().collect()
}

impl Rule for AgentRoleShared {
    fn meta(&self) -> &RuleMeta {
        &SHARED
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        if s.kind != Kind::Agent {
            return;
        }
        let p = &s.verdicts.principal;
        let arns = agent_source_arns(p);
        let wildcards: Vec<&String> = arns.iter().filter(|a| a.contains('*')).collect();
        let workloads: Vec<&String> = s
            .verdicts
            .sessions_granted
            .as_ref()
            .map(|g| g.workloads.keys().collect())
            .unwrap_or_default();
        if arns.len() < 2 && wildcards.is_empty() && workloads.len() < 2 {
            return;
        }
        let mut evidence = Vec::new();
        if arns.len() >= 2 || !wildcards.is_empty() {
            evidence.push(format!(
                "the trust policy admits agents by `aws:SourceArn`: {}",
                arns.iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !wildcards.is_empty() {
            evidence
                .push("a wildcard admits every agent it matches, present and future".to_string());
        }
        if workloads.len() >= 2 {
            evidence.push(format!(
                "sessions started on behalf of {} workload identities: {}",
                workloads.len(),
                workloads
                    .iter()
                    .take(10)
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        evidence.push(format!(
            "{} action(s) granted to all of them",
            s.verdicts.granted_count()
        ));
        let n = arns.len().max(workloads.len());
        out.push(Finding {
            rule: SHARED.id,
            severity: Severity::Medium,
            score: ctx.risk.scoring.severity.medium + n as f64,
            principal: s.arn().into(),
            kind: s.kind,
            actions: [].into(),
            message: format!(
                "agent role `{}` is shared by {} agents: their permissions and their audit trail merge",
                s.name(),
                if wildcards.is_empty() {
                    n.to_string()
                } else {
                    "any number of".to_string()
                }
            ),
            evidence: evidence.into(),
            remediation: SHARED.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

// ------------------------------------------------------------------ PassRole

pub struct PassRoleToAgentCore;

static PASS: RuleMeta = RuleMeta {
    id: "passrole-to-agentcore",
    title: "Can run agent code as any role (`iam:PassRole` to AgentCore on `*`)",
    default_severity: Severity::High,
    rationale: "AgentCore runs an agent runtime's code, a custom code interpreter or browser, and a gateway's targets as the execution role it is given. A principal that may pass any role (`iam:PassRole` on `*`) to `bedrock-agentcore.amazonaws.com` and create or update such a resource can run code of its choice with the permissions of any role in the account that trusts AgentCore, including roles far stronger than its own.",
    remediation: "Scope `iam:PassRole` to the execution roles of the principal's own agents (`Resource` = their ARNs) with `Condition: {StringEquals: {iam:PassedToService: bedrock-agentcore.amazonaws.com}}`.",
};

/// The AgentCore actions that take an execution role.
const AGENTCORE_TAKES_ROLE: &[&str] = &[
    "bedrock-agentcore:CreateAgentRuntime",
    "bedrock-agentcore:UpdateAgentRuntime",
    "bedrock-agentcore:CreateCodeInterpreter",
    "bedrock-agentcore:CreateBrowser",
    "bedrock-agentcore:CreateGateway",
    "bedrock-agentcore:UpdateGateway",
];

impl Rule for PassRoleToAgentCore {
    fn meta(&self) -> &RuleMeta {
        &PASS
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let cat = ctx.catalog;
        let Some(pass) = cat.lookup("iam:PassRole") else {
            return;
        };
        if !s.verdicts.grants.granted.contains(pass) {
            return;
        }
        let p = &s.verdicts.principal;
        // Allow statements granting PassRole on every role whose
        // `iam:PassedToService` (if any) admits AgentCore.
        let mut statements = Vec::new();
        let mut named = false;
        for c in s.verdicts.grants.reasons(pass) {
            if c.effect != Effect::Allow {
                continue;
            }
            let Some(st) = crate::policy::grants::statement(p, c.at) else {
                continue;
            };
            let everywhere = match &st.resources {
                ResourceSpec::Resource(r) => r.iter().any(|x| x == "*"),
                ResourceSpec::NotResource(_) | ResourceSpec::None => true,
            };
            if !everywhere {
                continue;
            }
            let service = st
                .conditions
                .iter()
                .find(|c| c.key.eq_ignore_ascii_case("iam:PassedToService"));
            let admits = match service {
                None => true,
                Some(c) => c
                    .values
                    .iter()
                    .any(|v| crate::catalog::wildcard_match(v, AGENTCORE)),
            };
            if !admits {
                continue;
            }
            named |= service.is_some();
            statements.push(st.label());
        }
        if statements.is_empty() {
            return;
        }
        let takes: Vec<_> = AGENTCORE_TAKES_ROLE
            .iter()
            .filter_map(|a| cat.lookup(a))
            .filter(|&id| s.verdicts.grants.granted.contains(id))
            .collect();
        // Passing any role to any service is privilege escalation already;
        // this rule is about AgentCore: it names it, or AgentCore can use it.
        if takes.is_empty() && !named {
            return;
        }
        let mut evidence = vec![format!(
            "`iam:PassRole` on `*` for `{AGENTCORE}` in statement(s) {}",
            statements.join(", ")
        )];
        if takes.is_empty() {
            evidence.push(
                "no AgentCore create or update action granted today: one grant away".to_string(),
            );
        } else {
            evidence.push(format!(
                "can hand a role to AgentCore with {}",
                takes
                    .iter()
                    .map(|&id| format!("`{}`", cat.full_name(id)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut actions = vec![pass];
        actions.extend(&takes);
        out.push(Finding {
            rule: PASS.id,
            severity: if takes.is_empty() {
                Severity::Medium
            } else {
                Severity::High
            },
            score: ctx.risk.scoring.severity.high + takes.len() as f64,
            principal: s.arn().into(),
            kind: s.kind,
            actions: actions.into(),
            message: format!(
                "{} `{}` can pass any role to AgentCore and run agent code as it",
                s.kind.as_str(),
                s.name()
            ),
            evidence: evidence.into(),
            remediation: PASS.remediation.into(),
            fix: Some(std::sync::Arc::new(serde_json::json!({
                "Sid": "PassOnlyOwnAgentRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": format!(
                    "arn:aws:iam::{}:role/AGENT-EXECUTION-ROLE",
                    s.arn().split(':').nth(4).unwrap_or("ACCOUNT")
                ),
                "Condition": {"StringEquals": {"iam:PassedToService": AGENTCORE}}
            }))),
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

// ------------------------------------------------------------------ as itself

pub struct AgentCallsAsExecutionRole;

static AS_ROLE: RuleMeta = RuleMeta {
    id: "agent-calls-as-execution-role",
    title: "An AgentCore agent reaches AWS as its execution role, not as its user",
    default_severity: Severity::Medium,
    rationale: "An AgentCore runtime or gateway that calls AWS with its execution role's own credentials acts with the same permissions for every user, and CloudTrail records the role alone: no `sourceIdentity`, no `onBehalfOf`, nothing that says for whom a call was made. Per-user evidence needs the user's identity carried into the session (identity propagation, `sts:SetSourceIdentity` or `sts:SetContext`), or per-user credentials (workload access tokens for the user's JWT, OAuth on the user's behalf).",
    remediation: "Propagate the caller's identity: have the runtime or gateway assume a role with the user's identity (`sts:SetSourceIdentity`, or trusted identity propagation with `sts:SetContext`), allowed in the role's trust policy, and condition data access on it; or call downstream services with the user's own token (`GetWorkloadAccessTokenForJWT`, OAuth credential providers) instead of the role.",
};

/// AgentCore execution roles: the new rule speaks for them, so
/// `agent-without-source-identity` leaves them to it.
pub fn is_agentcore_role(s: &Subject) -> bool {
    s.kind == Kind::Agent && trusted_by(&s.verdicts.principal, AGENTCORE)
}

impl Rule for AgentCallsAsExecutionRole {
    fn meta(&self) -> &RuleMeta {
        &AS_ROLE
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        if !is_agentcore_role(s) {
            return;
        }
        let Some(act) = &s.verdicts.activity else {
            return;
        };
        let n = act.calls_without_user_identity;
        if n == 0 {
            return;
        }
        let cat = ctx.catalog;
        let mut services: BTreeSet<&str> = BTreeSet::new();
        let mut sensitive = Vec::new();
        for u in &s.verdicts.used {
            services.insert(cat.action(u.action).service);
            if ctx
                .risk
                .category(u.action)
                .is_some_and(|c| c.id == "secrets-access" || c.id == "data-exfiltration")
            {
                sensitive.push(u.action);
            }
        }
        let trust = s.verdicts.principal.trust_policy.as_ref();
        let can_carry = trust.is_some_and(|t| {
            t.statements.iter().any(|st| {
                st.effect == Effect::Allow
                    && match &st.actions {
                        crate::model::ActionSpec::Action(a) => a.iter().any(|x| {
                            ["sts:SetSourceIdentity", "sts:SetContext", "sts:*", "*"]
                                .iter()
                                .any(|k| x.eq_ignore_ascii_case(k))
                        }),
                        crate::model::ActionSpec::NotAction(_) => true,
                    }
            })
        });
        let mut evidence = vec![
            format!(
                "{n} of {} call(s) in sessions with neither a sourceIdentity nor an onBehalfOf",
                act.records
            ),
            format!(
                "services reached as the role: {}",
                services.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            format!(
                "{} session name(s): {}",
                act.sessions.len(),
                act.sessions
                    .keys()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ];
        if !can_carry {
            evidence.push(
                "the trust policy allows neither `sts:SetSourceIdentity` nor `sts:SetContext`: no session of this role can carry a user's identity".to_string(),
            );
        }
        if !sensitive.is_empty() {
            evidence.push(format!(
                "secrets or data read as the role for every user: {}",
                sensitive
                    .iter()
                    .map(|&id| format!("`{}`", cat.full_name(id)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out.push(Finding {
            rule: AS_ROLE.id,
            severity: if sensitive.is_empty() {
                Severity::Medium
            } else {
                Severity::High
            },
            score: ctx.risk.scoring.severity.medium + n as f64 / 1000.0,
            principal: s.arn().into(),
            kind: s.kind,
            actions: sensitive.into(),
            message: format!(
                "AgentCore agent `{}` made {n} call(s) to AWS as its execution role, with no per-user identity",
                s.name()
            ),
            evidence: evidence.into(),
            remediation: AS_ROLE.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

// ------------------------------------------------------------------ unobservable

pub struct AgentUseUnobservable;

static UNOBS: RuleMeta = RuleMeta {
    id: "agent-use-unobservable",
    title: "The trails do not record the agent's data events",
    default_severity: Severity::Medium,
    rationale: "Invoking a Bedrock agent alias, retrieving from a knowledge base, and calling AgentCore runtimes, gateways and memory are CloudTrail data events: the trails record them only when their event selectors include those resource types. Without them, what an agent did (and who made it do it) is not in the trail, and its grants there are unobservable, never provably unused. The report names the missing types at the top.",
    remediation: "Add advanced event selectors for the listed resource types (e.g. `resources.type` = `AWS::BedrockAgentCore::Runtime`, `AWS::BedrockAgentCore::Gateway`, `AWS::Bedrock::AgentAlias`, `AWS::Bedrock::KnowledgeBase`) to a trail, scoped to the agents' resources to bound the cost.",
};

/// Whether a data-event type is a Bedrock or AgentCore one.
pub fn is_agent_data_event(resource_type: &str) -> bool {
    resource_type.starts_with("AWS::Bedrock::")
        || resource_type.starts_with("AWS::BedrockAgentCore::")
}

impl Rule for AgentUseUnobservable {
    fn meta(&self) -> &RuleMeta {
        &UNOBS
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        if s.kind != Kind::Agent {
            return;
        }
        let cat = ctx.catalog;
        let mut types: BTreeSet<&str> = BTreeSet::new();
        let mut actions = Vec::new();
        for (id, why) in s.verdicts.unobservable().iter() {
            if let Unobservable::DataEventNotRecorded(t) = why {
                if is_agent_data_event(t) {
                    types.insert(t);
                    actions.push(*id);
                }
            }
        }
        if types.is_empty() {
            return;
        }
        let evidence = vec![
            format!(
                "data event types not recorded: {}",
                types.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            format!(
                "{} granted action(s) whose use the trails cannot show: {}{}",
                actions.len(),
                actions
                    .iter()
                    .take(8)
                    .map(|&id| cat.full_name(id))
                    .collect::<Vec<_>>()
                    .join(", "),
                if actions.len() > 8 { ", ..." } else { "" }
            ),
        ];
        out.push(Finding {
            rule: UNOBS.id,
            severity: Severity::Medium,
            score: ctx.risk.scoring.severity.medium + types.len() as f64,
            principal: s.arn().into(),
            kind: s.kind,
            actions: actions.into(),
            message: format!(
                "agent `{}`: the trails do not record its {} data events, so its use is unobservable",
                s.name(),
                types.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            evidence: evidence.into(),
            remediation: UNOBS.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

//! Agents acting on behalf of users: `super-user-agent` and
//! `agent-without-source-identity`.

use super::risk::Breadth;
use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::model::Kind;

pub struct SuperUserAgent;

static SUPER: RuleMeta = RuleMeta {
    id: "super-user-agent",
    title: "An agent serves many end users with grants over all their data",
    default_severity: Severity::High,
    rationale: "An AI agent that acts for many end users (distinct `sourceIdentity` values) while holding one grant over all of their data is a confused deputy waiting to happen: a prompt from one user can reach every other user's data, and nothing in IAM stops it.",
    remediation: "Scope the agent per end user: set `sourceIdentity` (or session tags) when the agent assumes its role, and condition data access on it (ABAC), e.g. `s3:GetObject` on `arn:aws:s3:::BUCKET/customers/${aws:SourceIdentity}/*`; or pass a session policy per user.",
};

impl Rule for SuperUserAgent {
    fn meta(&self) -> &RuleMeta {
        &SUPER
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        if s.kind != Kind::Agent {
            return;
        }
        let Some(act) = &s.verdicts.activity else {
            return;
        };
        let users = &act.resources_by_source_identity;
        if act.source_identities.len() < 2 {
            return;
        }
        let cat = ctx.catalog;
        // Data and secret actions used by the agent whose grant is broader than one user's data.
        let broad: Vec<_> = s
            .verdicts
            .used
            .iter()
            .filter(|u| {
                ctx.risk
                    .category(u.action)
                    .is_some_and(|c| c.id == "secrets-access" || c.id == "data-exfiltration")
            })
            .filter(|u| s.breadth(cat, u.action).1 >= Breadth::Wildcard)
            .collect();
        if broad.is_empty() {
            return;
        }
        let secrets_everywhere = broad.iter().any(|u| {
            ctx.risk
                .category(u.action)
                .is_some_and(|c| c.id == "secrets-access")
                && s.breadth(cat, u.action).1 == Breadth::All
        });
        let mut evidence = vec![format!(
            "{} distinct end users (sourceIdentity): {}",
            act.source_identities.len(),
            act.source_identities
                .keys()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )];
        for (user, res) in users.iter().take(10) {
            evidence.push(format!(
                "{user} touched {}",
                res.iter().take(5).collect::<Vec<_>>().join(", ")
            ));
        }
        for u in &broad {
            evidence.push(format!(
                "{} granted on {} for every user",
                cat.full_name(u.action),
                s.breadth(cat, u.action).0.join(", ")
            ));
        }
        out.push(Finding {
            rule: SUPER.id,
            severity: if secrets_everywhere {
                Severity::Critical
            } else {
                Severity::High
            },
            score: ctx.risk.scoring.severity.high + act.source_identities.len() as f64,
            principal: s.arn().into(),
            kind: s.kind,
            actions: broad.iter().map(|u| u.action).collect(),
            message: format!(
                "agent `{}` acts for {} end users with one grant over all their data",
                s.name(),
                act.source_identities.len()
            ),
            evidence: evidence.into(),
            remediation: SUPER.remediation.into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

pub struct AgentWithoutSourceIdentity;

static NO_SI: RuleMeta = RuleMeta {
    id: "agent-without-source-identity",
    title: "Agent sessions without a source identity",
    default_severity: Severity::Medium,
    rationale: "When an agent's sessions carry no `sourceIdentity`, CloudTrail cannot say on whose behalf it acted: the question \"who did what\" has no answer for those calls.",
    remediation: "Require `sts:SetSourceIdentity` when the agent's role is assumed (trust policy condition `aws:SourceIdentity` not null) and pass the end user's identity.",
};

impl Rule for AgentWithoutSourceIdentity {
    fn meta(&self) -> &RuleMeta {
        &NO_SI
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        // AgentCore execution roles: `agent-calls-as-execution-role` reports
        // their sessions without a person, with what they reached.
        if s.kind != Kind::Agent || super::agentcore::is_agentcore_role(s) {
            return;
        }
        let Some(act) = &s.verdicts.activity else {
            return;
        };
        let missing = act.sessions_without_source_identity;
        if missing == 0 {
            return;
        }
        let all = act.source_identities.is_empty();
        out.push(Finding {
            rule: NO_SI.id,
            severity: if all {
                Severity::High
            } else {
                Severity::Medium
            },
            score: ctx.risk.scoring.severity.medium + missing as f64 / 1000.0,
            principal: s.arn().into(),
            kind: s.kind,
            actions: [].into(),
            message: format!(
                "agent `{}` made {} call(s) in sessions without a source identity",
                s.name(),
                missing
            ),
            evidence: vec![
                format!(
                    "{} session name(s): {}",
                    act.sessions.len(),
                    act.sessions
                        .keys()
                        .take(10)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    "{} distinct source identities on the other calls",
                    act.source_identities.len()
                ),
            ]
            .into(),
            remediation: NO_SI.remediation.into(),
            fix: Some(std::sync::Arc::new(serde_json::json!({
                "Sid": "RequireSourceIdentity",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["sts:AssumeRole"],
                "Condition": {"Null": {"sts:SourceIdentity": "true"}}
            }))),
            grants: Vec::new(),
            techniques: Vec::new(),
        });
    }
}

//! `change-outside-pipeline`: production changed by people rather than by
//! the pipeline's reviewed code.

use super::{Finding, Rule, RuleContext, RuleMeta, Severity, Subject};
use crate::catalog::AccessLevel;
use crate::model::Kind;
use crate::usage::activity::ChangeStats;
use std::collections::BTreeMap;

pub struct ChangeOutsidePipeline;

static META: RuleMeta = RuleMeta {
    id: "change-outside-pipeline",
    title: "Production changed outside the reviewed pipeline",
    default_severity: Severity::Medium,
    rationale: "Production should change through code that is reviewed and tested, deployed by clearly defined CI/CD identities. Changes (actions of access level Write, Permissions management or Tagging) made by people instead, at the console or with the CLI, by IAM users or Identity Center roles, bypass that review and leave no change request behind. One finding per principal, service and action family (the access level: Write, Permissions management or Tagging), with the actions, sessions, times, resources and how the calls were made (`rules/channels.yaml`). Read-only use is not reported, nor are the pipeline's own principals: roles trusted by CI identity providers or deployment services (`rules/pipelines.yaml`) and the principals listed under `pipeline` in `leastpriv.yaml`. A workload's own writes through an SDK are not reported either; a person's console or CLI session in a workload's role is.",
    remediation: "Make the change in the infrastructure code and deploy it through the pipeline; then remove the principal's permissions of that family for that service (or deny them with a guardrail) so the next change has to go that way. If the principal is a deploy identity, list it under `pipeline.principals` in `leastpriv.yaml`.",
};

impl Rule for ChangeOutsidePipeline {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>) {
        let Some(act) = &s.verdicts.activity else {
            return;
        };
        if act.changes.is_empty()
            || ctx
                .pipelines
                .why(&ctx.settings.pipeline, &s.verdicts.principal)
                .is_some()
        {
            return;
        }
        let cat = ctx.catalog;
        // A person's principal: every change is theirs. Any other principal:
        // only the changes made at a console or a shell, a person's session
        // in its role.
        let person = s.kind == Kind::Human;
        // One finding per service and action family (Write, Permissions
        // management, Tagging): a console tag edit and a console policy
        // change are different reviews to ask for.
        let mut groups: BTreeMap<(&str, AccessLevel), Vec<(&str, &ChangeStats)>> = BTreeMap::new();
        for c in act.changes.iter() {
            if person || ctx.channels.is_manual(&c.channel) {
                groups
                    .entry((&c.service, c.family))
                    .or_default()
                    .push((&c.channel, &c.stats));
            }
        }
        for ((service, family), parts) in groups {
            let mut actions: BTreeMap<String, u64> = BTreeMap::new();
            let mut sessions: Vec<&str> = Vec::new();
            let mut resources: Vec<&str> = Vec::new();
            let (mut count, mut first, mut last) = (0u64, i64::MAX, i64::MIN);
            let mut channels: Vec<String> = Vec::new();
            for (channel, st) in &parts {
                count += st.count;
                first = first.min(st.first);
                last = last.max(st.last);
                channels.push(format!("{channel} ×{}", st.count));
                for (a, n) in st.actions.iter() {
                    *actions.entry(format!("{service}:{a}")).or_default() += n;
                }
                sessions.extend(st.sessions.iter());
                resources.extend(st.resources.iter());
            }
            sessions.sort_unstable();
            sessions.dedup();
            resources.sort_unstable();
            resources.dedup();
            let ids: Vec<_> = actions.keys().filter_map(|a| cat.lookup(a)).collect();
            let permissions = family == AccessLevel::PermissionsManagement;
            let mut evidence = vec![
                format!(
                    "{count} change(s) between {} and {}, made through {}",
                    crate::util::time(first),
                    crate::util::time(last),
                    channels.join(", ")
                ),
                format!(
                    "actions: {}",
                    actions
                        .iter()
                        .map(|(a, n)| format!("{a} ×{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ];
            if !sessions.is_empty() {
                evidence.push(format!(
                    "sessions: {}",
                    sessions
                        .iter()
                        .take(10)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !resources.is_empty() {
                evidence.push(format!(
                    "resources: {}",
                    resources
                        .iter()
                        .take(10)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            evidence.push(if person {
                format!(
                    "`{}` is a person's principal ({})",
                    s.name(),
                    s.kind.as_str()
                )
            } else {
                format!(
                    "`{}` is not a pipeline principal; these calls came from a console or a shell",
                    s.name()
                )
            });
            out.push(Finding {
                rule: META.id,
                severity: if permissions {
                    Severity::High
                } else {
                    Severity::Medium
                },
                score: ctx.risk.scoring.severity.medium + count as f64 / 1000.0,
                principal: s.arn().into(),
                kind: s.kind,
                actions: ids.into(),
                message: format!(
                    "{} `{}` changed `{service}` ({}) outside the pipeline: {count} change(s), {} action(s)",
                    s.kind.as_str(),
                    s.name(),
                    family.as_str(),
                    actions.len()
                ),
                evidence: evidence.into(),
                remediation: META.remediation.into(),
                fix: None,
                grants: Vec::new(),
                techniques: Vec::new(),
            });
        }
    }
}

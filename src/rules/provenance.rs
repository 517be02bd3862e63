//! Which policy statements grant a finding's actions: the policy (a managed
//! policy's ARN or an inline policy's name, and the user, group or role it
//! is attached to), the statement (Sid and index) and its conditions, so a
//! reviewer can go straight to the line to change.
//!
//! Run once per principal after its rules; it adds to findings, never
//! removes one, and reads only the principal's own grants.

use super::grant_scope::{clock, never_true};
use super::{Finding, RuleContext, Subject};
use crate::catalog::{ActionId, ActionSet};
use crate::model::{Condition, Effect, PolicySource, PrincipalType};
use crate::policy::grants::statement;
use crate::policy::PolicyRef;

/// How many of a statement's actions a finding keeps by name.
const ACTIONS_KEPT: usize = 12;
/// How many statements a finding's evidence names.
const EVIDENCE_STATEMENTS: usize = 8;

/// What a policy is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// `user`, `role` or `group`.
    pub kind: &'static str,
    pub name: String,
}

/// A statement of an identity policy that grants some of a finding's actions.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantSource {
    pub policy: PolicySource,
    pub holder: Holder,
    /// 0-based position in the policy's `Statement` list.
    pub index: usize,
    pub sid: Option<String>,
    pub conditions: Vec<Condition>,
    /// Why the conditions can never be true again, if they cannot.
    pub never_true: Option<String>,
    /// Up to a dozen of the finding's actions this statement grants.
    pub actions: Vec<ActionId>,
    /// How many of the finding's actions it grants.
    pub actions_total: usize,
}

impl GrantSource {
    /// `inline` or `managed`.
    pub fn policy_type(&self) -> &'static str {
        match self.policy {
            PolicySource::Inline { .. } | PolicySource::GroupInline { .. } => "inline",
            _ => "managed",
        }
    }

    /// The managed policy's ARN or the inline policy's name.
    pub fn policy_name(&self) -> &str {
        match &self.policy {
            PolicySource::Inline { policy_name }
            | PolicySource::GroupInline { policy_name, .. } => policy_name,
            PolicySource::Managed { arn, .. }
            | PolicySource::GroupManaged { arn, .. }
            | PolicySource::Boundary { arn, .. } => arn,
        }
    }

    /// The managed policy's default version the statement was read from.
    pub fn version(&self) -> Option<&str> {
        match &self.policy {
            PolicySource::Managed { version, .. }
            | PolicySource::GroupManaged { version, .. }
            | PolicySource::Boundary { version, .. } => Some(version),
            _ => None,
        }
    }

    /// `Sid` if present, else `#index`.
    pub fn statement_label(&self) -> String {
        match &self.sid {
            Some(s) if !s.is_empty() => s.clone(),
            _ => format!("#{}", self.index),
        }
    }

    /// One line for evidence and reports, with backticks around names.
    pub fn describe(&self) -> String {
        let policy = match self.policy_type() {
            "inline" => format!("inline policy `{}`", self.policy_name()),
            _ => format!("managed policy `{}`", self.policy_name()),
        };
        let mut s = format!(
            "{policy} on {} `{}`, statement `{}`",
            self.holder.kind,
            self.holder.name,
            self.statement_label()
        );
        if self.conditions.is_empty() {
            s.push_str(", no conditions");
        } else {
            let c: Vec<String> = self.conditions.iter().map(|c| format!("`{c}`")).collect();
            s.push_str(&format!(", conditions {}", c.join(" and ")));
        }
        if let Some(why) = &self.never_true {
            s.push_str(&format!(" (never true again: {why})"));
        }
        s
    }
}

/// The statements that grant each finding's actions, added to the findings
/// of one principal (`grants`), and one evidence line per statement.
pub fn attach(ctx: &RuleContext, s: &Subject, findings: &mut [Finding]) {
    let p = &s.verdicts.principal;
    let at = clock(ctx);
    let own = Holder {
        kind: match p.principal_type {
            PrincipalType::User => "user",
            PrincipalType::Role => "role",
        },
        name: p.name.clone(),
    };
    for f in findings.iter_mut().filter(|f| !f.actions.is_empty()) {
        let mut wanted = ActionSet::empty(ctx.catalog);
        wanted.extend(f.actions.iter().copied());
        for c in &s.verdicts.grants.contributions {
            let PolicyRef::Identity(i) = c.at.policy else {
                continue;
            };
            if c.effect != Effect::Allow || !c.actions.intersects(&wanted) {
                continue;
            }
            let (Some(st), Some(policy)) = (statement(p, c.at), p.policies.get(i)) else {
                continue;
            };
            let mut total = 0;
            let mut actions = Vec::new();
            for id in c.actions.iter_and(&wanted) {
                total += 1;
                if actions.len() < ACTIONS_KEPT {
                    actions.push(id);
                }
            }
            let holder = match &policy.source {
                PolicySource::GroupInline { group, .. }
                | PolicySource::GroupManaged { group, .. } => Holder {
                    kind: "group",
                    name: group.clone(),
                },
                _ => own.clone(),
            };
            f.grants.push(GrantSource {
                policy: policy.source.clone(),
                holder,
                index: st.index,
                sid: st.sid.clone(),
                conditions: st.conditions.clone(),
                never_true: never_true(&st.conditions, at),
                actions,
                actions_total: total,
            });
        }
        for g in f.grants.iter().take(EVIDENCE_STATEMENTS) {
            let names: Vec<String> = g
                .actions
                .iter()
                .take(4)
                .map(|&id| format!("`{}`", ctx.catalog.name(id)))
                .collect();
            let more = if g.actions_total > names.len() {
                format!(" and {} more", g.actions_total - names.len())
            } else {
                String::new()
            };
            f.evidence.push(&format!(
                "granted by {}: {}{more}",
                g.describe(),
                names.join(", ")
            ));
        }
        if f.grants.len() > EVIDENCE_STATEMENTS {
            f.evidence.push(&format!(
                "... and {} more granting statements (all in --format json)",
                f.grants.len() - EVIDENCE_STATEMENTS
            ));
        }
    }
}

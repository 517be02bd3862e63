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
use crate::model::{Condition, Effect, PolicyDocument, PolicySource, PrincipalType, Statement};
use crate::policy::grants::statement;
use crate::policy::{PolicyRef, StmtRef};
use std::collections::HashMap;
use std::sync::Arc;

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

/// A statement of one of the principal's identity policies that grants
/// actions; shared by the findings of the principal it grants.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantingStatement {
    pub policy: PolicySource,
    /// The policy's document, shared with the principal.
    pub document: Arc<PolicyDocument>,
    pub holder: Holder,
    /// The statement's place in `document.statements`.
    statement: usize,
    /// Why the conditions can never be true again, if they cannot.
    pub never_true: Option<String>,
}

/// A statement that grants some of a finding's actions. The statement is
/// shared by the principal's findings: an account of 10,000 principals has
/// some 60,000 of these, and a copy of the policy's names each took half a
/// kilobyte.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantSource {
    pub statement: Arc<GrantingStatement>,
    /// Up to a dozen of the finding's actions this statement grants; shared
    /// by the statements with the same list ([`super::SharedText`]).
    pub actions: Arc<[ActionId]>,
    /// How many of the finding's actions it grants.
    pub actions_total: usize,
}

impl std::ops::Deref for GrantSource {
    type Target = GrantingStatement;
    fn deref(&self) -> &GrantingStatement {
        &self.statement
    }
}

impl GrantingStatement {
    fn statement(&self) -> Option<&Statement> {
        self.document.statements.get(self.statement)
    }

    /// 0-based position in the policy's `Statement` list.
    pub fn index(&self) -> usize {
        self.statement().map_or(self.statement, |s| s.index)
    }

    pub fn sid(&self) -> Option<&str> {
        self.statement().and_then(|s| s.sid.as_deref())
    }

    pub fn conditions(&self) -> &[Condition] {
        self.statement().map_or(&[], |s| &s.conditions)
    }

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
        match self.sid() {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => format!("#{}", self.index()),
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
        if self.conditions().is_empty() {
            s.push_str(", no conditions");
        } else {
            let c: Vec<String> = self.conditions().iter().map(|c| format!("`{c}`")).collect();
            s.push_str(&format!(", conditions {}", c.join(" and ")));
        }
        if let Some(why) = &self.never_true {
            s.push_str(&format!(" (never true again: {why})"));
        }
        s
    }
}

/// The statements that grant each finding's actions, added to the findings
/// of one principal (`grants`); their evidence lines are rendered from them
/// ([`evidence_lines`]).
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
    let mut cache: HashMap<StmtRef, Arc<GrantingStatement>> = HashMap::new();
    // One set for all the principal's findings, emptied after each.
    let mut wanted = ActionSet::empty(ctx.catalog);
    for f in findings.iter_mut().filter(|f| !f.actions.is_empty()) {
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
            let mut actions = Vec::with_capacity(ACTIONS_KEPT.min(f.actions.len()));
            for id in c.actions.iter_and(&wanted) {
                total += 1;
                if actions.len() < ACTIONS_KEPT {
                    actions.push(id);
                }
            }
            let statement = Arc::clone(cache.entry(c.at).or_insert_with(|| {
                let holder = match &policy.source {
                    PolicySource::GroupInline { group, .. }
                    | PolicySource::GroupManaged { group, .. } => Holder {
                        kind: "group",
                        name: group.clone(),
                    },
                    _ => own.clone(),
                };
                Arc::new(GrantingStatement {
                    policy: policy.source.clone(),
                    document: Arc::clone(&policy.document),
                    holder,
                    statement: c.at.statement,
                    never_true: never_true(&st.conditions, at),
                })
            }));
            f.grants.push(GrantSource {
                statement,
                actions: actions.into(),
                actions_total: total,
            });
        }
        for &id in f.actions.iter() {
            wanted.remove(id);
        }
        f.grants.shrink_to_fit();
    }
}

/// The evidence lines of a finding's granting statements: one per
/// statement, up to `EVIDENCE_STATEMENTS`, then how many more there are.
/// Rendered when a report is written rather than kept with the finding: each
/// line names the principal, so no two principals share one, and they were
/// a third of the findings' text.
pub fn evidence_lines<'a>(
    cat: &'a crate::catalog::Catalog,
    grants: &'a [GrantSource],
) -> impl Iterator<Item = String> + Clone + 'a {
    let more = (grants.len() > EVIDENCE_STATEMENTS).then(|| {
        format!(
            "... and {} more granting statements (all in --format json)",
            grants.len() - EVIDENCE_STATEMENTS
        )
    });
    grants
        .iter()
        .take(EVIDENCE_STATEMENTS)
        .map(move |g| {
            let names: Vec<String> = g
                .actions
                .iter()
                .take(4)
                .map(|&id| format!("`{}`", cat.name(id)))
                .collect();
            let more = if g.actions_total > names.len() {
                format!(" and {} more", g.actions_total - names.len())
            } else {
                String::new()
            };
            format!("granted by {}: {}{more}", g.describe(), names.join(", "))
        })
        .chain(more)
}

//! The organization view of an audit of several accounts: a summary per
//! account (principals, grants, use, findings), and what crosses accounts
//! (role chains from one account into another, chains that break, findings
//! whose evidence names another account's principal).
//!
//! Computed from an [`Audit`] only, for the renderers; it reads no file.

use crate::audit::Audit;
use crate::rules::Severity;
use crate::usage::chains::Crossing;
use std::collections::BTreeMap;

/// One account's line of the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSummary {
    pub account: String,
    /// Its name in `organization.json`.
    pub name: Option<String>,
    pub principals: usize,
    /// Principals with at least one call in the window.
    pub active: usize,
    pub granted: usize,
    pub used: usize,
    pub unused: usize,
    pub denied: usize,
    /// Findings by severity name.
    pub findings: BTreeMap<&'static str, usize>,
    /// Its SCP path, as `Name (id)` from the root down; empty outside an
    /// organization.
    pub scp_path: Vec<String>,
}

/// Something that crosses accounts.
#[derive(Clone, Debug, PartialEq)]
pub enum CrossAccount {
    /// A session chain from one account into another, or a session whose
    /// chain breaks (resolved when the logs were read).
    Session(Crossing),
    /// A finding (by index into `Audit::findings`) whose evidence names a
    /// principal of another account.
    Finding(usize),
}

/// The organization view.
#[derive(Clone, Debug, Default)]
pub struct OrgView {
    pub accounts: Vec<AccountSummary>,
    pub cross: Vec<CrossAccount>,
}

fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// Whether the audit is of an organization snapshot (the reports of an
/// account snapshot stay as they were, even with principals of several
/// accounts in one `iam.json`).
pub fn is_multi_account(audit: &Audit) -> bool {
    !audit.inputs.members.is_empty()
}

/// The summary alone, one line per audited account by account id (no
/// session chain is resolved).
pub fn summaries(audit: &Audit) -> Vec<AccountSummary> {
    let mut by: BTreeMap<String, AccountSummary> = audit
        .accounts
        .iter()
        .map(|a| {
            (
                a.clone(),
                AccountSummary {
                    account: a.clone(),
                    ..AccountSummary::default()
                },
            )
        })
        .collect();
    for p in &audit.principals {
        let v = &p.verdicts;
        let Some(s) = by.get_mut(account_of(&v.principal.arn)) else {
            continue;
        };
        s.principals += 1;
        s.active += usize::from(!v.used.is_empty() || !v.denied.is_empty());
        s.granted += v.granted_count();
        s.used += v.used.len();
        s.unused += v.unused().len();
        s.denied += v.denied.len();
    }
    for f in audit.active_findings() {
        if let Some(s) = by.get_mut(account_of(&f.principal)) {
            *s.findings.entry(severity_name(f.severity)).or_default() += 1;
        }
    }
    if let Some(org) = &audit.organization {
        for s in by.values_mut() {
            s.name = org.accounts.get(&s.account).and_then(|a| a.name.clone());
            if let Some(path) = org.path(&s.account) {
                s.scp_path = path.iter().map(|t| org.target_label(t)).collect();
            }
        }
    }
    by.into_values().collect()
}

/// The summary and the cross-account list.
pub fn view(audit: &Audit) -> OrgView {
    let accounts = summaries(audit);
    let mut cross: Vec<CrossAccount> = audit
        .crossings
        .iter()
        .cloned()
        .map(CrossAccount::Session)
        .collect();
    for (i, f) in audit.findings.iter().enumerate() {
        let own = account_of(&f.principal);
        let other = f.evidence_lines(audit.catalog).any(|line| {
            line.split(|c: char| c.is_whitespace() || c == ',' || c == '`')
                .filter(|w| w.starts_with("arn:"))
                .any(|arn| {
                    let a = account_of(arn);
                    !a.is_empty() && a != own && a.bytes().all(|b| b.is_ascii_digit())
                })
        });
        if other {
            cross.push(CrossAccount::Finding(i));
        }
    }
    OrgView { accounts, cross }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

impl AccountSummary {
    /// `1 high, 2 low`, most severe first.
    pub fn findings_text(&self) -> String {
        let order = ["critical", "high", "medium", "low", "info"];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|s| self.findings.get(s).map(|n| format!("{n} {s}")))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The cross-account item as one line of text.
pub fn cross_line(audit: &Audit, c: &CrossAccount) -> String {
    match c {
        CrossAccount::Session(Crossing::Chain {
            origin,
            hops,
            source_identity,
            tags,
            calls,
        }) => {
            let si = source_identity
                .as_deref()
                .map(|s| format!(" [source identity {s}]"))
                .unwrap_or_default();
            let tags = if tags.is_empty() {
                String::new()
            } else {
                format!(" [session tags {}]", tags.join(", "))
            };
            format!(
                "chain: {origin} → {}{si}{tags}, {calls} call(s)",
                hops.join(" → ")
            )
        }
        CrossAccount::Session(Crossing::Broken {
            role,
            session,
            why,
            calls,
        }) => format!("broken chain: {role} ({session}), {calls} call(s): {why}"),
        CrossAccount::Finding(i) => {
            let f = &audit.findings[*i];
            format!("finding {} on {}: {}", f.rule, f.principal, f.message)
        }
    }
}

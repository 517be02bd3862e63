//! What every report says first: the gaps of the evidence that change how
//! the whole report reads (no CloudTrail record of the audited account,
//! agents whose data events no trail records, organization policies whose
//! content is unknown). One type, decided once by [`decide`] when the audit
//! ends; every renderer (table, Markdown and HTML, JSON, SARIF) and the
//! commands that act on the audit (`recommend`, `alerts`, `--strict`) read
//! [`crate::audit::Audit::notices`] and decide nothing themselves.
//!
//! May not touch: rendering (each renderer words the level its own way:
//! `WARNING:`, `**Warning:**`, a SARIF notification, JSON's `warnings` or
//! `coverage.notices`).

use crate::model::Organization;
use crate::usage::IngestStats;
use std::collections::BTreeSet;

/// Which gap a notice reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoticeKind {
    /// No CloudTrail record of the window belongs to the audited account:
    /// every granted permission looks unused on no evidence.
    NoAccountEvidence,
    /// Organization policies (SCPs, RCPs) on the audited account's path
    /// whose content `organization.json` does not hold.
    UnknownOrganizationPolicy,
    /// Agents whose Bedrock or AgentCore data events the trails do not record.
    UnobservableAgents,
}

/// One thing a report says before anything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    /// One or more sentences; names in backticks.
    pub text: String,
}

impl Notice {
    /// A warning undermines the report's conclusions as a whole (JSON's
    /// top-level `warnings`, SARIF's notification, `--strict` fails on it);
    /// the others are gaps of coverage (JSON's `coverage.notices`).
    pub fn is_warning(&self) -> bool {
        self.kind == NoticeKind::NoAccountEvidence
    }
}

/// What the audit is made of, for deciding its notices.
pub struct Facts<'a> {
    pub stats: &'a IngestStats,
    pub accounts: &'a BTreeSet<String>,
    /// Per principal: its name, kind and the data-event types of its grants
    /// that the trails do not record.
    pub agents_unrecorded: Vec<(&'a str, Vec<&'a str>)>,
    pub organization: Option<&'a Organization>,
}

/// Every notice of an audit, in the order reports print them: warnings
/// first.
pub fn decide(f: &Facts) -> Vec<Notice> {
    let mut out = Vec::new();
    if let Some(gap) = no_evidence(f.stats, f.accounts) {
        out.push(Notice {
            kind: NoticeKind::NoAccountEvidence,
            text: format!(
                "{gap} (`recommend` removes nothing unless given `--allow-empty-evidence`)"
            ),
        });
    }
    if let Some(n) = unknown_policies(f.organization, f.accounts) {
        out.push(n);
    }
    if let Some(n) = unobservable_agents(&f.agents_unrecorded) {
        out.push(n);
    }
    out
}

/// Why the logs are no evidence for the audited account(s), when they are
/// not: the sentence of the warning, and of the refusal of `recommend` and
/// `alerts`.
pub fn no_evidence(stats: &IngestStats, accounts: &BTreeSet<String>) -> Option<String> {
    if stats.account_records != 0 {
        return None;
    }
    let accounts = if accounts.is_empty() {
        "the audited account".to_string()
    } else {
        let list: Vec<&str> = accounts.iter().map(String::as_str).collect();
        format!("account {}", list.join(", "))
    };
    let s = stats;
    let mut why = Vec::new();
    if s.records == 0 {
        why.push("no record was read".to_string());
    }
    if s.other_account > 0 {
        why.push(format!(
            "{} record(s) belong to other accounts only",
            s.other_account
        ));
    }
    if s.outside_window > 0 {
        why.push(format!(
            "{} record(s) are outside the window",
            s.outside_window
        ));
    }
    if s.records_skipped > 0 {
        why.push(format!("{} record(s) could not be read", s.records_skipped));
    }
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({})", why.join("; "))
    };
    Some(format!(
        "no CloudTrail record in the window belongs to {accounts}{why}: every granted \
         permission looks unused on no evidence; check that the logs are this account's"
    ))
}

/// SCPs and RCPs on an audited account's path whose content is unknown
/// (`"Content": null`): what they allow or deny is taken as unknown.
fn unknown_policies(org: Option<&Organization>, accounts: &BTreeSet<String>) -> Option<Notice> {
    let org = org?;
    let mut unknown: Vec<String> = Vec::new();
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    for p in org.policies.iter().filter(|p| p.content_unknown) {
        let mut on: BTreeSet<String> = BTreeSet::new();
        for a in accounts {
            let Some(path) = org.path(a) else { continue };
            for t in p.targets.iter().filter(|t| path.contains(t)) {
                on.insert(org.target_label(t));
                reached.insert(a);
            }
        }
        if !on.is_empty() {
            unknown.push(format!(
                "{} `{}` ({}) on {}",
                p.kind.as_str(),
                p.name,
                p.id,
                on.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if unknown.is_empty() {
        return None;
    }
    let one = unknown.len() == 1;
    Some(Notice {
        kind: NoticeKind::UnknownOrganizationPolicy,
        text: format!(
            "The content of {} organization polic{} on the path of account {} is unknown (`organization.json` holds `\"Content\": null`): {}. What {} allow or deny is unknown: the actions {} could block are shown as limited, neither blocked nor cleared, and no guardrail is taken from {}.",
            unknown.len(),
            if one { "y" } else { "ies" },
            reached.into_iter().collect::<Vec<_>>().join(", "),
            unknown.join("; "),
            if one { "it may" } else { "they may" },
            if one { "it" } else { "they" },
            if one { "it" } else { "them" },
        ),
    })
}

/// The agents whose Bedrock or AgentCore data events the trails do not
/// record (issue 24's "the report says so at the top").
fn unobservable_agents(agents: &[(&str, Vec<&str>)]) -> Option<Notice> {
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut names: Vec<&str> = Vec::new();
    for (name, t) in agents {
        if !t.is_empty() {
            types.extend(t.iter().copied());
            names.push(name);
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(Notice {
        kind: NoticeKind::UnobservableAgents,
        text: format!(
            "The trails do not record the Bedrock and AgentCore data events {} of {} agent(s) ({}): what they did is unobservable, and their grants there can be neither shown used nor proven unused (rule `agent-use-unobservable`).",
            types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "),
            names.len(),
            names.iter().take(10).map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
        ),
    })
}

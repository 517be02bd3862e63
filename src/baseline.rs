//! Baselines: known findings that a team has accepted, for a while, with a
//! reason and an owner (`--baseline FILE`).
//!
//! A baseline only decides which findings still count; it never changes a
//! finding, never prints and never computes an exit status (the binary does,
//! from [`Applied::kept`]). Every acceptance expires: an expired entry stops
//! accepting, so its findings fail again, and is reported.
//!
//! ```yaml
//! accepted:
//!   - rule: unused-permissions
//!     principal: arn:aws:iam::111122223333:role/legacy-batch   # IAM wildcards allowed
//!     actions: ["ec2:*"]              # optional: every action of the finding must match one
//!     justification: decommissioning in Q1
//!     owner: team-platform@example.com
//!     expires: 2026-12-31             # last day the entry accepts
//! ```

use crate::catalog::{wildcard_match, wildcard_match_case_sensitive, Catalog};
use crate::rules::Finding;
use chrono::NaiveDate;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A baseline file.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// Where it was read from, for messages.
    pub path: PathBuf,
    pub accepted: Vec<Entry>,
}

/// One accepted finding (or family of findings).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A rule id of the registry, exactly.
    pub rule: String,
    /// The principal's ARN; IAM wildcards (`*`, `?`), case-sensitive as IAM compares ARNs.
    pub principal: String,
    /// When present, every action of the finding must match one of these
    /// (IAM wildcards, case-insensitive).
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    pub justification: String,
    pub owner: String,
    /// The last day on which the entry accepts.
    pub expires: NaiveDate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    accepted: Vec<Entry>,
}

/// A baseline file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML, or not the baseline schema (unknown field, missing field, bad date).
    #[error("invalid baseline `{path}`{}: {message}", place(*line, *column))]
    Yaml {
        path: PathBuf,
        /// 1-based, when the parser knows it.
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// An entry that parses but cannot be right.
    #[error("invalid baseline `{path}`: `accepted[{index}]`: {message}")]
    Entry {
        path: PathBuf,
        /// 0-based index in `accepted`.
        index: usize,
        message: String,
    },
}

fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// What a baseline did to a list of findings. Every index refers to the
/// `findings` slice or to [`Baseline::accepted`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Findings still active, in input order: the exit status is computed from these only.
    pub kept: Vec<usize>,
    /// `(finding, entry)`: findings accepted, and the first live entry that accepted each.
    pub accepted: Vec<(usize, usize)>,
    /// Entries past their `expires` date (whether or not they match a finding).
    pub expired_entries: Vec<usize>,
    /// Live entries that accepted no finding: candidates for removal.
    pub unused_entries: Vec<usize>,
    /// `(finding, entry)`: kept findings that an expired entry would have accepted.
    pub reopened: Vec<(usize, usize)>,
}

impl Baseline {
    /// Reads and checks a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(path, &text)
    }

    /// Parses a baseline from text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, BaselineError> {
        let file: File = yaml_serde::from_str(text).map_err(|e| {
            let location = e.location();
            let mut message = e.to_string();
            // The parser appends the place; the error names it once, up front.
            if let Some(l) = &location {
                let suffix = format!(" at line {} column {}", l.line(), l.column());
                if let Some(m) = message.strip_suffix(&suffix) {
                    message = m.to_string();
                }
            }
            BaselineError::Yaml {
                path: path.to_path_buf(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                message,
            }
        })?;
        let err = |index: usize, message: String| BaselineError::Entry {
            path: path.to_path_buf(),
            index,
            message,
        };
        for (i, e) in file.accepted.iter().enumerate() {
            if crate::rules::rule(&e.rule).is_none() {
                return Err(err(i, format!("unknown rule `{}`", e.rule)));
            }
            if e.principal.trim().is_empty() {
                return Err(err(i, "`principal` is empty".into()));
            }
            if e.justification.trim().is_empty() {
                return Err(err(i, "`justification` is empty".into()));
            }
            if e.owner.trim().is_empty() {
                return Err(err(i, "`owner` is empty".into()));
            }
            if let Some(a) = &e.actions {
                if a.is_empty() {
                    return Err(err(
                        i,
                        "`actions` is empty: omit it to accept every action".into(),
                    ));
                }
                if let Some(p) = a.iter().find(|p| p.trim().is_empty()) {
                    return Err(err(i, format!("empty action pattern `{p}`")));
                }
            }
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            accepted: file.accepted,
        })
    }

    /// Decides which findings a baseline accepts on `today`. An entry accepts
    /// through its `expires` day and stops the day after. `cat` is the
    /// catalog the findings were made with.
    pub fn apply(&self, cat: &Catalog, findings: &[Finding], today: NaiveDate) -> Applied {
        let live: Vec<bool> = self.accepted.iter().map(|e| today <= e.expires).collect();
        let mut out = Applied {
            expired_entries: (0..self.accepted.len()).filter(|&i| !live[i]).collect(),
            ..Applied::default()
        };
        let mut used = vec![false; self.accepted.len()];
        for (fi, f) in findings.iter().enumerate() {
            let mut by_live = None;
            let mut by_expired = None;
            for (ei, e) in self.accepted.iter().enumerate() {
                if !e.matches(cat, f) {
                    continue;
                }
                if live[ei] {
                    by_live.get_or_insert(ei);
                    used[ei] = true;
                } else {
                    by_expired.get_or_insert(ei);
                }
            }
            match (by_live, by_expired) {
                (Some(ei), _) => out.accepted.push((fi, ei)),
                (None, expired) => {
                    out.kept.push(fi);
                    if let Some(ei) = expired {
                        out.reopened.push((fi, ei));
                    }
                }
            }
        }
        out.unused_entries = (0..self.accepted.len())
            .filter(|&i| live[i] && !used[i])
            .collect();
        out
    }
}

impl Entry {
    /// Whether the entry covers the finding, ignoring its expiry. A finding
    /// without actions (a dormant principal, a stale key) is covered by the
    /// rule and principal alone. `cat` names the finding's actions.
    pub fn matches(&self, cat: &Catalog, f: &Finding) -> bool {
        self.rule == f.rule
            && wildcard_match_case_sensitive(&self.principal, &f.principal)
            && self.actions.as_ref().is_none_or(|patterns| {
                f.actions
                    .iter()
                    .all(|&a| patterns.iter().any(|p| wildcard_match(p, cat.name(a))))
            })
    }

    /// `rule` on `principal`, for messages.
    pub fn describe(&self) -> String {
        format!("`{}` on `{}`", self.rule, self.principal)
    }
}

impl Applied {
    /// The findings still active.
    pub fn kept_findings<'a>(
        &'a self,
        findings: &'a [Finding],
    ) -> impl Iterator<Item = &'a Finding> {
        self.kept.iter().filter_map(|&i| findings.get(i))
    }

    /// One line per accepted finding, expired entry, reopened finding and
    /// unused entry, for the report or standard error.
    pub fn notes(&self, baseline: &Baseline, findings: &[Finding]) -> Vec<String> {
        let mut out = Vec::new();
        for &(fi, ei) in &self.accepted {
            if let (Some(f), Some(e)) = (findings.get(fi), baseline.accepted.get(ei)) {
                out.push(format!(
                    "accepted: `{}` on `{}` by baseline entry {ei} (owner {}, until {}): {}",
                    f.rule, f.principal, e.owner, e.expires, e.justification
                ));
            }
        }
        for &ei in &self.expired_entries {
            if let Some(e) = baseline.accepted.get(ei) {
                out.push(format!(
                    "expired: baseline entry {ei} {} (owner {}) expired on {}",
                    e.describe(),
                    e.owner,
                    e.expires
                ));
            }
        }
        for &(fi, ei) in &self.reopened {
            if let (Some(f), Some(e)) = (findings.get(fi), baseline.accepted.get(ei)) {
                out.push(format!(
                    "reopened: `{}` on `{}`: baseline entry {ei} (owner {}) expired on {}",
                    f.rule, f.principal, e.owner, e.expires
                ));
            }
        }
        for &ei in &self.unused_entries {
            if let Some(e) = baseline.accepted.get(ei) {
                out.push(format!(
                    "unused: baseline entry {ei} {} matches no finding",
                    e.describe()
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(principal: &str, actions: Option<&[&str]>) -> Entry {
        Entry {
            rule: "unused-permissions".into(),
            principal: principal.into(),
            actions: actions.map(|a| a.iter().map(|s| s.to_string()).collect()),
            justification: "j".into(),
            owner: "o".into(),
            expires: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
        }
    }

    fn finding(principal: &str, actions: &[&str]) -> Finding {
        Finding {
            rule: "unused-permissions",
            severity: crate::rules::Severity::Medium,
            score: 1.0,
            principal: principal.into(),
            kind: crate::model::Kind::Npe,
            actions: actions
                .iter()
                .map(|&s| crate::catalog::Catalog::embedded().lookup(s).unwrap())
                .collect(),
            message: String::new(),
            evidence: Default::default(),
            remediation: "".into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        }
    }

    #[test]
    fn principal_is_case_sensitive_actions_are_not() {
        let cat = Catalog::embedded();
        let e = entry("arn:aws:iam::1:role/app-*", Some(&["EC2:*"]));
        assert!(e.matches(
            cat,
            &finding("arn:aws:iam::1:role/app-x", &["ec2:RunInstances"])
        ));
        assert!(!e.matches(
            cat,
            &finding("arn:aws:iam::1:role/App-x", &["ec2:RunInstances"])
        ));
        assert!(!e.matches(
            cat,
            &finding(
                "arn:aws:iam::1:role/app-x",
                &["ec2:RunInstances", "s3:GetObject"]
            )
        ));
    }
}

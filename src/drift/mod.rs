//! Drift between two `leastpriv.audit/v1` or `/v2` reports (`leastpriv diff
//! OLD NEW`, in any mix):
//! findings that appeared, were resolved or changed, and per principal the
//! grants added or removed and the actions that moved between used, unused
//! and unobservable.
//!
//! This module reads the JSON documents, through its own minimal
//! `Deserialize` types (fields may be added to v1, so unknown fields are
//! ignored), or the principal × action frames that `audit --format
//! parquet|csv` exports (`report::frames`), which carry the permissions but
//! no findings; it never looks at a snapshot. Its own output is
//! `leastpriv.diff/v1`, built from separate `Serialize` types.
//!
//! `read` reads a report or an export, `compare` computes the [`Drift`],
//! and `report` renders it (text and `leastpriv.diff/v1`). This is the last
//! stage: it reads reports as the renderers write them (`report::json`,
//! `report::frames`), and nothing of the crate imports it.

mod compare;
mod read;
pub mod report;

pub use compare::diff;

use std::path::PathBuf;

/// The schemas of the documents this module reads.
pub const INPUT_SCHEMA: &str = crate::report::json::SCHEMA;
pub const INPUT_SCHEMA_V2: &str = crate::report::json::SCHEMA_V2;
/// The schema of [`report::json::render`].
pub const SCHEMA: &str = "leastpriv.diff/v1";

/// A report that cannot be diffed.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("cannot read report `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or a field of the wrong type.
    #[error(
        "invalid report `{path}` at line {line}, column {column}{}: {message}",
        at(json_path)
    )]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Where in the document, e.g. `principals[3].unused[0]`, when known.
        json_path: Option<String>,
        message: String,
    },
    #[error("`{path}` is not a `{INPUT_SCHEMA}` or `{INPUT_SCHEMA_V2}` report (schema {})", found.as_deref().map_or_else(|| "missing".to_string(), |s| format!("`{s}`")))]
    Schema {
        path: PathBuf,
        found: Option<String>,
    },
    /// A v2 action set that does not add up: a service it names by `"*"`
    /// or `except` that `catalog_services` does not list, or a `count`
    /// other than the number of actions it names.
    #[error("invalid report `{path}` at `{json_path}`: {message}")]
    Set {
        path: PathBuf,
        json_path: String,
        message: String,
    },
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Export(#[from] crate::report::frames::FrameError),
    /// An export given to a build without Parquet and CSV support.
    #[error(
        "`{path}` is a Parquet or CSV export; this build of leastpriv reads only JSON reports"
    )]
    ExportUnsupported { path: PathBuf },
    /// A row of an export with a verdict this version does not know.
    #[error("invalid export `{path}`, row {row}: unknown verdict `{verdict}`")]
    Verdict {
        path: PathBuf,
        row: usize,
        verdict: String,
    },
}

fn at(json_path: &Option<String>) -> String {
    json_path
        .as_deref()
        .filter(|p| !p.is_empty() && *p != ".")
        .map(|p| format!(" (`{p}`)"))
        .unwrap_or_default()
}

// ---- the drift ----

/// Where an action stands for a principal in one report: its verdict as
/// the report wrote it (reports from before the one verdict know used,
/// unused and unobservable only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Used,
    UsedFailed,
    Attempted,
    Denied,
    Unused,
    Unobservable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Used => "used",
            Status::UsedFailed => "used-failed",
            Status::Attempted => "attempted",
            Status::Denied => "denied",
            Status::Unused => "unused",
            Status::Unobservable => "unobservable",
        }
    }

    /// The status of a verdict a report wrote, if it is one.
    pub fn of_verdict(v: &str) -> Option<Status> {
        [
            Status::Used,
            Status::UsedFailed,
            Status::Attempted,
            Status::Denied,
            Status::Unused,
            Status::Unobservable,
        ]
        .into_iter()
        .find(|s| s.as_str() == v)
    }
}

/// A finding as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingRef {
    pub rule: String,
    pub severity: String,
    pub principal: String,
    pub actions: Vec<String>,
    pub message: String,
}

/// One finding present in both reports with a different action list or severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingChange {
    pub rule: String,
    pub principal: String,
    pub severity_old: String,
    pub severity_new: String,
    pub actions_added: Vec<String>,
    pub actions_removed: Vec<String>,
    /// The new report's message.
    pub message: String,
}

/// A principal present in one report only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalRef {
    pub arn: String,
    pub name: String,
    pub granted: usize,
    pub used: usize,
}

/// A granted action, with where it stands in the report that has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub action: String,
    pub status: Status,
}

/// An action granted in both reports whose status changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub action: String,
    pub from: Status,
    pub to: Status,
}

/// A denied attempt seen in the new report and not in the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub action: String,
    pub count: u64,
}

/// The permission drift of a principal present in both reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalDrift {
    pub arn: String,
    pub name: String,
    pub granted_old: usize,
    pub granted_new: usize,
    /// Granted in the new report only (status in the new report).
    pub grants_added: Vec<Grant>,
    /// Granted in the old report only (status in the old report).
    pub grants_removed: Vec<Grant>,
    /// Actions in both reports whose status changed, by action. Used without a
    /// grant counts as used.
    pub moved: Vec<Move>,
    pub denied_new: Vec<Denied>,
}

impl PrincipalDrift {
    pub fn is_empty(&self) -> bool {
        self.granted_old == self.granted_new
            && self.grants_added.is_empty()
            && self.grants_removed.is_empty()
            && self.moved.is_empty()
            && self.denied_new.is_empty()
    }

    /// Actions now used (or used, then failed after authorization) that
    /// were not.
    pub fn newly_used(&self) -> impl Iterator<Item = &Move> {
        self.moved
            .iter()
            .filter(|m| matches!(m.to, Status::Used | Status::UsedFailed))
    }

    /// Actions now unused that were used or unobservable.
    pub fn newly_unused(&self) -> impl Iterator<Item = &Move> {
        self.moved.iter().filter(|m| m.to == Status::Unused)
    }
}

/// One report, as named in the drift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRef {
    pub path: PathBuf,
    pub generated_at: Option<String>,
    /// `parquet` or `csv` for a principal × action export (no findings);
    /// `None` for a JSON report.
    pub export: Option<&'static str>,
}

/// Everything that differs between two reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    pub old: ReportRef,
    pub new: ReportRef,
    /// In the new report's order (most urgent first).
    pub findings_new: Vec<FindingRef>,
    /// In the old report's order.
    pub findings_resolved: Vec<FindingRef>,
    pub findings_changed: Vec<FindingChange>,
    pub principals_added: Vec<PrincipalRef>,
    pub principals_removed: Vec<PrincipalRef>,
    /// Principals in both reports with a non-empty drift, in the new report's order.
    pub principals_changed: Vec<PrincipalDrift>,
}

impl Drift {
    /// Findings are compared only between two JSON reports: an export lists
    /// permissions, not findings.
    pub fn findings_compared(&self) -> bool {
        self.old.export.is_none() && self.new.export.is_none()
    }
}

impl Drift {
    /// True when the two reports agree on findings and permissions.
    pub fn is_empty(&self) -> bool {
        self.findings_new.is_empty()
            && self.findings_resolved.is_empty()
            && self.findings_changed.is_empty()
            && self.principals_added.is_empty()
            && self.principals_removed.is_empty()
            && self.principals_changed.is_empty()
    }

    /// Whether a new finding, or a changed finding in its new form, is at or
    /// above `min` (for a `--fail-on` on `diff`). Unknown severities count as failing.
    pub fn worsened(&self, min: crate::rules::Severity) -> bool {
        let at_least = |s: &str| crate::rules::Severity::parse(s).is_none_or(|s| s >= min);
        self.findings_new.iter().any(|f| at_least(&f.severity))
            || self.findings_changed.iter().any(|c| {
                at_least(&c.severity_new)
                    && (!c.actions_added.is_empty() || c.severity_new != c.severity_old)
            })
    }
}

//! Drift between two `leastpriv.audit/v1` reports (`leastpriv diff OLD NEW`):
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

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The schema of the documents this module reads.
pub const INPUT_SCHEMA: &str = crate::report::json::SCHEMA;
/// The schema of [`render_json`].
pub const SCHEMA: &str = "leastpriv.diff/v1";

/// Rules whose action lists shift from run to run (a category gains or loses
/// an action): an unmatched old and new finding of one of these rules on the
/// same principal are one finding that changed, not a resolved and a new one.
const CHANGEABLE_RULES: &[&str] = &[
    "unused-permissions",
    "secrets-access",
    "credential-minting",
    "privilege-escalation",
    "data-exfiltration",
    "resource-exposure",
];

/// The first column of a principal × action export (`report::frames::COLUMNS`,
/// which exists only with the `parquet` feature; a test keeps them equal).
const EXPORT_KEY_COLUMN: &[u8] = b"principal_arn";

/// Lines of one list shown by [`render_text`] before "and N more".
const TEXT_LIST_MAX: usize = 20;

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
    #[error("`{path}` is not a `{INPUT_SCHEMA}` report (schema {})", found.as_deref().map_or_else(|| "missing".to_string(), |s| format!("`{s}`")))]
    Schema {
        path: PathBuf,
        found: Option<String>,
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

// ---- input: the fields of leastpriv.audit/v1 that drift needs ----

#[derive(Deserialize)]
struct HeadIn {
    schema: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DocIn {
    #[serde(default)]
    generated_at: Option<String>,
    principals: Vec<PrincipalIn>,
    findings: Vec<FindingIn>,
    /// Set for an export, which has no findings: `parquet` or `csv`.
    #[serde(skip)]
    export: Option<&'static str>,
}

#[derive(Deserialize)]
struct PrincipalIn {
    arn: String,
    #[serde(default)]
    name: String,
    granted: usize,
    #[serde(default)]
    used: Vec<UsedIn>,
    #[serde(default)]
    unused: Vec<String>,
    #[serde(default)]
    unobservable: Vec<String>,
    #[serde(default)]
    denied: Vec<AttemptIn>,
}

#[derive(Deserialize)]
struct UsedIn {
    action: String,
    #[serde(default = "yes")]
    granted: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct AttemptIn {
    action: String,
    #[serde(default)]
    count: u64,
}

#[derive(Deserialize)]
struct FindingIn {
    rule: String,
    severity: String,
    principal: String,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    message: String,
}

// ---- the drift ----

/// Where an action stands for a principal in one report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Used,
    Unused,
    Unobservable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Used => "used",
            Status::Unused => "unused",
            Status::Unobservable => "unobservable",
        }
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

    /// Actions now used that were unused or unobservable.
    pub fn newly_used(&self) -> impl Iterator<Item = &Move> {
        self.moved.iter().filter(|m| m.to == Status::Used)
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

fn read(path: &Path) -> Result<DocIn, DriftError> {
    let read_err = |source| DriftError::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(read_err)?;
    // Parquet's magic number, or a CSV header row naming the export's key column.
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let csv_header = !first_line.trim_ascii_start().starts_with(b"{")
        && first_line
            .windows(EXPORT_KEY_COLUMN.len())
            .any(|w| w == EXPORT_KEY_COLUMN);
    if bytes.starts_with(b"PAR1") || csv_header {
        return read_export(path, bytes.starts_with(b"PAR1"));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| read_err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    let json_err = |e: serde_json::Error, json_path: Option<String>| DriftError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        json_path,
        message: e.to_string(),
    };
    // The schema first, so that another document gets a clear error rather than
    // a missing field.
    let head: HeadIn = serde_json::from_str(&text).map_err(|e| json_err(e, None))?;
    match head.schema {
        Some(serde_json::Value::String(s)) if s == INPUT_SCHEMA => {}
        other => {
            return Err(DriftError::Schema {
                path: path.to_path_buf(),
                found: other.map(|v| match v {
                    serde_json::Value::String(s) => s,
                    v => v.to_string(),
                }),
            })
        }
    }
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let p = e.path().to_string();
        json_err(e.into_inner(), Some(p))
    })
}

/// An export as the principals of a report: each principal's rows give its
/// used, unused and unobservable actions and its refused attempts, in the
/// order the principals first appear.
#[cfg(feature = "parquet")]
fn read_export(path: &Path, parquet: bool) -> Result<DocIn, DriftError> {
    let rows = crate::report::frames::read_export(path)?;
    let mut principals: Vec<PrincipalIn> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut granted: Vec<BTreeSet<String>> = Vec::new();
    for (i, r) in rows.into_iter().enumerate() {
        let at = *index.entry(r.principal_arn.clone()).or_insert_with(|| {
            principals.push(PrincipalIn {
                arn: r.principal_arn.clone(),
                name: r.principal_name.clone(),
                granted: 0,
                used: vec![],
                unused: vec![],
                unobservable: vec![],
                denied: vec![],
            });
            granted.push(BTreeSet::new());
            principals.len() - 1
        });
        let p = &mut principals[at];
        match r.verdict.as_str() {
            "used" => p.used.push(UsedIn {
                action: r.action.clone(),
                granted: r.granted,
            }),
            "unused" => p.unused.push(r.action.clone()),
            "unobservable" => p.unobservable.push(r.action.clone()),
            "denied" => p.denied.push(AttemptIn {
                action: r.action.clone(),
                count: r.count,
            }),
            // A failed call is neither use nor a refusal; reports do not diff it.
            "failed" => continue,
            other => {
                return Err(DriftError::Verdict {
                    path: path.to_path_buf(),
                    row: i + 1,
                    verdict: other.to_string(),
                })
            }
        }
        if r.granted && matches!(r.verdict.as_str(), "used" | "unused" | "unobservable") {
            granted[at].insert(r.action);
        }
    }
    for (p, g) in principals.iter_mut().zip(&granted) {
        p.granted = g.len();
    }
    Ok(DocIn {
        generated_at: None,
        principals,
        findings: vec![],
        export: Some(if parquet { "parquet" } else { "csv" }),
    })
}

#[cfg(not(feature = "parquet"))]
fn read_export(path: &Path, _parquet: bool) -> Result<DocIn, DriftError> {
    Err(DriftError::ExportUnsupported {
        path: path.to_path_buf(),
    })
}

fn finding_ref(f: &FindingIn) -> FindingRef {
    FindingRef {
        rule: f.rule.clone(),
        severity: f.severity.clone(),
        principal: f.principal.clone(),
        actions: f.actions.clone(),
        message: f.message.clone(),
    }
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut s: Vec<&str> = v.iter().map(String::as_str).collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn diff_findings(old: &[FindingIn], new: &[FindingIn], d: &mut Drift) {
    // Identity: rule, principal and the sorted actions; duplicates match one to one.
    let key = |f: &'_ FindingIn| -> (String, String, Vec<String>) {
        (
            f.rule.clone(),
            f.principal.clone(),
            sorted(&f.actions).into_iter().map(str::to_string).collect(),
        )
    };
    let mut pool: BTreeMap<(String, String, Vec<String>), Vec<usize>> = BTreeMap::new();
    for (i, f) in old.iter().enumerate().rev() {
        pool.entry(key(f)).or_default().push(i);
    }
    let mut old_matched = vec![false; old.len()];
    let mut new_unmatched = Vec::new();
    let mut exact: Vec<(usize, usize)> = Vec::new();
    for (j, f) in new.iter().enumerate() {
        match pool.get_mut(&key(f)).and_then(Vec::pop) {
            Some(i) => {
                old_matched[i] = true;
                exact.push((i, j));
            }
            None => new_unmatched.push(j),
        }
    }
    let old_unmatched: Vec<usize> = (0..old.len()).filter(|&i| !old_matched[i]).collect();

    // Changeable rules: pair what is left on rule and principal, when that pair
    // is unambiguous on both sides.
    let count = |idx: &[usize], list: &[FindingIn], r: &str, p: &str| {
        idx.iter()
            .filter(|&&k| list[k].rule == r && list[k].principal == p)
            .count()
    };
    let mut paired: Vec<(usize, usize)> = Vec::new();
    for &j in &new_unmatched {
        let f = &new[j];
        if !CHANGEABLE_RULES.contains(&f.rule.as_str()) {
            continue;
        }
        if count(&new_unmatched, new, &f.rule, &f.principal) != 1
            || count(&old_unmatched, old, &f.rule, &f.principal) != 1
        {
            continue;
        }
        if let Some(&i) = old_unmatched
            .iter()
            .find(|&&i| old[i].rule == f.rule && old[i].principal == f.principal)
        {
            paired.push((i, j));
        }
    }
    let paired_old: BTreeSet<usize> = paired.iter().map(|p| p.0).collect();
    let paired_new: BTreeSet<usize> = paired.iter().map(|p| p.1).collect();

    let mut changes: Vec<(usize, FindingChange)> = Vec::new();
    for &(i, j) in exact.iter().chain(&paired) {
        let (o, n) = (&old[i], &new[j]);
        let (so, sn) = (sorted(&o.actions), sorted(&n.actions));
        let added: Vec<String> = sn
            .iter()
            .filter(|a| so.binary_search(a).is_err())
            .map(|a| a.to_string())
            .collect();
        let removed: Vec<String> = so
            .iter()
            .filter(|a| sn.binary_search(a).is_err())
            .map(|a| a.to_string())
            .collect();
        if added.is_empty() && removed.is_empty() && o.severity == n.severity {
            continue;
        }
        changes.push((
            j,
            FindingChange {
                rule: n.rule.clone(),
                principal: n.principal.clone(),
                severity_old: o.severity.clone(),
                severity_new: n.severity.clone(),
                actions_added: added,
                actions_removed: removed,
                message: n.message.clone(),
            },
        ));
    }
    changes.sort_by_key(|c| c.0);
    d.findings_changed = changes.into_iter().map(|c| c.1).collect();
    d.findings_new = new_unmatched
        .iter()
        .filter(|j| !paired_new.contains(j))
        .map(|&j| finding_ref(&new[j]))
        .collect();
    d.findings_resolved = old_unmatched
        .iter()
        .filter(|i| !paired_old.contains(i))
        .map(|&i| finding_ref(&old[i]))
        .collect();
}

fn statuses(p: &PrincipalIn) -> (BTreeMap<&str, Status>, BTreeSet<&str>) {
    let mut status = BTreeMap::new();
    let mut granted = BTreeSet::new();
    for a in &p.unobservable {
        status.insert(a.as_str(), Status::Unobservable);
        granted.insert(a.as_str());
    }
    for a in &p.unused {
        status.insert(a.as_str(), Status::Unused);
        granted.insert(a.as_str());
    }
    for u in &p.used {
        status.insert(u.action.as_str(), Status::Used);
        if u.granted {
            granted.insert(u.action.as_str());
        }
    }
    (status, granted)
}

fn diff_principal(o: &PrincipalIn, n: &PrincipalIn) -> PrincipalDrift {
    let (so, go) = statuses(o);
    let (sn, gn) = statuses(n);
    let grant = |a: &str, s: &BTreeMap<&str, Status>| Grant {
        action: a.to_string(),
        status: s.get(a).copied().unwrap_or(Status::Used),
    };
    let old_denied: BTreeSet<&str> = o.denied.iter().map(|x| x.action.as_str()).collect();
    PrincipalDrift {
        arn: n.arn.clone(),
        name: n.name.clone(),
        granted_old: o.granted,
        granted_new: n.granted,
        grants_added: gn.difference(&go).map(|a| grant(a, &sn)).collect(),
        grants_removed: go.difference(&gn).map(|a| grant(a, &so)).collect(),
        moved: sn
            .iter()
            .filter_map(|(a, &to)| match so.get(a) {
                Some(&from) if from != to => Some(Move {
                    action: a.to_string(),
                    from,
                    to,
                }),
                _ => None,
            })
            .collect(),
        denied_new: n
            .denied
            .iter()
            .filter(|x| !old_denied.contains(x.action.as_str()))
            .map(|x| Denied {
                action: x.action.clone(),
                count: x.count,
            })
            .collect(),
    }
}

fn principal_ref(p: &PrincipalIn) -> PrincipalRef {
    PrincipalRef {
        arn: p.arn.clone(),
        name: p.name.clone(),
        granted: p.granted,
        used: p.used.len(),
    }
}

/// Reads two `leastpriv.audit/v1` reports and computes what changed from `old` to `new`.
pub fn diff(old: &Path, new: &Path) -> Result<Drift, DriftError> {
    let o = read(old)?;
    let n = read(new)?;
    let mut d = Drift {
        old: ReportRef {
            path: old.to_path_buf(),
            generated_at: o.generated_at.clone(),
            export: o.export,
        },
        new: ReportRef {
            path: new.to_path_buf(),
            generated_at: n.generated_at.clone(),
            export: n.export,
        },
        findings_new: vec![],
        findings_resolved: vec![],
        findings_changed: vec![],
        principals_added: vec![],
        principals_removed: vec![],
        principals_changed: vec![],
    };
    if d.findings_compared() {
        diff_findings(&o.findings, &n.findings, &mut d);
    }
    // An ARN listed twice is a broken report; the first one counts.
    let mut old_by_arn: BTreeMap<&str, &PrincipalIn> = BTreeMap::new();
    for p in o.principals.iter().rev() {
        old_by_arn.insert(&p.arn, p);
    }
    let new_arns: BTreeSet<&str> = n.principals.iter().map(|p| p.arn.as_str()).collect();
    let mut seen = BTreeSet::new();
    for p in &n.principals {
        if !seen.insert(p.arn.as_str()) {
            continue;
        }
        match old_by_arn.get(p.arn.as_str()) {
            None => d.principals_added.push(principal_ref(p)),
            Some(op) => {
                let pd = diff_principal(op, p);
                if !pd.is_empty() {
                    d.principals_changed.push(pd);
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    d.principals_removed = o
        .principals
        .iter()
        .filter(|p| !new_arns.contains(p.arn.as_str()) && seen.insert(p.arn.as_str()))
        .map(principal_ref)
        .collect();
    Ok(d)
}

// ---- text ----

fn list(out: &mut String, indent: &str, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    for s in items.take(TEXT_LIST_MAX) {
        out.push_str(indent);
        out.push_str(&s);
        out.push('\n');
    }
    if n > TEXT_LIST_MAX {
        out.push_str(&format!("{indent}... and {} more\n", n - TEXT_LIST_MAX));
    }
}

fn actions_short(a: &[String]) -> String {
    match a.len() {
        0 => String::new(),
        1..=3 => format!(" [{}]", a.join(", ")),
        n => format!(" [{}, ... {} more]", a[..3].join(", "), n - 3),
    }
}

/// A readable account of the drift.
pub fn render_text(d: &Drift) -> String {
    let mut out = String::new();
    let when = |r: &ReportRef| match (&r.generated_at, r.export) {
        (Some(g), _) => format!(" ({g})"),
        (None, Some(f)) => format!(" ({f} export)"),
        (None, None) => String::new(),
    };
    out.push_str(&format!(
        "leastpriv diff\n  old: {}{}\n  new: {}{}\n\n",
        d.old.path.display(),
        when(&d.old),
        d.new.path.display(),
        when(&d.new)
    ));
    if !d.findings_compared() {
        out.push_str("findings: not compared (an export lists permissions, not findings)\n\n");
    }
    if d.is_empty() {
        out.push_str(if d.findings_compared() {
            "no drift: same findings and same permissions\n"
        } else {
            "no drift: same permissions\n"
        });
        return out;
    }
    out.push_str(&format!(
        "findings: {} new, {} resolved, {} changed\nprincipals: {} added, {} removed, {} changed\n",
        d.findings_new.len(),
        d.findings_resolved.len(),
        d.findings_changed.len(),
        d.principals_added.len(),
        d.principals_removed.len(),
        d.principals_changed.len()
    ));
    let finding = |f: &FindingRef| {
        format!(
            "{:<8} {} {}{}",
            f.severity,
            f.rule,
            f.principal,
            actions_short(&f.actions)
        )
    };
    if !d.findings_new.is_empty() {
        out.push_str("\nnew findings:\n");
        list(&mut out, "  + ", d.findings_new.iter().map(finding));
    }
    if !d.findings_resolved.is_empty() {
        out.push_str("\nresolved findings:\n");
        list(&mut out, "  - ", d.findings_resolved.iter().map(finding));
    }
    if !d.findings_changed.is_empty() {
        out.push_str("\nchanged findings:\n");
        for c in &d.findings_changed {
            let sev = if c.severity_old == c.severity_new {
                c.severity_new.clone()
            } else {
                format!("{} -> {}", c.severity_old, c.severity_new)
            };
            out.push_str(&format!("  ~ {} {} ({sev})\n", c.rule, c.principal));
            list(&mut out, "      + ", c.actions_added.iter().cloned());
            list(&mut out, "      - ", c.actions_removed.iter().cloned());
        }
    }
    if !d.principals_added.is_empty() {
        out.push_str("\nprincipals added:\n");
        list(
            &mut out,
            "  + ",
            d.principals_added
                .iter()
                .map(|p| format!("{} ({} granted, {} used)", p.arn, p.granted, p.used)),
        );
    }
    if !d.principals_removed.is_empty() {
        out.push_str("\nprincipals removed:\n");
        list(
            &mut out,
            "  - ",
            d.principals_removed
                .iter()
                .map(|p| format!("{} ({} granted, {} used)", p.arn, p.granted, p.used)),
        );
    }
    if !d.principals_changed.is_empty() {
        out.push_str("\npermission drift:\n");
        for p in &d.principals_changed {
            out.push_str(&format!("  {}\n", p.arn));
            if p.granted_old != p.granted_new {
                out.push_str(&format!(
                    "    granted: {} -> {}\n",
                    p.granted_old, p.granted_new
                ));
            }
            let grants = |g: &[Grant]| -> Vec<String> {
                g.iter()
                    .map(|g| format!("{} ({})", g.action, g.status.as_str()))
                    .collect()
            };
            if !p.grants_added.is_empty() {
                out.push_str("    grants added:\n");
                list(&mut out, "      + ", grants(&p.grants_added).into_iter());
            }
            if !p.grants_removed.is_empty() {
                out.push_str("    grants removed:\n");
                list(&mut out, "      - ", grants(&p.grants_removed).into_iter());
            }
            for (title, to) in [
                ("newly used", Status::Used),
                ("newly unused", Status::Unused),
                ("newly unobservable", Status::Unobservable),
            ] {
                let moves: Vec<String> = p
                    .moved
                    .iter()
                    .filter(|m| m.to == to)
                    .map(|m| format!("{} (was {})", m.action, m.from.as_str()))
                    .collect();
                if !moves.is_empty() {
                    out.push_str(&format!("    {title}:\n"));
                    list(&mut out, "      ", moves.into_iter());
                }
            }
            if !p.denied_new.is_empty() {
                out.push_str("    new denied attempts:\n");
                list(
                    &mut out,
                    "      ! ",
                    p.denied_new
                        .iter()
                        .map(|x| format!("{} ({}x)", x.action, x.count)),
                );
            }
        }
    }
    out
}

// ---- leastpriv.diff/v1 ----

#[derive(Serialize)]
struct DiffV1<'a> {
    schema: &'static str,
    old: ReportV1<'a>,
    new: ReportV1<'a>,
    summary: SummaryV1,
    findings: FindingsV1<'a>,
    principals: PrincipalsV1<'a>,
}

#[derive(Serialize)]
struct ReportV1<'a> {
    path: String,
    generated_at: Option<&'a str>,
    /// `parquet` or `csv` when the input was an export rather than a report.
    #[serde(skip_serializing_if = "Option::is_none")]
    export: Option<&'static str>,
}

#[derive(Serialize)]
struct SummaryV1 {
    empty: bool,
    /// False when either input is an export, which carries no findings.
    findings_compared: bool,
    findings_new: usize,
    findings_resolved: usize,
    findings_changed: usize,
    principals_added: usize,
    principals_removed: usize,
    principals_changed: usize,
}

#[derive(Serialize)]
struct FindingsV1<'a> {
    new: Vec<FindingV1<'a>>,
    resolved: Vec<FindingV1<'a>>,
    changed: Vec<ChangeV1<'a>>,
}

#[derive(Serialize)]
struct FindingV1<'a> {
    rule: &'a str,
    severity: &'a str,
    principal: &'a str,
    actions: &'a [String],
    message: &'a str,
}

#[derive(Serialize)]
struct ChangeV1<'a> {
    rule: &'a str,
    principal: &'a str,
    severity_old: &'a str,
    severity_new: &'a str,
    actions_added: &'a [String],
    actions_removed: &'a [String],
    message: &'a str,
}

#[derive(Serialize)]
struct PrincipalsV1<'a> {
    added: Vec<PrincipalRefV1<'a>>,
    removed: Vec<PrincipalRefV1<'a>>,
    changed: Vec<PrincipalDriftV1<'a>>,
}

#[derive(Serialize)]
struct PrincipalRefV1<'a> {
    arn: &'a str,
    name: &'a str,
    granted: usize,
    used: usize,
}

#[derive(Serialize)]
struct PrincipalDriftV1<'a> {
    arn: &'a str,
    name: &'a str,
    granted_old: usize,
    granted_new: usize,
    grants_added: Vec<GrantV1<'a>>,
    grants_removed: Vec<GrantV1<'a>>,
    newly_used: Vec<MoveV1<'a>>,
    newly_unused: Vec<MoveV1<'a>>,
    newly_unobservable: Vec<MoveV1<'a>>,
    denied_new: Vec<DeniedV1<'a>>,
}

#[derive(Serialize)]
struct GrantV1<'a> {
    action: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct MoveV1<'a> {
    action: &'a str,
    was: &'static str,
}

#[derive(Serialize)]
struct DeniedV1<'a> {
    action: &'a str,
    count: u64,
}

fn finding_v1(f: &FindingRef) -> FindingV1<'_> {
    FindingV1 {
        rule: &f.rule,
        severity: &f.severity,
        principal: &f.principal,
        actions: &f.actions,
        message: &f.message,
    }
}

fn principal_ref_v1(p: &PrincipalRef) -> PrincipalRefV1<'_> {
    PrincipalRefV1 {
        arn: &p.arn,
        name: &p.name,
        granted: p.granted,
        used: p.used,
    }
}

fn report_v1(r: &ReportRef) -> ReportV1<'_> {
    ReportV1 {
        path: r.path.display().to_string(),
        generated_at: r.generated_at.as_deref(),
        export: r.export,
    }
}

fn grants_v1(g: &[Grant]) -> Vec<GrantV1<'_>> {
    g.iter()
        .map(|g| GrantV1 {
            action: &g.action,
            status: g.status.as_str(),
        })
        .collect()
}

fn moves_v1(p: &PrincipalDrift, to: Status) -> Vec<MoveV1<'_>> {
    p.moved
        .iter()
        .filter(|m| m.to == to)
        .map(|m| MoveV1 {
            action: &m.action,
            was: m.from.as_str(),
        })
        .collect()
}

/// The drift as a `leastpriv.diff/v1` JSON document (pretty, newline-terminated).
pub fn render_json(d: &Drift) -> String {
    let doc = DiffV1 {
        schema: SCHEMA,
        old: report_v1(&d.old),
        new: report_v1(&d.new),
        summary: SummaryV1 {
            empty: d.is_empty(),
            findings_compared: d.findings_compared(),
            findings_new: d.findings_new.len(),
            findings_resolved: d.findings_resolved.len(),
            findings_changed: d.findings_changed.len(),
            principals_added: d.principals_added.len(),
            principals_removed: d.principals_removed.len(),
            principals_changed: d.principals_changed.len(),
        },
        findings: FindingsV1 {
            new: d.findings_new.iter().map(finding_v1).collect(),
            resolved: d.findings_resolved.iter().map(finding_v1).collect(),
            changed: d
                .findings_changed
                .iter()
                .map(|c| ChangeV1 {
                    rule: &c.rule,
                    principal: &c.principal,
                    severity_old: &c.severity_old,
                    severity_new: &c.severity_new,
                    actions_added: &c.actions_added,
                    actions_removed: &c.actions_removed,
                    message: &c.message,
                })
                .collect(),
        },
        principals: PrincipalsV1 {
            added: d.principals_added.iter().map(principal_ref_v1).collect(),
            removed: d.principals_removed.iter().map(principal_ref_v1).collect(),
            changed: d
                .principals_changed
                .iter()
                .map(|p| PrincipalDriftV1 {
                    arn: &p.arn,
                    name: &p.name,
                    granted_old: p.granted_old,
                    granted_new: p.granted_new,
                    grants_added: grants_v1(&p.grants_added),
                    grants_removed: grants_v1(&p.grants_removed),
                    newly_used: moves_v1(p, Status::Used),
                    newly_unused: moves_v1(p, Status::Unused),
                    newly_unobservable: moves_v1(p, Status::Unobservable),
                    denied_new: p
                        .denied_new
                        .iter()
                        .map(|x| DeniedV1 {
                            action: &x.action,
                            count: x.count,
                        })
                        .collect(),
                })
                .collect(),
        },
    };
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(all(test, feature = "parquet"))]
mod export_tests {
    #[test]
    fn the_export_key_column_is_the_frames_first() {
        assert_eq!(
            super::EXPORT_KEY_COLUMN,
            crate::report::frames::COLUMNS[0].as_bytes()
        );
    }
}

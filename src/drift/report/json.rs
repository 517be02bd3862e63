//! The drift as `leastpriv.diff/v1`: its own `Serialize` types, never the
//! drift's.

use crate::drift::{
    Drift, FindingRef, Grant, PrincipalDrift, PrincipalRef, ReportRef, Status, SCHEMA,
};
use serde::Serialize;

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
    /// Actions whose verdict became used-failed, attempted or denied
    /// (reports since the one verdict), with the new verdict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    newly_failed_or_refused: Vec<RecordedMoveV1<'a>>,
    denied_new: Vec<DeniedV1<'a>>,
}

#[derive(Serialize)]
struct RecordedMoveV1<'a> {
    action: &'a str,
    now: &'static str,
    was: &'static str,
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
pub fn render(d: &Drift) -> String {
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
                    newly_failed_or_refused: p
                        .moved
                        .iter()
                        .filter(|m| {
                            matches!(
                                m.to,
                                Status::UsedFailed | Status::Attempted | Status::Denied
                            )
                        })
                        .map(|m| RecordedMoveV1 {
                            action: &m.action,
                            now: m.to.as_str(),
                            was: m.from.as_str(),
                        })
                        .collect(),
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

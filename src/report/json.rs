//! `leastpriv.audit/v1`: the frozen JSON shape. Fields may be added; the
//! documented ones are never renamed or retyped. These types are the schema;
//! internal types never derive `Serialize`.

use super::time;
use crate::audit::{Audit, WindowSource};
use crate::catalog::{ActionId, Catalog};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA: &str = "leastpriv.audit/v1";

#[derive(Serialize)]
pub struct AuditV1<'a> {
    pub schema: &'static str,
    pub generated_at: String,
    pub tool: ToolV1,
    pub window: WindowV1,
    pub coverage: CoverageV1,
    pub principals: PrincipalsV1<'a>,
    /// Identities in the logs that are not principals of the snapshot.
    pub other_identities: Vec<OtherV1>,
    pub findings: FindingsV1<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineV1>,
}

#[derive(Serialize)]
pub struct ToolV1 {
    pub name: &'static str,
    pub version: &'static str,
    pub catalog_date: String,
    pub catalog_source: String,
    pub catalog_actions: usize,
}

#[derive(Serialize)]
pub struct WindowV1 {
    pub start: Option<String>,
    pub end: Option<String>,
    /// `options` (--since/--until), `records` (first and last event), or `none`.
    pub source: &'static str,
}

#[derive(Serialize)]
pub struct CoverageV1 {
    pub files: u64,
    pub files_failed: u64,
    pub digest_files_skipped: u64,
    pub records: u64,
    pub records_skipped: u64,
    pub records_duplicate: u64,
    pub records_outside_window: u64,
    pub records_aws_service: u64,
    pub records_mapped: u64,
    pub records_no_permission: u64,
    pub records_not_iam: u64,
    pub records_unmapped: u64,
    pub unmapped_events: BTreeMap<String, u64>,
    pub problems: Vec<ProblemV1>,
    /// sha256 of each single-file input (iam.json, credential report, trails.json).
    pub inputs: Vec<InputV1>,
    pub trails: TrailsV1,
    pub missing_policies: Vec<String>,
}

#[derive(Serialize)]
pub struct TrailsV1 {
    /// True when no trails.json was given and management events only were assumed.
    pub assumed: bool,
    pub trails: Vec<String>,
    pub management_read: bool,
    pub management_write: bool,
    pub excluded_sources: Vec<String>,
    /// Trails that record one region only, as `trail (region)`.
    pub single_region: Vec<String>,
    pub data_events: Vec<DataSelectorV1>,
}

#[derive(Serialize)]
pub struct DataSelectorV1 {
    pub resource_type: String,
    pub arn_patterns: Vec<String>,
    pub excluded: Vec<String>,
    pub read_write: &'static str,
}

#[derive(Serialize)]
pub struct InputV1 {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Serialize)]
pub struct ProblemV1 {
    pub file: String,
    pub location: String,
    pub message: String,
}

#[derive(Serialize)]
pub struct PrincipalV1 {
    pub arn: String,
    pub name: String,
    #[serde(rename = "type")]
    pub principal_type: &'static str,
    pub path: String,
    pub kind: &'static str,
    pub kind_reason: String,
    pub granted: usize,
    pub granted_conditional: usize,
    pub used: Vec<UsedV1>,
    pub unused: ActionNames,
    pub unobservable: ActionNames,
    pub unobservable_reasons: BTreeMap<String, ActionNames>,
    pub denied: Vec<AttemptV1>,
    pub failed: Vec<AttemptV1>,
    pub source_identities: usize,
    pub sessions: usize,
    /// Who (or what) acted through this principal: end users, sessions, tags.
    pub on_behalf_of: OnBehalfV1,
    pub records: u64,
    pub last_activity: Option<String>,
    /// Access Advisor's accesses inside the window, with the trail's verdict
    /// (present only when the snapshot has last-accessed data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_advisor: Vec<AdvisorV1>,
}

#[derive(Serialize)]
pub struct AdvisorV1 {
    /// `service:Action`, or `service:*` where Access Advisor tracks only the service.
    pub action: String,
    pub last_accessed: String,
    pub region: Option<String>,
    pub trail_verdict: &'static str,
}

#[derive(Serialize)]
pub struct OnBehalfV1 {
    /// Distinct `sourceIdentity` values with their call counts.
    pub source_identities: BTreeMap<String, u64>,
    /// Session names with their call counts.
    pub session_names: BTreeMap<String, u64>,
    /// Session tags requested by AssumeRole calls for this role.
    pub session_tags: BTreeMap<String, Vec<String>>,
    /// Resources touched per end user (sample).
    pub resources_by_source_identity: BTreeMap<String, Vec<String>>,
    /// Calls made in sessions that carried no source identity.
    pub calls_without_source_identity: u64,
}

#[derive(Serialize)]
pub struct UsedV1 {
    pub action: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub resources: Vec<String>,
    pub resources_truncated: bool,
    pub granted: bool,
    pub conditional: bool,
    pub invoked_by: crate::usage::aggregate::Counts,
}

#[derive(Serialize)]
pub struct AttemptV1 {
    pub action: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub granted: bool,
    pub error_codes: crate::usage::aggregate::Counts,
    pub resources: Vec<String>,
}

#[derive(Serialize)]
pub struct OtherV1 {
    pub arn: String,
    pub identity: &'static str,
    pub records: u64,
    pub actions: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

#[derive(Serialize)]
pub struct FindingV1<'a> {
    pub rule: &'static str,
    pub severity: &'static str,
    pub score: f64,
    pub principal: &'a str,
    pub kind: &'static str,
    pub actions: SharedNames<'a>,
    pub message: &'a str,
    pub evidence: &'a crate::rules::Evidence,
    pub remediation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'a serde_json::Value>,
    /// Set when a baseline entry accepts the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedV1>,
}

#[derive(Serialize)]
pub struct AcceptedV1 {
    pub justification: String,
    pub owner: String,
    pub expires: String,
}

#[derive(Serialize)]
pub struct BaselineV1 {
    pub path: String,
    pub accepted: usize,
    /// Entries past their expiry date: the findings they covered count again.
    pub expired_entries: Vec<String>,
    /// Entries in date that matched no finding.
    pub unused_entries: Vec<String>,
}

fn attempt(cat: &Catalog, a: &crate::diff::Attempt) -> AttemptV1 {
    AttemptV1 {
        action: cat.full_name(a.action),
        count: a.stats.count,
        first_seen: time(a.stats.first),
        last_seen: time(a.stats.last),
        granted: a.granted,
        error_codes: a.stats.error_codes.clone(),
        resources: a.stats.resources.to_vec(),
    }
}

/// A list of actions, serialized as their `service:Action` names. Ids, not
/// strings, until written: an account's unused lists run to millions of
/// entries, and the report is streamed rather than built as text.
pub struct ActionNames(pub Vec<crate::catalog::ActionId>);

impl Serialize for ActionNames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = Catalog::embedded();
        s.collect_seq(self.0.iter().map(|&id| cat.name(id)))
    }
}

/// A finding's actions (`Finding::actions`), borrowed, serialized as their
/// names.
pub struct SharedNames<'a>(pub &'a [ActionId]);

impl Serialize for SharedNames<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = Catalog::embedded();
        s.collect_seq(self.0.iter().map(|&id| cat.name(id)))
    }
}

/// One principal's part of the document, built when it is written.
fn principal(cat: &Catalog, ap: &crate::audit::AuditedPrincipal) -> PrincipalV1 {
    let a = &ap.audit;
    let mut reasons: BTreeMap<String, ActionNames> = BTreeMap::new();
    for (id, why) in a.unobservable().iter() {
        reasons
            .entry(why.code().to_string())
            .or_insert_with(|| ActionNames(Vec::new()))
            .0
            .push(*id);
    }
    PrincipalV1 {
        arn: a.principal.arn.clone(),
        name: a.principal.name.clone(),
        principal_type: a.principal.principal_type.as_str(),
        path: a.principal.path.clone(),
        kind: ap.kind.as_str(),
        kind_reason: ap.kind_reason.clone(),
        granted: a.grants.granted.len(),
        granted_conditional: a.grants.conditional.len(),
        used: a
            .used
            .iter()
            .map(|u| UsedV1 {
                action: cat.full_name(u.action),
                count: u.stats.count,
                first_seen: time(u.stats.first),
                last_seen: time(u.stats.last),
                resources: u.stats.resources.to_vec(),
                resources_truncated: u.stats.resources_truncated,
                granted: u.granted,
                conditional: u.conditional,
                invoked_by: u.stats.invoked_by.clone(),
            })
            .collect(),
        unused: ActionNames(a.unused().iter().collect()),
        unobservable: ActionNames(a.unobservable().iter().map(|(id, _)| *id).collect()),
        unobservable_reasons: reasons,
        denied: a.denied.iter().map(|d| attempt(cat, d)).collect(),
        failed: a.failed.iter().map(|d| attempt(cat, d)).collect(),
        source_identities: a.activity.as_ref().map_or(0, |x| x.source_identities.len()),
        sessions: a.activity.as_ref().map_or(0, |x| x.sessions.len()),
        on_behalf_of: OnBehalfV1 {
            source_identities: a
                .activity
                .as_ref()
                .map(|x| x.source_identities.clone())
                .unwrap_or_default(),
            session_names: a
                .activity
                .as_ref()
                .map(|x| x.sessions.clone())
                .unwrap_or_default(),
            session_tags: a
                .sessions_granted
                .as_ref()
                .map(|s| {
                    s.tags
                        .iter()
                        .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                        .collect()
                })
                .unwrap_or_default(),
            resources_by_source_identity: a
                .activity
                .as_ref()
                .map(|x| {
                    x.resources_by_source_identity
                        .iter()
                        .map(|(k, v)| (k.clone(), v.to_vec()))
                        .collect()
                })
                .unwrap_or_default(),
            calls_without_source_identity: a
                .activity
                .as_ref()
                .map_or(0, |x| x.sessions_without_source_identity),
        },
        records: a.activity.as_ref().map_or(0, |x| x.records),
        last_activity: a
            .activity
            .as_ref()
            .filter(|x| x.records > 0)
            .map(|x| time(x.last)),
        access_advisor: ap
            .advisor
            .iter()
            .map(|n| AdvisorV1 {
                action: n.action.clone(),
                last_accessed: time(n.last_accessed),
                region: n.region.clone(),
                trail_verdict: n.trail_verdict,
            })
            .collect(),
    }
}

/// The principals, serialized one at a time: a 10,000-principal account's
/// unused lists run to a hundred million names, which are never all built.
pub struct PrincipalsV1<'a>(&'a Audit);

impl Serialize for PrincipalsV1<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = Catalog::embedded();
        s.collect_seq(self.0.principals.iter().map(|ap| principal(cat, ap)))
    }
}

/// The findings, serialized one at a time, borrowing the audit's text.
pub struct FindingsV1<'a>(&'a Audit);

impl Serialize for FindingsV1<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let audit = self.0;
        s.collect_seq(audit.findings.iter().enumerate().map(|(i, f)| FindingV1 {
            accepted: audit.acceptance(i).map(|e| AcceptedV1 {
                justification: e.justification.clone(),
                owner: e.owner.clone(),
                expires: e.expires.to_string(),
            }),
            rule: f.rule,
            severity: f.severity.as_str(),
            score: (f.score * 10.0).round() / 10.0,
            principal: &f.principal,
            kind: f.kind.as_str(),
            actions: SharedNames(&f.actions),
            message: &f.message,
            evidence: &f.evidence,
            remediation: &f.remediation,
            fix: f.fix.as_deref(),
        }))
    }
}

/// The tool and catalog behind a report.
pub fn tool(audit: &Audit) -> ToolV1 {
    ToolV1 {
        name: "leastpriv",
        version: env!("CARGO_PKG_VERSION"),
        catalog_date: audit.catalog_date.clone(),
        catalog_source: audit.catalog_source.clone(),
        catalog_actions: audit.catalog_actions,
    }
}

/// The time window a report's activity covers.
pub fn window(audit: &Audit) -> WindowV1 {
    WindowV1 {
        start: audit.window.start.map(time),
        end: audit.window.end.map(time),
        source: match audit.window.source {
            WindowSource::Options => "options",
            WindowSource::Records => "records",
            WindowSource::None => "none",
        },
    }
}

/// Builds the v1 document.
pub fn build(audit: &Audit) -> AuditV1<'_> {
    let cat = Catalog::embedded();
    let s = &audit.stats;
    let t = &audit.trails;
    AuditV1 {
        schema: SCHEMA,
        generated_at: time(audit.generated_at),
        tool: tool(audit),
        window: window(audit),
        coverage: CoverageV1 {
            files: s.files,
            files_failed: s.files_failed,
            digest_files_skipped: s.digest_files,
            records: s.records,
            records_skipped: s.records_skipped,
            records_duplicate: s.duplicates,
            records_outside_window: s.outside_window,
            records_aws_service: s.service_records,
            records_mapped: s.mapped,
            records_no_permission: s.no_permission,
            records_not_iam: s.not_iam,
            records_unmapped: s.unmapped,
            unmapped_events: s.unmapped_events.clone(),
            problems: audit
                .problems
                .iter()
                .map(|p| ProblemV1 {
                    file: p.file.display().to_string(),
                    location: p.location.clone(),
                    message: p.message.clone(),
                })
                .collect(),
            inputs: audit
                .input_hashes
                .iter()
                .map(|h| InputV1 {
                    path: h.path.display().to_string(),
                    sha256: h.sha256.clone(),
                    bytes: h.bytes,
                })
                .collect(),
            trails: TrailsV1 {
                assumed: t.assumed,
                trails: t.trails.clone(),
                management_read: t.management_read,
                management_write: t.management_write,
                excluded_sources: t.excluded_sources.clone(),
                single_region: t.single_region.clone(),
                data_events: t
                    .data
                    .iter()
                    .map(|d| DataSelectorV1 {
                        resource_type: d.resource_type.clone(),
                        arn_patterns: d.arn_patterns.clone(),
                        excluded: d.excluded.clone(),
                        read_write: match d.read_write {
                            crate::ingest::trails::ReadWrite::All => "all",
                            crate::ingest::trails::ReadWrite::ReadOnly => "read",
                            crate::ingest::trails::ReadWrite::WriteOnly => "write",
                        },
                    })
                    .collect(),
            },
            missing_policies: audit.missing_policies.clone(),
        },
        principals: PrincipalsV1(audit),
        other_identities: audit
            .others
            .iter()
            .map(|o| {
                let mut actions: Vec<String> = o
                    .activity
                    .actions
                    .keys()
                    .map(|(id, _)| cat.full_name(*id))
                    .collect();
                actions.sort();
                actions.dedup();
                OtherV1 {
                    arn: o.arn.clone(),
                    identity: o.kind.as_str(),
                    records: o.activity.records,
                    actions,
                    first_seen: (o.activity.records > 0).then(|| time(o.activity.first)),
                    last_seen: (o.activity.records > 0).then(|| time(o.activity.last)),
                }
            })
            .collect(),
        baseline: audit.baseline.as_ref().map(|(b, a)| BaselineV1 {
            path: b.path.display().to_string(),
            accepted: a.accepted.len(),
            expired_entries: a
                .expired_entries
                .iter()
                .filter_map(|&i| b.accepted.get(i))
                .map(|e| e.describe())
                .collect(),
            unused_entries: a
                .unused_entries
                .iter()
                .filter_map(|&i| b.accepted.get(i))
                .map(|e| e.describe())
                .collect(),
        }),
        findings: FindingsV1(audit),
    }
}

/// Writes the v1 document as pretty JSON, streamed: the text of a large
/// account's report is never held in memory whole.
pub fn write(audit: &Audit, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(audit))?;
    out.write_all(b"\n")
}

/// Renders the v1 document as pretty JSON.
pub fn render(audit: &Audit) -> String {
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(&build(audit)).unwrap_or_default();
    s.push('\n');
    s
}

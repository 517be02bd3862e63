//! `leastpriv.audit/v1` and `/v2`: the frozen JSON shapes. Fields may be
//! added; the documented ones are never renamed or retyped. These types are
//! the schema; internal types never derive `Serialize`.
//!
//! v2 is v1 with one change: the lists that run to millions of names at
//! scale (`unused`, `unobservable` and the values of `unobservable_reasons`)
//! are action sets grouped by service, where a service is `"*"` (every
//! action of it), `{"except": [...]}` or a list of names. `catalog_services`,
//! written last, lists every action of each service that a `"*"` or an
//! `except` stands for, so a v2 report is read without leastpriv's catalog.
//! At 10,000 broad principals this cut the report from 2.9 GB to about 0.2 GB.

use crate::audit::{Audit, WindowSource};
use crate::catalog::{ActionId, Catalog};
use crate::util::time;
use serde::ser::SerializeMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::marker::PhantomData;

pub const SCHEMA: &str = "leastpriv.audit/v1";
pub const SCHEMA_V2: &str = "leastpriv.audit/v2";

/// Which document `--format json` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schema {
    /// Action lists as lists of names: the default, for existing readers.
    #[default]
    V1,
    /// Action lists as sets grouped by service.
    V2,
}

/// How a document writes a principal's unused and unobservable actions:
/// [`ActionNames`] (v1) or [`ActionSetV2`] (v2). Built from ids in
/// ascending order.
pub trait ActionList: Serialize {
    /// The list of `ids`, named through `cat` when written.
    fn from_ids(cat: &'static Catalog, ids: Vec<ActionId>) -> Self;
}

/// The audit document: [`AuditV1`] and [`AuditV2`] differ in `L`, their
/// `schema`, and v2's `catalog_services`.
#[derive(Serialize)]
pub struct AuditDoc<'a, L: ActionList> {
    pub schema: &'static str,
    /// What a reader must know before anything else (e.g. that the logs
    /// hold no record of the audited account); absent when nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub generated_at: String,
    pub tool: ToolV1,
    pub window: WindowV1,
    pub coverage: CoverageV1,
    /// Audits of several accounts (an organization snapshot): the summary
    /// per account, principals by account, what crosses accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<super::accounts::OrganizationV1>,
    pub principals: PrincipalsDoc<'a, L>,
    /// Identities in the logs that are not principals of the snapshot.
    pub other_identities: Vec<OtherV1>,
    pub findings: FindingsV1<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineV1>,
    /// What the findings leave out on purpose, and why.
    pub excluded: ExcludedV1<'a>,
    /// v2 only: every action (name without prefix) of each service that an
    /// action set names by `"*"` or `except`, from the report's catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_services: Option<CatalogServicesV2>,
}

pub type AuditV1<'a> = AuditDoc<'a, ActionNames>;
pub type AuditV2<'a> = AuditDoc<'a, ActionSetV2>;

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
    /// Network activity events of calls a VPC endpoint let through: a
    /// second record of a call, not counted as use.
    pub records_network_activity: u64,
    /// CloudTrail Insights events: never calls.
    pub records_insights: u64,
    /// Records of other accounts only (recipient and caller).
    pub records_other_account: u64,
    /// Records of the window that belong to the audited account(s); 0 means
    /// the logs say nothing of them (see `warnings`).
    pub records_audited_account: u64,
    /// The audited accounts (those of iam.json's principals).
    pub audited_accounts: Vec<String>,
    /// Files read as `aws cloudtrail lookup-events` output.
    pub lookup_events_files: u64,
    pub unmapped_events: BTreeMap<String, u64>,
    /// Calls with an error code no rule of `error-codes.yaml` knows, by
    /// code: counted as attempts, never use.
    pub unknown_error_codes: BTreeMap<String, u64>,
    pub problems: Vec<ProblemV1>,
    /// sha256 of each single-file input (iam.json, credential report, trails.json).
    pub inputs: Vec<InputV1>,
    pub trails: TrailsV1,
    pub missing_policies: Vec<String>,
    /// What the report says first: gaps of the evidence that change how it
    /// reads (e.g. agents whose data events the trails do not record).
    /// Absent when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
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
pub struct PrincipalDoc<L: ActionList> {
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
    pub unused: L,
    pub unobservable: L,
    pub unobservable_reasons: BTreeMap<String, L>,
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
    /// Allowed by the principal's own policies but blocked by the SCPs of
    /// its account, so not granted (present only when some are).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by_scp: Option<L>,
    /// How many granted actions an SCP or RCP limits (allows only under
    /// conditions or on some resources); present only when some are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited_by_organization: Option<usize>,
}

pub type PrincipalV1 = PrincipalDoc<ActionNames>;

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
    /// The people behind the calls (`onBehalfOf`: Identity Center users,
    /// identity-enhanced role sessions) as `IDENTITY_STORE/USER_ID`, with
    /// call counts.
    pub identity_center_users: BTreeMap<String, u64>,
    /// Users only: federation tokens the user issued (`GetFederationToken`),
    /// by federated name, with the calls made with them (counted as the
    /// user's).
    pub federated_users: BTreeMap<String, u64>,
    /// Roles passed to services (`iam:PassRole` inferred from the calls'
    /// request parameters), by role, with the services and calls.
    pub passed_roles: BTreeMap<String, PassedRoleV1>,
}

#[derive(Serialize)]
pub struct PassedRoleV1 {
    pub count: u64,
    /// `iam:PassedToService` values, where known.
    pub services: Vec<String>,
    pub calls: Vec<String>,
}

/// A successful action. `granted` is decided for the resources the calls
/// named (`grant`, `not_granted`, `no_resource` say how).
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
    pub invoked_by: crate::usage::activity::Counts,
    /// The action's verdict (`used`).
    pub verdict: &'static str,
    #[serde(flatten)]
    pub grant: GrantV1,
}

/// The grant decision for the resources a list of records named.
#[derive(Serialize)]
pub struct GrantV1 {
    /// `yes`, `conditional`, `partly` or `no`.
    pub grant: &'static str,
    /// Named resources the principal's own policies do not allow.
    pub not_granted: Vec<String>,
    /// The records named no resource of the action: decided per action.
    pub no_resource: bool,
}

/// Refused or failed attempts of an action. `verdict` is the action's
/// (an action refused here may be used elsewhere).
#[derive(Serialize)]
pub struct AttemptV1 {
    pub action: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub granted: bool,
    pub error_codes: crate::usage::activity::Counts,
    pub resources: Vec<String>,
    pub verdict: &'static str,
    #[serde(flatten)]
    pub grant: GrantV1,
    /// Refusals: who refused (`no-grant`, `own-deny`, `not-resource`,
    /// `boundary`, `condition`, a policy type outside the snapshot such as
    /// `service-control-policy`, or `outside`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by_detail: Option<String>,
    /// Refusals: the policy types their messages named, with counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_types_named: Option<crate::usage::activity::Counts>,
    /// Failures: some calls passed authorization, then failed (or were
    /// dry runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_after_authorization: Option<bool>,
    /// Failures: how the calls ended (`failed`, `failed-likely`, `dry-run`,
    /// `error`), with counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<BTreeMap<&'static str, u64>>,
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

/// A finding's evidence lines, the granting statements' included
/// ([`crate::rules::Finding::evidence_lines`]), as a list of strings.
pub struct EvidenceV1<'a>(pub &'a Catalog, pub &'a crate::rules::Finding);

impl Serialize for EvidenceV1<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.1.evidence_lines(self.0))
    }
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
    pub evidence: EvidenceV1<'a>,
    pub remediation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'a serde_json::Value>,
    /// Set when a baseline entry accepts the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<AcceptedV1>,
    /// The identity-policy statements that grant the finding's actions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantingStatementV1<'a>>,
    /// Privilege-escalation techniques the principal holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<TechniqueV1<'a>>,
}

/// A statement that grants some of a finding's actions.
#[derive(Serialize)]
pub struct GrantingStatementV1<'a> {
    /// A managed policy's ARN, or an inline policy's name.
    pub policy: &'a str,
    /// `managed` or `inline`.
    pub policy_type: &'static str,
    /// The managed policy's version the statement was read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<&'a str>,
    pub attached_to: AttachedToV1<'a>,
    /// The statement's `Sid`, or `#index`.
    pub statement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// 0-based position in the policy's `Statement` list.
    pub statement_index: usize,
    pub conditions: Vec<ConditionV1<'a>>,
    /// Set when the conditions can never be true again (the statement
    /// grants nothing from the report's time on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_true: Option<&'a str>,
    /// Up to a dozen of the finding's actions the statement grants.
    pub actions: SharedNames<'a>,
    /// How many of the finding's actions it grants.
    pub actions_total: usize,
}

#[derive(Serialize)]
pub struct AttachedToV1<'a> {
    /// `user`, `role` or `group`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'a str,
}

#[derive(Serialize)]
pub struct ConditionV1<'a> {
    pub operator: &'a str,
    pub key: &'a str,
    pub values: &'a [String],
}

#[derive(Serialize)]
pub struct TechniqueV1<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    /// What the account must also hold for the technique (not checked).
    pub needs: &'a [String],
    pub sources: Vec<SourceV1<'a>>,
}

#[derive(Serialize)]
pub struct SourceV1<'a> {
    pub title: &'a str,
    pub url: &'a str,
    /// The source's identifiers of the technique.
    pub ids: &'a [String],
}

/// What the findings leave out on purpose.
#[derive(Serialize)]
pub struct ExcludedV1<'a> {
    /// AWS service-linked roles: customers cannot edit them, so their
    /// findings are listed here, apart, and never count for `--fail-on`.
    pub service_linked_roles: &'a [String],
    pub service_linked_findings: Vec<FindingV1<'a>>,
    /// Exclusions of `leastpriv.yaml` (`exclude:`) and what each removed.
    pub configured: Vec<ConfiguredV1<'a>>,
}

#[derive(Serialize)]
pub struct ConfiguredV1<'a> {
    pub principal: &'a str,
    pub rules: &'a [String],
    pub reason: &'a str,
    /// The findings it removed: rule and principal.
    pub removed: Vec<RemovedV1<'a>>,
}

#[derive(Serialize)]
pub struct RemovedV1<'a> {
    pub rule: &'static str,
    pub principal: &'a str,
}

/// A finding as the document writes it.
pub fn finding<'a>(
    cat: &'a Catalog,
    f: &'a crate::rules::Finding,
    accepted: Option<AcceptedV1>,
) -> FindingV1<'a> {
    FindingV1 {
        accepted,
        rule: f.rule,
        severity: f.severity.as_str(),
        score: (f.score * 10.0).round() / 10.0,
        principal: &f.principal,
        kind: f.kind.as_str(),
        actions: SharedNames(cat, &f.actions),
        message: &f.message,
        evidence: EvidenceV1(cat, f),
        remediation: &f.remediation,
        fix: f.fix.as_deref(),
        grants: f
            .grants
            .iter()
            .map(|g| GrantingStatementV1 {
                policy: g.policy_name(),
                policy_type: g.policy_type(),
                policy_version: g.version(),
                attached_to: AttachedToV1 {
                    kind: g.holder.kind,
                    name: &g.holder.name,
                },
                statement: g.statement_label(),
                sid: g.sid(),
                statement_index: g.index(),
                conditions: g
                    .conditions()
                    .iter()
                    .map(|c| ConditionV1 {
                        operator: &c.operator,
                        key: &c.key,
                        values: &c.values,
                    })
                    .collect(),
                never_true: g.never_true.as_deref(),
                actions: SharedNames(cat, &g.actions),
                actions_total: g.actions_total,
            })
            .collect(),
        techniques: f
            .techniques
            .iter()
            .map(|t| TechniqueV1 {
                id: &t.id,
                name: &t.name,
                category: &t.category,
                needs: &t.needs,
                sources: t
                    .sources
                    .iter()
                    .map(|s| SourceV1 {
                        title: &s.title,
                        url: &s.url,
                        ids: &s.ids,
                    })
                    .collect(),
            })
            .collect(),
    }
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

fn grant(g: &crate::verdict::GrantCheck) -> GrantV1 {
    GrantV1 {
        grant: g.granted.as_str(),
        not_granted: g.not_granted.to_vec(),
        no_resource: g.no_resource,
    }
}

fn attempt(
    cat: &Catalog,
    v: &crate::verdict::PrincipalVerdicts,
    a: &crate::verdict::Attempt,
) -> AttemptV1 {
    let failed = a.refused_by.is_none();
    AttemptV1 {
        action: cat.full_name(a.action),
        count: a.stats.count,
        first_seen: time(a.stats.first),
        last_seen: time(a.stats.last),
        granted: a.granted(),
        error_codes: a.stats.error_codes.clone(),
        resources: a.stats.resources.to_vec(),
        verdict: v.verdict(a.action).as_str(),
        grant: grant(&a.grant),
        refused_by: a.refused_by.as_ref().map(|r| r.code()),
        refused_by_detail: a.refused_by.as_ref().map(|r| r.describe(&v.principal)),
        policy_types_named: (!failed).then(|| a.stats.refused_by.clone()),
        failed_after_authorization: failed.then(|| a.failures.after_authorization() > 0),
        outcomes: failed.then(|| a.failures.iter().collect()),
    }
}

/// A list of actions, serialized as their `service:Action` names. Ids, not
/// strings, until written: an account's unused lists run to millions of
/// entries, and the report is streamed rather than built as text.
pub struct ActionNames(&'static Catalog, Vec<ActionId>);

impl ActionList for ActionNames {
    fn from_ids(cat: &'static Catalog, ids: Vec<ActionId>) -> Self {
        ActionNames(cat, ids)
    }
}

/// A set of actions as v2 writes it: `{"count": N, "by_service": {...}}`,
/// where each service is `"*"`, `{"except": [names]}` or `[names]`
/// (names without the prefix), whichever is shortest. Ids in ascending
/// order.
pub struct ActionSetV2(&'static Catalog, Vec<ActionId>);

impl ActionList for ActionSetV2 {
    fn from_ids(cat: &'static Catalog, ids: Vec<ActionId>) -> Self {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascending");
        ActionSetV2(cat, ids)
    }
}

/// How an action set writes one service's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServiceForm {
    /// `"*"`: every action of the service.
    All,
    /// `{"except": [...]}`: every action but the few listed.
    Except,
    /// `[...]`: the actions listed.
    List,
}

impl ServiceForm {
    /// The shorter of a list and its complement: `n` of the service's `of` actions.
    fn choose(n: usize, of: usize) -> ServiceForm {
        if n == of {
            ServiceForm::All
        } else if of - n < n {
            ServiceForm::Except
        } else {
            ServiceForm::List
        }
    }

    /// Whether the form stands for actions the report's `catalog_services` must list.
    fn uses_catalog(self) -> bool {
        self != ServiceForm::List
    }
}

/// The runs of `ids` (ascending) that fall in one service each: the
/// service's index in [`Catalog::services`], its ids, and their form.
fn service_runs<'i>(
    cat: &'i Catalog,
    ids: &'i [ActionId],
) -> impl Iterator<Item = (usize, &'i [ActionId], ServiceForm)> + 'i {
    let mut rest = ids;
    std::iter::from_fn(move || {
        let first = *rest.first()?;
        let index = cat.service_index(first);
        let range = &cat.services()[index].actions;
        let n = rest.partition_point(|id| id.0 < range.end);
        let (run, tail) = rest.split_at(n);
        rest = tail;
        Some((index, run, ServiceForm::choose(n, range.len())))
    })
}

impl Serialize for ActionSetV2 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("count", &self.1.len())?;
        m.serialize_entry("by_service", &ByService(self.0, &self.1))?;
        m.end()
    }
}

struct ByService<'a>(&'a Catalog, &'a [ActionId]);

impl Serialize for ByService<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = self.0;
        let mut m = s.serialize_map(None)?;
        for (index, run, form) in service_runs(cat, self.1) {
            let svc = &cat.services()[index];
            match form {
                ServiceForm::All => m.serialize_entry(svc.prefix, "*")?,
                ServiceForm::List => m.serialize_entry(svc.prefix, &Names(cat, run))?,
                ServiceForm::Except => {
                    let mut held = run.iter().peekable();
                    let missing: Vec<ActionId> = svc
                        .action_ids()
                        .filter(|id| {
                            if held.peek() == Some(&id) {
                                held.next();
                                false
                            } else {
                                true
                            }
                        })
                        .collect();
                    m.serialize_entry(svc.prefix, &Except(cat, &missing))?
                }
            }
        }
        m.end()
    }
}

/// Action names without their service prefix.
struct Names<'a>(&'a Catalog, &'a [ActionId]);

impl Serialize for Names<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = self.0;
        s.collect_seq(self.1.iter().map(|&id| cat.action(id).name))
    }
}

struct Except<'a>(&'a Catalog, &'a [ActionId]);

impl Serialize for Except<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("except", &Names(self.0, self.1))?;
        m.end()
    }
}

/// v2's `catalog_services`: the services (indexes into
/// [`Catalog::services`], ascending) whose every action it lists.
pub struct CatalogServicesV2(&'static Catalog, Vec<usize>);

impl Serialize for CatalogServicesV2 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = self.0;
        let mut m = s.serialize_map(Some(self.1.len()))?;
        for &i in &self.1 {
            let svc = &cat.services()[i];
            let ids: Vec<ActionId> = svc.action_ids().collect();
            m.serialize_entry(svc.prefix, &Names(cat, &ids))?;
        }
        m.end()
    }
}

/// The services that some principal's v2 action sets write as `"*"` or
/// `except`: a pass over the principals before they are written, since
/// `catalog_services` must list them and the report is streamed.
fn catalog_services(cat: &'static Catalog, audit: &Audit) -> CatalogServicesV2 {
    let mut named = vec![false; cat.services().len()];
    let mut ids = Vec::new();
    for ap in &audit.principals {
        let a = &ap.verdicts;
        // Counted by service rather than listed: a broad principal's unused
        // set is most of the catalog, and once a service is known to be
        // named, it is not counted again.
        let unused = a.unused();
        for (index, svc) in cat.services().iter().enumerate() {
            if !named[index] {
                let n = unused.count_in(svc.actions.clone());
                named[index] = n > 0 && ServiceForm::choose(n, svc.actions.len()).uses_catalog();
            }
        }
        // A reason's set is part of the unobservable set, so it can only
        // be `"*"` or `except` where the whole set is too.
        ids.clear();
        ids.extend(a.unobservable().iter().map(|(id, _)| *id));
        for (index, _, form) in service_runs(cat, &ids) {
            named[index] |= form.uses_catalog();
        }
    }
    CatalogServicesV2(
        cat,
        named
            .iter()
            .enumerate()
            .filter_map(|(i, &n)| n.then_some(i))
            .collect(),
    )
}

impl Serialize for ActionNames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = self.0;
        s.collect_seq(self.1.iter().map(|&id| cat.name(id)))
    }
}

/// A finding's actions (`Finding::actions`), borrowed, serialized as their
/// names in the audit's catalog.
pub struct SharedNames<'a>(pub &'a Catalog, pub &'a [ActionId]);

impl Serialize for SharedNames<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = self.0;
        s.collect_seq(self.1.iter().map(|&id| cat.name(id)))
    }
}

/// One principal's part of the document, built when it is written.
fn principal<L: ActionList>(
    cat: &'static Catalog,
    ap: &crate::audit::AuditedPrincipal,
) -> PrincipalDoc<L> {
    let a = &ap.verdicts;
    let mut reasons: BTreeMap<String, Vec<ActionId>> = BTreeMap::new();
    for (id, why) in a.unobservable().iter() {
        reasons.entry(why.code().to_string()).or_default().push(*id);
    }
    PrincipalDoc {
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
                granted: u.granted(),
                conditional: u.conditional(),
                invoked_by: u.stats.invoked_by.clone(),
                verdict: a.verdict(u.action).as_str(),
                grant: grant(&u.grant),
            })
            .collect(),
        unused: L::from_ids(cat, a.unused().iter().collect()),
        unobservable: L::from_ids(cat, a.unobservable().iter().map(|(id, _)| *id).collect()),
        unobservable_reasons: reasons
            .into_iter()
            .map(|(why, ids)| (why, L::from_ids(cat, ids)))
            .collect(),
        denied: a.denied.iter().map(|d| attempt(cat, a, d)).collect(),
        failed: a.failed.iter().map(|d| attempt(cat, a, d)).collect(),
        source_identities: a.activity.as_ref().map_or(0, |x| x.source_identities.len()),
        sessions: a.activity.as_ref().map_or(0, |x| x.sessions.len()),
        on_behalf_of: OnBehalfV1 {
            source_identities: a
                .activity
                .as_ref()
                .map(|x| x.source_identities.to_btree())
                .unwrap_or_default(),
            session_names: a
                .activity
                .as_ref()
                .map(|x| x.sessions.to_btree())
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
                        .map(|(k, v)| (k.to_string(), v.to_vec()))
                        .collect()
                })
                .unwrap_or_default(),
            calls_without_source_identity: a
                .activity
                .as_ref()
                .map_or(0, |x| x.sessions_without_source_identity),
            identity_center_users: a
                .activity
                .as_ref()
                .map(|x| x.identity_center_users.to_btree())
                .unwrap_or_default(),
            federated_users: a
                .activity
                .as_ref()
                .map(|x| x.federated_users.to_btree())
                .unwrap_or_default(),
            passed_roles: a
                .activity
                .as_ref()
                .map(|x| {
                    x.passed_roles
                        .iter()
                        .map(|(role, p)| {
                            (
                                role.clone(),
                                PassedRoleV1 {
                                    count: p.count,
                                    services: p.services.iter().cloned().collect(),
                                    calls: p.calls.iter().cloned().collect(),
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
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
        blocked_by_scp: (!a.grants.blocked_by_org.is_empty())
            .then(|| L::from_ids(cat, a.grants.blocked_by_org.iter().collect())),
        limited_by_organization: (!a.grants.org_limited.is_empty())
            .then(|| a.grants.org_limited.len()),
    }
}

/// The principals, serialized one at a time: a 10,000-principal account's
/// unused lists run to a hundred million names, which are never all built.
pub struct PrincipalsDoc<'a, L>(&'a Audit, PhantomData<L>);

impl<L: ActionList> Serialize for PrincipalsDoc<'_, L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cat = self.0.catalog;
        s.collect_seq(self.0.principals.iter().map(|ap| principal::<L>(cat, ap)))
    }
}

/// The findings, serialized one at a time, borrowing the audit's text.
pub struct FindingsV1<'a>(&'a Audit);

impl Serialize for FindingsV1<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let audit = self.0;
        s.collect_seq(audit.findings.iter().enumerate().map(|(i, f)| {
            let accepted = audit.acceptance(i).map(|e| AcceptedV1 {
                justification: e.justification.clone(),
                owner: e.owner.clone(),
                expires: e.expires.to_string(),
            });
            finding(audit.catalog, f, accepted)
        }))
    }
}

/// The tool and catalog behind a report.
pub fn tool(audit: &Audit) -> ToolV1 {
    ToolV1 {
        name: "leastpriv",
        version: env!("CARGO_PKG_VERSION"),
        catalog_date: audit.catalog.date().to_string(),
        catalog_source: audit.catalog.source().to_string(),
        catalog_actions: audit.catalog.len(),
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
    build_doc(audit, SCHEMA, None)
}

/// Builds the v2 document.
pub fn build_v2(audit: &Audit) -> AuditV2<'_> {
    let services = catalog_services(audit.catalog, audit);
    build_doc(audit, SCHEMA_V2, Some(services))
}

fn build_doc<'a, L: ActionList>(
    audit: &'a Audit,
    schema: &'static str,
    catalog_services: Option<CatalogServicesV2>,
) -> AuditDoc<'a, L> {
    let cat = audit.catalog;
    let s = &audit.stats;
    let t = &audit.trails;
    AuditDoc {
        schema,
        warnings: audit.warnings().map(|n| n.text.clone()).collect(),
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
            records_network_activity: s.network_activity,
            records_insights: s.insights,
            records_other_account: s.other_account,
            records_audited_account: s.account_records,
            audited_accounts: audit.accounts.iter().cloned().collect(),
            lookup_events_files: s.lookup_files,
            unmapped_events: s.unmapped_events.clone(),
            unknown_error_codes: s.unknown_error_codes.clone(),
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
            notices: audit
                .notices
                .iter()
                .filter(|n| !n.is_warning())
                .map(|n| n.text.clone())
                .collect(),
        },
        organization: super::accounts::organization(audit),
        principals: PrincipalsDoc(audit, PhantomData),
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
        excluded: ExcludedV1 {
            service_linked_roles: &audit.excluded.service_linked_roles,
            service_linked_findings: audit
                .excluded
                .service_linked
                .iter()
                .map(|f| finding(cat, f, None))
                .collect(),
            configured: audit
                .excluded
                .configured
                .iter()
                .map(|(e, removed)| ConfiguredV1 {
                    principal: &e.principal,
                    rules: &e.rules,
                    reason: &e.reason,
                    removed: removed
                        .iter()
                        .map(|f| RemovedV1 {
                            rule: f.rule,
                            principal: &f.principal,
                        })
                        .collect(),
                })
                .collect(),
        },
        catalog_services,
    }
}

/// Writes the document as pretty JSON, streamed: the text of a large
/// account's report is never held in memory whole.
pub fn write(audit: &Audit, schema: Schema, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    match schema {
        Schema::V1 => serde_json::to_writer_pretty(&mut *out, &build(audit))?,
        Schema::V2 => serde_json::to_writer_pretty(&mut *out, &build_v2(audit))?,
    }
    out.write_all(b"\n")
}

/// Renders the document as pretty JSON.
pub fn render(audit: &Audit, schema: Schema) -> String {
    let mut buf = Vec::new();
    // Writing plain data with string keys into memory cannot fail, and
    // serde_json writes UTF-8.
    let _ = write(audit, schema, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_form_is_chosen() {
        assert_eq!(ServiceForm::choose(7, 7), ServiceForm::All);
        assert_eq!(ServiceForm::choose(6, 7), ServiceForm::Except);
        assert_eq!(ServiceForm::choose(4, 7), ServiceForm::Except);
        assert_eq!(ServiceForm::choose(3, 7), ServiceForm::List);
        // A tie is a list: it needs no catalog.
        assert_eq!(ServiceForm::choose(2, 4), ServiceForm::List);
        assert_eq!(ServiceForm::choose(1, 1), ServiceForm::All);
    }

    #[test]
    fn runs_split_ids_by_service() {
        let cat = Catalog::embedded();
        let ids = |p: &str| -> Vec<ActionId> { cat.expand(p).iter().collect() };
        let (kms, s3_get, sts) = (ids("kms:*"), ids("s3:Get*"), ids("sts:AssumeRole"));
        let mut all: Vec<ActionId> = [&kms[..], &s3_get[..], &sts[..]].concat();
        all.sort();
        let runs: Vec<(&str, usize, ServiceForm)> = service_runs(cat, &all)
            .map(|(i, run, form)| (cat.services()[i].prefix, run.len(), form))
            .collect();
        assert_eq!(
            runs,
            [
                ("kms", kms.len(), ServiceForm::All),
                ("s3", s3_get.len(), ServiceForm::List),
                ("sts", 1, ServiceForm::List),
            ]
        );
        assert_eq!(service_runs(cat, &[]).count(), 0);
        // Everything but one action of a service is that one, excepted.
        let mut most = kms.clone();
        let gone = most.remove(3);
        let text = serde_json::to_value(ActionSetV2::from_ids(cat, most)).expect("json");
        assert_eq!(
            text,
            serde_json::json!({
                "count": kms.len() - 1,
                "by_service": { "kms": { "except": [cat.action(gone).name] } }
            })
        );
    }
}

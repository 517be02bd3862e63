//! `leastpriv.recommendations/v1`: every recommendation of a run as one
//! JSON document, for pipelines that consume them rather than review files.
//! Frozen like `leastpriv.audit/v1`: fields may be added, never renamed or
//! retyped.

use super::json::{tool, window, ToolV1, WindowV1};
use crate::audit::Audit;
use crate::recommend::{IamOrder, Recommendation};
use crate::util::time;
use serde::Serialize;

pub const SCHEMA: &str = "leastpriv.recommendations/v1";

#[derive(Serialize)]
pub struct RecommendationsV1<'a> {
    pub schema: &'static str,
    pub generated_at: String,
    pub tool: ToolV1,
    /// The activity the recommendations are sized to.
    pub window: WindowV1,
    pub recommendations: Vec<RecommendationV1<'a>>,
}

#[derive(Serialize)]
pub struct RecommendationV1<'a> {
    /// The principal's ARN (for a group, `arn:aws:iam::ACCOUNT:group/NAME`).
    pub principal: &'a str,
    /// `user`, `role` or `group`.
    pub kind: &'static str,
    pub name: &'a str,
    /// The right-sized IAM policy document, as `--out` writes `NAME.json`.
    pub policy: IamOrder<'a>,
    /// Minified size in characters, as IAM counts it against its limits.
    pub policy_size: usize,
    /// The Terraform `--out` writes as `NAME.tf`.
    pub terraform: &'a str,
    /// The Markdown diff `--out` writes as `NAME.diff.md`: what is removed,
    /// kept and narrowed, with the evidence.
    pub diff_markdown: &'a str,
    pub warnings: &'a [String],
    /// What the document is applied to: `user`, `role` or `group` (the
    /// principal of `kind`), `permission-set` (the set's inline policy;
    /// `principal` is the set's ARN and `kind` is `role`, as Identity
    /// Center writes it onto a role in each account) or `role-group` (the
    /// roles named `name` in `accounts`; `principal` is
    /// `arn:aws:iam::*:role/NAME`).
    pub unit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission_set_arn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_arn: Option<&'a str>,
    /// A unit's accounts, with what each contributed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountV1<'a>>,
    /// A unit: whether every account it is deployed in has evidence
    /// (otherwise today's grant is kept for what they may use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence_complete: Option<bool>,
    /// A permission set's policies, which the inline policy replaces.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policies: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub customer_managed_policies: Vec<&'a str>,
    /// A role a unit covers: the unit to change (for an Identity Center
    /// role, instead of this document).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_of: Option<PartOfV1<'a>>,
    /// Used actions with more distinct resources than the summary keeps,
    /// whose resources were widened to prefixes (the policy shows the
    /// element kept, within today's grant); absent when none was. Added in
    /// 0.x (issue 25).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub widened: Vec<WidenedV1<'a>>,
    /// The recommended policy evaluated by leastpriv's engine in the
    /// principal's whole context; absent when the audit does not hold the
    /// principal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<ProofV1<'a>>,
}

#[derive(Serialize)]
pub struct AccountV1<'a> {
    pub account: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<&'a str>,
    /// The role there; `null` when it is not in the snapshot.
    pub role_arn: Option<&'a str>,
    /// Whether the account's use is known (records of the window from it,
    /// and the role in the snapshot).
    pub evidence: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_evidence_reason: Option<&'a str>,
    pub records: u64,
    pub used_actions: &'a [String],
    /// Used there and in no other account of the unit.
    pub only_here: &'a [String],
    /// The role's policies there.
    pub policies: &'a [String],
    /// Kept by the unit's policy, not granted to the role there today.
    pub added_here: &'a [String],
}

#[derive(Serialize)]
pub struct PartOfV1<'a> {
    /// `permission-set` or `role-group`.
    pub unit: &'static str,
    pub name: &'a str,
    /// The unit's directory under `--out`.
    pub dir: String,
    pub accounts: &'a [String],
}

#[derive(Serialize)]
pub struct WidenedV1<'a> {
    /// `service:Action`.
    pub action: &'a str,
    /// How many distinct resources it was used on.
    pub distinct_resources: u64,
    /// `distinct_resources` is an estimate (a HyperLogLog sketch, about
    /// 6.5% standard error), not a count.
    pub estimated: bool,
    /// The patterns the resources were widened to.
    pub prefixes: &'a [String],
}

/// The proof of one recommendation (`recommend::proof`).
#[derive(Serialize)]
pub struct ProofV1<'a> {
    /// Every used call stays allowed, nothing new is granted, no added
    /// guardrail denies a used call.
    pub passed: bool,
    /// Distinct used actions checked (used and used-failed, inferred
    /// `iam:PassRole` included).
    pub checked_used_actions: usize,
    /// Requests on a recorded resource decided.
    pub checked_resources: usize,
    pub failures: Vec<ProofFailureV1<'a>>,
    /// What the evaluation included: the policies replaced and kept, the
    /// Deny statements, the boundary, SCPs and RCPs by name, the resource
    /// policies consulted.
    pub context: &'a [String],
    /// Checked without failing: used calls the engine does not allow even
    /// today, calls allowed only conditionally.
    pub notes: &'a [String],
}

#[derive(Serialize)]
pub struct ProofFailureV1<'a> {
    /// `used-not-allowed`, `wider-than-today` or `guardrail-denies-use`.
    pub kind: &'static str,
    pub action: &'a str,
    /// The recorded resource (or the recommended pattern); absent when the
    /// records named none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<&'a str>,
    pub detail: &'a str,
}

fn proof(p: &crate::recommend::proof::Proof) -> ProofV1<'_> {
    ProofV1 {
        passed: p.passed,
        checked_used_actions: p.checked_used_actions,
        checked_resources: p.checked_resources,
        failures: p
            .failures
            .iter()
            .map(|f| ProofFailureV1 {
                kind: f.kind.as_str(),
                action: &f.action,
                resource: f.resource.as_deref(),
                detail: &f.detail,
            })
            .collect(),
        context: &p.context,
        notes: &p.notes,
    }
}

/// Builds the v1 document.
pub fn build<'a>(audit: &Audit, recs: &'a [Recommendation]) -> RecommendationsV1<'a> {
    RecommendationsV1 {
        schema: SCHEMA,
        generated_at: time(audit.generated_at),
        tool: tool(audit),
        window: window(audit),
        recommendations: recs
            .iter()
            .map(|r| RecommendationV1 {
                principal: &r.principal,
                kind: r.identity_type.as_str(),
                name: &r.name,
                policy: IamOrder(&r.document),
                policy_size: crate::recommend::size(&r.document),
                terraform: &r.terraform,
                diff_markdown: &r.diff,
                warnings: &r.warnings,
                unit: r
                    .unit
                    .as_ref()
                    .map_or(r.identity_type.as_str(), |u| u.kind.as_str()),
                permission_set_arn: r
                    .unit
                    .as_ref()
                    .and_then(|u| u.permission_set_arn.as_deref()),
                instance_arn: r.unit.as_ref().and_then(|u| u.instance_arn.as_deref()),
                accounts: r
                    .unit
                    .iter()
                    .flat_map(|u| u.accounts.iter())
                    .map(|a| AccountV1 {
                        account: &a.account,
                        account_name: a.account_name.as_deref(),
                        role_arn: a.role_arn.as_deref(),
                        evidence: a.no_evidence.is_none(),
                        no_evidence_reason: a.no_evidence.as_deref(),
                        records: a.records,
                        used_actions: &a.used_actions,
                        only_here: &a.only_here,
                        policies: &a.policies,
                        added_here: &a.added_here,
                    })
                    .collect(),
                evidence_complete: r.unit.as_ref().map(|u| u.evidence_complete()),
                managed_policies: r
                    .unit
                    .iter()
                    .flat_map(|u| u.managed_policies.iter().map(String::as_str))
                    .collect(),
                customer_managed_policies: r
                    .unit
                    .iter()
                    .flat_map(|u| u.customer_managed_policies.iter().map(String::as_str))
                    .collect(),
                part_of: r.part_of.as_ref().map(|p| PartOfV1 {
                    unit: p.kind.as_str(),
                    name: &p.name,
                    dir: p.dir(),
                    accounts: &p.accounts,
                }),
                widened: r
                    .widened
                    .iter()
                    .map(|w| WidenedV1 {
                        action: &w.action,
                        distinct_resources: w.distinct,
                        estimated: w.estimated,
                        prefixes: &w.prefixes,
                    })
                    .collect(),
                proof: r.proof.as_ref().map(proof),
            })
            .collect(),
    }
}

/// Writes the v1 document as pretty JSON.
pub fn write(
    audit: &Audit,
    recs: &[Recommendation],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(audit, recs))?;
    out.write_all(b"\n")
}

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

//! SARIF 2.1.0 for GitHub code scanning: one rule per registry entry, one
//! result per finding, located at the IAM input file (GitHub requires a
//! physical location) and at the principal's ARN (a logical location), with a
//! stable fingerprint so that GitHub tracks a finding across runs.
//!
//! These types are the output schema; internal types never derive `Serialize`.

use crate::audit::Audit;
use crate::ingest::locate::{PolicyKey, StatementIndex};
use crate::rules::{Severity, REGISTRY};
use serde::Serialize;
use std::path::Path;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of the fingerprint in `partialFingerprints`; bump the version if
/// the hashed content ever changes.
pub const FINGERPRINT_KEY: &str = "leastprivFindingHash/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Log<'a> {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run<'a> {
    pub tool: Tool,
    /// Present only to carry a notification every reader must see (the
    /// logs hold no record of the audited account).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invocations: Vec<Invocation>,
    pub results: Vec<SarifResult<'a>>,
    /// An organization audit's per-account summary (SARIF 2.1.0 §3.8
    /// property bag of the run); absent for one account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<RunProperties>,
}

/// The run's property bag of an organization audit: the summary the other
/// formats print first, the same fields as the JSON report's
/// `organization.accounts`. One run for every account, not a run per
/// account: the tool, its rules and the invocation are one, and GitHub
/// code scanning refuses several runs of one tool and category in a file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProperties {
    pub organization_id: Option<String>,
    /// One entry per audited account, by account id.
    pub accounts: Vec<super::accounts::AccountV1>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
    pub tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub level: &'static str,
    pub message: Message,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: &'static str,
    pub name: String,
    pub short_description: Message,
    pub full_description: Message,
    pub help: Message,
    pub default_configuration: Configuration,
    pub properties: RuleProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct RuleProperties {
    #[serde(rename = "security-severity")]
    pub security_severity: &'static str,
    pub tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult<'a> {
    pub rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    pub level: &'static str,
    pub message: Message,
    pub locations: Vec<Location>,
    /// The other statements that grant the finding's actions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<RelatedLocation>,
    pub partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    pub properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultProperties<'a> {
    pub severity: &'static str,
    pub score: f64,
    pub principal: String,
    /// The principal's account, in an organization audit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub kind: &'static str,
    pub actions: super::json::SharedNames<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
    pub logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedLocation {
    pub id: usize,
    pub physical_location: PhysicalLocation,
    pub message: Message,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogicalLocation {
    pub fully_qualified_name: String,
    pub kind: &'static str,
}

/// The SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` of a severity (its bands: >= 9 critical,
/// >= 7 high, >= 4 medium, else low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.0",
        Severity::High => "7.0",
        Severity::Medium => "5.0",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// `secrets-access` -> `SecretsAccess`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The input path as a URI relative to the current directory when it lies
/// under it, with forward slashes.
fn uri(p: &Path) -> String {
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf());
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    if rel.is_absolute() && !s.starts_with('/') {
        // A Windows drive path: make it a file URI.
        format!("file:///{s}")
    } else if rel.is_absolute() {
        format!("file://{s}")
    } else {
        s
    }
}

/// A stable fingerprint of a finding: sha256 of the rule, the principal and
/// the sorted actions, hex.
pub fn fingerprint(rule: &str, principal: &str, actions: &[impl AsRef<str>]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&str> = actions.iter().map(AsRef::as_ref).collect();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(principal.as_bytes());
    for a in sorted {
        h.update([0]);
        h.update(a.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The place of a statement that grants a finding's actions, if the index
/// knows it.
fn statement_region(
    index: Option<&StatementIndex>,
    g: &crate::rules::provenance::GrantSource,
) -> Option<Region> {
    use crate::model::PolicySource;
    let key = match &g.policy {
        PolicySource::Inline { policy_name } | PolicySource::GroupInline { policy_name, .. } => {
            PolicyKey::Inline {
                holder_kind: g.holder.kind,
                holder: g.holder.name.clone(),
                policy: policy_name.clone(),
            }
        }
        PolicySource::Managed { arn, version, .. }
        | PolicySource::GroupManaged { arn, version, .. }
        | PolicySource::Boundary { arn, version, .. } => PolicyKey::Managed {
            arn: arn.clone(),
            version: version.clone(),
        },
    };
    let p = index?.position(&key, g.index())?;
    Some(Region {
        start_line: p.line,
        start_column: Some(p.column),
    })
}

/// Builds the SARIF log, each result at line 1 of the IAM input.
pub fn build(audit: &Audit) -> Log<'_> {
    build_located(audit, None)
}

/// Builds the SARIF log; with the IAM input's statement index, each result
/// points at the statement that grants its riskiest action (and the other
/// granting statements are related locations).
pub fn build_located<'a>(audit: &'a Audit, index: Option<&StatementIndex>) -> Log<'a> {
    let rules: Vec<ReportingDescriptor> = REGISTRY
        .iter()
        .map(|r| {
            let m = r.meta();
            ReportingDescriptor {
                id: m.id,
                name: pascal(m.id),
                short_description: Message {
                    text: m.title.to_string(),
                },
                full_description: Message {
                    text: m.rationale.to_string(),
                },
                help: Message {
                    text: m.remediation.to_string(),
                },
                default_configuration: Configuration {
                    level: level(m.default_severity),
                },
                properties: RuleProperties {
                    security_severity: security_severity(m.default_severity),
                    tags: vec!["security"],
                },
            }
        })
        .collect();
    let iam_uri = uri(&audit.inputs.iam);
    let multi = crate::accounts::is_multi_account(audit);
    let results = audit
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if f.has_evidence() {
                text.push_str("\n\nEvidence:");
                for e in f.evidence_lines(audit.catalog) {
                    text.push_str("\n- ");
                    text.push_str(&e);
                }
            }
            text.push_str("\n\nRemediation: ");
            text.push_str(&f.remediation);
            if let Some(fix) = &f.fix {
                text.push_str("\n\nStatement that closes the finding:\n");
                text.push_str(&serde_json::to_string_pretty(&**fix).unwrap_or_default());
            }
            // The statement granting the finding's first (riskiest) action
            // first, then the others in policy order.
            let mut grants: Vec<&crate::rules::provenance::GrantSource> = f.grants.iter().collect();
            if let Some(first) = f.actions.first() {
                grants.sort_by_key(|g| !g.actions.contains(first));
            }
            let region = grants
                .first()
                .and_then(|g| statement_region(index, g))
                .unwrap_or(Region {
                    start_line: 1,
                    start_column: None,
                });
            let related_locations = grants
                .iter()
                .skip(1)
                .filter_map(|g| Some((g, statement_region(index, g)?)))
                .enumerate()
                .map(|(i, (g, region))| RelatedLocation {
                    id: i + 1,
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: iam_uri.clone(),
                        },
                        region,
                    },
                    message: Message {
                        text: g.describe().replace('`', ""),
                    },
                })
                .collect();
            SarifResult {
                rule_id: f.rule,
                rule_index: REGISTRY.iter().position(|r| r.meta().id == f.rule),
                level: level(f.severity),
                message: Message { text },
                related_locations,
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: iam_uri.clone(),
                        },
                        region,
                    },
                    logical_locations: vec![LogicalLocation {
                        fully_qualified_name: f.principal.to_string(),
                        kind: "resource",
                    }],
                }],
                partial_fingerprints: [(
                    FINGERPRINT_KEY,
                    fingerprint(
                        f.rule,
                        &f.principal,
                        &f.actions
                            .iter()
                            .map(|&id| audit.catalog.name(id))
                            .collect::<Vec<_>>(),
                    ),
                )]
                .into_iter()
                .collect(),
                properties: ResultProperties {
                    severity: f.severity.as_str(),
                    score: (f.score * 10.0).round() / 10.0,
                    principal: f.principal.to_string(),
                    account: multi.then(|| {
                        f.principal
                            .split(':')
                            .nth(4)
                            .unwrap_or_default()
                            .to_string()
                    }),
                    kind: f.kind.as_str(),
                    actions: super::json::SharedNames(audit.catalog, &f.actions),
                },
            }
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "leastpriv",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            invocations: audit
                .warnings()
                .map(|w| Invocation {
                    execution_successful: true,
                    tool_execution_notifications: vec![Notification {
                        level: "warning",
                        message: Message {
                            text: w.text.clone(),
                        },
                    }],
                })
                .collect(),
            results,
            properties: multi.then(|| RunProperties {
                organization_id: audit.organization.as_ref().and_then(|o| o.id.clone()),
                accounts: crate::accounts::summaries(audit)
                    .into_iter()
                    .map(super::accounts::AccountV1::from)
                    .collect(),
            }),
        }],
    }
}

/// Renders the SARIF log as pretty JSON; `iam_text`, the IAM input's text
/// when the caller has it, places each result at its statement.
pub fn render(audit: &Audit, iam_text: Option<&str>) -> String {
    let index = iam_text.and_then(StatementIndex::new);
    // Plain data with string keys: serializing cannot fail.
    let mut s =
        serde_json::to_string_pretty(&build_located(audit, index.as_ref())).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_action_order() {
        let a = fingerprint("r", "p", &["b", "a"]);
        let b = fingerprint("r", "p", &["a", "b"]);
        assert_eq!(a, b);
        assert_ne!(a, fingerprint("r", "q", &["a", "b"]));
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(pascal("secrets-access"), "SecretsAccess");
    }
}

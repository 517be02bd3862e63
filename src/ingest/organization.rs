//! `organization.json`: what AWS Organizations says about the organization,
//! its tree and its service and resource control policies, into a
//! `model::Organization`.
//!
//! ```text
//! {"Organization": <DescribeOrganization.Organization>,
//!  "Roots": [<ListRoots entries>],
//!  "OrganizationalUnits": [{"Id", "Arn", "Name", "ParentId"}],
//!  "Accounts": [{"Id", "Arn", "Name", "Email", "Status", "ParentId"}],
//!  "Policies": [{"PolicySummary": {"Id", "Arn", "Name", "Type", "AwsManaged", ...},
//!                "Content": "<policy JSON as a string>",
//!                "Targets": [{"TargetId", "Arn", "Name", "Type"}]}]}
//! ```
//!
//! The raw types below follow the API's member names, so `pull` can write
//! them and anyone can produce the file with the AWS CLI. Members AWS may add
//! are ignored; policy types other than SCPs and RCPs (tag, backup, ...
//! policies) are read and left out.

use super::policy_json::{parse_document_value, PolicyError};
use super::IngestError;
use crate::model::organization::{OrgAccount, OrgUnit, OrganizationParts};
use crate::model::{OrgPolicy, OrgPolicyKind, Organization};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationFile {
    #[serde(default)]
    pub organization: Option<OrganizationInfo>,
    #[serde(default)]
    pub roots: Vec<Root>,
    #[serde(default)]
    pub organizational_units: Vec<OrganizationalUnit>,
    #[serde(default)]
    pub accounts: Vec<AccountEntry>,
    #[serde(default)]
    pub policies: Vec<PolicyEntry>,
}

/// `DescribeOrganization`'s `Organization` (the members leastpriv reads).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationInfo {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub feature_set: Option<String>,
    #[serde(default)]
    pub master_account_id: Option<String>,
    #[serde(default)]
    pub master_account_arn: Option<String>,
}

/// A `ListRoots` entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Root {
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `None` when the file leaves it out: the enabled types are then
    /// inferred from the policies present.
    #[serde(default)]
    pub policy_types: Option<Vec<PolicyTypeSummary>>,
}

/// A root's `PolicyTypes` entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyTypeSummary {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// An organizational unit with the id of its parent (a root or an OU).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationalUnit {
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// A `ListAccounts` entry with the id of its parent.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountEntry {
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// One policy: its summary, its document as text, and its targets.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyEntry {
    pub policy_summary: PolicySummary,
    /// `null` (or absent) when DescribePolicy returned no content: the
    /// policy is kept, as unknown.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub targets: Vec<PolicyTarget>,
}

/// `PolicySummary`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicySummary {
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub aws_managed: bool,
}

/// A `ListTargetsForPolicy` entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyTarget {
    pub target_id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "Type")]
    pub kind: Option<String>,
}

/// Reads and normalizes an organization file.
pub fn load(path: &Path) -> Result<Organization, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path)
}

/// Parses an organization file; `path` only names errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Organization, IngestError> {
    let file: OrganizationFile = super::deserialize(bytes, path)?;
    normalize(file, path)
}

fn kind_of(t: &str) -> Option<OrgPolicyKind> {
    match t {
        "SERVICE_CONTROL_POLICY" => Some(OrgPolicyKind::Scp),
        "RESOURCE_CONTROL_POLICY" => Some(OrgPolicyKind::Rcp),
        _ => None,
    }
}

/// The raw file into the model; a policy whose content is not a policy
/// document is an error naming it.
pub fn normalize(file: OrganizationFile, path: &Path) -> Result<Organization, IngestError> {
    let shape = |location: String, message: String| IngestError::Shape {
        path: path.to_path_buf(),
        location,
        message,
    };
    let mut policies = Vec::new();
    for (i, p) in file.policies.iter().enumerate() {
        let Some(kind) = kind_of(&p.policy_summary.kind) else {
            continue;
        };
        let at = format!("$.Policies[{i}].Content");
        let doc = match &p.content {
            // Unknown content: no statement is read, and the policy says so
            // (`content_unknown`); the evaluation takes it as unknown.
            None => Default::default(),
            Some(text) => parse_content(text, &at).map_err(|e| {
                shape(
                    e.location,
                    format!(
                        "policy `{}` ({}): {}",
                        p.policy_summary.name.as_deref().unwrap_or("?"),
                        p.policy_summary.id,
                        e.message
                    ),
                )
            })?,
        };
        policies.push(OrgPolicy {
            id: p.policy_summary.id.clone(),
            arn: p.policy_summary.arn.clone(),
            name: p
                .policy_summary
                .name
                .clone()
                .unwrap_or_else(|| p.policy_summary.id.clone()),
            kind,
            aws_managed: p.policy_summary.aws_managed,
            document: Arc::new(doc),
            targets: p.targets.iter().map(|t| t.target_id.clone()).collect(),
            content_unknown: p.content.is_none(),
        });
    }
    // Enabled types: what the roots say; a file without `PolicyTypes`
    // counts a type as enabled when it has policies attached somewhere.
    let stated = file.roots.iter().any(|r| r.policy_types.is_some());
    let enabled = |kind: OrgPolicyKind| {
        if stated {
            file.roots.iter().any(|r| {
                r.policy_types.iter().flatten().any(|t| {
                    t.kind == kind.api_type() && t.status.as_deref().is_none_or(|s| s == "ENABLED")
                })
            })
        } else {
            policies
                .iter()
                .any(|p| p.kind == kind && !p.targets.is_empty())
        }
    };
    let (scp_enabled, rcp_enabled) = (enabled(OrgPolicyKind::Scp), enabled(OrgPolicyKind::Rcp));
    let info = file.organization.unwrap_or_default();
    let management_account = info.master_account_id.clone().or_else(|| {
        info.master_account_arn
            .as_deref()
            .and_then(|a| a.split(':').nth(4))
            .map(String::from)
    });
    let mut units: Vec<OrgUnit> = file
        .roots
        .iter()
        .map(|r| OrgUnit {
            id: r.id.clone(),
            name: r.name.clone(),
            parent: None,
        })
        .collect();
    units.extend(file.organizational_units.iter().map(|o| OrgUnit {
        id: o.id.clone(),
        name: o.name.clone(),
        parent: o.parent_id.clone(),
    }));
    let accounts = file
        .accounts
        .iter()
        .map(|a| OrgAccount {
            id: a.id.clone(),
            name: a.name.clone(),
            status: a.status.clone(),
            parent: a.parent_id.clone(),
        })
        .collect();
    Ok(Organization::new(OrganizationParts {
        id: info.id,
        arn: info.arn,
        management_account,
        units,
        accounts,
        policies,
        scp_enabled,
        rcp_enabled,
    }))
}

/// A policy's `Content`: JSON text (AWS returns it unencoded; a URL-encoded
/// one is decoded like IAM's).
fn parse_content(text: &str, at: &str) -> Result<crate::model::PolicyDocument, PolicyError> {
    parse_document_value(&serde_json::Value::String(text.to_string()), at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "Organization": {"Id": "o-1", "Arn": "arn:aws:organizations::111:organization/o-1", "MasterAccountId": "111"},
      "Roots": [{"Id": "r-1", "Name": "Root", "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}],
      "OrganizationalUnits": [{"Id": "ou-1", "Name": "Prod", "ParentId": "r-1"}],
      "Accounts": [{"Id": "222", "Name": "prod", "Status": "ACTIVE", "ParentId": "ou-1"}, {"Id": "111", "ParentId": "r-1"}],
      "Policies": [
        {"PolicySummary": {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": true},
         "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
         "Targets": [{"TargetId": "r-1"}, {"TargetId": "ou-1"}, {"TargetId": "222"}]},
        {"PolicySummary": {"Id": "p-rcp", "Name": "rcp", "Type": "RESOURCE_CONTROL_POLICY"},
         "Content": "{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}",
         "Targets": [{"TargetId": "r-1"}]},
        {"PolicySummary": {"Id": "p-tag", "Name": "tags", "Type": "TAG_POLICY"}, "Content": "{}", "Targets": []}
      ]}"#;

    #[test]
    fn reads_the_tree_policies_and_enabled_types() {
        let org = parse(FILE.as_bytes(), Path::new("organization.json")).unwrap();
        assert_eq!(org.management_account.as_deref(), Some("111"));
        assert_eq!(
            org.path("222").unwrap(),
            ["r-1", "ou-1", "222"].map(String::from)
        );
        assert_eq!(org.policies.len(), 2, "the tag policy is left out");
        assert!(org.scp_enabled);
        assert!(!org.rcp_enabled, "RCPs are attached but not enabled");
        assert_eq!(org.attached("ou-1", OrgPolicyKind::Scp).count(), 1);
        assert!(org.policies[1].document.statements[0].principal.is_some());
    }

    /// `pull` writes `"Content": null` when DescribePolicy returns none.
    #[test]
    fn a_policy_without_content_is_kept_as_unknown() {
        let mut v: serde_json::Value = serde_json::from_str(FILE).unwrap();
        v["Policies"][1]["Content"] = serde_json::Value::Null;
        let org = parse(v.to_string().as_bytes(), Path::new("organization.json")).unwrap();
        let p = &org.policies[1];
        assert!(p.content_unknown);
        assert!(p.document.statements.is_empty());
        assert!(!org.policies[0].content_unknown);
    }

    #[test]
    fn a_bad_policy_names_the_file_the_place_and_the_policy() {
        let bad = FILE.replace(
            r#"{\"Effect\":\"Deny\",\"Principal\""#,
            r#"{\"Effect\":\"Maybe\",\"Principal\""#,
        );
        let e = parse(bad.as_bytes(), Path::new("org.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("org.json"), "{e}");
        assert!(
            e.contains("$.Policies[1].Content.Statement[0].Effect"),
            "{e}"
        );
        assert!(e.contains("p-rcp"), "{e}");
        let e = parse(
            br#"{"Policies": [{"Content": "{}"}]}"#,
            Path::new("org.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("$.Policies[0]") && e.contains("PolicySummary"),
            "{e}"
        );
    }
}

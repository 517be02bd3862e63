//! `manifest.json`: what a pull fetched, from where, and what it could not.
//! The audit reads its gaps into the report's coverage (as input problems), so a region
//! that was denied or an object that could not be read is never silently
//! missing from the evidence.

use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SCHEMA: &str = "leastpriv.snapshot/v1";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: String,
    pub tool_version: String,
    pub account_id: String,
    /// The identity the pull ran as (an ARN, never a credential).
    pub caller_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumed_role: Option<String>,
    /// Unix seconds.
    pub pulled_at: i64,
    pub finished_at: i64,
    pub since: i64,
    pub until: i64,
    pub regions: Vec<String>,
    /// `s3`, `lookup`, `s3+lookup` or `none`.
    pub event_source: String,
    pub iam: IamCounts,
    /// Log objects in the snapshot, for resuming and for audit trails.
    pub objects: Vec<Object>,
    /// LookupEvents records per region.
    pub lookup: Vec<LookupCount>,
    pub downloaded: Counts,
    /// What could not be read (`problems` in `manifest.json`).
    #[serde(rename = "problems")]
    pub gaps: Vec<Gap>,
    /// The account's organization, and whether `organization.json` was
    /// written; absent in manifests of pulls that did not ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationPart>,
    /// `resource-policies.json`: resources written, per resource type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policies: Option<std::collections::BTreeMap<String, usize>>,
    /// `identity-center.json`, when it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_center: Option<IdentityCenterCounts>,
}

/// What a pull learnt of the account's organization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPart {
    /// `o-...`; `None` when the account is in no organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_account_id: Option<String>,
    /// `organization.json` is in the snapshot: read by this account, or
    /// copied from the organization snapshot it belongs to.
    pub written: bool,
    /// `pulled` (read with this account's credentials), `organization`
    /// (the organization snapshot's own file), `none` (not in an
    /// organization), `denied` (a member that cannot read it: a gap).
    pub source: String,
    pub accounts: usize,
    pub organizational_units: usize,
    pub policies: usize,
}

/// What `identity-center.json` holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityCenterCounts {
    pub instance_arn: String,
    pub region: String,
    pub users: usize,
    pub groups: usize,
    pub permission_sets: usize,
    pub account_assignments: usize,
}

pub const ORGANIZATION_SCHEMA: &str = "leastpriv.organization-snapshot/v1";

/// `manifest.json` of an organization snapshot (`pull --organization`):
/// the accounts it holds under `accounts/ACCOUNT_ID/` (each with its own
/// `manifest.json`), those that could not be pulled, and the organization
/// trail read once for all of them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationManifest {
    pub schema: String,
    pub tool_version: String,
    pub organization_id: String,
    pub management_account_id: String,
    /// The account and identity the pull ran as (an ARN, never a credential).
    pub caller_account_id: String,
    pub caller_arn: String,
    /// The role assumed in every other account.
    pub role_name: String,
    pub pulled_at: i64,
    pub finished_at: i64,
    pub since: i64,
    pub until: i64,
    pub regions: Vec<String>,
    /// Every account selected (`--accounts`, `--ous`), in id order.
    pub accounts: Vec<AccountEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_center: Option<IdentityCenterCounts>,
    /// `s3://BUCKET/PREFIX` of the organization trail read once for every
    /// account, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trail: Option<String>,
    /// `s3`, `athena`, or `accounts` (each account read its own events).
    pub event_source: String,
    /// The organization trail's log files under `cloudtrail/`.
    pub objects: Vec<Object>,
    pub downloaded: Counts,
    /// What could not be read at the organization's level, and the accounts
    /// that could not be pulled (stage `account`).
    #[serde(rename = "problems")]
    pub gaps: Vec<Gap>,
}

/// One account of an organization snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    pub id: String,
    pub name: String,
    /// `pulled` or `failed`.
    pub status: String,
    /// Relative to the organization snapshot, when pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl OrganizationManifest {
    /// Reads an organization snapshot's manifest; errors name the file and
    /// the JSON path.
    pub fn read(path: &Path) -> Result<OrganizationManifest, crate::ingest::IngestError> {
        let bytes = crate::ingest::read_file(path)?;
        crate::ingest::deserialize(&bytes, path)
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamCounts {
    pub users: usize,
    pub groups: usize,
    pub roles: usize,
    pub policies: usize,
    pub pages: usize,
    pub access_keys: usize,
    pub access_advisor_principals: usize,
    pub credential_report: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Objects fetched in this run.
    pub fetched: usize,
    /// Objects kept from an earlier run (same key and ETag).
    pub reused: usize,
    pub bytes: u64,
    pub failed: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub size: u64,
    /// Relative to the snapshot.
    pub path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupCount {
    pub region: String,
    pub events: usize,
    pub pages: usize,
}

/// A part of the account the pull could not read.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// `iam`, `credential-report`, `access-advisor`, `trails`, `s3`, `lookup`,
    /// `organization`, `identity-center`, `resource-policies`, `account`.
    pub stage: String,
    /// What it was about: a region, an object, a principal.
    pub target: String,
    pub message: String,
}

impl Gap {
    pub fn new(stage: &str, target: impl Into<String>, message: impl Into<String>) -> Gap {
        Gap {
            stage: stage.into(),
            target: target.into(),
            message: message.into(),
        }
    }
}

impl Manifest {
    pub fn new(
        account_id: String,
        caller_arn: String,
        assumed_role: Option<String>,
        since: i64,
        until: i64,
        now: i64,
    ) -> Manifest {
        Manifest {
            schema: SCHEMA.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            account_id,
            caller_arn,
            assumed_role,
            pulled_at: now,
            finished_at: now,
            since,
            until,
            event_source: "none".into(),
            ..Manifest::default()
        }
    }

    /// The pull's gaps as warning lines. A denial repeats for every
    /// principal or object of a stage: the first `named_per_stage` of each
    /// stage are named, the rest counted (all of them are in the file).
    pub fn warnings(&self, named_per_stage: usize) -> Vec<String> {
        let mut per_stage: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut out = Vec::new();
        for p in &self.gaps {
            let n = per_stage.entry(p.stage.as_str()).or_default();
            *n += 1;
            if *n <= named_per_stage {
                out.push(format!(
                    "{}: {} {}: {}",
                    self.account_id, p.stage, p.target, p.message
                ));
            }
        }
        for (stage, n) in per_stage {
            if n > named_per_stage {
                out.push(format!(
                    "{}: {} more {stage} problem(s), listed in manifest.json",
                    self.account_id,
                    n - named_per_stage
                ));
            }
        }
        out
    }
}

/// Reads a manifest; errors name the file and the JSON path.
pub fn read(path: &Path) -> Result<Manifest, crate::ingest::IngestError> {
    let bytes = crate::ingest::read_file(path)?;
    crate::ingest::deserialize(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_the_first_problems_of_each_stage_and_count_the_rest() {
        let mut m = Manifest::new("111122223333".into(), "arn".into(), None, 0, 0, 0);
        for i in 0..7 {
            m.gaps.push(Gap::new(
                "access-advisor",
                format!("arn:aws:iam::111122223333:role/r{i}"),
                "AccessDenied",
            ));
        }
        m.gaps.push(Gap::new("s3", "s3://b/k", "NoSuchKey"));
        let w = m.warnings(5);
        assert_eq!(w.len(), 7, "{w:#?}");
        assert_eq!(
            w[0],
            "111122223333: access-advisor arn:aws:iam::111122223333:role/r0: AccessDenied"
        );
        assert!(w.contains(&"111122223333: s3 s3://b/k: NoSuchKey".to_string()));
        assert_eq!(
            w.last().unwrap(),
            "111122223333: 2 more access-advisor problem(s), listed in manifest.json"
        );
        assert_eq!(m.warnings(10).len(), 8);
    }
}

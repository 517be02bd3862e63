//! The snapshot layout: where each input lives, and explicit overrides.
//!
//! ```text
//! SNAPSHOT/iam.json               get-account-authorization-details
//! SNAPSHOT/credential-report.csv  optional
//! SNAPSHOT/trails.json            optional
//! SNAPSHOT/cloudtrail/            log files at any depth
//! SNAPSHOT/last-accessed.json     optional, Access Advisor (written by `pull`)
//! SNAPSHOT/manifest.json          optional, what `pull` fetched and missed
//! SNAPSHOT/activity.parquet       optional, aggregated activity (with activity.json)
//! SNAPSHOT/organization.json      optional, the organization, its SCPs and RCPs
//! SNAPSHOT/resource-policies.json optional, resource policies and KMS keys
//! SNAPSHOT/identity-center.json   optional, IAM Identity Center (people, permission sets)
//! ```
//!
//! An organization snapshot (`pull --organization`) holds
//! `organization.json`, optional `identity-center.json`, one account
//! snapshot per account under `accounts/ACCOUNT_ID/`, and optionally the
//! organization trail under `cloudtrail/`: see [`super::org_snapshot`].

use super::IngestError;
use std::path::{Path, PathBuf};

/// The input files of one audit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotPaths {
    pub iam: PathBuf,
    pub credential_report: Option<PathBuf>,
    pub trails: Option<PathBuf>,
    pub cloudtrail: Vec<PathBuf>,
    pub last_accessed: Option<PathBuf>,
    pub manifest: Option<PathBuf>,
    /// The snapshot directory, when there is one (where `--save-activity` writes).
    pub dir: Option<PathBuf>,
    /// The activity store's sidecar (`activity.json`), unless logs were given
    /// explicitly with `--cloudtrail`.
    pub activity: Option<PathBuf>,
    /// The organization with its service and resource control policies.
    pub organization: Option<PathBuf>,
    /// Resource-based policies and KMS keys of the account's resources.
    pub resource_policies: Option<PathBuf>,
    /// IAM Identity Center: users, groups, permission sets, assignments.
    pub identity_center: Option<PathBuf>,
    /// An organization snapshot: each account's own parts (its `cloudtrail`
    /// with the organization trail's files of that account). Empty for an
    /// account snapshot.
    pub members: Vec<SnapshotPaths>,
}

/// Parts given explicitly on the command line; they win over the snapshot's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub iam: Option<PathBuf>,
    pub credential_report: Option<PathBuf>,
    pub trails: Option<PathBuf>,
    pub cloudtrail: Vec<PathBuf>,
    pub organization: Option<PathBuf>,
    pub resource_policies: Option<PathBuf>,
    pub identity_center: Option<PathBuf>,
    /// Organization snapshots: the accounts to audit (`--account`); empty
    /// for all of them.
    pub accounts: Vec<String>,
}

/// Subdirectories that are snapshots of their own (`pull --assume-role` for
/// several accounts writes one per account).
fn per_account(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().join("manifest.json").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl SnapshotPaths {
    /// Resolves the inputs from an optional snapshot directory and overrides.
    pub fn resolve(dir: Option<&Path>, o: &Overrides) -> Result<SnapshotPaths, IngestError> {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(IngestError::Read {
                    path: d.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "snapshot directory not found",
                    ),
                });
            }
        }
        if let Some(d) = dir.filter(|d| o.iam.is_none() && super::org_snapshot::is_org(d)) {
            return super::org_snapshot::resolve(d, o);
        }
        if !o.accounts.is_empty() {
            return Err(IngestError::Shape {
                path: dir.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
                location: "--account".into(),
                message: "`--account` narrows an organization snapshot (a directory with `organization.json` and `accounts/`)".into(),
            });
        }
        let part = |name: &str| dir.map(|d| d.join(name)).filter(|p| p.exists());
        let iam = match (&o.iam, part("iam.json")) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => p,
            (None, None) => {
                if let Some(d) = dir {
                    let accounts = per_account(d);
                    if !accounts.is_empty() {
                        return Err(IngestError::SeveralAccounts {
                            path: d.to_path_buf(),
                            accounts,
                        });
                    }
                }
                return Err(IngestError::NoIam {
                    path: dir
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| PathBuf::from(".")),
                });
            }
        };
        let cloudtrail = if !o.cloudtrail.is_empty() {
            o.cloudtrail.clone()
        } else {
            part("cloudtrail").into_iter().collect()
        };
        Ok(SnapshotPaths {
            iam,
            credential_report: o
                .credential_report
                .clone()
                .or_else(|| part("credential-report.csv")),
            trails: o.trails.clone().or_else(|| part("trails.json")),
            cloudtrail,
            last_accessed: part("last-accessed.json"),
            manifest: part("manifest.json"),
            dir: dir.map(Path::to_path_buf),
            activity: if o.cloudtrail.is_empty() {
                part("activity.json")
            } else {
                None
            },
            organization: o.organization.clone().or_else(|| part("organization.json")),
            resource_policies: o
                .resource_policies
                .clone()
                .or_else(|| part("resource-policies.json")),
            identity_center: o
                .identity_center
                .clone()
                .or_else(|| part("identity-center.json")),
            members: Vec::new(),
        })
    }

    /// The account snapshots to read: the members of an organization
    /// snapshot, or this one.
    pub fn parts(&self) -> impl Iterator<Item = &SnapshotPaths> {
        let own = self.members.is_empty().then_some(self);
        own.into_iter().chain(self.members.iter())
    }

    /// Every single-file input, for hashing in reports.
    pub fn files(&self) -> Vec<&Path> {
        if !self.members.is_empty() {
            let mut v: Vec<&Path> = Vec::new();
            v.extend(self.manifest.as_deref());
            v.extend(self.organization.as_deref());
            v.extend(self.identity_center.as_deref());
            for m in &self.members {
                v.extend(m.files());
            }
            return v;
        }
        let mut v: Vec<&Path> = vec![&self.iam];
        v.extend(self.credential_report.as_deref());
        v.extend(self.trails.as_deref());
        v.extend(self.last_accessed.as_deref());
        v.extend(self.manifest.as_deref());
        // The sidecar holds the Parquet file's SHA-256, so its hash covers both.
        v.extend(self.activity.as_deref());
        v.extend(self.organization.as_deref());
        v.extend(self.resource_policies.as_deref());
        v.extend(self.identity_center.as_deref());
        v
    }
}

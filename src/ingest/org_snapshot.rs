//! The organization snapshot layout (`pull --organization`):
//!
//! ```text
//! ORG/organization.json        the organization, its SCPs and RCPs
//! ORG/identity-center.json     optional, IAM Identity Center
//! ORG/manifest.json            optional, what the pull reached (its gaps are the audit's problems)
//! ORG/accounts/ACCOUNT_ID/     one account snapshot each (iam.json, cloudtrail/, ...)
//! ORG/cloudtrail/              optional, the organization trail:
//!                              .../AWSLogs/o-ORG/ACCOUNT_ID/CloudTrail/... routed to ACCOUNT_ID
//! ```
//!
//! Layout only: which files make each account's part. Reading them is the
//! audit's.

use super::snapshot::{Overrides, SnapshotPaths};
use super::IngestError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether `dir` is an organization snapshot: `organization.json` and an
/// `accounts/` directory, and no `iam.json` of its own.
pub fn is_org(dir: &Path) -> bool {
    dir.join("organization.json").is_file()
        && dir.join("accounts").is_dir()
        && !dir.join("iam.json").exists()
}

/// The account snapshots under `accounts/`, by account id.
fn account_dirs(dir: &Path) -> Result<BTreeMap<String, PathBuf>, IngestError> {
    let accounts = dir.join("accounts");
    let rd = std::fs::read_dir(&accounts).map_err(|source| IngestError::Read {
        path: accounts.clone(),
        source,
    })?;
    Ok(rd
        .filter_map(Result::ok)
        .filter(|e| e.path().join("iam.json").is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect())
}

/// The organization trail's directories by account: every
/// `AWSLogs/o-ORG/ACCOUNT_ID` (or `AWSLogs/ACCOUNT_ID`) under `root`.
/// Files outside such a directory are not routed (`None` key).
pub fn route_trail(root: &Path) -> BTreeMap<Option<String>, Vec<PathBuf>> {
    let mut out: BTreeMap<Option<String>, Vec<PathBuf>> = BTreeMap::new();
    let mut found = false;
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() && e.file_name() == "AWSLogs")
    {
        found = true;
        let children = |d: &Path| -> Vec<(String, PathBuf)> {
            std::fs::read_dir(d)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .filter(|c| c.path().is_dir())
                        .map(|c| (c.file_name().to_string_lossy().into_owned(), c.path()))
                        .collect()
                })
                .unwrap_or_default()
        };
        for (name, path) in children(e.path()) {
            if name.starts_with("o-") {
                for (acct, p) in children(&path) {
                    let key = is_account(&acct).then_some(acct);
                    out.entry(key).or_default().push(p);
                }
            } else {
                let key = is_account(&name).then_some(name);
                out.entry(key).or_default().push(path);
            }
        }
    }
    if !found && root.is_dir() {
        out.entry(None).or_default().push(root.to_path_buf());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Resolves an organization snapshot: each selected account's parts, the
/// organization trail routed to them.
pub fn resolve(dir: &Path, o: &Overrides) -> Result<SnapshotPaths, IngestError> {
    let all = account_dirs(dir)?;
    for a in &o.accounts {
        if !all.contains_key(a) {
            return Err(IngestError::Shape {
                path: dir.join("accounts"),
                location: "--account".into(),
                message: format!(
                    "no account snapshot `{a}` (found: {})",
                    all.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let selected: Vec<(&String, &PathBuf)> = all
        .iter()
        .filter(|(a, _)| o.accounts.is_empty() || o.accounts.contains(a))
        .collect();
    if selected.is_empty() {
        return Err(IngestError::NoIam {
            path: dir.join("accounts"),
        });
    }
    let org_trail = route_trail(&dir.join("cloudtrail"));
    let organization = o
        .organization
        .clone()
        .unwrap_or_else(|| dir.join("organization.json"));
    let mut members = Vec::new();
    for (account, adir) in selected {
        // Each account's own parts, without its organization.json (a copy
        // of the organization's).
        let mut m = SnapshotPaths::resolve(
            Some(adir),
            &Overrides {
                organization: Some(organization.clone()),
                ..Overrides::default()
            },
        )?;
        if !o.cloudtrail.is_empty() {
            m.cloudtrail.clear();
        }
        m.cloudtrail.extend(
            org_trail
                .get(&Some(account.clone()))
                .into_iter()
                .flatten()
                .cloned(),
        );
        // An account with log files is read from them, not from its
        // activity store: the organization trail adds records the store
        // did not see, and the session chains need the records. One
        // without any (`pull --organization --athena` writes none) has
        // only its store.
        if !m.cloudtrail.is_empty() || !o.cloudtrail.is_empty() {
            m.activity = None;
        }
        members.push(m);
    }
    let mut cloudtrail: Vec<PathBuf> = members
        .iter()
        .flat_map(|m| m.cloudtrail.iter().cloned())
        .collect();
    // Files the layout does not place in one account: read for every audit
    // (records of other accounts are counted apart by the reading).
    cloudtrail.extend(org_trail.get(&None).into_iter().flatten().cloned());
    cloudtrail.extend(o.cloudtrail.iter().cloned());
    let first = &members[0];
    Ok(SnapshotPaths {
        iam: first.iam.clone(),
        credential_report: None,
        trails: o
            .trails
            .clone()
            .or_else(|| Some(dir.join("trails.json")).filter(|p| p.is_file()))
            .or_else(|| members.iter().find_map(|m| m.trails.clone())),
        cloudtrail,
        last_accessed: None,
        manifest: Some(dir.join("manifest.json")).filter(|p| p.is_file()),
        dir: Some(dir.to_path_buf()),
        activity: None,
        organization: Some(organization),
        resource_policies: None,
        identity_center: o
            .identity_center
            .clone()
            .or_else(|| Some(dir.join("identity-center.json")).filter(|p| p.is_file())),
        members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_org_trail_goes_to_its_accounts() {
        let t = tempfile::tempdir().expect("tempdir");
        let base = t.path().join("s3/bucket/AWSLogs/o-abc");
        for a in ["111111111111", "222222222222"] {
            std::fs::create_dir_all(base.join(a).join("CloudTrail/us-east-1")).expect("mkdir");
        }
        std::fs::create_dir_all(t.path().join("s3/bucket/AWSLogs/333333333333")).expect("mkdir");
        let r = route_trail(t.path());
        assert_eq!(
            r[&Some("111111111111".to_string())],
            vec![base.join("111111111111")]
        );
        assert!(r.contains_key(&Some("333333333333".to_string())));
        assert!(!r.contains_key(&None));
    }
}

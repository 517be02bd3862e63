//! An AWS Organization as the evaluation sees it: the tree of roots,
//! organizational units and accounts, and the service and resource control
//! policies attached along it.
//!
//! Built by `ingest::organization` from `organization.json`; it knows nothing
//! of that file's shape.

use super::PolicyDocument;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Which kind of authorization policy an organization policy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OrgPolicyKind {
    /// Service control policy: limits the principals of member accounts.
    Scp,
    /// Resource control policy: limits access to the resources of member accounts.
    Rcp,
}

impl OrgPolicyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgPolicyKind::Scp => "SCP",
            OrgPolicyKind::Rcp => "RCP",
        }
    }

    /// The `Type` AWS Organizations gives the policy.
    pub fn api_type(self) -> &'static str {
        match self {
            OrgPolicyKind::Scp => "SERVICE_CONTROL_POLICY",
            OrgPolicyKind::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }
}

/// One SCP or RCP with its document and where it is attached.
#[derive(Clone, Debug)]
pub struct OrgPolicy {
    pub id: String,
    pub arn: Option<String>,
    pub name: String,
    pub kind: OrgPolicyKind,
    pub aws_managed: bool,
    /// Empty when the content is unknown.
    pub document: Arc<PolicyDocument>,
    /// Ids of the roots, OUs and accounts it is attached to.
    pub targets: Vec<String>,
    /// `organization.json` holds no content for it (`"Content": null`:
    /// DescribePolicy returned none). Its statements are unknown, so the
    /// evaluation takes it as possibly allowing and possibly denying every
    /// action: never as allowing nothing, never as denying nothing.
    pub content_unknown: bool,
}

impl OrgPolicy {
    /// `SCP `name` (p-id)`: how findings and verdicts name it.
    pub fn label(&self) -> String {
        format!("{} `{}` ({})", self.kind.as_str(), self.name, self.id)
    }
}

/// A member account as Organizations lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
    pub status: Option<String>,
    /// The root or OU the account is in.
    pub parent: Option<String>,
}

/// A root or an organizational unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: String,
    pub name: Option<String>,
    /// `None` for a root.
    pub parent: Option<String>,
}

/// The organization.
#[derive(Clone, Debug, Default)]
pub struct Organization {
    pub id: Option<String>,
    pub arn: Option<String>,
    /// The management account: no SCP limits its principals and no RCP its
    /// resources.
    pub management_account: Option<String>,
    /// Roots and OUs by id.
    pub units: BTreeMap<String, OrgUnit>,
    pub accounts: BTreeMap<String, OrgAccount>,
    pub policies: Vec<OrgPolicy>,
    /// Whether each policy type is enabled in the root (an enabled type
    /// applies even to a level where, against AWS's rules, nothing is attached).
    pub scp_enabled: bool,
    pub rcp_enabled: bool,
    /// Target id to the indexes (in `policies`) of what is attached to it.
    attached: HashMap<String, Vec<usize>>,
}

/// The levels of an account's path with no policy of an enabled type
/// attached: AWS never leaves a level so, so the snapshot is incomplete there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingLevel {
    pub kind: OrgPolicyKind,
    pub target: String,
}

/// What an organization is made of, before it is indexed.
#[derive(Clone, Debug, Default)]
pub struct OrganizationParts {
    pub id: Option<String>,
    pub arn: Option<String>,
    pub management_account: Option<String>,
    pub units: Vec<OrgUnit>,
    pub accounts: Vec<OrgAccount>,
    pub policies: Vec<OrgPolicy>,
    pub scp_enabled: bool,
    pub rcp_enabled: bool,
}

impl Organization {
    /// Builds the organization and its attachment index.
    pub fn new(parts: OrganizationParts) -> Organization {
        let OrganizationParts {
            id,
            arn,
            management_account,
            units,
            accounts,
            policies,
            scp_enabled,
            rcp_enabled,
        } = parts;
        let mut attached: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in policies.iter().enumerate() {
            for t in &p.targets {
                let v = attached.entry(t.clone()).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        Organization {
            id,
            arn,
            management_account,
            units: units.into_iter().map(|u| (u.id.clone(), u)).collect(),
            accounts: accounts.into_iter().map(|a| (a.id.clone(), a)).collect(),
            policies,
            scp_enabled,
            rcp_enabled,
            attached,
        }
    }

    pub fn is_enabled(&self, kind: OrgPolicyKind) -> bool {
        match kind {
            OrgPolicyKind::Scp => self.scp_enabled,
            OrgPolicyKind::Rcp => self.rcp_enabled,
        }
    }

    /// Whether `account` is in the organization (the management account included).
    pub fn contains(&self, account: &str) -> bool {
        self.accounts.contains_key(account) || self.management_account.as_deref() == Some(account)
    }

    pub fn is_management(&self, account: &str) -> bool {
        self.management_account.as_deref() == Some(account)
    }

    /// The ids from the root down to the account itself, or `None` when the
    /// account is not in the organization. A parent missing from the file
    /// ends the path there (the walk also stops on a loop).
    pub fn path(&self, account: &str) -> Option<Vec<String>> {
        let acct = self.accounts.get(account)?;
        let mut up = vec![acct.id.clone()];
        let mut next = acct.parent.clone();
        while let Some(id) = next {
            if up.contains(&id) || up.len() > self.units.len() + 1 {
                break;
            }
            up.push(id.clone());
            next = self.units.get(&id).and_then(|u| u.parent.clone());
        }
        up.reverse();
        Some(up)
    }

    /// The policies of `kind` attached to `target`, in the file's order.
    pub fn attached(&self, target: &str, kind: OrgPolicyKind) -> impl Iterator<Item = &OrgPolicy> {
        self.attached
            .get(target)
            .into_iter()
            .flatten()
            .map(|&i| &self.policies[i])
            .filter(move |p| p.kind == kind)
    }

    /// A readable name of a root, OU or account id.
    pub fn target_label(&self, id: &str) -> String {
        let name = self
            .units
            .get(id)
            .and_then(|u| u.name.clone())
            .or_else(|| self.accounts.get(id).and_then(|a| a.name.clone()));
        match name {
            Some(n) => format!("{n} ({id})"),
            None => id.to_string(),
        }
    }

    /// Levels of every account's path where an enabled policy type has
    /// nothing attached (the evaluation treats them as allowing everything,
    /// and the audit reports them).
    pub fn missing_levels(&self, account: &str) -> Vec<MissingLevel> {
        let Some(path) = self.path(account) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for kind in [OrgPolicyKind::Scp, OrgPolicyKind::Rcp] {
            if !self.is_enabled(kind) {
                continue;
            }
            for t in &path {
                if self.attached(t, kind).next().is_none() {
                    out.push(MissingLevel {
                        kind,
                        target: t.clone(),
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, parent: Option<&str>) -> OrgUnit {
        OrgUnit {
            id: id.into(),
            name: Some(format!("n-{id}")),
            parent: parent.map(Into::into),
        }
    }

    #[test]
    fn path_runs_from_the_root_to_the_account_and_stops_on_loops() {
        let org = Organization::new(OrganizationParts {
            management_account: Some("111".into()),
            units: vec![
                unit("r-1", None),
                unit("ou-a", Some("r-1")),
                unit("ou-b", Some("ou-a")),
                unit("ou-x", Some("ou-y")),
                unit("ou-y", Some("ou-x")),
            ],
            accounts: vec![
                OrgAccount {
                    id: "222".into(),
                    name: None,
                    status: None,
                    parent: Some("ou-b".into()),
                },
                OrgAccount {
                    id: "333".into(),
                    name: None,
                    status: None,
                    parent: Some("ou-x".into()),
                },
            ],
            scp_enabled: true,
            ..Default::default()
        });
        assert_eq!(
            org.path("222").unwrap(),
            ["r-1", "ou-a", "ou-b", "222"].map(String::from)
        );
        assert_eq!(
            org.path("333").unwrap(),
            ["ou-y", "ou-x", "333"].map(String::from)
        );
        assert!(org.path("999").is_none());
        assert!(org.contains("111") && org.is_management("111"));
        assert_eq!(org.missing_levels("222").len(), 4);
    }
}

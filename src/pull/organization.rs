//! AWS Organizations: the organization, its roots, OUs, accounts and the
//! policies that bound them (service and resource control policies, with
//! their content and targets), as `organization.json`:
//!
//! ```text
//! {"Organization": <DescribeOrganization.Organization>,
//!  "Roots": [<ListRoots entries>],
//!  "OrganizationalUnits": [{"Id", "Arn", "Name", "ParentId"}],
//!  "Accounts": [{"Id", "Arn", "Name", "Email", "Status", "ParentId"}],
//!  "Policies": [{"PolicySummary": {...}, "Content": "<policy JSON>", "Targets": [...]}]}
//! ```
//!
//! Only the management account and delegated administrators may read the
//! structure; any member may call DescribeOrganization. Read calls only.

use super::aws::describe;
use super::PullOptions;
use aws_sdk_organizations::types as t;
use aws_sdk_organizations::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{json, Value};

/// The organization an account belongs to, from DescribeOrganization.
#[derive(Clone, Debug)]
pub(crate) struct Membership {
    pub id: String,
    pub management_account_id: String,
}

/// What an account can know of its organization.
pub(crate) enum Access {
    /// The account is in no organization: nothing bounds it.
    NotInOrganization,
    /// A member that may not read the organization's structure, and why.
    Member(Membership, String),
    /// The whole organization (`organization.json`).
    Full(Membership, Organization),
}

/// `organization.json`, and the accounts for an organization pull.
pub(crate) struct Organization {
    pub file: Value,
    /// (id, name, status, parent id) of every account.
    pub accounts: Vec<AccountInfo>,
    /// Parent of every OU, for `--ous` (descendants).
    pub ou_parents: Vec<(String, String)>,
    pub policies: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct AccountInfo {
    pub id: String,
    pub name: String,
    pub status: String,
    pub parent: String,
}

impl Organization {
    /// Whether `account` sits under `ou` (an OU or root id), at any depth.
    pub(crate) fn is_under(&self, account: &AccountInfo, ou: &str) -> bool {
        let mut at = account.parent.clone();
        // Bounded: an OU tree is at most 5 levels deep under a root; the
        // bound only guards against a malformed answer that loops.
        for _ in 0..64 {
            if at == ou {
                return true;
            }
            match self.ou_parents.iter().find(|(id, _)| *id == at) {
                Some((_, parent)) => at = parent.clone(),
                None => return false,
            }
        }
        false
    }

    pub(crate) fn organizational_units(&self) -> usize {
        self.ou_parents.len()
    }
}

/// Reads the organization as far as this account may. `Err` only when even
/// DescribeOrganization fails for another reason than "not in use".
pub(crate) async fn read(client: &Client, opts: &PullOptions) -> Result<Access, String> {
    let org = match client.describe_organization().send().await {
        Ok(o) => o,
        Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => {
            return Ok(Access::NotInOrganization)
        }
        Err(e) => return Err(describe(&e)),
    };
    let Some(o) = org.organization() else {
        return Err("DescribeOrganization returned no organization".into());
    };
    let membership = Membership {
        id: o.id().unwrap_or_default().to_string(),
        management_account_id: o.master_account_id().unwrap_or_default().to_string(),
    };
    let roots = match client
        .list_roots()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.roots().to_vec())
                .collect::<Vec<_>>()
        }) {
        Ok(r) => r,
        // Members that are not a delegated administrator are refused: the
        // documented rule, not a failure of the pull.
        Err(e) => return Ok(Access::Member(membership, describe(&e))),
    };
    match structure(client, opts, o, &roots).await {
        Ok(org) => Ok(Access::Full(membership, org)),
        Err(msg) => Ok(Access::Member(membership, msg)),
    }
}

async fn structure(
    client: &Client,
    opts: &PullOptions,
    o: &t::Organization,
    roots: &[t::Root],
) -> Result<Organization, String> {
    // Breadth first from each root: OUs and the accounts directly under each
    // parent (ListAccountsForParent also gives each account's parent, with
    // one call per parent instead of ListParents per account).
    let mut parents: Vec<String> = roots
        .iter()
        .filter_map(|r| r.id().map(String::from))
        .collect();
    let mut ous = Vec::new();
    let mut ou_parents = Vec::new();
    let mut accounts = Vec::new();
    let mut accounts_file = Vec::new();
    let mut i = 0;
    while i < parents.len() {
        let parent = parents[i].clone();
        i += 1;
        let children = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.organizational_units().to_vec())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| describe(&e))?;
        for ou in children {
            let id = ou.id().unwrap_or_default().to_string();
            ous.push(json!({
                "Id": id, "Arn": ou.arn(), "Name": ou.name(), "ParentId": parent,
            }));
            ou_parents.push((id.clone(), parent.clone()));
            parents.push(id);
        }
        let under = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.accounts().to_vec())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| describe(&e))?;
        for a in under {
            accounts.push(AccountInfo {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                parent: parent.clone(),
            });
            accounts_file.push(json!({
                "Id": a.id(), "Arn": a.arn(), "Name": a.name(), "Email": a.email(),
                "Status": a.status().map(|s| s.as_str()), "ParentId": parent,
            }));
        }
    }
    let by_id = |a: &Value, b: &Value| a["Id"].as_str().cmp(&b["Id"].as_str());
    ous.sort_by(by_id);
    accounts_file.sort_by(by_id);
    accounts.sort_by(|a, b| a.id.cmp(&b.id));

    let mut summaries = Vec::new();
    for filter in [
        t::PolicyType::ServiceControlPolicy,
        t::PolicyType::ResourceControlPolicy,
    ] {
        let list = client
            .list_policies()
            .filter(filter)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.policies().to_vec())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| describe(&e))?;
        summaries.extend(list);
    }
    let results = super::iam::each_bounded(opts, "organization policies", &summaries, |p| {
        policy(client, p)
    })
    .await;
    let mut policies = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    policies.sort_by(|a, b| {
        a["PolicySummary"]["Id"]
            .as_str()
            .cmp(&b["PolicySummary"]["Id"].as_str())
    });
    let n_policies = policies.len();
    let file = json!({
        "Organization": {
            "Id": o.id(),
            "Arn": o.arn(),
            "FeatureSet": o.feature_set().map(|f| f.as_str()),
            "MasterAccountArn": o.master_account_arn(),
            "MasterAccountId": o.master_account_id(),
            "MasterAccountEmail": o.master_account_email(),
        },
        "Roots": roots.iter().map(|r| json!({
            "Id": r.id(),
            "Arn": r.arn(),
            "Name": r.name(),
            "PolicyTypes": r.policy_types().iter().map(|p| json!({
                "Type": p.r#type().map(|t| t.as_str()),
                "Status": p.status().map(|s| s.as_str()),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "OrganizationalUnits": ous,
        "Accounts": accounts_file,
        "Policies": policies,
    });
    Ok(Organization {
        file,
        accounts,
        ou_parents,
        policies: n_policies,
    })
}

/// One policy: its summary, its content (the policy JSON as a string, as
/// DescribePolicy returns it) and where it is attached.
async fn policy(client: &Client, p: &t::PolicySummary) -> Result<Value, String> {
    let id = p.id().unwrap_or_default();
    let described = client
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .map_err(|e| format!("DescribePolicy {id}: {}", describe(&e)))?;
    let content = described.policy().and_then(|p| p.content());
    let mut targets = client
        .list_targets_for_policy()
        .policy_id(id)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.targets().to_vec())
                .collect::<Vec<_>>()
        })
        .map_err(|e| format!("ListTargetsForPolicy {id}: {}", describe(&e)))?
        .into_iter()
        .map(|t| {
            json!({
                "TargetId": t.target_id(),
                "Arn": t.arn(),
                "Name": t.name(),
                "Type": t.r#type().map(|t| t.as_str()),
            })
        })
        .collect::<Vec<_>>();
    targets.sort_by(|a, b| a["TargetId"].as_str().cmp(&b["TargetId"].as_str()));
    Ok(json!({
        "PolicySummary": {
            "Id": p.id(),
            "Arn": p.arn(),
            "Name": p.name(),
            "Description": p.description(),
            "Type": p.r#type().map(|t| t.as_str()),
            "AwsManaged": p.aws_managed(),
        },
        "Content": content,
        "Targets": targets,
    }))
}

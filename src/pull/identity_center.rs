//! IAM Identity Center: the organization instance's users, groups,
//! memberships, permission sets (with their policies) and account
//! assignments, as `identity-center.json`:
//!
//! ```text
//! {"InstanceArn", "IdentityStoreId", "Region",
//!  "Users": [{"UserId", "UserName", "DisplayName", "Emails"}],
//!  "Groups": [{"GroupId", "DisplayName"}],
//!  "GroupMemberships": [{"GroupId", "MemberId": {"UserId"}}],
//!  "PermissionSets": [{"PermissionSetArn", "Name", "InlinePolicy", "AttachedManagedPolicies",
//!                      "CustomerManagedPolicyReferences", "PermissionsBoundary", "SessionDuration"}],
//!  "AccountAssignments": [{"AccountId", "PermissionSetArn", "PrincipalType", "PrincipalId"}]}
//! ```
//!
//! The organization instance lives in the management account, in one home
//! Region, and is readable from there or from the delegated administrator
//! of `sso.amazonaws.com`. Read calls only.

use super::aws::describe;
use super::manifest::IdentityCenterCounts;
use super::PullOptions;
use aws_config::{Region, SdkConfig};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{json, Value};

/// `identity-center.json` and what it holds.
pub(crate) struct IdentityCenter {
    pub file: Value,
    pub counts: IdentityCenterCounts,
}

/// Looks for the organization's instance (owned by `management`) in each
/// of `regions` in turn and reads it. `Err` says why nothing was read.
pub(crate) async fn read(
    conf: &SdkConfig,
    opts: &PullOptions,
    regions: &[String],
    management: &str,
) -> Result<IdentityCenter, String> {
    let mut refused = Vec::new();
    for region in regions {
        let sso = aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::config::Builder::from(conf)
                .region(Region::new(region.clone()))
                .build(),
        );
        let instances = match sso
            .list_instances()
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
        {
            Ok(i) => i,
            Err(e) => {
                refused.push(format!("{region}: {}", describe(&e)));
                continue;
            }
        };
        // Account instances (OwnerAccountId = a member) have no permission
        // sets: only the organization's instance matters here.
        let Some(instance) = instances
            .iter()
            .find(|i| i.owner_account_id().is_none_or(|o| o == management))
        else {
            continue;
        };
        let ids = aws_sdk_identitystore::Client::from_conf(
            aws_sdk_identitystore::config::Builder::from(conf)
                .region(Region::new(region.clone()))
                .build(),
        );
        return instance_contents(&sso, &ids, opts, instance, region).await;
    }
    let mut msg = format!(
        "no IAM Identity Center instance of the organization is visible in {} \
         (it is read in its home Region, from the management account or the delegated \
         administrator of sso.amazonaws.com: --identity-center-region)",
        regions.join(", ")
    );
    if !refused.is_empty() {
        msg.push_str(&format!("; {}", refused.join("; ")));
    }
    Err(msg)
}

async fn instance_contents(
    sso: &aws_sdk_ssoadmin::Client,
    ids: &aws_sdk_identitystore::Client,
    opts: &PullOptions,
    instance: &aws_sdk_ssoadmin::types::InstanceMetadata,
    region: &str,
) -> Result<IdentityCenter, String> {
    let arn = instance.instance_arn().unwrap_or_default().to_string();
    let store = instance.identity_store_id().unwrap_or_default().to_string();
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: String| format!("{what}: {e}")
    };

    let mut users: Vec<Value> = ids
        .list_users()
        .identity_store_id(&store)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| describe(&e))
        .map_err(fail("identitystore:ListUsers"))?
        .iter()
        .map(|u| {
            json!({
                "UserId": u.user_id(),
                "UserName": u.user_name(),
                "DisplayName": u.display_name(),
                "Emails": u.emails().iter().map(|e| json!({
                    "Value": e.value(), "Type": e.r#type(), "Primary": e.primary(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    users.sort_by(|a, b| a["UserId"].as_str().cmp(&b["UserId"].as_str()));

    let groups = ids
        .list_groups()
        .identity_store_id(&store)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| describe(&e))
        .map_err(fail("identitystore:ListGroups"))?;
    let group_ids: Vec<String> = groups.iter().map(|g| g.group_id().to_string()).collect();
    let mut groups_json: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "GroupId": g.group_id(), "DisplayName": g.display_name() }))
        .collect();
    groups_json.sort_by(|a, b| a["GroupId"].as_str().cmp(&b["GroupId"].as_str()));

    let per_group = super::iam::each_bounded(opts, "group memberships", &group_ids, |g| {
        let store = store.clone();
        async move {
            ids.list_group_memberships()
                .identity_store_id(store)
                .group_id(g)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| format!("identitystore:ListGroupMemberships {g}: {}", describe(&e)))
        }
    })
    .await;
    let mut memberships = Vec::new();
    for list in per_group {
        for m in list? {
            let member = match m.member_id() {
                Some(aws_sdk_identitystore::types::MemberId::UserId(u)) => json!({ "UserId": u }),
                // A member kind this version of the SDK does not know: kept
                // visible rather than dropped.
                _ => json!({}),
            };
            memberships.push(json!({ "GroupId": m.group_id(), "MemberId": member }));
        }
    }
    memberships.sort_by(|a, b| {
        (a["GroupId"].as_str(), a["MemberId"]["UserId"].as_str())
            .cmp(&(b["GroupId"].as_str(), b["MemberId"]["UserId"].as_str()))
    });

    let sets: Vec<String> = sso
        .list_permission_sets()
        .instance_arn(&arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| describe(&e))
        .map_err(fail("sso:ListPermissionSets"))?;
    let described = super::iam::each_bounded(opts, "permission sets", &sets, |ps| {
        permission_set(sso, &arn, ps)
    })
    .await;
    let mut permission_sets = Vec::new();
    let mut assignments = Vec::new();
    for d in described {
        let (set, mut a) = d?;
        permission_sets.push(set);
        assignments.append(&mut a);
    }
    permission_sets.sort_by(|a, b| {
        a["PermissionSetArn"]
            .as_str()
            .cmp(&b["PermissionSetArn"].as_str())
    });
    assignments.sort_by(|a, b| {
        let k = |v: &Value| {
            [
                "AccountId",
                "PermissionSetArn",
                "PrincipalType",
                "PrincipalId",
            ]
            .map(|f| v[f].as_str().unwrap_or_default().to_string())
        };
        k(a).cmp(&k(b))
    });
    let counts = IdentityCenterCounts {
        instance_arn: arn.clone(),
        region: region.to_string(),
        users: users.len(),
        groups: groups_json.len(),
        permission_sets: permission_sets.len(),
        account_assignments: assignments.len(),
    };
    Ok(IdentityCenter {
        file: json!({
            "InstanceArn": arn,
            "IdentityStoreId": store,
            "Region": region,
            "Users": users,
            "Groups": groups_json,
            "GroupMemberships": memberships,
            "PermissionSets": permission_sets,
            "AccountAssignments": assignments,
        }),
        counts,
    })
}

/// One permission set with its policies, and its account assignments in
/// every account it is provisioned to.
async fn permission_set(
    sso: &aws_sdk_ssoadmin::Client,
    instance: &str,
    ps: &str,
) -> Result<(Value, Vec<Value>), String> {
    let err = |op: &str| {
        let op = op.to_string();
        let ps = ps.to_string();
        move |e: String| format!("sso:{op} {ps}: {e}")
    };
    let d = sso
        .describe_permission_set()
        .instance_arn(instance)
        .permission_set_arn(ps)
        .send()
        .await
        .map_err(|e| describe(&e))
        .map_err(err("DescribePermissionSet"))?;
    let d = d.permission_set();
    let inline = sso
        .get_inline_policy_for_permission_set()
        .instance_arn(instance)
        .permission_set_arn(ps)
        .send()
        .await
        .map_err(|e| describe(&e))
        .map_err(err("GetInlinePolicyForPermissionSet"))?;
    // AWS answers "" for a permission set without an inline policy.
    let inline = inline.inline_policy().filter(|p| !p.trim().is_empty());
    let managed = sso
        .list_managed_policies_in_permission_set()
        .instance_arn(instance)
        .permission_set_arn(ps)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| describe(&e))
        .map_err(err("ListManagedPoliciesInPermissionSet"))?;
    let customer = sso
        .list_customer_managed_policy_references_in_permission_set()
        .instance_arn(instance)
        .permission_set_arn(ps)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| describe(&e))
        .map_err(err("ListCustomerManagedPolicyReferencesInPermissionSet"))?;
    let boundary = match sso
        .get_permissions_boundary_for_permission_set()
        .instance_arn(instance)
        .permission_set_arn(ps)
        .send()
        .await
    {
        Ok(b) => b.permissions_boundary().map(|b| {
            let mut o = serde_json::Map::new();
            if let Some(r) = b.customer_managed_policy_reference() {
                o.insert(
                    "CustomerManagedPolicyReference".into(),
                    json!({ "Name": r.name(), "Path": r.path() }),
                );
            }
            if let Some(a) = b.managed_policy_arn() {
                o.insert("ManagedPolicyArn".into(), json!(a));
            }
            Value::Object(o)
        }),
        // The documented answer for a permission set without a boundary.
        Err(e) if e.code() == Some("ResourceNotFoundException") => None,
        Err(e) => return Err(err("GetPermissionsBoundaryForPermissionSet")(describe(&e))),
    };
    let accounts = sso
        .list_accounts_for_provisioned_permission_set()
        .instance_arn(instance)
        .permission_set_arn(ps)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| describe(&e))
        .map_err(err("ListAccountsForProvisionedPermissionSet"))?;
    let mut assignments = Vec::new();
    for account in &accounts {
        let list = sso
            .list_account_assignments()
            .instance_arn(instance)
            .account_id(account)
            .permission_set_arn(ps)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| describe(&e))
            .map_err(err("ListAccountAssignments"))?;
        assignments.extend(list.iter().map(|a| {
            json!({
                "AccountId": a.account_id(),
                "PermissionSetArn": a.permission_set_arn(),
                "PrincipalType": a.principal_type().map(|p| p.as_str()),
                "PrincipalId": a.principal_id(),
            })
        }));
    }
    let set = json!({
        "PermissionSetArn": ps,
        "Name": d.and_then(|d| d.name()),
        "Description": d.and_then(|d| d.description()),
        "InlinePolicy": inline,
        "AttachedManagedPolicies": managed.iter().map(|m| json!({ "Name": m.name(), "Arn": m.arn() })).collect::<Vec<_>>(),
        "CustomerManagedPolicyReferences": customer.iter().map(|r| json!({ "Name": r.name(), "Path": r.path() })).collect::<Vec<_>>(),
        "PermissionsBoundary": boundary,
        "SessionDuration": d.and_then(|d| d.session_duration()),
    });
    Ok((set, assignments))
}

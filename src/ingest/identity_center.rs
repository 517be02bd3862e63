//! `identity-center.json`: IAM Identity Center's users, groups, group
//! memberships, permission sets and account assignments (as `pull` writes
//! them from sso-admin and identitystore), into a
//! `model::identity_center::IdentityCenter`.
//!
//! ```text
//! {"InstanceArn", "IdentityStoreId",
//!  "Users": [{"UserId", "UserName", "DisplayName", "Emails"}],
//!  "Groups": [{"GroupId", "DisplayName"}],
//!  "GroupMemberships": [{"GroupId", "MemberId": {"UserId"}}],
//!  "PermissionSets": [{"PermissionSetArn", "Name", "InlinePolicy", "AttachedManagedPolicies",
//!                      "CustomerManagedPolicyReferences", "PermissionsBoundary", "SessionDuration"}],
//!  "AccountAssignments": [{"AccountId", "PermissionSetArn", "PrincipalType", "PrincipalId"}]}
//! ```
//!
//! Member names follow the APIs' so the file can be made with the AWS CLI.
//! `Emails` is the identity store's list of `{"Value", "Type", "Primary"}`;
//! plain strings are read too. Members AWS may add are ignored.

use super::IngestError;
use crate::model::identity_center::{Assignment, IcUser, IdentityCenter, PermissionSet};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct File {
    #[serde(default)]
    instance_arn: Option<String>,
    #[serde(default)]
    identity_store_id: Option<String>,
    #[serde(default)]
    users: Vec<User>,
    #[serde(default)]
    groups: Vec<Group>,
    #[serde(default)]
    group_memberships: Vec<Membership>,
    #[serde(default)]
    permission_sets: Vec<RawPermissionSet>,
    #[serde(default)]
    account_assignments: Vec<RawAssignment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct User {
    user_id: String,
    user_name: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    emails: Vec<Email>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Email {
    Plain(String),
    Entry {
        #[serde(rename = "Value", default)]
        value: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Group {
    group_id: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Membership {
    group_id: String,
    member_id: MemberId,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberId {
    /// Absent for a member kind `pull`'s SDK did not know: not a user.
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPermissionSet {
    permission_set_arn: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    inline_policy: Option<serde_json::Value>,
    #[serde(default)]
    attached_managed_policies: Vec<ManagedRef>,
    #[serde(default)]
    customer_managed_policy_references: Vec<CustomerRef>,
    #[serde(default)]
    permissions_boundary: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomerRef {
    name: String,
    #[serde(default)]
    path: Option<String>,
}

/// A customer managed policy reference as `PATH NAME`.
fn customer_ref(path: Option<&str>, name: &str) -> String {
    let path = path.filter(|p| !p.is_empty()).unwrap_or("/");
    format!("{path}{name}")
}

/// A permissions boundary as AWS gives it: a managed policy's ARN, or a
/// customer managed policy reference (`{"CustomerManagedPolicyReference":
/// {"Name", "Path"}}`), or a plain string.
fn boundary(v: &serde_json::Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        return (!s.is_empty()).then(|| s.to_string());
    }
    if let Some(arn) = v.get("ManagedPolicyArn").and_then(|a| a.as_str()) {
        return Some(arn.to_string());
    }
    let r = v.get("CustomerManagedPolicyReference")?;
    let name = r.get("Name")?.as_str()?;
    Some(customer_ref(r.get("Path").and_then(|p| p.as_str()), name))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManagedRef {
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAssignment {
    account_id: String,
    permission_set_arn: String,
    #[serde(default)]
    principal_type: Option<String>,
    principal_id: String,
}

/// Reads `identity-center.json`.
pub fn load(path: &Path) -> Result<IdentityCenter, IngestError> {
    let bytes = super::read_file(path)?;
    parse(&bytes, path)
}

/// Parses the file's contents; `path` names it in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<IdentityCenter, IngestError> {
    let f: File = super::deserialize(bytes, path)?;
    let mut ic = IdentityCenter {
        instance_arn: f.instance_arn,
        identity_store_id: f.identity_store_id,
        ..Default::default()
    };
    for (i, a) in f.account_assignments.iter().enumerate() {
        let t = a.principal_type.as_deref().unwrap_or_default();
        if !matches!(t, "USER" | "GROUP") {
            return Err(IngestError::Shape {
                path: path.to_path_buf(),
                location: format!("$.AccountAssignments[{i}].PrincipalType"),
                message: format!("expected `USER` or `GROUP`, found `{t}`"),
            });
        }
    }
    ic.users = f
        .users
        .into_iter()
        .map(|u| IcUser {
            id: u.user_id,
            user_name: u.user_name,
            display_name: u.display_name,
            emails: u
                .emails
                .into_iter()
                .filter_map(|e| match e {
                    Email::Plain(s) => Some(s),
                    Email::Entry { value } => value,
                })
                .collect(),
        })
        .collect();
    ic.groups = f
        .groups
        .into_iter()
        .map(|g| {
            let name = g.display_name.unwrap_or_else(|| g.group_id.clone());
            (g.group_id, name)
        })
        .collect();
    for m in f.group_memberships {
        if let Some(user) = m.member_id.user_id {
            ic.memberships.entry(user).or_default().insert(m.group_id);
        }
    }
    ic.permission_sets = f
        .permission_sets
        .into_iter()
        .map(|p| PermissionSet {
            // Without a name (never in AWS's answers) no role can be tied
            // to it: named after its ARN's last part.
            name: p.name.unwrap_or_else(|| {
                p.permission_set_arn
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            }),
            arn: p.permission_set_arn,
            managed_policies: p
                .attached_managed_policies
                .into_iter()
                .filter_map(|m| m.arn.or(m.name))
                .collect(),
            has_inline_policy: p
                .inline_policy
                .as_ref()
                .is_some_and(|v| !v.is_null() && v.as_str() != Some("")),
            customer_managed_policies: p
                .customer_managed_policy_references
                .iter()
                .map(|r| customer_ref(r.path.as_deref(), &r.name))
                .collect(),
            permissions_boundary: p.permissions_boundary.as_ref().and_then(boundary),
        })
        .collect();
    ic.assignments = f
        .account_assignments
        .into_iter()
        .map(|a| Assignment {
            account: a.account_id,
            permission_set_arn: a.permission_set_arn,
            principal_type: a.principal_type.unwrap_or_default(),
            principal_id: a.principal_id,
        })
        .collect();
    ic.assignments.sort();
    Ok(ic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pulled_shape() {
        let text = r#"{"InstanceArn":"arn:aws:sso:::instance/ssoins-1","IdentityStoreId":"d-1","Region":"us-east-1",
          "Users":[{"UserId":"u1","UserName":"alice","DisplayName":"Alice","Emails":[{"Value":"alice@example.com","Type":"work","Primary":true}]}],
          "Groups":[{"GroupId":"g1","DisplayName":"ops"}],
          "GroupMemberships":[{"GroupId":"g1","MemberId":{"UserId":"u1"}}],
          "PermissionSets":[{"PermissionSetArn":"arn:ps","Name":"Admin","InlinePolicy":null,"AttachedManagedPolicies":[{"Arn":"arn:aws:iam::aws:policy/AdministratorAccess","Name":"AdministratorAccess"}]}],
          "AccountAssignments":[{"AccountId":"111122223333","PermissionSetArn":"arn:ps","PrincipalType":"GROUP","PrincipalId":"g1"}]}"#;
        let ic = parse(text.as_bytes(), Path::new("identity-center.json")).expect("valid");
        let u = ic.find_user("alice@example.com").expect("found");
        assert_eq!(ic.reach_of(u).len(), 1);
        assert!(!ic.permission_sets[0].has_inline_policy);
    }

    #[test]
    fn customer_managed_references_and_the_boundary_are_kept() {
        let text = r#"{"PermissionSets":[{"PermissionSetArn":"arn:ps","Name":"Ops",
          "CustomerManagedPolicyReferences":[{"Name":"ops-logs","Path":"/"},{"Name":"x","Path":"/team/"},{"Name":"y"}],
          "PermissionsBoundary":{"CustomerManagedPolicyReference":{"Name":"pb","Path":"/"}}},
          {"PermissionSetArn":"arn:ps2","PermissionsBoundary":{"ManagedPolicyArn":"arn:aws:iam::aws:policy/PowerUserAccess"}}]}"#;
        let ic = parse(text.as_bytes(), Path::new("identity-center.json")).expect("valid");
        let ps = &ic.permission_sets[0];
        assert_eq!(ps.customer_managed_policies, ["/ops-logs", "/team/x", "/y"]);
        assert_eq!(ps.permissions_boundary.as_deref(), Some("/pb"));
        assert_eq!(
            ic.permission_sets[1].permissions_boundary.as_deref(),
            Some("arn:aws:iam::aws:policy/PowerUserAccess")
        );
    }

    #[test]
    fn errors_name_the_place() {
        let text = r#"{"AccountAssignments":[{"AccountId":"1","PermissionSetArn":"p","PrincipalType":"ROLE","PrincipalId":"x"}]}"#;
        let e = parse(text.as_bytes(), Path::new("ic.json")).unwrap_err();
        assert!(
            e.to_string()
                .contains("$.AccountAssignments[0].PrincipalType"),
            "{e}"
        );
        let e = parse(br#"{"Users":[{"UserId":"u"}]}"#, Path::new("ic.json")).unwrap_err();
        assert!(e.to_string().contains("Users[0]"), "{e}");
    }
}

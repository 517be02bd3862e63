//! IAM Identity Center, normalized: the people (users and their groups),
//! the permission sets, and which permission set each is assigned in which
//! account. Read from `identity-center.json` by `ingest::identity_center`.
//!
//! Identity Center provisions a permission set into an account as a role
//! named `AWSReservedSSO_<permission set name>_<suffix>` (path
//! `/aws-reserved/sso.amazonaws.com/[REGION/]`), and a person's session of
//! that role is named after the person's user name (AWS: "Identity Center
//! role sessions"; the sign-in records carry `onBehalfOf.userId`).

use std::collections::{BTreeMap, BTreeSet};

/// An Identity Center user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IcUser {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub emails: Vec<String>,
}

/// A permission set, with the policies it provisions (kept as read: the
/// account's role carries the same documents, and the audit reads those).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    pub managed_policies: Vec<String>,
    pub has_inline_policy: bool,
    /// Customer managed policy references, as `PATH NAME` (`/` by default):
    /// each account's own policy of that name is attached to the role.
    pub customer_managed_policies: Vec<String>,
    /// The permissions boundary, as given (a managed policy's ARN, or a
    /// customer managed policy reference's path and name).
    pub permissions_boundary: Option<String>,
}

/// One assignment of a permission set in an account to a user or a group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Assignment {
    pub account: String,
    pub permission_set_arn: String,
    /// `USER` or `GROUP`.
    pub principal_type: String,
    pub principal_id: String,
}

/// The instance as the audit sees it.
#[derive(Clone, Debug, Default)]
pub struct IdentityCenter {
    pub instance_arn: Option<String>,
    pub identity_store_id: Option<String>,
    pub users: Vec<IcUser>,
    /// Group id to display name.
    pub groups: BTreeMap<String, String>,
    /// User id to the ids of its groups.
    pub memberships: BTreeMap<String, BTreeSet<String>>,
    pub permission_sets: Vec<PermissionSet>,
    pub assignments: Vec<Assignment>,
}

/// A permission set's assignment that reaches a user, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach<'a> {
    pub account: &'a str,
    pub permission_set: &'a PermissionSet,
    /// `None`: assigned to the user; `Some(group)`: through that group.
    pub through_group: Option<&'a str>,
}

/// The permission set's name in a role name `AWSReservedSSO_<set>_<suffix>`.
/// The suffix is 16 hex digits and never holds `_`; a set's name may.
pub fn permission_set_of_role(role_name: &str) -> Option<&str> {
    let rest = role_name.strip_prefix("AWSReservedSSO_")?;
    let (set, suffix) = rest.rsplit_once('_')?;
    (!set.is_empty() && !suffix.is_empty()).then_some(set)
}

impl IdentityCenter {
    /// The user whose user name, id or one of whose e-mails is `who`
    /// (case-insensitive, as Identity Center compares user names).
    pub fn find_user(&self, who: &str) -> Option<&IcUser> {
        let w = who.trim();
        self.users.iter().find(|u| {
            u.id == w
                || u.user_name.eq_ignore_ascii_case(w)
                || u.emails.iter().any(|e| e.eq_ignore_ascii_case(w))
        })
    }

    pub fn user_by_id(&self, id: &str) -> Option<&IcUser> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user a role session belongs to, by the session's name: Identity
    /// Center names it after the user name (often the e-mail).
    pub fn user_of_session(&self, session: &str) -> Option<&IcUser> {
        self.users.iter().find(|u| {
            u.user_name.eq_ignore_ascii_case(session)
                || u.emails.iter().any(|e| e.eq_ignore_ascii_case(session))
        })
    }

    pub fn permission_set_by_name(&self, name: &str) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| p.name == name)
    }

    pub fn permission_set(&self, arn: &str) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| p.arn == arn)
    }

    /// The permission set a role provisions, from the role's name.
    pub fn permission_set_of_role(&self, role_name: &str) -> Option<&PermissionSet> {
        permission_set_of_role(role_name).and_then(|n| self.permission_set_by_name(n))
    }

    /// Every assignment that reaches the user, directly or through a group.
    pub fn reach_of(&self, user: &IcUser) -> Vec<Reach<'_>> {
        let groups = self.memberships.get(&user.id);
        let mut out: Vec<Reach<'_>> = self
            .assignments
            .iter()
            .filter_map(|a| {
                let through_group = match a.principal_type.as_str() {
                    "USER" if a.principal_id == user.id => None,
                    "GROUP" if groups.is_some_and(|g| g.contains(&a.principal_id)) => Some(
                        self.groups
                            .get(&a.principal_id)
                            .map(String::as_str)
                            .unwrap_or(a.principal_id.as_str()),
                    ),
                    _ => return None,
                };
                Some(Reach {
                    account: &a.account,
                    permission_set: self.permission_set(&a.permission_set_arn)?,
                    through_group,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.account, &a.permission_set.name).cmp(&(b.account, &b.permission_set.name))
        });
        out
    }

    /// The accounts each permission set is provisioned in (assigned to
    /// anyone), by permission set ARN.
    pub fn provisioned(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut m: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for a in &self.assignments {
            m.entry(a.permission_set_arn.as_str())
                .or_default()
                .insert(a.account.as_str());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_give_their_permission_set() {
        assert_eq!(
            permission_set_of_role("AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b"),
            Some("AdministratorAccess")
        );
        assert_eq!(
            permission_set_of_role("AWSReservedSSO_read_only_ops_0123456789abcdef"),
            Some("read_only_ops")
        );
        assert_eq!(permission_set_of_role("deploy"), None);
        assert_eq!(permission_set_of_role("AWSReservedSSO_x"), None);
    }

    #[test]
    fn a_user_is_reached_directly_and_through_groups() {
        let ic = IdentityCenter {
            users: vec![IcUser {
                id: "u1".into(),
                user_name: "alice".into(),
                display_name: None,
                emails: vec!["alice@example.com".into()],
            }],
            groups: [("g1".to_string(), "ops".to_string())].into(),
            memberships: [("u1".to_string(), ["g1".to_string()].into())].into(),
            permission_sets: vec![
                PermissionSet {
                    arn: "ps-admin".into(),
                    name: "Admin".into(),
                    ..Default::default()
                },
                PermissionSet {
                    arn: "ps-ro".into(),
                    name: "ReadOnly".into(),
                    ..Default::default()
                },
            ],
            assignments: vec![
                Assignment {
                    account: "2".into(),
                    permission_set_arn: "ps-ro".into(),
                    principal_type: "GROUP".into(),
                    principal_id: "g1".into(),
                },
                Assignment {
                    account: "1".into(),
                    permission_set_arn: "ps-admin".into(),
                    principal_type: "USER".into(),
                    principal_id: "u1".into(),
                },
                Assignment {
                    account: "3".into(),
                    permission_set_arn: "ps-admin".into(),
                    principal_type: "USER".into(),
                    principal_id: "u9".into(),
                },
            ],
            ..Default::default()
        };
        let u = ic.find_user("ALICE@example.com").expect("by e-mail");
        let r = ic.reach_of(u);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].account, r[0].through_group), ("1", None));
        assert_eq!((r[1].account, r[1].through_group), ("2", Some("ops")));
        assert_eq!(ic.provisioned()["ps-admin"].len(), 2);
    }
}

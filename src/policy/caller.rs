//! Who makes a request, as far as conditions can know it before the
//! request is made: the principal's ARN, account, type, tags and
//! organization (the `aws:Principal*` keys). Everything else about a request
//! (its Region, source IP, TLS, the service acting) is unknown until it is
//! made, and conditions on it stay `Unknown`.

use super::condition::Context;
use crate::model::{Organization, Principal, PrincipalType};

/// What kind of principal calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallerKind {
    /// An IAM user.
    User,
    /// A session of an IAM role.
    Role,
    /// A whole account (its root user, or any principal its policies allow).
    Account,
    /// An AWS service principal (`lambda.amazonaws.com`).
    Service,
    /// A web identity or SAML federated principal.
    Federated,
    /// Anyone (`*`), authenticated or not.
    Anyone,
}

impl CallerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallerKind::User => "user",
            CallerKind::Role => "role",
            CallerKind::Account => "account",
            CallerKind::Service => "service",
            CallerKind::Federated => "federated",
            CallerKind::Anyone => "anyone",
        }
    }
}

/// The calling principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The IAM ARN (`arn:aws:iam::A:role/path/name`), the account root's
    /// (`arn:aws:iam::A:root`), a service name or `*`.
    pub arn: String,
    pub account: Option<String>,
    pub kind: CallerKind,
    /// Users: the user name (`aws:username`).
    pub user_name: Option<String>,
    pub tags: Vec<(String, String)>,
    /// A role under `/aws-service-role/`: SCPs and RCPs do not limit it.
    pub service_linked: bool,
    /// `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`, when the account
    /// is in the known organization.
    pub org_id: Option<String>,
    pub org_path: Option<String>,
    /// The organization is known and the account is not in it.
    pub outside_org: bool,
}

impl Caller {
    /// A user or role of the snapshot.
    pub fn of_principal(p: &Principal, org: Option<&Organization>) -> Caller {
        let account = crate::model::resource::arn_account(&p.arn).map(String::from);
        let mut c = Caller {
            arn: p.arn.clone(),
            account,
            kind: match p.principal_type {
                PrincipalType::User => CallerKind::User,
                PrincipalType::Role => CallerKind::Role,
            },
            user_name: (p.principal_type == PrincipalType::User).then(|| p.name.clone()),
            tags: p.tags.clone(),
            service_linked: p.principal_type == PrincipalType::Role
                && p.path.starts_with("/aws-service-role/"),
            org_id: None,
            org_path: None,
            outside_org: false,
        };
        c.locate(org);
        c
    }

    /// A principal a policy names: an account, a role or user ARN of any
    /// account, a service or `*`.
    pub fn named(kind: CallerKind, arn: &str, org: Option<&Organization>) -> Caller {
        let account = match kind {
            CallerKind::Account | CallerKind::User | CallerKind::Role => {
                crate::model::resource::arn_account(arn)
                    .map(String::from)
                    .or_else(|| {
                        arn.chars()
                            .all(|c| c.is_ascii_digit())
                            .then(|| arn.to_string())
                    })
            }
            _ => None,
        };
        let mut c = Caller {
            arn: arn.to_string(),
            account,
            kind,
            user_name: None,
            tags: Vec::new(),
            service_linked: false,
            org_id: None,
            org_path: None,
            outside_org: false,
        };
        c.locate(org);
        c
    }

    fn locate(&mut self, org: Option<&Organization>) {
        let (Some(org), Some(acct)) = (org, self.account.as_deref()) else {
            return;
        };
        if !org.contains(acct) {
            // The organization lists every member: this account is not one.
            self.outside_org = org.id.is_some();
            return;
        }
        self.org_id = org.id.clone();
        if let (Some(id), Some(path)) = (&org.id, org.path(acct)) {
            // `o-id/r-id/ou-.../`: the account's parents, not the account.
            let parents = &path[..path.len().saturating_sub(1)];
            self.org_path = Some(format!("{id}/{}/", parents.join("/")));
        }
    }

    /// The condition keys known before any request: lowercased, as
    /// `condition::Context` wants them.
    pub fn context(&self) -> Context {
        let mut ctx = Context::new();
        let mut put = |k: &str, v: &str| {
            ctx.insert(k.to_string(), vec![v.to_string()]);
        };
        match self.kind {
            CallerKind::User | CallerKind::Role | CallerKind::Account => {
                put("aws:principalarn", &self.arn);
                if let Some(a) = &self.account {
                    put("aws:principalaccount", a);
                }
                put(
                    "aws:principaltype",
                    match self.kind {
                        CallerKind::User => "User",
                        CallerKind::Role => "AssumedRole",
                        _ => "Account",
                    },
                );
                put("aws:principalisawsservice", "false");
            }
            CallerKind::Service => {
                put("aws:principalisawsservice", "true");
                put("aws:principalservicename", &self.arn);
            }
            CallerKind::Federated | CallerKind::Anyone => {}
        }
        if let Some(u) = &self.user_name {
            put("aws:username", u);
        }
        if let Some(o) = &self.org_id {
            put("aws:principalorgid", o);
        } else if self.outside_org {
            put("aws:principalorgid", super::condition::OUTSIDE_ORGANIZATION);
            put(
                "aws:principalorgpaths",
                super::condition::OUTSIDE_ORGANIZATION,
            );
        }
        if let Some(p) = &self.org_path {
            put("aws:principalorgpaths", p);
        }
        for (k, v) in &self.tags {
            ctx.insert(
                format!("aws:principaltag/{}", k.to_ascii_lowercase()),
                vec![v.clone()],
            );
        }
        ctx
    }

    /// Whether a (lowercased) key's value, or its absence, is known for
    /// this caller.
    pub fn decidable(&self, key: &str) -> bool {
        let iam = matches!(
            self.kind,
            CallerKind::User | CallerKind::Role | CallerKind::Account
        );
        match key {
            "aws:principalarn" | "aws:principalaccount" | "aws:principaltype" => {
                iam || self.kind == CallerKind::Service
            }
            "aws:principalisawsservice" | "aws:principalservicename" => {
                iam || self.kind == CallerKind::Service
            }
            "aws:username" => self.kind == CallerKind::User || self.kind == CallerKind::Role,
            "aws:principalorgid" | "aws:principalorgpaths" => {
                self.org_id.is_some() || self.outside_org || self.kind == CallerKind::Service
            }
            // Role sessions can carry session tags the snapshot cannot know.
            k if k.starts_with("aws:principaltag/") => self.kind == CallerKind::User,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Condition;
    use crate::policy::condition::{evaluate_known, Truth};

    fn cond(op: &str, key: &str, v: &str) -> Condition {
        Condition {
            operator: op.into(),
            key: key.into(),
            values: vec![v.into()],
        }
    }

    #[test]
    fn principal_keys_are_known_request_keys_are_not() {
        let c = Caller::named(CallerKind::Role, "arn:aws:iam::123:role/admin", None);
        let ctx = c.context();
        let known = |conds: &[Condition]| evaluate_known(conds, &ctx, &|k| c.decidable(k));
        assert_eq!(
            known(&[cond(
                "ArnNotLike",
                "aws:PrincipalArn",
                "arn:aws:iam::*:role/admin"
            )]),
            Truth::False
        );
        assert_eq!(
            known(&[cond("StringNotEquals", "aws:RequestedRegion", "us-east-1")]),
            Truth::Unknown
        );
        // Not in a known organization: its organization is not known.
        assert_eq!(
            known(&[cond("StringEquals", "aws:PrincipalOrgID", "o-1")]),
            Truth::Unknown
        );
        // A role's tags may be overridden by session tags.
        assert_eq!(
            known(&[cond("StringEquals", "aws:PrincipalTag/team", "x")]),
            Truth::Unknown
        );
        assert_eq!(c.account.as_deref(), Some("123"));
        let acct = Caller::named(CallerKind::Account, "333333333333", None);
        assert_eq!(acct.account.as_deref(), Some("333333333333"));
    }

    #[test]
    fn an_account_outside_a_known_organization_is_not_of_it() {
        use crate::model::organization::{OrgAccount, OrganizationParts};
        let org = Organization::new(OrganizationParts {
            id: Some("o-1".into()),
            management_account: Some("111".into()),
            accounts: vec![OrgAccount {
                id: "222".into(),
                name: None,
                status: None,
                parent: None,
            }],
            ..Default::default()
        });
        let c = Caller::named(CallerKind::Account, "arn:aws:iam::444:root", Some(&org));
        assert!(c.outside_org);
        let ctx = c.context();
        let known = |op: &str| {
            evaluate_known(&[cond(op, "aws:PrincipalOrgID", "o-1")], &ctx, &|k| {
                c.decidable(k)
            })
        };
        // Another organization's id or none: unequal either way.
        assert_eq!(known("StringNotEqualsIfExists"), Truth::True);
        assert_eq!(known("StringEquals"), Truth::False);
        // Absent and present answer differently.
        assert_eq!(known("StringEqualsIfExists"), Truth::Unknown);
        let member = Caller::named(CallerKind::Account, "arn:aws:iam::222:root", Some(&org));
        assert!(!member.outside_org);
        assert_eq!(member.org_id.as_deref(), Some("o-1"));
    }
}

//! Who a CloudTrail record counts for.
//!
//! IAM users count as themselves; assumed-role sessions count for the role
//! (from `sessionContext.sessionIssuer`, which carries the role's path); calls a
//! service makes on a principal's behalf (`invokedBy`, forward access
//! sessions) still count for that principal. A federation token
//! (`GetFederationToken`) acts with the permissions of the IAM user (or
//! root) that issued it, so its calls count for that issuer, the federated
//! name kept as evidence. The person behind an Identity Center user or an
//! identity-enhanced role session (`onBehalfOf`) is kept with the call. AWS
//! services never become principals; root, federated and external
//! identities are kept apart.

use crate::ingest::cloudtrail::RawIdentity;
use std::borrow::Cow;

/// The kind of identity behind a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActorKind {
    /// An IAM user or role of the audited account(s).
    Principal,
    Root,
    /// Federated users (GetFederationToken), SAML and web-identity callers,
    /// Identity Center users: not IAM principals, reported apart.
    Federated,
    /// Another account's principal (`AWSAccount`) or an unknown identity.
    External,
    /// A user or role of an audited account that the IAM snapshot does not
    /// hold (deleted since, or created after it, such as a service-linked
    /// role). Decided when the activity meets the snapshot, never by the
    /// attribution of a record.
    NotInSnapshot,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Principal => "principal",
            ActorKind::Root => "root",
            ActorKind::Federated => "federated",
            ActorKind::External => "external",
            ActorKind::NotInSnapshot => "not-in-snapshot",
        }
    }
}

/// The principal a record is attributed to, borrowed from the record where
/// it can be (this runs once per record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor<'a> {
    pub kind: ActorKind,
    /// IAM user or role ARN (with path), root ARN, or the federated ARN.
    pub arn: Cow<'a, str>,
    /// Assumed-role session name, when there is one.
    pub session: Option<Cow<'a, str>>,
    pub source_identity: Option<Cow<'a, str>>,
    /// The service that made the call on the principal's behalf.
    pub invoked_by: Option<Cow<'a, str>>,
    /// The Identity Center user behind the call (`onBehalfOf`), as
    /// `IDENTITY_STORE/USER_ID`.
    pub on_behalf_of: Option<Cow<'a, str>>,
    /// The federated user's name when the call was made with a federation
    /// token that this (IAM user or root) actor issued.
    pub federated_name: Option<Cow<'a, str>>,
    /// The subject of `onBehalfOf` (an agent's or workload's identity,
    /// `spiffe://...`, or a federated user), when the record names one:
    /// with `on_behalf_of` and `source_identity`, whether the session says
    /// who it acts for.
    pub on_behalf_of_subject: Option<Cow<'a, str>>,
}

/// `IDENTITY_STORE/USER_ID` of an `onBehalfOf` element (the store's id is
/// the last part of its ARN), or the user id alone.
fn person(id: &RawIdentity<'_>) -> Option<String> {
    let o = id.on_behalf_of.as_ref()?;
    let user = o.user_id.as_deref().filter(|u| !u.is_empty())?;
    let store = o
        .identity_store_arn
        .as_deref()
        .and_then(|a| a.rsplit('/').next())
        .filter(|s| !s.is_empty());
    Some(match store {
        Some(s) => format!("{s}/{user}"),
        None => user.to_string(),
    })
}

/// Attributes a record; `None` for AWS service identities and records
/// without a usable identity.
pub fn attribute<'a>(id: &'a RawIdentity<'_>) -> Option<Actor<'a>> {
    let kind = id.kind.as_deref().unwrap_or("");
    let arn = id.arn.as_deref();
    let account = id.account_id.as_deref().unwrap_or("");
    let invoked_by = id.invoked_by.as_deref().map(Cow::Borrowed);
    let source_identity = id
        .session_context
        .as_ref()
        .and_then(|s| s.source_identity.as_deref())
        .map(Cow::Borrowed);
    let on_behalf_of = person(id).map(Cow::Owned);
    let on_behalf_of_subject = id
        .on_behalf_of
        .as_ref()
        .and_then(|o| o.subject.as_deref())
        .filter(|s| !s.is_empty())
        .map(Cow::Borrowed);
    let actor = |kind, arn: Cow<'a, str>, session| Actor {
        kind,
        arn,
        session,
        source_identity: source_identity.clone(),
        invoked_by: invoked_by.clone(),
        on_behalf_of: on_behalf_of.clone(),
        federated_name: None,
        on_behalf_of_subject: on_behalf_of_subject.clone(),
    };
    match kind {
        "IAMUser" => {
            let arn = match arn {
                Some(a) => Cow::Borrowed(a),
                None => Cow::Owned(format!(
                    "arn:aws:iam::{account}:user/{}",
                    id.user_name.as_deref()?
                )),
            };
            Some(actor(ActorKind::Principal, arn, None))
        }
        "AssumedRole" => {
            let session = arn.and_then(|a| a.rsplit('/').next()).map(Cow::Borrowed);
            let issuer = id
                .session_context
                .as_ref()
                .and_then(|s| s.session_issuer.as_ref())
                .and_then(|i| i.arn.as_deref());
            let role = match issuer {
                Some(i) => Cow::Borrowed(i),
                // No issuer: rebuild the role ARN from the session ARN
                // (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`); the path
                // is lost, and the audit matches such roles by name.
                None => {
                    let a = arn?;
                    let rest = a.split(":assumed-role/").nth(1)?;
                    let name = rest.split('/').next()?;
                    let acct = a.split(':').nth(4).unwrap_or(account);
                    Cow::Owned(format!("arn:aws:iam::{acct}:role/{name}"))
                }
            };
            Some(actor(ActorKind::Principal, role, session))
        }
        "Root" => Some(actor(
            ActorKind::Root,
            arn.map(Cow::Borrowed)
                .unwrap_or_else(|| Cow::Owned(format!("arn:aws:iam::{account}:root"))),
            None,
        )),
        "FederatedUser" => {
            // GetFederationToken's session: the issuer's permissions (an
            // IAM user's, or root's), narrowed by the session policy.
            let issuer = id
                .session_context
                .as_ref()
                .and_then(|s| s.session_issuer.as_ref())
                .filter(|i| matches!(i.kind.as_deref(), Some("IAMUser" | "Root")));
            let name = arn
                .and_then(|a| a.split(":federated-user/").nth(1))
                .or_else(|| id.principal_id.as_deref().and_then(|p| p.split(':').nth(1)))
                .or(id.user_name.as_deref())
                .map(Cow::Borrowed);
            match issuer {
                Some(i) => {
                    let root = i.kind.as_deref() == Some("Root");
                    let who = match (i.arn.as_deref(), i.user_name.as_deref()) {
                        (Some(a), _) => Cow::Borrowed(a),
                        (None, _) if root => Cow::Owned(format!("arn:aws:iam::{account}:root")),
                        (None, Some(u)) => Cow::Owned(format!("arn:aws:iam::{account}:user/{u}")),
                        (None, None) => return federated(kind, id, arn, actor),
                    };
                    let kind = if root {
                        ActorKind::Root
                    } else {
                        ActorKind::Principal
                    };
                    let mut a = actor(kind, who, None);
                    a.federated_name = Some(name.unwrap_or(Cow::Borrowed("(unnamed)")));
                    Some(a)
                }
                None => federated(kind, id, arn, actor),
            }
        }
        "IdentityCenterUser" => {
            // Often without an ARN: the person is named by `onBehalfOf`.
            let who = arn
                .map(Cow::Borrowed)
                .or_else(|| {
                    on_behalf_of
                        .as_ref()
                        .map(|p| Cow::Owned(format!("{kind}/{p}")))
                })
                .or_else(|| federated_name_of(kind, id))
                .unwrap_or_else(|| Cow::Owned(format!("{kind}/unidentified@{account}")));
            Some(actor(ActorKind::Federated, who, None))
        }
        "SAMLUser" | "WebIdentityUser" => federated(kind, id, arn, actor),
        "AWSService" | "" => None,
        _ => {
            let who = arn.map(Cow::Borrowed).or_else(|| {
                id.principal_id
                    .as_deref()
                    .map(|p| Cow::Owned(format!("{kind}/{account}/{p}")))
            })?;
            Some(actor(ActorKind::External, who, None))
        }
    }
}

/// `{kind}/{userName}` or `{kind}/{principalId}`.
fn federated_name_of<'a>(kind: &str, id: &'a RawIdentity<'_>) -> Option<Cow<'a, str>> {
    id.user_name
        .as_deref()
        .or(id.principal_id.as_deref())
        .map(|u| Cow::Owned(format!("{kind}/{u}")))
}

/// A federated identity kept apart: by its ARN, else its name.
fn federated<'a>(
    kind: &str,
    id: &'a RawIdentity<'_>,
    arn: Option<&'a str>,
    actor: impl Fn(ActorKind, Cow<'a, str>, Option<Cow<'a, str>>) -> Actor<'a>,
) -> Option<Actor<'a>> {
    let who = arn
        .map(Cow::Borrowed)
        .or_else(|| federated_name_of(kind, id))?;
    Some(actor(ActorKind::Federated, who, None))
}

impl Actor<'_> {
    /// The same actor, owning its strings.
    pub fn into_owned(self) -> Actor<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        Actor {
            kind: self.kind,
            arn: own(self.arn),
            session: self.session.map(own),
            source_identity: self.source_identity.map(own),
            invoked_by: self.invoked_by.map(own),
            on_behalf_of: self.on_behalf_of.map(own),
            federated_name: self.federated_name.map(own),
            on_behalf_of_subject: self.on_behalf_of_subject.map(own),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::cloudtrail::RawRecord;

    fn actor(json: &str) -> Option<Actor<'static>> {
        let r: RawRecord = serde_json::from_str(json).unwrap();
        attribute(r.user_identity.as_ref()?).map(Actor::into_owned)
    }

    #[test]
    fn assumed_role_uses_issuer_with_path() {
        let a = actor(r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/orders-api/s1","accountId":"1",
            "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/service/orders-api"},"sourceIdentity":"u-1"}}}"#).unwrap();
        assert_eq!(a.arn, "arn:aws:iam::1:role/service/orders-api");
        assert_eq!(a.session.as_deref(), Some("s1"));
        assert_eq!(a.source_identity.as_deref(), Some("u-1"));
    }

    #[test]
    fn service_on_behalf_counts_for_principal() {
        let a = actor(r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","invokedBy":"secretsmanager.amazonaws.com"}}"#).unwrap();
        assert_eq!(a.arn, "arn:aws:iam::1:role/r");
        assert_eq!(
            a.invoked_by.as_deref(),
            Some("secretsmanager.amazonaws.com")
        );
    }

    #[test]
    fn services_root_and_federated() {
        assert!(actor(
            r#"{"userIdentity":{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"}}"#
        )
        .is_none());
        assert_eq!(
            actor(r#"{"userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}"#)
                .unwrap()
                .kind,
            ActorKind::Root
        );
        assert_eq!(
            actor(r#"{"userIdentity":{"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/bob"}}"#).unwrap().kind,
            ActorKind::Federated
        );
    }

    /// Issue 21 names the Identity Center person of a session; issue 24
    /// needs to know whether the session names anyone, a workload included:
    /// the two readings of `onBehalfOf` stay apart.
    #[test]
    fn on_behalf_of_a_person_and_of_a_workload_stay_apart() {
        let person = actor(r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s",
            "onBehalfOf":{"userId":"u-1","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"}}}"#).unwrap();
        assert_eq!(person.on_behalf_of.as_deref(), Some("d-1/u-1"));
        assert_eq!(person.on_behalf_of_subject, None);
        let workload = actor(r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s",
            "onBehalfOf":{"subject":"spiffe://example.org/agents/triage","subjectType":"workload"}}}"#).unwrap();
        assert_eq!(
            workload.on_behalf_of, None,
            "a workload is no Identity Center user"
        );
        assert_eq!(
            workload.on_behalf_of_subject.as_deref(),
            Some("spiffe://example.org/agents/triage")
        );
    }
}

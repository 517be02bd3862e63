//! Who a CloudTrail record counts for.
//!
//! IAM users count as themselves; assumed-role sessions count for the role
//! (from `sessionContext.sessionIssuer`, which carries the role's path); calls a
//! service makes on a principal's behalf (`invokedBy`, forward access
//! sessions) still count for that principal. AWS services never become
//! principals; root, federated and external identities are kept apart.

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
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Principal => "principal",
            ActorKind::Root => "root",
            ActorKind::Federated => "federated",
            ActorKind::External => "external",
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
    /// The person or workload the session acts for (`onBehalfOf`: the
    /// Identity Center user id, else the subject), when the record says.
    pub on_behalf_of: Option<Cow<'a, str>>,
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
    let on_behalf_of = id
        .on_behalf_of
        .as_ref()
        .and_then(|o| o.user_id.as_deref().or(o.subject.as_deref()))
        .map(Cow::Borrowed);
    let actor = |kind, arn: Cow<'a, str>, session| Actor {
        kind,
        arn,
        session,
        source_identity: source_identity.clone(),
        invoked_by: invoked_by.clone(),
        on_behalf_of: on_behalf_of.clone(),
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
        "FederatedUser" | "SAMLUser" | "WebIdentityUser" | "IdentityCenterUser" => {
            let who = arn
                .map(Cow::Borrowed)
                .or_else(|| {
                    id.user_name
                        .as_deref()
                        .map(|u| Cow::Owned(format!("{kind}/{u}")))
                })
                .or_else(|| {
                    id.principal_id
                        .as_deref()
                        .map(|p| Cow::Owned(format!("{kind}/{p}")))
                })?;
            Some(actor(ActorKind::Federated, who, None))
        }
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
}

//! The normalized account: principals, their policies, statements and ARNs.
//!
//! Everything downstream of `ingest` sees only these types; the quirks of the
//! raw AWS formats (string-or-list fields, URL-encoded documents) stop at the
//! ingest layer.

pub mod identity_center;
pub mod organization;
mod policy;
pub mod resource;

pub use organization::{OrgPolicy, OrgPolicyKind, Organization};
pub use policy::{
    ActionSpec, Condition, Effect, PolicyDocument, PrincipalElement, ResourceSpec, Statement,
};

use serde::Deserialize;
use std::sync::Arc;

/// What kind of identity a principal is: a human, an NPE (non-person
/// entity: services, workloads, CI) or an agent, each needing different
/// guardrails. Decided by `rules::classify`, or by an override of the
/// configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Human,
    Npe,
    Agent,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Human => "human",
            Kind::Npe => "npe",
            Kind::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "human" => Some(Kind::Human),
            "npe" => Some(Kind::Npe),
            "agent" => Some(Kind::Agent),
            _ => None,
        }
    }
}

/// Which IAM entity a principal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    User,
    Role,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::Role => "role",
        }
    }
}

/// Where a policy attached to a principal came from, so that every grant can
/// name the policy that gave it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PolicySource {
    /// An inline policy embedded in the principal itself.
    Inline { policy_name: String },
    /// An inline policy of a group the user belongs to.
    GroupInline { group: String, policy_name: String },
    /// A managed policy attached directly.
    Managed {
        arn: String,
        name: String,
        version: String,
    },
    /// A managed policy attached to a group the user belongs to.
    GroupManaged {
        group: String,
        arn: String,
        name: String,
        version: String,
    },
    /// The permissions boundary.
    Boundary {
        arn: String,
        name: String,
        version: String,
    },
}

impl PolicySource {
    /// A short human label, e.g. `inline:orders-api-policy` or `managed:arn:...`.
    pub fn label(&self) -> String {
        match self {
            PolicySource::Inline { policy_name } => format!("inline `{policy_name}`"),
            PolicySource::GroupInline { group, policy_name } => {
                format!("group `{group}` inline `{policy_name}`")
            }
            PolicySource::Managed { arn, .. } => format!("managed `{arn}`"),
            PolicySource::GroupManaged { group, arn, .. } => {
                format!("group `{group}` managed `{arn}`")
            }
            PolicySource::Boundary { arn, .. } => format!("boundary `{arn}`"),
        }
    }

    /// The stable identifier of the policy: its ARN, or owner/name for inline ones.
    pub fn id(&self) -> String {
        match self {
            PolicySource::Inline { policy_name } => format!("inline/{policy_name}"),
            PolicySource::GroupInline { group, policy_name } => {
                format!("group/{group}/inline/{policy_name}")
            }
            PolicySource::Managed { arn, .. }
            | PolicySource::GroupManaged { arn, .. }
            | PolicySource::Boundary { arn, .. } => arn.clone(),
        }
    }
}

/// A policy document together with where it came from.
#[derive(Clone, Debug)]
pub struct AttachedPolicy {
    pub source: PolicySource,
    pub document: Arc<PolicyDocument>,
}

/// An IAM user or role with everything that decides what it may do.
#[derive(Clone, Debug)]
pub struct Principal {
    pub arn: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub principal_type: PrincipalType,
    pub created: Option<String>,
    /// Identity policies: inline, attached managed, and for users those of their groups.
    pub policies: Vec<AttachedPolicy>,
    pub boundary: Option<AttachedPolicy>,
    /// Roles only: who may assume the role.
    pub trust_policy: Option<PolicyDocument>,
    pub tags: Vec<(String, String)>,
    /// Users only: the groups the user is in.
    pub groups: Vec<String>,
    /// Roles only: `RoleLastUsed.LastUsedDate` as IAM reports it.
    pub role_last_used: Option<String>,
    /// Roles only: the ARNs of the instance profiles that hold the role
    /// (passing a profile to EC2 passes its role).
    pub instance_profiles: Vec<String>,
}

impl Principal {
    /// An AWS service-linked role: its policies and trust are managed by
    /// the service and customers cannot edit them (IAM User Guide, "Using
    /// service-linked roles"); IAM puts every one under this path.
    pub fn is_service_linked(&self) -> bool {
        self.principal_type == PrincipalType::Role && self.path.starts_with("/aws-service-role/")
    }
}

/// A whole account as the audit sees it.
#[derive(Clone, Debug, Default)]
pub struct Account {
    pub account_id: Option<String>,
    pub principals: Vec<Principal>,
    /// Managed policies that were referenced but whose document was not in the input.
    pub missing_policies: Vec<String>,
}

impl Account {
    /// The accounts the snapshot's principals belong to: the audited
    /// accounts. Empty when it has no principal.
    pub fn account_ids(&self) -> std::collections::BTreeSet<String> {
        self.principals
            .iter()
            .filter_map(|p| p.arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn principal_by_arn(&self, arn: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.arn == arn)
    }
}

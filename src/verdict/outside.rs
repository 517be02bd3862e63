//! Refusals the principal's own policies do not explain: what the
//! organization's SCPs (of the principal's account) and RCPs (of the
//! resources' accounts) say of them. The seam through which a refusal is
//! attributed to a named policy outside the account's IAM.

use crate::catalog::{ActionId, Catalog};
use crate::model::{OrgPolicyKind, Organization, Principal};
use crate::policy::caller::Caller;
use crate::policy::grants::EffectiveGrants;
use crate::policy::organization::{evaluate_request, Applies, OrgReason};
use crate::policy::request::{Decision, Request};

/// What the organization's policies say of a refused action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgRefusal {
    /// An SCP blocks the action on every resource.
    Blocked(Vec<OrgReason>),
    /// An SCP or RCP refuses it on the resources the records named.
    Refuses(Vec<OrgReason>),
    /// An SCP or RCP may refuse it, under conditions the records do not
    /// show (Region, source, tags) or on some resources.
    MayRefuse(Vec<OrgReason>),
}

impl OrgRefusal {
    pub fn reasons(&self) -> &[OrgReason] {
        match self {
            OrgRefusal::Blocked(r) | OrgRefusal::Refuses(r) | OrgRefusal::MayRefuse(r) => r,
        }
    }

    /// One line of evidence naming the policies.
    pub fn describe(&self) -> String {
        let (lead, r) = match self {
            OrgRefusal::Blocked(r) => ("blocked by the organization", r),
            OrgRefusal::Refuses(r) => ("refused by the organization", r),
            OrgRefusal::MayRefuse(r) => ("the organization may refuse it", r),
        };
        format!(
            "{lead}: {}",
            r.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    }

    /// The policy kind that refuses, for a verdict's `Outside` attribution.
    pub fn kind(&self) -> Option<OrgPolicyKind> {
        self.reasons().first().map(|r| r.kind)
    }
}

/// What the organization says of `action`, attempted by `principal` on
/// `resources` (a sample of the records' resources; empty when they named
/// none). `None` when no SCP or RCP has anything to do with it.
pub fn org_refusal(
    cat: &Catalog,
    org: &Organization,
    principal: &Principal,
    grants: &EffectiveGrants,
    action: ActionId,
    resources: &[String],
) -> Option<OrgRefusal> {
    let og = grants.org.as_ref()?;
    if grants.blocked_by_org.contains(action) {
        if let Applies::Yes(d) = &og.scp {
            return Some(OrgRefusal::Blocked(d.reasons(org, action)));
        }
    }
    let scp_limits = matches!(&og.scp, Applies::Yes(d) if d.limited.contains(action) || d.blocked.contains(action));
    let caller = Caller::of_principal(principal, Some(org));
    let name = cat.full_name(action);
    let star = ["*".to_string()];
    let targets: &[String] = if resources.is_empty() {
        &star
    } else {
        resources
    };
    let mut refusing = Vec::new();
    let mut maybe = Vec::new();
    for r in targets {
        // A regional resource is called in its Region.
        let mut context = crate::policy::condition::Context::new();
        if let Some(region) = r.split(':').nth(3).filter(|x| !x.is_empty()) {
            context.insert("aws:requestedregion".into(), vec![region.to_string()]);
        }
        let req = Request {
            action: name.clone(),
            resource: r.clone(),
            context,
        };
        let rcp_account = crate::model::resource::arn_account(r)
            .map(String::from)
            .or_else(|| caller.account.clone());
        let mut answers = Vec::new();
        if scp_limits {
            answers.push(evaluate_request(
                org,
                OrgPolicyKind::Scp,
                &caller,
                None,
                &req,
                false,
            ));
        }
        if r != "*" || resources.is_empty() {
            answers.push(evaluate_request(
                org,
                OrgPolicyKind::Rcp,
                &caller,
                rcp_account.as_deref(),
                &req,
                false,
            ));
        }
        for a in answers {
            match a.decision {
                Decision::ExplicitDeny | Decision::ImplicitDeny => refusing.extend(a.reasons),
                Decision::Unknown => maybe.extend(a.reasons.into_iter().filter(|x| {
                    matches!(
                        x.what,
                        crate::policy::organization::OrgReasonKind::Statement {
                            effect: crate::model::Effect::Deny,
                            ..
                        }
                    ) || matches!(
                        x.what,
                        crate::policy::organization::OrgReasonKind::NoAllow { .. }
                    )
                })),
                Decision::Allow => {}
            }
        }
    }
    dedup(&mut refusing);
    dedup(&mut maybe);
    if !refusing.is_empty() {
        Some(OrgRefusal::Refuses(refusing))
    } else if !maybe.is_empty() {
        Some(OrgRefusal::MayRefuse(maybe))
    } else if scp_limits {
        match &og.scp {
            Applies::Yes(d) => Some(OrgRefusal::MayRefuse(d.reasons(org, action))),
            Applies::No(_) => None,
        }
    } else {
        None
    }
}

fn dedup(v: &mut Vec<OrgReason>) {
    let mut seen = Vec::new();
    v.retain(|r| {
        let s = r.to_string();
        if seen.contains(&s) {
            false
        } else {
            seen.push(s);
            true
        }
    });
}

/// [`super::OutsideEvidence`] from the organization's SCPs and RCPs (issue
/// 22's evaluation), then the refusal messages: a refusal the principal's
/// own policies do not explain is attributed to the SCP or RCP that blocks
/// or refuses it, named; one they only may refuse keeps what the messages
/// named, with the organization's evidence beside it.
pub struct Organizational<'a> {
    pub cat: &'a Catalog,
    pub org: &'a Organization,
}

impl super::OutsideEvidence for Organizational<'_> {
    fn refusal(
        &self,
        p: &Principal,
        g: &EffectiveGrants,
        id: ActionId,
        resources: &[&str],
        named: Option<crate::usage::PolicyType>,
    ) -> super::OutsideRefusal {
        let sample: Vec<String> = resources.iter().map(|r| r.to_string()).collect();
        let Some(r) = org_refusal(self.cat, self.org, p, g, id, &sample) else {
            return super::OutsideRefusal {
                policy: named,
                ..Default::default()
            };
        };
        let definite = matches!(r, OrgRefusal::Blocked(_) | OrgRefusal::Refuses(_));
        let policy = match (definite, r.kind()) {
            (true, Some(OrgPolicyKind::Scp)) => {
                Some(crate::usage::PolicyType::ServiceControlPolicy)
            }
            (true, Some(OrgPolicyKind::Rcp)) => {
                Some(crate::usage::PolicyType::ResourceControlPolicy)
            }
            _ => named,
        };
        // The policies that refuse, by name, when the evaluation names them.
        let mut names: Vec<String> = Vec::new();
        if definite {
            for reason in r.reasons() {
                if let crate::policy::organization::OrgReasonKind::Statement {
                    policy_name, ..
                } = &reason.what
                {
                    if !names.contains(policy_name) {
                        names.push(policy_name.clone());
                    }
                }
            }
        }
        super::OutsideRefusal {
            policy,
            name: (!names.is_empty()).then(|| names.join("`, `")),
            org: Some(r),
        }
    }
}

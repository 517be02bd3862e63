//! The whole decision for one request: identity policies, the permissions
//! boundary, the resource's own policy, the SCPs of the caller's account and
//! the RCPs of the resource's account, combined as AWS documents it.
//!
//! - An explicit Deny in any of them wins.
//! - SCPs (caller's account) and RCPs (resource's account) must allow.
//! - Same account: the identity policies (within the boundary) **or** the
//!   resource policy allow. A resource policy that names an IAM user, or a
//!   session, is not limited by the boundary; one that names a role ARN is;
//!   one that names the account only delegates to the identity policies.
//!   KMS key policies and role trust policies are the exceptions: they must
//!   allow, by naming the principal or by trusting the account (and then the
//!   identity policies decide). (IAM User Guide, "Policy evaluation logic";
//!   KMS Developer Guide, "Key policies".)
//! - Cross-account: the identity policies **and** the resource policy must
//!   both allow. (IAM User Guide, "Cross-account policy evaluation logic".)

use super::caller::{Caller, CallerKind};
use super::condition::{evaluate_all, evaluate_known, Context, Truth};
use super::organization::{evaluate_request as org_request, OrgResponse};
use super::request::{side_with, statement_matches, Decision, Reason, Request};
use crate::model::resource::PolicyRole;
use crate::model::{
    AttachedPolicy, Condition, Effect, OrgPolicyKind, Organization, PolicyDocument,
    PrincipalElement, Statement,
};

/// How a resource-policy statement's `Principal` names the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Named {
    /// Not at all.
    No,
    /// Its account (`123456789012` or `arn:aws:iam::123456789012:root`):
    /// access is delegated to the account's identity policies.
    Account,
    /// The role's ARN: limited by the role's permissions boundary.
    RoleArn,
    /// Directly: the user, a session, the service, the federated provider,
    /// or everyone (`*`).
    Directly,
}

impl Named {
    pub fn as_str(self) -> &'static str {
        match self {
            Named::No => "not named",
            Named::Account => "its account",
            Named::RoleArn => "its role ARN",
            Named::Directly => "directly",
        }
    }
}

/// How a statement's `Principal` (or `NotPrincipal`) element names `caller`.
pub fn names(st: &Statement, caller: &Caller) -> Named {
    let Some(el) = &st.principal else {
        return Named::No;
    };
    let hit = element_names(el, caller);
    if st.not_principal {
        // Everyone except those listed; an account listed excludes its principals.
        return if hit == Named::No {
            Named::Directly
        } else {
            Named::No
        };
    }
    hit
}

fn element_names(el: &PrincipalElement, caller: &Caller) -> Named {
    match el {
        PrincipalElement::Bare(s) if s == "*" => Named::Directly,
        PrincipalElement::Bare(_) => Named::No,
        PrincipalElement::ByKind(kinds) => kinds
            .iter()
            .map(|(kind, names)| {
                names
                    .iter()
                    .map(|n| name_names(kind, n, caller))
                    .max()
                    .unwrap_or(Named::No)
            })
            .max()
            .unwrap_or(Named::No),
    }
}

fn name_names(kind: &str, name: &str, caller: &Caller) -> Named {
    match kind {
        "AWS" => {
            if name == "*" {
                // Every authenticated AWS principal (not services).
                return if caller.kind == CallerKind::Service {
                    Named::No
                } else {
                    Named::Directly
                };
            }
            let account_of = |n: &str| -> Option<String> {
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                    return Some(n.to_string());
                }
                n.strip_prefix("arn:aws:iam::")
                    .and_then(|r| r.strip_suffix(":root"))
                    .map(String::from)
            };
            if let Some(acct) = account_of(name) {
                return match (caller.kind, caller.account.as_deref()) {
                    (CallerKind::User | CallerKind::Role | CallerKind::Account, Some(a))
                        if a == acct =>
                    {
                        Named::Account
                    }
                    _ => Named::No,
                };
            }
            match caller.kind {
                CallerKind::User if name == caller.arn => Named::Directly,
                CallerKind::Role if name == caller.arn => Named::RoleArn,
                CallerKind::Role => {
                    // A session of the role: `arn:aws:sts::A:assumed-role/NAME/SESSION`.
                    let role_name = caller.arn.rsplit('/').next().unwrap_or("");
                    let acct = caller.account.as_deref().unwrap_or("");
                    let prefix = format!("arn:aws:sts::{acct}:assumed-role/{role_name}/");
                    if name.starts_with(&prefix) {
                        Named::Directly
                    } else {
                        Named::No
                    }
                }
                CallerKind::Account if name == caller.arn => Named::Account,
                _ => Named::No,
            }
        }
        "Service" if caller.kind == CallerKind::Service && name == caller.arn => Named::Directly,
        "Federated" if caller.kind == CallerKind::Federated && name == caller.arn => {
            Named::Directly
        }
        _ => Named::No,
    }
}

/// A resource-policy statement that took part in the decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceReason {
    pub statement: String,
    pub effect: Effect,
    pub named: Named,
    /// `false` when its conditions could not be evaluated.
    pub certain: bool,
    /// Its conditions, when they could not be evaluated.
    pub conditions: Vec<Condition>,
}

/// The resource's policy, as far as the snapshot knows it.
#[derive(Clone, Copy, Debug)]
pub enum ResourcePolicyInput<'a> {
    /// The resource has this policy.
    Policy(&'a PolicyDocument, PolicyRole),
    /// The resource has no policy of its own.
    None,
    /// The snapshot does not say.
    Unknown,
}

/// The caller's own policies, when the snapshot has them.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdentityInput<'a> {
    pub policies: &'a [&'a AttachedPolicy],
    pub boundary: Option<&'a AttachedPolicy>,
    /// `false` for principals of other accounts (and services): their
    /// identity policies are not in the snapshot.
    pub known: bool,
}

/// Which route allowed the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The caller's identity policies (within its boundary).
    Identity,
    /// The resource policy, naming the caller.
    ResourcePolicy,
    /// Both (cross-account: the resource policy and the identity policies).
    Both,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Identity => "identity policy",
            Route::ResourcePolicy => "resource policy",
            Route::Both => "identity and resource policy",
        }
    }
}

/// The decision with everything that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessResponse {
    pub decision: Decision,
    pub route: Option<Route>,
    /// Identity and boundary statements (boundary ones marked).
    pub identity: Vec<Reason>,
    pub resource: Vec<ResourceReason>,
    pub scp: Option<OrgResponse>,
    pub rcp: Option<OrgResponse>,
    pub cross_account: bool,
    /// Facts that explain the decision in words (a key policy that does not
    /// trust the account, identity policies not in the snapshot, ...).
    pub notes: Vec<String>,
    /// Conditions the decision depends on and that could not be evaluated.
    pub conditions: Vec<Condition>,
}

/// Everything one decision needs.
pub struct AccessRequest<'a> {
    pub caller: &'a Caller,
    pub identity: IdentityInput<'a>,
    pub resource_account: Option<&'a str>,
    pub resource_policy: ResourcePolicyInput<'a>,
    pub org: Option<&'a Organization>,
    pub request: &'a Request,
    /// The request's context is complete: a key it lacks is absent. Without
    /// it, only the caller's keys and those given are known.
    pub complete: bool,
}

fn or(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::True, _) | (_, Truth::True) => Truth::True,
        (Truth::False, Truth::False) => Truth::False,
        _ => Truth::Unknown,
    }
}

/// Decides one request.
pub fn decide(a: &AccessRequest) -> AccessResponse {
    let caller = a.caller;
    let req = a.request;
    let mut ctx: Context = caller.context();
    for (k, v) in &req.context {
        ctx.insert(k.clone(), v.clone());
    }
    let full_req = Request {
        action: req.action.clone(),
        resource: req.resource.clone(),
        context: ctx.clone(),
    };
    let decidable = |k: &str| a.complete || caller.decidable(k) || req.context.contains_key(k);
    let known: Option<&dyn Fn(&str) -> bool> = if a.complete { None } else { Some(&decidable) };
    let mut notes = Vec::new();
    let mut conditions: Vec<Condition> = Vec::new();

    // Identity policies and boundary.
    let (id_allow, id_deny, b_allow, b_deny, mut identity) = if a.identity.known {
        let id = side_with(a.identity.policies, &full_req, false, known);
        let (ba, bd, br) = match a.identity.boundary {
            Some(b) => {
                let s = side_with(&[b], &full_req, true, known);
                (s.allow, s.deny, s.reasons)
            }
            None => (Truth::True, Truth::False, Vec::new()),
        };
        let mut reasons = id.reasons;
        reasons.extend(br);
        (id.allow, id.deny, ba, bd, reasons)
    } else {
        if matches!(
            caller.kind,
            CallerKind::User | CallerKind::Role | CallerKind::Account
        ) {
            notes.push(format!(
                "the identity policies of {} are not in the snapshot",
                caller.account.as_deref().map_or_else(
                    || "the caller".to_string(),
                    |acct| format!("account {acct}")
                )
            ));
        }
        // Services, federated principals and anyone have no identity
        // policies to consult; other accounts' principals do, unseen.
        let t = match caller.kind {
            CallerKind::Service | CallerKind::Federated | CallerKind::Anyone => Truth::False,
            _ => Truth::Unknown,
        };
        (t, Truth::False, Truth::True, Truth::False, Vec::new())
    };
    let ib = id_allow.and(b_allow);

    // The resource policy.
    let mut res_deny = Truth::False;
    let mut direct = Truth::False;
    let mut role_arn = Truth::False;
    let mut account = Truth::False;
    let mut resource = Vec::new();
    let role = match a.resource_policy {
        ResourcePolicyInput::Policy(doc, role) => {
            for st in &doc.statements {
                let named = names(st, caller);
                if named == Named::No || !statement_matches(st, &req.action, &req.resource) {
                    continue;
                }
                let t = if a.complete {
                    evaluate_all(&st.conditions, &ctx)
                } else {
                    evaluate_known(&st.conditions, &ctx, &decidable)
                };
                if t == Truth::False {
                    continue;
                }
                match (st.effect, named) {
                    (Effect::Deny, _) => res_deny = or(res_deny, t),
                    (Effect::Allow, Named::Directly) => direct = or(direct, t),
                    (Effect::Allow, Named::RoleArn) => role_arn = or(role_arn, t),
                    (Effect::Allow, Named::Account) => account = or(account, t),
                    (Effect::Allow, Named::No) => {}
                }
                resource.push(ResourceReason {
                    statement: st.label(),
                    effect: st.effect,
                    named,
                    certain: t == Truth::True,
                    conditions: if t == Truth::Unknown {
                        st.conditions.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
            Some(role)
        }
        ResourcePolicyInput::None => None,
        ResourcePolicyInput::Unknown => {
            notes.push("the resource's policy is not in the snapshot".into());
            None
        }
    };
    let res_known = !matches!(a.resource_policy, ResourcePolicyInput::Unknown);
    // A grant to a role ARN is limited by the role's boundary; one to the
    // user or the session is not.
    let named_allow = or(direct, role_arn.and(b_allow));

    // Organization policies.
    let scp = a
        .org
        .map(|o| org_request(o, OrgPolicyKind::Scp, caller, None, req, a.complete));
    let rcp = a.org.map(|o| {
        org_request(
            o,
            OrgPolicyKind::Rcp,
            caller,
            a.resource_account,
            req,
            a.complete,
        )
    });
    let org_truth = |r: &Option<OrgResponse>| match r.as_ref().map(|r| r.decision) {
        None | Some(Decision::Allow) => (Truth::True, Truth::False),
        Some(Decision::ExplicitDeny) => (Truth::False, Truth::True),
        Some(Decision::ImplicitDeny) => (Truth::False, Truth::False),
        Some(Decision::Unknown) => (Truth::Unknown, Truth::Unknown),
    };
    let (scp_allow, scp_deny) = org_truth(&scp);
    let (rcp_allow, rcp_deny) = org_truth(&rcp);

    // A service, a federated principal or anyone belongs to no account:
    // only the resource policy can let it in (below).
    let cross_account = match (caller.account.as_deref(), a.resource_account) {
        (Some(c), Some(r)) => c != r,
        _ => false,
    };
    let required = matches!(role, Some(PolicyRole::KeyPolicy | PolicyRole::TrustPolicy));
    let (allow, route) = if cross_account {
        let res = or(named_allow, account);
        let allow = if res_known {
            ib.and(res)
        } else {
            Truth::Unknown.and(ib)
        };
        (allow, Route::Both)
    } else if required {
        // Key and trust policies must allow; trusting the account lets the
        // identity policies decide.
        if res_known && named_allow == Truth::False && account == Truth::False {
            notes.push(match role {
                Some(PolicyRole::KeyPolicy) => {
                    "the key policy neither names the caller nor trusts its account: IAM policies cannot grant use of the key".to_string()
                }
                _ => "the trust policy neither names the caller nor trusts its account".to_string(),
            });
        }
        let via_account = account.and(ib);
        let allow = or(named_allow, via_account);
        let route = if named_allow != Truth::False {
            Route::ResourcePolicy
        } else {
            Route::Identity
        };
        (allow, route)
    } else {
        let allow = or(ib, named_allow);
        let route = if ib == Truth::True {
            Route::Identity
        } else if named_allow != Truth::False {
            Route::ResourcePolicy
        } else {
            Route::Identity
        };
        (allow, route)
    };
    // For services and anyone, a resource policy is the only way in.
    let allow = if matches!(
        caller.kind,
        CallerKind::Service | CallerKind::Anyone | CallerKind::Federated
    ) && !required
        && !cross_account
    {
        named_allow
    } else {
        allow
    };
    let deny = [id_deny, b_deny, res_deny, scp_deny, rcp_deny]
        .into_iter()
        .fold(Truth::False, or);
    let allow = allow.and(scp_allow).and(rcp_allow);
    let decision = match (deny, allow) {
        (Truth::True, _) => Decision::ExplicitDeny,
        (_, Truth::False) => Decision::ImplicitDeny,
        (Truth::False, Truth::True) => Decision::Allow,
        _ => Decision::Unknown,
    };
    for r in &resource {
        conditions.extend(r.conditions.iter().cloned());
    }
    if decision == Decision::Unknown && a.identity.known {
        for r in identity.iter().filter(|r| !r.certain) {
            conditions.extend(
                statement_conditions(a.identity.policies, a.identity.boundary, r)
                    .into_iter()
                    .filter(|c| !decidable(&c.key.to_ascii_lowercase())),
            );
        }
    }
    conditions.dedup();
    // Organization policies that allowed did not decide a refusal.
    let quiet = |o: Option<OrgResponse>| {
        o.map(|mut o| {
            if decision != Decision::Allow && o.decision == Decision::Allow {
                o.reasons.clear();
            }
            o
        })
    };
    let (scp, rcp) = (quiet(scp), quiet(rcp));
    identity.retain(|r| match decision {
        Decision::ExplicitDeny => r.effect == Effect::Deny,
        Decision::Allow | Decision::ImplicitDeny => r.effect == Effect::Allow,
        Decision::Unknown => true,
    });
    AccessResponse {
        decision,
        route: (decision != Decision::ExplicitDeny && decision != Decision::ImplicitDeny)
            .then_some(route),
        identity,
        resource,
        scp,
        rcp,
        cross_account,
        notes,
        conditions,
    }
}

/// The conditions of the statement a reason names.
fn statement_conditions(
    policies: &[&AttachedPolicy],
    boundary: Option<&AttachedPolicy>,
    r: &Reason,
) -> Vec<Condition> {
    policies
        .iter()
        .copied()
        .chain(boundary)
        .filter(|p| p.source.label() == r.policy)
        .flat_map(|p| p.document.statements.iter())
        .filter(|s| s.label() == r.statement)
        .flat_map(|s| s.conditions.iter().cloned())
        .collect()
}

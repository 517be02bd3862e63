//! One request, one decision, with its reasons: the evaluation logic that
//! `explain` shows and the data-driven evaluator tests pin down.

use super::condition::{evaluate_all, Context, Truth};
use crate::catalog::{wildcard_match, wildcard_match_case_sensitive};
use crate::model::{ActionSpec, AttachedPolicy, Effect, ResourceSpec, Statement};

/// A request: an action, the resource it is made on (`"*"` for actions
/// without resource types) and its condition context.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: Context,
}

/// IAM's decision for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny applies.
    ExplicitDeny,
    /// Nothing allows it (or the boundary does not).
    ImplicitDeny,
    /// The outcome depends on conditions we cannot evaluate.
    Unknown,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::ExplicitDeny => "explicit-deny",
            Decision::ImplicitDeny => "implicit-deny",
            Decision::Unknown => "unknown",
        }
    }
}

/// A statement that took part in the decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub policy: String,
    pub statement: String,
    pub effect: Effect,
    pub boundary: bool,
    /// `false` when its conditions could not be evaluated.
    pub certain: bool,
}

/// The decision with the statements that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

/// Whether a statement's action and resource elements match the request.
pub fn statement_matches(st: &Statement, action: &str, resource: &str) -> bool {
    let action_hit = match &st.actions {
        ActionSpec::Action(p) => p.iter().any(|p| wildcard_match(p, action)),
        ActionSpec::NotAction(p) => !p.iter().any(|p| wildcard_match(p, action)),
    };
    action_hit
        && match &st.resources {
            ResourceSpec::Resource(p) => {
                p.iter().any(|p| wildcard_match_case_sensitive(p, resource))
            }
            ResourceSpec::NotResource(p) => {
                !p.iter().any(|p| wildcard_match_case_sensitive(p, resource))
            }
            ResourceSpec::None => true,
        }
}

/// What one set of policies (identity policies, or a boundary) says of a
/// request: is it allowed, denied, and by which statements.
pub struct Side {
    pub allow: Truth,
    pub deny: Truth,
    pub reasons: Vec<Reason>,
}

fn side(policies: &[&AttachedPolicy], req: &Request, boundary: bool) -> Side {
    side_with(policies, req, boundary, None)
}

/// [`side`] where, with `decidable`, conditions on other keys are `Unknown`
/// (see `condition::evaluate_known`); without it, a key missing from the
/// context is absent.
pub fn side_with(
    policies: &[&AttachedPolicy],
    req: &Request,
    boundary: bool,
    decidable: Option<&dyn Fn(&str) -> bool>,
) -> Side {
    let mut s = Side {
        allow: Truth::False,
        deny: Truth::False,
        reasons: Vec::new(),
    };
    for p in policies {
        for st in &p.document.statements {
            if !statement_matches(st, &req.action, &req.resource) {
                continue;
            }
            let t = match decidable {
                None => evaluate_all(&st.conditions, &req.context),
                Some(d) => super::condition::evaluate_known(&st.conditions, &req.context, d),
            };
            if t == Truth::False {
                continue;
            }
            let slot = match st.effect {
                Effect::Allow => &mut s.allow,
                Effect::Deny => &mut s.deny,
            };
            if t == Truth::True || *slot == Truth::False {
                *slot = if *slot == Truth::True { Truth::True } else { t };
            }
            s.reasons.push(Reason {
                policy: p.source.label(),
                statement: st.label(),
                effect: st.effect,
                boundary,
                certain: t == Truth::True,
            });
        }
    }
    s
}

/// Evaluates a request against identity policies and an optional boundary:
/// an explicit Deny anywhere wins; otherwise both the identity policies and
/// the boundary (when there is one) must allow.
pub fn evaluate_request(
    identity: &[&AttachedPolicy],
    boundary: Option<&AttachedPolicy>,
    req: &Request,
) -> Response {
    let id = side(identity, req, false);
    let bd = boundary.map(|b| side(&[b], req, true));
    let mut reasons = id.reasons;
    let (b_allow, b_deny) = match &bd {
        Some(b) => (b.allow, b.deny),
        None => (Truth::True, Truth::False),
    };
    if let Some(b) = bd {
        reasons.extend(b.reasons);
    }
    let deny = if id.deny == Truth::True || b_deny == Truth::True {
        Truth::True
    } else if id.deny == Truth::Unknown || b_deny == Truth::Unknown {
        Truth::Unknown
    } else {
        Truth::False
    };
    let allow = match (id.allow, b_allow) {
        (Truth::True, Truth::True) => Truth::True,
        (Truth::False, _) | (_, Truth::False) => Truth::False,
        _ => Truth::Unknown,
    };
    let decision = match (deny, allow) {
        (Truth::True, _) => Decision::ExplicitDeny,
        (_, Truth::False) => Decision::ImplicitDeny,
        (Truth::False, Truth::True) => Decision::Allow,
        _ => Decision::Unknown,
    };
    // Keep only the reasons that explain the decision.
    reasons.retain(|r| match decision {
        Decision::ExplicitDeny => r.effect == Effect::Deny && r.certain,
        Decision::Allow => r.effect == Effect::Allow,
        Decision::ImplicitDeny => r.effect == Effect::Allow,
        Decision::Unknown => true,
    });
    Response { decision, reasons }
}

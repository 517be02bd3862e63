//! The principal's own decision for one action on one resource that a
//! record named: which statements allow it, which Deny refuses it, whether a
//! `NotResource` or the boundary leaves it out.
//!
//! Only the statements that contribute to the action
//! ([`EffectiveGrants::reasons`]) are read, never every statement of every
//! policy: it runs for each action and sampled resource of every principal
//! with activity. Three-valued as [`super::request`]: a statement with
//! conditions, or a resource that cannot be matched for sure (a name without
//! the path or random suffix of its ARN, a policy variable), makes the
//! decision conditional, never a yes or a no.

use super::arn_match::{pattern_covers, patterns_intersect};
use super::condition::Truth;
use super::grants::{statement, EffectiveGrants, PolicyRef, StmtRef};
use crate::catalog::{wildcard_match_case_sensitive, ActionId, Catalog};
use crate::model::{Effect, Principal, ResourceSpec};

/// What the principal's own policies decide for one action on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnDecision {
    /// Allowed; `conditional` when a condition (or an uncertain match) is
    /// involved.
    Allow { conditional: bool },
    /// An explicit Deny of its own (identity policies or boundary) matches,
    /// unconditionally.
    ExplicitDeny(StmtRef),
    /// An Allow names the action but excludes the resource through `NotResource`,
    /// and no other Allow matches.
    NotResource(StmtRef),
    /// The identity policies allow it, the boundary does not.
    Boundary,
    /// An Allow matches the resource, but its condition is unmet by what
    /// the record shows (the Region of the resource, `aws:RequestedRegion`),
    /// and no other Allow matches.
    ConditionUnmet(StmtRef),
    /// No Allow matches the resource (another account, Region or name).
    NoAllow,
}

impl OwnDecision {
    pub fn allows(&self) -> bool {
        matches!(self, OwnDecision::Allow { .. })
    }
}

/// Whether a resource of a record may be matched literally: an ARN with no
/// wildcard and no part left out.
fn literal(arn: &str) -> bool {
    !arn.contains(['*', '?'])
}

/// The ARN patterns a resource named by a record may stand for, when it
/// may stand for more than itself: a secret named without the random suffix
/// that Secrets Manager appends to its ARN, an IAM role or user named
/// without its path.
fn widened(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 {
        return None;
    }
    match (parts[2], parts[5]) {
        ("secretsmanager", res) if res.starts_with("secret:") => {
            let suffixed = res
                .rsplit_once('-')
                .is_some_and(|(_, t)| t.len() == 6 && t.chars().all(|c| c.is_ascii_alphanumeric()));
            (!suffixed).then(|| format!("{arn}-??????"))
        }
        ("iam", res) => {
            let (kind, name) = res.split_once('/')?;
            (matches!(kind, "role" | "user") && !name.contains('/')).then(|| {
                format!(
                    "{}:{}:{}:{}:{}:{kind}/*/{name}",
                    parts[0], parts[1], parts[2], parts[3], parts[4]
                )
            })
        }
        _ => None,
    }
}

/// Whether `full` is the complete ARN of `name`, a resource a record named
/// without part of its ARN (a secret's random suffix).
pub fn completes(name: &str, full: &str) -> bool {
    name != full
        && widened(name).is_some_and(|w| w.ends_with("-??????"))
        && full.len() == name.len() + 7
        && full.starts_with(name)
        && full.as_bytes()[name.len()] == b'-'
}

/// Whether a policy resource pattern matches a resource a record named.
fn pattern_truth(pattern: &str, arn: &str) -> Truth {
    if pattern == "*" {
        return Truth::True;
    }
    // A policy variable (`${aws:username}`) stands for the caller's value,
    // which the record's resource alone does not give.
    if pattern.contains("${") {
        return if patterns_intersect(&strip_variables(pattern), arn) {
            Truth::Unknown
        } else {
            Truth::False
        };
    }
    if literal(arn) {
        if wildcard_match_case_sensitive(pattern, arn) {
            return Truth::True;
        }
        return match widened(arn) {
            Some(w) if pattern_covers(pattern, &w) => Truth::True,
            Some(w) if patterns_intersect(pattern, &w) => Truth::Unknown,
            _ => Truth::False,
        };
    }
    if pattern_covers(pattern, arn) {
        Truth::True
    } else if patterns_intersect(pattern, arn) {
        Truth::Unknown
    } else {
        Truth::False
    }
}

/// A pattern with each `${...}` variable replaced by `*`.
fn strip_variables(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        out.push('*');
        rest = rest[i..].find('}').map_or("", |j| &rest[i + j + 1..]);
    }
    out.push_str(rest);
    out
}

/// Whether a statement's resource element applies to `arn`.
fn resource_truth(spec: &ResourceSpec, arn: &str) -> Truth {
    let any = |pats: &[String]| {
        pats.iter()
            .map(|p| pattern_truth(p, arn))
            .fold(Truth::False, or)
    };
    match spec {
        ResourceSpec::None => Truth::True,
        ResourceSpec::Resource(pats) => any(pats),
        ResourceSpec::NotResource(pats) => match any(pats) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
    }
}

fn or(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::True, _) | (_, Truth::True) => Truth::True,
        (Truth::False, Truth::False) => Truth::False,
        _ => Truth::Unknown,
    }
}

fn and(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::False, _) | (_, Truth::False) => Truth::False,
        (Truth::True, Truth::True) => Truth::True,
        _ => Truth::Unknown,
    }
}

/// A statement's conditions for a request on `arn`, as far as the record
/// shows them: `aws:RequestedRegion` is the Region of a regional resource
/// (a call on it goes to that Region's endpoint); every other key is
/// unknown, so a statement with conditions is never a sure yes, and a sure
/// no only when the Region decides it.
fn condition_truth(conditions: &[crate::model::Condition], arn: &str) -> Truth {
    if conditions.is_empty() {
        return Truth::True;
    }
    let region = arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty() && !r.contains(['*', '?']));
    let mut ctx = super::condition::Context::new();
    if let Some(r) = region {
        ctx.insert("aws:requestedregion".into(), vec![r.to_string()]);
    }
    super::condition::evaluate_known(conditions, &ctx, &|k: &str| {
        region.is_some() && k == "aws:requestedregion"
    })
}

/// Whether `arn` can be a resource of action `id` (one of its resource
/// types' ARN templates): a record lists every resource of the event (an
/// instance's subnet and image beside it), and only the action's own are
/// decided for it.
pub fn names_resource_of(cat: &Catalog, id: ActionId, arn: &str) -> bool {
    let action = cat.action(id);
    let service = arn.split(':').nth(2);
    action.resource_types.iter().any(|t| {
        t.arn.split(':').nth(2) == service && super::arn_match::pattern_meets_template(arn, t.arn)
    })
}

/// The principal's own decision for `id` on `arn`, from the statements that
/// contribute to the action, with the identity Allow statements that match
/// the resource (whatever the decision: a boundary or a Deny may still
/// refuse what they allow). `arn` is a resource a record named for it (see
/// [`names_resource_of`]).
pub fn decide(
    p: &Principal,
    g: &EffectiveGrants,
    id: ActionId,
    arn: &str,
) -> (OwnDecision, Vec<StmtRef>) {
    let mut allow = Truth::False;
    let mut statements = Vec::new();
    let mut not_resource = None;
    let mut bound = if p.boundary.is_some() {
        Truth::False
    } else {
        Truth::True
    };
    let mut deny = Truth::False;
    let mut deny_at = None;
    let mut unmet = None;
    for c in g.reasons(id) {
        let Some(st) = statement(p, c.at) else {
            continue;
        };
        let res = resource_truth(&st.resources, arn);
        let boundary = c.at.policy == PolicyRef::Boundary;
        if res == Truth::False {
            if c.effect == Effect::Allow
                && !boundary
                && matches!(st.resources, ResourceSpec::NotResource(_))
                && not_resource.is_none()
            {
                not_resource = Some(c.at);
            }
            continue;
        }
        let cond = condition_truth(&st.conditions, arn);
        if cond == Truth::False {
            if c.effect == Effect::Allow && !boundary && unmet.is_none() {
                unmet = Some(c.at);
            }
            continue;
        }
        let t = and(res, cond);
        match (c.effect, boundary) {
            (Effect::Allow, false) => {
                allow = or(allow, t);
                statements.push(c.at);
            }
            (Effect::Allow, true) => bound = or(bound, t),
            (Effect::Deny, _) => {
                deny = or(deny, t);
                if t == Truth::True && deny_at.is_none() {
                    deny_at = Some(c.at);
                }
            }
        }
    }
    let decision = if let (Truth::True, Some(at)) = (deny, deny_at) {
        OwnDecision::ExplicitDeny(at)
    } else if allow == Truth::False {
        match (unmet, not_resource) {
            (Some(at), _) => OwnDecision::ConditionUnmet(at),
            (None, Some(at)) => OwnDecision::NotResource(at),
            (None, None) => OwnDecision::NoAllow,
        }
    } else if bound == Truth::False {
        OwnDecision::Boundary
    } else {
        OwnDecision::Allow {
            conditional: !(allow == Truth::True && bound == Truth::True && deny == Truth::False),
        }
    };
    (decision, statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_their_arn_parts_match_uncertainly() {
        let secret = "arn:aws:secretsmanager:us-east-1:1:secret:prod/db";
        assert_eq!(
            pattern_truth("arn:aws:secretsmanager:*:1:secret:prod/*", secret),
            Truth::True
        );
        assert_eq!(
            pattern_truth(
                "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-??????",
                secret
            ),
            Truth::True
        );
        assert_eq!(
            pattern_truth(
                "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf",
                secret
            ),
            Truth::Unknown
        );
        assert_eq!(
            pattern_truth("arn:aws:secretsmanager:eu-west-1:1:secret:prod/*", secret),
            Truth::False
        );
        let role = "arn:aws:iam::1:role/app";
        assert_eq!(
            pattern_truth("arn:aws:iam::1:role/svc/*", role),
            Truth::Unknown
        );
        assert_eq!(pattern_truth("arn:aws:iam::1:role/app", role), Truth::True);
        assert_eq!(pattern_truth("arn:aws:iam::2:role/*", role), Truth::False);
        // A resource built without its Region.
        let any_region = "arn:aws:dynamodb:*:1:table/t";
        assert_eq!(
            pattern_truth("arn:aws:dynamodb:*:1:table/*", any_region),
            Truth::True
        );
        assert_eq!(
            pattern_truth("arn:aws:dynamodb:us-east-1:1:table/*", any_region),
            Truth::Unknown
        );
        assert_eq!(
            pattern_truth(
                "arn:aws:s3:::home/${aws:username}/*",
                "arn:aws:s3:::home/bob/k"
            ),
            Truth::Unknown
        );
        assert_eq!(
            pattern_truth(
                "arn:aws:s3:::home/${aws:username}/*",
                "arn:aws:s3:::other/k"
            ),
            Truth::False
        );
        assert_eq!(strip_variables("a${x}b${y}"), "a*b*");
        assert!(completes(
            secret,
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf"
        ));
        assert!(!completes(secret, secret));
        assert!(!completes(
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf",
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf-XyZ123"
        ));
    }
}

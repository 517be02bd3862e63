//! Which statements really grant an action, for the risk rules: an Allow
//! whose conditions can never be true again (a time window that has closed)
//! grants nothing from now on, and a grant limited to resources that
//! customers cannot change (AWS managed policies, service-linked roles)
//! changes no one's permissions.
//!
//! This module decides those two facts from the statements alone; it does
//! not change the effective grants (`policy::grants`), which stay what IAM
//! would evaluate at any time.

use super::{RuleContext, Subject};
use crate::catalog::{ActionId, Catalog};
use crate::model::{Condition, Effect, ResourceSpec, Statement};
use crate::policy::grants::{resource_applies, statement, Contribution};
use crate::policy::PolicyRef;

/// Why a condition block can never be true at or after `at` (Unix seconds),
/// or `None` when it may be. Only the clock keys are decided: `aws:CurrentTime`
/// and `aws:EpochTime` are in every request (IAM User Guide, "AWS global
/// condition context keys"), and time only moves forward. Several values
/// under one operator are ORed, so a condition is dead only when every value
/// is; the conditions of a block are ANDed, so one dead condition kills it.
pub fn never_true(conditions: &[Condition], at: i64) -> Option<String> {
    conditions.iter().find_map(|c| {
        let key = c.key.to_ascii_lowercase();
        if key != "aws:currenttime" && key != "aws:epochtime" {
            return None;
        }
        // Set operators over a single-valued key: left undecided.
        if c.operator.contains(':') {
            return None;
        }
        let op = c.operator.trim_end_matches("IfExists");
        if op == "Null" {
            return c
                .values
                .iter()
                .all(|v| v.eq_ignore_ascii_case("true"))
                .then(|| format!("`{c}`: the key is in every request"));
        }
        let dead: fn(i64, i64) -> bool = match op {
            "DateLessThan" | "NumericLessThan" => |t, now| t <= now,
            "DateLessThanEquals" | "NumericLessThanEquals" | "DateEquals" | "NumericEquals" => {
                |t, now| t < now
            }
            _ => return None,
        };
        let times: Option<Vec<i64>> = c.values.iter().map(|v| instant(v)).collect();
        let times = times.filter(|t| !t.is_empty())?;
        times
            .iter()
            .all(|&t| dead(t, at))
            .then(|| format!("`{c}`: the time has passed"))
    })
}

/// A condition value as Unix seconds: epoch seconds, RFC 3339, or an ISO 8601
/// date or date-time without a zone (UTC).
fn instant(v: &str) -> Option<i64> {
    if let Ok(n) = v.trim().parse::<i64>() {
        return Some(n);
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some(d.timestamp());
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S") {
        return Some(d.and_utc().timestamp());
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
}

/// Whether a resource pattern names only resources customers cannot change:
/// AWS managed policies (`arn:aws:iam::aws:policy/...`) and service-linked
/// roles (`arn:aws:iam::*:role/aws-service-role/...`), whose policies and
/// trust only AWS edits (IAM User Guide, "AWS managed policies" and "Using
/// service-linked roles"). The fixed part must come before any wildcard.
pub fn immutable_resource(pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    if arn != "arn" || service != "iam" || !region.is_empty() || partition.contains(['*', '?']) {
        return false;
    }
    (account == "aws" && resource.starts_with("policy/"))
        || resource.starts_with("role/aws-service-role/")
}

/// The statement's resources for `id`, when every one of them is a resource
/// customers cannot change.
pub fn only_immutable(cat: &Catalog, st: &Statement, id: ActionId) -> bool {
    match &st.resources {
        ResourceSpec::Resource(pats) => {
            let applying: Vec<&String> = pats
                .iter()
                .filter(|p| resource_applies(cat, id, p))
                .collect();
            !applying.is_empty() && applying.iter().all(|p| immutable_resource(p))
        }
        _ => false,
    }
}

/// The time the rules judge conditions at: the later of the report's time
/// and the window's end, both of which have been reached.
pub fn clock(ctx: &RuleContext) -> i64 {
    ctx.window.map_or(ctx.now, |(_, end)| end.max(ctx.now))
}

/// The identity-policy Allow statements that grant `id` and may still be
/// in force, with their statements.
pub fn live_allows<'s>(
    ctx: &RuleContext,
    s: &'s Subject,
    id: ActionId,
) -> Vec<(&'s Contribution, &'s Statement)> {
    let at = clock(ctx);
    let p = &s.verdicts.principal;
    s.verdicts
        .grants
        .reasons(id)
        .filter(|c| c.effect == Effect::Allow && c.at.policy != PolicyRef::Boundary)
        .filter_map(|c| Some((c, statement(p, c.at)?)))
        .filter(|(_, st)| never_true(&st.conditions, at).is_none())
        .collect()
}

/// Whether a granted action still counts for a risk rule: some Allow of the
/// identity policies may still be in force, and (with a boundary) some
/// boundary Allow too; for privilege escalation, one of those Allows must
/// also reach a resource customers can change.
pub fn counts(ctx: &RuleContext, s: &Subject, id: ActionId, escalation: bool) -> bool {
    let allows = live_allows(ctx, s, id);
    let live = if escalation {
        allows
            .iter()
            .any(|(_, st)| !only_immutable(ctx.catalog, st, id))
    } else {
        !allows.is_empty()
    };
    if !live {
        return false;
    }
    if s.verdicts.principal.boundary.is_none() {
        return true;
    }
    let at = clock(ctx);
    s.verdicts
        .grants
        .reasons(id)
        .filter(|c| c.effect == Effect::Allow && c.at.policy == PolicyRef::Boundary)
        .filter_map(|c| statement(&s.verdicts.principal, c.at))
        .any(|st| never_true(&st.conditions, at).is_none())
}

/// Whether some in-force statement granting `iam:PassRole` lets the role
/// be passed to `service`: a statement whose `iam:PassedToService`
/// condition names other services cannot (IAM User Guide, "Granting a user
/// permissions to pass a role to an AWS service"). Only that key's
/// conditions are judged; the others are left to the request.
pub fn passes_to(ctx: &RuleContext, s: &Subject, passrole: ActionId, service: &str) -> bool {
    use crate::policy::condition::{evaluate, Context, Truth};
    let request: Context = [("iam:passedtoservice".to_string(), vec![service.to_string()])]
        .into_iter()
        .collect();
    live_allows(ctx, s, passrole).iter().any(|(_, st)| {
        st.conditions
            .iter()
            .filter(|c| c.key.eq_ignore_ascii_case("iam:PassedToService"))
            .all(|c| evaluate(c, &request) != Truth::False)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, vals: &[&str]) -> Condition {
        Condition {
            operator: op.into(),
            key: key.into(),
            values: vals.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn closed_time_windows_are_never_true() {
        // 2026-11-01T00:00:00Z
        let now = 1_793_491_200;
        let past = cond("DateLessThan", "aws:CurrentTime", &["2025-01-01T00:00:00Z"]);
        assert!(never_true(std::slice::from_ref(&past), now).is_some());
        let future = cond("DateLessThan", "aws:CurrentTime", &["2027-01-01T00:00:00Z"]);
        assert!(never_true(std::slice::from_ref(&future), now).is_none());
        // ORed values: one future value keeps it alive.
        let mixed = cond(
            "DateLessThan",
            "aws:CurrentTime",
            &["2025-01-01", "2027-01-01"],
        );
        assert!(never_true(&[mixed], now).is_none());
        // Epoch seconds, numeric operator, IfExists changes nothing.
        let epoch = cond("NumericLessThanIfExists", "aws:EpochTime", &["1700000000"]);
        assert!(never_true(&[epoch], now).is_some());
        // An opening date that has passed leaves the grant in force.
        let opened = cond("DateGreaterThan", "aws:CurrentTime", &["2025-01-01"]);
        assert!(never_true(&[opened], now).is_none());
        // ANDed: one dead condition kills the block.
        let region = cond("StringEquals", "aws:RequestedRegion", &["us-east-1"]);
        assert!(never_true(&[region.clone(), past], now).is_some());
        assert!(never_true(&[region], now).is_none());
        // Null on a key every request carries.
        let null = cond("Null", "aws:CurrentTime", &["true"]);
        assert!(never_true(&[null], now).is_some());
        // A value that is not a time: undecided, so the grant counts.
        let odd = cond("DateLessThan", "aws:CurrentTime", &["${aws:CurrentTime}"]);
        assert!(never_true(&[odd], now).is_none());
    }

    #[test]
    fn immutable_resources() {
        for p in [
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "arn:aws:iam::aws:policy/*",
            "arn:aws:iam::*:role/aws-service-role/*",
            "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport",
            "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess",
        ] {
            assert!(immutable_resource(p), "{p}");
        }
        for p in [
            "*",
            "arn:aws:iam::*:policy/*",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::*:role/aws-service-role*",
            "arn:aws:iam::111122223333:role/aws-service-roles/x",
            "arn:aws:iam::*:role/*/aws-service-role/*",
            "arn:*:iam::aws:policy/*x",
            "arn:aws:iam::aw?:policy/*",
        ] {
            assert!(!immutable_resource(p), "{p}");
        }
    }
}

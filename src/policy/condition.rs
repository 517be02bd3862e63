//! Condition operators, evaluated against a request context.
//!
//! Three-valued: a condition that uses an operator we do not implement, or
//! whose values we cannot interpret, is `Unknown`, never a silent false.

use crate::model::Condition;
use std::collections::HashMap;

/// The request context: condition key (lowercased) to its values.
pub type Context = HashMap<String, Vec<String>>;

/// Outcome of a condition or of a statement's whole condition block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }
}

/// All conditions of a statement must hold.
pub fn evaluate_all(conditions: &[Condition], ctx: &Context) -> Truth {
    conditions
        .iter()
        .fold(Truth::True, |acc, c| acc.and(evaluate(c, ctx)))
}

/// All conditions of a statement, where only the keys `decidable` accepts
/// (lowercased) are known: the others make their condition `Unknown`, even
/// when the context lacks them (absent is then not known to be absent).
/// Used where the request is only partly known: what the principal is is
/// known, where and how it will call is not.
pub fn evaluate_known(
    conditions: &[Condition],
    ctx: &Context,
    decidable: &dyn Fn(&str) -> bool,
) -> Truth {
    conditions.iter().fold(Truth::True, |acc, c| {
        let key = c.key.to_ascii_lowercase();
        let t = if !decidable(&key) || undecided_outside(c, ctx.get(&key)) {
            Truth::Unknown
        } else {
            evaluate(c, ctx)
        };
        acc.and(t)
    })
}

/// The value a key takes for a principal known to be outside the
/// organization (`aws:PrincipalOrgID`): another organization's id, or none.
/// Equal to none of the organization's values, so most operators decide
/// either way; `Null` and positive `...IfExists` do not (present or absent
/// gives different answers).
pub const OUTSIDE_ORGANIZATION: &str = "(outside the organization)";

fn undecided_outside(c: &Condition, value: Option<&Vec<String>>) -> bool {
    let outside = value.is_some_and(|v| v.len() == 1 && v[0] == OUTSIDE_ORGANIZATION);
    let op = c.operator.as_str();
    outside && (op == "Null" || (op.ends_with("IfExists") && !op.contains("Not")))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Single,
    AnyValue,
    AllValues,
}

/// Evaluates one condition.
pub fn evaluate(c: &Condition, ctx: &Context) -> Truth {
    let mut op = c.operator.as_str();
    let set = if let Some(rest) = op.strip_prefix("ForAnyValue:") {
        op = rest;
        SetOp::AnyValue
    } else if let Some(rest) = op.strip_prefix("ForAllValues:") {
        op = rest;
        SetOp::AllValues
    } else {
        SetOp::Single
    };
    let if_exists = op.ends_with("IfExists");
    let base = op.trim_end_matches("IfExists");
    let values = ctx.get(&c.key.to_ascii_lowercase());

    if base == "Null" {
        let want_absent = match c.values.first().map(String::as_str) {
            Some("true") => true,
            Some("false") => false,
            _ => return Truth::Unknown,
        };
        let absent = values.is_none_or(|v| v.is_empty());
        return if absent == want_absent {
            Truth::True
        } else {
            Truth::False
        };
    }

    let Some((negated, matcher)) = matcher(base) else {
        return Truth::Unknown;
    };
    let request: &[String] = match values {
        Some(v) if !v.is_empty() => v,
        _ => {
            // A missing key: IfExists and ForAllValues hold; ForAnyValue does
            // not, whatever the operator; otherwise negated operators hold and
            // positive ones do not (IAM's documented behaviour).
            return if if_exists || set == SetOp::AllValues {
                Truth::True
            } else if set == SetOp::AnyValue {
                Truth::False
            } else if negated {
                Truth::True
            } else {
                Truth::False
            };
        }
    };
    let mut unknown = false;
    let mut matches_any = |r: &str| -> bool {
        c.values.iter().any(|p| match matcher(r, p) {
            Some(b) => b,
            None => {
                unknown = true;
                false
            }
        })
    };
    let result = match set {
        SetOp::AllValues => request.iter().all(|r| matches_any(r) != negated),
        SetOp::AnyValue => request.iter().any(|r| matches_any(r) != negated),
        SetOp::Single => {
            let any = request.iter().any(|r| matches_any(r));
            any != negated
        }
    };
    if unknown {
        Truth::Unknown
    } else if result {
        Truth::True
    } else {
        Truth::False
    }
}

type Matcher = fn(&str, &str) -> Option<bool>;

/// Operator name to (negated, value matcher). `None` = unsupported.
fn matcher(op: &str) -> Option<(bool, Matcher)> {
    Some(match op {
        "StringEquals" => (false, |r, p| Some(r == p)),
        "StringNotEquals" => (true, |r, p| Some(r == p)),
        "StringEqualsIgnoreCase" => (false, |r, p| Some(r.eq_ignore_ascii_case(p))),
        "StringNotEqualsIgnoreCase" => (true, |r, p| Some(r.eq_ignore_ascii_case(p))),
        "StringLike" => (false, |r, p| {
            Some(crate::catalog::wildcard_match_case_sensitive(p, r))
        }),
        "StringNotLike" => (true, |r, p| {
            Some(crate::catalog::wildcard_match_case_sensitive(p, r))
        }),
        "ArnEquals" | "ArnLike" => (false, |r, p| {
            Some(crate::catalog::wildcard_match_case_sensitive(p, r))
        }),
        "ArnNotEquals" | "ArnNotLike" => (true, |r, p| {
            Some(crate::catalog::wildcard_match_case_sensitive(p, r))
        }),
        "Bool" => (false, |r, p| Some(r.eq_ignore_ascii_case(p))),
        "NumericEquals" => (false, |r, p| num(r, p, |a, b| a == b)),
        "NumericNotEquals" => (true, |r, p| num(r, p, |a, b| a == b)),
        "NumericLessThan" => (false, |r, p| num(r, p, |a, b| a < b)),
        "NumericLessThanEquals" => (false, |r, p| num(r, p, |a, b| a <= b)),
        "NumericGreaterThan" => (false, |r, p| num(r, p, |a, b| a > b)),
        "NumericGreaterThanEquals" => (false, |r, p| num(r, p, |a, b| a >= b)),
        "DateEquals" => (false, |r, p| date(r, p, |a, b| a == b)),
        "DateNotEquals" => (true, |r, p| date(r, p, |a, b| a == b)),
        "DateLessThan" => (false, |r, p| date(r, p, |a, b| a < b)),
        "DateLessThanEquals" => (false, |r, p| date(r, p, |a, b| a <= b)),
        "DateGreaterThan" => (false, |r, p| date(r, p, |a, b| a > b)),
        "DateGreaterThanEquals" => (false, |r, p| date(r, p, |a, b| a >= b)),
        "IpAddress" => (false, ip_in),
        "NotIpAddress" => (true, ip_in),
        _ => return None,
    })
}

fn num(r: &str, p: &str, f: fn(f64, f64) -> bool) -> Option<bool> {
    Some(f(r.parse().ok()?, p.parse().ok()?))
}

fn date(r: &str, p: &str, f: fn(i64, i64) -> bool) -> Option<bool> {
    fn secs(s: &str) -> Option<i64> {
        if let Ok(n) = s.parse::<i64>() {
            return Some(n);
        }
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.timestamp())
    }
    Some(f(secs(r)?, secs(p)?))
}

/// IPv4 CIDR membership; IPv6 is left unknown rather than guessed.
fn ip_in(r: &str, p: &str) -> Option<bool> {
    let ip: std::net::Ipv4Addr = r.parse().ok()?;
    let (net, bits) = match p.split_once('/') {
        Some((n, b)) => (
            n.parse::<std::net::Ipv4Addr>().ok()?,
            b.parse::<u32>().ok()?,
        ),
        None => (p.parse().ok()?, 32),
    };
    if bits > 32 {
        return None;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    Some(u32::from(ip) & mask == u32::from(net) & mask)
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

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn string_and_missing_keys() {
        let c = ctx(&[("aws:RequestedRegion", &["us-east-1"])]);
        assert_eq!(
            evaluate(
                &cond("StringEquals", "aws:RequestedRegion", &["us-east-1"]),
                &c
            ),
            Truth::True
        );
        assert_eq!(
            evaluate(
                &cond("StringNotEquals", "aws:RequestedRegion", &["us-east-1"]),
                &c
            ),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("StringEquals", "aws:SourceIp", &["x"]), &c),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("StringNotEquals", "aws:SourceIp", &["x"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("StringEqualsIfExists", "aws:SourceIp", &["x"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("Null", "aws:SourceIp", &["true"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("StringLike", "aws:RequestedRegion", &["us-*"]), &c),
            Truth::True
        );
    }

    #[test]
    fn set_operators() {
        let c = ctx(&[("aws:TagKeys", &["a", "b"])]);
        assert_eq!(
            evaluate(
                &cond("ForAllValues:StringEquals", "aws:TagKeys", &["a", "b", "c"]),
                &c
            ),
            Truth::True
        );
        assert_eq!(
            evaluate(
                &cond("ForAllValues:StringEquals", "aws:TagKeys", &["a"]),
                &c
            ),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("ForAnyValue:StringEquals", "aws:TagKeys", &["b"]), &c),
            Truth::True
        );
    }

    #[test]
    fn unknown_operator_is_unknown() {
        let c = ctx(&[("k", &["v"])]);
        assert_eq!(
            evaluate(&cond("BinaryEquals", "k", &["dg=="]), &c),
            Truth::Unknown
        );
        assert_eq!(
            evaluate_all(
                &[
                    cond("BinaryEquals", "k", &["x"]),
                    cond("StringEquals", "k", &["no"])
                ],
                &c
            ),
            Truth::False
        );
    }

    #[test]
    fn ip_and_numbers() {
        let c = ctx(&[("aws:SourceIp", &["203.0.113.7"]), ("s3:max-keys", &["5"])]);
        assert_eq!(
            evaluate(&cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(
                &cond("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"]),
                &c
            ),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("NumericLessThan", "s3:max-keys", &["10"]), &c),
            Truth::True
        );
    }
}

//! Amazon EventBridge event patterns: the limits the alerts respect, and a
//! matcher of the documented semantics, so that tests (and reviewers) can
//! check which CloudTrail records a pattern matches without AWS.
//!
//! Semantics, from the EventBridge User Guide ("Event patterns", "Comparison
//! operators for use in event patterns"): the keys of a pattern object must
//! all match (AND); a leaf is a non-empty array of conditions, any of which
//! may match (OR); `$or` lists sub-patterns of which one must match; an event
//! value that is an array matches when any element does; matching is exact
//! and case-sensitive unless `equals-ignore-case` says otherwise; a missing
//! field matches only `{"exists": false}`, never `anything-but`. Where the
//! guide is silent (a nested pattern over an array of objects must match
//! within one element, numbers compare numerically, a non-string value is
//! "anything but" a string-only filter), this follows AWS's event-ruler and
//! the research oracle `tests/support/eb_match.py`, which a test compares.

use serde_json::Value;

/// EventBridge's default limit on an event pattern's size, in characters
/// (adjustable to 4,096 through a quota increase).
pub const PATTERN_LIMIT: usize = 2048;

/// A pattern that EventBridge would reject, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event pattern: {0}")]
pub struct PatternError(pub String);

/// Whether `pattern` matches `event` (the EventBridge envelope, with the
/// CloudTrail record under `detail`).
pub fn matches(pattern: &Value, event: &Value) -> Result<bool, PatternError> {
    let Value::Object(_) = pattern else {
        return Err(PatternError("a pattern is a JSON object".into()));
    };
    object(pattern, Some(event))
}

fn object(pattern: &Value, node: Option<&Value>) -> Result<bool, PatternError> {
    let Value::Object(p) = pattern else {
        return Err(PatternError("expected an object".into()));
    };
    // An array of objects: the whole sub-pattern must hold within one element.
    if let Some(Value::Array(items)) = node {
        for it in items.iter().filter(|i| i.is_object()) {
            if object(pattern, Some(it))? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let fields = match node {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    for (key, cond) in p {
        if key == "$or" {
            let Value::Array(alts) = cond else {
                return Err(PatternError("`$or` takes an array of patterns".into()));
            };
            if alts.len() < 2 {
                return Err(PatternError("`$or` needs at least two patterns".into()));
            }
            let mut any = false;
            for a in alts {
                if object(a, node)? {
                    any = true;
                    break;
                }
            }
            if !any {
                return Ok(false);
            }
            continue;
        }
        let value = fields.and_then(|m| m.get(key));
        let ok = match cond {
            Value::Object(_) => match value {
                Some(v @ (Value::Object(_) | Value::Array(_))) => object(cond, Some(v))?,
                _ => only_absence(cond)?,
            },
            Value::Array(conds) => leaf(conds, value)?,
            _ => {
                return Err(PatternError(format!(
                    "`{key}`: a pattern value is an object or an array"
                )))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether every leaf under `cond` accepts absence (`exists: false`).
fn only_absence(cond: &Value) -> Result<bool, PatternError> {
    object(cond, None)
}

fn leaf(conds: &[Value], value: Option<&Value>) -> Result<bool, PatternError> {
    if conds.is_empty() {
        return Err(PatternError("empty arrays are not allowed".into()));
    }
    for c in conds {
        if let Some(e) = c.as_object().and_then(|o| o.get("exists")) {
            let want = e
                .as_bool()
                .ok_or_else(|| PatternError("`exists` takes true or false".into()))?;
            if value.is_some() == want {
                return Ok(true);
            }
            continue;
        }
        let Some(v) = value else { continue };
        let candidates: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for cand in candidates {
            if one(c, cand)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `prefix`, `suffix`, `equals-ignore-case` against a string value; `arg` is
/// a string, `{"equals-ignore-case": s}` (prefix and suffix), or a list.
fn string_op(op: &str, arg: &Value, v: &str) -> Result<bool, PatternError> {
    let args: Vec<&Value> = match arg {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    for a in args {
        let (needle, fold) = match a {
            Value::String(s) => (s.as_str(), false),
            Value::Object(o) => match o.get("equals-ignore-case") {
                Some(Value::String(s)) if op != "equals-ignore-case" => (s.as_str(), true),
                _ => return Err(PatternError(format!("`{op}`: bad argument {a}"))),
            },
            _ => return Err(PatternError(format!("`{op}`: bad argument {a}"))),
        };
        let (n, h) = if fold || op == "equals-ignore-case" {
            (needle.to_lowercase(), v.to_lowercase())
        } else {
            (needle.to_string(), v.to_string())
        };
        let hit = match op {
            "prefix" => h.starts_with(&n),
            "suffix" => h.ends_with(&n),
            "equals-ignore-case" => h == n,
            "wildcard" if !fold => wildcard(&n, &h),
            _ => return Err(PatternError(format!("unsupported operator `{op}`"))),
        };
        if hit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// EventBridge's `wildcard`: `*` is any run of characters (none included),
/// `\*` a star and `\\` a backslash; everything else matches itself.
fn wildcard(pattern: &str, s: &str) -> bool {
    #[derive(PartialEq)]
    enum T {
        Star,
        Char(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => toks.push(T::Char(it.next().unwrap_or('\\'))),
            '*' => toks.push(T::Star),
            c => toks.push(T::Char(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    // Classic glob matching with backtracking to the last star.
    let (mut p, mut i) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while i < s.len() {
        match toks.get(p) {
            Some(T::Char(c)) if *c == s[i] => {
                p += 1;
                i += 1;
            }
            Some(T::Star) => {
                back = Some((p, i));
                p += 1;
            }
            _ => match back {
                Some((bp, bi)) => {
                    p = bp + 1;
                    i = bi + 1;
                    back = Some((bp, bi + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == T::Star)
}

fn one(c: &Value, v: &Value) -> Result<bool, PatternError> {
    let Value::Object(o) = c else {
        return Ok(eq(c, v));
    };
    let mut it = o.iter();
    let (Some((op, arg)), None) = (it.next(), it.next()) else {
        return Err(PatternError(format!("a condition has one operator: {c}")));
    };
    match op.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" | "wildcard" => match v {
            Value::String(s) => string_op(op, arg, s),
            _ => Ok(false),
        },
        "anything-but" => match arg {
            Value::Object(sub) => {
                let mut it = sub.iter();
                let (Some((sop, sarg)), None) = (it.next(), it.next()) else {
                    return Err(PatternError("`anything-but` takes one operator".into()));
                };
                match v {
                    Value::String(s) => Ok(!string_op(sop, sarg, s)?),
                    _ => Ok(true),
                }
            }
            Value::Array(list) => Ok(!list.iter().any(|x| eq(x, v))),
            scalar => Ok(!eq(scalar, v)),
        },
        "numeric" => {
            let Value::Array(parts) = arg else {
                return Err(PatternError("`numeric` takes an array".into()));
            };
            let Some(x) = v.as_f64().filter(|_| v.is_number()) else {
                return Ok(false);
            };
            for pair in parts.chunks(2) {
                let [Value::String(op), n] = pair else {
                    return Err(PatternError("`numeric`: operator and number pairs".into()));
                };
                let y = n
                    .as_f64()
                    .ok_or_else(|| PatternError("`numeric`: not a number".into()))?;
                let ok = match op.as_str() {
                    "=" => x == y,
                    "<" => x < y,
                    "<=" => x <= y,
                    ">" => x > y,
                    ">=" => x >= y,
                    _ => return Err(PatternError(format!("`numeric`: operator `{op}`"))),
                };
                if !ok {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        other => Err(PatternError(format!("unsupported operator `{other}`"))),
    }
}

/// The size EventBridge counts: the pattern's compact JSON text.
pub fn size(pattern: &Value) -> usize {
    pattern.to_string().chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(p: Value, e: Value) -> bool {
        matches(&p, &e).unwrap()
    }

    /// `wildcard`, alone and under `anything-but` (the versioned event names
    /// of the alerts).
    #[test]
    fn wildcards() {
        let ev = |n: &str| json!({"detail": {"eventName": n}});
        let w = |p: &str| json!({"detail": {"eventName": [{"wildcard": p}]}});
        assert!(m(
            w("CreateDistribution2*"),
            ev("CreateDistribution2020_05_31")
        ));
        assert!(!m(w("CreateDistribution2*"), ev("CreateDistribution")));
        assert!(!m(
            w("CreateDistribution2*"),
            ev("CreateDistributionWithTags2020_05_31")
        ));
        assert!(m(w("*Distribution*"), ev("CreateDistribution")));
        assert!(m(w("a*b*c"), ev("aXXbYbc")));
        assert!(!m(w("a*b*c"), ev("aXXbYbcd")));
        assert!(m(w("a\\*b"), ev("a*b")));
        assert!(!m(w("a\\*b"), ev("aXb")));
        assert!(m(w("Exact"), ev("Exact")));
        let but = json!({"detail": {"eventName": [{"anything-but": {"wildcard": ["GetFunction", "GetFunction2*"]}}]}});
        assert!(!m(but.clone(), ev("GetFunction20150331v2")));
        assert!(!m(but.clone(), ev("GetFunction")));
        assert!(m(but, ev("GetFunctionConfiguration20150331v2")));
    }

    #[test]
    fn documented_semantics() {
        let ev = json!({"detail-type": "AWS API Call via CloudTrail", "detail": {
            "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
            "errorCode": "AccessDenied", "n": 5,
            "userIdentity": {"sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/r"}}},
            "resources": [{"type": "AWS::S3::Object", "ARN": "a"}, {"type": "AWS::S3::Bucket", "ARN": "b"}]}});
        assert!(m(
            json!({"detail": {"eventName": ["CreateUser", "X"]}}),
            ev.clone()
        ));
        assert!(!m(
            json!({"detail": {"eventName": ["createuser"]}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"eventName": [{"equals-ignore-case": "createuser"}]}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"errorCode": [{"prefix": {"equals-ignore-case": "accessdenied"}}]}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"errorCode": [{"suffix": "Denied"}]}}),
            ev.clone()
        ));
        assert!(!m(
            json!({"detail": {"eventName": [{"anything-but": ["CreateUser"]}]}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"eventName": [{"anything-but": "DeleteUser"}]}}),
            ev.clone()
        ));
        assert!(
            !m(
                json!({"detail": {"nope": [{"anything-but": "x"}]}}),
                ev.clone()
            ),
            "anything-but never matches absence"
        );
        assert!(m(
            json!({"detail": {"nope": [{"exists": false}]}}),
            ev.clone()
        ));
        assert!(!m(
            json!({"detail": {"errorCode": [{"exists": false}]}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"n": [{"numeric": [">", 4, "<=", 5]}]}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"$or": [{"eventName": ["A"]}, {"eventSource": ["iam.amazonaws.com"]}]}}),
            ev.clone()
        ));
        assert!(!m(
            json!({"detail": {"$or": [{"eventName": ["A"]}, {"eventSource": ["s3.amazonaws.com"]}]}}),
            ev.clone()
        ));
        // Arrays of objects: consistent within one element.
        assert!(m(
            json!({"detail": {"resources": {"type": ["AWS::S3::Object"], "ARN": ["a"]}}}),
            ev.clone()
        ));
        assert!(!m(
            json!({"detail": {"resources": {"type": ["AWS::S3::Object"], "ARN": ["b"]}}}),
            ev.clone()
        ));
        assert!(m(
            json!({"detail": {"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": ["arn:aws:iam::1:role/r"]}}}}}),
            ev.clone()
        ));
        assert!(matches(&json!({"detail": {"eventName": []}}), &ev).is_err());
        assert!(matches(&json!({"detail": {"eventName": "x"}}), &ev).is_err());
        assert!(matches(&json!({"detail": {"$or": [{"a": ["b"]}]}}), &ev).is_err());
    }
}

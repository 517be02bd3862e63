//! `iam:PassRole` inferred from the calls that pass a role: CloudTrail never
//! logs PassRole itself, but a successful `CreateFunction` (and every call of
//! `passes_role` in the rules) names the role it passed in its request
//! parameters. Each such record counts as a use of `iam:PassRole` on that
//! role, with the service it was passed to kept for `iam:PassedToService`.
//!
//! Reads only the request parameters of calls the mapping rules list; the
//! fold of the call itself is done before, by `fold`.

use super::activity::{Activity, Occurrence, Outcome};
use super::attribution::Actor;
use super::mapping::{EventMapper, Holds, RoleParam};
use serde_json::Value;

/// The roles a call passed, as ARNs (instance profiles as their own ARNs,
/// resolved to roles by the audit), with the service; `unknown` when the
/// call may have passed a role it does not name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Passed {
    pub roles: Vec<(String, Option<String>)>,
    pub unknown: bool,
}

/// Every value at `path` (dotted; `[]` walks each element of a list).
fn values_at<'v>(v: &'v Value, path: &str, out: &mut Vec<&'v Value>) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (key, each) = match head.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (head, false),
    };
    let Some(next) = v.get(key) else { return };
    let items: Vec<&Value> = match (each, next) {
        (true, Value::Array(a)) => a.iter().collect(),
        (true, _) => return,
        (false, n) => vec![n],
    };
    for item in items {
        match rest {
            Some(r) => values_at(item, r, out),
            None => out.push(item),
        }
    }
}

/// The roles passed by a call, from its request parameters' JSON text.
/// `account` completes role and profile names into ARNs.
pub fn passed(params: &[RoleParam], request: &str, account: &str) -> Passed {
    let mut out = Passed::default();
    let Ok(req) = serde_json::from_str::<Value>(request) else {
        return out;
    };
    for p in params {
        let mut found = Vec::new();
        values_at(&req, &p.path, &mut found);
        for v in found {
            if p.holds == Holds::Unknown {
                out.unknown |= !v.is_null();
                continue;
            }
            let Some(text) = v.as_str().map(str::trim).filter(|t| !t.is_empty()) else {
                continue;
            };
            let arn = match p.holds {
                Holds::RoleArn | Holds::InstanceProfileArn if text.starts_with("arn:") => {
                    text.to_string()
                }
                Holds::RoleArnOrName if text.starts_with("arn:") => text.to_string(),
                Holds::RoleName | Holds::RoleArnOrName if !account.is_empty() => {
                    format!("arn:aws:iam::{account}:role/{text}")
                }
                Holds::InstanceProfileName if !account.is_empty() => {
                    format!("arn:aws:iam::{account}:instance-profile/{text}")
                }
                // A value that is not what the table says (redacted, or
                // another form): a role was passed, which one is not known.
                _ => {
                    out.unknown = true;
                    continue;
                }
            };
            let service = p.passed_to.clone();
            if !out.roles.iter().any(|(r, s)| *r == arn && *s == service) {
                out.roles.push((arn, service));
            }
        }
    }
    out
}

/// Adds what a successful call passed to its caller's activity: a use of
/// `iam:PassRole` on each role (the role ARNs as its resources), and the
/// roles with their services and the call. `call` is `prefix:Name`.
pub fn fold_passed(
    acc: &mut Activity,
    mapper: &EventMapper,
    actor: &Actor<'_>,
    passed: Passed,
    call: &str,
    occ: Occurrence,
) {
    let Some(id) = mapper.pass_role() else { return };
    let Some(a) = acc.actors.get_mut(actor.arn.as_ref()) else {
        return;
    };
    if passed.unknown {
        a.passes_unknown += occ.count;
    }
    if passed.roles.is_empty() {
        return;
    }
    let roles: Vec<String> = passed.roles.iter().map(|(r, _)| r.clone()).collect();
    a.actions
        .stats_mut((id, Outcome::Success))
        .add(occ, &roles, actor.invoked_by.as_deref(), None);
    for (role, service) in passed.roles {
        let e = a.passed_roles.entry(role).or_default();
        e.count += occ.count;
        e.services.extend(service);
        if !e.calls.contains(call) {
            e.calls.insert(call.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(path: &str, holds: Holds) -> RoleParam {
        RoleParam {
            path: path.into(),
            holds,
            passed_to: Some("svc.amazonaws.com".into()),
        }
    }

    #[test]
    fn roles_are_read_at_their_paths_and_completed_into_arns() {
        let p = [param("role", Holds::RoleArn)];
        let got = passed(&p, r#"{"role":"arn:aws:iam::1:role/r","x":1}"#, "1");
        assert_eq!(
            got.roles,
            [(
                "arn:aws:iam::1:role/r".to_string(),
                Some("svc.amazonaws.com".to_string())
            )]
        );
        assert!(!got.unknown);
        let p = [param("a[].b.roleArn", Holds::RoleArnOrName)];
        let got = passed(&p, r#"{"a":[{"b":{"roleArn":"n1"}},{"b":{}}]}"#, "2");
        assert_eq!(got.roles[0].0, "arn:aws:iam::2:role/n1");
        let p = [param("iamInstanceProfile.name", Holds::InstanceProfileName)];
        let got = passed(&p, r#"{"iamInstanceProfile":{"name":"web"}}"#, "3");
        assert_eq!(got.roles[0].0, "arn:aws:iam::3:instance-profile/web");
        // Absent: nothing passed. Redacted: passed, but which is unknown.
        assert_eq!(passed(&p, r#"{"x":1}"#, "3"), Passed::default());
        let p = [param("role", Holds::RoleArn)];
        assert!(passed(&p, r#"{"role":"HIDDEN_DUE_TO_SECURITY_REASONS"}"#, "1").unknown);
        let p = [param("launchTemplate", Holds::Unknown)];
        assert!(passed(&p, r#"{"launchTemplate":{"launchTemplateId":"lt-1"}}"#, "1").unknown);
        assert!(!passed(&p, r#"{}"#, "1").unknown);
        assert_eq!(passed(&p, "not json", "1"), Passed::default());
    }
}

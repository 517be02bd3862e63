//! Wildcard grouping of action lists, for policies over IAM's size limits.
//!
//! A group of actions becomes one wildcard (`s3:Get*`, then `s3:*`) only when
//! the wildcard, expanded against the catalog, adds no action in a risk
//! category and none of the `forbidden` ones (actions only ever refused).

use crate::catalog::{ActionSet, Catalog};
use crate::rules::risk::Risk;
use std::collections::BTreeMap;

/// How coarse a wildcard may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `service:Verb*`, the verb being the first word of the action name.
    Verb,
    /// `service:*`.
    Service,
}

/// The first camel-case word of an action name: `Get` of `GetObjectAcl`.
pub fn verb(name: &str) -> &str {
    let end = name
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(name.len(), |(i, _)| i);
    &name[..end]
}

/// Replaces groups of `actions` (names or patterns) by wildcards where safe.
/// The result is sorted and matches every input action.
pub fn group_actions(
    cat: &Catalog,
    risk: &Risk,
    forbidden: &ActionSet,
    actions: &[String],
    level: Level,
) -> Vec<String> {
    let mut groups: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for a in actions {
        let Some((svc, name)) = a.split_once(':') else {
            groups.entry(a.clone()).or_default().push(a);
            continue;
        };
        let key = match level {
            Level::Verb if !name.starts_with('*') => format!("{svc}:{}*", verb(name)),
            _ => format!("{svc}:*"),
        };
        groups.entry(key).or_default().push(a);
    }
    let mut out = Vec::new();
    for (pattern, members) in groups {
        if members.len() < 2 || !safe_wildcard(cat, risk, forbidden, &pattern, &members) {
            out.extend(members.into_iter().cloned());
        } else {
            out.push(pattern);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn safe_wildcard(
    cat: &Catalog,
    risk: &Risk,
    forbidden: &ActionSet,
    pattern: &str,
    members: &[&String],
) -> bool {
    let mut extra = cat.expand(pattern);
    if extra.is_empty() {
        return false;
    }
    for m in members {
        extra.subtract(&cat.expand(m));
    }
    let safe = extra
        .iter()
        .all(|id| risk.category(id).is_none() && !forbidden.contains(id));
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn verbs() {
        assert_eq!(verb("GetObjectAcl"), "Get");
        assert_eq!(verb("DescribeInstances"), "Describe");
        assert_eq!(verb("Decrypt"), "Decrypt");
    }

    #[test]
    fn harmless_reads_group_and_no_wildcard_adds_a_risky_action() {
        let cat = Catalog::embedded();
        let risk = Risk::embedded(cat).unwrap();
        let none = ActionSet::empty(cat);
        let input = s(&[
            "ec2:DescribeInstances",
            "ec2:DescribeVpcs",
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        ]);
        let got = group_actions(cat, &risk, &none, &input, Level::Verb);
        assert!(got.contains(&"ec2:Describe*".to_string()), "{got:?}");
        let members = cat.expand_all(&input).unwrap();
        for p in &got {
            for id in cat.expand(p).iter().filter(|id| !members.contains(*id)) {
                assert!(
                    risk.category(id).is_none(),
                    "`{p}` adds risky `{}`",
                    cat.full_name(id)
                );
            }
        }
    }

    #[test]
    fn a_wildcard_over_a_risky_unlisted_action_is_refused() {
        let cat = Catalog::embedded();
        let risk = Risk::embedded(cat).unwrap();
        let none = ActionSet::empty(cat);
        // iam:Create* would add iam:CreateAccessKey (credential minting).
        let input = s(&["iam:CreateGroup", "iam:CreateInstanceProfile"]);
        assert_eq!(group_actions(cat, &risk, &none, &input, Level::Verb), input);
        assert_eq!(
            group_actions(cat, &risk, &none, &input, Level::Service),
            input
        );
    }

    #[test]
    fn forbidden_actions_block_a_wildcard() {
        let cat = Catalog::embedded();
        let risk = Risk::embedded(cat).unwrap();
        let input = s(&["ec2:DescribeInstances", "ec2:DescribeVpcs"]);
        let mut forbidden = ActionSet::empty(cat);
        forbidden.insert(cat.lookup("ec2:DescribeSubnets").unwrap());
        assert_eq!(
            group_actions(cat, &risk, &forbidden, &input, Level::Verb),
            input
        );
    }
}

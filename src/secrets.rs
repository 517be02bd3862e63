//! The secrets view: for every secret, SecureString parameter and KMS key
//! seen in policies or logs, who can read it, who did, and who was refused.
//! Only identifiers are handled: no secret value is ever read.

use crate::audit::Audit;
use crate::catalog::{wildcard_match_case_sensitive, ActionId};
use crate::policy::arn_match::patterns_intersect;
use std::collections::BTreeMap;

/// What kind of secret material a resource is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretKind {
    Secret,
    Parameter,
    Key,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Secret => "secret",
            SecretKind::Parameter => "parameter",
            SecretKind::Key => "kms-key",
        }
    }

    fn of(arn: &str) -> Option<SecretKind> {
        if arn.contains(":secretsmanager:") && arn.contains(":secret:") {
            Some(SecretKind::Secret)
        } else if arn.contains(":ssm:") && arn.contains(":parameter/") {
            Some(SecretKind::Parameter)
        } else if arn.contains(":kms:") && (arn.contains(":key/") || arn.contains(":alias/")) {
            Some(SecretKind::Key)
        } else {
            None
        }
    }

    /// The actions that read this kind of material.
    pub fn read_actions(self) -> &'static [&'static str] {
        match self {
            SecretKind::Secret => &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:BatchGetSecretValue",
            ],
            SecretKind::Parameter => &[
                "ssm:GetParameter",
                "ssm:GetParameters",
                "ssm:GetParametersByPath",
                "ssm:GetParameterHistory",
            ],
            SecretKind::Key => &["kms:Decrypt"],
        }
    }
}

/// Secrets Manager appends `-` and six random characters to a secret's name
/// in its ARN; a call by name has none. Both name the same secret.
pub fn canonical(arn: &str) -> String {
    if SecretKind::of(arn) == Some(SecretKind::Secret) && !arn.contains('*') {
        if let Some((head, tail)) = arn.rsplit_once('-') {
            if tail.len() == 6
                && tail.chars().all(|c| c.is_ascii_alphanumeric())
                && head.contains(":secret:")
            {
                return head.to_string();
            }
        }
    }
    arn.to_string()
}

/// A principal that may read a resource, and through which grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    pub principal: String,
    pub name: String,
    pub kind: &'static str,
    pub action: String,
    pub granted_on: String,
    pub used: bool,
}

/// Evidence of reads or refused reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub principal: String,
    pub name: String,
    pub action: String,
    pub count: u64,
    pub last_seen: i64,
    pub via: Vec<String>,
}

/// One secret, parameter, key or policy pattern over them.
#[derive(Clone, Debug, Default)]
pub struct SecretEntry {
    pub resource: String,
    pub kind: Option<SecretKind>,
    /// Seen as a pattern in a policy (not a concrete resource).
    pub pattern: bool,
    /// The spellings seen (name-only and full ARNs, policy patterns).
    pub aliases: Vec<String>,
    pub readers: Vec<Reader>,
    pub reads: Vec<Access>,
    pub denied: Vec<Access>,
}

/// The whole view, most-read-by first.
#[derive(Clone, Debug, Default)]
pub struct SecretsView {
    pub entries: Vec<SecretEntry>,
}

fn matches(pattern: &str, entry: &SecretEntry) -> bool {
    entry.aliases.iter().any(|a| {
        if entry.pattern {
            patterns_intersect(pattern, a)
        } else {
            wildcard_match_case_sensitive(pattern, a)
        }
    })
}

/// Builds the view from an audit.
pub fn build(audit: &Audit) -> SecretsView {
    let cat = audit.catalog;
    let ids = |k: SecretKind| -> Vec<ActionId> {
        k.read_actions()
            .iter()
            .filter_map(|a| cat.lookup(a))
            .collect()
    };
    let mut entries: BTreeMap<String, SecretEntry> = BTreeMap::new();
    let mut add = |raw: &str, pattern: bool| {
        let Some(kind) = SecretKind::of(raw) else {
            return;
        };
        let key = canonical(raw);
        let e = entries.entry(key.clone()).or_insert_with(|| SecretEntry {
            resource: key,
            kind: Some(kind),
            pattern,
            ..Default::default()
        });
        if !e.aliases.iter().any(|a| a == raw) {
            e.aliases.push(raw.to_string());
        }
    };
    // Resources named in policies and in logs.
    for ap in &audit.principals {
        let a = &ap.verdicts;
        for kind in [SecretKind::Secret, SecretKind::Parameter, SecretKind::Key] {
            for id in ids(kind) {
                if a.grants.granted.contains(id) {
                    for r in crate::verdict::granted_resources(cat, &a.principal, &a.grants, id) {
                        if r != "*" {
                            add(&r, r.contains('*') || r.contains('?'));
                        }
                    }
                }
                for u in a.used.iter().filter(|u| u.action == id) {
                    for r in u.stats.resources.iter() {
                        add(r, false);
                    }
                }
                for d in a.denied.iter().filter(|d| d.action == id) {
                    for r in d.stats.resources.iter() {
                        add(r, false);
                    }
                }
            }
        }
    }
    for e in entries.values_mut() {
        let Some(kind) = e.kind else { continue };
        let e_ref = e.clone();
        for ap in &audit.principals {
            let a = &ap.verdicts;
            for id in ids(kind) {
                let name = cat.full_name(id);
                if a.grants.granted.contains(id) {
                    let res = crate::verdict::granted_resources(cat, &a.principal, &a.grants, id);
                    if let Some(g) = res
                        .iter()
                        .find(|g| g.starts_with("* except") || matches(g, &e_ref))
                    {
                        e.readers.push(Reader {
                            principal: a.principal.arn.clone(),
                            name: a.principal.name.clone(),
                            kind: ap.kind.as_str(),
                            action: name.clone(),
                            granted_on: g.clone(),
                            used: false,
                        });
                    }
                }
                let hit = |rs: &crate::usage::ResourceSample| {
                    rs.iter().any(|r| {
                        e_ref.aliases.iter().any(|a| a == r) || canonical(r) == e_ref.resource
                    })
                };
                let access = |stats: &crate::usage::ActionStats, via: bool| Access {
                    principal: a.principal.arn.clone(),
                    name: a.principal.name.clone(),
                    action: name.clone(),
                    count: stats.count,
                    last_seen: stats.last,
                    via: if via {
                        stats.invoked_by.keys().map(String::from).collect()
                    } else {
                        Vec::new()
                    },
                };
                for u in a
                    .used
                    .iter()
                    .filter(|u| u.action == id && hit(&u.stats.resources))
                {
                    e.reads.push(access(&u.stats, true));
                }
                for d in a
                    .denied
                    .iter()
                    .filter(|d| d.action == id && hit(&d.stats.resources))
                {
                    e.denied.push(access(&d.stats, false));
                }
            }
        }
        for r in e.readers.iter_mut() {
            r.used = e
                .reads
                .iter()
                .any(|x| x.principal == r.principal && x.action == r.action);
        }
    }
    let mut list: Vec<SecretEntry> = entries.into_values().collect();
    list.sort_by(|a, b| {
        (
            a.kind,
            a.pattern,
            std::cmp::Reverse(a.readers.len()),
            &a.resource,
        )
            .cmp(&(
                b.kind,
                b.pattern,
                std::cmp::Reverse(b.readers.len()),
                &b.resource,
            ))
    });
    SecretsView { entries: list }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_strips_the_random_suffix() {
        assert_eq!(
            canonical("arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbCdEf"),
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db"
        );
        assert_eq!(
            canonical("arn:aws:secretsmanager:us-east-1:1:secret:prod/db"),
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db"
        );
        assert_eq!(
            canonical("arn:aws:ssm:us-east-1:1:parameter/a-bcdefg"),
            "arn:aws:ssm:us-east-1:1:parameter/a-bcdefg"
        );
    }
}

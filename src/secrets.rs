//! The secrets view: for every secret, SecureString parameter and KMS key
//! seen in policies, logs or `resource-policies.json`, who can read it, who
//! did, and who was refused. Only identifiers are handled: no secret value
//! is ever read.
//!
//! For a concrete resource the readers come from `who_can` (identity
//! policies, the secret's policy, the key's policy for `kms:Decrypt`, SCPs
//! and RCPs): principals of other accounts a secret's or key's policy lets
//! in are named, and a key policy that trusts only the principals it names
//! (IAM locked out) is noticed. For a policy pattern (`secret:prod/*`), the
//! principals whose identity policies grant reads on it.

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
    /// human / npe / agent, or `external` for principals outside the snapshot.
    pub kind: &'static str,
    pub action: String,
    pub granted_on: String,
    /// Read successfully (the verdict on this resource is `used`).
    pub used: bool,
    /// `user`, `role`, `account`, `service`, `federated`, `anyone`.
    pub principal_type: &'static str,
    pub account: Option<String>,
    /// `identity policy`, `resource policy`, `identity and resource policy`.
    pub via: &'static str,
    /// `allowed` or `conditional`.
    pub decision: &'static str,
    pub conditions: Vec<String>,
    /// The statements that decide (identity, secret policy, SCP, RCP).
    pub statements: Vec<String>,
    /// `kms:Decrypt` on the resource's customer managed key: `allowed`,
    /// `conditional`, or `None` when there is no such key.
    pub key: Option<&'static str>,
    /// The verdict of (principal, action, this resource)
    /// ([`crate::verdict::PrincipalVerdicts::verdict_on`]); for a policy
    /// pattern, of (principal, action); `None` for an identity outside the
    /// snapshot.
    pub verdict: Option<&'static str>,
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
    /// Refusals: what refused it, when the snapshot explains it (an SCP or
    /// RCP by name and id, a key policy that does not let the reader in).
    pub refused_by: Option<String>,
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
    /// `resource-policy`, `none`, `not-in-snapshot`, ... (concrete resources).
    pub policy: Option<&'static str>,
    pub kms_key: Option<String>,
    /// Keys: the key policy does not trust the account, so IAM policies
    /// cannot grant its use; only the principals it names can.
    pub iam_locked_out: bool,
    /// Accounts other than the resource's whose principals can read it.
    pub other_accounts: Vec<String>,
    pub notes: Vec<String>,
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
                // Refused and failed reads name secrets too (a secret not
                // found still had its read authorized).
                for d in a.denied.iter().chain(&a.failed).filter(|d| d.action == id) {
                    for r in d.stats.resources.iter() {
                        add(r, false);
                    }
                }
            }
        }
    }
    // Every secret, parameter and key the resource policies list.
    if let Some(res) = audit.resources.as_deref() {
        for r in &res.list {
            let kind = match r.kind {
                crate::model::resource::ResourceKind::Secret => SecretKind::Secret,
                crate::model::resource::ResourceKind::Parameter => SecretKind::Parameter,
                crate::model::resource::ResourceKind::KmsKey => SecretKind::Key,
                _ => continue,
            };
            let key = canonical(&r.arn);
            let e = entries.entry(key.clone()).or_insert_with(|| SecretEntry {
                resource: key,
                kind: Some(kind),
                ..Default::default()
            });
            e.pattern = false;
            if !e.aliases.iter().any(|a| a == &r.arn) {
                e.aliases.push(r.arn.clone());
            }
        }
    }
    for e in entries.values_mut() {
        let Some(kind) = e.kind else { continue };
        if !e.pattern {
            from_engine(audit, e, kind);
            continue;
        }
        let e_ref = e.clone();
        for ap in &audit.principals {
            let a = &ap.verdicts;
            for id in ids(kind) {
                let name = cat.full_name(id);
                // The verdict on this resource, decided by the verdict stage:
                // the strongest over its spellings (a secret read by name and
                // by ARN is one secret).
                let verdict = resource_verdict(cat, a, id, &e_ref);
                // Its own policies refuse this resource: not a reader.
                let refused_here = match &verdict {
                    crate::verdict::Verdict::NotGranted => true,
                    crate::verdict::Verdict::Denied(by) => by.is_own(),
                    _ => false,
                };
                if a.grants.granted.contains(id) && !refused_here {
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
                            used: verdict == crate::verdict::Verdict::Used,
                            verdict: Some(verdict.as_str()),
                            principal_type: a.principal.principal_type.as_str(),
                            account: crate::model::resource::arn_account(&a.principal.arn)
                                .map(String::from),
                            via: "identity policy",
                            decision: if a.grants.conditional.contains(id) {
                                "conditional"
                            } else {
                                "allowed"
                            },
                            conditions: Vec::new(),
                            statements: Vec::new(),
                            key: None,
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
                    refused_by: None,
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

/// The verdict of (principal, action, entry), decided by the verdict stage:
/// on a concrete resource, the strongest over its spellings (a secret read
/// by name and by ARN is one secret); on a policy pattern, per action.
fn resource_verdict(
    cat: &crate::catalog::Catalog,
    v: &crate::verdict::PrincipalVerdicts,
    id: ActionId,
    e: &SecretEntry,
) -> crate::verdict::Verdict {
    if e.pattern {
        return v.verdict(id);
    }
    e.aliases
        .iter()
        .map(|r| v.verdict_on(cat, id, r))
        .min_by_key(|x| {
            crate::verdict::Verdict::NAMES
                .iter()
                .position(|n| *n == x.as_str())
        })
        .unwrap_or(crate::verdict::Verdict::NotGranted)
}

/// A concrete secret, parameter or key, through `who_can`.
fn from_engine(audit: &Audit, e: &mut SecretEntry, kind: SecretKind) {
    let cat = audit.catalog;
    let arn = e
        .aliases
        .iter()
        .find(|a| {
            a.starts_with("arn:")
                && audit
                    .resources
                    .as_deref()
                    .is_some_and(|r| r.find(a).is_some())
        })
        .or_else(|| {
            e.aliases
                .iter()
                .filter(|a| a.starts_with("arn:"))
                .max_by_key(|a| a.len())
        })
        .cloned()
        .unwrap_or_else(|| e.resource.clone());
    let ids: Vec<ActionId> = kind
        .read_actions()
        .iter()
        .filter_map(|a| cat.lookup(a))
        .collect();
    let Ok(w) = crate::who_can::build(audit, &arn, &ids) else {
        return;
    };
    e.policy = Some(w.policy.as_str());
    e.kms_key = w.kms_key.clone();
    e.notes = w.notes.clone();
    e.iam_locked_out = w
        .notes
        .iter()
        .any(|n| n.starts_with("the key policy does not trust account"));
    let own = w.resource_account.clone();
    let by_arn: std::collections::HashMap<&str, &crate::audit::AuditedPrincipal> = audit
        .principals
        .iter()
        .map(|p| (p.verdicts.principal.arn.as_str(), p))
        .collect();
    for p in &w.principals {
        for a in &p.actions {
            // Through its own policies: the pattern they grant it on.
            let granted_on = by_arn
                .get(p.principal.as_str())
                .filter(|_| a.route != "resource policy")
                .and_then(|ap| {
                    let id = cat.lookup(&a.action)?;
                    let v = &ap.verdicts;
                    crate::verdict::granted_resources(cat, &v.principal, &v.grants, id)
                        .into_iter()
                        .find(|g| {
                            g.starts_with("* except") || wildcard_match_case_sensitive(g, &arn)
                        })
                })
                .unwrap_or_else(|| a.route.to_string());
            // A principal of the snapshot: its verdict on this resource;
            // another identity has none (the trails of its own account are
            // not read), only the calls seen here.
            let verdict = match (by_arn.get(p.principal.as_str()), cat.lookup(&a.action)) {
                (Some(ap), Some(id)) => Some(resource_verdict(cat, &ap.verdicts, id, e)),
                _ => None,
            };
            let used = match &verdict {
                Some(v) => *v == crate::verdict::Verdict::Used,
                None => p.did.iter().any(|c| c.action == a.action),
            };
            e.readers.push(Reader {
                principal: p.principal.clone(),
                name: p.name.clone(),
                kind: p.kind.unwrap_or("external"),
                action: a.action.clone(),
                granted_on,
                used,
                verdict: verdict.map(|v| v.as_str()),
                principal_type: p.caller_kind.as_str(),
                account: p.account.clone(),
                via: a.route,
                decision: a.allowed.as_str(),
                conditions: a
                    .conditions
                    .iter()
                    .chain(a.notes.iter())
                    .chain(a.key.iter().flat_map(|k| k.notes.iter()))
                    .cloned()
                    .collect(),
                statements: a
                    .statements
                    .iter()
                    .chain(a.key.iter().flat_map(|k| k.statements.iter()))
                    .cloned()
                    .collect(),
                key: a.key.as_ref().and_then(|k| k.allowed).map(|x| x.as_str()),
            });
            if let Some(r) = e.readers.last_mut() {
                let mut seen = std::collections::HashSet::new();
                r.conditions.retain(|c| seen.insert(c.clone()));
            }
            if let (Some(acct), false) = (&p.account, p.in_snapshot) {
                if Some(acct) != own.as_ref() && !e.other_accounts.contains(acct) {
                    e.other_accounts.push(acct.clone());
                }
            }
        }
        let via = |c: &crate::who_can::Call| Access {
            principal: p.principal.clone(),
            name: p.name.clone(),
            action: c.action.clone(),
            count: c.count,
            last_seen: c.last,
            via: c.invoked_by.clone(),
            refused_by: None,
        };
        e.reads.extend(p.did.iter().map(via));
        for c in &p.refused {
            let mut acc = via(c);
            acc.via.clear();
            acc.refused_by = refusal(audit, by_arn.get(p.principal.as_str()).copied(), c, &arn);
            e.denied.push(acc);
        }
    }
    e.other_accounts.sort();
}

/// What refused a read, when the snapshot explains it beyond the reader's
/// own policies: an SCP or RCP, or a key policy that does not let it in.
fn refusal(
    audit: &Audit,
    p: Option<&crate::audit::AuditedPrincipal>,
    c: &crate::who_can::Call,
    arn: &str,
) -> Option<String> {
    let p = p?;
    let cat = audit.catalog;
    let id = cat.lookup(&c.action)?;
    let v = &p.verdicts;
    if let Some(org) = audit.organization.as_deref() {
        if let Some(r) = crate::verdict::outside::org_refusal(
            cat,
            org,
            &v.principal,
            &v.grants,
            id,
            &[arn.to_string()],
        ) {
            if !matches!(r, crate::verdict::outside::OrgRefusal::MayRefuse(_)) {
                return Some(r.describe());
            }
        }
    }
    if !v.grants.granted.contains(id) {
        return Some("not granted by its own policies".into());
    }
    None
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

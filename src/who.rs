//! `leastpriv who`: one identity across the audited account(s): a person
//! (an Identity Center user by user name or e-mail, an IAM user, a SAML or
//! OIDC subject), a role, or an agent; what it did, per account, role and
//! action; what it was refused; what it can do (the roles its assignments
//! and trusts reach, with their grants); and the session chains behind it.
//!
//! Built from an [`Audit`]: its verdicts (grants after SCPs), its trust
//! graph, Identity Center and the session chains read from the logs. It
//! renders nothing.

use crate::audit::Audit;
use crate::catalog::ActionId;
use crate::model::identity_center::{permission_set_of_role, IcUser};
use crate::model::PrincipalType;
use crate::usage::chains::{Chain, Origin, SessionUse};
use crate::usage::Outcome;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Why the question has no answer.
#[derive(Debug, thiserror::Error)]
pub enum WhoError {
    #[error("no identity `{query}` in the snapshot: not an Identity Center user name or e-mail{ic}, an IAM user or role (name or ARN), nor the first identity or source identity of a session in the logs")]
    NotFound { query: String, ic: &'static str },
}

/// What the identity is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    IdentityCenterUser(IcUser),
    IamUser {
        arns: Vec<String>,
    },
    /// One role name may be deployed in several accounts: all of them.
    Role {
        arns: Vec<String>,
        agent: bool,
    },
    /// The first identity of sessions (a SAML or OIDC subject, a workload)
    /// or the source identity they carried.
    Subject {
        kind: &'static str,
        name: String,
    },
}

impl Identity {
    pub fn kind(&self) -> &'static str {
        match self {
            Identity::IdentityCenterUser(_) => "identity-center-user",
            Identity::IamUser { .. } => "iam-user",
            Identity::Role { agent: true, .. } => "agent",
            Identity::Role { .. } => "role",
            Identity::Subject { kind, .. } => kind,
        }
    }
}

/// Calls of one action through one role (or as one user) in one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Did {
    pub account: String,
    /// The role or user ARN the calls were made as.
    pub via: String,
    pub action: ActionId,
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

/// A role (or the user itself) the identity reaches, and what it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    pub account: String,
    /// `None`: the assignment's role is not in the snapshot (not
    /// provisioned yet, or the account was not pulled).
    pub principal: Option<String>,
    /// How: `itself`, `permission set NAME`, `permission set NAME through
    /// group G`, `assumes from ARN` (trust).
    pub via: String,
    pub granted: usize,
    /// Granted actions by service prefix, with counts.
    pub services: BTreeMap<String, usize>,
}

/// One session behind the identity.
#[derive(Clone, Debug)]
pub struct SessionView {
    pub key: String,
    pub role: String,
    pub session: String,
    pub records: u64,
    pub first: i64,
    pub last: i64,
    pub chain: Chain,
}

/// The answer.
#[derive(Clone, Debug)]
pub struct Who {
    pub query: String,
    pub identity: Identity,
    pub did: Vec<Did>,
    pub refused: Vec<Did>,
    pub can: Vec<Reached>,
    /// Distinct actions over everything reached.
    pub can_total: usize,
    pub sessions: Vec<SessionView>,
    /// Agents and roles: the people or end users behind their sessions
    /// (first identities and source identities), with call counts.
    pub served: BTreeMap<String, u64>,
    pub window: (Option<i64>, Option<i64>),
    pub notes: Vec<String>,
}

fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or_default().to_string()
}

fn add(rows: &mut BTreeMap<(String, String, ActionId), (u64, i64, i64)>, d: Did) {
    let e = rows
        .entry((d.account, d.via, d.action))
        .or_insert((0, i64::MAX, i64::MIN));
    e.0 += d.count;
    e.1 = e.1.min(d.first);
    e.2 = e.2.max(d.last);
}

fn rows(m: BTreeMap<(String, String, ActionId), (u64, i64, i64)>) -> Vec<Did> {
    m.into_iter()
        .map(|((account, via, action), (count, first, last))| Did {
            account,
            via,
            action,
            count,
            first,
            last,
        })
        .collect()
}

/// Whether the session's chain belongs to the identity.
fn session_matches(id: &Identity, s: &SessionUse, chain: &Chain) -> bool {
    let claimed = |names: &[&str]| {
        chain
            .source_identity
            .as_deref()
            .or(s.source_identity.as_deref())
            .is_some_and(|si| names.iter().any(|n| n.eq_ignore_ascii_case(si)))
    };
    match id {
        Identity::IdentityCenterUser(u) => {
            let by_origin = match &chain.origin {
                Origin::IdentityCenterUser {
                    user_id, user_name, ..
                } => {
                    user_id.as_deref() == Some(u.id.as_str())
                        || user_name.eq_ignore_ascii_case(&u.user_name)
                        || u.emails.iter().any(|e| e.eq_ignore_ascii_case(user_name))
                }
                _ => false,
            };
            let mut names: Vec<&str> = vec![&u.user_name];
            names.extend(u.emails.iter().map(String::as_str));
            by_origin || (chain.origin == Origin::Unknown && claimed(&names))
        }
        Identity::IamUser { arns } => {
            matches!(&chain.origin, Origin::IamUser(a) if arns.contains(a))
        }
        Identity::Role { .. } => false,
        Identity::Subject { name, .. } => {
            chain.origin.name() == *name
                || matches!(&chain.origin, Origin::Saml { subject, .. } | Origin::WebIdentity { subject, .. } if subject == name)
                || claimed(&[name])
        }
    }
}

/// Answers `who` for `query`.
pub fn who(audit: &Audit, query: &str) -> Result<Who, WhoError> {
    let cat = audit.catalog;
    let ic = audit.identity_center.as_deref();
    let resolved = audit.chains.resolve_all(ic);
    let q = query.trim();
    let by_arn_or_name = |p: &&crate::audit::AuditedPrincipal| {
        let pr = &p.verdicts.principal;
        pr.arn == q || pr.name == q
    };
    let identity = if let Some(u) = ic.and_then(|ic| ic.find_user(q)) {
        Identity::IdentityCenterUser(u.clone())
    } else {
        let matched: Vec<&crate::audit::AuditedPrincipal> =
            audit.principals.iter().filter(by_arn_or_name).collect();
        let users: Vec<String> = matched
            .iter()
            .filter(|p| p.verdicts.principal.principal_type == PrincipalType::User)
            .map(|p| p.verdicts.principal.arn.clone())
            .collect();
        let roles: Vec<&&crate::audit::AuditedPrincipal> = matched
            .iter()
            .filter(|p| p.verdicts.principal.principal_type == PrincipalType::Role)
            .collect();
        if !users.is_empty() {
            Identity::IamUser { arns: users }
        } else if !roles.is_empty() {
            Identity::Role {
                agent: roles.iter().any(|p| p.kind == crate::model::Kind::Agent),
                arns: roles
                    .iter()
                    .map(|p| p.verdicts.principal.arn.clone())
                    .collect(),
            }
        } else if let Some((_, _, c)) = resolved.iter().find(|(_, s, c)| {
            c.origin.name() == q
                || matches!(&c.origin, Origin::Saml { subject, .. } | Origin::WebIdentity { subject, .. } if subject == q)
                || c.source_identity.as_deref().or(s.source_identity.as_deref()) == Some(q)
        }) {
            let kind = if c.origin.name() == q
                || matches!(&c.origin, Origin::Saml { subject, .. } | Origin::WebIdentity { subject, .. } if subject == q)
            {
                c.origin.kind()
            } else {
                "source-identity"
            };
            Identity::Subject {
                kind,
                name: q.to_string(),
            }
        } else {
            return Err(WhoError::NotFound {
                query: q.to_string(),
                ic: if ic.is_some() {
                    ""
                } else {
                    " (no identity-center.json was read)"
                },
            });
        }
    };

    let mut did = BTreeMap::new();
    let mut refused = BTreeMap::new();
    let mut sessions = Vec::new();
    let mut served: BTreeMap<String, u64> = BTreeMap::new();
    let mut notes = Vec::new();

    // Calls made as the identity itself: an IAM user's, or every session
    // of a role.
    let own: Vec<&str> = match &identity {
        Identity::IamUser { arns } | Identity::Role { arns, .. } => {
            arns.iter().map(String::as_str).collect()
        }
        _ => Vec::new(),
    };
    for p in audit
        .principals
        .iter()
        .filter(|p| own.contains(&p.verdicts.principal.arn.as_str()))
    {
        let v = &p.verdicts;
        let account = account_of(&v.principal.arn);
        for u in &v.used {
            add(
                &mut did,
                Did {
                    account: account.clone(),
                    via: v.principal.arn.clone(),
                    action: u.action,
                    count: u.stats.count,
                    first: u.stats.first,
                    last: u.stats.last,
                },
            );
        }
        for d in &v.denied {
            add(
                &mut refused,
                Did {
                    account: account.clone(),
                    via: v.principal.arn.clone(),
                    action: d.action,
                    count: d.stats.count,
                    first: d.stats.first,
                    last: d.stats.last,
                },
            );
        }
        if let Some(a) = &v.activity {
            for (si, n) in &a.source_identities {
                *served.entry(format!("source identity {si}")).or_default() += n;
            }
            // `onBehalfOf`: the Identity Center users the sessions acted for.
            for (p, n) in &a.identity_center_users {
                let id = p.rsplit('/').next().unwrap_or(p);
                let name = ic
                    .and_then(|ic| ic.user_by_id(id))
                    .map(|u| u.user_name.clone())
                    .unwrap_or_else(|| p.to_string());
                *served.entry(format!("on behalf of {name}")).or_default() += n;
            }
        }
    }

    // Identity Center's own records of the person (`IdentityCenterUser`:
    // the access portal, sign-in), kept apart from the principals.
    if let Identity::IdentityCenterUser(u) = &identity {
        let suffix = format!("/{}", u.id);
        for o in audit
            .others
            .iter()
            .filter(|o| o.arn.ends_with(&suffix) || o.arn.eq_ignore_ascii_case(&u.user_name))
        {
            let a = &o.activity;
            for ((action, outcome), st) in a.actions.iter() {
                let d = Did {
                    account: account_of(&o.arn),
                    via: o.arn.clone(),
                    action: *action,
                    count: st.count,
                    first: st.first,
                    last: st.last,
                };
                match outcome {
                    // Authorized (a call that failed after authorization,
                    // a dry run): the permission was exercised, as the
                    // verdict counts it.
                    Outcome::Success
                    | Outcome::Failed
                    | Outcome::FailedLikely
                    | Outcome::DryRun => add(&mut did, d),
                    Outcome::Denied => add(&mut refused, d),
                    Outcome::Error => {}
                }
            }
            let events: u64 = a.non_iam.values().sum();
            if events > 0 {
                notes.push(format!(
                    "{events} Identity Center event(s) of `{}` that are no IAM action (sign-in, access portal): {}",
                    o.arn,
                    a.non_iam.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
    for (key, s, chain) in resolved {
        let is_role_session = own.contains(&&*s.role);
        let mine = match &identity {
            Identity::Role { .. } => is_role_session,
            _ => session_matches(&identity, s, &chain),
        };
        if !mine {
            continue;
        }
        if is_role_session {
            *served
                .entry(format!("{} {}", chain.origin.kind(), chain.origin.name()))
                .or_default() += s.records;
        } else {
            // A person's or subject's calls are those of the sessions
            // behind it; a role's were counted from its verdicts above.
            let account = account_of(&s.role);
            for a in &s.actions {
                let d = Did {
                    account: account.clone(),
                    via: s.role.to_string(),
                    action: a.action,
                    count: a.count,
                    first: a.first,
                    last: a.last,
                };
                match a.outcome {
                    // Authorized (a call that failed after authorization,
                    // a dry run): the permission was exercised, as the
                    // verdict counts it.
                    Outcome::Success
                    | Outcome::Failed
                    | Outcome::FailedLikely
                    | Outcome::DryRun => add(&mut did, d),
                    Outcome::Denied => add(&mut refused, d),
                    Outcome::Error => {}
                }
            }
        }
        sessions.push(SessionView {
            key: key.to_string(),
            role: s.role.to_string(),
            session: s.session.to_string(),
            records: s.records,
            first: s.first,
            last: s.last,
            chain,
        });
    }
    if audit.chains.is_empty() && audit.stats.records > 0 {
        notes.push(
            "no role session was read from the logs (the activity came from the activity store, which keeps no sessions): \
             audit again with `--reread-logs` for the chains, or pull again with `--athena`, which writes each account's \
             `sessions.json`"
                .into(),
        );
    }

    // What it can do: its assignments (people) or itself, then the roles
    // their trust lets it assume, transitively.
    let mut can: Vec<Reached> = Vec::new();
    let mut start: Vec<(usize, String)> = Vec::new();
    let index_of = |arn: &str| {
        audit
            .principals
            .iter()
            .position(|p| p.verdicts.principal.arn == arn)
    };
    let reached_of = |i: usize, via: String| -> Reached {
        let v = &audit.principals[i].verdicts;
        let mut services: BTreeMap<String, usize> = BTreeMap::new();
        for id in v.grants.granted.iter() {
            let name = cat.full_name(id);
            let prefix = name.split(':').next().unwrap_or_default().to_string();
            *services.entry(prefix).or_default() += 1;
        }
        Reached {
            account: account_of(&v.principal.arn),
            principal: Some(v.principal.arn.clone()),
            via,
            granted: v.granted_count(),
            services,
        }
    };
    match (&identity, ic) {
        (Identity::IdentityCenterUser(u), Some(ic)) => {
            for r in ic.reach_of(u) {
                let via = match r.through_group {
                    None => format!("permission set {}", r.permission_set.name),
                    Some(g) => {
                        format!("permission set {} through group {g}", r.permission_set.name)
                    }
                };
                let role = audit.principals.iter().position(|p| {
                    let pr = &p.verdicts.principal;
                    account_of(&pr.arn) == r.account
                        && permission_set_of_role(&pr.name) == Some(r.permission_set.name.as_str())
                });
                match role {
                    Some(i) => {
                        can.push(reached_of(i, via));
                        start.push((i, audit.principals[i].verdicts.principal.arn.clone()));
                    }
                    None => can.push(Reached {
                        account: r.account.to_string(),
                        principal: None,
                        via: format!("{via} (its role is not in the snapshot of this account)"),
                        granted: 0,
                        services: BTreeMap::new(),
                    }),
                }
            }
        }
        (Identity::IdentityCenterUser(_), None) => {}
        (Identity::IamUser { arns } | Identity::Role { arns, .. }, _) => {
            for a in arns {
                if let Some(i) = index_of(a) {
                    can.push(reached_of(i, "itself".into()));
                    start.push((i, a.clone()));
                }
            }
        }
        (Identity::Subject { .. }, _) => {
            // The roles its sessions started from: what the subject's
            // trust reaches is at least those.
            let mut firsts = BTreeSet::new();
            for s in &sessions {
                if let Some(h) = s.chain.hops.first() {
                    firsts.insert(h.role.clone());
                }
            }
            for r in firsts {
                if let Some(i) = audit.principals.iter().position(|p| {
                    p.verdicts.principal.arn == r
                        || (account_of(&p.verdicts.principal.arn) == account_of(&r)
                            && Some(p.verdicts.principal.name.as_str()) == r.rsplit('/').next())
                }) {
                    can.push(reached_of(i, "its sessions start here".into()));
                    start.push((i, audit.principals[i].verdicts.principal.arn.clone()));
                }
            }
        }
    }
    // Trust: the graph is indexed like the audit's principals.
    let mut seen: BTreeSet<usize> = start.iter().map(|(i, _)| *i).collect();
    let mut queue: VecDeque<String> = start.into_iter().map(|(_, a)| a).collect();
    while let Some(from_arn) = queue.pop_front() {
        let Some(gi) = audit.trust.index_of(&from_arn) else {
            continue;
        };
        for e in audit.trust.assumable_by(gi) {
            let to_arn = &audit.trust.arns[e.to as usize];
            let Some(i) = index_of(to_arn) else { continue };
            if !seen.insert(i) {
                continue;
            }
            let cond = if e.certain { "" } else { " (under conditions)" };
            can.push(reached_of(i, format!("assumes from {from_arn}{cond}")));
            queue.push_back(to_arn.clone());
        }
    }
    let mut union: BTreeSet<ActionId> = BTreeSet::new();
    for r in &can {
        if let Some(i) = r.principal.as_deref().and_then(index_of) {
            union.extend(audit.principals[i].verdicts.grants.granted.iter());
        }
    }
    Ok(Who {
        query: q.to_string(),
        identity,
        did: rows(did),
        refused: rows(refused),
        can,
        can_total: union.len(),
        sessions,
        served,
        window: (audit.window.start, audit.window.end),
        notes,
    })
}

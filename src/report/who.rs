//! Rendering of `leastpriv who`: a table, or the versioned
//! `leastpriv.who/v1` document. The JSON types below are the format:
//! frozen, fields are only ever added.

use crate::catalog::Catalog;
use crate::usage::chains::Chain;
use crate::util::time;
use crate::who::{Did, Identity, Who};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA: &str = "leastpriv.who/v1";

/// `leastpriv.who/v1`.
#[derive(Serialize)]
pub struct WhoV1 {
    /// Always `leastpriv.who/v1`.
    pub schema: &'static str,
    pub query: String,
    pub identity: IdentityV1,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    /// Successful calls, per account, role (or user) and action.
    pub did: Vec<CallV1>,
    /// Calls refused for lack of permission.
    pub refused: Vec<CallV1>,
    /// What its assignments and trusts reach.
    pub can: CanV1,
    /// The role sessions behind it, each with its chain.
    pub sessions: Vec<SessionV1>,
    /// Roles and agents: who was behind their sessions (first identities,
    /// source identities), with call counts.
    pub served: BTreeMap<String, u64>,
    pub notes: Vec<String>,
}

#[derive(Serialize)]
pub struct IdentityV1 {
    /// `identity-center-user`, `iam-user`, `role`, `agent`, `saml-subject`,
    /// `oidc-subject`, `workload`, `source-identity`.
    pub kind: &'static str,
    pub name: String,
    /// IAM ARNs (users, roles; one per account the name is in).
    pub arns: Vec<String>,
    /// Identity Center users.
    pub user_id: Option<String>,
    pub display_name: Option<String>,
    pub emails: Vec<String>,
}

#[derive(Serialize)]
pub struct CallV1 {
    pub account: String,
    /// The role or user ARN the calls were made as.
    pub principal: String,
    pub action: String,
    pub count: u64,
    pub first: String,
    pub last: String,
}

#[derive(Serialize)]
pub struct CanV1 {
    /// Distinct actions over every principal reached.
    pub actions: usize,
    pub principals: Vec<ReachedV1>,
}

#[derive(Serialize)]
pub struct ReachedV1 {
    pub account: String,
    /// `null` when the assignment's role is not in the snapshot.
    pub principal: Option<String>,
    pub via: String,
    pub granted: usize,
    /// Granted actions by service prefix.
    pub services: BTreeMap<String, usize>,
}

#[derive(Serialize)]
pub struct SessionV1 {
    /// The session's access key id (an identifier; CloudTrail never logs
    /// the secret).
    pub access_key_id: String,
    pub role: String,
    pub session: String,
    pub records: u64,
    pub first: String,
    pub last: String,
    pub chain: ChainV1,
}

#[derive(Serialize)]
pub struct ChainV1 {
    /// The first identity: its kind (`identity-center-user`, `iam-user`,
    /// `saml-subject`, `oidc-subject`, `workload`, `root`, `other`,
    /// `unknown`) and name.
    pub origin_kind: &'static str,
    pub origin: String,
    /// Identity Center sessions: the permission set of the first role.
    pub permission_set: Option<String>,
    /// From the first session to this one.
    pub hops: Vec<HopV1>,
    pub crosses_accounts: bool,
    /// Where and why the chain breaks; `null` when it is whole.
    pub breaks: Option<String>,
    pub source_identity: Option<String>,
    /// Session tags set anywhere along the chain, `key=value` (a tag of an
    /// earlier session that is not transitive is not held by this one: see
    /// `held_tags`).
    pub session_tags: Vec<String>,
    /// The session tags this session holds (STS role chaining: transitive
    /// tags inherited from earlier sessions, and those its own call set),
    /// each with where it was set.
    pub held_tags: Vec<HeldTagV1>,
}

#[derive(Serialize)]
pub struct HeldTagV1 {
    pub key: String,
    pub value: String,
    /// Whether it passes to the sessions this one starts.
    pub transitive: bool,
    /// The index into `hops` of the session whose issuing call set it;
    /// `null` when it was set before the chain's first recorded link.
    pub set_at_hop: Option<usize>,
    /// The same, in words: `set by the call that started ACCOUNT:ROLE
    /// (SESSION)`, or which session inherited it.
    pub set_by: String,
}

#[derive(Serialize)]
pub struct HopV1 {
    pub account: String,
    pub role: String,
    pub session: String,
    pub access_key_id: String,
    /// The call that issued the key (`AssumeRole`, ...), when a record shows it.
    pub issued_by: Option<String>,
    pub issued_at: Option<String>,
}

pub fn chain_v1(c: &Chain) -> ChainV1 {
    ChainV1 {
        origin_kind: c.origin.kind(),
        origin: c.origin.name(),
        permission_set: match &c.origin {
            crate::usage::chains::Origin::IdentityCenterUser { permission_set, .. } => {
                permission_set.clone()
            }
            _ => None,
        },
        hops: c
            .hops
            .iter()
            .map(|h| HopV1 {
                account: h.account().to_string(),
                role: h.role.clone(),
                session: h.session.clone(),
                access_key_id: h.key.clone(),
                issued_by: h.issued_by.clone(),
                issued_at: h.issued_at.map(time),
            })
            .collect(),
        crosses_accounts: c.crosses_accounts(),
        breaks: c.breaks.clone(),
        source_identity: c.source_identity.clone(),
        session_tags: c.tags.clone(),
        held_tags: c
            .held_tags
            .iter()
            .map(|t| HeldTagV1 {
                key: t.key.clone(),
                value: t.value.clone(),
                transitive: t.transitive,
                set_at_hop: t.set_at,
                set_by: c.tag_origin(t),
            })
            .collect(),
    }
}

fn calls(cat: &Catalog, rows: &[Did]) -> Vec<CallV1> {
    rows.iter()
        .map(|d| CallV1 {
            account: d.account.clone(),
            principal: d.via.clone(),
            action: cat.full_name(d.action),
            count: d.count,
            first: time(d.first),
            last: time(d.last),
        })
        .collect()
}

pub fn document(cat: &Catalog, w: &Who) -> WhoV1 {
    let (name, arns, user_id, display_name, emails) = match &w.identity {
        Identity::IdentityCenterUser(u) => (
            u.user_name.clone(),
            Vec::new(),
            Some(u.id.clone()),
            u.display_name.clone(),
            u.emails.clone(),
        ),
        Identity::IamUser { arns } | Identity::Role { arns, .. } => (
            arns.first()
                .and_then(|a| a.rsplit('/').next())
                .unwrap_or(&w.query)
                .to_string(),
            arns.clone(),
            None,
            None,
            Vec::new(),
        ),
        Identity::Subject { name, .. } => (name.clone(), Vec::new(), None, None, Vec::new()),
    };
    WhoV1 {
        schema: SCHEMA,
        query: w.query.clone(),
        identity: IdentityV1 {
            kind: w.identity.kind(),
            name,
            arns,
            user_id,
            display_name,
            emails,
        },
        window_start: w.window.0.map(time),
        window_end: w.window.1.map(time),
        did: calls(cat, &w.did),
        refused: calls(cat, &w.refused),
        can: CanV1 {
            actions: w.can_total,
            principals: w
                .can
                .iter()
                .map(|r| ReachedV1 {
                    account: r.account.clone(),
                    principal: r.principal.clone(),
                    via: r.via.clone(),
                    granted: r.granted,
                    services: r.services.clone(),
                })
                .collect(),
        },
        sessions: w
            .sessions
            .iter()
            .map(|s| SessionV1 {
                access_key_id: s.key.clone(),
                role: s.role.clone(),
                session: s.session.clone(),
                records: s.records,
                first: time(s.first),
                last: time(s.last),
                chain: chain_v1(&s.chain),
            })
            .collect(),
        served: w.served.clone(),
        notes: w.notes.clone(),
    }
}

pub fn json(cat: &Catalog, w: &Who) -> String {
    let mut s = serde_json::to_string_pretty(&document(cat, w)).unwrap_or_default();
    s.push('\n');
    s
}

fn table_of(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(header.to_vec());
    t
}

/// One line of a chain: `origin → role (session) → ...`, and where it breaks.
pub fn chain_line(c: &Chain) -> String {
    let mut parts = vec![format!("{} {}", c.origin.kind(), c.origin.name())];
    for h in &c.hops {
        let name = h.role.rsplit('/').next().unwrap_or(&h.role);
        parts.push(format!("{}:{name} ({})", h.account(), h.session));
    }
    let mut s = parts.join(" → ");
    if let Some(si) = &c.source_identity {
        s.push_str(&format!(" [source identity {si}]"));
    }
    for t in &c.held_tags {
        let transitive = if t.transitive { ", transitive" } else { "" };
        s.push_str(&format!(
            "\n  tag {}={}{transitive}: {}",
            t.key,
            t.value,
            c.tag_origin(t)
        ));
    }
    if let Some(b) = &c.breaks {
        s.push_str(&format!("\n  chain breaks: {b}"));
    }
    s
}

pub fn table(cat: &Catalog, w: &Who) -> String {
    let d = document(cat, w);
    let mut out = format!("{} `{}` ({})\n", d.identity.kind, d.identity.name, w.query);
    if !d.identity.emails.is_empty() {
        out.push_str(&format!("e-mail: {}\n", d.identity.emails.join(", ")));
    }
    for n in &d.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    let section = |out: &mut String, title: &str, rows: &[CallV1]| {
        out.push_str(&format!("\n{title} ({} action(s))\n", rows.len()));
        if rows.is_empty() {
            out.push_str("  nothing in the window\n");
            return;
        }
        let mut t = table_of(&["account", "as", "action", "count", "first", "last"]);
        for r in rows {
            let who = r.principal.rsplit('/').next().unwrap_or(&r.principal);
            t.add_row(vec![
                r.account.clone(),
                who.to_string(),
                r.action.clone(),
                r.count.to_string(),
                r.first.clone(),
                r.last.clone(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    };
    section(&mut out, "did", &d.did);
    section(&mut out, "refused", &d.refused);
    out.push_str(&format!(
        "\ncan ({} distinct action(s) through {} principal(s))\n",
        d.can.actions,
        d.can.principals.len()
    ));
    if !d.can.principals.is_empty() {
        let mut t = table_of(&["account", "principal", "via", "granted", "services"]);
        for r in &d.can.principals {
            let mut svcs: Vec<(&String, &usize)> = r.services.iter().collect();
            svcs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let shown: Vec<String> = svcs
                .iter()
                .take(6)
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            let more = svcs.len().saturating_sub(6);
            let mut svc = shown.join(", ");
            if more > 0 {
                svc.push_str(&format!(", +{more} more"));
            }
            t.add_row(vec![
                r.account.clone(),
                r.principal
                    .clone()
                    .unwrap_or_else(|| "(not in snapshot)".into()),
                r.via.clone(),
                r.granted.to_string(),
                svc,
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if !w.sessions.is_empty() {
        out.push_str(&format!("\nsessions ({})\n", w.sessions.len()));
        for s in &w.sessions {
            out.push_str(&format!(
                "  {} calls, {} .. {}: {}\n",
                s.records,
                time(s.first),
                time(s.last),
                chain_line(&s.chain).replace('\n', "\n  ")
            ));
        }
    }
    if !d.served.is_empty() {
        out.push_str("\nbehind its sessions\n");
        for (k, n) in &d.served {
            out.push_str(&format!("  {k}: {n} call(s)\n"));
        }
    }
    out
}

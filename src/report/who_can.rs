//! Rendering of `leastpriv who-can`: a table, or the versioned
//! `leastpriv.who-can/v1` document. The JSON types below are the format:
//! frozen, fields are only ever added.

use crate::util::time;
use crate::who_can::{ActionAccess, Call, Entry, KeyAccess, WhoCan};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;

/// `leastpriv.who-can/v1`.
#[derive(Serialize)]
pub struct WhoCanV1 {
    /// Always `leastpriv.who-can/v1`.
    pub schema: &'static str,
    pub resource: String,
    /// The resource's `ResourceType` in `resource-policies.json`, if listed.
    pub resource_type: Option<String>,
    pub resource_account: Option<String>,
    /// Where the resource's policy comes from: `resource-policy`, `none`
    /// (it has none), `trust-policy` (a role), `not-applicable` (the
    /// resource cannot have one), `not-in-snapshot`.
    pub policy: &'static str,
    /// The customer managed KMS key that encrypts it, if any.
    pub kms_key: Option<String>,
    /// The actions asked about.
    pub actions: Vec<String>,
    pub notes: Vec<String>,
    /// Allowed principals first, then those that only acted on it or were
    /// refused in the window.
    pub principals: Vec<PrincipalV1>,
}

#[derive(Serialize)]
pub struct PrincipalV1 {
    /// An IAM ARN, `arn:aws:iam::ACCOUNT:root` for a whole account, a
    /// service principal, an identity provider ARN, or `*`.
    pub principal: String,
    pub name: String,
    /// `user`, `role`, `account`, `service`, `federated` or `anyone`.
    pub principal_type: &'static str,
    /// `human`, `npe` or `agent`, for the account's own principals.
    pub kind: Option<&'static str>,
    pub account: Option<String>,
    /// A user or role of the snapshot (its policies were evaluated).
    pub in_snapshot: bool,
    pub can: Vec<ActionV1>,
    /// Successful calls on the resource in the window.
    pub did: Vec<CallV1>,
    /// Refused calls on the resource in the window.
    pub refused: Vec<CallV1>,
}

#[derive(Serialize)]
pub struct ActionV1 {
    pub action: String,
    /// `allowed`, or `conditional` (under conditions the snapshot cannot
    /// decide, or if another account's identity policies allow it).
    pub decision: &'static str,
    /// `identity policy`, `resource policy`, or `identity and resource policy`.
    pub via: &'static str,
    /// The statements that decide, each with its policy.
    pub statements: Vec<String>,
    pub conditions: Vec<String>,
    pub notes: Vec<String>,
    /// For reads of an encrypted resource: `kms:Decrypt` on its key.
    pub key: Option<KeyV1>,
}

#[derive(Serialize)]
pub struct KeyV1 {
    pub key: String,
    pub decision: &'static str,
    pub statements: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Serialize)]
pub struct CallV1 {
    pub action: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub error_codes: Vec<String>,
}

fn key(k: &KeyAccess) -> KeyV1 {
    KeyV1 {
        key: k.key.clone(),
        decision: k.allowed.map_or("denied", |a| a.as_str()),
        statements: k.statements.clone(),
        notes: k.notes.clone(),
    }
}

fn action(a: &ActionAccess) -> ActionV1 {
    ActionV1 {
        action: a.action.clone(),
        decision: a.allowed.as_str(),
        via: a.route,
        statements: a.statements.clone(),
        conditions: a.conditions.clone(),
        notes: a.notes.clone(),
        key: a.key.as_ref().map(key),
    }
}

fn call(c: &Call) -> CallV1 {
    CallV1 {
        action: c.action.clone(),
        count: c.count,
        first_seen: time(c.first),
        last_seen: time(c.last),
        error_codes: c.error_codes.clone(),
    }
}

fn principal(e: &Entry) -> PrincipalV1 {
    PrincipalV1 {
        principal: e.principal.clone(),
        name: e.name.clone(),
        principal_type: e.caller_kind.as_str(),
        kind: e.kind,
        account: e.account.clone(),
        in_snapshot: e.in_snapshot,
        can: e.actions.iter().map(action).collect(),
        did: e.did.iter().map(call).collect(),
        refused: e.refused.iter().map(call).collect(),
    }
}

/// The document.
pub fn document(w: &WhoCan) -> WhoCanV1 {
    WhoCanV1 {
        schema: "leastpriv.who-can/v1",
        resource: w.resource.clone(),
        resource_type: w.resource_type.clone(),
        resource_account: w.resource_account.clone(),
        policy: w.policy.as_str(),
        kms_key: w.kms_key.clone(),
        actions: w.actions.clone(),
        notes: w.notes.clone(),
        principals: w.principals.iter().map(principal).collect(),
    }
}

pub fn json(w: &WhoCan) -> String {
    serde_json::to_string_pretty(&document(w)).unwrap_or_default() + "\n"
}

/// Actions in a cell: all of them when few, else a count and the first.
fn action_cell(e: &Entry) -> String {
    const SHOWN: usize = 6;
    let mut lines: Vec<String> = e
        .actions
        .iter()
        .take(SHOWN)
        .map(|a| {
            let mut s = a.action.clone();
            if a.allowed == crate::who_can::Allowed::Conditionally {
                s.push_str(" (conditional)");
            }
            if let Some(k) = &a.key {
                if k.allowed == Some(crate::who_can::Allowed::Conditionally) {
                    s.push_str(" + key (conditional)");
                }
            }
            s
        })
        .collect();
    if e.actions.len() > SHOWN {
        lines.push(format!("... {} actions in all", e.actions.len()));
    }
    lines.join("\n")
}

fn calls_cell(calls: &[Call]) -> String {
    calls
        .iter()
        .map(|c| format!("{} {}× last {}", c.action, c.count, time(c.last)))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn table(w: &WhoCan) -> String {
    let mut out = format!(
        "{} ({}{})\npolicy: {}{}\n",
        w.resource,
        w.resource_type.as_deref().unwrap_or("type unknown"),
        w.resource_account
            .as_deref()
            .map(|a| format!(", account {a}"))
            .unwrap_or_default(),
        w.policy.as_str(),
        w.kms_key
            .as_deref()
            .map(|k| format!("; encrypted with {k}"))
            .unwrap_or_default()
    );
    for n in &w.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec!["Principal", "Type", "Can", "Via", "Did", "Refused"]);
    for e in &w.principals {
        let mut vias: Vec<&str> = e.actions.iter().map(|a| a.route).collect();
        vias.sort();
        vias.dedup();
        let who = match e.kind {
            Some(k) => format!("{} ({k})", e.name),
            None => e.principal.clone(),
        };
        t.add_row(vec![
            who,
            e.caller_kind.as_str().to_string(),
            action_cell(e),
            vias.join(", "),
            calls_cell(&e.did),
            calls_cell(&e.refused),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    let conditional: Vec<&Entry> = w
        .principals
        .iter()
        .filter(|e| {
            e.actions
                .iter()
                .any(|a| !a.conditions.is_empty() || !a.notes.is_empty())
        })
        .collect();
    if !conditional.is_empty() {
        out.push_str("\nconditions and notes:\n");
        for e in conditional {
            let mut lines: Vec<String> = e
                .actions
                .iter()
                .flat_map(|a| a.conditions.iter().chain(a.notes.iter()).cloned())
                .collect();
            lines.sort();
            lines.dedup();
            for l in lines {
                out.push_str(&format!("  {}: {l}\n", e.name));
            }
        }
    }
    out
}

//! Rendering of `leastpriv secrets`.

use crate::secrets::SecretsView;
use crate::util::time;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;

#[derive(Serialize)]
struct ViewV1 {
    schema: &'static str,
    resources: Vec<EntryV1>,
}

#[derive(Serialize)]
struct EntryV1 {
    resource: String,
    kind: &'static str,
    pattern: bool,
    aliases: Vec<String>,
    can_read: Vec<ReaderV1>,
    did_read: Vec<AccessV1>,
    denied: Vec<AccessV1>,
    /// Where its policy comes from (`resource-policy`, `none`,
    /// `not-in-snapshot`, ...); absent for policy patterns.
    policy: Option<&'static str>,
    kms_key: Option<String>,
    /// Keys: the key policy does not trust the account (IAM locked out).
    iam_locked_out: bool,
    /// Accounts other than the resource's whose principals can read it.
    other_accounts: Vec<String>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct ReaderV1 {
    principal: String,
    kind: &'static str,
    action: String,
    granted_on: String,
    used: bool,
    principal_type: &'static str,
    account: Option<String>,
    via: &'static str,
    decision: &'static str,
    conditions: Vec<String>,
    statements: Vec<String>,
    key: Option<&'static str>,
    /// The verdict of (principal, action, this resource): `used`,
    /// `used-failed`, `attempted`, `denied`, `unused` or `unobservable`;
    /// `null` for an identity outside the snapshot.
    verdict: Option<&'static str>,
}

#[derive(Serialize)]
struct AccessV1 {
    principal: String,
    action: String,
    count: u64,
    last_seen: String,
    invoked_by: Vec<String>,
    refused_by: Option<String>,
}

pub fn json(v: &SecretsView) -> String {
    let doc = ViewV1 {
        schema: "leastpriv.secrets/v1",
        resources: v
            .entries
            .iter()
            .map(|e| EntryV1 {
                resource: e.resource.clone(),
                kind: e.kind.map_or("unknown", |k| k.as_str()),
                pattern: e.pattern,
                aliases: e.aliases.clone(),
                can_read: e
                    .readers
                    .iter()
                    .map(|r| ReaderV1 {
                        principal: r.principal.clone(),
                        kind: r.kind,
                        action: r.action.clone(),
                        granted_on: r.granted_on.clone(),
                        used: r.used,
                        principal_type: r.principal_type,
                        account: r.account.clone(),
                        via: r.via,
                        decision: r.decision,
                        conditions: r.conditions.clone(),
                        statements: r.statements.clone(),
                        key: r.key,
                        verdict: r.verdict,
                    })
                    .collect(),
                did_read: e.reads.iter().map(access).collect(),
                denied: e.denied.iter().map(access).collect(),
                policy: e.policy,
                kms_key: e.kms_key.clone(),
                iam_locked_out: e.iam_locked_out,
                other_accounts: e.other_accounts.clone(),
                notes: e.notes.clone(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn access(a: &crate::secrets::Access) -> AccessV1 {
    AccessV1 {
        principal: a.principal.clone(),
        action: a.action.clone(),
        count: a.count,
        last_seen: time(a.last_seen),
        invoked_by: a.via.clone(),
        refused_by: a.refused_by.clone(),
    }
}

pub fn table(v: &SecretsView) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec!["Resource", "Kind", "Can read", "Did read", "Refused"]);
    for e in &v.entries {
        let mut readers: Vec<String> = e
            .readers
            .iter()
            .map(|r| {
                let mut extra = String::new();
                if r.granted_on == "*" {
                    extra.push_str(", on *");
                }
                if r.via == "resource policy" || r.via == "identity and resource policy" {
                    extra.push_str(&format!(", via {}", r.via));
                }
                if r.decision == "conditional" || r.key == Some("conditional") {
                    extra.push_str(", conditional");
                }
                format!("{} ({}{extra})", r.name, r.kind)
            })
            .collect();
        readers.dedup();
        if readers.is_empty() {
            readers.extend(e.notes.iter().map(|n| format!("nobody: {n}")));
        }
        if e.iam_locked_out {
            readers.push("(key policy locks IAM out: only the principals it names)".into());
        }
        if !e.other_accounts.is_empty() {
            readers.push(format!("other accounts: {}", e.other_accounts.join(", ")));
        }
        let reads: Vec<String> = e
            .reads
            .iter()
            .map(|a| {
                let via = if a.via.is_empty() {
                    String::new()
                } else {
                    format!(" via {}", a.via.join(", "))
                };
                format!("{} {}× last {}{via}", a.name, a.count, time(a.last_seen))
            })
            .collect();
        let denied: Vec<String> = e
            .denied
            .iter()
            .map(|a| match &a.refused_by {
                Some(r) => format!("{} {}× ({r})", a.name, a.count),
                None => format!("{} {}×", a.name, a.count),
            })
            .collect();
        t.add_row(vec![
            format!(
                "{}{}",
                e.resource,
                if e.pattern { " (policy pattern)" } else { "" }
            ),
            e.kind.map_or("unknown", |k| k.as_str()).to_string(),
            readers.join("\n"),
            reads.join("\n"),
            denied.join("\n"),
        ]);
    }
    t.to_string() + "\n"
}

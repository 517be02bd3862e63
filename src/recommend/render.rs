//! Pure renderers of a recommendation: the Terraform file and the markdown diff.

use super::{compact::Level, IdentityType, Line, Subject, MANAGED_POLICY_LIMIT};
use crate::audit::Audit;
use crate::catalog::{ActionId, ActionSet, Catalog};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A Terraform identifier from a principal name.
pub(super) fn tf_ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert_str(0, "p_");
    }
    s.push_str("_least_privilege");
    s
}

const KEY_ORDER: &[&str] = &[
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// An object's keys in IAM's customary order, then the others by name.
fn iam_key_order(m: &serde_json::Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by_key(|k| {
        (
            KEY_ORDER
                .iter()
                .position(|o| o == k)
                .unwrap_or(KEY_ORDER.len()),
            k.as_str(),
        )
    });
    keys
}

/// A policy document serialized with IAM's customary key order, as
/// [`document_json`] writes it, for documents embedded in other JSON.
pub struct IamOrder<'a>(pub &'a Value);

impl serde::Serialize for IamOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for k in iam_key_order(m) {
                    map.serialize_entry(k, &IamOrder(&m[k]))?;
                }
                map.end()
            }
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(&IamOrder(x))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

fn pretty(v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let keys = iam_key_order(m);
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&pad);
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                pretty(&m[*k], indent + 1, out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&close);
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad);
                pretty(x, indent + 1, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&close);
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A policy document as pretty JSON with IAM's customary key order
/// (`Version`, `Statement`, `Sid`, `Effect`, `Action`, `Resource`, `Condition`).
pub fn document_json(doc: &Value) -> String {
    let mut out = String::new();
    pretty(doc, 0, &mut out);
    out
}

/// JSON is valid HCL expression syntax, except that `${` and `%{` start
/// template sequences inside strings: IAM policy variables must be escaped.
pub(super) fn hcl_expression(doc: &Value) -> String {
    let escaped = document_json(doc).replace("${", "$${").replace("%{", "%%{");
    escaped.replace('\n', "\n  ")
}

/// The Terraform written beside the policy file (`recommend --out`): the
/// policy is read from `json_name` in the same directory rather than
/// embedded, so that a reviewer who edits the `.json` (which `recommend
/// --check --policies` proves) edits what Terraform applies; the JSON
/// document keeps the self-contained text.
pub(super) fn terraform_reading(terraform: &str, doc: &Value, json_name: &str) -> String {
    let embedded = format!("jsonencode({})", hcl_expression(doc));
    // The file name is made of `[A-Za-z0-9+=,.@_-]` (`file_stem`): no quote
    // or template sequence to escape.
    terraform.replace(
        &embedded,
        &format!("file(\"${{path.module}}/{json_name}\")"),
    )
}

pub(super) fn hcl_string(s: &str) -> String {
    Value::String(s.to_string())
        .to_string()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// The Terraform for a recommendation: an `aws_iam_policy` and its
/// attachment, or for an Identity Center role a `locals` value for the
/// permission set's inline policy (the role itself is managed by AWS).
pub(super) fn terraform(
    identity_type: IdentityType,
    name: &str,
    sso: Option<&str>,
    doc: &Value,
) -> String {
    let id = tf_ident(name);
    let mut out = format!(
        "# Generated by leastpriv: right-sized policy for {} `{name}`.\n",
        identity_type.as_str()
    );
    if let Some(ps) = sso {
        let _ = write!(
            out,
            "# IAM Identity Center role: AWS manages it. Apply this document to permission\n\
             # set `{ps}` instead, e.g.\n\
             #\n\
             # resource \"aws_ssoadmin_permission_set_inline_policy\" \"{id}\" {{\n\
             #   instance_arn       = \"<Identity Center instance ARN>\"\n\
             #   permission_set_arn = \"<ARN of permission set {ps}>\"\n\
             #   inline_policy      = local.{id}\n\
             # }}\n\n\
             locals {{\n  {id} = jsonencode({})\n}}\n",
            hcl_expression(doc)
        );
        return out;
    }
    let _ = write!(
        out,
        "\nresource \"aws_iam_policy\" \"{id}\" {{\n  name        = {}\n  description = {}\n  policy = jsonencode({})\n}}\n",
        hcl_string(&format!("{name}-least-privilege")),
        hcl_string(&format!(
            "Right-sized by leastpriv from CloudTrail evidence for {} {name}",
            identity_type.as_str()
        )),
        hcl_expression(doc)
    );
    let (resource, attr) = match identity_type {
        IdentityType::Role => ("aws_iam_role_policy_attachment", "role"),
        IdentityType::User => ("aws_iam_user_policy_attachment", "user"),
        IdentityType::Group => ("aws_iam_group_policy_attachment", "group"),
    };
    let _ = write!(
        out,
        "\nresource \"{resource}\" \"{id}\" {{\n  {attr:<10} = {}\n  policy_arn = aws_iam_policy.{id}.arn\n}}\n",
        hcl_string(name)
    );
    out
}

pub(super) struct DiffInput<'a> {
    pub cat: &'a Catalog,
    pub audit: &'a Audit,
    pub s: &'a Subject<'a>,
    pub used: &'a [Line],
    pub inferred: &'a [Line],
    pub unobservable: &'a [Line],
    pub attempted: &'a [Line],
    pub no_evidence: &'a [Line],
    pub removed: &'a [ActionId],
    pub dropped_passrole: Option<&'a str>,
    pub guardrails: &'a [String],
    pub chars: usize,
    pub compacted: Option<Level>,
    pub warnings: &'a [String],
}

/// Removed actions listed one by one, riskiest first; the rest are counted.
const LIST_MAX: usize = 30;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A `## heading` and a table of `lines`, one row per action (nothing when
/// there are no lines): the action in code, then what `columns` gives.
fn section(
    o: &mut String,
    heading: &str,
    header: &[&str],
    lines: &[Line],
    columns: impl Fn(&Line) -> Vec<String>,
) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(o, "## {heading}\n");
    let _ = writeln!(o, "| {} |", header.join(" | "));
    let _ = writeln!(o, "|{}", "---|".repeat(header.len()));
    for l in lines {
        let _ = writeln!(o, "| `{}` | {} |", l.action, columns(l).join(" | "));
    }
    o.push('\n');
}

/// The readable diff between today's grant and the recommendation.
pub(super) fn diff(d: &DiffInput) -> String {
    let s = d.s;
    let cat = d.cat;
    let mut o = String::new();
    match &s.unit {
        Some(u) => {
            let _ = writeln!(o, "# {}: recommended policy\n", u.title());
        }
        None => {
            let _ = writeln!(
                o,
                "# {} `{}`: recommended policy\n",
                s.identity_type.as_str(),
                s.name
            );
        }
    }
    let _ = writeln!(o, "- ARN: `{}`", s.arn);
    if let Some(ap) = s.audited {
        let _ = writeln!(o, "- Kind: {} ({})", ap.kind.as_str(), ap.kind_reason);
    }
    if !s.members.is_empty() {
        let _ = writeln!(
            o,
            "- Members: {}",
            s.members
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    match (d.audit.window.start, d.audit.window.end) {
        (Some(a), Some(b)) => {
            let _ = writeln!(
                o,
                "- Evidence window: {} .. {}",
                crate::util::time(a),
                crate::util::time(b)
            );
        }
        _ => {
            let _ = writeln!(
                o,
                "- Evidence window: none (no CloudTrail record): observable actions are removed for lack of evidence; review before applying"
            );
        }
    }
    let mut attempted = if d.attempted.is_empty() {
        String::new()
    } else {
        format!(", {} kept attempted", d.attempted.len())
    };
    if !d.no_evidence.is_empty() {
        let _ = write!(
            attempted,
            ", {} kept for lack of evidence",
            d.no_evidence.len()
        );
    }
    let _ = writeln!(
        o,
        "- Today: {} action(s) granted; recommended: {} used, {} inferred, {} kept unobservable{attempted}; {} removed",
        s.granted.len(),
        d.used.len(),
        d.inferred.len(),
        d.unobservable.len(),
        d.removed.len()
    );
    let (limit_of, limit) = match &s.unit {
        Some(u) => u.inline_limit(),
        None => (s.identity_type.as_str(), s.identity_type.inline_limit()),
    };
    let fits_inline = if d.chars <= limit { "fits" } else { "over" };
    let _ = writeln!(
        o,
        "- Size: {} characters minified (managed policy limit {MANAGED_POLICY_LIMIT}; {fits_inline} the {limit_of} inline limit {limit}){}",
        d.chars,
        match d.compacted {
            Some(Level::Verb) => "; actions grouped with `service:Verb*` wildcards that add no risky action",
            Some(Level::Service) => "; actions grouped with `service:Verb*` and `service:*` wildcards that add no risky action",
            None => "",
        }
    );

    o.push_str("\n## How to apply\n\n");
    if let (true, Some(u)) = (s.dormant, &s.unit) {
        let _ = writeln!(
            o,
            "**Dormant**: no activity in the evidence window in any of its accounts. Recommendation: {}. The policy below grants nothing and keeps the existing Deny statements.\n",
            super::units::dormant_advice(u)
        );
    } else if s.dormant {
        let _ = writeln!(
            o,
            "**Dormant**: no activity in the evidence window. Recommendation: remove the {} or disable it (detach its policies, deactivate its credentials). The policy below grants nothing and keeps the existing Deny statements.\n",
            s.identity_type.as_str()
        );
    }
    if let Some(u) = &s.unit {
        o.push_str(&super::units::how_to_apply(u));
    } else if let (Some(ps), Some(p)) = (&s.sso_permission_set, &s.part_of) {
        let _ = writeln!(
            o,
            "This role is managed by IAM Identity Center: do not edit it, and do not apply this document (it covers this account's use only). Edit permission set **`{ps}`** instead: its recommendation is `{}/` (the union of its use in {}).\n",
            p.dir(),
            super::units::accounts_list(&p.accounts)
        );
    } else if let Some(ps) = &s.sso_permission_set {
        let _ = writeln!(
            o,
            "This role is managed by IAM Identity Center: do not edit it. Address the change to permission set **`{ps}`** (replace its policies with this document).\n"
        );
    } else if !s.replaces.is_empty() {
        let _ = writeln!(
            o,
            "Replace these policies of the {} with this one: {}.\n",
            s.identity_type.as_str(),
            s.replaces.join(", ")
        );
    }
    if let (Some(p), None) = (&s.part_of, &s.sso_permission_set) {
        let _ = writeln!(
            o,
            "A role of this name is deployed in {}: `{}/` recommends them together (the union of their use), for one change to all of them (a StackSet, a shared module).\n",
            super::units::accounts_list(&p.accounts),
            p.dir()
        );
    }
    if let Some(b) = &s.boundary {
        let _ = writeln!(
            o,
            "The permissions boundary (the {b}) stays as it is: it is not part of this policy.\n"
        );
    }
    if !s.via_groups.is_empty() {
        let _ = writeln!(
            o,
            "Actions granted only through group(s) {} are recommended on the group (`group/<name>.json`), from the use of all its members.\n",
            s.via_groups
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    if let Some(u) = &s.unit {
        o.push_str(&super::units::accounts_markdown(u));
    }
    section(
        &mut o,
        &format!("Kept: used ({})", d.used.len()),
        &["action", "evidence", "resources today", "recommended"],
        d.used,
        |l| {
            let rec = match &l.note {
                Some(n) => format!("{} ({n})", l.recommended),
                None => l.recommended.clone(),
            };
            vec![cell(&l.evidence), cell(&l.today), cell(&rec)]
        },
    );
    section(
        &mut o,
        &format!("Kept: inferred ({})", d.inferred.len()),
        &["action", "why", "resources"],
        d.inferred,
        |l| vec![cell(&l.evidence), cell(&l.recommended)],
    );
    section(
        &mut o,
        &format!(
            "Kept: unobservable ({}, statements `KeptUnobservable*`)\n\nCloudTrail could not have shown their use; kept on today's resources. Remove them if the workload does not need them.",
            d.unobservable.len()
        ),
        &["action", "why unobservable", "resources"],
        d.unobservable,
        |l| vec![cell(&l.evidence), cell(&l.today)],
    );
    section(
        &mut o,
        &format!(
            "Kept: attempted ({}, statements `KeptAttempted*`)\n\nCalled in the window, never successfully, and the errors say nothing about authorization (throttling, validation, unknown codes): kept on today's resources. Remove them if the workload does not need them.",
            d.attempted.len()
        ),
        &["action", "evidence", "resources"],
        d.attempted,
        |l| vec![cell(&l.evidence), cell(&l.today)],
    );

    section(
        &mut o,
        &format!(
            "Kept: no evidence ({}, statements `KeptNoEvidence*`)\n\nGranted today and not shown used, but an account the policy is for has no evidence: what it uses there is unknown, so today's grant is kept. Remove them once that account's trail shows them unused.",
            d.no_evidence.len()
        ),
        &["action", "why", "resources"],
        d.no_evidence,
        |l| vec![cell(&l.evidence), cell(&l.today)],
    );

    let _ = writeln!(o, "## Removed ({})\n", d.removed.len());
    if let Some(p) = d.dropped_passrole {
        let _ = writeln!(o, "- {p}");
    }
    let passrole = d.audit.risk.passrole;
    let removed: Vec<ActionId> = d
        .removed
        .iter()
        .copied()
        .filter(|&id| d.dropped_passrole.is_none() || Some(id) != passrole)
        .collect();
    // A long list is counted on a bitset: a broad grant removes tens of
    // thousands of actions, and a look-up per action (its category, its
    // service name) was a sixth of `recommend`. A short one is listed whole.
    let long = removed.len() > LIST_MAX;
    let mut rest = ActionSet::empty(cat);
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    if long {
        rest.extend(removed.iter().copied());
        // Categories are disjoint: an action belongs to the first that lists it.
        for c in &d.audit.risk.categories {
            let n = rest.intersection_len(&c.actions);
            if n > 0 {
                *per_category.entry(c.title.as_str()).or_default() += n;
            }
        }
    }
    if long && !per_category.is_empty() {
        let _ = writeln!(
            o,
            "- in risk categories: {}",
            per_category
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let shown = d.audit.risk.riskiest_in_set(&rest, &removed, LIST_MAX);
    for &id in &shown {
        match d.audit.risk.category(id) {
            Some(c) => {
                let _ = writeln!(o, "- `{}` ({})", cat.full_name(id), c.title);
            }
            None => {
                let _ = writeln!(o, "- `{}`", cat.full_name(id));
            }
        }
    }
    if removed.len() > shown.len() {
        for &id in &shown {
            rest.remove(id);
        }
        let per: Vec<(&str, usize)> = cat
            .services()
            .iter()
            .map(|svc| (svc.prefix, rest.count_in(svc.actions.clone())))
            .filter(|&(_, n)| n > 0)
            .collect();
        let _ = writeln!(
            o,
            "- {} more, per service: {}",
            removed.len() - shown.len(),
            per.iter()
                .map(|(k, v)| format!("`{k}` {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if d.removed.is_empty() && d.dropped_passrole.is_none() {
        o.push_str("- nothing\n");
    }
    o.push('\n');

    if !s.refused.is_empty() || !s.without_grant.is_empty() {
        o.push_str("## Not added\n\n");
        for r in &s.refused {
            let _ = writeln!(
                o,
                "- refused attempt {r}: never granted by a recommendation"
            );
        }
        for w in &s.without_grant {
            let _ = writeln!(
                o,
                "- used without a grant in the principal's policies {w} (a resource policy allowed it): not added"
            );
        }
        o.push('\n');
    }
    let deny_count = d.s.denies.len();
    if deny_count > 0 || !d.guardrails.is_empty() {
        o.push_str("## Deny statements\n\n");
        if deny_count > 0 {
            let _ = writeln!(o, "- {deny_count} existing Deny statement(s) kept");
        }
        for g in d.guardrails {
            let _ = writeln!(o, "- {g}");
        }
        o.push('\n');
    }
    if !s.credentials.is_empty() {
        o.push_str("## Credentials\n\n");
        for c in &s.credentials {
            let _ = writeln!(o, "- {c}: deactivate or delete it");
        }
        o.push('\n');
    }
    let warnings: Vec<&String> = d
        .warnings
        .iter()
        .filter(|w| !d.guardrails.contains(w))
        .collect();
    if !warnings.is_empty() {
        o.push_str("## Warnings\n\n");
        for w in warnings {
            let _ = writeln!(o, "- {w}");
        }
        o.push('\n');
    }
    while o.ends_with("\n\n") {
        o.pop();
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_variables_are_escaped_for_hcl() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]});
        let tf = terraform(IdentityType::User, "u", None, &doc);
        assert!(tf.contains("arn:aws:s3:::b/$${aws:username}/*"), "{tf}");
        assert!(tf.contains("aws_iam_user_policy_attachment"));
        // Key order as IAM documents are written.
        let text = document_json(&doc);
        assert!(text.find("Version") < text.find("Statement"));
        assert!(text.find("Effect") < text.find("Action"));
    }

    #[test]
    fn the_terraform_beside_the_policy_file_reads_it() {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]});
        for sso in [None, Some("Ops")] {
            let tf = terraform(IdentityType::Role, "r", sso, &doc);
            let read = terraform_reading(&tf, &doc, "r.json");
            assert!(read.contains("file(\"${path.module}/r.json\")"), "{read}");
            assert!(!read.contains("jsonencode"), "{read}");
            assert!(!read.contains("s3:GetObject"), "{read}");
        }
    }
}

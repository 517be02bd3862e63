//! What a pull fetched: one block per account, for the terminal.

use crate::pull::PullSummary;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

pub fn summary(pulls: &[PullSummary]) -> String {
    let mut out = String::new();
    for p in pulls {
        let m = &p.manifest;
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(vec!["part", "fetched"]);
        t.add_row(vec![
            "IAM".to_string(),
            format!(
                "{} users, {} groups, {} roles, {} managed policies ({} pages)",
                m.iam.users, m.iam.groups, m.iam.roles, m.iam.policies, m.iam.pages
            ),
        ]);
        t.add_row(vec![
            "credential report".to_string(),
            if m.iam.credential_report { "yes" } else { "no" }.to_string(),
        ]);
        t.add_row(vec![
            "access keys".to_string(),
            m.iam.access_keys.to_string(),
        ]);
        t.add_row(vec![
            "Access Advisor".to_string(),
            format!("{} principals", m.iam.access_advisor_principals),
        ]);
        t.add_row(vec![
            "events from".to_string(),
            format!("{} ({})", m.event_source, m.regions.join(", ")),
        ]);
        if !m.objects.is_empty() || m.downloaded.failed > 0 {
            t.add_row(vec![
                "trail log files".to_string(),
                format!(
                    "{} fetched ({} bytes), {} reused from an earlier pull, {} failed",
                    m.downloaded.fetched,
                    m.downloaded.bytes,
                    m.downloaded.reused,
                    m.downloaded.failed
                ),
            ]);
        }
        if let Some(o) = &m.organization {
            t.add_row(vec![
                "organization".to_string(),
                match o.source.as_str() {
                    "none" => "not in an organization".to_string(),
                    "denied" => format!(
                        "{}: not readable from this account",
                        o.id.as_deref().unwrap_or("?")
                    ),
                    _ => format!(
                        "{}: {} accounts, {} OUs, {} SCPs and RCPs{}",
                        o.id.as_deref().unwrap_or("?"),
                        o.accounts,
                        o.organizational_units,
                        o.policies,
                        if o.source == "organization" {
                            " (the organization snapshot's)"
                        } else {
                            ""
                        }
                    ),
                },
            ]);
        }
        if let Some(ic) = &m.identity_center {
            t.add_row(vec!["Identity Center".to_string(), identity_center(ic)]);
        }
        if let Some(rp) = &m.resource_policies {
            t.add_row(vec![
                "resource policies".to_string(),
                if rp.is_empty() {
                    "no resources".to_string()
                } else {
                    rp.iter()
                        .map(|(k, n)| format!("{n} {}", k.rsplit("::").next().unwrap_or(k)))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ]);
        }
        for l in &m.lookup {
            t.add_row(vec![
                format!("LookupEvents {}", l.region),
                format!("{} events ({} pages)", l.events, l.pages),
            ]);
        }
        t.add_row(vec![
            "problems".to_string(),
            if m.gaps.is_empty() {
                "none".to_string()
            } else {
                m.gaps
                    .iter()
                    .map(|p| format!("{} {}: {}", p.stage, p.target, p.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        ]);
        out.push_str(&format!(
            "Account {} pulled as {} into {}\n{t}\n",
            m.account_id,
            m.caller_arn,
            p.dir.display()
        ));
    }
    out
}

fn identity_center(ic: &crate::pull::manifest::IdentityCenterCounts) -> String {
    format!(
        "{} users, {} groups, {} permission sets, {} account assignments ({})",
        ic.users, ic.groups, ic.permission_sets, ic.account_assignments, ic.region
    )
}

/// The organization snapshot: accounts pulled and not, and what was read
/// once for all of them.
pub fn organization_summary(om: &crate::pull::manifest::OrganizationManifest) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["part", "fetched"]);
    let pulled = om.accounts.iter().filter(|a| a.status == "pulled").count();
    t.add_row(vec![
        "accounts".to_string(),
        format!("{pulled} of {} pulled", om.accounts.len()),
    ]);
    if let Some(ic) = &om.identity_center {
        t.add_row(vec!["Identity Center".to_string(), identity_center(ic)]);
    }
    t.add_row(vec![
        "events from".to_string(),
        match &om.trail {
            Some(trail) => format!("{} ({trail})", om.event_source),
            None => "each account's own trails".to_string(),
        },
    ]);
    if !om.objects.is_empty() || om.downloaded.failed > 0 {
        t.add_row(vec![
            "trail log files".to_string(),
            format!(
                "{} fetched ({} bytes), {} reused from an earlier pull, {} failed",
                om.downloaded.fetched,
                om.downloaded.bytes,
                om.downloaded.reused,
                om.downloaded.failed
            ),
        ]);
    }
    t.add_row(vec![
        "problems".to_string(),
        if om.gaps.is_empty() {
            "none".to_string()
        } else {
            om.gaps
                .iter()
                .map(|p| format!("{} {}: {}", p.stage, p.target, p.message))
                .collect::<Vec<_>>()
                .join("\n")
        },
    ]);
    format!(
        "Organization {} pulled as {} (role {} in each account)\n{t}\n",
        om.organization_id, om.caller_arn, om.role_name
    )
}

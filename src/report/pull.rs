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

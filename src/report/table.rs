//! The terminal table for engineers: one row per principal.

use crate::audit::Audit;
use crate::util::time;
use comfy_table::{
    presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table,
    Width,
};
use std::io::Write;

/// How many of the riskiest unused actions a row shows.
const TOP_UNUSED: usize = 3;

const HEADER: [&str; 9] = [
    "Principal",
    "Type",
    "Kind",
    "Granted",
    "Used",
    "Unused",
    "Unobservable",
    "Denied",
    "Riskiest unused",
];

/// Columns 3 to 7 are counts, aligned right.
const NUMERIC: std::ops::Range<usize> = 3..8;

/// Rows laid out by one comfy-table at a time. A 10,000-principal account's
/// table held in one took 40 MB at the audit's peak (heaptrack): its cells,
/// their formatted lines and the text, all at once.
const CHUNK: usize = 1024;

fn table(width: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    t
}

fn cells(row: &[String]) -> Vec<Cell> {
    row.iter()
        .enumerate()
        .map(|(i, text)| {
            let c = Cell::new(text);
            if NUMERIC.contains(&i) {
                c.set_alignment(CellAlignment::Right)
            } else {
                c
            }
        })
        .collect()
}

/// The widest line of a cell, in columns (IAM names and action names are
/// ASCII, so characters are columns).
fn text_width(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Lays `rows` out as comfy-table would in one table of `width`, a chunk at
/// a time. The column widths come from a probe table of the header and each
/// column's widest cell, which is all comfy-table's layout looks at when the
/// content fits; when it must wrap, the probe's layout is used for every
/// chunk, so the table stays aligned.
/// Each chunk is written out as soon as it is drawn, each line with its
/// newline: the table of an organization's 100,000 principals is some 70 MB
/// of text.
fn write_rows(rows: Vec<Vec<String>>, width: u16, w: &mut dyn Write) -> std::io::Result<()> {
    if rows.len() <= CHUNK {
        let mut t = table(width);
        t.set_header(HEADER.to_vec());
        for r in &rows {
            t.add_row(cells(r));
        }
        return writeln!(w, "{t}");
    }
    let mut probe = table(width);
    probe.set_header(HEADER.to_vec());
    for col in 0..HEADER.len() {
        if let Some(widest) = rows.iter().max_by_key(|r| text_width(&r[col])) {
            let mut r = vec![String::new(); HEADER.len()];
            r[col] = widest[col].clone();
            probe.add_row(cells(&r));
        }
    }
    let probe = probe.to_string();
    // The top border, `┌───┬──┐`: each run of `─` is a column's width, padding included.
    let widths: Vec<u16> = probe
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches('┌')
        .trim_end_matches('┐')
        .split('┬')
        .map(|run| u16::try_from(run.chars().count()).unwrap_or(u16::MAX))
        .collect();
    let chunks = rows.len().div_ceil(CHUNK);
    let mut rows = rows.into_iter();
    for i in 0..chunks {
        let mut t = table(width);
        if i == 0 {
            t.set_header(HEADER.to_vec());
        }
        for r in rows.by_ref().take(CHUNK) {
            t.add_row(cells(&r));
        }
        // After the rows: constraints apply to the columns a table has.
        t.set_constraints(
            widths
                .iter()
                .map(|&w| ColumnConstraint::Absolute(Width::Fixed(w))),
        );
        let text = t.to_string();
        let mut lines: Vec<&str> = text.lines().collect();
        // Chunks join where one's bottom border and the next's top border were.
        if i > 0 {
            lines.remove(0);
        }
        if i + 1 < chunks {
            lines.pop();
        }
        for l in lines {
            w.write_all(l.as_bytes())?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Several accounts: one line per account, then what crosses accounts.
fn accounts_section(audit: &Audit) -> String {
    let view = crate::accounts::view(audit);
    let mut out = String::from("Accounts:\n");
    for a in &view.accounts {
        out.push_str(&format!(
            "  {}{}: {} principals ({} active), {} granted, {} used, {} unused, {} denied; findings: {}{}\n",
            a.account,
            a.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(),
            a.principals,
            a.active,
            a.granted,
            a.used,
            a.unused,
            a.denied,
            a.findings_text(),
            if a.scp_path.is_empty() {
                String::new()
            } else {
                format!("; SCP path {}", a.scp_path.join(" > "))
            }
        ));
    }
    if !view.cross.is_empty() {
        out.push_str("Across accounts:\n");
        for c in &view.cross {
            out.push_str(&format!("  {}\n", crate::accounts::cross_line(audit, c)));
        }
    }
    out.push('\n');
    out
}

/// Renders the audit as a table with a summary; `width` bounds the table.
pub fn render(audit: &Audit, width: u16) -> String {
    let mut out = Vec::new();
    // Writing to memory does not fail, and the text is UTF-8 throughout.
    match write(audit, width, &mut out) {
        Ok(()) => String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(_) => String::new(),
    }
}

/// [`render`] to `w`, the table a chunk of rows at a time rather than in
/// one text.
pub fn write(audit: &Audit, width: u16, w: &mut dyn Write) -> std::io::Result<()> {
    let cat = audit.catalog;
    // An organization's principals are named with their account: one role
    // name is often in every account.
    let multi = crate::accounts::is_multi_account(audit);
    let rows: Vec<Vec<String>> = audit
        .principals
        .iter()
        .map(|ap| {
            let a = &ap.verdicts;
            let mut top: Vec<&str> = audit
                .risk
                .riskiest_in(a.unused(), TOP_UNUSED)
                .into_iter()
                .map(|id| cat.name(id))
                .collect();
            let n = a.counts();
            let unused = n.unused;
            let more = format!("+{} more", unused.saturating_sub(TOP_UNUSED));
            if unused > TOP_UNUSED {
                top.push(&more);
            }
            vec![
                if multi {
                    format!(
                        "{}/{}",
                        a.principal.arn.split(':').nth(4).unwrap_or_default(),
                        a.principal.name
                    )
                } else {
                    a.principal.name.clone()
                },
                a.principal.principal_type.as_str().to_string(),
                ap.kind.as_str().to_string(),
                a.grants.granted.len().to_string(),
                n.used.to_string(),
                unused.to_string(),
                n.unobservable.to_string(),
                n.denied.to_string(),
                top.join("\n"),
            ]
        })
        .collect();
    let s = &audit.stats;
    let mut out = String::new();
    for n in &audit.notices {
        if n.is_warning() {
            out.push_str(&format!("WARNING: {}\n", n.text));
        } else {
            out.push_str(&format!("NOTICE: {}\n\n", n.text.replace('`', "")));
        }
    }
    if crate::accounts::is_multi_account(audit) {
        out.push_str(&accounts_section(audit));
    }
    w.write_all(out.as_bytes())?;
    write_rows(rows, width, w)?;
    let mut out = String::new();
    let window = match (audit.window.start, audit.window.end) {
        (Some(a), Some(b)) => format!("{} .. {}", time(a), time(b)),
        _ => "no events".to_string(),
    };
    out.push_str(&format!("Window: {window}\n"));
    // Buckets that are empty in most accounts are named only when not.
    let extra: String = [
        (s.network_activity, "network activity"),
        (s.insights, "Insights"),
        (s.other_account, "other accounts"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!(", {n} {what}"))
    .collect();
    out.push_str(&format!(
        "Evidence: {} files, {} records ({} mapped, {} skipped, {} duplicate, {} by AWS services, {} unmapped{extra})\n",
        s.files, s.records, s.mapped, s.records_skipped, s.duplicates, s.service_records, s.unmapped
    ));
    if audit.trails.assumed {
        out.push_str(
            "Trails: no trails.json given; assumed management events only, no data events\n",
        );
    } else {
        let data: Vec<String> = audit
            .trails
            .data
            .iter()
            .map(|d| {
                if d.arn_patterns.is_empty() {
                    d.resource_type.clone()
                } else {
                    format!("{} ({})", d.resource_type, d.arn_patterns.join(", "))
                }
            })
            .collect();
        out.push_str(&format!(
            "Trails: {} trail(s); management events: {}; data events: {}\n",
            audit.trails.trails.len(),
            match (audit.trails.management_read, audit.trails.management_write) {
                (true, true) => "read and write",
                (true, false) => "read only",
                (false, true) => "write only",
                (false, false) => "none",
            },
            if data.is_empty() {
                "none".to_string()
            } else {
                data.join("; ")
            }
        ));
        if !audit.trails.single_region.is_empty() {
            out.push_str(&format!(
                "Single-region trails (other regions unrecorded by them): {}\n",
                audit.trails.single_region.join(", ")
            ));
        }
    }
    if !audit.others.is_empty() {
        let names: Vec<String> = audit
            .others
            .iter()
            .map(|o| format!("{} ({})", o.arn, o.kind.as_str()))
            .collect();
        out.push_str(&format!("Other identities: {}\n", names.join(", ")));
    }
    if let Some(org) = audit.organization.as_deref() {
        out.push_str(&organization_line(audit, org));
    }
    let mut n = crate::verdict::VerdictCounts::default();
    for ap in &audit.principals {
        n += ap.verdicts.counts();
    }
    if n.used_failed + n.attempted > 0 {
        out.push_str(&format!(
            "Failed calls: {} action(s) used but failed after authorization, {} attempted without success (see --format json)\n",
            n.used_failed, n.attempted
        ));
    }
    if !s.unknown_error_codes.is_empty() {
        out.push_str(&format!(
            "Unknown error codes (counted as attempts): {}\n",
            s.unknown_error_codes
                .iter()
                .map(|(c, k)| format!("{c} ×{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !audit.problems.is_empty() {
        out.push_str(&format!(
            "Input problems: {} (see --format json)\n",
            audit.problems.len()
        ));
    }
    let mut counts = std::collections::BTreeMap::new();
    for f in &audit.findings {
        *counts.entry(std::cmp::Reverse(f.severity)).or_insert(0) += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.0.as_str()))
        .collect();
    out.push_str(&format!(
        "Findings: {}\n",
        if summary.is_empty() {
            "none".to_string()
        } else {
            summary.join(", ")
        }
    ));
    // Which rules fired, in registry order: the table names no finding, and
    // this line says where to look (`--format markdown` has them all).
    let by_rule: Vec<String> = crate::rules::REGISTRY
        .iter()
        .map(|r| r.meta().id)
        .filter_map(|id| {
            let n = audit.findings.iter().filter(|f| f.rule == id).count();
            (n > 0).then(|| format!("{id} {n}"))
        })
        .collect();
    if !by_rule.is_empty() {
        out.push_str(&format!("By rule: {}\n", by_rule.join(", ")));
    }
    w.write_all(out.as_bytes())
}

/// The organization's effect in one line: what SCPs block, by principal.
fn organization_line(audit: &Audit, org: &crate::model::Organization) -> String {
    let mut blocked: Vec<String> = audit
        .principals
        .iter()
        .filter(|p| !p.verdicts.grants.blocked_by_org.is_empty())
        .map(|p| {
            format!(
                "{} {}",
                p.verdicts.principal.name,
                p.verdicts.grants.blocked_by_org.len()
            )
        })
        .collect();
    blocked.sort();
    let types: Vec<&str> = [(org.scp_enabled, "SCPs"), (org.rcp_enabled, "RCPs")]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, t)| t)
        .collect();
    format!(
        "Organization: {} ({}); SCPs block {}\n",
        org.id.as_deref().unwrap_or("?"),
        if types.is_empty() {
            "no policy type enabled".to_string()
        } else {
            types.join(", ")
        },
        if blocked.is_empty() {
            "no granted action".to_string()
        } else {
            format!("granted actions of {} (see explain)", blocked.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows as [`write_rows`] writes them, without the last newline.
    fn render_rows(rows: Vec<Vec<String>>, width: u16) -> String {
        let mut out = Vec::new();
        write_rows(rows, width, &mut out).unwrap();
        let mut text = String::from_utf8(out).unwrap();
        assert_eq!(text.pop(), Some('\n'));
        text
    }

    fn one_table(rows: &[Vec<String>], width: u16) -> String {
        let mut t = table(width);
        t.set_header(HEADER.to_vec());
        for r in rows {
            t.add_row(cells(r));
        }
        t.to_string()
    }

    /// Rows of varied widths, the widest of each column in a different chunk.
    fn rows(n: usize) -> Vec<Vec<String>> {
        (0..n)
            .map(|i| {
                vec![
                    format!("role-{}", "x".repeat((i * 7) % 41)),
                    if i % 5 == 0 { "user" } else { "role" }.to_string(),
                    ["npe", "human", "agent"][i % 3].to_string(),
                    (i * 13 % 20_000).to_string(),
                    (i % 17).to_string(),
                    (i * 11 % 22_000).to_string(),
                    (i % 4).to_string(),
                    (i % 2).to_string(),
                    if i % 3 == 0 {
                        format!("secretsmanager:GetSecretValue\nkms:Decrypt\n+{i} more")
                    } else {
                        String::new()
                    },
                ]
            })
            .collect()
    }

    #[test]
    fn chunks_join_into_the_table_comfy_table_draws_in_one_piece() {
        let rows = rows(2 * CHUNK + 17);
        let chunked = render_rows(rows.clone(), 160);
        let whole = one_table(&rows, 160);
        for (i, (c, w)) in chunked.lines().zip(whole.lines()).enumerate() {
            assert_eq!(c, w, "line {i}");
        }
        assert_eq!(chunked.lines().count(), whole.lines().count());
        assert_eq!(chunked, whole);
    }

    #[test]
    fn a_large_table_wrapped_to_a_narrow_terminal_stays_aligned() {
        let rows = rows(CHUNK + 3);
        let text = render_rows(rows.clone(), 70);
        let widths: std::collections::BTreeSet<usize> =
            text.lines().map(|l| l.chars().count()).collect();
        assert_eq!(widths.len(), 1, "ragged table: widths {widths:?}");
        assert!(widths.iter().all(|&w| w <= 70), "{widths:?}");
        // No row is lost: each has its type, which fits its column whole.
        let types = text
            .split(|c: char| c.is_whitespace() || c == '┆' || c == '│')
            .filter(|t| *t == "role" || *t == "user")
            .count();
        assert_eq!(types, rows.len());
    }
}

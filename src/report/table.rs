//! The terminal table for engineers: one row per principal.

use super::time;
use crate::audit::Audit;
use crate::catalog::Catalog;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, ContentArrangement, Table};

/// How many of the riskiest unused actions a row shows.
const TOP_UNUSED: usize = 3;

/// Renders the audit as a table with a summary; `width` bounds the table.
pub fn render(audit: &Audit, width: u16) -> String {
    let cat = Catalog::embedded();
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(vec![
            "Principal",
            "Type",
            "Kind",
            "Granted",
            "Used",
            "Unused",
            "Unobservable",
            "Denied",
            "Riskiest unused",
        ]);
    for ap in &audit.principals {
        let a = &ap.audit;
        let mut top: Vec<String> = audit
            .risk
            .riskiest_in(&a.unused, TOP_UNUSED)
            .into_iter()
            .map(|id| cat.full_name(id))
            .collect();
        if a.unused.len() > TOP_UNUSED {
            top.push(format!("+{} more", a.unused.len() - TOP_UNUSED));
        }
        let num = |n: usize| Cell::new(n).set_alignment(CellAlignment::Right);
        t.add_row(vec![
            Cell::new(&a.principal.name),
            Cell::new(a.principal.principal_type.as_str()),
            Cell::new(ap.kind.as_str()),
            num(a.grants.granted.len()),
            num(a.used.len()),
            num(a.unused.len()),
            num(a.unobservable.len()),
            num(a.denied.len()),
            Cell::new(top.join("\n")),
        ]);
    }
    let s = &audit.stats;
    let mut out = t.to_string();
    out.push('\n');
    let window = match (audit.window.start, audit.window.end) {
        (Some(a), Some(b)) => format!("{} .. {}", time(a), time(b)),
        _ => "no events".to_string(),
    };
    out.push_str(&format!("Window: {window}\n"));
    out.push_str(&format!(
        "Evidence: {} files, {} records ({} mapped, {} skipped, {} duplicate, {} by AWS services, {} unmapped)\n",
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
    out
}

//! The drift as text, for people.

use crate::drift::{Drift, FindingRef, Grant, ReportRef, Status};

/// Lines of one list shown by [`render`] before "and N more".
const TEXT_LIST_MAX: usize = 20;

fn list(out: &mut String, indent: &str, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    for s in items.take(TEXT_LIST_MAX) {
        out.push_str(indent);
        out.push_str(&s);
        out.push('\n');
    }
    if n > TEXT_LIST_MAX {
        out.push_str(&format!("{indent}... and {} more\n", n - TEXT_LIST_MAX));
    }
}

fn actions_short(a: &[String]) -> String {
    match a.len() {
        0 => String::new(),
        1..=3 => format!(" [{}]", a.join(", ")),
        n => format!(" [{}, ... {} more]", a[..3].join(", "), n - 3),
    }
}

/// A readable account of the drift.
pub fn render(d: &Drift) -> String {
    let mut out = String::new();
    let when = |r: &ReportRef| match (&r.generated_at, r.export) {
        (Some(g), _) => format!(" ({g})"),
        (None, Some(f)) => format!(" ({f} export)"),
        (None, None) => String::new(),
    };
    out.push_str(&format!(
        "leastpriv diff\n  old: {}{}\n  new: {}{}\n\n",
        d.old.path.display(),
        when(&d.old),
        d.new.path.display(),
        when(&d.new)
    ));
    if !d.findings_compared() {
        out.push_str("findings: not compared (an export lists permissions, not findings)\n\n");
    }
    if d.is_empty() {
        out.push_str(if d.findings_compared() {
            "no drift: same findings and same permissions\n"
        } else {
            "no drift: same permissions\n"
        });
        return out;
    }
    out.push_str(&format!(
        "findings: {} new, {} resolved, {} changed\nprincipals: {} added, {} removed, {} changed\n",
        d.findings_new.len(),
        d.findings_resolved.len(),
        d.findings_changed.len(),
        d.principals_added.len(),
        d.principals_removed.len(),
        d.principals_changed.len()
    ));
    let finding = |f: &FindingRef| {
        format!(
            "{:<8} {} {}{}",
            f.severity,
            f.rule,
            f.principal,
            actions_short(&f.actions)
        )
    };
    if !d.findings_new.is_empty() {
        out.push_str("\nnew findings:\n");
        list(&mut out, "  + ", d.findings_new.iter().map(finding));
    }
    if !d.findings_resolved.is_empty() {
        out.push_str("\nresolved findings:\n");
        list(&mut out, "  - ", d.findings_resolved.iter().map(finding));
    }
    if !d.findings_changed.is_empty() {
        out.push_str("\nchanged findings:\n");
        for c in &d.findings_changed {
            let sev = if c.severity_old == c.severity_new {
                c.severity_new.clone()
            } else {
                format!("{} -> {}", c.severity_old, c.severity_new)
            };
            out.push_str(&format!("  ~ {} {} ({sev})\n", c.rule, c.principal));
            list(&mut out, "      + ", c.actions_added.iter().cloned());
            list(&mut out, "      - ", c.actions_removed.iter().cloned());
        }
    }
    if !d.principals_added.is_empty() {
        out.push_str("\nprincipals added:\n");
        list(
            &mut out,
            "  + ",
            d.principals_added
                .iter()
                .map(|p| format!("{} ({} granted, {} used)", p.arn, p.granted, p.used)),
        );
    }
    if !d.principals_removed.is_empty() {
        out.push_str("\nprincipals removed:\n");
        list(
            &mut out,
            "  - ",
            d.principals_removed
                .iter()
                .map(|p| format!("{} ({} granted, {} used)", p.arn, p.granted, p.used)),
        );
    }
    if !d.principals_changed.is_empty() {
        out.push_str("\npermission drift:\n");
        for p in &d.principals_changed {
            out.push_str(&format!("  {}\n", p.arn));
            if p.granted_old != p.granted_new {
                out.push_str(&format!(
                    "    granted: {} -> {}\n",
                    p.granted_old, p.granted_new
                ));
            }
            let grants = |g: &[Grant]| -> Vec<String> {
                g.iter()
                    .map(|g| format!("{} ({})", g.action, g.status.as_str()))
                    .collect()
            };
            if !p.grants_added.is_empty() {
                out.push_str("    grants added:\n");
                list(&mut out, "      + ", grants(&p.grants_added).into_iter());
            }
            if !p.grants_removed.is_empty() {
                out.push_str("    grants removed:\n");
                list(&mut out, "      - ", grants(&p.grants_removed).into_iter());
            }
            for (title, to) in [
                ("newly used", Status::Used),
                ("newly used, failed after authorization", Status::UsedFailed),
                ("newly attempted", Status::Attempted),
                ("newly denied", Status::Denied),
                ("newly unused", Status::Unused),
                ("newly unobservable", Status::Unobservable),
            ] {
                let moves: Vec<String> = p
                    .moved
                    .iter()
                    .filter(|m| m.to == to)
                    .map(|m| format!("{} (was {})", m.action, m.from.as_str()))
                    .collect();
                if !moves.is_empty() {
                    out.push_str(&format!("    {title}:\n"));
                    list(&mut out, "      ", moves.into_iter());
                }
            }
            if !p.denied_new.is_empty() {
                out.push_str("    new denied attempts:\n");
                list(
                    &mut out,
                    "      ! ",
                    p.denied_new
                        .iter()
                        .map(|x| format!("{} ({}x)", x.action, x.count)),
                );
            }
        }
    }
    out
}

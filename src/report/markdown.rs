//! The Markdown report for reviewers (ISSOs) to attach to a review: summary
//! per kind, findings most urgent first with evidence and remediation, one
//! section per principal, the evidence window and coverage, and the sha256 of
//! every input so that the report can be reproduced and checked.
//!
//! The content is built once as a small document model ([`Block`]) that
//! `report::html` renders too, so both formats say the same thing. This
//! module only reads the `Audit`; it computes no verdicts of its own.

use crate::audit::{Audit, WindowSource};
use crate::catalog::Catalog;
use crate::model::Kind;
use crate::rules::Severity;
use crate::util::time;
use std::collections::BTreeMap;

/// How many of the riskiest unused actions each principal section lists.
pub(crate) const TOP_UNUSED: usize = 10;
/// How many actions of a finding are listed before "+N more".
const FINDING_ACTIONS: usize = 25;
/// How many resources of a used or denied action are listed.
const RESOURCES: usize = 5;
/// How many example actions per unobservability reason are listed.
const UNOBSERVABLE_EXAMPLES: usize = 5;

/// A piece of inline content.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Inline {
    /// Plain text, escaped by each renderer.
    Text(String),
    /// Text whose backtick-quoted parts are code (finding messages and evidence).
    Ticked(String),
    Code(String),
    Strong(String),
    Severity(Severity),
    /// An action name (`s3:GetObject`), linked to its Service Authorization
    /// Reference entry.
    Action(String),
    /// Text linked to a URL.
    Link(String, String),
}

pub(crate) type Line = Vec<Inline>;

/// A block of the report.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Block {
    /// Level (1-4), text, anchor id.
    Heading(u8, String, String),
    Para(Line),
    List(Vec<Line>),
    Table {
        head: Vec<&'static str>,
        /// Right-aligned (numeric) columns.
        numeric: Vec<bool>,
        rows: Vec<Vec<Line>>,
    },
    Code {
        lang: &'static str,
        text: String,
    },
    /// Granted vs used per kind; HTML draws it, Markdown has the table already.
    Chart(Vec<KindSummary>),
}

/// Totals of one kind of principal.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct KindSummary {
    pub kind: Kind,
    pub principals: usize,
    pub granted: usize,
    pub used: usize,
    pub unused: usize,
    pub unobservable: usize,
    pub denied: usize,
}

fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

fn code(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}

fn action(s: impl Into<String>) -> Inline {
    Inline::Action(s.into())
}

fn strong(s: impl Into<String>) -> Inline {
    Inline::Strong(s.into())
}

fn num(n: impl ToString) -> Line {
    vec![text(n.to_string())]
}

fn para(l: Line) -> Block {
    Block::Para(l)
}

/// Anchor-safe id: lowercase ASCII alphanumerics and dashes.
fn anchor(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Totals per kind, always human, npe, agent in that order.
pub(crate) fn kind_summaries(audit: &Audit) -> Vec<KindSummary> {
    [Kind::Human, Kind::Npe, Kind::Agent]
        .into_iter()
        .map(|kind| {
            let mut s = KindSummary {
                kind,
                principals: 0,
                granted: 0,
                used: 0,
                unused: 0,
                unobservable: 0,
                denied: 0,
            };
            for p in audit.principals.iter().filter(|p| p.kind == kind) {
                let a = &p.verdicts;
                let n = a.counts();
                s.principals += 1;
                s.granted += a.grants.granted.len();
                s.used += n.used;
                s.unused += n.unused;
                s.unobservable += n.unobservable;
                s.denied += n.denied;
            }
            s
        })
        .collect()
}

fn window_line(audit: &Audit) -> Line {
    let w = &audit.window;
    match (w.start, w.end) {
        (Some(a), Some(b)) => vec![
            text("Evidence window: "),
            strong(format!("{} to {}", time(a), time(b))),
            text(match w.source {
                WindowSource::Options => {
                    " (set with --since/--until; an unset end is the first or last record)"
                }
                _ => " (the first and the last CloudTrail record read)",
            }),
        ],
        _ => vec![
            text("Evidence window: "),
            strong("none"),
            text(" (no CloudTrail records were read; nothing can be shown as used)"),
        ],
    }
}

/// What the trails record, one line per fact.
pub(crate) fn trail_lines(audit: &Audit) -> Vec<Line> {
    let t = &audit.trails;
    let mut v = Vec::new();
    if t.assumed {
        v.push(vec![
            strong("Assumed management events only"),
            text(": no trails.json was given, so leastpriv assumed the trails record read and write management events and no data events. Data-plane actions are reported as unobservable, not unused."),
        ]);
        return v;
    }
    let mut l = vec![text(format!("Trails ({}): ", t.trails.len()))];
    for (i, name) in t.trails.iter().enumerate() {
        if i > 0 {
            l.push(text(", "));
        }
        l.push(code(name));
    }
    if t.trails.is_empty() {
        l.push(text("none"));
    }
    v.push(l);
    v.push(vec![
        text("Management events: "),
        strong(match (t.management_read, t.management_write) {
            (true, true) => "read and write",
            (true, false) => "read only",
            (false, true) => "write only",
            (false, false) => "none",
        }),
    ]);
    if !t.excluded_sources.is_empty() {
        let mut l = vec![text("Excluded event sources: ")];
        for (i, s) in t.excluded_sources.iter().enumerate() {
            if i > 0 {
                l.push(text(", "));
            }
            l.push(code(s));
        }
        v.push(l);
    }
    if t.data.is_empty() {
        v.push(vec![text("Data event selectors: "), strong("none")]);
    }
    for d in &t.data {
        let rw = match d.read_write {
            crate::ingest::trails::ReadWrite::All => "read and write",
            crate::ingest::trails::ReadWrite::ReadOnly => "read only",
            crate::ingest::trails::ReadWrite::WriteOnly => "write only",
        };
        let mut l = vec![text("Data events: "), code(&d.resource_type)];
        if d.arn_patterns.is_empty() {
            l.push(text(" on every resource"));
        } else {
            l.push(text(" on "));
            for (i, p) in d.arn_patterns.iter().enumerate() {
                if i > 0 {
                    l.push(text(", "));
                }
                l.push(code(p));
            }
        }
        if !d.excluded.is_empty() {
            l.push(text(" except "));
            for (i, p) in d.excluded.iter().enumerate() {
                if i > 0 {
                    l.push(text(", "));
                }
                l.push(code(p));
            }
        }
        l.push(text(format!(" ({rw})")));
        v.push(l);
    }
    if t.single_region.is_empty() {
        v.push(vec![text("Single-region trails: none")]);
    } else {
        let mut l = vec![text(
            "Single-region trails (actions in other regions are not recorded by them): ",
        )];
        for (i, s) in t.single_region.iter().enumerate() {
            if i > 0 {
                l.push(text(", "));
            }
            l.push(code(s));
        }
        v.push(l);
    }
    v
}

fn resources_line(res: &crate::usage::ResourceSample, truncated: bool) -> Line {
    let mut l = Vec::new();
    for (i, r) in res.iter().take(RESOURCES).enumerate() {
        if i > 0 {
            l.push(text(", "));
        }
        l.push(code(r));
    }
    let more = res.len().saturating_sub(RESOURCES);
    if more > 0 || truncated {
        l.push(text(if truncated {
            format!(" (+{more} more listed in JSON, more not sampled)")
        } else {
            format!(" (+{more} more)")
        }));
    }
    if l.is_empty() {
        l.push(text("-"));
    }
    l
}

fn findings_blocks(audit: &Audit, out: &mut Vec<Block>) {
    out.push(Block::Heading(2, "Findings".into(), "findings".into()));
    if audit.findings.is_empty() {
        out.push(para(vec![text("No findings.")]));
        return;
    }
    out.push(para(vec![text(
        "Most urgent first: by severity, then by score (the rule's risk weight of the actions, times exposure such as long-lived keys or external trust). Evidence lines are facts from the inputs: policy statements, CloudTrail records, the credential report.",
    )]));
    let names: BTreeMap<&str, &str> = audit
        .principals
        .iter()
        .map(|p| {
            (
                p.verdicts.principal.arn.as_str(),
                p.verdicts.principal.name.as_str(),
            )
        })
        .collect();
    for (i, f) in audit.findings.iter().enumerate() {
        let title = crate::rules::rule(f.rule).map_or(f.rule, |m| m.title);
        let who = names.get(&*f.principal).copied().unwrap_or(&f.principal);
        out.push(Block::Heading(
            3,
            format!("{}. {title}: {who}", i + 1),
            format!("finding-{}", i + 1),
        ));
        out.push(para(vec![
            Inline::Severity(f.severity),
            text(" rule "),
            code(f.rule),
            text(format!(
                ", score {:.1}, {} ",
                (f.score * 10.0).round() / 10.0,
                f.kind.as_str()
            )),
            code(&*f.principal),
        ]));
        out.push(para(vec![Inline::Ticked(f.message.clone())]));
        if !f.actions.is_empty() {
            let mut l = vec![strong(format!("Actions ({}): ", f.actions.len()))];
            for (j, a) in f.actions.iter().take(FINDING_ACTIONS).enumerate() {
                if j > 0 {
                    l.push(text(", "));
                }
                l.push(action(audit.catalog.name(*a)));
            }
            if f.actions.len() > FINDING_ACTIONS {
                l.push(text(format!(
                    " and {} more (all in --format json)",
                    f.actions.len() - FINDING_ACTIONS
                )));
            }
            out.push(para(l));
        }
        if f.has_evidence() {
            out.push(para(vec![strong("Evidence:")]));
            out.push(Block::List(
                f.evidence_lines(audit.catalog)
                    .map(|e| vec![Inline::Ticked(e.into_owned())])
                    .collect(),
            ));
        }
        if !f.techniques.is_empty() {
            out.push(para(vec![strong(format!(
                "Privilege-escalation techniques ({}):",
                f.techniques.len()
            ))]));
            out.push(Block::List(
                f.techniques
                    .iter()
                    .map(|t| {
                        let mut l = vec![text(format!("{} (", t.name)), code(&t.id), text(")")];
                        for (j, s) in t.sources.iter().enumerate() {
                            l.push(text(if j == 0 { "; documented by " } else { "; " }));
                            l.push(Inline::Link(
                                format!("{} {}", s.title, s.ids.join(", ")),
                                s.url.clone(),
                            ));
                        }
                        if !t.needs.is_empty() {
                            l.push(text(format!(
                                "; also needs (not checked): {}",
                                t.needs.join("; ")
                            )));
                        }
                        l
                    })
                    .collect(),
            ));
        }
        if let Some(e) = audit.acceptance(i) {
            out.push(para(vec![
                strong("Accepted by the baseline: "),
                text(format!(
                    "{} (owner {}, until {})",
                    e.justification, e.owner, e.expires
                )),
            ]));
        }
        out.push(para(vec![
            strong("Remediation: "),
            Inline::Ticked(f.remediation.to_string()),
        ]));
        if let Some(fix) = &f.fix {
            out.push(para(vec![strong("Statement that closes the finding:")]));
            out.push(Block::Code {
                lang: "json",
                text: serde_json::to_string_pretty(&**fix).unwrap_or_default(),
            });
        }
    }
}

/// What the findings leave out on purpose, and why: baseline acceptances,
/// configured exclusions and AWS service-linked roles.
fn excluded_blocks(audit: &Audit, out: &mut Vec<Block>) {
    out.push(Block::Heading(
        2,
        "Excluded from the findings".into(),
        "excluded".into(),
    ));
    let ex = &audit.excluded;
    let mut items: Vec<Line> = Vec::new();
    if let Some((b, applied)) = &audit.baseline {
        let mut counts = vec![0usize; b.accepted.len()];
        for &(_, e) in &applied.accepted {
            if let Some(n) = counts.get_mut(e) {
                *n += 1;
            }
        }
        for (j, e) in b.accepted.iter().enumerate() {
            let state = if applied.expired_entries.contains(&j) {
                "expired: its findings count again".to_string()
            } else {
                format!("accepts {} finding(s)", counts[j])
            };
            items.push(vec![
                text("Baseline entry: "),
                Inline::Ticked(e.describe()),
                text(format!(
                    ", {}, owner {}, until {}: {state}",
                    e.justification, e.owner, e.expires
                )),
            ]);
        }
    }
    for (e, removed) in &ex.configured {
        let rules = if e.rules.is_empty() {
            "every rule".to_string()
        } else {
            e.rules.join(", ")
        };
        items.push(vec![
            text("Configured exclusion of "),
            code(&e.principal),
            text(format!(
                " ({rules}): {}; removed {} finding(s)",
                e.reason,
                removed.len()
            )),
        ]);
    }
    if !ex.service_linked_roles.is_empty() {
        items.push(vec![text(format!(
            "{} AWS service-linked role(s): AWS manages their policies and trust and customers cannot edit them, so their {} finding(s) are listed below, apart, and never count for --fail-on.",
            ex.service_linked_roles.len(),
            ex.service_linked.len()
        ))]);
    }
    if items.is_empty() {
        out.push(para(vec![text(
            "Nothing: no baseline, no configured exclusion and no service-linked role.",
        )]));
        return;
    }
    out.push(Block::List(items));
    if !ex.service_linked_roles.is_empty() {
        out.push(Block::Heading(
            3,
            "Service-linked roles".into(),
            "service-linked-roles".into(),
        ));
        out.push(Block::Table {
            head: vec!["Role", "Findings"],
            numeric: vec![false, false],
            rows: ex
                .service_linked_roles
                .iter()
                .map(|arn| {
                    let mut l: Line = Vec::new();
                    for f in ex.service_linked.iter().filter(|f| *f.principal == **arn) {
                        if !l.is_empty() {
                            l.push(text("; "));
                        }
                        l.push(Inline::Severity(f.severity));
                        l.push(text(" "));
                        l.push(code(f.rule));
                        l.push(text(format!(" ({} action(s))", f.actions.len())));
                    }
                    if l.is_empty() {
                        l.push(text("-"));
                    }
                    vec![vec![code(arn)], l]
                })
                .collect(),
        });
    }
}

fn principal_blocks(audit: &Audit, cat: &Catalog, out: &mut Vec<Block>) {
    out.push(Block::Heading(2, "Principals".into(), "principals".into()));
    out.push(para(vec![text(
        "Granted: the effective permissions evaluated from iam.json (identity policies, permissions boundaries, explicit Deny) over the action catalog. Used, denied: CloudTrail records in the window, one count per record. Used-failed: calls that passed authorization, then failed. Attempted: calls whose errors say nothing about authorization. Unused: granted, recordable by the trails, not seen. Unobservable: granted, but the trails could not have recorded it. Each action has one verdict.",
    )]));
    for ap in &audit.principals {
        let a = &ap.verdicts;
        let p = &a.principal;
        out.push(Block::Heading(
            3,
            format!(
                "{} ({}, {})",
                p.name,
                p.principal_type.as_str(),
                ap.kind.as_str()
            ),
            format!("principal-{}", anchor(&p.arn)),
        ));
        let activity = match &a.activity {
            Some(x) if x.records > 0 => {
                format!("{} records, last activity {}", x.records, time(x.last))
            }
            _ => "no records in the window".to_string(),
        };
        out.push(Block::List(vec![
            vec![text("ARN: "), code(&p.arn)],
            vec![
                text(format!("Kind: {}, because ", ap.kind.as_str())),
                Inline::Ticked(ap.kind_reason.clone()),
            ],
            vec![text({
                let n = a.counts();
                let failed = match (n.used_failed, n.attempted) {
                    (0, 0) => String::new(),
                    (f, t) => format!("; used-failed {f}; attempted {t}"),
                };
                format!(
                    "Granted {} ({} conditional); used {}; unused {}; unobservable {}; denied {}{failed}",
                    a.grants.granted.len(),
                    a.grants.conditional.len(),
                    n.used,
                    n.unused,
                    n.unobservable,
                    n.denied
                )
            })],
            vec![text(format!("Activity: {activity}"))],
        ]));
        if !a.used.is_empty() {
            out.push(Block::Heading(
                4,
                format!("Used ({})", a.used.len()),
                String::new(),
            ));
            let mut used: Vec<_> = a.used.iter().collect();
            used.sort_by(|x, y| {
                y.stats
                    .count
                    .cmp(&x.stats.count)
                    .then_with(|| cat.full_name(x.action).cmp(&cat.full_name(y.action)))
            });
            out.push(Block::Table {
                head: vec!["Action", "Count", "First seen", "Last seen", "Resources"],
                numeric: vec![false, true, false, false, false],
                rows: used
                    .iter()
                    .map(|u| {
                        let mut action = vec![self::action(cat.full_name(u.action))];
                        if !u.granted() {
                            action.push(text(" (not granted by its policies)"));
                        } else if u.conditional() {
                            action.push(text(" (conditional grant)"));
                        }
                        if !u.stats.invoked_by.is_empty() {
                            action.push(text(u.stats.via_suffix()));
                        }
                        vec![
                            action,
                            num(u.stats.count),
                            num(time(u.stats.first)),
                            num(time(u.stats.last)),
                            resources_line(&u.stats.resources, u.stats.resources_truncated),
                        ]
                    })
                    .collect(),
            });
        }
        let unused = a.unused().len();
        if unused > 0 {
            let top = audit.risk.riskiest_in(a.unused(), TOP_UNUSED);
            out.push(Block::Heading(
                4,
                format!("Unused ({unused}; the {} riskiest)", top.len()),
                String::new(),
            ));
            let mut items: Vec<Line> = top
                .iter()
                .map(|&id| vec![action(cat.full_name(id))])
                .collect();
            if unused > top.len() {
                items.push(vec![text(format!(
                    "and {} more (all in --format json)",
                    unused - top.len()
                ))]);
            }
            out.push(Block::List(items));
        }
        if !a.unobservable().is_empty() {
            out.push(Block::Heading(
                4,
                format!("Unobservable ({})", a.unobservable().len()),
                String::new(),
            ));
            let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (id, why) in a.unobservable().iter() {
                by.entry(why.describe())
                    .or_default()
                    .push(cat.full_name(*id));
            }
            out.push(Block::List(
                by.into_iter()
                    .map(|(why, mut acts)| {
                        acts.sort();
                        let mut l = vec![text(format!("{} action(s): ", acts.len()))];
                        l.push(Inline::Ticked(why));
                        l.push(text(", e.g. "));
                        for (i, x) in acts.iter().take(UNOBSERVABLE_EXAMPLES).enumerate() {
                            if i > 0 {
                                l.push(text(", "));
                            }
                            l.push(action(x));
                        }
                        l
                    })
                    .collect(),
            ));
        }
        if !a.denied.is_empty() {
            out.push(Block::Heading(
                4,
                format!("Denied ({})", a.denied.len()),
                String::new(),
            ));
            out.push(Block::Table {
                head: vec!["Action", "Count", "Last seen", "Error codes", "Resources"],
                numeric: vec![false, true, false, false, false],
                rows: a
                    .denied
                    .iter()
                    .map(|d| {
                        let mut action = vec![self::action(cat.full_name(d.action))];
                        match &d.refused_by {
                            Some(by) if !by.is_own() || d.granted() => {
                                action.push(text(format!(" (refused by {})", by.describe(p))));
                            }
                            _ => {}
                        }
                        let codes: Vec<String> = d
                            .stats
                            .error_codes
                            .iter()
                            .map(|(c, n)| format!("{c} ×{n}"))
                            .collect();
                        vec![
                            action,
                            num(d.stats.count),
                            num(time(d.stats.last)),
                            num(codes.join(", ")),
                            resources_line(&d.stats.resources, d.stats.resources_truncated),
                        ]
                    })
                    .collect(),
            });
        }
        if !a.failed.is_empty() {
            out.push(Block::Heading(
                4,
                format!("Failed ({})", a.failed.len()),
                String::new(),
            ));
            out.push(Block::Table {
                head: vec![
                    "Action",
                    "Verdict",
                    "Count",
                    "Last seen",
                    "Error codes",
                    "Resources",
                ],
                numeric: vec![false, false, true, false, false, false],
                rows: a
                    .failed
                    .iter()
                    .map(|f| {
                        let codes: Vec<String> = f
                            .stats
                            .error_codes
                            .iter()
                            .map(|(c, n)| format!("{c} ×{n}"))
                            .collect();
                        vec![
                            vec![code(cat.full_name(f.action))],
                            num(a.verdict(f.action).as_str()),
                            num(f.stats.count),
                            num(time(f.stats.last)),
                            num(codes.join(", ")),
                            resources_line(&f.stats.resources, f.stats.resources_truncated),
                        ]
                    })
                    .collect(),
            });
        }
        if !ap.advisor.is_empty() {
            out.push(Block::Heading(
                4,
                format!("Access Advisor ({})", ap.advisor.len()),
                String::new(),
            ));
            out.push(para(vec![text(
                "IAM last-accessed data inside the window, next to the trail's verdict. Access Advisor also counts refused attempts: it supports a verdict, it never proves use.",
            )]));
            out.push(Block::Table {
                head: vec!["Action", "Last accessed", "Region", "Trail verdict"],
                numeric: vec![false, false, false, false],
                rows: ap
                    .advisor
                    .iter()
                    .map(|n| {
                        vec![
                            vec![action(&n.action)],
                            num(time(n.last_accessed)),
                            num(n.region.clone().unwrap_or_default()),
                            num(n.trail_verdict.to_string()),
                        ]
                    })
                    .collect(),
            });
        }
    }
}

fn coverage_blocks(audit: &Audit, out: &mut Vec<Block>) {
    let s = &audit.stats;
    out.push(Block::Heading(
        2,
        "Evidence and coverage".into(),
        "coverage".into(),
    ));
    out.push(para(window_line(audit)));
    out.push(Block::Heading(
        4,
        "CloudTrail records".into(),
        String::new(),
    ));
    let row = |what: &str, n: u64, means: &str| vec![num(what), num(n), num(means)];
    out.push(Block::Table {
        head: vec!["Counter", "Value", "Meaning"],
        numeric: vec![false, true, false],
        rows: vec![
            row("files", s.files, "CloudTrail files read"),
            row(
                "files failed",
                s.files_failed,
                "files that could not be read (named in the problems below)",
            ),
            row(
                "digest files skipped",
                s.digest_files,
                "CloudTrail-Digest files, not records",
            ),
            row("records", s.records, "records read"),
            row(
                "skipped",
                s.records_skipped,
                "records that could not be parsed or lacked required fields",
            ),
            row(
                "duplicates",
                s.duplicates,
                "records seen before under the same eventID, counted once",
            ),
            row(
                "outside window",
                s.outside_window,
                "records before --since or after --until, left out",
            ),
            row(
                "by AWS services",
                s.service_records,
                "records made by AWS services themselves",
            ),
            row("mapped", s.mapped, "records mapped to an IAM action"),
            row(
                "no permission",
                s.no_permission,
                "events that need no IAM permission",
            ),
            row(
                "not IAM",
                s.not_iam,
                "events that are not IAM actions (console sign-in, SSO portal)",
            ),
            row(
                "unmapped",
                s.unmapped,
                "events that could not be mapped to a catalog action",
            ),
        ]
        .into_iter()
        .chain(
            [
                (
                    "network activity",
                    s.network_activity,
                    "VPC endpoint records of calls it let through: a second record, not a use",
                ),
                (
                    "Insights",
                    s.insights,
                    "CloudTrail Insights events: rates of unusual activity, not calls",
                ),
                (
                    "other accounts",
                    s.other_account,
                    "records whose recipient and caller are both other accounts",
                ),
                (
                    "lookup-events files",
                    s.lookup_files,
                    "files read as `aws cloudtrail lookup-events` output",
                ),
            ]
            .into_iter()
            .filter(|(_, n, _)| *n > 0)
            .map(|(what, n, means)| row(what, n, means)),
        )
        .collect(),
    });
    if !s.unmapped_events.is_empty() {
        out.push(para(vec![strong("Unmapped events:")]));
        out.push(Block::List(
            s.unmapped_events
                .iter()
                .map(|(e, n)| vec![code(e), text(format!(" ×{n}"))])
                .collect(),
        ));
    }
    if !s.unknown_error_codes.is_empty() {
        out.push(para(vec![strong(
            "Unknown error codes (no rule of error-codes.yaml knows them; their calls count as attempts, never use):",
        )]));
        out.push(Block::List(
            s.unknown_error_codes
                .iter()
                .map(|(e, n)| vec![code(e), text(format!(" ×{n}"))])
                .collect(),
        ));
    }
    out.push(Block::Heading(
        4,
        "What the trails record".into(),
        String::new(),
    ));
    out.push(Block::List(trail_lines(audit)));
    if !audit.problems.is_empty() {
        out.push(Block::Heading(
            4,
            format!("Input problems ({})", audit.problems.len()),
            String::new(),
        ));
        out.push(Block::List(
            audit
                .problems
                .iter()
                .map(|p| {
                    vec![
                        code(p.file.display().to_string()),
                        text(format!(" at {}: {}", p.location, p.message)),
                    ]
                })
                .collect(),
        ));
    }
    if !audit.missing_policies.is_empty() {
        out.push(para(vec![text(
            "Policies referenced by principals but absent from iam.json (their grants are not counted):",
        )]));
        out.push(Block::List(
            audit
                .missing_policies
                .iter()
                .map(|m| vec![code(m)])
                .collect(),
        ));
    }
    if !audit.others.is_empty() {
        out.push(Block::Heading(
            4,
            format!("Other identities in the records ({})", audit.others.len()),
            String::new(),
        ));
        out.push(para(vec![text(
            "Root, federated and external callers: not IAM principals of the snapshot, so not audited above.",
        )]));
        out.push(Block::Table {
            head: vec!["Identity", "Type", "Records", "Last seen"],
            numeric: vec![false, false, true, false],
            rows: audit
                .others
                .iter()
                .map(|o| {
                    vec![
                        vec![code(&o.arn)],
                        num(o.kind.as_str()),
                        num(o.activity.records),
                        num(if o.activity.records > 0 {
                            time(o.activity.last)
                        } else {
                            "-".to_string()
                        }),
                    ]
                })
                .collect(),
        });
    }
}

fn reproduce_blocks(audit: &Audit, out: &mut Vec<Block>) {
    out.push(Block::Heading(2, "Reproduce".into(), "reproduce".into()));
    out.push(Block::List(vec![
        vec![text(format!(
            "Tool: leastpriv {}",
            env!("CARGO_PKG_VERSION")
        ))],
        vec![text(format!(
            "Action catalog: {} as of {} ({} actions)",
            audit.catalog.source(),
            audit.catalog.date(),
            audit.catalog.len()
        ))],
        vec![text(format!("Generated at: {}", time(audit.generated_at)))],
    ]));
    out.push(para(vec![text(
        "Inputs (sha256 of each single-file input; CloudTrail records are counted above):",
    )]));
    out.push(Block::Table {
        head: vec!["Input", "sha256", "Bytes"],
        numeric: vec![false, false, true],
        rows: audit
            .input_hashes
            .iter()
            .map(|h| {
                vec![
                    vec![code(h.path.display().to_string())],
                    vec![code(&h.sha256)],
                    num(h.bytes),
                ]
            })
            .collect(),
    });
    let i = &audit.inputs;
    let mut cmd = format!("leastpriv audit --iam {}", i.iam.display());
    if let Some(c) = &i.credential_report {
        cmd.push_str(&format!(" --credential-report {}", c.display()));
    }
    if let Some(t) = &i.trails {
        cmd.push_str(&format!(" --trails {}", t.display()));
    }
    if !i.cloudtrail.is_empty() {
        cmd.push_str(" --cloudtrail");
        for c in &i.cloudtrail {
            cmd.push_str(&format!(" {}", c.display()));
        }
    }
    if audit.window.source == WindowSource::Options {
        if let Some(s) = audit.window.start {
            cmd.push_str(&format!(" --since {}", time(s)));
        }
        if let Some(e) = audit.window.end {
            cmd.push_str(&format!(" --until {}", time(e)));
        }
    }
    cmd.push_str(" --format json");
    out.push(para(vec![text(
        "The same audit as JSON (add --rules or --config if they were given to this run):",
    )]));
    out.push(Block::Code {
        lang: "sh",
        text: cmd,
    });
}

/// The report as a document, shared by the Markdown and HTML renderers.
/// Several accounts: a summary per account first, then what crosses accounts.
fn accounts_blocks(audit: &Audit) -> Vec<Block> {
    let view = crate::accounts::view(audit);
    let mut out = vec![Block::Heading(2, "Accounts".into(), "accounts".into())];
    out.push(Block::Table {
        head: vec![
            "Account",
            "Name",
            "Principals",
            "Active",
            "Granted",
            "Used",
            "Unused",
            "Denied",
            "Findings",
            "SCP path",
        ],
        numeric: vec![
            false, false, true, true, true, true, true, true, false, false,
        ],
        rows: view
            .accounts
            .iter()
            .map(|a| {
                vec![
                    vec![Inline::Code(a.account.clone())],
                    num(a.name.as_deref().unwrap_or("")),
                    num(a.principals),
                    num(a.active),
                    num(a.granted),
                    num(a.used),
                    num(a.unused),
                    num(a.denied),
                    num(a.findings_text()),
                    num(a.scp_path.join(" > ")),
                ]
            })
            .collect(),
    });
    out.push(Block::Heading(
        2,
        "Across accounts".into(),
        "across-accounts".into(),
    ));
    if view.cross.is_empty() {
        out.push(para(vec![text(
            "No session chain crosses accounts or breaks, and no finding names another account's principal.",
        )]));
    } else {
        out.push(Block::List(
            view.cross
                .iter()
                .map(|c| vec![Inline::Ticked(crate::accounts::cross_line(audit, c))])
                .collect(),
        ));
    }
    out
}

pub(crate) fn document(audit: &Audit) -> Vec<Block> {
    let cat = audit.catalog;
    let mut out = vec![Block::Heading(
        1,
        "leastpriv audit report".into(),
        "top".into(),
    )];
    out.push(para(vec![text(format!(
        "Generated {} by leastpriv {} with the AWS action catalog from {} as of {}.",
        time(audit.generated_at),
        env!("CARGO_PKG_VERSION"),
        audit.catalog.source(),
        audit.catalog.date()
    ))]));
    for w in audit.warnings() {
        out.push(para(vec![
            strong("Warning:"),
            text(format!(" {}.", w.text)),
        ]));
    }
    out.push(para(window_line(audit)));
    for n in audit.notices.iter().filter(|n| !n.is_warning()) {
        // The notice marks names with backticks: code spans, not escaped text.
        let mut line = vec![strong("Notice:"), text(" ")];
        for (i, part) in n.text.split('`').enumerate() {
            line.push(if i % 2 == 1 { code(part) } else { text(part) });
        }
        out.push(para(line));
    }
    if crate::accounts::is_multi_account(audit) {
        out.extend(accounts_blocks(audit));
    }
    out.push(Block::Heading(2, "Summary".into(), "summary".into()));
    let sums = kind_summaries(audit);
    out.push(Block::Table {
        head: vec![
            "Kind",
            "Principals",
            "Granted",
            "Used",
            "Unused",
            "Unobservable",
            "Denied",
        ],
        numeric: vec![false, true, true, true, true, true, true],
        rows: sums
            .iter()
            .map(|k| {
                vec![
                    num(k.kind.as_str()),
                    num(k.principals),
                    num(k.granted),
                    num(k.used),
                    num(k.unused),
                    num(k.unobservable),
                    num(k.denied),
                ]
            })
            .collect(),
    });
    out.push(para(vec![text(
        "Action counts are summed over the principals of each kind, each action counted once per principal. Granted comes from the policies in iam.json; used and denied from CloudTrail records in the window; kinds from the trust policies, names and activity (see each principal's reason).",
    )]));
    out.push(Block::Chart(sums));
    let mut counts: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for f in &audit.findings {
        *counts.entry(std::cmp::Reverse(f.severity)).or_insert(0) += 1;
    }
    let mut l = vec![text(format!("Findings: {}", audit.findings.len()))];
    for (i, (s, n)) in counts.iter().enumerate() {
        l.push(text(if i == 0 { " (" } else { ", " }));
        l.push(text(format!("{n} ")));
        l.push(Inline::Severity(s.0));
        if i + 1 == counts.len() {
            l.push(text(")"));
        }
    }
    out.push(para(l));
    findings_blocks(audit, &mut out);
    excluded_blocks(audit, &mut out);
    principal_blocks(audit, cat, &mut out);
    coverage_blocks(audit, &mut out);
    reproduce_blocks(audit, &mut out);
    out
}

/// Escapes Markdown-significant characters of plain text.
fn md_text(s: &str, in_table: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '_' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '|' if in_table => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks in its content.
fn md_code(s: &str, in_table: bool) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let s = if in_table { s.replace('|', "\\|") } else { s };
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Splits text on backticks into (is_code, part) pairs; an unpaired
/// backtick is plain text.
pub(crate) fn split_ticks(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        if open > 0 {
            out.push((false, &rest[..open]));
        }
        out.push((true, &rest[open + 1..open + 1 + len]));
        rest = &rest[open + 2 + len..];
    }
    if !rest.is_empty() {
        out.push((false, rest));
    }
    out
}

fn md_line(l: &Line, in_table: bool) -> String {
    let mut out = String::new();
    for i in l {
        match i {
            Inline::Text(s) => out.push_str(&md_text(s, in_table)),
            Inline::Code(s) => out.push_str(&md_code(s, in_table)),
            Inline::Strong(s) => {
                // CommonMark closes `**` only after a non-space: keep the space outside.
                let t = s.trim_end();
                out.push_str("**");
                out.push_str(&md_text(t, in_table));
                out.push_str("**");
                out.push_str(&s[t.len()..]);
            }
            Inline::Ticked(s) => {
                for (is_code, part) in split_ticks(s) {
                    if is_code {
                        out.push_str(&md_code(part, in_table));
                    } else {
                        out.push_str(&md_text(part, in_table));
                    }
                }
            }
            Inline::Severity(s) => {
                out.push_str("**");
                out.push_str(&s.as_str().to_ascii_uppercase());
                out.push_str("**");
            }
            Inline::Action(a) => match super::links::action_url(a) {
                Some(url) => {
                    out.push('[');
                    out.push_str(&md_code(a, in_table));
                    out.push_str("](");
                    out.push_str(&url);
                    out.push(')');
                }
                None => out.push_str(&md_code(a, in_table)),
            },
            Inline::Link(t, url) => {
                out.push('[');
                out.push_str(&md_text(t, in_table));
                out.push_str("](");
                // A URL from our own data; parentheses and spaces would end it.
                out.push_str(
                    &url.replace('(', "%28")
                        .replace(')', "%29")
                        .replace(' ', "%20"),
                );
                out.push(')');
            }
        }
    }
    out
}

/// Renders the audit as Markdown.
pub fn render(audit: &Audit) -> String {
    let mut out = String::new();
    for b in document(audit) {
        match b {
            Block::Heading(level, t, _) => {
                out.push_str(&"#".repeat(usize::from(level)));
                out.push(' ');
                out.push_str(&md_text(&t, false));
                out.push_str("\n\n");
            }
            Block::Para(l) => {
                out.push_str(&md_line(&l, false));
                out.push_str("\n\n");
            }
            Block::List(items) => {
                for l in items {
                    out.push_str("- ");
                    out.push_str(&md_line(&l, false));
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Table {
                head,
                numeric,
                rows,
            } => {
                out.push_str(&format!("| {} |\n", head.join(" | ")));
                let align: Vec<&str> = numeric
                    .iter()
                    .map(|&n| if n { "--:" } else { "---" })
                    .collect();
                out.push_str(&format!("|{}|\n", align.join("|")));
                for r in rows {
                    let cells: Vec<String> = r.iter().map(|c| md_line(c, true)).collect();
                    out.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                out.push('\n');
            }
            Block::Code { lang, text } => {
                let fence = "`".repeat(longest_run(&text, '`').max(2) + 1);
                out.push_str(&format!("{fence}{lang}\n{text}\n{fence}\n\n"));
            }
            Block::Chart(_) => {}
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_split_into_code_and_text() {
        assert_eq!(
            split_ticks("human `bob` can `x"),
            vec![(false, "human "), (true, "bob"), (false, " can `x")]
        );
    }

    #[test]
    fn markdown_escapes_text_and_table_pipes() {
        assert_eq!(md_text("a|b *c* <d>", true), "a\\|b \\*c\\* &lt;d&gt;");
        assert_eq!(md_code("a`b", false), "``a`b``");
    }
}

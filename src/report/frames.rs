//! CSV and Parquet through polars: one row per principal × action with its
//! verdict (`verdict::Verdict`, as every output gives it) and the evidence
//! it was decided on, for analysts' own tools.

use crate::audit::Audit;
use crate::util::time;
use polars::prelude::*;

/// The columns, in order; documented so analysts can rely on them.
pub const COLUMNS: &[&str] = &[
    "principal_arn",
    "principal_name",
    "principal_type",
    "kind",
    "action",
    "access_levels",
    "risk_category",
    "verdict",
    "granted",
    "conditional",
    "count",
    "first_seen",
    "last_seen",
    "resources",
    "invoked_by",
    "detail",
    "grant",
    "refused_by",
    "not_granted",
];

#[derive(Default)]
struct Rows {
    principal_arn: Vec<String>,
    principal_name: Vec<String>,
    principal_type: Vec<&'static str>,
    kind: Vec<&'static str>,
    action: Vec<String>,
    access_levels: Vec<String>,
    risk_category: Vec<Option<String>>,
    verdict: Vec<&'static str>,
    granted: Vec<bool>,
    conditional: Vec<bool>,
    count: Vec<u64>,
    first_seen: Vec<Option<String>>,
    last_seen: Vec<Option<String>>,
    resources: Vec<String>,
    invoked_by: Vec<String>,
    detail: Vec<Option<String>>,
    grant: Vec<Option<&'static str>>,
    refused_by: Vec<Option<&'static str>>,
    not_granted: Vec<String>,
}

/// One row per principal and action: every granted action and every
/// action the records show, with its verdict. A recorded action carries the
/// evidence its verdict was decided on (the successes of a used action, the
/// failures of a used-failed or attempted one, the refusals of a denied
/// one) and the grant decision for the resources they named.
pub fn principal_actions(audit: &Audit) -> PolarsResult<DataFrame> {
    use crate::verdict::{Grant, GrantCheck, Verdict};
    let cat = audit.catalog;
    let mut r = Rows::default();
    for ap in &audit.principals {
        let a = &ap.verdicts;
        let p = &a.principal;
        let mut push = |id: crate::catalog::ActionId,
                        verdict: &Verdict,
                        stats: Option<&crate::usage::ActionStats>,
                        grant: Option<&GrantCheck>,
                        detail: Option<String>| {
            let action = cat.action(id);
            r.principal_arn.push(p.arn.clone());
            r.principal_name.push(p.name.clone());
            r.principal_type.push(p.principal_type.as_str());
            r.kind.push(ap.kind.as_str());
            r.action.push(cat.full_name(id));
            r.access_levels.push(
                action
                    .access_levels
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            r.risk_category
                .push(audit.risk.category(id).map(|c| c.id.clone()));
            r.verdict.push(verdict.as_str());
            match grant {
                Some(g) => {
                    r.granted.push(g.granted.granted());
                    r.conditional.push(g.granted == Grant::Conditional);
                    r.grant.push(Some(g.granted.as_str()));
                    r.not_granted.push(g.not_granted.join(" "));
                }
                None => {
                    r.granted.push(a.grants.granted.contains(id));
                    r.conditional.push(a.grants.conditional.contains(id));
                    r.grant.push(None);
                    r.not_granted.push(String::new());
                }
            }
            r.refused_by.push(match verdict {
                Verdict::Denied(by) => Some(by.code()),
                _ => None,
            });
            r.count.push(stats.map_or(0, |s| s.count));
            r.first_seen.push(stats.map(|s| time(s.first)));
            r.last_seen.push(stats.map(|s| time(s.last)));
            r.resources.push(
                stats
                    .map(|s| s.resources.iter().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
            );
            r.invoked_by.push(
                stats
                    .map(|s| s.invoked_by.keys().collect::<Vec<_>>().join(" "))
                    .unwrap_or_default(),
            );
            r.detail.push(detail);
        };
        let codes =
            |s: &crate::usage::ActionStats| s.error_codes.keys().collect::<Vec<_>>().join(" ");
        // Recorded, unused and unobservable actions are disjoint; rows come
        // by principal, then recorded before unused before unobservable, each
        // by action (as the lists of the JSON report).
        for d in &a.decided {
            let id = d.action;
            match &d.verdict {
                Verdict::Used => {
                    let u = a.used_entry(id);
                    push(
                        id,
                        &d.verdict,
                        u.map(|u| &u.stats),
                        u.map(|u| &u.grant),
                        None,
                    );
                }
                Verdict::Denied(by) => {
                    let t = a.denied_entry(id);
                    let detail =
                        t.map(|t| format!("{}; refused by {}", codes(&t.stats), by.describe(p)));
                    push(
                        id,
                        &d.verdict,
                        t.map(|t| &t.stats),
                        t.map(|t| &t.grant),
                        detail,
                    );
                }
                _ => {
                    let t = a.failed_entry(id);
                    let detail = t.map(|t| {
                        let how: Vec<String> = t
                            .failures
                            .iter()
                            .map(|(o, n)| format!("{o} ×{n}"))
                            .collect();
                        format!("{} ({})", codes(&t.stats), how.join(", "))
                    });
                    push(
                        id,
                        &d.verdict,
                        t.map(|t| &t.stats),
                        t.map(|t| &t.grant),
                        detail,
                    );
                }
            }
        }
        for id in a.unused().iter() {
            push(id, &Verdict::Unused, None, None, None);
        }
        for (id, why) in a.unobservable().iter() {
            push(
                *id,
                &Verdict::Unobservable(why.clone()),
                None,
                None,
                Some(why.describe()),
            );
        }
    }
    let height = r.action.len();
    DataFrame::new(
        height,
        vec![
            Column::new("principal_arn".into(), r.principal_arn),
            Column::new("principal_name".into(), r.principal_name),
            Column::new("principal_type".into(), r.principal_type),
            Column::new("kind".into(), r.kind),
            Column::new("action".into(), r.action),
            Column::new("access_levels".into(), r.access_levels),
            Column::new("risk_category".into(), r.risk_category),
            Column::new("verdict".into(), r.verdict),
            Column::new("granted".into(), r.granted),
            Column::new("conditional".into(), r.conditional),
            Column::new("count".into(), r.count),
            Column::new("first_seen".into(), r.first_seen),
            Column::new("last_seen".into(), r.last_seen),
            Column::new("resources".into(), r.resources),
            Column::new("invoked_by".into(), r.invoked_by),
            Column::new("detail".into(), r.detail),
            Column::new("grant".into(), r.grant),
            Column::new("refused_by".into(), r.refused_by),
            Column::new("not_granted".into(), r.not_granted),
        ],
    )
}

/// The columns of the per-account summary of an organization audit, in
/// order (the accounts export, beside the principal × action one).
pub const ACCOUNT_COLUMNS: &[&str] = &[
    "account",
    "account_name",
    "principals",
    "active_principals",
    "granted",
    "used",
    "unused",
    "denied",
    "findings_critical",
    "findings_high",
    "findings_medium",
    "findings_low",
    "findings_info",
    "scp_path",
];

/// One row per audited account, as the table, JSON, Markdown and HTML
/// reports summarize it first (`accounts::view`); `None` for an audit of
/// one account. `scp_path` is `Name (id)` from the root down, joined by
/// ` > `.
pub fn accounts(audit: &Audit) -> PolarsResult<Option<DataFrame>> {
    if !crate::accounts::is_multi_account(audit) {
        return Ok(None);
    }
    let a = &crate::accounts::summaries(audit);
    let count = |f: fn(&crate::accounts::AccountSummary) -> usize| -> Vec<u64> {
        a.iter().map(|s| f(s) as u64).collect()
    };
    let findings = |severity: &str| -> Vec<u64> {
        a.iter()
            .map(|s| s.findings.get(severity).copied().unwrap_or(0) as u64)
            .collect()
    };
    DataFrame::new(
        a.len(),
        vec![
            Column::new(
                "account".into(),
                a.iter().map(|s| s.account.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "account_name".into(),
                a.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            ),
            Column::new("principals".into(), count(|s| s.principals)),
            Column::new("active_principals".into(), count(|s| s.active)),
            Column::new("granted".into(), count(|s| s.granted)),
            Column::new("used".into(), count(|s| s.used)),
            Column::new("unused".into(), count(|s| s.unused)),
            Column::new("denied".into(), count(|s| s.denied)),
            Column::new("findings_critical".into(), findings("critical")),
            Column::new("findings_high".into(), findings("high")),
            Column::new("findings_medium".into(), findings("medium")),
            Column::new("findings_low".into(), findings("low")),
            Column::new("findings_info".into(), findings("info")),
            Column::new(
                "scp_path".into(),
                a.iter().map(|s| s.scp_path.join(" > ")).collect::<Vec<_>>(),
            ),
        ],
    )
    .map(Some)
}

/// Where the accounts export goes beside `output`: `audit.csv` →
/// `audit.accounts.csv` (`audit.parquet` → `audit.accounts.parquet`).
pub fn accounts_path(output: &std::path::Path) -> std::path::PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.accounts.{ext}"),
        _ => format!("{name}.accounts"),
    };
    output.with_file_name(file)
}

/// The frame as CSV bytes, with a header row.
pub fn csv(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut out = Vec::new();
    CsvWriter::new(&mut out).include_header(true).finish(df)?;
    Ok(out)
}

/// The frame as Parquet bytes (zstd).
pub fn parquet(df: &mut DataFrame) -> PolarsResult<Vec<u8>> {
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(df)?;
    Ok(out)
}

/// An export (`--format parquet|csv`) that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("cannot read export `{path}`: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid export `{path}`: {message}")]
    Format {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("invalid export `{path}`, row {row} (counting from 1 after the header), column `{column}`: {message}")]
    Cell {
        path: std::path::PathBuf,
        row: usize,
        column: &'static str,
        message: String,
    },
}

/// One row of a principal × action export, with the columns `diff` reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    pub principal_arn: String,
    pub principal_name: String,
    pub action: String,
    pub verdict: String,
    pub granted: bool,
    pub count: u64,
    /// Written since the one-verdict exports (one row per principal and
    /// action, verdicts `used-failed`, `attempted`); `None` in older ones,
    /// which wrote a refused or failed action's attempts as extra rows.
    pub grant: Option<String>,
}

/// Reads back the rows of an export written by [`principal_actions`] (as
/// Parquet or CSV), in file order. Columns are found by name, so columns
/// added later (or reordered by another tool) do not break it.
pub fn read_export(path: &std::path::Path) -> Result<Vec<ExportRow>, FrameError> {
    let bytes = std::fs::read(path).map_err(|source| FrameError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let format = |message: String| FrameError::Format {
        path: path.to_path_buf(),
        message,
    };
    let df = if bytes.starts_with(b"PAR1") {
        ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| format(format!("not a readable Parquet file: {e}")))?
    } else {
        // Every column as text: the values are parsed below, with the row named.
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(|e| format(format!("not a readable CSV file: {e}")))?
    };
    let text = |name: &'static str| -> Result<StringChunked, FrameError> {
        let c = df
            .column(name)
            .map_err(|_| format(format!("no `{name}` column")))?;
        let c = c
            .cast(&DataType::String)
            .map_err(|e| format(format!("column `{name}`: {e}")))?;
        c.str()
            .cloned()
            .map_err(|e| format(format!("column `{name}`: {e}")))
    };
    let (arn, name, action, verdict, granted, count) = (
        text("principal_arn")?,
        text("principal_name")?,
        text("action")?,
        text("verdict")?,
        text("granted")?,
        text("count")?,
    );
    let grant = df
        .column("grant")
        .is_ok()
        .then(|| text("grant"))
        .transpose()?;
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let cell = |column: &'static str, message: String| FrameError::Cell {
            path: path.to_path_buf(),
            row: i + 1,
            column,
            message,
        };
        let need = |c: &StringChunked, column: &'static str| {
            c.get(i)
                .map(str::to_string)
                .ok_or_else(|| cell(column, "empty".to_string()))
        };
        let granted = match granted.get(i) {
            Some("true") => true,
            Some("false") => false,
            other => {
                return Err(cell(
                    "granted",
                    format!("expected true or false, found {other:?}"),
                ))
            }
        };
        let count = match count.get(i) {
            None | Some("") => 0,
            Some(s) => s
                .parse()
                .map_err(|_| cell("count", format!("expected a count, found `{s}`")))?,
        };
        rows.push(ExportRow {
            principal_arn: need(&arn, "principal_arn")?,
            principal_name: name.get(i).unwrap_or_default().to_string(),
            action: need(&action, "action")?,
            verdict: need(&verdict, "verdict")?,
            granted,
            count,
            grant: grant
                .as_ref()
                .map(|g| g.get(i).unwrap_or_default().to_string()),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::accounts_path;
    use std::path::Path;

    #[test]
    fn the_accounts_export_goes_beside_the_export() {
        for (out, want) in [
            ("out/audit.csv", "out/audit.accounts.csv"),
            ("audit.parquet", "audit.accounts.parquet"),
            ("out/audit", "out/audit.accounts"),
            ("out/.csv", "out/.csv.accounts"),
        ] {
            assert_eq!(accounts_path(Path::new(out)), Path::new(want), "{out}");
        }
    }
}

//! The activity store: aggregated usage kept beside the snapshot so that a
//! later audit need not re-read the logs.
//!
//! ```text
//! SNAPSHOT/activity.parquet  one row per principal, action and outcome
//! SNAPSHOT/activity.json     the window, the rules it was mapped with, the
//!                            logs it was read from, per-identity facts,
//!                            ingest counts and problems, and the SHA-256 of
//!                            the Parquet file, which binds the pair
//! ```
//!
//! The Parquet columns are documented in [`COLUMNS`] for analysts' own tools.
//! A store is used only for the window it was aggregated for, with the same
//! mapping rules, and (when the logs are still there) the same log files;
//! otherwise the audit re-reads the logs, or says why it cannot.

use super::activity::{
    ActionStats, Activity, ActorActivity, IngestStats, Outcome, ResourceSample, SessionsGranted,
};
use super::attribution::ActorKind;
use crate::catalog::Catalog;
use crate::ingest::cloudtrail::Problem;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The sidecar's schema tag; the Parquet columns are part of it. v2: the
/// outcomes of `rules/error-codes.yaml` (`failed`, `failed-likely`,
/// `dry-run` beside `success`, `denied`, `error`) and `refused_by`. v3:
/// `resource_summary`, every resource of a row whose sample overflowed.
pub const SCHEMA: &str = "leastpriv.activity/v3";
/// Older schemas still read: a v2 store has no resource summaries, so its
/// rows with more resources than the sample are kept at today's grant by
/// `recommend` (their summary is marked incomplete), as before v3.
const READABLE: &[&str] = &["leastpriv.activity/v2"];
/// The schemas of older stores, which are refused with the reason.
const OLD_SCHEMAS: &[(&str, &str)] = &[(
    "leastpriv.activity/v1",
    "its outcomes predate the error-code rules (a failed call after authorization was an \
     `error`, and refusals named no policy type)",
)];
pub const PARQUET: &str = "activity.parquet";
pub const SIDECAR: &str = "activity.json";

/// The Parquet columns, in order.
pub const COLUMNS: &[&str] = &[
    "principal",
    "principal_kind",
    "action",
    "outcome",
    "count",
    "first_seen_unix",
    "last_seen_unix",
    "resources",
    "resources_truncated",
    "invoked_by",
    "error_codes",
    "refused_by",
    "resource_summary",
];

/// A store that cannot be written or read. Each names the file and place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write `{path}`: {message}")]
    Write { path: PathBuf, message: String },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("`{path}`: row {row}: {message}")]
    Row {
        path: PathBuf,
        row: usize,
        message: String,
    },
    #[error("`{path}` cannot serve this audit, and there are no logs to re-read: {reason}")]
    Unusable { path: PathBuf, reason: String },
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
}

/// Where the aggregated rows came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Log files read by leastpriv (`audit --save-activity`, `pull`).
    CloudtrailFiles,
    /// One aggregation query in Amazon Athena (`pull --athena`).
    Athena,
}

/// The log files a store was read from: when they change, the store is stale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsFingerprint {
    pub files: u64,
    pub bytes: u64,
    /// SHA-256 over each file's path (relative to its root), size and mtime.
    pub sha256: String,
}

/// Everything of an [`Activity`] that is not a row, plus what the rows mean.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub schema: String,
    pub source: Source,
    /// The window the rows were aggregated for (Unix seconds, inclusive; `None` = open).
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// [`crate::usage::mapping::EventMapper::fingerprint`] of the rules used.
    pub mapping: String,
    pub catalog_date: String,
    pub logs: Option<LogsFingerprint>,
    pub rows: u64,
    pub parquet_sha256: String,
    /// The ingest counts, field for field (`IngestStats` is part of this schema).
    pub stats: IngestStats,
    pub problems: Vec<StoredProblem>,
    pub actors: BTreeMap<String, ActorFacts>,
    pub sessions_granted: BTreeMap<String, StoredSessions>,
    /// What the source could not provide (e.g. Athena rows carry no session names).
    #[serde(default)]
    pub limitations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredProblem {
    pub file: PathBuf,
    pub location: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSessions {
    pub count: u64,
    pub tags: BTreeMap<String, BTreeSet<String>>,
    pub callers: BTreeMap<String, u64>,
    /// Added in 0.x (issue 24); absent from older sidecars.
    #[serde(default)]
    pub workloads: BTreeMap<String, u64>,
}

/// Per-identity facts that are not per action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActorFacts {
    pub kind: String,
    pub records: u64,
    pub first: i64,
    pub last: i64,
    pub source_identities: BTreeMap<String, u64>,
    pub sessions: BTreeMap<String, u64>,
    pub resources_by_source_identity: BTreeMap<String, ResourceSample>,
    pub sessions_without_source_identity: u64,
    pub non_iam: BTreeMap<String, u64>,
    pub unmapped: BTreeMap<String, u64>,
    #[serde(default)]
    pub identity_center_users: BTreeMap<String, u64>,
    #[serde(default)]
    pub federated_users: BTreeMap<String, u64>,
    #[serde(default)]
    pub passed_roles: BTreeMap<String, crate::usage::activity::PassedRole>,
    #[serde(default)]
    pub passes_unknown: u64,
    /// Calls by channel, changes by service and channel, and calls whose
    /// session named no person; absent from sidecars written before them
    /// (whose fingerprint no longer matches, so their logs are re-read).
    #[serde(default)]
    pub channels: BTreeMap<String, u64>,
    #[serde(default)]
    pub changes: Vec<StoredChange>,
    #[serde(default)]
    pub calls_without_user_identity: u64,
}

/// One entry of [`ActorFacts::changes`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChange {
    pub service: String,
    /// The action family (access level, as AWS spells it); absent from
    /// sidecars written before it, whose changes read as Write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    pub channel: String,
    #[serde(flatten)]
    pub stats: crate::usage::activity::ChangeStats,
}

fn kind_from(s: &str) -> Option<ActorKind> {
    [
        ActorKind::Principal,
        ActorKind::Root,
        ActorKind::Federated,
        ActorKind::External,
        ActorKind::NotInSnapshot,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fingerprints the log files under `roots` (as the ingestion would find them).
pub fn logs_fingerprint(roots: &[PathBuf]) -> LogsFingerprint {
    let found = crate::ingest::cloudtrail::discover(roots);
    let mut h = Sha256::new();
    let mut bytes = 0;
    for f in &found.files {
        let rel = roots
            .iter()
            .find_map(|r| f.strip_prefix(r).ok())
            .unwrap_or(f);
        let md = std::fs::metadata(f).ok();
        let size = md.as_ref().map_or(0, |m| m.len());
        let mtime = md
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        bytes += size;
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        h.update(size.to_le_bytes());
        h.update(mtime.to_le_bytes());
    }
    LogsFingerprint {
        files: found.files.len() as u64,
        bytes,
        sha256: hex(&h.finalize()),
    }
}

/// What the caller knows about the rows it saves.
#[derive(Clone, Debug)]
pub struct SaveOptions {
    pub source: Source,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub mapping: String,
    pub logs: Option<LogsFingerprint>,
    pub limitations: Vec<String>,
}

/// The activity as a frame with [`COLUMNS`], sorted by principal, action and outcome.
pub fn frame(cat: &Catalog, activity: &Activity) -> PolarsResult<DataFrame> {
    let mut keys: Vec<(&String, String, Outcome, &ActionStats, &'static str)> = Vec::new();
    for (arn, a) in &activity.actors {
        for ((id, outcome), s) in &a.actions {
            keys.push((arn, cat.full_name(*id), *outcome, s, a.kind.as_str()));
        }
    }
    keys.sort_by(|x, y| (x.0, &x.1, x.2).cmp(&(y.0, &y.1, y.2)));
    let n = keys.len();
    let mut principal = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut action = Vec::with_capacity(n);
    let mut outcome = Vec::with_capacity(n);
    let mut count = Vec::with_capacity(n);
    let mut first = Vec::with_capacity(n);
    let mut last = Vec::with_capacity(n);
    let mut resources = Vec::with_capacity(n);
    let mut truncated = Vec::with_capacity(n);
    let mut invoked_by = Vec::with_capacity(n);
    let mut error_codes = Vec::with_capacity(n);
    let mut refused_by = Vec::with_capacity(n);
    let mut summary: Vec<Option<String>> = Vec::with_capacity(n);
    for (arn, name, o, s, k) in keys {
        principal.push(arn.as_str());
        kind.push(k);
        action.push(name);
        outcome.push(o.as_str());
        count.push(s.count);
        first.push(s.first);
        last.push(s.last);
        resources.push(Series::new(
            PlSmallStr::EMPTY,
            s.resources.iter().collect::<Vec<_>>(),
        ));
        truncated.push(s.resources_truncated);
        invoked_by.push(serde_json::to_string(&s.invoked_by).unwrap_or_default());
        error_codes.push(serde_json::to_string(&s.error_codes).unwrap_or_default());
        refused_by.push(serde_json::to_string(&s.refused_by).unwrap_or_default());
        summary.push(
            s.summary
                .as_ref()
                .and_then(|x| serde_json::to_string(x).ok()),
        );
    }
    let resources = if resources.is_empty() {
        Series::new_empty(
            "resources".into(),
            &DataType::List(Box::new(DataType::String)),
        )
    } else {
        Series::new("resources".into(), resources)
    };
    DataFrame::new(
        n,
        vec![
            Column::new("principal".into(), principal),
            Column::new("principal_kind".into(), kind),
            Column::new("action".into(), action),
            Column::new("outcome".into(), outcome),
            Column::new("count".into(), count),
            Column::new("first_seen_unix".into(), first),
            Column::new("last_seen_unix".into(), last),
            resources.into_column(),
            Column::new("resources_truncated".into(), truncated),
            Column::new("invoked_by".into(), invoked_by),
            Column::new("error_codes".into(), error_codes),
            Column::new("refused_by".into(), refused_by),
            Column::new("resource_summary".into(), summary),
        ],
    )
}

/// Writes `activity.parquet` and then `activity.json` into `dir`, each atomically.
/// A crash between the two leaves a pair whose hashes disagree, which [`load`] refuses.
pub fn save(
    dir: &Path,
    cat: &Catalog,
    activity: &Activity,
    opts: SaveOptions,
) -> Result<Meta, StoreError> {
    let ppath = dir.join(PARQUET);
    let wrap = |path: &Path, message: String| StoreError::Write {
        path: path.to_path_buf(),
        message,
    };
    let mut df = frame(cat, activity).map_err(|e| wrap(&ppath, e.to_string()))?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut df)
        .map_err(|e| wrap(&ppath, e.to_string()))?;
    let meta = Meta {
        schema: SCHEMA.to_string(),
        source: opts.source,
        since: opts.since,
        until: opts.until,
        mapping: opts.mapping,
        catalog_date: cat.date().to_string(),
        logs: opts.logs,
        rows: df.height() as u64,
        parquet_sha256: hex(&Sha256::digest(&bytes)),
        stats: activity.stats.clone(),
        problems: activity
            .problems
            .iter()
            .map(|p| StoredProblem {
                file: p.file.clone(),
                location: p.location.clone(),
                message: p.message.clone(),
            })
            .collect(),
        actors: activity
            .actors
            .iter()
            .map(|(arn, a)| {
                (
                    arn.clone(),
                    ActorFacts {
                        kind: a.kind.as_str().to_string(),
                        records: a.records,
                        first: a.first,
                        last: a.last,
                        source_identities: a.source_identities.to_btree(),
                        sessions: a.sessions.to_btree(),
                        resources_by_source_identity: a.resources_by_source_identity.to_btree(),
                        sessions_without_source_identity: a.sessions_without_source_identity,
                        non_iam: a.non_iam.to_btree(),
                        unmapped: a.unmapped.to_btree(),
                        identity_center_users: a.identity_center_users.to_btree(),
                        federated_users: a.federated_users.to_btree(),
                        passed_roles: a.passed_roles.clone(),
                        passes_unknown: a.passes_unknown,
                        channels: a.channels.to_btree(),
                        changes: a
                            .changes
                            .iter()
                            .map(|c| StoredChange {
                                service: c.service.to_string(),
                                family: Some(c.family.as_str().to_string()),
                                channel: c.channel.to_string(),
                                stats: c.stats.clone(),
                            })
                            .collect(),
                        calls_without_user_identity: a.calls_without_user_identity,
                    },
                )
            })
            .collect(),
        sessions_granted: activity
            .sessions_granted
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    StoredSessions {
                        count: v.count,
                        tags: v.tags.clone(),
                        callers: v.callers.to_btree(),
                        workloads: v.workloads.clone(),
                    },
                )
            })
            .collect(),
        limitations: opts.limitations,
    };
    crate::output::write_atomic(&ppath, &bytes).map_err(|e| wrap(&ppath, e.source.to_string()))?;
    let spath = dir.join(SIDECAR);
    let text = serde_json::to_vec_pretty(&meta).map_err(|e| wrap(&spath, e.to_string()))?;
    crate::output::write_atomic(&spath, &text).map_err(|e| wrap(&spath, e.source.to_string()))?;
    Ok(meta)
}

/// Reads the sidecar only: enough to decide whether the store fits an audit.
pub fn read_meta(sidecar: &Path) -> Result<Meta, StoreError> {
    let bytes = crate::ingest::read_file(sidecar)?;
    let meta: Meta = crate::ingest::deserialize(&bytes, sidecar)?;
    if meta.schema != SCHEMA && !READABLE.contains(&meta.schema.as_str()) {
        let why = OLD_SCHEMAS
            .iter()
            .find(|(s, _)| *s == meta.schema)
            .map_or(String::new(), |(_, why)| format!(" ({why})"));
        return Err(StoreError::Invalid {
            path: sidecar.to_path_buf(),
            message: format!(
                "schema `{}` is not `{SCHEMA}`{why}: re-read the logs (`audit --reread-logs \
                 --save-activity`, or `pull` again) to re-create it with this version",
                meta.schema
            ),
        });
    }
    Ok(meta)
}

/// Reads the rows of a store whose sidecar is `meta`, into an [`Activity`].
/// Rows naming an action the catalog does not know are problems, not silence.
pub fn load(dir: &Path, cat: &Catalog, meta: &Meta) -> Result<Activity, StoreError> {
    let ppath = dir.join(PARQUET);
    let bytes = crate::ingest::read_file(&ppath)?;
    let invalid = |message: String| StoreError::Invalid {
        path: ppath.clone(),
        message,
    };
    if hex(&Sha256::digest(&bytes)) != meta.parquet_sha256 {
        return Err(invalid(format!(
            "does not match `{SIDECAR}` (its SHA-256 differs): the pair was not written by one run"
        )));
    }
    let df = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
    let col = |name: &str| -> Result<&Series, StoreError> {
        df.column(name)
            .map(Column::as_materialized_series)
            .map_err(|_| invalid(format!("column `{name}` is missing")))
    };
    let typed = |name: &str, e: PolarsError| invalid(format!("column `{name}`: {e}"));
    let principal = col("principal")?.str().map_err(|e| typed("principal", e))?;
    let kind = col("principal_kind")?
        .str()
        .map_err(|e| typed("principal_kind", e))?;
    let action = col("action")?.str().map_err(|e| typed("action", e))?;
    let outcome = col("outcome")?.str().map_err(|e| typed("outcome", e))?;
    let count = col("count")?.u64().map_err(|e| typed("count", e))?;
    let first = col("first_seen_unix")?
        .i64()
        .map_err(|e| typed("first_seen_unix", e))?;
    let last = col("last_seen_unix")?
        .i64()
        .map_err(|e| typed("last_seen_unix", e))?;
    let resources = col("resources")?
        .list()
        .map_err(|e| typed("resources", e))?;
    let truncated = col("resources_truncated")?
        .bool()
        .map_err(|e| typed("resources_truncated", e))?;
    let invoked_by = col("invoked_by")?
        .str()
        .map_err(|e| typed("invoked_by", e))?;
    let error_codes = col("error_codes")?
        .str()
        .map_err(|e| typed("error_codes", e))?;
    let refused_by = col("refused_by")?
        .str()
        .map_err(|e| typed("refused_by", e))?;
    // v3 on; a v2 store has none.
    let summaries = if meta.schema == SCHEMA {
        Some(
            col("resource_summary")?
                .str()
                .map_err(|e| typed("resource_summary", e))?,
        )
    } else {
        None
    };
    if df.height() as u64 != meta.rows {
        return Err(invalid(format!(
            "{} rows, but `{SIDECAR}` says {}",
            df.height(),
            meta.rows
        )));
    }

    let mut activity = Activity {
        stats: meta.stats.clone(),
        ..Activity::default()
    };
    for (arn, f) in &meta.actors {
        let kind = kind_from(&f.kind).ok_or_else(|| StoreError::Invalid {
            path: dir.join(SIDECAR),
            message: format!("actor `{arn}`: unknown kind `{}`", f.kind),
        })?;
        let mut a = ActorActivity::empty(kind);
        a.records = f.records;
        a.first = f.first;
        a.last = f.last;
        a.source_identities = names(&f.source_identities);
        a.sessions = names(&f.sessions);
        a.resources_by_source_identity = names(&f.resources_by_source_identity);
        a.sessions_without_source_identity = f.sessions_without_source_identity;
        a.non_iam = names(&f.non_iam);
        a.unmapped = names(&f.unmapped);
        a.identity_center_users = names(&f.identity_center_users);
        a.federated_users = names(&f.federated_users);
        a.passed_roles = f.passed_roles.clone();
        a.passes_unknown = f.passes_unknown;
        a.channels = names(&f.channels);
        for c in &f.changes {
            let family = c
                .family
                .as_deref()
                .and_then(crate::catalog::AccessLevel::parse)
                .unwrap_or(crate::catalog::AccessLevel::Write);
            *a.changes.stats_mut(&c.service, family, &c.channel) = c.stats.clone();
        }
        a.calls_without_user_identity = f.calls_without_user_identity;
        activity.actors.insert(arn.clone(), a);
    }
    for (k, v) in &meta.sessions_granted {
        activity.sessions_granted.insert(
            k.clone(),
            SessionsGranted {
                count: v.count,
                tags: v.tags.clone(),
                callers: names(&v.callers),
                workloads: v.workloads.clone(),
            },
        );
    }
    activity.problems = meta
        .problems
        .iter()
        .map(|p| Problem {
            file: p.file.clone(),
            location: p.location.clone(),
            message: p.message.clone(),
        })
        .collect();

    for row in 0..df.height() {
        let row_err = |message: String| StoreError::Row {
            path: ppath.clone(),
            row,
            message,
        };
        let need = |v: Option<&str>, name: &str| {
            v.map(str::to_string)
                .ok_or_else(|| row_err(format!("`{name}` is null")))
        };
        let arn = need(principal.get(row), "principal")?;
        let kind_s = need(kind.get(row), "principal_kind")?;
        let name = need(action.get(row), "action")?;
        let out_s = need(outcome.get(row), "outcome")?;
        let kind = kind_from(&kind_s).ok_or_else(|| row_err(format!("unknown kind `{kind_s}`")))?;
        let o =
            Outcome::parse(&out_s).ok_or_else(|| row_err(format!("unknown outcome `{out_s}`")))?;
        let list = resources.get_as_series(row);
        let mut res = ResourceSample::default();
        if let Some(s) = list {
            let s = s.str().map_err(|e| row_err(format!("`resources`: {e}")))?;
            for r in (0..s.len()).filter_map(|i| s.get(i)) {
                res.insert(r);
            }
        }
        let map = |v: Option<&str>, name: &str| -> Result<super::activity::Counts, StoreError> {
            serde_json::from_str(v.unwrap_or("{}"))
                .map_err(|e| row_err(format!("`{name}` is not a JSON map of counts: {e}")))
        };
        let resources_truncated = truncated.get(row).unwrap_or(false);
        let summary = match summaries.and_then(|s| s.get(row)) {
            Some(text) => Some(Box::new(
                serde_json::from_str::<crate::usage::summary::ResourceSummary>(text)
                    .map_err(|e| row_err(format!("`resource_summary`: {e}")))?,
            )),
            // A row whose sample overflowed but that has no summary (a v2
            // store): one made of the sample, marked incomplete, so that
            // nothing is narrowed to it.
            None if resources_truncated => {
                let mut s: crate::usage::summary::ResourceSummary = res.iter().collect();
                s.mark_incomplete();
                Some(Box::new(s))
            }
            None => None,
        };
        if summary.is_some() != resources_truncated {
            return Err(row_err(
                "`resource_summary` is set on a row whose resources are not truncated".into(),
            ));
        }
        let stats = ActionStats {
            summary,
            count: count
                .get(row)
                .ok_or_else(|| row_err("`count` is null".into()))?,
            first: first
                .get(row)
                .ok_or_else(|| row_err("`first_seen_unix` is null".into()))?,
            last: last
                .get(row)
                .ok_or_else(|| row_err("`last_seen_unix` is null".into()))?,
            resources: res,
            resources_truncated,
            invoked_by: map(invoked_by.get(row), "invoked_by")?,
            error_codes: map(error_codes.get(row), "error_codes")?,
            refused_by: map(refused_by.get(row), "refused_by")?,
        };
        let Some(id) = cat.lookup(&name) else {
            activity.problems.push(Problem {
                file: ppath.clone(),
                location: format!("row {row}"),
                message: format!(
                    "`{name}` is not in the action catalog of {}: {} call(s) of it are not counted",
                    cat.date(),
                    stats.count
                ),
            });
            continue;
        };
        activity
            .actors
            .entry(arn)
            .or_insert_with(|| ActorActivity::empty(kind))
            .actions
            .insert((id, o), stats);
    }
    Ok(activity)
}

/// A stored map of names as the activity holds it.
fn names<V: Clone>(m: &BTreeMap<String, V>) -> crate::usage::name_map::NameMap<V> {
    m.iter().map(|(k, v)| (k, v.clone())).collect()
}

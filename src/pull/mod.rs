//! `pull`: write a snapshot from a live account, with read-only calls only.
//!
//! ```text
//! OUT/manifest.json               what was fetched, from where, and what failed
//! OUT/iam.json                    GetAccountAuthorizationDetails, documents decoded
//! OUT/credential-report.csv       GenerateCredentialReport + GetCredentialReport
//! OUT/access-keys.json            GetAccessKeyLastUsed per key (ids masked)
//! OUT/last-accessed.json          Access Advisor, action level, per principal
//! OUT/trails.json                 DescribeTrails + GetEventSelectors
//! OUT/cloudtrail/s3/BUCKET/KEY    trail log files, as delivered
//! OUT/cloudtrail/lookup/REGION.ndjson   LookupEvents records
//! ```
//!
//! The snapshot is assembled in `OUT.partial` and renamed into place at the
//! end, so a failed pull never leaves a half snapshot. A re-run resumes: log
//! files already fetched (same key and ETag, in `OUT.partial` or in the
//! previous `OUT`) are not downloaded again.

pub mod athena;
mod aws;
mod iam;
mod lookup;
pub use crate::ingest::manifest;
mod s3;
mod trails;

pub use aws::AwsOptions;
use manifest::{Gap, Manifest};

use crate::catalog::Catalog;
use crate::progress::ProgressHandle;
use std::path::{Path, PathBuf};

/// Where the events come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventSource {
    /// The trail's S3 bucket when there is one, LookupEvents otherwise.
    #[default]
    Auto,
    /// Only the trail bucket (found through DescribeTrails or given).
    S3,
    /// Only LookupEvents (management events, last 90 days).
    Lookup,
    /// IAM and trails only, no events.
    None,
}

/// Knobs of one pull.
#[derive(Clone, Debug)]
pub struct PullOptions {
    pub out: PathBuf,
    /// The catalog the activity store's rows are mapped with.
    pub catalog: &'static Catalog,
    pub aws: AwsOptions,
    /// Window, Unix seconds.
    pub since: i64,
    pub until: i64,
    pub source: EventSource,
    /// `s3://bucket/prefix` given explicitly instead of the trails' buckets.
    pub trail_bucket: Option<String>,
    /// Access Advisor (one job per principal) on or off.
    pub access_advisor: bool,
    /// Concurrent downloads and Access Advisor jobs.
    pub concurrency: usize,
    /// `MaxItems` of GetAccountAuthorizationDetails pages (AWS allows 1000).
    pub iam_page_size: i32,
    pub progress: ProgressHandle,
    /// The manifest's timestamp (tests fix it); `None` = now.
    pub now: Option<i64>,
    /// Aggregate the events in Amazon Athena instead of downloading them.
    pub athena: Option<athena::AthenaOptions>,
}

/// What stops a pull. Partial failures (one region, one object) do not: they
/// are recorded in the manifest.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("AWS {operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] crate::usage::store::StoreError),
}

impl PullError {
    pub(crate) fn aws<E>(operation: &'static str, e: E) -> Self
    where
        E: std::error::Error + 'static,
    {
        PullError::Aws {
            operation,
            message: aws::describe(&e),
        }
    }
}

/// What a pull fetched, per account, for the summary.
#[derive(Clone, Debug)]
pub struct PullSummary {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// Pulls one snapshot per account: into `out` for one account, into
/// `out/ACCOUNT_ID/` for several (`--assume-role` given more than once).
/// With several accounts, one that cannot be reached (its role cannot be
/// assumed, its IAM cannot be read) does not stop the others: it is listed
/// in `failed`.
pub async fn run(opts: &PullOptions) -> Result<PullOutcome, PullError> {
    let base = aws::load(&opts.aws).await;
    let targets: Vec<Option<String>> = if opts.aws.assume_roles.is_empty() {
        vec![None]
    } else {
        opts.aws.assume_roles.iter().cloned().map(Some).collect()
    };
    let several = targets.len() > 1;
    let athena_rows = match &opts.athena {
        Some(a) => Some(athena_query(opts, a, &base, &targets).await?),
        None => None,
    };
    let mut out = PullOutcome::default();
    for role in targets {
        match pull_target(opts, &base, role.clone(), several, athena_rows.as_ref()).await {
            Ok(s) => out.pulled.push(s),
            Err(e) if several => out.failed.push((role.unwrap_or_default(), e.to_string())),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The accounts pulled, and those that could not be.
#[derive(Clone, Debug, Default)]
pub struct PullOutcome {
    pub pulled: Vec<PullSummary>,
    /// Role ARN and why.
    pub failed: Vec<(String, String)>,
}

async fn pull_target(
    opts: &PullOptions,
    base: &aws_config::SdkConfig,
    role: Option<String>,
    several: bool,
    athena_rows: Option<&AthenaRows>,
) -> Result<PullSummary, PullError> {
    let conf = match &role {
        Some(arn) => aws::assume(base, arn).await,
        None => base.clone(),
    };
    let clients = aws::Clients::new(&conf, &opts.aws);
    let who = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| PullError::aws("sts:GetCallerIdentity", e))?;
    let account = who.account().unwrap_or_default().to_string();
    let dir = if several {
        opts.out.join(&account)
    } else {
        opts.out.clone()
    };
    let manifest = pull_account(
        opts,
        &clients,
        &dir,
        account,
        who.arn().unwrap_or_default().to_string(),
        role,
        athena_rows,
    )
    .await?;
    Ok(PullSummary { dir, manifest })
}

async fn pull_account(
    opts: &PullOptions,
    clients: &aws::Clients,
    dir: &Path,
    account: String,
    caller: String,
    assumed_role: Option<String>,
    athena_rows: Option<&AthenaRows>,
) -> Result<Manifest, PullError> {
    let work = Workdir::open(dir)?;
    let mut m = Manifest::new(
        account,
        caller,
        assumed_role,
        opts.since,
        opts.until,
        opts.now.unwrap_or_else(|| chrono::Utc::now().timestamp()),
    );
    m.regions = clients.regions.clone();

    iam::pull(clients, opts, &work.path, &mut m).await?;
    let trail_list = trails::pull(clients, &work.path, &mut m).await?;

    let buckets = match &opts.trail_bucket {
        Some(b) => vec![s3::Location::parse(b)?],
        None => trail_list
            .iter()
            .filter_map(|t| {
                t.bucket.as_ref().map(|b| s3::Location {
                    bucket: b.clone(),
                    prefix: t.prefix.clone().unwrap_or_default(),
                })
            })
            .collect(),
    };
    if let Some(rows) = athena_rows {
        let none = Vec::new();
        let mine = rows.rows.get(&m.account_id).unwrap_or(&none);
        save_athena_activity(opts, &work.path, &rows.table, mine, &mut m)?;
        m.event_source = "athena".into();
        m.finished_at = chrono::Utc::now().timestamp();
        if opts.now.is_some() {
            m.finished_at = m.pulled_at;
        }
        work.write_json("manifest.json", &m)?;
        work.commit()?;
        return Ok(m);
    }
    let use_s3 = match opts.source {
        EventSource::S3 => true,
        EventSource::Auto => !buckets.is_empty(),
        EventSource::Lookup | EventSource::None => false,
    };
    let mut s3_ok = false;
    if use_s3 {
        if buckets.is_empty() {
            m.gaps.push(Gap::new(
                "s3",
                "trails",
                "no trail delivers to S3 and no --trail-bucket was given",
            ));
        }
        let previous = work.previous_objects();
        s3_ok = s3::pull(clients, opts, &buckets, &work.path, &previous, &mut m).await?;
        m.event_source = "s3".into();
    }
    let use_lookup = match opts.source {
        EventSource::Lookup => true,
        // No readable trail bucket: LookupEvents still has 90 days of
        // management events, better than no evidence at all.
        EventSource::Auto => !s3_ok,
        EventSource::S3 | EventSource::None => false,
    };
    if use_lookup {
        lookup::pull(clients, opts, &work.path, &mut m).await?;
        m.event_source = if use_s3 { "s3+lookup" } else { "lookup" }.into();
    }
    if opts.source == EventSource::None {
        m.event_source = "none".into();
    } else {
        save_activity(opts, &work.path)?;
    }
    m.finished_at = chrono::Utc::now().timestamp();
    if opts.now.is_some() {
        m.finished_at = m.pulled_at;
    }
    work.write_json("manifest.json", &m)?;
    work.commit()?;
    Ok(m)
}

/// What Athena returned, per account, and the table it read.
pub(crate) struct AthenaRows {
    table: String,
    rows: std::collections::BTreeMap<String, Vec<athena::Row>>,
}

/// The one aggregation query for every account of the pull, with the
/// caller's own credentials (Athena runs where the trail bucket is).
async fn athena_query(
    opts: &PullOptions,
    a: &athena::AthenaOptions,
    base: &aws_config::SdkConfig,
    targets: &[Option<String>],
) -> Result<AthenaRows, PullError> {
    let Some(bucket) = &opts.trail_bucket else {
        return Err(PullError::Usage(
            "`--athena` needs `--trail-bucket s3://BUCKET[/PREFIX]`: the bucket the trail delivers to".into(),
        ));
    };
    let loc = s3::Location::parse(bucket)?;
    let mut accounts = Vec::new();
    for t in targets {
        match t {
            // arn:PARTITION:iam::ACCOUNT:role/NAME
            Some(arn) => accounts.push(arn.split(':').nth(4).unwrap_or_default().to_string()),
            None => {
                let who = aws_sdk_sts::Client::new(base)
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| PullError::aws("sts:GetCallerIdentity", e))?;
                accounts.push(who.account().unwrap_or_default().to_string());
            }
        }
    }
    let clients = aws::Clients::new(base, &opts.aws);
    let s3 = s3::bucket_client(&clients, &loc.bucket).await;
    let org = athena::org_layout(&s3, &loc.bucket, &loc.prefix).await?;
    let spec = athena::TableSpec::new(
        &a.database,
        a.table.as_deref(),
        &loc.bucket,
        &loc.prefix,
        org.as_deref(),
        &accounts,
    )?;
    opts.progress.start("aggregating in Athena", 0);
    let rows = athena::query(&clients.conf, opts, a, &spec).await;
    opts.progress.finish();
    Ok(AthenaRows {
        table: format!("{}.{}", spec.database, spec.table),
        rows: rows?,
    })
}

/// Folds one account's Athena rows into its snapshot's activity store.
fn save_athena_activity(
    opts: &PullOptions,
    dir: &Path,
    table: &str,
    rows: &[athena::Row],
    m: &mut Manifest,
) -> Result<(), PullError> {
    use crate::usage::store;
    let cat = opts.catalog;
    let mapper = crate::usage::mapping::EventMapper::embedded(cat)
        .map_err(|e| PullError::Usage(e.to_string()))?;
    let mut activity = crate::usage::Activity::default();
    let bad = athena::fold_rows(rows, &mapper, &mut activity);
    athena::note_bad_rows(bad, m);
    store::save(
        dir,
        cat,
        &activity,
        store::SaveOptions {
            source: store::Source::Athena,
            since: Some(opts.since),
            until: Some(opts.until),
            mapping: mapper.fingerprint().to_string(),
            logs: None,
            limitations: vec![
                format!(
                    "aggregated by Amazon Athena from `{table}`: {} rows",
                    rows.len()
                ),
                "no session names (counted per role, not per session)".into(),
                "no session tags from AssumeRole calls (request parameters are not queried)".into(),
                "resources only from the records' `resources` field".into(),
            ],
        },
    )?;
    Ok(())
}

/// Aggregates the fetched logs into the snapshot's activity store, so the
/// audit need not parse them again.
fn save_activity(opts: &PullOptions, dir: &Path) -> Result<(), PullError> {
    use crate::usage::store;
    let cat = opts.catalog;
    let mapper = crate::usage::mapping::EventMapper::embedded(cat)
        .map_err(|e| PullError::Usage(e.to_string()))?;
    let logs = vec![dir.join("cloudtrail")];
    let fingerprint = store::logs_fingerprint(&logs);
    // The pulled account(s), as the audit takes them from iam.json.
    let accounts = crate::ingest::iam::load(&dir.join("iam.json"))
        .map(|a| a.account_ids())
        .unwrap_or_default();
    opts.progress.start("aggregating activity", 0);
    let activity = crate::usage::ingest(
        &logs,
        &mapper,
        crate::usage::IngestOptions {
            since: Some(opts.since),
            until: Some(opts.until),
            accounts: (!accounts.is_empty()).then(|| std::sync::Arc::new(accounts)),
        },
    );
    opts.progress.finish();
    store::save(
        dir,
        cat,
        &activity,
        store::SaveOptions {
            source: store::Source::CloudtrailFiles,
            since: Some(opts.since),
            until: Some(opts.until),
            mapping: mapper.fingerprint().to_string(),
            logs: Some(fingerprint),
            limitations: Vec::new(),
        },
    )?;
    Ok(())
}

/// The directory a snapshot is assembled in, next to its final place.
pub(crate) struct Workdir {
    pub path: PathBuf,
    target: PathBuf,
}

impl Workdir {
    fn open(target: &Path) -> Result<Workdir, PullError> {
        let name = target.file_name().ok_or_else(|| {
            PullError::Usage(format!("`{}` is not a directory name", target.display()))
        })?;
        if target.exists() && !target.join("manifest.json").exists() {
            let empty = std::fs::read_dir(target)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(PullError::Usage(format!(
                    "`{}` exists and is not a leastpriv snapshot (no manifest.json): refusing to replace it",
                    target.display()
                )));
            }
        }
        let mut partial = name.to_os_string();
        partial.push(".partial");
        let path = target.with_file_name(partial);
        create_private_dir(&path)?;
        Ok(Workdir {
            path,
            target: target.to_path_buf(),
        })
    }

    /// Log files fetched before: by a failed run into this work directory
    /// (its ledger) or by the previous complete snapshot (its manifest).
    fn previous_objects(&self) -> s3::Previous {
        let mut prev = s3::Previous::default();
        if let Ok(m) = manifest::read(&self.target.join("manifest.json")) {
            for o in m.objects {
                let p = self.target.join(&o.path);
                prev.insert(o, p);
            }
        }
        for o in s3::read_ledger(&self.path) {
            let p = self.path.join(&o.path);
            prev.insert(o, p);
        }
        prev
    }

    pub(crate) fn write_json<T: serde::Serialize>(
        &self,
        name: &str,
        v: &T,
    ) -> Result<(), PullError> {
        let bytes = serde_json::to_vec_pretty(v).map_err(|e| PullError::Write {
            path: self.path.join(name),
            source: std::io::Error::other(e),
        })?;
        write_private(&self.path.join(name), &bytes)
    }

    /// Moves the finished snapshot into place.
    fn commit(self) -> Result<(), PullError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PullError::Write { path, source }
        };
        s3::remove_ledger(&self.path);
        if self.target.exists() {
            let mut old = self.target.clone().into_os_string();
            old.push(".old");
            let old = PathBuf::from(old);
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(err(&old))?;
            }
            std::fs::rename(&self.target, &old).map_err(err(&self.target))?;
            std::fs::rename(&self.path, &self.target).map_err(err(&self.target))?;
            std::fs::remove_dir_all(&old).map_err(err(&old))?;
        } else {
            if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(err(parent))?;
            }
            std::fs::rename(&self.path, &self.target).map_err(err(&self.target))?;
        }
        Ok(())
    }
}

/// Snapshots hold account details: owner-only, like `~/.aws`.
pub(crate) fn create_private_dir(path: &Path) -> Result<(), PullError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path).map_err(|source| PullError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a file owner-only, through a temporary name so a crash never
/// leaves it half-written.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PullError> {
    use std::io::Write;
    let err = |source| PullError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        create_private_dir(parent)?;
    }
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    Ok(())
}

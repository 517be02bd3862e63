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
//! OUT/organization.json           Organizations: OUs, accounts, SCPs and RCPs (when readable)
//! OUT/identity-center.json        IAM Identity Center (when readable)
//! OUT/resource-policies.json      resource policies and keys of secrets, keys, buckets...
//! ```
//!
//! `pull --organization` writes an organization snapshot instead: the
//! organization's files at its top, one account snapshot per account under
//! `accounts/ACCOUNT_ID/`, and the organization trail under `cloudtrail/`
//! (see `org_snapshot`).
//!
//! The snapshot is assembled in `OUT.partial` and renamed into place at the
//! end, so a failed pull never leaves a half snapshot. A re-run resumes: log
//! files already fetched (same key and ETag, in `OUT.partial` or in the
//! previous `OUT`) are not downloaded again.

pub mod athena;
mod aws;
mod iam;
mod identity_center;
mod lookup;
pub use crate::ingest::manifest;
mod org_snapshot;
mod organization;
mod resources;
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
    /// The Region of the IAM Identity Center instance; `None` = try the
    /// pull's Regions in turn.
    pub identity_center_region: Option<String>,
    /// `--organization`: every account of the organization, one role each.
    pub organization: Option<OrganizationOptions>,
}

/// `pull --organization --role-name NAME [--accounts ..] [--ous ..]`.
#[derive(Clone, Debug, Default)]
pub struct OrganizationOptions {
    /// The role assumed in every account but the caller's own.
    pub role_name: String,
    /// Only these account ids (empty: all).
    pub accounts: Vec<String>,
    /// Only accounts under these OUs or roots, at any depth (empty: all).
    pub ous: Vec<String>,
    /// Accounts pulled at a time.
    pub account_concurrency: usize,
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
    if let Some(o) = &opts.organization {
        return org_snapshot::run(opts, o).await;
    }
    let base = aws::load(&opts.aws).await;
    let targets: Vec<Option<String>> = if opts.aws.assume_roles.is_empty() {
        vec![None]
    } else {
        opts.aws.assume_roles.iter().cloned().map(Some).collect()
    };
    let several = targets.len() > 1;
    let athena_rows = match &opts.athena {
        Some(a) => {
            let mut accounts = Vec::new();
            for t in &targets {
                accounts.push(match t {
                    // arn:PARTITION:iam::ACCOUNT:role/NAME
                    Some(arn) => arn.split(':').nth(4).unwrap_or_default().to_string(),
                    None => caller(&base).await?.0,
                });
            }
            let loc = trail_location(opts)?;
            Some(athena_query(opts, a, &base, &loc, &accounts).await?)
        }
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
    /// Role ARN (with the account id, for an organization) and why.
    pub failed: Vec<(String, String)>,
    /// The organization snapshot's manifest, for `--organization`.
    pub organization: Option<manifest::OrganizationManifest>,
}

/// The account and ARN of the caller.
async fn caller(conf: &aws_config::SdkConfig) -> Result<(String, String), PullError> {
    let who = aws_sdk_sts::Client::new(conf)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| PullError::aws("sts:GetCallerIdentity", e))?;
    Ok((
        who.account().unwrap_or_default().to_string(),
        who.arn().unwrap_or_default().to_string(),
    ))
}

/// `--trail-bucket`, required by `--athena`.
fn trail_location(opts: &PullOptions) -> Result<s3::Location, PullError> {
    match &opts.trail_bucket {
        Some(b) => s3::Location::parse(b),
        None => Err(PullError::Usage(
            "`--athena` needs `--trail-bucket s3://BUCKET[/PREFIX]`: the bucket the trail delivers to".into(),
        )),
    }
}

/// How an account's snapshot gets its organization part.
pub(crate) enum OrgInput<'a> {
    /// Read it with the account's own credentials (a gap when refused).
    Read,
    /// The organization snapshot's `organization.json`, already read.
    Given {
        file: &'a serde_json::Value,
        part: manifest::OrganizationPart,
    },
}

/// Where an account's events come from, beyond its own trails.
pub(crate) enum Events<'a> {
    /// Its trails' buckets, `--trail-bucket` or LookupEvents, per `--source`.
    Own,
    /// Rows of the one Athena query.
    Athena(&'a AthenaRows),
    /// Its part of the organization trail, already downloaded.
    OrganizationTrail(Vec<PathBuf>),
}

/// One account's pull.
pub(crate) struct AccountJob<'a> {
    pub account: String,
    pub caller: String,
    pub assumed_role: Option<String>,
    pub org: OrgInput<'a>,
    pub events: Events<'a>,
    /// A previous snapshot of the account elsewhere (the previous
    /// organization snapshot's), whose log files may be reused.
    pub previous: Option<PathBuf>,
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
    let job = AccountJob {
        account,
        caller: who.arn().unwrap_or_default().to_string(),
        assumed_role: role,
        org: OrgInput::Read,
        events: match athena_rows {
            Some(rows) => Events::Athena(rows),
            None => Events::Own,
        },
        previous: None,
    };
    let manifest = pull_account(opts, &clients, &dir, job).await?;
    Ok(PullSummary { dir, manifest })
}

pub(crate) async fn pull_account(
    opts: &PullOptions,
    clients: &aws::Clients,
    dir: &Path,
    job: AccountJob<'_>,
) -> Result<Manifest, PullError> {
    let work = Workdir::open(dir)?;
    let partition = job.caller.split(':').nth(1).unwrap_or("aws").to_string();
    let mut m = Manifest::new(
        job.account,
        job.caller,
        job.assumed_role,
        opts.since,
        opts.until,
        opts.now.unwrap_or_else(|| chrono::Utc::now().timestamp()),
    );
    m.regions = clients.regions.clone();

    iam::pull(clients, opts, &work.path, &mut m).await?;
    let trail_list = trails::pull(clients, &work.path, &mut m).await?;
    organization_part(opts, clients, &work, job.org, &mut m).await?;
    opts.progress.start("resource policies", 0);
    let rp = resources::pull(clients, opts, &m.account_id.clone(), &partition).await;
    opts.progress.finish();
    work.write_json("resource-policies.json", &rp.file)?;
    m.resource_policies = Some(rp.counts);
    m.gaps.extend(rp.gaps);

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
    match job.events {
        Events::Own => {}
        Events::Athena(rows) => {
            fn of<'a>(
                map: &'a std::collections::BTreeMap<String, Vec<athena::Row>>,
                account: &str,
            ) -> &'a [athena::Row] {
                map.get(account).map(Vec::as_slice).unwrap_or_default()
            }
            let account = m.account_id.clone();
            let (mine, links, uses) = (
                of(&rows.rows.rows, &account),
                of(&rows.rows.links, &account),
                of(&rows.rows.uses, &account),
            );
            // The session chains the store cannot keep, beside it.
            let (file, bad) = athena::sessions_file(&account, opts.since, opts.until, links, uses);
            work.write_json(crate::usage::chain_store::FILE, &file)?;
            for b in bad {
                m.gaps.push(Gap::new("athena", "session chains query", b));
            }
            save_athena_activity(opts, &work.path, &rows.table, mine, &mut m)?;
            m.event_source = "athena".into();
            return finish(opts, work, m);
        }
        Events::OrganizationTrail(logs) => {
            let note = "aggregated from the organization trail in the organization snapshot's \
                        cloudtrail/ (the logs are not in this account's snapshot)";
            save_activity(opts, &work.path, logs, vec![note.to_string()])?;
            m.event_source = "organization-trail".into();
            return finish(opts, work, m);
        }
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
        let previous = work.previous_objects(job.previous.as_deref());
        let accounts = [m.account_id.clone()];
        s3_ok = s3::pull(
            clients, opts, &buckets, &accounts, &work.path, &previous, &mut m,
        )
        .await?;
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
        save_activity(
            opts,
            &work.path,
            vec![work.path.join("cloudtrail")],
            Vec::new(),
        )?;
    }
    finish(opts, work, m)
}

/// Writes the manifest and moves the snapshot into place.
fn finish(opts: &PullOptions, work: Workdir, mut m: Manifest) -> Result<Manifest, PullError> {
    m.finished_at = chrono::Utc::now().timestamp();
    if opts.now.is_some() {
        m.finished_at = m.pulled_at;
    }
    work.write_json("manifest.json", &m)?;
    work.commit()?;
    Ok(m)
}

/// `organization.json` (and `identity-center.json`) of one account: read
/// with its credentials, or the organization snapshot's. A member that may
/// not read its organization gets a gap, never a failed pull.
async fn organization_part(
    opts: &PullOptions,
    clients: &aws::Clients,
    work: &Workdir,
    org: OrgInput<'_>,
    m: &mut Manifest,
) -> Result<(), PullError> {
    match org {
        OrgInput::Given { file, part } => {
            work.write_json("organization.json", file)?;
            m.organization = Some(part);
            return Ok(());
        }
        OrgInput::Read => {
            opts.progress.start("organization", 0);
            let client = aws_sdk_organizations::Client::new(&clients.conf);
            let read = organization::read(&client, opts).await;
            opts.progress.finish();
            match read {
                Ok(organization::Access::NotInOrganization) => {
                    m.organization = Some(manifest::OrganizationPart {
                        source: "none".into(),
                        ..Default::default()
                    });
                    return Ok(());
                }
                Ok(organization::Access::Member(o, why)) => {
                    m.gaps.push(Gap::new(
                        "organization",
                        o.id.clone(),
                        format!(
                            "the organization's policies cannot be read from this account (the management \
                             account or a delegated administrator can): {why}"
                        ),
                    ));
                    m.organization = Some(manifest::OrganizationPart {
                        id: Some(o.id),
                        management_account_id: Some(o.management_account_id),
                        written: false,
                        source: "denied".into(),
                        ..Default::default()
                    });
                }
                Ok(organization::Access::Full(o, org)) => {
                    work.write_json("organization.json", &org.file)?;
                    m.organization = Some(manifest::OrganizationPart {
                        id: Some(o.id.clone()),
                        management_account_id: Some(o.management_account_id.clone()),
                        written: true,
                        source: "pulled".into(),
                        accounts: org.accounts.len(),
                        organizational_units: org.organizational_units(),
                        policies: org.policies,
                    });
                }
                Err(msg) => {
                    m.gaps
                        .push(Gap::new("organization", "DescribeOrganization", msg));
                    return Ok(());
                }
            }
        }
    }
    // Identity Center: only an organization's instance has permission sets.
    let management = m
        .organization
        .as_ref()
        .and_then(|o| o.management_account_id.clone())
        .unwrap_or_default();
    let regions = match &opts.identity_center_region {
        Some(r) => vec![r.clone()],
        None => clients.regions.clone(),
    };
    opts.progress.start("IAM Identity Center", 0);
    let ic = identity_center::read(&clients.conf, opts, &regions, &management).await;
    opts.progress.finish();
    match ic {
        Ok(ic) => {
            work.write_json("identity-center.json", &ic.file)?;
            m.identity_center = Some(ic.counts);
        }
        Err(msg) => m
            .gaps
            .push(Gap::new("identity-center", regions.join(","), msg)),
    }
    Ok(())
}

/// What Athena returned, per account, and the table it read.
pub(crate) struct AthenaRows {
    table: String,
    rows: athena::Results,
}

/// The one aggregation query for every account of the pull, with the
/// caller's own credentials (Athena runs where the trail bucket is).
async fn athena_query(
    opts: &PullOptions,
    a: &athena::AthenaOptions,
    base: &aws_config::SdkConfig,
    loc: &s3::Location,
    accounts: &[String],
) -> Result<AthenaRows, PullError> {
    let clients = aws::Clients::new(base, &opts.aws);
    let s3 = s3::bucket_client(&clients, &loc.bucket).await;
    let org = athena::org_layout(&s3, &loc.bucket, &loc.prefix).await?;
    let spec = athena::TableSpec::new(
        &a.database,
        a.table.as_deref(),
        &loc.bucket,
        &loc.prefix,
        org.as_deref(),
        accounts,
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
                "no error messages (grouped by error code only): a refusal names neither the \
                 refused action nor the policy type that refused it"
                    .into(),
            ],
        },
    )?;
    Ok(())
}

/// Aggregates the fetched logs into the snapshot's activity store, so the
/// audit need not parse them again.
fn save_activity(
    opts: &PullOptions,
    dir: &Path,
    logs: Vec<PathBuf>,
    limitations: Vec<String>,
) -> Result<(), PullError> {
    use crate::usage::store;
    let cat = opts.catalog;
    let mapper = crate::usage::mapping::EventMapper::embedded(cat)
        .map_err(|e| PullError::Usage(e.to_string()))?;
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
            // The store keeps no sessions.
            session_actions: false,
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
            limitations,
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
    /// (its ledger), by the previous complete snapshot (its manifest), or
    /// by the snapshot at `also` (the previous organization snapshot's).
    fn previous_objects(&self, also: Option<&Path>) -> s3::Previous {
        let mut prev = s3::Previous::default();
        for dir in also.into_iter().chain([self.target.as_path()]) {
            if let Ok(m) = manifest::read(&dir.join("manifest.json")) {
                for o in m.objects {
                    let p = dir.join(&o.path);
                    prev.insert(o, p);
                }
            }
        }
        for o in s3::read_ledger(&self.path) {
            let p = self.path.join(&o.path);
            prev.insert(o, p);
        }
        prev
    }

    /// Where the snapshot goes when it is complete.
    pub(crate) fn target(&self) -> &Path {
        &self.target
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

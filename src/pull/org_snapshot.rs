//! `pull --organization --role-name NAME`: an organization snapshot.
//!
//! ```text
//! ORG/manifest.json                 leastpriv.organization-snapshot/v1: accounts pulled and not
//! ORG/organization.json             the organization (read once, by the caller)
//! ORG/identity-center.json          IAM Identity Center, when readable
//! ORG/accounts/ACCOUNT_ID/          one account snapshot each (its own manifest.json; its
//!                                   organization.json is a copy of ORG's)
//! ORG/cloudtrail/s3/BUCKET/KEY      the organization trail (AWSLogs/o-ORG/ACCOUNT/...), read once
//! ```
//!
//! The caller is the management account or a delegated administrator: it
//! reads the organization, then assumes NAME in every selected account (its
//! own account is read with its own credentials), a bounded number at a
//! time. An account that cannot be reached is listed in the manifest and
//! does not stop the others. Everything is assembled in `ORG.partial` and
//! moved into place at the end; a re-run reuses the log files a failed run
//! or the previous snapshot fetched (same key and ETag).

use super::aws::{self, Clients};
use super::manifest::{
    AccountEntry, Gap, Manifest, OrganizationManifest, OrganizationPart, ORGANIZATION_SCHEMA,
};
use super::organization::{Access, AccountInfo};
use super::{
    AccountJob, EventSource, Events, OrgInput, OrganizationOptions, PullError, PullOptions,
    PullOutcome, PullSummary, Workdir,
};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};

pub(super) async fn run(
    opts: &PullOptions,
    o: &OrganizationOptions,
) -> Result<PullOutcome, PullError> {
    let base = aws::load(&opts.aws).await;
    let clients = Clients::new(&base, &opts.aws);
    let (caller_account, caller_arn) = super::caller(&base).await?;
    let partition = caller_arn.split(':').nth(1).unwrap_or("aws").to_string();
    let work = Workdir::open(&opts.out)?;

    opts.progress.start("organization", 0);
    let read = super::organization::read(&aws_sdk_organizations::Client::new(&base), opts).await;
    opts.progress.finish();
    let (membership, org) = match read {
        Ok(Access::Full(m, org)) => (m, org),
        Ok(Access::NotInOrganization) => {
            return Err(PullError::Usage(format!(
                "`--organization`: account {caller_account} is not in an organization"
            )))
        }
        Ok(Access::Member(_, why)) => {
            return Err(PullError::Usage(format!(
                "`--organization` runs from the management account or a delegated administrator; \
                 account {caller_account} cannot read the organization: {why}"
            )))
        }
        Err(message) => {
            return Err(PullError::Aws {
                operation: "organizations:DescribeOrganization",
                message,
            })
        }
    };
    let selected = select(&org, o)?;
    work.write_json("organization.json", &org.file)?;
    let part = OrganizationPart {
        id: Some(membership.id.clone()),
        management_account_id: Some(membership.management_account_id.clone()),
        written: true,
        source: "organization".into(),
        accounts: org.accounts.len(),
        organizational_units: org.organizational_units(),
        policies: org.policies,
    };
    let now = opts.now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let mut om = OrganizationManifest {
        schema: ORGANIZATION_SCHEMA.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        organization_id: membership.id.clone(),
        management_account_id: membership.management_account_id.clone(),
        caller_account_id: caller_account.clone(),
        caller_arn: caller_arn.clone(),
        role_name: o.role_name.clone(),
        pulled_at: now,
        finished_at: now,
        since: opts.since,
        until: opts.until,
        regions: clients.regions.clone(),
        event_source: "accounts".into(),
        ..Default::default()
    };

    let ic_regions = match &opts.identity_center_region {
        Some(r) => vec![r.clone()],
        None => clients.regions.clone(),
    };
    opts.progress.start("IAM Identity Center", 0);
    let ic =
        super::identity_center::read(&base, opts, &ic_regions, &membership.management_account_id)
            .await;
    opts.progress.finish();
    match ic {
        Ok(ic) => {
            work.write_json("identity-center.json", &ic.file)?;
            om.identity_center = Some(ic.counts);
        }
        Err(msg) => om
            .gaps
            .push(Gap::new("identity-center", ic_regions.join(","), msg)),
    }

    // The organization trail, read once for every account.
    let ids: Vec<String> = selected.iter().map(|a| a.id.clone()).collect();
    let mut events = Trail::None;
    if opts.source != EventSource::Lookup && opts.source != EventSource::None {
        let loc = match &opts.trail_bucket {
            Some(b) => Some(super::s3::Location::parse(b)?),
            None => super::trails::organization_trail(&clients)
                .await
                .map(|(bucket, prefix)| super::s3::Location { bucket, prefix }),
        };
        match (loc, &opts.athena) {
            (Some(loc), Some(a)) => {
                let rows = super::athena_query(opts, a, &base, &loc, &ids).await?;
                om.trail = Some(format!("s3://{}/{}", loc.bucket, loc.prefix));
                om.event_source = "athena".into();
                events = Trail::Athena(rows);
            }
            (None, Some(_)) => return Err(super::trail_location(opts).unwrap_err()),
            (Some(loc), None) => {
                let mut scratch = Manifest::default();
                let previous = previous_objects(&work);
                let ok = super::s3::pull(
                    &clients,
                    opts,
                    std::slice::from_ref(&loc),
                    &ids,
                    &work.path,
                    &previous,
                    &mut scratch,
                )
                .await?;
                om.objects = scratch.objects;
                om.downloaded = scratch.downloaded;
                om.gaps.extend(scratch.gaps);
                if ok {
                    om.trail = Some(format!("s3://{}/{}", loc.bucket, loc.prefix));
                    om.event_source = "s3".into();
                    events = Trail::Files(work.path.join("cloudtrail/s3").join(&loc.bucket).join(
                        if loc.prefix.is_empty() {
                            "AWSLogs".to_string()
                        } else {
                            format!("{}/AWSLogs", loc.prefix)
                        },
                    ));
                } else if opts.source == EventSource::S3 {
                    // Each account still tries its own trails' buckets.
                    om.event_source = "accounts".into();
                }
            }
            (None, None) => {}
        }
    }

    let accounts_dir = work.path.join("accounts");
    super::create_private_dir(&accounts_dir)?;
    // Accounts get no progress bars of their own: several run at once.
    let quiet = PullOptions {
        progress: Default::default(),
        ..opts.clone()
    };
    opts.progress.start("accounts", selected.len() as u64);
    let results: Vec<(AccountInfo, Result<Manifest, PullError>)> =
        futures_util::stream::iter(selected.iter().cloned())
            .map(|a| {
                let quiet = &quiet;
                let base = &base;
                let accounts_dir = &accounts_dir;
                let events = &events;
                let caller_account = &caller_account;
                let part = part.clone();
                let file = &org.file;
                let role = format!("arn:{partition}:iam::{}:role/{}", a.id, o.role_name);
                async move {
                    let r = pull_one(
                        quiet,
                        base,
                        accounts_dir,
                        &a,
                        (a.id != *caller_account).then_some(role),
                        OrgInput::Given { file, part },
                        events,
                    )
                    .await;
                    opts.progress.advance(1);
                    (a, r)
                }
            })
            .buffer_unordered(o.account_concurrency.clamp(1, 64))
            .collect()
            .await;
    opts.progress.finish();

    let mut outcome = PullOutcome::default();
    let mut kept = Vec::new();
    for (a, r) in results {
        match r {
            Ok(m) => {
                kept.push(a.id.clone());
                om.accounts.push(AccountEntry {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    status: "pulled".into(),
                    path: Some(format!("accounts/{}", a.id)),
                    message: None,
                });
                outcome.pulled.push(PullSummary {
                    dir: opts.out.join("accounts").join(&a.id),
                    manifest: m,
                });
            }
            Err(e) => {
                let role = format!("arn:{partition}:iam::{}:role/{}", a.id, o.role_name);
                om.accounts.push(AccountEntry {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    status: "failed".into(),
                    path: None,
                    message: Some(e.to_string()),
                });
                om.gaps
                    .push(Gap::new("account", a.id.clone(), e.to_string()));
                outcome
                    .failed
                    .push((format!("{} ({role})", a.id), e.to_string()));
            }
        }
    }
    om.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    outcome
        .pulled
        .sort_by(|a, b| a.manifest.account_id.cmp(&b.manifest.account_id));
    // What a failed run or an account left out this time left behind.
    if let Ok(rd) = std::fs::read_dir(&accounts_dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !kept.contains(&name) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    om.finished_at = if opts.now.is_some() {
        om.pulled_at
    } else {
        chrono::Utc::now().timestamp()
    };
    work.write_json("manifest.json", &om)?;
    work.commit()?;
    outcome.organization = Some(om);
    Ok(outcome)
}

/// The organization trail, as the accounts get it.
enum Trail {
    None,
    /// `.../AWSLogs` of the downloaded trail: each account's records are
    /// under `[o-ORG/]ACCOUNT/` there.
    Files(PathBuf),
    Athena(super::AthenaRows),
}

/// The accounts `--accounts` and `--ous` select: active ones only (a
/// suspended account cannot be entered).
fn select(
    org: &super::organization::Organization,
    o: &OrganizationOptions,
) -> Result<Vec<AccountInfo>, PullError> {
    let unknown: Vec<&String> = o
        .accounts
        .iter()
        .filter(|id| !org.accounts.iter().any(|a| a.id == **id))
        .collect();
    if !unknown.is_empty() {
        return Err(PullError::Usage(format!(
            "--accounts: not in the organization: {}",
            unknown
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let known_parent = |id: &str| {
        org.ou_parents.iter().any(|(ou, _)| ou == id)
            || org.accounts.iter().any(|a| a.parent == id)
            || org.file["Roots"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["Id"] == id))
    };
    let unknown: Vec<&String> = o.ous.iter().filter(|id| !known_parent(id)).collect();
    if !unknown.is_empty() {
        return Err(PullError::Usage(format!(
            "--ous: no such OU or root in the organization: {}",
            unknown
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(org
        .accounts
        .iter()
        .filter(|a| a.status.is_empty() || a.status == "ACTIVE")
        .filter(|a| o.accounts.is_empty() || o.accounts.contains(&a.id))
        .filter(|a| o.ous.is_empty() || o.ous.iter().any(|ou| org.is_under(a, ou)))
        .cloned()
        .collect())
}

/// Log files fetched before: by a failed run (its ledger) or by the
/// previous organization snapshot (its manifest).
fn previous_objects(work: &Workdir) -> super::s3::Previous {
    let mut prev = super::s3::Previous::default();
    let target = work.target();
    if let Ok(m) = OrganizationManifest::read(&target.join("manifest.json")) {
        for o in m.objects {
            let p = target.join(&o.path);
            prev.insert(o, p);
        }
    }
    for o in super::s3::read_ledger(&work.path) {
        let p = work.path.join(&o.path);
        prev.insert(o, p);
    }
    prev
}

async fn pull_one(
    opts: &PullOptions,
    base: &aws_config::SdkConfig,
    accounts_dir: &Path,
    a: &AccountInfo,
    role: Option<String>,
    org: OrgInput<'_>,
    trail: &Trail,
) -> Result<Manifest, PullError> {
    let conf = match &role {
        Some(arn) => aws::assume(base, arn).await,
        None => base.clone(),
    };
    let clients = Clients::new(&conf, &opts.aws);
    let (account, caller) = super::caller(&conf).await?;
    if account != a.id {
        return Err(PullError::Usage(format!(
            "the credentials for account {} act in account {account}",
            a.id
        )));
    }
    let events = match trail {
        Trail::None => Events::Own,
        Trail::Athena(rows) => Events::Athena(rows),
        Trail::Files(awslogs) => Events::OrganizationTrail(account_logs(awslogs, &a.id)),
    };
    let job = AccountJob {
        account,
        caller,
        assumed_role: role,
        org,
        events,
        previous: Some(opts.out.join("accounts").join(&a.id)),
    };
    super::pull_account(opts, &clients, &accounts_dir.join(&a.id), job).await
}

/// Where an account's records are in the downloaded trail: under
/// `AWSLogs/o-ORG/ACCOUNT/` (an organization trail) or `AWSLogs/ACCOUNT/`.
fn account_logs(awslogs: &Path, account: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let direct = awslogs.join(account);
    if direct.is_dir() {
        out.push(direct);
    }
    if let Ok(rd) = std::fs::read_dir(awslogs) {
        for e in rd.flatten() {
            let p = e.path().join(account);
            if e.file_name().to_string_lossy().starts_with("o-") && p.is_dir() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

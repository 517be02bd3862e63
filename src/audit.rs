//! The audit pipeline end to end: read the inputs, evaluate every principal,
//! compare granted against used, classify and run the rules.
//!
//! Its result, [`Audit`], is what every later stage reads (the secrets view,
//! the recommendations, the renderers), with the catalog it was made with;
//! this module may not import any of them.

use crate::catalog::Catalog;
use crate::config::Settings;
use crate::ingest::cloudtrail::Problem;
use crate::ingest::credential_report::{self, CredentialReport};
use crate::ingest::last_accessed::{self, AccessAdvisor};
use crate::ingest::snapshot::SnapshotPaths;
use crate::ingest::trails::{self, TrailCoverage};
use crate::ingest::{iam, IngestError};
use crate::model::Kind;
use crate::progress::timed;
use crate::rules::classify::Facts;
use crate::rules::files::{LoadError, RuleFiles};
use crate::rules::{Finding, RuleContext, Subject};
use crate::usage::{IngestOptions, IngestStats};
use crate::verdict::{principal_verdicts_in, OtherActor, PrincipalVerdicts};
use std::collections::BTreeSet;

/// Anything that stops an audit. Each names its file and place.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Rules(#[from] LoadError),
    #[error(transparent)]
    Exclusion(#[from] crate::exclusions::ExclusionError),
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Store(#[from] crate::usage::store::StoreError),
    #[error(transparent)]
    Sessions(#[from] crate::usage::chain_store::ChainStoreError),
}

/// Knobs of one audit run.
#[derive(Clone, Debug, Default)]
pub struct AuditOptions {
    /// Window limits, Unix seconds; unset ends come from the records.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The report's timestamp; `None` = now.
    pub now: Option<i64>,
    /// Where long stages report progress (nothing by default).
    pub progress: crate::progress::ProgressHandle,
    /// Write the aggregated activity into the snapshot (`activity.parquet`).
    pub save_activity: bool,
    /// Read the logs even when the snapshot has a usable activity store.
    pub reread_logs: bool,
    /// Keep every role session read from the logs, with its actions and
    /// the links behind it, in [`Audit::chains`] (`who` reads them). Else
    /// only the chains the organization view lists are kept
    /// ([`Audit::crossings`]), resolved once the logs are read: an
    /// organization has hundreds of thousands of sessions.
    pub every_session: bool,
}

/// Where the window came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowSource {
    Options,
    Records,
    /// No records and no options: there is no window.
    None,
}

/// The evidence window.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub source: WindowSource,
}

/// A principal's verdicts with its kind.
#[derive(Clone, Debug)]
pub struct AuditedPrincipal {
    pub verdicts: PrincipalVerdicts,
    pub kind: Kind,
    pub kind_reason: String,
    /// What Access Advisor saw inside the window, next to the trail's verdict.
    pub advisor: Vec<AdvisorNote>,
}

/// Access Advisor's word on one action (or, for services it does not track
/// per action, `service:*`) inside the window. It counts denied attempts
/// too: it supports a verdict, it never proves use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvisorNote {
    pub action: String,
    pub last_accessed: i64,
    pub region: Option<String>,
    /// The trail's verdict for the same action: `used`, `used-failed`,
    /// `attempted`, `denied`, `unused`, `unobservable` or `not granted`.
    pub trail_verdict: &'static str,
}

/// The result of an audit: everything the renderers need.
#[derive(Clone, Debug)]
pub struct Audit {
    pub generated_at: i64,
    pub window: Window,
    /// The catalog the audit was made with: action ids in the verdicts and
    /// findings are its ids, and renderers name actions through it.
    pub catalog: &'static Catalog,
    pub inputs: SnapshotPaths,
    /// The audited accounts: those of the snapshot's principals.
    pub accounts: BTreeSet<String>,
    pub trails: TrailCoverage,
    pub stats: IngestStats,
    pub problems: Vec<Problem>,
    pub principals: Vec<AuditedPrincipal>,
    pub others: Vec<OtherActor>,
    pub findings: Vec<Finding>,
    pub missing_policies: Vec<String>,
    pub credentials: Option<CredentialReport>,
    /// sha256 and size of each single-file input, so a report can be checked
    /// against the inputs it came from.
    pub input_hashes: Vec<InputHash>,
    /// The risk data the findings were scored with, so renderers rank the
    /// same way (including `--rules` overrides).
    pub risk: crate::rules::risk::Risk,
    /// The baseline applied to the findings, if any.
    pub baseline: Option<(crate::baseline::Baseline, crate::baseline::Applied)>,
    /// The account's id (from its principals' ARNs).
    pub account_id: Option<String>,
    /// The organization and its SCPs and RCPs (`organization.json`).
    pub organization: Option<std::sync::Arc<crate::model::Organization>>,
    /// Resource policies and KMS keys (`resource-policies.json`).
    pub resources: Option<std::sync::Arc<crate::model::resource::Resources>>,
    /// Who can assume each role, from trust policies and `sts:AssumeRole` grants.
    pub trust: crate::policy::trust::TrustGraph,
    /// What every report says first: gaps of the evidence that change how
    /// it reads, decided by [`crate::notices::decide`].
    pub notices: Vec<crate::notices::Notice>,
    /// Findings set aside on purpose (service-linked roles, configured
    /// exclusions), with the reason.
    pub excluded: crate::exclusions::Excluded,
    /// IAM Identity Center (`identity-center.json`): people and permission sets.
    pub identity_center: Option<std::sync::Arc<crate::model::identity_center::IdentityCenter>>,
    /// Role sessions by access key, from the logs read, with what each did:
    /// the chains behind them. Empty unless asked for
    /// ([`AuditOptions::every_session`]), and when the activity came from
    /// the store.
    pub chains: std::sync::Arc<crate::usage::chains::SessionChains>,
    /// An audit of several accounts: the sessions whose chain crosses
    /// accounts or breaks, by access key (the organization view's).
    pub crossings: Vec<crate::usage::chains::Crossing>,
}

/// The logs hold nothing of the audited account: why, in one sentence.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct NoEvidence(pub String);

impl Audit {
    /// Applies a baseline: accepted findings stay in the report, marked, and
    /// no longer count for the exit status.
    pub fn apply_baseline(&mut self, b: crate::baseline::Baseline, today: chrono::NaiveDate) {
        let applied = b.apply(self.catalog, &self.findings, today);
        self.baseline = Some((b, applied));
    }

    /// Findings that count for the exit status: all of them, or those the
    /// baseline kept.
    pub fn active_findings(&self) -> Vec<&Finding> {
        match &self.baseline {
            None => self.findings.iter().collect(),
            Some((_, a)) => a.kept_findings(&self.findings).collect(),
        }
    }

    /// Whether the logs hold no record of the audited account(s) in the
    /// window (logs of another account, or an empty trail): every granted
    /// permission then looks unused, and nothing may be removed on that
    /// evidence. Reports say so first; `--strict` fails; `recommend`
    /// removes nothing unless told to.
    pub fn no_account_evidence(&self) -> bool {
        self.stats.account_records == 0
    }

    /// Refuses to act on no evidence: the error of `recommend` and `alerts`
    /// when [`Audit::no_account_evidence`] and they were not told to go on.
    pub fn evidence_guard(&self) -> Result<(), NoEvidence> {
        match crate::notices::no_evidence(&self.stats, &self.accounts) {
            Some(gap) => Err(NoEvidence(gap)),
            None => Ok(()),
        }
    }

    /// The notices that undermine the report as a whole (see
    /// [`crate::notices::Notice::is_warning`]).
    pub fn warnings(&self) -> impl Iterator<Item = &crate::notices::Notice> {
        self.notices.iter().filter(|n| n.is_warning())
    }

    /// The baseline entry that accepted finding `i`, if any.
    pub fn acceptance(&self, i: usize) -> Option<&crate::baseline::Entry> {
        let (b, a) = self.baseline.as_ref()?;
        let (_, e) = a.accepted.iter().find(|(f, _)| *f == i)?;
        b.accepted.get(*e)
    }
}

/// The fingerprint of one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputHash {
    pub path: std::path::PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

fn hash_inputs(paths: &SnapshotPaths) -> Result<Vec<InputHash>, AuditError> {
    use sha2::{Digest, Sha256};
    paths
        .files()
        .into_iter()
        .map(|p| {
            // Streamed: the hash needs no copy of the file in memory.
            let err = |source| crate::ingest::IngestError::Read {
                path: p.to_path_buf(),
                source,
            };
            let mut f = std::fs::File::open(p).map_err(err)?;
            let mut h = Sha256::new();
            let bytes = std::io::copy(&mut f, &mut h).map_err(err)?;
            Ok(InputHash {
                path: p.to_path_buf(),
                sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
                bytes,
            })
        })
        .collect()
}

/// Runs the offline audit with the embedded catalog, the shipped rules and
/// default settings.
pub fn run(paths: &SnapshotPaths, opts: &AuditOptions) -> Result<Audit, AuditError> {
    let settings = Settings::default();
    let cat = Catalog::embedded();
    let rules = RuleFiles::load(cat, None, &settings)?;
    run_with(cat, &rules, &settings, paths, opts)
}

/// Runs the audit with explicit rules and settings.
pub fn run_with(
    cat: &'static Catalog,
    rules: &RuleFiles,
    settings: &Settings,
    paths: &SnapshotPaths,
    opts: &AuditOptions,
) -> Result<Audit, AuditError> {
    let (mapper, obs, classifier) = (&rules.mapper, &rules.observability, &rules.classifier);
    crate::exclusions::check(&settings.exclude)?;
    let mut account = timed("read IAM", || load_accounts(paths))?;
    let credentials = load_credentials(paths)?;
    let trail_cov = match &paths.trails {
        Some(p) => trails::load(p)?,
        None => TrailCoverage::assumed_management_only(),
    };
    let mut paths = paths.clone();
    let mut accounts = account.account_ids();
    // An organization's accounts are those of its snapshot, with
    // principals or not (the management account may hold none of interest,
    // and its records still are the audit's).
    accounts.extend(paths.members.iter().filter_map(|m| {
        m.dir
            .as_deref()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
    }));
    let (mut activity, since, until) = timed("read activity", || {
        gather_activity(cat, mapper, &mut paths, opts, &accounts)
    })?;
    activity.shrink_to_fit();
    log::debug!("activity: {}", activity.size_summary());
    let paths = &paths;
    // Before the evaluation, whose end is the audit's memory peak.
    let input_hashes = hash_inputs(paths)?;
    let window = match (since, until) {
        (None, None) => match (activity.stats.first_event, activity.stats.last_event) {
            (Some(s), Some(e)) => Window {
                start: Some(s),
                end: Some(e),
                source: WindowSource::Records,
            },
            _ => Window {
                start: None,
                end: None,
                source: WindowSource::None,
            },
        },
        (s, u) => Window {
            start: s.or(activity.stats.first_event),
            end: u.or(activity.stats.last_event),
            source: WindowSource::Options,
        },
    };
    if let Some(pass_role) = mapper.pass_role() {
        let roles_of: std::collections::HashMap<String, String> = account
            .principals
            .iter()
            .flat_map(|p| {
                p.instance_profiles
                    .iter()
                    .map(|ip| (ip.clone(), p.arn.clone()))
            })
            .collect();
        activity.resolve_instance_profiles(pass_role, &roles_of);
    }
    let crate::usage::Activity {
        actors,
        sessions_granted,
        stats,
        problems,
        chains: session_chains,
    } = activity;
    let mut problems = problems;
    for m in paths.parts().filter_map(|p| p.manifest.as_deref()) {
        problems.extend(pull_problems(m)?);
    }
    if let (false, Some(m)) = (paths.members.is_empty(), &paths.manifest) {
        // The organization's own gaps: accounts that could not be pulled,
        // the organization trail, Identity Center.
        let om = crate::ingest::manifest::OrganizationManifest::read(m)?;
        problems.extend(om.gaps.into_iter().map(|g| Problem {
            file: m.clone(),
            location: format!("pull {} {}", g.stage, g.target),
            message: g.message,
        }));
    }
    let advisor = load_advisor(paths)?;
    let identity_center = paths
        .identity_center
        .as_deref()
        .map(crate::ingest::identity_center::load)
        .transpose()?
        .map(std::sync::Arc::new);
    let organization = paths
        .organization
        .as_deref()
        .map(crate::ingest::organization::load)
        .transpose()?
        .map(std::sync::Arc::new);
    let resources = load_resources(paths, account.account_id.as_deref())?;
    if let (Some(org), Some(path)) = (&organization, &paths.organization) {
        if paths.members.is_empty() {
            problems.extend(organization_problems(
                org,
                account.account_id.as_deref(),
                path,
            ));
        } else {
            for a in &accounts {
                problems.extend(organization_problems(org, Some(a), path));
            }
        }
    }
    // Resolved before the evaluation, whose end is the audit's memory
    // peak: the chain maps (about 1.3 KB per role session with their
    // actions) are released here unless `who` asked for them.
    let crossings = if paths.members.is_empty() {
        Vec::new()
    } else {
        timed("resolve session chains", || {
            session_chains.crossings(identity_center.as_deref())
        })
    };
    let session_chains = if opts.every_session {
        session_chains
    } else {
        drop(session_chains);
        crate::usage::chains::SessionChains::default()
    };
    let org_eval = organization
        .as_deref()
        .map(|o| crate::policy::organization::OrgEval::new(cat, o));
    let (audits, others) = timed("evaluate principals", || {
        principal_verdicts_in(
            cat,
            obs,
            &trail_cov,
            std::mem::take(&mut account.principals),
            actors,
            &sessions_granted,
            org_eval.as_ref(),
        )
    });
    // Each role's verdicts hold a copy of its own.
    drop(sessions_granted);
    let trust = timed("trust", || {
        crate::policy::trust::TrustGraph::build(
            cat,
            audits.iter().map(|a| (&a.principal, &*a.grants)),
            organization.as_deref(),
        )
    });
    let principals: Vec<AuditedPrincipal> = audits
        .into_iter()
        .map(|a| {
            let creds = credentials
                .as_ref()
                .and_then(|c| c.rows.get(&a.principal.arn));
            let (kind, kind_reason) = classifier.classify(&Facts {
                principal: &a.principal,
                credentials: creds,
                activity: a.activity.as_ref(),
                sessions: a.sessions_granted.as_ref(),
            });
            let advisor = advisor
                .as_ref()
                .map(|adv| advisor_notes(cat, adv, &a, window.start))
                .unwrap_or_default();
            AuditedPrincipal {
                verdicts: a,
                kind,
                kind_reason,
                advisor,
            }
        })
        .collect();
    let now = opts.now.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let subjects: Vec<Subject> = principals
        .iter()
        .map(|p| Subject {
            verdicts: &p.verdicts,
            kind: p.kind,
            credentials: credentials
                .as_ref()
                .and_then(|c| c.rows.get(&p.verdicts.principal.arn)),
        })
        .collect();
    let granted: Vec<&crate::catalog::ActionSet> = principals
        .iter()
        .map(|p| &p.verdicts.grants.granted)
        .collect();
    let chains = crate::rules::trust_rules::Chains::compute(cat, &trust, &granted);
    drop(granted);
    let ctx = RuleContext {
        catalog: cat,
        risk: &rules.risk,
        guardrails: &rules.guardrails,
        pipelines: &rules.pipelines,
        channels: rules.mapper.channels(),
        techniques: &rules.techniques,
        settings,
        now,
        window: window.start.zip(window.end),
        org: organization.as_deref(),
        trust: &trust,
        chains: &chains,
    };
    let findings = timed("rules", || crate::rules::evaluate(&ctx, &subjects));
    if log::log_enabled!(log::Level::Debug) {
        let ids: usize = findings.iter().map(|f| f.actions.len()).sum();
        let text: usize = findings
            .iter()
            .map(|f| f.evidence.iter().map(str::len).sum::<usize>() + f.message.len())
            .sum();
        let grants: usize = findings.iter().map(|f| f.grants.len()).sum();
        log::debug!(
            "findings: {}, {ids} action ids, {text} bytes of message and evidence, {grants} granting statements",
            findings.len()
        );
    }
    drop(subjects);
    let notices = crate::notices::decide(&crate::notices::Facts {
        stats: &stats,
        accounts: &accounts,
        agents_unrecorded: principals
            .iter()
            .map(|p| (p.verdicts.principal.name.as_str(), agent_unrecorded(p)))
            .collect(),
        organization: organization.as_deref(),
    });
    let (findings, excluded) = crate::exclusions::apply(
        &principals
            .iter()
            .map(|p| &p.verdicts.principal)
            .collect::<Vec<_>>(),
        &settings.exclude,
        findings,
    );
    Ok(Audit {
        account_id: account.account_id.clone(),
        organization,
        resources,
        trust,
        notices,
        excluded,
        baseline: None,
        risk: rules.risk.clone(),
        input_hashes,
        generated_at: now,
        window,
        catalog: cat,
        inputs: paths.clone(),
        accounts,
        trails: trail_cov,
        stats,
        problems,
        principals,
        others,
        findings,
        missing_policies: account.missing_policies,
        credentials,
        identity_center,
        chains: std::sync::Arc::new(session_chains),
        crossings,
    })
}

/// The data-event types an agent's grants reach that the trails do not
/// record (empty for other principals).
fn agent_unrecorded(p: &AuditedPrincipal) -> Vec<&str> {
    use crate::verdict::observability::Unobservable;
    if p.kind != Kind::Agent {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (_, why) in p.verdicts.unobservable().iter() {
        if let Unobservable::DataEventNotRecorded(t) = why {
            if crate::rules::is_agent_data_event(t) && !out.contains(&t.as_ref()) {
                out.push(t.as_ref());
            }
        }
    }
    out
}

/// The IAM snapshot: the account's, or every member's of an organization
/// snapshot, as one list of principals (each evaluated with its own
/// account's SCP path).
fn load_accounts(paths: &SnapshotPaths) -> Result<crate::model::Account, IngestError> {
    if paths.members.is_empty() {
        return iam::load(&paths.iam);
    }
    let mut all = crate::model::Account::default();
    for m in &paths.members {
        let a = iam::load(&m.iam)?;
        all.principals.extend(a.principals);
        all.missing_policies.extend(a.missing_policies);
    }
    all.missing_policies.sort();
    all.missing_policies.dedup();
    Ok(all)
}

fn load_credentials(paths: &SnapshotPaths) -> Result<Option<CredentialReport>, IngestError> {
    let mut out: Option<CredentialReport> = None;
    for p in paths.parts().filter_map(|p| p.credential_report.as_deref()) {
        let r = credential_report::load(p)?;
        match &mut out {
            Some(o) => o.rows.extend(r.rows),
            None => out = Some(r),
        }
    }
    Ok(out)
}

fn load_advisor(paths: &SnapshotPaths) -> Result<Option<AccessAdvisor>, IngestError> {
    let mut out: Option<AccessAdvisor> = None;
    for p in paths.parts().filter_map(|p| p.last_accessed.as_deref()) {
        let r = last_accessed::load(p)?;
        match &mut out {
            Some(o) => o.principals.extend(r.principals),
            None => out = Some(r),
        }
    }
    Ok(out)
}

/// Resource policies: the account's, or each member's with its account.
fn load_resources(
    paths: &SnapshotPaths,
    account: Option<&str>,
) -> Result<Option<std::sync::Arc<crate::model::resource::Resources>>, IngestError> {
    if paths.members.is_empty() {
        return Ok(paths
            .resource_policies
            .as_deref()
            .map(|p| crate::ingest::resource_policies::load(p, account))
            .transpose()?
            .map(std::sync::Arc::new));
    }
    let mut list = Vec::new();
    let mut any = false;
    for m in &paths.members {
        let Some(p) = m.resource_policies.as_deref() else {
            continue;
        };
        let id = m
            .dir
            .as_deref()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        let r = crate::ingest::resource_policies::load(p, id.as_deref())?;
        list.extend(r.list);
        any = true;
    }
    Ok(any.then(|| std::sync::Arc::new(crate::model::resource::Resources::new(list))))
}

/// Every log record of the window, aggregated.
fn read_logs(
    paths: &SnapshotPaths,
    mapper: &crate::usage::mapping::EventMapper,
    opts: &AuditOptions,
    accounts: &BTreeSet<String>,
) -> crate::usage::Activity {
    crate::usage::read::ingest_with_progress(
        &paths.cloudtrail,
        mapper,
        IngestOptions {
            since: opts.since,
            until: opts.until,
            accounts: (!accounts.is_empty()).then(|| std::sync::Arc::new(accounts.clone())),
            session_actions: opts.every_session,
        },
        &opts.progress,
    )
}

/// Built without Parquet (`--no-default-features`, for the fuzz targets):
/// the logs are the only source of activity.
#[cfg(not(feature = "parquet"))]
fn gather_activity(
    _cat: &Catalog,
    mapper: &crate::usage::mapping::EventMapper,
    paths: &mut SnapshotPaths,
    opts: &AuditOptions,
    accounts: &BTreeSet<String>,
) -> Result<(crate::usage::Activity, Option<i64>, Option<i64>), AuditError> {
    paths.activity = None;
    for m in &mut paths.members {
        m.activity = None;
    }
    Ok((
        read_logs(paths, mapper, opts, accounts),
        opts.since,
        opts.until,
    ))
}

/// The activity of the window: from the snapshot's activity store when it
/// fits this audit (same window, rules and log files), else from the logs.
/// Returns the window limits in effect (a store brings its own).
#[cfg(feature = "parquet")]
fn gather_activity(
    cat: &Catalog,
    mapper: &crate::usage::mapping::EventMapper,
    paths: &mut SnapshotPaths,
    opts: &AuditOptions,
    accounts: &BTreeSet<String>,
) -> Result<(crate::usage::Activity, Option<i64>, Option<i64>), AuditError> {
    use crate::usage::store;
    if paths.members.iter().any(|m| m.activity.is_some()) {
        return gather_org_activity(cat, mapper, paths, opts, accounts);
    }
    let wanted_logs = paths.activity.is_some() || opts.save_activity;
    let logs = wanted_logs.then(|| store::logs_fingerprint(&paths.cloudtrail));
    let have_logs = logs.as_ref().is_some_and(|l| l.files > 0);
    // `--reread-logs` reads the log files; without any (a snapshot pulled
    // with `--athena`), the store is the only evidence and is read.
    if let Some(sidecar) = paths
        .activity
        .clone()
        .filter(|_| !opts.reread_logs || !have_logs)
    {
        let fits = store::read_meta(&sidecar).and_then(|meta| {
            if let Err(reason) = store_fits(&meta, mapper, opts, logs.as_ref()) {
                return Err(store::StoreError::Unusable {
                    path: sidecar.clone(),
                    reason,
                });
            }
            let dir = sidecar.parent().unwrap_or(std::path::Path::new("."));
            Ok((store::load(dir, cat, &meta)?, meta))
        });
        match fits {
            Ok((mut activity, meta)) => {
                let dir = sidecar.parent().unwrap_or(std::path::Path::new("."));
                activity
                    .chains
                    .merge(stored_chains(dir, mapper, &meta, |_| true)?);
                log::info!(
                    "activity from `{}` ({} rows; logs not re-read)",
                    sidecar.display(),
                    meta.rows
                );
                let (since, until) = match (opts.since, opts.until) {
                    (None, None) => (meta.since, meta.until),
                    w => w,
                };
                return Ok((activity, since, until));
            }
            Err(e) if have_logs => log::info!("{e}; reading the logs instead"),
            Err(e) => return Err(e.into()),
        }
    }
    paths.activity = None;
    let activity = read_logs(paths, mapper, opts, accounts);
    if opts.save_activity {
        let dir = paths
            .dir
            .clone()
            .ok_or_else(|| crate::usage::store::StoreError::Invalid {
                path: std::path::PathBuf::from("."),
                message: "`--save-activity` needs a snapshot directory to write into".into(),
            })?;
        store::save(
            &dir,
            cat,
            &activity,
            store::SaveOptions {
                source: store::Source::CloudtrailFiles,
                since: opts.since,
                until: opts.until,
                mapping: mapper.fingerprint().to_string(),
                logs,
                limitations: Vec::new(),
            },
        )?;
        log::info!("activity saved to `{}`", dir.join(store::PARQUET).display());
    }
    Ok((activity, opts.since, opts.until))
}

/// An organization's activity: its log files (the organization trail and
/// each account's own), and the activity store of each account that has no
/// log files (`pull --organization --athena` writes stores only). A store
/// that does not fit the audit is an error, as it is for an account audit
/// without logs: that account would otherwise look unused.
#[cfg(feature = "parquet")]
fn gather_org_activity(
    cat: &Catalog,
    mapper: &crate::usage::mapping::EventMapper,
    paths: &mut SnapshotPaths,
    opts: &AuditOptions,
    accounts: &BTreeSet<String>,
) -> Result<(crate::usage::Activity, Option<i64>, Option<i64>), AuditError> {
    use crate::usage::store;
    if opts.save_activity {
        return Err(store::StoreError::Invalid {
            path: paths.dir.clone().unwrap_or_default(),
            message: "`--save-activity` writes an account snapshot's store: save each account's \
                      (`audit ORG/accounts/ACCOUNT_ID --save-activity`)"
                .into(),
        }
        .into());
    }
    // `--reread-logs` (and `who`, which wants the records' chains) reads
    // log files where there are any; the members with a store have none
    // (the snapshot layout reads an account with log files from them), so
    // their store stays: dropping it would leave the account unused on no
    // evidence.
    let mut activity = read_logs(paths, mapper, opts, accounts);
    let (mut since, mut until) = (opts.since, opts.until);
    let mut first_store = true;
    let account_of = |m: &SnapshotPaths| {
        m.dir
            .as_deref()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let members: BTreeSet<String> = paths.members.iter().map(account_of).collect();
    for m in &paths.members {
        let Some(sidecar) = m.activity.as_deref() else {
            continue;
        };
        let own = account_of(m);
        let meta = store::read_meta(sidecar)?;
        store_fits(&meta, mapper, opts, None).map_err(|reason| store::StoreError::Unusable {
            path: sidecar.to_path_buf(),
            reason,
        })?;
        let dir = sidecar.parent().unwrap_or(std::path::Path::new("."));
        let mut stored = store::load(dir, cat, &meta)?;
        // A call across accounts is in both accounts' trails (the caller's
        // copy and the owner's), so in both stores; the records'
        // `sharedEventID` that tells them apart is not stored. Each audited
        // account's principals and roles are taken from its own store (or
        // logs) only, so that such a call counts once.
        let elsewhere = |arn: &str| {
            let a = arn.split(':').nth(4).unwrap_or_default();
            a != own && members.contains(a)
        };
        stored.actors.retain(|arn, _| !elsewhere(arn));
        stored.sessions_granted.retain(|arn, _| !elsewhere(arn));
        // The store keeps no sessions: `pull --athena` writes its chains
        // beside it, and they are taken by the same rule.
        stored
            .chains
            .merge(stored_chains(dir, mapper, &meta, |arn| !elsewhere(arn))?);
        activity.merge(stored);
        log::info!(
            "activity of `{}` from its store ({} rows)",
            dir.display(),
            meta.rows
        );
        // Without --since/--until, the window is the stores' (the widest
        // of them: each pull asked for its own).
        if (opts.since, opts.until) == (None, None) {
            if first_store {
                (since, until) = (meta.since, meta.until);
            } else {
                since = since.zip(meta.since).map(|(a, b)| a.min(b));
                until = until.zip(meta.until).map(|(a, b)| a.max(b));
            }
            first_store = false;
        }
    }
    Ok((activity, since, until))
}

/// The session chains beside an activity store (`sessions.json`, written
/// by `pull --athena`), if there are any, for the sessions `keep` takes. A
/// file of another window than its store's is an error: the chains would
/// not be those of the activity beside them.
#[cfg(feature = "parquet")]
fn stored_chains(
    dir: &std::path::Path,
    mapper: &crate::usage::mapping::EventMapper,
    meta: &crate::usage::store::Meta,
    keep: impl Fn(&str) -> bool,
) -> Result<crate::usage::chains::SessionChains, AuditError> {
    use crate::usage::chain_store;
    let path = dir.join(chain_store::FILE);
    if !path.is_file() {
        return Ok(Default::default());
    }
    let loaded = chain_store::load(&path, mapper, keep)?;
    if (loaded.since, loaded.until) != (meta.since, meta.until) {
        let t = |v: Option<i64>| v.map(crate::util::time).unwrap_or_else(|| "open".into());
        return Err(chain_store::ChainStoreError::Invalid {
            path,
            message: format!(
                "its window {} .. {} is not that of the activity store beside it ({} .. {}):                  pull again",
                t(loaded.since),
                t(loaded.until),
                t(meta.since),
                t(meta.until)
            ),
        }
        .into());
    }
    log::info!(
        "session chains of `{}` from `{}` ({} keys issued, {} sessions)",
        loaded.account,
        path.display(),
        loaded.chains.issued.len(),
        loaded.chains.used.len()
    );
    Ok(loaded.chains)
}

/// Why a store does not fit this audit, if it does not.
#[cfg(feature = "parquet")]
fn store_fits(
    meta: &crate::usage::store::Meta,
    mapper: &crate::usage::mapping::EventMapper,
    opts: &AuditOptions,
    logs: Option<&crate::usage::store::LogsFingerprint>,
) -> Result<(), String> {
    let asked = (opts.since, opts.until);
    if asked != (None, None) && asked != (meta.since, meta.until) {
        let show = |w: (Option<i64>, Option<i64>)| {
            let t = |v: Option<i64>| {
                v.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_else(|| "open".into())
            };
            format!("{} .. {}", t(w.0), t(w.1))
        };
        return Err(format!(
            "it was aggregated for the window {}, not for {} (audit without --since/--until \
             to use its window, or pull again)",
            show((meta.since, meta.until)),
            show(asked)
        ));
    }
    if meta.mapping != mapper.fingerprint() {
        return Err(
            "it was mapped with other CloudTrail mapping rules, or another catalog, \
                    than this run's"
                .into(),
        );
    }
    if let (Some(stored), Some(now)) = (&meta.logs, logs) {
        if now.files > 0 && stored != now {
            return Err(format!(
                "the log files changed since it was written ({} files of {} bytes then, {} of {} now)",
                stored.files, stored.bytes, now.files, now.bytes
            ));
        }
    }
    Ok(())
}

/// Where `organization.json` cannot say what the organization's policies
/// do to this account: the account is not in it, or a level of its path has
/// no policy of an enabled type (AWS never allows that: the file misses it,
/// and the level is taken as allowing everything).
fn organization_problems(
    org: &crate::model::Organization,
    account: Option<&str>,
    path: &std::path::Path,
) -> Vec<Problem> {
    let Some(account) = account else {
        return Vec::new();
    };
    if !org.contains(account) {
        return vec![Problem {
            file: path.to_path_buf(),
            location: format!("account {account}"),
            message: "the audited account is not in this organization: its SCPs and RCPs were not evaluated".into(),
        }];
    }
    let path_ids = org.path(account).unwrap_or_default();
    let unknown = org
        .policies
        .iter()
        .filter(|p| p.content_unknown && p.targets.iter().any(|t| path_ids.contains(t)))
        .map(|p| Problem {
            file: path.to_path_buf(),
            location: format!("policy {}", p.id),
            message: format!(
                "{} has no content (`Content` is null): what it allows or denies is unknown",
                p.label()
            ),
        });
    unknown
        .chain(org.missing_levels(account).into_iter().map(|m| Problem {
            file: path.to_path_buf(),
            location: format!("target {}", m.target),
            message: format!(
                "no {} attached to {}: the file lacks what AWS attaches there; taken as allowing everything",
                m.kind.as_str(),
                org.target_label(&m.target)
            ),
        }))
        .collect()
}

/// What the pull could not read, from its manifest, as coverage problems.
fn pull_problems(path: &std::path::Path) -> Result<Vec<Problem>, AuditError> {
    let m = crate::ingest::manifest::read(path)?;
    Ok(m.gaps
        .into_iter()
        .map(|p| Problem {
            file: path.to_path_buf(),
            location: format!("pull {} {}", p.stage, p.target),
            message: p.message,
        })
        .collect())
}

/// Access Advisor's accesses inside the window, each with the trail's
/// verdict for the same action.
fn advisor_notes(
    cat: &Catalog,
    adv: &AccessAdvisor,
    a: &PrincipalVerdicts,
    since: Option<i64>,
) -> Vec<AdvisorNote> {
    let Some(services) = adv.principals.get(&a.principal.arn) else {
        return Vec::new();
    };
    let in_window = |t: Option<i64>| t.filter(|t| since.is_none_or(|s| *t >= s));
    // The verdict's name; "not granted" as `trail_verdict` always wrote it.
    let verdict = |id: crate::catalog::ActionId| -> &'static str {
        match a.verdict(id) {
            crate::verdict::Verdict::NotGranted => "not granted",
            v => v.as_str(),
        }
    };
    let mut notes = Vec::new();
    for s in services {
        if s.actions.is_empty() {
            let Some(last) = in_window(s.last) else {
                continue;
            };
            // Service level only: the strongest verdict among its actions.
            let vs: Vec<&str> = cat
                .expand(&format!("{}:*", s.namespace))
                .iter()
                .map(verdict)
                .collect();
            // The strongest verdict first (`Verdict::NAMES` is in that order).
            let v = crate::verdict::Verdict::NAMES
                .into_iter()
                .find(|v| vs.contains(v))
                .unwrap_or("not granted");
            notes.push(AdvisorNote {
                action: format!("{}:*", s.namespace),
                last_accessed: last,
                region: s.region.clone(),
                trail_verdict: v,
            });
            continue;
        }
        for act in &s.actions {
            let Some(last) = in_window(act.last) else {
                continue;
            };
            let v = cat
                .lookup(&act.action)
                .map(verdict)
                .unwrap_or("not granted");
            notes.push(AdvisorNote {
                action: act.action.clone(),
                last_accessed: last,
                region: act.region.clone(),
                trail_verdict: v,
            });
        }
    }
    notes.sort_by(|x, y| x.action.cmp(&y.action));
    notes
}
